/*-------------------------------------------------------------------------
 *
 * children.c
 *	  Documents: a lock on a parent row covers the rows of its child tables.
 *
 * A child table is protected with reclock_protect(tbl, parent => ...): its
 * guard trigger fires BEFORE INSERT OR UPDATE OR DELETE and names, as an
 * argument, the foreign key through which a child row belongs to a parent
 * row.  The foreign key references the parent's primary key, so the
 * parent's lock key comes from the child row's foreign-key columns.
 *
 * Ordering.  The promise of single rows -- a grant waits for a write in
 * flight, and a write racing a grant ran before it or is refused -- rests on
 * a row lock that the write and the grant both take on the row: here, the
 * parent row.  reclock_acquire locks its row FOR UPDATE (acquire.c).  Before
 * a child row is written, the guard locks its parent row FOR KEY SHARE (the
 * lock PostgreSQL's own foreign-key check takes, which conflicts only with
 * FOR UPDATE) and only then reads the parent's lock with the latest
 * snapshot.  So either the child write locked the parent row first (the
 * grant waits until the write's transaction ends), or the grant did (the
 * write waits for it to commit, then sees it).  A parent row that is itself
 * a child row (order -> line -> note) is locked FOR SHARE instead, which
 * also keeps it from moving to another parent while the write is in flight.
 *
 * No lock per child row: the parent row is locked once per transaction
 * (and per subtransaction that is rolled back), remembered in a cache of
 * the transaction, and what was found there stays true while the row lock
 * is held -- no grant on that row can commit until this transaction ends,
 * and a dead lock never comes back.  A lock found live is judged row by row
 * against the presented tokens; a refusal reads the lock again first (it
 * may have ended meanwhile).
 *
 * IDENTIFICATION
 *	  src/children.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "parser/parse_coerce.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "reclock.h"

/*
 * Parent rows remembered per transaction; beyond either bound, the cache
 * starts again.  The bytes bound holds whatever the keys' length (an entry
 * keeps the foreign-key values and the key of each row of its chain).
 */
#define MAX_CACHED_PARENTS	65536
#define MAX_CACHED_BYTES	(8 * 1024 * 1024)
/* tables whose rows this transaction deleted or moved, remembered (then all go) */
#define MAX_MOVED_TABLES	16

/*--- the parent rows this transaction locked, and what was found ---*/

/* one ancestor row of a child row: the parent, its parent, ... */
typedef struct AncestorLevel
{
	Oid			rootid;			/* the ancestor's table */
	char	   *key;			/* its row's canonical key */
	bool		notify;			/* its table sends change notices */
	bool		refuse;			/* judged without its row lock: refuse by lock */
	ReclockLock lock;			/* found = a lock live when read */
} AncestorLevel;

typedef struct ParentEntry
{
	char	   *key;			/* parent_cache_key's, in parent_cxt */
	int			nlevels;
	AncestorLevel *levels;
	uint64		made;			/* move_gen when it was made */
	bool		notified;		/* its notices are queued */
} ParentEntry;

static HTAB *parent_cache = NULL;
static MemoryContext parent_cxt = NULL;
static LocalTransactionId parent_lxid = InvalidLocalTransactionId;
static uint64 parent_writes = 0;	/* this backend's store writes then */
static long parent_count = 0;
static bool parent_full = false;	/* MAX_CACHED_BYTES reached */
static ParentEntry *last_entry = NULL;	/* the entry found last (entries never move) */

/*
 * An entry says which rows are above a parent row, and no other transaction
 * can change that while this one holds their row locks; this one can, by
 * deleting or moving a row of a table in the chain (a line moved to another
 * order, deleted and inserted again under another).  Such writes are
 * remembered per table, and an entry made before one of its tables had one
 * is made again.
 */
static void parent_cache_reset(void);

static uint64 move_gen = 0;
static int	nmoved = 0;
static Oid	moved_rel[MAX_MOVED_TABLES];
static uint64 moved_gen[MAX_MOVED_TABLES];

static void
note_move(Oid rootid)
{
	int			i;

	move_gen++;
	for (i = 0; i < nmoved; i++)
		if (moved_rel[i] == rootid)
			break;
	if (i == MAX_MOVED_TABLES)
	{
		/* too many to tell apart: every entry goes */
		parent_cache_reset();
		nmoved = 0;
		i = 0;
	}
	if (i == nmoved)
		nmoved++;
	moved_rel[i] = rootid;
	moved_gen[i] = move_gen;
}

/* did this transaction delete or move rows of a table of the entry since it was made? */
static bool
entry_stale(ParentEntry *e)
{
	int			l;
	int			i;

	if (nmoved == 0)
		return false;
	for (l = 0; l < e->nlevels; l++)
		for (i = 0; i < nmoved; i++)
			if (moved_rel[i] == e->levels[l].rootid && moved_gen[i] > e->made)
				return true;
	return false;
}

/* the hash key is a pointer to the key (parent_cache_key: length first) */
static inline uint32
parent_key_len(const char *k)
{
	uint32		len;

	memcpy(&len, k, sizeof(uint32));
	return len;
}

static uint32
parent_key_hash(const void *key, Size keysize)
{
	const char *k = *(char *const *) key;

	return hash_bytes((const unsigned char *) k, parent_key_len(k));
}

static int
parent_key_match(const void *key1, const void *key2, Size keysize)
{
	const char *k1 = *(char *const *) key1;
	const char *k2 = *(char *const *) key2;
	uint32		len = parent_key_len(k1);

	return len == parent_key_len(k2) ? memcmp(k1, k2, len) : 1;
}

static void
parent_cache_reset(void)
{
	/* parent_cxt is TopTransactionContext's child: it goes with it too */
	if (parent_cxt != NULL && parent_lxid == MY_LXID)
		MemoryContextDelete(parent_cxt);
	parent_cache = NULL;
	parent_cxt = NULL;
	parent_count = 0;
	parent_full = false;
	last_entry = NULL;
}

/* a rolled-back subtransaction released the row locks taken in it */
static void
parent_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && parent_cache != NULL)
		parent_cache_reset();
}

static HTAB *
parent_cache_get(void)
{
	static bool registered = false;
	uint64		writes = ReclockStoreLocalWrites();

	if (!registered)
	{
		ReclockOnSubXactEvent(RECLOCK_SUBXACT_CHILD_PARENTS, parent_subxact_callback);
		registered = true;
	}
	/*
	 * A new transaction starts afresh (the old context went with its
	 * transaction); so does a transaction that wrote the store itself since
	 * (its own grant is not blocked by its own row locks).
	 */
	if (parent_lxid != MY_LXID)
	{
		parent_cache = NULL;
		parent_cxt = NULL;
		parent_count = 0;
		parent_full = false;
		last_entry = NULL;
		nmoved = 0;
		parent_lxid = MY_LXID;
	}
	if (parent_cache != NULL &&
		(parent_writes != writes || parent_count >= MAX_CACHED_PARENTS || parent_full))
		parent_cache_reset();
	if (parent_cache == NULL)
	{
		HASHCTL		ctl;

		parent_cxt = AllocSetContextCreate(TopTransactionContext, "reclock parent rows",
										   ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(ParentEntry);
		ctl.hash = parent_key_hash;
		ctl.match = parent_key_match;
		ctl.hcxt = parent_cxt;
		parent_cache = hash_create("reclock parent rows", 256, &ctl,
								   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		parent_writes = writes;
	}
	return parent_cache;
}

/*
 * The cache key of a parent row named by foreign-key values: the foreign
 * key, then each value's binary image (its length and bytes, detoasted).
 * Never a text printed by an output function: that depends on the
 * session's settings (DateStyle, extra_float_digits, TimeZone, ...), and two
 * values printed alike under one setting would share an entry.  Equal
 * bytes are one value of the type; values equal but stored otherwise
 * (numeric 1.5 and 1.50) only make two entries for one row, each found by
 * the foreign key's own equality.  The first 4 bytes hold the length.
 */
static char *
parent_cache_key(ReclockChildLink *link, Datum *vals, char *buf, size_t buflen)
{
	StringInfoData key;
	uint32		len;
	int			i;

	if (link->int_key)
	{
		int64		v = link->fktypes[0] == INT2OID ? DatumGetInt16(vals[0]) :
			link->fktypes[0] == INT4OID ? DatumGetInt32(vals[0]) : DatumGetInt64(vals[0]);

		Assert(buflen >= 2 * sizeof(uint32) + sizeof(int64));
		len = 2 * sizeof(uint32) + sizeof(int64);
		memcpy(buf, &len, sizeof(uint32));
		memcpy(buf + sizeof(uint32), &link->conoid, sizeof(Oid));
		memcpy(buf + 2 * sizeof(uint32), &v, sizeof(int64));
		return buf;
	}
	initStringInfo(&key);
	len = 0;
	appendBinaryStringInfo(&key, (char *) &len, sizeof(uint32));
	appendBinaryStringInfo(&key, (char *) &link->conoid, sizeof(Oid));
	for (i = 0; i < link->nkeys; i++)
	{
		const char *data;
		uint32		size;
		struct varlena *detoasted = NULL;

		if (link->typbyvals[i])
		{
			Datum		d = vals[i];
			char		b[sizeof(Datum)];

			/* only the type's own bytes: the rest of the Datum is not defined */
			store_att_byval(b, d, link->typlens[i]);
			appendBinaryStringInfo(&key, b, link->typlens[i]);
			continue;
		}
		if (link->typlens[i] == -1)
		{
			detoasted = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(vals[i]));
			data = VARDATA_ANY(detoasted);
			size = VARSIZE_ANY_EXHDR(detoasted);
		}
		else if (link->typlens[i] == -2)
		{
			data = DatumGetCString(vals[i]);
			size = strlen(data);
		}
		else
		{
			data = DatumGetPointer(vals[i]);
			size = link->typlens[i];
		}
		appendBinaryStringInfo(&key, (char *) &size, sizeof(uint32));
		appendBinaryStringInfo(&key, data, size);
		if (detoasted != NULL && (Pointer) detoasted != DatumGetPointer(vals[i]))
			pfree(detoasted);
	}
	len = key.len;
	memcpy(key.data, &len, sizeof(uint32));
	return key.data;
}

/*--- child rows judged again at COMMIT ---*/

/*
 * A child row written while a row of its chain was not there for the
 * writer (a deferred foreign key, a parent in flight, a REPEATABLE READ
 * snapshot older than the parent) is judged again when its transaction
 * commits, by the chain then there (read with the latest snapshot, as
 * PostgreSQL's foreign-key checks read, and locked as at a write).  Only
 * such rows are queued, once per parent named: the usual write queues
 * nothing.  Rows queued by a subtransaction that is rolled back go with it.
 */
typedef struct RecheckEntry
{
	char	   *key;			/* parent_cache_key's (hash key), in recheck_cxt */
	Oid			relid;			/* the child relation written */
	char		conname[NAMEDATALEN];	/* its guard's foreign key */
	char	   *childkey;		/* the child row's key (for the message), or NULL */
	bool		is_insert;
	SubTransactionId subid;		/* the oldest subtransaction that queued it */
	Datum		vals[INDEX_MAX_KEYS];	/* the foreign-key values */
} RecheckEntry;

static HTAB *recheck_queue = NULL;
static MemoryContext recheck_cxt = NULL;
static LocalTransactionId recheck_lxid = InvalidLocalTransactionId;
static bool recheck_mode = false;	/* running the checks at COMMIT */

static void recheck_xact_callback(XactEvent event, void *arg);
static void recheck_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									 SubTransactionId parentSubid, void *arg);
static uint32 parent_key_hash(const void *key, Size keysize);
static int	parent_key_match(const void *key1, const void *key2, Size keysize);
static inline uint32 parent_key_len(const char *k);
static char *parent_cache_key(ReclockChildLink *link, Datum *vals, char *buf, size_t buflen);
static int	lock_ancestors(ReclockChildLink *link, Datum *vals, AncestorLevel *levels,
						   bool *complete, bool *unseen);
