/*-------------------------------------------------------------------------
 *
 * protect.c
 *	  Switching a table's triggers: reclock_protect, reclock_unprotect and
 *	  reclock_notify, and the guard and notice triggers of partitions and
 *	  child tables kept in step with them.
 *
 * IDENTIFICATION
 *	  src/protect.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "reclock.h"

PG_FUNCTION_INFO_V1(reclock_protect);
PG_FUNCTION_INFO_V1(reclock_unprotect);
PG_FUNCTION_INFO_V1(reclock_notify);

#define GUARD_TRIGGER		RECLOCK_GUARD_TRIGGER
#define TRUNCATE_TRIGGER	RECLOCK_TRUNCATE_TRIGGER
#define NOTICE_TRIGGER		RECLOCK_NOTICE_TRIGGER

/*
 * The caller must own the table.
 */
static Relation
open_owned_table(Oid relid, const char *fname)
{
	Relation	rel = ReclockOpenTable(relid, fname);

	ReclockCheckOwner(rel, NULL);
	return rel;
}

static void
run_ddl(const char *sql)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
}

/* the TRUNCATE check on one table (qname, quoted), calling schema's function */
static void
add_truncate_trigger(const char *qname, const char *schema)
{
	run_ddl(psprintf("CREATE TRIGGER %s BEFORE TRUNCATE ON %s"
					 " FOR EACH STATEMENT EXECUTE FUNCTION %s.reclock_guard_truncate()",
					 TRUNCATE_TRIGGER, qname, schema));
}

/*
 * Add or drop the guard's triggers on one table.  TRUNCATE triggers are
 * statement triggers, which partitions do not inherit: each partition gets
 * its own.
 */
static void
set_triggers(Relation rel, bool add, bool require_lock, const char *parent_fk, Oid fkoid)
{
	char	   *qname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel));
	const char *schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	List	   *parts = NIL;
	ListCell   *lc;

	if (OidIsValid(get_trigger_oid(RelationGetRelid(rel), GUARD_TRIGGER, true)))
		run_ddl(psprintf("DROP TRIGGER %s ON %s", GUARD_TRIGGER, qname));
	if (add)
	{
		StringInfoData args;
		char	   *stores;

		initStringInfo(&args);
		if (require_lock)
			appendStringInfoString(&args, "'require_lock'");
		if (parent_fk)
			appendStringInfo(&args, "%s%s", require_lock ? ", " : "",
							 quote_literal_cstr(psprintf("parent_fk=%s", parent_fk)));
		/* c6-addnode: a Citus table's guard names its stores (citusstore.c) */
		if ((stores = ReclockCitusStoresArg(RelationGetRelid(rel))) != NULL)
			appendStringInfo(&args, "%s%s", args.len > 0 ? ", " : "",
							 quote_literal_cstr(stores));
		/*
		 * A child table: INSERT under a locked parent is guarded too.  A
		 * Citus table's guard (naming its stores) calls the _citus
		 * function, which only reclock's owner may execute: made as that
		 * owner, and no other role can make a guard that the workers
		 * believe (citusstore.c, ReclockCitusGuardStores).
		 */
		if (stores != NULL)
		{
			Oid			save_userid;
			int			save_sec;

			GetUserIdAndSecContext(&save_userid, &save_sec);
			SetUserIdAndSecContext(ReclockStoreOwner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
			run_ddl(psprintf("CREATE TRIGGER %s BEFORE %sUPDATE OR DELETE ON %s"
							 " FOR EACH ROW EXECUTE FUNCTION %s.%s(%s)",
							 GUARD_TRIGGER, parent_fk ? "INSERT OR " : "", qname, schema,
							 parent_fk ? "reclock_guard_child_citus" : "reclock_guard_citus", args.data));
			SetUserIdAndSecContext(save_userid, save_sec);
		}
		else
			run_ddl(psprintf("CREATE TRIGGER %s BEFORE %sUPDATE OR DELETE ON %s"
							 " FOR EACH ROW EXECUTE FUNCTION %s.%s(%s)",
							 GUARD_TRIGGER, parent_fk ? "INSERT OR " : "", qname, schema,
							 parent_fk ? "reclock_guard_child" : "reclock_guard", args.data));
		if (parent_fk)
		{
			/*
			 * The guard depends on its foreign key, as a view on its tables:
			 * the key cannot be dropped (and made again, perhaps to another
			 * table) under the guard; DROP ... CASCADE takes the guard with
			 * it.  pg_dump keeps no dependencies: a restored guard follows
			 * its key by name until the table is protected again.
			 */
			ObjectAddress trig;
			ObjectAddress fk;

			CommandCounterIncrement();
			ObjectAddressSet(trig, TriggerRelationId,
							 get_trigger_oid(RelationGetRelid(rel), GUARD_TRIGGER, false));
			ObjectAddressSet(fk, ConstraintRelationId, fkoid);
			recordDependencyOn(&trig, &fk, DEPENDENCY_NORMAL);
		}
	}

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		parts = find_all_inheritors(RelationGetRelid(rel), AccessShareLock, NULL);
	else
		parts = list_make1_oid(RelationGetRelid(rel));
	foreach(lc, parts)
	{
		Oid			part = lfirst_oid(lc);
		char	   *pname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(part)),
													   get_rel_name(part));

		if (OidIsValid(get_trigger_oid(part, TRUNCATE_TRIGGER, true)))
			run_ddl(psprintf("DROP TRIGGER %s ON %s", TRUNCATE_TRIGGER, pname));
		if (add)
			add_truncate_trigger(pname, schema);
	}
}

