\set id random(1, 100000)
SELECT token FROM reclock_acquire('bt', ':id', 'h:client_id', '5 min') \gset
SELECT reclock_release(':token');
