/*-------------------------------------------------------------------------
 *
 * citus.c
 *	  What reclock knows of Citus: which tables Citus distributes or
 *	  manages, and which relations are their shards.
 *
 * Citus runs a table's triggers on the node that holds the shard a row
 * lives in, and that node's lock table does not hold the locks taken on the
 * coordinator: a guard there would let every write through.  So
 * reclock_acquire refuses such a table (keys.c, ReclockCheckLockable), and
 * reclock_protect refuses all but a hash-distributed table, whose locks it
 * keeps in stores beside its shards (citusstore.c, which also judges a
 * write on such a shard); a guard that Citus copied to the shards of any
 * other table (one protected before it was distributed) refuses every
 * write instead of judging it by an empty lock table (guard.c).
 *
 * Citus is not needed to build reclock: its metadata tables are looked up
 * by name, and only in a database where the citus extension is installed.
 * A table distributed, a reference table, or a local table Citus manages has
 * a row in pg_dist_partition (on the coordinator, and on every worker Citus
 * syncs its metadata to, as it does by default); a shard is named
 * <table>_<shardid> (its table's name shortened and hashed when too long)
 * in its table's schema, and has a row in pg_dist_shard.  The answer is
 * cached with the table's key facts (keys.c), which a relcache invalidation
 * drops: Citus sends one for a table whose pg_dist_partition or
 * pg_dist_shard rows change.
 *
 * IDENTIFICATION
 *	  src/citus.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "reclock.h"

/*
 * The row of one of Citus's metadata tables (pg_catalog.<table>) whose
 * column <column> equals value (compared with eqfunc); calls fn on it and
 * returns true if there is one.  The scan sees everything committed, and
 * this transaction's own changes.
 */
static bool
metadata_row(const char *table, const char *index, const char *column,
			 RegProcedure eqfunc, Datum value,
			 void (*fn) (HeapTuple tup, TupleDesc desc, void *arg), void *arg)
{
	Oid			relid = get_relname_relid(table, PG_CATALOG_NAMESPACE);
	Oid			indexid;
	AttrNumber	attnum;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	bool		found = false;

	if (!OidIsValid(relid) || (attnum = get_attnum(relid, column)) == InvalidAttrNumber)
		return false;
	indexid = get_relname_relid(index, PG_CATALOG_NAMESPACE);
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, attnum, BTEqualStrategyNumber, eqfunc, value);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, indexid, OidIsValid(indexid), snapshot, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		found = true;
		fn(tup, RelationGetDescr(rel), arg);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

/* a column of a metadata row, by name (Citus has added columns over time) */
static Datum
column_value(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return heap_getattr(tup, i + 1, desc, isnull);
	}
	*isnull = true;
	return (Datum) 0;
}

/* pg_dist_partition: partmethod 'n' (none) is a reference or local table */
static void
partition_kind(HeapTuple tup, TupleDesc desc, void *arg)
{
	ReclockCitusKind *kind = (ReclockCitusKind *) arg;
	bool		isnull;
	char		method = DatumGetChar(column_value(tup, desc, "partmethod", &isnull));
	char		repmodel = DatumGetChar(column_value(tup, desc, "repmodel", &isnull));
	int32		colocationid = DatumGetInt32(column_value(tup, desc, "colocationid", &isnull));

	if (method != 'n')
		*kind = RECLOCK_CITUS_DISTRIBUTED;
	else if (repmodel == 't')
		*kind = RECLOCK_CITUS_REFERENCE;
	else if (!isnull && colocationid != 0)
		*kind = RECLOCK_CITUS_DISTRIBUTED;	/* a single-shard table */
	else
		*kind = RECLOCK_CITUS_LOCAL;
}

/* pg_dist_shard: the shard's table */
static void
shard_table(HeapTuple tup, TupleDesc desc, void *arg)
{
	bool		isnull;
	Datum		d = column_value(tup, desc, "logicalrelid", &isnull);

	*(Oid *) arg = isnull ? InvalidOid : DatumGetObjectId(d);
}

/*
 * What Citus makes of a relation: nothing (RECLOCK_CITUS_NONE, always where
 * the citus extension is not installed), a table it distributes or manages,
 * or a shard of one (then *table is that table).  *unsure is set for a
 * relation named like a shard that Citus's metadata does not know (yet):
 * Citus may record it as a shard later, and invalidates only its table's
 * relcache entry when it does, so such an answer is not to be kept long.
 */
