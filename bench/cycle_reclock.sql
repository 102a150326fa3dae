\set id random(1, 100000)
SELECT acquired, token FROM reclock_acquire('bt', ':id', 'h:client_id', '5 min') \gset
\if :acquired
SELECT reclock_release(':token');
\endif
