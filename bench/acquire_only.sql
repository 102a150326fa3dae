\set id random(1, 100000)
SELECT acquired FROM reclock_acquire('bt', ':id', 'probe', '5 min');
