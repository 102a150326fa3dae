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
 *   reclock_store_<oid>_marks (dist), never a row (the write mark: c6-mark,
 *                              at the end of the file)
 *
 * (<oid>: T's OID on the coordinator when it was protected; only a name).
 * dist is of T's distribution column's type and holds the row's
 * distribution value, so a row's lock lives in the store shard on the node
 * of the row's shard, and moves with it.  reclock_citus_tables, a Citus
 * reference table (made one by the first such protect), names T's stores
 * on the coordinator; on a worker, T's guard trigger names them (its
 * argument stores=reclock_store_<oid>: the c6-addnode block at the end).
 * All of it is made in the protecting
 * transaction (Citus propagates the DDL), as the extension owner, and
 * dropped by reclock_unprotect.
 *
 * Refused (0A000) for now: append, range and single-shard tables (no hash
 * distribution column), more than one placement per shard (a row lock
 * lands on one placement only), partitioned tables, documents other than
 * co-located distributed tables whose foreign key contains the
 * distribution column (the c-docs block at the end; their guard is
 * children.c's), notices.
 *
 * IDENTIFICATION
 *	  src/citusstore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/heapam.h"
#include "access/xact.h"
#include "access/relation.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "nodes/primnodes.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "access/multixact.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/uuid.h"
#include "storage/itemptr.h"
#include "nodes/makefuncs.h"
#include "utils/varlena.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "catalog/pg_type.h"
#include "catalog/pg_trigger.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "reclock.h"

#define REGISTRY	"reclock_citus_tables"

/*
 * The lock that the last acquire (a new grant), break or release of a
 * distributed table's row granted or ended (found false: none), for the
 * caller's change notice (c-notices).
 */
static ReclockLock citus_last_lock;

ReclockLock *
ReclockCitusLastLock(void)
{
	return &citus_last_lock;
}
/* the routing index of token lookups (build plan step 8): at the end */
typedef struct Route
{
	Oid			table;			/* the protected table */
	Oid			locks;			/* the grant's stores */
	Oid			tokens;
	Oid			disttype;
	Datum		dist;			/* the row's distribution value */
	int64		fence;
} Route;
static bytea *token_hash(const pg_uuid_t *token);
static void note_routes_reclaim(void);
static void route_write(Oid table, bytea *hash, int64 fence, Oid disttype, Datum dist,
						TimestampTz expires_at);
static bool route_find(bytea *hash, Route *route);
static void routes_end(bytea *hash, int64 fence, bool by_fence);
static void routes_follow(int64 fence, TimestampTz expires_at);
static void routes_forget(Oid table);
static bool ref_token_live(bytea *hash, bool end);

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

	/*
	 * The stores' dist column has this type (Citus co-locates equal types
	 * only), and reclock reads and writes the stores as the extension owner:
	 * a value that reaches them as text (Citus's results on the coordinator,
	 * its parameters on a worker) passes the type's input function.  A
	 * domain's CHECK (its owner may add one at any time), or that of a
	 * composite's, a range's or an array's element, is another role's code,
	 * which would run as that owner: only base types and enums.
	 */
	{
		Oid			type = get_atttype(RelationGetRelid(rel), get_attnum(RelationGetRelid(rel), column));
		Oid			elem = get_element_type(type);
		char		t = get_typtype(OidIsValid(elem) ? elem : type);

		if (t != TYPTYPE_BASE && t != TYPTYPE_ENUM)
			refuse(rel, psprintf("its distribution column \"%s\" is of type %s, not a base type or an enum",
								 column, format_type_be(type)),
				   "Distribute the table by a column of a base type (a domain's checks would run as reclock's store owner).");
	}
	return column;
}

/*
 * Become the extension owner, for SQL on the stores, with search_path
 * pinned to pg_catalog (as a SECURITY DEFINER function's SET clause pins
 * it): the SQL names its tables qualified, but its operators (=, <=, ANY)
 * are found by the search_path, and an operator that a caller's schema put
 * ahead of pg_catalog's would run as the extension owner.  Returns the GUC
 * nest level for store_owner_end.
 */
static int
store_owner_begin(Oid *save_userid, int *save_sec)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(save_userid, save_sec);
	SetUserIdAndSecContext(ReclockStoreOwner(), *save_sec | SECURITY_LOCAL_USERID_CHANGE);
	return level;
}

static void
store_owner_end(Oid save_userid, int save_sec, int level)
{
	SetUserIdAndSecContext(save_userid, save_sec);
	AtEOXact_GUC(true, level);
}

/* the same for citusref.c (the reference tables' store sections) */
int
ReclockCitusOwnerBegin(Oid *save_userid, int *save_sec)
{
	return store_owner_begin(save_userid, save_sec);
}

void
ReclockCitusOwnerEnd(Oid save_userid, int save_sec, int level)
{
	store_owner_end(save_userid, save_sec, level);
}

/* run fn as the extension owner, in an SPI connection of its own */
static void
as_store_owner(void (*fn) (Relation rel, void *arg), Relation rel, void *arg)
{
	Oid			save_userid;
	int			save_sec;
	int			level;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = store_owner_begin(&save_userid, &save_sec);
	fn(rel, arg);
	store_owner_end(save_userid, save_sec, level);
	SPI_finish();
}

/*
 * A table in SQL sent to every node: by its name, as a regclass constant
 * (Citus deparses it as the name, which each node resolves to its own OID;
 * a bare OID is the coordinator's only).
 */
static char *
regclass_literal(Oid relid)
{
	return psprintf("%s::pg_catalog.regclass", quote_literal_cstr(qualified(relid)));
}

/* is T registered?  (the registry's row, in this SPI connection) */
static bool
registered(Oid relid)
{
	return sql_value(psprintf("SELECT 1 FROM %s WHERE tbl = %s", registry_name(), regclass_literal(relid))) != NULL;
}

static void drop_notices_store(Oid locks);
static char *store_stem(const char *name, const char *suffix);
static bool registry_lookup(Oid table, Oid *locks, Oid *tokens);
static bool registry_lookup_oid(Oid table, Oid *locks, Oid *tokens);
/* c6-mark: the marks store (end of file) */
static void make_marks_store(Oid relid, const char *type, Oid locks);
static void drop_marks_store(Oid locks);
static Oid	marks_store(Oid table);
static bool mark_by_marks_store(Oid table, Oid disttype, Datum dist, Oid caller);

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

	get_atttypetypmodcoll(relid, attnum, &typid, &typmod, &collid);
	type = format_type_with_typemod(typid, typmod);
	if (OidIsValid(collid))
		type = psprintf("%s COLLATE %s", type, generate_collation_name(collid));
	if (registered(relid))
	{
		Oid			lockid;
		Oid			tokid;

		/* c6-mark: a table protected before the marks store gets it now */
		if (registry_lookup(relid, &lockid, &tokid))
			make_marks_store(relid, type, lockid);
		return;
	}
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
					 " acquired_by pg_catalog.text NOT NULL,"
					 " fence pg_catalog.int8 NOT NULL,"
					 " acquired_at pg_catalog.timestamptz NOT NULL,"
					 " expires_at pg_catalog.timestamptz NOT NULL,"
					 " PRIMARY KEY (dist, key)) USING heap", locks, type), SPI_OK_UTILITY);
	run_sql(psprintf("CREATE TABLE %s ("
					 "dist %s NOT NULL,"
					 " hash pg_catalog.bytea NOT NULL,"
					 " fence pg_catalog.int8 NOT NULL,"
					 " PRIMARY KEY (dist, hash)) USING heap", tokens, type), SPI_OK_UTILITY);
	/* for the reclaim of dead locks (write_grant) */
	run_sql(psprintf("CREATE INDEX ON %s (expires_at)", locks), SPI_OK_UTILITY);
	/*
	 * A token is honoured on a row by its hash's fence (beside the row, by
	 * distribution value): no two lock rows of one distribution value may
	 * share a fence, whoever chose it (reclock_citus_grant takes its caller's)
	 */
	run_sql(psprintf("CREATE UNIQUE INDEX ON %s (dist, fence)", locks), SPI_OK_UTILITY);
	run_sql(psprintf("REVOKE ALL ON %s, %s FROM PUBLIC", locks, tokens), SPI_OK_UTILITY);
	run_sql(psprintf("SELECT pg_catalog.create_distributed_table('%s', 'dist', colocate_with => %s)",
					 locks, quote_literal_cstr(qualified(relid))), SPI_OK_SELECT);
	run_sql(psprintf("SELECT pg_catalog.create_distributed_table('%s', 'dist', colocate_with => %s)",
					 tokens, quote_literal_cstr(qualified(relid))), SPI_OK_SELECT);
	run_sql(psprintf("INSERT INTO %s (tbl, locks, tokens) VALUES (%s, '%s', '%s')",
					 registry, quote_literal_cstr(qualified(relid)), locks, tokens),
			SPI_OK_INSERT);
	/* c6-mark: the marks store, beside the lock store */
	make_marks_store(relid, type, get_relname_relid(psprintf("reclock_store_%u_locks", relid),
													 ReclockExtensionSchema()));
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
	/*
	 * By the OIDs of this node's placement of the registry, not by the
	 * regclass text an SQL read returns: with the coordinator holding
	 * shards that text came out unqualified (a worker's placement may
	 * answer a read of a reference table, printing its own names and OIDs;
	 * review1_localshards).
	 */
	{
		Oid			lockid;
		Oid			tokid;

		if (!registry_lookup_oid(relid, &lockid, &tokid))
			elog(ERROR, "could not find the stores of table \"%s\"", get_rel_name(relid));
		/* its notice store (c-notices) and marks store (c6-mark) */
		drop_notices_store(lockid);
		drop_marks_store(lockid);
		run_sql(psprintf("DELETE FROM %s WHERE tbl = %s", registry, regclass_literal(relid)), SPI_OK_DELETE);
		run_sql(psprintf("DROP TABLE %s, %s", qualified(lockid), qualified(tokid)), SPI_OK_UTILITY);
		routes_forget(relid);
	}
}

/*
 * Run one command per placement of T's shards (format() of cmd with the
 * check's name and the shard's name), over connections of their own
 * (master_run_on_worker, as the caller): "true" if every one succeeded, else
 * the errors (in this SPI connection's memory).
 */
static char *
on_placements(Relation rel, const char *cmd, bool *ok)
{
	char	   *all;

	run_sql(psprintf("SELECT COALESCE(pg_catalog.bool_and(r.success AND r.result = 'DO'), false)::pg_catalog.text,"
					 " pg_catalog.string_agg(r.result, '; ') FILTER (WHERE NOT r.success)"
					 " FROM (SELECT pg_catalog.array_agg(n.nodename ORDER BY s.shardid) w,"
					 " pg_catalog.array_agg(n.nodeport ORDER BY s.shardid) p,"
					 " pg_catalog.array_agg(pg_catalog.format(%s, '%s_' || s.shardid,"
					 " pg_catalog.shard_name(s.logicalrelid, s.shardid)) ORDER BY s.shardid) c"
					 " FROM pg_catalog.pg_dist_shard s"
					 " JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid"
					 " JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'"
					 " WHERE s.logicalrelid = %s) a,"
					 " LATERAL pg_catalog.master_run_on_worker(a.w, a.p, a.c, true) r",
					 quote_literal_cstr(cmd), RECLOCK_TRUNCATE_TRIGGER,
					 regclass_literal(RelationGetRelid(rel))),
			SPI_OK_SELECT);
	all = SPI_processed == 1 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
	*ok = all != NULL && strcmp(all, "true") == 0;
	return SPI_processed == 1 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2) : NULL;
}

/*
 * The TRUNCATE check on every shard of T, on its worker.  Citus copies a
 * TRUNCATE trigger made on a distributed table to none of its shards (its
 * PostprocessCreateTriggerStmt skips them: Citus fires TRUNCATE triggers on
 * the coordinator), so a role allowed to truncate a shard, connected to its
 * worker, would truncate it unguarded.  Made here as Citus makes the copies
 * of a table's triggers on the shards it creates later (a move, a split:
 * <trigger>_<shardid> on the shard), over connections of their own
 * (master_run_on_worker, as the caller, who owns the shards), before
 * anything else of the protect: they are not undone if the protect rolls
 * back, and such a check left on the shards of an unprotected table lets
 * every TRUNCATE through (guard.c).  Those connections cannot see or lock
 * what this transaction created or wrote: a transaction that has (it holds
 * T in a mode that CREATE TRIGGER waits for) is refused at once, and any
 * shard on which the check cannot be made in 10 s makes the protect fail:
 * refused, never half guarded.
 */
void
ReclockCitusMakeShardTruncateChecks(Relation rel)
{
	const char *schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	char	   *errors;
	bool		ok;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* there already (a protect again): nothing to wait for */
	(void) on_placements(rel, "DO $reclock$BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger"
						 " WHERE tgrelid = pg_catalog.to_regclass(%2$L) AND tgname = %1$L)"
						 " THEN RAISE EXCEPTION 'missing'; END IF; END$reclock$", &ok);
	if (ok)
	{
		SPI_finish();
		return;
	}
	if (sql_value(psprintf("SELECT 1 FROM pg_catalog.pg_locks WHERE pid = pg_catalog.pg_backend_pid()"
						   " AND locktype = 'relation' AND relation = %u AND granted"
						   " AND mode IN ('RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock',"
						   " 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')",
						   RelationGetRelid(rel))) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot protect Citus distributed table \"%s\" in a transaction that has created, written or altered it",
						RelationGetRelationName(rel)),
				 errdetail("reclock makes the TRUNCATE check on the table's shards over connections of their own, which wait for this transaction's locks on them."),
				 errhint("Commit first, then protect the table in a transaction of its own.")));
	errors = on_placements(rel, psprintf("DO $reclock$BEGIN SET LOCAL lock_timeout = '10s';"
										 " SET LOCAL citus.enable_manual_changes_to_shards = on;"
										 " CREATE OR REPLACE TRIGGER %%1$I BEFORE TRUNCATE ON %%2$s"
										 " FOR EACH STATEMENT EXECUTE FUNCTION %s.reclock_guard_truncate(); END$reclock$",
										 schema), &ok);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot protect Citus distributed table \"%s\": the TRUNCATE check could not be made on all of its shards",
						RelationGetRelationName(rel)),
				 errdetail("%s", errors ? errors : "no placement answered"),
				 errhint("Protect the table in a transaction of its own, when no other transaction holds its shards.")));
	SPI_finish();
}

/*
 * reclock_protect of rel (parent: the parent table given, or NULL): for a
 * Citus distributed table, refuse what cannot be guarded, and make its
 * stores unless they exist.  Nothing for tables Citus does not manage.
 */
static void check_citus_child(Relation rel, ReclockKeyInfo *ki, Relation parent, Oid fkoid);

void
ReclockCitusProtect(Relation rel, ReclockKeyInfo *ki, Relation parent, Oid fkoid)
{
	char	   *column;

	/* documents: co-located distributed tables only (c-docs block below) */
	if (parent != NULL &&
		(ki->citus != RECLOCK_CITUS_NONE ||
		 ReclockGetKeyInfo(parent)->citus != RECLOCK_CITUS_NONE))
		check_citus_child(rel, ki, parent, fkoid);
	if (ki->citus != RECLOCK_CITUS_DISTRIBUTED)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	column = distribution_column(rel);
	column = MemoryContextStrdup(CurTransactionContext, column);
	SPI_finish();
	ReclockCitusMakeShardTruncateChecks(rel);
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

/*
 * The guard on a shard of a protected distributed table (build plan step
 * 3).  Citus fires the shard's triggers on the node that holds it (F1), in
 * whatever backend writes it: Citus's own connection from the coordinator,
 * or a role's direct connection to the worker.  The row's lock is in the
 * lock store's shard co-located with it, on this node; the guard reads it
 * with a fresh snapshot after the row was locked for the write, as on one
 * node (DESIGN, "The one ordering argument": an acquire locks the row and
 * writes the grant in one local transaction of this node, step 4).
 *
 * Found through Citus's metadata on this node (MX: every node has it):
 * pg_dist_shard gives the shard's table and hash range; the registry's
 * placement here names the table's stores by this node's OIDs; the store
 * shard is the one of the same range, named <store>_<shardid>.  Asked
 * again in every transaction (a shard move or a new protect changes it),
 * kept for the rest of one.
 */

/* a metadata table of Citus's (pg_catalog), scanned: fn for each row whose column equals value */
static void
scan_metadata(const char *table, const char *column, RegProcedure eqfunc, Datum value,
			  bool (*fn) (HeapTuple tup, TupleDesc desc, void *arg), void *arg)
{
	Oid			relid = get_relname_relid(table, PG_CATALOG_NAMESPACE);
	AttrNumber	attnum;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;

	if (!OidIsValid(relid) || (attnum = get_attnum(relid, column)) == InvalidAttrNumber)
		return;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, attnum, BTEqualStrategyNumber, eqfunc, value);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		if (!fn(tup, RelationGetDescr(rel), arg))
			break;
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

static Datum
getattr_named(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return heap_getattr(tup, i + 1, desc, isnull);
	*isnull = true;
	return (Datum) 0;
}

typedef struct ShardFind
{
	int64		shardid;		/* in: the shard (or 0: any) */
	char	   *minvalue;		/* in/out: its hash range's lower end */
	Oid			logical;		/* out */
	int64		found;			/* out: the shard found */
} ShardFind;

/* pg_dist_shard row: by shardid (minvalue out), or by minvalue (shardid out) */
static bool
shard_match(HeapTuple tup, TupleDesc desc, void *arg)
{
	ShardFind  *sf = (ShardFind *) arg;
	bool		isnull;
	int64		shardid = DatumGetInt64(getattr_named(tup, desc, "shardid", &isnull));
	Datum		min = getattr_named(tup, desc, "shardminvalue", &isnull);
	char	   *minvalue = isnull ? NULL : TextDatumGetCString(min);

	if (sf->shardid != 0)
	{
		if (shardid != sf->shardid)
			return true;
		sf->minvalue = minvalue;
		sf->logical = DatumGetObjectId(getattr_named(tup, desc, "logicalrelid", &isnull));
		sf->found = shardid;
		return false;
	}
	if (minvalue != NULL && sf->minvalue != NULL && strcmp(minvalue, sf->minvalue) == 0)
	{
		sf->found = shardid;
		return false;
	}
	return true;
}

/* the relation of a shard: <table>_<shardid> in the table's schema */
static Oid
shard_relation(Oid logical, int64 shardid)
{
	char	   *name = get_rel_name(logical);

	if (name == NULL)
		return InvalidOid;
	return get_relname_relid(psprintf("%s_" INT64_FORMAT, name, shardid),
							 get_rel_namespace(logical));
}

/* the shard of logical whose hash range starts at minvalue */
static Oid
colocated_shard(Oid logical, const char *minvalue)
{
	ShardFind	sf = {0, (char *) minvalue, InvalidOid, 0};

	scan_metadata("pg_dist_shard", "logicalrelid", F_OIDEQ, ObjectIdGetDatum(logical),
				  shard_match, &sf);
	return sf.found ? shard_relation(logical, sf.found) : InvalidOid;
}

typedef struct RegistryRow
{
	Oid			tbl;			/* in */
	Oid			locks;			/* out */
	Oid			tokens;
} RegistryRow;

static bool
registry_match(HeapTuple tup, TupleDesc desc, void *arg)
{
	RegistryRow *rr = (RegistryRow *) arg;
	bool		isnull;

	if (DatumGetObjectId(getattr_named(tup, desc, "tbl", &isnull)) != rr->tbl)
		return true;
	rr->locks = DatumGetObjectId(getattr_named(tup, desc, "locks", &isnull));
	rr->tokens = DatumGetObjectId(getattr_named(tup, desc, "tokens", &isnull));
	return false;
}

/* pg_dist_shard of the registry: its one shard */
static bool
any_shard(HeapTuple tup, TupleDesc desc, void *arg)
{
	bool		isnull;

	*(int64 *) arg = DatumGetInt64(getattr_named(tup, desc, "shardid", &isnull));
	return false;
}

/*
 * T's stores, from the registry's placement on this node: right on the
 * coordinator only, where every row was written by SQL (each regclass
 * resolved by name).  A node added later gets its placement by Citus's
 * binary copy, with the coordinator's OIDs in it (c6-addnode: workers find
 * the stores through T's guard, registry_lookup).
 */
static bool
registry_lookup_oid(Oid table, Oid *locks, Oid *tokens)
{
	Oid			registry = get_relname_relid(REGISTRY, ReclockExtensionSchema());
	int64		shardid = 0;
	Oid			placement;
	RegistryRow rr = {table, InvalidOid, InvalidOid};
	Relation	rel;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;

	if (!OidIsValid(registry))
		return false;
	scan_metadata("pg_dist_shard", "logicalrelid", F_OIDEQ, ObjectIdGetDatum(registry),
				  any_shard, &shardid);
	if (shardid == 0 || !OidIsValid(placement = shard_relation(registry, shardid)))
		return false;
	rel = table_open(placement, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		if (!registry_match(tup, RelationGetDescr(rel), &rr))
			break;
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	*locks = rr.locks;
	*tokens = rr.tokens;
	return OidIsValid(rr.locks) && OidIsValid(rr.tokens);
}

/* pg_dist_partition of T: its distribution column's name */
static bool
partition_column(HeapTuple tup, TupleDesc desc, void *arg)
{
	char	  **column = (char **) arg;
	bool		isnull;
	Datum		relid = getattr_named(tup, desc, "logicalrelid", &isnull);
	/* read last: a reference table's partkey is NULL */
	Datum		partkey = getattr_named(tup, desc, "partkey", &isnull);

	if (!isnull)
	{
		Node	   *node = stringToNode(TextDatumGetCString(partkey));

		if (IsA(node, Var))
			*column = get_attname(DatumGetObjectId(relid), ((Var *) node)->varattno, true);
	}
	return false;
}

/* what the guard of one shard needs, kept for one transaction */
typedef struct ShardStores
{
	LocalTransactionId lxid;
	Oid			shard;			/* the shard the guard fired on */
	Oid			table;			/* its Citus table here */
	bool		protected;		/* registered: judged here */
	Oid			locks;			/* the store shards beside it */
	Oid			tokens;
	AttrNumber	distatt;		/* the distribution column in the shard */
} ShardStores;

static ShardStores last_stores;

static ShardStores *
shard_stores(Relation shardrel, Oid table)
{
	ShardStores *ss = &last_stores;
	const char *name = RelationGetRelationName(shardrel);
	const char *sep = strrchr(name, '_');
	ShardFind	sf = {0, NULL, InvalidOid, 0};
	Oid			locks;
	Oid			tokens;
	char	   *column = NULL;

	if (ss->lxid == MY_LXID && ss->shard == RelationGetRelid(shardrel))
		return ss;
	memset(ss, 0, sizeof(*ss));
	if (sep == NULL || !registry_lookup(table, &locks, &tokens))
		goto done;
	sf.shardid = strtoi64(sep + 1, NULL, 10);
	scan_metadata("pg_dist_shard", "shardid", F_INT8EQ, Int64GetDatum(sf.shardid),
				  shard_match, &sf);
	scan_metadata("pg_dist_partition", "logicalrelid", F_OIDEQ, ObjectIdGetDatum(table),
				  partition_column, &column);
	if (!sf.found || sf.logical != table || column == NULL)
		goto done;
	ss->locks = colocated_shard(locks, sf.minvalue);
	ss->tokens = colocated_shard(tokens, sf.minvalue);
	ss->distatt = get_attnum(RelationGetRelid(shardrel), column);
	/* registered but its store shards not here: refused, never let through */
	if (!OidIsValid(ss->locks) || !OidIsValid(ss->tokens) || ss->distatt == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errtableconstraint(shardrel, RECLOCK_GUARD_TRIGGER),
				 errmsg("cannot write to table \"%s\": its lock store is not on this node",
						get_rel_name(table)),
				 errdetail("Shard \"%s\" of a protected table has no lock store shard beside it here.", name),
				 errhint("Protect the table again with reclock_protect() on the coordinator.")));
	ss->protected = true;
done:
	ss->lxid = MY_LXID;
	ss->shard = RelationGetRelid(shardrel);
	ss->table = table;
	return ss;
}

/*
 * Probe a store shard's primary key (dist, <second>) with a fresh snapshot:
 * fn on the row found.  <second> is text in C collation (key) or bytea (hash).
 */
static bool
probe_store(Oid storeid, Datum dist, Datum second, bool second_is_text,
			void (*fn) (HeapTuple tup, TupleDesc desc, void *arg), void *arg)
{
	Relation	rel = table_open(storeid, AccessShareLock);
	Oid			indexid = ReclockPrimaryKeyIndex(rel);
	Form_pg_attribute distatt = TupleDescAttr(RelationGetDescr(rel), 0);
	TypeCacheEntry *tce = lookup_type_cache(distatt->atttypid, TYPECACHE_EQ_OPR_FINFO);
	ScanKeyData keys[2];
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	bool		found = false;

	if (!OidIsValid(tce->eq_opr_finfo.fn_oid))
		elog(ERROR, "type %s has no equality", format_type_be(distatt->atttypid));
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   distatt->attcollation, tce->eq_opr_finfo.fn_oid, dist);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   C_COLLATION_OID, second_is_text ? F_TEXTEQ : F_BYTEAEQ, second);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, indexid, OidIsValid(indexid), snapshot, 2, keys);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		found = true;
		if (fn)
			fn(tup, RelationGetDescr(rel), arg);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