static bool read_parent_lock(Oid rootid, const char *key, ReclockLock *lock);
pg_noreturn static void refuse_child_key(Relation rel, const char *key, bool is_insert,
										 AncestorLevel *lv);

static void
recheck_later(Relation rel, ReclockChildLink *link, HeapTuple tuple, bool is_insert,
			  Datum *vals)
{
	static bool registered = false;
	char		buf[64];
	char	   *key = parent_cache_key(link, vals, buf, sizeof(buf));
	RecheckEntry *e;
	bool		found;
	SubTransactionId subid = GetCurrentSubTransactionId();

	if (!registered)
	{
		ReclockOnXactEvent(RECLOCK_XACT_CHILD_RECHECK, recheck_xact_callback);
		ReclockOnSubXactEvent(RECLOCK_SUBXACT_CHILD_RECHECK, recheck_subxact_callback);
		registered = true;
	}
	if (recheck_queue == NULL || recheck_lxid != MY_LXID)
	{
		HASHCTL		ctl;

		recheck_cxt = AllocSetContextCreate(TopTransactionContext, "reclock child rechecks",
											ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(RecheckEntry);
		ctl.hash = parent_key_hash;
		ctl.match = parent_key_match;
		ctl.hcxt = recheck_cxt;
		recheck_queue = hash_create("reclock child rechecks", 64, &ctl,
									HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		recheck_lxid = MY_LXID;
	}
	e = hash_search(recheck_queue, &key, HASH_ENTER, &found);
	if (found)
	{
		e->subid = Min(e->subid, subid);
		return;
	}
	else
	{
		MemoryContext old = MemoryContextSwitchTo(recheck_cxt);
		int			i;

		e->key = palloc(parent_key_len(key));
		memcpy(e->key, key, parent_key_len(key));
		e->relid = RelationGetRelid(rel);
		strlcpy(e->conname, link->conname, NAMEDATALEN);
		e->childkey = ReclockNewTupleKey(ReclockGetKeyInfo(rel), tuple, RelationGetDescr(rel));
		e->is_insert = is_insert;
		e->subid = subid;
		for (i = 0; i < link->nkeys; i++)
			e->vals[i] = datumCopy(vals[i], link->typbyvals[i], link->typlens[i]);
		MemoryContextSwitchTo(old);
	}
}

static void
recheck_forget(void)
{
	recheck_queue = NULL;		/* its memory goes with the transaction's */
	recheck_cxt = NULL;
	recheck_mode = false;
}

/* judge one queued row by the chain there now */
static void
recheck_one(RecheckEntry *q)
{
	Relation	rel = try_relation_open(q->relid, AccessShareLock);
	ReclockChildLink link;
	AncestorLevel levels[RECLOCK_MAX_CHAIN_DEPTH];
	bool		complete;
	bool		unseen;
	int			n;
	int			i;

	if (rel == NULL)
		return;					/* dropped since: its rows went with it */
	link = *ReclockGetChildLink(rel, q->conname, true);
	n = lock_ancestors(&link, q->vals, levels, &complete, &unseen);
	for (i = 0; i < n; i++)
	{
		AncestorLevel *lv = &levels[i];

		if (lv->refuse)
			refuse_child_key(rel, q->childkey, q->is_insert, lv);
		if (lv->lock.found && !ReclockHoldsToken(lv->lock.fence))
		{
			ReclockLock lock;

			/* read again: it may have ended since it was read */
			if (read_parent_lock(lv->rootid, lv->key, &lock) && !ReclockHoldsToken(lock.fence))
			{
				lv->lock = lock;
				refuse_child_key(rel, q->childkey, q->is_insert, lv);
			}
		}
	}
	relation_close(rel, AccessShareLock);
}

static void
recheck_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (recheck_queue != NULL && recheck_lxid == MY_LXID)
			{
				HASH_SEQ_STATUS seq;
				RecheckEntry *q;
				bool		pushed = false;

				if (!ActiveSnapshotSet())
				{
					PushActiveSnapshot(GetTransactionSnapshot());
					pushed = true;
				}
				recheck_mode = true;
				hash_seq_init(&seq, recheck_queue);
				while ((q = hash_seq_search(&seq)) != NULL)
					recheck_one(q);
				recheck_mode = false;
				if (pushed)
					PopActiveSnapshot();
			}
			recheck_forget();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			recheck_forget();
			break;
		default:
			break;
	}
}

/* rows queued in a subtransaction rolled back (or in one below it) go */
static void
recheck_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS seq;
	RecheckEntry *q;

	if (event != SUBXACT_EVENT_ABORT_SUB || recheck_queue == NULL ||
		recheck_lxid != MY_LXID)
		return;
	hash_seq_init(&seq, recheck_queue);
	while ((q = hash_seq_search(&seq)) != NULL)
		if (q->subid >= mySubid)
			(void) hash_search(recheck_queue, &q->key, HASH_REMOVE, NULL);
}

/*--- locking and reading the ancestors ---*/

typedef struct ParentSqlArg
{
	ReclockChildLink *link;
	Relation	parent;
	ReclockKeyInfo *pki;
	ReclockChildLink *plink;	/* the parent's own link, or NULL */
	const char *mode;
} ParentSqlArg;

static char *
parent_sql(void *arg)
{
	ParentSqlArg *pa = (ParentSqlArg *) arg;
	Oid			pid = RelationGetRelid(pa->parent);
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s",
					 ReclockColumnListSql(pid, pa->pki->nkeys, pa->pki->attnums));
	if (pa->plink)
		appendStringInfo(&sql, ", %s",
						 ReclockColumnListSql(pa->plink->relid, pa->plink->nkeys,
											  pa->plink->attnums));
	appendStringInfo(&sql, " FROM %s WHERE ", ReclockRelationSql(pa->parent));
	for (i = 0; i < pa->link->nkeys; i++)
		appendStringInfo(&sql, "%s%s %s $%d", i > 0 ? " AND " : "",
						 quote_identifier(get_attname(pid, pa->link->refattnums[i], false)),
						 ReclockOperatorSql(pa->link->pfeqops[i]), i + 1);
	if (pa->mode)
		appendStringInfo(&sql, " FOR %s", pa->mode);
	return sql.data;
}

/*
 * Run the parent-row statement of pa in one of its modes, as the parent's
 * owner (as PostgreSQL's own foreign-key checks).  False if it found no row;
 * else the row's canonical key in *key (memory of cxt) and, if the parent
 * is a child itself, its own foreign-key values in next (has_next false if
 * one is NULL).
 */
typedef enum ParentMode
{
	PARENT_LOCK_NOWAIT,			/* the row lock, if it is free now */
	PARENT_LOCK,				/* the row lock, waiting for it */
	PARENT_READ					/* no row lock */
} ParentMode;

/*
 * How a foreign key's values find their row in the parent's primary-key
 * index: for each index column, the value and the foreign key's own
 * equality operator (parent column = child column, a member of the index's
 * operator family: PostgreSQL chose it so when the key was made).  Kept for
 * the few foreign keys last used; any relation invalidation forgets them.
 */
#define MAX_PROBES	8

typedef struct ParentProbe
{
	Oid			conoid;			/* the foreign key */
	Oid			parentid;
	Oid			indexoid;		/* the parent's primary-key index */
	LocalTransactionId locked_lxid; /* its lock is held to the end of this one */
	int			nkeys;
	int			argno[INDEX_MAX_KEYS];	/* the value of index column j */
	AttrNumber	heapatt[INDEX_MAX_KEYS];
	StrategyNumber strategy[INDEX_MAX_KEYS];
	Oid			subtype[INDEX_MAX_KEYS];
	Oid			collation[INDEX_MAX_KEYS];
	FmgrInfo	eqfunc[INDEX_MAX_KEYS];
} ParentProbe;

