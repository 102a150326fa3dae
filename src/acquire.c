/*-------------------------------------------------------------------------
 *
 * acquire.c
 *	  The SQL API of locks: acquire, valid, refresh, release, break, sweep.
 *
 * An acquire, in order: check the caller's rights on the table, make the
 * key canonical, lock the row FOR UPDATE as the caller (this waits for a
 * transaction writing the row or, through a child table's guard, one of its
 * child rows, and fails if the caller cannot see it), take reclock's
 * advisory lock on (table, key) so that acquires of one row run one at a
 * time, then read the lock with the latest snapshot and grant, extend or
 * refuse.  The guard's ordering argument rests on the row lock coming
 * before the grant is written (see guard.c and children.c).
 *
 * IDENTIFICATION
 *	  src/acquire.c
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
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/resowner.h"
#include "utils/memutils.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"
#include "catalog/pg_class.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "reclock.h"

PG_FUNCTION_INFO_V1(reclock_acquire);
PG_FUNCTION_INFO_V1(reclock_valid);
PG_FUNCTION_INFO_V1(reclock_refresh);
PG_FUNCTION_INFO_V1(reclock_release);
PG_FUNCTION_INFO_V1(reclock_break);
PG_FUNCTION_INFO_V1(reclock_sweep);
PG_FUNCTION_INFO_V1(reclock_clock);
PG_FUNCTION_INFO_V1(reclock_visible_locks);

/*
 * The query that locks one row by key FOR UPDATE (acquire, break).  It runs
 * with the caller's rights, so privileges and row-level security apply.
 * FOR UPDATE, not a weaker mode: it is the one that conflicts with the FOR
 * KEY SHARE a child table's guard holds on the parent row (children.c).
 */
typedef struct LockRowArg
{
	ReclockKeyInfo *ki;
	Relation	rel;
} LockRowArg;

static char *
lock_row_sql(void *arg)
{
	LockRowArg   *sa = (LockRowArg *) arg;

	return psprintf("SELECT %s FROM %s WHERE %s FOR UPDATE",
					ReclockColumnListSql(sa->ki->relid, sa->ki->nkeys, sa->ki->attnums),
					ReclockRelationSql(sa->rel), ReclockKeyWhereSql(sa->ki));
}

/*
 * Can the row be found and locked without the statement?  Only where the
 * statement would apply nothing more than the index probe and the row lock
 * (lock_row_direct): a plain table that is not a partition and has no
 * inheritance children (the statement reads ONLY the table, so they would
 * not matter; but they keep one plain way to the statement, with which the
 * tests compare the two paths: sql/lockrow_review.sql), no row-level
 * security for the caller (its policies are expressions only the executor
 * runs), and every right the statement checks: USAGE of the table's schema
 * (its parser looks the table up by name), SELECT on the key columns (it
 * reads them), UPDATE on the table or a column (FOR UPDATE: reclock_break
 * has not checked it before, acquire has), EXECUTE of the key's equality
 * functions (its WHERE calls them).  And a primary key whose index this
 * transaction may use: one made over a broken HOT chain (indcheckxmin) has
 * only the chain's newest key, which an older snapshot may not see; the
 * planner leaves it out then (get_relation_info), and so does this.  Else
 * the statement, which also raises PostgreSQL's own errors for what is
 * missing.
 */
