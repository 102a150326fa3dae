/*-------------------------------------------------------------------------
 *
 * citusref.c
 *	  The locks of protected Citus reference tables (issue 24,
 *	  docs/citus.md F14 and "Reference tables and Citus local tables").
 *
 * A reference row lives on every placement (one per node), and a writer of
 * the row, routed by Citus or connected to one node directly, locks it on
 * the placement it writes (F2, F6).  So a grant must meet every writer on
 * every node.  reclock_protect of a reference table T makes two reference
 * tables in reclock's schema:
 *
 *   reclock_store_<oid>_locks (dist, key, holder, acquired_by, fence,
 *                              acquired_at, expires_at), PRIMARY KEY (dist, key)
 *   reclock_store_<oid>_tokens (dist, hash, fence, key), PRIMARY KEY (dist, hash)
 *
 * (dist is always 0: the shape of a distributed table's stores, so that
 * reclock_valid and reclock_release find a token in either by the same
 * fan-out, citusstore.c).  The lock store carries a row trigger,
 * reclock_citus_ref_meet, that fires on each placement in the local
 * transaction writing that placement's grant and locks T's row FOR UPDATE
 * on the same node's placement of T.  Every write of the stores goes
 * through Citus from the coordinator (never one placement): a reference
 * modification is one local transaction per node, prepared and committed
 * by 2PC, so on every node the grant and the row lock are made in one
 * local transaction, and the single-node ordering argument holds per
 * placement: a writer of the row on that node either locked it before the
 * grant (the trigger waits for it) or waits for the grant's local
 * transaction and then reads the store placement with a fresh snapshot.
 *
 * Every replica must take the same decision: the acquire is one
 * INSERT ... ON CONFLICT DO UPDATE ... WHERE whose values (fence, token
 * hash, the time, the expiry, the role) are fixed on the coordinator, and
 * whose WHERE reads only the store row, the same on every replica (Citus
 * orders writes of a reference shard).  A same-holder extension or a
 * refresh that reaches a node after the grant ran out there by that node's
 * clock fails (40001) instead of reviving it: the trigger checks it after
 * locking the row.
 *
 * With reclock.reentry = token, a same-holder acquire must present a token
 * of the grant: the fences of the presented tokens are read on the
 * coordinator and sent as a constant (a token's fence never changes).
 *
 * IDENTIFICATION
 *	  src/citusref.c
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
#include "access/heapam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "reclock.h"

#define REGISTRY	"reclock_citus_tables"
#define MEET_TRIGGER "reclock_citus_ref_meet"

static void
run_sql(const char *sql, int expected)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != expected)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
}

static char *
qualified(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

static char *
registry_name(void)
{
	return quote_qualified_identifier(get_namespace_name(ReclockExtensionSchema()), REGISTRY);
}

/* a table in SQL sent to every node: by its name, as a regclass constant */
static char *
regclass_literal(Oid relid)
{
	return psprintf("%s::pg_catalog.regclass", quote_literal_cstr(qualified(relid)));
}

static Datum
getattr_named(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return heap_getattr(tup, i + 1, desc, isnull);
	*isnull = true;
	return (Datum) 0;
}

/* the one shard of a reference table (pg_dist_shard), or 0 */
static int64
ref_shardid(Oid logical)
{
	Oid			relid = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	AttrNumber	attnum;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	int64		shardid = 0;

	if (!OidIsValid(relid) || (attnum = get_attnum(relid, "logicalrelid")) == InvalidAttrNumber)
		return 0;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, attnum, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(logical));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;

		shardid = DatumGetInt64(getattr_named(tup, RelationGetDescr(rel), "shardid", &isnull));
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return shardid;
}

/*
 * The placement of a reference table on this node: <table>_<shardid> in the
 * table's schema, or, for a name Citus shortened and hashed (too long for
 * the suffix), the relation of that schema whose name ends in _<shardid>
 * and that citus.c knows as a shard of the table.
 */
