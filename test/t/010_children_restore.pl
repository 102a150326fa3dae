# Documents after pg_dump/pg_restore into another cluster: a child table is
# still protected as a child (its guard trigger names its foreign key,
# 'parent_fk=<constraint>', and only that one), a live lock on a parent row
# restored with the dump still covers its child rows and their children
# (INSERT, UPDATE, DELETE, a move, TRUNCATE refused without the token,
# allowed with it), and the formset check works there (it compares, and
# holds off other writers of the children until the transaction ends).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = PostgreSQL::Test::Cluster->new('children_src');
$src->init;
$src->start;
$src->safe_psql('postgres', q{
	CREATE DATABASE app;
});
# order_lines has two foreign keys to orders: the child one is named
# line_order; gift_for must not make a line a child of the order it names
$src->safe_psql('app', q{
	CREATE EXTENSION reclock;
	CREATE SCHEMA shop;
	CREATE TABLE shop.orders (id int PRIMARY KEY, customer text);
	CREATE TABLE shop.order_lines (
		id int PRIMARY KEY,
		order_id int NOT NULL CONSTRAINT line_order REFERENCES shop.orders,
		gift_for int CONSTRAINT line_gift REFERENCES shop.orders,
		product text, qty int);
	CREATE TABLE shop.line_notes (id int PRIMARY KEY,
		line_id int REFERENCES shop.order_lines, body text);
	INSERT INTO shop.orders VALUES (1, 'acme'), (2, 'globex'), (3, 'initech');
	INSERT INTO shop.order_lines VALUES (10, 1, NULL, 'nut', 5), (11, 1, NULL, 'gear', 1),
		(20, 2, NULL, 'bolt', 2);
	INSERT INTO shop.line_notes VALUES (100, 10, 'fragile');
	SELECT reclock_protect('shop.orders');
	SELECT reclock_protect('shop.order_lines', parent => 'shop.orders', parent_fk => 'line_order');
	SELECT reclock_protect('shop.line_notes', parent => 'shop.order_lines');
});
my $token = $src->safe_psql('app',
	q{SELECT token FROM reclock_acquire('shop.orders', '1', 'alice', '1 day')});
like($token, qr/^[0-9a-f-]{36}$/, 'alice locks order 1 in cluster 1');
# a lock that ended before the dump is not restored
$src->safe_psql('app',
	q{SELECT reclock_release(token) FROM reclock_acquire('shop.orders', '2', 'bob', '1 day')});

# the statement psql sends, with errors in full (SQLSTATE, constraint name)
sub try_sql
{
	my ($node, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('app', "\\set VERBOSITY verbose\n$sql");
	return ($ret, $err);
}

# the test means something: in cluster 1 the line is refused
my ($ret, $err) = try_sql($src, q{INSERT INTO shop.order_lines VALUES (12, 1, NULL, 'washer', 9)});
like($err, qr/55P03/, 'in cluster 1, a line of the locked order is refused without the token');

my $dump = $PostgreSQL::Test::Utils::tmp_check . '/children.dump';
$src->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $src->connstr('app') ],
	'pg_dump of the database');

my $dst = PostgreSQL::Test::Cluster->new('children_dst');
$dst->init;
$dst->start;
$dst->safe_psql('postgres', 'CREATE DATABASE app');
$dst->command_ok([ 'pg_restore', '--exit-on-error', '-d', $dst->connstr('app'), $dump ],
	'pg_restore into cluster 2');
$src->stop;

# the child tables are still children, through the same foreign keys
like($dst->safe_psql('app', q{
	SELECT pg_get_triggerdef(oid) FROM pg_trigger
	 WHERE tgrelid = 'shop.order_lines'::regclass AND tgname = 'reclock_guard'}),
	qr/^CREATE TRIGGER reclock_guard BEFORE INSERT OR DELETE OR UPDATE ON shop\.order_lines FOR EACH ROW EXECUTE FUNCTION \S*reclock_guard_child\('parent_fk=line_order'\)$/,
	"order_lines' restored guard fires on INSERT, UPDATE, DELETE and names its foreign key line_order");
like($dst->safe_psql('app', q{
	SELECT pg_get_triggerdef(oid) FROM pg_trigger
	 WHERE tgrelid = 'shop.line_notes'::regclass AND tgname = 'reclock_guard'}),
	qr/\('parent_fk=line_notes_line_id_fkey'\)$/,
	"line_notes' restored guard names its foreign key to order_lines");
is($dst->safe_psql('app', q{
	SELECT holder FROM reclock_locks WHERE relation = 'shop.orders'::regclass ORDER BY key}),
	'alice', "alice's lock on order 1 is restored (bob's ended one is not)");

# without the token: refused under order 1, for the line and its note
($ret, $err) = try_sql($dst, q{INSERT INTO shop.order_lines VALUES (12, 1, NULL, 'washer', 9)});
isnt($ret, 0, 'cluster 2: INSERT of a line of the locked order without the token fails');
like($err, qr/ERROR:  55P03: cannot insert row 12 into table "order_lines": its parent row 1 of table "orders" is locked by "alice"/,
	'... refused by the restored lock (55P03), naming the parent row and its holder');
