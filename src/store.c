/*-------------------------------------------------------------------------
 *
 * store.c
 *	  The lock store: every read and write of reclock's own tables.
 *
 * Reads go straight to the indexes (genam) with the latest snapshot, never
 * the caller's: a grant committed after a REPEATABLE READ transaction took
 * its snapshot must still count.  Writes go through SPI plans prepared once
 * per backend, run as the extension owner (ordinary roles have no rights
 * on the store), with the latest snapshot too.  The callers check the
 * caller's rights on the target table before they get here.
 *
 * IDENTIFICATION
 *	  src/store.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/spi_priv.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "reclock.h"

#ifndef ItemPointerGetDatum
#define ItemPointerGetDatum(X) PointerGetDatum(X)	/* PostgreSQL 16 has it */
#endif

/* the store's objects, resolved once per backend */
typedef struct StoreCache
{
	bool		valid;
	Oid			nsp;
	Oid			owner;
	Oid			lockrel;
	Oid			lockpkey;
	Oid			lockfence;
	Oid			tokenrel;
	Oid			tokenpkey;
	Oid			seq;
	Oid			notifyrel;
	Oid			notifypkey;
	SPIPlanPtr	upsert;
	SPIPlanPtr	addtoken;
	SPIPlanPtr	setexpiry;
	SPIPlanPtr	delkey;
	SPIPlanPtr	movekey;
	SPIPlanPtr	sweeplocks;
	SPIPlanPtr	sweeptokens;
	SPIPlanPtr	notifyon;
	SPIPlanPtr	notifyoff;
} StoreCache;

static StoreCache store;
static bool callback_registered = false;
static uint64 local_writes = 0;	/* writes of the store by this backend */
static int	store_busy = 0;		/* store plans executing (re-entrancy) */

static void store_invalidate(Datum arg, Oid relid);
static void store_load(void);
static Oid	store_relid(const char *name);
static SPIPlanPtr store_prepare_opts(const char *fmt, int nargs, Oid *argtypes,
									 int options);

/* an INSERT has no scan to plan: one generic plan serves */
#define store_prepare(fmt, nargs, argtypes) \
	store_prepare_opts(fmt, nargs, argtypes, 0)

/*
 * A keyed write (by ctid) always runs its generic plan, and that plan is
 * built with enable_seqscan off (see store_keyed_ready): a plan made while
 * the store was small, or had just been analyzed empty, would otherwise
 * keep a sequential scan of the whole store once it has grown (measured:
 * every release read every lock row), and planning at each call instead
 * cost more than the rest of a release.
 */
#define store_prepare_keyed(fmt, nargs, argtypes) \
	store_prepare_opts(fmt, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN)

static void store_keyed_ready(SPIPlanPtr plan);
static void store_fill(HeapTuple tup, TupleDesc desc, ReclockLock *lock);
static int	store_exec(SPIPlanPtr plan, Datum *values, const char *nulls);

/*
 * The schema reclock is installed in (get_extension_schema() is not
 * exported before PostgreSQL 16).
 */
Oid
ReclockExtensionSchema(void)
{
	Oid			extoid = get_extension_oid("reclock", false);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(nsp))
		elog(ERROR, "could not find the schema of extension \"reclock\"");
	return nsp;
}

static void
store_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == store.lockrel || relid == store.tokenrel ||
		relid == store.notifyrel)
		store.valid = false;
}

static Oid
store_relid(const char *name)
{
	Oid			relid = get_relname_relid(name, store.nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"reclock\" is damaged: relation \"%s\" is missing", name)));
	return relid;
}

static SPIPlanPtr
store_prepare_opts(const char *fmt, int nargs, Oid *argtypes, int options)
{
	const char *s = quote_identifier(get_namespace_name(store.nsp));
	char	   *sql = psprintf(fmt, s, s);
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, options);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	pfree(sql);
	return plan;
}

/*
 * Resolve the store's objects and prepare the write plans.  Must be called
 * inside SPI for the plans; the OIDs are cached on first use.
 */
