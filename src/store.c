/*-------------------------------------------------------------------------
 *
 * store.c
 *	  The lock store: every read and write of reclock's own tables.
 *
 * Reads are index scans (genam) with the latest snapshot, never the
 * caller's: a grant committed after a REPEATABLE READ transaction took its
 * snapshot must still count.  Writes (a grant, a token, a new expiry, key
 * moves, releases, breaks, reclaims and sweeps) go through the executor's
 * simple-relation path, as logical replication's apply worker writes (see
 * "Writes" below): a row is read by an index probe, that row version is
 * locked and written, and if another transaction changed it meanwhile the
 * caller reads it again.  A one-row SQL statement's executor start-up cost
 * more than the write itself (callgrind), so no SQL is planned for them.
 * Release and break delete the lock row and its token hashes, and dead
 * rows left by locks that ran out are reclaimed a few at a time at the
 * commit of acquires (see ReclockStoreReclaimLater), so the store is
 * bounded by the live locks with nobody scheduling a sweep.  Notice
 * settings, rare, are SQL statements made for each call, never cached,
 * checked to name only the store's own tables (plans.c), and run as the
 * extension owner (ordinary roles have no rights on the store), with the
 * latest snapshot too.  The callers check the caller's rights on the
 * target table before they get here.
 *
 * IDENTIFICATION
 *	  src/store.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "catalog/pg_sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "parser/parse_relation.h"
#include "storage/bufmgr.h"

#include "reclock.h"

/* the store's objects, resolved once per backend */
typedef struct StoreCache
{
	bool		valid;
	Oid			nsp;
	Oid			owner;
	Oid			lockrel;
	Oid			lockpkey;
	Oid			lockfence;
	Oid			lockexpiry;		/* (relid, expires_at); invalid on 1.0 */
	Oid			tokenrel;
	Oid			tokenpkey;
	Oid			tokenfence;
	Oid			seq;
	Oid			epochseq;
	bool		epoch_usable;	/* reclock_epoch_seq has CACHE 1 */
	Oid			notifyrel;
	Oid			notifypkey;
} StoreCache;

static StoreCache store;
static bool callback_registered = false;
static uint64 local_writes = 0;	/* writes of the store by this backend */

static void store_invalidate(Datum arg, Oid relid);
static void store_load(void);
static Oid	store_relid(const char *name);
static void store_fill(HeapTuple tup, TupleDesc desc, ReclockLock *lock);
static void delete_tokens(int64 fence, bool wait);

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
		relid == store.notifyrel || relid == store.epochseq)
		store.valid = false;
}

/* ALTER SEQUENCE changes pg_sequence */
static void
store_invalidate_seq(Datum arg, int cacheid, uint32 hashvalue)
{
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

/*
 * Resolve the store's objects; cached until an invalidation.  Holds no plan
 * and frees nothing, so it may run between any two steps of a write.
 */
static void
store_load(void)
{
	Oid			extoid;

	if (store.valid)
		return;

	if (!callback_registered)
	{
		ReclockRegisterRelcacheCallback(store_invalidate);
		CacheRegisterSyscacheCallback(SEQRELID, store_invalidate_seq, (Datum) 0);
		callback_registered = true;
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
	/* made by 1.1: the 1.1 library works with a database still on 1.0 */
	store.lockexpiry = get_relname_relid("reclock_lock_store_expiry_idx", store.nsp);
	store.tokenrel = store_relid("reclock_token_store");
	store.tokenpkey = store_relid("reclock_token_store_pkey");
	store.tokenfence = store_relid("reclock_token_store_fence_idx");
	store.seq = store_relid("reclock_fence_seq");
	store.epochseq = store_relid("reclock_epoch_seq");
	{
		HeapTuple	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(store.epochseq));

		/*
		 * A backend-local cache of sequence values would let nextval return
		 * without moving the shared value the guard compares.
		 */
		store.epoch_usable = false;
		if (HeapTupleIsValid(tup))
		{
			Form_pg_sequence seqform = (Form_pg_sequence) GETSTRUCT(tup);

			store.epoch_usable = seqform->seqcache == 1 && seqform->seqincrement > 0;
			ReleaseSysCache(tup);
		}
	}
	store.notifyrel = store_relid("reclock_notify_store");
	store.notifypkey = store_relid("reclock_notify_store_pkey");
	{
		Relation	rel = table_open(store.lockrel, AccessShareLock);

		store.owner = rel->rd_rel->relowner;
		table_close(rel, AccessShareLock);
	}
	store.valid = true;
}

/* the extension owner: the role that owns the store's tables */
Oid
ReclockStoreOwner(void)
{
	store_load();
	return store.owner;
}

/*
 * Run a statement of the store's (made for this call, naming only the
 * store's tables and pg_class) as the extension owner, with the latest
 * snapshot.  Inside SPI.
 */
static int
store_run(const char *sql)
{
	Oid			rels[] = {store.lockrel, store.tokenrel, store.notifyrel,
	RelationRelationId};
	Oid			save_userid;
	int			save_sec;
	int			ret;

	local_writes++;
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(store.owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	ret = ReclockPlanRunOnce(sql, rels, lengthof(rels), GetLatestSnapshot());
	SetUserIdAndSecContext(save_userid, save_sec);
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
	return ret;
}

/* the store's schema, quoted */
static const char *
store_schema_sql(void)
{
	char	   *nsp = get_namespace_name(store.nsp);

	if (nsp == NULL)
		elog(ERROR, "cache lookup failed for schema %u", store.nsp);
	return quote_identifier(nsp);
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
	/* a regrole: an OID in memory, the role's name in a dump */
	lock->acquired_by = DatumGetObjectId(heap_getattr(tup, 4, desc, &isnull));
	lock->fence = DatumGetInt64(heap_getattr(tup, 5, desc, &isnull));
	lock->acquired_at = DatumGetTimestampTz(heap_getattr(tup, 6, desc, &isnull));
	lock->expires_at = DatumGetTimestampTz(heap_getattr(tup, 7, desc, &isnull));
}

/*
 * An index scan of one of the store's tables with the latest snapshot:
 * visit is called for each tuple found until it returns true.
 */
typedef bool (*StoreVisit) (HeapTuple tup, TupleDesc desc, Buffer buf, void *arg);

/*
 * The latest snapshot.  A parallel query's leader is in parallel mode for
 * the whole query, and PostgreSQL then refuses GetLatestSnapshot() (it will
 * not update its secondary snapshot); reclock_valid, PARALLEL RESTRICTED,
 * runs there, so in parallel mode a snapshot of our own is taken instead,
 * just as fresh.  Never in a parallel worker: a worker shares the leader's
 * snapshot and nothing of reclock that reads the store runs there.
 */
static Snapshot
latest_snapshot(void)
{
	static SnapshotData leader_snapshot = {SNAPSHOT_MVCC};

	if (!IsInParallelMode())
		return GetLatestSnapshot();
	if (IsParallelWorker())
		elog(ERROR, "cannot read the lock store in a parallel worker");
	return GetSnapshotData(&leader_snapshot);
}

/*
 * The lock mode of the store's reads.  AccessShareLock, as a query's; but in
 * a transaction that writes the store (ReclockStoreWillWrite: acquire,
 * refresh, release, break), RowExclusiveLock, the mode its writes take of
 * the same table and of every index of it: a read and the write after it
 * then hold one lock of each relation, not one of each mode, each taken
 * through the lock manager and released at commit.  The price: the mode is
 * chosen before anything is read, so a call that ends up writing nothing (an
 * acquire refused, a release of a dead token) holds RowExclusiveLock too,
 * and what conflicts with it -- only the store owner's SHARE locks: CREATE
 * INDEX (also CONCURRENTLY), LOCK ... IN SHARE MODE -- waits for that
 * transaction to end, as it waits for one that wrote.  No new deadlock:
 * RowExclusiveLock does not conflict with itself.
 */
static LocalTransactionId will_write_lxid = InvalidLocalTransactionId;

void
ReclockStoreWillWrite(void)
{
	will_write_lxid = MY_LXID;
}

static inline LOCKMODE
store_read_lockmode(void)
{
	return will_write_lxid == MY_LXID ? RowExclusiveLock : AccessShareLock;
}

static void
store_scan(Oid relid, Oid indexid, ScanKeyData *keys, int nkeys,
		   StoreVisit visit, void *arg)
{
	Relation	rel;
	Relation	idx;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	LOCKMODE	lockmode = store_read_lockmode();

	store_load();
	rel = table_open(relid, lockmode);
	idx = index_open(indexid, lockmode);
	snap = RegisterSnapshot(latest_snapshot());
	scan = systable_beginscan_ordered(rel, idx, snap, nkeys, keys);
	while (HeapTupleIsValid(tup = systable_getnext_ordered(scan, ForwardScanDirection)))
		if (visit(tup, RelationGetDescr(rel),
				  ((BufferHeapTupleTableSlot *) scan->slot)->buffer, arg))
			break;
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snap);

	/*
	 * The locks are kept to the end of the transaction, as a query's are:
	 * the guard probes once per row, and releasing and taking them again
	 * each time went through the shared lock manager.
	 */
	index_close(idx, NoLock);
	table_close(rel, NoLock);
}

/*
 * The transaction that updated or deleted this version of a lock row, if
 * its change may yet count: one still in progress, or one that committed
 * after the snapshot the row was read with.  Invalid if none, if it is this
 * transaction, or if it aborted.  The row is read in buf (pinned).
 *
 * The header is read under the buffer's share lock.  An updater that starts
 * after this read came after the caller's read of the row and of the clock,
 * and is judged by that order (see ReclockStoreGetSettled).  Only dead rows
 * get here (a settled read, the scans of live keys and of pending ones).
 */
static TransactionId
store_updater(HeapTuple tup, Buffer buf)
{
	TransactionId xid = InvalidTransactionId;
	uint16		infomask;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	infomask = tup->t_data->t_infomask;
	if (!(infomask & HEAP_XMAX_INVALID) && !HEAP_XMAX_IS_LOCKED_ONLY(infomask))
		xid = HeapTupleHeaderGetUpdateXid(tup->t_data);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (!TransactionIdIsValid(xid) || TransactionIdIsCurrentTransactionId(xid))
		return InvalidTransactionId;
	if (TransactionIdIsInProgress(xid) || TransactionIdDidCommit(xid))
		return xid;
	return InvalidTransactionId;	/* aborted, or crashed */
}

/*
 * The first lock row found; lock may be NULL (only whether there is one).
 * With settle, a row that is not live at now also reports its updater.
 */
typedef struct LockVisit
{
	ReclockLock *lock;
	bool		found;
	bool		settle;
	TimestampTz now;
	TransactionId updater;
} LockVisit;

static bool
visit_lock(HeapTuple tup, TupleDesc desc, Buffer buf, void *arg)
{
	LockVisit  *v = (LockVisit *) arg;

	v->found = true;
	if (v->lock)
		store_fill(tup, desc, v->lock);
	if (v->settle && v->lock->expires_at <= v->now)
		v->updater = store_updater(tup, buf);
	return true;
}

/*
 * One index probe of the lock store, with the latest snapshot.
 */
static bool
store_probe(Oid relid, Oid indexid, ScanKeyData *keys, int nkeys, ReclockLock *lock)
{
	LockVisit	v = {lock, false, false, 0, InvalidTransactionId};

	store_scan(relid, indexid, keys, nkeys, visit_lock, &v);
	if (!v.found && lock)
		lock->found = false;
	return v.found;
}

static void
store_key_scankeys(ScanKeyData *skey, Oid relid, const char *key)
{
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&skey[1], 2, BTEqualStrategyNumber, F_TEXTEQ,
				CStringGetTextDatum(key));
	skey[1].sk_collation = C_COLLATION_OID;
}

