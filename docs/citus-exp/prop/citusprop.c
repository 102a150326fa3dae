/*
 * citusprop.c -- a throwaway prototype (not part of reclock): can an
 * extension carry a value set on the coordinator with set_config(..., true)
 * to the worker backends of the same distributed transaction, using Citus's
 * own SET LOCAL propagation?  At the start of each executor run on the
 * coordinator, if the setting's value differs from the one last carried in
 * this transaction, run SET LOCAL <setting> = '<value>' through SPI with
 * citus.propagate_set_commands = local for that one statement (then set back).
 * Citus sends it to the worker connections already in the transaction and
 * prepends it to the BEGIN of those it opens later.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

static ExecutorStart_hook_type prev_start = NULL;
static ProcessUtility_hook_type prev_utility = NULL;
static char *carried = NULL;		/* value last carried in this transaction */
static bool busy = false;

static void
carry(void)
{
	const char *v = GetConfigOption("myapp.tok", true, false);
	const char *prop;
	char	   *old;
	StringInfoData sql;

	if (busy || v == NULL || !IsTransactionState())
		return;
	if (carried != NULL && strcmp(carried, v) == 0)
		return;
	if (carried == NULL && v[0] == '\0')
		return;
	prop = GetConfigOption("citus.propagate_set_commands", true, false);
	if (prop == NULL)
		return;					/* no Citus here */
	old = pstrdup(prop);
	busy = true;
	PG_TRY();
	{
		initStringInfo(&sql);
		/*
		 * In a DO block: Citus propagates a SET LOCAL only in what it calls a
		 * multi-statement transaction (IsMultiStatementTransaction), and its
		 * executor level does not count a function's statement at
		 * ExecutorStart; a DO block always counts (DoBlockLevel).
		 */
		appendStringInfo(&sql, "DO $citusprop$BEGIN SET LOCAL myapp.tok = %s; END$citusprop$",
						 quote_literal_cstr(v));
		(void) set_config_option("citus.propagate_set_commands", "local",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
		SPI_connect();
		if (SPI_execute(sql.data, false, 0) < 0)
			elog(ERROR, "citusprop: SET LOCAL failed");
		SPI_finish();
		(void) set_config_option("citus.propagate_set_commands", old,
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
	}
	PG_FINALLY();
	{
		busy = false;
	}
	PG_END_TRY();
	carried = MemoryContextStrdup(TopTransactionContext, v);
}

static void
my_start(QueryDesc *qd, int eflags)
{
	carry();
	if (prev_start)
		prev_start(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
}

/* COPY: Citus opens its connections in its utility hook, before any executor */
static void
my_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		   ProcessUtilityContext context, ParamListInfo params,
		   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (IsA(pstmt->utilityStmt, CopyStmt))
		carry();
	if (prev_utility)
		prev_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

static void
xact_cb(XactEvent event, void *arg)
{
	carried = NULL;				/* lives in TopTransactionContext */
}

static void
subxact_cb(SubXactEvent event, SubTransactionId my, SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		carried = NULL;			/* Citus rolled the workers back too: carry again */
}

void
_PG_init(void)
{
	prev_start = ExecutorStart_hook;
	ExecutorStart_hook = my_start;
	prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = my_utility;
	RegisterXactCallback(xact_cb, NULL);
	RegisterSubXactCallback(subxact_cb, NULL);
}
