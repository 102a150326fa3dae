-- Random calls of every reclock function with odd arguments, as the
-- unprivileged role; each call in its own subtransaction, errors counted.
-- :n calls.  A crash ends the session, and psql's exit status says so.
\set ON_ERROR_STOP 1
DO $fuzz$
DECLARE
  tables regclass[] := ARRAY['orders', 'lines', 'items', 'pg_class', 'reclock_locks', 'pg_catalog.pg_proc']::regclass[];
  keys text[] := ARRAY['1', '01', ' 7 ', '(1,2)', '( 1 , 2 )', '(1,)', '', 'abc', '(1,', '"', E'\\',
                       '99999999999', '-1', 'null', '(0,"x")', '(3,3)', '()', repeat('9', 5000),
                       repeat('(', 100), E'\u00e9\u2713', '1e3', '+1'];
  holders text[] := ARRAY['alice', 'bob', '', repeat('h', 3000), E'\u2713', 'holder1'];
  jsons jsonb[] := ARRAY['{}', '[]', 'null', '1', '"s"', '{"qty": 1}', '{"qty": "x"}', '{"nosuch": 1}',
                         '{"note": null}', '{"qty": [1]}', '{"ctid": "(0,1)"}', '{"id": 2}', '{"qty": 1e400}',
                         '{"note": {"a": [1, {"b": null}]}}', '{"sku": "s", "line_no": 1}',
                         '[{"id": 1}]', '[{"id": 2, "qty": 2}, {"id": 22}]', '[1]', '[{"qty": 1}]',
                         '[{"id": 3}, {"id": "3"}]', '[{"id": null}]', '[[]]', '[{"id": 1, "nosuch": 1}]']::jsonb[];
  ttls interval[] := ARRAY[NULL, '1s', '0', '-1s', '1 mon', '100 years', '1 day', '00:00:00.000001', '25 hours']::interval[];
  tokens uuid[] := ARRAY[NULL, '00000000-0000-0000-0000-000000000000', gen_random_uuid()]::uuid[];
  n int := current_setting('fuzz.n')::int;
  i int; ok int := 0; err int := 0;
  t regclass; k text; r record;
  pick_t regclass; pick_u uuid;
BEGIN
  FOR i IN 1 .. n LOOP
    t := tables[1 + floor(random() * array_length(tables, 1))::int];
    k := CASE WHEN random() < 0.6 THEN (1 + floor(random() * 12))::text
              ELSE keys[1 + floor(random() * array_length(keys, 1))::int] END;
    IF random() < 0.3 AND t::text = 'lines' THEN
      k := format('(%s,%s)', floor(random() * 10)::int, floor(random() * 50)::int);
    END IF;
    pick_u := tokens[1 + floor(random() * array_length(tokens, 1))::int];
    BEGIN
      CASE floor(random() * 11)::int
        WHEN 0, 1 THEN
          SELECT * INTO r FROM reclock_acquire(t, k, holders[1 + floor(random() * 6)::int],
                                               ttls[1 + floor(random() * 9)::int]);
          IF r.token IS NOT NULL THEN tokens := tokens || r.token; END IF;
        WHEN 2 THEN PERFORM reclock_valid(pick_u);
        WHEN 3 THEN PERFORM reclock_refresh(pick_u, ttls[1 + floor(random() * 9)::int]);
        WHEN 4 THEN PERFORM reclock_release(pick_u);
        WHEN 5 THEN PERFORM reclock_break(t, k);
        WHEN 6 THEN PERFORM reclock_cas(t, k, jsons[1 + floor(random() * array_length(jsons, 1))::int],
                                        CASE WHEN random() < 0.5 THEN NULL ELSE jsons[1 + floor(random() * array_length(jsons, 1))::int] END);
        WHEN 7 THEN PERFORM reclock_diff(t, k, jsons[1 + floor(random() * array_length(jsons, 1))::int]);
        WHEN 8 THEN PERFORM reclock_cas_children(t, k, jsons[1 + floor(random() * array_length(jsons, 1))::int]);
        WHEN 9 THEN PERFORM reclock_diff_children(t, k, jsons[1 + floor(random() * array_length(jsons, 1))::int]);
        ELSE
          PERFORM set_config('reclock.token', coalesce(pick_u::text, ''), true);
          UPDATE orders SET qty = qty + 1 WHERE id = (1 + floor(random() * 60))::int;
          DELETE FROM lines WHERE order_id = floor(random() * 10)::int AND line_no = floor(random() * 50)::int;
          CASE floor(random() * 4)::int
            WHEN 0 THEN INSERT INTO items VALUES (100 + floor(random() * 1000)::int, (1 + floor(random() * 60))::int, 1);
            WHEN 1 THEN UPDATE items SET qty = qty + 1 WHERE order_id = (1 + floor(random() * 20))::int;
            WHEN 2 THEN UPDATE items SET order_id = (1 + floor(random() * 60))::int WHERE id = (1 + floor(random() * 60))::int;
            ELSE DELETE FROM items WHERE id = (1 + floor(random() * 60))::int;
          END CASE;
      END CASE;
      ok := ok + 1;
    EXCEPTION WHEN OTHERS THEN
      err := err + 1;
    END;
  END LOOP;
  RAISE NOTICE 'fuzz: % random calls: % returned, % raised an error', n, ok, err;
END
$fuzz$;
