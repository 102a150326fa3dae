/*-------------------------------------------------------------------------
 *
 * reclock.c
 *	  Module magic, settings, the clock and tokens of the reclock extension.
 *
 * reclock.token is the list of tokens a transaction presents to the guard.
 * Its check hook parses the list and hashes each token once.  A value
 * counts only if it was presented in the current transaction and that
 * setting still stands; see ReclockPresentedTokens() for how that is told.
 *
 * Private header: utils/guc_tables.h, here and nowhere else.  PostgreSQL
 * has no public call that says whether a setting was changed in the
 * current transaction, and the contract needs exactly that of
 * reclock.token (a token counts only where it was presented); the setting's
 * own GUC record's stack says it (find_token_guc, token_stands).  The tests
 * of presentation (sql/token.sql, sql/token_preload.sql) fail if that
 * reading goes wrong.
 *
 * IDENTIFICATION
 *	  src/reclock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#ifdef RECLOCK_OPENSSL
#include <openssl/opensslv.h>
/*
 * EVP_MD_fetch() and EVP_DigestInit_ex2() are OpenSSL 3.0's: with an older
 * OpenSSL (1.1.1: RHEL 8, Ubuntu 20.04, Debian 11) or LibreSSL, whose
 * EVP_sha256() costs no fetch, tokens are hashed through pg_cryptohash.
 */
#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !defined(LIBRESSL_VERSION_NUMBER)
#define RECLOCK_EVP_FETCH
#include <openssl/err.h>
#include <openssl/evp.h>
#endif
#endif

#include "common/cryptohash.h"
#include "datatype/timestamp.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "common/int.h"
#include "miscadmin.h"
#include "access/xact.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/inval.h"
#include "utils/timestamp.h"

#include "reclock.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*--- Variables exported ---*/
int			reclock_default_ttl = 300;
int			reclock_max_ttl = 86400;
int			reclock_reentry = RECLOCK_REENTRY_HOLDER;
bool		reclock_preloaded = false;

static const struct config_enum_entry reentry_options[] = {
	{"holder", RECLOCK_REENTRY_HOLDER, false},
	{"token", RECLOCK_REENTRY_TOKEN, false},
	{NULL, 0, false}
};

/*--- Settings' storage ---*/
static char *reclock_token_string = NULL;
#ifdef RECLOCK_TESTING
static int	reclock_test_clock_offset = 0;
static int	reclock_test_clock_epoch = 0;
static char *reclock_test_clock_file = NULL;
static char *reclock_test_pause = NULL;
#endif

/* parsed reclock.token: the hashes of the tokens, kept as the GUC's extra */
typedef struct PresentedTokens
{
	bool		presented;		/* came from SET, SET LOCAL or set_config() */
	int			ntokens;
	uint8		hashes[FLEXIBLE_ARRAY_MEMBER];	/* ntokens * RECLOCK_HASH_LEN */
} PresentedTokens;


static PresentedTokens *presented = NULL;
static uint64 presented_generation = 0;	/* bumped at every assignment */

/* reclock.token's own GUC record: its stack tells what this transaction did */
static struct config_generic *token_guc = NULL;

static bool check_token(char **newval, void **extra, GucSource source);
static void assign_token(const char *newval, void *extra);
static const char *show_token(void);
static bool token_stands(void);
static const char *presented_text(void);
static bool parse_uuid(const char *s, int len, pg_uuid_t *uuid);

/*
 * reclock.token's GUC record.  PostgreSQL has no public call that says
 * whether a setting was changed in the current transaction; its record's
 * stack (utils/guc_tables.h) does, and the record lives as long as the
 * backend.
 */
static struct config_generic *
find_token_guc(void)
{
#if PG_VERSION_NUM >= 160000
	/* 16 made find_option() public (and keeps the GUCs in a hash table) */
	return find_option("reclock.token", false, false, ERROR);
#else
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(vars[i]->name, "reclock.token") == 0)
			return vars[i];
	elog(ERROR, "could not find parameter \"reclock.token\"");
	return NULL;				/* keep compiler quiet */
#endif
}

/*
 * reclock's relcache callbacks, behind one registration: a backend has ten
 * slots (MAX_RELCACHE_CALLBACKS) for the server and every library, Citus
 * takes five, and with reclock's four caches registering one each the first
 * write to a child table on a Citus coordinator ended the backend ("out of
 * relcache_callback_list slots", FATAL).
 */