static Oid
ref_placement(Oid logical)
{
	int64		shardid = ref_shardid(logical);
	char	   *name = get_rel_name(logical);
	char	   *suffix;
	Oid			relid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	if (shardid == 0 || name == NULL)
		return InvalidOid;
	suffix = psprintf("_" INT64_FORMAT, shardid);
	relid = get_relname_relid(psprintf("%s%s", name, suffix), get_rel_namespace(logical));
	if (OidIsValid(relid) || strlen(name) + strlen(suffix) < NAMEDATALEN)
		return relid;
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		size_t		len = strlen(NameStr(c->relname));
		Oid			table;
		bool		unsure;

		if (c->relkind == RELKIND_RELATION &&
			c->relnamespace == get_rel_namespace(logical) && len > strlen(suffix) &&
			strcmp(NameStr(c->relname) + len - strlen(suffix), suffix) == 0 &&
			ReclockCitusKindOf(c->oid, &table, &unsure) == RECLOCK_CITUS_SHARD &&
			table == logical)
		{
			relid = c->oid;
			break;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return relid;
}

/*
 * The registry row (read in its placement on this node) whose column
 * bycol is value: its table and stores, by this node's OIDs.
 */
static bool
registry_row(const char *bycol, Oid value, Oid *tbl, Oid *locks, Oid *tokens)
{
	Oid			registry = get_relname_relid(REGISTRY, ReclockExtensionSchema());
	Oid			placement;
	Relation	rel;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	bool		found = false;

	if (!OidIsValid(registry) || !OidIsValid(placement = ref_placement(registry)))
		return false;
	rel = table_open(placement, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;

		if (DatumGetObjectId(getattr_named(tup, desc, bycol, &isnull)) != value)
			continue;
		*tbl = DatumGetObjectId(getattr_named(tup, desc, "tbl", &isnull));
		*locks = DatumGetObjectId(getattr_named(tup, desc, "locks", &isnull));
		*tokens = DatumGetObjectId(getattr_named(tup, desc, "tokens", &isnull));
		found = true;
		break;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

/* is T a reference table protected with reference stores?  (its stores out) */
static bool
ref_registered(Oid table, Oid *locks, Oid *tokens)
{
	Oid			tbl;
	Oid			t;
	bool		unsure;

	if (!OidIsValid(get_extension_oid("citus", true)) ||
		ReclockCitusKindOf(table, &t, &unsure) != RECLOCK_CITUS_REFERENCE)
		return false;
	/*
	 * c6-addnode: the registry's placement is right on the coordinator only
	 * (a node added later gets it by binary copy, with the coordinator's
	 * OIDs); a worker finds the stores through T's guard (citusstore.c)
	 */
	if (ReclockCitusOnCoordinator())
		return registry_row("tbl", table, &tbl, locks, tokens);
	return ReclockCitusGuardStores(table, locks, tokens);
}

/* the table and stores of lock store locks on this node (as ref_registered) */
static bool
ref_of_store(Oid locks, Oid *tbl, Oid *locksout, Oid *tokens)
{
	if (ReclockCitusOnCoordinator())
		return registry_row("locks", locks, tbl, locksout, tokens);
	return OidIsValid(*tbl = ReclockCitusTableOfStores(locks)) &&
		ReclockCitusGuardStores(*tbl, locksout, tokens);
}

/*---------------------------------------------------------------------------
 * The guard on a placement of a protected reference table, on any node:
 * the row's lock in the lock store's placement on this node, read with a
 * fresh snapshot after the row was locked for the write.
 *---------------------------------------------------------------------------
 */
typedef struct RefStores
{
	LocalTransactionId lxid;
	Oid			placement;		/* the placement the guard fired on */
	Oid			table;
	bool		protected;
	Oid			locks;			/* the store placements on this node */
	Oid			tokens;
} RefStores;

static RefStores last_ref;

static RefStores *
ref_stores(Relation placement, Oid table)
{
	RefStores  *rs = &last_ref;
	Oid			locks;
	Oid			tokens;

	if (rs->lxid == MY_LXID && rs->placement == RelationGetRelid(placement))
		return rs;
	memset(rs, 0, sizeof(*rs));
	if (ref_registered(table, &locks, &tokens))
	{
		rs->locks = ref_placement(locks);
		rs->tokens = ref_placement(tokens);
		if (!OidIsValid(rs->locks) || !OidIsValid(rs->tokens))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errtableconstraint(placement, RECLOCK_GUARD_TRIGGER),
					 errmsg("cannot write to table \"%s\": its lock store is not on this node",
							get_rel_name(table)),
					 errdetail("Placement \"%s\" of a protected reference table has no lock store placement beside it here.",
							   RelationGetRelationName(placement)),
					 errhint("Protect the table again with reclock_protect() on the coordinator.")));
		rs->protected = true;
	}
	rs->lxid = MY_LXID;
	rs->placement = RelationGetRelid(placement);
	rs->table = table;
	return rs;
}

/* probe a store placement's primary key (0, second) with a fresh snapshot */
static bool
probe(Oid storeid, Datum second, bool second_is_text,
	  void (*fn) (HeapTuple tup, TupleDesc desc, void *arg), void *arg)
{
	Relation	rel = table_open(storeid, AccessShareLock);
	Oid			indexid = ReclockPrimaryKeyIndex(rel);
	ScanKeyData keys[2];
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(0));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   C_COLLATION_OID, second_is_text ? F_TEXTEQ : F_BYTEAEQ, second);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, indexid, OidIsValid(indexid), snapshot, 2, keys);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		found = true;
		if (fn)
			fn(tup, RelationGetDescr(rel), arg);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

typedef struct RefLock
{
	char	   *holder;
	int64		fence;
	TimestampTz expires_at;
} RefLock;

static void
read_lock(HeapTuple tup, TupleDesc desc, void *arg)
{
	RefLock    *rl = (RefLock *) arg;
	bool		isnull;

	rl->holder = TextDatumGetCString(getattr_named(tup, desc, "holder", &isnull));
	rl->fence = DatumGetInt64(getattr_named(tup, desc, "fence", &isnull));
	rl->expires_at = DatumGetTimestampTz(getattr_named(tup, desc, "expires_at", &isnull));
}

