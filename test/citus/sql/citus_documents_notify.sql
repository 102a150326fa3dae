--
-- Change notices and documents over distributed tables (c6-childnotices):
-- the notices of a notifying parent table report its children's writes as
-- on one node ("updated", the parent's table and key, "child" naming the
-- written table).  The notice trigger of a child shard on the worker queues
-- the parent's payload in the parent's notice store shard beside it, and
-- the coordinator collects it when it commits.  Both orders (a child
-- protected under a notifying parent, notices switched on above protected
-- children), a chain of three levels, and the lifecycle of the triggers.
--
-- psql prints each notification into the \o file; received() reads it back
-- with the PID, fences and expiry times made stable (as citus_notify).
--
\set SHOW_CONTEXT never
SET citus.next_shard_id = 2600000;
SET citus.shard_count = 2;
CREATE TABLE dn_order (id int PRIMARY KEY, v text);
SELECT create_distributed_table('dn_order', 'id');
CREATE TABLE dn_line (order_id int REFERENCES dn_order, n int, qty int, PRIMARY KEY (order_id, n));
SELECT create_distributed_table('dn_line', 'order_id', colocate_with => 'dn_order');
CREATE TABLE dn_note (order_id int, n int, k int, body text, PRIMARY KEY (order_id, n, k),
                      FOREIGN KEY (order_id, n) REFERENCES dn_line);
SELECT create_distributed_table('dn_note', 'order_id', colocate_with => 'dn_order');
INSERT INTO dn_order SELECT g, 'o' || g FROM generate_series(1, 4) g;
INSERT INTO dn_line SELECT o, l, 1 FROM generate_series(1, 4) o, generate_series(1, 2) l;
-- orders 1 and 2 have their shards on different workers
SELECT count(DISTINCT p.groupid) AS workers
  FROM pg_dist_placement p WHERE p.shardid IN (get_shard_id_for_distribution_column('dn_order', 1),
                                               get_shard_id_for_distribution_column('dn_order', 2),
                                               get_shard_id_for_distribution_column('dn_order', 3),
                                               get_shard_id_for_distribution_column('dn_order', 4));
\set nfile `mktemp /tmp/citus_dn.XXXXXX`
\setenv NFILE :nfile
\! chmod 644 "$NFILE"
CREATE FUNCTION received(f text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(l,
           'PID [0-9]+', 'PID n'), '"fence": [0-9]+', '"fence": F'),
           '"expires_at": "[^"]*"', '"expires_at": E')
    FROM unnest(string_to_array(rtrim(pg_read_file(f), E'\n'), E'\n')) l
$$;
-- the notice triggers of a table, on the coordinator and on its shards
CREATE FUNCTION notice_triggers(t regclass) RETURNS text LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = t AND tgname = 'reclock_notice') || ' / ' ||
         (SELECT string_agg(result, ',' ORDER BY shardid)
            FROM run_command_on_shards(t, $q$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'reclock\_notice\_%%'$q$))
$$;

SELECT reclock_protect('dn_order');
-- notices on, then a child: protected, with the notice trigger on its shards
SELECT reclock_notify('dn_order');
SELECT reclock_protect('dn_line', parent => 'dn_order');
SELECT notice_triggers('dn_line') AS line_triggers;
SELECT format('reclock_store_%s_notices', 'dn_order'::regclass::oid) AS notices \gset

\o :nfile
LISTEN reclock;
-- a router UPDATE of a line (autocommit): "updated" of its order
UPDATE dn_line SET qty = 2 WHERE order_id = 1 AND n = 1;
\o
SELECT * FROM received(:'nfile');
-- a multi-shard UPDATE (both workers): each order once
\o :nfile
UPDATE dn_line SET qty = qty + 1 WHERE n = 2;
\o
SELECT * FROM received(:'nfile');
-- INSERT and DELETE in a transaction block, a rolled-back savepoint's row not
\o :nfile
BEGIN;
INSERT INTO dn_line VALUES (1, 3, 1);
SAVEPOINT s;
DELETE FROM dn_line WHERE order_id = 2 AND n = 2;
ROLLBACK TO s;
DELETE FROM dn_line WHERE order_id = 3 AND n = 2;
COMMIT;
\o
SELECT * FROM received(:'nfile');
-- a rolled-back transaction sends nothing, and leaves nothing queued
\o :nfile
BEGIN;
UPDATE dn_line SET qty = 0 WHERE order_id = 4;
ROLLBACK;
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS queued FROM :"notices";
-- PREPARE TRANSACTION after a child write: refused (PostgreSQL cannot
-- NOTIFY from a prepared transaction), nothing sent, nothing prepared
\o :nfile
BEGIN;
UPDATE dn_line SET qty = 0 WHERE order_id = 4;
PREPARE TRANSACTION 'dn_p';
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'dn_p';
SELECT count(*) AS zero_qty FROM dn_line WHERE qty = 0;
-- INSERT ... SELECT (pushed down to the shards), COPY, MERGE
\o :nfile
INSERT INTO dn_line SELECT id, 5, 0 FROM dn_order WHERE id IN (2, 3);
\o
SELECT * FROM received(:'nfile');
\o :nfile
COPY dn_line FROM stdin;
4	6	1
\.
\o
SELECT * FROM received(:'nfile');
\o :nfile
MERGE INTO dn_line l USING dn_order o ON l.order_id = o.id AND o.id = 1 AND l.n = 1
  WHEN MATCHED THEN UPDATE SET qty = 9;
