/*-------------------------------------------------------------------------
 *
 * links.c
 *	  Child tables' links to their parents: the foreign key a child
 *	  table's guard names (its columns, the parent's key columns and
 *	  equality), cached per backend, checked at reclock_protect, and the
 *	  chains of tables they make (order -> line -> note).
 *
 * IDENTIFICATION
 *	  src/links.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "reclock.h"

/*--- the link of a child table to its parent, from its guard trigger ---*/

static Oid
get_rel_owner_of(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static HTAB *link_cache = NULL;
static bool links_stale = false;
static ReclockChildLink *last_link = NULL;

static uint64 link_generation = 0;	/* moved at every invalidation */

static void
link_invalidate(Datum arg, Oid relid)
{
	links_stale = true;
	last_link = NULL;
	link_generation++;
}

static void
link_syscache_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	links_stale = true;
	last_link = NULL;
	link_generation++;
}

/*
 * Moves whenever the links are forgotten (any relcache invalidation, a
 * change of role membership): what a caller built from links goes too.
 */
uint64
ReclockChildLinkGeneration(void)
{
	return link_generation;
}

/*
 * The argument of a guard trigger that names its foreign key, or NULL:
 * 'parent_fk=<constraint name>'.
 */
const char *
ReclockTriggerParentFk(Trigger *trigger)
{
	int			i;

	for (i = 0; i < trigger->tgnargs; i++)
		if (strncmp(trigger->tgargs[i], "parent_fk=", 10) == 0)
			return trigger->tgargs[i] + 10;
	return NULL;
}

/*
 * The parent table of a protected child table, read from its guard trigger
 * and its foreign key without building links; InvalidOid if none.
 */
static Oid
guard_parent_of(Oid relid)
{
	Relation	r = try_relation_open(relid, AccessShareLock);
	Oid			result = InvalidOid;
	int			i;

	if (r == NULL)
		return InvalidOid;
	for (i = 0; r->trigdesc != NULL && i < r->trigdesc->numtriggers; i++)
	{
		Trigger    *t = &r->trigdesc->triggers[i];
		const char *fk;
		Oid			conoid;

		if (strcmp(t->tgname, RECLOCK_GUARD_TRIGGER) != 0 ||
			(fk = ReclockTriggerParentFk(t)) == NULL)
			continue;
		conoid = get_relation_constraint_oid(ReclockRootOf(relid), fk, true);
		if (OidIsValid(conoid))
		{
			HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));

			if (HeapTupleIsValid(tup))
			{
				result = ReclockRootOf(((Form_pg_constraint) GETSTRUCT(tup))->confrelid);
				ReleaseSysCache(tup);
			}
		}
		break;
	}
	relation_close(r, AccessShareLock);
	return result;
}

/*
 * Rights on every table above a child table, up to the top of the chain:
 * the guard locks their rows (as their owners) for the child's writers, and
 * its refusals name their holders.  roleid needs UPDATE on each (as
 * acquire needs): the caller of reclock_protect, or at a guard's first
 * firing the child table's owner -- a guard made by hand, by a role that
 * could not protect the table, never judges rows by another table's locks.
 */
static void
check_chain_rights(Oid childroot, Oid parentid, Oid roleid, bool at_protect)
{
	Oid			up = parentid;
	int			depth = 0;

	while (OidIsValid(up) && up != childroot && depth++ < RECLOCK_MAX_CHAIN_DEPTH)
	{
		if (pg_class_aclcheck(up, roleid, ACL_UPDATE) != ACLCHECK_OK &&
			pg_attribute_aclcheck_all(up, roleid, ACL_UPDATE, ACLMASK_ANY) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(up)),
					 at_protect ?
					 errdetail("Making a table a child table of another requires UPDATE privilege on every table above it.") :
					 errdetail("The owner of table \"%s\" has no UPDATE privilege on table \"%s\", above it in its chain: its guard cannot judge rows by that table's locks.",
							   get_rel_name(childroot), get_rel_name(up)),
					 at_protect ? 0 :
					 errhint("Protect the table with reclock_protect(table, parent => ...) as a role that may update every table above it.")));
		up = guard_parent_of(up);
	}
}

