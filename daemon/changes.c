/*
 * changes.c — the files in force, logged when they change (changes.h).
 *
 * Where it sits: main.c logs every file at start (changes_start), after
 * the log check and before any partner is contacted; reload.c calls
 * changes_note() for each file it reloads, on SIGHUP, on `ppx reload`
 * and when the CRL file is replaced.  The table here holds, per file,
 * the state its latest change entry recorded (ChangeRecord.in_force) and
 * that entry's seq; it is read back at start from the marks of the set
 * "changes", one per file, so that start-up reads a handful of entries,
 * not the log.  A commit that fails leaves the table as the marks say.
 *
 * A file's mark also holds the tag of its hidden values (change_state.h):
 * an HMAC-SHA256 under the key in LOG_DIR/change-key (32 random bytes,
 * mode 0600, made at the first start and kept), so that a changed secret
 * is told without any digest of it in the log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "change_state.h"
#include "changes.h"
#include "log.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "state.h"
#include "writer.h"

#define MARK_SET "changes"
#define TRACKED_MAX 65536
#define DETAIL_MAX 600
#define KEY_FILE "change-key"

struct tracked {
	char what[16];
	char path[PATH_MAX];
	struct change_state st;		/* as its latest entry records it */
	uint64_t seq;			/* that entry */
	int seen;			/* in this sweep of [pki] certs */
};

struct changes {
	struct tracked *v;
	size_t n;
	int after_commit;		/* changes_after_commit registered */
};

void changes_report_clear(struct changes_report *r)
{
	change_lines_free(r->changes, r->n_changes);
	change_lines_free(r->restart, r->n_restart);
	memset(r, 0, sizeof(*r));
}

static struct tracked *tracked_find(struct changes *c, const char *what,
				    const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].what, what) == 0 &&
		    strcmp(c->v[i].path, path) == 0)
			return &c->v[i];
	return NULL;
}

static struct tracked *tracked_add(struct changes *c, const char *what,
				   const char *path)
{
	struct tracked *v;

	if (c->n >= TRACKED_MAX) {
		ppx_error_set(PPX_ERANGE, "more than %d files in force",
			      TRACKED_MAX);
		return NULL;
	}
	if (!(v = realloc(c->v, (c->n + 1) * sizeof(*v)))) {
		ppx_error_set(PPX_ENOMEM, "out of memory");
		return NULL;
	}
	c->v = v;
	v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->what, sizeof(v->what), "%s", what);
	snprintf(v->path, sizeof(v->path), "%s", path);
	return v;
}