typedef struct ShardLock
{
	char	   *holder;
	Oid			acquired_by;
	int64		fence;
	TimestampTz expires_at;
	TransactionId updater;		/* a transaction in progress that updated the row */
} ShardLock;

/* the transaction in progress (not this one) that updated the version read, if any */
static TransactionId
tuple_updater(HeapTuple tup)
{
	HeapTupleHeader h = tup->t_data;
	TransactionId xid;

	if ((h->t_infomask & HEAP_XMAX_INVALID) || HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask))
		return InvalidTransactionId;
	xid = HeapTupleHeaderGetUpdateXid(h);
	if (TransactionIdIsValid(xid) && !TransactionIdIsCurrentTransactionId(xid) &&
		TransactionIdIsInProgress(xid))
		return xid;
	return InvalidTransactionId;
}

/* the renewal marker of a grant (as store.c's, on this node) */
static void
renewal_tag(LOCKTAG *tag, int64 fence)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) ((uint64) fence >> 32),
						 (uint32) fence, RECLOCK_LOCKTAG_EXTEND);
}

static void
read_lock(HeapTuple tup, TupleDesc desc, void *arg)
{
	ShardLock  *sl = (ShardLock *) arg;
	bool		isnull;

	sl->holder = TextDatumGetCString(getattr_named(tup, desc, "holder", &isnull));
	/* by name: Citus copies a store shard to another node byte for byte (a move), where role OIDs differ */
	sl->acquired_by = get_role_oid(TextDatumGetCString(getattr_named(tup, desc, "acquired_by", &isnull)), true);
	sl->fence = DatumGetInt64(getattr_named(tup, desc, "fence", &isnull));
	sl->expires_at = DatumGetTimestampTz(getattr_named(tup, desc, "expires_at", &isnull));
	sl->updater = tuple_updater(tup);
}

static void
read_fence(HeapTuple tup, TupleDesc desc, void *arg)
{
	bool		isnull;

	*(int64 *) arg = DatumGetInt64(getattr_named(tup, desc, "fence", &isnull));
}

/*
 * The live lock of (dist, key) on this node, if any: a settled read (as
 * store.c's store_get_settled).  A dead row whose version a transaction in
 * progress updated may be under a renewal about to commit: take and drop
 * its renewal marker in share mode, take the clock again, read again.  The
 * renewer takes the marker exclusively to its end before its last look at
 * the clock at pre-commit, and fails if the grant had run out by then.
 */
static bool
live_lock(ShardStores *ss, Datum dist, const char *key, TimestampTz now, ShardLock *sl)
{
	TransactionId waited_for = InvalidTransactionId;

	for (;;)
	{
		LOCKTAG		tag;

		if (!probe_store(ss->locks, dist, CStringGetTextDatum(key), true, read_lock, sl))
			return false;
		if (sl->expires_at > now || !TransactionIdIsValid(sl->updater) ||
			TransactionIdEquals(sl->updater, waited_for))
			return sl->expires_at > now;
		renewal_tag(&tag, sl->fence);
		(void) LockAcquire(&tag, ShareLock, false, false);
		LockRelease(&tag, ShareLock, false);
		waited_for = sl->updater;
		now = ReclockNow();
	}
}

/* has this transaction presented a token of grant fence (on row dist)? */
static bool
holds_token(ShardStores *ss, Datum dist, int64 fence)
{
	const uint8 *hashes;
	uint64		generation;
	int			n = ReclockPresentedTokens(&hashes, &generation);
	int			i;

	for (i = 0; i < n; i++)
	{
		bytea	   *h = palloc(VARHDRSZ + RECLOCK_HASH_LEN);
		int64		tfence = 0;

		SET_VARSIZE(h, VARHDRSZ + RECLOCK_HASH_LEN);
		memcpy(VARDATA(h), hashes + i * RECLOCK_HASH_LEN, RECLOCK_HASH_LEN);
		if (probe_store(ss->tokens, dist, PointerGetDatum(h), false, read_fence, &tfence) &&
			tfence == fence)
			return true;
	}
	return false;
}

static void
refuse_shard_locked(Relation shardrel, Oid table, const char *key, ShardLock *sl)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errtableconstraint(shardrel, RECLOCK_GUARD_TRIGGER),
			 errmsg("row %s of table \"%s\" is locked by \"%s\" until %s",
					key, get_rel_name(table), sl->holder,
					timestamptz_to_str(sl->expires_at - sl->expires_at % USECS_PER_SEC)),
			 errdetail("Only a transaction that presents the lock's token may update or delete the row."),
			 errhint("Present the token in the writing transaction with SELECT set_config('reclock.token', <token>, true).")));
}

/*
 * The guard fired on a shard (ki->citus_table its Citus table): judge the
 * row by the store shards beside it and return true, or return false when
 * the table is not protected as a distributed table (protected before Citus
 * distributed it: the caller refuses every write).  UPDATE or DELETE only.
 */
bool
ReclockCitusGuardShard(Relation shardrel, ReclockKeyInfo *ki, TriggerData *td,
					   bool require_lock)
{
	ShardStores *ss = shard_stores(shardrel, ki->citus_table);
	TupleDesc	desc = RelationGetDescr(shardrel);
	TimestampTz now;
	bool		isnull;
	Datum		dist;
	char	   *key;
	ShardLock	sl;
	bool		live;

	if (!ss->protected)
		return false;
	dist = heap_getattr(td->tg_trigtuple, ss->distatt, desc, &isnull);
	if (isnull)
		elog(ERROR, "a row of shard \"%s\" has no distribution value", RelationGetRelationName(shardrel));
	key = ReclockTupleKey(ki, td->tg_trigtuple, desc);
	now = ReclockNow();
	live = live_lock(ss, dist, key, now, &sl);
	if (live && !holds_token(ss, dist, sl.fence))
		refuse_shard_locked(shardrel, ss->table, key, &sl);
	if (!live && require_lock)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(shardrel, RECLOCK_GUARD_TRIGGER),
				 errmsg("row %s of table \"%s\" is not locked", key, get_rel_name(ss->table)),
				 errdetail("The table is protected with require_lock: every update or delete needs a live lock."),
				 errhint("Acquire the row with reclock_acquire() and present its token with set_config('reclock.token', <token>, true).")));
	/*
	 * A key change: the lock would have to move with the row (to the new
	 * key's store row, on the same node: Citus does not let an UPDATE change
	 * the distribution value).  Not built yet: refused when either key has a
	 * live lock, never let through.
	 */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		!ReclockKeyUnchanged(ki, td->tg_trigtuple, td->tg_newtuple, desc))
	{
		char	   *newkey = ReclockNewTupleKey(ki, td->tg_newtuple, desc);
		ShardLock	target;

		if (newkey != NULL && strcmp(newkey, key) != 0 &&
			(live || live_lock(ss, dist, newkey, now, &target)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errtableconstraint(shardrel, RECLOCK_GUARD_TRIGGER),
					 errmsg("cannot change the key of row %s of Citus distributed table \"%s\": a live lock stands on the old or the new key",
							key, get_rel_name(ss->table)),
					 errdetail("reclock does not carry a lock to a new key on a distributed table yet.")));
	}
	return true;
}

/*
 * TRUNCATE of a protected distributed table: Citus fires its TRUNCATE
 * triggers on the coordinator, where the table's locks are not.  Refused
 * (0A000) until the check asks the workers' stores.
 */
void
ReclockCitusRefuseTruncate(Relation rel, ReclockCitusKind kind)
{
	Oid			locks;
	Oid			tokens;

	if (kind == RECLOCK_CITUS_DISTRIBUTED &&
		registry_lookup(RelationGetRelid(rel), &locks, &tokens))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
				 errmsg("cannot truncate protected Citus distributed table \"%s\"",
						RelationGetRelationName(rel)),
				 errdetail("reclock cannot check the live locks of a distributed table at TRUNCATE yet, so it refuses TRUNCATE instead of letting it through."),
				 errhint("Remove the guard with reclock_unprotect() first.")));
}

/*
 * TRUNCATE of a shard of a Citus table, on its node, by the check that
 * reclock_protect made there (or Citus copied at a move or split): for a
 * protected distributed table, refused (55P03) while the lock store shard
 * beside it has a live lock (TRUNCATE holds the shard ACCESS EXCLUSIVE: no
 * grant of one of its rows is in flight), and true.  False when the table is
 * not registered: the caller refuses if the table here still has reclock's
 * guard (protected before Citus distributed it), else lets it through (a
 * check left on the shards of an unprotected table).
 */
bool
ReclockCitusGuardShardTruncate(Relation shardrel, Oid table)
{
	ShardStores *ss = shard_stores(shardrel, table);
	Relation	locks;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	TimestampTz now = ReclockNow();
	bool		live = false;

	if (!ss->protected)
		return false;
	locks = table_open(ss->locks, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	/* a heap scan (no index): systable's API is the same on every major */
	scan = systable_beginscan(locks, InvalidOid, false, snapshot, 0, NULL);
	while (!live && (tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d = getattr_named(tup, RelationGetDescr(locks), "expires_at", &isnull);

		live = !isnull && DatumGetTimestampTz(d) > now;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(locks, AccessShareLock);
	if (live)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(shardrel, RECLOCK_GUARD_TRIGGER),
				 errmsg("cannot truncate shard \"%s\" of table \"%s\" while it has live locks",
						RelationGetRelationName(shardrel), get_rel_name(table)),
				 errdetail("TRUNCATE would remove rows that holders have locked."),
				 errhint("Wait for the locks to end, or end them with reclock_break().")));
	return true;
}

/* does lock store lname (a distributed table) hold a live lock?  In SPI, as the store owner */
static bool
store_has_live_lock(const char *lname)
{
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		vals[1] = {TimestampTzGetDatum(ReclockNow())};

	if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE expires_at > $1 LIMIT 1", lname),
							  1, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read lock store %s", lname);
	return SPI_processed > 0;
}

/* drop one dropped table's stores and registry row (as the store owner) */
static void
forget_table(Relation unused, void *arg)
{
	Oid			relid = *(Oid *) arg;
	Oid			locks;
	Oid			tokens;
	char	   *lname;
	char	   *tname;

	if (!registry_lookup_oid(relid, &locks, &tokens))
		return;
	lname = qualified(locks);
	tname = qualified(tokens);

	/*
	 * Not while a lock is live: Citus's undistribute_table and
	 * alter_distributed_table drop the table too, and make a new one that
	 * keeps reclock's guard but not the locks (a local table guarded by the
	 * coordinator's empty lock table let every write through).  By the
	 * coordinator's clock; the drop holds the table, so no grant is in flight.
	 */
	{
		if (store_has_live_lock(lname))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot drop a protected Citus table while it has live locks"),
					 errdetail("Lock store %s holds a live lock. DROP TABLE, undistribute_table() and alter_distributed_table() drop the table, and its locks with it.",
							   lname),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	}
	drop_notices_store(locks);	/* its notice store (c-notices) */
	drop_marks_store(locks);	/* its marks store (c6-mark) */
	/* by the store's name: the dropped table's OID names nothing on the workers */
	run_sql(psprintf("DELETE FROM %s WHERE locks = %s", registry_name(), regclass_literal(locks)),
			SPI_OK_DELETE);
	run_sql(psprintf("DROP TABLE %s, %s", lname, tname), SPI_OK_UTILITY);
	routes_forget(relid);
}

/*
 * Tables were dropped (the sql_drop watch, ddl.c): a protected distributed
 * table's stores and registry row go too, on the coordinator (which sends
 * the DDL to the workers; the watch also fires on the workers for Citus's
 * DROP of the shell tables, and does nothing there).  Found in the
 * registry's placement on this node: the dropped table's regclass is a bare
 * OID by now.
 */
void
ReclockCitusForget(List *relids)
{
	ListCell   *lc;

	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(get_relname_relid(REGISTRY, ReclockExtensionSchema())) ||
		!ReclockCitusOnCoordinator())
		return;
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		as_store_owner(forget_table, NULL, &relid);
	}
}

/*
 * Acquire on a protected distributed table (build plan step 4, first part:
 * acquire only).  The coordinator checks what it can (arguments, rights,
 * the key's text), takes a fence from its own sequence and makes the token;
 * then one routed statement runs reclock_citus_grant on the row's node,
 * called for the row itself (so a row the caller cannot see gives no call:
 * P0002), with the shard's OID (tableoid, on the worker).  There, in the
 * routed transaction, the grant locks the row FOR UPDATE in the shard (so
 * it waits for a write in flight, and a write after it waits for it), reads
 * the lock store shard beside it with a fresh snapshot, and grants,
 * extends, or refuses: the single-node ordering argument, on that node.
 */
/*
 * Renewals made on this node in this transaction (a refresh, a same-holder
 * acquire): as store.c's, checked again at pre-commit under the grant's
 * renewal marker, so that a grant that ran out before the renewal commits
 * stays dead (the renewal fails); refused at PREPARE (the commit may come at
 * any later time).
 */
typedef struct CitusRenewal
{
	Oid			locks;			/* the lock store shard */
	Oid			disttype;
	Datum		dist;
	char	   *key;
	int64		fence;
	TimestampTz old_expires_at;
} CitusRenewal;

static List *citus_renewals = NIL;
static LocalTransactionId citus_renewals_lxid = InvalidLocalTransactionId;
static bool citus_renewal_callback = false;

static void citus_renewal_xact(XactEvent event, void *arg);

static void
note_citus_renewal(ShardStores *ss, Oid disttype, Datum dist, const char *key,
				   int64 fence, TimestampTz old_expires_at)
{
	MemoryContext oldcxt;
	CitusRenewal *r;
	ListCell   *lc;
	int16		typlen;
	bool		typbyval;

	if (!citus_renewal_callback)
	{
		ReclockOnXactEvent(RECLOCK_XACT_CITUS_RENEWALS, citus_renewal_xact);
		citus_renewal_callback = true;
	}
	if (ReclockNewTransaction(&citus_renewals_lxid))
		citus_renewals = NIL;
	foreach(lc, citus_renewals)
		if (((CitusRenewal *) lfirst(lc))->fence == fence)
			return;
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	get_typlenbyval(disttype, &typlen, &typbyval);
	r = palloc(sizeof(CitusRenewal));
	r->locks = ss->locks;
	r->disttype = disttype;
	r->dist = datumCopy(dist, typbyval, typlen);
	r->key = pstrdup(key);
	r->fence = fence;
	r->old_expires_at = old_expires_at;
	citus_renewals = lappend(citus_renewals, r);
	MemoryContextSwitchTo(oldcxt);
}

static void
citus_renewal_precommit(bool prepare)
{
	ListCell   *lc;

	foreach(lc, citus_renewals)
	{
		CitusRenewal *r = lfirst(lc);
		ShardLock	cur;
		LOCKTAG		tag;
		TimestampTz now;

		renewal_tag(&tag, r->fence);
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
		now = ReclockNow();
		/* released, broken, rolled back, or another grant since: nothing revives */
		if (!probe_store(r->locks, r->dist, CStringGetTextDatum(r->key), true, read_lock, &cur) ||
			cur.fence != r->fence || cur.expires_at <= now)
			continue;
		if (prepare)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot prepare a transaction that extended a lock"),
					 errdetail("The lock of row %s was refreshed or acquired again in this transaction.", r->key),
					 errhint("Refresh locks in transactions that do not write other nodes.")));
		if (now >= r->old_expires_at)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("lock on row %s expired before the transaction that extended it committed", r->key),
					 errdetail("The lock of \"%s\" ran out at %s; an expired lock is dead for good.",
							   cur.holder, timestamptz_to_str(r->old_expires_at)),
					 errhint("Acquire the row again; keep refreshes in short transactions.")));
	}
}

static void
citus_renewal_xact(XactEvent event, void *arg)
{
	if (citus_renewals_lxid != MY_LXID || citus_renewals == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			citus_renewal_precommit(false);
			break;
		case XACT_EVENT_PRE_PREPARE:
			citus_renewal_precommit(true);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			citus_renewals = NIL;
			break;
		default:
			break;
	}
}

/* is a token of grant fence (row dist) among presented (hashes), or presented here? */
static bool
presents_grant(ShardStores *ss, Datum dist, int64 fence, ArrayType *presented)
{
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	int			i;

	deconstruct_array(presented, BYTEAOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
	for (i = 0; i < n; i++)
	{
		bytea	   *h = enulls[i] ? NULL : DatumGetByteaP(elems[i]);
		int64		tfence = 0;

		if (h != NULL && VARSIZE_ANY_EXHDR(h) == RECLOCK_HASH_LEN &&
			probe_store(ss->tokens, dist, PointerGetDatum(h), false, read_fence, &tfence) &&
			tfence == fence)
			return true;
	}
	return holds_token(ss, dist, fence);
}

PG_FUNCTION_INFO_V1(reclock_citus_grant);

static void note_citus_reclaim(ShardStores *ss, Oid disttype, Datum dist);

/* the store shard's row for (dist, key) written as the extension owner */
static void
write_grant(ShardStores *ss, Oid disttype, Datum dist, const char *key,
			const char *holder, int64 fence, TimestampTz now, TimestampTz expires_at,
			bytea *hash)
{
	Oid			save_userid;
	int			save_sec;
	int			level;
	Oid			types[7] = {disttype, TEXTOID, TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		vals[7];
	Oid			ttypes[3] = {disttype, BYTEAOID, INT8OID};
	Datum		tvals[3];

	vals[0] = dist;
	vals[1] = CStringGetTextDatum(key);
	vals[2] = CStringGetTextDatum(holder);
	vals[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	vals[4] = Int64GetDatum(fence);
	vals[5] = TimestampTzGetDatum(now);
	vals[6] = TimestampTzGetDatum(expires_at);
	tvals[0] = dist;
	tvals[1] = PointerGetDatum(hash);
	tvals[2] = Int64GetDatum(fence);
	level = store_owner_begin(&save_userid, &save_sec);

	/*
	 * A fence another key of this distribution value holds: a token of that
	 * lock would be honoured here, and one of this grant there (refused;
	 * the unique index on (dist, fence) closes the race).  Only a caller of
	 * reclock_citus_grant that chose the fence gets here.
	 */
	{
		Oid			ftypes[3] = {disttype, INT8OID, TEXTOID};
		Datum		fvals[3] = {dist, Int64GetDatum(fence), CStringGetTextDatum(key)};

		if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE dist = $1 AND fence = $2 AND key <> $3",
										   qualified(ss->locks)),
								  3, ftypes, fvals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not check the fence of row %s", key);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("fence " INT64_FORMAT " of row %s of table \"%s\" is another lock's",
							fence, key, get_rel_name(ss->table))));
	}
	if (SPI_execute_with_args(psprintf("INSERT INTO %s (dist, key, holder, acquired_by, fence, acquired_at, expires_at)"
									   " VALUES ($1, $2, $3, $4, $5, $6, $7)"
									   " ON CONFLICT (dist, key) DO UPDATE SET holder = excluded.holder,"
									   " acquired_by = excluded.acquired_by, fence = excluded.fence,"
									   " acquired_at = CASE WHEN %s.fence = excluded.fence THEN %s.acquired_at ELSE excluded.acquired_at END,"
									   " expires_at = excluded.expires_at",
									   qualified(ss->locks), qualified(ss->locks), qualified(ss->locks)),
							  7, types, vals, NULL, false, 0) != SPI_OK_INSERT ||
		SPI_execute_with_args(psprintf("INSERT INTO %s (dist, hash, fence) VALUES ($1, $2, $3)",
									   qualified(ss->tokens)),
							  3, ttypes, tvals, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the grant of row %s", key);

	/*
	 * Storage stays bounded by the live locks, with no sweep scheduled: a
	 * few dead rows of this store shard are deleted when this node's part
	 * commits (note_citus_reclaim), not here.
	 */
	store_owner_end(save_userid, save_sec, level);
}

/*
 * reclock_citus_grant(shard regclass, key text, holder text, ttl_usecs
 * int8, fence int8, hash bytea, OUT ...) on the row's node.  The caller
 * needs UPDATE on the shard (Citus copies the table's grants to its
 * shards), as acquire needs it on the table.  A fence not above the
 * stored one is refused: fences never go back, also for a caller that
 * calls this on a worker directly.
 */
Datum
reclock_citus_grant(PG_FUNCTION_ARGS)
{
	Oid			shard = PG_GETARG_OID(0);
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *holder = text_to_cstring(PG_GETARG_TEXT_PP(2));
	int64		ttl = PG_GETARG_INT64(3);
	int64		fence = PG_GETARG_INT64(4);
	bytea	   *hash = PG_GETARG_BYTEA_PP(5);
	bool		reentry_token = PG_GETARG_BOOL(6) || reclock_reentry == RECLOCK_REENTRY_TOKEN;
	ArrayType  *presented = PG_GETARG_ARRAYTYPE_P(7);
	TupleDesc	tupdesc;
	Relation	rel;
	ReclockKeyInfo *ki;
	ShardStores *ss;
	Datum	   *keyvals;
	Datum		dist = (Datum) 0;
	Oid			disttype;
	Oid		   *types;
	int			i;
	TimestampTz now;
	ShardLock	sl;
	bool		live;
	Datum		result[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "reclock_citus_grant: no result type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (VARSIZE_ANY_EXHDR(hash) != RECLOCK_HASH_LEN || ttl <= 0 ||
		ttl > (int64) reclock_max_ttl * USECS_PER_SEC)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("reclock_citus_grant: bad token hash or ttl")));
	rel = table_open(shard, AccessShareLock);
	if (pg_class_aclcheck(shard, GetUserId(), ACL_UPDATE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	ki = ReclockGetKeyInfo(rel);
	if (ki->citus != RECLOCK_CITUS_SHARD ||
		!(ss = shard_stores(rel, ki->citus_table))->protected)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" is not a shard of a protected Citus distributed table",
						RelationGetRelationName(rel))));
	keyvals = palloc(sizeof(Datum) * ki->nkeys);
	types = palloc(sizeof(Oid) * ki->nkeys);
	key = ReclockCanonicalKey(ki, key, keyvals);
	disttype = TupleDescAttr(RelationGetDescr(rel), ss->distatt - 1)->atttypid;
	for (i = 0; i < ki->nkeys; i++)
	{
		types[i] = ki->typids[i];
		if (ki->attnums[i] == ss->distatt)
			dist = keyvals[i];
	}

	/* the row, FOR UPDATE, in this node's local transaction */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("SELECT %s FROM %s WHERE %s FOR UPDATE",
									   ReclockColumnListSql(RelationGetRelid(rel), ki->nkeys, ki->attnums),
									   ReclockRelationSql(rel), ReclockKeyWhereSql(ki)),
							  ki->nkeys, types, keyvals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock row %s", key);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no row with key %s in table \"%s\"", key, get_rel_name(ss->table))));
	/*
	 * The key as the guard will make it, from the row itself: equal keys
	 * may be written differently (a numeric 1.5 is the row's 1.50).
	 */
	{
		bool	   *knulls = palloc(sizeof(bool) * ki->nkeys);

		for (i = 0; i < ki->nkeys; i++)
		{
			keyvals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &knulls[i]);
			if (ki->attnums[i] == ss->distatt)
				dist = keyvals[i];
		}
		key = ReclockKeyText(ki, keyvals, knulls);
	}

	/* after the row lock: the lock store, read fresh */
	now = ReclockNow();
	live = live_lock(ss, dist, key, now, &sl);
	/*
	 * The same holder is the same name taken by the same role; with
	 * reclock.reentry = token (the coordinator's, or this node's), one
	 * that presents a token of the grant too: in the coordinator's
	 * transaction (their hashes, presented) or in this one.
	 */
	if (live && (strcmp(sl.holder, holder) != 0 || sl.acquired_by != GetUserId() ||
				 (reentry_token && !presents_grant(ss, dist, sl.fence, presented))))
	{
		result[0] = BoolGetDatum(false);
		result[1] = CStringGetTextDatum(sl.holder);
		result[2] = TimestampTzGetDatum(sl.expires_at);
		result[3] = Int64GetDatum(sl.fence);
	}
	else
	{
		ShardLock	old;

		/* the same holder extends its grant (same fence); else a new grant */
		if (live)
		{
			fence = sl.fence;
			note_citus_renewal(ss, disttype, dist, key, fence, sl.expires_at);
		}
		else if (probe_store(ss->locks, dist, CStringGetTextDatum(key), true, read_lock, &old) &&
				 old.fence >= fence)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a fence of row %s of table \"%s\" would go back", key, get_rel_name(ss->table))));
		write_grant(ss, disttype, dist, key, holder, fence, now, now + ttl, hash);
		note_citus_reclaim(ss, disttype, dist);
		result[0] = BoolGetDatum(true);
		result[1] = CStringGetTextDatum(holder);
		result[2] = TimestampTzGetDatum(now + ttl);
		result[3] = Int64GetDatum(fence);
	}
	SPI_finish();
	table_close(rel, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, nulls)));
}

