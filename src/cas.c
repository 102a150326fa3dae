/*-------------------------------------------------------------------------
 *
 * cas.c
 *	  Compare-and-swap and diff: catch lost updates without a version column.
 *
 * Each expected value is read with its column type's input function and
 * compared with the type's default equality (from the type cache), in the
 * column's collation, NULL equal to NULL.  Everything runs as the caller,
 * through SPI, so privileges, row-level security and the table's triggers
 * (the guard among them) all apply.  With new values, one conditional
 * UPDATE checks and swaps (callgrind: a read and then an UPDATE cost 1.4
 * times a plain UPDATE, one UPDATE 1.16 times); only when it writes nothing
 * is the row read FOR UPDATE, to lock it all the same.  Without new values,
 * or when the caller may not write every column of new (then a value that
 * differs must be false, not a privilege error), the row is read FOR UPDATE
 * and compared here, and swapped only if all are equal.  Column names reach SQL only through
 * quote_identifier; values only as parameters.
 *
 * IDENTIFICATION
 *	  src/cas.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "reclock.h"

PG_FUNCTION_INFO_V1(reclock_cas);
PG_FUNCTION_INFO_V1(reclock_diff);

/* one named column with the value given for it */
typedef struct ColValue
{
	char	   *name;
	AttrNumber	attnum;
	Oid			typid;
	Oid			collid;
	Datum		value;
	bool		isnull;
	char	   *json;			/* the value as given, JSON text */
} ColValue;

static inline void
check_object(Jsonb *jb, const char *name)
{
	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", name),
				 errdetail("Give an object that maps column names to values, like {\"qty\": 3}.")));
}

/* a JSON value as the text a type input function reads */
static char *
json_value_text(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			return JsonbToCString(NULL, &JsonbValueToJsonb(v)->root, 0);
	}
}

/*
 * Read a JSON object of column => value into ColValues, each value read by
 * its column type's input function.  for_write refuses columns that cannot
 * be written.
 */
static Datum read_value(Relation rel, const char *colname, Oid typid,
						int32 typmod, char *text);

static ColValue *
read_columns(Relation rel, Jsonb *jb, bool for_write, int *ncols)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue	v;
	JsonbIteratorToken tok;
	ColValue   *cols = palloc0(sizeof(ColValue) * Max(JB_ROOT_COUNT(jb), 1));
	int			n = 0;
	TupleDesc	desc = RelationGetDescr(rel);

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		ColValue   *c;
		Form_pg_attribute attr;

		if (tok != WJB_KEY)
			continue;
		c = &cols[n];
		c->name = pnstrdup(v.val.string.val, v.val.string.len);
		c->attnum = get_attnum(RelationGetRelid(rel), c->name);
		if (c->attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist",
							c->name, RelationGetRelationName(rel))));
		if (c->attnum < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("cannot use system column \"%s\"", c->name),
					 errdetail("Only the table's own columns can be compared or written.")));
		attr = TupleDescAttr(desc, c->attnum - 1);
		if (for_write && attr->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_GENERATED_ALWAYS),
					 errmsg("cannot write generated column \"%s\"", c->name),
					 errdetail("Column \"%s\" is a generated column.", c->name)));
		c->typid = attr->atttypid;
		c->collid = attr->attcollation;

		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		c->json = (v.type == jbvBinary)
			? JsonbToCString(NULL, v.val.binary.data, v.val.binary.len)
			: JsonbToCString(NULL, &JsonbValueToJsonb(&v)->root, 0);
		if (v.type == jbvNull)
		{
			c->isnull = true;
			c->value = (Datum) 0;
		}
		else
		{
			Oid			base = getBaseType(c->typid);

			/* a json or jsonb column takes the JSON value itself */
			char	   *text = (base == JSONBOID || base == JSONOID || v.type == jbvBinary)
				? c->json : json_value_text(&v);

			c->value = read_value(rel, c->name, c->typid, attr->atttypmod, text);
		}
		n++;
	}
	*ncols = n;
	return cols;
}

/*
 * Read a value with its column type's input function.  A value the type
 * cannot read is 22P02 (see ReclockRaiseInvalidText).
 */
static Datum
read_value(Relation rel, const char *colname, Oid typid, int32 typmod, char *text)
{
	Oid			infunc;
	Oid			ioparam;
	Datum		value = (Datum) 0;
	MemoryContext cxt = CurrentMemoryContext;

	getTypeInputInfo(typid, &infunc, &ioparam);
	PG_TRY();
	{
		value = OidInputFunctionCall(infunc, text, ioparam, typmod);
	}
	PG_CATCH();
	{
		ReclockRaiseInvalidText(cxt,
								psprintf("invalid value for column \"%s\" of relation \"%s\"",
										 colname, RelationGetRelationName(rel)),
								NULL);
	}
	PG_END_TRY();
	return value;
}

/* the type's default equality, or a clear error */
static FmgrInfo *
equality_of(Oid typid)
{
	TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR_FINFO);

	if (!OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify an equality operator for type %s",
						format_type_be(typid)),
				 errdetail("reclock compares values with the type's default equality.")));
	return &tc->eq_opr_finfo;
}

