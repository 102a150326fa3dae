/*-------------------------------------------------------------------------
 *
 * livekeys.c
 *	  The keys of a table's live locks, remembered per table: the guard's
 *	  fast path, vouched for by the completion count and the epoch.
 *
 * The epoch itself (reclock_epoch_seq and the tables' epoch locks) stays
 * in store.c: every store write that can make a lock live moves it, so it
 * is part of the store's write protocol.  This file reads it.
 *
 * IDENTIFICATION
 *	  src/livekeys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "reclock.h"

/*
 * The fast path: the keys of the table's live locks, remembered.  A row
 * whose key (old and new) is not among them needs no probe of the lock
 * table; if there are none, not even its key.  The set is read by a scan
 * of the table's lock rows and trusted while
 *
 *	 - this backend has not written the lock table since, and its clock has
 *	   not gone back (time alone only ends locks), and
 *	 - either no transaction has committed anywhere since (a fresh
 *	   snapshot's xactCompletionCount, PostgreSQL 14 and later), or the
 *	   epoch has not moved since (and no epoch lock of the table was held
 *	   when the set was read).
 *
 * The epoch (reclock_epoch_seq) is moved by every write that can make a lock
 * live -- a grant, an extension, a refresh, a key move -- after the writer
 * took the table's epoch lock in share mode, which it holds to its end.  The
 * scan reads the epoch, then checks that no epoch lock of the table is held
 * (so no such writer had moved the epoch without having committed), then
 * reads the lock rows with a fresh snapshot.  A writer that moved the epoch
 * before it was read had committed before the check, so the scan saw its
 * write; any later one moved it past the value read.  A writer W that
 * waited for an acquirer's row lock finds the count moved, because the
 * acquirer's commit became visible before its locks were released, and then
 * the epoch too, moved before that commit.  So on a busy server, where the
 * count moves all the time, a row costs one read of the epoch
 * (pg_sequence_last_value), not a probe, while nobody takes or extends locks
 * of the table.
 *
 * A scan costs a visit of each of the table's live lock rows (at most
 * MAX_SCAN_ROWS; it reads the expiry index from the first live one, so dead
 * rows cost nothing -- on a database still on 1.0 it visits them too), so
 * it runs only when two guard calls in a
 * row saw the same epoch or count, and only after as many probes as a
 * quarter of the rows the last scan visited; one that found too many rows is
 * not repeated for SCAN_BACKOFF.
 */
#define MAX_SCAN_ROWS	20000
#define SCAN_BACKOFF	(USECS_PER_SEC / 4)

/*
 * The completion count is read from a snapshot (snapXactCompletionCount)
 * and, at this backend's own commit, from TransamVariables under
 * ProcArrayLock: PostgreSQL's, not a public interface, and kept because
 * the epoch alone costs more than the goal allows.  Built without it
 * (-DRECLOCK_NO_COMPLETION_COUNT: the epoch, pg_sequence_last_value(),
 * vouches for every row), a protected single-row UPDATE took 189 020
 * instructions instead of 186 662 (1.024x a no-op C row trigger instead of
 * 1.012x) and a bulk UPDATE 32 913 per row instead of 31 061 (1.070x
 * instead of 1.010x; bench/README, 2026-12-06).  If a major changes these
 * fields, the build fails here rather than reading garbage.
 */
#ifndef RECLOCK_NO_COMPLETION_COUNT
#define HAVE_COMPLETION_COUNT 1
#endif

static inline bool
epoch_equal(const ReclockEpoch *a, const ReclockEpoch *b)
{
	return a->value == b->value && a->called == b->called;
}

static uint64
completion_count(void)
{
#ifdef HAVE_COMPLETION_COUNT
	return GetLatestSnapshot()->snapXactCompletionCount;
#else
	return 0;
#endif
}

#ifdef HAVE_COMPLETION_COUNT
/*
 * At the backend's own commit: a set found at completion count C stays good
 * if the count is now exactly C plus this commit (nobody else committed
 * meanwhile) and this transaction did not write the store.  So a backend
 * running one short transaction after another on a quiet server does not
 * even read the epoch.
 */
typedef struct OwnCommit
{
	uint64		before;			/* the count a valid set must carry */
	uint64		after;
	uint64		writes;
} OwnCommit;

static void
carry_over(ReclockKeyInfo *ki, void *arg)
{
	OwnCommit  *oc = (OwnCommit *) arg;

	if (ki->lk_valid && ki->lk_count == oc->before && ki->lk_writes == oc->writes)
		ki->lk_count = oc->after;
}

static void
live_keys_xact_callback(XactEvent event, void *arg)
{
	OwnCommit	oc;

	if (event != XACT_EVENT_COMMIT)
		return;
	LWLockAcquire(ProcArrayLock, LW_SHARED);
	oc.after = RECLOCK_TRANSAM_VARIABLES->xactCompletionCount;
	LWLockRelease(ProcArrayLock);
	oc.before = oc.after - (TransactionIdIsValid(GetTopTransactionIdIfAny()) ? 1 : 0);
	oc.writes = ReclockStoreLocalWrites();
	ReclockForEachKeyInfo(carry_over, &oc);
}
#endif

/*
 * Scan the table's lock rows into ki's set.  count is the completion count
 * seen before; the epoch is read here, before the check and the scan.
 */
/* is this an integer key type, whose canonical text is its decimal value? */
static inline bool
int_key_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

