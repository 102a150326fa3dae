/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  The row key of a table: its primary key, in one canonical text form.
 *
 * A key is parsed with the key columns' own input functions and written
 * back with their output functions, so '042' and '42' name one row of an
 * integer key.  A composite key is a row literal of the key columns, read
 * and written by record_in and record_out over a blessed record type of the
 * key columns.  Acquire, the guard, CAS and notices all go through here, so
 * they agree on what a key is.  Locks of a partition are keyed by the root
 * of its partition tree.
 *
 * The facts about a table's key are cached per backend, and dropped by a
 * relcache invalidation of the table or of its root.  This file reads no
 * lock store and runs no SQL (it uses only reclock.c's settings): the row
 * lock of acquire is acquire.c's, the notice setting notify.c's, which
 * keep their answers in the key facts' fields for them.
 *
 * IDENTIFICATION
 *	  src/keys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/bytea.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "pgtime.h"

#include "reclock.h"

static HTAB *keyinfo_cache = NULL;
/* the entry last looked up (dynahash entries do not move; reset when any is removed) */
static ReclockKeyInfo *last_keyinfo = NULL;
static bool keyinfo_stale = false;	/* an entry was invalidated since the last look */
static uint64 keyinfo_invals = 0;	/* relcache invalidations seen */

static void keyinfo_invalidate(Datum arg, Oid relid);
static char *canonical_key(ReclockKeyInfo *ki, const char *key, Datum *values);
static void keyinfo_build(ReclockKeyInfo *ki, Relation rel);
static void keyinfo_free(ReclockKeyInfo *ki);
static bool output_reads_path(Oid typid);
static void key_equality(HeapTuple indtup, int i, Oid *eqop, Oid *eqtype,
						 Oid *collation);

static void
keyinfo_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	ReclockKeyInfo *ki;

	keyinfo_invals++;
	hash_seq_init(&status, keyinfo_cache);
	while ((ki = hash_seq_search(&status)) != NULL)
	{
		/*
		 * What the key's types are made of is checked again after any
		 * relation's change: ALTER TYPE ... ADD or DROP ATTRIBUTE changes a
		 * composite that a key column is of (PostgreSQL refuses only a
		 * change of an attribute's type there), and invalidates only the
		 * composite's own relation.
		 */
		ki->types_lockable = false;
		if (relid == InvalidOid || ki->relid == relid || ki->rootid == relid ||
			ki->citus_unsure)
		{
			ki->valid = false;
			keyinfo_stale = true;
		}
	}
}

/*
 * Forget the entries of relations that no longer exist (dropped), with all
 * their memory: a backend that creates, locks and drops table after table
 * must not keep an entry per table it ever saw.  Runs at the next look-up
 * after an invalidation, not in the invalidation callback (no catalog
 * access there).  An entry in use belongs to a relation its user holds
 * open, which cannot have been dropped.
 */
#define FORGET_BATCH	64

static void
keyinfo_forget_dropped(void)
{
	HASH_SEQ_STATUS status;
	ReclockKeyInfo *ki;
	Oid			gone[FORGET_BATCH];
	int			n = 0;
	int			i;

	keyinfo_stale = false;
	last_keyinfo = NULL;
	hash_seq_init(&status, keyinfo_cache);
	while ((ki = hash_seq_search(&status)) != NULL)
	{
		if (ki->valid)
			continue;
		if (n == FORGET_BATCH)
		{
			hash_seq_term(&status);
			keyinfo_stale = true;	/* the rest at the next look-up */
			break;
		}
		gone[n++] = ki->relid;
	}
	/* catalog look-ups may run invalidation callbacks: not inside the scan */
	for (i = 0; i < n; i++)
	{
		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(gone[i])))
			continue;
		ki = hash_search(keyinfo_cache, &gone[i], HASH_FIND, NULL);
		if (ki == NULL || ki->valid)
			continue;
		keyinfo_free(ki);
		if (ki->lk_cxt)
			MemoryContextDelete(ki->lk_cxt);
		hash_search(keyinfo_cache, &gone[i], HASH_REMOVE, NULL);
	}
}

/*
 * Call fn for every cached key info.
 */
