# What keeps a token out of the server log (README, "Keep tokens out of
# logs"): bound parameters alone do not, with log_statement = all PostgreSQL
# logs their values; log_parameter_max_length = 0 for the application's role
# does.  And reclock itself writes no token to the log, also when it refuses
# a malformed one or a write.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use DBI;

my $node = PostgreSQL::Test::Cluster->new('token_log');
$node->init;
$node->append_conf('postgresql.conf', "log_statement = 'all'\nlog_min_messages = debug1\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION reclock;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 3) g;
	SELECT reclock_protect('orders');
	CREATE ROLE app LOGIN;
	CREATE ROLE app_quiet LOGIN;
	ALTER ROLE app_quiet SET log_parameter_max_length = 0;
	ALTER ROLE app_quiet SET log_parameter_max_length_on_error = 0;
	GRANT SELECT, UPDATE ON orders TO app, app_quiet;
});

sub connect_as
{
	my ($user) = @_;
	return DBI->connect('dbi:Pg:dbname=postgres;host=' . $node->host . ';port=' . $node->port,
		$user, '', { AutoCommit => 1, RaiseError => 1, PrintError => 0 });
}

# one save, the token as a bound parameter (extended protocol), as a driver sends it
sub save
{
	my ($dbh, $token, $id) = @_;
	$dbh->begin_work;
	$dbh->selectrow_array(q{SELECT set_config('reclock.token', $1, true)}, undef, $token);
	$dbh->do('UPDATE orders SET qty = qty + 1 WHERE id = $1', undef, $id);
	$dbh->commit;
}

my $tok1 = $node->safe_psql('postgres', q{SELECT token FROM reclock_acquire('orders', '1', 'alice')});
my $tok2 = $node->safe_psql('postgres', q{SELECT token FROM reclock_acquire('orders', '2', 'bob')});
like($tok1, qr/^[0-9a-f-]{36}$/, 'a token');

my $log_start = -s $node->logfile;
my $app = connect_as('app');
save($app, $tok1, 1);
$app->disconnect;
my $quiet = connect_as('app_quiet');
save($quiet, $tok2, 2);
# a refused write and a malformed token, in the quiet role's session
eval { $quiet->do('UPDATE orders SET qty = 0 WHERE id = 1') };
like($@, qr/locked by "alice"/, 'a write without the token is refused');
eval { $quiet->selectrow_array(q{SELECT set_config('reclock.token', $1, true)}, undef, "x$tok1") };
like($@, qr/invalid value for parameter "reclock.token"/, 'a malformed token is refused');
$quiet->disconnect;

my $log = slurp_file($node->logfile, $log_start);
like($log, qr/[Pp]arameters: \$1 = '\Q$tok1\E'/,
	'with log_statement = all, a bound token is logged (bind parameters alone do not keep it out)');
unlike($log, qr/\Q$tok2\E/, 'log_parameter_max_length = 0 keeps the role\'s bound tokens out of the log');
like($log, qr/SELECT set_config\('reclock.token', \$1, true\)/, 'the statement itself is logged');
my @tok1_lines = grep { /\Q$tok1\E/ } split /\n/, $log;
is(scalar(grep { !/[Pp]arameters: \$1 = / } @tok1_lines), 0,
	'reclock logs no token itself (only the bound-parameter DETAIL holds it)');

my $rows = $node->safe_psql('postgres', 'SELECT qty FROM orders WHERE id IN (1, 2) ORDER BY id');
is($rows, "2\n3", 'both saves wrote');

$node->stop;
done_testing();
