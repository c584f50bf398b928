/*
 * restore.h — a log restored from a backup, said in the log at start
 * (restore.c).
 */
#ifndef PPXD_RESTORE_H
#define PPXD_RESTORE_H

#include <stddef.h>
#include <stdint.h>

struct ppxd;
struct restore;

/*
 * If ppx restore left LOG_DIR/restored.json, append ENTRY_RESTORED (the
 * signed Frame{restore}) and its mark, commit, and remove the file.  Call
 * after the log check, before anything else is appended; d->restore is
 * then made (restore_free).  0, or a code with the detail set: the daemon
 * does not start.
 */
int restore_start(struct ppxd *d);

void restore_free(struct restore **self);

/* Before the log is opened: 0, or an error if a `ppx restore` was
 * interrupted (LOG_DIR/data.mdb.restoring is there, or the marker is
 * and data.mdb is not), so that no new, empty log is started then. */
int restore_check_interrupted(const char *log_dir);

/* Link `link` came up: our newest restore notice is sent on it. */
void restore_link_up(struct ppxd *d, size_t link);

/*
 * inbound.c, for each frame a partner sends: 1 if it is a Frame{restore}
 * (kept to be judged by restore_tick(), or dropped), 0 otherwise.
 */
int restore_frame(struct ppxd *d, const char *agency, const uint8_t *raw,
		  size_t len);

/*
 * The loop, just after writer_flush(): the notices restore_frame() kept
 * are judged, and taken or refused, each in a commit of its own, so that
 * taking one commits whole or not at all.
 */
void restore_tick(struct ppxd *d);

/* restored_ms of the log's newest ENTRY_RESTORED; 0: never restored. */
int64_t restore_last_ms(struct ppxd *d);

#endif