/*
 * Change notices of rows come from an AFTER trigger of their own,
 * reclock_notice: it fires for the rows that were written, on guarded
 * tables and others alike.  A table has it while its notices are on (AFTER
 * UPDATE OR DELETE: its rows' "updated" and "deleted"), or while it is a
 * child table below a table whose notices are on (AFTER INSERT OR UPDATE OR
 * DELETE: that table's "updated" with "child").  Made again on the table and
 * on every child table below it by reclock_notify, reclock_protect and
 * reclock_unprotect; known_relid's notices are known_on (being set now).
 */
static void
refresh_notice_trigger(Oid relid, Oid known_relid, bool known_on, int depth)
{
	Relation	rel;
	char	   *qname;
	const char *schema;
	bool		own;
	bool		child_notices;
	Oid			save_userid;
	int			save_sec;
	ListCell   *lc;

	if (depth > 32)
		return;
	rel = relation_open(relid, AccessShareLock);
	qname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									   RelationGetRelationName(rel));
	schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	own = relid == known_relid ? known_on : ReclockNotifyOnRelid(relid);
	child_notices = ReclockChildNoticesWanted(relid, known_relid, known_on);

	/*
	 * As the extension owner: the caller owns the table (checked), but its
	 * partitions may belong to others, and PostgreSQL checks TRIGGER on each
	 * when it clones a row trigger; and a child table below belongs to its
	 * own owner.  reclock's own trigger, made by reclock.
	 */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(ReclockStoreOwner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	if (OidIsValid(get_trigger_oid(relid, NOTICE_TRIGGER, true)))
	{
		/* only reclock's own: a trigger of the table's owner by that name stays */
		int			i;

		for (i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];
			char	   *fname = get_func_name(t->tgfoid);

			if (strcmp(t->tgname, NOTICE_TRIGGER) == 0 &&
				(fname == NULL || strcmp(fname, "reclock_notice") != 0 ||
				 get_func_namespace(t->tgfoid) != ReclockExtensionSchema()))
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("table \"%s\" has a trigger named \"%s\" that is not reclock's",
								RelationGetRelationName(rel), NOTICE_TRIGGER),
						 errhint("Rename that trigger; reclock's change notices use the name.")));
		}
		run_ddl(psprintf("DROP TRIGGER %s ON %s", NOTICE_TRIGGER, qname));
	}
	if (own || child_notices)
	{
		/*
		 * The trigger function came with 1.2: a 1.2 library serving a
		 * database whose extension is still 1.0 or 1.1 (installed, not yet
		 * updated) refuses rather than fail on a missing function.
		 */
		if (!OidIsValid(LookupFuncName(list_make2(makeString(get_namespace_name(ReclockExtensionSchema())),
												  makeString("reclock_notice")),
									   0, NULL, true)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("change notices need version 1.2 of extension \"reclock\""),
					 errdetail("The installed library is newer than the extension's objects in this database."),
					 errhint("Run ALTER EXTENSION reclock UPDATE.")));
		run_ddl(psprintf("CREATE TRIGGER %s AFTER %sUPDATE OR DELETE ON %s"
						 " FOR EACH ROW EXECUTE FUNCTION %s.reclock_notice()",
						 NOTICE_TRIGGER, child_notices ? "INSERT OR " : "", qname, schema));
		CommandCounterIncrement();
		/* the name named the table (its lock holds it; its schema could move) */
		(void) get_trigger_oid(relid, NOTICE_TRIGGER, false);
	}
	SetUserIdAndSecContext(save_userid, save_sec);
	SPI_finish();
	relation_close(rel, AccessShareLock);
	foreach(lc, ReclockChildTablesOf(relid))
		refresh_notice_trigger(lfirst_oid(lc), known_relid, known_on, depth + 1);
}

