/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The guard: a row trigger that refuses UPDATE and DELETE of a locked
 *	  row unless the transaction presents the lock's token.
 *
 * Ordering.  reclock_acquire locks the target row FOR UPDATE before it
 * writes a grant, in the grant's transaction.  An UPDATE or DELETE locks
 * each row before that row's BEFORE trigger runs.  So for a writer W and an
 * acquirer A of one row, either W locked the row first (A waits for W to
 * end, and W wrote before the grant existed), or A did (W waits for A to
 * commit, and this trigger runs after the grant is committed).  In the
 * second case W's own snapshot may predate the grant (REPEATABLE READ, or
 * a statement that began earlier), so the lock is read with the latest
 * snapshot, never the transaction's.  No heavyweight lock is taken per row.
 *
 * IDENTIFICATION
 *	  src/guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
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
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "reclock.h"

PG_FUNCTION_INFO_V1(reclock_guard);
PG_FUNCTION_INFO_V1(reclock_guard_child);
PG_FUNCTION_INFO_V1(reclock_guard_truncate);
PG_FUNCTION_INFO_V1(reclock_protect);
PG_FUNCTION_INFO_V1(reclock_unprotect);

/* also the constraint name of every refusal (PG_DIAG_CONSTRAINT_NAME) */
#define GUARD_TRIGGER		RECLOCK_GUARD_TRIGGER
#define TRUNCATE_TRIGGER	"reclock_guard_truncate"
#define NOTICE_TRIGGER		"reclock_notice"

static void refuse_locked(Relation rel, const char *key, ReclockLock *lock);

/*
 * Keys this transaction moved a lock away from.  An UPDATE that moves a row
 * to another partition fires BEFORE UPDATE (which moves the lock to the new
 * key) and then BEFORE DELETE of the old row on the source partition; under
 * require_lock that delete must pass.
 */
typedef struct MovedKey
{
	Oid			rootid;
	char	   *key;
} MovedKey;

static List *moved_keys = NIL;
static LocalTransactionId moved_lxid = InvalidLocalTransactionId;

static void
remember_moved(Oid rootid, const char *key)
{
	MemoryContext oldcxt;
	MovedKey   *mk;

	if (ReclockNewTransaction(&moved_lxid))
		moved_keys = NIL;		/* its memory went with the old transaction */
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	mk = palloc(sizeof(MovedKey));
	mk->rootid = rootid;
	mk->key = pstrdup(key);
	moved_keys = lappend(moved_keys, mk);
	MemoryContextSwitchTo(oldcxt);
}

static bool
was_moved(Oid rootid, const char *key)
{
	ListCell   *lc;

	if (moved_lxid != MY_LXID)
		return false;
	foreach(lc, moved_keys)
	{
		MovedKey   *mk = lfirst(lc);

		if (mk->rootid == rootid && strcmp(mk->key, key) == 0)
			return true;
	}
	return false;
}

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
guard_xact_callback(XactEvent event, void *arg)
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

static int
compare_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Scan the table's lock rows into ki's set.  count is the completion count
 * seen before; the epoch is read here, before the check and the scan.
 */
static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

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
	qsort(ints, n, sizeof(int64), compare_int64);
	return ints;
}

/* is the integer key of this row version among the live keys? */
static inline bool
int_key_is_live(ReclockKeyInfo *ki, HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, ki->attnums[0], desc, &isnull);
	int64		v;

	if (isnull)
		return false;			/* a new key set to NULL: 23502 follows */
	switch (ki->typids[0])
	{
		case INT2OID:
			v = DatumGetInt16(d);
			break;
		case INT4OID:
			v = DatumGetInt32(d);
			break;
		default:
			v = DatumGetInt64(d);
			break;
	}
	return bsearch(&v, ki->lk_ints, ki->lk_nkeys, sizeof(int64), compare_int64) != NULL;
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
	qsort(keys, n, sizeof(char *), compare_keys);
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
 * The set of the table's live lock keys, if it can be trusted now; NULL if
 * each row must probe.
 */
