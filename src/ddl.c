/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Refuse a change of a table's primary key while the table has live
 *	  locks.
 *
 * A lock names its row by the canonical text of the primary key.  Changing
 * the key's columns, types, typmods or collations (ALTER COLUMN ... TYPE
 * numeric(10,2), timestamp to timestamptz, DROP CONSTRAINT ... ADD PRIMARY
 * KEY) changes that text or its meaning, and would silently lose the locks:
 * writes without a token would pass and a second holder would get a live
 * grant.  The key can also change without an ALTER TABLE of that table: an
 * ALTER TABLE of an inheritance parent, an ALTER TYPE of a key type (an enum
 * label renamed, an attribute added to a composite).  The watch concerns
 * only the objects the command changes (see reclock_ddl_watch): it never
 * reads a key back (a key type's input function may be another role's
 * code), never reads or locks the locks of other tables, and waits for no
 * other transaction.  Keys of the reg* types, whose text follows renames of
 * the objects they name, cannot be locked at all (keys.c).
 *
 * Also here: the other event triggers, written in C so that nothing in them
 * is found by name at run time (a database owner can rename the schema that
 * holds reclock, and put look-alike tables or functions under the old name):
 * the sql_drop trigger that forgets the locks of dropped tables, and the
 * check that no publication carries reclock's store.
 *
 * IDENTIFICATION
 *	  src/ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/fmgroids.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_index.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_publication_namespace.h"
#include "catalog/pg_publication_rel.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "access/relation.h"
#include "nodes/parsenodes.h"
#include "storage/proc.h"
#include "access/xact.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/resowner.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "reclock.h"

PG_FUNCTION_INFO_V1(reclock_ddl_watch);
PG_FUNCTION_INFO_V1(reclock_drop_cleanup);
PG_FUNCTION_INFO_V1(reclock_partition_watch);
PG_FUNCTION_INFO_V1(reclock_check_publications);
PG_FUNCTION_INFO_V1(reclock_publication_check);

/*
 * Live locks of a table: in the lock table, or beside the shards of a
 * protected Citus distributed table (citusstore.c), whose locks the lock
 * table does not hold.
 */
static bool
has_live_locks(Oid relid)
{
	return ReclockStoreHasLiveLockSettled(relid) || ReclockCitusHasLiveLock(relid);
}

/* the primary key index of relid, or InvalidOid (none, or no such relation) */
static Oid
pkey_index(Oid relid)
{
	Relation	rel;
	Oid			pkoid;

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)) ||
		(rel = RelationIdGetRelation(relid)) == NULL)
		return InvalidOid;
	pkoid = ReclockPrimaryKeyIndex(rel);
	RelationClose(rel);
	return pkoid;
}

/*
 * The primary key of relid as text: per key column its number, type, typmod
 * and collation; NULL if it has none.
 */
static char *
pkey_signature(Oid relid)
{
	/* the relation may be gone by ddl_command_end, or never have existed */
	Oid			pkoid = pkey_index(relid);
	HeapTuple	idxtup;
	Form_pg_index idx;
	StringInfoData buf;
	int			i;

	if (!OidIsValid(pkoid))
		return NULL;

	idxtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
	if (!HeapTupleIsValid(idxtup))
		return NULL;
	idx = (Form_pg_index) GETSTRUCT(idxtup);
	initStringInfo(&buf);
	for (i = 0; i < idx->indnkeyatts; i++)
	{
		AttrNumber	attnum = idx->indkey.values[i];
		Oid			typid;
		int32		typmod;
		Oid			collid;

		get_atttypetypmodcoll(relid, attnum, &typid, &typmod, &collid);
		appendStringInfo(&buf, "%d:%u:%d:%u,", attnum, typid, typmod, collid);
	}
	ReleaseSysCache(idxtup);
	return buf.data;
}

