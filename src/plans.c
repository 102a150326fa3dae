/*-------------------------------------------------------------------------
 *
 * plans.c
 *	  The one cache of the SQL statements reclock runs, and the check that
 *	  no statement ever reaches a relation other than the one it was made for.
 *
 * reclock runs few statements through SPI: the row lock of acquire, the
 * reads and the UPDATE of CAS and diff (as the caller, on the caller's
 * table), the parent-row lock of a child table's guard (as the parent's
 * owner), and the rare writes of its own store's notice settings.
 * Their SQL names relations as schema.table, because SQL has no other way.
 * A name is not an OID: a schema rename sends no invalidation of the tables
 * in it and takes no lock on them, and SPI re-parses a cached statement's
 * text after any invalidation.  So every statement is parsed with a parser
 * hook that refuses a relation other than the OIDs it was made for, at
 * every parse analysis, also the ones SPI does by itself when it
 * revalidates a cached plan (a race with a concurrent rename: 40001, and a
 * retry works).  A statement whose plan was invalidated is made again from
 * the current names at its next use, so after a rename it names the same
 * table by its new name.
 *
 * The cache is keyed by (relation OID, query shape), bounded (least
 * recently used statements go), and safe by construction: a statement is
 * looked up and run in one call, its plan is pinned while it runs, and a
 * plan is freed only at a later lookup, when nothing runs it (a statement
 * can run re-entrantly: a CAS fired by a trigger of a CAS's own UPDATE).
 * Only public SPI is used: SPI_prepare_extended with a parser setup hook,
 * SPI_keepplan, SPI_plan_is_valid, SPI_freeplan.
 *
 * IDENTIFICATION
 *	  src/plans.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "lib/ilist.h"
#include "nodes/params.h"
#include "parser/parse_node.h"
#include "parser/parsetree.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/plancache.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "reclock.h"

/* statements kept per backend (a form saves the same few shapes again and again) */
#define PLAN_CACHE_SIZE		128
#define PLAN_KEY_LEN		256

/*
 * What the parser hook knows about a statement: the relations it may name
 * and the types of its parameters.  Lives as long as the plan (SPI keeps a
 * pointer to it for re-analysis).
 */
typedef struct PlanCheck
{
	int			nrels;
	Oid			rels[4];
	int			nargs;
	Oid		   *argtypes;
	int			checks;			/* hook calls in the latest analysis */
} PlanCheck;

/* a kept plan; freed only when nothing runs it */
typedef struct PlanRef
{
	SPIPlanPtr	plan;
	int			pins;			/* executions in progress */
	dlist_node	retired;		/* in retired_refs once its entry let it go */
	char	   *(*build) (void *arg);	/* the statement it was made from */
	PlanCheck	check;
} PlanRef;

typedef struct PlanEntry
{
	char		key[PLAN_KEY_LEN];	/* "relid:shape" */
	PlanRef    *ref;
	dlist_node	lru;
} PlanEntry;

static HTAB *plan_cache = NULL;
static MemoryContext plan_cxt = NULL;
static dlist_head plan_lru = DLIST_STATIC_INIT(plan_lru);
static dlist_head retired_refs = DLIST_STATIC_INIT(retired_refs);
static int	plan_count = 0;
static bool plan_inval_pending = false;	/* a relcache invalidation since the last look */

/*
 * The parser hook: every relation named so far, at this query level and
 * above, must be one the statement was made for.  Called at each column
 * and parameter reference; every statement reclock makes refers to a
 * column after naming its relations (see plan_prepare).
 */
static void
plan_check_rels(ParseState *pstate)
{
	PlanCheck  *pc = (PlanCheck *) pstate->p_ref_hook_state;
	ParseState *ps;

	pc->checks++;
	for (ps = pstate; ps != NULL; ps = ps->parentParseState)
	{
		ListCell   *lc;

		foreach(lc, ps->p_rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
			bool		ok = false;
			int			i;

			if (rte->rtekind != RTE_RELATION)
				continue;
			for (i = 0; i < pc->nrels && !ok; i++)
				ok = (rte->relid == pc->rels[i]);
			if (!ok)
			{
				char	   *expected = get_rel_name(pc->rels[0]);

				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to a concurrent rename"),
						 errdetail("A statement reclock made for table \"%s\" (OID %u) now names relation \"%s\" (OID %u).",
								   expected ? expected : "?", pc->rels[0],
								   get_rel_name(rte->relid), rte->relid),
						 errhint("Retry the transaction.")));
			}
		}
	}
}