void
ReclockForEachKeyInfo(void (*fn) (ReclockKeyInfo *ki, void *arg), void *arg)
{
	HASH_SEQ_STATUS status;
	ReclockKeyInfo *ki;

	if (keyinfo_cache == NULL)
		return;
	hash_seq_init(&status, keyinfo_cache);
	while ((ki = hash_seq_search(&status)) != NULL)
		fn(ki, arg);
}

/*
 * The root of a partition's tree, or the relation itself.
 */
Oid
ReclockRootOf(Oid relid)
{
	if (get_rel_relispartition(relid))
	{
		List	   *ancestors = get_partition_ancestors(relid);

		return llast_oid(ancestors);
	}
	return relid;
}

/*
 * Open a relation that reclock works on: a table or a partitioned table.
 */
Relation
ReclockOpenTable(Oid relid, const char *fname)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);

	/* an OID that names no relation (dropped, or never made): 42P01 */
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("%s was given a table that does not exist (dropped, or never made).", fname)));
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
				 errdetail("%s works only on tables and partitioned tables.", fname)));
	return rel;
}

/*
 * Does a value of this type name a catalog object by name?  The reg* types
 * (regclass, regproc, regtype, regrole, ...), and domains, arrays, ranges
 * and composites of them: their text follows renames and drops of the
 * objects they name, and (on 17) the session's temporary schema.
 */
static bool
type_names_objects(Oid typid, int depth)
{
	Oid			elem;

	check_stack_depth();
	if (depth > 16)
		return true;			/* too deep to tell: refuse */
	typid = getBaseType(typid);
	switch (typid)
	{
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCLASSOID:
		case REGCOLLATIONOID:
		case REGTYPEOID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
		case REGROLEOID:
		case REGNAMESPACEOID:
			return true;
		default:
			break;
	}
	if (OidIsValid(elem = get_element_type(typid)))
		return type_names_objects(elem, depth + 1);
	if (type_is_range(typid))
		return type_names_objects(get_range_subtype(typid), depth + 1);
	if (type_is_multirange(typid))
		return type_names_objects(get_multirange_range(typid), depth + 1);
	if (typid != RECORDOID && type_is_rowtype(typid))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
		bool		names = false;
		int			i;

		for (i = 0; i < desc->natts && !names; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				names = type_names_objects(att->atttypid, depth + 1);
		}
		ReleaseTupleDesc(desc);
		return names;
	}
	return false;
}

/*
 * A key made of a type that belongs elsewhere: a table's row type (a
 * change of that table -- perhaps another role's -- would change what the
 * key means: its ALTER TABLE would be refused while the lock lives), or a
 * temporary type (it goes at the end of its session, and the key column
 * with it).  Returns the offending type, or InvalidOid.
 */
static Oid
type_namespace(Oid typid, Oid *basetype)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			nsp;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
	*basetype = ((Form_pg_type) GETSTRUCT(tup))->typbasetype;
	ReleaseSysCache(tup);
	return nsp;
}

static bool
type_is_temp(Oid typid)
{
	Oid			base;

	return isAnyTempNamespace(type_namespace(typid, &base));
}

static Oid
type_belongs_elsewhere(Oid typid, int depth)
{
	Oid			elem;
	Oid			found = InvalidOid;
	Oid			base;

	check_stack_depth();
	if (depth > 16)
		return typid;
	if (isAnyTempNamespace(type_namespace(typid, &base)))
		return typid;
	if (OidIsValid(base))		/* a domain */
		return type_belongs_elsewhere(base, depth + 1);
	if (OidIsValid(elem = get_element_type(typid)))
		return type_belongs_elsewhere(elem, depth + 1);
	if (type_is_range(typid))
		return type_belongs_elsewhere(get_range_subtype(typid), depth + 1);
	if (type_is_multirange(typid))
		return type_belongs_elsewhere(get_multirange_range(typid), depth + 1);
	if (typid != RECORDOID && type_is_rowtype(typid))
	{
		Oid			relid = get_typ_typrelid(typid);
		TupleDesc	desc;
		int			i;

		if (OidIsValid(relid) && get_rel_relkind(relid) != RELKIND_COMPOSITE_TYPE)
			return typid;
		desc = lookup_rowtype_tupdesc(typid, -1);
		for (i = 0; i < desc->natts && !OidIsValid(found); i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				found = type_belongs_elsewhere(att->atttypid, depth + 1);
		}
		ReleaseTupleDesc(desc);
	}
	return found;
}