static bool
values_equal(ColValue *c, Datum current, bool isnull)
{
	if (c->isnull || isnull)
		return c->isnull && isnull;
	return DatumGetBool(FunctionCall2Coll(equality_of(c->typid), c->collid,
										  current, c->value));
}

/*
 * Shared part of cas and diff: open the table, parse the key and the
 * expected values, and read the row's current values (locking it FOR
 * UPDATE for cas).  Returns false if the row is gone.  Leaves SPI connected.
 */
typedef struct CasState
{
	Relation	rel;
	ReclockKeyInfo *ki;
	Datum	   *keyvals;
	ColValue   *cols;
	int			ncols;
	HeapTuple	row;
	TupleDesc	rowdesc;
} CasState;

/*
 * On a table Citus manages, the statements below run through Citus, which
 * sends their parameters to the row's worker as text printed under this
 * session's settings: a compare or a swap could judge, and write, other
 * values than the caller gave (ReclockCitusExactTextBegin).  The expected
 * and new values were read under the caller's settings, as on one node.
 * Returns the GUC nest level to close with exact_text_end().
 */
static int
exact_text_begin(CasState *st)
{
	if (st->ki->citus != RECLOCK_CITUS_NONE)
		return ReclockCitusExactTextBegin();
	return -1;
}

static void
exact_text_end(int level)
{
	if (level >= 0)
		AtEOXact_GUC(true, level);
}

/* open the table, parse the key and the expected values */
static void
cas_parse(FunctionCallInfo fcinfo, CasState *st, const char *fname)
{
	Jsonb	   *expected;
	char	   *key;
	int			i;

	ReclockCheckNotNull(fcinfo, 0, "tbl");
	ReclockCheckNotNull(fcinfo, 1, "key");
	ReclockCheckNotNull(fcinfo, 2, "expected");
	expected = PG_GETARG_JSONB_P(2);
	check_object(expected, "expected");

	st->rel = ReclockOpenTable(PG_GETARG_OID(0), fname);
	st->ki = ReclockGetKeyInfo(st->rel);
	st->keyvals = palloc(sizeof(Datum) * st->ki->nkeys);
	key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	(void) ReclockCanonicalKey(st->ki, key, st->keyvals);
	st->cols = read_columns(st->rel, expected, false, &st->ncols);
	for (i = 0; i < st->ncols; i++)
		(void) equality_of(st->cols[i].typid);
}

/*
 * Read the row's current values of the expected columns (and, with_json,
 * each as jsonb), locking it FOR UPDATE if asked.  False if the row is
 * gone.  Connects SPI and leaves it connected.
 */
typedef struct FetchArg
{
	CasState   *st;
	bool		for_update;
	bool		with_json;
} FetchArg;

static char *
fetch_sql(void *arg)
{
	FetchArg   *fa = (FetchArg *) arg;
	CasState   *st = fa->st;
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT 1");
	for (i = 0; i < st->ncols; i++)
	{
		const char *q = quote_identifier(st->cols[i].name);

		appendStringInfo(&sql, ", %s", q);
		if (fa->with_json)
			appendStringInfo(&sql, ", pg_catalog.to_jsonb(%s)", q);
	}
	appendStringInfo(&sql, " FROM %s WHERE %s%s", ReclockRelationSql(st->rel),
					 ReclockKeyWhereSql(st->ki), fa->for_update ? " FOR UPDATE" : "");
	return sql.data;
}

static bool
cas_fetch(CasState *st, bool for_update, bool with_json)
{
	StringInfoData shape;
	int			i;
	int			ret;
	FetchArg	fa = {st, for_update, with_json};
	ReclockStatement stmt;
	int			level;

	initStringInfo(&shape);
	appendStringInfoString(&shape, for_update ? "lock" : (with_json ? "json" : "read"));
	for (i = 0; i < st->ncols; i++)
		appendStringInfo(&shape, ",%d", st->cols[i].attnum);
	stmt.relid = RelationGetRelid(st->rel);
	stmt.shape = shape.data;
	stmt.nargs = st->ki->nkeys;
	stmt.argtypes = st->ki->typids;
	stmt.build = fetch_sql;
	stmt.arg = &fa;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = exact_text_begin(st);
	ret = ReclockPlanRun(&stmt, st->keyvals, NULL, 1);
	exact_text_end(level);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	st->row = SPI_tuptable->vals[0];
	st->rowdesc = SPI_tuptable->tupdesc;
	return true;
}

static bool
cas_read(FunctionCallInfo fcinfo, CasState *st, bool for_update, bool with_json)
{
	cas_parse(fcinfo, st, for_update ? "reclock_cas()" : "reclock_diff()");
	return cas_fetch(st, for_update, with_json);
}

typedef struct SwapArg
{
	CasState   *st;
	ColValue   *newcols;
	int			nnew;
} SwapArg;

