CREATE ROLE app LOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE ON orders, ref, src TO app;
SELECT run_command_on_workers($$SELECT rolname FROM pg_roles WHERE rolname = 'app'$$);
SELECT run_command_on_workers($$SELECT has_table_privilege('app', 'orders_102000', 'UPDATE') $$);
