-- a rogue: write a random hot row without any token
\set id random(1, 10)
SELECT rogue_write(:id);
