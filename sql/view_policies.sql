--
-- view_policies: reading reclock_locks never runs another role's code
-- as the reader (CONTRACT.md "View: reclock_locks", "Privileges": nothing
-- in the extension lets a role change a row it could not change before).
--
-- rr_mallory owns a table with row-level security whose policy calls her
-- own function, grants SELECT on it to PUBLIC, and locks one of its rows.
-- rr_bob only reads the view.  The policy must never run as rr_bob: if it
-- does, mallory's function reads bob's table and writes it into hers, with
-- bob's rights.
--
\set VERBOSITY terse
CREATE ROLE rr_mallory;
CREATE ROLE rr_bob;
CREATE SCHEMA rr_m AUTHORIZATION rr_mallory;
GRANT USAGE ON SCHEMA rr_m TO PUBLIC;
CREATE SCHEMA rr_b AUTHORIZATION rr_bob;

SET ROLE rr_bob;
CREATE TABLE rr_b.secret (id int PRIMARY KEY, v text);
INSERT INTO rr_b.secret VALUES (1, 'bob''s secret');
RESET ROLE;

SET ROLE rr_mallory;
CREATE TABLE rr_m.loot (who name, what text);
GRANT INSERT ON rr_m.loot TO PUBLIC;
CREATE FUNCTION rr_m.spy() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO rr_m.loot SELECT current_user, (SELECT string_agg(v, ',') FROM rr_b.secret);
  RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
  INSERT INTO rr_m.loot VALUES (current_user, NULL);
  RETURN true;
END $$;
CREATE TABLE rr_m.bait (id int PRIMARY KEY);
INSERT INTO rr_m.bait VALUES (1);
ALTER TABLE rr_m.bait ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON rr_m.bait USING (rr_m.spy());
GRANT SELECT ON rr_m.bait TO PUBLIC;
SELECT acquired FROM reclock_acquire('rr_m.bait', '1', 'mallory');
-- her own reads of her table do not run the policy (she owns it)
SELECT count(*) FROM rr_m.loot;
RESET ROLE;

-- bob reads the view (whether he is shown mallory's lock is not the point)
SET ROLE rr_bob;
SELECT count(*) >= 0 AS read FROM reclock_locks;
RESET ROLE;

-- mallory's code never ran as bob
SELECT who, what FROM rr_m.loot;

DROP SCHEMA rr_m CASCADE;
DROP SCHEMA rr_b CASCADE;
DROP ROLE rr_mallory, rr_bob;
