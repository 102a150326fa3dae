--
-- publication: logical replication publishes the application's tables,
-- never reclock's store (a subscriber would apply lock rows its reclock did
-- not grant); a publication that would include it is refused
--
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = error;	-- no "wal_level is insufficient" warnings
CREATE TABLE pub_orders (id int PRIMARY KEY);
CREATE SCHEMA pub_app;
CREATE TABLE pub_app.lines (id int PRIMARY KEY);
-- the application's tables: fine
CREATE PUBLICATION pub_ok FOR TABLE pub_orders;
CREATE PUBLICATION pub_schema FOR TABLES IN SCHEMA pub_app;
ALTER PUBLICATION pub_ok ADD TABLE pub_app.lines;
-- anything that would include the store: refused
CREATE PUBLICATION pub_all FOR ALL TABLES;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE PUBLICATION pub_public FOR TABLES IN SCHEMA public;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE PUBLICATION pub_store FOR TABLE reclock_lock_store;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER PUBLICATION pub_ok ADD TABLE reclock_token_store;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER PUBLICATION pub_ok ADD TABLES IN SCHEMA public;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT pubname FROM pg_publication ORDER BY pubname;
SELECT pubname, schemaname, tablename FROM pg_publication_tables ORDER BY 1, 2, 3;
RESET client_min_messages;
DROP PUBLICATION pub_ok, pub_schema;
DROP TABLE pub_orders, pub_app.lines;
DROP SCHEMA pub_app;
