/*-------------------------------------------------------------------------
 *
 * notify.c
 *	  Change notices: NOTIFY reclock, '{"event": ..., "table": ..., ...}'.
 *
 * Opt-in per table (reclock_notify, protect.c), kept in reclock_notify_store.  A
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
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "commands/async.h"
#include "commands/trigger.h"
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


#define RECLOCK_CHANNEL "reclock"

/* are change notices on for the table (cached until its relcache entry goes)? */
bool
ReclockNotifyOn(ReclockKeyInfo *ki)
{
	if (!ki->notify_known)
	{
		ki->notify_on = ReclockStoreNotifyEnabled(ki->rootid);
		ki->notify_known = true;
	}
	return ki->notify_on;
}

/*
 * Are change notices on for the (root) table rootid?  From its cached key
 * facts if they are valid (reclock_notify invalidates them), else one probe.
 */
bool
ReclockNotifyOnRelid(Oid rootid)
{
	ReclockKeyInfo *ki = ReclockCachedKeyInfo(rootid);

	if (ki != NULL)
		return ReclockNotifyOn(ki);
	return ReclockStoreNotifyEnabled(rootid);
}

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
		Oid childid, ReclockLock *lock, bool drop_key, bool drop_holder)
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
	if (OidIsValid(childid))
		append_field(&buf, "child",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(childid)),
												get_rel_name(childid)));
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
 * PostgreSQL cannot PREPARE a transaction that queued a NOTIFY.  Refuse it
 * first, naming the table whose notices are the cause and what to do.
 * notice_level is the lowest (sub)transaction nest level with a notice of
 * ours still queued (0: none), notice_relid a table of those.
 */
static int	notice_level = 0;
static Oid	notice_relid = InvalidOid;

static void
notice_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_PREPARE && notice_level > 0)
	{
		char	   *name = get_rel_name(notice_relid);

		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that sent reclock change notices"),
				 errdetail("Change notices are on for table \"%s\", and PostgreSQL cannot send NOTIFY from a prepared transaction.",
						   name ? name : "?"),
				 errhint("Acquire, release and write rows of tables with change notices outside two-phase transactions, or turn the notices off with reclock_notify(table, false).")));
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		notice_level = 0;
}

static void
notice_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (notice_level == 0)
		return;
	/* an aborted subtransaction's notices are dropped, a committed one's move up */
	if (event == SUBXACT_EVENT_ABORT_SUB && notice_level >= level)
		notice_level = 0;
	else if (event == SUBXACT_EVENT_COMMIT_SUB && notice_level == level)
		notice_level = level - 1;
}

static void
remember_notice(Oid relid)
{
	static bool registered = false;
	int			level = GetCurrentTransactionNestLevel();

	if (!registered)
	{
		ReclockOnXactEvent(RECLOCK_XACT_NOTICES, notice_xact_callback);
		ReclockOnSubXactEvent(RECLOCK_SUBXACT_NOTICES, notice_subxact_callback);
		registered = true;
	}
	if (notice_level == 0 || level < notice_level)
	{
		notice_level = level;
		notice_relid = relid;
	}
}

/*
 * Queue a notice about a lock or row of relid (the root of its partition
 * tree), if the table has notices on.  Sent on commit.
 */
static char *
fitting_payload(const char *event, Oid relid, const char *key, const char *new_key,
				Oid childid, ReclockLock *lock)
{
	char	   *p;

	/* what does not fit goes, the holder first: the key is what a form needs */
	p = payload(event, relid, key, new_key, childid, lock, false, false);
	if (strlen(p) > PAYLOAD_MAX)
		p = payload(event, relid, key, new_key, childid, lock, false, true);
	if (strlen(p) > PAYLOAD_MAX)
		p = payload(event, relid, key, new_key, childid, lock, true, false);
	if (strlen(p) > PAYLOAD_MAX)
		p = payload(event, relid, key, new_key, childid, lock, true, true);
	return p;
}

static void
notify(const char *event, Oid relid, const char *key, const char *new_key,
	   Oid childid, ReclockLock *lock)
{
	Async_Notify(RECLOCK_CHANNEL, fitting_payload(event, relid, key, new_key, childid, lock));
	remember_notice(relid);
}

/*
 * The payload of a notice about a row of relid, made here and sent by
 * another node (a Citus worker's row, sent by its coordinator: citusstore.c).
 */
char *
ReclockNotifyPayload(const char *event, Oid relid, const char *key,
					 const char *new_key, ReclockLock *lock)
{
	return fitting_payload(event, relid, key, new_key, InvalidOid, lock);
}

/* queue a payload made by ReclockNotifyPayload (on this node or another) */
void
ReclockNotifySend(Oid relid, const char *p)
{
	Async_Notify(RECLOCK_CHANNEL, p);
	remember_notice(relid);
}

void
ReclockNotify(const char *event, Oid relid, const char *key,
			  const char *new_key, ReclockLock *lock)
{
	notify(event, relid, key, new_key, InvalidOid, lock);
}

/*
 * A child row of relid's row key was written (inserted, updated or
 * deleted): "updated" of the parent, with "child" naming the child table.
 */
void
ReclockNotifyChild(Oid relid, const char *key, Oid childid, ReclockLock *lock)
{
	notify("updated", relid, key, NULL, childid, lock);
}

/*
 * c6-childnotices: the payload of a child row's notice ("updated" of the
 * parent row relid/key, "child" naming childid), made on a Citus worker and
 * sent by the coordinator (citusstore.c).
 */
char *
ReclockNotifyChildPayload(Oid relid, const char *key, Oid childid, ReclockLock *lock)
{
	return fitting_payload("updated", relid, key, NULL, childid, lock);
}
