--
-- lockrow_review: acquire's row lock without a statement (a plain table)
-- behaves as the statement (a table with an inheritance child) does
--
\set VERBOSITY terse
\set SHOW_CONTEXT never
\i sql/include/try.sql
CREATE ROLE regress_lr_owner;
CREATE ROLE regress_lr_app;

-- 1. a composite key type changed after this backend checked it: an
-- attribute added that names catalog objects, or that is a table's row type
-- (PostgreSQL allows both while a column is of the type; reclock refuses
-- them while a lock of the table lives, and acquire refuses them then: 0A000)
CREATE TYPE lr_kt AS (a int, b int);
CREATE TABLE lr_comp (k lr_kt PRIMARY KEY, v text);
CREATE TABLE lr_rowtype (a int, b int);
INSERT INTO lr_comp VALUES (ROW(1, 2), 'x');
SELECT reclock_release(token) FROM reclock_acquire('lr_comp', '(1,2)', 'alice');
ALTER TYPE lr_kt ADD ATTRIBUTE r regclass;
SELECT try($$SELECT reclock_acquire('lr_comp', '(1,2,)', 'alice')$$);
SELECT count(*) FROM reclock_locks WHERE relation = 'lr_comp'::regclass;
ALTER TYPE lr_kt DROP ATTRIBUTE r;
SELECT reclock_release(token) FROM reclock_acquire('lr_comp', '(1,2)', 'alice');
ALTER TYPE lr_kt ADD ATTRIBUTE o lr_rowtype;
SELECT try($$SELECT reclock_acquire('lr_comp', '(1,2,)', 'alice')$$);
SELECT count(*) FROM reclock_locks WHERE relation = 'lr_comp'::regclass;
DROP TABLE lr_comp, lr_rowtype CASCADE;
DROP TYPE lr_kt;

-- 2. reclock_break by the owner without UPDATE on its table: FOR UPDATE
-- needs it (42501), as the statement (lr_inh, with a child) says
CREATE TABLE lr_plain (id int PRIMARY KEY, v text);
CREATE TABLE lr_inh (id int PRIMARY KEY, v text);
CREATE TABLE lr_inh_kid () INHERITS (lr_inh);
INSERT INTO lr_plain VALUES (1, 'a');
INSERT INTO lr_inh VALUES (1, 'a');
ALTER TABLE lr_plain OWNER TO regress_lr_owner;
ALTER TABLE lr_inh OWNER TO regress_lr_owner;
SET ROLE regress_lr_owner;
REVOKE UPDATE ON lr_plain, lr_inh FROM regress_lr_owner;
SELECT try($$SELECT reclock_break('lr_inh', '1')$$) AS statement;
SELECT try($$SELECT reclock_break('lr_plain', '1')$$) AS direct;
GRANT UPDATE ON lr_plain, lr_inh TO regress_lr_owner;
RESET ROLE;

-- 3. a caller that may not execute the key's equality (the statement's
-- WHERE calls it): 42501, as the statement says
GRANT SELECT, UPDATE ON lr_plain, lr_inh TO regress_lr_app;
REVOKE EXECUTE ON FUNCTION int4eq(int4, int4) FROM PUBLIC;
SET ROLE regress_lr_app;
SELECT try($$SELECT reclock_acquire('lr_inh', '1', 'app')$$) AS statement;
SELECT try($$SELECT reclock_acquire('lr_plain', '1', 'app')$$) AS direct;
RESET ROLE;
GRANT EXECUTE ON FUNCTION int4eq(int4, int4) TO PUBLIC;
SELECT count(*) FROM reclock_locks WHERE relation IN ('lr_plain'::regclass, 'lr_inh'::regclass);

DROP TABLE lr_plain, lr_inh CASCADE;

-- 4. a caller without USAGE of the table's schema, naming the table by OID:
-- the statement's parser refuses it (42501), in a backend where no
-- statement was planned for the table yet
CREATE SCHEMA lr_hid;
CREATE TABLE lr_hid.t (k int PRIMARY KEY);
CREATE TABLE lr_hid.ti (k int PRIMARY KEY);
CREATE TABLE lr_hid.ti_kid () INHERITS (lr_hid.ti);
INSERT INTO lr_hid.t VALUES (1);
INSERT INTO lr_hid.ti VALUES (1);
GRANT SELECT, UPDATE ON lr_hid.t, lr_hid.ti TO regress_lr_app;
SELECT 'lr_hid.t'::regclass::oid AS t_oid, 'lr_hid.ti'::regclass::oid AS ti_oid \gset
\c
SET ROLE regress_lr_app;
SELECT try(format($$SELECT reclock_acquire(%s, '1', 'app')$$, :ti_oid)) AS statement;
SELECT try(format($$SELECT reclock_acquire(%s, '1', 'app')$$, :t_oid)) AS direct;
RESET ROLE;
SELECT count(*) FROM reclock_locks WHERE relation IN ('lr_hid.t'::regclass, 'lr_hid.ti'::regclass);
DROP SCHEMA lr_hid CASCADE;

-- 5. a caller in parallel mode (a wrapper labelled PARALLEL RESTRICTED,
-- wrongly: acquire is UNSAFE), where another holder's lock refuses without
-- writing: an error, as the statement gives, never a row locked during a
-- parallel operation
CREATE TABLE lr_par (id int PRIMARY KEY);
CREATE TABLE lr_par_inh (id int PRIMARY KEY);
CREATE TABLE lr_par_inh_kid () INHERITS (lr_par_inh);
INSERT INTO lr_par VALUES (1);
INSERT INTO lr_par_inh VALUES (1);
SELECT acquired FROM reclock_acquire('lr_par', '1', 'bob');
SELECT acquired FROM reclock_acquire('lr_par_inh', '1', 'bob');
CREATE FUNCTION lr_wrap(t regclass) RETURNS text STABLE LANGUAGE sql PARALLEL RESTRICTED
  AS $$SELECT acquired || ' ' || holder FROM reclock_acquire(t, '1', 'par')$$;
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
            THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS force_parallel \gset
BEGIN;
SELECT txid_current() > 0 AS has_xid;
SELECT set_config(:'force_parallel', 'on', true);
SELECT lr_wrap('lr_par_inh') AS statement;
ROLLBACK;
BEGIN;
SELECT txid_current() > 0 AS has_xid;
SELECT set_config(:'force_parallel', 'on', true);
SELECT lr_wrap('lr_par') AS direct;
ROLLBACK;
SELECT reclock_break('lr_par', '1'), reclock_break('lr_par_inh', '1');
DROP FUNCTION lr_wrap(regclass);
DROP TABLE lr_par, lr_par_inh CASCADE;
DROP ROLE regress_lr_owner, regress_lr_app;