static bool
can_lock_directly(ReclockKeyInfo *ki, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	HeapTuple	indtup;
	bool		index_usable;
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relhassubclass ||
		rel->rd_rel->relispartition || ki->rootid != relid)
		return false;
	/* a row lock is no work for a parallel operation: the statement refuses it */
	if (IsInParallelMode())
		return false;
	indtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(ReclockPrimaryKeyIndex(rel)));
	if (!HeapTupleIsValid(indtup))
		return false;
	index_usable = !((Form_pg_index) GETSTRUCT(indtup))->indcheckxmin ||
		TransactionIdPrecedes(HeapTupleHeaderGetXmin(indtup->t_data), TransactionXmin);
	ReleaseSysCache(indtup);
	if (!index_usable)
		return false;
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;
	if (ReclockObjectAclcheck(NamespaceRelationId, RelationGetNamespace(rel), GetUserId(), ACL_USAGE) != ACLCHECK_OK)
		return false;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_UPDATE) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(relid, GetUserId(), ACL_UPDATE, ACLMASK_ANY) != ACLCHECK_OK)
		return false;
	for (i = 0; i < ki->nkeys; i++)
		if (ReclockObjectAclcheck(ProcedureRelationId, get_opcode(ki->eqops[i]), GetUserId(),
								  ACL_EXECUTE) != ACLCHECK_OK)
			return false;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return true;
	for (i = 0; i < ki->nkeys; i++)
		if (pg_attribute_aclcheck(relid, ki->attnums[i], GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			return false;
	return true;
}

/*
 * SELECT <key> FROM ONLY rel WHERE <key> = values FOR UPDATE, without the
 * statement: a probe of the primary-key index with the snapshot the
 * statement would get (this transaction's writes seen), then the row lock
 * as LockRows takes it (ReclockLockRowVersion: the newest version under
 * READ COMMITTED, checked again against the key; 40001 under REPEATABLE
 * READ if it changed since the snapshot).  As the caller, like the
 * statement: the key's equality runs with the caller's rights.  The key is
 * taken from the version locked (memory of the caller); NULL if there is
 * no such row.
 */
static char *
lock_row_direct(ReclockKeyInfo *ki, Relation rel, Datum *values)
{
	Oid			indexoid = ReclockPrimaryKeyIndex(rel);
	ScanKeyData skey[INDEX_MAX_KEYS];
	FmgrInfo	eqfuncs[INDEX_MAX_KEYS];
	Datum		vals[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS];
	SysScanDesc scan;
	HeapTuple	tup;
	TupleTableSlot *slot;
	ItemPointerData tid;
	Snapshot	snap;
	char	   *key = NULL;
	bool		found;
	int			i;

	/*
	 * The table lock a row-locking SELECT takes when it is planned, before
	 * its snapshot: a transaction holding the table EXCLUSIVE is waited for
	 * before the row is looked for, so what it committed is found.
	 */
	LockRelationOid(RelationGetRelid(rel), RowShareLock);

	/* the snapshot a statement of this function would get */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	snap = GetActiveSnapshot();

	for (i = 0; i < ki->nkeys; i++)
	{
		fmgr_info(get_opcode(ki->eqops[i]), &eqfuncs[i]);
		ScanKeyEntryInitializeWithInfo(&skey[i], 0, ki->attnums[i], BTEqualStrategyNumber,
									   ki->eqtypes[i], ki->collations[i], &eqfuncs[i],
									   values[i]);
	}
	/* the index's lock to the end, as the statement keeps it */
	LockRelationOid(indexoid, AccessShareLock);
	scan = systable_beginscan(rel, indexoid, true, snap, ki->nkeys, skey);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (found)
		tid = tup->t_self;
	systable_endscan(scan);

	if (found)
	{
		slot = table_slot_create(rel, NULL);
		if (ReclockLockRowVersion(rel, &tid, snap, slot, LockTupleExclusive, LockWaitBlock,
								  0, ki->nkeys, ki->attnums, skey))
		{
			for (i = 0; i < ki->nkeys; i++)
				vals[i] = slot_getattr(slot, ki->attnums[i], &nulls[i]);
			key = ReclockKeyText(ki, vals, nulls);
		}
		ExecDropSingleTupleTableSlot(slot);
	}
	PopActiveSnapshot();
	return key;
}

/*
 * Lock the row with the given key values FOR UPDATE, as the caller, and
 * return its canonical key as stored in the row.  NULL if there is no such
 * row the caller can see.
 */
static char *
lock_row(ReclockKeyInfo *ki, Relation rel, Datum *values)
{
	int			ret;
	char	   *key = NULL;
	MemoryContext caller = CurrentMemoryContext;
	LockRowArg	sa = {ki, rel};
	ReclockStatement st = {ki->relid, "lockrow", ki->nkeys, ki->typids, lock_row_sql, &sa};

	if (can_lock_directly(ki, rel))
		return lock_row_direct(ki, rel, values);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = ReclockPlanRun(&st, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		Datum		vals[INDEX_MAX_KEYS];
		bool		nulls[INDEX_MAX_KEYS];
		MemoryContext spicxt = MemoryContextSwitchTo(caller);
		int			i;

		for (i = 0; i < ki->nkeys; i++)
			vals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									i + 1, &nulls[i]);
		key = ReclockKeyText(ki, vals, nulls);
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	return key;
}

/* the caller may write the table: UPDATE on the table or on any column */
static inline void
check_update_privilege(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_UPDATE) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(relid, GetUserId(), ACL_UPDATE, ACLMASK_ANY) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", RelationGetRelationName(rel)),
				 errdetail("Locking a row requires UPDATE privilege on its table.")));
}

