SET citus.shard_count = 4;
SET citus.next_shard_id = 102000;
CREATE TABLE orders (id int PRIMARY KEY, v text);
SELECT create_distributed_table('orders', 'id');
INSERT INTO orders SELECT g, 'o' || g FROM generate_series(1, 8) g;
CREATE TABLE ref (id int PRIMARY KEY, v text);
SELECT create_reference_table('ref');
INSERT INTO ref SELECT g, 'r' || g FROM generate_series(1, 4) g;
CREATE TABLE src (id int PRIMARY KEY, v text);
SELECT create_distributed_table('src', 'id', colocate_with => 'orders');
INSERT INTO src SELECT g, 's' || g FROM generate_series(1, 8) g;
CREATE FUNCTION where_fired() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'fired % % on % port % pid % app "%" tok "%" ptok "%" xid %', TG_OP, TG_WHEN, TG_TABLE_NAME,
    inet_server_port(), pg_backend_pid(), current_setting('application_name'),
    current_setting('myapp.tok', true), current_setting('reclock.token', true), txid_current();
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER wf BEFORE INSERT OR UPDATE OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION where_fired();
CREATE TRIGGER wf BEFORE INSERT OR UPDATE OR DELETE ON ref FOR EACH ROW EXECUTE FUNCTION where_fired();
SELECT shardid, nodeport, shard_name(logicalrelid, shardid) FROM pg_dist_shard JOIN pg_dist_placement USING (shardid) JOIN pg_dist_node USING (groupid) ORDER BY 1, 2;
SELECT pg_backend_pid() AS coord_pid;
