\echo === as app on worker1, shard table directly
SELECT current_user, current_setting('application_name');
UPDATE orders_102000 SET v = 'bypass-shard' WHERE id = 1;
\echo === as app on worker1, distributed table name (MX)
UPDATE orders SET v = 'bypass-mx' WHERE id = 1;
UPDATE orders SET v = 'bypass-mx-2' WHERE id = 2;
\echo === reference table on worker1
UPDATE ref SET v = 'bypass-ref' WHERE id = 1;
\echo === assign_distributed_transaction_id as app
BEGIN; SELECT assign_distributed_transaction_id(0, 12345, now()); SELECT * FROM get_current_transaction_id(); ROLLBACK;