like($err, qr/CONSTRAINT NAME:  reclock_guard/, '... with the constraint name reclock_guard');
($ret, $err) = try_sql($dst, q{UPDATE shop.order_lines SET qty = 6 WHERE id = 10});
like($err, qr/55P03: row 10 of table "order_lines" belongs to row 1 of table "orders", locked by "alice"/,
	'cluster 2: UPDATE of a line of the locked order refused');
($ret, $err) = try_sql($dst, q{DELETE FROM shop.order_lines WHERE id = 11});
like($err, qr/55P03/, 'cluster 2: DELETE of a line of the locked order refused');
($ret, $err) = try_sql($dst, q{UPDATE shop.order_lines SET order_id = 1 WHERE id = 20});
like($err, qr/55P03/, 'cluster 2: moving a line into the locked order refused');
($ret, $err) = try_sql($dst, q{INSERT INTO shop.line_notes VALUES (101, 10, 'rush')});
like($err, qr/55P03/, 'cluster 2: a note of a line of the locked order refused (the chain)');
($ret, $err) = try_sql($dst, q{TRUNCATE shop.order_lines CASCADE});
like($err, qr/55P03: cannot truncate table "(?:order_lines|line_notes)" while its parent table "orders" has live locks/,
	'cluster 2: TRUNCATE of the child table refused');

# only order 1's children, through line_order only
is($dst->safe_psql('app', q{
	INSERT INTO shop.order_lines VALUES (30, 3, NULL, 'pin', 1), (31, 3, 1, 'gift', 1) RETURNING id}),
	"30\n31", 'cluster 2: lines of an unlocked order are written freely, also one whose other foreign key names order 1');
is($dst->safe_psql('app', q{SELECT count(*) FROM shop.order_lines WHERE order_id = 1}),
	'2', 'cluster 2: order 1 still has its two lines');

# with the token: allowed
is($dst->safe_psql('app', qq{
	BEGIN;
	SELECT set_config('reclock.token', '$token', true) IS NOT NULL;
	INSERT INTO shop.order_lines VALUES (12, 1, NULL, 'washer', 9);
	UPDATE shop.order_lines SET qty = 6 WHERE id = 10;
	INSERT INTO shop.line_notes VALUES (101, 10, 'rush');
	COMMIT;
	SELECT string_agg(id || ':' || qty, ',' ORDER BY id) FROM shop.order_lines WHERE order_id = 1}),
	"t\n10:6,11:1,12:9", 'cluster 2: alice writes the lines of order 1 with her restored token');

# the formset check
my $shown = '[{"id": 10, "qty": 6}, {"id": 11, "qty": 1}, {"id": 12, "qty": 9}]';
is($dst->safe_psql('app', qq{SELECT reclock_cas_children('shop.order_lines', '1', '$shown')}),
	't', 'cluster 2: reclock_cas_children is true for the lines as shown');
is($dst->safe_psql('app', q{SELECT reclock_cas_children('shop.order_lines', '1',
	'[{"id": 10, "qty": 6}, {"id": 11, "qty": 1}]')}),
	'f', '... false when a line is missing from what was shown');
is($dst->safe_psql('app', q{SELECT reclock_cas_children('shop.order_lines', '1',
	'[{"id": 10, "qty": 5}, {"id": 11, "qty": 1}, {"id": 12, "qty": 9}]')}),
	'f', '... false when a value differs');
is($dst->safe_psql('app', q{SELECT reclock_cas_children('shop.order_lines', '4', '[]') IS NULL}),
	't', '... NULL for a parent row that is not there');

# until its transaction ends, nobody else changes the children (alice either)
my $form = $dst->background_psql('app');
$form->query_safe("BEGIN");
is($form->query_safe(qq{SELECT reclock_cas_children('shop.order_lines', '1', '$shown')}),
	't', 'cluster 2: a save transaction checks the formset');
($ret, $err) = try_sql($dst, qq{
	SET lock_timeout = '200ms';
	BEGIN;
	SELECT set_config('reclock.token', '$token', true) IS NOT NULL;
	INSERT INTO shop.order_lines VALUES (13, 1, NULL, 'spring', 4);
	COMMIT;});
like($err, qr/55P03: canceling statement due to lock timeout/,
	'... meanwhile an INSERT of a line of the order waits for that transaction, even with the token');
$form->query_safe("COMMIT");
$form->quit;
is($dst->safe_psql('app', qq{
	BEGIN;
	SELECT set_config('reclock.token', '$token', true) IS NOT NULL;
	INSERT INTO shop.order_lines VALUES (13, 1, NULL, 'spring', 4);
	COMMIT;
	SELECT reclock_cas_children('shop.order_lines', '1', '$shown')}),
	"t\nf", '... and goes through after it; then the formset check is false');
is($dst->safe_psql('app', qq{SELECT reclock_diff_children('shop.order_lines', '1', '$shown')}),
	'{"inserted": ["13"]}', 'cluster 2: reclock_diff_children names the inserted line');

# the refusals were the lock's: once released, anyone writes the lines
is($dst->safe_psql('app', qq{SELECT reclock_release('$token')}), 't', 'alice releases order 1');
is($dst->safe_psql('app', q{
	INSERT INTO shop.order_lines VALUES (14, 1, NULL, 'clip', 1);
	DELETE FROM shop.order_lines WHERE id = 11 RETURNING id}),
	'11', 'cluster 2: without a lock, lines of order 1 are written without a token');

$dst->stop;
done_testing();