#define RECLOCK_RELCACHE_CALLBACKS	8

static RelcacheCallbackFunction relcache_callbacks[RECLOCK_RELCACHE_CALLBACKS];
static int	n_relcache_callbacks = 0;

static void
relcache_dispatch(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < n_relcache_callbacks; i++)
		relcache_callbacks[i] ((Datum) 0, relid);
}

/*
 * reclock's transaction callbacks, behind one registration each for
 * transaction and subtransaction events, called in a fixed order (the
 * order of ReclockXactSlot) whichever path a backend ran first.
 * PostgreSQL calls its callbacks latest-registered first, so with one
 * registration per file their order depended on what the backend did
 * first.  The order: checks that may refuse a commit (a child row's
 * parent, a lock renewal, notices at PREPARE) before the writes at
 * pre-commit (reclaim and sweep), and the cleanups that free memory last.
 */
static XactCallback xact_callbacks[RECLOCK_XACT_SLOTS];
static SubXactCallback subxact_callbacks[RECLOCK_SUBXACT_SLOTS];

static void
xact_dispatch(XactEvent event, void *arg)
{
	int			i;

	for (i = 0; i < RECLOCK_XACT_SLOTS; i++)
		if (xact_callbacks[i])
			xact_callbacks[i] (event, NULL);
}

static void
subxact_dispatch(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	int			i;

	for (i = 0; i < RECLOCK_SUBXACT_SLOTS; i++)
		if (subxact_callbacks[i])
			subxact_callbacks[i] (event, mySubid, parentSubid, NULL);
}

void
ReclockOnXactEvent(ReclockXactSlot slot, XactCallback func)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterXactCallback(xact_dispatch, NULL);
		registered = true;
	}
	xact_callbacks[slot] = func;
}

void
ReclockOnSubXactEvent(ReclockSubXactSlot slot, SubXactCallback func)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterSubXactCallback(subxact_dispatch, NULL);
		registered = true;
	}
	subxact_callbacks[slot] = func;
}

void
ReclockRegisterRelcacheCallback(RelcacheCallbackFunction func)
{
	if (n_relcache_callbacks >= RECLOCK_RELCACHE_CALLBACKS)
		elog(FATAL, "out of reclock's relcache callback slots");
	if (n_relcache_callbacks == 0)
		CacheRegisterRelcacheCallback(relcache_dispatch, (Datum) 0);
	relcache_callbacks[n_relcache_callbacks++] = func;
}

