--
-- bad_input: odd, huge and hostile inputs get a clear error or a documented
-- result, and never crash a backend
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
SET reclock.test_clock_offset = 0;
CREATE TABLE bi (id int PRIMARY KEY, v text);
INSERT INTO bi VALUES (1, 'a'), (2, 'b');
CREATE TABLE bi_text (code text PRIMARY KEY);
INSERT INTO bi_text VALUES ('it''s'), ('a,b'), ('(x)'), ('"q"'), ('ünï ✓'), (' lead'), ('');

-- NULL in each argument
SELECT try($$SELECT reclock_acquire('bi', '1', 'x', NULL)$$) AS null_ttl_is_default;
SELECT reclock_release(token) FROM reclock_acquire('bi', '1', 'x');
SELECT reclock_valid(NULL) IS NULL AS valid_null, reclock_refresh(NULL, NULL) IS NULL AS refresh_null,
       reclock_release(NULL) IS NULL AS release_null;
SELECT try($$SELECT reclock_cas('bi', '1', '{}', NULL)$$) AS cas_null_new;
SELECT try($$SELECT reclock_diff(NULL, '1', '{}')$$);
SELECT try($$SELECT reclock_diff('bi', NULL, '{}')$$);
SELECT try($$SELECT reclock_diff('bi', '1', NULL)$$);
SELECT reclock_protect(NULL) IS NULL AS protect_null_is_noop, reclock_unprotect(NULL) IS NULL AS unprotect_null_is_noop;

-- keys with quotes, commas, parentheses, unicode, leading blanks, the empty string
SELECT code, (SELECT acquired FROM reclock_acquire('bi_text', code, 'alice')) AS acquired
  FROM bi_text ORDER BY code;
SELECT key FROM reclock_locks WHERE relation = 'bi_text'::regclass ORDER BY key;

-- a 1 MB holder is stored and reported as is
SELECT acquired, length(holder) FROM reclock_acquire('bi', '2', repeat('h', 1000000));
SELECT length(holder) FROM reclock_locks WHERE relation = 'bi'::regclass AND key = '2';
SELECT reclock_break('bi', '2');
-- a 1 MB key: not an integer (22P02); no such text row (P0002)
SELECT left(try($$SELECT reclock_acquire('bi', repeat('9', 1000000), 'alice')$$), 30);
SELECT left(try($$SELECT reclock_acquire('bi_text', repeat('k', 1000000), 'alice')$$), 30);
SELECT left(try($$SELECT reclock_cas('bi', repeat('1', 1000000), '{}')$$), 30);

-- intervals: negative, zero, huge, tiny, months; 'infinity' is not an interval before PG 17
SELECT try($$SELECT reclock_acquire('bi', '1', 'alice', '-1 s')$$);
SELECT try($$SELECT reclock_acquire('bi', '1', 'alice', '0 s')$$);
SELECT try($$SELECT reclock_acquire('bi', '1', 'alice', '100000000 days')$$);
SELECT try($$SELECT reclock_acquire('bi', '1', 'alice', '2147483647 hours')$$);
SELECT try($$SELECT reclock_acquire('bi', '1', 'alice', '1 microsecond')$$);
SELECT try($$SELECT reclock_acquire('bi', '1', 'alice', '1 mon -30 days')$$);

