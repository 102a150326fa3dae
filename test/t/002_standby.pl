# Locks reach a streaming standby; acquire there fails with PostgreSQL's
# read-only error while reclock_valid answers; after promotion the holders'
# tokens still work and everyone else is still refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION reclock;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 3) g;
	SELECT reclock_protect('orders');
});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;

my $token = $primary->safe_psql('postgres',
	"SELECT token FROM reclock_acquire('orders', '1', 'alice', '1 hour')");
my $fence = $primary->safe_psql('postgres', "SELECT fence FROM reclock_locks WHERE key = '1'");
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT key, holder, fence FROM reclock_locks'),
	"1|alice|$fence", 'the lock is visible on the standby');
is($standby->safe_psql('postgres', "SELECT reclock_valid('$token')"), 't',
	'reclock_valid answers on the standby');
my ($ret, $out, $err) = $standby->psql('postgres',
	"SELECT reclock_acquire('orders', '2', 'bob')");
like($err, qr/read-only transaction/, 'acquire on a standby fails with the read-only error');
($ret, $out, $err) = $standby->psql('postgres',
	"SELECT reclock_acquire('orders', '2', 'bob')", on_error_stop => 0,
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/25006/, 'with SQLSTATE 25006');

# failover
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'promotion timed out';

($ret, $out, $err) = $standby->psql('postgres', 'UPDATE orders SET qty = 0 WHERE id = 1');
like($err, qr/locked by "alice"/, 'after promotion a write without the token is refused');
is($standby->safe_psql('postgres', qq{
	BEGIN;
	SELECT set_config('reclock.token', '$token', true) IS NOT NULL;
	UPDATE orders SET qty = 11 WHERE id = 1 RETURNING qty;
	COMMIT;}), "t\n11", "after promotion the holder's token still works");
is($standby->safe_psql('postgres',
	"SELECT acquired::text || ',' || holder FROM reclock_acquire('orders', '1', 'bob')"),
	'false,alice', 'another holder is still refused');
my $newfence = $standby->safe_psql('postgres',
	"SELECT fence FROM reclock_acquire('orders', '2', 'bob')");
cmp_ok($newfence, '>', $fence, 'fences keep growing on the promoted standby');

unlike(slurp_file($primary->logfile) . slurp_file($standby->logfile), qr/terminated by signal/,
	'no backend crashed');
$standby->stop;
$primary->stop;
done_testing();
