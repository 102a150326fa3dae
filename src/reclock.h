/*-------------------------------------------------------------------------
 *
 * reclock.h
 *	  Declarations shared by the files of the reclock extension.
 *
 * The layout: each file uses only the files below it in this list, never
 * one above ("nothing calls up"); this header has one section per file, in
 * the same order, bottom first.  test/layout/check.sh (make layout-check,
 * run by make test) reads the sections and the object files and fails on a
 * call up, or on a function declared in another file's section.
 *
 *   compat.h     every PostgreSQL version shim (no code of its own)
 *   cituscarry.c the token carry: a Citus coordinator passes the presented
 *                tokens on to its workers (hooks; reads Citus's metadata
 *                by name, is handed the presented value by reclock.c)
 *   reclock.c    module init, the settings, the clock, token presentation
 *                (reclock.token), the one transaction-callback dispatcher
 *   citus.c      which tables Citus manages (catalog reads only); the
 *                settings under which values go through Citus exactly
 *   plans.c      the cache of SPI statements, pinned to their relations
 *   keys.c       a table's key facts and the canonical key text (reads
 *                no store, runs no SQL)
 *   rowsql.c     SQL text over a user's table: its name, a key's WHERE with
 *                the primary key's equality and collation; a row found by
 *                its key locked as LockRows does (acquire, the child guard)
 *   store.c      the lock and token tables (read by index, written through
 *                the executor), the epoch, renewals checked at commit,
 *                reclaim and sweep, the notice settings, key locks.  The
 *                epoch, the renewals and the settled reads stay here, not in
 *                files of their own above it: every write that can make a
 *                lock live moves the epoch and marks its renewal, and a
 *                settled read needs the updater of the row version it read,
 *                so store.c would have to call up to them.
 *   livekeys.c   the keys of a table's live locks (the guard's fast path),
 *                vouched for by the completion count and the epoch
 *   tokens.c     does this transaction hold a lock's token?
 *   citusstore.c the lock stores of protected Citus distributed tables
 *                (made and dropped by protect; SQL through Citus)
 *   citusref.c   the locks of protected Citus reference tables (reference
 *                stores whose trigger locks the row on each node)
 *   notify.c     change notices (payloads, queued at commit)
 *   links.c      child tables' links to their parents, and their chains
 *   children.c   documents: the child guard, parent rows locked and cached
 *   guard.c      the triggers: reclock_guard, reclock_guard_child,
 *                reclock_guard_truncate, reclock_notice
 *   protect.c    reclock_protect, reclock_unprotect, reclock_notify: the
 *                triggers of tables, partitions and child tables
 *   acquire.c    reclock_acquire, valid, refresh, release, break, sweep,
 *                clock, visible_locks
 *   cas.c        reclock_cas, reclock_diff and their _children forms
 *   ddl.c        the DDL and drop watches, the publication checks
 *   init.c       _PG_init: reclock.c's settings, then the other files' hooks
 *
 * Who uses whom (test/layout/check.sh -v prints it; reclock.c, which most
 * files use, left out): citus.c and rowsql.c use no other file;
 * keys -> citus; store -> plans; livekeys -> store, keys; tokens -> store;
 * notify -> store, keys; links -> notify, keys; children -> links, notify,
 * tokens, livekeys, store, rowsql, keys, plans, citusstore, citus; guard -> children, links,
 * notify, citusstore, tokens, livekeys, store, keys, citus; protect -> citusref, citusstore,
 * links, notify, store, keys; citusstore -> store, rowsql, keys, citus; acquire -> citusstore, notify, tokens, store, rowsql, keys, plans;
 * cas -> links, rowsql, keys, plans, citus; ddl -> protect, store, keys; init -> citusstore.
 *
 * IDENTIFICATION
 *	  src/reclock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECLOCK_H
#define RECLOCK_H

#include "access/htup.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#define RECLOCK_HASH_LEN	32	/* SHA-256 */

#include "compat.h"