-- tokens of another row, and garbage in reclock.token
SELECT reclock_protect('bi');
SELECT token AS t1 FROM reclock_acquire('bi', '1', 'alice') \gset
SELECT token AS t2 FROM reclock_acquire('bi', '2', 'bob') \gset
BEGIN;
SELECT set_config('reclock.token', :'t2', true) IS NOT NULL;
SELECT try($$UPDATE bi SET v = 'x' WHERE id = 1$$);
ROLLBACK;
SELECT try($$SET reclock.token = 'garbage'$$);
SELECT try($$SET reclock.token = '''; DROP TABLE bi; --'$$);
SELECT try($$SET reclock.token = ','$$);
SELECT try(format('SET reclock.token = %L', repeat('0', 100000)));
-- a list of 1000 tokens is accepted (and checked one by one)
SELECT try(format('SET LOCAL reclock.token = %L',
  (SELECT string_agg(gen_random_uuid()::text, ',') FROM generate_series(1, 1000))));

-- a table renamed after its rows were locked keeps its locks (they name it by OID)
ALTER TABLE bi RENAME TO bi_renamed;
SELECT relation, key, holder FROM reclock_locks WHERE relation = 'bi_renamed'::regclass ORDER BY key;
SELECT try($$UPDATE bi_renamed SET v = 'x' WHERE id = 1$$);
ALTER TABLE bi_renamed RENAME TO bi;

-- the primary key cannot change while the table has live locks (the locks
-- would no longer name their rows; sql/ddl.sql); once they end, it can
CREATE TABLE bi_pk (a int, b int, v text, CONSTRAINT bi_pk_pkey PRIMARY KEY (a));
INSERT INTO bi_pk VALUES (1, 1, 'x');
SELECT token AS bi_pk_alice FROM reclock_acquire('bi_pk', '1', 'alice') \gset
SELECT try($$ALTER TABLE bi_pk DROP CONSTRAINT bi_pk_pkey, ADD PRIMARY KEY (a, b)$$);
SELECT reclock_release(:'bi_pk_alice');
ALTER TABLE bi_pk DROP CONSTRAINT bi_pk_pkey, ADD PRIMARY KEY (a, b);
SELECT token AS bi_pk_bob FROM reclock_acquire('bi_pk', '(1,1)', 'bob') \gset
SELECT key, holder FROM reclock_locks WHERE relation = 'bi_pk'::regclass ORDER BY key;
SELECT try($$SELECT reclock_acquire('bi_pk', '1', 'carol')$$);
SELECT reclock_release(:'bi_pk_bob');
ALTER TABLE bi_pk DROP CONSTRAINT bi_pk_pkey;
SELECT try($$SELECT reclock_acquire('bi_pk', '(1,1)', 'carol')$$);

-- a dropped table: its locks go with it (sql/drop.sql)
CREATE TABLE bi_drop (id int PRIMARY KEY);
INSERT INTO bi_drop VALUES (1);
SELECT acquired FROM reclock_acquire('bi_drop', '1', 'alice');
SELECT 'bi_drop'::regclass::oid AS drop_oid \gset
DROP TABLE bi_drop;
SELECT count(*) AS in_view FROM reclock_locks WHERE relation = :drop_oid;
SELECT count(*) AS in_store FROM reclock_lock_store WHERE relid = :drop_oid;

-- a key set to NULL: PostgreSQL's own NOT NULL error (23502), not the guard's
CREATE TABLE bi_nn (id int PRIMARY KEY, v int);
INSERT INTO bi_nn VALUES (1, 0), (2, 0);
SELECT reclock_protect('bi_nn');
SELECT token AS bi_nn_tok FROM reclock_acquire('bi_nn', '1', 'alice') \gset
SELECT try($$UPDATE bi_nn SET id = NULL WHERE id = 2$$);
SELECT try($$UPDATE bi_nn SET id = NULL WHERE id = 1$$);
BEGIN;
SELECT set_config('reclock.token', :'bi_nn_tok', true) IS NOT NULL AS presented;
SELECT try($$UPDATE bi_nn SET id = NULL WHERE id = 1$$);
ROLLBACK;
SELECT reclock_notify('bi_nn');
SELECT try($$UPDATE bi_nn SET id = NULL WHERE id = 2$$);
SELECT reclock_release(:'bi_nn_tok');
DROP TABLE bi_nn;

-- a key type whose input calls reclock again on the same table after
-- invalidating it (a domain's CHECK): the outer call's key facts stay valid
-- until its transaction ends (make check-memory runs this under valgrind)
CREATE SCHEMA bi_re;
CREATE FUNCTION bi_re.chk(int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('bi_re.arm', true) = '1' THEN
    PERFORM set_config('bi_re.arm', '0', true);
    EXECUTE 'GRANT SELECT ON bi_re.t TO public';
    PERFORM reclock_acquire('bi_re.t', '2', 'inner', '1 min');
    PERFORM string_agg(md5(i::text), '') FROM generate_series(1, 2000) i;
  END IF;
  RETURN true;
END $$;
CREATE DOMAIN bi_re.dk AS int CHECK (bi_re.chk(VALUE)) CHECK (VALUE > 0);
CREATE TABLE bi_re.t (id bi_re.dk PRIMARY KEY, v text);
INSERT INTO bi_re.t VALUES (1, 'x'), (2, 'y');
SELECT reclock_protect('bi_re.t');
BEGIN;
SELECT set_config('bi_re.arm', '1', true);
SELECT acquired, holder FROM reclock_acquire('bi_re.t', '1', 'outer', '1 min');
COMMIT;
SELECT key, holder FROM reclock_locks WHERE relation = 'bi_re.t'::regclass ORDER BY key;
DROP SCHEMA bi_re CASCADE;

-- a key or a value its domain refuses (CHECK: 23514 inside, NOT NULL: 23502)
-- cannot be read: 22P02, as any other input the types cannot read
CREATE DOMAIN bi_pos AS int CHECK (VALUE > 0);
CREATE DOMAIN bi_nn AS text NOT NULL;
CREATE TABLE bi_dom (id bi_pos PRIMARY KEY, q bi_pos, n bi_nn);
INSERT INTO bi_dom VALUES (1, 1, 'a');
SELECT try($$SELECT reclock_acquire('bi_dom', '-1', 'alice')$$) AS acquire_key;
SELECT try($$SELECT reclock_cas('bi_dom', '-1', '{}')$$) AS cas_key;
SELECT try($$SELECT reclock_cas('bi_dom', '1', '{"q": -5}')$$) AS cas_expected;
SELECT try($$SELECT reclock_cas('bi_dom', '1', '{"q": 1}', '{"q": -5}')$$) AS cas_new;
SELECT try($$SELECT reclock_cas('bi_dom', '1', '{"n": null}')$$) AS cas_expected_null;
SELECT try($$SELECT reclock_diff('bi_dom', '1', '{"q": 0}')$$) AS diff_expected;
SELECT * FROM bi_dom;
DROP TABLE bi_dom;
DROP DOMAIN bi_pos, bi_nn;

-- no backend crashed along the way
SELECT 'still connected' AS status;