/* is the key made of a type that names catalog objects (a reg* type)? */
bool
ReclockKeyNamesObjects(ReclockKeyInfo *ki)
{
	int			i;

	for (i = 0; i < ki->nkeys; i++)
		if (type_names_objects(ki->typids[i], 0))
			return true;
	return false;
}

/*
 * Can locks be taken on this table?  Not on a temporary table (it goes at
 * the end of its session without a trace in the catalogs' drop events, and
 * its locks would outlive it), nor on one whose primary key names catalog
 * objects (a reg* type: the key's text changes with a rename, or names
 * nothing once the object is dropped), nor on one Citus distributes or
 * manages (citus.c).  0A000 otherwise.  For acquire and
 * protect; locks taken before 1.2 on such tables are still judged by the
 * guard and can still be released and broken.
 */
void
ReclockCheckLockable(Relation rel, ReclockKeyInfo *ki, const char *fname)
{
	Relation	root = rel;
	int			i;

	if (ki->rootid != RelationGetRelid(rel))
		root = relation_open(ki->rootid, AccessShareLock);
	if (root->rd_rel->relpersistence == RELPERSISTENCE_TEMP ||
		rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lock rows of temporary table \"%s\"",
						RelationGetRelationName(rel)),
				 errdetail("%s does not work on temporary tables: a lock lives in reclock's lock table and would outlive the table.", fname)));
	/*
	 * The key's types, walked once until a relation changes: a domain's
	 * base, an array's element, a range's subtype cannot change, and a
	 * composite's attributes change only with an invalidation of its
	 * relation, which clears types_lockable (keyinfo_invalidate).
	 */
	if (!ki->types_lockable)
	{
		uint64		invals = keyinfo_invals;

		for (i = 0; i < ki->nkeys; i++)
			if (type_names_objects(ki->typids[i], 0))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot lock rows of table \"%s\": its primary key column \"%s\" is of type %s, which names catalog objects",
								RelationGetRelationName(root),
								get_attname(ki->relid, ki->attnums[i], false),
								format_type_be(ki->typids[i])),
						 errdetail("%s does not work on keys of the reg* types (regclass, regproc, regtype, regrole, ...) or types made of them: their text changes when the objects they name are renamed or dropped.", fname),
						 errhint("Key the table by the object's OID or by a name of your own.")));
		for (i = 0; i < ki->nkeys; i++)
		{
			Oid			bad = type_belongs_elsewhere(ki->typids[i], 0);

			if (OidIsValid(bad))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot lock rows of table \"%s\": its primary key column \"%s\" is made of type %s",
								RelationGetRelationName(root),
								get_attname(ki->relid, ki->attnums[i], false),
								format_type_be(bad)),
						 type_is_temp(bad) ?
						 errdetail("%s does not work on keys made of temporary types: they go at the end of their session, and the key column with them.", fname) :
						 errdetail("%s does not work on keys made of a table's row type: a change of that table would change what the key means, and would be refused while a lock lives.", fname),
						 errhint("Key the table by columns of its own types, or by a composite type made with CREATE TYPE ... AS.")));
		}
		/* not if a change was taken in during the walk */
		ki->types_lockable = (invals == keyinfo_invals);
	}
	if (root != rel)
		relation_close(root, AccessShareLock);
	/* 0A000 for a table Citus distributes or manages (citus.c) */
	if (ki->citus != RECLOCK_CITUS_NONE)
		ReclockCitusRefuseLockable(rel, ki, fname);
}

/*
 * The caller must own the table (or be a superuser): 42501 otherwise.  For
 * a partition, the root of its partition tree: its locks are the root's
 * (keyed by the root), so owning one partition gives no right over them.
 */