\o
SELECT * FROM received(:'nfile');
-- a line of an order locked by alice, written with her token: her lock
\o :nfile
SELECT token AS tok FROM reclock_acquire('dn_order', '2', 'alice') \gset
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL reclock.token = :'tok';
UPDATE dn_line SET qty = 7 WHERE order_id = 2 AND n = 1;
COMMIT;
SELECT reclock_release(:'tok');
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS queued FROM :"notices";

-- a direct write of a line's shard on its worker is not the coordinator's:
-- it notifies that worker's own listeners, and nothing is left queued; a
-- transaction that claims to be a coordinator's (Citus's application_name)
-- and whose notices nobody collects is refused at its COMMIT, never
-- committed without its notice
SELECT shard_name('dn_line', get_shard_id_for_distribution_column('dn_line', 1)) AS lineshard \gset
SELECT n.nodename AS whost, n.nodeport AS wport
  FROM pg_dist_node n JOIN pg_dist_placement p ON p.groupid = n.groupid
 WHERE p.shardid = get_shard_id_for_distribution_column('dn_line', 1) \gset
\set chost :HOST
\set cport :PORT
\c reclock_citus postgres :whost :wport
\o :nfile
LISTEN reclock;
UPDATE :lineshard SET qty = 8 WHERE order_id = 1 AND n = 1;
\o
SELECT * FROM received(:'nfile');
SET application_name = 'citus_internal gpid=1';
BEGIN;
UPDATE :lineshard SET qty = 9 WHERE order_id = 1 AND n = 1;
COMMIT;
RESET application_name;
SELECT qty FROM :lineshard WHERE order_id = 1 AND n = 1;
\c reclock_citus postgres :chost :cport
LISTEN reclock;
SELECT count(*) AS queued FROM :"notices";

-- a function call Citus delegates to a worker that writes a line: its
-- notices could not be collected, so it is refused (0A000) before anything
-- is written, as a delegated write of the order's own rows is
CREATE FUNCTION dn_line_set(o int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN UPDATE dn_line SET qty = 10 WHERE order_id = o AND n = 1; END $$;
SELECT create_distributed_function('dn_line_set(int)', 'o', colocate_with => 'dn_order');
\o :nfile
SELECT dn_line_set(3);
\o
\echo :SQLSTATE
SELECT * FROM received(:'nfile');
SELECT qty FROM dn_line WHERE order_id = 3 AND n = 1;
DROP FUNCTION dn_line_set(int);

-- three levels: a note reports to its order (lines do not notify) ...
SELECT reclock_protect('dn_note', parent => 'dn_line');
SELECT notice_triggers('dn_note') AS note_triggers;
\o :nfile
INSERT INTO dn_note VALUES (1, 1, 1, 'fragile'), (2, 1, 1, 'fragile');
\o
SELECT * FROM received(:'nfile');
-- ... and to its line and its order when lines notify too; a line's own
-- write is "updated" of the line and, as a child, of its order
SELECT reclock_notify('dn_line');
\o :nfile
UPDATE dn_note SET body = 'handle with care' WHERE order_id = 1;
\o
SELECT * FROM received(:'nfile');
\o :nfile
UPDATE dn_line SET qty = 3 WHERE order_id = 3 AND n = 1;
\o
SELECT * FROM received(:'nfile');
SELECT reclock_notify('dn_line', false);

-- notices off on the order: the children's triggers go, nothing is sent
SELECT reclock_notify('dn_order', false);
SELECT notice_triggers('dn_line') AS line_triggers, notice_triggers('dn_note') AS note_triggers;
\o :nfile
UPDATE dn_line SET qty = 4 WHERE order_id = 1 AND n = 1;
DELETE FROM dn_note WHERE order_id = 2;
\o
SELECT * FROM received(:'nfile');
-- on again above protected children: their triggers come back, writes report
SELECT reclock_notify('dn_order');
SELECT notice_triggers('dn_line') AS line_triggers, notice_triggers('dn_note') AS note_triggers;
\o :nfile
UPDATE dn_line SET qty = 5 WHERE order_id = 1 AND n = 1;
INSERT INTO dn_note VALUES (4, 1, 1, 'blue');
\o
SELECT * FROM received(:'nfile');
-- unprotect of a note table: its trigger goes, its writes report nothing
SELECT reclock_unprotect('dn_note');
SELECT notice_triggers('dn_note') AS note_triggers;
\o :nfile
UPDATE dn_note SET body = 'red' WHERE order_id = 4;
\o
SELECT * FROM received(:'nfile');
-- DROP of a protected child table: the order's other children still report
SELECT reclock_protect('dn_note', parent => 'dn_line');
DROP TABLE dn_note;
\o :nfile
UPDATE dn_line SET qty = 6 WHERE order_id = 4 AND n = 1;
\o
SELECT * FROM received(:'nfile');
SELECT count(*) AS queued FROM :"notices";
UNLISTEN reclock;
\! rm -f "$NFILE"
SELECT reclock_unprotect('dn_line');
SELECT notice_triggers('dn_line') AS line_triggers;
SELECT reclock_unprotect('dn_order');
DROP TABLE dn_line, dn_order;
DROP FUNCTION received(text);
DROP FUNCTION notice_triggers(regclass);
