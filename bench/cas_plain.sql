\set id random(1, 100000)
UPDATE bt_plain SET v = 1 WHERE id = :id;
