# A backend killed in the middle of reclock's own writes: at named pause
# points (reclock.test_pause, test builds only) where a grant, a token, a
# store write, a release, a refresh, a break or a key move is half made.
# The backend waits at the point (it logs 'reclock: paused at "<point>"' and
# shows wait_event_type 'Extension') until it is killed, so each kill lands
# exactly there, never before or after the write.
#
# Each point is killed two ways:
#   terminate  pg_terminate_backend(): the backend aborts its transaction
#   crash      SIGKILL of the backend: the postmaster kills every backend and
#              the cluster recovers from the WAL
#
# After each kill (the invariants; check_after() and the scenario's own next
# step):
#   - the lock store and the token store are exactly as they were before the
#     killed statement, row for row, and so is the data table: no half-made
#     grant, no token without its grant, no moved lock without its moved row,
#     no release, refresh or break that half happened.  This fails if any of
#     reclock's store writes were made in a transaction of their own
#     (a background worker, a subtransaction committed early) or were not
#     undone with the caller's transaction.
#   - every earlier committed grant survived the crash with its token valid:
#     fails if the store's writes were not WAL-logged (an unlogged store, a
#     heap_insert with HEAP_INSERT_SKIP_WAL, index entries without WAL).
#   - no live lock without a token; no advisory lock left.
#   - amcheck: bt_index_check(index, heapallindexed => true) on every index
#     of the store and of the data table, and verify_heapam() on the store:
#     the direct heap+index writes left heap and indexes in step (fails if a
#     non-HOT update skipped an index, or an index entry points nowhere).
#   - the next operation works: a new grant of the row (with a fence above
#     every earlier one) and a guarded write with its token; or, where the
#     killed statement worked on a live lock, that lock still holds: its
#     token is valid, others are refused, and the holder can then do what
#     the killed statement did.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $t0 = time;
my $node = PostgreSQL::Test::Cluster->new('pause');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION reclock;
	CREATE EXTENSION amcheck;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g;
	SELECT reclock_protect('orders');
});

# a production build has no pause points (and no test clock): skip there,
# unless the test build was asked for (make test runs make tap with
# RECLOCK_TESTING=1): then a production build is a failure, not a skip;
# a test build without reclock.test_pause fails below
my ($rc, $out, $err) = $node->psql('postgres',
	"LOAD 'reclock'; SHOW reclock.test_clock_offset");
if ($rc != 0)
{
	$node->stop;
	BAIL_OUT('RECLOCK_TESTING is set but the installed reclock is not a test build')
	  if $ENV{RECLOCK_TESTING};
	plan skip_all => 'not a test build (RECLOCK_TESTING)';
}
is($node->safe_psql('postgres', "LOAD 'reclock'; SHOW reclock.test_pause"), '',
	'reclock.test_pause exists, empty by default');

sub sql { return $node->safe_psql('postgres', $_[0]); }

# the lock store, the token store and the data table, row for row
sub state
{
	return sql(q{
		SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s', relid::oid, key, holder,
			acquired_by, fence, acquired_at, expires_at), E'\n' ORDER BY fence), '')
		  FROM reclock_lock_store;
		SELECT coalesce(string_agg(encode(hash, 'hex') || '|' || fence, E'\n' ORDER BY hash), '')
		  FROM reclock_token_store;
		SELECT string_agg(id || ':' || qty, ',' ORDER BY id) FROM orders;
	});
}

sub max_fence
{
	return sql('SELECT coalesce(max(fence), 0) FROM reclock_lock_store');
}

# the invariants that hold after any kill (see the top of the file)
sub check_after
{
	my ($name, $before, $fences) = @_;
	is(state(), $before, "$name: the stores and the table are as before the killed statement");
	# (an amcheck error is a failed test, not the end of the script)
	my ($rc, $out, $err) = $node->psql('postgres', q{
		SELECT count(bt_index_check(i.indexrelid, true))
		  FROM pg_index i
		 WHERE i.indrelid IN ('reclock_lock_store'::regclass,
			'reclock_token_store'::regclass, 'orders'::regclass)});
	# 6: the lock store's primary key, fence and expiry indexes, the token
	# store's primary key and fence indexes, the table's primary key
	is($out . $err, '6', "$name: amcheck: the store's and the table's indexes match their heaps");
	($rc, $out, $err) = $node->psql('postgres', q{
		SELECT (SELECT count(*) FROM verify_heapam('reclock_lock_store'))
			 + (SELECT count(*) FROM verify_heapam('reclock_token_store'))});
	is($out . $err, '0', "$name: amcheck: the store's heaps are sound");
	is(sql(q{
		SELECT count(*) FROM reclock_lock_store l
		 WHERE l.expires_at > reclock_clock()
		   AND NOT EXISTS (SELECT FROM reclock_token_store t WHERE t.fence = l.fence)}),
		'0', "$name: no live lock without a token");
	is(sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), '0',
		"$name: no advisory lock left");
	# committed grants of other rows made before the kill: still valid
	for my $t (@$fences)
	{
		is(sql("SELECT reclock_valid('$t')"), 't',
			"$name: an earlier committed grant is still valid");
	}
	return;
}

