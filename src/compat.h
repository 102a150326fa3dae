/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL majors reclock builds for
 *	  (15 and later), in one place.
 *
 * Each shim names the major that changed the call and what the older ones
 * do instead.  Three blocks stay in their files because they are logic,
 * not a renamed call, or need a header no other file may include: keys.c
 * pins search_path through a GUC nest level on 17 and later
 * (PushOverrideSearchPath is gone) and through an override path before;
 * reclock.c finds its setting's GUC record with find_option() on 16 and
 * later and by a walk of the GUC array before (utils/guc_tables.h, read
 * there only).
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECLOCK_COMPAT_H
#define RECLOCK_COMPAT_H

#include "access/genam.h"
#include "access/transam.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "nodes/parsenodes.h"
#include "parser/parse_relation.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/relcache.h"

/* the local id of the current top-level transaction (17: inside vxid) */
#if PG_VERSION_NUM >= 170000
#define MY_LXID (MyProc->vxid.lxid)
#else
#define MY_LXID (MyProc->lxid)
#endif

/* 17 renamed ShmemVariableCache to TransamVariables */
#if PG_VERSION_NUM >= 170000
#define RECLOCK_TRANSAM_VARIABLES TransamVariables
#else
#define RECLOCK_TRANSAM_VARIABLES ShmemVariableCache
#endif

/* 16 moved GUC memory into a memory context: guc_malloc() and guc_free() */
#if PG_VERSION_NUM >= 160000
#define GUC_MALLOC(sz) guc_malloc(LOG, (sz))
#define GUC_FREE(p) guc_free(p)
#else
#define GUC_MALLOC(sz) malloc(sz)	/* the GUC machinery free()s extras */
#define GUC_FREE(p) free(p)
#endif

/*
 * 18 replaced the attribute pg_attribute_noreturn() with the prefix
 * pg_noreturn; the older one is a prefix too (GCC, Clang, MSVC).
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * The table's primary key index, or InvalidOid.  18 added deferrable_ok;
 * false keeps what 15-17 do: a deferrable primary key is none.
 */
static inline Oid
ReclockPrimaryKeyIndex(Relation rel)
{
#if PG_VERSION_NUM >= 180000
	return RelationGetPrimaryKeyIndex(rel, false);
#else
	return RelationGetPrimaryKeyIndex(rel);
#endif
}

/*
 * May role use the schema / execute the function (classid: its catalog,
 * NamespaceRelationId or ProcedureRelationId)?  16: object_aclcheck for
 * every class but relations and their columns.
 */
static inline AclResult
ReclockObjectAclcheck(Oid classid, Oid objectid, Oid roleid, AclMode mode)
{
#if PG_VERSION_NUM >= 160000
	return object_aclcheck(classid, objectid, roleid, mode);
#else
	Assert(classid == NamespaceRelationId || classid == ProcedureRelationId);
	return classid == NamespaceRelationId ?
		pg_namespace_aclcheck(objectid, roleid, mode) :
		pg_proc_aclcheck(objectid, roleid, mode);
#endif
}

/* does role own the relation?  (16: object_ownercheck for every class) */
static inline bool
ReclockOwnsRelation(Oid relid, Oid roleid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, roleid);
#else
	return pg_class_ownercheck(relid, roleid);
#endif
}

/*
 * An executor range table of one relation, as logical replication's apply
 * worker makes it (16 added RTEPermissionInfo, 18 the unpruned relids).
 */
static inline void
ReclockInitRangeTable(EState *estate, RangeTblEntry *rte)
{
#if PG_VERSION_NUM >= 160000
	List	   *perminfos = NIL;

	addRTEPermissionInfo(&perminfos, rte);
#endif
#if PG_VERSION_NUM >= 180000
	ExecInitRangeTable(estate, list_make1(rte), perminfos, bms_make_singleton(1));
#elif PG_VERSION_NUM >= 160000
	ExecInitRangeTable(estate, list_make1(rte), perminfos);
#else
	ExecInitRangeTable(estate, list_make1(rte));
#endif
}

/* an EPQ state with no plan (16 added the result relations) */
static inline void
ReclockEvalPlanQualInit(EPQState *epq, EState *estate)
{
#if PG_VERSION_NUM >= 160000
	EvalPlanQualInit(epq, estate, NULL, NIL, -1, NIL);
#else
	EvalPlanQualInit(epq, estate, NULL, NIL, -1);
#endif
}

/* an index's cleanup after a run of inserts (17; nothing before) */
static inline void
ReclockIndexInsertCleanup(Relation index, IndexInfo *ii)
{
#if PG_VERSION_NUM >= 170000
	index_insert_cleanup(index, ii);
#endif
}

#endif							/* RECLOCK_COMPAT_H */