/* the function writes the store: refused where nothing may be written */
static inline void
check_writable(const char *cmdname)
{
	PreventCommandIfReadOnly(cmdname);
	PreventCommandDuringRecovery(cmdname);
	ReclockStoreWillWrite();	/* its reads take the write's lock mode */
}

/*
 * The fence of the grant a token belongs to.
 */
static bool
token_fence(pg_uuid_t *token, int64 *fence)
{
	uint8		hash[RECLOCK_HASH_LEN];

	ReclockHashToken(token, hash);
	return ReclockStoreFenceOfToken(hash, fence);
}

/*
 * Lock the row FOR UPDATE (lock_row) and return its key, taken from the row
 * itself; P0002 if the caller cannot see it (key: the key asked for).
 */
static char *
lock_row_or_refuse(ReclockKeyInfo *ki, Relation rel, Datum *keyvals,
				   const char *key)
{
	char	   *rowkey = lock_row(ki, rel, keyvals);

	if (rowkey == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no row with key %s in table \"%s\"", key,
						RelationGetRelationName(rel)),
				 errdetail("The row does not exist or is not visible to the current role.")));
	return rowkey;
}

/*
 * After a wait for the table's epoch lock: a change of a type the key is
 * made of ended meanwhile (ddl.c), and the key text made before may name
 * nothing now (40001).  Returns the table's key facts, read again.
 */
static ReclockKeyInfo *
recheck_key_after_wait(Relation rel, const char *key)
{
	ReclockKeyInfo *ki = ReclockGetKeyInfo(rel);

	if (strcmp(ReclockCanonicalKey(ki, key, NULL), key) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not lock row %s of table \"%s\": its key changed meanwhile",
						key, RelationGetRelationName(rel)),
				 errdetail("A type the table's key is made of was changed while the lock was being granted."),
				 errhint("Retry the transaction.")));
	return ki;
}

/* a new token of the grant: its hash stored, the token returned */
static pg_uuid_t *
new_token(int64 fence)
{
	pg_uuid_t  *token = palloc(sizeof(pg_uuid_t));
	uint8		hash[RECLOCK_HASH_LEN];

	ReclockNewToken(token);
	ReclockHashToken(token, hash);
	ReclockStoreAddToken(hash, fence);
	RECLOCK_TEST_PAUSE("acquire:after_token");
	return token;
}

/*
 * reclock_acquire's result: (acquired, token, holder, expires_at, fence) of
 * the grant made (token) or of the live lock that refused (token NULL).
 */
static void
set_result(Datum *result, bool *nulls, pg_uuid_t *token, ReclockLock *lock)
{
	result[0] = BoolGetDatum(token != NULL);
	result[1] = token ? UUIDPGetDatum(token) : (Datum) 0;
	nulls[1] = (token == NULL);
	result[2] = CStringGetTextDatum(lock->holder);
	result[3] = TimestampTzGetDatum(lock->expires_at);
	result[4] = Int64GetDatum(lock->fence);
}

/*
 * The grant to write: a new one (a new fence), or, if extending is the
 * live lock of the same holder, that grant extended.
 */
static void
make_grant(ReclockLock *grant, Oid rootid, char *key, char *holder,
		   TimestampTz expires_at, ReclockLock *extending, TimestampTz now)
{
	grant->found = true;
	grant->relid = rootid;
	grant->key = key;
	grant->holder = holder;
	grant->acquired_by = GetUserId();
	grant->expires_at = expires_at;
	if (extending != NULL)
	{
		grant->fence = extending->fence;
		grant->acquired_at = extending->acquired_at;
	}
	else
	{
		grant->fence = ReclockStoreNextFence();
		grant->acquired_at = now;
	}
}