static void
read_fence(HeapTuple tup, TupleDesc desc, void *arg)
{
	bool		isnull;

	*(int64 *) arg = DatumGetInt64(getattr_named(tup, desc, "fence", &isnull));
}

static bool
live_lock(RefStores *rs, const char *key, TimestampTz now, RefLock *rl)
{
	return probe(rs->locks, CStringGetTextDatum(key), true, read_lock, rl) &&
		rl->expires_at > now;
}

/* has this transaction presented a token of grant fence? */
static bool
holds_token(RefStores *rs, int64 fence)
{
	const uint8 *hashes;
	uint64		generation;
	int			n = ReclockPresentedTokens(&hashes, &generation);
	int			i;

	for (i = 0; i < n; i++)
	{
		bytea	   *h = palloc(VARHDRSZ + RECLOCK_HASH_LEN);
		int64		tfence = 0;

		SET_VARSIZE(h, VARHDRSZ + RECLOCK_HASH_LEN);
		memcpy(VARDATA(h), hashes + i * RECLOCK_HASH_LEN, RECLOCK_HASH_LEN);
		if (probe(rs->tokens, PointerGetDatum(h), false, read_fence, &tfence) &&
			tfence == fence)
			return true;
	}
	return false;
}

/*
 * The guard fired on a placement of a Citus table (ki->citus_table): judge
 * the row by the store placements on this node and return true, or return
 * false when the table is not a reference table protected with reference
 * stores (the caller refuses).  UPDATE or DELETE only.
 */
bool
ReclockCitusRefGuard(Relation rel, ReclockKeyInfo *ki, TriggerData *td, bool require_lock)
{
	RefStores  *rs = ref_stores(rel, ki->citus_table);
	TupleDesc	desc = RelationGetDescr(rel);
	TimestampTz now;
	char	   *key;
	RefLock		rl;
	bool		live;

	if (!rs->protected)
		return false;
	key = ReclockTupleKey(ki, td->tg_trigtuple, desc);
	now = ReclockNow();
	live = live_lock(rs, key, now, &rl);
	if (live && !holds_token(rs, rl.fence))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
				 errmsg("row %s of table \"%s\" is locked by \"%s\" until %s",
						key, get_rel_name(rs->table), rl.holder,
						timestamptz_to_str(rl.expires_at - rl.expires_at % USECS_PER_SEC)),
				 errdetail("Only a transaction that presents the lock's token may update or delete the row."),
				 errhint("Present the token in the writing transaction with SELECT set_config('reclock.token', <token>, true).")));
	if (!live && require_lock)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
				 errmsg("row %s of table \"%s\" is not locked", key, get_rel_name(rs->table)),
				 errdetail("The table is protected with require_lock: every update or delete needs a live lock."),
				 errhint("Acquire the row with reclock_acquire() and present its token with set_config('reclock.token', <token>, true).")));
	/* a key change with a live lock on either key: not carried yet, refused */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		!ReclockKeyUnchanged(ki, td->tg_trigtuple, td->tg_newtuple, desc))
	{
		char	   *newkey = ReclockNewTupleKey(ki, td->tg_newtuple, desc);
		RefLock		target;

		if (newkey != NULL && strcmp(newkey, key) != 0 &&
			(live || live_lock(rs, newkey, now, &target)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
					 errmsg("cannot change the key of row %s of Citus reference table \"%s\": a live lock stands on the old or the new key",
							key, get_rel_name(rs->table)),
					 errdetail("reclock does not carry a lock to a new key on a reference table yet.")));
	}
	return true;
}

/*---------------------------------------------------------------------------
 * The meeting point: the lock store's row trigger, on every placement.
 *---------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(reclock_citus_ref_meet);

/*
 * BEFORE INSERT OR UPDATE FOR EACH ROW on a reference lock store's
 * placement: lock the granted row FOR UPDATE in the protected table's
 * placement on this node, in this local transaction (so a writer in flight
 * is waited for, and a later writer waits for this transaction); an
 * extension of a grant (same fence) that ran out here first fails.
 */
