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
 * The other triggers are here too: reclock_guard_truncate and
 * reclock_notice (the AFTER trigger that queues change notices through
 * notify.c).  protect.c adds and drops them.
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
PG_FUNCTION_INFO_V1(reclock_notice);

/* also the constraint name of every refusal (PG_DIAG_CONSTRAINT_NAME) */
#define GUARD_TRIGGER		RECLOCK_GUARD_TRIGGER
#define TRUNCATE_TRIGGER	RECLOCK_TRUNCATE_TRIGGER

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

/*
 * An UPDATE that changes the row's key: refused under another's live lock
 * on the new key; the writer's own lock (lock, found) goes with the row.
 */
static void
guard_key_change(Relation rel, ReclockKeyInfo *ki, const char *key,
				 const char *newkey, TimestampTz now, ReclockLock *lock)
{
	ReclockLock target;
	TimestampTz tnow = now;

	if (ReclockStoreGetSettled(ki->rootid, newkey, &tnow, &target) &&
		target.expires_at > tnow && !ReclockHoldsToken(target.fence))
		refuse_locked(rel, newkey, &target);
	if (lock->found)
	{
		ReclockStoreMoveKey(ki->rootid, key, newkey, now);
		remember_moved(ki->rootid, key);
		RECLOCK_TEST_PAUSE("guard:after_key_move");
	}
}

/*
 * The guard's call checked (39P01 unless BEFORE ... FOR EACH ROW, on
 * UPDATE or DELETE, or INSERT of a child table), and its arguments:
 * 'require_lock', and a child table's 'parent_fk=<name>'.
 */
static void
guard_trigger_args(FunctionCallInfo fcinfo, bool *require_lock,
				   const char **parent_fk)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	int			i;

	*require_lock = false;
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard: not called by trigger manager")));
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard: must be fired before event, for each row")));
	/* arguments: 'require_lock', and a child table's 'parent_fk=<name>' */
	for (i = 0; i < td->tg_trigger->tgnargs; i++)
		if (strcmp(td->tg_trigger->tgargs[i], "require_lock") == 0)
			*require_lock = true;
	*parent_fk = ReclockTriggerParentFk(td->tg_trigger);
	if (!TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		!TRIGGER_FIRED_BY_DELETE(td->tg_event) &&
		!(*parent_fk != NULL && TRIGGER_FIRED_BY_INSERT(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_guard: must be fired for UPDATE or DELETE (or INSERT of a child table)")));
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

	guard_trigger_args(fcinfo, &require_lock, &parent_fk);

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
		/* a shard of a distributed child table: by the shards beside it */
		if (!(unlikely(ki->citus == RECLOCK_CITUS_SHARD) &&
			  ReclockCitusChildGuard(rel, ki, parent_fk, trigdata, require_lock, &covered)))
		{
			refuse_citus(rel, ki, trigdata->tg_trigger->tgname);
			covered = ReclockChildGuard(rel, parent_fk, trigdata, require_lock);
		}

		if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
			return PointerGetDatum(trigdata->tg_trigtuple);
		if (covered)
			require_lock = false;
	}

	ki = ReclockGetKeyInfo(rel);
	/* a shard of a protected distributed table: judged by its node's stores */
	if (unlikely(ki->citus == RECLOCK_CITUS_SHARD) &&
		(ReclockCitusGuardShard(rel, ki, trigdata, require_lock) ||
		 ReclockCitusRefGuard(rel, ki, trigdata, require_lock)))
		return PointerGetDatum(TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ?
							   trigdata->tg_trigtuple : trigdata->tg_newtuple);
	refuse_citus(rel, ki, trigdata->tg_trigger->tgname);
	now = ReclockNow();

	/*
	 * The fast path: neither the row's key nor its new key has a live lock
	 * (no live lock in the table at all: not even a key to make).  Nothing
	 * to check, nothing to move.
	 */
	if (!require_lock && ReclockLiveKeysKnown(ki, now))
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
			if (!ReclockIntKeyIsLive(ki, trigdata->tg_trigtuple, desc) &&
				(TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
				 !ReclockIntKeyIsLive(ki, trigdata->tg_newtuple, desc)))
				return PointerGetDatum(pass);
		}
		else if (!ReclockKeyIsLive(ki, (key = ReclockTupleKey(ki, trigdata->tg_trigtuple, desc))))
		{
			if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
				ReclockKeyUnchanged(ki, trigdata->tg_trigtuple, trigdata->tg_newtuple, desc))
				return PointerGetDatum(pass);
			newkey = ReclockNewTupleKey(ki, trigdata->tg_newtuple, desc);
			if (newkey == NULL || !ReclockKeyIsLive(ki, newkey))
				return PointerGetDatum(pass);
		}
	}

	if (key == NULL)
		key = ReclockTupleKey(ki, trigdata->tg_trigtuple, desc);

	guard_row(rel, ki, key, require_lock, &now, &lock);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);

	if (newkey == NULL)
		newkey = ReclockKeyUnchanged(ki, trigdata->tg_trigtuple,
									 trigdata->tg_newtuple, desc) ? key :
			ReclockNewTupleKey(ki, trigdata->tg_newtuple, desc);
	if (newkey == NULL)
		return PointerGetDatum(trigdata->tg_newtuple);	/* 23502 follows */
	if (strcmp(newkey, key) != 0)
		guard_key_change(rel, ki, key, newkey, now, &lock);
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

		/* a protected reference table or its placement (citusref.c) */
		if (ReclockCitusRefTruncate(rel, kind, table))
			return PointerGetDatum(NULL);
		ReclockCitusRefuseTruncate(rel, kind);
		/*
		 * A shard: judged by the lock store shard beside it if its table is
		 * protected as a distributed table; else refused if the table still
		 * has reclock's guard here (protected before Citus distributed it:
		 * its locks are not beside the shards); else a check left behind
		 * on the shards of a table no longer protected, which guards nothing.
		 */
		if (kind == RECLOCK_CITUS_SHARD &&
			((ReclockCitusGuardShardTruncate(rel, table) &&
			  (ReclockCitusChildTruncate(rel, table), true)) ||
			 (OidIsValid(table) &&
			  !OidIsValid(get_trigger_oid(table, GUARD_TRIGGER, true)))))
			return PointerGetDatum(NULL);
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
 * reclock_notice() returns trigger: AFTER UPDATE OR DELETE FOR EACH ROW on a
 * table whose notices are on (reclock_notify adds and removes it).  A notice
 * describes a row that was written: an AFTER trigger fires only for rows
 * that were (a BEFORE trigger of the user that skipped the row, a CAS that
 * wrote nothing, send nothing), and on any table, guarded or not.  The
 * holder is that of the row's live lock if the writer presented its token
 * (after a key change: the lock the guard carried to the new key).
 */