void
ReclockCheckOwner(Relation rel, const char *detail)
{
	Oid			rootid = ReclockRootOf(RelationGetRelid(rel));

	if (!ReclockOwnsRelation(rootid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", get_rel_name(rootid)),
				 detail ? errdetail("%s", detail) : 0,
				 rootid != RelationGetRelid(rel) ?
				 errhint("\"%s\" is a partition: rights on its locks are judged on its partitioned table \"%s\".",
						 RelationGetRelationName(rel), get_rel_name(rootid)) : 0));
}

/*
 * In a PG_CATCH block around input functions: raise a data exception again
 * as 22P02 (invalid_text_representation) with msg, the type's own message
 * as the detail, whatever SQLSTATE the input function chose (22003 for an
 * integer out of range, 22007 for a bad date, 23514 for a value its domain's
 * CHECK refuses).  Other errors are re-thrown
 * as they are.  The error is caught only to be raised again at once.
 */
void
ReclockRaiseInvalidText(MemoryContext cxt, const char *msg, const char *hint)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	/* a domain's CHECK or NOT NULL (23514, 23502) also means "cannot be read" */
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION &&
		edata->sqlerrcode != ERRCODE_CHECK_VIOLATION &&
		edata->sqlerrcode != ERRCODE_NOT_NULL_VIOLATION)
		PG_RE_THROW();
	/* msg may live in ErrorContext (built inside PG_CATCH): copy it first */
	msg = pstrdup(msg);
	FlushErrorState();
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("%s", msg),
			 errdetail("%s", edata->message),
			 hint ? errhint("%s", hint) : 0));
}

/* the key facts live in the entry's own context, freed whole */
static void
keyinfo_free(ReclockKeyInfo *ki)
{
	if (ki->cxt)
		MemoryContextDelete(ki->cxt);
	ki->cxt = NULL;
	ki->attnums = NULL;
	ki->typids = NULL;
	ki->typmods = NULL;
	ki->outfuncs = NULL;
	ki->infuncs = NULL;
	ki->ioparams = NULL;
	ki->typlens = NULL;
	ki->typbyvals = NULL;
	ki->keydesc = NULL;
}

/*
 * Key facts replaced while the backend runs: their memory is freed at the
 * end of the transaction, not at once.  A key type's input function may run
 * code (a domain's CHECK) that invalidates the table's relcache entry and
 * calls reclock again, which rebuilds the entry while the outer call still
 * uses the old facts (its FmgrInfo and the input function's cache).
 */
static MemoryContext retired_cxt = NULL;

static void
retired_xact_callback(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		 event == XACT_EVENT_PARALLEL_ABORT) && retired_cxt != NULL)
		MemoryContextReset(retired_cxt);
}

static void
keyinfo_retire(ReclockKeyInfo *ki)
{
	if (ki->cxt != NULL)
	{
		if (retired_cxt == NULL)
		{
			retired_cxt = AllocSetContextCreate(TopMemoryContext, "reclock retired keys",
												ALLOCSET_SMALL_SIZES);
			ReclockOnXactEvent(RECLOCK_XACT_KEYS, retired_xact_callback);
		}
		MemoryContextSetParent(ki->cxt, retired_cxt);
		ki->cxt = NULL;
	}
	keyinfo_free(ki);
}

/*
 * The facts of key column i (the primary key index's column i), in ki's
 * memory: its number in rel (a partition may number it otherwise than
 * root), type, I/O functions, the index's equality and collation.
 */
