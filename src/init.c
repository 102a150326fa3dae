/*-------------------------------------------------------------------------
 *
 * init.c
 *	  _PG_init: reclock.c's settings first, then the hooks of the files
 *	  above it.
 *
 * A library has one _PG_init, and reclock.c is the bottom of reclock's
 * files (reclock.h: nothing calls up), so the hooks that other files need
 * in every backend from its first statement are installed from here, the
 * top.  Loaded by shared_preload_libraries, they are in place before any
 * backend starts.
 *
 * IDENTIFICATION
 *	  src/init.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "reclock.h"

void		_PG_init(void);

void
_PG_init(void)
{
	ReclockInit();
	/* change notices of Citus distributed tables: the ExecutorStart hook */
	ReclockCitusNoticesInit();
	/* citusstore.c's utility statements, and what it needs of links.c and notify.c */
	ReclockCarryUtilityHook(ReclockCitusUtility);
	ReclockCitusChildNoticeHooks(ReclockGuardParentOf, ReclockNotifySend);
}