/*
 * The store shard (suffix to) beside a store shard (suffix from) on this
 * node, or InvalidOid.  By name (c6-addnode): the two stores of a table are made
 * together, reclock_store_<n>_tokens and reclock_store_<n>_locks in
 * reclock's schema, on every node by Citus's DDL; the registry's placement
 * on a node added later holds the coordinator's OIDs.
 */
static Oid
store_beside(Oid shard, const char *from, const char *to)
{
	Oid			table;
	bool		unsure;
	ShardFind	sf = {0, NULL, InvalidOid, 0};
	const char *name = get_rel_name(shard);
	const char *sep = name ? strrchr(name, '_') : NULL;
	char	   *stem;
	Oid			other;

	if (sep == NULL ||
		ReclockCitusKindOf(shard, &table, &unsure) != RECLOCK_CITUS_SHARD ||
		get_rel_namespace(table) != ReclockExtensionSchema() ||
		(stem = store_stem(get_rel_name(table), from)) == NULL ||
		!OidIsValid(other = get_relname_relid(psprintf("%s%s", stem, to), ReclockExtensionSchema())))
		return InvalidOid;
	sf.shardid = strtoi64(sep + 1, NULL, 10);
	scan_metadata("pg_dist_shard", "shardid", F_INT8EQ, Int64GetDatum(sf.shardid),
				  shard_match, &sf);
	if (!sf.found || sf.logical != table)
		return InvalidOid;
	return colocated_shard(other, sf.minvalue);
}

static Oid
locks_beside_tokens(Oid tokshard)
{
	return store_beside(tokshard, "_tokens", "_locks");
}

PG_FUNCTION_INFO_V1(reclock_citus_refresh);

/*
 * reclock_citus_refresh(tokens regclass, dist anyelement, hash bytea,
 * ttl_usecs int8) returns timestamptz, on the row's node: called by
 * reclock_refresh's routed statement for the token's row of a token store
 * shard (as the extension owner; no one else may execute it).  The lock row
 * of the token's grant is locked, the clock read after that wait, and a live
 * grant extended to now + ttl (the worker's clock, as acquire's); NULL if the
 * grant is not live: a lock that ran out is never revived.  The renewal is
 * checked again at commit (note_citus_renewal).
 */
Datum
reclock_citus_refresh(PG_FUNCTION_ARGS)
{
	Oid			tokshard = PG_GETARG_OID(0);
	Datum		dist = PG_GETARG_DATUM(1);
	Oid			disttype = get_fn_expr_argtype(fcinfo->flinfo, 1);
	bytea	   *hash = PG_GETARG_BYTEA_P(2);
	int64		ttl = PG_GETARG_INT64(3);
	ShardStores ss = {0};
	int64		fence = 0;
	Oid			save_userid;
	int			save_sec;
	int			level;
	TimestampTz now;
	TimestampTz old_expires_at;
	char	   *key;
	bool		isnull;

	if (VARSIZE_ANY_EXHDR(hash) != RECLOCK_HASH_LEN || ttl <= 0 ||
		ttl > (int64) reclock_max_ttl * USECS_PER_SEC || !OidIsValid(disttype))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("reclock_citus_refresh: bad token hash or ttl")));
	if (!OidIsValid(ss.locks = locks_beside_tokens(tokshard)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" is not a token store shard of a protected Citus distributed table",
						get_rel_name(tokshard) ? get_rel_name(tokshard) : "?")));
	ss.tokens = tokshard;
	if (!probe_store(tokshard, dist, PointerGetDatum(hash), false, read_fence, &fence))
		PG_RETURN_NULL();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = store_owner_begin(&save_userid, &save_sec);
	{
		Oid			types[2] = {disttype, INT8OID};
		Datum		vals[2] = {dist, Int64GetDatum(fence)};

		/* the grant's lock row, locked: a concurrent end or renewal is waited for */
		if (SPI_execute_with_args(psprintf("SELECT key, expires_at FROM %s WHERE dist = $1 AND fence = $2 FOR UPDATE",
										   qualified(ss.locks)),
								  2, types, vals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read a lock");
	}
	now = ReclockNow();
	if (SPI_processed != 1 ||
		(old_expires_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull))) <= now)
	{
		store_owner_end(save_userid, save_sec, level);
		SPI_finish();
		PG_RETURN_NULL();
	}
	key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	{
		Oid			types[3] = {disttype, TEXTOID, TIMESTAMPTZOID};
		Datum		vals[3] = {dist, CStringGetTextDatum(key), TimestampTzGetDatum(now + ttl)};

		if (SPI_execute_with_args(psprintf("UPDATE %s SET expires_at = $3 WHERE dist = $1 AND key = $2",
										   qualified(ss.locks)),
								  3, types, vals, NULL, false, 0) != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "could not extend the lock of row %s", key);
	}
	note_citus_renewal(&ss, disttype, dist, key, fence, old_expires_at);
	store_owner_end(save_userid, save_sec, level);
	SPI_finish();
	PG_RETURN_TIMESTAMPTZ(now + ttl);
}

/* c-moves: against moves, and for atomicity under failure (end of file) */
static void lock_store_shard(Oid store, Datum dist);
static void mark_store_modified(Oid store, Datum dist, Oid caller, Oid table);

/*
 * reclock_refresh of a token that the coordinator's own lock table does not
 * know: its route found in the routing index (reclock_citus_routes), then
 * one routed statement extends the grant on the row's node
 * (reclock_citus_refresh), as the extension owner, and the grant's routes
 * follow.  False if the token has no route or its grant is not live there.
 */
bool
ReclockCitusRefresh(const pg_uuid_t *token, int64 ttl, TimestampTz *expires_at)
{
	int			exact;			/* ReclockCitusExactTextBegin() level */
	bytea	   *hash;
	const char *schema;
	Route		route;
	bool		done = false;
	Oid			save_userid;
	int			save_sec;
	int			level;

	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(get_relname_relid(REGISTRY, ReclockExtensionSchema())) ||
		!ReclockCitusOnCoordinator())
		return false;
	hash = token_hash(token);
	schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	exact = ReclockCitusExactTextBegin();
	level = store_owner_begin(&save_userid, &save_sec);
	/* (a reference table's grant has no route: citusref.c refreshes those) */
	if (route_find(hash, &route))
	{
		Oid			types[3] = {route.disttype, BYTEAOID, INT8OID};
		Datum		vals[3] = {route.dist, PointerGetDatum(hash), Int64GetDatum(ttl)};
		bool		isnull;

		/* no shard move or split of the row's shard until this transaction ends */
		lock_store_shard(route.tokens, route.dist);
		if (SPI_execute_with_args(psprintf("SELECT %s.reclock_citus_refresh(tableoid, dist, hash, $3)"
										   " FROM %s WHERE dist = $1 AND hash = $2",
										   schema, qualified(route.tokens)),
								  3, types, vals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not refresh a lock");
		if (SPI_processed == 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
			{
				*expires_at = DatumGetTimestampTz(d);
				done = true;
				/* the worker's part counts as a write (2PC, a failed part fails COMMIT) */
				mark_store_modified(route.tokens, route.dist, save_userid, route.table);
				routes_follow(route.fence, *expires_at);
			}
		}
	}
	store_owner_end(save_userid, save_sec, level);
	AtEOXact_GUC(true, exact);
	SPI_finish();
	return done;
}

/*
 * reclock_acquire of a Citus distributed table, on the coordinator, after
 * acquire's checks of the arguments, the table and the caller's UPDATE
 * right: the result row (acquired, token, holder, expires_at, fence).
 */
Datum
ReclockCitusAcquire(Relation rel, ReclockKeyInfo *ki, const char *keytext,
					const char *holder, int64 ttl, TupleDesc tupdesc)
{
	int			exact;			/* ReclockCitusExactTextBegin() level */
	Oid			locks;
	Oid			tokens;
	Datum	   *keyvals;
	Oid		   *types;
	Datum	   *vals;
	char	   *key;
	pg_uuid_t  *token = palloc(sizeof(pg_uuid_t));
	uint8		hashbuf[RECLOCK_HASH_LEN];
	bytea	   *hash = palloc(VARHDRSZ + RECLOCK_HASH_LEN);
	int64		fence;
	int			n = ki->nkeys;
	int			i;
	Datum		result[5];
	bool		nulls[5] = {false, false, false, false, false};
	bool		isnull;
	const char *schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	MemoryContext callercxt;
	char	   *column = NULL;
	AttrNumber	distatt;
	int			distidx = -1;
	bool		registered_here = registry_lookup(RelationGetRelid(rel), &locks, &tokens);

	if (!registered_here &&
		OidIsValid(get_trigger_oid(RelationGetRelid(rel), RECLOCK_GUARD_TRIGGER, true)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of Citus distributed table \"%s\": it was protected before Citus distributed it",
						RelationGetRelationName(rel)),
				 errdetail("Its guard on the shards refuses every write: its locks are in the coordinator's lock table, not beside its shards."),
				 errhint("Protect it again: SELECT reclock_unprotect('%s'), then reclock_protect('%s') (with citus.enable_unsafe_triggers on for the unprotect).",
						 RelationGetRelationName(rel), RelationGetRelationName(rel))));
	if (!registered_here)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of Citus distributed table \"%s\": it is not protected",
						RelationGetRelationName(rel)),
				 errdetail("The locks of a distributed table live in stores beside its shards, which reclock_protect() makes."),
				 errhint("Protect the table first: SELECT reclock_protect('%s').", RelationGetRelationName(rel))));
	keyvals = palloc(sizeof(Datum) * n);
	key = ReclockCanonicalKey(ki, keytext, keyvals);
	scan_metadata("pg_dist_partition", "logicalrelid", F_OIDEQ,
				  ObjectIdGetDatum(RelationGetRelid(rel)), partition_column, &column);
	distatt = column ? get_attnum(RelationGetRelid(rel), column) : InvalidAttrNumber;
	for (i = 0; i < n; i++)
		if (ki->attnums[i] == distatt)
			distidx = i;
	if (distidx < 0)
		elog(ERROR, "table \"%s\" has no distribution column in its key", RelationGetRelationName(rel));
	ReclockNewToken(token);
	ReclockHashToken(token, hashbuf);
	SET_VARSIZE(hash, VARHDRSZ + RECLOCK_HASH_LEN);
	memcpy(VARDATA(hash), hashbuf, RECLOCK_HASH_LEN);
	fence = ReclockStoreNextFence();

	types = palloc(sizeof(Oid) * (n + 7));
	vals = palloc(sizeof(Datum) * (n + 7));
	for (i = 0; i < n; i++)
	{
		types[i] = ki->typids[i];
		vals[i] = keyvals[i];
	}
	types[n] = TEXTOID;
	vals[n] = CStringGetTextDatum(key);
	types[n + 1] = TEXTOID;
	vals[n + 1] = CStringGetTextDatum(holder);
	types[n + 2] = INT8OID;
	vals[n + 2] = Int64GetDatum(ttl);
	types[n + 3] = INT8OID;
	vals[n + 3] = Int64GetDatum(fence);
	types[n + 4] = BYTEAOID;
	vals[n + 4] = PointerGetDatum(hash);
	/* reclock.reentry = token: the hashes of the tokens this transaction presents */
	types[n + 5] = BOOLOID;
	vals[n + 5] = BoolGetDatum(reclock_reentry == RECLOCK_REENTRY_TOKEN);
	types[n + 6] = BYTEAARRAYOID;
	{
		const uint8 *hashes;
		uint64		generation;
		int			np = reclock_reentry == RECLOCK_REENTRY_TOKEN ?
			ReclockPresentedTokens(&hashes, &generation) : 0;
		Datum	   *elems = palloc(sizeof(Datum) * (np + 1));

		for (i = 0; i < np; i++)
		{
			bytea	   *h = palloc(VARHDRSZ + RECLOCK_HASH_LEN);

			SET_VARSIZE(h, VARHDRSZ + RECLOCK_HASH_LEN);
			memcpy(VARDATA(h), hashes + i * RECLOCK_HASH_LEN, RECLOCK_HASH_LEN);
			elems[i] = PointerGetDatum(h);
		}
		vals[n + 6] = PointerGetDatum(construct_array(elems, np, BYTEAOID, -1, false, TYPALIGN_INT));
	}

	callercxt = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* no shard move or split of the row's shard until this transaction ends */
	lock_store_shard(locks, keyvals[distidx]);
	exact = ReclockCitusExactTextBegin();
	if (SPI_execute_with_args(psprintf("SELECT g.reclock_acquired, g.reclock_holder, g.reclock_expires_at, g.reclock_fence, %s"
									   " FROM %s, LATERAL %s.reclock_citus_grant(tableoid, $%d, $%d, $%d, $%d, $%d, $%d, $%d) g"
									   " WHERE %s",
									   ReclockColumnListSql(RelationGetRelid(rel), n, ki->attnums),
									   ReclockRelationSql(rel), schema, n + 1, n + 2, n + 3, n + 4, n + 5,
									   n + 6, n + 7, ReclockKeyWhereSql(ki)),
							  n + 7, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not acquire row %s", key);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no row with key %s in table \"%s\"", key, RelationGetRelationName(rel))));
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	rowdesc = SPI_tuptable->tupdesc;
		char	   *lockholder = SPI_getvalue(row, rowdesc, 2);
		MemoryContext spicxt;
		HeapTuple	tup;

		/* a grant: its part on the row's node counts as a modification */
		if (DatumGetBool(SPI_getbinval(row, rowdesc, 1, &isnull)))
			mark_store_modified(tokens, keyvals[distidx], GetUserId(), RelationGetRelid(rel));
		spicxt = MemoryContextSwitchTo(callercxt);

		/* the result in the caller's memory, out of SPI's */
		result[0] = SPI_getbinval(row, rowdesc, 1, &isnull);
		result[1] = DatumGetBool(result[0]) ? UUIDPGetDatum(token) : (Datum) 0;
		nulls[1] = !DatumGetBool(result[0]);
		result[2] = CStringGetTextDatum(lockholder);
		result[3] = SPI_getbinval(row, rowdesc, 3, &isnull);
		result[4] = SPI_getbinval(row, rowdesc, 4, &isnull);
		tup = heap_form_tuple(tupdesc, result, nulls);
		/* a new grant (an extension keeps its fence), for "acquired" (c-notices) */
		memset(&citus_last_lock, 0, sizeof(citus_last_lock));
		if (DatumGetBool(result[0]) && DatumGetInt64(result[4]) == fence)
		{
			bool	   *knulls = palloc(sizeof(bool) * n);

			for (i = 0; i < n; i++)
				keyvals[i] = SPI_getbinval(row, rowdesc, 5 + i, &knulls[i]);
			citus_last_lock.found = true;
			citus_last_lock.relid = ki->rootid;
			citus_last_lock.key = ReclockKeyText(ki, keyvals, knulls);	/* caller's memory */
			citus_last_lock.holder = pstrdup(lockholder);
			citus_last_lock.fence = fence;
			citus_last_lock.expires_at = DatumGetTimestampTz(result[3]);
		}
		MemoryContextSwitchTo(spicxt);
		/* the token's route, in this transaction (its value printed exactly) */
		if (DatumGetBool(result[0]))
			route_write(RelationGetRelid(rel), hash, DatumGetInt64(result[4]),
						ki->typids[distidx], keyvals[distidx], DatumGetTimestampTz(result[3]));
		AtEOXact_GUC(true, exact);
		SPI_finish();
		return HeapTupleGetDatum(tup);
	}
}

/*
 * reclock_break of a protected distributed table's row, on the coordinator
 * after break's own checks (the caller owns the table): the lock row and
 * its grant's token hashes deleted from the store shards on the row's node
 * (routed by the distribution value, as the extension owner).  The key is
 * the row's own if the row is there (as acquire stored it), else the key's
 * canonical text.  Returns false (and *handled false) for a table that is
 * not registered: its locks, if any, are in the coordinator's lock table.
 * "Was live" is judged by the coordinator's clock.
 */
bool
ReclockCitusBreak(Relation rel, ReclockKeyInfo *ki, const char *keytext, bool *handled)
{
	int			exact;			/* ReclockCitusExactTextBegin() level */
	Oid			locks;
	Oid			tokens;
	int			n = ki->nkeys;
	Datum	   *keyvals = palloc(sizeof(Datum) * n);
	Oid		   *types = palloc(sizeof(Oid) * n);
	Datum		dist = (Datum) 0;
	Oid			disttype = InvalidOid;
	char	   *key;
	char	   *column = NULL;
	AttrNumber	distatt;
	int			i;
	bool		broken = false;
	Oid			save_userid;
	int			save_sec;
	MemoryContext callercxt = CurrentMemoryContext;
	int			level;

	*handled = false;
	memset(&citus_last_lock, 0, sizeof(citus_last_lock));
	if (!registry_lookup(RelationGetRelid(rel), &locks, &tokens))
		return false;
	*handled = true;
	key = ReclockCanonicalKey(ki, keytext, keyvals);
	scan_metadata("pg_dist_partition", "logicalrelid", F_OIDEQ,
				  ObjectIdGetDatum(RelationGetRelid(rel)), partition_column, &column);
	distatt = column ? get_attnum(RelationGetRelid(rel), column) : InvalidAttrNumber;
	for (i = 0; i < n; i++)
		types[i] = ki->typids[i];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	exact = ReclockCitusExactTextBegin();
	/* the row's own key, if the row is there (the caller's view of it) */
	if (SPI_execute_with_args(psprintf("SELECT %s FROM %s WHERE %s",
									   ReclockColumnListSql(RelationGetRelid(rel), n, ki->attnums),
									   ReclockRelationSql(rel), ReclockKeyWhereSql(ki)),
							  n, types, keyvals, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read row %s", key);
	if (SPI_processed == 1)
	{
		bool	   *knulls = palloc(sizeof(bool) * n);

		for (i = 0; i < n; i++)
			keyvals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &knulls[i]);
		key = ReclockKeyText(ki, keyvals, knulls);
	}
	for (i = 0; i < n; i++)
		if (ki->attnums[i] == distatt)
		{
			dist = keyvals[i];
			disttype = ki->typids[i];
		}
	if (!OidIsValid(disttype))
		elog(ERROR, "table \"%s\" has no distribution column in its key", RelationGetRelationName(rel));

	level = store_owner_begin(&save_userid, &save_sec);
	{
		Oid			ltypes[2] = {disttype, TEXTOID};
		Datum		lvals[2] = {dist, CStringGetTextDatum(key)};

		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = $1 AND key = $2 RETURNING fence, expires_at, holder",
										   qualified(locks)),
								  2, ltypes, lvals, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
			elog(ERROR, "could not end the lock of row %s", key);
	}
	if (SPI_processed == 1)
	{
		bool		isnull;
		int64		fence = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		TimestampTz expires_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		Oid			ttypes[2] = {disttype, INT8OID};
		Datum		tvals[2] = {dist, Int64GetDatum(fence)};

		char	   *holder = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

		broken = expires_at > ReclockNow();
		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = $1 AND fence = $2", qualified(tokens)),
								  2, ttypes, tvals, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not end the tokens of row %s", key);
		/* the lock broken, for "broken" (c-notices) */
		if (broken)
		{
			citus_last_lock.found = true;
			citus_last_lock.relid = ki->rootid;
			citus_last_lock.key = MemoryContextStrdup(callercxt, key);
			citus_last_lock.holder = MemoryContextStrdup(callercxt, holder);
			citus_last_lock.fence = fence;
			citus_last_lock.expires_at = expires_at;
		}
		routes_end(NULL, fence, true);
	}
	store_owner_end(save_userid, save_sec, level);
	AtEOXact_GUC(true, exact);
	SPI_finish();
	return broken;
}