static ParentProbe probes[MAX_PROBES];
static int	nprobes = 0;
static uint64 probes_generation = 0;	/* ReclockChildLinkGeneration's then */

/* the probe of link's parent (a plain table), or NULL: then by SQL */
static ParentProbe *
parent_probe(ReclockChildLink *link, Relation parent)
{
	ParentProbe *pr;
	Relation	idx;
	Oid			indexoid;
	int			i;
	int			j;

	/* forgotten with the links */
	if (probes_generation != ReclockChildLinkGeneration())
	{
		nprobes = 0;
		probes_generation = ReclockChildLinkGeneration();
	}
	for (i = 0; i < nprobes; i++)
		if (probes[i].conoid == link->conoid && probes[i].parentid == RelationGetRelid(parent))
			return &probes[i];
	indexoid = ReclockPrimaryKeyIndex(parent);
	if (!OidIsValid(indexoid))
		return NULL;
	if (nprobes == MAX_PROBES)
		nprobes = 0;
	pr = &probes[nprobes];
	pr->conoid = InvalidOid;
	idx = index_open(indexoid, AccessShareLock);
	pr->nkeys = IndexRelationGetNumberOfKeyAttributes(idx);
	if (pr->nkeys != link->nkeys || idx->rd_rel->relam != BTREE_AM_OID)
	{
		index_close(idx, AccessShareLock);
		return NULL;
	}
	for (j = 0; j < pr->nkeys; j++)
	{
		Oid			lefttype;
		int			strategy;

		for (i = 0; i < link->nkeys; i++)
			if (link->refattnums[i] == idx->rd_index->indkey.values[j])
				break;
		if (i == link->nkeys ||
			get_op_opfamily_strategy(link->pfeqops[i], idx->rd_opfamily[j]) != BTEqualStrategyNumber)
		{
			index_close(idx, AccessShareLock);
			return NULL;
		}
		get_op_opfamily_properties(link->pfeqops[i], idx->rd_opfamily[j], false,
								   &strategy, &lefttype, &pr->subtype[j]);
		pr->argno[j] = i;
		pr->heapatt[j] = idx->rd_index->indkey.values[j];
		pr->strategy[j] = strategy;
		pr->collation[j] = idx->rd_indcollation[j];
		fmgr_info_cxt(get_opcode(link->pfeqops[i]), &pr->eqfunc[j], CacheMemoryContext);
	}
	index_close(idx, AccessShareLock);
	pr->indexoid = indexoid;
	pr->locked_lxid = InvalidLocalTransactionId;
	pr->parentid = RelationGetRelid(parent);
	pr->conoid = link->conoid;
	nprobes++;
	return pr;
}

/*
 * The parent row of pa found and locked directly, as SELECT ... FOR KEY
 * SHARE (FOR SHARE) finds and locks it, without the statement: a probe of
 * the parent's primary-key index with the statement's snapshot, then
 * table_tuple_lock of the row found, as the executor's LockRows does --
 * the versions an update made of the row are locked too, also the one
 * still in flight (TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS: a grant's FOR
 * UPDATE of the newest version then waits for this write, as it waits for
 * SELECT ... FOR KEY SHARE); under READ COMMITTED the latest version of an
 * updated row is locked (TUPLE_LOCK_FLAG_FIND_LAST_VERSION) and checked again against the
 * values (a key changed meanwhile: not this row any more), a row deleted
 * meanwhile is not there, and under REPEATABLE READ or SERIALIZABLE a row
 * updated or deleted after the snapshot is a serialization failure (40001),
 * as PostgreSQL's own foreign-key check gives.  PARENT_LOCK_NOWAIT skips a
 * row locked by another (SKIP LOCKED); PARENT_READ locks nothing.
 */
/* the key of a parent row found, and its own foreign-key values (memory of cxt) */
static void
parent_row_values(ParentSqlArg *pa, HeapTuple tup, MemoryContext cxt,
				  char **key, Datum *next, bool *has_next)
{
	ReclockChildLink *plink = pa->plink;
	ReclockKeyInfo *pki = pa->pki;
	TupleDesc	desc = RelationGetDescr(pa->parent);
	Datum		kv[INDEX_MAX_KEYS];
	bool		kn[INDEX_MAX_KEYS];
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int			i;

	for (i = 0; i < pki->nkeys; i++)
		kv[i] = heap_getattr(tup, pki->attnums[i], desc, &kn[i]);
	*key = ReclockKeyText(pki, kv, kn);
	*has_next = false;
	if (plink)
	{
		*has_next = true;
		for (i = 0; i < plink->nkeys; i++)
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, plink->attnums[i], desc, &isnull);

			if (isnull)
				*has_next = false;	/* no parent up there */
			else
				next[i] = datumCopy(d, plink->typbyvals[i], plink->typlens[i]);
		}
	}
	MemoryContextSwitchTo(old);
}