static ReclockKeyInfo *
live_keys(ReclockKeyInfo *ki, TimestampTz now)
{
	static bool callback_registered = false;
	uint64		count;
	uint64		writes;
	ReclockEpoch epoch;
	bool		has_epoch = false;

	if (!callback_registered)
	{
#ifdef HAVE_COMPLETION_COUNT
		ReclockOnXactEvent(RECLOCK_XACT_GUARD, guard_xact_callback);
#endif
		callback_registered = true;
	}
	count = completion_count();
	writes = ReclockStoreLocalWrites();

	if (ki->lk_valid && ki->lk_writes == writes && now >= ki->lk_now)
	{
#ifdef HAVE_COMPLETION_COUNT
		if (ki->lk_count == count)
			return ki;
#endif
		if (ki->lk_has_epoch && (has_epoch = ReclockStoreEpoch(&epoch)) &&
			epoch_equal(&epoch, &ki->lk_epoch))
		{
			/* nothing made a lock live up to now: the count read vouches next */
			ki->lk_count = count;
			return ki;
		}
	}
	ki->lk_valid = false;

	ki->misses++;
	if (now < ki->scan_after || ki->misses < ki->last_rows / 4)
		return NULL;
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
			return ki;
	}
	ki->last_count = count;
	ki->last_has_epoch = has_epoch;
	if (has_epoch)
		ki->last_epoch = epoch;
	return NULL;
}

static inline bool
key_is_live(ReclockKeyInfo *ki, const char *key)
{
	return bsearch(&key, ki->lk_keys, ki->lk_nkeys, sizeof(char *), compare_keys) != NULL;
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
	if (live_keys(ki, now) == NULL)
		return true;
	return ki->lk_nkeys > 0 && key_is_live(ki, key);
}

static void
refuse_locked(Relation rel, const char *key, ReclockLock *lock)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errtableconstraint(rel, GUARD_TRIGGER),
			 errmsg("row %s of table \"%s\" is locked by \"%s\" until %s",
					key, RelationGetRelationName(rel), lock->holder,
					timestamptz_to_str(lock->expires_at - lock->expires_at % USECS_PER_SEC)),
			 errdetail("Only a transaction that presents the lock's token may update or delete the row."),
			 errhint("Present the token in the writing transaction with SELECT set_config('reclock.token', <token>, true).")));
}

/*
 * Citus's table or shard: its locks are not in this node's lock table, so
 * the guard refuses every write (citus.c).  A shard Citus's metadata does
 * not show here (yet) is known by the name of the trigger Citus copied.
 */
static inline void
refuse_citus(Relation rel, ReclockKeyInfo *ki, const char *tgname)
{
	if (unlikely(ki->citus != RECLOCK_CITUS_NONE))
		ReclockCitusRefuseWrite(rel, ki->citus, ki->citus_table);
	if (unlikely(ki->citus_unsure) &&
		ReclockCitusIsShardCopy(rel, tgname, GUARD_TRIGGER))
		ReclockCitusRefuseWrite(rel, RECLOCK_CITUS_SHARD, InvalidOid);
}

/*
 * Check one row about to be written: by the lock on its key, if live.
 * Refuses (ERROR) unless the writer presented its token; fills *lock with
 * the live lock whose token the writer presented (found = false if none).
 */
static void
guard_row(Relation rel, ReclockKeyInfo *ki, const char *key, bool require_lock,
		  TimestampTz *now, ReclockLock *lock)
{
	/* settled: a dead lock whose extension is committing is waited for */
	if (ReclockStoreGetSettled(ki->rootid, key, now, lock) && lock->expires_at > *now)
	{
		if (!ReclockHoldsToken(lock->fence))
			refuse_locked(rel, key, lock);
		return;
	}
	lock->found = false;
	if (require_lock && !was_moved(ki->rootid, key))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(rel, GUARD_TRIGGER),
				 errmsg("row %s of table \"%s\" is not locked", key,
						RelationGetRelationName(rel)),
				 errdetail("The table is protected with require_lock: every update or delete needs a live lock."),
				 errhint("Acquire the row with reclock_acquire() and present its token with set_config('reclock.token', <token>, true).")));
}