/* the same check on a parsed statement, its subqueries and CTEs included */
static void
plan_check_query(Query *q, PlanCheck *pc)
{
	ParseState *ps = make_parsestate(NULL);
	ListCell   *lc;

	ps->p_rtable = q->rtable;
	ps->p_ref_hook_state = pc;
	plan_check_rels(ps);
	free_parsestate(ps);
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
			plan_check_query(rte->subquery, pc);
	}
	foreach(lc, q->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (IsA(cte->ctequery, Query))
			plan_check_query((Query *) cte->ctequery, pc);
	}
}

static Node *
plan_columnref_hook(ParseState *pstate, ColumnRef *cref)
{
	plan_check_rels(pstate);
	return NULL;				/* resolve the column as usual */
}

/* parameters $1 .. $n of fixed types (as parse_param.c's fixed parameters) */
static Node *
plan_paramref_hook(ParseState *pstate, ParamRef *pref)
{
	PlanCheck  *pc = (PlanCheck *) pstate->p_ref_hook_state;
	int			paramno = pref->number;
	Param	   *param;

	plan_check_rels(pstate);
	if (paramno <= 0 || paramno > pc->nargs)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_PARAMETER),
				 errmsg("there is no parameter $%d", paramno),
				 parser_errposition(pstate, pref->location)));
	param = makeNode(Param);
	param->paramkind = PARAM_EXTERN;
	param->paramid = paramno;
	param->paramtype = pc->argtypes[paramno - 1];
	param->paramtypmod = -1;
	param->paramcollid = get_typcollation(param->paramtype);
	param->location = pref->location;
	return (Node *) param;
}

static void
plan_parser_setup(ParseState *pstate, void *arg)
{
	pstate->p_pre_columnref_hook = plan_columnref_hook;
	pstate->p_paramref_hook = plan_paramref_hook;
	pstate->p_ref_hook_state = arg;
}

/*
 * Prepare sql with the check pc (which must outlive the plan).  Inside SPI.
 */
static SPIPlanPtr
plan_prepare(const char *sql, PlanCheck *pc)
{
	SPIPrepareOptions opts;
	SPIPlanPtr	plan;

	memset(&opts, 0, sizeof(opts));
	opts.parserSetup = plan_parser_setup;
	opts.parserSetupArg = pc;
	opts.parseMode = RAW_PARSE_DEFAULT;
	pc->checks = 0;
	plan = SPI_prepare_extended(sql, &opts);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_extended failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	/* the check ran: the statement refers to a column or a parameter */
	if (pc->checks == 0)
		elog(ERROR, "reclock statement refers to no column: \"%s\"", sql);
	return plan;
}

static ParamListInfo
plan_params(int nargs, const Oid *argtypes, Datum *values, const char *nulls)
{
	ParamListInfo params;
	int			i;

	if (nargs == 0)
		return NULL;
	params = makeParamList(nargs);
	for (i = 0; i < nargs; i++)
	{
		ParamExternData *prm = &params->params[i];

		prm->value = values[i];
		prm->isnull = (nulls && nulls[i] == 'n');
		prm->pflags = PARAM_FLAG_CONST;
		prm->ptype = argtypes[i];
	}
	return params;
}

static void
plan_free(PlanRef *ref)
{
	SPI_freeplan(ref->plan);
	pfree(ref->check.argtypes);
	pfree(ref);
}

/* free the plans that their entries let go, once nothing runs them */
static void
plan_free_retired(void)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &retired_refs)
	{
		PlanRef    *ref = dlist_container(PlanRef, retired, iter.cur);

		if (ref->pins > 0)
			continue;
		dlist_delete(&ref->retired);
		plan_free(ref);
	}
}

/* an entry lets its plan go: freed now, or once the runs of it end */
static void
plan_retire(PlanRef *ref)
{
	if (ref->pins == 0)
		plan_free(ref);
	else
		dlist_push_tail(&retired_refs, &ref->retired);
}

static void
plan_evict(PlanEntry *e)
{
	dlist_delete(&e->lru);
	plan_retire(e->ref);
	hash_search(plan_cache, e->key, HASH_REMOVE, NULL);
	plan_count--;
}