static char *
swap_sql(void *arg)
{
	SwapArg    *sa = (SwapArg *) arg;
	CasState   *st = sa->st;
	StringInfoData sql;
	int			p = st->ki->nkeys;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s SET ", ReclockRelationSql(st->rel));
	for (i = 0; i < sa->nnew; i++)
		appendStringInfo(&sql, "%s%s = $%d", i > 0 ? ", " : "",
						 quote_identifier(sa->newcols[i].name), ++p);
	appendStringInfo(&sql, " WHERE %s", ReclockKeyWhereSql(st->ki));
	for (i = 0; i < st->ncols; i++)
	{
		ColValue   *c = &st->cols[i];
		const char *q = quote_identifier(c->name);

		if (c->isnull)
			appendStringInfo(&sql, " AND %s IS NULL", q);
		else
			appendStringInfo(&sql, " AND %s %s $%d%s", q,
							 ReclockOperatorSql(lookup_type_cache(c->typid, TYPECACHE_EQ_OPR)->eq_opr),
							 ++p, ReclockCollateSql(c->collid));
	}
	return sql.data;
}

/*
 * Check and swap in one UPDATE: it writes the new values only where the
 * key matches and every expected column equals its value (the type's
 * default equality, in the column's collation; NULL equal to NULL).  Under
 * READ COMMITTED a row changed meanwhile is compared again in its new
 * version, after its writer ended.  True if the row was written.  Connects
 * SPI and leaves it connected.
 */
static bool
cas_swap(CasState *st, ColValue *newcols, int nnew)
{
	int			nparams = 0;
	int			max = st->ki->nkeys + nnew + st->ncols;
	Oid		   *types = palloc(sizeof(Oid) * max);
	Datum	   *values = palloc(sizeof(Datum) * max);
	char	   *nulls = palloc(max);
	int			i;
	int			ret;
	StringInfoData shape;
	SwapArg		sa = {st, newcols, nnew};
	ReclockStatement stmt;
	int			level;

	/* the parameters: the key, the new values, the non-null expected values */
	for (i = 0; i < st->ki->nkeys; i++)
	{
		types[nparams] = st->ki->typids[i];
		values[nparams] = st->keyvals[i];
		nulls[nparams++] = ' ';
	}
	for (i = 0; i < nnew; i++)
	{
		types[nparams] = newcols[i].typid;
		values[nparams] = newcols[i].value;
		nulls[nparams++] = newcols[i].isnull ? 'n' : ' ';
	}
	for (i = 0; i < st->ncols; i++)
	{
		if (st->cols[i].isnull)
			continue;
		types[nparams] = st->cols[i].typid;
		values[nparams] = st->cols[i].value;
		nulls[nparams++] = ' ';
	}

	initStringInfo(&shape);
	appendStringInfoString(&shape, "swap");
	for (i = 0; i < nnew; i++)
		appendStringInfo(&shape, ",%d", newcols[i].attnum);
	appendStringInfoString(&shape, ":");
	for (i = 0; i < st->ncols; i++)
		appendStringInfo(&shape, ",%d%s", st->cols[i].attnum, st->cols[i].isnull ? "n" : "");
	stmt.relid = RelationGetRelid(st->rel);
	stmt.shape = shape.data;
	stmt.nargs = nparams;
	stmt.argtypes = types;
	stmt.build = swap_sql;
	stmt.arg = &sa;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = exact_text_begin(st);
	ret = ReclockPlanRun(&stmt, values, nulls, 0);
	exact_text_end(level);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	/* none: a value differs, the row is gone, or a BEFORE trigger skipped it */
	return SPI_processed > 0;
}

/* may the caller UPDATE every column of new?  (table or column privilege) */
static bool
may_update(Relation rel, ColValue *cols, int n)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			user = GetUserId();
	int			i;

	if (pg_class_aclcheck(relid, user, ACL_UPDATE) == ACLCHECK_OK)
		return true;
	for (i = 0; i < n; i++)
		if (pg_attribute_aclcheck(relid, cols[i].attnum, user, ACL_UPDATE) != ACLCHECK_OK)
			return false;
	return true;
}

/*
 * reclock_cas(tbl regclass, key text, expected jsonb, new jsonb) returns boolean
 */
