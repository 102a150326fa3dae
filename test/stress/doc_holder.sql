-- a holder of documents: acquire a random order (and sometimes a second
-- one), read the lines the form shows, save (formset check, then insert,
-- update, delete and move lines, presenting the tokens), release
\set o1 random(1, 5)
\set o2 1 + (:o1 + random(0, 3)) % 5
\set two random(0, 1)
SELECT acquired AS a1, token AS t1, fence AS f1 FROM reclock_acquire('orders', ':o1', 'doc:client_id', '60 s') \gset
\if :a1
\if :two
SELECT acquired AS a2, coalesce(token::text, 'none') AS t2, CASE WHEN acquired THEN fence ELSE 0 END AS f2
  FROM reclock_acquire('orders', ':o2', 'doc:client_id', '60 s') \gset
\else
SELECT false AS a2, 'none' AS t2, 0 AS f2 \gset
\endif
SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'v', v)), '[]') AS shown FROM lines WHERE order_id = :o1 \gset
BEGIN;
SELECT set_config('reclock.token', ':t1' || CASE WHEN ':a2'::boolean THEN ',:t2' ELSE '' END, true) IS NOT NULL;
SELECT holder_save(:o1, :f1, :o2, :f2, ':a2', ':shown');
COMMIT;
SELECT reclock_release(':t1'), reclock_release(nullif(':t2', 'none')::uuid);
\endif