/*
 * reclock_valid and reclock_release of a token that the coordinator's own
 * lock table does not know: its route found in the routing index
 * (reclock_citus_routes, one local index probe), then one statement routed
 * by the row's distribution value reads the grant on the row's node (its
 * token store shard joined with the lock store shard beside it).  The index
 * is never an authority: a route to a grant that is gone gives false, and so
 * does a token without a route.  Is the grant live (by the coordinator's
 * clock)?  With end (release), the grant's lock row and token hashes are
 * deleted there too, and its routes here.
 */
bool
ReclockCitusTokenLive(const pg_uuid_t *token, bool end)
{
	int			exact;			/* ReclockCitusExactTextBegin() level */
	bytea	   *hash;
	Route		route;
	bool		live = false;
	Oid			save_userid;
	int			save_sec;
	int			level;
	MemoryContext callercxt = CurrentMemoryContext;

	memset(&citus_last_lock, 0, sizeof(citus_last_lock));
	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(get_relname_relid(REGISTRY, ReclockExtensionSchema())) ||
		!ReclockCitusOnCoordinator())
		return false;
	hash = token_hash(token);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	exact = ReclockCitusExactTextBegin();
	level = store_owner_begin(&save_userid, &save_sec);
	if (route_find(hash, &route))
	{
		Oid			types[2] = {route.disttype, BYTEAOID};
		Datum		vals[2] = {route.dist, PointerGetDatum(hash)};
		bool		found;
		bool		isnull;
		int64		fence = 0;
		char	   *sql;

		/*
		 * Both stores' distribution values named: Citus routes it to one
		 * shard pair.  A release ends the grant there in the same statement:
		 * its lock row and its token hashes.
		 */
		if (end)
			sql = psprintf("WITH l AS (DELETE FROM %s l USING %s t"
						   " WHERE l.dist = $1 AND t.dist = $1 AND t.hash = $2 AND l.fence = t.fence"
						   " RETURNING l.fence, l.expires_at, l.key, l.holder),"
						   " t AS (DELETE FROM %s t WHERE t.dist = $1 AND t.fence IN (SELECT fence FROM l))"
						   " SELECT fence, expires_at, key, holder FROM l",
						   qualified(route.locks), qualified(route.tokens), qualified(route.tokens));
		else
			sql = psprintf("SELECT l.fence, l.expires_at, l.key, l.holder FROM %s t JOIN %s l"
						   " ON l.dist = t.dist AND l.fence = t.fence"
						   " WHERE t.dist = $1 AND l.dist = $1 AND t.hash = $2",
						   qualified(route.tokens), qualified(route.locks));
		if (SPI_execute_with_args(sql, 2, types, vals, NULL, !end, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not look up a token");
		found = SPI_processed == 1;
		if (found)
		{
			TimestampTz expires_at;

			fence = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			expires_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			live = expires_at > ReclockNow();
			/* the lock released, for "released" (c-notices) */
			if (end && live)
			{
				citus_last_lock.found = true;
				citus_last_lock.relid = route.table;
				citus_last_lock.key = MemoryContextStrdup(callercxt,
														  SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3));
				citus_last_lock.holder = MemoryContextStrdup(callercxt,
															 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4));
				citus_last_lock.fence = fence;
				citus_last_lock.expires_at = expires_at;
			}
		}
		/* a released grant's routes go; so does a route to a token that is gone */
		if (end)
			routes_end(hash, fence, found);
	}
	else
		live = ref_token_live(hash, end);
	store_owner_end(save_userid, save_sec, level);
	AtEOXact_GUC(true, exact);
	SPI_finish();
	return live;
}

/*
 * A token without a route: a grant of a protected reference table, whose
 * stores are reference tables (citusref.c: same columns, dist 0) read on
 * this node's placement.  Live by the coordinator's clock; with end the
 * grant's lock row and token hashes are deleted through Citus (every
 * placement).  Runs as the extension owner, in reclock's SPI connection.
 */
static bool
ref_token_live(bytea *hash, bool end)
{
	List	   *stores = NIL;
	ListCell   *lc;
	uint64		i;
	bool		live = false;

	run_sql(psprintf("SELECT locks::pg_catalog.oid, tokens::pg_catalog.oid FROM %s", registry_name()),
			SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid		   *pair = palloc(sizeof(Oid) * 2);
		Oid			table;
		bool		unsure;

		pair[0] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		pair[1] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		if (ReclockCitusKindOf(pair[1], &table, &unsure) == RECLOCK_CITUS_REFERENCE)
			stores = lappend(stores, pair);
	}
	foreach(lc, stores)
	{
		Oid		   *pair = lfirst(lc);
		Oid			htype[1] = {BYTEAOID};
		Datum		hval[1] = {PointerGetDatum(hash)};
		bool		isnull;
		Datum		dist;
		Oid			disttype;
		int64		fence;

		if (SPI_execute_with_args(psprintf("SELECT l.dist, l.fence, l.expires_at FROM %s t JOIN %s l"
										   " ON l.dist = t.dist AND l.fence = t.fence WHERE t.hash = $1",
										   qualified(pair[1]), qualified(pair[0])),
								  1, htype, hval, NULL, !end, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not look up a token");
		if (SPI_processed == 0)
			continue;
		dist = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		disttype = SPI_gettypeid(SPI_tuptable->tupdesc, 1);
		fence = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		live = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull)) >
			ReclockNow();
		if (end)
		{
			Oid			types[2] = {disttype, INT8OID};
			Datum		vals[2] = {dist, Int64GetDatum(fence)};

			if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = $1 AND fence = $2", qualified(pair[0])),
									  2, types, vals, NULL, false, 0) != SPI_OK_DELETE ||
				SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = $1 AND fence = $2", qualified(pair[1])),
									  2, types, vals, NULL, false, 0) != SPI_OK_DELETE)
				elog(ERROR, "could not end a lock");
		}
		break;
	}
	return live;
}

/* ---- routes (helper "routes", build plan step 8) ---- */

#define ROUTES		"reclock_citus_routes"

/*
 * A route is reclaimed once its grant's expiry (the worker's clock) is this
 * far behind the coordinator's clock, a few per acquire.
 */
#define ROUTE_GRACE_USECS	(5 * 60 * USECS_PER_SEC)
#define ROUTE_RECLAIM		4

/* reclock_citus_routes, schema-qualified and quoted */
static char *
routes_name(void)
{
	return quote_qualified_identifier(get_namespace_name(ReclockExtensionSchema()), ROUTES);
}

/* the SHA-256 hash of token, as a bytea */
static bytea *
token_hash(const pg_uuid_t *token)
{
	uint8		hashbuf[RECLOCK_HASH_LEN];
	bytea	   *hash = palloc(VARHDRSZ + RECLOCK_HASH_LEN);

	ReclockHashToken(token, hashbuf);
	SET_VARSIZE(hash, VARHDRSZ + RECLOCK_HASH_LEN);
	memcpy(VARDATA(hash), hashbuf, RECLOCK_HASH_LEN);
	return hash;
}

/*
 * The route of a token just granted (in an SPI connection, between
 * ReclockCitusExactTextBegin() and its end, so that dist prints exactly),
 * written as the extension owner in the acquiring transaction: a rollback
 * takes it away with the grant.  The grant's other routes (its holder's
 * earlier tokens, on a renewal) follow its expiry, and a few dead routes
 * are reclaimed when the transaction commits.
 */
static void
route_write(Oid table, bytea *hash, int64 fence, Oid disttype, Datum dist,
			TimestampTz expires_at)
{
	Oid			typoutput;
	bool		varlena;
	Oid			save_userid;
	int			save_sec;
	int			level;
	const char *routes = routes_name();

	getTypeOutputInfo(disttype, &typoutput, &varlena);
	level = store_owner_begin(&save_userid, &save_sec);
	routes_follow(fence, expires_at);
	{
		Oid			types[5] = {BYTEAOID, OIDOID, INT8OID, TEXTOID, TIMESTAMPTZOID};
		Datum		vals[5] = {PointerGetDatum(hash), ObjectIdGetDatum(table), Int64GetDatum(fence),
		CStringGetTextDatum(OidOutputFunctionCall(typoutput, dist)), TimestampTzGetDatum(expires_at)};

		if (SPI_execute_with_args(psprintf("INSERT INTO %s (hash, tbl, fence, dist, expires_at)"
										   " VALUES ($1, $2, $3, $4, $5)", routes),
								  5, types, vals, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not write a token's route");
	}
	/* a few dead routes, when this transaction commits (note_routes_reclaim) */
	note_routes_reclaim();
	store_owner_end(save_userid, save_sec, level);
}

/*
 * The route of a token (hash), in an SPI connection, as the extension
 * owner, between ReclockCitusExactTextBegin() and its end: its table's
 * stores (false if the table is no longer registered) and the row's
 * distribution value, read back from its exact text.
 */
static bool
route_find(bytea *hash, Route *route)
{
	Oid			types[1] = {BYTEAOID};
	Datum		vals[1] = {PointerGetDatum(hash)};
	bool		isnull;
	Oid			table;
	char	   *dist;
	Oid			typinput;
	Oid			typioparam;

	if (SPI_execute_with_args(psprintf("SELECT tbl::pg_catalog.oid, fence, dist FROM %s WHERE hash = $1",
									   routes_name()),
							  1, types, vals, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not look up a token's route");
	if (SPI_processed != 1)
		return false;
	table = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	route->fence = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	dist = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	route->table = table;
	if (!registry_lookup(table, &route->locks, &route->tokens))
		return false;
	route->disttype = get_atttype(route->tokens, get_attnum(route->tokens, "dist"));
	if (!OidIsValid(route->disttype))
		return false;
	getTypeInputInfo(route->disttype, &typinput, &typioparam);
	route->dist = OidInputFunctionCall(typinput, dist, typioparam, -1);
	return true;
}

/* routes of a grant that ended (by_fence), and the route of hash (if any), deleted */
static void
routes_end(bytea *hash, int64 fence, bool by_fence)
{
	Oid			htypes[1] = {BYTEAOID};
	Datum		hvals[1] = {PointerGetDatum(hash)};
	Oid			ftypes[1] = {INT8OID};
	Datum		fvals[1] = {Int64GetDatum(fence)};
	Oid			save_userid;
	int			save_sec;
	int			level;

	level = store_owner_begin(&save_userid, &save_sec);
	if (hash != NULL &&
		SPI_execute_with_args(psprintf("DELETE FROM %s WHERE hash = $1", routes_name()),
							  1, htypes, hvals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete a token's route");
	if (by_fence &&
		SPI_execute_with_args(psprintf("DELETE FROM %s WHERE fence = $1", routes_name()),
							  1, ftypes, fvals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete a grant's routes");
	store_owner_end(save_userid, save_sec, level);
}

/* the routes of grant fence expire with it (a refresh, a renewal) */
static void
routes_follow(int64 fence, TimestampTz expires_at)
{
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		vals[2] = {Int64GetDatum(fence), TimestampTzGetDatum(expires_at)};
	Oid			save_userid;
	int			save_sec;
	int			level;

	level = store_owner_begin(&save_userid, &save_sec);
	if (SPI_execute_with_args(psprintf("UPDATE %s SET expires_at = $2 WHERE fence = $1", routes_name()),
							  2, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update a grant's routes");
	store_owner_end(save_userid, save_sec, level);
}

/* a table's routes, when its stores go (unprotect, DROP), in an SPI connection as the store owner */
static void
routes_forget(Oid table)
{
	if (OidIsValid(get_relname_relid(ROUTES, ReclockExtensionSchema())))
		run_sql(psprintf("DELETE FROM %s WHERE tbl::pg_catalog.oid = %u", routes_name(), table),
				SPI_OK_DELETE);
}

/* ---- review (helper c-review): the DDL watch of a protected distributed table ---- */

/*
 * Does protected distributed table relid have a live lock beside its
 * shards?  The DDL watch (ddl.c) asks it before a command that changes the
 * text of the table's keys goes on to the shards: such a command would
 * lose the locks, as on one node.  By the coordinator's clock; false where
 * Citus is not, on a worker, and for a table not registered.
 */
bool
ReclockCitusHasLiveLock(Oid relid)
{
	Oid			locks;
	Oid			tokens;
	Oid			save_userid;
	int			save_sec;
	int			level;
	bool		live;

	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(get_relname_relid(REGISTRY, ReclockExtensionSchema())) ||
		!ReclockCitusOnCoordinator() ||
		!registry_lookup(relid, &locks, &tokens))
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = store_owner_begin(&save_userid, &save_sec);
	live = store_has_live_lock(qualified(locks));
	store_owner_end(save_userid, save_sec, level);
	SPI_finish();
	return live;
}

/* is relid a protected distributed table (its registry row here)?  No SPI: any context */
bool
ReclockCitusRegistered(Oid relid)
{
	Oid			locks;
	Oid			tokens;

	return OidIsValid(get_extension_oid("citus", true)) &&
		OidIsValid(get_relname_relid(REGISTRY, ReclockExtensionSchema())) &&
		registry_lookup(relid, &locks, &tokens);
}

/*-------------------------------------------------------------------------
 * Change notices of protected distributed tables (helper c-notices; issue
 * 24, docs/citus.md step "Notices").
 *
 * acquired, released and broken are decided on the coordinator (above) and
 * queued there, in its transaction.  updated and deleted happen where the
 * row's shard is: its notice trigger fires on the worker.  A worker's
 * NOTIFY reaches the worker's listeners only, and under 2PC it cannot even
 * PREPARE, so the worker writes the payload into T's notice store (an
 * "outbox": a distributed table co-located with T, made by reclock_notify)
 * in the write's own local transaction, and the node that started the
 * distributed transaction collects it before Citus commits the workers:
 *
 * - At ExecutorStart a statement that writes a table with notices marks
 *   it.  Outside a transaction block it also makes the transaction a Citus
 *   coordinated one (create_intermediate_result of an empty query: Citus's
 *   C function for that is not exported), or Citus would send a
 *   single-shard write without BEGIN, committed by the worker on its own.
 * - At pre-commit (reclock's callback runs before Citus's: PostgreSQL calls
 *   the latest registered first, and reclock registers after Citus's
 *   _PG_init) one query per marked table reads the outbox through Citus,
 *   calling reclock_citus_notice_take for each row, as the writing role.
 *   Citus sends the access of a placement over the connection that
 *   modified a co-located placement in this transaction, so the worker
 *   transaction that wrote the rows is the one that reads them (the rows of
 *   other transactions are invisible: none is ever committed).  The
 *   function first makes the worker's deferred constraints immediate (a
 *   failure fails this commit before anything is sent), then deletes the
 *   row and returns its payload, queued here with Async_Notify: sent when
 *   this transaction commits, dropped when it aborts.
 * - At the worker's pre-commit (and PREPARE) a row of its transaction left
 *   in an outbox shard (not collected) refuses the commit: a write is never
 *   committed without its notice.
 *
 * A write that does not come over a Citus connection in a transaction block
 * (a role connected to the worker, run_command_on_placements, local
 * execution) notifies the listeners of its own node, at its own commit.
 *-------------------------------------------------------------------------
 */
#include "access/parallel.h"
#include "commands/async.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/hsearch.h"
#include "utils/xid8.h"

#define NOTICE_SUFFIX	"_notices"
#define CITUS_INTERNAL_APPNAME	"citus_internal gpid="

/* the notice store's name for a lock store's (..._locks -> ..._notices), or NULL */
static char *
notices_name(const char *locksname)
{
	size_t		len = locksname ? strlen(locksname) : 0;

	if (len < 6 || strcmp(locksname + len - 6, "_locks") != 0)
		return NULL;
	return psprintf("%.*s%s", (int) (len - 6), locksname, NOTICE_SUFFIX);
}

/* T's notice store on this node (InvalidOid: notices off, or not protected) */
static Oid
notices_store(Oid table)
{
	Oid			locks;
	Oid			tokens;
	char	   *name;

	if (!registry_lookup(table, &locks, &tokens) ||
		(name = notices_name(get_rel_name(locks))) == NULL)
		return InvalidOid;
	return get_relname_relid(name, get_rel_namespace(locks));
}

/* drop the notice store beside lock store locks, if any (as the store owner, in SPI) */
static void
drop_notices_store(Oid locks)
{
	char	   *name = notices_name(get_rel_name(locks));
	Oid			outbox;

	if (name != NULL && OidIsValid(outbox = get_relname_relid(name, get_rel_namespace(locks))))
		run_sql(psprintf("DROP TABLE %s", qualified(outbox)), SPI_OK_UTILITY);
}

static void
make_notices_store(Relation rel, void *arg)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			locks;
	Oid			tokens;
	AttrNumber	attnum = get_attnum(relid, (const char *) arg);
	Oid			typid;
	int32		typmod;
	Oid			collid;
	char	   *type;
	char	   *name;

	if (!registry_lookup(relid, &locks, &tokens) ||
		(name = notices_name(get_rel_name(locks))) == NULL)
		elog(ERROR, "table \"%s\" has no lock store", RelationGetRelationName(rel));
	if (OidIsValid(get_relname_relid(name, get_rel_namespace(locks))))
		return;
	get_atttypetypmodcoll(relid, attnum, &typid, &typmod, &collid);
	type = format_type_with_typemod(typid, typmod);
	if (OidIsValid(collid))
		type = psprintf("%s COLLATE %s", type, generate_collation_name(collid));
	name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(locks)), name);
	run_sql(psprintf("CREATE TABLE %s ("
					 "dist %s NOT NULL,"
					 " xid pg_catalog.xid8 NOT NULL,"
					 " n pg_catalog.int8 NOT NULL,"
					 " payload pg_catalog.text NOT NULL) USING heap", name, type), SPI_OK_UTILITY);
	/* a move of the shard group by logical replication needs one (review6_notify_move) */
	run_sql(psprintf("ALTER TABLE %s REPLICA IDENTITY FULL", name), SPI_OK_UTILITY);
	run_sql(psprintf("SELECT pg_catalog.create_distributed_table('%s', 'dist', colocate_with => %s)",
					 name, quote_literal_cstr(qualified(relid))), SPI_OK_SELECT);
	/*
	 * The coordinator collects as the writing role, over the connection that
	 * wrote: anyone may read it (uncommitted rows of other transactions are
	 * invisible, and no row is ever committed), none may write it.
	 */
	run_sql(psprintf("REVOKE ALL ON %s FROM PUBLIC", name), SPI_OK_UTILITY);
	run_sql(psprintf("GRANT SELECT ON %s TO PUBLIC", name), SPI_OK_UTILITY);
}

static void
drop_notices(Relation rel, void *arg)
{
	Oid			locks;
	Oid			tokens;

	if (registry_lookup(RelationGetRelid(rel), &locks, &tokens))
		drop_notices_store(locks);
}

static void forget_notifying(void);

/*
 * reclock_notify of a table Citus manages: on a protected distributed table
 * (on the coordinator), make or drop its notice store; refuse the rest.
 */
void
ReclockCitusNotify(Relation rel, ReclockCitusKind kind, bool enabled)
{
	Oid			locks;
	Oid			tokens;
	char	   *column;

	if (kind == RECLOCK_CITUS_NONE)
		return;
	if (kind != RECLOCK_CITUS_DISTRIBUTED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot switch change notices of table \"%s\": it is managed by Citus",
						RelationGetRelationName(rel)),
				 errdetail("reclock sends change notices of hash-distributed tables only, switched on the coordinator.")));
	if (!ReclockCitusOnCoordinator())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot switch change notices of Citus distributed table \"%s\" on a worker",
						RelationGetRelationName(rel)),
				 errhint("Call reclock_notify() on the coordinator.")));
	if (!registry_lookup(RelationGetRelid(rel), &locks, &tokens))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot switch change notices of Citus distributed table \"%s\": it is not protected",
						RelationGetRelationName(rel)),
				 errdetail("The notices of a distributed table's rows are carried from its workers through stores that reclock_protect() makes."),
				 errhint("Protect the table first: SELECT reclock_protect('%s').", RelationGetRelationName(rel))));
	/* this transaction's later statements ask again (notifying_table) */
	forget_notifying();
	if (!enabled)
	{
		as_store_owner(drop_notices, rel, NULL);
		return;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	column = MemoryContextStrdup(CurTransactionContext, distribution_column(rel));
	SPI_finish();
	as_store_owner(make_notices_store, rel, column);
}

/*
 * This transaction's notice bookkeeping: on a worker, the outbox shards it
 * wrote (checked at pre-commit); on the coordinator, the notifying tables
 * its statements wrote (collected at pre-commit).  In TopTransactionContext,
 * forgotten at the transaction's end.
 */
static List *notice_shards = NIL;
static List *notice_tables = NIL;
static List *notice_users = NIL;	/* who wrote each of notice_tables */
static bool notice_coordinated = false;	/* made a Citus coordinated transaction */
static LocalTransactionId notice_lxid = InvalidLocalTransactionId;
static int64 notice_seq = 0;
static void citus_notices_xact(XactEvent event, void *arg);

static void
notice_state(void)
{
	static bool registered = false;

	if (!registered)
	{
		ReclockOnXactEvent(RECLOCK_XACT_CITUS_NOTICES, citus_notices_xact);
		registered = true;
	}
	if (notice_lxid != MY_LXID)
	{
		notice_shards = NIL;
		notice_tables = NIL;
		notice_users = NIL;
		notice_coordinated = false;
		notice_lxid = MY_LXID;
	}
}

/* a backend Citus opened from an initiator (coordinator or MX worker)? */
static bool
citus_connection(void)
{
	return application_name != NULL &&
		strncmp(application_name, CITUS_INTERNAL_APPNAME, strlen(CITUS_INTERNAL_APPNAME)) == 0;
}

/* the hash range's lower end of shard shardrel (<table>_<shardid>) */
static char *
shard_minvalue(Relation shardrel)
{
	const char *sep = strrchr(RelationGetRelationName(shardrel), '_');
	ShardFind	sf = {0, NULL, InvalidOid, 0};

	if (sep == NULL)
		return NULL;
	sf.shardid = strtoi64(sep + 1, NULL, 10);
	scan_metadata("pg_dist_shard", "shardid", F_INT8EQ, Int64GetDatum(sf.shardid),
				  shard_match, &sf);
	return sf.found ? sf.minvalue : NULL;
}