/* is column attnum of relid in its primary key? */
static bool
column_in_pkey(Oid relid, AttrNumber attnum)
{
	Oid			pkoid = pkey_index(relid);
	HeapTuple	idxtup;
	Form_pg_index idx;
	bool		in = false;
	int			i;

	if (!OidIsValid(pkoid))
		return false;
	idxtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
	if (!HeapTupleIsValid(idxtup))
		return false;
	idx = (Form_pg_index) GETSTRUCT(idxtup);
	for (i = 0; i < idx->indnkeyatts; i++)
		if (idx->indkey.values[i] == attnum)
			in = true;
	ReleaseSysCache(idxtup);
	return in;
}

/* a table the command alters, and its primary key when the command started */
typedef struct WatchedTable
{
	Oid			relid;
	char	   *signature;
	bool		citus;			/* a protected Citus distributed table */
} WatchedTable;

/* what ddl_command_start saw, for its ddl_command_end (commands nest) */
typedef struct Watched
{
	Node	   *parsetree;		/* the command, to match start with end */
	List	   *tables;			/* of WatchedTable */
	List	   *drop_roots;		/* roots of the partitions DROP TABLE drops */
	struct Watched *prev;
} Watched;

static Watched *watched = NULL;
static LocalTransactionId watched_lxid = InvalidLocalTransactionId;

static void
check_event_trigger(FunctionCallInfo fcinfo, const char *fname)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be called as an event trigger", fname)));
}

/*
 * The tables an ALTER TABLE command alters: the one it names and, unless
 * ONLY, its inheritance children (the command recurses into them).
 * Partitions are left out: their locks are the root's.  Looked up without a
 * lock (the command takes its own): a table that is not there is none.
 */
static List *
altered_tables(AlterTableStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	List	   *rels = NIL;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return NIL;
	if (!stmt->relation->inh || !has_subclass(relid))
		return list_make1_oid(relid);
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		if (lfirst_oid(lc) == relid || !get_rel_relispartition(lfirst_oid(lc)))
			rels = lappend_oid(rels, lfirst_oid(lc));
	return rels;
}

/*
 * Does the command rewrite the values of a key column of relid with an
 * expression (ALTER COLUMN ... TYPE ... USING, also to the same type: the
 * key signature stays, the values do not)?  A change of type shows in the
 * signature; the same type without USING keeps every value.
 */
static bool
rewrites_key_column(AlterTableStmt *stmt, Oid relid)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AlterColumnType && cmd->name != NULL &&
			cmd->def != NULL && IsA(cmd->def, ColumnDef) &&
			((ColumnDef *) cmd->def)->raw_default != NULL &&
			column_in_pkey(relid, get_attnum(relid, cmd->name)))
			return true;
	}
	return false;
}

/*
 * A partition detached takes rows away from the locks of its partitioned
 * table (they are kept by the root), and a table attached keeps locks under
 * its own name that no longer name its rows: refused while the table that
 * loses them has live locks.  Run at ddl_command_end, when the command
 * holds its locks on both (no grant can be in flight there).
 */
static void
check_partition_moves(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		Oid			relid = InvalidOid;

		if (cmd->subtype == AT_DetachPartition)
		{
			Oid			parent = RangeVarGetRelid(stmt->relation, NoLock, true);

			if (OidIsValid(parent))
				relid = ReclockRootOf(parent);
		}
		else if (cmd->subtype == AT_AttachPartition)
			relid = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true);
		if (OidIsValid(relid) && has_live_locks(relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot %s a partition while table \"%s\" has live locks",
							cmd->subtype == AT_DetachPartition ? "detach" : "attach",
							get_rel_name(relid)),
					 errdetail("Locks are kept by the partitioned table, by key: %s.",
							   cmd->subtype == AT_DetachPartition ?
							   "the rows of a detached partition would leave their locks behind" :
							   "an attached table's own locks would no longer name its rows"),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	}
}