/* the foreign key named conname of the (root) table rootid, or an error */
static Oid
child_fk_oid(Oid rootid, const char *conname)
{
	Oid			conoid = get_relation_constraint_oid(rootid, conname, true);

	HeapTuple	tup = OidIsValid(conoid) ?
		SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid)) : NULL;
	bool		is_fk = HeapTupleIsValid(tup) &&
		((Form_pg_constraint) GETSTRUCT(tup))->contype == CONSTRAINT_FOREIGN;

	if (HeapTupleIsValid(tup))
		ReleaseSysCache(tup);
	if (!is_fk)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign key \"%s\" of table \"%s\" does not exist",
						conname, get_rel_name(rootid)),
				 errdetail("reclock finds the parent row of a child row through this foreign key."),
				 errhint("Protect the table again with reclock_protect(table, parent => ..., parent_fk => ...), or remove the guard with reclock_unprotect().")));
	return conoid;
}

/* a foreign key's columns and operators, from pg_constraint */
typedef struct FkColumns
{
	int			nkeys;
	AttrNumber	conkey[INDEX_MAX_KEYS];		/* the child's columns */
	AttrNumber	confkey[INDEX_MAX_KEYS];	/* the parent's columns they reference */
	Oid			pfeqop[INDEX_MAX_KEYS];		/* parent column = child column */
	Oid			confrelid;
	NameData	conname;
} FkColumns;

static void
fk_columns(Oid conoid, FkColumns *fk)
{
	HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	Oid			ppeqop[INDEX_MAX_KEYS];
	Oid			ffeqop[INDEX_MAX_KEYS];

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for constraint %u", conoid);
	DeconstructFkConstraintRow(tup, &fk->nkeys, fk->conkey, fk->confkey, fk->pfeqop,
							   ppeqop, ffeqop, NULL, NULL);
	fk->confrelid = ((Form_pg_constraint) GETSTRUCT(tup))->confrelid;
	fk->conname = ((Form_pg_constraint) GETSTRUCT(tup))->conname;
	ReleaseSysCache(tup);
}

/*
 * A foreign key the guard can use: it references the parent table itself
 * (not one of its partitions) by its primary key, and no column of it is
 * generated (computed after the BEFORE triggers: the guard would judge the
 * row by a value it does not get).  42P17 at protect, 55000 at a
 * write (the key was changed since): sqlstate.
 */
static void
fk_check_usable(Relation rel, FkColumns *fk, const char *conname, int sqlstate)
{
	Oid			rootid = ReclockRootOf(RelationGetRelid(rel));
	Oid			parentid = ReclockRootOf(fk->confrelid);
	Relation	root = relation_open(rootid, AccessShareLock);
	Relation	parent;
	ReclockKeyInfo *pki;
	int			i;
	int			j;

	for (i = 0; i < fk->nkeys; i++)
		if (TupleDescAttr(RelationGetDescr(root), fk->conkey[i] - 1)->attgenerated)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("foreign key \"%s\" of table \"%s\" has a generated column",
							conname, RelationGetRelationName(root)),
					 errdetail("A generated column is computed after the guard runs: the guard could not tell which parent row a row belongs to.")));
	/*
	 * A child row is compared with its parent by the key's own type.  Across
	 * types (a timestamp column referencing a timestamptz key, a date one)
	 * PostgreSQL's equality may depend on the session's settings (TimeZone):
	 * which parent a row belongs to would too.  Only the same type (domains
	 * seen through), integers of any width, and binary-coercible types
	 * (varchar referencing text) are followed.
	 */
	for (i = 0; i < fk->nkeys; i++)
	{
		Form_pg_attribute ca = TupleDescAttr(RelationGetDescr(root), fk->conkey[i] - 1);
		Oid			ctype = getBaseType(ca->atttypid);
		Oid			ptype = getBaseType(get_atttype(fk->confrelid, fk->confkey[i]));
		bool		ints = (ctype == INT2OID || ctype == INT4OID || ctype == INT8OID) &&
			(ptype == INT2OID || ptype == INT4OID || ptype == INT8OID);

		if (ctype != ptype && !ints && !IsBinaryCoercible(ctype, ptype))
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("foreign key \"%s\" of table \"%s\" compares column \"%s\" of type %s with a key column of type %s",
							conname, RelationGetRelationName(root), NameStr(ca->attname),
							format_type_be(ca->atttypid), format_type_be(get_atttype(fk->confrelid, fk->confkey[i]))),
					 errdetail("Across types, which parent row a row belongs to may depend on session settings such as TimeZone."),
					 errhint("Give the foreign key's columns the types of the parent's primary key.")));
	}
	relation_close(root, AccessShareLock);
	if (parentid != fk->confrelid)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("foreign key \"%s\" of table \"%s\" references partition \"%s\", not its partitioned table",
						conname, get_rel_name(rootid), get_rel_name(fk->confrelid)),
				 errdetail("A parent row's lock is named by the primary key of the partitioned table.")));
	parent = relation_open(parentid, AccessShareLock);
	pki = ReclockGetKeyInfo(parent);
	for (i = 0; i < pki->nkeys; i++)
	{
		for (j = 0; j < fk->nkeys; j++)
			if (fk->confkey[j] == pki->attnums[i])
				break;
		if (j == fk->nkeys)
			break;
	}
	if (fk->nkeys != pki->nkeys || i < pki->nkeys)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("foreign key \"%s\" of table \"%s\" does not reference the primary key of table \"%s\"",
						conname, get_rel_name(rootid), RelationGetRelationName(parent)),
				 errdetail("A parent row's lock is named by its primary key.")));
	relation_close(parent, AccessShareLock);
}