Datum
reclock_citus_ref_meet(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	store;
	HeapTuple	newtup;
	TupleDesc	sdesc;
	Oid			storetable;
	Oid			tbl;
	Oid			locks;
	Oid			tokens;
	bool		unsure;
	bool		isnull;
	char	   *key;
	Oid			placement;
	Relation	rel;
	ReclockKeyInfo *ki;
	Datum	   *keyvals;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("reclock_citus_ref_meet: must be fired before insert or update, for each row")));
	store = td->tg_relation;
	sdesc = RelationGetDescr(store);
	newtup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	if (ReclockCitusKindOf(RelationGetRelid(store), &storetable, &unsure) != RECLOCK_CITUS_SHARD ||
		!ref_of_store(storetable, &tbl, &locks, &tokens) ||
		!OidIsValid(placement = ref_placement(tbl)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" is not a placement of the lock store of a protected reference table on this node",
						RelationGetRelationName(store))));
	key = TextDatumGetCString(getattr_named(newtup, sdesc, "key", &isnull));

	/* the row, FOR UPDATE, in this node's placement, in this local transaction */
	rel = table_open(placement, AccessShareLock);
	ki = ReclockGetKeyInfo(rel);
	keyvals = palloc(sizeof(Datum) * ki->nkeys);
	(void) ReclockCanonicalKey(ki, key, keyvals);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		Oid		   *types = palloc(sizeof(Oid) * ki->nkeys);

		for (i = 0; i < ki->nkeys; i++)
			types[i] = ki->typids[i];
		if (SPI_execute_with_args(psprintf("SELECT FROM %s WHERE %s FOR UPDATE",
										   ReclockRelationSql(rel), ReclockKeyWhereSql(ki)),
								  ki->nkeys, types, keyvals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not lock row %s", key);
	}
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no row with key %s in table \"%s\" on this node", key, get_rel_name(tbl)),
				 errdetail("A reference table's row is locked on every node; placement \"%s\" does not have it.",
						   RelationGetRelationName(rel))));
	SPI_finish();
	table_close(rel, AccessShareLock);

	/* an extension (same fence): the grant must still live here, after the row lock */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		int64		oldfence = DatumGetInt64(getattr_named(td->tg_trigtuple, sdesc, "fence", &isnull));
		int64		newfence = DatumGetInt64(getattr_named(newtup, sdesc, "fence", &isnull));
		TimestampTz old_expires = DatumGetTimestampTz(getattr_named(td->tg_trigtuple, sdesc, "expires_at", &isnull));

		if (oldfence == newfence && old_expires <= ReclockNow())
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("lock on row %s of table \"%s\" expired on this node before it was extended",
							key, get_rel_name(tbl)),
					 errdetail("The lock ran out at %s; an expired lock is dead for good.",
							   timestamptz_to_str(old_expires)),
					 errhint("Acquire the row again; keep node clocks in sync.")));
	}
	return PointerGetDatum(newtup);
}

/*---------------------------------------------------------------------------
 * protect, unprotect (on the coordinator)
 *---------------------------------------------------------------------------
 */
static void
make_ref_stores(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	const char *schema = quote_identifier(get_namespace_name(ReclockExtensionSchema()));
	const char *registry = registry_name();
	char	   *locks;
	char	   *tokens;
	Oid			save_userid;
	int			save_sec;
	int			level;
	int			tlevel;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = ReclockCitusOwnerBegin(&save_userid, &save_sec);
	/* the registry becomes a reference table with the first store */
	run_sql(psprintf("SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = '%s'::pg_catalog.regclass",
					 registry), SPI_OK_SELECT);
	if (SPI_processed == 0)
		run_sql(psprintf("SELECT pg_catalog.create_reference_table('%s')", registry), SPI_OK_SELECT);
	run_sql(psprintf("SELECT 1 FROM %s WHERE tbl = %s", registry, regclass_literal(relid)), SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		ReclockCitusOwnerEnd(save_userid, save_sec, level);
		SPI_finish();
		return;
	}
	locks = psprintf("%s.%s", schema, quote_identifier(psprintf("reclock_store_%u_locks", relid)));
	tokens = psprintf("%s.%s", schema, quote_identifier(psprintf("reclock_store_%u_tokens", relid)));
	run_sql(psprintf("CREATE TABLE %s ("
					 "dist pg_catalog.int4 NOT NULL DEFAULT 0 CHECK (dist = 0),"
					 " key pg_catalog.text COLLATE \"C\" NOT NULL,"
					 " holder pg_catalog.text NOT NULL,"
					 " acquired_by pg_catalog.text NOT NULL,"
					 " fence pg_catalog.int8 NOT NULL,"
					 " acquired_at pg_catalog.timestamptz NOT NULL,"
					 " expires_at pg_catalog.timestamptz NOT NULL,"
					 " PRIMARY KEY (dist, key)) USING heap", locks), SPI_OK_UTILITY);
	run_sql(psprintf("CREATE TABLE %s ("
					 "dist pg_catalog.int4 NOT NULL DEFAULT 0 CHECK (dist = 0),"
					 " hash pg_catalog.bytea NOT NULL,"
					 " fence pg_catalog.int8 NOT NULL,"
					 " key pg_catalog.text COLLATE \"C\" NOT NULL,"
					 " PRIMARY KEY (dist, hash)) USING heap", tokens), SPI_OK_UTILITY);
	run_sql(psprintf("CREATE INDEX ON %s (key)", tokens), SPI_OK_UTILITY);
	run_sql(psprintf("REVOKE ALL ON %s, %s FROM PUBLIC", locks, tokens), SPI_OK_UTILITY);
	run_sql(psprintf("SELECT pg_catalog.create_reference_table('%s')", locks), SPI_OK_SELECT);
	run_sql(psprintf("SELECT pg_catalog.create_reference_table('%s')", tokens), SPI_OK_SELECT);
	tlevel = ReclockCitusTriggersBegin(RECLOCK_CITUS_REFERENCE);
	run_sql(psprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s.%s()",
					 MEET_TRIGGER, locks, schema, MEET_TRIGGER), SPI_OK_UTILITY);
	ReclockCitusTriggersEnd(tlevel);
	run_sql(psprintf("INSERT INTO %s (tbl, locks, tokens) VALUES (%s, '%s', '%s')",
					 registry, quote_literal_cstr(qualified(relid)), locks, tokens),
			SPI_OK_INSERT);
	ReclockCitusOwnerEnd(save_userid, save_sec, level);
	SPI_finish();
}