/* the roots of the partitions a DROP TABLE names (looked up without a lock) */
static List *
dropped_partition_roots(DropStmt *stmt)
{
	List	   *roots = NIL;
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid) && get_rel_relispartition(relid))
			roots = list_append_unique_oid(roots, ReclockRootOf(relid));
	}
	return roots;
}

/*
 * DETACH PARTITION ... CONCURRENTLY commits before ddl_command_end (and
 * FINALIZE finishes one): judged at the start, while the partitioned table
 * has live locks.
 */
static void
check_detach_concurrently(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		Oid			parent;

		if (!((cmd->subtype == AT_DetachPartition &&
			   ((PartitionCmd *) cmd->def)->concurrent) ||
			  cmd->subtype == AT_DetachPartitionFinalize))
			continue;
		parent = RangeVarGetRelid(stmt->relation, NoLock, true);
		if (OidIsValid(parent) && has_live_locks(ReclockRootOf(parent)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot detach a partition while table \"%s\" has live locks",
							get_rel_name(ReclockRootOf(parent))),
					 errdetail("Locks are kept by the partitioned table, by key: the rows of a detached partition would leave their locks behind."),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	}
}

/*
 * Does the command change the text of values of a type: an enum label
 * renamed, or an attribute added, dropped or retyped in a composite type
 * (ALTER TYPE) or in the row type of a table (ALTER TABLE)?  The types it
 * changes are added to *types.
 */
static void
changed_types(Node *tree, List **types)
{
	if (IsA(tree, AlterEnumStmt))
	{
		AlterEnumStmt *stmt = (AlterEnumStmt *) tree;
		TypeName   *tn;
		Oid			typid;

		if (stmt->oldVal == NULL)
			return;				/* ADD VALUE: no label changes its text */
		tn = makeTypeNameFromNameList(stmt->typeName);
		typid = LookupTypeNameOid(NULL, tn, true);
		if (OidIsValid(typid))
			*types = list_append_unique_oid(*types, typid);
	}
	else if (IsA(tree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) tree;
		ListCell   *lc;
		bool		changes = false;

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);

			if (cmd->subtype == AT_AddColumn ||
				cmd->subtype == AT_DropColumn ||
				cmd->subtype == AT_AlterColumnType)
				changes = true;
		}
		if (!changes)
			return;
		foreach(lc, altered_tables(stmt))
		{
			Oid			reltype = get_rel_type_id(lfirst_oid(lc));

			if (OidIsValid(reltype))
				*types = list_append_unique_oid(*types, reltype);
		}
	}
}

/*
 * The tables whose primary key is made of the type typid (directly, or
 * through a domain, an array, a range or a composite), by the dependencies
 * recorded in pg_depend: columns depend on their types, types on the types
 * they are made of.  Roots of partition trees, where locks are kept.
 */