Datum
reclock_notice(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	ReclockKeyInfo *ki;
	char	   *key;
	char	   *newkey = NULL;
	ReclockLock lock;
	TimestampTz now;
	bool		deleted;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_notice() must be fired AFTER INSERT, UPDATE OR DELETE FOR EACH ROW")));
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	deleted = TRIGGER_FIRED_BY_DELETE(trigdata->tg_event);

	/*
	 * a child row: the notices of the notifying rows above it (c6-childnotices:
	 * on a shard of a Citus table, through the shards beside it)
	 */
	ki = ReclockGetKeyInfo(rel);
	if (!(unlikely(ki->citus == RECLOCK_CITUS_SHARD) &&
		  ReclockCitusChildShardNotices(rel, ki, trigdata)))
		ReclockChildNotices(rel,
						TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ? NULL : trigdata->tg_trigtuple,
						TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ? trigdata->tg_trigtuple :
						TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : NULL);
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		return PointerGetDatum(NULL);
	ki = ReclockGetKeyInfo(rel);
	/* a shard of a protected distributed table: sent here or carried (citusstore.c) */
	if (unlikely(ki->citus == RECLOCK_CITUS_SHARD))
	{
		bool		off;
		Oid			table = ReclockCitusShardNotice(rel, ki, trigdata, &off, &key, &newkey, &lock);

		if (OidIsValid(table))
		{
			if (!off)
			{
				char	   *p = ReclockNotifyPayload(deleted ? "deleted" : "updated",
													 table, key, newkey, &lock);

				if (!ReclockCitusShardNoticeCarry(rel, ki, trigdata, p))
					ReclockNotifySend(table, p);
			}
			return PointerGetDatum(NULL);
		}
	}
	if (!ReclockNotifyOn(ki))
		return PointerGetDatum(NULL);	/* off (or turned off in this transaction) */
	key = ReclockTupleKey(ki, trigdata->tg_trigtuple, desc);
	if (!deleted && !ReclockKeyUnchanged(ki, trigdata->tg_trigtuple,
										 trigdata->tg_newtuple, desc))
		newkey = ReclockNewTupleKey(ki, trigdata->tg_newtuple, desc);
	if (newkey != NULL && strcmp(newkey, key) == 0)
		newkey = NULL;
	now = ReclockNow();
	if (!ReclockStoreGetSettled(ki->rootid, newkey ? newkey : key, &now, &lock) ||
		lock.expires_at <= now || !ReclockHoldsToken(lock.fence))
		lock.found = false;
	ReclockNotify(deleted ? "deleted" : "updated", ki->rootid, key, newkey, &lock);
	return PointerGetDatum(NULL);
}
