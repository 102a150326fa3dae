\set id random(1, 100000)
BEGIN;
SELECT set_config('reclock.token', coalesce((SELECT token::text FROM bench_tokens WHERE id = :id), ''), true);
UPDATE bt_noop SET v = v + 1 WHERE id = :id;
COMMIT;
