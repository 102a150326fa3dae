# A backend killed while acquire waits for a writer of the row (before
# reclock has written anything), or after a guarded write (the guard passed,
# the transaction is open): no grant, the row unchanged, no advisory lock
# left, and the next acquire works.  These kills land outside reclock's own
# writes; 008_pause_kill.pl kills in the middle of them (pause points).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('kill');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION reclock;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 3) g;
	SELECT reclock_protect('orders');
});

# 1. killed inside acquire: a writer holds the row, so acquire waits on its
#    FOR SHARE of the row until it is terminated
my $writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN');
$writer->query_safe('UPDATE orders SET qty = 10 WHERE id = 1');
my $acq = $node->background_psql('postgres');
my $acq_pid = $acq->query_safe('SELECT pg_backend_pid()');
$acq->query_until(qr/start/, q{
	\echo start
	SELECT reclock_acquire('orders', '1', 'victim');
});
$node->poll_query_until('postgres',
	"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $acq_pid")
  or die 'acquire is not waiting for the row';
$node->safe_psql('postgres', "SELECT pg_terminate_backend($acq_pid)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $acq_pid")
  or die 'backend did not end';
$writer->query_safe('ROLLBACK');
$writer->quit;
eval { $acq->quit };

is($node->safe_psql('postgres', "SELECT count(*) FROM reclock_locks"), '0',
	'no half-made grant after the kill');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
	'0', 'no advisory lock left behind');
is($node->safe_psql('postgres',
	"SELECT acquired::text || ',' || holder FROM reclock_acquire('orders', '1', 'alice', '1 hour')"),
	'true,alice', 'the next acquire works');
my $token = $node->safe_psql('postgres',
	"SELECT token FROM reclock_acquire('orders', '1', 'alice', '1 hour')");

# 2. killed in the middle of a guarded write by the holder
my $holder = $node->background_psql('postgres');
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->query_safe('BEGIN');
$holder->query_safe("SELECT set_config('reclock.token', '$token', true)");
$holder->query_safe('UPDATE orders SET qty = 999 WHERE id = 1');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($holder_pid)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $holder_pid")
  or die 'backend did not end';
eval { $holder->quit };

is($node->safe_psql('postgres', 'SELECT qty FROM orders WHERE id = 1'), '1',
	'the row is unchanged after the killed write');
is($node->safe_psql('postgres', "SELECT holder FROM reclock_locks WHERE key = '1'"), 'alice',
	'the lock is still held by its holder');
is($node->safe_psql('postgres',
	"SELECT acquired::text || ',' || holder FROM reclock_acquire('orders', '1', 'bob')"),
	'false,alice', 'another holder is still refused');
is($node->safe_psql('postgres', qq{
	BEGIN;
	SELECT set_config('reclock.token', '$token', true) IS NOT NULL;
	UPDATE orders SET qty = 2 WHERE id = 1 RETURNING qty;
	COMMIT;}), "t\n2", 'the holder writes again');

unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
