# reclock.token in the server's configuration, with reclock preloaded
# (shared_preload_libraries): the postmaster checks the value when it loads
# the library and at every reload, outside any transaction.  The server
# starts and reloads (no hash of such a value is made: it never counts, and
# pg_cryptohash with OpenSSL needs a resource owner there is none of in the
# postmaster -- the server crashed at start where reclock hashes through it:
# OpenSSL before 3.0, or a build without RECLOCK_OPENSSL), and the value
# never lets a write through.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('token_conf');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'reclock'\n"
	  . "reclock.token = '00000000-0000-4000-8000-000000000001'\n");
$node->start;
is($node->safe_psql('postgres', 'SELECT 1'), '1',
	'the server starts with reclock.token in its configuration');

$node->safe_psql('postgres', q{
	CREATE EXTENSION reclock;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 3) g;
	SELECT reclock_protect('orders');
	CREATE ROLE app LOGIN;
	GRANT SELECT, UPDATE ON orders TO app;
});
my $token = $node->safe_psql('postgres',
	"SELECT token FROM reclock_acquire('orders', '1', 'alice', '1 hour')");

# the live lock's own token in the configuration, reloaded
$node->append_conf('postgresql.conf', "reclock.token = '$token'\n");
$node->reload;
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server reloads it');

my ($ret, $stdout, $stderr) = $node->psql('postgres',
	'UPDATE orders SET qty = 0 WHERE id = 1',
	extra_params => [ '-U', 'app' ]);
isnt($ret, 0, 'a token from the configuration does not count');
like($stderr, qr/is locked by "alice"/, '... the guard refuses the write');

# and as a connection option
{
	local $ENV{PGOPTIONS} = "-c reclock.token=$token";
	($ret, $stdout, $stderr) = $node->psql('postgres',
		'UPDATE orders SET qty = 0 WHERE id = 1',
		extra_params => [ '-U', 'app' ]);
	isnt($ret, 0, 'nor one from the connection options');
}

# presented in the writing transaction, it counts
($ret, $stdout, $stderr) = $node->psql('postgres',
	"BEGIN; SET LOCAL reclock.token = '$token'; UPDATE orders SET qty = 0 WHERE id = 1; COMMIT;",
	extra_params => [ '-U', 'app' ]);
is($ret, 0, 'a token presented with SET LOCAL counts');
is($node->safe_psql('postgres', 'SELECT qty FROM orders WHERE id = 1'), '0',
	'... and the write is made');

$node->stop;
done_testing();
