--
-- sweep_prepared: a sweep in a transaction that is never ended -- a
-- prepared one -- makes no other role's acquire or DROP TABLE wait
-- (CONTRACT.md, reclock_sweep: "a sweep in a transaction left open never
-- makes an acquire, refresh, release or DDL command of another session
-- wait"; "No role holds up another").
--
-- rr_sweeper owns nothing.  rr_owner's table has a lock that ran out an
-- hour ago.  The sweeper sweeps and prepares the transaction.  A wait here
-- would last until someone ends the prepared transaction: lock_timeout
-- turns it into an error.
--
\set VERBOSITY terse
CREATE ROLE rr_sweeper;
CREATE ROLE rr_owner;
CREATE TABLE rr_sw (id int PRIMARY KEY);
INSERT INTO rr_sw VALUES (1), (2);
ALTER TABLE rr_sw OWNER TO rr_owner;
CREATE TABLE rr_sw2 (id int PRIMARY KEY);
ALTER TABLE rr_sw2 OWNER TO rr_owner;
-- locks that ran out an hour ago
INSERT INTO reclock_lock_store (relid, key, holder, acquired_by, fence, acquired_at, expires_at)
VALUES ('rr_sw', '1', 'carol', 'rr_owner', nextval('reclock_fence_seq'), now() - interval '2 hours', now() - interval '1 hour'),
       ('rr_sw2', '1', 'carol', 'rr_owner', nextval('reclock_fence_seq'), now() - interval '2 hours', now() - interval '1 hour');

SET ROLE rr_sweeper;
BEGIN;
SELECT reclock_sweep() >= 2 AS swept;
PREPARE TRANSACTION 'rr_sweep';
RESET ROLE;

SET ROLE rr_owner;
SET lock_timeout = '3s';
SELECT acquired FROM reclock_acquire('rr_sw', '1', 'bob');
DROP TABLE rr_sw2;
RESET lock_timeout;
RESET ROLE;

ROLLBACK PREPARED 'rr_sweep';
DROP TABLE IF EXISTS rr_sw, rr_sw2;
DROP ROLE rr_sweeper, rr_owner;