static void
store_load(void)
{
	Oid			extoid;
	SPIPlanPtr *plans[] = {&store.upsert, &store.addtoken, &store.setexpiry,
	&store.delkey, &store.movekey, &store.sweeplocks, &store.sweeptokens,
	&store.notifyon, &store.notifyoff};
	int			i;

	if (store.valid)
		return;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(store_invalidate, (Datum) 0);
		callback_registered = true;
	}

	/*
	 * Drop the plans of the old objects.  One may be running, if a trigger
	 * on the store called back into reclock: those are left alone.
	 */
	for (i = 0; i < lengthof(plans); i++)
	{
		if (*plans[i] && store_busy == 0)
			SPI_freeplan(*plans[i]);
		*plans[i] = NULL;
	}

	extoid = get_extension_oid("reclock", true);
	if (!OidIsValid(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"reclock\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION reclock.")));
	store.nsp = ReclockExtensionSchema();
	store.lockrel = store_relid("reclock_lock_store");
	store.lockpkey = store_relid("reclock_lock_store_pkey");
	store.lockfence = store_relid("reclock_lock_store_fence_key");
	store.tokenrel = store_relid("reclock_token_store");
	store.tokenpkey = store_relid("reclock_token_store_pkey");
	store.seq = store_relid("reclock_fence_seq");
	store.notifyrel = store_relid("reclock_notify_store");
	store.notifypkey = store_relid("reclock_notify_store_pkey");
	{
		Relation	rel = table_open(store.lockrel, AccessShareLock);

		store.owner = rel->rd_rel->relowner;
		table_close(rel, AccessShareLock);
	}
	store.valid = true;
}