ReclockCitusKind
ReclockCitusKindOf(Oid relid, Oid *table, bool *unsure)
{
	ReclockCitusKind kind = RECLOCK_CITUS_NONE;
	char	   *name;
	char	   *sep;
	char	   *p;
	int64		shardid;
	Oid			logical = InvalidOid;

	*table = InvalidOid;
	*unsure = false;
	if (!OidIsValid(get_extension_oid("citus", true)))
		return RECLOCK_CITUS_NONE;
	if (metadata_row("pg_dist_partition", "pg_dist_partition_logical_relid_index",
					 "logicalrelid", F_OIDEQ, ObjectIdGetDatum(relid),
					 partition_kind, &kind))
	{
		*table = relid;
		return kind;
	}

	/* a shard: <table>_<shardid>, in its table's schema */
	name = get_rel_name(relid);
	if (name == NULL || (sep = strrchr(name, '_')) == NULL || sep[1] == '\0')
		return RECLOCK_CITUS_NONE;
	for (p = sep + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return RECLOCK_CITUS_NONE;
	if (strlen(sep + 1) > 18)
		return RECLOCK_CITUS_NONE;	/* more than an int8 holds */
	shardid = strtoi64(sep + 1, NULL, 10);
	*unsure = true;
	if (!metadata_row("pg_dist_shard", "pg_dist_shard_shardid_index", "shardid",
					  F_INT8EQ, Int64GetDatum(shardid), shard_table, &logical) ||
		!OidIsValid(logical) ||
		get_rel_namespace(logical) != get_rel_namespace(relid))
		return RECLOCK_CITUS_NONE;
	/* a name short enough to need no hash is the table's name and the suffix */
	{
		char	   *lname = get_rel_name(logical);

		if (lname == NULL ||
			(strlen(lname) + strlen(sep) < NAMEDATALEN &&
			 (strncmp(name, lname, sep - name) != 0 || strlen(lname) != (size_t) (sep - name))))
			return RECLOCK_CITUS_NONE;
	}
	*table = logical;
	*unsure = false;
	return RECLOCK_CITUS_SHARD;
}

/*
 * Is trigger tgname, fired on rel, a copy Citus made of reclock's trigger
 * <trigger> on a shard?  Citus names a shard <table>_<shardid> and the
 * triggers it copies there <trigger>_<shardid>, with the same shard id.  A
 * shard's row in pg_dist_shard is not always visible where the shard's
 * triggers fire (on a worker while Citus copies a table's rows into its new
 * shards, or on a worker Citus syncs no metadata to), so the guard also
 * knows a copy by its name: reclock names its own triggers exactly
 * <trigger>, on the table and on every partition.  Only asked where the
 * citus extension is installed and the relation is named like a shard that
 * Citus's metadata does not know (ReclockKeyInfo.citus_unsure).
 */
bool
ReclockCitusIsShardCopy(Relation rel, const char *tgname, const char *trigger)
{
	const char *relname = RelationGetRelationName(rel);
	const char *sep = strrchr(relname, '_');
	size_t		len = strlen(trigger);

	return sep != NULL && sep[1] != '\0' &&
		strncmp(tgname, trigger, len) == 0 &&
		strcmp(tgname + len, sep) == 0;
}

/* "a Citus distributed table", ... (for messages) */
static const char *
kind_text(ReclockCitusKind kind, Oid table)
{
	switch (kind)
	{
		case RECLOCK_CITUS_DISTRIBUTED:
			return "a Citus distributed table";
		case RECLOCK_CITUS_REFERENCE:
			return "a Citus reference table";
		case RECLOCK_CITUS_LOCAL:
			return "a local table that Citus manages";
		case RECLOCK_CITUS_SHARD:
			if (!OidIsValid(table) || get_rel_name(table) == NULL)
				return "a shard of a Citus table";
			return psprintf("a shard of Citus table \"%s\"", get_rel_name(table));
		default:
			return "a table that Citus manages";
	}
}

/* pg_dist_local_group: this node's group (0 on the coordinator) */
bool
ReclockCitusOnCoordinator(void)
{
	Oid			relid = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	int32		groupid = 0;

	if (!OidIsValid(relid))
		return true;
	rel = table_open(relid, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = column_value(tup, RelationGetDescr(rel), "groupid", &isnull);

		if (!isnull)
			groupid = DatumGetInt32(d);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return groupid == 0;
}

/*
 * reclock_protect or reclock_acquire (fname) was given a table Citus
 * distributes or manages: 0A000.  For a distributed table, the reasons that
 * stand whatever reclock learns to guard come first: the call runs on a
 * worker (locks are taken and tables protected through the coordinator,
 * which holds the cluster's metadata and sends each row's work to the node
 * of its shard), or reclock was not preloaded on the coordinator (the
 * hooks that carry a transaction's tokens to the workers must be in place
 * in every backend from its first statement: a backend that loaded reclock
 * on demand would not carry a token presented before that).
 */
void
ReclockCitusRefuseLockable(Relation rel, ReclockKeyInfo *ki, const char *fname)
{
	if (ki->citus == RECLOCK_CITUS_DISTRIBUTED && !ReclockCitusOnCoordinator())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of Citus distributed table \"%s\" on a worker",
						RelationGetRelationName(rel)),
				 errdetail("%s runs on the Citus coordinator only.", fname),
				 errhint("Connect to the coordinator and call %s there.", fname)));
	if (ki->citus == RECLOCK_CITUS_DISTRIBUTED && !reclock_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of Citus distributed table \"%s\": reclock is not in shared_preload_libraries",
						RelationGetRelationName(rel)),
				 errdetail("On a Citus coordinator, reclock must be loaded at server start, so that every backend carries the tokens its transactions present to the workers from its first statement."),
				 errhint("Set shared_preload_libraries = 'citus,reclock' on the coordinator and restart it.")));
	/*
	 * protect makes a distributed table's stores, or refuses; acquire grants
	 * on the row's node (citusstore.c)
	 */
	if (ki->citus == RECLOCK_CITUS_DISTRIBUTED &&
		(strcmp(fname, "reclock_protect()") == 0 || strcmp(fname, "reclock_acquire()") == 0))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot lock rows of table \"%s\": it is %s",
					RelationGetRelationName(rel), kind_text(ki->citus, ki->citus_table)),
			 errdetail("%s does not work on tables that Citus distributes or manages yet: Citus runs the guard on the node that holds each row's shard, whose lock table does not hold the locks taken on the coordinator, so the guard would let every write through.",
					   fname),
			 errhint("Lock rows of tables that Citus does not manage, or make the table local again with undistribute_table().")));
}