/*
 * The row type of a function's OUT parameters, built from pg_proc once per
 * backend and function (get_call_result_type builds it anew at every call:
 * a quarter of acquire's own cost).  A function's OUT parameters cannot
 * change under its OID: CREATE OR REPLACE refuses another row type, and a
 * function dropped and made again has a new OID.
 */
#define RESULT_DESCS	4

static TupleDesc
result_desc(FunctionCallInfo fcinfo)
{
	static struct
	{
		Oid			fn;
		TupleDesc	desc;
	}			descs[RESULT_DESCS];
	static int	next = 0;
	Oid			fn = fcinfo->flinfo->fn_oid;
	TupleDesc	desc;
	MemoryContext old;
	int			i;

	for (i = 0; i < RESULT_DESCS; i++)
		if (descs[i].desc != NULL && descs[i].fn == fn)
			return descs[i].desc;
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	old = MemoryContextSwitchTo(TopMemoryContext);
	desc = CreateTupleDescCopy(desc);
	MemoryContextSwitchTo(old);
	if (descs[next].desc != NULL)
		FreeTupleDesc(descs[next].desc);
	descs[next].fn = fn;
	descs[next].desc = desc;
	next = (next + 1) % RESULT_DESCS;
	return desc;
}

/*
 * reclock_acquire(tbl regclass, key text, holder text, ttl interval)
 *	 returns (acquired, token, holder, expires_at, fence)
 */
Datum
reclock_acquire(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *keytext;
	char	   *holder;
	int64		ttl;
	Relation	rel;
	ReclockKeyInfo *ki;
	Datum	   *keyvals;
	char	   *key;
	TupleDesc	tupdesc;
	Datum		result[5];
	bool		nulls[5] = {false, false, false, false, false};
	pg_uuid_t  *token = NULL;
	ReclockLock old;
	ReclockLock grant;

	ReclockCheckNotNull(fcinfo, 0, "tbl");
	ReclockCheckNotNull(fcinfo, 1, "key");
	ReclockCheckNotNull(fcinfo, 2, "holder");
	relid = PG_GETARG_OID(0);
	keytext = text_to_cstring(PG_GETARG_TEXT_PP(1));
	holder = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (holder[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("holder must not be empty"),
				 errhint("Name the holder, for example the application's user id.")));
	ttl = ReclockTtlUsecs(PG_ARGISNULL(3) ? NULL : PG_GETARG_INTERVAL_P(3));
	check_writable("reclock_acquire()");

	tupdesc = result_desc(fcinfo);

	rel = ReclockOpenTable(relid, "reclock_acquire()");
	check_update_privilege(rel);
	ki = ReclockGetKeyInfo(rel);
	ReclockCheckLockable(rel, ki, "reclock_acquire()");
	/* a Citus distributed table: granted on the row's node (citusstore.c) */
	if (ki->citus == RECLOCK_CITUS_DISTRIBUTED)
	{
		Datum		d = ReclockCitusAcquire(rel, ki, keytext, holder, ttl, tupdesc);
		ReclockLock *granted = ReclockCitusLastLock();

		if (granted->found && ReclockNotifyOn(ki))
			ReclockNotify("acquired", ki->rootid, granted->key, NULL, granted);
		relation_close(rel, AccessShareLock);
		PG_RETURN_DATUM(d);
	}
	/* a Citus reference table: granted on every placement (citusref.c) */
	if (ki->citus == RECLOCK_CITUS_REFERENCE)
	{
		Datum		d = ReclockCitusRefAcquire(rel, ki, keytext, holder, ttl, tupdesc);

		relation_close(rel, AccessShareLock);
		PG_RETURN_DATUM(d);
	}
	keyvals = palloc(sizeof(Datum) * ki->nkeys);
	key = ReclockCanonicalKey(ki, keytext, keyvals);

	/*
	 * Lock the row FOR UPDATE: this waits for a transaction writing it (or
	 * writing its child rows, children.c), so the new holder reads what the
	 * old one wrote, and orders the grant before any later write (see
	 * guard.c).  P0002 if the caller cannot see it.  The key is then taken
	 * from the row itself.
	 */
	key = lock_row_or_refuse(ki, rel, keyvals, key);

	/* one acquire of this row at a time */
	ReclockLockKey(ki->rootid, key);

	/*
	 * The clock is read after the row (the store's row is read without
	 * waiting) and again after anything that may wait: a decision taken
	 * before a wait is taken again after it.  A same-holder extension is
	 * checked again at commit (store.c, "Renewals").
	 */
	for (;;)
	{
		TimestampTz now;
		bool		live;

		ReclockStoreGetByKey(ki->rootid, key, &old);
		now = ReclockNow();
		live = old.found && old.expires_at > now;
		if (live && !(old.acquired_by == GetUserId() && strcmp(old.holder, holder) == 0 &&
					  (reclock_reentry == RECLOCK_REENTRY_HOLDER ||
					   ReclockHoldsToken(old.fence))))
		{
			/* held by another: refuse, and say by whom */
			set_result(result, nulls, NULL, &old);
			break;
		}

		if (ReclockStoreMoveEpoch(ki->rootid))	/* may wait a moment */
			ki = recheck_key_after_wait(rel, key);
		now = ReclockNow();
		if (live != (old.found && old.expires_at > now))
			continue;			/* it ran out meanwhile: decide again */

		make_grant(&grant, ki->rootid, key, holder, now + ttl, live ? &old : NULL, now);
		if (!ReclockStoreWrite(&grant, &old))
			continue;			/* the lock row changed under us: read again */
		RECLOCK_TEST_PAUSE("acquire:after_lock_row");
		ReclockStoreReclaimLater(ki->rootid, now);	/* a few dead locks, at commit */
		if (!live && ReclockNotifyOn(ki))
			ReclockNotify("acquired", ki->rootid, key, NULL, &grant);

		token = new_token(grant.fence);
		set_result(result, nulls, token, &grant);
		break;
	}

	relation_close(rel, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, nulls)));
}

