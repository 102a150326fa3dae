/*-------------------------------------------------------------------------
 *
 * cituscarry.c
 *	  The token carry: a Citus coordinator passes the tokens a transaction
 *	  presents on to the worker backends of that transaction (issue 24,
 *	  docs/citus.md, F4, F5, F13 and design (3), "Token transport").
 *
 * The guard of a protected distributed table runs on the node that holds
 * the row's shard, in a backend Citus opened there, which knows nothing of
 * the coordinator session's reclock.token.  Citus sends a SET LOCAL on to
 * every worker connection of the transaction (and puts it in the BEGIN of
 * those opened later) when citus.propagate_set_commands is 'local' and it
 * runs in what Citus counts as a multi-statement transaction.  So, before
 * each statement (ExecutorStart, again after Citus's ExecutorStart, which
 * evaluates a router write's functions here, and COPY FROM, whose
 * connections Citus opens in its utility hook) and after each (ExecutorFinish:
 * Citus runs a write's subqueries as statements before the write), when the value of reclock.token this
 * transaction presents differs from the one last carried in it, this runs
 *
 *	 DO $..$BEGIN SET LOCAL reclock.token = '<value>'; END$..$
 *
 * through SPI, with citus.propagate_set_commands = 'local' for that
 * statement only (a DO block counts as multi-statement for Citus at any
 * executor level, a bare SET LOCAL at a function's first statement does
 * not: F5).  On the worker it is an ordinary SET LOCAL of the transaction,
 * which reclock honours there (F13).
 *
 * Only what reclock itself honours on this node is ever carried (the
 * caller's presented(): SET LOCAL, set_config(..., true) or SET in this
 * transaction, still standing).  When a carried value stops being presented
 * (set to '', a savepoint rolled back, a function's SET clause) the empty
 * value is carried, so the workers stop honouring it too.  A savepoint
 * rolled back also rolls the workers' SET LOCAL back (Citus mirrors
 * savepoints), so what they hold is unknown then and the next statement
 * carries again.  So does a SET (or RESET) of reclock.token that Citus
 * sent on itself (the caller's citus.propagate_set_commands = local): the
 * honoured value is carried over it before the statement goes on.  Around
 * the SPI statement a GUC nest level is opened and
 * rolled back, so the coordinator's own reclock.token (what it honours) and
 * the caller's citus.propagate_set_commands are as they were.
 *
 * Cost: hooks are installed only where Citus is loaded.  A statement whose
 * presented value equals the one carried (none, usually) costs two or three
 * string comparisons.  Otherwise the carry runs only on a coordinator of a database
 * with protected distributed tables: reclock_citus_tables is a Citus table
 * and its placement here has a row (or there is no placement here to ask).
 * That answer is kept until the next relcache invalidation (a protect
 * creates the stores, an unprotect drops them).  A stale "no" can only
 * refuse a write (its token not carried), never let one through.
 *
 * This file is the lowest of reclock's (nothing calls up): reclock.c
 * installs it and hands it the presented value; it reads Citus's metadata
 * by name itself.
 *
 * IDENTIFICATION
 *	  src/cituscarry.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "reclock.h"

static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;
static void (*carry_utility_hook) (Node *stmt) = NULL;

/* the utility statements of a file above this one (init.c sets it) */
void
ReclockCarryUtilityHook(void (*fn) (Node *stmt))
{
	carry_utility_hook = fn;
}
static const char *(*presented_value) (void) = NULL;

/* does this database need the carry?  (see the header) */
typedef enum CarryGate
{
	GATE_UNKNOWN,
	GATE_OFF,
	GATE_ON
} CarryGate;
static CarryGate gate = GATE_UNKNOWN;