static void
key_column_build(ReclockKeyInfo *ki, int i, Relation rel, Relation root,
				 HeapTuple indtup)
{
	Form_pg_index index = (Form_pg_index) GETSTRUCT(indtup);
	Oid			relid = RelationGetRelid(rel);
	AttrNumber	rootatt = index->indkey.values[i];
	Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(root), rootatt - 1);
	Oid			func;
	bool		isvarlena;

	if (rootatt <= 0)
		elog(ERROR, "primary key of \"%s\" has an expression column",
			 RelationGetRelationName(root));

	/* the same column in this relation (a partition may number it otherwise) */
	if (root == rel)
		ki->attnums[i] = rootatt;
	else
	{
		ki->attnums[i] = get_attnum(relid, NameStr(attr->attname));
		if (ki->attnums[i] == InvalidAttrNumber)
			elog(ERROR, "column \"%s\" missing in partition \"%s\"",
				 NameStr(attr->attname), RelationGetRelationName(rel));
	}
	ki->typids[i] = attr->atttypid;
	ki->typmods[i] = attr->atttypmod;
	ki->typlens[i] = attr->attlen;
	ki->typbyvals[i] = attr->attbyval;
	getTypeOutputInfo(attr->atttypid, &func, &isvarlena);
	fmgr_info_cxt(func, &ki->outfuncs[i], ki->cxt);
	getTypeInputInfo(attr->atttypid, &func, &ki->ioparams[i]);
	fmgr_info_cxt(func, &ki->infuncs[i], ki->cxt);
	if (ki->keydesc)
		TupleDescInitEntry(ki->keydesc, i + 1, NameStr(attr->attname),
						   attr->atttypid, attr->atttypmod, 0);
	if (output_reads_path(attr->atttypid))
		ki->pin_path = true;
	key_equality(indtup, i, &ki->eqops[i], &ki->eqtypes[i], &ki->collations[i]);
}

/*
 * The equality of key column i of the primary key index indtup: its
 * operator class's equality operator (its family's member for the class's
 * input type, as ri_triggers.c finds a key's equality) and the index's
 * collation.  Rows are found by key with these, so a lookup means what the
 * primary key means.
 */
static void
key_equality(HeapTuple indtup, int i, Oid *eqop, Oid *eqtype, Oid *collation)
{
	bool		isnull;
	oidvector  *indclass;
	oidvector  *indcoll;
	Oid			opclass;
	Oid			opfamily;

	indclass = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, indtup,
															 Anum_pg_index_indclass, &isnull));
	Assert(!isnull);
	indcoll = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, indtup,
															Anum_pg_index_indcollation, &isnull));
	Assert(!isnull);
	opclass = indclass->values[i];
	opfamily = get_opclass_family(opclass);
	*eqtype = get_opclass_input_type(opclass);
	*eqop = get_opfamily_member(opfamily, *eqtype, *eqtype, BTEqualStrategyNumber);
	if (!OidIsValid(*eqop))
		elog(ERROR, "missing operator %d(%u,%u) in opfamily %u",
			 BTEqualStrategyNumber, *eqtype, *eqtype, opfamily);
	*collation = indcoll->values[i];
}