static void table_clear(struct changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		change_state_clear(&c->v[i].st);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/* One file's latest entry, from its mark. */
static int table_load_one(struct changes *c, ppx_log *log, uint64_t seq,
			  uint64_t tag)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__ChangeRecord *cr = NULL;
	struct tracked *t;
	int rc = ppx_log_get(log, seq, &e);

	if (rc == 0 && !(cr = ppx__v1__change_record__unpack(
				 NULL, e->data.len, e->data.data)))
		rc = ppx_error_set(PPX_ECORRUPT, "entry %llu: its change "
				   "record does not decode",
				   (unsigned long long)seq);
	if (rc == 0 && !(t = tracked_add(c, cr->what, cr->path)))
		rc = PPX_ENOMEM;
	if (rc == 0) {
		t->seq = seq;
		t->st.hidden_tag = tag;
		t->st.present = cr->sha256.len == 32;
		if (t->st.present)
			memcpy(t->st.sha256, cr->sha256.data, 32);
		rc = change_state_set_lines(&t->st, cr->in_force,
					    cr->n_in_force);
	}
	if (cr)
		ppx__v1__change_record__free_unpacked(cr, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

static int table_load(struct changes *c, ppx_log *log)
{
	struct ppx_log_mark *m = NULL;
	size_t n = 0;
	int rc = ppx_log_mark_list(log, MARK_SET, &m, &n, TRACKED_MAX);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = table_load_one(c, log, m[i].seq, m[i].value);
	free(m);
	return rc;
}

/* Make the key file: 32 random bytes, mode 0600, never replaced. */
static int key_create(const char *path)
{
	uint8_t key[32];
	int fd, rc = 0;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return ppx_error_set(PPX_EINVAL, "no random bytes for %s",
				     path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		       O_CLOEXEC, 0600)) < 0)
		rc = ppx_error_set(PPX_EIO, "cannot create %s: %s", path,
				   strerror(errno));
	else if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
		 fsync(fd) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot write %s: %s", path,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc != 0 && fd >= 0)
		unlink(path);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* Read (first making) LOG_DIR/change-key into change_state's key. */
static int key_load(const char *log_dir)
{
	char path[PATH_MAX];
	uint8_t key[32];
	struct stat st;
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/" KEY_FILE, log_dir) >=
	    sizeof(path))
		return ppx_error_set(PPX_ERANGE, "log directory path too long");
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 &&
	    errno == ENOENT) {
		if ((rc = key_create(path)) != 0)
			return rc;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return ppx_error_set(PPX_EIO, "cannot open %s: %s", path,
				     strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) || st.st_uid != geteuid())
		rc = ppx_error_set(PPX_EINVAL, "%s: must be a regular file "
				   "of the daemon's user, mode 0600", path);
	else if (read(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
		rc = ppx_error_set(PPX_ECORRUPT, "%s: not 32 bytes; restore "
				   "it from a backup of the log directory",
				   path);
	close(fd);
	if (rc == 0)
		change_state_set_key(key);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int changes_new(struct changes **out, struct ppxd *d)
{
	int rc;

	if (!(*out = calloc(1, sizeof(**out))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if ((rc = key_load(d->cfg->log_dir)) != 0 ||
	    (rc = table_load(*out, d->log)) != 0)
		changes_free(out);
	return rc;
}

void changes_free(struct changes **self)
{
	if (!*self)
		return;
	table_clear(*self);
	change_state_set_key(NULL);
	free(*self);
	*self = NULL;
}

/* A commit that failed: the table goes back to what the marks say. */
static void changes_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct changes *c = d->changes;

	(void)arg;
	if (!c)
		return;
	c->after_commit = 0;
	if (rc == 0)
		return;
	table_clear(c);
	if (table_load(c, d->log) != 0)
		log_warnx("cannot read the files in force back: %s",
			  ppx_error_last());
}

static int kind_of(const char *what)
{
	if (strcmp(what, "configuration") == 0)
		return PPX__V1__ENTRY_KIND__ENTRY_CONFIG_CHANGE;
	if (strcmp(what, "policy") == 0)
		return PPX__V1__ENTRY_KIND__ENTRY_POLICY_CHANGE;
	return PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE;
}

/* "WHAT PATH sha256 HEX: first change; second ..." for ppx log. */
static void detail_of(char *out, size_t cap, const Ppx__V1__ChangeRecord *cr)
{
	char hex[65] = "none";
	size_t used;

	if (cr->sha256.len == 32)
		ppx_hex(hex, cr->sha256.data, 32);
	used = (size_t)snprintf(out, cap, "%s %s sha256 %s", cr->what,
				cr->path, hex);
	for (size_t i = 0; i < cr->n_changes && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s",
					 i ? "; " : ": ", cr->changes[i]);
	if (used >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

/* Append the entry of `cr` for `person`; *seq is where it went. */
static int append_record(struct ppxd *d, const Ppx__V1__ChangeRecord *cr,
			 const char *person, const char *refusal,
			 uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	size_t len = ppx__v1__change_record__get_packed_size(cr);
	uint8_t *buf = malloc(len ? len : 1);
	char detail[DETAIL_MAX];
	int rc;

	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__change_record__pack(cr, buf);
	if (refusal)
		snprintf(detail, sizeof(detail), "reload refused: %s (%s %s)",
			 refusal, cr->what, cr->path);
	else
		detail_of(detail, sizeof(detail), cr);
	e.kind = kind_of(cr->what);
	e.person = (char *)person;
	e.data.data = buf;
	e.data.len = len;
	e.detail = detail;
	rc = writer_append(d, &e, seq);
	free(buf);
	if (rc == 0 && !d->changes->after_commit &&
	    writer_after(d, changes_after_commit, NULL) == 0)
		d->changes->after_commit = 1;
	return rc;
}

/* Whether a change to `what` (the line `change`) waits for a restart:
 * the configuration but its [operator] and [accountability] sections,
 * which reload.c applies (save [accountability] ppx: the path of the
 * program reads run is found once at start), and the certificates and
 * the CA, which the trust store holds from start. */
static int needs_restart(const char *what, const char *change)
{
	if (strcmp(what, "certificate") == 0 || strcmp(what, "ca") == 0)
		return 1;
	if (strcmp(what, "configuration") != 0)
		return 0;
	if (strncmp(change, "[accountability] ppx:", 21) == 0)
		return 1;
	return strncmp(change, "[operator ", 10) != 0 &&
	       strncmp(change, "[accountability]", 16) != 0;
}

/* Whether `st` sets [accountability] ppx. */
static int sets_ppx(const struct change_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		if (strncmp(st->lines[i], "[accountability] ppx = ", 23) == 0)
			return 1;
	return 0;
}

/* An [accountability] section added or removed whole, with a ppx in it:
 * that key waits for a restart though the section is live. */
static int ppx_section_restart(char ***out, size_t *n, size_t first,
			       const char *path, const struct tracked *t,
			       const struct change_state *now,
			       struct changes_report *r)
{
	size_t end = *n;
	int rc = 0;

	if (!sets_ppx(&t->st) && !sets_ppx(now))
		return 0;
	for (size_t i = first; rc == 0 && i < end; i++)
		if (strcmp((*out)[i], "[accountability] added") == 0 ||
		    strcmp((*out)[i], "[accountability] removed") == 0) {
			rc = change_lines_add(out, n, "[accountability] ppx "
					      "(takes effect at restart)");
			if (rc == 0)
				rc = change_lines_add(
					&r->restart, &r->n_restart,
					"configuration %s: [accountability] "
					"ppx", path);
			break;
		}
	return rc;
}

/* The changes of one file; those that wait for a restart say so, and
 * go into r->restart.  A first entry lists what is in force. */
static int changes_of(char ***out, size_t *n, const char *what,
		      const char *path, const char *cause,
		      const struct tracked *t,
		      const struct change_state *now,
		      struct changes_report *r)
{
	size_t first = *n;
	int rc = 0;

	if (!t) {
		/* A certificate put beside the others: in force at restart. */
		if (strcmp(cause, "reload") == 0 && needs_restart(what, "") &&
		    (rc = change_lines_add(out, n, "added (takes effect at "
					   "restart)")) == 0)
			rc = change_lines_add(&r->restart, &r->n_restart,
					      "%s %s: added", what, path);
		for (size_t i = 0; rc == 0 && i < now->n; i++)
			rc = change_lines_add(out, n, "in force: %s",
					      now->lines[i]);
		if (rc == 0 && now->n == 0)
			rc = change_lines_add(out, n, "in force: (empty)");
		return rc;
	}
	if ((rc = change_diff(out, n, &t->st, now)) != 0 ||
	    strcmp(cause, "reload") != 0)
		return rc;
	for (size_t i = first; rc == 0 && i < *n; i++) {
		char *line = (*out)[i];

		if (!needs_restart(what, line))
			continue;
		rc = change_lines_add(&r->restart, &r->n_restart, "%s %s: %s",
				      what, path, line);
		if (rc == 0)
			rc = change_lines_add(out, n, "%s (takes effect at "
					      "restart)", line);
		if (rc == 0) {	/* the annotated line takes its place */
			(*out)[i] = (*out)[--*n];
			free(line);
		}
	}
	if (rc == 0 && strcmp(what, "configuration") == 0)
		rc = ppx_section_restart(out, n, first, path, t, now, r);
	return rc;
}

/* Log `now` for file `t` (NULL: never logged), move its mark, and keep
 * `now` as what is in force. */
static int record(struct ppxd *d, const char *what, const char *path,
		  struct tracked *t, struct change_state *now,
		  const char *cause, const char *person,
		  struct changes_report *r)
{
	Ppx__V1__ChangeRecord cr = PPX__V1__CHANGE_RECORD__INIT;
	char **lines = NULL;
	size_t n = 0;
	uint64_t seq;
	ppx_log_batch *b;
	int rc = changes_of(&lines, &n, what, path, cause, t, now, r),
	    appended = 0;

	cr.what = (char *)what;
	cr.path = (char *)path;
	cr.sha256.data = now->sha256;
	cr.sha256.len = now->present ? 32 : 0;
	if (t && t->st.present) {
		cr.previous_sha256.data = t->st.sha256;
		cr.previous_sha256.len = 32;
	}
	cr.cause = (char *)cause;
	cr.changes = lines;
	cr.n_changes = n;
	cr.in_force = now->lines;
	cr.n_in_force = now->n;
	if (rc == 0)
		appended = (rc = append_record(d, &cr, person, NULL, &seq)) == 0;
	if (rc == 0)
		rc = writer_batch(d, &b);
	if (rc == 0 && t)
		rc = ppx_log_mark_del(b, MARK_SET, t->seq);
	if (rc == 0)
		rc = ppx_log_mark_put(b, MARK_SET, seq, now->hidden_tag);
	if (rc == 0 && !t && !(t = tracked_add(d->changes, what, path)))
		rc = PPX_ENOMEM;
	if (rc == 0)
		t->seen = 1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = change_lines_add(&r->changes, &r->n_changes, "%s %s: %s",
				      what, path, lines[i]);
	if (rc == 0) {
		change_state_clear(&t->st);
		t->st = *now;
		memset(now, 0, sizeof(*now));
		t->seq = seq;
		r->entries++;
	} else if (appended) {	/* the entry without its mark or state */
		writer_fail(d, rc);
	}
	change_lines_free(lines, n);
	return rc;
}

/* The path as recorded: absolute, links resolved where it exists. */
static void canonical(char *out, const char *path)
{
	if (!realpath(path, out))
		snprintf(out, PATH_MAX, "%s", path);
}

int changes_note(struct ppxd *d, const char *what, const char *path,
		 const char *cause, const char *person,
		 struct changes_report *r)
{
	struct change_state now = {0};
	struct tracked *t;
	char real[PATH_MAX];
	int rc;

	if (!d->changes)
		return ppx_error_set(PPX_EINVAL, "no table of files in force");
	canonical(real, path);
	t = tracked_find(d->changes, what, real);
	if (t)
		t->seen = 1;	/* even if unreadable now: not "removed" */
	if ((rc = change_state_read(&now, what, real)) != 0)
		return rc;
	if (t && t->st.present &&
	    memcmp(t->st.sha256, now.sha256, 32) == 0) {
		change_state_clear(&now);
		return 0;
	}
	rc = record(d, what, real, t, &now, cause, person, r);
	change_state_clear(&now);
	return rc;
}

int changes_refused(struct ppxd *d, const char *what, const char *path,
		    const char *person, int code, const char *error,
		    struct changes_report *r)
{
	Ppx__V1__ChangeRecord cr = PPX__V1__CHANGE_RECORD__INIT;
	uint8_t sha[32];
	struct tracked *t;
	char real[PATH_MAX], *lines[1];
	char line[CHANGE_LINE_MAX];
	uint64_t seq;
	int rc;

	if (!d->changes)
		return ppx_error_set(PPX_EINVAL, "no table of files in force");
	canonical(real, path);
	if (r->code == 0) {
		snprintf(r->error, sizeof(r->error), "reload refused: %s",
			 error);
		r->code = code ? code : PPX_EINVAL;
	}
	snprintf(line, sizeof(line), "refused: %s; the version before stays "
		 "in force", error);
	t = tracked_find(d->changes, what, real);
	lines[0] = line;
	cr.what = (char *)what;
	cr.path = real;
	cr.sha256.data = sha;
	cr.sha256.len = change_state_hash(sha, real) == 0 ? 32 : 0;
	if (t && t->st.present) {
		cr.previous_sha256.data = t->st.sha256;
		cr.previous_sha256.len = 32;
	}
	cr.cause = "reload";
	cr.changes = lines;
	cr.n_changes = 1;
	rc = append_record(d, &cr, person, error, &seq);
	if (rc == 0)
		r->entries++;
	return rc;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The certificate files of `dir`, as the trust store reads them (.pem,
 * .crt), sorted. */
static int cert_files(char ***out, size_t *n, const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!dp)
		return ppx_error_set(PPX_EIO, "cannot open certificate "
				     "directory %s", dir);
	while (rc == 0 && (de = readdir(dp)))
		if (has_suffix(de->d_name, ".pem") ||
		    has_suffix(de->d_name, ".crt"))
			rc = change_lines_add(out, n, "%s/%s", dir,
					      de->d_name);
	closedir(dp);
	if (rc == 0 && *n)
		qsort(*out, *n, sizeof(**out), cmp_name);
	return rc;
}

/* Certificates logged before and gone now: "removed". */
static int removed_certs(struct ppxd *d, const char *cause,
			 const char *person, struct changes_report *r)
{
	struct changes *c = d->changes;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		struct change_state gone = {0};
		char what[16], path[PATH_MAX];

		if (strcmp(c->v[i].what, "certificate") != 0 ||
		    c->v[i].seen || !c->v[i].st.present)
			continue;
		memcpy(what, c->v[i].what, sizeof(what));
		memcpy(path, c->v[i].path, sizeof(path));
		rc = record(d, what, path, &c->v[i], &gone, cause, person, r);
	}
	return rc;
}

static int first_error(int a, int b)
{
	return a ? a : b;
}

/* changes_note() for each of `paths`; one that cannot be read is said and
 * skipped (reload.c), the first error returned. */
static int note_each(struct ppxd *d, const char *what,
		     const char *const *paths, size_t n, const char *cause,
		     const char *person, struct changes_report *r)
{
	int rc = 0, one;

	for (size_t i = 0; i < n; i++)
		if ((one = changes_note(d, what, paths[i], cause, person,
					r)) != 0) {
			log_warnx("%s %s: %s", what, paths[i],
				  ppx_error_last());
			rc = first_error(rc, one);
		}
	return rc;
}

int changes_keys(struct ppxd *d, const char *cause, const char *person,
		 struct changes_report *r)
{
	const struct ppx_config *cfg = d->cfg;
	char **files = NULL;
	size_t n = 0;
	int rc;

	if (!d->changes)
		return ppx_error_set(PPX_EINVAL, "no table of files in force");
	for (size_t i = 0; i < d->changes->n; i++)
		d->changes->v[i].seen = 0;
	if ((rc = cert_files(&files, &n, cfg->certs)) != 0)
		return rc;
	rc = note_each(d, "ca", (const char *const[]){cfg->ca}, 1, cause,
		       person, r);
	rc = first_error(rc, note_each(d, "certificate",
				       (const char *const[]){cfg->signing_cert,
							     cfg->transport_cert},
				       2, cause, person, r));
	rc = first_error(rc, note_each(d, "certificate",
				       (const char *const *)files, n, cause,
				       person, r));
	change_lines_free(files, n);
	return first_error(rc, removed_certs(d, cause, person, r));
}

int changes_start(struct ppxd *d)
{
	struct changes_report r = {0};
	int rc;

	if ((rc = changes_note(d, "configuration", d->cfg->path, "start", "",
			       &r)) == 0 &&
	    (rc = changes_note(d, "policy", d->cfg->policy_path, "start", "",
			       &r)) == 0 &&
	    (rc = changes_note(d, "crl", d->cfg->crl, "start", "", &r)) == 0)
		rc = changes_keys(d, "start", "", &r);
	if (rc == 0 && r.entries)
		log_info("files in force: %u change entries logged",
			 r.entries);
	changes_report_clear(&r);
	return rc;
}
