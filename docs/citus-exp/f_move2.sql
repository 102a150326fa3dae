-- does a BEFORE INSERT trigger on the shard fire for the rows a shard move copies?
INSERT INTO orders VALUES (501, 'boom') ON CONFLICT (id) DO UPDATE SET v = 'boom';
SELECT get_shard_id_for_distribution_column('orders', 501) AS sh \gset
SELECT nodeport AS from_port FROM pg_dist_placement JOIN pg_dist_node USING (groupid) WHERE shardid = :sh \gset
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER boom BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION boom();
\echo === block_writes move of :sh from :from_port
SELECT citus_move_shard_placement(:sh, '127.0.0.1', :from_port, '127.0.0.1', CASE :from_port WHEN 25433 THEN 25434 ELSE 25433 END, shard_transfer_mode => 'block_writes');
SELECT nodeport FROM pg_dist_placement JOIN pg_dist_node USING (groupid) WHERE shardid = :sh;
DROP TRIGGER boom ON orders;