static void
key_users(Oid typid, List **tables, List **seen, int depth)
{
	Relation	dep;
	ScanKeyData skey[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *types = NIL;
	ListCell   *lc;

	check_stack_depth();
	if (depth > 16 || list_member_oid(*seen, typid))
		return;
	*seen = lappend_oid(*seen, typid);

	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&skey[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
	ScanKeyInit(&skey[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->classid == TypeRelationId)
			types = lappend_oid(types, d->objid);	/* a domain, array, range */
		else if (d->classid == RelationRelationId && d->objsubid > 0)
		{
			char		relkind = get_rel_relkind(d->objid);
			Oid			reltype = get_rel_type_id(d->objid);

			/* a column: its table's key, and any type made of its row */
			if ((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE) &&
				column_in_pkey(d->objid, d->objsubid))
				*tables = list_append_unique_oid(*tables, ReclockRootOf(d->objid));
			if (OidIsValid(reltype))
				types = lappend_oid(types, reltype);
		}
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	foreach(lc, types)
		key_users(lfirst_oid(lc), tables, seen, depth + 1);
}

/* at ddl_command_start: what the command may change, remembered */
static void
watch_start(EventTriggerData *trigdata)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	Watched    *w = palloc0(sizeof(Watched));

	w->parsetree = trigdata->parsetree;
	if (IsA(trigdata->parsetree, DropStmt) &&
		((DropStmt *) trigdata->parsetree)->removeType == OBJECT_TABLE)
		w->drop_roots = dropped_partition_roots((DropStmt *) trigdata->parsetree);
	if (IsA(trigdata->parsetree, AlterTableStmt))
		check_detach_concurrently((AlterTableStmt *) trigdata->parsetree);
	if (IsA(trigdata->parsetree, AlterTableStmt))
	{
		ListCell   *lc;

		foreach(lc, altered_tables((AlterTableStmt *) trigdata->parsetree))
		{
			WatchedTable *t = palloc(sizeof(WatchedTable));

			t->relid = lfirst_oid(lc);
			t->signature = pkey_signature(t->relid);
			t->citus = t->signature != NULL && ReclockCitusRegistered(t->relid);
			w->tables = lappend(w->tables, t);
		}
	}
	w->prev = watched;
	watched = w;
	MemoryContextSwitchTo(old);
}

/*
 * At ddl_command_end: refuse (55006) a command that changed a locked
 * table's key, the meaning of its key's type, or dropped a partition of a
 * table with live locks.
 */
static void
watch_end(EventTriggerData *trigdata)
{
	Watched    *w;
	ListCell   *lc;
	List	   *types = NIL;
	List	   *users = NIL;
	List	   *seen = NIL;

	/* entries above this command's are of commands that failed inside it */
	for (w = watched; w != NULL; w = w->prev)
		if (w->parsetree == trigdata->parsetree)
			break;
	if (w == NULL)
		return;				/* started before reclock was installed */
	watched = w->prev;

	/*
	 * A partition dropped takes its rows from under its root's locks:
	 * refused while the root has live ones.  Judged now, when the
	 * command holds the partition (no grant of its rows in flight).
	 */
	foreach(lc, w->drop_roots)
		if (has_live_locks(lfirst_oid(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot drop a partition of table \"%s\" while it has live locks",
							get_rel_name(lfirst_oid(lc))),
					 errdetail("Locks are kept by the partitioned table: the rows of a dropped partition would leave their locks behind."),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	foreach(lc, w->tables)
	{
		WatchedTable *t = lfirst(lc);
		char	   *now_sig = pkey_signature(t->relid);
		bool		changed;

		/*
		 * A table that had no primary key cannot have had a lock taken on
		 * it: its lock rows are being restored (pg_restore adds primary
		 * keys after the data).  Adding one is no change of a key.
		 */
		if (t->signature == NULL)
			continue;
		if (now_sig == NULL)
			changed = get_rel_name(t->relid) != NULL;
		else
			changed = strcmp(now_sig, t->signature) != 0 ||
				(IsA(trigdata->parsetree, AlterTableStmt) &&
				 rewrites_key_column((AlterTableStmt *) trigdata->parsetree, t->relid));
		/*
		 * A protected distributed table's locks are beside its shards, and
		 * a query of its stores run inside Citus's ALTER TABLE of it reads
		 * them empty: refused whether or not a lock is live.
		 */
		if (changed && t->citus)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change the primary key of protected Citus distributed table \"%s\"",
							get_rel_name(t->relid)),
					 errdetail("reclock names a locked row by the text of its primary key, and cannot tell here whether the table has live locks, which a changed key would lose."),
					 errhint("Remove the guard with reclock_unprotect() first, or let the locks end and protect the table again afterwards.")));
		if (changed && has_live_locks(t->relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot change the primary key of table \"%s\" while it has live locks",
							get_rel_name(t->relid)),
					 errdetail("reclock names a locked row by the text of its primary key; a changed key would lose the lock."),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	}

	if (IsA(trigdata->parsetree, AlterTableStmt))
		check_partition_moves((AlterTableStmt *) trigdata->parsetree);
	changed_types(trigdata->parsetree, &types);
	foreach(lc, types)
		key_users(lfirst_oid(lc), &users, &seen, 0);
	foreach(lc, users)
	{
		Oid			relid = lfirst_oid(lc);

		if (!ReclockStoreTryEpoch(relid) ||
			has_live_locks(relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot change what the keys of table \"%s\" mean while it has live locks",
							get_rel_name(relid)),
					 errdetail("The command changes the text of a type the table's primary key is made of; a live lock's key would no longer name its row."),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	}
}

/*
 * reclock_ddl_watch() returns event_trigger: on ddl_command_start and
 * ddl_command_end of ALTER TABLE, ALTER FOREIGN TABLE and ALTER TYPE.
 *
 * It concerns only what the command changes.  ALTER TABLE t: the primary
 * key of t (and of the inheritance children it recurses into) is noted at
 * the start and compared at the end; if it changed and t has live locks,
 * the command fails (55006).  The command holds t in ACCESS EXCLUSIVE mode
 * for every change of a primary key, which keeps acquires of t (they open
 * t) and key moves (they write t) out until it ends: no grant of t can be
 * in flight.  A command that changes the text of a type's values (an enum
 * label renamed, an attribute of a composite or of a table's row type
 * added, dropped or retyped) fails if a table whose key is made of that type
 * has a live lock, or a grant of one in flight; it takes that table's epoch
 * lock exclusively without waiting, so that no grant of it starts until the
 * command's transaction ends (an acquire that waited there makes its key
 * again, see acquire.c).  No key is ever read back, no function of a key
 * type runs, and nothing of other tables is read or locked: the cost does
 * not grow with other tables' locks.
 */
Datum
reclock_ddl_watch(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	check_event_trigger(fcinfo, "reclock_ddl_watch()");
	trigdata = (EventTriggerData *) fcinfo->context;

	/* what an aborted command left behind belongs to a finished transaction */
	if (ReclockNewTransaction(&watched_lxid))
		watched = NULL;

	if (strcmp(trigdata->event, "ddl_command_start") == 0)
		watch_start(trigdata);
	else if (strcmp(trigdata->event, "ddl_command_end") == 0)
		watch_end(trigdata);
	PG_RETURN_VOID();
}


/*
 * reclock_drop_cleanup() returns event_trigger, on sql_drop: the locks of a
 * dropped table go with it.  A lock row naming a table that no longer exists
 * would be dumped as a bare OID and could, after a restore, attach to an
 * unrelated table that got that OID.
 */
Datum
reclock_drop_cleanup(PG_FUNCTION_ARGS)
{
	List	   *relids = NIL;
	ListCell   *lc;
	uint64		i;

	check_event_trigger(fcinfo, "reclock_drop_cleanup()");
	/* reclock itself is being dropped: nothing to keep tidy */
	if (!OidIsValid(get_extension_oid("reclock", true)))
		PG_RETURN_VOID();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND d.objsubid OPERATOR(pg_catalog.=) 0", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the dropped objects");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(CurTransactionContext);

		relids = lappend_oid(relids, DatumGetObjectId(d));
		MemoryContextSwitchTo(old);
	}
	/*
	 * A column dropped from a table that lives on (DROP TYPE ... CASCADE
	 * drops the columns of that type): if the table lost its primary key
	 * with it, its live locks name nothing any more -- refused.
	 */
	if (SPI_execute("SELECT DISTINCT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d"
					" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					" AND d.objsubid OPERATOR(pg_catalog.>) 0", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the dropped objects");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			continue;
		if (!OidIsValid(pkey_index(relid)) && has_live_locks(ReclockRootOf(relid)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot drop the primary key of table \"%s\" while it has live locks",
							get_rel_name(relid)),
					 errdetail("The command drops a column of the table's primary key; its live locks would name nothing."),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	}
	SPI_finish();
	foreach(lc, relids)
		ReclockStoreForget(lfirst_oid(lc));
	/* a protected Citus distributed table's stores go with it (citusstore.c) */
	ReclockCitusForget(relids);
	PG_RETURN_VOID();
}

/* a publication that carries reclock's store (by OID), or NULL */
static char *
store_publication(void)
{
	Oid			nsp = ReclockExtensionSchema();
	Oid			store[3];
	char	   *pub = NULL;
	char	   *sql;

	store[0] = get_relname_relid("reclock_lock_store", nsp);
	store[1] = get_relname_relid("reclock_token_store", nsp);
	store[2] = get_relname_relid("reclock_notify_store", nsp);
	sql = psprintf("SELECT p.pubname::pg_catalog.text FROM pg_catalog.pg_publication p"
				   " WHERE p.puballtables"
				   " OR EXISTS (SELECT FROM pg_catalog.pg_publication_rel r"
				   " WHERE r.prpubid OPERATOR(pg_catalog.=) p.oid"
				   " AND r.prrelid OPERATOR(pg_catalog.=) ANY ('{%u,%u,%u}'::pg_catalog.oid[]))"
				   " OR EXISTS (SELECT FROM pg_catalog.pg_publication_namespace n"
				   " WHERE n.pnpubid OPERATOR(pg_catalog.=) p.oid"
				   " AND n.pnnspid OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid)"
				   " ORDER BY 1 LIMIT 1",
				   store[0], store[1], store[2], nsp);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the publications");
	if (SPI_processed == 1)
		pub = MemoryContextStrdup(CurTransactionContext,
								  SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return pub;
}

static void
refuse_store_publication(void)
{
	char	   *pub = store_publication();

	if (pub != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("publication \"%s\" would publish reclock's lock store", pub),
				 errdetail("A subscriber would apply lock rows that its own reclock did not grant."),
				 errhint("Publish the application's tables with FOR TABLE, or FOR TABLES IN SCHEMA of schemas other than reclock's; each cluster keeps its own locks.")));
}

/*
 * reclock_check_publications() returns void: the check, for CREATE
 * EXTENSION (a publication made before reclock was installed).  The two
 * names (this, and the event trigger's reclock_publication_check below)
 * are 1.1's SQL functions, whose scripts name these C symbols: they stay.
 */
Datum
reclock_check_publications(PG_FUNCTION_ARGS)
{
	refuse_store_publication();
	PG_RETURN_VOID();
}

/*
 * reclock_publication_check() returns event_trigger, at the end of CREATE
 * and ALTER PUBLICATION.
 */
Datum
reclock_publication_check(PG_FUNCTION_ARGS)
{
	check_event_trigger(fcinfo, "reclock_publication_check()");
	refuse_store_publication();
	PG_RETURN_VOID();
}

/*
 * reclock_partition_watch() returns event_trigger, at the end of CREATE
 * TABLE and ALTER TABLE: a partition created in or attached to a protected
 * partitioned table gets the TRUNCATE check.
 */
Datum
reclock_partition_watch(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *tree;

	check_event_trigger(fcinfo, "reclock_partition_watch()");
	trigdata = (EventTriggerData *) fcinfo->context;
	tree = trigdata->parsetree;
	if (IsA(tree, CreateStmt) && ((CreateStmt *) tree)->partbound != NULL)
	{
		Oid			relid = RangeVarGetRelid(((CreateStmt *) tree)->relation, NoLock, true);

		if (OidIsValid(relid))
			ReclockGuardNewPartition(relid);
	}
	else if (IsA(tree, AlterTableStmt))
	{
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) tree)->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);

			if (cmd->subtype == AT_AttachPartition)
			{
				Oid			relid = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true);

				if (OidIsValid(relid))
					ReclockGuardNewPartition(relid);
			}
		}
	}
	PG_RETURN_VOID();
}