static void
keyinfo_build(ReclockKeyInfo *ki, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			rootid = ReclockRootOf(relid);
	Relation	root;
	Oid			pkoid;
	HeapTuple	indtup;
	Form_pg_index index;
	MemoryContext oldcxt;
	int			i;

	root = (rootid == relid) ? rel : relation_open(rootid, AccessShareLock);
	pkoid = ReclockPrimaryKeyIndex(root);
	if (!OidIsValid(pkoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no primary key", RelationGetRelationName(root)),
				 errdetail("reclock names a row by its primary key."),
				 errhint("Add a primary key to the table.")));

	indtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
	if (!HeapTupleIsValid(indtup))
		elog(ERROR, "cache lookup failed for index %u", pkoid);
	index = (Form_pg_index) GETSTRUCT(indtup);

	ki->cxt = AllocSetContextCreate(CacheMemoryContext, "reclock key",
									ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(ki->cxt);
	ki->relid = relid;
	ki->rootid = rootid;
	ki->nkeys = index->indnkeyatts;
	ki->pin_path = false;
	ki->types_lockable = false;
	ki->attnums = palloc(sizeof(AttrNumber) * ki->nkeys);
	ki->typids = palloc(sizeof(Oid) * ki->nkeys);
	ki->typmods = palloc(sizeof(int32) * ki->nkeys);
	ki->typlens = palloc(sizeof(int16) * ki->nkeys);
	ki->typbyvals = palloc(sizeof(bool) * ki->nkeys);
	ki->outfuncs = palloc(sizeof(FmgrInfo) * ki->nkeys);
	ki->infuncs = palloc(sizeof(FmgrInfo) * ki->nkeys);
	ki->ioparams = palloc(sizeof(Oid) * ki->nkeys);
	ki->eqops = palloc(sizeof(Oid) * ki->nkeys);
	ki->eqtypes = palloc(sizeof(Oid) * ki->nkeys);
	ki->collations = palloc(sizeof(Oid) * ki->nkeys);
	if (ki->nkeys > 1)
		ki->keydesc = CreateTemplateTupleDesc(ki->nkeys);

	for (i = 0; i < ki->nkeys; i++)
		key_column_build(ki, i, rel, root, indtup);
	if (ki->keydesc)
	{
		BlessTupleDesc(ki->keydesc);

		/*
		 * record_in and record_out cache their column I/O in fn_extra, sized
		 * for one row type: each key shape has its own, in the key's memory,
		 * so keys of different widths do not reallocate it in turn (in
		 * CacheMemoryContext, never freed, when they were shared).
		 */
		fmgr_info_cxt(F_RECORD_IN, &ki->record_in, ki->cxt);
		fmgr_info_cxt(F_RECORD_OUT, &ki->record_out, ki->cxt);
	}
	MemoryContextSwitchTo(oldcxt);

	ReleaseSysCache(indtup);
	if (root != rel)
		relation_close(root, AccessShareLock);
	ki->lk_valid = false;
	ki->scan_after = 0;
	ki->last_count = 0;
	ki->last_has_epoch = false;
	ki->misses = ki->last_rows = 0;
	ki->notify_known = false;
	ki->citus = ReclockCitusKindOf(relid, &ki->citus_table, &ki->citus_unsure);
	ki->valid = true;
}

/*
 * The key facts of a table, from the cache or built anew.  Errors (55000)
 * if the table has no primary key.
 */
ReclockKeyInfo *
ReclockGetKeyInfo(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	ReclockKeyInfo *ki;
	bool		found;

	if (keyinfo_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ReclockKeyInfo);
		ctl.hcxt = CacheMemoryContext;
		keyinfo_cache = hash_create("reclock key info", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		ReclockRegisterRelcacheCallback(keyinfo_invalidate);
	}

	if (keyinfo_stale)
		keyinfo_forget_dropped();
	/* the guard asks for the same table row after row: remember the last */
	if (last_keyinfo != NULL && last_keyinfo->relid == relid && last_keyinfo->valid)
		return last_keyinfo;
	ki = hash_search(keyinfo_cache, &relid, HASH_ENTER, &found);
	if (!found)
	{
		memset(((char *) ki) + sizeof(Oid), 0, sizeof(ReclockKeyInfo) - sizeof(Oid));
		ki->relid = relid;
	}
	if (!ki->valid)
	{
		keyinfo_retire(ki);
		PG_TRY();
		{
			keyinfo_build(ki, rel);
		}
		PG_CATCH();
		{
			keyinfo_free(ki);
			ki->valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	last_keyinfo = ki;
	return ki;
}

/*
 * Parse a key given as text into the key columns' values (if values is
 * not NULL) and return its canonical form.  22P02 if the key columns'
 * types cannot read it.
 */
char *
ReclockCanonicalKey(ReclockKeyInfo *ki, const char *key, Datum *values)
{
	char	   *canon = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	/* a key the key types cannot read is 22P02 */
	PG_TRY();
	{
		canon = canonical_key(ki, key, values);
	}
	PG_CATCH();
	{
		ReclockRaiseInvalidText(cxt,
								psprintf("invalid key \"%s\" for table \"%s\"",
										 key, get_rel_name(ki->rootid)),
								ki->nkeys > 1 ?
								"Write a composite key as a row literal of the primary key columns, like (7,2)." : NULL);
	}
	PG_END_TRY();
	return canon;
}

static char *
canonical_key(ReclockKeyInfo *ki, const char *key, Datum *values)
{
	Datum		vals[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS];
	int			i;

	if (ki->nkeys == 1)
	{
		vals[0] = InputFunctionCall(&ki->infuncs[0], (char *) key,
									ki->ioparams[0], ki->typmods[0]);
		nulls[0] = false;
	}
	else
	{
		Datum		rec;
		HeapTupleHeader hdr;
		HeapTupleData tmptup;

		rec = InputFunctionCall(&ki->record_in, (char *) key, RECORDOID,
								ki->keydesc->tdtypmod);
		hdr = DatumGetHeapTupleHeader(rec);
		tmptup.t_len = HeapTupleHeaderGetDatumLength(hdr);
		ItemPointerSetInvalid(&tmptup.t_self);
		tmptup.t_tableOid = InvalidOid;
		tmptup.t_data = hdr;
		heap_deform_tuple(&tmptup, ki->keydesc, vals, nulls);
		for (i = 0; i < ki->nkeys; i++)
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("a primary key column cannot be null")));
	}
	if (values)
		memcpy(values, vals, sizeof(Datum) * ki->nkeys);
	return ReclockKeyText(ki, vals, nulls);
}

/*
 * The output of key values must not depend on the session: a date key
 * written under DateStyle 'SQL, DMY' and one written under 'ISO' must be
 * one lock.  Output is made with fixed settings (ISO dates, UTC, the
 * default IntervalStyle, shortest exact floats, hex bytea, identifiers
 * quoted only where needed), set around the output functions and always
 * put back.  Keys of the reg* types that name objects (a regclass key is
 * written "orders" or "public.orders" as the search_path finds it) are
 * also written under search_path = pg_catalog, so they are qualified by
 * schema unless they are in pg_catalog; that costs a little, so it is done
 * only for tables whose key holds such a type (ki->pin_path).
 */
typedef struct OutputSettings
{
	int			datestyle;
	int			dateorder;
	int			intervalstyle;
	int			extra_float_digits;
	int			bytea_output;
	bool		quote_all;
	pg_tz	   *timezone;
#if PG_VERSION_NUM >= 170000
	int			guc_level;		/* of the pinned search_path, or 0 */
#else
	bool		path_pinned;
#endif
} OutputSettings;

/*
 * Does the text form of a value of this type depend on search_path?  The
 * reg* types that qualify a name unless the search_path finds it, and
 * domains, arrays, ranges and composites of them.
 */
static bool
output_reads_path(Oid typid)
{
	Oid			elem;

	check_stack_depth();
	typid = getBaseType(typid);
	switch (typid)
	{
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCLASSOID:
		case REGCOLLATIONOID:
		case REGTYPEOID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
			return true;
		default:
			break;
	}
	if (OidIsValid(elem = get_element_type(typid)))
		return output_reads_path(elem);
	if (type_is_range(typid))
		return output_reads_path(get_range_subtype(typid));
	if (type_is_multirange(typid))
		return output_reads_path(get_multirange_range(typid));
	if (typid != RECORDOID && type_is_rowtype(typid))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
		bool		reads = false;
		int			i;

		for (i = 0; i < desc->natts && !reads; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				reads = output_reads_path(att->atttypid);
		}
		ReleaseTupleDesc(desc);
		return reads;
	}
	return false;
}

