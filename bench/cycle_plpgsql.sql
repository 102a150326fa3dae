\set id random(1, 100000)
SELECT acquired, token FROM pl_acquire('bt', ':id', 'h:client_id', '5 min') \gset
\if :acquired
SELECT pl_release(':token');
\endif
