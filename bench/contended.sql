\set id random_zipfian(1, 16, 1.1)
SELECT acquired, token FROM reclock_acquire('hot', ':id', 'h:client_id', '5 min') \gset
\if :acquired
SELECT reclock_release(':token');
\endif
