-- COPY through the prototype's utility hook: does the worker see the value?
CREATE OR REPLACE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.v = 'boom' THEN RAISE EXCEPTION 'boom trigger fired on % port % app % tok "%"', TG_TABLE_NAME, inet_server_port(), current_setting('application_name'), current_setting('myapp.tok', true); END IF;
  RETURN NEW;
END $$;
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER boom BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION boom();
RESET citus.enable_unsafe_triggers;
\echo === without the prototype
BEGIN; SELECT set_config('myapp.tok', 'P6', true);
COPY orders FROM stdin;
601	boom
\.
ROLLBACK;
LOAD 'citusprop';
\echo === with it
BEGIN; SELECT set_config('myapp.tok', 'P6', true);
COPY orders FROM stdin;
601	boom
\.
ROLLBACK;
SET citus.enable_unsafe_triggers = on;
DROP TRIGGER boom ON orders;
