/*
 * restore.c — a daemon started on a log restored from a backup says so in
 * its log, before anything else is appended, sent or received.
 *
 * `ppx restore` (client/cmd_restore.c) puts a verified copy in place and
 * leaves LOG_DIR/restored.json: when, the copy's size and root, the time
 * of its newest entry, what it replaced, the reason and the operator.  At
 * start, after the log check and before the files in force are logged,
 * restore_start() turns that into ENTRY_RESTORED: its data the
 * Frame{restore} this agency signs (purpose SIGNED_RESTORE, label
 * "restore") over a RestoreNotice holding a signed checkpoint of the log
 * exactly as restored (PROTOCOL.md 14), its detail a sentence for people.
 * The entry is marked ("restored/" || seq -> restored_ms) so that the
 * newest restore is found without a scan (ppx status shows it), and
 * committed; only then is the marker removed.  A crash between the commit
 * and the removal is recognised at the next start by the mark's time and
 * the marker is then only removed.
 *
 * Telling partners, and taking their notices, is restore_partner.c.
 *
 * The marker is a local file written by an operator's tool, read as
 * hostile all the same: bounded, every field checked, and a marker that
 * does not describe this log (another size or root) stops the daemon with
 * a sentence rather than be logged as a restore that did not happen.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/file.h"
#include "ppx/timefmt.h"
#include "restore.h"
#include "restore_int.h"
#include "state.h"
#include "writer.h"

#define MARKER_FILE "restored.json"
#define MARKER_MAX (16 * 1024)
#define MARK_SET "restored/"
#define NEWEST_SET "restored-newest/"	/* one mark: the newest restore */
#define RESTORING_FILE "data.mdb.restoring"
#define PARTNER_SET "partner-restored/"
#define MARKS_MAX 256		/* restores of one log found for status */
#define TEXT_MAX 1024		/* reason, operator, file: at most */

/* What restored.json says. */
struct marker {
	int64_t restored_ms, copied_ms;
	uint64_t size, replaced_size;
	uint8_t root[PPX_HASH_LEN], replaced_root[PPX_HASH_LEN];
	int has_replaced_root;
	char reason[TEXT_MAX], operator[TEXT_MAX], from[TEXT_MAX];
};

