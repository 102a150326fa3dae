/*-------------------------------------------------------------------------
 *
 * citusstore.c
 *	  The lock stores of protected Citus distributed tables (issue 24,
 *	  docs/citus.md, design (3): locks beside their rows).
 *
 * reclock_protect of a hash-distributed table T (one placement per shard)
 * makes two distributed tables co-located with T, in reclock's schema:
 *
 *   reclock_store_<oid>_locks (dist, key, holder, acquired_by, fence,
 *                              acquired_at, expires_at), PRIMARY KEY (dist, key)
 *   reclock_store_<oid>_tokens (dist, hash, fence), PRIMARY KEY (dist, hash)
 *
 * (<oid>: T's OID on the coordinator when it was protected; only a name).
 * dist is of T's distribution column's type and holds the row's
 * distribution value, so a row's lock lives in the store shard on the node
 * of the row's shard, and moves with it.  reclock_citus_tables, a Citus
 * reference table (made one by the first such protect), names T's stores
 * on every node by that node's OIDs.  All of it is made in the protecting
 * transaction (Citus propagates the DDL), as the extension owner, and
 * dropped by reclock_unprotect.
 *
 * Refused (0A000) for now: append, range and single-shard tables (no hash
 * distribution column), more than one placement per shard (a row lock
 * lands on one placement only), partitioned tables, documents (child tables
 * of or under a distributed table), notices.
 *
 * IDENTIFICATION
 *	  src/citusstore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "reclock.h"

#define REGISTRY	"reclock_citus_tables"

static void
run_sql(const char *sql, int expected)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != expected)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
}

/* the first column of the first row of sql's result, or NULL */
static char *
sql_value(const char *sql)
{
	run_sql(sql, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static char *
qualified(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* reclock_citus_tables, schema-qualified and quoted */
static char *
registry_name(void)
{
	return quote_qualified_identifier(get_namespace_name(ReclockExtensionSchema()), REGISTRY);
}

static void
refuse(Relation rel, const char *why, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot protect Citus distributed table \"%s\": %s",
					RelationGetRelationName(rel), why),
			 errdetail("reclock guards hash-distributed tables with one placement per shard, each protected on its own."),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * The column name of T's hash distribution, after refusing what reclock
 * cannot guard (see the header).  Runs in the caller's SPI connection.
 */
static char *
distribution_column(Relation rel)
{
	char	   *method;
	char	   *repmodel;
	char	   *column;

	run_sql(psprintf("SELECT partmethod::text, repmodel::text,"
					 " pg_catalog.column_to_column_name(logicalrelid, partkey)"
					 " FROM pg_catalog.pg_dist_partition WHERE logicalrelid = %u",
					 RelationGetRelid(rel)), SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "table \"%s\" is not in pg_dist_partition", RelationGetRelationName(rel));
	method = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	repmodel = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	if (strcmp(method, "h") != 0)
		refuse(rel,
			   strcmp(method, "n") == 0 ? "it is a single-shard table (no distribution column)" :
			   strcmp(method, "a") == 0 ? "it is append-distributed" : "it is range-distributed",
			   "Distribute the table by hash: create_distributed_table(table, column).");
	if (strcmp(repmodel, "s") != 0)
		refuse(rel, "its shards have more than one placement",
			   "A row lock is taken on one placement only: distribute the table with citus.shard_replication_factor = 1.");
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		refuse(rel, "it is partitioned", NULL);
	return column;
}

/* run fn as the extension owner, in an SPI connection of its own */
static void
as_store_owner(void (*fn) (Relation rel, void *arg), Relation rel, void *arg)
{
	Oid			save_userid;
	int			save_sec;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(ReclockStoreOwner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	fn(rel, arg);
	SetUserIdAndSecContext(save_userid, save_sec);
	SPI_finish();
}

/* is T registered?  (the registry's row, in this SPI connection) */
static bool
registered(Oid relid)
{
	return sql_value(psprintf("SELECT 1 FROM %s WHERE tbl = %u", registry_name(), relid)) != NULL;
}

static void
make_stores(Relation rel, void *arg)
{
	const char *column = (const char *) arg;
	Oid			relid = RelationGetRelid(rel);
	const char *schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	const char *registry = registry_name();
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			typid;
	int32		typmod;
	Oid			collid;
	char	   *type;
	char	   *locks;
	char	   *tokens;

	if (registered(relid))
		return;
	get_atttypetypmodcoll(relid, attnum, &typid, &typmod, &collid);
	type = format_type_with_typemod(typid, typmod);
	if (OidIsValid(collid))
		type = psprintf("%s COLLATE %s", type, generate_collation_name(collid));
	locks = psprintf("%s.%s", schema, quote_identifier(psprintf("reclock_store_%u_locks", relid)));
	tokens = psprintf("%s.%s", schema, quote_identifier(psprintf("reclock_store_%u_tokens", relid)));

	/* the registry becomes a reference table with the first store */
	if (sql_value(psprintf("SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = '%s'::pg_catalog.regclass",
						   registry)) == NULL)
		run_sql(psprintf("SELECT pg_catalog.create_reference_table('%s')", registry), SPI_OK_SELECT);

	run_sql(psprintf("CREATE TABLE %s ("
					 "dist %s NOT NULL,"
					 " key pg_catalog.text COLLATE \"C\" NOT NULL,"
					 " holder pg_catalog.text NOT NULL,"
					 " acquired_by pg_catalog.regrole NOT NULL,"
					 " fence pg_catalog.int8 NOT NULL,"
					 " acquired_at pg_catalog.timestamptz NOT NULL,"
					 " expires_at pg_catalog.timestamptz NOT NULL,"
					 " PRIMARY KEY (dist, key)) USING heap", locks, type), SPI_OK_UTILITY);
	run_sql(psprintf("CREATE TABLE %s ("
					 "dist %s NOT NULL,"
					 " hash pg_catalog.bytea NOT NULL,"
					 " fence pg_catalog.int8 NOT NULL,"
					 " PRIMARY KEY (dist, hash)) USING heap", tokens, type), SPI_OK_UTILITY);
	run_sql(psprintf("REVOKE ALL ON %s, %s FROM PUBLIC", locks, tokens), SPI_OK_UTILITY);
	run_sql(psprintf("SELECT pg_catalog.create_distributed_table('%s', 'dist', colocate_with => %s)",
					 locks, quote_literal_cstr(qualified(relid))), SPI_OK_SELECT);
	run_sql(psprintf("SELECT pg_catalog.create_distributed_table('%s', 'dist', colocate_with => %s)",
					 tokens, quote_literal_cstr(qualified(relid))), SPI_OK_SELECT);
	run_sql(psprintf("INSERT INTO %s (tbl, locks, tokens) VALUES (%s, '%s', '%s')",
					 registry, quote_literal_cstr(qualified(relid)), locks, tokens),
			SPI_OK_INSERT);
}

static void
drop_stores(Relation rel, void *arg)
{
	Oid			relid = RelationGetRelid(rel);
	const char *registry = registry_name();

	if (sql_value(psprintf("SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = '%s'::pg_catalog.regclass",
						   registry)) == NULL ||
		!registered(relid))
		return;
	run_sql(psprintf("SELECT locks::text, tokens::text FROM %s WHERE tbl = %u", registry, relid),
			SPI_OK_SELECT);
	{
		char	   *locks = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *tokens = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		run_sql(psprintf("DELETE FROM %s WHERE tbl = %u", registry, relid), SPI_OK_DELETE);
		run_sql(psprintf("DROP TABLE %s, %s", locks, tokens), SPI_OK_UTILITY);
	}
}

/*
 * reclock_protect of rel (parent: the parent table given, or NULL): for a
 * Citus distributed table, refuse what cannot be guarded, and make its
 * stores unless they exist.  Nothing for tables Citus does not manage.
 */
void
ReclockCitusProtect(Relation rel, ReclockKeyInfo *ki, Relation parent)
{
	char	   *column;

	if (parent != NULL &&
		(ki->citus != RECLOCK_CITUS_NONE ||
		 ReclockGetKeyInfo(parent)->citus != RECLOCK_CITUS_NONE))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot protect \"%s\" as a child table of \"%s\": documents over Citus tables are not guarded yet",
						RelationGetRelationName(rel), RelationGetRelationName(parent)),
				 errdetail("reclock guards the rows of a distributed table on their own, not as a document.")));
	if (ki->citus != RECLOCK_CITUS_DISTRIBUTED)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	column = distribution_column(rel);
	column = MemoryContextStrdup(CurTransactionContext, column);
	SPI_finish();
	as_store_owner(make_stores, rel, column);
}

/* reclock_unprotect of rel: drop a distributed table's stores */
void
ReclockCitusUnprotect(Relation rel, ReclockCitusKind kind)
{
	if (kind == RECLOCK_CITUS_DISTRIBUTED)
		as_store_owner(drop_stores, rel, NULL);
}

/*
 * Around reclock's own DDL of the triggers of a Citus table: Citus refuses
 * triggers on its tables unless citus.enable_unsafe_triggers is on; on for
 * reclock's statements only (returns the GUC nest level to close with
 * ReclockCitusTriggersEnd), never for the user's.
 */
int
ReclockCitusTriggersBegin(ReclockCitusKind kind)
{
	int			level = NewGUCNestLevel();

	if (kind != RECLOCK_CITUS_NONE)
		(void) set_config_option("citus.enable_unsafe_triggers", "on",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
	return level;
}

void
ReclockCitusTriggersEnd(int level)
{
	AtEOXact_GUC(true, level);
}

/* reclock_notify of a distributed table: 0A000 */
void
ReclockCitusRefuseNotify(Relation rel, ReclockCitusKind kind)
{
	if (kind != RECLOCK_CITUS_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot switch change notices of table \"%s\": it is managed by Citus",
						RelationGetRelationName(rel)),
				 errdetail("The guard of a distributed table runs on the workers, whose notices the coordinator's listeners never get.")));
}