/*
 * reclock_protect of rel: a Citus reference table gets its reference
 * stores, the meeting trigger, and the TRUNCATE check on every placement
 * (citusstore.c makes it as for a distributed table's shards).
 */
void
ReclockCitusRefProtect(Relation rel, ReclockKeyInfo *ki)
{
	if (ki->citus != RECLOCK_CITUS_REFERENCE)
		return;
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot protect Citus reference table \"%s\": it is partitioned",
						RelationGetRelationName(rel))));
	ReclockCitusMakeShardTruncateChecks(rel);
	make_ref_stores(rel);
}

/* reclock_unprotect of a reference table: its stores and registry row go */
void
ReclockCitusRefUnprotect(Relation rel, ReclockCitusKind kind)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			locks;
	Oid			tokens;
	Oid			save_userid;
	int			save_sec;
	int			level;

	if (kind != RECLOCK_CITUS_REFERENCE || !ref_registered(relid, &locks, &tokens))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = ReclockCitusOwnerBegin(&save_userid, &save_sec);
	run_sql(psprintf("DELETE FROM %s WHERE tbl = %s", registry_name(), regclass_literal(relid)), SPI_OK_DELETE);
	run_sql(psprintf("DROP TABLE %s, %s", qualified(locks), qualified(tokens)), SPI_OK_UTILITY);
	ReclockCitusOwnerEnd(save_userid, save_sec, level);
	SPI_finish();
}

/*---------------------------------------------------------------------------
 * acquire, break, refresh (on the coordinator; every write through Citus)
 *---------------------------------------------------------------------------
 */
static void
refuse_not_coordinator(Relation rel, const char *fname)
{
	if (!ReclockCitusOnCoordinator())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of Citus reference table \"%s\" on a worker",
						RelationGetRelationName(rel)),
				 errdetail("%s runs on the Citus coordinator only.", fname),
				 errhint("Connect to the coordinator and call %s there.", fname)));
}

/*
 * reclock_acquire of a protected reference table, after acquire's checks
 * of the arguments, the table and the caller's UPDATE right: the result
 * row (acquired, token, holder, expires_at, fence).
 */
