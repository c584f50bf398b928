/*
 * restore.h — a log restored from a backup, said in the log at start
 * (restore.c).
 */
#ifndef PPXD_RESTORE_H
#define PPXD_RESTORE_H

#include <stdint.h>

struct ppxd;

/*
 * If ppx restore left LOG_DIR/restored.json, append ENTRY_RESTORED (the
 * signed Frame{restore}) and its mark, commit, and remove the file.  Call
 * after the log check, before anything else is appended.  0, or a code
 * with the detail set: the daemon does not start.
 */
int restore_start(struct ppxd *d);

/* restored_ms of the log's newest ENTRY_RESTORED; 0: never restored. */
int64_t restore_last_ms(struct ppxd *d);

#endif