/*
 * The notice trigger fired on a shard of a Citus table (AFTER UPDATE OR
 * DELETE of a row): InvalidOid when the table is not a protected
 * distributed one (the caller goes on as for any table), else that table,
 * with *off when its notices are off, else the row's key (and new key) and
 * the live lock whose token the writer presented (lock->found), as the
 * guard reads them here: the caller (guard.c) makes the payload.
 */
Oid
ReclockCitusShardNotice(Relation shardrel, ReclockKeyInfo *ki, TriggerData *td,
						bool *off, char **key, char **newkey, ReclockLock *lock)
{
	ShardStores *ss = shard_stores(shardrel, ki->citus_table);
	TupleDesc	desc = RelationGetDescr(shardrel);
	Datum		dist;
	bool		isnull;
	ShardLock	sl;
	TimestampTz now;

	*off = true;
	*key = NULL;
	*newkey = NULL;
	memset(lock, 0, sizeof(*lock));
	if (!ss->protected)
		return InvalidOid;
	if (!OidIsValid(notices_store(ss->table)))
		return ss->table;		/* notices off (the trigger goes with them) */
	*off = false;
	dist = heap_getattr(td->tg_trigtuple, ss->distatt, desc, &isnull);
	*key = ReclockTupleKey(ki, td->tg_trigtuple, desc);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		!ReclockKeyUnchanged(ki, td->tg_trigtuple, td->tg_newtuple, desc))
		*newkey = ReclockNewTupleKey(ki, td->tg_newtuple, desc);
	if (*newkey != NULL && strcmp(*newkey, *key) == 0)
		*newkey = NULL;
	now = ReclockNow();
	if (live_lock(ss, dist, *newkey ? *newkey : *key, now, &sl) && holds_token(ss, dist, sl.fence))
	{
		lock->found = true;
		lock->relid = ss->table;
		lock->holder = sl.holder;
		lock->fence = sl.fence;
		lock->expires_at = sl.expires_at;
	}
	return ss->table;
}

/*
 * The payload of a notice about a row of shard shardrel: false when this
 * node's own NOTIFY is the one to send it (the write is not part of a
 * distributed transaction started elsewhere: a role connected here, local
 * execution, run_command_on_placements), else true, the payload written to
 * the notice store shard beside the row for the starting node to collect.
 */
bool
ReclockCitusShardNoticeCarry(Relation shardrel, ReclockKeyInfo *ki, TriggerData *td,
							 const char *payload)
{
	ShardStores *ss = shard_stores(shardrel, ki->citus_table);
	TupleDesc	desc = RelationGetDescr(shardrel);
	Oid			outbox;
	char	   *minvalue;
	Oid			outshard;
	Datum		dist;
	bool		isnull;
	Oid			save_userid;
	int			save_sec;
	int			level;
	MemoryContext old;

	if (!citus_connection() || !IsTransactionBlock())
		return false;
	outbox = ss->protected ? notices_store(ss->table) : InvalidOid;
	minvalue = OidIsValid(outbox) ? shard_minvalue(shardrel) : NULL;
	outshard = minvalue ? colocated_shard(outbox, minvalue) : InvalidOid;
	if (!OidIsValid(outshard))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot write to table \"%s\": its notice store is not on this node",
						get_rel_name(ss->table)),
				 errdetail("Shard \"%s\" of a table with change notices has no notice store shard beside it here.",
						   RelationGetRelationName(shardrel)),
				 errhint("Turn the notices off and on again with reclock_notify() on the coordinator.")));
	dist = heap_getattr(td->tg_trigtuple, ss->distatt, desc, &isnull);
	{
		Oid			types[3] = {TupleDescAttr(desc, ss->distatt - 1)->atttypid, INT8OID, TEXTOID};
		Datum		vals[3] = {dist, Int64GetDatum(++notice_seq), CStringGetTextDatum(payload)};

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		level = store_owner_begin(&save_userid, &save_sec);
		if (SPI_execute_with_args(psprintf("INSERT INTO %s (dist, xid, n, payload)"
										   " VALUES ($1, pg_catalog.pg_current_xact_id(), $2, $3)",
										   qualified(outshard)),
								  3, types, vals, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not queue a change notice");
		store_owner_end(save_userid, save_sec, level);
		SPI_finish();
	}
	notice_state();
	old = MemoryContextSwitchTo(TopTransactionContext);
	notice_shards = list_append_unique_oid(notice_shards, outshard);
	MemoryContextSwitchTo(old);
	return true;
}

PG_FUNCTION_INFO_V1(reclock_citus_notice_take);

static LocalTransactionId take_lxid = InvalidLocalTransactionId;

/*
 * reclock_citus_notice_take(shard oid, xid xid8, n int8) returns text: on a
 * worker, for the coordinator's collection, the payload of one row of an
 * outbox shard written by this very transaction, deleted (NULL for any
 * other row).  Anyone may call it: it takes only the caller's own notices.
 */
Datum
reclock_citus_notice_take(PG_FUNCTION_ARGS)
{
	Oid			shard = PG_GETARG_OID(0);
	FullTransactionId xid = PG_GETARG_FULLTRANSACTIONID(1);
	int64		n = PG_GETARG_INT64(2);
	FullTransactionId mine = GetTopFullTransactionIdIfAny();
	char	   *name = get_rel_name(shard);
	unsigned int relid;
	long long	shardid;
	int			end = 0;
	char	   *payload = NULL;
	Oid			save_userid;
	int			save_sec;
	int			level;
	Oid			types[2] = {XID8OID, INT8OID};
	Datum		vals[2] = {PG_GETARG_DATUM(1), Int64GetDatum(n)};

	if (!FullTransactionIdIsValid(mine) || !FullTransactionIdEquals(mine, xid))
		PG_RETURN_NULL();
	/*
	 * The coordinator is committing: this transaction's deferred
	 * constraints and triggers are checked now, so that a failure fails the
	 * coordinator's commit before it sends the notices (under 1PC Citus
	 * would only warn about a worker whose COMMIT fails).
	 */
	if (take_lxid != MY_LXID)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		run_sql("SET CONSTRAINTS ALL IMMEDIATE", SPI_OK_UTILITY);
		SPI_finish();
		take_lxid = MY_LXID;
	}
	/* an outbox shard of reclock's: reclock_store_<oid>_notices_<shardid> */
	if (name == NULL || get_rel_namespace(shard) != ReclockExtensionSchema() ||
		sscanf(name, "reclock_store_%u_notices_%lld%n", &relid, &shardid, &end) != 2 ||
		name[end] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %u is not a shard of a reclock notice store", shard)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = store_owner_begin(&save_userid, &save_sec);
	if (SPI_execute_with_args(psprintf("DELETE FROM ONLY %s WHERE xid = $1 AND n = $2 RETURNING payload",
									   qualified(shard)),
							  2, types, vals, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "could not take a change notice");
	store_owner_end(save_userid, save_sec, level);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		payload = isnull ? NULL : text_to_cstring(DatumGetTextPP(d));
	}
	SPI_finish();
	if (payload == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(payload));
}

/* a worker's pre-commit: every notice of this transaction was collected */
static void
check_collected(void)
{
	ListCell   *lc;

	foreach(lc, notice_shards)
	{
		Oid			shard = lfirst_oid(lc);
		Oid			save_userid;
		int			save_sec;
		int			level;
		bool		left;

		if (get_rel_name(shard) == NULL)
			continue;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		level = store_owner_begin(&save_userid, &save_sec);
		left = sql_value(psprintf("SELECT 1 FROM ONLY %s WHERE xid = pg_catalog.pg_current_xact_id() LIMIT 1",
								  qualified(shard))) != NULL;
		store_owner_end(save_userid, save_sec, level);
		SPI_finish();
		if (left)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot commit a write to a table with change notices: its notices were not collected"),
					 errdetail("This transaction came over a Citus connection, and the node that started it did not collect the notices of the rows it wrote here."),
					 errhint("Write tables with change notices through the coordinator (with reclock in its shared_preload_libraries), or turn the notices off with reclock_notify(table, false).")));
	}
}

static int
compare_payloads(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/*
 * The coordinator's pre-commit: collect the notices of the marked tables
 * from the workers' outbox shards, over the connections that wrote them,
 * as the writing role: the user the statement ran as (a SECURITY DEFINER
 * function's owner, a SET ROLE's role), for Citus keeps one connection per
 * user and refuses another user's query on placements a user modified in
 * this transaction.  Sorted by payload: rows of different shards have no
 * order between them.
 */
static void
collect_notices(void)
{
	const char *schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	List	   *tables = notice_tables;
	List	   *users = notice_users;
	ListCell   *lc;
	ListCell   *lu;

	notice_tables = NIL;
	notice_users = NIL;
	forboth(lc, tables, lu, users)
	{
		Oid			relid = lfirst_oid(lc);
		Oid			outbox;
		List	   *payloads = NIL;
		ListCell   *pc;
		uint64		i;
		Oid			save_userid;
		int			save_sec;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (!OidIsValid(outbox = notices_store(relid)))
		{
			SPI_finish();
			continue;
		}
		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(lfirst_oid(lu), save_sec | SECURITY_LOCAL_USERID_CHANGE);
		run_sql(psprintf("SELECT %s.reclock_citus_notice_take(o.tableoid, o.xid, o.n) FROM ONLY %s o",
						 schema, qualified(outbox)), SPI_OK_SELECT);
		SetUserIdAndSecContext(save_userid, save_sec);
		for (i = 0; i < SPI_processed; i++)
		{
			char	   *p = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (p != NULL)
				payloads = lappend(payloads, MemoryContextStrdup(TopTransactionContext, p));
		}
		SPI_finish();
		list_sort(payloads, compare_payloads);
		/* notify.c's channel; PREPARE was refused before (citus_notices_xact) */
		foreach(pc, payloads)
			Async_Notify("reclock", (char *) lfirst(pc));
	}
}

static void
citus_notices_xact(XactEvent event, void *arg)
{
	if (notice_lxid != MY_LXID)
		return;
	if (event == XACT_EVENT_PRE_PREPARE && notice_tables != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that wrote a table with reclock change notices"),
				 errdetail("Change notices are on for table \"%s\", and PostgreSQL cannot send NOTIFY from a prepared transaction.",
						   get_rel_name(linitial_oid(notice_tables)) ? get_rel_name(linitial_oid(notice_tables)) : "?"),
				 errhint("Write tables with change notices outside two-phase transactions, or turn the notices off with reclock_notify(table, false).")));
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE)
	{
		if (notice_tables != NIL || notice_shards != NIL)
		{
			/* SPI at pre-commit needs a snapshot of its own */
			PushActiveSnapshot(GetTransactionSnapshot());
			if (notice_tables != NIL)
				collect_notices();
			if (notice_shards != NIL)
				check_collected();
			PopActiveSnapshot();
		}
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
	{
		notice_shards = NIL;
		notice_tables = NIL;
		notice_users = NIL;
		notice_coordinated = false;
		notice_lxid = InvalidLocalTransactionId;
	}
}

/*
 * Is relid a distributed table with notices on?  Its notice store exists
 * (on every node: MX workers collect the notices of the writes they start
 * too).  Known for one transaction: reclock_notify on the coordinator
 * sends no invalidation to the workers.
 */
typedef struct NotifyingEntry
{
	Oid			relid;
	bool		notifying;
} NotifyingEntry;

static HTAB *notifying_cache = NULL;
static LocalTransactionId notifying_lxid = InvalidLocalTransactionId;

static void
forget_notifying(void)
{
	notifying_lxid = InvalidLocalTransactionId;
}

static bool
notifying_table(Oid relid)
{
	NotifyingEntry *e;
	bool		found;

	if (notifying_cache == NULL || notifying_lxid != MY_LXID)
	{
		HASHCTL		ctl;

		if (notifying_cache != NULL)
			hash_destroy(notifying_cache);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(NotifyingEntry);
		ctl.hcxt = TopMemoryContext;
		notifying_cache = hash_create("reclock notifying tables", 16, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		notifying_lxid = MY_LXID;
	}
	e = hash_search(notifying_cache, &relid, HASH_FIND, &found);
	if (found)
		return e->notifying;
	{
		Oid			table;
		bool		unsure;
		bool		notifying = false;

		if (ReclockCitusKindOf(relid, &table, &unsure) == RECLOCK_CITUS_DISTRIBUTED &&
			OidIsValid(get_extension_oid("reclock", true)))
			notifying = OidIsValid(notices_store(relid));
		e = hash_search(notifying_cache, &relid, HASH_ENTER, &found);
		e->notifying = notifying;
		return notifying;
	}
}

static ExecutorStart_hook_type prev_executor_start = NULL;
static void child_notices_mark(Oid relid);	/* c6-childnotices, below */

/* a statement that writes a notifying distributed table marks it (see above) */
static void
notices_executor_start(QueryDesc *queryDesc, int eflags)
{
	ListCell   *lc;

	/* citus.shard_count: Citus is loaded (else nothing is distributed) */
	if (IsTransactionState() && !IsParallelWorker() &&
		GetConfigOption("citus.shard_count", true, false) != NULL &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && queryDesc->plannedstmt != NULL)
	{
		foreach(lc, queryDesc->plannedstmt->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind != RTE_RELATION || rte->rellockmode != RowExclusiveLock ||
				rte->relkind != RELKIND_RELATION)
				continue;
			/* c6-childnotices: a child table marks the notifying tables above it */
			child_notices_mark(rte->relid);
			if (!notifying_table(rte->relid))
				continue;

			/*
			 * A backend Citus opened that writes the distributed table itself
			 * (not a shard) runs a function call Citus delegated here: its
			 * notices could be collected neither here (Citus refuses a
			 * distributed query in its backends outside the call) nor by the
			 * node that started the transaction (which does not know what the
			 * function writes).  Refused before anything is written.
			 */
			if (citus_connection())
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot write table \"%s\" in a function call that Citus delegated to a worker: its change notices are on",
								get_rel_name(rte->relid)),
						 errdetail("The notices of a write are collected by the node that started the transaction, which does not see the writes of a delegated function."),
						 errhint("Call the function without delegation (create_distributed_function without a distribution argument), or turn the notices off with reclock_notify(table, false).")));
			notice_state();
			{
				Oid			user = GetUserId();
				ListCell   *lt;
				ListCell   *lu;
				bool		seen = false;
				MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

				/* each (table, user) once: collected as that user */
				forboth(lt, notice_tables, lu, notice_users)
					if (lfirst_oid(lt) == rte->relid && lfirst_oid(lu) == user)
						seen = true;
				if (!seen)
				{
					notice_tables = lappend_oid(notice_tables, rte->relid);
					notice_users = lappend_oid(notice_users, user);
				}
				MemoryContextSwitchTo(old);
			}
			if (!IsTransactionBlock() && !notice_coordinated)
			{
				/*
				 * Outside a transaction block Citus sends a single-shard
				 * write without BEGIN: the worker would commit it on its
				 * own, before this transaction could collect its notices.
				 * create_intermediate_result (Citus's SQL API; the query
				 * writes an empty file here) makes this a coordinated
				 * transaction, whose later writes Citus sends in a
				 * transaction block.  (Citus's C function for that is not
				 * exported.)
				 */
				if (SPI_connect() != SPI_OK_CONNECT)
					elog(ERROR, "SPI_connect failed");
				run_sql("SELECT pg_catalog.create_intermediate_result('reclock_notices', 'SELECT 1 WHERE false')",
						SPI_OK_SELECT);
				SPI_finish();
				notice_coordinated = true;
			}
		}
	}
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* _PG_init (reclock.c) */
void
ReclockCitusNoticesInit(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = notices_executor_start;
}

/*=========================================================================
 * c-docs: documents over co-located distributed tables (build plan step 6)
 *
 * reclock_protect(child, parent => ...) of Citus tables is accepted only
 * when both are hash-distributed (one placement per shard), co-located,
 * and the foreign key contains the distribution column (as Citus itself
 * requires of a foreign key between distributed tables): then a child
 * row's parent row is in the parent's shard on the child shard's node, and
 * the parent's lock store shard is there too.  Everything else is refused
 * (0A000): reference or local parents, tables not co-located, a foreign key
 * without the distribution column, a parent protected before Citus
 * distributed it.
 *
 * The guard of a child shard (ReclockCitusChildGuard) is children.c's
 * (its c-docs block: it follows links and locks parent rows as children.c
 * does); it asks this file for the store shards beside a shard, the shard
 * of the same hash range of another table, and a lock read there
 * (ReclockCitusShardStores, ReclockCitusShardBeside, ReclockCitusShardLock,
 * below).
 *=========================================================================*/

static void
refuse_child_protect(Relation rel, Relation parent, const char *why, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot protect \"%s\" as a child table of \"%s\": %s",
					RelationGetRelationName(rel), RelationGetRelationName(parent), why),
			 errdetail("reclock guards a document over Citus tables when both tables are hash-distributed and co-located and the foreign key contains the distribution column: a child row's parent row is then on the child row's node."),
			 hint ? errhint("%s", hint) : 0));
}

static bool
partition_colocation(HeapTuple tup, TupleDesc desc, void *arg)
{
	bool		isnull;
	Datum		d = getattr_named(tup, desc, "colocationid", &isnull);

	*(int64 *) arg = isnull ? -1 : (int64) DatumGetInt32(d);
	return false;
}

/* the co-location group of a Citus table (-1: none) */
static int64
colocation_of(Oid table)
{
	int64		id = -1;

	scan_metadata("pg_dist_partition", "logicalrelid", F_OIDEQ, ObjectIdGetDatum(table),
				  partition_colocation, &id);
	return id;
}