bool
ReclockStoreGetByKey(Oid relid, const char *key, ReclockLock *lock)
{
	ScanKeyData skey[2];

	store_load();
	store_key_scankeys(skey, relid, key);
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

/*
 * The renewal marker of a grant: an advisory lock (db, fence, this) that
 * a transaction which extended the grant holds from its last look at the
 * clock (at pre-commit, see renewal_precommit) to its end.
 */
static void
renewal_locktag(LOCKTAG *tag, int64 fence)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) ((uint64) fence >> 32),
						 (uint32) fence, RECLOCK_LOCKTAG_EXTEND);
}

/*
 * Read a lock row as one must judge whether it is live at *now, when an
 * renewal of it (a refresh, a same-holder acquire) may be in flight.
 *
 * A live row is live.  A dead one whose version has an updater that may yet
 * count (store_updater) may be under a renewal that is about to commit:
 * take and at once drop the grant's renewal marker in share mode, take the
 * clock again, and read again.  The extender takes the marker, exclusively
 * and to its end, before its last look at the clock at pre-commit, and fails
 * if the grant had run out by then.  So either the extender had the marker
 * first (we wait for it to end, and then read its outcome), or we had it
 * first, and then its last look at the clock comes after ours, which saw the
 * grant dead: it fails, and the dead row we read stays the grant's last
 * word.  A reader never waits for a long transaction that merely refreshed:
 * only for one that is committing.
 *
 * *now is updated to the clock the answer is given at.
 */
static bool
store_get_settled(Oid indexid, ScanKeyData *keys, int nkeys,
				  TimestampTz *now, ReclockLock *lock)
{
	TransactionId waited_for = InvalidTransactionId;

	for (;;)
	{
		LockVisit	v = {lock, false, true, *now, InvalidTransactionId};
		LOCKTAG		tag;
		ScanKeyData skey[2];

		/* the scan renumbers its keys' columns in place: give it a copy */
		Assert(nkeys <= lengthof(skey));
		memcpy(skey, keys, sizeof(ScanKeyData) * nkeys);
		store_scan(store.lockrel, indexid, skey, nkeys, visit_lock, &v);
		if (!v.found)
		{
			lock->found = false;
			return false;
		}
		if (!TransactionIdIsValid(v.updater) || TransactionIdEquals(v.updater, waited_for))
			return true;
		renewal_locktag(&tag, lock->fence);
		(void) LockAcquire(&tag, ShareLock, false, false);
		LockRelease(&tag, ShareLock, false);
		waited_for = v.updater;
		*now = ReclockNow();
	}
}

bool
ReclockStoreGetSettled(Oid relid, const char *key, TimestampTz *now,
					   ReclockLock *lock)
{
	ScanKeyData skey[2];

	store_load();
	store_key_scankeys(skey, relid, key);
	return store_get_settled(store.lockpkey, skey, 2, now, lock);
}

bool
ReclockStoreGetSettledByFence(int64 fence, TimestampTz *now, ReclockLock *lock)
{
	ScanKeyData skey[1];

	store_load();
	ScanKeyInit(&skey[0], 5, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(fence));
	return store_get_settled(store.lockfence, skey, 1, now, lock);
}

typedef struct TokenVisit
{
	const uint8 *hash;
	int64		fence;
	bool		found;
} TokenVisit;