static int hex_field(uint8_t out[PPX_HASH_LEN], json_object *o,
		     const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strlen(s = json_object_get_string(v)) != 2 * PPX_HASH_LEN)
		return -1;
	for (size_t i = 0; i < PPX_HASH_LEN; i++) {
		int hi = ppx_hex_digit(s[2 * i]), lo = ppx_hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int int_field(int64_t *out, json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return *out < 0 ? -1 : 0;
}

/* A printable string field, cut to TEXT_MAX. */
static int text_field(char *out, json_object *o, const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return -1;
	snprintf(out, TEXT_MAX, "%s", s);
	return 0;
}

static int marker_parse(struct marker *m, const char *text)
{
	json_object *o = json_tokener_parse(text);
	int64_t size = 0, replaced = 0;
	int bad;

	memset(m, 0, sizeof(*m));
	bad = !o || !json_object_is_type(o, json_type_object) ||
	      int_field(&m->restored_ms, o, "restored_ms") ||
	      int_field(&m->copied_ms, o, "copied_ms") ||
	      int_field(&size, o, "size") ||
	      int_field(&replaced, o, "replaced_size") ||
	      hex_field(m->root, o, "root") ||
	      text_field(m->reason, o, "reason") ||
	      text_field(m->operator, o, "operator") ||
	      text_field(m->from, o, "from") ||
	      m->copied_ms > m->restored_ms;
	if (!bad && json_object_object_get_ex(o, "replaced_root", NULL))
		bad = hex_field(m->replaced_root, o, "replaced_root");
	m->has_replaced_root = !bad && json_object_object_get_ex(
					       o, "replaced_root", NULL);
	m->size = (uint64_t)size;
	m->replaced_size = (uint64_t)replaced;
	json_object_put(o);
	return bad ? -1 : 0;
}

/* The marker, if there is one: 1 and *m, 0 without one, or an error. */
static int marker_read(struct marker *m, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = ppx_file_read(&buf, &len, path, MARKER_MAX);

	if (rc == PPX_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	rc = marker_parse(m, (const char *)buf);
	free(buf);
	if (rc != 0)
		return ppx_error_set(PPX_EINVAL, "%s is not what ppx restore "
				     "writes (a field is missing or wrong); "
				     "not starting: look at it, and remove "
				     "it only if the log was not restored",
				     path);
	return 1;
}

/* The newest ENTRY_RESTORED's mark: its seq and restored_ms; 0 if none.
 * NEWEST_SET holds only that one (log_restored() replaces it); a log
 * restored before it existed has only MARK_SET, read in seq order: the
 * newest of the first MARKS_MAX. */
static int last_mark(ppx_log *log, struct ppx_log_mark *out)
{
	struct ppx_log_mark *m = NULL;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (ppx_log_mark_list(log, NEWEST_SET, &m, &n, 1) != 0 || !n) {
		free(m);
		m = NULL;
		n = 0;
		if (ppx_log_mark_list(log, MARK_SET, &m, &n, MARKS_MAX) != 0 ||
		    !n) {
			free(m);
			return 0;
		}
	}
	*out = m[n - 1];
	free(m);
	return 1;
}

int64_t restore_last_ms(struct ppxd *d)
{
	struct ppx_log_mark m;

	return last_mark(d->log, &m) ? (int64_t)m.value : 0;
}

/* The marker describes this log: its size and root are the copy's. */
static int marker_matches(struct ppxd *d, const struct marker *m,
			  const char *path)
{
	uint64_t size = ppx_log_size(d->log);
	ppx_hash root;

	if (size != m->size ||
	    (size > 0 && (ppx_log_root(d->log, size, root) != 0 ||
			  memcmp(root, m->root, sizeof(root)) != 0)))
		return ppx_error_set(PPX_ECONFLICT, "%s says the log was "
				     "restored to %llu entries, but log %s "
				     "holds %llu, or another root; not "
				     "starting: a restore was interrupted "
				     "(run ppx restore again), or another log "
				     "was put in place after it", path,
				     (unsigned long long)m->size,
				     d->cfg->log_dir,
				     (unsigned long long)size);
	return 0;
}

/* The signed RestoreNotice, as Frame{restore}, into the open batch's
 * terms: its checkpoint covers every entry before the batch's next. */
static int notice_seal(uint8_t **frame, size_t *len, struct ppxd *d,
		       ppx_log_batch *b, const struct marker *m)
{
	Ppx__V1__RestoreNotice n = PPX__V1__RESTORE_NOTICE__INIT;
	Ppx__V1__Frame *cpf = NULL;
	uint8_t *cp = NULL, *body = NULL;
	size_t cp_len = 0, body_len;
	uint64_t size;
	int rc;

	rc = ppx_checkpoint_seal_batch(&cp, &cp_len, &size, b, d->log,
				       d->signer);
	if (rc == 0)
		rc = ppx_frame_decode(&cpf, cp, cp_len);
	if (rc == 0 && cpf->content_case != PPX__V1__FRAME__CONTENT_CHECKPOINT)
		rc = ppx_error_set(PPX_EFRAME, "sealed checkpoint is no "
				   "checkpoint");
	if (rc == 0) {
		n.agency = d->cfg->agency;
		n.checkpoint = cpf->checkpoint;
		n.restored_ms = m->restored_ms;
		n.copied_ms = m->copied_ms;
		n.replaced_size = m->replaced_size;
		if (m->has_replaced_root) {
			n.replaced_root.data = (uint8_t *)m->replaced_root;
			n.replaced_root.len = PPX_HASH_LEN;
		}
		n.reason = (char *)m->reason;
		body_len = ppx__v1__restore_notice__get_packed_size(&n);
		if (!(body = malloc(body_len ? body_len : 1)))
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		ppx__v1__restore_notice__pack(&n, body);
		rc = ppx_frame_seal(frame, len, d->signer,
				    PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE,
				    body, body_len);
	}
	free(body);
	if (cpf)
		ppx__v1__frame__free_unpacked(cpf, NULL);
	free(cp);
	return rc;
}

/* ENTRY_RESTORED and its mark, committed. */
static int log_restored(struct ppxd *d, const struct marker *m)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char detail[4 * TEXT_MAX], at[PPX_TIME_ISO_LEN], copied[PPX_TIME_ISO_LEN];
	struct ppx_log_mark *old = NULL;
	ppx_log_batch *b = NULL;
	uint8_t *frame = NULL;
	size_t len = 0, n_old = 0;
	uint64_t seq;
	int rc;

	ppx_time_iso(at, sizeof(at), m->restored_ms);
	ppx_time_iso(copied, sizeof(copied), m->copied_ms);
	snprintf(detail, sizeof(detail), "restored from a backup at %s by %s "
		 "(%s): %llu entries, copied at %s, from %s; it replaced %llu "
		 "entries", at, m->operator, m->reason,
		 (unsigned long long)m->size, copied, m->from,
		 (unsigned long long)m->replaced_size);
	if ((rc = writer_batch(d, &b)) == 0)
		rc = notice_seal(&frame, &len, d, b, m);
	if (rc == 0) {
		e.kind = PPX__V1__ENTRY_KIND__ENTRY_RESTORED;
		e.detail = detail;
		e.data.data = frame;
		e.data.len = len;
		rc = writer_append(d, &e, &seq);
	}
	if (rc == 0)
		rc = ppx_log_mark_put(b, MARK_SET, seq, (uint64_t)m->restored_ms);
	/* The one newest mark moves to this entry, in the same commit. */
	if (rc == 0 &&
	    ppx_log_mark_list(d->log, NEWEST_SET, &old, &n_old, 1) == 0 &&
	    n_old == 1)
		rc = ppx_log_mark_del(b, NEWEST_SET, old[0].seq);
	if (rc == 0)
		rc = ppx_log_mark_put(b, NEWEST_SET, seq,
				      (uint64_t)m->restored_ms);
	free(old);
	if (rc == 0)
		rc = writer_flush(d);
	free(frame);
	if (rc == 0)
		log_warnx("log %s: %s (entry %llu)", d->cfg->log_dir, detail,
			  (unsigned long long)seq);
	return rc;
}

static int marker_remove(const char *path, const char *dir)
{
	int fd;

	if (unlink(path) != 0 && errno != ENOENT)
		return ppx_error_set(PPX_EIO, "cannot remove %s: %s", path,
				     strerror(errno));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

static int restore_marker(struct ppxd *d);

int restore_check_interrupted(const char *log_dir)
{
	char restoring[PATH_MAX], marker[PATH_MAX], data[PATH_MAX];

	if ((size_t)snprintf(restoring, sizeof(restoring), "%s/%s", log_dir,
			     RESTORING_FILE) >= sizeof(restoring) ||
	    (size_t)snprintf(marker, sizeof(marker), "%s/%s", log_dir,
			     MARKER_FILE) >= sizeof(marker) ||
	    (size_t)snprintf(data, sizeof(data), "%s/data.mdb", log_dir) >=
		    sizeof(data))
		return ppx_error_set(PPX_EINVAL, "log directory name too "
				     "long: %s", log_dir);
	if (access(restoring, F_OK) == 0)
		return ppx_error_set(PPX_ECONFLICT, "a restore was interrupted "
				     "(%s is there): not starting; run ppx "
				     "restore again (or, to start on the log "
				     "as it is, remove %s and %s if the log "
				     "was not moved aside)", restoring,
				     restoring, marker);
	if (access(data, F_OK) != 0 && access(marker, F_OK) == 0)
		return ppx_error_set(PPX_ECONFLICT, "a restore was interrupted "
				     "(%s is there, %s is not): not starting "
				     "a new log; run ppx restore again (or "
				     "move the log back from %s/replaced-*/ "
				     "and remove %s)", marker, data, log_dir,
				     marker);
	return 0;
}

/* Our newest ENTRY_RESTORED's frame, sent at each link-up. */
static int load_frame(struct restore *r, ppx_log *log)
{
	struct ppx_log_mark m;
	Ppx__V1__LogEntry *e = NULL;
	int rc;

	if (!last_mark(log, &m))
		return 0;
	if ((rc = ppx_log_get(log, m.seq, &e)) != 0)
		return rc;
	if (e->kind != PPX__V1__ENTRY_KIND__ENTRY_RESTORED ||
	    !(r->frame = malloc(e->data.len ? e->data.len : 1)))
		rc = ppx_error_set(PPX_ECORRUPT, "entry %llu marked as our "
				   "restore is not one, or out of memory",
				   (unsigned long long)m.seq);
	else {
		memcpy(r->frame, e->data.data, e->data.len);
		r->frame_len = e->data.len;
	}
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

void restore_free(struct restore **self)
{
	if (!self || !*self)
		return;
	free((*self)->frame);
	for (size_t i = 0; i < (*self)->n_peers; i++)
		free((*self)->peers[i].pending);
	free(*self);
	*self = NULL;
}

int64_t restore_partner_last(struct ppxd *d, const char *agency,
			     int64_t *taken_ms)
{
	char set[PPX_LOG_CURSOR_NAME_MAX + 1];
	struct ppx_log_mark m = {0};
	Ppx__V1__LogEntry *e = NULL;

	/* The newest mark, however many notices were taken before it. */
	*taken_ms = 0;
	if (snprintf(set, sizeof(set), "%s%s", PARTNER_SET, agency) >=
		    (int)sizeof(set) ||
	    ppx_log_mark_newest(d->log, set, &m) != 0)
		return 0;
	if (ppx_log_get(d->log, m.seq, &e) == 0) {
		*taken_ms = e->time_ms;
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return (int64_t)m.value;
}

int restore_partner_mark(struct ppxd *d, const char *agency, uint64_t seq,
			 int64_t restored_ms)
{
	char set[PPX_LOG_CURSOR_NAME_MAX + 1];
	ppx_log_batch *b = NULL;
	int rc;

	if (snprintf(set, sizeof(set), "%s%s", PARTNER_SET, agency) >=
	    (int)sizeof(set))
		return ppx_error_set(PPX_EINVAL, "agency name too long: %s",
				     agency);
	if ((rc = writer_batch(d, &b)) == 0)
		rc = ppx_log_mark_put(b, set, seq, (uint64_t)restored_ms);
	return rc;
}

int restore_start(struct ppxd *d)
{
	int rc = restore_marker(d);

	if (rc == 0 && !(d->restore = calloc(1, sizeof(*d->restore))))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	if (rc == 0) {
		d->restore->d = d;
		rc = load_frame(d->restore, d->log);
	}
	return rc;
}

static int restore_marker(struct ppxd *d)
{
	char path[PATH_MAX];
	struct ppx_log_mark last;
	struct marker m;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", d->cfg->log_dir,
			     MARKER_FILE) >= sizeof(path))
		return ppx_error_set(PPX_EINVAL, "log directory name too "
				     "long: %s", d->cfg->log_dir);
	if ((rc = marker_read(&m, path)) <= 0)
		return rc;
	/* Logged before a crash that left the marker behind. */
	if (last_mark(d->log, &last) && (int64_t)last.value == m.restored_ms)
		return marker_remove(path, d->cfg->log_dir);
	if ((rc = marker_matches(d, &m, path)) != 0 ||
	    (rc = log_restored(d, &m)) != 0)
		return rc;
	return marker_remove(path, d->cfg->log_dir);
}
