-- the database the pooler tests use (run as superuser)
CREATE EXTENSION reclock;
CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL DEFAULT 0, note text);
INSERT INTO orders (id) SELECT generate_series(1, 20);
SELECT reclock_protect('orders');
SELECT reclock_notify('orders');
CREATE ROLE app LOGIN PASSWORD 'app-pw';
GRANT SELECT, UPDATE ON orders TO app;
-- a role whose connections load reclock at start (README: Presenting tokens)
CREATE ROLE app_pre LOGIN PASSWORD 'app-pw';
ALTER ROLE app_pre SET session_preload_libraries = 'reclock';
GRANT SELECT, UPDATE ON orders TO app_pre;
