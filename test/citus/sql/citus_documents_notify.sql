--
-- Change notices and documents over distributed tables: the notices of a
-- notifying parent table report its children's writes on one node, but the
-- child guard on a worker sends none yet.  So the two are refused together
-- (0A000), in either order, never left out silently.
--
SET citus.next_shard_id = 2600000;
SET citus.shard_count = 2;
CREATE TABLE dn_order (id int PRIMARY KEY, v text);
SELECT create_distributed_table('dn_order', 'id');
CREATE TABLE dn_line (order_id int REFERENCES dn_order, n int, PRIMARY KEY (order_id, n));
SELECT create_distributed_table('dn_line', 'order_id', colocate_with => 'dn_order');
SELECT reclock_protect('dn_order');
-- notices on, then a child: refused
SELECT reclock_notify('dn_order');
SELECT reclock_protect('dn_line', parent => 'dn_order');
\echo :SQLSTATE
SELECT count(*) AS child_guards FROM pg_trigger WHERE tgrelid = 'dn_line'::regclass AND tgname LIKE 'reclock%';
-- notices off: the child is protected; notices on again: refused
SELECT reclock_notify('dn_order', false);
SELECT reclock_protect('dn_line', parent => 'dn_order');
SELECT reclock_notify('dn_order');
\echo :SQLSTATE
SELECT reclock_unprotect('dn_line');
SELECT reclock_unprotect('dn_order');
DROP TABLE dn_line, dn_order;
