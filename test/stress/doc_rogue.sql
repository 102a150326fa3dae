-- a rogue on documents: without any token, a transaction of two random
-- writes (insert, update, delete, move) of lines of two random orders
\set o random(1, 5)
\set o2 1 + (:o + random(0, 3)) % 5
BEGIN;
SELECT rogue_line(:o, :o2);
SELECT rogue_line(:o2, :o);
COMMIT;
