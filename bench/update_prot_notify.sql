\set id random(1, 100000)
UPDATE bt_prot_n SET v = v + 1 WHERE id = :id;
