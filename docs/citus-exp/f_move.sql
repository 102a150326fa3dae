-- a "store" distributed and co-located with orders: does it move with orders' shard?
SET citus.next_shard_id = 103000;
DROP TABLE IF EXISTS store;
CREATE TABLE store (dist int, key text, holder text, PRIMARY KEY (dist, key));
SELECT create_distributed_table('store', 'dist', colocate_with => 'orders');
INSERT INTO store VALUES (1, '1', 'alice');
SELECT s.logicalrelid, s.shardid, n.nodeport FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE get_shard_id_for_distribution_column(s.logicalrelid, 1) = s.shardid ORDER BY 1;
\echo === move the shard of orders holding id 1 back to worker1 (block_writes)
SELECT citus_move_shard_placement(102000, '127.0.0.1', 25434, '127.0.0.1', 25433, shard_transfer_mode => 'block_writes');
SELECT s.logicalrelid, s.shardid, n.nodeport FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE get_shard_id_for_distribution_column(s.logicalrelid, 1) = s.shardid ORDER BY 1;
SELECT * FROM store;
\echo === trigger still fires at the new home
UPDATE orders SET v = v WHERE id = 1;