static void
plan_relcache_callback(Datum arg, Oid relid)
{
	plan_inval_pending = true;
}

/*
 * Let go the statements whose plans were invalidated: the plan cache would
 * make them again at their next use anyway, and a statement of a dropped
 * table has no next use (a backend that locks and drops table after table
 * would otherwise keep up to PLAN_CACHE_SIZE plans of tables long gone).
 * At the next run after a relcache invalidation, never inside the callback.
 */
static void
plan_forget_invalid(void)
{
	dlist_mutable_iter iter;

	plan_inval_pending = false;
	dlist_foreach_modify(iter, &plan_lru)
	{
		PlanEntry  *e = dlist_container(PlanEntry, lru, iter.cur);

		if (!SPI_plan_is_valid(e->ref->plan))
			plan_evict(e);
	}
}

/* make and keep a statement's plan */
static PlanRef *
plan_make(ReclockStatement *st)
{
	PlanRef    *ref = MemoryContextAllocZero(plan_cxt, sizeof(PlanRef));

	ref->build = st->build;
	ref->check.nrels = 1;
	ref->check.rels[0] = st->relid;
	ref->check.nargs = st->nargs;
	ref->check.argtypes = MemoryContextAlloc(plan_cxt, sizeof(Oid) * Max(st->nargs, 1));
	memcpy(ref->check.argtypes, st->argtypes, sizeof(Oid) * st->nargs);
	PG_TRY();
	{
		ref->plan = plan_prepare(st->build(st->arg), &ref->check);
		SPI_keepplan(ref->plan);
	}
	PG_CATCH();
	{
		pfree(ref->check.argtypes);
		pfree(ref);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return ref;
}

static bool
plan_fits(PlanRef *ref, ReclockStatement *st)
{
	/* a shape names a statement only together with its builder */
	return ref->build == st->build &&
		ref->check.nargs == st->nargs &&
		memcmp(ref->check.argtypes, st->argtypes, sizeof(Oid) * st->nargs) == 0 &&
		SPI_plan_is_valid(ref->plan);
}

/*
 * Run a statement on st->relid as the current user (inside SPI): its plan
 * from the cache, or made from st->build's SQL of the current names.
 * Returns SPI's result code; the rows are in SPI_tuptable.
 */
static int	plan_run(ReclockStatement *st, Datum *values, const char *nulls,
					 long tcount, int latest);

int
ReclockPlanRun(ReclockStatement *st, Datum *values, const char *nulls, long tcount)
{
	return plan_run(st, values, nulls, tcount, 0);
}

/*
 * The same for a read (a SELECT without row locks), with the latest
 * snapshot rather than the transaction's: what a REPEATABLE READ transaction
 * cannot see, committed since its snapshot.
 */
int
ReclockPlanRunLatest(ReclockStatement *st, Datum *values, const char *nulls, long tcount)
{
	return plan_run(st, values, nulls, tcount, 1);
}

/*
 * A statement that locks rows (SELECT ... FOR KEY SHARE), run with the
 * latest snapshot, as PostgreSQL's own foreign-key checks find rows newer
 * than a REPEATABLE READ snapshot: the child guard's check at COMMIT.
 */
int
ReclockPlanRunLatestLocking(ReclockStatement *st, Datum *values, const char *nulls, long tcount)
{
	return plan_run(st, values, nulls, tcount, 2);
}

/* latest: 0 the usual snapshot, 1 the latest (read-only) */
static int
spi_run(SPIPlanPtr plan, ParamListInfo params, Datum *values, const char *nulls,
		long tcount, int latest)
{
	int			ret;

	if (latest)
		PushActiveSnapshot(GetLatestSnapshot());
	/* read-only: SPI runs it with the active snapshot, the one pushed */
	ret = SPI_execute_plan_with_paramlist(plan, params, latest, tcount);
	if (latest)
		PopActiveSnapshot();
	return ret;
}

/* the cache, at the first statement of the backend */
static void
plan_cache_create(void)
{
	HASHCTL		ctl;

	plan_cxt = AllocSetContextCreate(CacheMemoryContext, "reclock plans",
									 ALLOCSET_SMALL_SIZES);
	ctl.keysize = PLAN_KEY_LEN;
	ctl.entrysize = sizeof(PlanEntry);
	ctl.hcxt = plan_cxt;
	plan_cache = hash_create("reclock plans", PLAN_CACHE_SIZE, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ReclockRegisterRelcacheCallback(plan_relcache_callback);
}

/*
 * Rare (the child guard's checks at COMMIT): a statement made for this
 * call and run with the latest snapshot.  SPI runs a statement with a
 * snapshot of the caller's choosing only through SPI_execute_snapshot,
 * which takes the parameters' types from a plan made by SPI_prepare (as
 * ri_triggers.c does); the relations it names are checked once parsed, as
 * the parser hook checks those of the kept plans.
 */
static int
plan_run_checked_once(ReclockStatement *st, Datum *values, const char *nulls,
					  long tcount)
{
	PlanCheck	pc = {1, {st->relid}, st->nargs, st->argtypes, 0};
	SPIPlanPtr	plan = SPI_prepare(st->build(st->arg), st->nargs, st->argtypes);
	ListCell   *lc;
	int			ret;

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	foreach(lc, SPI_plan_get_plan_sources(plan))
	{
		CachedPlanSource *ps = (CachedPlanSource *) lfirst(lc);
		ListCell   *lq;

		foreach(lq, ps->query_list)
			plan_check_query(lfirst_node(Query, lq), &pc);
	}
	ret = SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
							   InvalidSnapshot, false, false, tcount);
	SPI_freeplan(plan);
	return ret;
}

static int
plan_run(ReclockStatement *st, Datum *values, const char *nulls, long tcount, int latest)
{
	char		key[PLAN_KEY_LEN];
	PlanEntry  *e;
	PlanRef    *ref;
	ParamListInfo params = plan_params(st->nargs, st->argtypes, values, nulls);
	int			ret;

	if (plan_cache == NULL)
		plan_cache_create();
	if (plan_inval_pending)
		plan_forget_invalid();
	plan_free_retired();

	if (latest == 2)
		return plan_run_checked_once(st, values, nulls, tcount);

	if (snprintf(key, sizeof(key), "%u:%s", st->relid, st->shape) >= (int) sizeof(key))
	{
		/* too long to keep: made for this call only */
		PlanCheck	pc = {1, {st->relid}, st->nargs, st->argtypes, 0};
		SPIPlanPtr	plan = plan_prepare(st->build(st->arg), &pc);

		ret = spi_run(plan, params, values, nulls, tcount, latest);
		SPI_freeplan(plan);
		return ret;
	}

	e = hash_search(plan_cache, key, HASH_FIND, NULL);
	if (e == NULL || !plan_fits(e->ref, st))
	{
		/* made from the current names (a plan made stale goes) */
		PlanRef    *fresh = plan_make(st);
		bool		found;

		e = hash_search(plan_cache, key, HASH_ENTER, &found);
		if (found)
		{
			dlist_delete(&e->lru);
			plan_retire(e->ref);
		}
		else
			plan_count++;
		e->ref = fresh;
		dlist_push_head(&plan_lru, &e->lru);
		while (plan_count > PLAN_CACHE_SIZE)
			plan_evict(dlist_container(PlanEntry, lru, dlist_tail_node(&plan_lru)));
	}
	else
		dlist_move_head(&plan_lru, &e->lru);

	/* e may go while the statement runs (a nested run evicts it); ref stays */
	ref = e->ref;
	ref->pins++;
	PG_TRY();
	{
		ret = spi_run(ref->plan, params, values, nulls, tcount, latest);
	}
	PG_FINALLY();
	{
		ref->pins--;
	}
	PG_END_TRY();
	return ret;
}

/*
 * Run sql once (not cached), inside SPI, with the given snapshot; it may
 * name only the relations rels.  For the store's rare writes.
 */
int
ReclockPlanRunOnce(const char *sql, const Oid *rels, int nrels, Snapshot snapshot)
{
	PlanCheck	pc;
	SPIPlanPtr	plan;
	int			ret;

	Assert(nrels <= lengthof(pc.rels));
	memset(&pc, 0, sizeof(pc));
	pc.nrels = nrels;
	memcpy(pc.rels, rels, sizeof(Oid) * nrels);
	plan = plan_prepare(sql, &pc);
	ret = SPI_execute_snapshot(plan, NULL, NULL, snapshot, InvalidSnapshot,
							   false, true, 0);
	SPI_freeplan(plan);
	return ret;
}