/* prepare the write plans on first use (inside SPI) */
static void
store_plans(void)
{
	Oid			t_upsert[] = {OIDOID, TEXTOID, TEXTOID, OIDOID, INT8OID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID};
	Oid			t_addtoken[] = {BYTEAOID, INT8OID};
	Oid			t_setexpiry[] = {TIDOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Oid			t_key[] = {TIDOID, TIMESTAMPTZOID};
	Oid			t_move[] = {TIDOID, TEXTOID};
	Oid			t_sweep[] = {TIMESTAMPTZOID};
	Oid			t_notify[] = {OIDOID};

	store_load();
	if (store.upsert)
		return;

	store.upsert = store_prepare(
								 "INSERT INTO %s.reclock_lock_store AS l"
								 " (relid, key, holder, acquired_by, fence, acquired_at, expires_at)"
								 " VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3, $4, $5, $6, $7)"
								 " ON CONFLICT (relid, key) DO UPDATE SET"
								 " holder = excluded.holder, acquired_by = excluded.acquired_by,"
								 " fence = excluded.fence, acquired_at = excluded.acquired_at,"
								 " expires_at = excluded.expires_at"
								 " WHERE l.fence OPERATOR(pg_catalog.=) $8"
								 " AND l.expires_at OPERATOR(pg_catalog.=) $9",
								 9, t_upsert);
	store.addtoken = store_prepare(
								   "INSERT INTO %s.reclock_token_store (hash, fence) VALUES ($1, $2)",
								   2, t_addtoken);
	/*
	 * Rows are found by an index probe first and then written by ctid (a TID
	 * scan whatever the statistics say: a generic plan made while the store
	 * was small must never scan it whole).  Under READ COMMITTED a row
	 * updated meanwhile is followed to its new version and the conditions
	 * are checked again.
	 */
	store.setexpiry = store_prepare_keyed(
									"UPDATE %s.reclock_lock_store SET expires_at = $4"
									" WHERE ctid OPERATOR(pg_catalog.=) $1"
									" AND fence OPERATOR(pg_catalog.=) $2"
									" AND expires_at OPERATOR(pg_catalog.>) $3"
									" RETURNING relid, key, holder, acquired_by, fence, acquired_at, expires_at",
									4, t_setexpiry);
	store.delkey = store_prepare_keyed(
								 "DELETE FROM %s.reclock_lock_store"
								 " WHERE ctid OPERATOR(pg_catalog.=) $1"
								 " AND expires_at OPERATOR(pg_catalog.<=) $2",
								 2, t_key);
	store.movekey = store_prepare_keyed(
								  "UPDATE %s.reclock_lock_store SET key = $2"
								  " WHERE ctid OPERATOR(pg_catalog.=) $1",
								  2, t_move);
	store.sweeplocks = store_prepare(
									 "DELETE FROM %s.reclock_lock_store l"
									 " WHERE l.expires_at OPERATOR(pg_catalog.<=) $1"
									 " OR NOT EXISTS (SELECT FROM pg_catalog.pg_class c"
									 " WHERE c.oid OPERATOR(pg_catalog.=) l.relid::pg_catalog.oid)",
									 1, t_sweep);
	store.sweeptokens = store_prepare(
									  "DELETE FROM %s.reclock_token_store t"
									  " WHERE NOT EXISTS (SELECT FROM %s.reclock_lock_store l"
									  " WHERE l.fence OPERATOR(pg_catalog.=) t.fence"
									  " AND l.expires_at OPERATOR(pg_catalog.>) $1)",
									  1, t_sweep);
	store.notifyon = store_prepare(
								   "INSERT INTO %s.reclock_notify_store (relid)"
								   " VALUES ($1::pg_catalog.oid::pg_catalog.regclass) ON CONFLICT DO NOTHING",
								   1, t_notify);
	store.notifyoff = store_prepare(
									"DELETE FROM %s.reclock_notify_store"
									" WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass",
									1, t_notify);
}

/*
 * Make sure the generic plan of a keyed write is built, and built with
 * enable_seqscan off; it is rebuilt only after an invalidation, so the
 * setting is switched only then.
 */
static void
store_keyed_ready(SPIPlanPtr plan)
{
	CachedPlanSource *ps = linitial(((_SPI_plan *) plan)->plancache_list);
	CachedPlan *cp;
	int			nestlevel;

	if (ps->is_valid && ps->gplan && ps->gplan->is_valid)
		return;
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	cp = SPI_plan_get_cached_plan(plan);
	if (cp)
		ReleaseCachedPlan(cp, CurrentResourceOwner);
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Run a write plan as the extension owner, with the latest snapshot.
 */
static int
store_exec(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	Oid			save_userid;
	int			save_sec;
	int			ret;

	local_writes++;
	if (plan == store.setexpiry || plan == store.delkey || plan == store.movekey)
		store_keyed_ready(plan);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(store.owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	store_busy++;
	PG_TRY();
	{
		ret = SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
								   InvalidSnapshot, false, true, 0);
	}
	PG_FINALLY();
	{
		store_busy--;
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec);
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
	return ret;
}

static void
store_fill(HeapTuple tup, TupleDesc desc, ReclockLock *lock)
{
	bool		isnull;

	lock->found = true;
	lock->tid = tup->t_self;
	lock->relid = DatumGetObjectId(heap_getattr(tup, 1, desc, &isnull));
	lock->key = TextDatumGetCString(heap_getattr(tup, 2, desc, &isnull));
	lock->holder = TextDatumGetCString(heap_getattr(tup, 3, desc, &isnull));
	lock->acquired_by = DatumGetObjectId(heap_getattr(tup, 4, desc, &isnull));
	lock->fence = DatumGetInt64(heap_getattr(tup, 5, desc, &isnull));
	lock->acquired_at = DatumGetTimestampTz(heap_getattr(tup, 6, desc, &isnull));
	lock->expires_at = DatumGetTimestampTz(heap_getattr(tup, 7, desc, &isnull));
}

/*
 * An index scan of one of the store's tables with the latest snapshot:
 * visit is called for each tuple found until it returns true.
 */
typedef bool (*StoreVisit) (HeapTuple tup, TupleDesc desc, void *arg);

static void
store_scan(Oid relid, Oid indexid, ScanKeyData *keys, int nkeys,
		   StoreVisit visit, void *arg)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;

	store_load();
	rel = table_open(relid, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, indexid, true, snap, nkeys, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		if (visit(tup, RelationGetDescr(rel), arg))
			break;
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
}

/* the first lock row found; lock may be NULL (only whether there is one) */
typedef struct LockVisit
{
	ReclockLock *lock;
	bool		found;
} LockVisit;

static bool
visit_lock(HeapTuple tup, TupleDesc desc, void *arg)
{
	LockVisit  *v = (LockVisit *) arg;

	v->found = true;
	if (v->lock)
		store_fill(tup, desc, v->lock);
	return true;
}

/*
 * One index probe of the lock store, with the latest snapshot.
 */
static bool
store_probe(Oid relid, Oid indexid, ScanKeyData *keys, int nkeys, ReclockLock *lock)
{
	LockVisit	v = {lock, false};

	store_scan(relid, indexid, keys, nkeys, visit_lock, &v);
	if (!v.found && lock)
		lock->found = false;
	return v.found;
}

bool
ReclockStoreGetByKey(Oid relid, const char *key, ReclockLock *lock)
{
	ScanKeyData skey[2];

	store_load();
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&skey[1], 2, BTEqualStrategyNumber, F_TEXTEQ,
				CStringGetTextDatum(key));
	skey[1].sk_collation = C_COLLATION_OID;
	return store_probe(store.lockrel, store.lockpkey, skey, 2, lock);
}

bool
ReclockStoreGetByFence(int64 fence, ReclockLock *lock)
{
	ScanKeyData skey[1];

	store_load();
	ScanKeyInit(&skey[0], 5, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(fence));
	return store_probe(store.lockrel, store.lockfence, skey, 1, lock);
}

typedef struct TokenVisit
{
	const uint8 *hash;
	int64		fence;
	bool		found;
} TokenVisit;

static bool
visit_token(HeapTuple tup, TupleDesc desc, void *arg)
{
	TokenVisit *tv = (TokenVisit *) arg;
	bool		isnull;
	bytea	   *stored = DatumGetByteaPP(heap_getattr(tup, 1, desc, &isnull));

	/* the index found it; confirm in constant time all the same */
	if (VARSIZE_ANY_EXHDR(stored) == RECLOCK_HASH_LEN &&
		timingsafe_bcmp(VARDATA_ANY(stored), tv->hash, RECLOCK_HASH_LEN) == 0)
	{
		tv->fence = DatumGetInt64(heap_getattr(tup, 2, desc, &isnull));
		tv->found = true;
	}
	return true;
}

/*
 * The fence of the grant a token hash belongs to.
 */
bool
ReclockStoreFenceOfToken(const uint8 *hash, int64 *fence)
{
	ScanKeyData skey[1];
	bytea	   *h = palloc(VARHDRSZ + RECLOCK_HASH_LEN);
	TokenVisit	tv = {hash, 0, false};

	SET_VARSIZE(h, VARHDRSZ + RECLOCK_HASH_LEN);
	memcpy(VARDATA(h), hash, RECLOCK_HASH_LEN);
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_BYTEAEQ,
				PointerGetDatum(h));
	store_load();
	store_scan(store.tokenrel, store.tokenpkey, skey, 1, visit_token, &tv);
	pfree(h);
	if (tv.found)
		*fence = tv.fence;
	return tv.found;
}

