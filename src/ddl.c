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
 * value renamed, an attribute added to a composite), a rename of an object
 * that a reg* key names.  So at ddl_command_start of every ALTER command that
 * can do that, an event trigger notes the primary key of every table with
 * live locks; at ddl_command_end it compares, and reads every live key back
 * with the key types as they are now: a key that no longer reads as itself
 * would no longer name its row.  Then, if the table still has a live lock,
 * the command fails and rolls back.
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

#include "access/htup_details.h"
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
 * The primary key of relid as text: per key column its number, type, typmod
 * and collation; NULL if it has none.
 */
static char *
pkey_signature(Oid relid)
{
	HeapTuple	reltup;
	Relation	rel;
	Oid			pkoid;
	HeapTuple	idxtup;
	Form_pg_index idx;
	StringInfoData buf;
	int			i;

	/* the relation may be gone by ddl_command_end, or never have existed */
	reltup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(reltup))
		return NULL;
	ReleaseSysCache(reltup);

	rel = RelationIdGetRelation(relid);
	if (rel == NULL)
		return NULL;
#if PG_VERSION_NUM >= 180000
	/* 18 added deferrable_ok; false: a deferrable key is no key, as before */
	pkoid = RelationGetPrimaryKeyIndex(rel, false);
#else
	pkoid = RelationGetPrimaryKeyIndex(rel);
#endif
	RelationClose(rel);
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

/* a table with live locks, and its primary key when the command started */
typedef struct WatchedTable
{
	Oid			relid;
	char	   *signature;
} WatchedTable;

/* what ddl_command_start saw, for its ddl_command_end (commands nest) */
typedef struct Watched
{
	Node	   *parsetree;		/* the command, to match start with end */
	List	   *tables;			/* of WatchedTable */
	struct Watched *prev;
} Watched;

static Watched *watched = NULL;
static LocalTransactionId watched_lxid = InvalidLocalTransactionId;

/*
 * Does every live lock of the table still name its row by the same text?
 * Each key must read back, with the key types as they are now, as itself: a
 * key type changed under it (numeric(10,2), an enum value renamed, an
 * attribute added to a composite, an object a reg* key names renamed) makes
 * it fail to read or read as another text.
 */
/*
 * Can this type's input function run no code but PostgreSQL's own?  Not a
 * domain (its CHECK constraints may call any function), nor an array,
 * range or composite of one, nor a type with an input function of its own.
 * Only such keys are read back (as whoever runs the DDL).
 */
static bool
input_is_builtin(Oid typid, int depth)
{
	HeapTuple	tup;
	Form_pg_type typ;
	bool		ok;

	if (depth > 8)
		return false;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return false;
	typ = (Form_pg_type) GETSTRUCT(tup);
	ok = typ->typtype != TYPTYPE_DOMAIN && typ->typinput < FirstNormalObjectId;
	if (ok && typ->typtype == TYPTYPE_COMPOSITE)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
		int			i;

		for (i = 0; ok && i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				ok = input_is_builtin(TupleDescAttr(desc, i)->atttypid, depth + 1);
		ReleaseTupleDesc(desc);
	}
	else if (ok && typ->typtype == TYPTYPE_RANGE)
		ok = input_is_builtin(get_range_subtype(typid), depth + 1);
	else if (ok && typ->typtype == TYPTYPE_MULTIRANGE)
		ok = input_is_builtin(get_multirange_range(typid), depth + 1);
	else if (ok && OidIsValid(get_element_type(typid)))
		ok = input_is_builtin(get_element_type(typid), depth + 1);
	ReleaseSysCache(tup);
	return ok;
}