static bool
visit_token(HeapTuple tup, TupleDesc desc, Buffer buf, void *arg)
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

static bool
visit_live(HeapTuple tup, TupleDesc desc, void *arg)
{
	TimestampTz now = *(TimestampTz *) arg;
	bool		isnull;

	return DatumGetTimestampTz(heap_getattr(tup, 7, desc, &isnull)) > now;
}

typedef struct LiveVisit
{
	TimestampTz now;
	bool		found;
} LiveVisit;

static bool
visit_any_live(HeapTuple tup, TupleDesc desc, Buffer buf, void *arg)
{
	LiveVisit  *lv = (LiveVisit *) arg;

	/* a dead row with a renewal in flight may yet be live: count it */
	lv->found = visit_live(tup, desc, &lv->now) ||
		TransactionIdIsValid(store_updater(tup, buf));
	return lv->found;
}

/*
 * The scan keys of a scan of the table's lock rows: its live ones on the
 * expiry index (relid, expires_at), which visits no dead lock, or all of
 * them on the primary key while the database is still on 1.0.  Returns the
 * index.
 */
static Oid
live_scan_keys(Oid relid, TimestampTz now, ScanKeyData *skey, int *nkeys)
{
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	if (!OidIsValid(store.lockexpiry))
	{
		*nkeys = 1;
		return store.lockpkey;
	}
	ScanKeyInit(&skey[1], 7, BTGreaterStrategyNumber, F_TIMESTAMPTZ_GT,
				TimestampTzGetDatum(now));
	*nkeys = 2;
	return store.lockexpiry;
}

/*
 * Does the table have a live lock?  (TRUNCATE's check.)
 */
bool
ReclockStoreHasLiveLock(Oid relid, TimestampTz now)
{
	ScanKeyData skey[2];
	int			nkeys;
	Oid			indexid;
	LiveVisit	lv = {now, false};

	store_load();
	indexid = live_scan_keys(relid, now, skey, &nkeys);
	store_scan(store.lockrel, indexid, skey, nkeys, visit_any_live, &lv);
	return lv.found;
}

/* the fences of a table's dead lock rows whose change may yet commit */
typedef struct PendingVisit
{
	List	   *fences;			/* of int64 *, in the caller's memory */
} PendingVisit;

static bool
visit_pending(HeapTuple tup, TupleDesc desc, Buffer buf, void *arg)
{
	PendingVisit *pv = (PendingVisit *) arg;
	bool		isnull;

	if (TransactionIdIsValid(store_updater(tup, buf)))
	{
		int64	   *f = palloc(sizeof(int64));

		*f = DatumGetInt64(heap_getattr(tup, 5, desc, &isnull));
		pv->fences = lappend(pv->fences, f);
	}
	return false;
}

/*
 * Does the table have a live lock, judged as store_get_settled judges one
 * row: a dead row under a renewal that is committing (it passed its
 * pre-commit check while the lock was live) is waited for and read again.
 * Waits only for a commit in progress, never for a transaction left open.
 * For DDL and TRUNCATE, which must not pass a lock whose refresh is about to
 * become visible.  Reads only this table's rows.
 */
bool
ReclockStoreHasLiveLockSettled(Oid relid)
{
	TimestampTz now = ReclockNow();
	ScanKeyData skey[2];
	PendingVisit pv = {NIL};
	ListCell   *lc;

	if (ReclockStoreHasLiveLock(relid, now))
		return true;
	if (!OidIsValid(store.lockexpiry))
		return false;			/* 1.0: HasLiveLock saw every row */
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&skey[1], 7, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
				TimestampTzGetDatum(now));
	store_scan(store.lockrel, store.lockexpiry, skey, 2, visit_pending, &pv);
	foreach(lc, pv.fences)
	{
		ReclockLock lock;
		TimestampTz t = ReclockNow();

		if (ReclockStoreGetSettledByFence(*(int64 *) lfirst(lc), &t, &lock) &&
			lock.relid == relid && lock.expires_at > t)
			return true;
	}
	return false;
}

/* the keys of the live locks, and the number of lock rows seen */
typedef struct KeysVisit
{
	TimestampTz now;
	int			maxrows;
	int			rows;
	int			nkeys;
	int			size;
	MemoryContext cxt;
	char	  **keys;
	bool		overflow;
} KeysVisit;

static bool
visit_keys(HeapTuple tup, TupleDesc desc, Buffer buf, void *arg)
{
	KeysVisit  *kv = (KeysVisit *) arg;
	bool		isnull;

	if (++kv->rows > kv->maxrows)
	{
		kv->overflow = true;
		return true;
	}
	/*
	 * A dead row whose version another transaction has changed and not yet
	 * ended (or ended after the snapshot) may be under a renewal about to
	 * commit: its key goes into the set, so that the guard probes it (and
	 * settles it, ReclockStoreGetSettled) rather than pass it unread.
	 */
	if (visit_live(tup, desc, &kv->now) ||
		TransactionIdIsValid(store_updater(tup, buf)))
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(kv->cxt);

		if (kv->nkeys == kv->size)
		{
			kv->size *= 2;
			kv->keys = repalloc(kv->keys, sizeof(char *) * kv->size);
		}
		kv->keys[kv->nkeys++] = TextDatumGetCString(heap_getattr(tup, 2, desc, &isnull));
		MemoryContextSwitchTo(oldcxt);
	}
	return false;
}

/*
 * The keys of the table's live locks, unsorted, allocated in cxt; their
 * number, or -1 if the scan visited more than maxrows lock rows: live ones
 * only (the expiry index), or, on a database still on 1.0, live and dead.
 * *rows: the rows visited.
 */
int
ReclockStoreLiveKeys(Oid relid, TimestampTz now, int maxrows,
					 MemoryContext cxt, char ***keys, int *rows)
{
	ScanKeyData skey[2];
	int			nkeys;
	Oid			indexid;
	KeysVisit	kv = {now, maxrows, 0, 0, 16, cxt, NULL, false};

	kv.keys = MemoryContextAlloc(cxt, sizeof(char *) * kv.size);
	store_load();
	indexid = live_scan_keys(relid, now, skey, &nkeys);
	store_scan(store.lockrel, indexid, skey, nkeys, visit_keys, &kv);
	*keys = kv.keys;
	*rows = kv.rows;
	return kv.overflow ? -1 : kv.nkeys;
}

/*
 * The epoch: the last value of reclock_epoch_seq, read with PostgreSQL's
 * own pg_sequence_last_value() (no nextval, no lock beyond the buffer's),
 * as the extension owner, who owns the sequence: ordinary roles have no
 * right on it, and the guard reads it for every row written on a server
 * where other transactions commit.  False if the epoch cannot be used (the
 * sequence was altered to cache values: a backend-local cache would let
 * nextval return without moving the shared value; the isolation spec
 * epoch_cache).
 */
bool
ReclockStoreEpoch(ReclockEpoch *epoch)
{
	LOCAL_FCINFO(fcinfo, 1);
	Oid			save_userid;
	int			save_sec;
	Datum		d;

	store_load();
	if (!store.epoch_usable)
		return false;
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(store.epochseq);
	fcinfo->args[0].isnull = false;
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(store.owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	d = pg_sequence_last_value(fcinfo);
	SetUserIdAndSecContext(save_userid, save_sec);
	/* NULL until the first nextval */
	epoch->called = !fcinfo->isnull;
	epoch->value = fcinfo->isnull ? 0 : DatumGetInt64(d);
	return true;
}

static void
epoch_locktag(LOCKTAG *tag, Oid relid)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, relid, 0, RECLOCK_LOCKTAG_TABLE);
}