/*
 * The foreign key the guard of the (root) table rootid depends on, as
 * reclock_protect recorded it, or InvalidOid (a guard restored by pg_dump,
 * which keeps no dependencies, follows its key by name).
 */
static Oid
guard_bound_fk(Oid rootid)
{
	Oid			trigoid = get_trigger_oid(rootid, RECLOCK_GUARD_TRIGGER, true);
	Oid			result = InvalidOid;
	Relation	dep;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(trigoid))
		return InvalidOid;
	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(TriggerRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(trigoid));
	scan = systable_beginscan(dep, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->refclassid == ConstraintRelationId && d->deptype == DEPENDENCY_NORMAL)
		{
			result = d->refobjid;
			break;
		}
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return result;
}

static void
link_build(ReclockChildLink *link, Relation rel, const char *conname)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			rootid = ReclockRootOf(relid);
	Oid			conoid = child_fk_oid(rootid, conname);
	Oid			bound = guard_bound_fk(rootid);
	FkColumns	fk;
	int			i;

	/* names swapped or a key renamed onto the guard's: not its key */
	if (OidIsValid(bound) && bound != conoid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign key \"%s\" of table \"%s\" is not the one the table was protected with",
						conname, get_rel_name(rootid)),
				 errdetail("The table was protected through foreign key \"%s\"; a child table stays bound to the key it was protected with.",
						   get_constraint_name(bound) ? get_constraint_name(bound) : "?"),
				 errhint("Protect the table again with reclock_protect(table, parent => ..., parent_fk => ...), or remove the guard with reclock_unprotect().")));

	fk_columns(conoid, &fk);
	fk_check_usable(rel, &fk, conname, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
	link->relid = relid;
	strlcpy(link->conname, conname, NAMEDATALEN);
	link->conoid = conoid;
	link->parentid = ReclockRootOf(fk.confrelid);
	link->nkeys = fk.nkeys;
	link->int_key = false;
	for (i = 0; i < fk.nkeys; i++)
	{
		AttrNumber	att = fk.conkey[i];
		Form_pg_attribute attr;

		if (rootid != relid)
		{
			att = get_attnum(relid, get_attname(rootid, fk.conkey[i], false));
			if (att == InvalidAttrNumber)
				elog(ERROR, "column of foreign key \"%s\" missing in partition \"%s\"",
					 conname, get_rel_name(relid));
		}
		link->attnums[i] = att;
		link->refattnums[i] = fk.confkey[i];
		link->pfeqops[i] = fk.pfeqop[i];
		attr = TupleDescAttr(RelationGetDescr(rel), att - 1);
		link->fktypes[i] = attr->atttypid;
		link->typlens[i] = attr->attlen;
		link->typbyvals[i] = attr->attbyval;
	}
	if (fk.nkeys == 1 && (link->fktypes[0] == INT2OID || link->fktypes[0] == INT4OID ||
					   link->fktypes[0] == INT8OID))
		link->int_key = true;
	link->rights_checked = false;
	link->valid = true;
}