# Start $stmt in a new session (after $prep, in the same session) with
# reclock.test_pause = $point; return once the backend waits at the point.
sub start_paused
{
	my ($point, $prep, $stmt) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_safe("LOAD 'reclock'");
	$s->query_safe($prep) if $prep;
	$s->query_safe("SET reclock.test_pause = '$point'");
	my $offset = -s $node->logfile;
	$s->query_until(qr/go/, "\\echo go\n$stmt;\n");
	$node->wait_for_log(qr/\[$pid\] .*reclock: paused at "\Q$point\E"/, $offset);
	$node->poll_query_until('postgres',
		"SELECT wait_event_type FROM pg_stat_activity WHERE pid = $pid", 'Extension')
	  or die "backend $pid is not waiting at $point";
	return ($s, $pid);
}

sub kill_paused
{
	my ($how, $s, $pid) = @_;
	if ($how eq 'terminate')
	{
		sql("SELECT pg_terminate_backend($pid, 30000)");
		$node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
		  or die "backend $pid did not end";
	}
	else
	{
		my $offset = -s $node->logfile;
		kill 'KILL', $pid;
		$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
		$node->poll_query_until('postgres', 'SELECT 1', '1')
		  or die 'the cluster did not come back';
	}
	eval { $s->quit };
	return;
}

my $tokrx = qr/^[0-9a-f-]{36}$/;
my $next_id = 1;

# a committed grant on a row no scenario touches: it must survive every kill
my $bystander = sql("SELECT token FROM reclock_acquire('orders', '100', 'bystander', '1 day')");

# acquire of a free row (new = never locked: the lock row is inserted;
# again = locked and released before: the lock row is updated)
sub scenario_acquire
{
	my ($point, $how, $again) = @_;
	my $k = $next_id++;
	my $name = "$point, acquire ($again), $how";
	my $old;
	if ($again eq 'again')
	{
		# a lock that ran out leaves its row, which the next grant rewrites
		# (a released one is deleted): every session's clock is moved on
		$old = sql("SELECT token FROM reclock_acquire('orders', '$k', 'alice', '1 s')");
		sql("LOAD 'reclock'; ALTER SYSTEM SET reclock.test_clock_offset = 60");
		sql('SELECT pg_reload_conf()');
	}
	my $before = state();
	my $maxfence = max_fence();
	my ($s, $pid) = start_paused($point, undef,
		"SELECT reclock_acquire('orders', '$k', 'victim', '1 hour')");
	kill_paused($how, $s, $pid);
	check_after($name, $before, [$bystander]);

	# the next grant: another holder gets the row, with a larger fence
	my ($acq, $tok, $fence) = split /\|/, sql(
		"SELECT acquired, token, fence FROM reclock_acquire('orders', '$k', 'next', '1 hour')");
	is($acq, 't', "$name: the next acquire (another holder) gets the row");
	cmp_ok($fence, '>', $maxfence, "$name: with a fence above every earlier one");
	is(sql(qq{
		BEGIN;
		SELECT set_config('reclock.token', '$tok', true) IS NOT NULL;
		UPDATE orders SET qty = qty + 1000 WHERE id = $k RETURNING qty;
		COMMIT;}), "t\n" . ($k + 1000), "$name: its token writes the row");
	is(sql("SELECT reclock_valid('$old')"), 'f', "$name: the grant that ran out stays dead")
	  if $old;
	if ($again eq 'again')
	{
		sql("LOAD 'reclock'; ALTER SYSTEM RESET reclock.test_clock_offset");
		sql('SELECT pg_reload_conf()');
	}
	return;
}

# refresh, release, break of alice's live lock
sub scenario_live
{
	my ($point, $how, $op) = @_;
	my $k = $next_id++;
	my $name = "$point, $op, $how";
	my $tok = sql("SELECT token FROM reclock_acquire('orders', '$k', 'alice', '1 hour')");
	like($tok, $tokrx, "$name: alice holds the row");
	my $before = state();
	my %stmt = (
		refresh => "SELECT reclock_refresh('$tok', '2 hours')",
		release => "SELECT reclock_release('$tok')",
		break => "SELECT reclock_break('orders', '$k')");
	my ($s, $pid) = start_paused($point, undef, $stmt{$op});
	kill_paused($how, $s, $pid);
	check_after($name, $before, [$bystander, $tok]);

	is(sql("SELECT acquired::text || ',' || holder FROM reclock_acquire('orders', '$k', 'bob')"),
		'false,alice', "$name: another holder is still refused");
	my ($ret, $o, $e) = $node->psql('postgres', "UPDATE orders SET qty = 0 WHERE id = $k");
	like($e, qr/locked by "alice"/, "$name: a write without the token is still refused");
	if ($op eq 'refresh')
	{
		is(sql("SELECT reclock_refresh('$tok', '2 hours') IS NOT NULL"), 't',
			"$name: the holder refreshes");
		is(sql("SELECT expires_at > reclock_clock() + '90 minutes' FROM reclock_locks WHERE key = '$k'"),
			't', "$name: to the new expiry");
	}
	elsif ($op eq 'release')
	{
		is(sql("SELECT reclock_release('$tok')"), 't', "$name: the holder releases");
	}
	else
	{
		is(sql("SELECT reclock_break('orders', '$k')"), 't', "$name: the owner breaks it");
	}
	return;
}