/*
 * Before a write that can make a lock of the table live: take the table's
 * epoch lock in share mode (held to the end of the transaction), then move
 * the epoch.  Every such write does this, in this order.
 *
 * True if it had to wait: a DDL command that changes a type the table's key
 * is made of (ddl.c) holds the lock exclusively until it ends, and a key
 * text made before the wait may name nothing now (an enum label renamed).
 * The catalog changes it committed are read in before returning, so the
 * caller can make its key again and compare.
 */
bool
ReclockStoreMoveEpoch(Oid relid)
{
	LOCKTAG		tag;
	bool		waited = false;

	store_load();
	epoch_locktag(&tag, relid);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		(void) LockAcquire(&tag, ShareLock, false, false);
		AcceptInvalidationMessages();
		waited = true;
	}
	(void) nextval_internal(store.epochseq, false);
	return waited;
}

/*
 * Take the table's epoch lock exclusively, to the end of the transaction,
 * if no transaction that may make a lock of the table live is in flight;
 * false (and nothing taken) if one is.  Waits for nothing: a DDL command or
 * TRUNCATE that gets false refuses, as it would for a live lock.
 */
bool
ReclockStoreTryEpoch(Oid relid)
{
	LOCKTAG		tag;

	epoch_locktag(&tag, relid);
	return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * Is no transaction that may make a lock of the table live in flight?  (Its
 * epoch lock is free at this instant.)  Waits for nothing.
 */
bool
ReclockStoreEpochQuiet(Oid relid)
{
	LOCKTAG		tag;

	epoch_locktag(&tag, relid);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return false;
	LockRelease(&tag, ExclusiveLock, false);
	return true;
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
 * Writes, through the executor's simple-relation path: the one logical
 * replication's apply worker uses (worker.c sets up its EState the same
 * way).  ExecSimpleRelationInsert/Update/Delete write the tuple through the
 * table access method, check its constraints, maintain every index on the
 * table (ExecInsertIndexTuples: partial and expression ones too, their
 * functions run under a pinned search_path).  A store table with a trigger
 * is refused (writer_begin): a BEFORE ROW trigger could change or skip the
 * row reclock decided to write, behind its back, and an AFTER trigger would
 * run as the store's owner, also in the deletes made while a transaction
 * commits, where no statement's snapshot is active and deferred triggers
 * have already fired.  The store is created USING heap, and its reads
 * below are index scans with heap snapshots.
 *
 * An update or delete is of the row version the caller read: that version
 * is locked first (table_tuple_lock at its TID, as RelationFindReplTupleByIndex
 * locks the row it finds; the finder itself is not used because the caller
 * must write the version it judged, or read again: the finder would lock
 * whatever version is current).  If the row was updated or deleted since it
 * was read, the lock waits for that transaction to end and the caller reads
 * again and takes the clock again; unless wait, a row another transaction
 * is writing is left alone.  Once locked, the write cannot fail on a
 * concurrent change.  Each write is made visible to the next read of this
 * transaction by the caller (CommandCounterIncrement).  The writes run as
 * the extension owner, who owns the store (a trigger's function runs as
 * for any write of the owner's).
 */

#define LOCK_STORE_NATTS	7
#define TOKEN_STORE_NATTS	2

typedef struct StoreWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	EPQState	epq;
	TupleTableSlot *oldslot;	/* the locked row version */
	TupleTableSlot *newslot;	/* the row to write */
	Oid			save_userid;
	int			save_sec;
	int			guc_level;		/* of the pinned search_path, or 0 */
} StoreWriter;

/*
 * Is this one of the indexes reclock's install script makes on its tables?
 * Any other index (a DBA's, also on a plain column) may run functions of
 * its own in a write: its operator class's support functions.
 */
static bool
own_index(Relation index)
{
	static const char *const own[] = {
		"reclock_lock_store_pkey", "reclock_lock_store_fence_key",
		"reclock_lock_store_expiry_idx", "reclock_token_store_pkey",
		"reclock_token_store_fence_idx", "reclock_notify_store_pkey"
	};
	const char *name = RelationGetRelationName(index);
	int			i;

	for (i = 0; i < lengthof(own); i++)
		if (strcmp(name, own[i]) == 0)
			return true;
	return false;
}

/*
 * Open a table of the store for writing; indexes: it will insert or update
 * (a writer that only deletes leaves the indexes alone, as the executor
 * does).
 */
static void
writer_begin(StoreWriter *w, Oid relid, int natts, bool indexes)
{
	RangeTblEntry *rte;
	int			i;

	w->rel = table_open(relid, RowExclusiveLock);
	if (RelationGetDescr(w->rel)->natts != natts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"reclock\" is damaged: table \"%s\" has been altered",
						RelationGetRelationName(w->rel))));
	if (w->rel->rd_rules != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" of reclock has a rule",
						RelationGetRelationName(w->rel)),
				 errdetail("reclock writes its tables directly, not through statements a rule could rewrite: the rule would never run."),
				 errhint("Drop the rule. The view reclock_locks and change notices (reclock_notify) report reclock's locks.")));
	if (w->rel->trigdesc != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" of reclock has a trigger",
						RelationGetRelationName(w->rel)),
				 errdetail("reclock writes its tables as the extension's owner, also while a transaction commits, where a trigger cannot run as it would for a statement; a BEFORE trigger could change or skip the rows reclock writes."),
				 errhint("Drop the trigger. The view reclock_locks and change notices (reclock_notify) report reclock's locks.")));
	local_writes++;

	w->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = w->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ReclockInitRangeTable(w->estate, rte);
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	w->estate->es_output_cid = GetCurrentCommandId(true);
	w->guc_level = 0;
	if (indexes)
	{
		bool		user_code = w->rel->rd_att->constr != NULL &&
			w->rel->rd_att->constr->num_check > 0;

		ExecOpenIndices(w->rri, false);
		for (i = 0; i < w->rri->ri_NumIndices; i++)
			if (w->rri->ri_IndexRelationInfo[i]->ii_Expressions != NIL ||
				w->rri->ri_IndexRelationInfo[i]->ii_Predicate != NIL ||
				!own_index(w->rri->ri_IndexRelationDescs[i]))
				user_code = true;

		/*
		 * A DBA's index (its expressions, predicate or operator class), or
		 * CHECK constraint, on the store runs its functions in this write, as
		 * the store's owner: under
		 * a pinned search_path, as a SECURITY DEFINER function's SET clause
		 * would pin it, so that no caller's schema can put its own function
		 * in their place.  (reclock's own indexes and constraints run only
		 * built-in functions: nothing to pin, nothing to pay, then.)
		 */
		if (user_code)
		{
			w->guc_level = NewGUCNestLevel();
			(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		}
	}
	ReclockEvalPlanQualInit(&w->epq, w->estate);
	w->oldslot = table_slot_create(w->rel, &w->estate->es_tupleTable);
	w->newslot = indexes ? table_slot_create(w->rel, &w->estate->es_tupleTable) : NULL;
	GetUserIdAndSecContext(&w->save_userid, &w->save_sec);
	SetUserIdAndSecContext(store.owner, w->save_sec | SECURITY_LOCAL_USERID_CHANGE);
}