Datum
ReclockCitusRefAcquire(Relation rel, ReclockKeyInfo *ki, const char *keytext,
					   const char *holder, int64 ttl, TupleDesc tupdesc)
{
	int			exact;			/* ReclockCitusExactTextBegin() level */
	Oid			locks;
	Oid			tokens;
	int			n = ki->nkeys;
	Datum	   *keyvals = palloc(sizeof(Datum) * n);
	Oid		   *types = palloc(sizeof(Oid) * n);
	char	   *key;
	pg_uuid_t  *token = palloc(sizeof(pg_uuid_t));
	uint8		hashbuf[RECLOCK_HASH_LEN];
	bytea	   *hash = palloc(VARHDRSZ + RECLOCK_HASH_LEN);
	int64		fence;
	TimestampTz now;
	Datum		result[5];
	bool		nulls[5] = {false, false, false, false, false};
	bool		acquired;
	bool		isnull;
	int			i;
	Oid			save_userid;
	int			save_sec;
	int			level;
	MemoryContext callercxt = CurrentMemoryContext;
	HeapTuple	tup;
	Datum		presented;

	refuse_not_coordinator(rel, "reclock_acquire()");
	if (!ref_registered(RelationGetRelid(rel), &locks, &tokens) &&
		OidIsValid(get_trigger_oid(RelationGetRelid(rel), RECLOCK_GUARD_TRIGGER, true)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of Citus reference table \"%s\": it was protected before Citus made it a reference table",
						RelationGetRelationName(rel)),
				 errdetail("Its guard on the placements refuses every write: its locks are in the coordinator's lock table, not in reference stores."),
				 errhint("Protect it again: SELECT reclock_unprotect('%s'), then reclock_protect('%s') (with citus.enable_unsafe_triggers on for the unprotect).",
						 RelationGetRelationName(rel), RelationGetRelationName(rel))));
	if (!ref_registered(RelationGetRelid(rel), &locks, &tokens))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of Citus reference table \"%s\": it is not protected",
						RelationGetRelationName(rel)),
				 errdetail("The locks of a reference table live in reference stores with a trigger on every node, which reclock_protect() makes."),
				 errhint("Protect the table first: SELECT reclock_protect('%s').", RelationGetRelationName(rel))));
	key = ReclockCanonicalKey(ki, keytext, keyvals);
	for (i = 0; i < n; i++)
		types[i] = ki->typids[i];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	exact = ReclockCitusExactTextBegin();	/* parameters travel as text */
	/* the row as the caller sees it (P0002 if not), its key as the guard makes it */
	if (SPI_execute_with_args(psprintf("SELECT %s FROM %s WHERE %s",
									   ReclockColumnListSql(RelationGetRelid(rel), n, ki->attnums),
									   ReclockRelationSql(rel), ReclockKeyWhereSql(ki)),
							  n, types, keyvals, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read row %s", key);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no row with key %s in table \"%s\"", key, RelationGetRelationName(rel))));
	{
		bool	   *knulls = palloc(sizeof(bool) * n);

		for (i = 0; i < n; i++)
			keyvals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &knulls[i]);
		key = ReclockKeyText(ki, keyvals, knulls);
	}

	/* every value of the grant fixed here, the same for every replica */
	ReclockNewToken(token);
	ReclockHashToken(token, hashbuf);
	SET_VARSIZE(hash, VARHDRSZ + RECLOCK_HASH_LEN);
	memcpy(VARDATA(hash), hashbuf, RECLOCK_HASH_LEN);
	fence = ReclockStoreNextFence();
	now = ReclockNow();

	level = ReclockCitusOwnerBegin(&save_userid, &save_sec);
	/*
	 * reclock.reentry = token: the fences of the grants whose tokens this
	 * transaction presents, read here once and sent as a constant, so that
	 * every replica decides the same (a token's fence never changes; a
	 * released or broken grant's lock row goes with its tokens).
	 */
	if (reclock_reentry == RECLOCK_REENTRY_TOKEN)
	{
		const uint8 *hashes;
		uint64		generation;
		int			np = ReclockPresentedTokens(&hashes, &generation);
		Datum	   *elems = palloc(sizeof(Datum) * (np + 1));
		Oid			ptypes[1] = {BYTEAARRAYOID};
		Datum		pvals[1];

		for (i = 0; i < np; i++)
		{
			bytea	   *h = palloc(VARHDRSZ + RECLOCK_HASH_LEN);

			SET_VARSIZE(h, VARHDRSZ + RECLOCK_HASH_LEN);
			memcpy(VARDATA(h), hashes + i * RECLOCK_HASH_LEN, RECLOCK_HASH_LEN);
			elems[i] = PointerGetDatum(h);
		}
		pvals[0] = PointerGetDatum(construct_array(elems, np, BYTEAOID, -1, false, TYPALIGN_INT));
		if (SPI_execute_with_args(psprintf("SELECT pg_catalog.array_agg(fence) FROM %s WHERE dist = 0 AND hash = ANY ($1)",
										   qualified(tokens)),
								  1, ptypes, pvals, NULL, false, 0) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "could not read the presented tokens");
		presented = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			presented = PointerGetDatum(construct_empty_array(INT8OID));
	}
	else
		presented = PointerGetDatum(construct_empty_array(INT8OID));
	{
		Oid			gtypes[8] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID, INT8ARRAYOID};
		Datum		gvals[8];

		gvals[0] = CStringGetTextDatum(key);
		gvals[1] = CStringGetTextDatum(holder);
		/* the role by name: Citus copies a reference placement to a new node byte for byte */
		gvals[2] = CStringGetTextDatum(GetUserNameFromId(save_userid, false));
		gvals[3] = Int64GetDatum(fence);
		gvals[4] = TimestampTzGetDatum(now);
		gvals[5] = TimestampTzGetDatum(now + ttl);
		gvals[6] = BoolGetDatum(reclock_reentry == RECLOCK_REENTRY_TOKEN);
		gvals[7] = presented;
		/*
		 * New (free or dead: a larger fence), extended (live, the same
		 * holder, and with reentry = token a token of it presented: its
		 * fence kept), or nothing (live, another holder).
		 */
		if (SPI_execute_with_args(psprintf("INSERT INTO %s AS l (dist, key, holder, acquired_by, fence, acquired_at, expires_at)"
										   " VALUES (0, $1, $2, $3, $4, $5, $6)"
										   " ON CONFLICT (dist, key) DO UPDATE SET holder = excluded.holder,"
										   " acquired_by = excluded.acquired_by,"
										   " fence = CASE WHEN l.expires_at > excluded.acquired_at THEN l.fence ELSE excluded.fence END,"
										   " acquired_at = CASE WHEN l.expires_at > excluded.acquired_at THEN l.acquired_at ELSE excluded.acquired_at END,"
										   " expires_at = excluded.expires_at"
										   " WHERE (l.expires_at <= excluded.acquired_at AND l.fence < excluded.fence)"
										   " OR (l.expires_at > excluded.acquired_at AND l.holder = excluded.holder"
										   " AND l.acquired_by = excluded.acquired_by"
										   " AND (NOT $7 OR l.fence = ANY ($8)))"
										   " RETURNING fence, expires_at", qualified(locks)),
								  8, gtypes, gvals, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "could not acquire row %s", key);
	}
	acquired = SPI_processed == 1;
	if (acquired)
	{
		int64		gfence = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		TimestampTz expires_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		Oid			ttypes[3] = {BYTEAOID, INT8OID, TEXTOID};
		Datum		tvals[3] = {PointerGetDatum(hash), Int64GetDatum(gfence), CStringGetTextDatum(key)};

		/* the token's hash; the hashes of the grant this one replaced go */
		if (SPI_execute_with_args(psprintf("INSERT INTO %s (dist, hash, fence, key) VALUES (0, $1, $2, $3)",
										   qualified(tokens)),
								  3, ttypes, tvals, NULL, false, 0) != SPI_OK_INSERT ||
			SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = 0 AND key = $3 AND fence <> $2 AND hash <> $1",
										   qualified(tokens)),
								  3, ttypes, tvals, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not write the token of row %s", key);
		result[0] = BoolGetDatum(true);
		result[1] = UUIDPGetDatum(token);
		result[2] = CStringGetTextDatum(holder);
		result[3] = TimestampTzGetDatum(expires_at);
		result[4] = Int64GetDatum(gfence);
	}
	else
	{
		Oid			ltypes[1] = {TEXTOID};
		Datum		lvals[1] = {CStringGetTextDatum(key)};

		if (SPI_execute_with_args(psprintf("SELECT holder, expires_at, fence FROM %s WHERE dist = 0 AND key = $1",
										   qualified(locks)),
								  1, ltypes, lvals, NULL, false, 0) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "could not read the lock of row %s", key);
		result[0] = BoolGetDatum(false);
		nulls[1] = true;
		result[1] = (Datum) 0;
		result[2] = (Datum) 0;	/* below, in the caller's memory */
		result[3] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		result[4] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	}
	ReclockCitusOwnerEnd(save_userid, save_sec, level);
	{
		char	   *lockholder = acquired ? NULL : SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		if (!acquired)
			result[2] = CStringGetTextDatum(lockholder);
		tup = heap_form_tuple(tupdesc, result, nulls);
		MemoryContextSwitchTo(spicxt);
	}
	AtEOXact_GUC(true, exact);
	SPI_finish();
	return HeapTupleGetDatum(tup);
}