Datum
reclock_cas(PG_FUNCTION_ARGS)
{
	CasState	st;
	ColValue   *newcols = NULL;
	int			nnew = 0;
	int			i;
	bool		same = true;

	/* read and check new before anything is locked */
	if (!PG_ARGISNULL(3))
	{
		Jsonb	   *newjb = PG_GETARG_JSONB_P(3);

		check_object(newjb, "new");
		st.rel = ReclockOpenTable(PG_GETARG_OID(0), "reclock_cas()");
		newcols = read_columns(st.rel, newjb, true, &nnew);
		relation_close(st.rel, AccessShareLock);
	}

	cas_parse(fcinfo, &st, "reclock_cas()");

	if (nnew > 0 && may_update(st.rel, newcols, nnew))
	{
		bool		swapped = cas_swap(&st, newcols, nnew);

		SPI_finish();
		if (!swapped)
		{
			/* nothing written: the row stays locked all the same, as promised */
			(void) cas_fetch(&st, true, false);
			SPI_finish();
		}
		relation_close(st.rel, AccessShareLock);
		PG_RETURN_BOOL(swapped);
	}

	/*
	 * Lock the row and compare here; swap only if all are equal (so a caller
	 * who may not write a column of new learns it only when the values
	 * match: a value that differs is false, as the contract says).
	 */
	if (cas_fetch(&st, true, false))
	{
		for (i = 0; i < st.ncols && same; i++)
		{
			bool		isnull;
			Datum		cur = SPI_getbinval(st.row, st.rowdesc, i + 2, &isnull);

			same = values_equal(&st.cols[i], cur, isnull);
		}
	}
	else
		same = false;
	SPI_finish();
	if (same && nnew > 0)
	{
		same = cas_swap(&st, newcols, nnew);
		SPI_finish();
	}
	relation_close(st.rel, AccessShareLock);
	PG_RETURN_BOOL(same);
}

/*
 * reclock_diff(tbl regclass, key text, expected jsonb) returns jsonb
 */
Datum
reclock_diff(PG_FUNCTION_ARGS)
{
	CasState	st;
	StringInfoData out;
	MemoryContext caller = CurrentMemoryContext;
	Datum		result;
	int			i;
	int			ndiff = 0;

	if (!cas_read(fcinfo, &st, false, true))
	{
		SPI_finish();
		relation_close(st.rel, AccessShareLock);
		PG_RETURN_NULL();
	}

	{
		MemoryContext spicxt = MemoryContextSwitchTo(caller);

		initStringInfo(&out);
		MemoryContextSwitchTo(spicxt);
	}
	appendStringInfoChar(&out, '{');
	for (i = 0; i < st.ncols; i++)
	{
		bool		isnull;
		bool		jnull;
		Datum		cur = SPI_getbinval(st.row, st.rowdesc, 2 * i + 2, &isnull);
		Datum		curjson = SPI_getbinval(st.row, st.rowdesc, 2 * i + 3, &jnull);

		if (values_equal(&st.cols[i], cur, isnull))
			continue;
		if (ndiff++ > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, st.cols[i].name);
		appendStringInfo(&out, ": {\"expected\": %s, \"current\": %s}",
						 st.cols[i].json,
						 jnull ? "null" : JsonbToCString(NULL, &DatumGetJsonbP(curjson)->root, 0));
	}
	appendStringInfoChar(&out, '}');

	SPI_finish();
	MemoryContextSwitchTo(caller);
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
	relation_close(st.rel, AccessShareLock);
	PG_RETURN_DATUM(result);
}

/*
 * The formset check: reclock_cas_children and reclock_diff_children compare
 * the child rows of one parent row with the rows a form showed, as a set:
 * rows inserted, rows deleted, and the named columns of the rest, each
 * compared as reclock_cas compares.
 */
PG_FUNCTION_INFO_V1(reclock_cas_children);
PG_FUNCTION_INFO_V1(reclock_diff_children);

/* one child row the form showed */
typedef struct ShownRow
{
	char	   *key;			/* canonical */
	Datum	   *keyvals;		/* the key columns' values, as read */
	ColValue   *cols;
	int			ncols;
	bool		seen;			/* still there */
} ShownRow;

typedef struct ChildRowsState
{
	Relation	rel;			/* the child table (its root) */
	ReclockKeyInfo *ki;
	ReclockChildLink link;
	CasState	parent;			/* the parent row: rel, ki, key values */
	char	   *parent_key;
	ShownRow   *shown;
	int			nshown;
	ShownRow  **sorted;			/* shown, by key */
	AttrNumber *cols;			/* every column named, once */
	int			ncols;
	bool		for_update;
	bool		with_json;
	bool		count_only;		/* child_rows_sql: count the rows */
	Datum		params[INDEX_MAX_KEYS];	/* the parent's key, in the foreign key's order */
	Oid			ptypes[INDEX_MAX_KEYS];
} ChildRowsState;

static int
compare_shown(const void *a, const void *b)
{
	return strcmp((*(ShownRow *const *) a)->key, (*(ShownRow *const *) b)->key);
}

/* shown rows by their key values, in the key types' btree order */
static int
compare_shown_values(const void *a, const void *b, void *arg)
{
	ChildRowsState  *ks = (ChildRowsState *) arg;
	ShownRow   *ra = *(ShownRow *const *) a;
	ShownRow   *rb = *(ShownRow *const *) b;
	int			k;

	for (k = 0; k < ks->ki->nkeys; k++)
	{
		TypeCacheEntry *tc = lookup_type_cache(ks->ki->typids[k], TYPECACHE_CMP_PROC_FINFO);
		int32		c;

		if (!OidIsValid(tc->cmp_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("could not identify a comparison function for type %s",
							format_type_be(ks->ki->typids[k]))));
		c = DatumGetInt32(FunctionCall2Coll(&tc->cmp_proc_finfo,
											TupleDescAttr(RelationGetDescr(ks->rel),
														  ks->ki->attnums[k] - 1)->attcollation,
											ra->keyvals[k], rb->keyvals[k]));
		if (c != 0)
			return c;
	}
	return 0;
}