static void
writer_end(StoreWriter *w)
{
	int			i;

	if (w->guc_level != 0)
		AtEOXact_GUC(true, w->guc_level);
	SetUserIdAndSecContext(w->save_userid, w->save_sec);
	EvalPlanQualEnd(&w->epq);

	/*
	 * As ExecCloseIndices, but the index locks are kept to the end of the
	 * transaction, as a query's are: dropping them after each write and
	 * taking them again for the next went through the lock manager every
	 * time (callgrind: about 7 k instructions per acquire+release).
	 */
	for (i = 0; i < w->rri->ri_NumIndices; i++)
	{
		ReclockIndexInsertCleanup(w->rri->ri_IndexRelationDescs[i],
								  w->rri->ri_IndexRelationInfo[i]);
		index_close(w->rri->ri_IndexRelationDescs[i], NoLock);
	}
	w->rri->ri_NumIndices = 0;
	/* the relations the triggers opened (es_trig_target_relations) */
	ExecCloseResultRelations(w->estate);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	ExecCloseRangeTableRelations(w->estate);
	FreeExecutorState(w->estate);
	/* the lock is kept to the end of the transaction, as any writer's */
	table_close(w->rel, NoLock);
}

static TupleTableSlot *
writer_row(StoreWriter *w, Datum *values, bool *nulls)
{
	TupleTableSlot *slot = w->newslot;
	int			natts = RelationGetDescr(w->rel)->natts;

	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, sizeof(Datum) * natts);
	memcpy(slot->tts_isnull, nulls, sizeof(bool) * natts);
	ExecStoreVirtualTuple(slot);
	return slot;
}

/* insert a row; *tid (if not NULL) is where it was written */
static void
writer_insert(StoreWriter *w, Datum *values, bool *nulls, ItemPointer tid)
{
	TupleTableSlot *slot = writer_row(w, values, nulls);

	ExecSimpleRelationInsert(w->rri, w->estate, slot);
	RECLOCK_TEST_PAUSE_AT("store:insert_before_index", RelationGetRelationName(w->rel));
	if (tid)
		*tid = slot->tts_tid;
}

/*
 * Wait for the transaction that is writing or locking the row version at
 * tid to end.  The wait is a row lock taken in a subtransaction that is
 * rolled back at once: nothing is kept, so a caller that then decides to
 * write nothing holds up nobody.
 */
static void
writer_wait(StoreWriter *w, ItemPointer tid)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	TupleTableSlot *slot;
	TM_FailureData tmfd;

	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		slot = table_slot_create(w->rel, NULL);
		(void) table_tuple_lock(w->rel, tid, InvalidSnapshot, slot,
								GetCurrentCommandId(false), LockTupleExclusive,
								LockWaitBlock, 0, &tmfd);
		ExecDropSingleTupleTableSlot(slot);
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
}

/*
 * Lock the row version at tid, read by the caller, into w->oldslot.  False
 * if it was updated or deleted since it was read, or if another transaction
 * is writing or locking it: then, if wait, after that transaction ended
 * (writer_wait), and the caller reads the row again and takes the clock
 * again (what it decided from the row and the clock before the wait may no
 * longer hold).
 */
static bool
writer_lock(StoreWriter *w, ItemPointer tid, bool wait)
{
	TM_Result	res;
	TM_FailureData tmfd;

	res = table_tuple_lock(w->rel, tid, InvalidSnapshot, w->oldslot,
						   w->estate->es_output_cid, LockTupleExclusive,
						   LockWaitSkip, 0, &tmfd);
	switch (res)
	{
		case TM_Ok:
			return true;
		case TM_WouldBlock:
			if (wait)
				writer_wait(w, tid);
			return false;
		case TM_Updated:
		case TM_Deleted:
			return false;
		case TM_SelfModified:
		case TM_Invisible:
			/* by this transaction, in this command: make it visible, read again */
			CommandCounterIncrement();
			return false;
		default:
			elog(ERROR, "unexpected table_tuple_lock status: %u", res);
	}
	return false;				/* keep the compiler quiet */
}

/*
 * Replace the row version at otid, read by the caller, with a new row;
 * false if it changed since it was read (writer_lock).  *newtid: where the
 * new version is.
 */
static bool
writer_update(StoreWriter *w, ItemPointer otid, Datum *values, bool *nulls,
			  ItemPointer newtid)
{
	TupleTableSlot *slot;

	if (!writer_lock(w, otid, true))
		return false;
	slot = writer_row(w, values, nulls);
	ExecSimpleRelationUpdate(w->rri, w->estate, &w->epq, w->oldslot, slot);
	RECLOCK_TEST_PAUSE_AT("store:update_before_index", RelationGetRelationName(w->rel));
	if (newtid)
		*newtid = slot->tts_tid;
	return true;
}

/* delete the row version at tid, read by the caller; as writer_lock */
static bool
writer_delete(StoreWriter *w, ItemPointer tid, bool wait)
{
	if (!writer_lock(w, tid, wait))
		return false;
	ExecSimpleRelationDelete(w->rri, w->estate, &w->epq, w->oldslot);
	return true;
}

/*
 * Renewals of this transaction.  A grant that was live when this
 * transaction extended it (a refresh, a same-holder acquire) may run out
 * before the transaction commits; it is then dead for good (a lock that
 * ran out never comes back to life), and the renewal must not commit.  So
 * each extended grant is remembered with the expiry it had (the committed
 * one), and checked again at pre-commit under its renewal marker (see
 * store_get_settled for why that closes the gap up to the commit).
 */
typedef struct Renewal
{
	int64		fence;
	bool		check;			/* false: granted in this transaction */
	TimestampTz old_expires_at;
} Renewal;

static List *renewals = NIL;
static LocalTransactionId renewals_lxid = InvalidLocalTransactionId;
static bool renewal_callback_registered = false;

static void renewal_xact_callback(XactEvent event, void *arg);

static void
note_renewal(int64 fence, bool check, TimestampTz old_expires_at)
{
	MemoryContext oldcxt;
	Renewal    *ext;
	ListCell   *lc;

	if (!renewal_callback_registered)
	{
		ReclockOnXactEvent(RECLOCK_XACT_RENEWALS, renewal_xact_callback);
		renewal_callback_registered = true;
	}
	if (ReclockNewTransaction(&renewals_lxid))
		renewals = NIL;		/* its memory went with the old transaction */
	/* the first write of a grant in this transaction read its committed state */
	foreach(lc, renewals)
		if (((Renewal *) lfirst(lc))->fence == fence)
			return;
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	ext = palloc(sizeof(Renewal));
	ext->fence = fence;
	ext->check = check;
	ext->old_expires_at = old_expires_at;
	renewals = lappend(renewals, ext);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * At pre-commit: fail if a grant this transaction extended ran out before
 * now and the renewal would make it live again.  At PREPARE TRANSACTION:
 * refuse, since the commit may come at any later time.
 */
static void
renewal_precommit(bool prepare)
{
	ListCell   *lc;

	foreach(lc, renewals)
	{
		Renewal    *ext = lfirst(lc);
		ReclockLock cur;
		LOCKTAG		tag;
		TimestampTz now;

		if (!ext->check)
			continue;
		renewal_locktag(&tag, ext->fence);
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
		now = ReclockNow();
		/* released, broken or rolled back (a savepoint) since: nothing revives */
		if (!ReclockStoreGetByFence(ext->fence, &cur) || cur.expires_at <= now)
			continue;
		if (prepare)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot prepare a transaction that extended a lock"),
					 errdetail("The lock of row %s of table \"%s\" was refreshed or acquired again in this transaction.",
							   cur.key, get_rel_name(cur.relid) ? get_rel_name(cur.relid) : "?"),
					 errhint("Refresh locks in transactions that are not prepared.")));
		if (now >= ext->old_expires_at)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("lock on row %s of table \"%s\" expired before the transaction that extended it committed",
							cur.key, get_rel_name(cur.relid) ? get_rel_name(cur.relid) : "?"),
					 errdetail("The lock of \"%s\" ran out at %s; an expired lock is dead for good.",
							   cur.holder, timestamptz_to_str(ext->old_expires_at)),
					 errhint("Acquire the row again; keep refreshes in short transactions.")));
	}
}