/* reclock_protect(rel, parent => parent) where either is Citus's (see above) */
static void
check_citus_child(Relation rel, ReclockKeyInfo *ki, Relation parent, Oid fkoid)
{
	ReclockKeyInfo *pki = ReclockGetKeyInfo(parent);
	char	   *ccol;
	char	   *pcol;
	bool		parent_registered;
	HeapTuple	tup;
	int			nkeys;
	AttrNumber	conkey[INDEX_MAX_KEYS];
	AttrNumber	confkey[INDEX_MAX_KEYS];
	Oid			pf[INDEX_MAX_KEYS];
	Oid			pp[INDEX_MAX_KEYS];
	Oid			ff[INDEX_MAX_KEYS];
	int			i;

	if (pki->citus == RECLOCK_CITUS_REFERENCE)
		refuse_child_protect(rel, parent, "the parent is a Citus reference table",
							 "A reference table's rows are on every node, and a row lock is taken on one placement only: distribute the parent, co-located with the child table.");
	if (ki->citus != RECLOCK_CITUS_DISTRIBUTED || pki->citus != RECLOCK_CITUS_DISTRIBUTED)
		refuse_child_protect(rel, parent,
							 ki->citus == RECLOCK_CITUS_NONE ? "the child table is not a Citus distributed table, and its parent is managed by Citus" :
							 pki->citus == RECLOCK_CITUS_NONE ? "the parent is not a Citus distributed table" :
							 "both tables must be Citus distributed tables",
							 "Distribute both tables by hash, co-located, with the foreign key containing the distribution column.");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ccol = MemoryContextStrdup(CurTransactionContext, distribution_column(rel));
	pcol = MemoryContextStrdup(CurTransactionContext, distribution_column(parent));
	parent_registered = registered(RelationGetRelid(parent));
	SPI_finish();
	if (colocation_of(RelationGetRelid(rel)) != colocation_of(RelationGetRelid(parent)))
		refuse_child_protect(rel, parent, "it is not co-located with the parent",
							 "Distribute the child table with colocate_with => the parent table.");
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(fkoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for constraint %u", fkoid);
	DeconstructFkConstraintRow(tup, &nkeys, conkey, confkey, pf, pp, ff, NULL, NULL);
	ReleaseSysCache(tup);
	for (i = 0; i < nkeys; i++)
		if (conkey[i] == get_attnum(RelationGetRelid(rel), ccol) &&
			confkey[i] == get_attnum(RelationGetRelid(parent), pcol))
			break;
	if (i == nkeys)
		refuse_child_protect(rel, parent,
							 psprintf("its foreign key \"%s\" does not pair distribution column \"%s\" with the parent's \"%s\"",
									  get_constraint_name(fkoid), ccol, pcol),
							 "Make the distribution column part of the foreign key (and of the parent's primary key).");
	/* a parent with reclock's guard but no stores: its locks are not beside its rows */
	if (!parent_registered &&
		OidIsValid(get_trigger_oid(RelationGetRelid(parent), RECLOCK_GUARD_TRIGGER, true)))
		refuse_child_protect(rel, parent, "the parent was protected before Citus distributed it",
							 "Protect the parent again with reclock_protect(), then the child table.");
}

/*
 * What the guard of a Citus child shard (children.c, its c-docs block)
 * asks of the stores: they are this file's.
 */

/* T's store shards beside shardrel (a shard of T), or false: not protected */
bool
ReclockCitusShardStores(Relation shardrel, Oid table, ReclockCitusShard *out)
{
	/* (the guard's own entry stays: the child shard's guard asks for it next) */
	ShardStores saved = last_stores;
	ShardStores *ss = shard_stores(shardrel, table);

	out->protected = ss->protected;
	out->locks = ss->locks;
	out->tokens = ss->tokens;
	out->distatt = ss->distatt;
	last_stores = saved;
	return out->protected;
}

/* the shard of table other beside shardrel (a shard of table): the same hash range */
Oid
ReclockCitusShardBeside(Relation shardrel, Oid table, Oid other)
{
	const char *sep = strrchr(RelationGetRelationName(shardrel), '_');
	ShardFind	sf = {0, NULL, InvalidOid, 0};

	if (sep == NULL)
		return InvalidOid;
	sf.shardid = strtoi64(sep + 1, NULL, 10);
	scan_metadata("pg_dist_shard", "shardid", F_INT8EQ, Int64GetDatum(sf.shardid),
				  shard_match, &sf);
	if (!sf.found || sf.logical != table)
		return InvalidOid;
	return colocated_shard(other, sf.minvalue);
}

/* are two Citus tables in one co-location group? */
bool
ReclockCitusColocated(Oid a, Oid b)
{
	int64		ca = colocation_of(a);

	return ca >= 0 && ca == colocation_of(b);
}

/*
 * The live lock of (dist, key) in the store shards s (a settled read, with
 * a fresh snapshot), and whether this transaction presented its token.
 */
bool
ReclockCitusShardLock(ReclockCitusShard *s, Datum dist, const char *key,
					  ReclockLock *lock, bool *presented)
{
	ShardStores ss;
	ShardLock	sl;

	memset(&ss, 0, sizeof(ss));
	ss.protected = true;
	ss.locks = s->locks;
	ss.tokens = s->tokens;
	ss.distatt = s->distatt;
	memset(lock, 0, sizeof(*lock));
	*presented = false;
	if (!live_lock(&ss, dist, key, ReclockNow(), &sl))
		return false;
	lock->found = true;
	lock->holder = sl.holder;
	lock->acquired_by = sl.acquired_by;
	lock->fence = sl.fence;
	lock->expires_at = sl.expires_at;
	*presented = holds_token(&ss, dist, sl.fence);
	return true;
}

/* has a lock store shard a live lock? */
bool
ReclockCitusStoreHasLive(Oid locks)
{
	Relation	rel = table_open(locks, AccessShareLock);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	TimestampTz now = ReclockNow();
	HeapTuple	tup;
	bool		live = false;

	while (!live && (tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d = getattr_named(tup, RelationGetDescr(rel), "expires_at", &isnull);

		live = !isnull && DatumGetTimestampTz(d) > now;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return live;
}

/*
 * ---- c-moves: shard moves and splits racing a grant (build plan step 9) ----
 *
 * An acquire's or refresh's routed statement is a SELECT (F8): Citus takes
 * no shard metadata lock for it, so a shard move or split (which blocks
 * writes with an ExclusiveLock on the metadata of the co-located shards,
 * BlockWritesToShardList, then copies what is committed) could copy the
 * store shard while the grant was still uncommitted in it, and the grant
 * would commit into the old shard that the move then drops: the lock lost
 * at the new node (test/citus/specs/citus_move_race.spec).  So the
 * coordinator takes, before the routed statement, the lock that Citus's own
 * modifications take (AcquireMetadataLocks: ShareLock on the shard's
 * metadata, through Citus's lock_shard_metadata() as the store owner; the
 * store shard's tag is its co-location group's, so it is the data shard's
 * too): a move waits for the grant's transaction to end, and a grant waits
 * for a move in progress, then routes to the new placement.
 */

typedef struct HashShard
{
	int32		hash;			/* in */
	int64		shardid;		/* out: 0 if none */
} HashShard;

/* pg_dist_shard row whose hash range holds hs->hash */
static bool
hash_shard_match(HeapTuple tup, TupleDesc desc, void *arg)
{
	HashShard  *hs = (HashShard *) arg;
	bool		minnull;
	bool		maxnull;
	Datum		min = getattr_named(tup, desc, "shardminvalue", &minnull);
	Datum		max = getattr_named(tup, desc, "shardmaxvalue", &maxnull);
	bool		isnull;

	if (minnull || maxnull ||
		hs->hash < pg_strtoint32(TextDatumGetCString(min)) ||
		hs->hash > pg_strtoint32(TextDatumGetCString(max)))
		return true;
	hs->shardid = DatumGetInt64(getattr_named(tup, desc, "shardid", &isnull));
	return false;
}

/*
 * ShareLock on the metadata of the shard of store (a lock or token store,
 * distributed by its column dist) that holds dist, as Citus's router takes
 * it for a modification, held to the end of the transaction.  Runs in the
 * caller's SPI connection.  The shard is found again after the wait (a
 * split replaces it), with a fresh view of Citus's metadata.
 */
static void
lock_store_shard(Oid store, Datum dist)
{
	AttrNumber	attnum = get_attnum(store, "dist");
	Oid			typid;
	int32		typmod;
	Oid			collid;
	TypeCacheEntry *tce;
	HashShard	hs = {0, 0};
	int64		locked = 0;
	int			tries;
	Oid			save_userid;
	int			save_sec;
	int			level;

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "lock store %u has no column \"dist\"", store);
	get_atttypetypmodcoll(store, attnum, &typid, &typmod, &collid);
	tce = lookup_type_cache(typid, TYPECACHE_HASH_PROC_FINFO);
	if (!OidIsValid(tce->hash_proc_finfo.fn_oid))
		elog(ERROR, "type %s has no hash function", format_type_be(typid));
	/* the hash Citus routes by: the type's hash function under the column's collation */
	hs.hash = DatumGetInt32(FunctionCall1Coll(&tce->hash_proc_finfo, collid, dist));

	level = store_owner_begin(&save_userid, &save_sec);
	for (tries = 0; tries < 10; tries++)
	{
		Oid			types[1] = {INT8OID};
		Datum		vals[1];

		hs.shardid = 0;
		scan_metadata("pg_dist_shard", "logicalrelid", F_OIDEQ, ObjectIdGetDatum(store),
					  hash_shard_match, &hs);
		if (hs.shardid == 0 || hs.shardid == locked)
			break;
		vals[0] = Int64GetDatum(hs.shardid);
		if (SPI_execute_with_args(psprintf("SELECT pg_catalog.lock_shard_metadata(%d, ARRAY[$1])", ShareLock),
								  1, types, vals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not lock the metadata of shard " INT64_FORMAT, hs.shardid);
		locked = hs.shardid;
		/* a move or split that committed while we waited: Citus's caches see it */
		AcceptInvalidationMessages();
	}
	store_owner_end(save_userid, save_sec, level);
	if (hs.shardid != locked)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not lock the shard of a row of \"%s\": it was split again and again",
						get_rel_name(store)),
				 errhint("Try again.")));
}

/*
 * The worker part of a grant or refresh made to count as a modification in
 * Citus's accounting (docs/citus.md section 3, "Atomicity of an acquire
 * under failure"): a routed DELETE of no row from the token store shard
 * beside the row (co-located: Citus sends it over the connection that ran
 * the grant, F3), as the store owner.  Without it the connection counted as
 * read-only: under 1PC a worker that died before its COMMIT only gave a
 * WARNING and the coordinator's COMMIT succeeded, the grant lost with the
 * token handed out; under 2PC the part was not PREPAREd but committed after
 * the coordinator, lost likewise (test/citus/t/restart.sh).  Now the first
 * makes the coordinator's COMMIT fail (ErrorIfPostCommitFailedShardPlacements)
 * and the second is prepared and recovered by Citus (F10).
 *
 * Only when the caller (the user whose connection ran the grant or refresh)
 * is the store owner.  Citus keeps one connection per user: the store
 * owner's DELETE of another caller's grant went over a second connection,
 * leaving the grant's connection read-only all the same, and made Citus
 * refuse the caller's own writes of the row's shard group in that
 * transaction ("cannot perform query on placements that were modified in
 * this transaction by a different user"): an acquire after an UPDATE, an
 * UPDATE after an acquire or a refresh (test review4_roles).  Another
 * caller's grant counts as a write by a write of its own, on its own
 * connection: an INSERT of no row into T's marks store, as the caller
 * (c6-mark, at the end of the file: no statement on T, so none of T's
 * triggers, rules or policies take part, and it needs no right on T; test
 * review6_mark).  A table protected before its marks store existed keeps the
 * earlier mark until it is protected again: a routed UPDATE of no row of
 * the protected table itself (the
 * distribution value names the shard, so Citus sends it over the
 * connection that ran the grant; NO_ROW matches no row without reading one,
 * and Citus cannot prune on it), as the caller, who has
 * UPDATE on the table (acquire checked it; a refresh by a role without it
 * is left as it was).  No row matches, so no row trigger fires.  Test:
 * restart.sh, an application role's acquire across a worker crash.
 */
/*
 * rev5: the predicate that makes the mark's statement match no row without
 * reading one.  "column::text IS NULL" (and "hash IS NULL" of the store)
 * matched none, but only after the worker had read every row of the
 * distribution value, and a distribution column is often one column of the
 * key (a tenant's): every acquire and refresh read the whole tenant.  No
 * tuple has item number 0, so a TID scan of (0,0) reads nothing, whatever
 * the column's type; Citus prunes on the distribution value only.  Test:
 * review5_mark.
 */
#define NO_ROW "ctid OPERATOR(pg_catalog.=) '(0,0)'::pg_catalog.tid"

static void
mark_store_modified(Oid store, Datum dist, Oid caller, Oid table)
{
	Oid			types[1];
	Datum		vals[1] = {dist};
	Oid			save_userid;
	int			save_sec;
	int			level;
	int32		typmod;
	Oid			collid;

	get_atttypetypmodcoll(store, get_attnum(store, "dist"), &types[0], &typmod, &collid);
	if (caller != ReclockStoreOwner())
	{
		Relation	rel;
		const char *column;
		TypeCacheEntry *tce;

		/* c6-mark: an INSERT of no row into T's marks store, as the caller */
		if (OidIsValid(table) && mark_by_marks_store(table, types[0], dist, caller))
			return;
		/* a table protected before its marks store: the no-op UPDATE of T */
		tce = lookup_type_cache(types[0], TYPECACHE_EQ_OPR);
		if (!OidIsValid(table) || !OidIsValid(tce->eq_opr) ||
			pg_class_aclcheck(table, caller, ACL_UPDATE) != ACLCHECK_OK)
			return;
		rel = relation_open(table, AccessShareLock);
		column = distribution_column(rel);
		/*
		 * rev5: the statement reads the column too (its WHERE, its SET): a
		 * role with UPDATE but not SELECT of it, whose refresh passed before
		 * the mark, is left as a role without UPDATE (review5_refresh)
		 */
		if (pg_attribute_aclcheck(table, get_attnum(table, column), caller, ACL_SELECT) != ACLCHECK_OK &&
			pg_class_aclcheck(table, caller, ACL_SELECT) != ACLCHECK_OK)
		{
			relation_close(rel, AccessShareLock);
			return;
		}
		column = quote_identifier(column);
		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(caller, save_sec | SECURITY_LOCAL_USERID_CHANGE);
		if (SPI_execute_with_args(psprintf("UPDATE %s SET %s = %s WHERE %s %s $1 AND " NO_ROW,
										   ReclockRelationSql(rel), column, column, column,
										   ReclockOperatorSql(tce->eq_opr)),
								  1, types, vals, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not mark a grant as a modification");
		SetUserIdAndSecContext(save_userid, save_sec);
		relation_close(rel, AccessShareLock);
		return;
	}
	level = store_owner_begin(&save_userid, &save_sec);
	/* no row, but a task Citus cannot prune */
	if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = $1 AND " NO_ROW, qualified(store)),
							  1, types, vals, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not mark a grant as a modification");
	store_owner_end(save_userid, save_sec, level);
}

/*
 * c6-reclaim: a grant's reclaim of dead lock rows, at the commit of this
 * node's part.
 *
 * Storage stays bounded by the live locks without anyone scheduling a
 * sweep: each grant on a row's node deletes the token hashes of grants of
 * its distribution value that have no lock row any more (the grant it
 * replaced), and up to CITUS_RECLAIM dead lock rows of its store shard with
 * their hashes.  Not in the grant itself: a delete holds its row until the
 * transaction ends, and an acquire of that dead row by another session (or
 * another grant reclaiming the same hashes) would wait for whatever the
 * acquiring transaction does next, as long as the application keeps it
 * open (contract, "No role holds up another").  At commit nothing waits:
 * rows another transaction holds are skipped, a lock made live again since
 * is left (the expiry is judged again under the row lock), and an acquire
 * of a row deleted here waits for this commit only.  Test:
 * citus_reclaim_waits (and citus_reclaim for what is reclaimed).
 *
 * The coordinator's routing index is reclaimed the same way: each acquire
 * deletes up to ROUTE_RECLAIM routes of grants that ended more than
 * ROUTE_GRACE_USECS ago, when its transaction commits; in the acquire, the
 * deleted routes were held, and a release of such a token (whose routes_end
 * deletes its route) waited for the acquiring transaction.
 *
 * Not under SERIALIZABLE, and at PREPARE on a worker only: see
 * citus_reclaim_xact.  Under REPEATABLE READ the statements read with the
 * latest snapshot (reclaim_exec).  A transaction that does not reclaim
 * leaves its dead rows to the next grant of the store shard, or to
 * reclock_sweep().
 */
#define CITUS_RECLAIM	8

typedef struct CitusReclaim
{
	Oid			locks;
	Oid			tokens;
	Oid			disttype;
	Datum		dist;
} CitusReclaim;

static List *citus_reclaims = NIL;	/* in TopTransactionContext */
static bool citus_reclaim_routes = false;
static LocalTransactionId citus_reclaims_lxid = InvalidLocalTransactionId;
static bool citus_reclaim_callback = false;

static void citus_reclaim_xact(XactEvent event, void *arg);

static void
reclaim_begin(void)
{
	if (!citus_reclaim_callback)
	{
		ReclockOnXactEvent(RECLOCK_XACT_CITUS_RECLAIM, citus_reclaim_xact);
		citus_reclaim_callback = true;
	}
	if (ReclockNewTransaction(&citus_reclaims_lxid))
	{
		citus_reclaims = NIL;	/* its memory went with the old transaction */
		citus_reclaim_routes = false;
	}
}

static void
note_routes_reclaim(void)
{
	reclaim_begin();
	citus_reclaim_routes = true;
}

static void
note_citus_reclaim(ShardStores *ss, Oid disttype, Datum dist)
{
	MemoryContext oldcxt;
	CitusReclaim *r;
	ListCell   *lc;
	int16		typlen;
	bool		typbyval;

	reclaim_begin();
	get_typlenbyval(disttype, &typlen, &typbyval);
	foreach(lc, citus_reclaims)
	{
		r = lfirst(lc);
		if (r->locks == ss->locks && r->disttype == disttype &&
			datumIsEqual(r->dist, dist, typbyval, typlen))
			return;
	}
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	r = palloc(sizeof(CitusReclaim));
	r->locks = ss->locks;
	r->tokens = ss->tokens;
	r->disttype = disttype;
	r->dist = datumCopy(dist, typbyval, typlen);
	citus_reclaims = lappend(citus_reclaims, r);
	MemoryContextSwitchTo(oldcxt);
}

/* the deletes of one noted grant (in SPI, as the store owner) */
/*
 * One reclaim statement.  Under REPEATABLE READ with the latest snapshot,
 * not the transaction's: a dead row the transaction's snapshot sees may
 * have been made live since (its FOR UPDATE would fail the commit); what
 * is left is the moment between this snapshot and the row lock, where a
 * commit of that row makes this one fail with 40001 as any REPEATABLE READ
 * write may.
 */
static void
reclaim_exec(const char *sql, Oid type, Datum value, const char *what)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 1, &type);

	if (plan == NULL ||
		SPI_execute_snapshot(plan, &value, NULL,
							 IsolationUsesXactSnapshot() ? GetLatestSnapshot() : InvalidSnapshot,
							 InvalidSnapshot, false, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not reclaim %s", what);
	SPI_freeplan(plan);
}

static void
reclaim_beside(CitusReclaim *r, TimestampTz now, bool dead_rows)
{
	const char *locks = qualified(r->locks);
	const char *tokens = qualified(r->tokens);

	/* hashes of this distribution value's grants that have no lock row */
	reclaim_exec(psprintf("DELETE FROM %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
						  "SELECT t.ctid FROM %s t WHERE t.dist = $1 AND NOT EXISTS"
						  " (SELECT FROM %s l WHERE l.dist = t.dist AND l.fence = t.fence)"
						  " FOR UPDATE OF t SKIP LOCKED))",
						  tokens, tokens, locks),
				 r->disttype, r->dist, "the token hashes of ended grants");
	/* a few dead lock rows of the store shard, with their hashes */
	if (dead_rows)
		reclaim_exec(psprintf("WITH d AS (DELETE FROM %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
							  "SELECT ctid FROM %s WHERE expires_at <= $1 LIMIT %d FOR UPDATE SKIP LOCKED))"
							  " AND expires_at <= $1 RETURNING dist, fence)"
							  " DELETE FROM %s t USING d WHERE t.dist = d.dist AND t.fence = d.fence",
							  locks, locks, CITUS_RECLAIM, tokens),
					 TIMESTAMPTZOID, TimestampTzGetDatum(now), "dead locks");
}

static void
citus_reclaim_run(List *pending, bool routes)
{
	ListCell   *lc;
	Oid			save_userid;
	int			save_sec;
	int			level;
	TimestampTz now = ReclockNow();
	List	   *done = NIL;

	/* the stores are gone with the table, or the extension, in this transaction */
	foreach(lc, pending)
	{
		CitusReclaim *r = lfirst(lc);

		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(r->locks)) ||
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(r->tokens)))
			return;
	}
	/* the routing index is gone with the extension, in this transaction (review1) */
	if (routes && (!OidIsValid(get_extension_oid("reclock", true)) ||
				   !OidIsValid(get_relname_relid(ROUTES, ReclockExtensionSchema()))))
		return;
	/* at commit no statement has a snapshot: take the transaction's */
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = store_owner_begin(&save_userid, &save_sec);
	foreach(lc, pending)
	{
		CitusReclaim *r = lfirst(lc);

		/* dead rows once per store shard */
		reclaim_beside(r, now, !list_member_oid(done, r->locks));
		done = lappend_oid(done, r->locks);
	}
	if (routes)
	{
		const char *rname = routes_name();

		/* the oldest first, by the expiry index; none that another acquire is reclaiming */
		reclaim_exec(psprintf("DELETE FROM %s WHERE hash = ANY (ARRAY(SELECT hash FROM %s"
							  " WHERE expires_at < $1 ORDER BY expires_at LIMIT %d"
							  " FOR UPDATE SKIP LOCKED)) AND expires_at < $1",
							  rname, rname, ROUTE_RECLAIM),
					 TIMESTAMPTZOID, TimestampTzGetDatum(now - ROUTE_GRACE_USECS), "routes");
	}
	store_owner_end(save_userid, save_sec, level);
	SPI_finish();
	PopActiveSnapshot();
}

static void
citus_reclaim_xact(XactEvent event, void *arg)
{
	List	   *pending = citus_reclaims;
	bool		routes = citus_reclaim_routes;

	if (citus_reclaims_lxid != MY_LXID || (pending == NIL && !routes))
		return;
	citus_reclaims = NIL;
	citus_reclaim_routes = false;
	/*
	 * At PREPARE too, on a worker: Citus prepares a worker's part when the
	 * transaction wrote more than one node (an acquire of rows on two
	 * workers does), and commits it at once (review1_reclaim_2pc); the
	 * deleted rows are held until then.  Not on a coordinator, where a
	 * PREPARE is the application's, whose COMMIT PREPARED may come at any
	 * time.  Never under SERIALIZABLE (its reads at commit would take
	 * predicate locks).
	 */
	if (IsolationIsSerializable())
		return;
	if (event == XACT_EVENT_PRE_COMMIT ||
		(event == XACT_EVENT_PRE_PREPARE && !ReclockCitusOnCoordinator()))
		citus_reclaim_run(pending, routes && event == XACT_EVENT_PRE_COMMIT);
}

/*
 * c6-dropext: DROP EXTENSION reclock on the coordinator (called from the
 * utility hook, before the command runs): the stores of protected Citus
 * tables are Citus tables of their own, made at protect time and not
 * members of the extension, so the drop would leave them (with their shards
 * on the workers), and a later CREATE EXTENSION and protect of the same
 * table would fail on their names.  They go first, in the dropping
 * transaction: if the drop fails (no CASCADE while tables are protected, no
 * right), they come back with its rollback.  The locks in them go with the
 * extension, as the single-node lock table does.  Test: zz_drop_extension.
 */
/* collect every registry row's stores (scan_registry callback) */
static bool
registry_all(HeapTuple tup, TupleDesc desc, void *arg)
{
	List	  **stores = (List **) arg;
	bool		isnull;

	*stores = lappend_oid(*stores, DatumGetObjectId(getattr_named(tup, desc, "locks", &isnull)));
	*stores = lappend_oid(*stores, DatumGetObjectId(getattr_named(tup, desc, "tokens", &isnull)));
	return true;
}

static void
drop_all_stores(Relation unused, void *arg)
{
	Oid			registry = get_relname_relid(REGISTRY, ReclockExtensionSchema());
	int64		shardid = 0;
	Oid			placement;
	List	   *stores = NIL;
	ListCell   *lc;

	/*
	 * From this node's placement of the registry (the coordinator's rows,
	 * with its OIDs), never by an SQL read that a worker's placement may
	 * answer with its own (review1_localshards)
	 */
	scan_metadata("pg_dist_shard", "logicalrelid", F_OIDEQ, ObjectIdGetDatum(registry),
				  any_shard, &shardid);
	if (shardid == 0 || !OidIsValid(placement = shard_relation(registry, shardid)))
		return;
	{
		Relation	rel = table_open(placement, AccessShareLock);
		Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
		SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
		HeapTuple	tup;

		while (HeapTupleIsValid(tup = systable_getnext(scan)))
			registry_all(tup, RelationGetDescr(rel), &stores);
		systable_endscan(scan);
		UnregisterSnapshot(snapshot);
		table_close(rel, AccessShareLock);
	}
	foreach(lc, stores)
	{
		Oid			store = lfirst_oid(lc);

		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(store)))
			continue;
		if (foreach_current_index(lc) % 2 == 0)
		{
			drop_notices_store(store);
			drop_marks_store(store);	/* c6-mark */
		}
		run_sql(psprintf("DROP TABLE %s", qualified(store)), SPI_OK_UTILITY);
	}
}

void
ReclockCitusDropExtension(void)
{
	if (!OidIsValid(get_extension_oid("reclock", true)) ||
		!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(get_relname_relid(REGISTRY, ReclockExtensionSchema())) ||
		!ReclockCitusOnCoordinator())
		return;
	as_store_owner(drop_all_stores, NULL, NULL);
}

/*
 * c6-rr: reclock_cas_children of a Citus child table under REPEATABLE READ
 * or SERIALIZABLE.  Its rows are read, FOR UPDATE, on the parent row's
 * worker with that worker's snapshot, as on one node with the
 * transaction's; one node then counts the children with the latest snapshot
 * (the parent row is locked: no more can come), so that a child inserted or
 * moved in after the snapshot is a serialization failure instead of a
 * formset that matched without it.  Here that count is made on the worker,
 * by one routed statement called for the parent row itself (its shard's
 * OID and its ctid), as the caller: its rights and row-level security
 * apply as to the read.  The foreign key is found on the worker by its
 * name on the child shard (Citus names it <name>_<child shard id>) and must
 * reference the parent shard; its columns and operators are the worker's
 * own.  Test: citus_documents_rr (and the spec citus_documents_waits).
 */
int64
ReclockCitusChildrenLatest(Relation child, Relation parent, const char *conname,
						   int nkeys, const AttrNumber *refattnums,
						   const Oid *types, const Datum *values)
{
	Oid			parentid = RelationGetRelid(parent);
	StringInfoData sql;
	Oid			argtypes[INDEX_MAX_KEYS + 2];
	Datum		args[INDEX_MAX_KEYS + 2];
	int			i;
	int64		n;
	bool		isnull;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.reclock_citus_children_latest(p.tableoid, p.ctid, $%d, $%d) FROM %s p WHERE ",
					 quote_identifier(get_namespace_name(ReclockExtensionSchema())),
					 nkeys + 1, nkeys + 2, ReclockRelationSql(parent));
	for (i = 0; i < nkeys; i++)
	{
		TypeCacheEntry *tce = lookup_type_cache(types[i], TYPECACHE_EQ_OPR);

		if (!OidIsValid(tce->eq_opr))
			elog(ERROR, "no equality operator for type %u", types[i]);
		appendStringInfo(&sql, "%sp.%s %s $%d", i > 0 ? " AND " : "",
						 quote_identifier(get_attname(parentid, refattnums[i], false)),
						 ReclockOperatorSql(tce->eq_opr), i + 1);
		argtypes[i] = types[i];
		args[i] = values[i];
	}
	argtypes[nkeys] = TEXTOID;
	args[nkeys] = CStringGetTextDatum(quote_qualified_identifier(get_namespace_name(RelationGetNamespace(child)),
																 RelationGetRelationName(child)));
	argtypes[nkeys + 1] = NAMEOID;
	args[nkeys + 1] = DirectFunctionCall1(namein, CStringGetDatum(conname));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, nkeys + 2, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the child rows of row of table \"%s\"", RelationGetRelationName(parent));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update of a parent row"),
				 errdetail("A row of table \"%s\" changed after this transaction's snapshot was taken.",
						   RelationGetRelationName(parent)),
				 errhint("Retry the transaction.")));
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return n;
}