/* the foreign key that makes rel a child table: its guard's, or its only one */
static void
child_rows_link(ChildRowsState *ks)
{
	ReclockChildLink *l = ReclockChildLinkOf(ks->rel);

	if (l == NULL)
	{
		List	   *fks = ReclockOwnForeignKeys(ks->rel);
		ForeignKeyCacheInfo *fk;
		Relation	parent;
		char	   *conname;

		if (list_length(fks) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("table \"%s\" is not a child table", RelationGetRelationName(ks->rel)),
					 errdetail("It is not protected as a child table, and it has %s foreign key.",
							   list_length(fks) == 0 ? "no" : "more than one"),
					 errhint("Protect it with reclock_protect(table, parent => '<table>', parent_fk => '<constraint>').")));
		fk = linitial_node(ForeignKeyCacheInfo, fks);
		parent = ReclockOpenTable(ReclockRootOf(fk->confrelid), "reclock_cas_children()");
		conname = ReclockChildValidate(ks->rel, parent, get_constraint_name(fk->conoid), NULL);
		relation_close(parent, AccessShareLock);
		l = ReclockGetChildLink(ks->rel, conname, false);
	}
	ks->link = *l;
}

/* the rows shown, sorted by key (ks->sorted); 22023 for a key named twice */
static void
sort_shown(ChildRowsState *ks)
{
	int			n = ks->nshown;
	int			i;

	ks->sorted = palloc(sizeof(ShownRow *) * Max(n, 1));
	for (i = 0; i < n; i++)
		ks->sorted[i] = &ks->shown[i];
	qsort(ks->sorted, n, sizeof(ShownRow *), compare_shown);
	/*
	 * A key named twice is found by the key types' equality, as rows are
	 * (1.5 and 1.50 of a numeric key are one row): sorted by the types' own
	 * ordering, equal keys are neighbours.
	 */
	{
		ShownRow  **byval = palloc(sizeof(ShownRow *) * Max(n, 1));

		memcpy(byval, ks->sorted, sizeof(ShownRow *) * n);
		qsort_arg(byval, n, sizeof(ShownRow *), compare_shown_values, ks);
		for (i = 1; i < n; i++)
			if (compare_shown_values(&byval[i - 1], &byval[i], ks) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("expected names child row %s twice", byval[i]->key),
						 byval[i - 1]->key && strcmp(byval[i - 1]->key, byval[i]->key) != 0 ?
						 errdetail("Keys %s and %s are equal.", byval[i - 1]->key, byval[i]->key) : 0));
		pfree(byval);
	}
}

/* every column the rows shown name, once, in the order first named (ks->cols) */
static void
shown_columns(ChildRowsState *ks, int maxcols)
{
	int			n = ks->nshown;
	int			i;

	ks->cols = palloc(sizeof(AttrNumber) * Max(maxcols, 1));
	ks->ncols = 0;
	for (i = 0; i < n; i++)
	{
		int			c;

		for (c = 0; c < ks->shown[i].ncols; c++)
		{
			AttrNumber	att = ks->shown[i].cols[c].attnum;
			int			j;

			for (j = 0; j < ks->ncols; j++)
				if (ks->cols[j] == att)
					break;
			if (j == ks->ncols)
				ks->cols[ks->ncols++] = att;
		}
	}
}

/* read expected: a JSON array of objects, each with the key columns */
static void
child_rows_read_shown(ChildRowsState *ks, Jsonb *expected)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n = 0;
	int			i;
	int			maxcols = 0;

	if (!JB_ROOT_IS_ARRAY(expected) || JB_ROOT_IS_SCALAR(expected))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected must be a JSON array of objects"),
				 errdetail("Give one object per child row the form showed, with its key columns, like [{\"id\": 7, \"qty\": 3}].")));
	ks->shown = palloc0(sizeof(ShownRow) * Max(JB_ROOT_COUNT(expected), 1));
	it = JsonbIteratorInit(&expected->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		ShownRow   *sr;
		Jsonb	   *obj;
		Datum		kv[INDEX_MAX_KEYS];
		bool		kn[INDEX_MAX_KEYS];
		int			k;

		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvBinary ||
			!JsonContainerIsObject(v.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element %d of expected is not a JSON object", n + 1),
					 errdetail("Give one object per child row the form showed, with its key columns.")));
		obj = JsonbValueToJsonb(&v);
		sr = &ks->shown[n];
		sr->cols = read_columns(ks->rel, obj, false, &sr->ncols);
		for (k = 0; k < ks->ki->nkeys; k++)
		{
			for (i = 0; i < sr->ncols; i++)
				if (sr->cols[i].attnum == ks->ki->attnums[k])
					break;
			if (i == sr->ncols || sr->cols[i].isnull)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("element %d of expected lacks key column \"%s\"", n + 1,
								get_attname(ks->ki->relid, ks->ki->attnums[k], false)),
						 errdetail("Each child row the form showed is named by its primary key.")));
			kv[k] = sr->cols[i].value;
			kn[k] = false;
		}
		sr->key = ReclockKeyText(ks->ki, kv, kn);
		sr->keyvals = palloc(sizeof(Datum) * ks->ki->nkeys);
		memcpy(sr->keyvals, kv, sizeof(Datum) * ks->ki->nkeys);
		for (i = 0; i < sr->ncols; i++)
			(void) equality_of(sr->cols[i].typid);
		maxcols += sr->ncols;
		n++;
	}
	ks->nshown = n;

	sort_shown(ks);
	shown_columns(ks, maxcols);
}