static void
renewal_xact_callback(XactEvent event, void *arg)
{
	if (renewals_lxid != MY_LXID || renewals == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			renewal_precommit(false);
			break;
		case XACT_EVENT_PRE_PREPARE:
			renewal_precommit(true);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			renewals = NIL;
			break;
		default:
			break;
	}
}

static void
store_form_lock(ReclockLock *lock, Datum *values, bool *nulls)
{
	memset(nulls, 0, sizeof(bool) * LOCK_STORE_NATTS);
	values[0] = ObjectIdGetDatum(lock->relid);
	values[1] = CStringGetTextDatum(lock->key);
	values[2] = CStringGetTextDatum(lock->holder);
	values[3] = ObjectIdGetDatum(lock->acquired_by);	/* regrole */
	values[4] = Int64GetDatum(lock->fence);
	values[5] = TimestampTzGetDatum(lock->acquired_at);
	values[6] = TimestampTzGetDatum(lock->expires_at);
}

/*
 * Write a grant: a new one, or the renewal of a live one.  The write is
 * conditional on the row still being what the caller read (old); false if
 * it changed meanwhile, and the caller reads again.  Acquires of one key
 * run one at a time (ReclockLockKey), so a new row's key is free.
 */
bool
ReclockStoreWrite(ReclockLock *lock, ReclockLock *old)
{
	StoreWriter w;
	Datum		values[LOCK_STORE_NATTS];
	bool		nulls[LOCK_STORE_NATTS];
	bool		ok = true;

	store_load();
	writer_begin(&w, store.lockrel, LOCK_STORE_NATTS, true);
	store_form_lock(lock, values, nulls);
	if (old->found)
		ok = writer_update(&w, &old->tid, values, nulls, &lock->tid);
	else
		writer_insert(&w, values, nulls, &lock->tid);
	writer_end(&w);
	if (!ok)
		return false;
	if (old->found && old->fence != lock->fence)
		delete_tokens(old->fence, true);	/* a dead grant's row, reused */
	CommandCounterIncrement();
	if (old->found && old->fence == lock->fence)
		note_renewal(lock->fence, true, old->expires_at);
	else
		note_renewal(lock->fence, false, 0);
	return true;
}

void
ReclockStoreAddToken(const uint8 *hash, int64 fence)
{
	StoreWriter w;
	Datum		values[TOKEN_STORE_NATTS];
	bool		nulls[TOKEN_STORE_NATTS] = {false};
	bytea	   *h = palloc(VARHDRSZ + RECLOCK_HASH_LEN);

	SET_VARSIZE(h, VARHDRSZ + RECLOCK_HASH_LEN);
	memcpy(VARDATA(h), hash, RECLOCK_HASH_LEN);
	values[0] = PointerGetDatum(h);
	values[1] = Int64GetDatum(fence);
	store_load();
	writer_begin(&w, store.tokenrel, TOKEN_STORE_NATTS, true);
	writer_insert(&w, values, nulls, NULL);
	writer_end(&w);
	CommandCounterIncrement();
	pfree(h);
}

/*
 * Delete the token hashes of the grant with this fence: once its lock row
 * is gone or belongs to another grant, none of them can count again (a
 * token counts while its fence is the live grant's, and a fence is never
 * issued twice).  Only the transaction that deleted or overwrote the grant's
 * lock row gets here, so nobody else writes these rows.
 */
static void
delete_tokens(int64 fence, bool wait)
{
	StoreWriter w;
	Relation	idx;
	SysScanDesc scan;
	HeapTuple	tup;
	ScanKeyData skey[1];
	Snapshot	snap;

	writer_begin(&w, store.tokenrel, TOKEN_STORE_NATTS, false);
	/* the mode a writer's indexes are opened with (store_read_lockmode) */
	idx = index_open(store.tokenfence, RowExclusiveLock);
	ScanKeyInit(&skey[0], 2, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(fence));
	snap = RegisterSnapshot(latest_snapshot());
	scan = systable_beginscan_ordered(w.rel, idx, snap, 1, skey);
	while (HeapTupleIsValid(tup = systable_getnext_ordered(scan, ForwardScanDirection)))
		(void) writer_delete(&w, &tup->t_self, wait);
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snap);
	index_close(idx, NoLock);
	writer_end(&w);
}

/*
 * Set the expiry of the grant cur (as read by a probe), if the row is still
 * the one read.  False if nothing was written: it was changed or removed
 * since it was read, and the caller reads again.
 */
static bool
set_expiry_once(ReclockLock *cur, TimestampTz expires_at, ReclockLock *lock)
{
	StoreWriter w;
	Datum		values[LOCK_STORE_NATTS];
	bool		nulls[LOCK_STORE_NATTS];
	ReclockLock next = *cur;
	bool		ok;

	next.expires_at = expires_at;
	writer_begin(&w, store.lockrel, LOCK_STORE_NATTS, true);
	store_form_lock(&next, values, nulls);
	ok = writer_update(&w, &cur->tid, values, nulls, &next.tid);
	writer_end(&w);
	if (!ok)
		return false;
	CommandCounterIncrement();
	if (lock)
		*lock = next;
	return true;
}

/*
 * Set the expiry of the grant with this fence to now + ttl, if it is live
 * now (a refresh).  now is taken after the row is read and after any wait
 * for another writer of it, so what was live before a wait is judged again
 * after it.  Fills lock with the grant as written; false if it was not live.
 */
bool
ReclockStoreSetExpiry(int64 fence, int64 ttl, ReclockLock *lock)
{
	ReclockLock cur;
	bool		moved = false;

	for (;;)
	{
		TimestampTz now;

		if (ttl > 0 && !moved && ReclockStoreGetByFence(fence, &cur))
		{
			/* a refresh keeps it live: move the epoch first (may wait a moment) */
			ReclockStoreMoveEpoch(cur.relid);
			moved = true;
		}
		if (!ReclockStoreGetByFence(fence, &cur) ||
			cur.expires_at <= (now = ReclockNow()))
		{
			if (lock)
				lock->found = false;
			return false;
		}
		if (set_expiry_once(&cur, now + ttl, lock))
		{
			if (ttl > 0)
				note_renewal(fence, true, cur.expires_at);
			return true;
		}
		/* changed since read, or waited for its writer: read it again */
	}
}

/*
 * End the grant with this fence, if it is live now (release, break): its
 * lock row and its token hashes are deleted, since neither can ever count
 * again.  Fences never go back all the same: they come from the fence
 * sequence, not from the rows.  A delete only ends a lock, so the epoch
 * does not move.  Fills lock with the grant as it ended (expires_at = now);
 * false if it was not live.
 */
bool
ReclockStoreEnd(int64 fence, ReclockLock *lock)
{
	ReclockLock cur;

	for (;;)
	{
		StoreWriter w;
		bool		ok;
		TimestampTz now;

		/* the clock is read after the row, and again after any wait for it */
		if (!ReclockStoreGetByFence(fence, &cur) || cur.expires_at <= (now = ReclockNow()))
		{
			lock->found = false;
			return false;
		}
		writer_begin(&w, store.lockrel, LOCK_STORE_NATTS, false);
		ok = writer_delete(&w, &cur.tid, true);
		writer_end(&w);
		if (ok)
		{
			delete_tokens(fence, true);
			CommandCounterIncrement();
			*lock = cur;
			lock->expires_at = now;
			return true;
		}
		/* changed since read (a concurrent refresh, say): read it again */
	}
}

