\set id random(1, 100000)
SELECT pg_advisory_lock(:id);
SELECT pg_advisory_unlock(:id);
