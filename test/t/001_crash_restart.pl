# Locks are durable: after a crash (immediate stop) and a restart every live
# lock is there with its token, fence and expiry, guarded rows stay guarded,
# and fences keep growing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION reclock;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 5) g;
	SELECT reclock_protect('orders');
});

my %token;
for my $k (1, 2)
{
	$token{$k} = $node->safe_psql('postgres',
		"SELECT token FROM reclock_acquire('orders', '$k', 'holder$k', '1 hour')");
	like($token{$k}, qr/^[0-9a-f-]{36}$/, "lock $k granted");
}
my $before = $node->safe_psql('postgres',
	'SELECT key, holder, fence, expires_at FROM reclock_locks ORDER BY key');
my $maxfence = $node->safe_psql('postgres', 'SELECT max(fence) FROM reclock_locks');

# crash: no shutdown checkpoint, recovery replays the WAL
$node->stop('immediate');
$node->start;

is($node->safe_psql('postgres',
	'SELECT key, holder, fence, expires_at FROM reclock_locks ORDER BY key'),
	$before, 'every lock survived the crash with its holder, fence and expiry');
for my $k (1, 2)
{
	is($node->safe_psql('postgres', "SELECT reclock_valid('$token{$k}')"),
		't', "token $k still valid after the crash");
}

my ($ret, $out, $err) = $node->psql('postgres', 'UPDATE orders SET qty = 0 WHERE id = 1');
isnt($ret, 0, 'a write without the token is still refused');
like($err, qr/locked by "holder1"/, 'and the refusal names the holder');

is($node->safe_psql('postgres', qq{
	BEGIN;
	SELECT set_config('reclock.token', '$token{1}', true) IS NOT NULL;
	UPDATE orders SET qty = 100 WHERE id = 1 RETURNING qty;
	COMMIT;}), "t\n100", 'the holder writes with the token after the crash');

# fences keep growing after the crash: no reuse
my $newfence = $node->safe_psql('postgres',
	"SELECT fence FROM reclock_acquire('orders', '3', 'holder3')");
cmp_ok($newfence, '>', $maxfence, 'a grant after the crash gets a larger fence');

# a clean restart too
$node->restart;
is($node->safe_psql('postgres', "SELECT reclock_valid('$token{2}')"), 't',
	'token valid after a clean restart');
my $fence4 = $node->safe_psql('postgres',
	"SELECT fence FROM reclock_acquire('orders', '4', 'holder4')");
cmp_ok($fence4, '>', $newfence, 'fences keep growing across restarts');

# acquire in a rolled-back transaction and savepoint leaves nothing
is($node->safe_psql('postgres', q{
	BEGIN;
	SELECT acquired FROM reclock_acquire('orders', '5', 'ghost');
	ROLLBACK;
	BEGIN;
	SAVEPOINT s;
	SELECT acquired FROM reclock_acquire('orders', '5', 'ghost');
	ROLLBACK TO s;
	SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();
	COMMIT;
	SELECT count(*) FROM reclock_locks WHERE key = '5';}), "t\nt\n0\n0",
	'rolled-back acquires leave no lock and no advisory lock');

unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