/* search_path = pg_catalog (no temp schema) until unpin_search_path */
static void
pin_search_path(OutputSettings *saved)
{
#if PG_VERSION_NUM >= 170000
	saved->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
#else
	OverrideSearchPath path = {NIL, true, false, 0};

	PushOverrideSearchPath(&path);
	saved->path_pinned = true;
#endif
}

static void
unpin_search_path(OutputSettings *saved)
{
#if PG_VERSION_NUM >= 170000
	if (saved->guc_level > 0)
		AtEOXact_GUC(true, saved->guc_level);
	saved->guc_level = 0;
#else
	if (saved->path_pinned)
		PopOverrideSearchPath();
	saved->path_pinned = false;
#endif
}

static void
canonical_settings(OutputSettings *saved)
{
	static pg_tz *utc = NULL;

	if (utc == NULL)
		utc = pg_tzset("UTC");
	saved->datestyle = DateStyle;
	saved->dateorder = DateOrder;
	saved->intervalstyle = IntervalStyle;
	saved->extra_float_digits = extra_float_digits;
	saved->bytea_output = bytea_output;
	saved->quote_all = quote_all_identifiers;
	saved->timezone = session_timezone;
#if PG_VERSION_NUM >= 170000
	saved->guc_level = 0;
#else
	saved->path_pinned = false;
#endif
	DateStyle = USE_ISO_DATES;
	DateOrder = DATEORDER_YMD;
	IntervalStyle = INTSTYLE_POSTGRES;
	extra_float_digits = 1;
	bytea_output = BYTEA_OUTPUT_HEX;
	quote_all_identifiers = false;
	if (utc)
		session_timezone = utc;
}