typedef struct LiveVisit
{
	TimestampTz now;
	int			maxrows;
	int			rows;
	int			state;
} LiveVisit;

static bool
visit_live(HeapTuple tup, TupleDesc desc, void *arg)
{
	LiveVisit  *lv = (LiveVisit *) arg;
	bool		isnull;

	if (DatumGetTimestampTz(heap_getattr(tup, 7, desc, &isnull)) > lv->now)
		lv->state = 1;
	else if (++lv->rows >= lv->maxrows)
		lv->state = -1;
	return lv->state != 0;
}

/*
 * Does the table have a live lock?  0 no, 1 yes, -1 unknown: it has more
 * than maxrows lock rows (live or dead) and looking further is not worth it
 * (TRUNCATE's check passes INT_MAX).
 */
int
ReclockStoreLiveState(Oid relid, TimestampTz now, int maxrows)
{
	ScanKeyData skey[1];
	LiveVisit	lv = {now, maxrows, 0, 0};

	store_load();
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	store_scan(store.lockrel, store.lockpkey, skey, 1, visit_live, &lv);
	return lv.state;
}

uint64
ReclockStoreLocalWrites(void)
{
	return local_writes;
}

int64
ReclockStoreNextFence(void)
{
	store_load();
	return nextval_internal(store.seq, false);
}

/*
 * Write a grant: a new one, or the extension of a live one.  The write is
 * conditional on the row still being what the caller read (old); false if
 * it changed meanwhile, and the caller reads again.
 */
bool
ReclockStoreWrite(ReclockLock *lock, ReclockLock *old)
{
	Datum		values[9];
	char		nulls[9] = "         ";
	int			processed;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	store_plans();
	values[0] = ObjectIdGetDatum(lock->relid);
	values[1] = CStringGetTextDatum(lock->key);
	values[2] = CStringGetTextDatum(lock->holder);
	values[3] = ObjectIdGetDatum(lock->acquired_by);
	values[4] = Int64GetDatum(lock->fence);
	values[5] = TimestampTzGetDatum(lock->acquired_at);
	values[6] = TimestampTzGetDatum(lock->expires_at);
	if (old->found)
	{
		values[7] = Int64GetDatum(old->fence);
		values[8] = TimestampTzGetDatum(old->expires_at);
	}
	else
	{
		values[7] = values[8] = (Datum) 0;
		nulls[7] = nulls[8] = 'n';
	}
	store_exec(store.upsert, values, nulls);
	processed = SPI_processed;
	SPI_finish();
	return processed == 1;
}