static bool
direct_parent(ParentSqlArg *pa, ParentProbe *pr, ParentMode how, Datum *cur,
			  MemoryContext cxt, char **key, Datum *next, bool *has_next)
{
	Relation	parent = pa->parent;
	ReclockChildLink *plink = pa->plink;
	ScanKeyData skey[INDEX_MAX_KEYS];
	AttrNumber	heapatt[INDEX_MAX_KEYS];
	int			nkeys;
	SysScanDesc scan;
	HeapTuple	tup;
	TupleTableSlot *slot = NULL;
	Snapshot	snap;
	ItemPointerData tid;
	Oid			save_userid;
	int			save_sec;
	bool		found;
	int			j;

	*has_next = false;
	/* the snapshot an SPI statement gets: this command's writes seen */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	snap = GetActiveSnapshot();

	/* as the parent's owner (its key type's functions run), as the SQL did */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(parent->rd_rel->relowner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	for (j = 0; j < pr->nkeys; j++)
		ScanKeyEntryInitializeWithInfo(&skey[j], 0, pr->heapatt[j], pr->strategy[j],
									   pr->subtype[j], pr->collation[j], &pr->eqfunc[j],
									   cur[pr->argno[j]]);
	/* its index too (systable_endscan's unlock then only counts down) */
	if (pr->locked_lxid != MY_LXID)
	{
		LockRelationOid(pr->indexoid, AccessShareLock);
		pr->locked_lxid = MY_LXID;
	}
	/*
	 * pr is not looked at past here: the key type's functions run inside the
	 * scan (as the parent's owner) and a write they made could reuse pr for
	 * another foreign key.  The check below uses the scan keys' copies.
	 */
	nkeys = pr->nkeys;
	memcpy(heapatt, pr->heapatt, sizeof(AttrNumber) * nkeys);
	scan = systable_beginscan(parent, pr->indexoid, true, snap, nkeys, skey);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (found)
		tid = tup->t_self;
	if (found && how == PARENT_READ)
		parent_row_values(pa, tup, cxt, key, next, has_next);
	systable_endscan(scan);

	if (found && how != PARENT_READ)
	{
		slot = table_slot_create(parent, NULL);
		/*
		 * FOR KEY SHARE (FOR SHARE: a parent that is a child itself); a
		 * version being updated is locked too (see above)
		 */
		found = ReclockLockRowVersion(parent, &tid, snap, slot,
									  plink != NULL ? LockTupleShare : LockTupleKeyShare,
									  how == PARENT_LOCK_NOWAIT ? LockWaitSkip : LockWaitBlock,
									  TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS,
									  nkeys, heapatt, skey);
	}
	if (found && how != PARENT_READ)
	{
		bool		shouldfree;

		tup = ExecFetchSlotHeapTuple(slot, false, &shouldfree);
		parent_row_values(pa, tup, cxt, key, next, has_next);
		if (shouldfree)
			heap_freetuple(tup);
	}
	if (slot != NULL)
		ExecDropSingleTupleTableSlot(slot);
	SetUserIdAndSecContext(save_userid, save_sec);
	PopActiveSnapshot();
	return found;
}

static bool
run_parent(ParentSqlArg *pa, ParentMode how, Datum *cur, MemoryContext cxt,
		   char **key, Datum *next, bool *has_next)
{
	ReclockChildLink *plink = pa->plink;
	ReclockKeyInfo *pki = pa->pki;
	ReclockStatement st;
	Oid			save_userid;
	int			save_sec;
	int			ret;
	bool		found;

	/*
	 * A plain parent table: its row directly.  A partitioned one (whose row
	 * may move between partitions: PostgreSQL's lock then fails with
	 * 40001) and the checks at COMMIT (latest snapshot) go through SQL.
	 */
	if (!recheck_mode && pa->parent->rd_rel->relkind == RELKIND_RELATION)
	{
		ParentProbe *pr = parent_probe(pa->link, pa->parent);

		if (pr != NULL)
			return direct_parent(pa, pr, how, cur, cxt, key, next, has_next);
	}

	/* a parent that is a child itself must not move away meanwhile */
	pa->mode = how == PARENT_READ ? NULL :
		how == PARENT_LOCK_NOWAIT ? (plink ? "SHARE SKIP LOCKED" : "KEY SHARE SKIP LOCKED") :
		(plink ? "SHARE" : "KEY SHARE");
	st.relid = RelationGetRelid(pa->parent);
	st.shape = psprintf("parent:%u:%u:%d", pa->link->conoid, plink ? plink->conoid : 0, (int) how);
	st.nargs = pa->link->nkeys;
	st.argtypes = pa->link->fktypes;
	st.build = parent_sql;
	st.arg = pa;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(pa->parent->rd_rel->relowner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = !recheck_mode ? ReclockPlanRun(&st, cur, NULL, 1) :
		how == PARENT_READ ? ReclockPlanRunLatest(&st, cur, NULL, 1) :
		ReclockPlanRunLatestLocking(&st, cur, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	found = SPI_processed > 0;
	*has_next = false;
	if (found)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		kv[INDEX_MAX_KEYS];
		bool		kn[INDEX_MAX_KEYS];
		MemoryContext spicxt = MemoryContextSwitchTo(cxt);
		int			i;

		for (i = 0; i < pki->nkeys; i++)
			kv[i] = SPI_getbinval(row, desc, i + 1, &kn[i]);
		*key = ReclockKeyText(pki, kv, kn);
		if (plink)
		{
			*has_next = true;
			for (i = 0; i < plink->nkeys; i++)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(row, desc, pki->nkeys + i + 1, &isnull);

				if (isnull)
					*has_next = false;	/* no parent up there */
				else
					next[i] = datumCopy(d, plink->typbyvals[i], plink->typlens[i]);
			}
		}
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
	return found;
}

/*
 * The canonical key of the parent row that foreign-key values name, made
 * from the values themselves (for a parent row that is not there), or NULL
 * when a value is not of the parent's key column type (an int4 foreign key
 * of an int8 key is widened).  No input function runs: the key is made as
 * acquire makes it from a row, under fixed settings.  It is the key of a
 * row with the same bytes; an equal row written otherwise (numeric 1.50
 * for 1.5) has its own: the check at COMMIT, which finds the row, judges
 * by the row's key.
 */
static char *
fk_parent_key(ReclockChildLink *link, ReclockKeyInfo *pki, Datum *vals)
{
	Datum		kv[INDEX_MAX_KEYS];
	bool		kn[INDEX_MAX_KEYS];
	int			i;
	int			j;

	for (j = 0; j < pki->nkeys; j++)
	{
		Oid			from;
		Oid			to = pki->typids[j];

		for (i = 0; i < link->nkeys; i++)
			if (link->refattnums[i] == pki->attnums[j])
				break;
		if (i == link->nkeys)
			return NULL;
		from = link->fktypes[i];
		kn[j] = false;
		if (from == to)
			kv[j] = vals[i];
		else if (to == INT8OID && (from == INT4OID || from == INT2OID))
			kv[j] = Int64GetDatum(from == INT4OID ? (int64) DatumGetInt32(vals[i]) :
								  (int64) DatumGetInt16(vals[i]));
		else if (to == INT4OID && from == INT2OID)
			kv[j] = Int32GetDatum((int32) DatumGetInt16(vals[i]));
		else
			return NULL;
	}
	return ReclockKeyText(pki, kv, kn);
}

/* the live lock of a parent row (of table rootid) read now, if any */
static bool
read_parent_lock(Oid rootid, const char *key, ReclockLock *lock)
{
	TimestampTz now = ReclockNow();

	if (ReclockStoreGetSettled(rootid, key, &now, lock) && lock->expires_at > now)
		return true;
	lock->found = false;
	return false;
}

/*
 * A write that waits for a row of the chain (taken by another): read the
 * chain from there up without row locks, and say whether a live lock on it
 * whose token is not presented refuses the write now (filled in *lv).  A
 * refusal needs no wait, at any depth: the holder of a document who has
 * locked a line and then writes its notes must never deadlock with a writer
 * without the token who took a note first.
 */
static bool
chain_refuses(ParentSqlArg *first, Datum *vals, MemoryContext cxt, AncestorLevel *lv)
{
	ParentSqlArg pa = *first;
	ReclockChildLink curlink = *first->link;
	Datum		cur[INDEX_MAX_KEYS];
	int			depth = 0;
	bool		opened = false;

	memcpy(cur, vals, sizeof(Datum) * curlink.nkeys);
	pa.link = &curlink;
	for (;;)
	{
		Datum		next[INDEX_MAX_KEYS];
		bool		has_next = false;
		char	   *key;
		ReclockChildLink plinkcopy;

		if (!run_parent(&pa, PARENT_READ, cur, cxt, &key, next, &has_next))
			break;
		if (read_parent_lock(pa.pki->rootid, key, &lv->lock) &&
			!ReclockHoldsToken(lv->lock.fence))
		{
			lv->key = key;
			lv->rootid = pa.pki->rootid;
			lv->notify = false;
			lv->refuse = true;
			if (opened)
				relation_close(pa.parent, AccessShareLock);
			return true;
		}
		if (!has_next || ++depth >= RECLOCK_MAX_CHAIN_DEPTH)
			break;
		plinkcopy = *pa.plink;
		curlink = plinkcopy;
		memcpy(cur, next, sizeof(Datum) * curlink.nkeys);
		if (opened)
			relation_close(pa.parent, AccessShareLock);
		pa.parent = relation_open(curlink.parentid, AccessShareLock);
		opened = true;
		pa.pki = ReclockGetKeyInfo(pa.parent);
		pa.plink = ReclockChildLinkOf(pa.parent);
		if (pa.plink)
		{
			plinkcopy = *pa.plink;
			pa.plink = palloc(sizeof(ReclockChildLink));
			*pa.plink = plinkcopy;
		}
	}
	if (opened)
		relation_close(pa.parent, AccessShareLock);
	return false;
}

/*
 * A parent row not there for this transaction (judged again at COMMIT).
 * Till then, the lock of the key the values name is judged all the same (a
 * holder's own cascade, which deleted the parent row, is covered by it),
 * and a grant of that key waits for this transaction (reclock's advisory
 * lock on the key, in share mode; acquire takes it exclusively).  Not
 * kept: such a row is looked at again each time.  Fills *lv and returns 1,
 * or 0 if the values name no key.
 */
static int
missing_parent_level(ReclockChildLink *link, ReclockKeyInfo *pki, Datum *vals,
					 AncestorLevel *lv)
{
	char	   *key = fk_parent_key(link, pki, vals);

	if (key == NULL)
		return 0;
	ReclockShareKey(pki->rootid, key);
	lv->refuse = false;
	lv->key = key;
	lv->rootid = pki->rootid;
	lv->notify = false;
	(void) read_parent_lock(pki->rootid, key, &lv->lock);
	return 1;
}

/*
 * Lock the parent row that the foreign-key values vals name, and read its
 * lock; then the same for its own parent, and so on.  Fills levels (from
 * the parent up) and returns how many; *complete is false if a row of the
 * chain was not there, or if the answer is a refusal (such an answer is not
 * kept).
 *
 * Deadlocks.  The executor locks a child row before its BEFORE trigger runs,
 * and the guard then locks the parent row: the holder of a document, who
 * locks the parent row FOR UPDATE (reclock_cas, reclock_cas_children) and
 * then writes child rows, would deadlock with a writer without the token
 * who got a child row first.  So a row of the chain is locked only if it is
 * free at once; if not, the chain from there up is read first, and a live
 * lock on it whose token is not presented refuses the write before waiting
 * for anything (refusing on the latest state is what the guard does
 * anyway).  Only a write that would pass waits.
 *
 * A row of the chain that is not there for this transaction (not inserted
 * or committed yet, not visible to its snapshot, deleted by it) may still
 * be there when it commits (a deferred foreign key, a row committed
 * meanwhile, a partitioned parent PostgreSQL's check reads with the latest
 * snapshot): the chain is judged as far as it is seen, and the caller has
 * the row judged again at COMMIT (*unseen).
 */
static int
lock_ancestors(ReclockChildLink *link, Datum *vals, AncestorLevel *levels,
			   bool *complete, bool *unseen)
{
	int			n = 0;
	MemoryContext cxt = CurrentMemoryContext;
	Datum		cur[INDEX_MAX_KEYS];
	ReclockChildLink curlink = *link;

	memcpy(cur, vals, sizeof(Datum) * link->nkeys);
	*complete = true;
	*unseen = false;
	for (;;)
	{
		Relation	parent;
		ReclockKeyInfo *pki;
		ReclockChildLink *plink;
		ReclockChildLink plinkcopy;
		ParentSqlArg pa;
		Datum		next[INDEX_MAX_KEYS];
		bool		has_next = false;
		bool		found;

		if (n >= RECLOCK_MAX_CHAIN_DEPTH)
			ereport(ERROR,
					(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
					 errmsg("chain of child tables above table \"%s\" is deeper than %d",
							get_rel_name(link->relid), RECLOCK_MAX_CHAIN_DEPTH)));
		/*
		 * Its table is kept locked to the end of the transaction, as a
		 * SELECT ... FOR KEY SHARE keeps it (RowShareLock, taken when its
		 * row is locked): the next row of the table opens it at little cost.
		 */
		parent = relation_open(curlink.parentid, AccessShareLock);
		pki = ReclockGetKeyInfo(parent);
		plink = ReclockChildLinkOf(parent);
		if (plink)
		{
			plinkcopy = *plink;
			plink = &plinkcopy;
		}
		pa.link = &curlink;
		pa.parent = parent;
		pa.pki = pki;
		pa.plink = plink;

		found = run_parent(&pa, PARENT_LOCK_NOWAIT, cur, cxt, &levels[n].key, next, &has_next);
		if (!found)
		{
			/* taken by another (or not there): a refusal needs no wait */
			if (chain_refuses(&pa, cur, cxt, &levels[n]))
			{
				/*
				 * Refused as read now, without the row lock: it must not be
				 * read again and let through if the lock ended meanwhile (a
				 * grant could then commit while this write is in flight).
				 */
				*complete = false;
				relation_close(parent, NoLock);
				return n + 1;
			}
			found = run_parent(&pa, PARENT_LOCK, cur, cxt, &levels[n].key, next, &has_next);
		}
		if (!found)
		{
			/* not there for this transaction: judged again at COMMIT */
			*complete = false;
			*unseen = true;
			n += missing_parent_level(&curlink, pki, cur, &levels[n]);
			relation_close(parent, NoLock);
			return n;
		}

		/*
		 * The row is locked: now its lock, with the latest snapshot -- unless
		 * the table's set of live keys, vouched for now (as the row guard's
		 * fast path), says it has none: none can be granted while the row
		 * lock is held.
		 */
		levels[n].refuse = false;
		levels[n].rootid = pki->rootid;
		levels[n].notify = ReclockNotifyOn(pki);
		if (ReclockKeyMayBeLive(pki, levels[n].key, ReclockNow()))
			(void) read_parent_lock(pki->rootid, levels[n].key, &levels[n].lock);
		else
			levels[n].lock.found = false;
		n++;
		relation_close(parent, NoLock);
		if (!has_next)
			return n;
		curlink = *plink;
		memcpy(cur, next, sizeof(Datum) * plink->nkeys);
	}
}

/* the ancestors of the parent row named by vals: from the cache, or locked now */
static ParentEntry *
ancestors_of(ReclockChildLink *link, Datum *vals, ParentEntry *scratch, bool *unseen)
{
	char		buf[64];
	char	   *key = parent_cache_key(link, vals, buf, sizeof(buf));
	HTAB	   *cache = parent_cache_get();
	ParentEntry *e;
	AncestorLevel levels[RECLOCK_MAX_CHAIN_DEPTH];
	bool		complete;
	bool		found;
	int			n;
	int			i;
	MemoryContext cxt;
	MemoryContext oldcxt;

	*unseen = false;
	/* row after row of one parent (a bulk write in key order): no lookup */
	if (last_entry != NULL && parent_key_match(&last_entry->key, &key, 0) == 0 &&
		!entry_stale(last_entry))
		return last_entry;
	e = hash_search(cache, &key, HASH_FIND, NULL);
	if (e != NULL && !entry_stale(e))
	{
		last_entry = e;
		return e;
	}

	/*
	 * Locked and read in the caller's memory: the cache may start again
	 * meanwhile (a subtransaction of a user's equality operator rolled back,
	 * a nested write of the store), so it is looked up again after.
	 */
	n = lock_ancestors(link, vals, levels, &complete, unseen);
	cache = parent_cache_get();
	if (complete)
	{
		e = hash_search(cache, &key, HASH_ENTER, &found);
		if (!found)
		{
			e->key = MemoryContextAlloc(parent_cxt, parent_key_len(key));
			memcpy(e->key, key, parent_key_len(key));
			parent_count++;
		}
		cxt = parent_cxt;
		last_entry = e;
	}
	else
	{
		/* not kept: made for this row, in its memory */
		e = scratch;
		cxt = CurrentMemoryContext;
	}
	e->nlevels = n;
	e->made = move_gen;
	e->levels = MemoryContextAlloc(cxt, sizeof(AncestorLevel) * Max(n, 1));
	oldcxt = MemoryContextSwitchTo(cxt);
	for (i = 0; i < n; i++)
	{
		e->levels[i] = levels[i];
		e->levels[i].key = pstrdup(levels[i].key);
		e->levels[i].lock.key = NULL;
		e->levels[i].lock.holder = levels[i].lock.found ? pstrdup(levels[i].lock.holder) : NULL;
	}
	MemoryContextSwitchTo(oldcxt);
	/* the hash table's memory is a child context: counted too */
	if (complete && MemoryContextMemAllocated(parent_cxt, true) >= MAX_CACHED_BYTES)
		parent_full = true;		/* the next lookup starts again */
	e->notified = false;
	return e;
}

static void
refuse_child(Relation rel, HeapTuple tuple, bool is_insert, AncestorLevel *lv)
{
	ReclockKeyInfo *ki = ReclockGetKeyInfo(rel);

	refuse_child_key(rel, ReclockNewTupleKey(ki, tuple, RelationGetDescr(rel)), is_insert, lv);
}

static void
refuse_child_key(Relation rel, const char *key, bool is_insert, AncestorLevel *lv)
{
	const char *when = timestamptz_to_str(lv->lock.expires_at - lv->lock.expires_at % USECS_PER_SEC);

	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
			 is_insert ?
			 errmsg("cannot insert row %s into table \"%s\": its parent row %s of table \"%s\" is locked by \"%s\" until %s",
					key ? key : "(new)", RelationGetRelationName(rel), lv->key,
					get_rel_name(lv->rootid), lv->lock.holder, when) :
			 errmsg("row %s of table \"%s\" belongs to row %s of table \"%s\", locked by \"%s\" until %s",
					key ? key : "?", RelationGetRelationName(rel), lv->key,
					get_rel_name(lv->rootid), lv->lock.holder, when),
			 errdetail("Only a transaction that presents the parent lock's token may insert, update or delete its child rows."),
			 errhint("Present the token in the writing transaction with SELECT set_config('reclock.token', <token>, true).")));
}

