\set id random(1, 100000)
UPDATE bt_lines_row SET v = v + 1 WHERE id = :id;
