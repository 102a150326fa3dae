--
-- citus_documents: documents (a parent row and its child rows) over
-- co-located distributed tables (docs/citus.md, build plan step 6).  The
-- guard of a child shard locks the parent row in the parent's shard beside
-- it (same node: co-location) and reads the parent's lock in the lock store
-- shard there.  Tokens reach the workers as a Citus-propagated SET LOCAL
-- (reclock's own carry is step 5).  Refused (0A000): every other shape.
--
\set SHOW_CONTEXT never
-- a refusal's message names the expiry, which moves
CREATE FUNCTION doc_try(cmd text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE cmd;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, ' until .*$', ' until <time>');
END
$$;
SET citus.shard_count = 4;
SET citus.next_shard_id = 1500000;
CREATE TABLE orders (id int PRIMARY KEY, v text);
SELECT create_distributed_table('orders', 'id');
CREATE TABLE lines (order_id int NOT NULL, n int NOT NULL, v text, PRIMARY KEY (order_id, n),
  CONSTRAINT lines_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED);
SELECT create_distributed_table('lines', 'order_id', colocate_with => 'orders');
CREATE TABLE notes (order_id int NOT NULL, n int NOT NULL, k int NOT NULL, v text,
  PRIMARY KEY (order_id, n, k),
  FOREIGN KEY (order_id, n) REFERENCES lines (order_id, n));
SELECT create_distributed_table('notes', 'order_id', colocate_with => 'orders');
INSERT INTO orders SELECT g, 'o' || g FROM generate_series(1, 8) g;
INSERT INTO lines SELECT o, n, 'l' FROM generate_series(1, 8) o, generate_series(1, 3) n;
INSERT INTO notes SELECT o, 1, 1, 'note' FROM generate_series(1, 8) o;

-- the shapes that cannot be guarded: refused (0A000), saying why
-- a reference-table parent
CREATE TABLE kinds (id int PRIMARY KEY);
SELECT create_reference_table('kinds');
INSERT INTO kinds VALUES (1);
CREATE TABLE kinded (id int PRIMARY KEY, kind int REFERENCES kinds (id));
SELECT create_distributed_table('kinded', 'id');
SELECT reclock_protect('kinded', parent => 'kinds');
\echo :SQLSTATE
-- a plain table under a distributed parent, and the other way round (the
-- foreign keys made on the coordinator only: Citus itself refuses them)
SET citus.enable_ddl_propagation = off;
CREATE TABLE loc_child (id int PRIMARY KEY, order_id int REFERENCES orders (id));
CREATE TABLE plain_parent (id int PRIMARY KEY);
CREATE TABLE dist_child (id int PRIMARY KEY, pp int);
RESET citus.enable_ddl_propagation;
SELECT create_distributed_table('dist_child', 'id');
SET citus.enable_ddl_propagation = off;
ALTER TABLE dist_child ADD FOREIGN KEY (pp) REFERENCES plain_parent (id);
-- not co-located; and a foreign key without the distribution column
CREATE TABLE far_lines (order_id int NOT NULL, n int NOT NULL, PRIMARY KEY (order_id, n));
CREATE TABLE n_lines (order_id int NOT NULL, n int NOT NULL, PRIMARY KEY (order_id, n));
RESET citus.enable_ddl_propagation;
SELECT create_distributed_table('far_lines', 'order_id', colocate_with => 'none');
SELECT create_distributed_table('n_lines', 'n', colocate_with => 'orders');
SET citus.enable_ddl_propagation = off;
ALTER TABLE far_lines ADD FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE n_lines ADD FOREIGN KEY (order_id) REFERENCES orders (id);
RESET citus.enable_ddl_propagation;
SELECT reclock_protect('orders');
SELECT reclock_protect('loc_child', parent => 'orders');
\echo :SQLSTATE
SELECT reclock_protect('dist_child', parent => 'plain_parent');
\echo :SQLSTATE
SELECT reclock_protect('far_lines', parent => 'orders');
\echo :SQLSTATE
SELECT reclock_protect('n_lines', parent => 'orders');
\echo :SQLSTATE
DROP TABLE loc_child, dist_child, plain_parent, far_lines, n_lines, kinded, kinds;

-- orders(id) / lines(order_id, n) / notes(order_id, n, k), all by order id
SELECT reclock_protect('lines', parent => 'orders');
SELECT reclock_protect('notes', parent => 'lines');
SELECT acquired, token AS tok1 FROM reclock_acquire('orders', '1', 'alice') \gset
SELECT acquired, token AS tok5 FROM reclock_acquire('orders', '5', 'bob') \gset

-- without the token: refused (55P03), naming child row, parent row, holder
SELECT doc_try($$INSERT INTO lines VALUES (1, 9, 'new')$$);
SELECT doc_try($$UPDATE lines SET v = 'x' WHERE order_id = 1 AND n = 2$$);
SELECT doc_try($$DELETE FROM lines WHERE order_id = 1 AND n = 3$$);
-- the third level: a note of a line of a locked order
SELECT doc_try($$UPDATE notes SET v = 'x' WHERE order_id = 1$$);
SELECT doc_try($$INSERT INTO notes VALUES (1, 2, 1, 'new')$$);
-- multi-shard UPDATE of lines (the shards in parallel: the SQLSTATE only)
\set VERBOSITY sqlstate
UPDATE lines SET v = v || '!';
DELETE FROM notes WHERE k = 1;
-- COPY and INSERT ... SELECT of lines under a locked order (Citus reports
-- a worker's error in COPY as XX000, with the worker's message)
COPY lines FROM stdin;
1	20	copied
\.
INSERT INTO lines SELECT order_id, n + 100, v FROM lines WHERE order_id = 1;
\set VERBOSITY default
-- children of unlocked orders are free
INSERT INTO lines VALUES (2, 9, 'free');
UPDATE lines SET v = 'free' WHERE order_id = 3;
DELETE FROM notes WHERE order_id = 4;
-- a direct write of a line shard on its worker: refused too
SELECT shardid, success, split_part(result, ' until ', 1) AS result
  FROM run_command_on_placements('lines', $$UPDATE %s SET v = 'direct' WHERE order_id = 1$$)
 ORDER BY shardid;
-- a direct TRUNCATE of the notes shard beside it: refused (a table above
-- it, two levels up, has a live lock in its store shard there)
SELECT shardid, success, result
  FROM run_command_on_placements('notes',
       $q$DO $x$BEGIN SET LOCAL citus.enable_manual_changes_to_shards = on; TRUNCATE %s; END$x$$q$)
 WHERE shardid = (SELECT get_shard_id_for_distribution_column('notes', 1))
 ORDER BY shardid;
SELECT order_id, n, v FROM lines WHERE order_id IN (1, 2, 3) ORDER BY 1, 2;

-- with the token (carried by hand until reclock carries it: step 5)
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok1';
INSERT INTO lines VALUES (1, 9, 'alice');
UPDATE lines SET v = 'alice' WHERE order_id = 1 AND n = 2;
SELECT doc_try($$DELETE FROM lines WHERE order_id = 1 AND n = 3$$);
UPDATE notes SET v = 'alice' WHERE order_id = 1;
INSERT INTO notes VALUES (1, 2, 1, 'alice');
-- ... for its own order only
SELECT doc_try($$UPDATE lines SET v = 'alice' WHERE order_id = 5$$);
ROLLBACK;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok1';
INSERT INTO lines VALUES (1, 9, 'alice');
UPDATE lines SET v = 'alice' WHERE order_id = 1 AND n = 2;
SELECT doc_try($$DELETE FROM lines WHERE order_id = 1 AND n = 3$$);
UPDATE notes SET v = 'alice' WHERE order_id = 1;
COMMIT;
-- both tokens: a multi-shard UPDATE of the lines of both locked orders
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok1';
SET LOCAL reclock.token = :'tok5';
-- (the second replaced the first)
SELECT doc_try($$UPDATE lines SET v = 'both' WHERE order_id IN (1, 5)$$);
ROLLBACK;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
\set both :tok1 , :tok5
SET LOCAL reclock.token = :'both';
UPDATE lines SET v = 'both' WHERE order_id IN (1, 5);
COMMIT;
SELECT order_id, n, v FROM lines WHERE order_id IN (1, 5) ORDER BY 1, 2;
SELECT order_id, n, k, v FROM notes WHERE order_id = 1 ORDER BY 1, 2, 3;

-- a line written under an order inserted in the same transaction: judged
-- by that order; under the deferred foreign key the line may come first,
-- while its order is not there: judged again at COMMIT by the order then
-- there (test/citus/specs/citus_documents_waits.spec: refused at COMMIT)
BEGIN;
INSERT INTO orders VALUES (11, 'new');
INSERT INTO lines VALUES (11, 1, 'same transaction');
INSERT INTO lines VALUES (12, 1, 'before its order');
INSERT INTO orders VALUES (12, 'after its line');
COMMIT;
SELECT order_id, n, v FROM lines WHERE order_id IN (11, 12) ORDER BY 1, 2;
-- a line written while its order was not there; the order is committed
-- and locked by another meanwhile (a second session, through dblink): the
-- line is refused at COMMIT (55P03, on the worker)
CREATE EXTENSION dblink;
SELECT format('dbname=%s host=%s port=%s', current_database(),
              current_setting('unix_socket_directories'), current_setting('port')) AS here \gset
BEGIN;
INSERT INTO lines VALUES (14, 1, 'order not there yet');
SELECT dblink_exec(:'here', $$INSERT INTO orders VALUES (14, 'committed meanwhile')$$);
SELECT * FROM dblink(:'here', $$SELECT acquired FROM reclock_acquire('orders', '14', 'carol')$$) AS t(acquired boolean);
\set VERBOSITY sqlstate
COMMIT;
\set VERBOSITY default
SELECT count(*) AS written FROM lines WHERE order_id = 14;
-- a line of an order that is never there: PostgreSQL's deferred check fails
INSERT INTO lines VALUES (13, 1, 'no order');
\echo :SQLSTATE

-- require_lock: a new line needs a live lock on its order
SELECT reclock_protect('lines', true, parent => 'orders');
INSERT INTO lines VALUES (2, 10, 'unlocked');
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok1';
INSERT INTO lines VALUES (1, 10, 'covered');
-- an existing line of a locked order, with its token: covered (no lock of its own)
UPDATE lines SET v = 'covered' WHERE order_id = 1 AND n = 1;
COMMIT;
SELECT reclock_protect('lines', parent => 'orders');

-- a child row locked on its own: both locks apply
SELECT acquired, token AS ltok FROM reclock_acquire('lines', '(2,1)', 'dave') \gset
SELECT doc_try($$UPDATE lines SET v = 'x' WHERE order_id = 2 AND n = 1$$);
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'ltok';
UPDATE lines SET v = 'dave' WHERE order_id = 2 AND n = 1;
COMMIT;

-- the formset check through the coordinator: the order row is locked FOR
-- UPDATE and its lines read FOR UPDATE, routed to the order's worker, in
-- the coordinated transaction (a line insert waits for it:
-- citus_documents_waits.spec)
SELECT reclock_cas_children('lines', '3',
  '[{"order_id": 3, "n": 1, "v": "free"}, {"order_id": 3, "n": 2, "v": "free"}, {"order_id": 3, "n": 3, "v": "free"}]');
-- a value changed, a line the form did not show, a line no longer there,
-- the order gone (NULL)
SELECT reclock_cas_children('lines', '3',
  '[{"order_id": 3, "n": 1, "v": "free"}, {"order_id": 3, "n": 2, "v": "other"}, {"order_id": 3, "n": 3, "v": "free"}]');
SELECT reclock_cas_children('lines', '3', '[{"order_id": 3, "n": 1}, {"order_id": 3, "n": 2}]');
SELECT reclock_cas_children('lines', '3',
  '[{"order_id": 3, "n": 1}, {"order_id": 3, "n": 2}, {"order_id": 3, "n": 3}, {"order_id": 3, "n": 4}]');
SELECT reclock_cas_children('lines', '99', '[]') IS NULL AS gone;
-- the third level: the notes of a line
SELECT reclock_cas_children('notes', '(1,1)', '[{"order_id": 1, "n": 1, "k": 1, "v": "alice"}]');
-- the contract's errors
SELECT doc_try($$SELECT reclock_cas_children('lines', '3', '{}')$$);
SELECT doc_try($$SELECT reclock_cas_children('lines', '3', '[{"n": 1}]')$$);
-- REPEATABLE READ: the lines are counted again on the order's worker with
-- the latest snapshot (races: citus_documents_rr.spec)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT reclock_cas_children('lines', '3',
  '[{"order_id": 3, "n": 1, "v": "free"}, {"order_id": 3, "n": 2, "v": "free"}, {"order_id": 3, "n": 3, "v": "free"}]');
SELECT reclock_cas_children('lines', '3', '[]');
ROLLBACK;

-- the multi-tenant shape: both tables carry tenant_id, distributed by it;
-- keys (tenant_id, id), foreign key (tenant_id, order_id)
CREATE TABLE t_orders (tenant_id int, id int, v text, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('t_orders', 'tenant_id');
CREATE TABLE t_lines (tenant_id int, order_id int, n int, v text,
  PRIMARY KEY (tenant_id, order_id, n),
  FOREIGN KEY (tenant_id, order_id) REFERENCES t_orders (tenant_id, id));
SELECT create_distributed_table('t_lines', 'tenant_id', colocate_with => 't_orders');
INSERT INTO t_orders SELECT t, o, 'o' FROM generate_series(1, 3) t, generate_series(1, 3) o;
INSERT INTO t_lines SELECT t, o, 1, 'l' FROM generate_series(1, 3) t, generate_series(1, 3) o;
SELECT reclock_protect('t_orders');
SELECT reclock_protect('t_lines', parent => 't_orders');
-- the formset check of a multi-tenant order, SERIALIZABLE
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT reclock_cas_children('t_lines', '(1,1)', '[{"tenant_id": 1, "order_id": 1, "n": 1, "v": "l"}]');
ROLLBACK;
SELECT token AS ttok FROM reclock_acquire('t_orders', '(1,1)', 'alice') \gset
SELECT token AS ttok2 FROM reclock_acquire('t_orders', '(1,2)', 'bob') \gset
SELECT doc_try($$UPDATE t_lines SET v = 'x' WHERE tenant_id = 1 AND order_id = 1$$);
SELECT doc_try($$INSERT INTO t_lines VALUES (1, 1, 2, 'x')$$);
-- the same order id of another tenant is another order: free
UPDATE t_lines SET v = 'free' WHERE tenant_id = 2 AND order_id = 1;
-- moving a line to another order (of the same tenant) needs both tokens
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'ttok';
SELECT doc_try($$UPDATE t_lines SET order_id = 2 WHERE tenant_id = 1 AND order_id = 1$$);
ROLLBACK;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'ttok2';
SELECT doc_try($$UPDATE t_lines SET order_id = 1 WHERE tenant_id = 1 AND order_id = 2$$);
ROLLBACK;
-- into an unlocked order, with the token of the order it leaves: passes
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'ttok';
UPDATE t_lines SET order_id = 3, n = 7 WHERE tenant_id = 1 AND order_id = 1;
ROLLBACK;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
\set both :ttok , :ttok2
SET LOCAL reclock.token = :'both';
UPDATE t_lines SET order_id = 2, n = 5 WHERE tenant_id = 1 AND order_id = 1;
COMMIT;
SELECT * FROM t_lines WHERE tenant_id = 1 ORDER BY 1, 2, 3;

-- unprotect: the stores go, the tables stay
SELECT reclock_unprotect('t_lines');
SELECT reclock_unprotect('t_orders');
DROP TABLE t_lines, t_orders;
SELECT reclock_unprotect('notes');
SELECT reclock_unprotect('lines');
SELECT reclock_unprotect('orders');
DROP TABLE notes, lines, orders;
DROP EXTENSION dblink;
DROP FUNCTION doc_try(text);