/*
 * Check one parent row's ancestors for a child row: each live lock among
 * them needs its token presented (else 55P03).  Returns whether a live lock
 * whose token is presented covers the row.  (The child notices are queued
 * by reclock_notice, AFTER the row is written: ReclockChildNotices.)
 */
static bool
check_parent(Relation rel, ReclockChildLink *link, HeapTuple tuple, bool is_insert,
			 Datum *vals)
{
	ParentEntry scratch;
	bool		unseen;
	ParentEntry *e = ancestors_of(link, vals, &scratch, &unseen);
	bool		covered = false;
	int			i;

	for (i = 0; i < e->nlevels; i++)
	{
		AncestorLevel *lv = &e->levels[i];

		if (lv->refuse)
			refuse_child(rel, tuple, is_insert, lv);
		if (!lv->lock.found)
			continue;
		if (lv->lock.expires_at <= ReclockNow())
		{
			/* ran out, or was refreshed since it was read: read it again */
			ReclockLock lock;

			if (read_parent_lock(lv->rootid, lv->key, &lock))
			{
				lv->lock = lock;
				lv->lock.holder = MemoryContextStrdup(GetMemoryChunkContext(e->levels), lock.holder);
				lv->lock.key = NULL;
			}
			else
			{
				lv->lock.found = false;
				continue;
			}
		}
		if (ReclockHoldsToken(lv->lock.fence))
		{
			covered = true;
			continue;
		}
		/* about to refuse: it may have ended (or been extended) since it was read */
		{
			ReclockLock lock;

			if (read_parent_lock(lv->rootid, lv->key, &lock) && !ReclockHoldsToken(lock.fence))
			{
				lv->lock = lock;
				lv->lock.key = NULL;
				refuse_child(rel, tuple, is_insert, lv);
			}
			lv->lock.found = false;
		}
	}
	if (unseen && !recheck_mode)
		recheck_later(rel, link, tuple, is_insert, vals);
	return covered;
}

/* the foreign-key values of a row version; false if one is NULL (no parent) */
static inline bool
fk_values(ReclockChildLink *link, HeapTuple tuple, TupleDesc desc, Datum *vals)
{
	int			i;

	for (i = 0; i < link->nkeys; i++)
	{
		bool		isnull;

		vals[i] = heap_getattr(tuple, link->attnums[i], desc, &isnull);
		if (isnull)
			return false;
	}
	return true;
}

static inline bool
fk_unchanged(ReclockChildLink *link, HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	return ReclockColumnsUnchanged(link->nkeys, link->attnums, link->typbyvals,
								   link->typlens, oldtup, newtup, desc);
}

/*
 * The guard of a child table, for one row: the parent row of the old
 * version (UPDATE, DELETE) and of the new one (INSERT, and an UPDATE that
 * moves the row to another parent).  Refuses (55P03) a write under a live
 * lock of an ancestor whose token is not presented; returns whether a
 * presented lock covers the row.
 */
bool
ReclockChildGuard(Relation rel, const char *conname, TriggerData *td,
				  bool require_lock)
{
	ReclockChildLink *link;
	ReclockChildLink copy;	/* a nested call may rebuild the cache */
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		vals[INDEX_MAX_KEYS];
	bool		covered = false;
	bool		is_insert = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	HeapTuple	oldtup = is_insert ? NULL : td->tg_trigtuple;
	HeapTuple	newtup = is_insert ? td->tg_trigtuple :
		TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : NULL;

	bool		moves;

	link = ReclockGetChildLink(rel, conname, true);
	copy = *link;				/* a nested call may rebuild the cache */
	moves = (oldtup != NULL && newtup == NULL) ||
		(oldtup != NULL && newtup != NULL && !fk_unchanged(&copy, oldtup, newtup, desc));

	if (oldtup && fk_values(&copy, oldtup, desc, vals))
		covered = check_parent(rel, &copy, oldtup, false, vals);
	/*
	 * A row deleted, moved or given another key: the chains cached through
	 * its table may be stale (a key freed can be taken by a row under
	 * another parent).
	 */
	if (moves ||
		(oldtup != NULL && newtup != NULL &&
		 !ReclockKeyUnchanged(ReclockGetKeyInfo(rel), oldtup, newtup, desc)))
		note_move(ReclockGetKeyInfo(rel)->rootid);
	if (newtup && (oldtup == NULL || moves))
	{
		/*
		 * A row that enters a parent (an INSERT, a move) is covered by that
		 * parent's lock only, as PostgreSQL's own move across partitions
		 * (a DELETE and an INSERT) is judged: a live lock at the end it
		 * leaves needed its token already, and under require_lock the row
		 * needs the lock of the parent it enters (a parent's key change by
		 * its holder carries the lock to the new key: its cascade is
		 * covered there).  No parent at all (the key set to NULL): none.
		 */
		covered = fk_values(&copy, newtup, desc, vals) &&
			check_parent(rel, &copy, newtup, is_insert, vals);
	}
	if (is_insert && require_lock && !covered)
	{
		ReclockKeyInfo *ki = ReclockGetKeyInfo(rel);
		char	   *key = ReclockNewTupleKey(ki, newtup, desc);

		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
				 errmsg("cannot insert row %s into table \"%s\": its parent row is not locked",
						key ? key : "(new)", RelationGetRelationName(rel)),
				 errdetail("The table is protected with require_lock: a new row needs a live lock on its parent row."),
				 errhint("Acquire the parent row with reclock_acquire() and present its token with set_config('reclock.token', <token>, true).")));
	}
	return covered;
}

