--
-- cas and diff: type-aware compare-and-swap without a version column
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 20);
CREATE TABLE form (
	id int PRIMARY KEY,
	price numeric(10,2),
	due date,
	seen timestamptz,
	tags text[],
	meta jsonb,
	m mood,
	note short_text,
	flag boolean,
	ratio float8,
	code varchar(10),
	total int GENERATED ALWAYS AS (id * 2) STORED,
	"a; DROP TABLE form" text
);
INSERT INTO form VALUES (1, 9.50, '2024-05-01', '2024-05-01 12:00:00+00', '{a,b}',
	'{"k": [1, 2]}', 'ok', 'hello', true, 0.5, 'X1', DEFAULT, 'odd');

-- numbers: '9.5', 9.5 and 9.50 all equal a numeric(10,2) 9.50
SELECT reclock_cas('form', '1', '{"price": "9.5"}');
SELECT reclock_cas('form', '1', '{"price": 9.5}');
SELECT reclock_cas('form', '1', '{"price": 9.50}');
SELECT reclock_cas('form', '1', '{"price": 9.51}');
-- dates and instants, in any accepted form
SELECT reclock_cas('form', '1', '{"due": "2024-05-01"}');
SELECT reclock_cas('form', '1', '{"due": "May 1, 2024"}');
SELECT reclock_cas('form', '1', '{"seen": "2024-05-01T14:00:00+02:00"}');
SELECT reclock_cas('form', '1', '{"seen": "2024-05-01 12:00:01+00"}');
-- arrays, jsonb, enums, domains, booleans, floats, varchar
SELECT reclock_cas('form', '1', '{"tags": "{a,b}"}');
SELECT reclock_cas('form', '1', '{"tags": "{b,a}"}');
SELECT reclock_cas('form', '1', '{"meta": {"k": [1, 2]}}');
SELECT reclock_cas('form', '1', '{"meta": {"k": [2, 1]}}');
SELECT reclock_cas('form', '1', '{"m": "ok"}');
SELECT reclock_cas('form', '1', '{"m": "happy"}');
SELECT reclock_cas('form', '1', '{"note": "hello"}');
SELECT reclock_cas('form', '1', '{"flag": true, "ratio": 0.5, "code": "X1"}');
SELECT reclock_cas('form', '1', '{"flag": "t", "ratio": "5e-1"}');
SELECT reclock_cas('form', '1', '{"flag": false}');
-- the same comparisons through the swap path, where one conditional UPDATE
-- checks and writes (here it writes code's own value back)
SELECT reclock_cas('form', '1', '{"price": "9.5"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"price": 9.51}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"due": "May 1, 2024"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"seen": "2024-05-01T14:00:00+02:00"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"seen": "2024-05-01 12:00:01+00"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"tags": "{a,b}"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"tags": "{b,a}"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"meta": {"k": [1, 2]}}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"meta": {"k": [2, 1]}}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"m": "ok"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"m": "happy"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"note": "hello"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"flag": "t", "ratio": "5e-1", "code": "X1"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"flag": false}', '{"code": "X1"}');
-- NULL equals NULL, and only NULL
UPDATE form SET note = NULL WHERE id = 1;
SELECT reclock_cas('form', '1', '{"note": null}');
SELECT reclock_cas('form', '1', '{"note": "hello"}');
SELECT reclock_cas('form', '1', '{"price": null}');
SELECT reclock_cas('form', '1', '{"note": null}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"note": "hello"}', '{"code": "X1"}');
SELECT reclock_cas('form', '1', '{"price": null}', '{"code": "X1"}');
-- columns not named are not compared; {} compares nothing
SELECT reclock_cas('form', '1', '{}');
-- a column with an odd name is an identifier, never SQL
SELECT reclock_cas('form', '1', '{"a; DROP TABLE form": "odd"}', '{"a; DROP TABLE form": "still odd"}');
SELECT "a; DROP TABLE form" FROM form;

-- the swap: all equal, so new is written
SELECT reclock_cas('form', '1', '{"price": 9.5, "m": "ok"}', '{"price": "12.00", "m": "happy", "note": "swapped"}');
SELECT price, m, note FROM form;
-- a stale form: nothing written, false
SELECT reclock_cas('form', '1', '{"price": 9.5}', '{"price": 1}');
SELECT price FROM form;
-- new can set NULL
SELECT reclock_cas('form', '1', '{"price": 12}', '{"note": null}');
SELECT note IS NULL FROM form;
-- a row that is gone: false, and diff is NULL
SELECT reclock_cas('form', '2', '{"price": 1}', '{"price": 2}');
SELECT reclock_diff('form', '2', '{"price": 1}');

-- diff: {} when nothing differs, else each differing column
SELECT reclock_diff('form', '1', '{"price": "12.00", "m": "happy"}');
SELECT reclock_diff('form', '1', '{"price": 9.5, "m": "ok", "due": "2024-05-01", "tags": "{a}", "meta": {"k": 1}, "note": "x"}');

-- cas locks the row FOR UPDATE until the end of the transaction
BEGIN;
SELECT reclock_cas('form', '1', '{}');
SELECT locktype, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation = 'form'::regclass;
SELECT count(*) > 0 AS row_locked FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'transactionid';
COMMIT;

-- the swap is an ordinary UPDATE: the guard fires
SELECT reclock_protect('form');
SELECT token AS ft FROM reclock_acquire('form', '1', 'alice') \gset
SELECT try($t$SELECT reclock_cas('form', '1', '{"price": 12}', '{"price": 13}')$t$);
BEGIN;
SELECT set_config('reclock.token', :'ft', true) IS NOT NULL;
SELECT try($t$SELECT reclock_cas('form', '1', '{"price": 12}', '{"price": 13}')$t$);
COMMIT;
SELECT price FROM form;
-- and so do other triggers
CREATE FUNCTION form_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.code := 'TOUCHED'; RETURN NEW; END $$;
CREATE TRIGGER form_touch BEFORE UPDATE ON form FOR EACH ROW EXECUTE FUNCTION form_touch();
BEGIN;
SELECT set_config('reclock.token', :'ft', true) IS NOT NULL;
SELECT reclock_cas('form', '1', '{"price": 13}', '{"price": 14}');
COMMIT;
SELECT price, code FROM form;

-- the table's cache entries are invalidated while a swap runs (a trigger
-- grants a privilege: a relcache invalidation of the table mid-UPDATE); the
-- running plan must survive it, and the next swap replans
CREATE TABLE inv (id int PRIMARY KEY, v int);
INSERT INTO inv VALUES (1, 0);
CREATE FUNCTION inv_grant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN GRANT SELECT ON inv TO PUBLIC; REVOKE SELECT ON inv FROM PUBLIC; RETURN NEW; END $$;
CREATE TRIGGER inv_grant BEFORE UPDATE ON inv FOR EACH ROW EXECUTE FUNCTION inv_grant();
SELECT reclock_cas('inv', '1', '{"v": 0}', '{"v": 1}');
SELECT reclock_cas('inv', '1', '{"v": 1}', '{"v": 2}');
SELECT reclock_cas('inv', '1', '{"v": 2}', '{"v": 3}');
SELECT reclock_diff('inv', '1', '{"v": 2}');
SELECT v FROM inv;