/*
 * reclock_valid(token uuid) returns boolean
 */
Datum
reclock_valid(PG_FUNCTION_ARGS)
{
	int64		fence;
	ReclockLock lock;
	TimestampTz now;

	if (!token_fence(PG_GETARG_UUID_P(0), &fence))
		PG_RETURN_BOOL(ReclockCitusTokenLive(PG_GETARG_UUID_P(0), false));	/* citusstore.c */
	now = ReclockNow();
	if (!ReclockStoreGetSettledByFence(fence, &now, &lock))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(lock.expires_at > now);
}

/*
 * reclock_refresh(token uuid, ttl interval) returns timestamptz
 */
Datum
reclock_refresh(PG_FUNCTION_ARGS)
{
	int64		ttl;
	int64		fence;
	ReclockLock lock;

	ttl = ReclockTtlUsecs(PG_ARGISNULL(1) ? NULL : PG_GETARG_INTERVAL_P(1));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	check_writable("reclock_refresh()");
	if (!token_fence(PG_GETARG_UUID_P(0), &fence))
	{
		TimestampTz expires_at;
		bool		handled;

		/* a grant of a Citus reference table's row (citusref.c) */
		if (ReclockCitusRefRefresh(PG_GETARG_UUID_P(0), ttl, &expires_at, &handled))
			PG_RETURN_TIMESTAMPTZ(expires_at);
		if (handled)
			PG_RETURN_NULL();
		/* a grant of a Citus distributed table's row (citusstore.c) */
		if (ReclockCitusRefresh(PG_GETARG_UUID_P(0), ttl, &expires_at))
			PG_RETURN_TIMESTAMPTZ(expires_at);
		PG_RETURN_NULL();
	}
	/* the clock is read after any wait for the lock row (store.c) */
	if (!ReclockStoreSetExpiry(fence, ttl, &lock))
		PG_RETURN_NULL();
	RECLOCK_TEST_PAUSE("refresh:after_write");
	PG_RETURN_TIMESTAMPTZ(lock.expires_at);
}