/*
 * TRUNCATE of a child table removes children of every parent: refused
 * while a table above it in the chain has live locks.
 */
void
ReclockChildTruncateCheck(Relation rel)
{
	ReclockChildLink *link = ReclockChildLinkOf(rel);
	Oid			up = link ? link->parentid : InvalidOid;
	int			depth = 0;

	/* rows of a table in a chain go: chains cached through it may be stale */
	note_move(ReclockRootOf(RelationGetRelid(rel)));

	while (OidIsValid(up) && depth++ < RECLOCK_MAX_CHAIN_DEPTH)
	{
		Relation	urel;
		ReclockChildLink *ul;

		/* a grant in flight counts as live: no wait for its transaction */
		if (!ReclockStoreTryEpoch(up) ||
			ReclockStoreHasLiveLockSettled(up))
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errtableconstraint(rel, RECLOCK_GUARD_TRIGGER),
					 errmsg("cannot truncate table \"%s\" while its parent table \"%s\" has live locks",
							RelationGetRelationName(rel), get_rel_name(up)),
					 errdetail("TRUNCATE would remove child rows of locked parent rows."),
					 errhint("Wait for the locks to end, or end them with reclock_break().")));
		urel = relation_open(up, AccessShareLock);
		ul = ReclockChildLinkOf(urel);
		up = ul ? ul->parentid : InvalidOid;
		relation_close(urel, AccessShareLock);
	}
}

/*
 * The notices of a child row written (AFTER its write, from reclock_notice):
 * "updated" of each notifying row above it, once per transaction per parent
 * row and child table (PostgreSQL folds identical notices anyway), for the
 * parent of the old version and, if it moved, of the new one.  The chain
 * is the one the guard locked for the write (kept for the transaction).
 */
static void
child_notices_of(ReclockChildLink *link, Datum *vals, Oid childid)
{
	ParentEntry scratch;
	bool		unseen;
	ParentEntry *e = ancestors_of(link, vals, &scratch, &unseen);
	int			i;

	if (e->notified)
		return;
	for (i = 0; i < e->nlevels; i++)
		if (e->levels[i].notify)
			ReclockNotifyChild(e->levels[i].rootid, e->levels[i].key, childid,
							   &e->levels[i].lock);
	e->notified = true;
}

void
ReclockChildNotices(Relation rel, HeapTuple oldtup, HeapTuple newtup)
{
	ReclockChildLink *l = ReclockChildLinkOf(rel);
	ReclockChildLink link;
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		vals[INDEX_MAX_KEYS];
	Oid			childid;

	if (l == NULL)
		return;
	link = *l;
	childid = ReclockRootOf(RelationGetRelid(rel));
	if (oldtup != NULL && fk_values(&link, oldtup, desc, vals))
		child_notices_of(&link, vals, childid);
	if (newtup != NULL && (oldtup == NULL || !fk_unchanged(&link, oldtup, newtup, desc)) &&
		fk_values(&link, newtup, desc, vals))
		child_notices_of(&link, vals, childid);
}


/*=========================================================================
 * c-docs: the guard of a shard of a Citus child table (build plan step 6,
 * docs/citus.md; the stores and the protect-time checks are citusstore.c's)
 *
 * On the shard's node, this file's argument: the parent row is locked FOR
 * KEY SHARE (FOR SHARE if it is a child itself) in the parent's shard
 * beside the child's (co-location: the same hash range, the same node),
 * and only then the parent's lock is read in the lock store shard beside
 * it with a fresh snapshot (a grant there locks the row FOR UPDATE first,
 * in one local transaction with its store write: reclock_citus_grant).  A
 * parent row taken by another is not waited for before the chain above
 * it, read without row locks, was found to refuse nothing (a refusal needs
 * no wait).  A parent row not there for the writer (a deferred foreign
 * key, a row in flight) is judged by the key its values name, and the
 * child row again at this node's pre-commit, by the chain then there.  The
 * chain is followed through the Citus tables on this node (their guard
 * triggers and foreign keys, synced by Citus), the rows through the shards
 * beside, their columns mapped by name.  No cache of parent rows yet: one
 * index probe and one tuple lock per level and row (cheap when held).
 *=========================================================================*/

/* one level of a child shard's chain, kept for one transaction */
typedef struct DocLevel
{
	LocalTransactionId lxid;
	uint64		generation;		/* ReclockChildLinkGeneration()'s then */
	Oid			child;			/* the child shard */
	char		conname[NAMEDATALEN];	/* its guard's foreign key */
	Oid			childtable;		/* its Citus table here */
	Oid			parent;			/* the parent's shard beside it, or InvalidOid: no locks */
	Oid			parenttable;	/* the parent's Citus table here */
	ReclockChildLink link;		/* child shard -> parent shard (the shards' numbering) */
	bool		has_plink;
	ReclockChildLink plink;		/* the parent's own foreign key (its shard's columns) */
	int			distarg;		/* the foreign-key value that is the parent's distribution value */
	ReclockCitusShard stores;	/* the parent's store shards */
} DocLevel;

#define MAX_DOC_LEVELS 16
static DocLevel doc_levels[MAX_DOC_LEVELS];
static int	doc_next = 0;

/*
 * A link of the Citus tables here (shell) renumbered for the shards:
 * columns by name (a shard has no dropped columns its table may have).
 */
static void
shard_link(ReclockChildLink *out, ReclockChildLink *shell, Oid childshard,
		   Oid parentshard, Oid parenttable)
{
	int			i;

	*out = *shell;
	out->relid = childshard;
	out->parentid = parentshard;
	for (i = 0; i < shell->nkeys; i++)
	{
		out->attnums[i] = get_attnum(childshard, get_attname(shell->relid, shell->attnums[i], false));
		if (OidIsValid(parentshard))
			out->refattnums[i] = get_attnum(parentshard,
											get_attname(parenttable, shell->refattnums[i], false));
		if (out->attnums[i] == InvalidAttrNumber ||
			(OidIsValid(parentshard) && out->refattnums[i] == InvalidAttrNumber))
			elog(ERROR, "a column of foreign key \"%s\" is missing in shard \"%s\"",
				 shell->conname, get_rel_name(childshard));
	}
}

static void
refuse_doc_write(Relation child, Oid childtable, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errtableconstraint(child, RECLOCK_GUARD_TRIGGER),
			 errmsg("cannot write to child table \"%s\": %s", get_rel_name(childtable), why),
			 errdetail("reclock refuses the write instead of letting it through unguarded."),
			 errhint("Protect the tables again with reclock_protect() on the coordinator.")));
}

static DocLevel *
doc_level(Relation child, Oid childtable, const char *conname)
{
	DocLevel   *lv;
	Relation	shell;
	Relation	prel;
	ReclockChildLink link;
	ReclockChildLink *pl;
	ReclockCitusKind kind;
	Oid			t;
	bool		unsure;
	Oid			parentshard;
	int			i;

	for (i = 0; i < MAX_DOC_LEVELS; i++)
	{
		lv = &doc_levels[i];
		if (lv->lxid == MY_LXID && lv->generation == ReclockChildLinkGeneration() &&
			lv->child == RelationGetRelid(child) && strcmp(lv->conname, conname) == 0)
			return lv;
	}
	shell = relation_open(childtable, AccessShareLock);
	link = *ReclockGetChildLink(shell, conname, true);
	relation_close(shell, AccessShareLock);

	lv = &doc_levels[doc_next];
	doc_next = (doc_next + 1) % MAX_DOC_LEVELS;
	memset(lv, 0, sizeof(*lv));
	lv->child = RelationGetRelid(child);
	strlcpy(lv->conname, conname, NAMEDATALEN);
	lv->childtable = childtable;
	lv->parenttable = link.parentid;

	kind = ReclockCitusKindOf(link.parentid, &t, &unsure);
	if (kind != RECLOCK_CITUS_DISTRIBUTED)
		refuse_doc_write(child, childtable, "its parent table is not a Citus distributed table");
	if (!ReclockCitusColocated(childtable, link.parentid))
		refuse_doc_write(child, childtable, "it is not co-located with its parent table");
	/* the parent's shard beside this one: the same hash range */
	if (!OidIsValid(parentshard = ReclockCitusShardBeside(child, childtable, link.parentid)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errtableconstraint(child, RECLOCK_GUARD_TRIGGER),
				 errmsg("cannot write to child table \"%s\": the shard of its parent table \"%s\" is not on this node",
						get_rel_name(childtable), get_rel_name(link.parentid)),
				 errdetail("Shard \"%s\" has no shard of its parent table beside it here.",
						   RelationGetRelationName(child))));
	prel = relation_open(parentshard, AccessShareLock);
	(void) ReclockCitusShardStores(prel, link.parentid, &lv->stores);
	if (!lv->stores.protected)
	{
		/* no stores: no locks, unless protected before distribution (refused) */
		if (OidIsValid(get_trigger_oid(link.parentid, RECLOCK_GUARD_TRIGGER, true)))
			refuse_doc_write(child, childtable,
							 "its parent table was protected before Citus distributed it");
		relation_close(prel, AccessShareLock);
		shard_link(&lv->link, &link, lv->child, InvalidOid, InvalidOid);
		goto done;
	}
	lv->parent = parentshard;
	shard_link(&lv->link, &link, lv->child, parentshard, link.parentid);
	lv->distarg = -1;
	for (i = 0; i < link.nkeys; i++)
		if (lv->link.refattnums[i] == lv->stores.distatt)
			lv->distarg = i;
	/* the value probes the parent's stores: of their distribution type */
	if (lv->distarg < 0 ||
		lv->link.fktypes[lv->distarg] !=
		TupleDescAttr(RelationGetDescr(prel), lv->stores.distatt - 1)->atttypid)
	{
		relation_close(prel, AccessShareLock);
		refuse_doc_write(child, childtable,
						 "its foreign key to its parent table does not contain the distribution column");
	}
	/* the parent is a child itself: its own foreign key's columns in its shard */
	shell = relation_open(link.parentid, AccessShareLock);
	pl = ReclockChildLinkOf(shell);
	if (pl != NULL)
	{
		ReclockChildLink plcopy = *pl;

		lv->has_plink = true;
		shard_link(&lv->plink, &plcopy, parentshard, InvalidOid, InvalidOid);
	}
	relation_close(shell, AccessShareLock);
	relation_close(prel, NoLock);
done:
	lv->lxid = MY_LXID;
	lv->generation = ReclockChildLinkGeneration();
	return lv;
}

