# Holder identity survives a dump and restore into a cluster whose roles
# have other OIDs: "same holder" is the same holder name and the same role,
# and the role is kept by name (regrole), not by a number that changes
# between clusters.  Cluster 1 creates amy, then zed; cluster 2 creates zed,
# then amy, so amy's OID in cluster 1 is zed's in cluster 2.  Also: a lock
# whose role was dropped is not dumped (its OID would name whichever role
# has that number in the new cluster).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = PostgreSQL::Test::Cluster->new('roles_src');
$src->init;
$src->start;
$src->safe_psql('postgres', q{
	CREATE ROLE amy LOGIN;
	CREATE ROLE zed LOGIN;
	CREATE ROLE gone LOGIN;
	CREATE EXTENSION reclock;
	CREATE TABLE docs (id int PRIMARY KEY, body text);
	INSERT INTO docs SELECT g, 'doc ' || g FROM generate_series(1, 3) g;
	GRANT SELECT, UPDATE ON docs TO amy, zed, gone;
	SELECT reclock_protect('docs');
});
my $amy_oid = $src->safe_psql('postgres', "SELECT oid FROM pg_roles WHERE rolname = 'amy'");

my $amy_token = $src->safe_psql('postgres', q{
	SET ROLE amy;
	SELECT token FROM reclock_acquire('docs', '1', 'amy', '1 day');});
like($amy_token, qr/^[0-9a-f-]{36}$/, 'amy locks row 1 in cluster 1');
is($src->safe_psql('postgres', q{
	SET ROLE zed;
	SELECT acquired FROM reclock_acquire('docs', '1', 'amy', '1 day');}),
	'f', 'in cluster 1, zed naming holder amy is another holder');

# a lock taken by a role that is then dropped
$src->safe_psql('postgres', q{
	SET ROLE gone;
	SELECT token FROM reclock_acquire('docs', '2', 'gone', '1 day');});
$src->safe_psql('postgres', 'DROP OWNED BY gone; DROP ROLE gone');
is($src->safe_psql('postgres',
	"SELECT count(*) FROM reclock_locks WHERE key = '2'"),
	'1', 'the lock of a dropped role stays until it runs out');

my $dump = $PostgreSQL::Test::Utils::tmp_check . '/roles.dump';
$src->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $src->connstr('postgres') ],
	'pg_dump of the database');

my $dst = PostgreSQL::Test::Cluster->new('roles_dst');
$dst->init;
$dst->start;
$dst->safe_psql('postgres', q{
	CREATE ROLE zed LOGIN;
	CREATE ROLE amy LOGIN;
	CREATE DATABASE restored;
});
is($dst->safe_psql('postgres', "SELECT oid FROM pg_roles WHERE rolname = 'zed'"),
	$amy_oid, "zed has amy's old OID in cluster 2 (the test means something)");

$dst->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $dst->connstr('restored'), $dump ],
	'pg_restore into cluster 2');

is($dst->safe_psql('restored',
	"SELECT holder, acquired_by FROM reclock_locks WHERE key = '1'"),
	'amy|amy', "the restored lock was acquired by amy, not by the role with amy's old OID");
is($dst->safe_psql('restored',
	"SELECT count(*) FROM reclock_locks WHERE key = '2'"),
	'0', 'the lock of the dropped role was not dumped');

is($dst->safe_psql('restored', q{
	SET ROLE zed;
	SELECT acquired::text || ' ' || coalesce(token::text, 'no token') || ' ' || holder
	  FROM reclock_acquire('docs', '1', 'amy', '1 day');}),
	'false no token amy', "zed naming holder amy is refused in cluster 2");

my $again = $dst->safe_psql('restored', q{
	SET ROLE amy;
	SELECT acquired::text || ' ' || (token IS NOT NULL)::text FROM reclock_acquire('docs', '1', 'amy', '1 day');});
is($again, 'true true', 'amy re-enters her own lock in cluster 2');

is($dst->safe_psql('restored', "SELECT reclock_valid('$amy_token')"),
	't', "amy's token from cluster 1 is still valid");
my ($ret, $out, $err) = $dst->psql('restored',
	"SET ROLE zed; UPDATE docs SET body = 'zed' WHERE id = 1");
isnt($ret, 0, 'zed cannot write the locked row');
like($err, qr/locked by "amy"/, 'the refusal names amy');

$src->stop;
$dst->stop;
done_testing();