/*
 * reclock_break of a protected reference table's row (the caller owns the
 * table, checked by break): the lock row and its token hashes deleted
 * through Citus, on every placement.  False and *handled false for a table
 * that is not registered.  "Was live" by the coordinator's clock.
 */
bool
ReclockCitusRefBreak(Relation rel, ReclockKeyInfo *ki, const char *keytext, bool *handled)
{
	int			exact;			/* ReclockCitusExactTextBegin() level */
	Oid			locks;
	Oid			tokens;
	int			n = ki->nkeys;
	Datum	   *keyvals = palloc(sizeof(Datum) * n);
	Oid		   *types = palloc(sizeof(Oid) * n);
	char	   *key;
	int			i;
	bool		broken = false;
	Oid			save_userid;
	int			save_sec;
	int			level;

	*handled = false;
	if (ki->citus != RECLOCK_CITUS_REFERENCE ||
		!ref_registered(RelationGetRelid(rel), &locks, &tokens))
		return false;
	*handled = true;
	refuse_not_coordinator(rel, "reclock_break()");
	key = ReclockCanonicalKey(ki, keytext, keyvals);
	for (i = 0; i < n; i++)
		types[i] = ki->typids[i];
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	exact = ReclockCitusExactTextBegin();	/* parameters travel as text */
	/* the row's own key, if the row is there */
	if (SPI_execute_with_args(psprintf("SELECT %s FROM %s WHERE %s",
									   ReclockColumnListSql(RelationGetRelid(rel), n, ki->attnums),
									   ReclockRelationSql(rel), ReclockKeyWhereSql(ki)),
							  n, types, keyvals, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read row %s", key);
	if (SPI_processed == 1)
	{
		bool	   *knulls = palloc(sizeof(bool) * n);

		for (i = 0; i < n; i++)
			keyvals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &knulls[i]);
		key = ReclockKeyText(ki, keyvals, knulls);
	}
	level = ReclockCitusOwnerBegin(&save_userid, &save_sec);
	{
		Oid			ltypes[1] = {TEXTOID};
		Datum		lvals[1] = {CStringGetTextDatum(key)};

		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = 0 AND key = $1 RETURNING expires_at",
										   qualified(locks)),
								  1, ltypes, lvals, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
			elog(ERROR, "could not end the lock of row %s", key);
		if (SPI_processed == 1)
		{
			bool		isnull;

			broken = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) > ReclockNow();
		}
		if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE dist = 0 AND key = $1", qualified(tokens)),
								  1, ltypes, lvals, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not end the tokens of row %s", key);
	}
	ReclockCitusOwnerEnd(save_userid, save_sec, level);
	AtEOXact_GUC(true, exact);
	SPI_finish();
	return broken;
}

/*
 * reclock_refresh of a token the coordinator's own lock table does not
 * know: looked for in the reference token stores (a fan-out over the
 * registry); if found, *handled, and the grant extended through Citus on
 * every placement when it is live by the coordinator's clock (the meeting
 * trigger fails it, 40001, on a node where it ran out first).  Returns the
 * new expiry, or false for a dead grant.
 */