PG_FUNCTION_INFO_V1(reclock_citus_children_latest);

/* one array column of a foreign key's pg_constraint row, deconstructed */
static Datum *
fk_columns(HeapTuple contup, AttrNumber attno, Oid elemtype, int *n)
{
	bool		isnull;
	Datum		d = SysCacheGetAttr(CONSTROID, contup, attno, &isnull);
	Datum	   *elems;

	if (isnull)
		elog(ERROR, "null array in constraint %u", ((Form_pg_constraint) GETSTRUCT(contup))->oid);
	if (elemtype == INT2OID)
		deconstruct_array(DatumGetArrayTypeP(d), INT2OID, 2, true, TYPALIGN_SHORT, &elems, NULL, n);
	else
		deconstruct_array(DatumGetArrayTypeP(d), OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, n);
	return elems;
}

/*
 * review3: the name Citus gives a shard's copy of object name (its
 * AppendShardIdToName), suffix being "_<shard id>": the name and the
 * suffix, or, where that would not fit in an identifier, the name clipped,
 * "_", the name's hash in 8 hex digits and the suffix.
 */
static char *
citus_shard_object_name(const char *name, const char *suffix)
{
	int			len = strlen(name);
	int			slen = strlen(suffix);

	if (len < NAMEDATALEN - slen)
		return psprintf("%s%s", name, suffix);
	return psprintf("%.*s_%.8x%s",
					pg_mbcliplen(name, len, NAMEDATALEN - slen - 10), name,
					DatumGetUInt32(hash_any((const unsigned char *) name, len)), suffix);
}

/* the worker side (see above): reclock_citus_children_latest(regclass, tid, text, name) */
Datum
reclock_citus_children_latest(PG_FUNCTION_ARGS)
{
	Oid			pshard = PG_GETARG_OID(0);
	ItemPointer ptid = (ItemPointer) PG_GETARG_POINTER(1);
	char	   *childname = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *conname = NameStr(*PG_GETARG_NAME(3));
	Relation	prel;
	ReclockKeyInfo *ki;
	Oid			childid;
	Oid			cshard;
	const char *sep;
	char	   *shardfk;
	Oid			conoid;
	Datum	   *conkey;
	Datum	   *confkey;
	Datum	   *pfeqop;
	int			nkeys;
	int			n2;
	int			n3;
	StringInfoData sql;
	Oid			types[INDEX_MAX_KEYS];
	Datum		vals[INDEX_MAX_KEYS];
	char		nulls[INDEX_MAX_KEYS];
	Oid			tidtype[1] = {TIDOID};
	Datum		tidval[1] = {PointerGetDatum(ptid)};
	int			i;
	int64		count;
	bool		isnull;
	HeapTuple	contup;

	prel = table_open(pshard, AccessShareLock);
	ki = ReclockGetKeyInfo(prel);
	childid = RangeVarGetRelid(makeRangeVarFromNameList(textToQualifiedNameList(PG_GETARG_TEXT_PP(2))),
							   AccessShareLock, false);
	if (ki->citus != RECLOCK_CITUS_SHARD ||
		!OidIsValid(cshard = ReclockCitusShardBeside(prel, ki->citus_table, childid)) ||
		(sep = strrchr(get_rel_name(cshard), '_')) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" is not a shard of a Citus table with child table %s beside it",
						RelationGetRelationName(prel), childname)));
	/* the foreign key of the child shard, by its name there, to this shard */
	shardfk = citus_shard_object_name(conname, sep);
	conoid = get_relation_constraint_oid(cshard, shardfk, false);
	contup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(contup))
		elog(ERROR, "cache lookup failed for constraint %u", conoid);
	if (((Form_pg_constraint) GETSTRUCT(contup))->contype != CONSTRAINT_FOREIGN ||
		((Form_pg_constraint) GETSTRUCT(contup))->confrelid != pshard)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("constraint \"%s\" of \"%s\" is not a foreign key to \"%s\"",
						shardfk, get_rel_name(cshard), RelationGetRelationName(prel))));
	conkey = fk_columns(contup, Anum_pg_constraint_conkey, INT2OID, &nkeys);
	confkey = fk_columns(contup, Anum_pg_constraint_confkey, INT2OID, &n2);
	pfeqop = fk_columns(contup, Anum_pg_constraint_conpfeqop, OIDOID, &n3);
	ReleaseSysCache(contup);
	if (nkeys != n2 || nkeys != n3 || nkeys > INDEX_MAX_KEYS)
		elog(ERROR, "foreign key \"%s\" is malformed", shardfk);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the parent row's referenced values, as this transaction sees (and locked) it */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (i = 0; i < nkeys; i++)
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(get_attname(pshard, DatumGetInt16(confkey[i]), false)));
	appendStringInfo(&sql, " FROM %s WHERE ctid OPERATOR(pg_catalog.=) $1", ReclockRelationSql(prel));
	if (SPI_execute_with_args(sql.data, 1, tidtype, tidval, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the parent row");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update of a parent row"),
				 errhint("Retry the transaction.")));
	for (i = 0; i < nkeys; i++)
	{
		types[i] = SPI_gettypeid(SPI_tuptable->tupdesc, i + 1);
		vals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
	}
	/* the child rows of those values, with the latest snapshot */
	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM %s WHERE ",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(cshard)), get_rel_name(cshard)));
	for (i = 0; i < nkeys; i++)
		appendStringInfo(&sql, "%s$%d %s %s", i > 0 ? " AND " : "", i + 1,
						 ReclockOperatorSql(DatumGetObjectId(pfeqop[i])),
						 quote_identifier(get_attname(cshard, DatumGetInt16(conkey[i]), false)));
	{
		SPIPlanPtr	plan = SPI_prepare(sql.data, nkeys, types);

		if (plan == NULL ||
			SPI_execute_snapshot(plan, vals, nulls, GetLatestSnapshot(), InvalidSnapshot,
								 true, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not count the child rows");
	}
	count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	table_close(prel, AccessShareLock);
	PG_RETURN_INT64(count);
}

/*---------------------------------------------------------------------------
 * c6-addnode: a protected table's stores on a worker, named by its guard.
 *
 * Citus copies a reference table's placement to a node added later (and
 * moves shards) by binary COPY: the registry's regclass columns arrive
 * there as the coordinator's OIDs, which name nothing or another table
 * (review3_addnode).  So only the coordinator reads the registry (its rows
 * were all written by SQL); a worker finds T's stores through T's guard
 * trigger, whose argument stores=reclock_store_<n> names them
 * (reclock_store_<n>_locks and _tokens in reclock's schema).  Citus makes
 * that trigger on every node from the coordinator's definition (SQL), on T
 * and on each shard or placement, also on a node added later and on a
 * moved shard; it follows T by OID through RENAME and SET SCHEMA, and
 * pg_dump keeps its argument.
 *
 * Refused (no stores: the guard refuses every write, an acquire fails): a
 * guard without the argument, stores that are not here, stores not
 * co-located with T, and stores that the guard of another table of their
 * co-location group names too (a guard made by hand, by a role with the
 * TRIGGER privilege on that table: never guessed which is T's).
 *---------------------------------------------------------------------------
 */
#define STORES_ARG	"stores="

/* "reclock_store_<digits>" if name is that followed by suffix, else NULL */
static char *
store_stem(const char *name, const char *suffix)
{
	size_t		len = name ? strlen(name) : 0;
	size_t		slen = strlen(suffix);
	size_t		plen = strlen("reclock_store_");
	size_t		i;

	if (len <= plen + slen || strncmp(name, "reclock_store_", plen) != 0 ||
		strcmp(name + len - slen, suffix) != 0)
		return NULL;
	for (i = plen; i < len - slen; i++)
		if (name[i] < '0' || name[i] > '9')
			return NULL;
	return pnstrdup(name, len - slen);
}

/*
 * is foid reclock's guard of a Citus table (reclock_guard_citus or
 * reclock_guard_child_citus, which only reclock's owner may execute, so
 * that only reclock_protect makes such a guard: review7_guard)?
 */
static bool
is_guard_function(Oid foid)
{
	char	   *name = get_func_name(foid);

	return name != NULL && get_func_namespace(foid) == ReclockExtensionSchema() &&
		(strcmp(name, "reclock_guard_citus") == 0 || strcmp(name, "reclock_guard_child_citus") == 0);
}

/*
 * The stem that relid's guard names (its stores=... argument), or NULL:
 * read in pg_trigger by its index, without locking relid.
 */
static char *
guard_stem(Oid relid)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *stem = NULL;

	ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(RECLOCK_GUARD_TRIGGER));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 2, keys);
	if (HeapTupleIsValid(tup = systable_getnext(scan)) &&
		is_guard_function(((Form_pg_trigger) GETSTRUCT(tup))->tgfoid))
	{
		int16		nargs = ((Form_pg_trigger) GETSTRUCT(tup))->tgnargs;
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_trigger_tgargs, RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			bytea	   *args = DatumGetByteaPP(d);
			char	   *p = VARDATA_ANY(args);
			char	   *end = p + VARSIZE_ANY_EXHDR(args);
			int			i;

			for (i = 0; i < nargs && p < end; i++)
			{
				size_t		len = strnlen(p, end - p);

				if (len > strlen(STORES_ARG) && strncmp(p, STORES_ARG, strlen(STORES_ARG)) == 0)
					stem = store_stem(psprintf("%.*s_locks", (int) (len - strlen(STORES_ARG)),
											   p + strlen(STORES_ARG)), "_locks");
				p += len + 1;
			}
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return stem;
}

/* (colocation_of: the c-docs block above) */
typedef struct StemFind
{
	const char *stem;			/* in */
	Oid			table;			/* out: a table whose guard names it */
	int			n;				/* out: how many */
} StemFind;

static bool
stem_match(HeapTuple tup, TupleDesc desc, void *arg)
{
	StemFind   *sf = (StemFind *) arg;
	bool		isnull;
	Oid			relid = DatumGetObjectId(getattr_named(tup, desc, "logicalrelid", &isnull));
	char	   *stem = guard_stem(relid);

	if (stem != NULL && strcmp(stem, sf->stem) == 0)
	{
		sf->table = relid;
		sf->n++;
	}
	return true;
}

/*
 * The one Citus table of co-location group colocation whose guard names
 * stem's stores; InvalidOid if none, or more than one.
 */
static Oid
table_of_stem(int64 colocation, const char *stem)
{
	StemFind	sf = {stem, InvalidOid, 0};

	if (colocation < 0)
		return InvalidOid;
	scan_metadata("pg_dist_partition", "colocationid", F_INT4EQ, Int32GetDatum((int32) colocation),
				  stem_match, &sf);
	return sf.n == 1 ? sf.table : InvalidOid;
}

/*
 * T's stores on this node as T's guard names them: by name in reclock's
 * schema, this node's OIDs.  Any node; false if T has no guard naming
 * stores, they are not here, or the guard's claim is not T's alone.
 */
bool
ReclockCitusGuardStores(Oid table, Oid *locks, Oid *tokens)
{
	char	   *stem = guard_stem(table);
	int64		colocation;

	if (stem == NULL)
		return false;
	*locks = get_relname_relid(psprintf("%s_locks", stem), ReclockExtensionSchema());
	*tokens = get_relname_relid(psprintf("%s_tokens", stem), ReclockExtensionSchema());
	return OidIsValid(*locks) && OidIsValid(*tokens) &&
		(colocation = colocation_of(table)) >= 0 &&
		colocation_of(*locks) == colocation && colocation_of(*tokens) == colocation &&
		table_of_stem(colocation, stem) == table;
}

/*
 * The Citus table whose stores lock store locks (a logical store table) is,
 * as the guards on this node name them, or InvalidOid.
 */
Oid
ReclockCitusTableOfStores(Oid locks)
{
	char	   *stem = store_stem(get_rel_name(locks), "_locks");
	Oid			table;
	Oid			l;
	Oid			t;

	if (stem == NULL || get_rel_namespace(locks) != ReclockExtensionSchema() ||
		!OidIsValid(table = table_of_stem(colocation_of(locks), stem)) ||
		!ReclockCitusGuardStores(table, &l, &t) || l != locks)
		return InvalidOid;
	return table;
}

/*
 * The guard's argument that names T's stores ("stores=reclock_store_<n>"),
 * for reclock_protect to give T's guard (protect.c), or NULL if T has no
 * stores: from the registry, on the coordinator, in T's protecting
 * transaction (its stores were made just before).
 */
char *
ReclockCitusStoresArg(Oid relid)
{
	Oid			locks;
	Oid			tokens;
	char	   *stem;

	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!registry_lookup_oid(relid, &locks, &tokens) ||
		(stem = store_stem(get_rel_name(locks), "_locks")) == NULL)
		return NULL;
	return psprintf(STORES_ARG "%s", stem);
}

/* T's stores on this node: the registry's on the coordinator, T's guard's on a worker */
static bool
registry_lookup(Oid table, Oid *locks, Oid *tokens)
{
	if (ReclockCitusOnCoordinator())
		return registry_lookup_oid(table, locks, tokens);
	return ReclockCitusGuardStores(table, locks, tokens);
}

/*-------------------------------------------------------------------------
 * c6-mark: the marks store
 *
 * reclock_store_<oid>_marks (dist), beside T's lock and token stores
 * (distributed by dist, co-located with T: a move or split carries it with
 * them; made by make_stores, dropped with them), never holds a row: its
 * row trigger reclock_citus_mark, BEFORE INSERT OR UPDATE OR DELETE, skips
 * every row (returns NULL), on the coordinator's table and on each shard
 * (Citus copies the trigger to the shards, and to those a move or split
 * makes), and a CHECK (false) refuses any row that reaches it without the
 * trigger.  Every role may INSERT into it (no other right: UPDATE, DELETE,
 * TRUNCATE, and so LOCK TABLE in a mode stronger than ROW EXCLUSIVE, are
 * the store owner's), and an INSERT of no row is the write mark of an
 * application role's acquire or refresh: routed by the row's distribution
 * value to the row's shard group, as the caller (so over the connection
 * that ran the grant), and a modification in Citus's accounting (a
 * MODIFY_TASK: the connection's placement access had DML), without a
 * statement on the application's table: none of its triggers, rules or
 * row-level security policies take part, and it needs no right on it.
 *
 * Not DELETE of an empty table granted to PUBLIC: DELETE lets a role LOCK
 * the table in ACCESS EXCLUSIVE mode, and any role holding that lock would
 * stall every application role's acquire of T; INSERT allows ROW
 * EXCLUSIVE at most, which an INSERT's own lock does not wait for.
 *
 * Found by name beside the lock store (..._locks -> ..._marks), as the
 * notice store, and used only when the store owner owns it (a table of
 * that name made by another role would run its triggers as the caller).
 * A table protected before the marks store existed has none until it is
 * protected again (reclock_protect makes the missing store): until then its
 * application roles' mark is the routed no-op UPDATE of T itself (below).
 *-------------------------------------------------------------------------
 */
#define MARKS_SUFFIX	"_marks"
#define MARKS_TRIGGER	"reclock_citus_mark"

/* the marks store's name for a lock store's (..._locks -> ..._marks), or NULL */
static char *
marks_name(const char *locksname)
{
	size_t		len = locksname ? strlen(locksname) : 0;

	if (len < 6 || strcmp(locksname + len - 6, "_locks") != 0)
		return NULL;
	return psprintf("%.*s%s", (int) (len - 6), locksname, MARKS_SUFFIX);
}

/* the marks store beside lock store locks, if the store owner owns it */
static Oid
marks_beside(Oid locks)
{
	char	   *name = OidIsValid(locks) ? marks_name(get_rel_name(locks)) : NULL;
	Oid			marks;
	HeapTuple	tup;
	bool		ours = false;

	if (name == NULL || !OidIsValid(marks = get_relname_relid(name, get_rel_namespace(locks))))
		return InvalidOid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(marks));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		ours = form->relowner == ReclockStoreOwner() && form->relkind == RELKIND_RELATION;
		ReleaseSysCache(tup);
	}
	return ours ? marks : InvalidOid;
}

/* T's marks store on this node (InvalidOid: not protected, or none) */
static Oid
marks_store(Oid table)
{
	Oid			locks;
	Oid			tokens;

	if (!registry_lookup(table, &locks, &tokens))
		return InvalidOid;
	return marks_beside(locks);
}

/* make T's marks store beside lock store locks unless it is there (as the store owner, in SPI) */
static void
make_marks_store(Oid relid, const char *type, Oid locks)
{
	char	   *name = OidIsValid(locks) ? marks_name(get_rel_name(locks)) : NULL;
	const char *schema;
	int			tlevel;

	if (name == NULL)
		elog(ERROR, "table \"%s\" has no lock store", get_rel_name(relid));
	/* there (a protect again); a table of its name that is not ours makes CREATE fail */
	if (OidIsValid(marks_beside(locks)))
		return;
	schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(locks)), name);
	/*
	 * The trigger skips a row before constraints are checked; without it (a
	 * DROP EXTENSION CASCADE drops it and leaves the store) the CHECK
	 * refuses every row
	 */
	run_sql(psprintf("CREATE TABLE %s (dist %s NOT NULL, CONSTRAINT reclock_no_row CHECK (false)) USING heap",
					 name, type), SPI_OK_UTILITY);
	/*
	 * A shard move by logical replication (Citus's default transfer mode,
	 * and the rebalancer's) refuses a shard group with a table that has no
	 * replica identity; the store has no key, and no row to identify
	 */
	run_sql(psprintf("ALTER TABLE %s REPLICA IDENTITY FULL", name), SPI_OK_UTILITY);
	run_sql(psprintf("SELECT pg_catalog.create_distributed_table('%s', 'dist', colocate_with => %s)",
					 name, quote_literal_cstr(qualified(relid))), SPI_OK_SELECT);
	tlevel = ReclockCitusTriggersBegin(RECLOCK_CITUS_DISTRIBUTED);
	run_sql(psprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s.%s()",
					 MARKS_TRIGGER, name, schema, MARKS_TRIGGER), SPI_OK_UTILITY);
	ReclockCitusTriggersEnd(tlevel);
	run_sql(psprintf("REVOKE ALL ON %s FROM PUBLIC", name), SPI_OK_UTILITY);
	run_sql(psprintf("GRANT INSERT ON %s TO PUBLIC", name), SPI_OK_UTILITY);
}

/* drop the marks store beside lock store locks, if any (as the store owner, in SPI) */
static void
drop_marks_store(Oid locks)
{
	char	   *name = OidIsValid(locks) ? marks_name(get_rel_name(locks)) : NULL;
	Oid			marks;

	if (name != NULL && OidIsValid(marks = get_relname_relid(name, get_rel_namespace(locks))))
		run_sql(psprintf("DROP TABLE %s", qualified(marks)), SPI_OK_UTILITY);
}

PG_FUNCTION_INFO_V1(reclock_citus_mark);

/*
 * BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW on a marks store (and its
 * shards): skip the row, so that the store never holds one.
 */
Datum
reclock_citus_mark(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_citus_mark: must be fired before insert, update or delete, for each row")));
	return PointerGetDatum(NULL);
}

/*
 * The write mark of caller's grant or refresh of a row of table (dist: its
 * distribution value, of type disttype): an INSERT of no row into T's marks
 * store, as the caller.  False if T has no marks store (protected before it).
 */
static bool
mark_by_marks_store(Oid table, Oid disttype, Datum dist, Oid caller)
{
	Oid			marks = marks_store(table);
	Oid			types[1] = {disttype};
	Datum		vals[1] = {dist};
	Oid			save_userid;
	int			save_sec;

	if (!OidIsValid(marks))
		return false;
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(caller, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_execute_with_args(psprintf("INSERT INTO %s (dist) VALUES ($1)", qualified(marks)),
							  1, types, vals, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not mark a grant as a modification");
	SetUserIdAndSecContext(save_userid, save_sec);
	return true;
}

/*-------------------------------------------------------------------------
 * c6-view: reclock_locks and reclock_sweep() over the stores of protected
 * Citus tables, on the coordinator (issue 24).
 *
 * The tables come from the registry's placement on this node (a local
 * read): on a node without Citus, on a worker, or with no table registered,
 * nothing more is read.  The stores are read through Citus as the extension
 * owner (search_path pinned, values printed exactly), one query per table
 * the caller may see (reclock_locks) or per table (the sweep's count).
 *
 * Those reads hold nothing: they run in a subtransaction that is rolled
 * back, which releases the relation locks they took on the coordinator and,
 * in a transaction Citus already coordinates, on the workers (Citus mirrors
 * the savepoint there), with citus.select_opens_transaction_block off so
 * that a transaction that has not yet touched a worker reads outside a
 * worker transaction block.  A reader of the view or a sweep in a
 * transaction left open thus holds no lock on any store that a DROP TABLE
 * or reclock_unprotect of another role's table, or an acquire, would wait
 * for.
 *
 * The sweep's deletes happen at the sweeping transaction's pre-commit
 * (RECLOCK_XACT_CITUS_SWEEP, after the checks, before Citus commits the
 * workers), none under PREPARE TRANSACTION, as on one node:
 * - a reference table's dead locks: one DELETE through Citus (every
 *   placement alike, by the coordinator's clock; Citus serializes it with
 *   the grants and refreshes of that store, so one in flight is waited for
 *   and then wins: the DELETE re-reads the row it waited for);
 * - a distributed table's dead locks: reclock_citus_sweep_lock on the row's
 *   node for each lock row dead by the coordinator's clock; it deletes the
 *   row only if it is dead by that node's clock too and nobody holds it
 *   (FOR UPDATE SKIP LOCKED: a renewal or acquire in flight is never waited
 *   for, and wins);
 * - the routes of grants dead for longer than their grace.
 * A failure there (a store dropped meanwhile, a Citus refusal) leaves that
 * table's dead locks for later with a WARNING; the commit goes on.
 *-------------------------------------------------------------------------
 */
#include "utils/memutils.h"
#include "utils/resowner.h"

typedef struct CitusSwept
{
	Oid			tbl;
	Oid			locks;
	Oid			tokens;
	bool		reference;
} CitusSwept;

/* every table in the registry (its placement here), on a coordinator; else NIL */
static List *
registered_tables(void)
{
	Oid			registry;
	int64		shardid = 0;
	Oid			placement;
	Relation	rel;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	List	   *tables = NIL;

	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(registry = get_relname_relid(REGISTRY, ReclockExtensionSchema())))
		return NIL;
	scan_metadata("pg_dist_shard", "logicalrelid", F_OIDEQ, ObjectIdGetDatum(registry),
				  any_shard, &shardid);
	if (shardid == 0 || !OidIsValid(placement = shard_relation(registry, shardid)) ||
		!ReclockCitusOnCoordinator())
		return NIL;
	rel = table_open(placement, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		CitusSwept *t = palloc0(sizeof(CitusSwept));
		Oid			table;
		bool		unsure;
		bool		isnull;

		t->tbl = DatumGetObjectId(getattr_named(tup, desc, "tbl", &isnull));
		t->locks = DatumGetObjectId(getattr_named(tup, desc, "locks", &isnull));
		t->tokens = DatumGetObjectId(getattr_named(tup, desc, "tokens", &isnull));
		if (get_rel_name(t->tbl) == NULL || get_rel_name(t->locks) == NULL ||
			get_rel_name(t->tokens) == NULL)
			continue;			/* dropped in this transaction: its rows go too */
		t->reference = ReclockCitusKindOf(t->tbl, &table, &unsure) == RECLOCK_CITUS_REFERENCE;
		tables = lappend(tables, t);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return tables;
}

/*
 * review3: store locks (the coordinator's Citus table) locked ACCESS SHARE
 * in the current (sub)transaction if nobody holds it exclusively, and
 * still there; false, without waiting, else.
 */
static bool
store_free(Oid locks)
{
	if (!ConditionalLockRelationOid(locks, AccessShareLock))
		return false;
	return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(locks));
}

/*
 * fn(t, arg) reading table t's stores through Citus: in a subtransaction
 * that is rolled back after it (every lock the read took released), in an
 * SPI connection, outside worker transaction blocks where Citus allows,
 * values printed exactly, as the extension owner.  False (with Citus's
 * error in *edata) where Citus refuses the read in this transaction (25001:
 * the transaction wrote the table's shards as another role, and Citus lets
 * no other role read them in it); any other error is raised.
 */
static bool
read_stores(void (*fn) (CitusSwept *t, void *arg), CitusSwept *t, void *arg, ErrorData **edata)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			exact;
		int			level;
		Oid			save_userid;
		int			save_sec;

		/*
		 * review3: never wait for another transaction that holds the store
		 * (a DROP TABLE or reclock_unprotect of the table in flight): that
		 * table is left out, as if gone (its locks go with it if it
		 * commits).  The lock is released with the subtransaction.
		 */
		if (store_free(t->locks))
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			exact = ReclockCitusExactTextBegin();
			(void) set_config_option("citus.select_opens_transaction_block", "off", PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
			level = store_owner_begin(&save_userid, &save_sec);
			fn(t, arg);
			store_owner_end(save_userid, save_sec, level);
			AtEOXact_GUC(true, exact);
			SPI_finish();
		}
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (e->sqlerrcode != ERRCODE_ACTIVE_SQL_TRANSACTION)
			ReThrowError(e);
		*edata = e;
		ok = false;
	}
	PG_END_TRY();
	if (ok)
	{
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	return ok;
}