Datum
reclock_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	ReclockKeyInfo *ki;
	bool		require_lock = false;
	const char *parent_fk;
	char	   *key = NULL;
	char	   *newkey = NULL;
	TupleDesc	desc;
	TimestampTz now;
	ReclockLock lock;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard: not called by trigger manager")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard: must be fired before event, for each row")));
	/* arguments: 'require_lock', and a child table's 'parent_fk=<name>' */
	for (i = 0; i < trigdata->tg_trigger->tgnargs; i++)
		if (strcmp(trigdata->tg_trigger->tgargs[i], "require_lock") == 0)
			require_lock = true;
	parent_fk = ReclockTriggerParentFk(trigdata->tg_trigger);
	if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) &&
		!(parent_fk != NULL && TRIGGER_FIRED_BY_INSERT(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard: must be fired for UPDATE or DELETE (or INSERT of a child table)")));

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);

	/*
	 * A child table: the locks of its parent rows first (children.c).  A row
	 * a presented parent lock covers needs no lock of its own under
	 * require_lock; its own live lock, if any, applies all the same.
	 */
	if (parent_fk != NULL)
	{
		bool		covered;

		ki = ReclockGetKeyInfo(rel);
		refuse_citus(rel, ki, trigdata->tg_trigger->tgname);
		covered = ReclockChildGuard(rel, parent_fk, trigdata, require_lock);

		if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
			return PointerGetDatum(trigdata->tg_trigtuple);
		if (covered)
			require_lock = false;
	}

	ki = ReclockGetKeyInfo(rel);
	refuse_citus(rel, ki, trigdata->tg_trigger->tgname);
	now = ReclockNow();

	/*
	 * The fast path: neither the row's key nor its new key has a live lock
	 * (no live lock in the table at all: not even a key to make).  Nothing
	 * to check, nothing to move.
	 */
	if (!require_lock && live_keys(ki, now) != NULL)
	{
		HeapTuple	pass = TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ?
			trigdata->tg_trigtuple : trigdata->tg_newtuple;

		if (ki->lk_nkeys == 0)
			return PointerGetDatum(pass);
		if (ki->lk_ints != NULL)
		{
			/*
			 * An integer key: compared as a value, no text made.  A new key
			 * that is not live needs nothing either (an unchanged key is
			 * the old one, not live).
			 */
			if (!int_key_is_live(ki, trigdata->tg_trigtuple, desc) &&
				(TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
				 !int_key_is_live(ki, trigdata->tg_newtuple, desc)))
				return PointerGetDatum(pass);
		}
		else if (!key_is_live(ki, (key = ReclockTupleKey(ki, trigdata->tg_trigtuple, desc))))
		{
			if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
				ReclockKeyUnchanged(ki, trigdata->tg_trigtuple, trigdata->tg_newtuple, desc))
				return PointerGetDatum(pass);
			newkey = ReclockNewTupleKey(ki, trigdata->tg_newtuple, desc);
			if (newkey == NULL || !key_is_live(ki, newkey))
				return PointerGetDatum(pass);
		}
	}

	if (key == NULL)
		key = ReclockTupleKey(ki, trigdata->tg_trigtuple, desc);

	guard_row(rel, ki, key, require_lock, &now, &lock);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);

	/* a change of the key: refused under another's lock, carried by the holder */
	{
		if (newkey == NULL)
			newkey = ReclockKeyUnchanged(ki, trigdata->tg_trigtuple,
										 trigdata->tg_newtuple, desc) ? key :
				ReclockNewTupleKey(ki, trigdata->tg_newtuple, desc);
		if (newkey == NULL)
			return PointerGetDatum(trigdata->tg_newtuple);	/* 23502 follows */
		if (strcmp(newkey, key) != 0)
		{
			ReclockLock target;
			TimestampTz tnow = now;

			if (ReclockStoreGetSettled(ki->rootid, newkey, &tnow, &target) &&
				target.expires_at > tnow && !ReclockHoldsToken(target.fence))
				refuse_locked(rel, newkey, &target);
			if (lock.found)
			{
				ReclockStoreMoveKey(ki->rootid, key, newkey, now);
				remember_moved(ki->rootid, key);
				RECLOCK_TEST_PAUSE("guard:after_key_move");
			}
		}
	}
	return PointerGetDatum(trigdata->tg_newtuple);
}

