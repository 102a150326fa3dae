# A database's owner who is not a superuser can pg_dump their own database
# (reclock's store is readable by pg_database_owner), and a restore keeps the
# live lock, its token and the fences.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump_owner');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE ROLE dbo LOGIN;
	CREATE DATABASE app OWNER dbo;
});
$node->safe_psql('app', q{
	CREATE EXTENSION reclock;
	SET ROLE dbo;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 3) g;
	SELECT reclock_protect('orders');
});
my ($token, $fence) = split /\|/, $node->safe_psql('app',
	q{SET ROLE dbo; SELECT token, fence FROM reclock_acquire('orders', '2', 'alice', '1 day')});

my $dump = $node->basedir . '/app.dump';
my $rc = system_log('pg_dump', '-Fc', '-h', $node->host, '-p', $node->port,
	'-U', 'dbo', '-d', 'app', '-f', $dump);
is($rc, 0, 'the database owner (not a superuser) dumps the database');

$node->safe_psql('postgres', 'CREATE DATABASE app2 OWNER dbo');
$rc = system_log('pg_restore', '-h', $node->host, '-p', $node->port,
	'-U', $node->safe_psql('postgres', 'SELECT current_user'), '-d', 'app2', $dump);
is($rc, 0, 'a superuser restores it');

is($node->safe_psql('app2', "SELECT reclock_valid('$token')"), 't', 'the token is valid after the restore');
is($node->safe_psql('app2', q{SELECT holder FROM reclock_locks WHERE relation = 'orders'::regclass AND key = '2'}),
	'alice', 'the lock is live after the restore');
my $res = $node->psql('app2', 'UPDATE orders SET qty = 0 WHERE id = 2');
isnt($res, 0, 'a write without the token is refused after the restore');
ok($node->safe_psql('app2', q{SELECT fence FROM reclock_acquire('orders', '3', 'bob')}) > $fence,
	'a new grant after the restore has a larger fence');
is($node->safe_psql('app2',
	"BEGIN; SELECT set_config('reclock.token', '$token', true) IS NOT NULL; UPDATE orders SET qty = 20 WHERE id = 2 RETURNING qty; COMMIT"),
	"t\n20", 'the holder writes with the restored token');

$node->stop;
done_testing();