/*
 * A holder changed the row's key: carry the lock at oldkey to newkey.  A
 * lock row at the new key is dropped first (dead, or live with its token
 * presented: the caller checked).  The new key is locked as
 * an acquire locks it: no grant of that key is written meanwhile.  Written
 * directly, as a grant is: each row is read by an index probe and written
 * at the TID it was read at, read again if it changed meanwhile.
 */
void
ReclockStoreMoveKey(Oid relid, const char *oldkey, const char *newkey,
					TimestampTz now)
{
	ReclockLock cur;
	StoreWriter w;

	ReclockLockKey(relid, newkey);
	if (ReclockStoreMoveEpoch(relid))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not move the lock of row %s of table \"%s\" to its new key",
						oldkey, get_rel_name(relid)),
				 errdetail("A type the table's key is made of was changed meanwhile."),
				 errhint("Retry the transaction.")));
	store_load();
	writer_begin(&w, store.lockrel, LOCK_STORE_NATTS, true);
	/*
	 * A lock at the new key ends: a dead one, or a live one whose token the
	 * writer presented (the guard refuses the move otherwise).  The moved
	 * row's grant stands (the writer holds it: it keeps its lock).
	 */
	while (ReclockStoreGetByKey(relid, newkey, &cur))
	{
		if (writer_delete(&w, &cur.tid, true))
		{
			delete_tokens(cur.fence, true);
			CommandCounterIncrement();
			break;
		}
	}
	while (ReclockStoreGetByKey(relid, oldkey, &cur))
	{
		ReclockLock next = cur;
		Datum		values[LOCK_STORE_NATTS];
		bool		nulls[LOCK_STORE_NATTS];

		next.key = (char *) newkey;
		store_form_lock(&next, values, nulls);
		if (writer_update(&w, &cur.tid, values, nulls, NULL))
		{
			CommandCounterIncrement();
			break;
		}
	}
	writer_end(&w);
}

/*
 * Delete the dead lock rows of a table, with their token hashes: those
 * whose expires_at <= now (all of them if all), oldest first, at most
 * limit.  Unless wait, a row another transaction is writing is left alone
 * (and so nothing here waits).  Returns how many were deleted.  Deletes
 * only ever end locks: the epoch does not move.
 */
static int64
delete_dead(Oid relid, TimestampTz now, int64 limit, bool wait, bool all)
{
	StoreWriter w;
	Relation	idx;
	SysScanDesc scan;
	HeapTuple	tup;
	ScanKeyData skey[2];
	int			nkeys = 1;
	Snapshot	snap;
	int64		n = 0;
	Oid			indexid = store.lockpkey;

	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	if (!all && OidIsValid(store.lockexpiry))
	{
		ScanKeyInit(&skey[1], 7, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
					TimestampTzGetDatum(now));
		nkeys = 2;
		indexid = store.lockexpiry;
	}
	writer_begin(&w, store.lockrel, LOCK_STORE_NATTS, false);
	/* the mode a writer's indexes are opened with (store_read_lockmode) */
	idx = index_open(indexid, RowExclusiveLock);
	snap = RegisterSnapshot(latest_snapshot());
	scan = systable_beginscan_ordered(w.rel, idx, snap, nkeys, skey);
	while (n < limit &&
		   HeapTupleIsValid(tup = systable_getnext_ordered(scan, ForwardScanDirection)))
	{
		bool		isnull;
		TimestampTz expires_at = DatumGetTimestampTz(heap_getattr(tup, 7, RelationGetDescr(w.rel), &isnull));
		int64		fence = DatumGetInt64(heap_getattr(tup, 5, RelationGetDescr(w.rel), &isnull));

		if (!all && expires_at > now)
			continue;			/* a live lock (scanned by the primary key on 1.0) */
		if (writer_delete(&w, &tup->t_self, wait))
		{
			delete_tokens(fence, wait);
			n++;
		}
	}
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snap);
	index_close(idx, NoLock);
	writer_end(&w);
	if (n > 0)
		CommandCounterIncrement();
	return n;
}

/*
 * The smallest table OID above after that has lock rows, by one probe of
 * the primary key; false if there is none.
 */
static bool
next_locked_table(Oid after, Oid *relid)
{
	ScanKeyData skey[1];
	ReclockLock lock;

	ScanKeyInit(&skey[0], 1, BTGreaterStrategyNumber, F_OIDGT,
				ObjectIdGetDatum(after));
	if (!store_probe(store.lockrel, store.lockpkey, skey, 1, &lock))
		return false;
	*relid = lock.relid;
	return true;
}

/* the dead lock rows of a table (all of its rows if all), counted */
static bool
visit_count(HeapTuple tup, TupleDesc desc, Buffer buf, void *arg)
{
	(*(int64 *) arg)++;
	return false;
}

static int64
count_dead(Oid relid, TimestampTz now, bool all)
{
	ScanKeyData skey[2];
	int			nkeys = 1;
	Oid			indexid = store.lockpkey;
	int64		n = 0;

	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	if (!all && OidIsValid(store.lockexpiry))
	{
		ScanKeyInit(&skey[1], 7, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
					TimestampTzGetDatum(now));
		nkeys = 2;
		indexid = store.lockexpiry;
	}
	store_scan(store.lockrel, indexid, skey, nkeys, visit_count, &n);
	return n;
}

/* a sweep asked for in this transaction: done at its pre-commit */
static bool sweep_pending = false;
static LocalTransactionId sweep_lxid = InvalidLocalTransactionId;

static void
sweep_now(TimestampTz now)
{
	Oid			relid = InvalidOid;

	while (next_locked_table(relid, &relid))
		(void) delete_dead(relid, now, PG_INT64_MAX, false,
						   !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)));
}

static void store_xact_callback(XactEvent event, void *arg);

/*
 * Delete the dead locks (and those of dropped tables) with their token
 * hashes; returns how many there are.  Visits each table that has lock
 * rows (a probe of the primary key each) and only the dead rows of each
 * (the expiry index): a sweep with nothing to do reads no live lock.
 *
 * The rows are deleted at the calling transaction's commit (pre-commit),
 * and a row another transaction is writing then is left alone: a delete
 * holds its row until its transaction ends, and an acquire of a key whose
 * lock ran out would otherwise wait for whatever the sweeping transaction
 * does next (no role may hold up another).  Nothing is deleted
 * if the transaction rolls back, nor if it is prepared (two-phase commit).
 */
static bool store_callback_registered = false;

int64
ReclockStoreSweep(TimestampTz now)
{
	Oid			relid = InvalidOid;
	int64		n = 0;

	store_load();
	while (next_locked_table(relid, &relid))
		n += count_dead(relid, now,
						!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)));
	if (!store_callback_registered)
	{
		ReclockOnXactEvent(RECLOCK_XACT_RECLAIM, store_xact_callback);
		store_callback_registered = true;
	}
	sweep_pending = true;
	sweep_lxid = MY_LXID;
	return n;
}

/*
 * Reclaiming dead locks without anyone scheduling a sweep: each acquire
 * asks for up to RECLAIM_PER_ACQUIRE dead lock rows of its table to be
 * deleted.  Release and break delete their own lock rows; what is left to
 * reclaim is locks that ran out.  An acquire adds at most one lock row and
 * reclaims two dead ones while there are any, so a table's dead rows never
 * outnumber the locks that ran out since its last acquire.
 *
 * The rows are deleted at the acquiring transaction's commit (pre-commit),
 * not in the acquire: a delete holds the row until its transaction ends,
 * and an acquire of that other key would otherwise wait for whatever the
 * acquiring transaction does next (and could deadlock with it).  At commit
 * nothing waits: a row another transaction is writing is left alone, and
 * an acquire of a deleted row waits only for this commit.
 */