static void
refuse_doc_child(Relation written, Oid childtable, const char *childkey, bool is_insert,
				 Oid parenttable, const char *pkey, ReclockLock *sl)
{
	const char *when = timestamptz_to_str(sl->expires_at - sl->expires_at % USECS_PER_SEC);

	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errtableconstraint(written, RECLOCK_GUARD_TRIGGER),
			 is_insert ?
			 errmsg("cannot insert row %s into table \"%s\": its parent row %s of table \"%s\" is locked by \"%s\" until %s",
					childkey ? childkey : "(new)", get_rel_name(childtable), pkey,
					get_rel_name(parenttable), sl->holder, when) :
			 errmsg("row %s of table \"%s\" belongs to row %s of table \"%s\", locked by \"%s\" until %s",
					childkey ? childkey : "?", get_rel_name(childtable), pkey,
					get_rel_name(parenttable), sl->holder, when),
			 errdetail("Only a transaction that presents the parent lock's token may insert, update or delete its child rows."),
			 errhint("Present the token in the writing transaction with SELECT set_config('reclock.token', <token>, true).")));
}

typedef enum DocMode
{
	DOC_WRITE,					/* at a write: lock each row of the chain */
	DOC_READ,					/* without row locks: refuse, or nothing */
	DOC_COMMIT					/* at pre-commit: lock, waiting */
} DocMode;

/*
 * The chain above a child row: from the parent row that vals name through
 * child's guard (foreign key conname), up.  Each live lock whose token is
 * not presented refuses the write (55P03, naming the written row of
 * childtable0); returns whether a presented lock covers it.  *unseen: a row
 * of the chain was not there (judge the written row again at commit).
 */
static bool
doc_check(Relation written, Oid childtable0, const char *childkey, bool is_insert,
		  Oid child, Oid childtable, const char *conname0, Datum *vals,
		  DocMode mode, bool *unseen)
{
	char		conname[NAMEDATALEN];
	Datum		cur[INDEX_MAX_KEYS];
	bool		covered = false;
	int			depth;

	strlcpy(conname, conname0, NAMEDATALEN);
	memcpy(cur, vals, sizeof(cur));
	*unseen = false;
	for (depth = 0; depth < RECLOCK_MAX_CHAIN_DEPTH; depth++)
	{
		Relation	crel = relation_open(child, AccessShareLock);
		DocLevel	l = *doc_level(crel, childtable, conname);
		Relation	prel;
		char	   *key = NULL;
		Datum		next[INDEX_MAX_KEYS];
		bool		has_next = false;
		bool		found;
		ReclockLock sl;
		bool		presented;
		ParentSqlArg pa;

		relation_close(crel, NoLock);
		if (!OidIsValid(l.parent))
			break;
		prel = relation_open(l.parent, AccessShareLock);
		pa.link = &l.link;
		pa.parent = prel;
		pa.pki = ReclockGetKeyInfo(prel);
		pa.plink = l.has_plink ? &l.plink : NULL;
		pa.mode = NULL;
		found = run_parent(&pa, mode == DOC_WRITE ? PARENT_LOCK_NOWAIT :
						   mode == DOC_READ ? PARENT_READ : PARENT_LOCK,
						   cur, CurrentMemoryContext, &key, next, &has_next);
		if (!found && mode == DOC_WRITE)
		{
			bool		ignored;

			/* taken by another (or not there): a refusal needs no wait */
			(void) doc_check(written, childtable0, childkey, is_insert, child, childtable,
							 conname, cur, DOC_READ, &ignored);
			found = run_parent(&pa, PARENT_LOCK, cur, CurrentMemoryContext,
							   &key, next, &has_next);
		}
		if (!found && mode != DOC_READ)
		{
			/* not there for this transaction: the key its values name; again at commit */
			*unseen = true;
			has_next = false;
			key = fk_parent_key(&l.link, pa.pki, cur);
		}
		relation_close(prel, NoLock);
		if (key == NULL)
			break;
		if (ReclockCitusShardLock(&l.stores, cur[l.distarg], key, &sl, &presented))
		{
			if (presented)
				covered = true;
			else
				refuse_doc_child(written, childtable0, childkey, is_insert,
								 l.parenttable, key, &sl);
		}
		if (!has_next)
			break;
		child = l.parent;
		childtable = l.parenttable;
		strlcpy(conname, l.plink.conname, NAMEDATALEN);
		memcpy(cur, next, sizeof(Datum) * l.plink.nkeys);
	}
	return covered;
}

/* child rows written here whose chain was not all there: judged again at pre-commit */
typedef struct DocRecheck
{
	Oid			child;
	Oid			childtable;
	char		conname[NAMEDATALEN];
	Datum		vals[INDEX_MAX_KEYS];
	char	   *childkey;
	bool		is_insert;
	SubTransactionId subid;
} DocRecheck;

static List *doc_rechecks = NIL;
static LocalTransactionId doc_rechecks_lxid = InvalidLocalTransactionId;

static void
doc_recheck_xact(XactEvent event, void *arg)
{
	ListCell   *lc;
	bool		pushed = false;

	if (doc_rechecks_lxid != MY_LXID || doc_rechecks == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (!ActiveSnapshotSet())
			{
				PushActiveSnapshot(GetTransactionSnapshot());
				pushed = true;
			}
			foreach(lc, doc_rechecks)
			{
				DocRecheck *r = lfirst(lc);
				Relation	rel = try_relation_open(r->child, AccessShareLock);
				bool		unseen;

				if (rel == NULL)
					continue;	/* dropped since: its rows went with it */
				(void) doc_check(rel, r->childtable, r->childkey, r->is_insert, r->child,
								 r->childtable, r->conname, r->vals, DOC_COMMIT, &unseen);
				relation_close(rel, AccessShareLock);
			}
			if (pushed)
				PopActiveSnapshot();
			doc_rechecks = NIL;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			doc_rechecks = NIL;
			break;
		default:
			break;
	}
}

static void
doc_recheck_subxact(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB || doc_rechecks_lxid != MY_LXID)
		return;
	foreach(lc, doc_rechecks)
		if (((DocRecheck *) lfirst(lc))->subid >= mySubid)
			doc_rechecks = foreach_delete_current(doc_rechecks, lc);
}

static void
doc_recheck_later(Relation child, Oid childtable, ReclockChildLink *link, Datum *vals,
				  const char *childkey, bool is_insert)
{
	static bool registered_cb = false;
	MemoryContext oldcxt;
	DocRecheck *r;
	int			i;

	if (!registered_cb)
	{
		ReclockOnXactEvent(RECLOCK_XACT_CITUS_CHILDREN, doc_recheck_xact);
		ReclockOnSubXactEvent(RECLOCK_SUBXACT_CITUS_CHILDREN, doc_recheck_subxact);
		registered_cb = true;
	}
	if (ReclockNewTransaction(&doc_rechecks_lxid))
		doc_rechecks = NIL;
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	r = palloc0(sizeof(DocRecheck));
	r->child = RelationGetRelid(child);
	r->childtable = childtable;
	strlcpy(r->conname, link->conname, NAMEDATALEN);
	for (i = 0; i < link->nkeys; i++)
		r->vals[i] = datumCopy(vals[i], link->typbyvals[i], link->typlens[i]);
	r->childkey = childkey ? pstrdup(childkey) : NULL;
	r->is_insert = is_insert;
	r->subid = GetCurrentSubTransactionId();
	doc_rechecks = lappend(doc_rechecks, r);
	MemoryContextSwitchTo(oldcxt);
}

/* the foreign-key values of a row version; false if one is NULL (no parent) */
static bool
doc_fk_values(ReclockChildLink *link, HeapTuple tuple, TupleDesc desc, Datum *vals)
{
	int			i;

	for (i = 0; i < link->nkeys; i++)
	{
		bool		isnull;

		vals[i] = heap_getattr(tuple, link->attnums[i], desc, &isnull);
		if (isnull)
			return false;
	}
	return true;
}

static bool
doc_check_row(Relation shardrel, Oid table, ReclockChildLink *link, const char *conname,
			  HeapTuple tuple, bool is_insert)
{
	TupleDesc	desc = RelationGetDescr(shardrel);
	Datum		vals[INDEX_MAX_KEYS];
	char	   *childkey;
	bool		unseen;
	bool		covered;

	if (!doc_fk_values(link, tuple, desc, vals))
		return false;
	childkey = ReclockNewTupleKey(ReclockGetKeyInfo(shardrel), tuple, desc);
	covered = doc_check(shardrel, table, childkey, is_insert, RelationGetRelid(shardrel),
						table, conname, vals, DOC_WRITE, &unseen);
	if (unseen)
		doc_recheck_later(shardrel, table, link, vals, childkey, is_insert);
	return covered;
}

