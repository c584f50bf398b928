/*
 * federation_held.c — the directory in force at start: the held copy
 * (LOG_DIR/directory.pb) and the log's latest ENTRY_DIRECTORY (the mark
 * "directory"), each judged without dates; the newer is put in force.
 * The log is written before the file (federation.c), so a file behind
 * the log is rewritten; a file ahead of it (a log restored from a
 * backup) is logged again; a file that does not verify is moved aside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "federation_int.h"
#include "log.h"
#include "ppx/error.h"
#include "ppx/timefmt.h"
#include "state.h"

/* The log's latest ENTRY_DIRECTORY, judged without dates; NULL if none
 * (or, said, if it no longer judges: a CA replaced since). */
static struct ppx_directory *logged_directory(struct ppxd *d)
{
	struct federation *f = d->federation;
	struct ppx_log_mark *m = NULL;
	Ppx__V1__LogEntry *e = NULL;
	struct ppx_directory *dir = NULL;
	size_t n = 0;

	if (ppx_log_mark_list(d->log, FED_MARK_SET, &m, &n, 64) != 0 || n == 0) {
		free(m);
		return NULL;
	}
	f->log_seq = m[n - 1].seq;
	f->has_seq = 1;
	free(m);
	if (ppx_log_get(d->log, f->log_seq, &e) == 0 &&
	    e->kind == PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY &&
	    fed_judge(d, &dir, e->data.data, e->data.len, 0, NULL) != 0)
		log_warnx("the directory of log entry %llu does not verify "
			  "now: %s", (unsigned long long)f->log_seq,
			  ppx_error_last());
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return dir;
}

/* LOG_DIR/directory.pb, judged without dates; one that does not verify
 * is moved aside (directory.pb.bad-TIME) and said, not fatal. */
static struct ppx_directory *held_directory(struct ppxd *d)
{
	struct federation *f = d->federation;
	struct ppx_directory *dir = NULL;
	char aside[PATH_MAX + 40], when[40];
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc = ppx_file_read(&bytes, &len, f->held_path,
			       PPX_DIRECTORY_MAX_BYTES);

	if (rc == PPX_ENOTFOUND)
		return NULL;
	if (rc == 0)
		rc = fed_judge(d, &dir, bytes, len, 0, NULL);
	free(bytes);
	if (rc == 0)
		return dir;
	ppx_time_iso(when, sizeof(when), ppxd_now_ms());
	if ((size_t)snprintf(aside, sizeof(aside), "%s.bad-%s", f->held_path,
			     when) >= sizeof(aside))
		aside[0] = '\0';
	log_warnx("held directory %s not taken: %s; moved aside to %s",
		  f->held_path, ppx_error_last(), aside);
	if (rename(f->held_path, aside) != 0)
		log_warn("cannot move %s aside", f->held_path);
	return NULL;
}

/* In force at once: what the log already says. */
static int in_force_now(struct ppxd *d, struct ppx_directory *dir,
			const char *source)
{
	struct fed_taking t = {.dir = dir, .seq = d->federation->log_seq};
	int rc = fed_baseline_load(d, dir, &t.baseline);

	if (rc != 0) {
		log_warnx("directory serial %llu not put in force: %s",
			  (unsigned long long)dir->serial, ppx_error_last());
		ppx_directory_free(dir);
		return 0;
	}
	snprintf(t.source, sizeof(t.source), "%s", source);
	fed_put_in_force(d, &t);
	log_info("directory serial %llu of %s in force (%s): %zu agencies",
		 (unsigned long long)dir->serial, dir->federation, source,
		 dir->n_agencies);
	return 0;
}

/* The newer of the held file and the log's latest entry. */
int fed_held_open(struct ppxd *d)
{
	struct federation *f = d->federation;
	struct ppx_directory *lg = logged_directory(d);
	struct ppx_directory *hd = held_directory(d);
	char source[FED_SOURCE_MAX];
	int rc = !lg || !hd ? (hd ? 0 : PPX_ESTALE)
			    : ppx_directory_supersedes(lg, hd);

	snprintf(source, sizeof(source), "held");
	if (!lg && !hd)
		return 0;
	if (rc == PPX_EDUP) {
		ppx_directory_free(lg);
		return in_force_now(d, hd, source);
	}
	if (rc == 0) {	/* the file is ahead of the log: log it */
		ppxd_policy *base = NULL;

		ppx_directory_free(lg);
		if (fed_baseline_load(d, hd, &base) != 0) {
			log_warnx("held directory not taken: %s",
				  ppx_error_last());
			ppx_directory_free(hd);
			return 0;
		}
		return fed_take(d, hd, base, source, "");
	}
	ppx_directory_free(hd);	/* the log is ahead: the file follows */
	log_info("held directory %s is behind the log (entry %llu): "
		 "rewritten", f->held_path, (unsigned long long)f->log_seq);
	if (ppx_file_write_atomic(f->held_path, lg->bytes, lg->len, 0600) != 0)
		log_warnx("%s", ppx_error_last());
	return in_force_now(d, lg, source);
}