/*
 * reclock_release(token uuid) returns boolean
 */
Datum
reclock_release(PG_FUNCTION_ARGS)
{
	int64		fence;
	ReclockLock lock;

	check_writable("reclock_release()");
	if (!token_fence(PG_GETARG_UUID_P(0), &fence))
	{
		/* citusstore.c */
		bool		released = ReclockCitusTokenLive(PG_GETARG_UUID_P(0), true);
		ReclockLock *ended = ReclockCitusLastLock();

		if (released && ended->found && ReclockNotifyOnRelid(ended->relid))
			ReclockNotify("released", ended->relid, ended->key, NULL, ended);
		PG_RETURN_BOOL(released);
	}
	if (!ReclockStoreEnd(fence, &lock))
		PG_RETURN_BOOL(false);
	RECLOCK_TEST_PAUSE("release:after_write");
	if (ReclockNotifyOnRelid(lock.relid))
		ReclockNotify("released", lock.relid, lock.key, NULL, &lock);
	PG_RETURN_BOOL(true);
}

/*
 * reclock_break(tbl regclass, key text) returns boolean
 */
Datum
reclock_break(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	ReclockKeyInfo *ki;
	char	   *key;
	char	   *rowkey;
	Datum	   *keyvals;
	ReclockLock lock;
	bool		broken = false;

	ReclockCheckNotNull(fcinfo, 0, "tbl");
	ReclockCheckNotNull(fcinfo, 1, "key");
	relid = PG_GETARG_OID(0);
	check_writable("reclock_break()");

	rel = ReclockOpenTable(relid, "reclock_break()");
	ReclockCheckOwner(rel, "Only the table's owner or a superuser may break another's lock.");
	/* a partition's locks are the root's, and so is the right: read through it */
	if (ReclockRootOf(relid) != relid)
	{
		relation_close(rel, AccessShareLock);
		rel = ReclockOpenTable(ReclockRootOf(relid), "reclock_break()");
	}
	ki = ReclockGetKeyInfo(rel);
	/* a protected Citus reference table: its locks in reference stores */
	if (ki->citus == RECLOCK_CITUS_REFERENCE)
	{
		bool		handled;

		broken = ReclockCitusRefBreak(rel, ki, text_to_cstring(PG_GETARG_TEXT_PP(1)), &handled);
		if (handled)
		{
			relation_close(rel, AccessShareLock);
			PG_RETURN_BOOL(broken);
		}
	}
	/* a protected Citus distributed table: its locks are beside its rows */
	if (ki->citus == RECLOCK_CITUS_DISTRIBUTED)
	{
		bool		handled;

		broken = ReclockCitusBreak(rel, ki, text_to_cstring(PG_GETARG_TEXT_PP(1)), &handled);
		if (handled)
		{
			ReclockLock *ended = ReclockCitusLastLock();

			if (broken && ended->found && ReclockNotifyOn(ki))
				ReclockNotify("broken", ki->rootid, ended->key, NULL, ended);
			relation_close(rel, AccessShareLock);
			PG_RETURN_BOOL(broken);
		}
	}
	if (ReclockKeyNamesObjects(ki))
	{
		/*
		 * A lock taken before 1.2 on a reg* key (no new ones can be): the
		 * object its key names may be gone, so the key is not parsed; it is
		 * found by its stored text (schema-qualified unless in pg_catalog).
		 */
		key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	}
	else
	{
		keyvals = palloc(sizeof(Datum) * ki->nkeys);
		key = ReclockCanonicalKey(ki, text_to_cstring(PG_GETARG_TEXT_PP(1)), keyvals);
		/* the row's own key if it is still there (a numeric '1.5' is '1.50') */
		rowkey = lock_row(ki, rel, keyvals);
		if (rowkey)
			key = rowkey;
	}

	ReclockLockKey(ki->rootid, key);
	if (ReclockStoreGetByKey(ki->rootid, key, &lock))
		broken = ReclockStoreEnd(lock.fence, &lock);
	RECLOCK_TEST_PAUSE("break:after_write");
	if (broken && ReclockNotifyOn(ki))
		ReclockNotify("broken", ki->rootid, key, NULL, &lock);

	relation_close(rel, AccessShareLock);
	PG_RETURN_BOOL(broken);
}