#ifdef RECLOCK_TESTING
/* the settings of a test build only: the clock moved, pause points */
static void
define_test_settings(void)
{
	DefineCustomIntVariable("reclock.test_clock_offset",
							"Shifts reclock's clock (test builds only).",
							NULL,
							&reclock_test_clock_offset,
							0, -INT_MAX, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("reclock.test_clock_epoch",
							"Stops reclock's clock at this Unix time, if not 0 (test builds only).",
							NULL,
							&reclock_test_clock_epoch,
							0, 0, INT_MAX,
							PGC_SUSET,
							GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
	DefineCustomStringVariable("reclock.test_clock_file",
							   "Adds the seconds written in this file to reclock's clock (test builds only).",
							   "Read at every look at the clock: one session moves the clock of every session that names the file, also of one waiting for a lock.",
							   &reclock_test_clock_file,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("reclock.test_pause",
							   "Makes the backend wait at this named point of reclock's code until it is terminated (test builds only).",
							   "Empty: no pause. See ReclockTestPause().",
							   &reclock_test_pause,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
}
#endif

void
_PG_init(void)
{
	const char *placeholder;
	bool		had_placeholder;

	/*
	 * Loaded by shared_preload_libraries (in the postmaster, before any
	 * backend): the hooks a Citus coordinator needs are in place in every
	 * backend from its first statement (citus.c).  Citus refuses to start
	 * unless it is loaded first, so a preloaded reclock is loaded after it.
	 */
	reclock_preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomIntVariable("reclock.default_ttl",
							"Sets the lifetime of a lock when acquire or refresh is given no ttl.",
							NULL,
							&reclock_default_ttl,
							300, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("reclock.max_ttl",
							"Sets the largest lifetime a lock may be given.",
							NULL,
							&reclock_max_ttl,
							86400, 1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("reclock.reentry",
							 "Sets who re-enters a live lock by acquiring it again.",
							 "holder: the same holder name and role; token: also presenting a token of the live grant in the acquiring transaction.",
							 &reclock_reentry,
							 RECLOCK_REENTRY_HOLDER, reentry_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * A value reclock.token got before this library was loaded in this
	 * backend was held by a placeholder setting, which has no show hook:
	 * anyone could read it back.  Note whether there is one, to discard it
	 * below unless it was set in this very transaction.
	 */
	placeholder = GetConfigOption("reclock.token", true, false);
	had_placeholder = placeholder != NULL && placeholder[0] != '\0';

	DefineCustomStringVariable("reclock.token",
							   "Sets the lock tokens this transaction presents to the guard.",
							   "A comma-separated list of uuids. Honoured only in the transaction that set it: use SET LOCAL or set_config(..., true).",
							   &reclock_token_string,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   check_token, assign_token, show_token);
	token_guc = find_token_guc();
	/* on a Citus node: pass the presented tokens on to the workers */
	if (ReclockCarryInit(presented_text))
		ReclockRegisterRelcacheCallback(ReclockCarryInvalidate);

	/*
	 * A placeholder value from an earlier transaction (a session SET, a
	 * connection option, a role or database default) never counts (see
	 * token_stands()); it is discarded, so that not even the show hook has
	 * it to hide, and the DBA is told how to close the window before the
	 * library is loaded: session_preload_libraries.  A value set in this
	 * transaction (SET LOCAL before the first reclock call of a fresh
	 * backend) has a GUC stack entry and is kept.
	 */
	if (had_placeholder && token_guc != NULL && token_guc->stack == NULL &&
		IsTransactionState())
	{
		(void) set_config_option("reclock.token", "", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SET, true, 0, false);
		ereport(WARNING,
				(errmsg("discarded a value of \"reclock.token\" set before reclock's library was loaded in this session"),
				 errdetail("Until the library is loaded, such a value can be read back by any later transaction of the session."),
				 errhint("Load reclock at connection start: ALTER DATABASE ... SET session_preload_libraries = 'reclock'.")));
	}

#ifdef RECLOCK_TESTING
	define_test_settings();
#endif

	MarkGUCPrefixReserved("reclock");
}

/*
 * The clock expiry is judged by: the time of the call, never the start of
 * the transaction.
 */
TimestampTz
ReclockNow(void)
{
#ifdef RECLOCK_TESTING
	TimestampTz base = GetCurrentTimestamp();

	if (reclock_test_clock_epoch > 0)
		base = ((int64) reclock_test_clock_epoch -
				(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) * USECS_PER_SEC;
	if (reclock_test_clock_file && reclock_test_clock_file[0] != '\0')
	{
		FILE	   *f = AllocateFile(reclock_test_clock_file, "r");
		int			secs;

		if (f)
		{
			if (fscanf(f, "%d", &secs) == 1)
				base += (int64) secs * USECS_PER_SEC;
			FreeFile(f);
		}
	}
	return base + (int64) reclock_test_clock_offset * USECS_PER_SEC;
#else
	return GetCurrentTimestamp();
#endif
}

#ifdef RECLOCK_TESTING
/*
 * A pause point (test builds only; see RECLOCK_TEST_PAUSE in reclock.h).
 * If reclock.test_pause is point, or point:detail, log that the backend is
 * paused there and wait until it is terminated: pg_terminate_backend() ends
 * it at its next CHECK_FOR_INTERRUPTS() (an ordinary FATAL: the transaction
 * aborts), SIGKILL makes the postmaster restart the cluster.  While it
 * waits, pg_stat_activity shows wait_event_type 'Extension'.  Deterministic:
 * a test waits for the log line, then kills; the backend never moves on.
 */
void
ReclockTestPause(const char *point, const char *detail)
{
	const char *want = reclock_test_pause;
	size_t		len = strlen(point);

	if (want == NULL || strncmp(want, point, len) != 0)
		return;
	if (want[len] != '\0' &&
		!(detail != NULL && want[len] == ':' && strcmp(want + len + 1, detail) == 0))
		return;
	/* a pause that nothing could end would hang the test */
	if (InterruptHoldoffCount > 0 || CritSectionCount > 0)
		elog(ERROR, "reclock.test_pause: cannot pause at \"%s\" with interrupts held off",
			 want);
	ereport(LOG, (errmsg("reclock: paused at \"%s\"", want)));
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
#endif

/*
 * Validate a ttl and return it in microseconds.  NULL means
 * reclock.default_ttl.  A ttl is an absolute duration: a day is 86400 s.
 */
int64
ReclockTtlUsecs(Interval *ttl)
{
	int64		usecs;

	if (ttl == NULL)
		usecs = (int64) reclock_default_ttl * USECS_PER_SEC;
	else
	{
#ifdef INTERVAL_NOT_FINITE
		if (INTERVAL_NOT_FINITE(ttl))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ttl must be finite")));
#endif
		if (ttl->month != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ttl must not have month or year units"),
					 errdetail("A month has no fixed length."),
					 errhint("Write the ttl in days, hours, minutes or seconds.")));
		if (pg_mul_s64_overflow((int64) ttl->day, USECS_PER_DAY, &usecs) ||
			pg_add_s64_overflow(usecs, ttl->time, &usecs))
			usecs = PG_INT64_MAX;
	}

	if (usecs <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ttl must be positive")));
	if (usecs > (int64) reclock_max_ttl * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ttl must not exceed reclock.max_ttl"),
				 errdetail("reclock.max_ttl is %d seconds.", reclock_max_ttl)));
	return usecs;
}

/*
 * A new token: 122 random bits from a strong source, as a version 4 uuid.
 */
void
ReclockNewToken(pg_uuid_t *token)
{
	if (!pg_strong_random(token->data, UUID_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random token")));
	token->data[6] = (token->data[6] & 0x0f) | 0x40;
	token->data[8] = (token->data[8] & 0x3f) | 0x80;
}

/*
 * SHA-256 of a token: the only form in which the store keeps it.
 *
 * Where PostgreSQL is built with OpenSSL (RECLOCK_OPENSSL: the Makefile asks
 * pg_config), 3.0 or later (RECLOCK_EVP_FETCH), the digest is fetched and
 * its context made once per backend, as pgcrypto does, and every hash only
 * initialises, feeds and finishes it:
 * pg_cryptohash_create() fetches the digest anew, and registers and frees a
 * context, at every call -- over two thirds of a token's hash, two hashes
 * per acquire+release.  The bytes are the same (SHA-256 either way).  A
 * failure leaves nothing half done: the next hash initialises the context
 * again.
 */
#ifdef RECLOCK_EVP_FETCH
void
ReclockHashToken(const pg_uuid_t *token, uint8 *hash)
{
	static EVP_MD *md = NULL;
	static EVP_MD_CTX *ctx = NULL;
	unsigned int len = 0;

	if (ctx == NULL)
	{
		if (md == NULL)
			md = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (md != NULL)
			ctx = EVP_MD_CTX_new();
		if (ctx == NULL)
			elog(ERROR, "could not compute a SHA-256 hash: %s",
				 ERR_reason_error_string(ERR_get_error()));
	}
	if (!EVP_DigestInit_ex2(ctx, md, NULL) ||
		!EVP_DigestUpdate(ctx, token->data, UUID_LEN) ||
		!EVP_DigestFinal_ex(ctx, hash, &len) || len != RECLOCK_HASH_LEN)
		elog(ERROR, "could not compute a SHA-256 hash: %s",
			 ERR_reason_error_string(ERR_get_error()));
}
#else
void
ReclockHashToken(const pg_uuid_t *token, uint8 *hash)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, token->data, UUID_LEN) < 0 ||
		pg_cryptohash_final(ctx, hash, RECLOCK_HASH_LEN) < 0)
	{
		if (ctx)
			pg_cryptohash_free(ctx);
		elog(ERROR, "could not compute a SHA-256 hash");
	}
	pg_cryptohash_free(ctx);
}
#endif

/*
 * Does the current value of reclock.token count?  Only if it was presented
 * in this transaction and that setting still stands:
 *
 *	 - The value was checked as a SET, SET LOCAL or set_config() value
 *	   (source PGC_S_SESSION): the check hook marks it so in its extra, and
 *	   the extra travels with the value when PostgreSQL restores it.  Values
 *	   from connection options, role or database defaults (and RESET to them)
 *	   never count.
 *	 - The setting has a GUC stack entry: PostgreSQL makes one when the value
 *	   is changed inside a transaction, pops it when a savepoint or
 *	   subtransaction that made it rolls back, and drops all of them when
 *	   the transaction ends.  A value left from an earlier transaction, also
 *	   one that loading this library re-applied from a placeholder
 *	   (define_custom_variable() drops the stack of committed values), has
 *	   none.
 *	 - The entry was not made by a function's SET clause (GUC_SAVE): that
 *	   value was written into the function, not presented.
 */
static bool
token_stands(void)
{
	GucStack   *stack;

	if (presented == NULL || !presented->presented || token_guc == NULL)
		return false;
	stack = token_guc->stack;
	return stack != NULL && stack->state != GUC_SAVE;
}

/*
 * The hashes of the tokens presented in the current transaction (none if
 * the value does not count, see token_stands()).
 */
int
ReclockPresentedTokens(const uint8 **hashes, uint64 *generation)
{
	*generation = presented_generation;
	if (presented == NULL || presented->ntokens == 0 || !token_stands())
		return 0;
	*hashes = presented->hashes;
	return presented->ntokens;
}

/*
 * The value of reclock.token the current transaction presents: the
 * setting's text if it counts (token_stands()), else "".
 */
static const char *
presented_text(void)
{
	if (presented == NULL || presented->ntokens == 0 || !token_stands() ||
		reclock_token_string == NULL)
		return "";
	return reclock_token_string;
}

/* a uuid in its usual forms: 32 hex digits, hyphens allowed between groups */
static bool
parse_uuid(const char *s, int len, pg_uuid_t *uuid)
{
	int			nhex = 0;
	int			i;

	for (i = 0; i < len; i++)
	{
		char		c = s[i];
		int			v;

		if (c == '-' && nhex > 0 && nhex % 4 == 0 && i + 1 < len && s[i + 1] != '-')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (nhex >= 2 * UUID_LEN)
			return false;
		if (nhex % 2 == 0)
			uuid->data[nhex / 2] = v << 4;
		else
			uuid->data[nhex / 2] |= v;
		nhex++;
	}
	return nhex == 2 * UUID_LEN;
}

static bool
check_token(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	int			n = 0;
	PresentedTokens *pt;
	const char *p;

	/* count the items, to size the extra */
	for (p = s; *p; p++)
		if (*p == ',')
			n++;
	n++;

	pt = GUC_MALLOC(offsetof(PresentedTokens, hashes) + (Size) n * RECLOCK_HASH_LEN);
	if (pt == NULL)
		return false;
	pt->ntokens = 0;
	pt->presented = (source == PGC_S_SESSION);

	p = s;
	while (*p)
	{
		const char *start;
		const char *end;
		pg_uuid_t	uuid;

		while (*p && isspace((unsigned char) *p))
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && isspace((unsigned char) end[-1]))
			end--;
		if (end == start && *p == '\0' && pt->ntokens == 0)
			break;				/* an empty or blank value: no tokens */
		if (*p == ',')
		{
			p++;
			if (*p == '\0')
				end = start;	/* a trailing comma: an empty last item */
		}
		if (end == start)
		{
			GUC_FREE(pt);
			GUC_check_errmsg("invalid value for parameter \"reclock.token\"");
			GUC_check_errdetail("The list of tokens has an empty item.");
			return false;
		}
		if (!parse_uuid(start, end - start, &uuid))
		{
			GUC_FREE(pt);
			/* never echo the value: it may hold valid tokens */
			GUC_check_errmsg("invalid value for parameter \"reclock.token\"");
			GUC_check_errdetail("Each item must be a uuid, as returned by reclock_acquire().");
			return false;
		}
		/*
		 * Only a presented value's hashes are ever read (token_stands()).
		 * Others are checked, not hashed: a value from the server's
		 * configuration is checked in the postmaster, where pg_cryptohash
		 * (with OpenSSL) needs a resource owner there is none of.
		 */
		if (pt->presented)
			ReclockHashToken(&uuid, pt->hashes + pt->ntokens * RECLOCK_HASH_LEN);
		explicit_bzero(&uuid, sizeof(uuid));
		pt->ntokens++;
	}

	*extra = pt;
	return true;
}

static void
assign_token(const char *newval, void *extra)
{
	presented = (PresentedTokens *) extra;
	presented_generation++;
}

/*
 * SHOW, current_setting() and set_config()'s result: a value that does not
 * count is shown as empty, so that no later transaction (the next client of
 * a pooled connection) reads a token back; superusers see the value.
 */
static const char *
show_token(void)
{
	const char *val = reclock_token_string ? reclock_token_string : "";

	if (val[0] == '\0' || token_stands())
		return val;
	if (IsTransactionState() && superuser())
		return val;
	return "";
}
