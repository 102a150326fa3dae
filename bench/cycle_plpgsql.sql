\set id random(1, 100000)
SELECT token FROM pl_acquire('bt', ':id', 'h:client_id', '5 min') \gset
SELECT pl_release(':token');