# a holder changes the row's key: the guard carries the lock to the new key
sub scenario_move
{
	my ($point, $how) = @_;
	my $k = $next_id++;
	my $nk = $k + 1000;
	my $name = "$point, key move, $how";
	my $tok = sql("SELECT token FROM reclock_acquire('orders', '$k', 'alice', '1 hour')");
	my $before = state();
	my ($s, $pid) = start_paused($point,
		"BEGIN; SELECT set_config('reclock.token', '$tok', true)",
		"UPDATE orders SET id = $nk WHERE id = $k");
	kill_paused($how, $s, $pid);
	check_after($name, $before, [$bystander, $tok]);

	is(sql("SELECT key || ',' || holder FROM reclock_locks WHERE key IN ('$k', '$nk')"),
		"$k,alice", "$name: the lock is still at the old key");
	my ($ret, $o, $e) = $node->psql('postgres', "UPDATE orders SET qty = 0 WHERE id = $k");
	like($e, qr/locked by "alice"/, "$name: the row at the old key is still guarded");
	is(sql(qq{
		BEGIN;
		SELECT set_config('reclock.token', '$tok', true) IS NOT NULL;
		UPDATE orders SET id = $nk WHERE id = $k RETURNING id;
		COMMIT;
		SELECT key || ',' || holder FROM reclock_locks WHERE key IN ('$k', '$nk');}),
		"t\n$nk\n$nk,alice", "$name: the holder then moves the key, and the lock goes along");
	return;
}

for my $how ('terminate', 'crash')
{
	# a grant: the lock row is written, the token is not yet (its hash is
	# stored next): a live lock nobody holds a token for if it survived
	scenario_acquire('acquire:after_lock_row', $how, 'new');
	scenario_acquire('acquire:after_lock_row', $how, 'again');
	# the grant and its token are written, the function has not returned
	scenario_acquire('acquire:after_token', $how, 'new');
	# between the heap write and the index writes of the lock row (a new
	# row, and a reused one), and of the token row
	scenario_acquire('store:insert_before_index:reclock_lock_store', $how, 'new');
	scenario_acquire('store:update_before_index:reclock_lock_store', $how, 'again');
	scenario_acquire('store:insert_before_index:reclock_token_store', $how, 'new');
	# refresh, release and break: the new expiry is written
	scenario_live('refresh:after_write', $how, 'refresh');
	scenario_live('store:update_before_index:reclock_lock_store', $how, 'refresh');
	scenario_live('release:after_write', $how, 'release');
	scenario_live('break:after_write', $how, 'break');
	# a key change by the holder: the lock row is moved to the new key, the
	# data row is not written yet (the guard is a BEFORE trigger)
	scenario_move('guard:after_key_move', $how);
	scenario_move('store:update_before_index:reclock_lock_store', $how);
}

# while an acquire is paused after its lock row, a rival acquire of the same
# row waits (for the paused one's FOR UPDATE of the row, which comes before
# reclock's advisory lock), and wins once the paused one is killed:
# the killed grant never existed for anyone
{
	my $k = $next_id++;
	my ($s, $pid) = start_paused('acquire:after_lock_row', undef,
		"SELECT reclock_acquire('orders', '$k', 'victim', '1 hour')");
	my $rival = $node->background_psql('postgres');
	my $rival_pid = $rival->query_safe('SELECT pg_backend_pid()');
	$rival->query_until(qr/go/, "\\echo go\n"
		  . "SELECT acquired::text || ',' || holder FROM reclock_acquire('orders', '$k', 'rival');\n");
	ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM pg_locks
		 WHERE pid = $rival_pid AND NOT granted}),
		'a rival acquire waits for the paused one');
	kill_paused('terminate', $s, $pid);
	is($rival->query_safe(''), 'true,rival',
		'the rival gets the row once the paused acquire is killed');
	$rival->quit;
}

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal (?!9:)/, 'no backend crashed (only the SIGKILLs of the test)');
$node->stop;
note(sprintf('008_pause_kill took %.1f s', time - $t0));
done_testing();