static bool
keys_still_read(Oid relid, TimestampTz now)
{
	Relation	rel;
	ReclockKeyInfo *ki;
	char	  **keys;
	int			rows;
	int			n;
	int			i;
	bool		same = true;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	int			save_nestlevel;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return true;			/* dropped: its locks go with it */
	ki = ReclockGetKeyInfo(rel);
	for (i = 0; i < ki->nkeys; i++)
		if (!input_is_builtin(ki->typids[i], 0))
		{
			/* no code of the key type's owner runs as the DDL's user */
			relation_close(rel, AccessShareLock);
			return true;
		}
	n = ReclockStoreLiveKeys(relid, now, INT_MAX, cxt, &keys, &rows);

	/*
	 * Stored keys are canonical: schema-qualified unless in pg_catalog.  Read
	 * them so, whatever the DDL user's search_path.
	 */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	for (i = 0; i < n && same; i++)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			char	   *canon = ReclockCanonicalKey(ki, keys[i], NULL);

			same = strcmp(canon, keys[i]) == 0;
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(cxt);
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			same = false;
		}
		PG_END_TRY();
	}
	AtEOXact_GUC(true, save_nestlevel);
	relation_close(rel, AccessShareLock);
	return same;
}

static void
check_event_trigger(FunctionCallInfo fcinfo, const char *fname)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be called as an event trigger", fname)));
}

/*
 * reclock_ddl_watch() returns event_trigger: on ddl_command_start and
 * ddl_command_end of the ALTER commands that can change a key's columns,
 * types or the objects a key names.
 */
Datum
reclock_ddl_watch(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	check_event_trigger(fcinfo, "reclock_ddl_watch()");
	trigdata = (EventTriggerData *) fcinfo->context;

	/* what an aborted command left behind belongs to a finished transaction */
	if (watched_lxid != MY_LXID)
	{
		watched = NULL;
		watched_lxid = MY_LXID;
	}

	if (strcmp(trigdata->event, "ddl_command_start") == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		Watched    *w = palloc0(sizeof(Watched));
		ListCell   *lc;

		w->parsetree = trigdata->parsetree;
		/* every table with live locks: the command may reach its key indirectly */
		foreach(lc, ReclockStoreLiveRelids(ReclockNow()))
		{
			WatchedTable *t = palloc(sizeof(WatchedTable));

			t->relid = lfirst_oid(lc);
			t->signature = pkey_signature(t->relid);
			w->tables = lappend(w->tables, t);
		}
		w->prev = watched;
		watched = w;
		MemoryContextSwitchTo(old);
	}
	else if (strcmp(trigdata->event, "ddl_command_end") == 0)
	{
		Watched    *w;
		ListCell   *lc;
		TimestampTz now = ReclockNow();

		/* entries above this command's are of commands that failed inside it */
		for (w = watched; w != NULL; w = w->prev)
			if (w->parsetree == trigdata->parsetree)
				break;
		if (w == NULL)
			PG_RETURN_VOID();	/* started before reclock was installed */
		watched = w->prev;
		foreach(lc, w->tables)
		{
			WatchedTable *t = lfirst(lc);
			char	   *now_sig;
			bool		changed;

			/*
			 * A grant or refresh of the table in flight ends first (its row
			 * may not be visible yet), and none starts until this command's
			 * transaction ends.
			 */
			ReclockStoreWaitEpoch(t->relid);
			now = ReclockNow();
			now_sig = pkey_signature(t->relid);

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
				changed = strcmp(now_sig, t->signature) != 0;
			if (changed && ReclockStoreHasLiveLock(t->relid, now))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_IN_USE),
						 errmsg("cannot change the primary key of table \"%s\" while it has live locks",
								get_rel_name(t->relid)),
						 errdetail("reclock names a locked row by the text of its primary key; a changed key would lose the lock."),
						 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
			if (!changed && !keys_still_read(t->relid, now))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_IN_USE),
						 errmsg("cannot change what the keys of table \"%s\" mean while it has live locks",
								get_rel_name(t->relid)),
						 errdetail("A live lock's key would no longer read as the row it was taken on (a key type or an object a key names changed)."),
						 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
		}
	}
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
	SPI_finish();
	foreach(lc, relids)
		ReclockStoreForget(lfirst_oid(lc));
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
 * EXTENSION (a publication made before reclock was installed).
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
