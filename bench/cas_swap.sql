\set id random(1, 100000)
SELECT reclock_cas('bt_plain', ':id', '{"v": 1}', '{"v": 1}');