static char *
child_rows_sql(void *arg)
{
	ChildRowsState  *ks = (ChildRowsState *) arg;
	Oid			relid = RelationGetRelid(ks->rel);
	StringInfoData sql;
	char	   *keys = ReclockColumnListSql(relid, ks->ki->nkeys, ks->ki->attnums);
	int			i;

	initStringInfo(&sql);
	if (ks->count_only)
		appendStringInfoString(&sql, "SELECT pg_catalog.count(*)");
	else
		appendStringInfo(&sql, "SELECT %s", keys);
	for (i = 0; i < ks->ncols && !ks->count_only; i++)
	{
		const char *q = quote_identifier(get_attname(relid, ks->cols[i], false));

		appendStringInfo(&sql, ", %s", q);
		if (ks->with_json)
			appendStringInfo(&sql, ", pg_catalog.to_jsonb(%s)", q);
	}
	appendStringInfo(&sql, " FROM %s WHERE ", ReclockRelationSql(ks->rel));
	for (i = 0; i < ks->link.nkeys; i++)
		appendStringInfo(&sql, "%s$%d %s %s", i > 0 ? " AND " : "", i + 1,
						 ReclockOperatorSql(ks->link.pfeqops[i]),
						 quote_identifier(get_attname(relid, ks->link.attnums[i], false)));
	if (!ks->count_only)
		appendStringInfo(&sql, " ORDER BY %s%s", keys, ks->for_update ? " FOR UPDATE" : "");
	return sql.data;
}

/*
 * Parse the arguments, read (and for cas lock) the parent row, then read
 * (and lock) its child rows.  False if the parent row is gone.  Leaves SPI
 * connected, the child rows in SPI_tuptable.
 */
static bool
child_rows_read(FunctionCallInfo fcinfo, ChildRowsState *ks, bool for_update, const char *fname)
{
	Jsonb	   *expected;
	Datum	   *params = ks->params;
	Oid		   *ptypes = ks->ptypes;
	ReclockStatement st;
	StringInfoData shape;
	int			i;
	int			ret;
	int			level;

	ReclockCheckNotNull(fcinfo, 0, "tbl");
	ReclockCheckNotNull(fcinfo, 1, "parent_key");
	ReclockCheckNotNull(fcinfo, 2, "expected");
	memset(ks, 0, sizeof(ChildRowsState));
	ks->for_update = for_update;
	ks->with_json = !for_update;
	ks->rel = ReclockOpenTable(ReclockRootOf(PG_GETARG_OID(0)), fname);
	ks->ki = ReclockGetKeyInfo(ks->rel);
	child_rows_link(ks);

	ks->parent.rel = ReclockOpenTable(ks->link.parentid, fname);
	ks->parent.ki = ReclockGetKeyInfo(ks->parent.rel);
	ks->parent.keyvals = palloc(sizeof(Datum) * ks->parent.ki->nkeys);
	ks->parent_key = ReclockCanonicalKey(ks->parent.ki, text_to_cstring(PG_GETARG_TEXT_PP(1)),
										 ks->parent.keyvals);
	expected = PG_GETARG_JSONB_P(2);
	child_rows_read_shown(ks, expected);
	ks->ki = ReclockGetKeyInfo(ks->rel);	/* the parent's may have replaced it as last */

	/* the parent row: FOR UPDATE keeps new children out (their key share waits) */
	ks->parent.ncols = 0;
	if (!cas_fetch(&ks->parent, for_update, false))
		return false;
	SPI_finish();

	/* the parent's key values, in the foreign key's column order */
	for (i = 0; i < ks->link.nkeys; i++)
	{
		int			j;

		for (j = 0; j < ks->parent.ki->nkeys; j++)
			if (ks->parent.ki->attnums[j] == ks->link.refattnums[i])
				break;
		if (j == ks->parent.ki->nkeys)
			elog(ERROR, "foreign key \"%s\" does not reference the parent's primary key",
				 ks->link.conname);
		params[i] = ks->parent.keyvals[j];
		ptypes[i] = ks->parent.ki->typids[j];
	}
	initStringInfo(&shape);
	appendStringInfo(&shape, "children:%u:%s", ks->link.conoid, for_update ? "lock" : "json");
	for (i = 0; i < ks->ncols; i++)
		appendStringInfo(&shape, ",%d", ks->cols[i]);
	st.relid = RelationGetRelid(ks->rel);
	st.shape = shape.data;
	st.nargs = ks->link.nkeys;
	st.argtypes = ptypes;
	st.build = child_rows_sql;
	st.arg = ks;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the parent's key values reach a Citus worker as text: printed exactly */
	level = exact_text_begin(&ks->parent);
	ret = ReclockPlanRun(&st, params, NULL, 0);
	exact_text_end(level);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	return true;
}