typedef struct ViewRead
{
	TimestampTz now;
	MemoryContext cxt;
	List	   *rows;
} ViewRead;

static void
view_read(CitusSwept *t, void *arg)
{
	ViewRead   *vr = (ViewRead *) arg;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		vals[1] = {TimestampTzGetDatum(vr->now)};
	uint64		i;

	if (SPI_execute_with_args(psprintf("SELECT key, holder, acquired_by, fence, acquired_at, expires_at"
									   " FROM %s WHERE expires_at > $1",
									   qualified(t->locks)),
							  1, types, vals, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the locks of table \"%s\"", get_rel_name(t->tbl));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext oldcxt = MemoryContextSwitchTo(vr->cxt);
		ReclockCitusViewLock *l = palloc0(sizeof(ReclockCitusViewLock));
		bool		isnull;

		l->relid = t->tbl;
		l->key = pstrdup(SPI_getvalue(tup, desc, 1));
		l->holder = pstrdup(SPI_getvalue(tup, desc, 2));
		l->acquired_by = pstrdup(SPI_getvalue(tup, desc, 3));
		l->fence = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		l->acquired_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 5, &isnull));
		l->expires_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 6, &isnull));
		vr->rows = lappend(vr->rows, l);
		MemoryContextSwitchTo(oldcxt);
	}
}

/*
 * The live locks (by the coordinator's clock, now) of the protected Citus
 * tables that pass visible, for reclock_visible_locks: a table that does
 * not pass is not read at all.
 */
List *
ReclockCitusVisibleLocks(TimestampTz now, bool (*visible) (Oid relid))
{
	List	   *tables = registered_tables();
	ListCell   *lc;
	ViewRead	vr = {now, CurrentMemoryContext, NIL};

	foreach(lc, tables)
	{
		CitusSwept *t = lfirst(lc);
		ErrorData  *edata;

		if (!visible(t->tbl))
			continue;
		if (!read_stores(view_read, t, &vr, &edata))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot list the locks of Citus table \"%s\" in this transaction",
							get_rel_name(t->tbl)),
					 errdetail("%s", edata->message),
					 errhint("Read reclock_locks in a transaction that has not written the table as another role.")));
	}
	return vr.rows;
}

static bool citus_sweep_pending = false;
static LocalTransactionId citus_sweep_lxid = InvalidLocalTransactionId;
static bool citus_sweep_registered = false;
static List *citus_sweep_skipped = NIL;	/* in TopTransactionContext */
static void citus_sweep_xact(XactEvent event, void *arg);

static void
sweep_count(CitusSwept *t, void *arg)
{
	ViewRead   *vr = (ViewRead *) arg;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		vals[1] = {TimestampTzGetDatum(vr->now)};
	bool		isnull;

	if (SPI_execute_with_args(psprintf("SELECT pg_catalog.count(*) FROM %s WHERE expires_at <= $1",
									   qualified(t->locks)),
							  1, types, vals, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the dead locks of table \"%s\"", get_rel_name(t->tbl));
	vr->rows = lappend_int(vr->rows,
						   (int) Min(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 1, &isnull)),
									 PG_INT32_MAX));
}

/*
 * reclock_sweep() on a coordinator: how many locks of protected Citus
 * tables are dead by the coordinator's clock; they are deleted at the
 * transaction's pre-commit (citus_sweep_xact).  A table that Citus does
 * not let reclock read in this transaction (it wrote the table as another
 * role) is left out, with a WARNING.
 */
int64
ReclockCitusSweep(TimestampTz now)
{
	List	   *tables = registered_tables();
	ListCell   *lc;
	int64		n = 0;

	if (tables == NIL)
		return 0;
	if (citus_sweep_lxid != MY_LXID)
		citus_sweep_skipped = NIL;
	foreach(lc, tables)
	{
		CitusSwept *t = lfirst(lc);
		ViewRead	vr = {now, CurrentMemoryContext, NIL};
		ErrorData  *edata;

		if (read_stores(sweep_count, t, &vr, &edata))
			n += vr.rows != NIL ? linitial_int(vr.rows) : 0;	/* NIL: left out */
		else
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);

			citus_sweep_skipped = lappend_oid(citus_sweep_skipped, t->tbl);
			MemoryContextSwitchTo(oldcxt);
			ereport(WARNING,
					(errmsg("the dead locks of Citus table \"%s\" are not swept in this transaction",
							get_rel_name(t->tbl)),
					 errdetail("%s", edata->message),
					 errhint("Sweep in a transaction that has not written the table as another role.")));
		}
	}
	if (!citus_sweep_registered)
	{
		ReclockOnXactEvent(RECLOCK_XACT_CITUS_SWEEP, citus_sweep_xact);
		citus_sweep_registered = true;
	}
	citus_sweep_pending = true;
	citus_sweep_lxid = MY_LXID;
	return n;
}

/* one table's dead locks deleted, in the SPI connection, as the extension owner */
static void
sweep_table(CitusSwept *t, TimestampTz now)
{
	const char *schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		vals[1] = {TimestampTzGetDatum(now)};

	if (t->reference)
	{
		Datum	   *fences;
		Oid			ftypes[1] = {INT8ARRAYOID};
		Datum		fvals[1];
		uint64		i;
		bool		isnull;

		/* every placement alike; then the token hashes of the grants deleted */
		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = 0 AND expires_at <= $1 RETURNING fence",
										   qualified(t->locks)),
								  1, types, vals, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
			elog(ERROR, "could not delete the dead locks of table \"%s\"", get_rel_name(t->tbl));
		if (SPI_processed == 0)
			return;
		fences = palloc(sizeof(Datum) * SPI_processed);
		for (i = 0; i < SPI_processed; i++)
			fences[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		fvals[0] = PointerGetDatum(construct_array(fences, (int) SPI_processed, INT8OID,
												   sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = 0 AND fence = ANY ($1)",
										   qualified(t->tokens)),
								  1, ftypes, fvals, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete the token hashes of dead locks");
		return;
	}
	if (SPI_execute_with_args(psprintf("SELECT %s.reclock_citus_sweep_lock(l.tableoid, l.fence, $1)"
									   " FROM %s l WHERE l.expires_at <= $1",
									   schema, qualified(t->locks)),
							  1, types, vals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not delete the dead locks of table \"%s\"", get_rel_name(t->tbl));
}

/* the pre-commit part of a sweep: each table in a subtransaction of its own */
static void
citus_sweep_now(void)
{
	List	   *tables = registered_tables();
	ListCell   *lc;
	TimestampTz now = ReclockNow();
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	/* reference tables first: their DELETE may wait, before anything of the sweep is held */
	for (int pass = 0; pass < 2; pass++)
	{
		foreach(lc, tables)
		{
			CitusSwept *t = lfirst(lc);
			int			exact;
			int			level;
			Oid			save_userid;
			int			save_sec;

			if (t->reference != (pass == 0) || list_member_oid(citus_sweep_skipped, t->tbl))
				continue;
			BeginInternalSubTransaction(NULL);
			MemoryContextSwitchTo(cxt);
			PG_TRY();
			{
				/* review3: a store held by another transaction: left for later */
				if (store_free(t->locks) && store_free(t->tokens))
				{
					if (SPI_connect() != SPI_OK_CONNECT)
						elog(ERROR, "SPI_connect failed");
					exact = ReclockCitusExactTextBegin();
					level = store_owner_begin(&save_userid, &save_sec);
					sweep_table(t, now);
					store_owner_end(save_userid, save_sec, level);
					AtEOXact_GUC(true, exact);
					SPI_finish();
				}
				ReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(cxt);
				CurrentResourceOwner = owner;
			}
			PG_CATCH();
			{
				ErrorData  *edata;

				MemoryContextSwitchTo(cxt);
				edata = CopyErrorData();
				FlushErrorState();
				RollbackAndReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(cxt);
				CurrentResourceOwner = owner;
				ereport(WARNING,
						(errmsg("dead locks of table \"%s\" were not swept", get_rel_name(t->tbl)),
						 errdetail("%s", edata->message)));
				FreeErrorData(edata);
			}
			PG_END_TRY();
		}
	}

	/* the routes of grants dead for longer than their grace */
	if (OidIsValid(get_relname_relid(ROUTES, ReclockExtensionSchema())))
	{
		Oid			types[1] = {TIMESTAMPTZOID};
		Datum		vals[1] = {TimestampTzGetDatum(now - ROUTE_GRACE_USECS)};
		const char *routes = routes_name();
		int			level;
		Oid			save_userid;
		int			save_sec;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		level = store_owner_begin(&save_userid, &save_sec);
		/* none that an acquire or refresh in flight holds */
		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE hash = ANY (ARRAY(SELECT hash FROM %s"
										   " WHERE expires_at < $1 FOR UPDATE SKIP LOCKED)) AND expires_at < $1",
										   routes, routes),
								  1, types, vals, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not sweep routes");
		store_owner_end(save_userid, save_sec, level);
		SPI_finish();
	}
}

static void
citus_sweep_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT)
	{
		if (citus_sweep_pending && citus_sweep_lxid == MY_LXID &&
			OidIsValid(get_extension_oid("reclock", true)))
		{
			citus_sweep_pending = false;
			/* SPI at pre-commit needs a snapshot of its own */
			PushActiveSnapshot(GetTransactionSnapshot());
			citus_sweep_now();
			PopActiveSnapshot();
		}
		citus_sweep_pending = false;
		citus_sweep_skipped = NIL;
	}
	else
	{
		citus_sweep_skipped = NIL;	/* its memory went with the transaction */
		/*
		 * Not in a prepared transaction (as on one node): it would hold the
		 * rows it deleted until someone commits or rolls it back.  The dead
		 * locks stay for the next sweep.
		 */
		citus_sweep_pending = false;
	}
}

/* the token store shard beside lock store shard lockshard on this node, or InvalidOid */
static Oid
tokens_beside_locks(Oid lockshard)
{
	/* by name, as locks_beside_tokens: a node added later has the coordinator's OIDs in the registry */
	return store_beside(lockshard, "_locks", "_tokens");
}

PG_FUNCTION_INFO_V1(reclock_citus_sweep_lock);

/*
 * reclock_citus_sweep_lock(shard oid, fence int8, now timestamptz) returns
 * bool, on a lock row's node, called by the coordinator's sweep at its
 * pre-commit (as the extension owner; no one else may execute it): the lock
 * row of grant fence in lock store shard shard deleted, with its token
 * hashes beside it, if it is dead by now (the coordinator's clock) and by
 * this node's clock, and no one holds it (a renewal or acquire in flight is
 * skipped, never waited for; one that committed meanwhile made the row
 * live, or gave it another fence, and it is left alone).
 */
Datum
reclock_citus_sweep_lock(PG_FUNCTION_ARGS)
{
	Oid			shard = PG_GETARG_OID(0);
	int64		fence = PG_GETARG_INT64(1);
	TimestampTz now = Min(PG_GETARG_TIMESTAMPTZ(2), ReclockNow());
	Oid			tokshard = tokens_beside_locks(shard);
	Oid			save_userid;
	int			save_sec;
	int			level;
	bool		deleted;
	bool		isnull;
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		vals[2] = {Int64GetDatum(fence), TimestampTzGetDatum(now)};

	if (!OidIsValid(tokshard))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" is not a lock store shard of a protected Citus distributed table",
						get_rel_name(shard) ? get_rel_name(shard) : "?")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = store_owner_begin(&save_userid, &save_sec);
	if (SPI_execute_with_args(psprintf("WITH d AS (DELETE FROM ONLY %s WHERE ctid = ANY (ARRAY("
									   "SELECT ctid FROM ONLY %s WHERE fence = $1 AND expires_at <= $2 FOR UPDATE SKIP LOCKED))"
									   " AND fence = $1 AND expires_at <= $2 RETURNING dist, fence),"
									   " t AS (DELETE FROM ONLY %s t USING d WHERE t.dist = d.dist AND t.fence = d.fence)"
									   " SELECT pg_catalog.count(*) FROM d",
									   qualified(shard), qualified(shard), qualified(tokshard)),
							  2, types, vals, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not sweep a dead lock");
	deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) > 0;
	store_owner_end(save_userid, save_sec, level);
	SPI_finish();
	PG_RETURN_BOOL(deleted);
}

/*=========================================================================
 * c6-childnotices: change notices of child rows of distributed tables
 * (issue 24; children.c's block of the same name makes the payloads).
 *
 * A child row written on a worker reports to each notifying table above
 * it: the payload goes into that table's notice store shard beside the
 * child shard (the same co-location group, so the same hash range on the
 * same node, written in the write's own local transaction), and the worker
 * checks at pre-commit that it was collected, as for the table's own rows.
 * The coordinator collects the notifying table's store when a statement
 * writes the table or a child table below it: at ExecutorStart, and for
 * COPY FROM (which writes the shards without an executor here) in the
 * utility hook (cituscarry.c), before Citus opens its connections.
 *=========================================================================*/

/*
 * links.c's parent of a child table and notify.c's NOTIFY: those files are
 * above this one (reclock.h), so init.c hands them over.
 */
static Oid	(*child_parent_of) (Oid relid) = NULL;
static void (*child_notify_send) (Oid relid, const char *payload) = NULL;

void
ReclockCitusChildNoticeHooks(Oid (*parent_of) (Oid relid),
							 void (*notify_send) (Oid relid, const char *payload))
{
	child_parent_of = parent_of;
	child_notify_send = notify_send;
}

/* are change notices of distributed table T on (its notice store is here)? */
bool
ReclockCitusNotifying(Oid table)
{
	return OidIsValid(notices_store(table));
}

/* the last payload queued in an outbox shard, not queued again at once */
static LocalTransactionId child_last_lxid = InvalidLocalTransactionId;
static SubTransactionId child_last_subid = InvalidSubTransactionId;
static Oid	child_last_shard = InvalidOid;
static char *child_last_payload = NULL;

/*
 * The notice of a child row of shard shardrel for the notifying table
 * parenttable above it (dist: the parent's distribution value, of type
 * disttype): queued in parenttable's notice store shard beside shardrel
 * when the write came over a Citus connection in a transaction block (see
 * ReclockCitusShardNoticeCarry), else sent by this node's own NOTIFY.
 * Row after row of one parent (a bulk write) queues it once per
 * subtransaction: the coordinator folds identical notices anyway.
 */
void
ReclockCitusChildNoticeSend(Relation shardrel, Oid parenttable, Datum dist, Oid disttype,
							const char *payload)
{
	Oid			outbox;
	char	   *minvalue;
	Oid			outshard;
	Oid			save_userid;
	int			save_sec;
	int			level;
	MemoryContext old;

	if (!citus_connection() || !IsTransactionBlock())
	{
		if (child_notify_send == NULL)
			elog(ERROR, "reclock: change notices of child rows are not set up");
		child_notify_send(parenttable, payload);
		return;
	}
	outbox = notices_store(parenttable);
	minvalue = OidIsValid(outbox) ? shard_minvalue(shardrel) : NULL;
	outshard = minvalue ? colocated_shard(outbox, minvalue) : InvalidOid;
	if (!OidIsValid(outshard))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot write to table \"%s\": the notice store of table \"%s\" above it is not on this node",
						get_rel_name(ReclockGetKeyInfo(shardrel)->citus_table),
						get_rel_name(parenttable)),
				 errdetail("Shard \"%s\" of a child table of a table with change notices has no notice store shard beside it here.",
						   RelationGetRelationName(shardrel)),
				 errhint("Turn the notices off and on again with reclock_notify() on the coordinator.")));
	if (child_last_lxid == MY_LXID && child_last_subid == GetCurrentSubTransactionId() &&
		child_last_shard == outshard && child_last_payload != NULL &&
		strcmp(child_last_payload, payload) == 0)
		return;
	{
		Oid			types[3] = {disttype, INT8OID, TEXTOID};
		Datum		vals[3] = {dist, Int64GetDatum(++notice_seq), CStringGetTextDatum(payload)};

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		level = store_owner_begin(&save_userid, &save_sec);
		if (SPI_execute_with_args(psprintf("INSERT INTO %s (dist, xid, n, payload)"
										   " VALUES ($1, pg_catalog.pg_current_xact_id(), $2, $3)",
										   qualified(outshard)),
								  3, types, vals, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not queue a change notice");
		store_owner_end(save_userid, save_sec, level);
		SPI_finish();
	}
	notice_state();
	old = MemoryContextSwitchTo(TopTransactionContext);
	notice_shards = list_append_unique_oid(notice_shards, outshard);
	child_last_payload = pstrdup(payload);
	MemoryContextSwitchTo(old);
	child_last_lxid = MY_LXID;
	child_last_subid = GetCurrentSubTransactionId();
	child_last_shard = outshard;
}

/* mark notifying table relid as written by this statement (notices_executor_start's) */
static void
child_mark_table(Oid relid, Oid written)
{
	Oid			user = GetUserId();
	ListCell   *lt;
	ListCell   *lu;
	bool		seen = false;
	MemoryContext old;

	/* a delegated function call: as for the table's own rows (above) */
	if (citus_connection())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot write table \"%s\" in a function call that Citus delegated to a worker: the change notices of table \"%s\" above it are on",
						get_rel_name(written), get_rel_name(relid)),
				 errdetail("The notices of a write are collected by the node that started the transaction, which does not see the writes of a delegated function."),
				 errhint("Call the function without delegation (create_distributed_function without a distribution argument), or turn the notices off with reclock_notify(table, false).")));
	notice_state();
	old = MemoryContextSwitchTo(TopTransactionContext);
	forboth(lt, notice_tables, lu, notice_users)
		if (lfirst_oid(lt) == relid && lfirst_oid(lu) == user)
			seen = true;
	if (!seen)
	{
		notice_tables = lappend_oid(notice_tables, relid);
		notice_users = lappend_oid(notice_users, user);
	}
	MemoryContextSwitchTo(old);
	if (!IsTransactionBlock() && !notice_coordinated)
	{
		/* a coordinated transaction: see notices_executor_start */
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		run_sql("SELECT pg_catalog.create_intermediate_result('reclock_notices', 'SELECT 1 WHERE false')",
				SPI_OK_SELECT);
		SPI_finish();
		notice_coordinated = true;
	}
}

/*
 * A statement writes relid (a Citus table): if it is a protected child
 * table, mark each notifying distributed table above it, whose notice
 * store then holds notices of its rows (see above).
 */
static void
child_notices_mark(Oid relid)
{
	Oid			up = child_parent_of ? child_parent_of(relid) : InvalidOid;
	Oid			table;
	bool		unsure;
	int			depth = 0;

	if (!OidIsValid(up) ||
		ReclockCitusKindOf(relid, &table, &unsure) != RECLOCK_CITUS_DISTRIBUTED)
		return;
	while (OidIsValid(up) && up != relid && depth++ < RECLOCK_MAX_CHAIN_DEPTH)
	{
		if (notifying_table(up))
			child_mark_table(up, relid);
		up = child_parent_of(up);
	}
}

/* COPY FROM relid on this node (cituscarry.c's utility hook), before Citus runs it */
void
ReclockCitusChildNoticesCopy(Oid relid)
{
	if (OidIsValid(relid) && IsTransactionState() && !IsParallelWorker() &&
		GetConfigOption("citus.shard_count", true, false) != NULL)
		child_notices_mark(relid);
}

/*
 * The utility statements citusstore.c takes part in, from cituscarry.c's
 * utility hook before the statement runs: COPY FROM a child table (the
 * notifying tables above it are marked, c6-childnotices) and DROP
 * EXTENSION reclock (the stores of Citus tables go first).
 */
void
ReclockCitusUtility(Node *stmt)
{
	if (IsA(stmt, CopyStmt))
	{
		CopyStmt   *copy = (CopyStmt *) stmt;

		if (copy->is_from && copy->relation != NULL && IsTransactionState())
			ReclockCitusChildNoticesCopy(RangeVarGetRelid(copy->relation, NoLock, true));
	}
	else if (IsA(stmt, DropStmt) && ((DropStmt *) stmt)->removeType == OBJECT_EXTENSION)
	{
		ListCell   *lc;

		foreach(lc, ((DropStmt *) stmt)->objects)
			if (strcmp(strVal(lfirst(lc)), "reclock") == 0)
				ReclockCitusDropExtension();
	}
}
