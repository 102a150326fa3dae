/*-------------------------------------------------------------------------
 *
 * notify.c
 *	  Change notices: NOTIFY reclock, '{"event": ..., "table": ..., ...}'.
 *
 * Opt-in per table (reclock_notify), kept in reclock_notify_store.  A
 * notice is queued with Async_Notify, so PostgreSQL sends it only when the
 * transaction commits, and folds identical notices of one transaction.  No
 * payload holds a token.  A key or holder too long for the 8000-byte payload
 * limit is sent as null with "truncated": true, never as an error.
 *
 * IDENTIFICATION
 *	  src/notify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "reclock.h"

PG_FUNCTION_INFO_V1(reclock_notify);

#define RECLOCK_CHANNEL "reclock"

/* Async_Notify refuses payloads of BLCKSZ - NAMEDATALEN - 128 (8000) bytes or more */
#define PAYLOAD_MAX (BLCKSZ - NAMEDATALEN - 128 - 1)

static void
append_field(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, ", \"%s\": ", name);
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

/* ISO 8601 in UTC, as every client library parses it: 2030-01-01T00:01:00Z */
static char *
iso_time(TimestampTz ts)
{
	char	   *t = ReclockTimestampText(ts);	/* 2030-01-01 00:01:00+00 */
	size_t		len = strlen(t);

	if (len > 3 && strcmp(t + len - 3, "+00") == 0)
	{
		char	   *space = strchr(t, ' ');

		if (space)
			*space = 'T';
		strcpy(t + len - 3, "Z");
	}
	return t;
}

static char *
payload(const char *event, Oid relid, const char *key, const char *new_key,
		ReclockLock *lock, bool drop_key, bool drop_holder)
{
	StringInfoData buf;
	char	   *table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   get_rel_name(relid));

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"event\": ");
	escape_json(&buf, event);
	append_field(&buf, "table", table);
	append_field(&buf, "key", drop_key ? NULL : key);
	if (new_key)
		append_field(&buf, "new_key", drop_key ? NULL : new_key);
	if (lock && lock->found)
	{
		append_field(&buf, "holder", drop_holder ? NULL : lock->holder);
		appendStringInfo(&buf, ", \"fence\": " INT64_FORMAT, lock->fence);
		append_field(&buf, "expires_at", iso_time(lock->expires_at));
	}
	else
		appendStringInfoString(&buf, ", \"holder\": null, \"fence\": null, \"expires_at\": null");
	if (drop_key || drop_holder)
		appendStringInfoString(&buf, ", \"truncated\": true");
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Queue a notice about a lock or row of relid (the root of its partition
 * tree), if the table has notices on.  Sent on commit.
 */
void
ReclockNotify(const char *event, Oid relid, const char *key,
			  const char *new_key, ReclockLock *lock)
{
	char	   *p;

	p = payload(event, relid, key, new_key, lock, false, false);
	if (strlen(p) > PAYLOAD_MAX)
		p = payload(event, relid, key, new_key, lock, true, false);
	if (strlen(p) > PAYLOAD_MAX)
		p = payload(event, relid, key, new_key, lock, true, true);
	Async_Notify(RECLOCK_CHANNEL, p);
}

/*
 * reclock_notify(tbl regclass, enabled boolean) returns void
 */
Datum
reclock_notify(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		enabled = PG_GETARG_BOOL(1);
	Relation	rel = ReclockOpenTable(relid, "reclock_notify()");
	Oid			rootid;

	ReclockCheckOwner(rel, "Only the table's owner decides whether its keys and holders are broadcast.");
	PreventCommandIfReadOnly("reclock_notify()");
	rootid = ReclockRootOf(relid);
	ReclockStoreSetNotify(rootid, enabled);
	/* every backend's cached answer for the table (and its partitions) goes */
	CacheInvalidateRelcacheByRelid(rootid);
	if (rootid != relid)
		CacheInvalidateRelcacheByRelid(relid);
	relation_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}