void
ReclockRefreshNoticeTrigger(Oid relid, Oid known_relid, bool known_on)
{
	refresh_notice_trigger(relid, known_relid, known_on, 0);
}

/*
 * A partition was created in, or attached to, a partitioned table: if the
 * root is protected, give the new partitions the TRUNCATE check too (the row
 * guard is cloned by PostgreSQL itself; statement triggers are not).  Runs as
 * the command's user, who owns the partition.
 */
void
ReclockGuardNewPartition(Oid relid)
{
	Oid			rootid = ReclockRootOf(relid);
	const char *schema;
	ListCell   *lc;

	if (rootid == relid ||
		!OidIsValid(get_trigger_oid(rootid, GUARD_TRIGGER, true)))
		return;
	schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	foreach(lc, find_all_inheritors(relid, AccessShareLock, NULL))
	{
		Oid			part = lfirst_oid(lc);

		if (!OidIsValid(get_trigger_oid(part, TRUNCATE_TRIGGER, true)))
			add_truncate_trigger(quote_qualified_identifier(get_namespace_name(get_rel_namespace(part)),
															get_rel_name(part)),
								 schema);
	}
	SPI_finish();
}

/*
 * For a Citus table, protect's and unprotect's work runs as the extension
 * owner (search_path pinned): Citus refuses (25001) to touch, in one
 * transaction, placements of one co-location group over connections of two
 * users, and the stores, made and dropped as the owner, are co-located with
 * the table (a reference table: every reference table is in one group).  So
 * the table's own triggers and TRUNCATE checks are made and dropped as the
 * owner too; the caller owns the table (checked before).
 */
typedef struct CitusOwnerSave
{
	bool		active;
	int			level;
	Oid			userid;
	int			sec;
} CitusOwnerSave;

static void
citus_owner_begin(ReclockCitusKind kind, CitusOwnerSave *save)
{
	save->active = kind != RECLOCK_CITUS_NONE;
	if (!save->active)
		return;
	save->level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&save->userid, &save->sec);
	SetUserIdAndSecContext(ReclockStoreOwner(), save->sec | SECURITY_LOCAL_USERID_CHANGE);
}

static void
citus_owner_end(CitusOwnerSave *save)
{
	if (!save->active)
		return;
	SetUserIdAndSecContext(save->userid, save->sec);
	AtEOXact_GUC(true, save->level);
}

/*
 * reclock_protect(tbl regclass, require_lock boolean, parent regclass,
 *				   parent_fk name) returns void
 *
 * With parent, tbl becomes a child table of parent through its foreign key
 * (children.c).  The latest call decides: protecting a child table again
 * without parent makes it a table of its own.  (Called with two arguments
 * by the 1.0 SQL definition, before ALTER EXTENSION reclock UPDATE.)
 */
Datum
reclock_protect(PG_FUNCTION_ARGS)
{
	Relation	rel;
	Relation	parent = NULL;
	ReclockKeyInfo *ki;
	char	   *parent_fk = NULL;
	Oid			fkoid = InvalidOid;
	bool		require_lock;
	int			level;
	CitusOwnerSave owner;

	/* as the STRICT function of 1.0: a NULL table or flag does nothing */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	require_lock = PG_GETARG_BOOL(1);
	rel = open_owned_table(PG_GETARG_OID(0), "reclock_protect()");
	/* 55000 if there is no primary key; 0A000 for a temporary table, a reg* key */
	ki = ReclockGetKeyInfo(rel);
	ReclockCheckLockable(rel, ki, "reclock_protect()");
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
	{
		parent = ReclockOpenTable(PG_GETARG_OID(2), "reclock_protect()");
		parent_fk = ReclockChildValidate(rel, parent,
										 (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ?
										 NameStr(*PG_GETARG_NAME(3)) : NULL, &fkoid);
		ReclockCheckLockable(parent, ReclockGetKeyInfo(parent), "reclock_protect()");
	}
	else if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parent_fk needs parent"),
				 errhint("Name the parent table: reclock_protect(table, parent => '<table>', parent_fk => '<constraint>').")));
	citus_owner_begin(ki->citus, &owner);
	/* a Citus distributed table: its stores (0A000 for what is not guarded) */
	ReclockCitusProtect(rel, ki, parent, fkoid);
	ReclockCitusRefProtect(rel, ki);	/* a reference table (citusref.c) */
	/*
	 * c6-childnotices: the notices of notifying distributed tables above
	 * report this child's writes (children.c, citusstore.c): its notice
	 * trigger is made below, on its shards too.  rev5: the parent locked
	 * first, in a mode that conflicts with itself and that reclock_notify
	 * takes too, so that neither misses the other's uncommitted state (this
	 * one the notices switched on, that one this child): both read the
	 * latest state after the lock.  A table higher up is ordered with this
	 * through the parent as well: reclock_notify of it re-makes the notice
	 * trigger of every table below it (the parent too), whose lock conflicts
	 * with this one.  (Not every table above is locked here: reclock_notify
	 * takes them top-down, this would take them bottom-up, a deadlock.)
	 * Test: review5_notify_race.
	 */
	if (parent && ki->citus == RECLOCK_CITUS_DISTRIBUTED)
		LockRelationOid(ReclockRootOf(RelationGetRelid(parent)), ShareUpdateExclusiveLock);
	if (parent)
		relation_close(parent, AccessShareLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = ReclockCitusTriggersBegin(ki->citus);
	set_triggers(rel, true, require_lock, parent_fk, fkoid);
	/* c6-childnotices: a distributed child's notice trigger goes to its shards */
	ReclockRefreshNoticeTrigger(ReclockRootOf(RelationGetRelid(rel)), InvalidOid, false);
	ReclockCitusTriggersEnd(level);
	SPI_finish();
	citus_owner_end(&owner);
	relation_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}

