# Logical replication (README, "Replication"): the supported topology
# publishes the application's tables, and each cluster keeps its own locks.
# The subscriber's apply worker writes rows whatever the subscriber's locks
# (it runs as a replica: ordinary triggers, the guard among them, do not
# fire), its own reclock keeps working, and a publication that would carry
# reclock's store is refused, also one made before CREATE EXTENSION.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->start;
my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->start;

my $schema = q{
	CREATE EXTENSION reclock;
	CREATE TABLE orders (id int PRIMARY KEY, qty int);
	SELECT reclock_protect('orders');
};
$pub->safe_psql('postgres', $schema . q{INSERT INTO orders SELECT g, 0 FROM generate_series(1, 3) g;});
$sub->safe_psql('postgres', $schema);
$pub->safe_psql('postgres', 'CREATE PUBLICATION app FOR TABLE orders');
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION app CONNECTION '$connstr' PUBLICATION app");
$sub->wait_for_subscription_sync($pub, 'app');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM orders'), '3', 'initial sync');

# a lock on the subscriber does not stop the apply worker
my $stok = $sub->safe_psql('postgres', q{SELECT token FROM reclock_acquire('orders', '1', 'sub_alice', '1 hour')});
# a lock on the publisher, and its holder's write
my $ptok = $pub->safe_psql('postgres', q{SELECT token FROM reclock_acquire('orders', '1', 'pub_bob', '1 hour')});
$pub->safe_psql('postgres',
	"BEGIN; SELECT set_config('reclock.token', '$ptok', true); UPDATE orders SET qty = 10 WHERE id = 1; COMMIT;");
$pub->wait_for_catchup('app');
is($sub->safe_psql('postgres', 'SELECT qty FROM orders WHERE id = 1'), '10',
	'the publisher\'s write is applied on the subscriber, whose own lock on the row is another cluster\'s');
is($sub->safe_psql('postgres', q{SELECT holder FROM reclock_locks WHERE key = '1'}), 'sub_alice',
	'the subscriber keeps its own lock; no lock row was replicated');
is($pub->safe_psql('postgres', q{SELECT holder FROM reclock_locks WHERE key = '1'}), 'pub_bob',
	'the publisher keeps its own');
my ($rc, $out, $err) = $sub->psql('postgres', 'UPDATE orders SET qty = 0 WHERE id = 1');
like($err, qr/locked by "sub_alice"/, 'the subscriber\'s guard still refuses a local write without its token');
is($sub->safe_psql('postgres', "SELECT reclock_release('$stok')"), 't', 'the subscriber releases its lock');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL'), '1',
	'the apply worker is running');

# publications that would carry the store are refused
($rc, $out, $err) = $pub->psql('postgres', 'CREATE PUBLICATION everything FOR ALL TABLES');
like($err, qr/would publish reclock's lock store/, 'FOR ALL TABLES is refused');
($rc, $out, $err) = $pub->psql('postgres', 'ALTER PUBLICATION app ADD TABLES IN SCHEMA public');
like($err, qr/would publish reclock's lock store/, 'adding reclock\'s schema is refused');

# ... also a FOR ALL TABLES publication made before the extension
$pub->safe_psql('postgres', 'CREATE DATABASE other');
$pub->safe_psql('other', 'CREATE PUBLICATION everything FOR ALL TABLES');
($rc, $out, $err) = $pub->psql('other', 'CREATE EXTENSION reclock');
like($err, qr/publication "everything" would publish reclock's lock store/,
	'CREATE EXTENSION refuses to join a FOR ALL TABLES publication');

$sub->stop;
$pub->stop;
done_testing();
