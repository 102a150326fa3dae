--
-- citus_cas: reclock_cas and reclock_diff on a protected distributed table,
-- through the coordinator (docs/citus.md, build plan step 7).  Their SQL
-- runs through Citus's planner: the row is read FOR UPDATE and the swap is
-- an UPDATE on the row's worker, where the guard honours the carried token.
-- Values are compared as on one node: read under the caller's settings,
-- never by the text Citus prints them in on the way to the worker (the
-- coordinator's DateStyle, TimeZone or extra_float_digits).
--
\set SHOW_CONTEXT never
SET citus.shard_count = 4;
SET citus.next_shard_id = 1600000;
CREATE TABLE cs (id int PRIMARY KEY, qty int, price numeric, f float8,
                 ts timestamp, tz timestamptz, d date, v text);
SELECT create_distributed_table('cs', 'id');
INSERT INTO cs VALUES
  (1, 3, 1.50, 0.1::float8 + 0.2::float8, '2026-04-03 10:00', '2026-04-03 10:00+00', '2026-04-03', 'a'),
  (2, 5, 2.00, 1.0, '2026-01-01 00:00', '2026-01-01 00:00+00', '2026-01-01', 'b');
SELECT reclock_protect('cs');

-- equal and different, with and without new values
SELECT reclock_cas('cs', '1', '{"qty": 3, "v": "a"}') AS same;
SELECT reclock_cas('cs', '1', '{"qty": 4}') AS differs;
SELECT reclock_cas('cs', '1', '{"qty": 4}', '{"v": "never"}') AS differs_no_swap;
SELECT reclock_cas('cs', '1', '{"qty": 3}', '{"qty": 4}') AS swapped;
SELECT qty, v FROM cs WHERE id = 1;
SELECT reclock_cas('cs', '9', '{"qty": 3}') AS gone;
SELECT reclock_diff('cs', '1', '{"qty": 3, "v": "a", "price": 1.5}');
SELECT reclock_diff('cs', '9', '{"qty": 3}') AS gone;
-- numeric: 1.5 is 1.50
SELECT reclock_cas('cs', '1', '{"price": 1.5}') AS numeric_equal;
-- a numeric key: '1.5' is the row whose key is 1.50
CREATE TABLE csn (id numeric PRIMARY KEY, v text);
SELECT create_distributed_table('csn', 'id');
INSERT INTO csn VALUES (1.50, 'n');
SELECT reclock_protect('csn');
SELECT reclock_cas('csn', '1.5', '{"v": "n"}', '{"v": "m"}') AS numeric_key;
SELECT reclock_diff('csn', '1.5', '{"v": "n"}');

-- the caller's settings read the expected values, as on one node; Citus
-- must not print them differently on the way to the worker
SET extra_float_digits = 0;
SELECT reclock_cas('cs', '1', '{"f": 0.3}') AS float_differs;
SELECT reclock_cas('cs', '1', '{"f": 0.3}', '{"v": "float"}') AS float_differs_no_swap;
SELECT reclock_cas('cs', '1', '{"f": 0.30000000000000004}', '{"v": "float"}') AS float_equal;
SELECT reclock_diff('cs', '1', '{"f": 0.3}') <> '{}' AS float_diff;
RESET extra_float_digits;
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Europe/Berlin';
-- 03/04/2026 is 3 April here
SELECT reclock_cas('cs', '1', '{"ts": "03/04/2026 10:00"}') AS dmy_equal;
SELECT reclock_cas('cs', '1', '{"ts": "04/03/2026 10:00"}', '{"v": "dmy"}') AS dmy_differs_no_swap;
SELECT reclock_cas('cs', '1', '{"ts": "03/04/2026 10:00", "d": "03/04/2026"}', '{"v": "dmy"}') AS dmy_swapped;
SELECT reclock_cas('cs', '1', '{"d": "04/03/2026"}', '{"v": "never"}') AS date_differs_no_swap;
-- 12:00 in Berlin (summer time) is 10:00 UTC
SELECT reclock_cas('cs', '1', '{"tz": "03/04/2026 12:00"}', '{"v": "berlin"}') AS tz_swapped;
SELECT reclock_cas('cs', '1', '{"tz": "04/03/2026 12:00"}', '{"v": "never"}') AS tz_differs_no_swap;
SELECT reclock_diff('cs', '1', '{"ts": "03/04/2026 10:00", "d": "04/03/2026"}') ? 'd' AS date_diff;
-- new values are written as read under the caller's settings too
SET extra_float_digits = 0;
SELECT reclock_cas('cs', '2', '{"qty": 5}',
                   '{"ts": "05/04/2026 10:00", "d": "05/04/2026", "f": 0.30000000000000004}') AS written;
RESET extra_float_digits;
RESET DateStyle;
RESET TimeZone;
SELECT v FROM cs WHERE id = 1;
SELECT ts, d, f = 0.1::float8 + 0.2::float8 AS exact FROM cs WHERE id = 2;

-- the swap is an UPDATE on the worker, judged by the guard there: refused
-- without the token, passes with it (carried from the coordinator)
SELECT token AS tok FROM reclock_acquire('cs', '1', 'alice') \gset
\set VERBOSITY sqlstate
SELECT reclock_cas('cs', '1', '{"qty": 4}', '{"v": "no token"}');
\set VERBOSITY default
BEGIN;
SELECT set_config('reclock.token', $1, true) IS NOT NULL AS presented \bind :tok \g
SELECT reclock_cas('cs', '1', '{"qty": 4}', '{"v": "with token"}') AS swapped;
COMMIT;
SELECT v FROM cs WHERE id = 1;
-- a cas that compares without new values locks and reads only: no token needed
SELECT reclock_cas('cs', '1', '{"v": "with token"}') AS same;

SELECT reclock_unprotect('cs');
SELECT reclock_unprotect('csn');
DROP TABLE cs, csn;