/* are a shown row's key values those of a row read (kv)?  By the key types' equality */
static bool
child_row_key_equal(ChildRowsState *ks, ShownRow *sr, Datum *kv)
{
	int			k;

	for (k = 0; k < ks->ki->nkeys; k++)
		if (!DatumGetBool(FunctionCall2Coll(equality_of(ks->ki->typids[k]),
											TupleDescAttr(RelationGetDescr(ks->rel),
														  ks->ki->attnums[k] - 1)->attcollation,
											kv[k], sr->keyvals[k])))
			return false;
	return true;
}

/*
 * The shown row that names the child row read (its key values kv, its
 * canonical key), or NULL.  Keys are matched by the key types' equality,
 * as reclock_cas finds a row (a shown 1.5 is the row whose numeric key is
 * 1.50): the canonical text finds the usual candidate at once, and only a
 * row it does not match is compared with the shown rows not matched yet.
 */
static ShownRow *
child_row_find(ChildRowsState *ks, char *key, Datum *kv)
{
	ShownRow	probe = {key};
	ShownRow   *pp = &probe;
	ShownRow  **found = bsearch(&pp, ks->sorted, ks->nshown, sizeof(ShownRow *), compare_shown);
	int			i;

	if (found != NULL && !(*found)->seen && child_row_key_equal(ks, *found, kv))
		return *found;
	for (i = 0; i < ks->nshown; i++)
		if (!ks->shown[i].seen && child_row_key_equal(ks, &ks->shown[i], kv))
			return &ks->shown[i];
	return NULL;
}

/* the SPI column of a named column's value (its jsonb follows it, with_json) */
static int
child_row_column(ChildRowsState *ks, AttrNumber att)
{
	int			j;

	for (j = 0; j < ks->ncols; j++)
		if (ks->cols[j] == att)
			break;
	return ks->ki->nkeys + 1 + (ks->with_json ? 2 * j : j);
}

/* the canonical key of a child row read, and its key values in kv */
static char *
child_row_key(ChildRowsState *ks, HeapTuple row, TupleDesc desc, Datum *kv)
{
	bool		kn[INDEX_MAX_KEYS];
	int			k;

	for (k = 0; k < ks->ki->nkeys; k++)
		kv[k] = SPI_getbinval(row, desc, k + 1, &kn[k]);
	return ReclockKeyText(ks->ki, kv, kn);
}

/*
 * reclock_cas_children(tbl regclass, parent_key text, expected jsonb) returns boolean
 */
Datum
reclock_cas_children(PG_FUNCTION_ARGS)
{
	ChildRowsState	ks;
	bool		same = true;
	uint64		r;
	int			i;

	if (!child_rows_read(fcinfo, &ks, true, "reclock_cas_children()"))
	{
		SPI_finish();
		relation_close(ks.parent.rel, AccessShareLock);
		relation_close(ks.rel, AccessShareLock);
		PG_RETURN_NULL();
	}
	/* every row is read (and so locked), whatever the answer */
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		kv[INDEX_MAX_KEYS];
		char	   *key = child_row_key(&ks, row, desc, kv);
		ShownRow   *sr = child_row_find(&ks, key, kv);

		if (sr == NULL)
		{
			same = false;		/* inserted since */
			continue;
		}
		sr->seen = true;
		for (i = 0; i < sr->ncols && same; i++)
		{
			bool		isnull;
			Datum		cur = SPI_getbinval(row, desc, child_row_column(&ks, sr->cols[i].attnum), &isnull);

			same = values_equal(&sr->cols[i], cur, isnull);
		}
	}
	for (i = 0; i < ks.nshown; i++)
		if (!ks.shown[i].seen)
			same = false;		/* deleted (or moved away) since */

	/*
	 * REPEATABLE READ and SERIALIZABLE: a child row that changed or went
	 * since the snapshot is 40001 already (FOR UPDATE); one inserted or moved
	 * in since is not visible to it.  Counted with the latest snapshot (the
	 * parent row is locked now: no more can come): a difference is 40001.
	 */
	if (IsolationUsesXactSnapshot() && ks.ki->citus != RECLOCK_CITUS_NONE)
	{
		/* on the parent row's worker (citusstore.c) */
		uint64		locked = SPI_processed;
		int			exact = exact_text_begin(&ks.parent);
		int64		latest = ReclockCitusChildrenLatest(ks.rel, ks.parent.rel, ks.link.conname,
													   ks.link.nkeys, ks.link.refattnums,
													   ks.ptypes, ks.params);

		exact_text_end(exact);
		if (latest != (int64) locked)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent insert of child rows"),
					 errdetail("Rows of table \"%s\" were added to row %s of table \"%s\" after this transaction's snapshot was taken.",
							   RelationGetRelationName(ks.rel), ks.parent_key,
							   RelationGetRelationName(ks.parent.rel)),
					 errhint("Retry the transaction.")));
	}
	else if (IsolationUsesXactSnapshot())
	{
		uint64		locked = SPI_processed;
		StringInfoData shape;
		ReclockStatement st;
		int			ret;
		bool		isnull;
		int64		latest;

		ks.count_only = true;
		initStringInfo(&shape);
		appendStringInfo(&shape, "kidcount:%u", ks.link.conoid);
		st.relid = RelationGetRelid(ks.rel);
		st.shape = shape.data;
		st.nargs = ks.link.nkeys;
		st.argtypes = ks.ptypes;
		st.build = child_rows_sql;
		st.arg = &ks;
		ret = ReclockPlanRunLatest(&st, ks.params, NULL, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
		latest = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (latest != (int64) locked)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent insert of child rows"),
					 errdetail("Rows of table \"%s\" were added to row %s of table \"%s\" after this transaction's snapshot was taken.",
							   RelationGetRelationName(ks.rel), ks.parent_key,
							   RelationGetRelationName(ks.parent.rel)),
					 errhint("Retry the transaction.")));
	}
	SPI_finish();
	relation_close(ks.parent.rel, AccessShareLock);
	relation_close(ks.rel, AccessShareLock);
	PG_RETURN_BOOL(same);
}

