-- a holder: acquire a random hot row, write it with the token, release
\set id random(1, 10)
SELECT acquired, token, fence FROM reclock_acquire('hot', ':id', 'holder:client_id', '60 s') \gset
\if :acquired
BEGIN;
SELECT set_config('reclock.token', ':token', true) IS NOT NULL;
UPDATE hot SET v = v + 1, last_holder = 'holder:client_id', last_fence = :fence WHERE id = :id;
COMMIT;
SELECT reclock_release(':token');
\endif