/*
 * A single-column integer key: the live keys as integers, sorted, so that
 * the fast path compares a row's key value without making its text (two
 * integers are equal exactly when their canonical texts are).  NULL for
 * other keys, or if a key does not read as an integer.
 */
static int64 *
int_keys(ReclockKeyInfo *ki, char **keys, int n)
{
	int64	   *ints;
	int			i;

	if (ki->nkeys != 1 || !int_key_type(ki->typids[0]) || n == 0)
		return NULL;
	ints = MemoryContextAlloc(ki->lk_cxt, sizeof(int64) * n);
	for (i = 0; i < n; i++)
	{
		char	   *end;

		errno = 0;
		ints[i] = strtoll(keys[i], &end, 10);
		if (errno != 0 || end == keys[i] || *end != '\0')
			return NULL;
	}
	qsort(ints, n, sizeof(int64), ReclockCompareInt64);
	return ints;
}

static bool
scan_live_keys(ReclockKeyInfo *ki, uint64 count, uint64 writes, TimestampTz now)
{
	ReclockEpoch epoch;
	bool		has_epoch = ReclockStoreEpoch(&epoch);
	bool		quiet = ReclockStoreEpochQuiet(ki->rootid);
	char	  **keys;
	int			n;
	int			rows;

	if (ki->lk_cxt == NULL)
		ki->lk_cxt = AllocSetContextCreate(CacheMemoryContext, "reclock live keys",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(ki->lk_cxt);
	ki->lk_valid = false;
	n = ReclockStoreLiveKeys(ki->rootid, now, MAX_SCAN_ROWS, ki->lk_cxt, &keys, &rows);
	ki->misses = 0;
	ki->last_rows = rows;
	if (n < 0)
	{
		ki->scan_after = now + SCAN_BACKOFF;
		MemoryContextReset(ki->lk_cxt);
		return false;
	}
	/*
	 * A grant, extension or key move in flight (its epoch lock is held)
	 * wrote a row version this scan cannot see, and the scan reads only rows
	 * live by the expiry index: a refresh committing after the lock ran out
	 * (ReclockStoreGetSettled) would be missed.  Such a set vouches for
	 * nothing; rows are probed until a quiet moment.
	 */
	if (!quiet)
	{
		ki->scan_after = now + SCAN_BACKOFF;
		MemoryContextReset(ki->lk_cxt);
		return false;
	}
	/* in key order already (the primary key's, C collation); make sure */
	qsort(keys, n, sizeof(char *), ReclockCompareKeyTexts);
	ki->lk_keys = keys;
	ki->lk_nkeys = n;
	ki->lk_ints = int_keys(ki, keys, n);
	ki->lk_count = count;
	ki->lk_has_epoch = has_epoch;
	ki->lk_epoch = epoch;
	ki->lk_writes = writes;
	ki->lk_now = now;
	ki->lk_valid = true;
	return true;
}

/*
 * Is the set of the table's live lock keys (ki->lk_*) one that can be
 * trusted now?  False if each row must probe the store.
 */
bool
ReclockLiveKeysKnown(ReclockKeyInfo *ki, TimestampTz now)
{
	static bool callback_registered = false;
	uint64		count;
	uint64		writes;
	ReclockEpoch epoch;
	bool		has_epoch = false;

	if (!callback_registered)
	{
#ifdef HAVE_COMPLETION_COUNT
		ReclockOnXactEvent(RECLOCK_XACT_LIVE_KEYS, live_keys_xact_callback);
#endif
		callback_registered = true;
	}
	count = completion_count();
	writes = ReclockStoreLocalWrites();

	if (ki->lk_valid && ki->lk_writes == writes && now >= ki->lk_now)
	{
#ifdef HAVE_COMPLETION_COUNT
		if (ki->lk_count == count)
			return true;
#endif
		if (ki->lk_has_epoch && (has_epoch = ReclockStoreEpoch(&epoch)) &&
			epoch_equal(&epoch, &ki->lk_epoch))
		{
			/* nothing made a lock live up to now: the count read vouches next */
			ki->lk_count = count;
			return true;
		}
	}
	ki->lk_valid = false;

	ki->misses++;
	if (now < ki->scan_after || ki->misses < ki->last_rows / 4)
		return false;
	if (!has_epoch)
		has_epoch = ReclockStoreEpoch(&epoch);

	/* two calls in a row saw the same state: the table is quiet, scan it */
	if (
#ifdef HAVE_COMPLETION_COUNT
		ki->last_count == count ||
#endif
		(has_epoch && ki->last_has_epoch && epoch_equal(&epoch, &ki->last_epoch)))
	{
		if (scan_live_keys(ki, count, writes, now))
			return true;
	}
	ki->last_count = count;
	ki->last_has_epoch = has_epoch;
	if (has_epoch)
		ki->last_epoch = epoch;
	return false;
}

/*
 * May the key (canonical text) of a row of ki's table have a live lock now?
 * False only when the table's set of live keys, vouched for as the fast
 * path's is, says it has none: a caller holding the row's lock (no grant on
 * it can commit meanwhile) need not read the store then.
 */
bool
ReclockKeyMayBeLive(ReclockKeyInfo *ki, const char *key, TimestampTz now)
{
	if (!ReclockLiveKeysKnown(ki, now))
		return true;
	return ki->lk_nkeys > 0 && ReclockKeyIsLive(ki, key);
}
