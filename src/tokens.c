/*-------------------------------------------------------------------------
 *
 * tokens.c
 *	  Does this transaction hold a lock's token?
 *
 * The one question the row guard, the child guard, acquire and notices ask
 * of the presented tokens: do they include a token of the grant with this
 * fence?  It lives below all of them (it uses only the setting, reclock.c,
 * and the token store, store.c), so that no guard calls another guard's
 * file.
 *
 * IDENTIFICATION
 *	  src/tokens.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/proc.h"

#include "reclock.h"

/*
 * The fences of the presented tokens, looked up once per transaction and
 * value of reclock.token: a token's grant never changes, and a token cannot
 * be presented before it exists, so a fence found stays right (one not
 * found is looked up again).
 */
#define MAX_CACHED_TOKENS 16
static struct
{
	LocalTransactionId lxid;
	uint64		generation;		/* of the reclock.token value they came from */
	bool		known[MAX_CACHED_TOKENS];
	int64		fences[MAX_CACHED_TOKENS];
}			token_cache;

/*
 * Has this transaction presented a token of the grant with this fence?
 */
bool
ReclockHoldsToken(int64 fence)
{
	const uint8 *hashes;
	uint64		generation;
	int			n = ReclockPresentedTokens(&hashes, &generation);
	int			i;

	if (n == 0)
		return false;
	if (ReclockNewTransaction(&token_cache.lxid) || token_cache.generation != generation)
	{
		memset(token_cache.known, 0, sizeof(token_cache.known));
		token_cache.generation = generation;
	}
	for (i = 0; i < n; i++)
	{
		int64		f;

		if (i < MAX_CACHED_TOKENS && token_cache.known[i])
			f = token_cache.fences[i];
		else if (ReclockStoreFenceOfToken(hashes + i * RECLOCK_HASH_LEN, &f))
		{
			if (i < MAX_CACHED_TOKENS)
			{
				token_cache.known[i] = true;
				token_cache.fences[i] = f;
			}
		}
		else
			continue;
		if (f == fence)
			return true;
	}
	return false;
}
