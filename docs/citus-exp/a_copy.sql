CREATE OR REPLACE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.v = 'boom' THEN RAISE EXCEPTION 'boom trigger fired on % port % pid % app %', TG_TABLE_NAME, inet_server_port(), pg_backend_pid(), current_setting('application_name'); END IF;
  RETURN NEW;
END $$;
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER boom BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION boom();
CREATE TRIGGER boom BEFORE INSERT ON ref FOR EACH ROW EXECUTE FUNCTION boom();
\echo === COPY into distributed
COPY orders FROM stdin;
401	boom
\.
\echo === COPY into reference
COPY ref FROM stdin;
401	boom
\.
\echo === COPY into reference, local exec off
SET citus.enable_local_execution = off;
COPY ref FROM stdin;
401	boom
\.
RESET citus.enable_local_execution;
DROP TRIGGER boom ON orders; DROP TRIGGER boom ON ref;