bool
ReclockCitusRefRefresh(const pg_uuid_t *token, int64 ttl, TimestampTz *expires_at, bool *handled)
{
	int			exact;			/* ReclockCitusExactTextBegin() level */
	Oid			registry = get_relname_relid(REGISTRY, ReclockExtensionSchema());
	uint8		hashbuf[RECLOCK_HASH_LEN];
	bytea	   *hash = palloc(VARHDRSZ + RECLOCK_HASH_LEN);
	List	   *stores = NIL;
	ListCell   *lc;
	bool		done = false;
	Oid			save_userid;
	int			save_sec;
	int			level;
	uint64		i;

	*handled = false;
	if (!OidIsValid(get_extension_oid("citus", true)) || !OidIsValid(registry) ||
		!ReclockCitusOnCoordinator())
		return false;
	ReclockHashToken(token, hashbuf);
	SET_VARSIZE(hash, VARHDRSZ + RECLOCK_HASH_LEN);
	memcpy(VARDATA(hash), hashbuf, RECLOCK_HASH_LEN);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	exact = ReclockCitusExactTextBegin();	/* parameters travel as text */
	level = ReclockCitusOwnerBegin(&save_userid, &save_sec);
	run_sql(psprintf("SELECT r.locks::pg_catalog.oid, r.tokens::pg_catalog.oid FROM %s r"
					 " JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = r.tokens"
					 " WHERE p.partmethod = 'n' AND p.repmodel = 't'", registry_name()),
			SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid		   *pair = palloc(sizeof(Oid) * 2);

		pair[0] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		pair[1] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		stores = lappend(stores, pair);
	}
	foreach(lc, stores)
	{
		Oid		   *pair = lfirst(lc);
		Oid			htype[1] = {BYTEAOID};
		Datum		hval[1] = {PointerGetDatum(hash)};
		bool		isnull;
		int64		fence;
		TimestampTz now;
		Oid			utypes[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		uvals[3];

		if (SPI_execute_with_args(psprintf("SELECT fence FROM %s WHERE dist = 0 AND hash = $1", qualified(pair[1])),
								  1, htype, hval, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not look up a token");
		if (SPI_processed == 0)
			continue;
		*handled = true;
		fence = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		now = ReclockNow();
		uvals[0] = Int64GetDatum(fence);
		uvals[1] = TimestampTzGetDatum(now);
		uvals[2] = TimestampTzGetDatum(now + ttl);
		if (SPI_execute_with_args(psprintf("UPDATE %s SET expires_at = $3 WHERE dist = 0 AND fence = $1 AND expires_at > $2"
										   " RETURNING expires_at", qualified(pair[0])),
								  3, utypes, uvals, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "could not refresh a lock");
		if (SPI_processed == 1)
		{
			*expires_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			done = true;
		}
		break;
	}
	ReclockCitusOwnerEnd(save_userid, save_sec, level);
	AtEOXact_GUC(true, exact);
	SPI_finish();
	return done;
}

/*---------------------------------------------------------------------------
 * TRUNCATE
 *---------------------------------------------------------------------------
 */

/* any live lock in a store placement on this node (fresh snapshot)? */
static bool
placement_has_live_lock(Oid locks)
{
	return ReclockCitusStoreHasLive(locks);	/* citusstore.c: the same scan */
}

/*
 * TRUNCATE of a protected reference table (kind REFERENCE: its table on
 * the coordinator) or of one of its placements (kind SHARD, table: the
 * reference table; Citus truncates every placement, each with the check
 * protect made there): refused (55P03) while the lock store's placement on
 * this node (or, on the table, the coordinator's view of it) has a live
 * lock, else true (let through).  TRUNCATE holds the placement ACCESS
 * EXCLUSIVE: an acquire in flight has locked a row of it (the meeting
 * trigger) and is waited for.  False for anything else.
 */
bool
ReclockCitusRefTruncate(Relation rel, ReclockCitusKind kind, Oid table)
{
	Oid			locks;
	Oid			tokens;
	bool		live;

	if ((kind != RECLOCK_CITUS_REFERENCE && kind != RECLOCK_CITUS_SHARD) ||
		!OidIsValid(table) || !ref_registered(table, &locks, &tokens))
		return false;
	if (kind == RECLOCK_CITUS_SHARD)
	{
		Oid			placement = ref_placement(locks);

		if (!OidIsValid(placement))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot truncate table \"%s\": its lock store is not on this node", get_rel_name(table))));
		live = placement_has_live_lock(placement);
	}
	else
	{
		Oid			types[1] = {TIMESTAMPTZOID};
		Datum		vals[1] = {TimestampTzGetDatum(ReclockNow())};
		Oid			save_userid;
		int			save_sec;
		int			level;
		int			exact;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		exact = ReclockCitusExactTextBegin();	/* parameters travel as text */
		level = ReclockCitusOwnerBegin(&save_userid, &save_sec);
		if (SPI_execute_with_args(psprintf("SELECT FROM %s WHERE expires_at > $1 LIMIT 1", qualified(locks)),
								  1, types, vals, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the locks of table \"%s\"", get_rel_name(table));
		live = SPI_processed > 0;
		ReclockCitusOwnerEnd(save_userid, save_sec, level);
		AtEOXact_GUC(true, exact);
		SPI_finish();
	}
	if (live)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
				 errmsg("cannot truncate table \"%s\" while it has live locks", get_rel_name(table)),
				 errdetail("TRUNCATE would remove rows that holders have locked."),
				 errhint("Wait for the locks to end, or end them with reclock_break().")));
	return true;
}