/*
 * The link of a child relation (a partition of a child table too) through
 * the foreign key conname.
 */
ReclockChildLink *
ReclockGetChildLink(Relation rel, const char *conname, bool firing)
{
	Oid			relid = RelationGetRelid(rel);
	ReclockChildLink *link;
	bool		found;

	/*
	 * Any invalidation empties the cache (its memory goes with it: a link
	 * of a table dropped since is not kept), so it holds only the links
	 * used since the last one.  Callers copy a link before anything else
	 * can call here.
	 */
	if (links_stale && link_cache != NULL)
	{
		hash_destroy(link_cache);
		link_cache = NULL;
	}
	links_stale = false;
	if (link_cache == NULL)
	{
		static bool registered = false;
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ReclockChildLink);
		ctl.hcxt = CacheMemoryContext;
		link_cache = hash_create("reclock child links", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		if (!registered)
		{
			ReclockRegisterRelcacheCallback(link_invalidate);
			/* rights through role membership: no relcache invalidation */
			CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, link_syscache_invalidate, (Datum) 0);
			registered = true;
		}
	}
	if (last_link != NULL && last_link->relid == relid && last_link->valid &&
		strcmp(last_link->conname, conname) == 0 &&
		(!firing || last_link->rights_checked))
		return last_link;
	link = hash_search(link_cache, &relid, HASH_ENTER, &found);
	if (!found)
		link->valid = false;
	if (!link->valid || strcmp(link->conname, conname) != 0)
	{
		link->valid = false;
		link_build(link, rel, conname);
	}
	last_link = link;
	if (firing)
	{
		if (!link->rights_checked)
		{
			Oid			rootid = ReclockRootOf(relid);

			check_chain_rights(rootid, link->parentid, get_rel_owner_of(rootid), false);
			link->rights_checked = true;
		}
	}
	return link;
}

/* the link of a relation whose guard names a parent, or NULL */
ReclockChildLink *
ReclockChildLinkOf(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	int			i;

	if (td == NULL)
		return NULL;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		const char *fk;

		if (strcmp(t->tgname, RECLOCK_GUARD_TRIGGER) != 0)
			continue;
		fk = ReclockTriggerParentFk(t);
		if (fk == NULL)
			return NULL;
		return ReclockGetChildLink(rel, fk, true);
	}
	return NULL;
}

/*
 * The foreign keys a table declared itself (PostgreSQL adds one per
 * partition of a partitioned referenced table, with conparentid set).
 */
List *
ReclockOwnForeignKeys(Relation rel)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);
		HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(fk->conoid));

		if (!HeapTupleIsValid(tup))
			continue;
		if (!OidIsValid(((Form_pg_constraint) GETSTRUCT(tup))->conparentid))
			result = lappend(result, fk);
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * reclock_protect(tbl, parent => p, parent_fk => name): the foreign key of
 * rel that makes it a child of parent.  42P17 if none fits: none or several
 * (without a name), or one that does not reference the parent's primary key.
 */