/*
 * The guard of a child table: the same code, under a C symbol a library
 * older than 1.1 does not have (a backend that still runs one fails on a
 * child table instead of guarding it as a table of its own).
 */
Datum
reclock_guard_child(PG_FUNCTION_ARGS)
{
	return reclock_guard(fcinfo);
}

Datum
reclock_guard_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	Oid			rootid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard_truncate: not called by trigger manager")));
	if (!TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard_truncate: must be fired before TRUNCATE")));

	rel = trigdata->tg_relation;
	rootid = ReclockRootOf(RelationGetRelid(rel));
	{
		Oid			table;
		bool		unsure;
		ReclockCitusKind kind = ReclockCitusKindOf(RelationGetRelid(rel), &table, &unsure);

		if (kind != RECLOCK_CITUS_NONE)
			ReclockCitusRefuseWrite(rel, kind, table);
		if (unsure && ReclockCitusIsShardCopy(rel, trigdata->tg_trigger->tgname,
											  TRUNCATE_TRIGGER))
			ReclockCitusRefuseWrite(rel, RECLOCK_CITUS_SHARD, InvalidOid);
	}
	/*
	 * TRUNCATE holds the table ACCESS EXCLUSIVE: no grant of it (acquire
	 * opens the table) or key move is in flight.  A refresh does not open
	 * the table; one that is committing is waited for (settled read), one
	 * in a transaction left open is not (no role may hold up another): it
	 * extends a live lock (refused here) or fails at commit.
	 */
	if (ReclockStoreHasLiveLockSettled(rootid))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(rel, GUARD_TRIGGER),
				 errmsg("cannot truncate table \"%s\" while it has live locks",
						RelationGetRelationName(rel)),
				 errdetail("TRUNCATE would remove rows that holders have locked."),
				 errhint("Wait for the locks to end, or end them with reclock_break().")));
	/* a child table's rows belong to its parents' locks too */
	ReclockChildTruncateCheck(rel);
	return PointerGetDatum(NULL);
}

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

		initStringInfo(&args);
		if (require_lock)
			appendStringInfoString(&args, "'require_lock'");
		if (parent_fk)
			appendStringInfo(&args, "%s%s", require_lock ? ", " : "",
							 quote_literal_cstr(psprintf("parent_fk=%s", parent_fk)));
		/* a child table: INSERT under a locked parent is guarded too */
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
	bool		kids;
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
	kids = ReclockChildNoticesWanted(relid, known_relid, known_on);

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
	if (own || kids)
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
						 NOTICE_TRIGGER, kids ? "INSERT OR " : "", qname, schema));
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
	char	   *parent_fk = NULL;
	Oid			fkoid = InvalidOid;
	bool		require_lock;

	/* as the STRICT function of 1.0: a NULL table or flag does nothing */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	require_lock = PG_GETARG_BOOL(1);
	rel = open_owned_table(PG_GETARG_OID(0), "reclock_protect()");
	/* 55000 if there is no primary key; 0A000 for a temporary table, a reg* key */
	ReclockCheckLockable(rel, ReclockGetKeyInfo(rel), "reclock_protect()");
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
	{
		Relation	parent = ReclockOpenTable(PG_GETARG_OID(2), "reclock_protect()");


		parent_fk = ReclockChildValidate(rel, parent,
										 (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ?
										 NameStr(*PG_GETARG_NAME(3)) : NULL, &fkoid);
		ReclockCheckLockable(parent, ReclockGetKeyInfo(parent), "reclock_protect()");
		relation_close(parent, AccessShareLock);
	}
	else if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parent_fk needs parent"),
				 errhint("Name the parent table: reclock_protect(table, parent => '<table>', parent_fk => '<constraint>').")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	set_triggers(rel, true, require_lock, parent_fk, fkoid);
	ReclockRefreshNoticeTrigger(ReclockRootOf(RelationGetRelid(rel)), InvalidOid, false);
	SPI_finish();
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

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	set_triggers(rel, false, false, NULL, InvalidOid);
	ReclockRefreshNoticeTrigger(ReclockRootOf(RelationGetRelid(rel)), InvalidOid, false);
	SPI_finish();
	relation_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}
