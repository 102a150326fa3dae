\set id random(1, 100000)
UPDATE bt_lines_plain SET v = v + 1 WHERE id = :id;