/*
 * State a file keeps for the current transaction in static variables:
 * true, once per transaction, when *lxid is not the current transaction's
 * (it is made so), and the caller drops what it kept for an earlier one
 * (its memory went with that transaction).
 */
static inline bool
ReclockNewTransaction(LocalTransactionId *lxid)
{
	if (*lxid == MY_LXID)
		return false;
	*lxid = MY_LXID;
	return true;
}

/* an argument that must not be NULL: 22004 */
static inline void
ReclockCheckNotNull(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* locktag_field4 of reclock's advisory locks; pg_advisory_lock uses 1 and 2 */
#define RECLOCK_LOCKTAG_FIELD4	0x5243
/* advisory lock (db, table, 0, this): held in share mode by a transaction
 * that may make a lock of the table live, from before it moves the epoch */
#define RECLOCK_LOCKTAG_TABLE	0x5244
/* advisory lock (db, fence, this): held exclusively by a transaction that
 * extended the grant, from its last look at the clock at pre-commit */
#define RECLOCK_LOCKTAG_EXTEND	0x5245

/* the guard trigger's name, also the constraint name of every refusal */
#define RECLOCK_GUARD_TRIGGER "reclock_guard"
#define RECLOCK_TRUNCATE_TRIGGER "reclock_guard_truncate"
#define RECLOCK_NOTICE_TRIGGER "reclock_notice"
/* an order -> line -> note chain deeper than this is refused at write */
#define RECLOCK_MAX_CHAIN_DEPTH	16

typedef struct ReclockKeyInfo ReclockKeyInfo;	/* keys.c */

/*--- cituscarry.c: the token carry to Citus workers (installed by reclock.c) ---*/
extern void ReclockCarryUtilityHook(void (*fn) (Node *stmt));
extern bool ReclockCarryInit(const char *(*presented) (void));
extern void ReclockCarryInvalidate(Datum arg, Oid relid);

/*--- reclock.c: init, settings, the clock, the transaction-callback dispatcher ---*/
extern int	reclock_default_ttl;	/* seconds */
extern int	reclock_max_ttl;		/* seconds */

/* reclock.reentry: who re-enters a live grant by acquiring it again */
#define RECLOCK_REENTRY_HOLDER	0	/* the same holder name and role */
#define RECLOCK_REENTRY_TOKEN	1	/* ... presenting a token of that grant */
extern int	reclock_reentry;
extern bool reclock_preloaded;	/* loaded by shared_preload_libraries */

extern void ReclockInit(void);	/* _PG_init's part of this file (init.c) */
extern TimestampTz ReclockNow(void);
/* instead of CacheRegisterRelcacheCallback: one registration for all of reclock */
extern void ReclockRegisterRelcacheCallback(RelcacheCallbackFunction func);

/* transaction callbacks, called in this order (reclock.c) */
typedef enum ReclockXactSlot
{
	RECLOCK_XACT_CHILD_RECHECK,	/* children.c: child rows checked at commit */
	RECLOCK_XACT_RENEWALS,		/* store.c: renewals checked at commit */
	RECLOCK_XACT_CITUS_RENEWALS,	/* citusstore.c: a worker's renewals checked at commit */
	RECLOCK_XACT_CITUS_RECLAIM, /* citusstore.c: a worker's dead lock rows reclaimed */
	RECLOCK_XACT_CITUS_NOTICES, /* citusstore.c: workers' notices collected, checked */
	RECLOCK_XACT_CITUS_CHILDREN,	/* children.c: a worker's child rows checked at commit */
	RECLOCK_XACT_NOTICES,		/* notify.c: refused at PREPARE */
	RECLOCK_XACT_RECLAIM,		/* store.c: reclaim and sweep at commit */
	RECLOCK_XACT_CITUS_SWEEP,	/* citusstore.c: the sweep of Citus stores at commit */
	RECLOCK_XACT_LIVE_KEYS,		/* livekeys.c: the live-key sets carried over */
	RECLOCK_XACT_KEYS,			/* keys.c: retired key facts freed */
	RECLOCK_XACT_SLOTS
} ReclockXactSlot;

typedef enum ReclockSubXactSlot
{
	RECLOCK_SUBXACT_CHILD_PARENTS,	/* children.c: the parent cache */
	RECLOCK_SUBXACT_CHILD_RECHECK,	/* children.c: rows queued for the recheck */
	RECLOCK_SUBXACT_NOTICES,	/* notify.c: notices queued */
	RECLOCK_SUBXACT_CITUS_CHILDREN,	/* children.c: a worker's child rows queued */
	RECLOCK_SUBXACT_SLOTS
} ReclockSubXactSlot;

extern void ReclockOnXactEvent(ReclockXactSlot slot, XactCallback func);
extern void ReclockOnSubXactEvent(ReclockSubXactSlot slot, SubXactCallback func);

/*
 * Pause points (test builds only): RECLOCK_TEST_PAUSE("acquire:after_lock_row")
 * makes the backend wait there, until it is terminated, if the superuser-only
 * setting reclock.test_pause names that point.  RECLOCK_TEST_PAUSE_AT(point,
 * detail) also stops for the setting "point:detail" (say, the table written).
 * In a production build both compile to nothing and evaluate nothing.
 */
#ifdef RECLOCK_TESTING
extern void ReclockTestPause(const char *point, const char *detail);
#define RECLOCK_TEST_PAUSE(point) ReclockTestPause((point), NULL)
#define RECLOCK_TEST_PAUSE_AT(point, detail) ReclockTestPause((point), (detail))
#else
#define RECLOCK_TEST_PAUSE(point) ((void) 0)
#define RECLOCK_TEST_PAUSE_AT(point, detail) ((void) 0)
#endif
extern int64 ReclockTtlUsecs(Interval *ttl);

/* tokens presented in this transaction (reclock.token), as hashes */
extern int	ReclockPresentedTokens(const uint8 **hashes, uint64 *generation);

extern void ReclockHashToken(const pg_uuid_t *token, uint8 *hash);
extern void ReclockNewToken(pg_uuid_t *token);

/*--- citus.c: tables Citus distributes or manages (which reclock refuses) ---*/
typedef enum ReclockCitusKind
{
	RECLOCK_CITUS_NONE = 0,		/* not Citus's (always, without the extension) */
	RECLOCK_CITUS_DISTRIBUTED,	/* hash, range, append or single-shard */
	RECLOCK_CITUS_REFERENCE,
	RECLOCK_CITUS_LOCAL,		/* a local table Citus manages */
	RECLOCK_CITUS_SHARD			/* a shard of one of those */
} ReclockCitusKind;

extern ReclockCitusKind ReclockCitusKindOf(Oid relid, Oid *table, bool *unsure);
extern bool ReclockCitusOnCoordinator(void);
extern int	ReclockCitusExactTextBegin(void);
extern bool ReclockCitusIsShardCopy(Relation rel, const char *tgname,
									const char *trigger);
extern void ReclockCitusRefuseLockable(Relation rel, ReclockKeyInfo *ki,
									   const char *fname);
extern void ReclockCitusRefuseWrite(Relation rel, ReclockCitusKind kind,
									Oid table);

/*--- plans.c: the statements reclock runs through SPI ---*/
typedef struct ReclockStatement
{
	Oid			relid;			/* the only relation it may name */
	const char *shape;			/* what it does, in relid's terms (cache key) */
	int			nargs;
	Oid		   *argtypes;
	char	   *(*build) (void *arg);	/* its SQL, from the current names */
	void	   *arg;
} ReclockStatement;

extern int	ReclockPlanRun(ReclockStatement *st, Datum *values,
						   const char *nulls, long tcount);
extern int	ReclockPlanRunLatestLocking(ReclockStatement *st, Datum *values,
										const char *nulls, long tcount);
extern int	ReclockPlanRunLatest(ReclockStatement *st, Datum *values,
								 const char *nulls, long tcount);
extern int	ReclockPlanRunOnce(const char *sql, const Oid *rels, int nrels,
							   Snapshot snapshot);

/*--- keys.c: the row key of a table, its canonical text ---*/
/* the epoch: (last_value, is_called) of reclock_epoch_seq */
typedef struct ReclockEpoch
{
	int64		value;
	bool		called;
} ReclockEpoch;


struct ReclockKeyInfo
{
	Oid			relid;			/* the relation this entry describes */
	Oid			rootid;			/* locks are keyed by this (partition root) */
	bool		valid;			/* false once invalidated */
	MemoryContext cxt;			/* holds the key facts below */
	int			nkeys;
	AttrNumber *attnums;		/* key columns in relid's numbering */
	Oid		   *typids;
	int32	   *typmods;
	FmgrInfo   *outfuncs;
	FmgrInfo   *infuncs;
	Oid		   *ioparams;
	Oid		   *eqops;			/* the primary key's equality, per column */
	Oid		   *eqtypes;		/* its operator class's input type */
	Oid		   *collations;		/* the primary key's collation */
	TupleDesc	keydesc;		/* blessed record type of the key (nkeys > 1) */
	FmgrInfo	record_in;		/* record_in and record_out for keydesc */
	FmgrInfo	record_out;
	int16	   *typlens;
	bool	   *typbyvals;
	bool		pin_path;		/* key output reads search_path (reg* types) */
	bool		types_lockable; /* ReclockCheckLockable found its types fit */
	/* guard's fast path: the keys of the table's live locks (livekeys.c) */
	bool		lk_valid;
	int			lk_nkeys;
	char	  **lk_keys;		/* sorted, C collation */
	int64	   *lk_ints;		/* the same as integers, sorted (an integer key), or NULL */
	MemoryContext lk_cxt;
	uint64		lk_count;		/* xactCompletionCount before the scan */
	bool		lk_has_epoch;	/* lk_epoch vouches for the set too */
	ReclockEpoch lk_epoch;		/* the epoch before the scan */
	uint64		lk_writes;		/* this backend's store writes then */
	TimestampTz lk_now;			/* the clock then */
	TimestampTz scan_after;		/* no scan before (backoff) */
	uint64		last_count;		/* what the previous guard call saw */
	ReclockEpoch last_epoch;
	bool		last_has_epoch;
	int			misses;			/* probes since the set was lost */
	int			last_rows;		/* lock rows the last scan visited */
	/* change notices on for the table? (reclock_notify) */
	bool		notify_known;
	bool		notify_on;
	/* Citus's table or shard (citus.c): the guard refuses every write */
	ReclockCitusKind citus;
	Oid			citus_table;	/* the Citus table (of a shard) */
	bool		citus_unsure;	/* named like a shard Citus does not know: rebuilt at any invalidation */
};

/*
 * Are these columns of two versions of a row the same bytes?  Then a key
 * made of them names the same lock (the converse need not hold).  Used for
 * a table's key (ReclockKeyUnchanged) and a child's foreign key.
 */
static inline bool
ReclockColumnsUnchanged(int ncols, const AttrNumber *attnums,
						const bool *typbyvals, const int16 *typlens,
						HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	int			i;

	for (i = 0; i < ncols; i++)
	{
		bool		n1,
					n2;
		Datum		d1 = heap_getattr(oldtup, attnums[i], desc, &n1);
		Datum		d2 = heap_getattr(newtup, attnums[i], desc, &n2);

		if (n1 != n2 ||
			(!n1 && !datumIsEqual(d1, d2, typbyvals[i], typlens[i])))
			return false;
	}
	return true;
}

extern ReclockKeyInfo *ReclockGetKeyInfo(Relation rel);
extern ReclockKeyInfo *ReclockCachedKeyInfo(Oid rootid);
extern void ReclockForEachKeyInfo(void (*fn) (ReclockKeyInfo *ki, void *arg),
								  void *arg);
extern Oid	ReclockRootOf(Oid relid);
extern Relation ReclockOpenTable(Oid relid, const char *fname);
extern void ReclockCheckOwner(Relation rel, const char *detail);
extern bool ReclockKeyNamesObjects(ReclockKeyInfo *ki);
extern void ReclockCheckLockable(Relation rel, ReclockKeyInfo *ki,
								 const char *fname);
extern void ReclockRaiseInvalidText(MemoryContext cxt, const char *msg,
									const char *hint);
extern char *ReclockCanonicalKey(ReclockKeyInfo *ki, const char *key,
								 Datum *values);
extern char *ReclockKeyText(ReclockKeyInfo *ki, Datum *vals, bool *nulls);
extern char *ReclockTupleKey(ReclockKeyInfo *ki, HeapTuple tuple,
							 TupleDesc tupdesc);
extern char *ReclockNewTupleKey(ReclockKeyInfo *ki, HeapTuple tuple,
								TupleDesc tupdesc);
extern bool ReclockKeyUnchanged(ReclockKeyInfo *ki, HeapTuple oldtup,
								HeapTuple newtup, TupleDesc tupdesc);
extern char *ReclockTimestampText(TimestampTz ts);

/*--- rowsql.c: SQL text over a user's table (names, the key's WHERE), a row locked ---*/
extern char *ReclockRelationSql(Relation rel);
extern char *ReclockColumnListSql(Oid relid, int ncols, const AttrNumber *attnums);
extern char *ReclockKeyWhereSql(ReclockKeyInfo *ki);
extern char *ReclockCollateSql(Oid collid);
extern char *ReclockOperatorSql(Oid opr);
extern bool ReclockLockRowVersion(Relation rel, ItemPointer tid, Snapshot snap,
								  TupleTableSlot *slot, LockTupleMode mode,
								  LockWaitPolicy wait, int flags, int nkeys,
								  const AttrNumber *heapatt, ScanKeyData *skey);

/*--- store.c: the lock and token tables, the epoch ---*/
typedef struct ReclockLock
{
	bool		found;
	ItemPointerData tid;		/* where the store row was read (genam reads) */
	Oid			relid;
	char	   *key;
	char	   *holder;
	Oid			acquired_by;
	int64		fence;
	TimestampTz acquired_at;
	TimestampTz expires_at;
} ReclockLock;

extern Oid	ReclockExtensionSchema(void);
extern Oid	ReclockStoreOwner(void);
extern void ReclockStoreWillWrite(void);
extern bool ReclockStoreGetByKey(Oid relid, const char *key, ReclockLock *lock);
extern bool ReclockStoreGetByFence(int64 fence, ReclockLock *lock);
extern bool ReclockStoreGetSettled(Oid relid, const char *key, TimestampTz *now,
								   ReclockLock *lock);
extern bool ReclockStoreGetSettledByFence(int64 fence, TimestampTz *now,
										  ReclockLock *lock);
extern bool ReclockStoreFenceOfToken(const uint8 *hash, int64 *fence);
extern bool ReclockStoreHasLiveLock(Oid relid, TimestampTz now);
extern bool ReclockStoreHasLiveLockSettled(Oid relid);
extern int	ReclockStoreLiveKeys(Oid relid, TimestampTz now, int maxrows,
								 MemoryContext cxt, char ***keys, int *rows);

extern bool ReclockStoreEpoch(ReclockEpoch *epoch);
extern bool ReclockStoreMoveEpoch(Oid relid);
extern bool ReclockStoreTryEpoch(Oid relid);
extern bool ReclockStoreEpochQuiet(Oid relid);
extern uint64 ReclockStoreLocalWrites(void);
extern int64 ReclockStoreNextFence(void);
extern bool ReclockStoreWrite(ReclockLock *lock, ReclockLock *old);
extern void ReclockStoreAddToken(const uint8 *hash, int64 fence);
extern bool ReclockStoreSetExpiry(int64 fence, int64 ttl, ReclockLock *lock);
extern bool ReclockStoreEnd(int64 fence, ReclockLock *lock);
extern void ReclockStoreReclaimLater(Oid relid, TimestampTz now);
extern void ReclockStoreMoveKey(Oid relid, const char *oldkey,
								const char *newkey, TimestampTz now);
extern int64 ReclockStoreSweep(TimestampTz now);
extern void ReclockStoreForget(Oid relid);
extern List *ReclockStoreLiveLocks(TimestampTz now, MemoryContext cxt);
extern bool ReclockStoreNotifyEnabled(Oid relid);
extern void ReclockStoreSetNotify(Oid relid, bool enabled);
extern void ReclockLockKey(Oid relid, const char *key);
extern void ReclockShareKey(Oid relid, const char *key);

/*--- livekeys.c: the keys of a table's live locks (the guard's fast path) ---*/
/* true if ki's set (lk_keys, lk_ints, lk_nkeys) can be trusted now */
extern bool ReclockLiveKeysKnown(ReclockKeyInfo *ki, TimestampTz now);
extern bool ReclockKeyMayBeLive(ReclockKeyInfo *ki, const char *key, TimestampTz now);

/* sort orders of the set: key texts (C collation), integer keys */
static inline int
ReclockCompareKeyTexts(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static inline int
ReclockCompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* is the integer key of this row version among the live keys? */
static inline bool
ReclockIntKeyIsLive(ReclockKeyInfo *ki, HeapTuple tuple, TupleDesc desc)
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
	return bsearch(&v, ki->lk_ints, ki->lk_nkeys, sizeof(int64), ReclockCompareInt64) != NULL;
}

/* is the key (canonical text) among the live keys? */
static inline bool
ReclockKeyIsLive(ReclockKeyInfo *ki, const char *key)
{
	return bsearch(&key, ki->lk_keys, ki->lk_nkeys, sizeof(char *), ReclockCompareKeyTexts) != NULL;
}

/*--- tokens.c: does this transaction hold a lock's token? ---*/
extern bool ReclockHoldsToken(int64 fence);

/*--- citusstore.c: the lock stores of protected Citus distributed tables ---*/
extern int	ReclockCitusOwnerBegin(Oid *save_userid, int *save_sec);
extern void ReclockCitusOwnerEnd(Oid save_userid, int save_sec, int level);
extern bool ReclockCitusNotifying(Oid table);
extern void ReclockCitusChildNoticeSend(Relation shardrel, Oid parenttable, Datum dist,
										Oid disttype, const char *payload);
extern void ReclockCitusChildNoticesCopy(Oid relid);
extern void ReclockCitusUtility(Node *stmt);
extern void ReclockCitusChildNoticeHooks(Oid (*parent_of) (Oid relid),
										 void (*notify_send) (Oid relid, const char *payload));
extern void ReclockCitusProtect(Relation rel, ReclockKeyInfo *ki, Relation parent, Oid fkoid);
/* what the guard of a Citus child shard asks of the stores (c-docs) */
typedef struct ReclockCitusShard
{
	bool		protected;		/* the table is protected as a distributed table */
	Oid			locks;			/* its store shards beside the shard */
	Oid			tokens;
	AttrNumber	distatt;		/* the distribution column in the shard */
} ReclockCitusShard;
extern bool ReclockCitusShardStores(Relation shardrel, Oid table, ReclockCitusShard *out);
extern Oid	ReclockCitusShardBeside(Relation shardrel, Oid table, Oid other);
extern bool ReclockCitusColocated(Oid a, Oid b);
extern bool ReclockCitusShardLock(ReclockCitusShard *s, Datum dist, const char *key,
								  ReclockLock *lock, bool *presented);
extern bool ReclockCitusStoreHasLive(Oid locks);
extern void ReclockCitusUnprotect(Relation rel, ReclockCitusKind kind);
extern int	ReclockCitusTriggersBegin(ReclockCitusKind kind);
extern void ReclockCitusTriggersEnd(int level);
extern bool ReclockCitusGuardShard(Relation shardrel, ReclockKeyInfo *ki,
								   struct TriggerData *td, bool require_lock);
extern void ReclockCitusRefuseTruncate(Relation rel, ReclockCitusKind kind);
extern bool ReclockCitusGuardShardTruncate(Relation shardrel, Oid table);
extern bool ReclockCitusRefresh(const pg_uuid_t *token, int64 ttl, TimestampTz *expires_at);
extern void ReclockCitusForget(List *relids);
extern void ReclockCitusDropExtension(void);
extern int64 ReclockCitusChildrenLatest(Relation child, Relation parent, const char *conname,
										int nkeys, const AttrNumber *refattnums,
										const Oid *types, const Datum *values);
extern bool ReclockCitusHasLiveLock(Oid relid);
extern bool ReclockCitusRegistered(Oid relid);
extern Datum ReclockCitusAcquire(Relation rel, ReclockKeyInfo *ki, const char *keytext,
								 const char *holder, int64 ttl, TupleDesc tupdesc);
extern bool ReclockCitusBreak(Relation rel, ReclockKeyInfo *ki, const char *keytext,
							  bool *handled);
extern bool ReclockCitusTokenLive(const pg_uuid_t *token, bool end);
/* change notices of distributed tables (c-notices) */
extern void ReclockCitusNotify(Relation rel, ReclockCitusKind kind, bool enabled);
extern Oid	ReclockCitusShardNotice(Relation shardrel, ReclockKeyInfo *ki,
									struct TriggerData *td, bool *off, char **key,
									char **newkey, ReclockLock *lock);
extern bool ReclockCitusShardNoticeCarry(Relation shardrel, ReclockKeyInfo *ki,
										 struct TriggerData *td, const char *payload);
extern ReclockLock *ReclockCitusLastLock(void);
extern void ReclockCitusNoticesInit(void);

extern void ReclockCitusMakeShardTruncateChecks(Relation rel);
/* c6-addnode: a protected table's stores named by its guard */
extern bool ReclockCitusGuardStores(Oid table, Oid *locks, Oid *tokens);
extern char *ReclockCitusStoresArg(Oid relid);
extern Oid	ReclockCitusTableOfStores(Oid locks);
/* c6-view: reclock_locks and reclock_sweep() over the Citus stores (citusstore.c) */
typedef struct ReclockCitusViewLock
{
	Oid			relid;
	char	   *key;
	char	   *holder;
	char	   *acquired_by;	/* a role name (stores keep names) */
	int64		fence;
	TimestampTz acquired_at;
	TimestampTz expires_at;
} ReclockCitusViewLock;
extern List *ReclockCitusVisibleLocks(TimestampTz now, bool (*visible) (Oid relid));
extern int64 ReclockCitusSweep(TimestampTz now);

/*--- citusref.c: the locks of protected Citus reference tables ---*/
extern bool ReclockCitusRefGuard(Relation rel, ReclockKeyInfo *ki, TriggerData *td,
								 bool require_lock);
extern void ReclockCitusRefProtect(Relation rel, ReclockKeyInfo *ki);
extern void ReclockCitusRefUnprotect(Relation rel, ReclockCitusKind kind);
extern Datum ReclockCitusRefAcquire(Relation rel, ReclockKeyInfo *ki, const char *keytext,
									const char *holder, int64 ttl, TupleDesc tupdesc);
extern bool ReclockCitusRefBreak(Relation rel, ReclockKeyInfo *ki, const char *keytext,
								 bool *handled);
extern bool ReclockCitusRefRefresh(const pg_uuid_t *token, int64 ttl, TimestampTz *expires_at,
								   bool *handled);
extern bool ReclockCitusRefTruncate(Relation rel, ReclockCitusKind kind, Oid table);

/*--- notify.c: change notices ---*/
extern char *ReclockNotifyChildPayload(Oid relid, const char *key, Oid childid,
									   ReclockLock *lock);
extern bool ReclockNotifyOn(ReclockKeyInfo *ki);
extern bool ReclockNotifyOnRelid(Oid rootid);
extern void ReclockNotify(const char *event, Oid relid, const char *key,
						  const char *new_key, ReclockLock *lock);
extern void ReclockNotifyChild(Oid relid, const char *key, Oid childid,
							   ReclockLock *lock);
extern char *ReclockNotifyPayload(const char *event, Oid relid, const char *key,
								  const char *new_key, ReclockLock *lock);
extern void ReclockNotifySend(Oid relid, const char *payload);

/*--- links.c: child tables' links to their parents, chains ---*/
extern Oid	ReclockGuardParentOf(Oid relid);
/* a child table's foreign key to its parent, as its guard uses it */
typedef struct ReclockChildLink
{
	Oid			relid;			/* the child relation (hash key; maybe a partition) */
	bool		valid;
	char		conname[NAMEDATALEN];	/* the foreign key, on the child's root */
	Oid			conoid;
	Oid			parentid;		/* the parent table (root of its partition tree) */
	int			nkeys;
	AttrNumber	attnums[INDEX_MAX_KEYS];	/* foreign-key columns (relid's numbering) */
	Oid			fktypes[INDEX_MAX_KEYS];
	int16		typlens[INDEX_MAX_KEYS];
	bool		typbyvals[INDEX_MAX_KEYS];
	AttrNumber	refattnums[INDEX_MAX_KEYS]; /* the parent's key columns they reference */
	Oid			pfeqops[INDEX_MAX_KEYS];	/* parent column = foreign-key column */
	bool		int_key;		/* one int2, int4 or int8 column */
	bool		rights_checked; /* its owner may update every table above */
} ReclockChildLink;

extern const char *ReclockTriggerParentFk(Trigger *trigger);
extern uint64 ReclockChildLinkGeneration(void);
extern ReclockChildLink *ReclockGetChildLink(Relation rel, const char *conname, bool firing);
extern ReclockChildLink *ReclockChildLinkOf(Relation rel);
extern List *ReclockOwnForeignKeys(Relation rel);
extern char *ReclockChildValidate(Relation rel, Relation parent, const char *parent_fk,
								  Oid *fkoid);
extern bool ReclockChildNoticesWanted(Oid rootid, Oid known_relid, bool known_on);
extern List *ReclockChildTablesOf(Oid parentid);

/*--- children.c: documents (a parent row's lock covers its child rows) ---*/
extern bool ReclockCitusChildShardNotices(Relation shardrel, ReclockKeyInfo *ki,
										  TriggerData *td);
extern bool ReclockChildGuard(Relation rel, const char *conname, TriggerData *td,
							  bool require_lock);
extern void ReclockChildTruncateCheck(Relation rel);
extern void ReclockChildNotices(Relation rel, HeapTuple oldtup, HeapTuple newtup);
/* the guard of a shard of a Citus child table (c-docs) */
extern bool ReclockCitusChildGuard(Relation shardrel, ReclockKeyInfo *ki, const char *conname,
								   TriggerData *td, bool require_lock, bool *covered);
extern void ReclockCitusChildTruncate(Relation shardrel, Oid table);

/*--- guard.c: the triggers (SQL entry points only) ---*/

/*--- protect.c: reclock_protect, reclock_unprotect, reclock_notify ---*/
extern void ReclockRefreshNoticeTrigger(Oid relid, Oid known_relid, bool known_on);
extern void ReclockGuardNewPartition(Oid relid);

/*--- acquire.c: acquire, release, refresh, break, locks (SQL entry points only) ---*/

/*--- cas.c: compare-and-swap, diff (SQL entry points only) ---*/

/*--- ddl.c: the DDL watch (SQL entry points only) ---*/

/*--- init.c: _PG_init (reclock.c's settings, then the hooks of the files above it) ---*/

#endif							/* RECLOCK_H */