/*
 * The guard fired on a table Citus distributes or manages, or on a shard of
 * one (the table was protected before Citus distributed it, and Citus copied
 * the guard to the shards): refuse the write (0A000) rather than judge it by
 * a lock table that does not hold the table's locks.
 */
void
ReclockCitusRefuseWrite(Relation rel, ReclockCitusKind kind, Oid table)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
			 errmsg("cannot write to table \"%s\": it is %s, which reclock cannot guard yet",
					RelationGetRelationName(rel), kind_text(kind, table)),
			 errdetail("The guard was attached before Citus took the table over. It runs on the node that holds the row's shard, whose lock table does not hold the locks taken on the coordinator, so it refuses every write instead of letting it through."),
			 (kind == RECLOCK_CITUS_SHARD && !OidIsValid(table)) ?
			 errhint("Remove the guard on the coordinator with reclock_unprotect() of the shard's table and citus.enable_unsafe_triggers on, or make that table local again with undistribute_table().") :
			 errhint("Remove the guard on the coordinator with reclock_unprotect('%s') and citus.enable_unsafe_triggers on, or make the table local again with undistribute_table().",
					 OidIsValid(table) ? get_rel_name(table) : RelationGetRelationName(rel))));
}

/*
 * Statements reclock sends through Citus carry their parameters (keys,
 * distribution values, compared and written values) to the workers as text
 * printed under this session's settings, which the worker reads under its
 * own: under DateStyle 'SQL, DMY' the date 3 April 2026 goes as 03/04/2026
 * and is read there as 4 March; under extra_float_digits 0 a float8 loses
 * digits.  Run such statements between ReclockCitusExactTextBegin() and
 * AtEOXact_GUC(true, <its result>): every built-in type then prints exactly
 * and in a form any node reads the same way (ISO dates, postgres
 * intervals, shortest exact floats).  Read the caller's values before,
 * under the caller's settings, as on one node.
 */
int
ReclockCitusExactTextBegin(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("DateStyle", "ISO", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("IntervalStyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}
