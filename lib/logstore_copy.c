/*
 * logstore_copy.c — a consistent, compacted copy of a log, taken while the
 * daemon keeps appending (ppx backup).
 *
 * LMDB copies an environment inside one read transaction: the copy is one
 * committed state of every database, whatever the writer does meanwhile,
 * and the writer is never blocked (it only cannot reuse the pages that
 * transaction still sees).  MDB_CP_COMPACT writes only the pages in use,
 * renumbered, so the copy is as small as the log can be.  The copy is the
 * data file alone; ppx_log_open() reads such a file read-only and without
 * a lock file (logstore.c), so that `ppx verify --log FILE` checks a
 * backup as it checks a log.
 */
#include <errno.h>

#include "logstore_int.h"
#include "ppx/error.h"

int ppx_log_copy_fd(ppx_log *self, int fd)
{
	int rc;

	if (self->batch)
		return ppx_error_set(PPX_EINVAL, "cannot copy log %s while a "
				     "batch is open", self->dir);
	rc = mdb_env_copyfd2(self->env, fd, MDB_CP_COMPACT);
	if (rc != 0)
		return ppxi_logstore_fail(rc, "cannot copy log %s",
					  self->dir);
	return 0;
}
