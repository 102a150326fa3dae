\set id random(1, 100000)
UPDATE floor_t SET v = v + 1 WHERE id = :id;
UPDATE floor_t SET v = v + 1 WHERE id = :id;