-- text is compared in the column's collation, on both paths
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE coll (id int PRIMARY KEY, c text COLLATE "C", i text COLLATE ci);
INSERT INTO coll VALUES (1, 'abc', 'abc');
SELECT reclock_cas('coll', '1', '{"i": "ABC"}');
SELECT reclock_cas('coll', '1', '{"c": "ABC"}');
SELECT reclock_cas('coll', '1', '{"i": "ABC", "c": "abc"}', '{"i": "Abc"}');
SELECT reclock_cas('coll', '1', '{"c": "ABC"}', '{"i": "x"}');
SELECT reclock_diff('coll', '1', '{"i": "ABC", "c": "ABC"}');
SELECT c, i FROM coll;

-- a composite key
CREATE TABLE line (order_id int, line_no int, qty int, PRIMARY KEY (order_id, line_no));
INSERT INTO line VALUES (7, 2, 5);
SELECT reclock_cas('line', '( 7 , 2 )', '{"qty": 5}', '{"qty": 6}');
SELECT reclock_diff('line', '(7,2)', '{"qty": 5}');

-- errors
SELECT try($t$SELECT reclock_cas('form', '1', '{"nosuch": 1}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{}', '{"nosuch": 1}')$t$);
SELECT try($t$SELECT reclock_diff('form', '1', '{"nosuch": 1}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{"price": "abc"}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{"due": "not a date"}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{"m": "furious"}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{}', '{"price": "abc"}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '[1, 2]')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '"price"')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', 'null')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{}', '[1]')$t$);
SELECT try($t$SELECT reclock_diff('form', '1', '3')$t$);
SELECT try($t$SELECT reclock_cas('form', 'one', '{}')$t$);
SELECT try($t$SELECT reclock_cas('line', '(7)', '{}')$t$);
SELECT try($t$SELECT reclock_cas(NULL, '1', '{}')$t$);
SELECT try($t$SELECT reclock_cas('form', NULL, '{}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', NULL)$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{}', '{"total": 1}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{}', '{"ctid": "(0,1)"}')$t$);
SELECT try($t$SELECT reclock_cas('form', '1', '{"xmin": "1"}')$t$);
-- a type without default equality
CREATE TABLE pts (id int PRIMARY KEY, p point);
INSERT INTO pts VALUES (1, '(1,1)');
SELECT try($t$SELECT reclock_cas('pts', '1', '{"p": "(1,1)"}')$t$);
-- nothing was written by the errors
SELECT price, code FROM form;