/*
 * reclock_diff_children(tbl regclass, parent_key text, expected jsonb) returns jsonb
 */
Datum
reclock_diff_children(PG_FUNCTION_ARGS)
{
	ChildRowsState	ks;
	MemoryContext caller = CurrentMemoryContext;
	StringInfoData inserted;
	StringInfoData deleted;
	StringInfoData changed;
	StringInfoData out;
	int			ninserted = 0;
	int			ndeleted = 0;
	int			nchanged = 0;
	uint64		r;
	int			i;
	Datum		result;

	if (!child_rows_read(fcinfo, &ks, false, "reclock_diff_children()"))
	{
		SPI_finish();
		relation_close(ks.parent.rel, AccessShareLock);
		relation_close(ks.rel, AccessShareLock);
		PG_RETURN_NULL();
	}
	{
		MemoryContext spicxt = MemoryContextSwitchTo(caller);

		initStringInfo(&inserted);
		initStringInfo(&deleted);
		initStringInfo(&changed);
		initStringInfo(&out);
		MemoryContextSwitchTo(spicxt);
	}
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		kv[INDEX_MAX_KEYS];
		char	   *key = child_row_key(&ks, row, desc, kv);
		ShownRow   *sr = child_row_find(&ks, key, kv);
		int			ndiff = 0;

		if (sr == NULL)
		{
			if (ninserted++ > 0)
				appendStringInfoString(&inserted, ", ");
			escape_json(&inserted, key);
			continue;
		}
		sr->seen = true;
		for (i = 0; i < sr->ncols; i++)
		{
			bool		isnull;
			bool		jnull;
			int			col = child_row_column(&ks, sr->cols[i].attnum);
			Datum		cur = SPI_getbinval(row, desc, col, &isnull);
			Datum		curjson = SPI_getbinval(row, desc, col + 1, &jnull);

			if (values_equal(&sr->cols[i], cur, isnull))
				continue;
			if (ndiff++ == 0)
			{
				if (nchanged++ > 0)
					appendStringInfoString(&changed, ", ");
				escape_json(&changed, key);
				appendStringInfoString(&changed, ": {");
			}
			else
				appendStringInfoString(&changed, ", ");
			escape_json(&changed, sr->cols[i].name);
			appendStringInfo(&changed, ": {\"expected\": %s, \"current\": %s}",
							 sr->cols[i].json,
							 jnull ? "null" : JsonbToCString(NULL, &DatumGetJsonbP(curjson)->root, 0));
		}
		if (ndiff > 0)
			appendStringInfoChar(&changed, '}');
	}
	for (i = 0; i < ks.nshown; i++)
	{
		if (ks.shown[i].seen)
			continue;
		if (ndeleted++ > 0)
			appendStringInfoString(&deleted, ", ");
		escape_json(&deleted, ks.shown[i].key);
	}
	appendStringInfoChar(&out, '{');
	if (ninserted > 0)
		appendStringInfo(&out, "\"inserted\": [%s]", inserted.data);
	if (ndeleted > 0)
		appendStringInfo(&out, "%s\"deleted\": [%s]", ninserted > 0 ? ", " : "", deleted.data);
	if (nchanged > 0)
		appendStringInfo(&out, "%s\"changed\": {%s}", ninserted + ndeleted > 0 ? ", " : "",
						 changed.data);
	appendStringInfoChar(&out, '}');
	SPI_finish();
	MemoryContextSwitchTo(caller);
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
	relation_close(ks.parent.rel, AccessShareLock);
	relation_close(ks.rel, AccessShareLock);
	PG_RETURN_DATUM(result);
}
