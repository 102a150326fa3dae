# An extension of a lock (here a refresh) that passed its check at
# pre-commit in time but whose commit becomes visible only after the lock
# ran out: a write that arrives in between, without the token, waits for
# that commit and is then refused; it never passes while the lock is dead
# and is then followed by the old grant being live again.  A reader that
# meets the row meanwhile (reclock_valid) waits for that commit too, and
# then answers with its outcome: it never says "dead" of a grant that the
# commit then shows live.
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
});
# Each write below arrives while alice's refresh of row 2 is committing
# after the lock ran out: a single-row UPDATE, an UPDATE of every row (the
# guard's fast path would pass rows it believes unlocked, had it trusted a
# set of live keys read while the refresh was in flight), and a TRUNCATE
# (whose check reads only live locks), and a change of the primary key.
my @writes = (
	[ q{UPDATE docs SET body = 'bob' WHERE id = 2}, qr/locked by "alice"/ ],
	[ q{UPDATE docs SET body = 'bob'}, qr/locked by "alice"/ ],
	[ q{TRUNCATE docs}, qr/cannot truncate table "docs" while it has live locks/ ],
	[ q{ALTER TABLE docs ALTER COLUMN id TYPE bigint},
	  qr/cannot change the primary key of table "docs" while it has live locks/ ],
);
for my $w (@writes)
{
	my ($write, $refusal) = @$w;
	set_clock(0);
	$node->safe_psql('postgres', qq{$admin
		DELETE FROM reclock_lock_store; DELETE FROM reclock_token_store;
		DROP TABLE IF EXISTS docs;
		CREATE TABLE docs (id int PRIMARY KEY, body text);
		INSERT INTO docs SELECT g, 'orig' FROM generate_series(1, 3) g;
		SELECT reclock_protect('docs');
		ALTER SYSTEM SET synchronous_standby_names = 'nobody'; SELECT pg_reload_conf();});
	$node->poll_query_until('postgres', "SHOW synchronous_standby_names", 'nobody')
	  or die 'synchronous_standby_names not reloaded';
	my $tok = $node->safe_psql('postgres',
		"$clock $admin SELECT token FROM reclock_acquire('docs', '2', 'alice', '1 min')");
	like($tok, qr/^[0-9a-f-]{36}$/, "$write: alice locks row 2 until 60 s");

	my $bob = $node->background_psql('postgres', on_error_stop => 0);
	$bob->query_safe("$clock $admin");

	# alice refreshes at 0 s; her COMMIT passes the pre-commit check and then
	# waits for the standby
	my $alice = $node->background_psql('postgres', on_error_stop => 0);
	$alice->query_safe($clock);
	$alice->query_safe('BEGIN');
	is($alice->query_safe("SELECT reclock_refresh('$tok', '1 hour') IS NOT NULL"),
		't', "$write: alice refreshes while the lock is live");
	$alice->query_until(qr/committing/, "\\echo committing\nCOMMIT;\n");
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
	  or die 'alice never reached the synchronous commit wait';

	# the lock runs out (120 s) while alice's commit is not yet visible
	set_clock(120);

	# bob's backend reads the table's live locks now (its fast path): the
	# lock row's committed version is dead, alice's new one not yet visible
	$bob->query_safe(q{UPDATE docs SET body = body WHERE id <> 2});
	$bob->query_safe(q{UPDATE docs SET body = body WHERE id <> 2});

	# bob writes without a token
	my $bobpid = $bob->query_safe('SELECT pg_backend_pid()');
	$bob->query_until(qr/writing/, "\\echo writing\n$write;\n");
	$node->poll_query_until('postgres', qq{
		SELECT state = 'idle' OR wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $bobpid})
	  or die 'bob neither finished nor waited';
	is($node->safe_psql('postgres', "$admin SELECT wait_event_type FROM pg_stat_activity WHERE pid = $bobpid"),
		'Lock', "$write: bob waits for alice's commit instead of passing the dead lock");

	# alice's commit becomes visible
	$node->safe_psql('postgres', "$admin ALTER SYSTEM SET synchronous_standby_names = ''; SELECT pg_reload_conf();");
	$alice->quit;
	$bob->quit;
	like($bob->{stderr}, $refusal, "$write: then bob is refused: the lock is alice's");
	is($node->safe_psql('postgres', "$clock SELECT body, reclock_valid('$tok') FROM docs WHERE id = 2"),
		'orig|t', "$write: the row is unchanged and the refreshed lock is live");
}

# the reader: alice's refresh commit is held after the lock ran out; carol
# asks reclock_valid about the token, waits for the commit, and is told the
# truth after it (live), never "dead" first
{
	set_clock(0);
	$node->safe_psql('postgres', qq{$admin
		DELETE FROM reclock_lock_store; DELETE FROM reclock_token_store;
		DROP TABLE IF EXISTS docs;
		CREATE TABLE docs (id int PRIMARY KEY, body text);
		INSERT INTO docs SELECT g, 'orig' FROM generate_series(1, 3) g;
		SELECT reclock_protect('docs');
		ALTER SYSTEM SET synchronous_standby_names = 'nobody'; SELECT pg_reload_conf();});
	$node->poll_query_until('postgres', "SHOW synchronous_standby_names", 'nobody')
	  or die 'synchronous_standby_names not reloaded';
	my $tok = $node->safe_psql('postgres',
		"$clock $admin SELECT token FROM reclock_acquire('docs', '2', 'alice', '1 min')");

	my $carol = $node->background_psql('postgres', on_error_stop => 0);
	$carol->query_safe("$clock $admin");
	my $alice = $node->background_psql('postgres', on_error_stop => 0);
	$alice->query_safe($clock);
	$alice->query_safe('BEGIN');
	is($alice->query_safe("SELECT reclock_refresh('$tok', '1 hour') IS NOT NULL"),
		't', 'reader: alice refreshes while the lock is live');
	$alice->query_until(qr/committing/, "\\echo committing\nCOMMIT;\n");
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
	  or die 'alice never reached the synchronous commit wait';
	set_clock(120);

	my $carolpid = $carol->query_safe('SELECT pg_backend_pid()');
	$carol->query_until(qr/reading/, "\\echo reading\nSELECT 'valid=' || reclock_valid('$tok');\n");
	$node->poll_query_until('postgres', qq{
		SELECT state = 'idle' OR wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $carolpid})
	  or die 'carol neither finished nor waited';
	is($node->safe_psql('postgres', "$admin SELECT wait_event_type FROM pg_stat_activity WHERE pid = $carolpid"),
		'Lock', "reader: carol's reclock_valid waits for alice's commit");

	$node->safe_psql('postgres', "$admin ALTER SYSTEM SET synchronous_standby_names = ''; SELECT pg_reload_conf();");
	$alice->quit;
	$carol->quit;
	like($carol->{stdout}, qr/valid=true/, 'reader: then carol is told the refreshed lock is live');
	unlike($carol->{stdout}, qr/valid=false/, 'reader: never that it was dead');
	is($node->safe_psql('postgres', "$clock SELECT reclock_valid('$tok')"), 't',
		'reader: the refreshed lock is live');
}

$node->stop;
done_testing();
