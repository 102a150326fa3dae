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
 * grant.  An event trigger on ALTER TABLE notes the primary key at
 * ddl_command_start and compares it at ddl_command_end; if it changed and
 * the table (or its partition root) has a live lock, the command fails and
 * rolls back.  At ddl_command_end the command holds its lock on the table,
 * so no grant can be made in between the check and the commit.
 *
 * IDENTIFICATION
 *	  src/ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_index.h"
#include "commands/event_trigger.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "storage/proc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "reclock.h"

PG_FUNCTION_INFO_V1(reclock_ddl_watch);

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
	pkoid = RelationGetPrimaryKeyIndex(rel);
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

/* what ddl_command_start saw, for its ddl_command_end (commands nest) */
typedef struct Watched
{
	Node	   *parsetree;		/* the command, to match start with end */
	Oid			relid;
	char	   *signature;
	struct Watched *prev;
} Watched;

static Watched *watched = NULL;
static LocalTransactionId watched_lxid = InvalidLocalTransactionId;

/*
 * reclock_ddl_watch() returns event_trigger: on ddl_command_start and
 * ddl_command_end of ALTER TABLE.
 */
Datum
reclock_ddl_watch(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	AlterTableStmt *stmt;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_ddl_watch() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!IsA(trigdata->parsetree, AlterTableStmt))
		PG_RETURN_VOID();
	stmt = (AlterTableStmt *) trigdata->parsetree;

	/* what an aborted command left behind belongs to a finished transaction */
	if (watched_lxid != MY_LXID)
	{
		watched = NULL;
		watched_lxid = MY_LXID;
	}

	if (strcmp(trigdata->event, "ddl_command_start") == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		Watched    *w = palloc(sizeof(Watched));

		w->parsetree = trigdata->parsetree;
		w->relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		w->signature = OidIsValid(w->relid) ? pkey_signature(w->relid) : NULL;
		w->prev = watched;
		watched = w;
		MemoryContextSwitchTo(old);
	}
	else if (strcmp(trigdata->event, "ddl_command_end") == 0)
	{
		Watched    *w;
		char	   *now_sig;
		Oid			rootid;

		/* entries above this command's are of commands that failed inside it */
		for (w = watched; w != NULL; w = w->prev)
			if (w->parsetree == trigdata->parsetree)
				break;
		if (w == NULL)
			PG_RETURN_VOID();	/* started before reclock was installed */
		watched = w->prev;
		if (!OidIsValid(w->relid) || w->signature == NULL)
			PG_RETURN_VOID();	/* no primary key before: no lock either */
		now_sig = pkey_signature(w->relid);
		if (now_sig != NULL && strcmp(now_sig, w->signature) == 0)
			PG_RETURN_VOID();
		rootid = ReclockRootOf(w->relid);
		if (ReclockStoreHasLiveLock(rootid, ReclockNow()))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot change the primary key of table \"%s\" while it has live locks",
							get_rel_name(rootid)),
					 errdetail("reclock names a locked row by its primary key; a changed key would lose the lock."),
					 errhint("Let the locks end, or end them with reclock_break(), then run the command again.")));
	}
	PG_RETURN_VOID();
}