/*
 * reclock_unprotect(tbl regclass) returns void
 */
Datum
reclock_unprotect(PG_FUNCTION_ARGS)
{
	Relation	rel = open_owned_table(PG_GETARG_OID(0), "reclock_unprotect()");
	Oid			table;
	bool		unsure;
	ReclockCitusKind kind = ReclockCitusKindOf(RelationGetRelid(rel), &table, &unsure);
	int			level;
	CitusOwnerSave owner;

	citus_owner_begin(kind, &owner);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = ReclockCitusTriggersBegin(kind);
	set_triggers(rel, false, false, NULL, InvalidOid);
	ReclockCitusTriggersEnd(level);
	ReclockCitusUnprotect(rel, kind);
	ReclockCitusRefUnprotect(rel, kind);
	level = ReclockCitusTriggersBegin(kind);
	if (kind == RECLOCK_CITUS_DISTRIBUTED &&
		ReclockNotifyOnRelid(ReclockRootOf(RelationGetRelid(rel))))
	{
		/* its notices went with its stores (citusstore.c): off */
		ReclockStoreSetNotify(ReclockRootOf(RelationGetRelid(rel)), false);
		CacheInvalidateRelcacheByRelid(ReclockRootOf(RelationGetRelid(rel)));
	}
	ReclockRefreshNoticeTrigger(ReclockRootOf(RelationGetRelid(rel)), InvalidOid, false);
	ReclockCitusTriggersEnd(level);
	SPI_finish();
	citus_owner_end(&owner);
	relation_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}

/*
 * reclock_notify(tbl regclass, enabled boolean) returns void
 */
Datum
reclock_notify(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		enabled = PG_GETARG_BOOL(1);
	Relation	rel = ReclockOpenTable(relid, "reclock_notify()");
	Oid			rootid;
	Oid			table;
	bool		unsure;
	ReclockCitusKind kind;
	int			level;

	ReclockCheckOwner(rel, "Only the table's owner decides whether its keys and holders are broadcast.");
	kind = ReclockCitusKindOf(relid, &table, &unsure);
	PreventCommandIfReadOnly("reclock_notify()");
	/*
	 * c6-childnotices: the notices of a distributed table report its child
	 * tables' writes too (their notice triggers are made below).  rev5: after
	 * the table's lock, which reclock_protect of a child below takes too: no
	 * child protected in a transaction in flight is missed.
	 */
	if (kind == RECLOCK_CITUS_DISTRIBUTED)
		LockRelationOid(ReclockRootOf(relid), ShareUpdateExclusiveLock);
	/* a protected distributed table: its notice store (citusstore.c); others refused */
	ReclockCitusNotify(rel, kind, enabled);
	rootid = ReclockRootOf(relid);
	ReclockStoreSetNotify(rootid, enabled);
	level = ReclockCitusTriggersBegin(kind);
	ReclockRefreshNoticeTrigger(rootid, rootid, enabled);
	ReclockCitusTriggersEnd(level);
	/* every backend's cached answer for the table (and its partitions) goes */
	CacheInvalidateRelcacheByRelid(rootid);
	if (rootid != relid)
		CacheInvalidateRelcacheByRelid(relid);
	relation_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}
