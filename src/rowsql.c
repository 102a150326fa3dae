/*-------------------------------------------------------------------------
 *
 * rowsql.c
 *	  SQL text for the statements reclock plans (plans.c) over a user's
 *	  table: its name, a key's WHERE clause with the primary key's own
 *	  equality and collation, operators and collations named whatever the
 *	  search_path.  And the one row lock taken without a statement: a row
 *	  found by its key locked as the executor's LockRows locks it.
 *
 * IDENTIFICATION
 *	  src/rowsql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "reclock.h"

/*
 * The relation's name for a query: schema-qualified, ONLY unless it is
 * partitioned (locks of an inheritance parent do not cover its children).
 */
char *
ReclockRelationSql(Relation rel)
{
	return psprintf("%s%s",
					rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
					quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											   RelationGetRelationName(rel)));
}

/* the columns (attnums, in relid's numbering) as a select list: "a, b" */
char *
ReclockColumnListSql(Oid relid, int ncols, const AttrNumber *attnums)
{
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	for (i = 0; i < ncols; i++)
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(get_attname(relid, attnums[i], false)));
	return sql.data;
}

/*
 * A WHERE clause that finds one row by key, with the primary key's equality
 * (key_equality) and collation, schema-qualified; parameters $1 .. $nkeys.
 * A column is compared as the operator class's input type when that is a
 * real type other than its own (a domain, varchar under text's class; the
 * cast is a relabeling, the key's index still serves); a polymorphic class
 * (enums, arrays, records) compares a domain as its base type, since
 * PostgreSQL resolves no operator of a domain over an enum.
 */
char *
ReclockKeyWhereSql(ReclockKeyInfo *ki)
{
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	for (i = 0; i < ki->nkeys; i++)
	{
		char	   *colname = get_attname(ki->relid, ki->attnums[i], false);
		Oid			cmptype = ki->eqtypes[i];

		if (get_typtype(cmptype) == TYPTYPE_PSEUDO)
			cmptype = getBaseType(ki->typids[i]);
		if (cmptype != ki->typids[i])
		{
			char	   *t = format_type_be_qualified(cmptype);

			appendStringInfo(&sql, "%s%s::%s %s $%d::%s%s",
							 i > 0 ? " AND " : "",
							 quote_identifier(colname), t,
							 ReclockOperatorSql(ki->eqops[i]),
							 i + 1, t, ReclockCollateSql(ki->collations[i]));
		}
		else
			appendStringInfo(&sql, "%s%s %s $%d%s",
							 i > 0 ? " AND " : "",
							 quote_identifier(colname),
							 ReclockOperatorSql(ki->eqops[i]),
							 i + 1, ReclockCollateSql(ki->collations[i]));
	}
	return sql.data;
}

/* " COLLATE schema.name" for a collation, or "" for none */
char *
ReclockCollateSql(Oid collid)
{
	HeapTuple	tup;
	Form_pg_collation coll;
	char	   *clause;

	if (!OidIsValid(collid))
		return "";
	tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for collation %u", collid);
	coll = (Form_pg_collation) GETSTRUCT(tup);
	clause = psprintf(" COLLATE %s.%s",
					  quote_identifier(get_namespace_name(coll->collnamespace)),
					  quote_identifier(NameStr(coll->collname)));
	ReleaseSysCache(tup);
	return clause;
}

/*
 * An operator as SQL that names it whatever the search_path:
 * OPERATOR(schema.name).
 */
char *
ReclockOperatorSql(Oid opr)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opr));
	Form_pg_operator op;
	char	   *sql;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opr);
	op = (Form_pg_operator) GETSTRUCT(tup);
	sql = psprintf("OPERATOR(%s.%s)",
				   quote_identifier(get_namespace_name(op->oprnamespace)),
				   NameStr(op->oprname));
	ReleaseSysCache(tup);
	return sql;
}

/*
 * Lock the row version at tid (found by an index scan with snap and the
 * scan keys skey) in mode, into slot, as the executor's LockRows does for
 * SELECT ... FOR UPDATE / FOR KEY SHARE (nodeLockRows.c): the table lock
 * such a SELECT takes (RowShareLock, kept to the end); under READ COMMITTED
 * the newest version of an updated row is locked
 * (TUPLE_LOCK_FLAG_FIND_LAST_VERSION) and checked again against the scan
 * keys, as EvalPlanQual checks it (an update that changed the key made it
 * another row: not found); a row deleted meanwhile is not found; under
 * REPEATABLE READ or SERIALIZABLE a row updated or deleted after the
 * snapshot is a serialization failure (40001).  A row changed by this very
 * command counts as gone (LockRows skips it).  With LockWaitSkip a row
 * locked by another is not found.  flags adds
 * TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS where a caller needs it.  heapatt
 * are the scan keys' columns in the table's numbering.  True if the row is
 * locked; its version is in slot.
 */
bool
ReclockLockRowVersion(Relation rel, ItemPointer tid, Snapshot snap,
					  TupleTableSlot *slot, LockTupleMode mode,
					  LockWaitPolicy wait, int flags,
					  int nkeys, const AttrNumber *heapatt, ScanKeyData *skey)
{
	TM_FailureData tmfd;
	TM_Result	res;
	bool		found = true;
	int			j;

	LockRelationOid(RelationGetRelid(rel), RowShareLock);

	res = table_tuple_lock(rel, tid, snap, slot, GetCurrentCommandId(true),
						   mode, wait,
						   flags | (IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION),
						   &tmfd);
	switch (res)
	{
		case TM_Ok:
			if (tmfd.traversed)
			{
				/* a newer version was locked: is it still the row named? */
				for (j = 0; j < nkeys && found; j++)
				{
					bool		isnull;
					Datum		d = slot_getattr(slot, heapatt[j], &isnull);

					found = !isnull &&
						DatumGetBool(FunctionCall2Coll(&skey[j].sk_func, skey[j].sk_collation,
													   d, skey[j].sk_argument));
				}
			}
			break;
		case TM_WouldBlock:		/* locked by another: skipped */
		case TM_SelfModified:	/* changed by this command: as deleted */
			found = false;
			break;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update")));
			if (res == TM_Updated)
				elog(ERROR, "unexpected table_tuple_lock status: %u", res);
			found = false;
			break;
		case TM_Invisible:
			elog(ERROR, "attempted to lock invisible tuple");
			break;
		default:
			elog(ERROR, "unrecognized table_tuple_lock status: %u", res);
			break;
	}
	return found;
}