/* what this transaction carried last (NULL: nothing yet) */
static LocalTransactionId carried_lxid = InvalidLocalTransactionId;
static char *carried = NULL;	/* in TopTransactionContext */
static bool carried_unknown = false;	/* a savepoint rolled back since */
static bool carrying = false;
static const char *carrying_value = NULL;	/* its text, while carried */
static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * Any relcache invalidation: a protect creates the stores, an unprotect
 * drops them, Citus invalidates the registry when its metadata changes.
 * Invalidations come with DDL (and vacuum's statistics), not with each
 * statement, and the gate is asked again only when a token is presented.
 */
void
ReclockCarryInvalidate(Datum arg, Oid relid)
{
	gate = GATE_UNKNOWN;
}

/* is there a row (whose column equals value, if attnum given)?  its column "column" in *out */
static bool
first_row(Relation rel, AttrNumber attnum, RegProcedure eqfunc, Datum value,
		  Datum *out, const char *column)
{
	ScanKeyData key;
	SysScanDesc scan;
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	HeapTuple	tup;
	bool		found = false;

	if (attnum != InvalidAttrNumber)
		ScanKeyInit(&key, attnum, BTEqualStrategyNumber, eqfunc, value);
	scan = systable_beginscan(rel, InvalidOid, false, snapshot,
							  attnum != InvalidAttrNumber ? 1 : 0, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		found = true;
		if (out != NULL)
		{
			TupleDesc	desc = RelationGetDescr(rel);
			int			i;

			*out = (Datum) 0;
			for (i = 0; i < desc->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);
				bool		isnull;

				if (!att->attisdropped && strcmp(NameStr(att->attname), column) == 0)
				{
					*out = heap_getattr(tup, i + 1, desc, &isnull);
					if (isnull)
						found = false;
					break;
				}
			}
		}
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	return found;
}

/* a row of pg_catalog.<table> whose column equals value; its column out */
static bool
metadata_lookup(const char *table, const char *column, RegProcedure eqfunc, Datum value,
				const char *outcolumn, Datum *out)
{
	Oid			relid = get_relname_relid(table, PG_CATALOG_NAMESPACE);
	AttrNumber	attnum = InvalidAttrNumber;
	Relation	rel;
	bool		found;

	if (!OidIsValid(relid) ||
		(column != NULL && (attnum = get_attnum(relid, column)) == InvalidAttrNumber))
		return false;
	rel = table_open(relid, AccessShareLock);
	found = first_row(rel, attnum, eqfunc, value, out, outcolumn);
	table_close(rel, AccessShareLock);
	return found;
}

static Oid
extension_schema(Oid extoid)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/*
 * A Citus coordinator (pg_dist_local_group.groupid 0) of a database with a
 * protected distributed table: the registry is a Citus table and its
 * placement here has a row, or there is no placement here to ask.
 */
static CarryGate
compute_gate(void)
{
	Oid			reclock = get_extension_oid("reclock", true);
	Oid			nsp;
	Oid			registry;
	Datum		d;
	Oid			placement;
	bool		any;

	if (!OidIsValid(get_extension_oid("citus", true)) || !OidIsValid(reclock) ||
		!OidIsValid(nsp = extension_schema(reclock)) ||
		!OidIsValid(registry = get_relname_relid("reclock_citus_tables", nsp)))
		return GATE_OFF;
	if (metadata_lookup("pg_dist_local_group", NULL, InvalidOid, (Datum) 0, "groupid", &d) &&
		DatumGetInt32(d) != 0)
		return GATE_OFF;		/* a worker */
	if (!metadata_lookup("pg_dist_partition", "logicalrelid", F_OIDEQ,
						 ObjectIdGetDatum(registry), "logicalrelid", &d))
		return GATE_OFF;		/* no distributed table was ever protected */
	if (!metadata_lookup("pg_dist_shard", "logicalrelid", F_OIDEQ,
						 ObjectIdGetDatum(registry), "shardid", &d) ||
		!OidIsValid(placement = get_relname_relid(psprintf("reclock_citus_tables_" INT64_FORMAT,
														   DatumGetInt64(d)), nsp)))
		return GATE_ON;			/* cannot tell here: carry */
	{
		Relation	rel = table_open(placement, AccessShareLock);

		any = first_row(rel, InvalidAttrNumber, InvalidOid, (Datum) 0, NULL, NULL);
		table_close(rel, AccessShareLock);
	}
	return any ? GATE_ON : GATE_OFF;
}

/* s with every occurrence of value replaced (s itself if none) */
static char *
redact(char *s, const char *value)
{
	StringInfoData buf;
	const char *p = s;
	const char *hit;
	size_t		n = strlen(value);

	if (s == NULL || n == 0 || strstr(s, value) == NULL)
		return s;
	initStringInfo(&buf);
	while ((hit = strstr(p, value)) != NULL)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, "...");
		p = hit + n;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

static void
redact_report(ErrorData *edata, const char *value)
{
	edata->message = redact(edata->message, value);
	edata->detail = redact(edata->detail, value);
	edata->context = redact(edata->context, value);
	edata->internalquery = redact(edata->internalquery, value);
}

/*
 * A report made while a value is carried (Citus relays a worker's failure
 * as a WARNING at once) quotes the SET LOCAL in its context: never the
 * token's text in the log (nor in another emit_log_hook).
 */
static void
carry_emit_log(ErrorData *edata)
{
	if (carrying_value != NULL)
		redact_report(edata, carrying_value);
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * SET LOCAL reclock.token = value, sent on to the workers by Citus; the
 * coordinator's own settings as they were afterwards.
 */
static void
carry(const char *value)
{
	StringInfoData sql;
	int			level;
	MemoryContext oldcxt;

	initStringInfo(&sql);
	appendStringInfo(&sql, "DO $reclock_carry$BEGIN SET LOCAL reclock.token = %s; END$reclock_carry$",
					 quote_literal_cstr(value));
	oldcxt = CurrentMemoryContext;
	carrying = true;
	carrying_value = value;
	PG_TRY();
	{
		level = NewGUCNestLevel();
		(void) set_config_option("citus.propagate_set_commands", "local",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not carry reclock.token to the Citus workers");
		SPI_finish();
		/* undone here: what this node honours, and the caller's setting */
		AtEOXact_GUC(false, level);
	}
	PG_CATCH();
	{
		/* the error is reported later, its context quoting the SET LOCAL */
		ErrorData  *edata;

		carrying = false;
		carrying_value = NULL;
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		redact_report(edata, value);
		ReThrowError(edata);
	}
	PG_END_TRY();
	carrying = false;
	carrying_value = NULL;
	explicit_bzero(sql.data, sql.len);
	pfree(sql.data);
	carried = MemoryContextStrdup(TopTransactionContext, value);
	carried_unknown = false;
}

/* forget what an earlier transaction carried */
static void
carry_sync(void)
{
	if (ReclockNewTransaction(&carried_lxid))
	{
		carried = NULL;			/* its memory went with the old transaction */
		carried_unknown = false;
	}
}

/* before a statement: carry the presented value if it changed */
static void
carry_if_changed(void)
{
	const char *value;

	if (carrying || !IsTransactionState() || IsInParallelMode())
		return;
	carry_sync();
	value = presented_value();
	if (!carried_unknown &&
		(carried == NULL ? value[0] == '\0' : strcmp(carried, value) == 0))
		return;
	if (gate == GATE_UNKNOWN)
		gate = compute_gate();
	if (gate == GATE_ON)
		carry(pstrdup(value));	/* the carry sets and restores the setting */
}

static void
carry_executor_start(QueryDesc *queryDesc, int eflags)
{
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
		carry_if_changed();
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	/*
	 * Citus's ExecutorStart evaluated the functions of a router write on
	 * this node (INSERT ... VALUES (f()) ON CONFLICT DO UPDATE): one may
	 * have cleared or changed the token, before the write goes out.
	 */
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
		carry_if_changed();
}

/*
 * A statement done: its functions may have changed the token, and Citus
 * runs the subqueries of a write (CTEs, INSERT ... SELECT through the
 * coordinator) as statements of their own before the write goes out.
 */
static void
carry_executor_finish(QueryDesc *queryDesc)
{
	if (prev_executor_finish)
		prev_executor_finish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);
	/* inside another statement only: a top-level one has no snapshot left here */
	if (ActiveSnapshotSet())
		carry_if_changed();
}

/* does Citus send the caller's SET LOCAL commands on to the workers? */
static bool
propagates_sets(void)
{
	const char *v = GetConfigOption("citus.propagate_set_commands", true, false);

	return v != NULL && strcmp(v, "none") != 0;
}

/*
 * COPY FROM: Citus opens its connections in its utility hook, before any
 * executor.  A SET of reclock.token Citus sends on: see below.
 */
static void
carry_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					  ProcessUtilityContext context, ParamListInfo params,
					  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	bool		sets_token = false;
	bool		propagated = false;

	if (IsA(pstmt->utilityStmt, CopyStmt) && ((CopyStmt *) pstmt->utilityStmt)->is_from)
		carry_if_changed();
	/*
	 * citusstore.c's part (set by init.c: that file is above this one): a
	 * COPY FROM a child table marks the notifying tables above it; DROP
	 * EXTENSION reclock drops the stores of Citus tables first
	 */
	if (carry_utility_hook != NULL &&
		(IsA(pstmt->utilityStmt, CopyStmt) || IsA(pstmt->utilityStmt, DropStmt)))
		carry_utility_hook(pstmt->utilityStmt);
	if (IsA(pstmt->utilityStmt, VariableSetStmt) && !carrying)
	{
		VariableSetStmt *set = (VariableSetStmt *) pstmt->utilityStmt;

		sets_token = set->kind == VAR_RESET_ALL ||
			(set->name != NULL && pg_strcasecmp(set->name, "reclock.token") == 0);
		propagated = sets_token && propagates_sets();
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	/*
	 * The caller's own SET of reclock.token (or RESET ALL), which Citus sent
	 * on to the workers itself (citus.propagate_set_commands = local): the
	 * workers now hold a value this node may not honour (one set inside a
	 * function with a SET clause of the token, or set and then cleared
	 * without a SET statement).  Carry the honoured value over it at once,
	 * before any write of this statement goes out.
	 */
	if (sets_token && (propagated || propagates_sets()) && IsTransactionState())
	{
		carry_sync();
		carried_unknown = true;
		carry_if_changed();
	}
}

/* a savepoint rolled back: the workers rolled their SET LOCAL back too */
static void
carry_subxact(SubXactEvent event, SubTransactionId mySubid,
			  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && carried != NULL &&
		carried_lxid == MY_LXID)
		carried_unknown = true;
}

/*
 * At load (reclock.c's _PG_init): install the hooks if Citus is loaded
 * (it is preloaded, before reclock, wherever it runs).  presented: the
 * value of reclock.token this transaction presents ("" if none counts).
 * True if installed: then the caller registers ReclockCarryInvalidate as
 * a relcache callback (through reclock.c's one registration).
 */
bool
ReclockCarryInit(const char *(*presented) (void))
{
	if (GetConfigOption("citus.propagate_set_commands", true, false) == NULL)
		return false;
	presented_value = presented;
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = carry_executor_start;
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = carry_executor_finish;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = carry_process_utility;
	RegisterSubXactCallback(carry_subxact, NULL);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = carry_emit_log;
	return true;
}
