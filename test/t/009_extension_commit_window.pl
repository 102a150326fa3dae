# An extension of a lock (here a refresh) that passed its check at
# pre-commit in time but whose commit becomes visible only after the lock
# ran out: a write that arrives in between, without the token, waits for
# that commit and is then refused; it never passes while the lock is dead
# and is then followed by the old grant being live again.
#
# The commit is held between its pre-commit check and its visibility by
# synchronous replication to a standby that does not exist.  Test build
# only: every session reads one clock (reclock.test_clock_file).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('window');
$node->init(allows_streaming => 1);
# a commit (of a transaction with an xid) with synchronous_commit = on
# waits for this standby, which never comes; the other sessions that write
# use synchronous_commit = local
$node->append_conf('postgresql.conf', "synchronous_standby_names = 'nobody'");
$node->start;
my $admin = "SET synchronous_commit = local;";

my $clockfile = $node->data_dir . '/reclock_test_clock';
sub set_clock { open(my $fh, '>', $clockfile) or die; print $fh "$_[0]\n"; close $fh; }
set_clock(0);
my $clock = "LOAD 'reclock'; SET reclock.test_clock_epoch = 1893456000; SET reclock.test_clock_file = '$clockfile';";

$node->safe_psql('postgres', qq{$admin
	CREATE EXTENSION reclock;
	CREATE TABLE docs (id int PRIMARY KEY, body text);
	INSERT INTO docs VALUES (1, 'orig');
	SELECT reclock_protect('docs');
});
my $tok = $node->safe_psql('postgres',
	"$clock $admin SELECT token FROM reclock_acquire('docs', '1', 'alice', '1 min')");
like($tok, qr/^[0-9a-f-]{36}$/, 'alice locks row 1 until 60 s');


# alice refreshes at 0 s; her COMMIT passes the pre-commit check and then
# waits for the standby
my $alice = $node->background_psql('postgres', on_error_stop => 0);
$alice->query_safe($clock);
$alice->query_safe('BEGIN');
is($alice->query_safe("SELECT reclock_refresh('$tok', '1 hour') IS NOT NULL"),
	't', 'alice refreshes while the lock is live');
$alice->query_until(qr/committing/, "\\echo committing\nCOMMIT;\n");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
  or die 'alice never reached the synchronous commit wait';

# the lock runs out (120 s) while alice's commit is not yet visible
set_clock(120);

# bob writes without a token
my $bob = $node->background_psql('postgres', on_error_stop => 0);
$bob->query_safe("$clock $admin");
my $bobpid = $bob->query_safe('SELECT pg_backend_pid()');
$bob->query_until(qr/writing/, "\\echo writing\nUPDATE docs SET body = 'bob' WHERE id = 1;\n");
$node->poll_query_until('postgres', qq{
	SELECT state = 'idle' OR wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $bobpid})
  or die 'bob neither finished nor waited';
is($node->safe_psql('postgres', "$admin SELECT wait_event_type FROM pg_stat_activity WHERE pid = $bobpid"),
	'Lock', "bob's write waits for alice's commit instead of passing the dead lock");

# alice's commit becomes visible
$node->safe_psql('postgres', "$admin ALTER SYSTEM SET synchronous_standby_names = ''; SELECT pg_reload_conf();");
$alice->quit;
$bob->quit;
like($bob->{stderr}, qr/locked by "alice"/, "then bob's write is refused: the lock is alice's");
is($node->safe_psql('postgres', "$clock SELECT body, reclock_valid('$tok') FROM docs WHERE id = 1"),
	'orig|t', 'the row is unchanged and the refreshed lock is live');

$node->stop;
done_testing();