static void
restore_settings(OutputSettings *saved)
{
	DateStyle = saved->datestyle;
	DateOrder = saved->dateorder;
	IntervalStyle = saved->intervalstyle;
	extra_float_digits = saved->extra_float_digits;
	bytea_output = saved->bytea_output;
	quote_all_identifiers = saved->quote_all;
	session_timezone = saved->timezone;
}

/* a timestamp as notices write it: ISO 8601, in UTC */
char *
ReclockTimestampText(TimestampTz ts)
{
	OutputSettings saved;
	char	   *text;

	canonical_settings(&saved);
	PG_TRY();
	{
		text = DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(ts)));
	}
	PG_FINALLY();
	{
		restore_settings(&saved);
	}
	PG_END_TRY();
	return text;
}

/*
 * The cached key facts of a (root) table, if they are valid; NULL if none
 * (nothing is built).
 */
ReclockKeyInfo *
ReclockCachedKeyInfo(Oid rootid)
{
	ReclockKeyInfo *ki = NULL;

	if (keyinfo_cache != NULL)
		ki = hash_search(keyinfo_cache, &rootid, HASH_FIND, NULL);
	if (ki != NULL && ki->valid && ki->rootid == rootid)
		return ki;
	return NULL;
}

/* the canonical text of key column values */
char *
ReclockKeyText(ReclockKeyInfo *ki, Datum *vals, bool *nulls)
{
	OutputSettings saved;
	char	   *text;
	int			i;

	for (i = 0; i < ki->nkeys; i++)
		if (nulls[i])
			elog(ERROR, "primary key column is null");
	canonical_settings(&saved);
	PG_TRY();
	{
		if (ki->pin_path)
			pin_search_path(&saved);
		if (ki->nkeys == 1)
			text = OutputFunctionCall(&ki->outfuncs[0], vals[0]);
		else
			text = OutputFunctionCall(&ki->record_out,
									  HeapTupleGetDatum(heap_form_tuple(ki->keydesc, vals, nulls)));
	}
	PG_FINALLY();
	{
		unpin_search_path(&saved);
		restore_settings(&saved);
	}
	PG_END_TRY();
	return text;
}

/*
 * The canonical key of a row of the relation ki describes.  Made from the
 * values stored in the row, so that keys that are equal but written
 * otherwise ('1.5' and '1.50' of a numeric key) name one lock.
 */
char *
ReclockTupleKey(ReclockKeyInfo *ki, HeapTuple tuple, TupleDesc tupdesc)
{
	Datum		vals[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS];
	int			i;

	for (i = 0; i < ki->nkeys; i++)
		vals[i] = heap_getattr(tuple, ki->attnums[i], tupdesc, &nulls[i]);
	return ReclockKeyText(ki, vals, nulls);
}

/*
 * The same for a new row version, which may still hold a NULL key column
 * (an UPDATE setting it to NULL): NULL then, and PostgreSQL's own NOT NULL
 * check refuses the row (23502) after the BEFORE triggers.
 */
char *
ReclockNewTupleKey(ReclockKeyInfo *ki, HeapTuple tuple, TupleDesc tupdesc)
{
	int			i;

	for (i = 0; i < ki->nkeys; i++)
		if (heap_attisnull(tuple, ki->attnums[i], tupdesc))
			return NULL;
	return ReclockTupleKey(ki, tuple, tupdesc);
}

/* the key of two versions of a row: unchanged (the same lock)? */
bool
ReclockKeyUnchanged(ReclockKeyInfo *ki, HeapTuple oldtup, HeapTuple newtup,
					TupleDesc tupdesc)
{
	return ReclockColumnsUnchanged(ki->nkeys, ki->attnums, ki->typbyvals,
								   ki->typlens, oldtup, newtup, tupdesc);
}