char *
ReclockChildValidate(Relation rel, Relation parent, const char *parent_fk, Oid *fkoid)
{
	Oid			rootid = ReclockRootOf(RelationGetRelid(rel));
	Oid			parentid = ReclockRootOf(RelationGetRelid(parent));
	List	   *fks;
	ListCell   *lc;
	Oid			conoid = InvalidOid;
	int			candidates = 0;
	char	   *conname;
	Relation	root;
	FkColumns	fk;

	if (parentid == rootid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("table \"%s\" cannot be its own parent", RelationGetRelationName(rel)),
				 errdetail("A lock on a row covers the rows of other tables that reference it, not of the same table.")));
	(void) ReclockGetKeyInfo(parent);	/* 55000 if it has no primary key */

	/* protect (fkoid): the caller may update every table above; the formset check reads */
	if (fkoid != NULL)
		check_chain_rights(rootid, parentid, GetUserId(), true);

	root = relation_open(rootid, AccessShareLock);
	fks = ReclockOwnForeignKeys(root);
	foreach(lc, fks)
	{
		ForeignKeyCacheInfo *fki = lfirst_node(ForeignKeyCacheInfo, lc);

		if (ReclockRootOf(fki->confrelid) != parentid)
			continue;
		if (parent_fk != NULL &&
			strcmp(get_constraint_name(fki->conoid), parent_fk) != 0)
			continue;
		candidates++;
		conoid = fki->conoid;
	}
	relation_close(root, AccessShareLock);
	if (candidates == 0 && parent_fk != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("table \"%s\" has no foreign key \"%s\" to table \"%s\"",
						RelationGetRelationName(rel), parent_fk,
						RelationGetRelationName(parent)),
				 errdetail("A child row belongs to the parent row its foreign key references.")));
	if (candidates == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("table \"%s\" has no foreign key to table \"%s\"",
						RelationGetRelationName(rel), RelationGetRelationName(parent)),
				 errdetail("A child row belongs to the parent row its foreign key references."),
				 errhint("Add a foreign key that references the parent's primary key.")));
	if (candidates > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("table \"%s\" has several foreign keys to table \"%s\"",
						RelationGetRelationName(rel), RelationGetRelationName(parent)),
				 errhint("Name the one that makes a row a child with parent_fk => '<constraint name>'.")));

	/* it must reference the parent's primary key: that names the parent's lock */
	fk_columns(conoid, &fk);
	conname = pstrdup(NameStr(fk.conname));
	fk_check_usable(rel, &fk, conname, ERRCODE_INVALID_OBJECT_DEFINITION);
	if (fkoid != NULL)
		*fkoid = conoid;

	/* no cycle: walk up from the parent */
	{
		Oid			up = parentid;
		int			depth = 0;

		while (OidIsValid(up) && depth++ < RECLOCK_MAX_CHAIN_DEPTH)
		{
			Relation	urel = relation_open(up, AccessShareLock);
			ReclockChildLink *ul = ReclockChildLinkOf(urel);
			Oid			next = ul ? ul->parentid : InvalidOid;

			relation_close(urel, AccessShareLock);
			if (next == rootid)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						 errmsg("table \"%s\" would be a parent of itself through table \"%s\"",
								RelationGetRelationName(rel), get_rel_name(up)),
						 errdetail("Child tables form chains (order, line, note), not cycles.")));
			up = next;
		}
	}
	return conname;
}

/* does a table above this child table (its root) have notices on? */
bool
ReclockChildNoticesWanted(Oid rootid, Oid known_relid, bool known_on)
{
	Oid			up = guard_parent_of(rootid);
	int			depth = 0;

	while (OidIsValid(up) && up != rootid && depth++ < RECLOCK_MAX_CHAIN_DEPTH)
	{
		if (up == known_relid ? known_on : ReclockNotifyOnRelid(up))
			return true;
		up = guard_parent_of(up);
	}
	return false;
}

/* the (root) child tables whose guard names parentid as their parent */
List *
ReclockChildTablesOf(Oid parentid)
{
	Relation	trg = table_open(TriggerRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(trg, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	List	   *children = NIL;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);

		if (strcmp(NameStr(t->tgname), RECLOCK_GUARD_TRIGGER) == 0 &&
			!OidIsValid(t->tgparentid) && t->tgrelid != parentid &&
			!list_member_oid(children, t->tgrelid) &&
			guard_parent_of(t->tgrelid) == parentid)
			children = lappend_oid(children, t->tgrelid);
	}
	systable_endscan(scan);
	table_close(trg, AccessShareLock);
	return children;
}

/*
 * c6-childnotices: the parent table of a child table's guard (InvalidOid:
 * not a child table), for the Citus notice collector (citusstore.c).
 */
Oid
ReclockGuardParentOf(Oid relid)
{
	return guard_parent_of(relid);
}
