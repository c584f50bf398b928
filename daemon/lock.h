/*
 * lock.h — one writer per log: the daemon's lock on LOG_DIR/ppxd.lock.
 */
#ifndef PPXD_LOCK_H
#define PPXD_LOCK_H

/*
 * Take the exclusive lock on DIR/ppxd.lock (created 0600, DIR created
 * 0700 if missing) without waiting, and write our pid into the file.
 * *fd holds it until lock_release().  PPX_EIO refusal
 * ("log DIR is in use by another ppxd (pid N)") when another process
 * holds it; other errors say what failed on which file.
 */
int lock_take(int *fd, const char *dir);

/* The pid written in DIR/ppxd.lock by the holder, 0 if none readable. */
long lock_holder(const char *dir);

/* Give the lock up (close the file); *fd becomes -1.  -1 is a no-op. */
void lock_release(int *fd);

#endif