/*
 * reclock_sweep() returns bigint
 */
Datum
reclock_sweep(PG_FUNCTION_ARGS)
{
	TimestampTz now;
	int64		n;

	check_writable("reclock_sweep()");
	now = ReclockNow();
	n = ReclockStoreSweep(now);
	/* c6-view: and the stores of protected Citus tables, on a coordinator */
	n += ReclockCitusSweep(now);
	PG_RETURN_INT64(n);
}

/*
 * reclock_clock() returns timestamptz: the clock expiry is judged by.
 */
Datum
reclock_clock(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(ReclockNow());
}

/*
 * May the caller see this lock?  Only if it may read the table (SELECT on
 * it or on a column of it), and row-level security does not apply to it.
 */
static bool
lock_visible(ReclockLock *lock)
{
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(lock->relid)))
		return false;
	if (pg_class_aclcheck(lock->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(lock->relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
		return false;

	/*
	 * Row-level security applies to the caller: none of the table's locks.
	 * Telling which rows the caller may see would run the policies, the key
	 * type's input and its equality -- another role's code -- as the caller
	 * (and open the table, which another role's open transaction can hold
	 * exclusively): a reader of the view never runs anyone's code nor waits.
	 * Only catalog caches are read here.
	 */
	return check_enable_rls(lock->relid, InvalidOid, true) != RLS_ENABLED;
}

/* c6-view: lock_visible of a Citus table's lock (only its table counts) */
static bool
relation_locks_visible(Oid relid)
{
	ReclockLock lock;

	memset(&lock, 0, sizeof(lock));
	lock.relid = relid;
	return lock_visible(&lock);
}

/*
 * reclock_visible_locks() returns setof record: the live locks the caller
 * may see (see lock_visible), the rows of the view reclock_locks.  The view
 * filters inside this function, not with conditions on the lock store: the
 * planner cannot evaluate a condition of the caller's query (a leakproof
 * = or < on key) on a lock the caller may not see, so neither a function
 * in WHERE nor the row counts of EXPLAIN ANALYZE tell anything of them.
 */
Datum
reclock_visible_locks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext oldcxt;
	List	   *locks;
	List	   *citus;
	ListCell   *lc;
	TimestampTz now;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	now = ReclockNow();
	locks = ReclockStoreLiveLocks(now, CurrentMemoryContext);
	/* c6-view: on a Citus coordinator, the locks of its protected tables' stores */
	citus = ReclockCitusVisibleLocks(now, relation_locks_visible);
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(oldcxt);

	foreach(lc, locks)
	{
		ReclockLock *lock = lfirst(lc);
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		if (!lock_visible(lock))
			continue;
		values[0] = ObjectIdGetDatum(lock->relid);
		values[1] = CStringGetTextDatum(lock->key);
		values[2] = CStringGetTextDatum(lock->holder);
		values[3] = Int64GetDatum(lock->fence);
		values[4] = TimestampTzGetDatum(lock->acquired_at);
		values[5] = TimestampTzGetDatum(lock->expires_at);
		values[6] = DirectFunctionCall1(pg_get_userbyid, ObjectIdGetDatum(lock->acquired_by));
		oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		tuplestore_putvalues(store, tupdesc, values, nulls);
		MemoryContextSwitchTo(oldcxt);
	}
	/* (filtered by lock_visible in there, before their stores were read) */
	foreach(lc, citus)
	{
		ReclockCitusViewLock *lock = lfirst(lc);
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = ObjectIdGetDatum(lock->relid);
		values[1] = CStringGetTextDatum(lock->key);
		values[2] = CStringGetTextDatum(lock->holder);
		values[3] = Int64GetDatum(lock->fence);
		values[4] = TimestampTzGetDatum(lock->acquired_at);
		values[5] = TimestampTzGetDatum(lock->expires_at);
		values[6] = DirectFunctionCall1(namein, CStringGetDatum(lock->acquired_by));
		oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		tuplestore_putvalues(store, tupdesc, values, nulls);
		MemoryContextSwitchTo(oldcxt);
	}
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	return (Datum) 0;
}