void
ReclockStoreAddToken(const uint8 *hash, int64 fence)
{
	Datum		values[2];
	bytea	   *h = palloc(VARHDRSZ + RECLOCK_HASH_LEN);

	SET_VARSIZE(h, VARHDRSZ + RECLOCK_HASH_LEN);
	memcpy(VARDATA(h), hash, RECLOCK_HASH_LEN);
	values[0] = PointerGetDatum(h);
	values[1] = Int64GetDatum(fence);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	store_plans();
	store_exec(store.addtoken, values, NULL);
	SPI_finish();
	pfree(h);
}

/*
 * Set the expiry of the grant cur (as read by a probe) by its ctid, if it
 * is still that grant and live at now.  False if nothing was written: the
 * row was not live, or it was changed since it was read (a ctid does not
 * follow an update; the caller reads again).
 */
static bool
set_expiry_once(ReclockLock *cur, TimestampTz now, TimestampTz expires_at,
				ReclockLock *lock)
{
	Datum		values[4];
	bool		found;
	MemoryContext caller;

	values[0] = ItemPointerGetDatum(&cur->tid);
	values[1] = Int64GetDatum(cur->fence);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(expires_at);
	caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	store_plans();
	store_exec(store.setexpiry, values, NULL);
	found = SPI_processed > 0;
	if (found && lock)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(caller);

		store_fill(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, lock);
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
	return found;
}

/*
 * Set the expiry of the grant with this fence, if it is live at now.
 * Refresh extends, release and break end (expires_at = now).  Fills lock
 * with the grant as written; false if it was not live.
 */
bool
ReclockStoreSetExpiry(int64 fence, TimestampTz now, TimestampTz expires_at,
					  ReclockLock *lock)
{
	ReclockLock cur;

	for (;;)
	{
		if (!ReclockStoreGetByFence(fence, &cur) || cur.expires_at <= now)
		{
			if (lock)
				lock->found = false;
			return false;
		}
		if (set_expiry_once(&cur, now, expires_at, lock))
			return true;
		/* changed since read (a concurrent refresh, say): read it again */
	}
}

/*
 * A holder changed the row's key: carry the lock at oldkey to newkey.  A
 * dead lock row at the new key is dropped first.
 */
void
ReclockStoreMoveKey(Oid relid, const char *oldkey, const char *newkey,
					TimestampTz now)
{
	ReclockLock cur;
	Datum		values[2];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	store_plans();
	while (ReclockStoreGetByKey(relid, newkey, &cur) && cur.expires_at <= now)
	{
		values[0] = ItemPointerGetDatum(&cur.tid);
		values[1] = TimestampTzGetDatum(now);
		store_exec(store.delkey, values, NULL);
		if (SPI_processed > 0)
			break;
	}
	while (ReclockStoreGetByKey(relid, oldkey, &cur))
	{
		values[0] = ItemPointerGetDatum(&cur.tid);
		values[1] = CStringGetTextDatum(newkey);
		store_exec(store.movekey, values, NULL);
		if (SPI_processed > 0)
			break;
	}
	SPI_finish();
}

int64
ReclockStoreSweep(TimestampTz now)
{
	Datum		values[1];
	int64		n;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	store_plans();
	values[0] = TimestampTzGetDatum(now);
	store_exec(store.sweeplocks, values, NULL);
	n = SPI_processed;
	store_exec(store.sweeptokens, values, NULL);
	SPI_finish();
	return n;
}

/*
 * Are change notices on for the table?  One probe of reclock_notify_store.
 */
bool
ReclockStoreNotifyEnabled(Oid relid)
{
	ScanKeyData skey[1];

	store_load();
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	return store_probe(store.notifyrel, store.notifypkey, skey, 1, NULL);
}

void
ReclockStoreSetNotify(Oid relid, bool enabled)
{
	Datum		values[1];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	store_plans();
	values[0] = ObjectIdGetDatum(relid);
	store_exec(enabled ? store.notifyon : store.notifyoff, values, NULL);
	SPI_finish();
}

/*
 * Serialize acquires of one row: a transaction-level advisory lock in
 * reclock's own key space (locktag_field4 never used by pg_advisory_lock).
 */
void
ReclockLockKey(Oid relid, const char *key)
{
	LOCKTAG		tag;
	uint32		h = DatumGetUInt32(hash_any((const unsigned char *) key, strlen(key)));

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, relid, h, RECLOCK_LOCKTAG_FIELD4);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}