/*
 * The guard of a shard of a protected distributed child table (conname:
 * its guard's foreign key), for one row: the parent row of the old version
 * (UPDATE, DELETE) and of the new one (INSERT, and an UPDATE that moves the
 * row to another parent), as ReclockChildGuard on one node.  False when the
 * table is not protected as a distributed table (the caller refuses).
 */
bool
ReclockCitusChildGuard(Relation shardrel, ReclockKeyInfo *ki, const char *conname,
					   TriggerData *td, bool require_lock, bool *covered)
{
	Oid			table = ki->citus_table;
	TupleDesc	desc = RelationGetDescr(shardrel);
	bool		is_insert = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	HeapTuple	oldtup = is_insert ? NULL : td->tg_trigtuple;
	HeapTuple	newtup = is_insert ? td->tg_trigtuple :
		TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : NULL;
	ReclockChildLink link;
	bool		moves;

	*covered = false;
	{
		ReclockCitusShard own;

		if (!ReclockCitusShardStores(shardrel, table, &own))
			return false;
	}
	link = doc_level(shardrel, table, conname)->link;
	moves = oldtup != NULL && newtup != NULL &&
		!ReclockColumnsUnchanged(link.nkeys, link.attnums, link.typbyvals, link.typlens,
								 oldtup, newtup, desc);
	if (oldtup != NULL)
		*covered = doc_check_row(shardrel, table, &link, conname, oldtup, false);
	/* a row that enters a parent is covered by that parent's lock only */
	if (newtup != NULL && (oldtup == NULL || moves))
		*covered = doc_check_row(shardrel, table, &link, conname, newtup, is_insert);
	if (is_insert && require_lock && !*covered)
	{
		char	   *key = ReclockNewTupleKey(ki, newtup, desc);

		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errtableconstraint(shardrel, RECLOCK_GUARD_TRIGGER),
				 errmsg("cannot insert row %s into table \"%s\": its parent row is not locked",
						key ? key : "(new)", get_rel_name(table)),
				 errdetail("The table is protected with require_lock: a new row needs a live lock on its parent row."),
				 errhint("Acquire the parent row with reclock_acquire() and present its token with set_config('reclock.token', <token>, true).")));
	}
	return true;
}

/*
 * TRUNCATE of a shard of a protected distributed child table, on its node
 * (after its own check): refused (55P03) while the lock store shard of a
 * table above it, beside it here, has a live lock.
 */
void
ReclockCitusChildTruncate(Relation shardrel, Oid table)
{
	Oid			child = RelationGetRelid(shardrel);
	Oid			truncated = table;
	int			depth;

	for (depth = 0; depth < RECLOCK_MAX_CHAIN_DEPTH; depth++)
	{
		Relation	shell = relation_open(table, AccessShareLock);
		ReclockChildLink *l = ReclockChildLinkOf(shell);
		char		conname[NAMEDATALEN];
		Relation	crel;
		DocLevel	lv;

		if (l != NULL)
			strlcpy(conname, l->conname, NAMEDATALEN);
		relation_close(shell, AccessShareLock);
		if (l == NULL)
			return;
		crel = relation_open(child, AccessShareLock);
		lv = *doc_level(crel, table, conname);
		relation_close(crel, NoLock);
		if (!OidIsValid(lv.parent))
			return;
		if (ReclockCitusStoreHasLive(lv.stores.locks))
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errtableconstraint(shardrel, RECLOCK_GUARD_TRIGGER),
					 errmsg("cannot truncate shard \"%s\" of table \"%s\" while table \"%s\", above it in its chain, has live locks",
							RelationGetRelationName(shardrel), get_rel_name(truncated),
							get_rel_name(lv.parenttable)),
					 errdetail("TRUNCATE would remove child rows of locked parent rows."),
					 errhint("Wait for the locks to end, or end them with reclock_break().")));
		child = lv.parent;
		table = lv.parenttable;
	}
}


/*=========================================================================
 * c6-childnotices: change notices of child rows of Citus distributed
 * tables (issue 24).
 *
 * The notice trigger of a child table below a notifying table reaches its
 * shards as the table's other triggers do (protect.c makes it on the Citus
 * table with citus.enable_unsafe_triggers; Citus makes it on every shard).
 * On a child shard it fires on the shard's node, after the guard locked
 * the chain above the row (the shards beside, c-docs above): the chain is
 * read again from there, without row locks, and each notifying table's
 * row in it gets "updated" with "child" naming the written table, as
 * child_notices_of on one node.  A row of the chain that is not there
 * (a deferred foreign key, a row in flight) ends the walk, as on one node
 * (its level does not notify).  The payload goes into that table's notice
 * store shard beside the row (citusstore.c), collected by the coordinator.
 *=========================================================================*/

/* the notices of one version of a written child row (see above) */
static void
citus_child_notices_row(Relation shardrel, Oid table, const char *conname0, HeapTuple tuple)
{
	ReclockChildLink link = doc_level(shardrel, table, conname0)->link;
	Datum		cur[INDEX_MAX_KEYS];
	char		conname[NAMEDATALEN];
	Oid			child = RelationGetRelid(shardrel);
	Oid			childtable = table;
	int			depth;

	if (!doc_fk_values(&link, tuple, RelationGetDescr(shardrel), cur))
		return;					/* no parent */
	strlcpy(conname, conname0, NAMEDATALEN);
	for (depth = 0; depth < RECLOCK_MAX_CHAIN_DEPTH; depth++)
	{
		Relation	crel = relation_open(child, AccessShareLock);
		DocLevel	l = *doc_level(crel, childtable, conname);
		Relation	prel;
		ParentSqlArg pa;
		char	   *key = NULL;
		Datum		next[INDEX_MAX_KEYS];
		bool		has_next = false;
		bool		found;

		relation_close(crel, NoLock);
		if (!OidIsValid(l.parent))
			break;				/* a parent without stores: no notices above */
		prel = relation_open(l.parent, AccessShareLock);
		pa.link = &l.link;
		pa.parent = prel;
		pa.pki = ReclockGetKeyInfo(prel);
		pa.plink = l.has_plink ? &l.plink : NULL;
		pa.mode = NULL;
		found = run_parent(&pa, PARENT_READ, cur, CurrentMemoryContext, &key, next, &has_next);
		relation_close(prel, NoLock);
		if (!found || key == NULL)
			break;
		if (ReclockCitusNotifying(l.parenttable))
		{
			ReclockLock lock;
			bool		presented;

			/* the parent's live lock, as read_parent_lock gives it on one node */
			(void) ReclockCitusShardLock(&l.stores, cur[l.distarg], key, &lock, &presented);
			lock.relid = l.parenttable;
			ReclockCitusChildNoticeSend(shardrel, l.parenttable, cur[l.distarg],
										l.link.fktypes[l.distarg],
										ReclockNotifyChildPayload(l.parenttable, key, table, &lock));
		}
		if (!has_next)
			break;
		child = l.parent;
		childtable = l.parenttable;
		strlcpy(conname, l.plink.conname, NAMEDATALEN);
		memcpy(cur, next, sizeof(Datum) * l.plink.nkeys);
	}
}

/*
 * The notice trigger fired on a shard of a Citus table (reclock_notice,
 * any event): true when the shard is handled here (a child shard's notices
 * sent, or none due), so that one node's ReclockChildNotices, which reads
 * local stores, never runs on a shard.
 */
bool
ReclockCitusChildShardNotices(Relation shardrel, ReclockKeyInfo *ki, TriggerData *td)
{
	TriggerDesc *trig = shardrel->trigdesc;
	const char *fk = NULL;
	char		conname[NAMEDATALEN];
	ReclockCitusShard own;
	bool		is_insert = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	HeapTuple	oldtup = is_insert ? NULL : td->tg_trigtuple;
	HeapTuple	newtup = is_insert ? td->tg_trigtuple :
		TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : NULL;
	ReclockChildLink link;
	int			i;

	for (i = 0; trig != NULL && i < trig->numtriggers; i++)
		/* on a shard, Citus names it reclock_guard_<shardid> */
		if (strcmp(trig->triggers[i].tgname, RECLOCK_GUARD_TRIGGER) == 0 ||
			ReclockCitusIsShardCopy(shardrel, trig->triggers[i].tgname, RECLOCK_GUARD_TRIGGER))
		{
			fk = ReclockTriggerParentFk(&trig->triggers[i]);
			break;
		}
	if (fk == NULL)
		return true;			/* not a child shard: no child notices */
	strlcpy(conname, fk, NAMEDATALEN);
	/* not protected as a distributed table: its guard refused the write */
	if (!ReclockCitusShardStores(shardrel, ki->citus_table, &own))
		return true;
	/* a table with notices of its own below tables without: no walk per row */
	{
		Oid			up = ReclockGuardParentOf(ki->citus_table);
		bool		any = false;
		int			depth = 0;

		while (!any && OidIsValid(up) && depth++ < RECLOCK_MAX_CHAIN_DEPTH)
		{
			any = ReclockCitusNotifying(up);
			up = ReclockGuardParentOf(up);
		}
		if (!any)
			return true;
	}
	link = doc_level(shardrel, ki->citus_table, conname)->link;
	if (oldtup != NULL)
		citus_child_notices_row(shardrel, ki->citus_table, conname, oldtup);
	if (newtup != NULL &&
		(oldtup == NULL ||
		 !ReclockColumnsUnchanged(link.nkeys, link.attnums, link.typbyvals, link.typlens,
								  oldtup, newtup, RelationGetDescr(shardrel))))
		citus_child_notices_row(shardrel, ki->citus_table, conname, newtup);
	return true;
}