#define RECLAIM_PER_ACQUIRE	2

/*
 * A table whose last reclaim found no more dead rows is looked at again
 * RECLAIM_IDLE later, not at every commit (one probe of the expiry index
 * each).  Remembered per backend for a few tables at once.
 */
#define RECLAIM_IDLE		USECS_PER_SEC
#define RECLAIM_HINTS		16

typedef struct PendingReclaim
{
	Oid			relid;
	int64		count;
} PendingReclaim;

static struct
{
	Oid			relid;
	TimestampTz after;			/* no reclaim of relid before */
}			reclaim_hints[RECLAIM_HINTS];

static List *pending_reclaims = NIL;	/* in TopTransactionContext */
static LocalTransactionId pending_lxid = InvalidLocalTransactionId;

static void
reclaim_pending(void)
{
	List	   *pending = pending_reclaims;
	ListCell   *lc;
	TimestampTz now;

	pending_reclaims = NIL;
	if (pending_lxid != MY_LXID || pending == NIL)
		return;
	/* the extension may have been dropped in this transaction */
	if (!store.valid && !OidIsValid(get_extension_oid("reclock", true)))
		return;
	store_load();
	if (!OidIsValid(store.lockexpiry))
		return;					/* still on 1.0: left to reclock_sweep() */
	now = ReclockNow();
	foreach(lc, pending)
	{
		PendingReclaim *pr = lfirst(lc);
		int			h = pr->relid % RECLAIM_HINTS;

		if (delete_dead(pr->relid, now, pr->count, false, false) < pr->count)
		{
			/* none left (or only rows being written): look again later */
			reclaim_hints[h].relid = pr->relid;
			reclaim_hints[h].after = now + RECLAIM_IDLE;
		}
		else if (reclaim_hints[h].relid == pr->relid)
			reclaim_hints[h].relid = InvalidOid;
	}
}

static void
store_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT)
	{
		reclaim_pending();
		if (sweep_pending && sweep_lxid == MY_LXID &&
			(store.valid || OidIsValid(get_extension_oid("reclock", true))))
		{
			store_load();
			sweep_now(ReclockNow());
		}
		sweep_pending = false;
	}
	else if (event == XACT_EVENT_PRE_PREPARE)
	{
		/*
		 * Not in a prepared transaction: it would hold the rows it deleted
		 * until someone commits or rolls it back, and every acquire of a
		 * key whose lock ran out would wait for that.  The sweep is only an
		 * optimisation: the dead locks stay for the next one.
		 */
		sweep_pending = false;
	}
	else
	{
		pending_reclaims = NIL;	/* its memory went with the transaction */
		sweep_pending = false;
	}
}

void
ReclockStoreReclaimLater(Oid relid, TimestampTz now)
{
	MemoryContext oldcxt;
	ListCell   *lc;
	PendingReclaim *pr;
	int			h = relid % RECLAIM_HINTS;

	/* nothing was left to reclaim a moment ago (a clock moved back: look) */
	if (reclaim_hints[h].relid == relid && now < reclaim_hints[h].after &&
		now >= reclaim_hints[h].after - RECLAIM_IDLE)
		return;

	if (!store_callback_registered)
	{
		ReclockOnXactEvent(RECLOCK_XACT_RECLAIM, store_xact_callback);
		store_callback_registered = true;
	}
	if (ReclockNewTransaction(&pending_lxid))
		pending_reclaims = NIL;	/* its memory went with the old transaction */
	foreach(lc, pending_reclaims)
	{
		pr = lfirst(lc);
		if (pr->relid == relid)
		{
			pr->count += RECLAIM_PER_ACQUIRE;
			return;
		}
	}
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	pr = palloc(sizeof(PendingReclaim));
	pr->relid = relid;
	pr->count = RECLAIM_PER_ACQUIRE;
	pending_reclaims = lappend(pending_reclaims, pr);
	MemoryContextSwitchTo(oldcxt);
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
	const char *s;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	store_load();
	s = store_schema_sql();
	if (enabled)
		store_run(psprintf("INSERT INTO %s.reclock_notify_store (relid)"
						   " VALUES ('%u'::pg_catalog.oid::pg_catalog.regclass)"
						   " ON CONFLICT (relid) DO NOTHING", s, relid));
	else
		store_run(psprintf("DELETE FROM %s.reclock_notify_store"
						   " WHERE relid OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid::pg_catalog.regclass",
						   s, relid));
	SPI_finish();
}

/*
 * The advisory lock of one row's key, in reclock's own key space
 * (locktag_field4 never used by pg_advisory_lock).
 */
static void
key_locktag(LOCKTAG *tag, Oid relid, const char *key)
{
	uint32		h = DatumGetUInt32(hash_any((const unsigned char *) key, strlen(key)));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, relid, h, RECLOCK_LOCKTAG_FIELD4);
}

/*
 * Serialize acquires of one row: its key's advisory lock, exclusively, to
 * the end of the transaction.
 */
void
ReclockLockKey(Oid relid, const char *key)
{
	LOCKTAG		tag;

	key_locktag(&tag, relid, key);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * The same advisory lock in share mode, to the end of the transaction: a
 * child row written under a parent key whose row was not there keeps a
 * grant of that key (and a key move onto it) waiting until it ends
 * (children.c).
 */
void
ReclockShareKey(Oid relid, const char *key)
{
	LOCKTAG		tag;

	key_locktag(&tag, relid, key);
	(void) LockAcquire(&tag, ShareLock, false, false);
}

/*
 * Forget the locks, token hashes and notice setting of a dropped relation.
 * Run by the sql_drop event trigger; the rows are deleted directly, as a
 * sweep deletes them, and the notice setting by the same checked statement
 * reclock_notify(tbl, false) runs: nothing is reached by a schema's name.
 */
void
ReclockStoreForget(Oid relid)
{
	store_load();
	(void) delete_dead(relid, 0, PG_INT64_MAX, true, true);
	if (ReclockStoreNotifyEnabled(relid))
		ReclockStoreSetNotify(relid, false);
}

/* the live locks, for ReclockStoreLiveLocks */
typedef struct AllLiveVisit
{
	TimestampTz now;
	MemoryContext cxt;
	List	   *locks;
} AllLiveVisit;

static bool
visit_all_live(HeapTuple tup, TupleDesc desc, Buffer buf, void *arg)
{
	AllLiveVisit *av = (AllLiveVisit *) arg;
	MemoryContext oldcxt;
	ReclockLock *lock;

	if (!visit_live(tup, desc, &av->now))
		return false;
	oldcxt = MemoryContextSwitchTo(av->cxt);
	lock = palloc(sizeof(ReclockLock));
	store_fill(tup, desc, lock);
	av->locks = lappend(av->locks, lock);
	MemoryContextSwitchTo(oldcxt);
	return false;
}

/*
 * Every live lock (ReclockLock *), read with the latest snapshot, in cxt:
 * for the view reclock_locks, which filters them by the caller's rights.
 */
List *
ReclockStoreLiveLocks(TimestampTz now, MemoryContext cxt)
{
	AllLiveVisit av = {now, cxt, NIL};

	store_load();
	store_scan(store.lockrel, store.lockpkey, NULL, 0, visit_all_live, &av);
	return av.locks;
}
