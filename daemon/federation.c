/*
 * federation.c — the federation directory in force: taken from the held
 * copy, the file drop or a partner, logged, held, put in force and passed
 * on (federation.h; docs/CONFIG.md [federation]).
 *
 * Where it sits: main.c opens it once the log, the transport, the outbox
 * and the witness are up (federation_open), so that partners_apply() can
 * add links and lanes; ppxd.c ticks it every iteration and tells it of
 * each link that comes up; inbound.c hands it partners' frames through
 * federation_frame() (federation_io.c).
 *
 * The order of taking a directory: judged (ppx_directory_parse at now,
 * our federation's name, its baseline policy loads, newer than the one
 * in force or taken earlier in this iteration), then ENTRY_DIRECTORY is
 * appended to the iteration's batch with the mark "directory" moved to
 * it (the after-commit action registered first, so that nothing can fail
 * between the entry and it: an entry appended is put in force if the
 * batch commits); only after the commit is it put in force (d->directory,
 * d->baseline, partners_apply), written to LOG_DIR/directory.pb and sent
 * on.  So the log is never behind what is in force.  A crash between the
 * commit and the file leaves the file behind the log: at start the
 * newer of the two (the held file, the log's latest ENTRY_DIRECTORY,
 * both judged without dates) is put in force, the file rewritten if it
 * was behind, and a held file newer than the log (a log restored from a
 * backup) is logged again, cause "held".  A commit that fails puts
 * nothing in force: the source is looked at again (the drop) or taken
 * when its partner sends it again.  A daemon whose log has held a
 * directory but can put none in force at start fails closed
 * (fail_closed): every partner cut off until one is taken.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "federation_int.h"
#include "log.h"
#include "partners.h"
#include "ppx/error.h"
#include "ppx/timefmt.h"
#include "state.h"
#include "submit.h"
#include "transport.h"
#include "writer.h"

#define DETAIL_MAX 4000

/*
 * What a new directory replaced, freed after the next commit.  The
 * invariant: a pointer taken from d->directory or d->baseline (an agency,
 * a name, a policy and the text of its verdicts) stays valid until the
 * end of the loop iteration that took it, never longer; nothing may keep
 * one across iterations (inbound groups and pending replies copy what
 * they need).  A directory is put in force from an after-commit action,
 * possibly while such pointers of the same iteration are still in use,
 * so what it replaced lives until the next commit.
 */
struct replaced {
	struct ppx_directory *dir;
	ppxd_policy *baseline;
};

/* ------------------------------------------------------------------ */
/* Judging                                                             */
/* ------------------------------------------------------------------ */

/* Parse at `now` (0: no dates) as a successor of `held` (NULL: none;
 * ppx_directory_parse_next) and check it is of our federation. */
int fed_judge(struct ppxd *d, struct ppx_directory **out,
	      const uint8_t *bytes, size_t len, time_t now,
	      const struct ppx_directory *held)
{
	int rc;

	*out = NULL;
	if (len > PPX_DIRECTORY_MAX_BYTES)
		return ppx_error_set(PPX_EBADDIR, "%zu bytes, more than the "
				     "%u a directory may have", len,
				     PPX_DIRECTORY_MAX_BYTES);
	if ((rc = ppx_directory_parse_next(out, bytes, len, d->trust, now,
					   held)) != 0)
		return rc;
	/* [federation] name is required (config.c), so the first directory
	 * is held to it as well as every later one. */
	if (strcmp((*out)->federation, d->cfg->federation) != 0) {
		rc = ppx_error_set(PPX_EBADDIR, "directory serial %llu is of "
				   "federation %s; this daemon is in %s",
				   (unsigned long long)(*out)->serial,
				   (*out)->federation, d->cfg->federation);
		ppx_directory_free(*out);
		*out = NULL;
	}
	return rc;
}

/* The directory's baseline policy, loaded (through the file
 * LOG_DIR/baseline.policy.new: policy.c reads files); NULL if it has
 * none. */
int fed_baseline_load(struct ppxd *d, const struct ppx_directory *dir,
		      ppxd_policy **out)
{
	char path[PATH_MAX + 8];
	int rc;

	*out = NULL;
	if (!dir->baseline_policy || !dir->baseline_policy[0])
		return 0;
	snprintf(path, sizeof(path), "%s.new", d->federation->baseline_path);
	if ((rc = ppx_file_write_atomic(path,
			(const uint8_t *)dir->baseline_policy,
			strlen(dir->baseline_policy), 0600)) != 0)
		return rc;
	rc = policy_load(out, path);
	unlink(path);
	if (rc != 0)
		return ppx_error_set(PPX_EBADDIR, "directory serial %llu: its "
				     "baseline policy does not load: %s",
				     (unsigned long long)dir->serial,
				     ppx_error_last());
	return 0;
}

/* ------------------------------------------------------------------ */
/* Putting in force                                                    */
/* ------------------------------------------------------------------ */

static void free_replaced(struct ppxd *d, void *arg, int rc)
{
	struct replaced *r = arg;

	(void)d;
	(void)rc;
	ppx_directory_free(r->dir);
	policy_free(r->baseline);
	free(r);
}

/* Say once when the directory in force is outside its dates: it stays in
 * force (nothing newer was taken), and `ppx status` says so too. */
static void date_check(struct ppxd *d)
{
	struct federation *f = d->federation;
	int64_t now = ppxd_now_ms();
	char when[40];
	int out;

	if (!d->directory)
		return;
	out = now > d->directory->not_after_ms ? 1
	      : now < d->directory->not_before_ms ? -1 : 0;
	if (out && !f->dated) {
		ppx_time_iso(when, sizeof(when),
			     out > 0 ? d->directory->not_after_ms
				     : d->directory->not_before_ms);
		log_warnx("WARNING: the directory in force (serial %llu) %s "
			  "%s; it stays in force until a newer one is taken: "
			  "publish one", (unsigned long long)d->directory->serial,
			  out > 0 ? "expired at" : "is not valid before", when);
	}
	f->dated = out;
}

void fed_put_in_force(struct ppxd *d, struct fed_taking *t)
{
	struct federation *f = d->federation;
	struct replaced *r = calloc(1, sizeof(*r));

	if (r) {
		r->dir = d->directory;
		r->baseline = d->baseline;
	}
	d->directory = t->dir;
	d->baseline = t->baseline;
	/* What is in force, for the operator to read: the policy itself
	 * was loaded from baseline.policy.new when the directory was
	 * judged. */
	if (t->baseline &&
	    ppx_file_write_atomic(f->baseline_path,
				  (const uint8_t *)t->dir->baseline_policy,
				  strlen(t->dir->baseline_policy), 0600) != 0)
		log_warnx("%s", ppx_error_last());
	else if (!t->baseline)
		unlink(f->baseline_path);
	snprintf(f->source, sizeof(f->source), "%s", t->source);
	if (f->closed)
		log_info("a directory is in force again: partners are judged "
			 "by it");
	f->closed = 0;
	f->taken_ms = ppxd_now_ms();
	f->log_seq = t->seq;
	f->has_seq = 1;
	f->dated = 0;
	if (partners_apply(d, t->dir) != 0)
		log_warnx("directory serial %llu: not every partner updated: "
			  "%s", (unsigned long long)t->dir->serial,
			  ppx_error_last());
	if (!r || writer_after(d, free_replaced, r) != 0) {
		free(r);	/* the old ones are kept: a small leak, no harm */
		log_warnx("out of memory: the replaced directory is kept");
	}
	date_check(d);
}

/*
 * Fail closed (PROTOCOL.md 13.3): the log has held a directory (its mark
 * "directory"), but none could be put in force at start (none verifies
 * now, or its baseline policy does not load).  Trusting every [partner]
 * on the CA alone again would undo what the directories decided (an
 * agency suspended, removed or excluded), so a stand-in that lists no
 * agency is put in force instead: every partner is removed, its
 * handshakes and frames refused, until a directory is taken (from the
 * file drop: no partner can reach us).  It is never logged, held or sent.
 */
static int fail_closed(struct ppxd *d)
{
	struct federation *f = d->federation;
	struct ppx_directory *none = calloc(1, sizeof(*none));

	if (!none || !(none->baseline_policy = calloc(1, 1))) {
		free(none);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	snprintf(none->federation, sizeof(none->federation), "%s",
		 d->cfg->federation);
	none->not_after_ms = INT64_MAX;
	snprintf(none->signer, sizeof(none->signer), "none");
	d->directory = none;
	f->closed = 1;
	snprintf(f->source, sizeof(f->source), "none (WARNING: the log has "
		 "held a directory, entry %llu, but none could be put in "
		 "force: every partner is cut off until one is)",
		 (unsigned long long)f->log_seq);
	log_warnx("WARNING: the log has held a federation directory (entry "
		  "%llu) but none could be put in force at start: every "
		  "partner is cut off, its handshakes and messages refused, "
		  "until a directory is in force; put the federation's "
		  "current directory at %s", (unsigned long long)f->log_seq,
		  d->cfg->directory_drop);
	if (partners_apply(d, none) != 0)
		log_warnx("not every partner cut off: %s", ppx_error_last());
	return 0;
}

/* After the commit: in force, held, said, sent on; or, not logged or
 * not committed, nothing. */
static void taken(struct ppxd *d, void *arg, int rc)
{
	struct fed_taking *t = arg;
	struct federation *f = d->federation;

	if (f->pending == t->dir)
		f->pending = NULL;
	if (rc != 0 || !t->logged) {
		struct fed_peer *p = fed_peer(f, t->source);

		log_warnx("directory serial %llu from %s not taken: %s",
			  (unsigned long long)t->dir->serial, t->source,
			  rc != 0 ? "the log commit failed" : "not logged");
		if (p)
			p->has_dir = 0;	/* judged again when sent again */
		memset(&f->drop_seen, 0, sizeof(f->drop_seen));
		ppx_directory_free(t->dir);
		policy_free(t->baseline);
		free(t);
		return;
	}
	fed_put_in_force(d, t);
	if (ppx_file_write_atomic(f->held_path, t->dir->bytes, t->dir->len, 0600) != 0)
		log_warnx("directory serial %llu is in force but not held "
			  "for the next start (the log has it): %s",
			  (unsigned long long)t->dir->serial, ppx_error_last());
	log_info("directory serial %llu of %s from %s in force: %zu "
		 "agencies", (unsigned long long)t->dir->serial,
		 t->dir->federation, t->source, t->dir->n_agencies);
	fed_forward(d, OWE_DIRECTORY, t->agency[0] ? t->agency : NULL);
	free(t);
}

/*
 * The mark "directory" moved to entry `seq`: the new one put before the
 * old one goes, so that a failure between them leaves two (the latest
 * is read at start) rather than none.  The entry is what counts: once
 * it is appended the directory is taken if the batch commits, and a
 * mark that could not be moved is said, not a reason to drop it (at
 * start the held file, written after the commit, is the newer).
 */
static void mark_move(struct ppxd *d, const struct ppx_directory *dir,
		      uint64_t seq)
{
	struct federation *f = d->federation;
	/* The mark before: of one taken earlier in this iteration, else of
	 * the directory in force. */
	uint64_t before = f->pending ? f->pending_seq : f->log_seq;
	int had = f->pending || f->has_seq;
	ppx_log_batch *b = NULL;
	int rc = writer_batch(d, &b);

	if (rc == 0)
		rc = ppx_log_mark_put(b, FED_MARK_SET, seq, 0);
	if (rc == 0 && had && before != seq)
		rc = ppx_log_mark_del(b, FED_MARK_SET, before);
	if (rc != 0)
		log_warnx("directory serial %llu logged as entry %llu, but "
			  "the log's mark of the directory in force could not "
			  "be moved to it: %s; at the next start the held "
			  "file decides", (unsigned long long)dir->serial,
			  (unsigned long long)seq, ppx_error_last());
}

/* ENTRY_DIRECTORY for `dir` from `source`, its mark moved to it (mark_move). */
static int log_directory(struct ppxd *d, const struct ppx_directory *dir,
			 const struct ppx_directory *old, const char *source,
			 const char *agency, uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char *detail = malloc(DETAIL_MAX), *lines = malloc(DETAIL_MAX);
	size_t at;
	int rc;

	if (!detail || !lines) {
		free(detail);
		free(lines);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	ppx_directory_changes(old, dir, lines, DETAIL_MAX);
	at = (size_t)snprintf(detail, DETAIL_MAX, "serial %llu from %s: ",
			      (unsigned long long)dir->serial, source);
	if (at >= DETAIL_MAX)
		at = DETAIL_MAX - 1;
	for (const char *c = lines; *c && at + 3 < DETAIL_MAX; c++) {
		if (*c != '\n')
			detail[at++] = *c;
		else if (c[1]) {	/* one line each: "a; b" */
			detail[at++] = ';';
			detail[at++] = ' ';
		}
	}
	detail[at] = '\0';
	free(lines);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY;
	e.peer_agency = (char *)agency;
	e.detail = detail;
	e.data.data = dir->bytes;
	e.data.len = dir->len;
	rc = writer_append(d, &e, seq);
	free(detail);
	if (rc == 0)
		mark_move(d, dir, *seq);
	return rc;
}

/* What an offered directory is judged against: the one taken earlier in
 * this iteration, else the one in force; NULL when there is none, or
 * only the stand-in of a daemon that fails closed (fail_closed). */
static const struct ppx_directory *fed_current(const struct ppxd *d)
{
	const struct federation *f = d->federation;

	if (f->pending)
		return f->pending;
	return f->closed ? NULL : d->directory;
}

/* Log `dir` and put it in force after the commit (it is owned now). */
int fed_take(struct ppxd *d, struct ppx_directory *dir, ppxd_policy *base,
	     const char *source, const char *agency)
{
	struct federation *f = d->federation;
	struct fed_taking *t = calloc(1, sizeof(*t));
	const struct ppx_directory *old = fed_current(d);
	int rc = t ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");

	/* What waits for a batch was checked under the directory in force:
	 * logged before the new one (batch_sign_wait_ms). */
	submit_flush(d);
	/* The action first: once the entry is in the batch nothing may
	 * fail that would leave it there with nothing put in force. */
	if (rc == 0 && (rc = writer_after(d, taken, t)) != 0)
		free(t);
	if (rc != 0) {
		log_warnx("directory serial %llu from %s not taken: %s",
			  (unsigned long long)dir->serial, source,
			  ppx_error_last());
		ppx_directory_free(dir);
		policy_free(base);
		return rc;
	}
	t->dir = dir;
	t->baseline = base;
	snprintf(t->source, sizeof(t->source), "%s", source);
	snprintf(t->agency, sizeof(t->agency), "%s", agency);
	rc = log_directory(d, dir, old, source, agency, &t->seq);
	if (rc != 0)
		return rc;	/* taken() frees it after the commit */
	t->logged = 1;
	f->pending = dir;
	f->pending_seq = t->seq;
	return 0;
}

void fed_take_directory(struct ppxd *d, const char *source,
			const char *agency, const uint8_t *bytes, size_t len)
{
	struct federation *f = d->federation;
	const struct ppx_directory *held = fed_current(d);
	struct ppx_directory *dir = NULL;
	ppxd_policy *base = NULL;
	int rc;

	if (held && held->len == len && memcmp(held->bytes, bytes, len) == 0)
		return;	/* the one we hold */
	rc = fed_judge(d, &dir, bytes, len, time(NULL), held);
	if (rc == 0)
		rc = ppx_directory_supersedes(held, dir);
	if (rc == PPX_EDUP) {
		ppx_directory_free(dir);
		return;
	}
	if (rc == 0)
		rc = fed_baseline_load(d, dir, &base);
	if (rc == PPX_ESTALE && f->opening) {
		/* The drop often holds an older directory than one a
		 * partner brought: not news at every start. */
		log_info("%s: %s; the directory in force stays", source,
			 ppx_error_last());
	} else if (rc == PPX_ENOMEM || rc == PPX_EIO) {
		struct fed_peer *p = fed_peer(f, source);

		log_warnx("directory from %s not judged: %s", source,
			  ppx_error_last());
		if (p)
			p->has_dir = 0;
	} else if (rc != 0) {
		fed_refuse(d, source, agency, bytes, len,
			   rc == PPX_ESTALE ? PPX_ESTALE : PPX_EBADDIR,
			   "directory");
	}
	if (rc != 0) {
		ppx_directory_free(dir);
		return;
	}
	fed_take(d, dir, base, source, agency);
}

/* ------------------------------------------------------------------ */
/* The file drop                                                       */
/* ------------------------------------------------------------------ */

static struct crl_file_id drop_id(const char *path)
{
	struct crl_file_id id = {-1, -1, -1};
	struct stat st;

	if (stat(path, &st) == 0) {
		id.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
			      st.st_mtim.tv_nsec;
		id.size = (long long)st.st_size;
		id.ino = (long long)st.st_ino;
	}
	return id;
}

/* The drop, if it changed since last looked at: a missing file is
 * nothing new; one that cannot be read is said once per change. */
static void drop_look(struct ppxd *d)
{
	struct federation *f = d->federation;
	const char *path = d->cfg->directory_drop;
	struct crl_file_id id = drop_id(path);
	char source[FED_SOURCE_MAX];
	uint8_t *bytes = NULL;
	size_t len = 0;

	if (id.mtime_ns == f->drop_seen.mtime_ns &&
	    id.size == f->drop_seen.size && id.ino == f->drop_seen.ino)
		return;
	f->drop_seen = id;
	if (id.mtime_ns == -1)
		return;
	if (ppx_file_read(&bytes, &len, path, PPX_DIRECTORY_MAX_BYTES) != 0) {
		log_warnx("directory file drop: %s", ppx_error_last());
		return;
	}
	snprintf(source, sizeof(source), "file %s", path);
	fed_take_directory(d, source, "", bytes, len);
	free(bytes);
}

/* ------------------------------------------------------------------ */
/* The module                                                          */
/* ------------------------------------------------------------------ */

/* LOG_DIR/name into out (PATH_MAX). */
static int held_path(char *out, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return ppx_error_set(PPX_ERANGE, "%s/%s: path too long", dir,
				     name);
	return 0;
}

int federation_open(struct ppxd *d)
{
	struct federation *f;
	int rc;

	if (!d->cfg->directory_drop[0])
		return 0;
	if (!(f = calloc(1, sizeof(*f))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	d->federation = f;
	if (held_path(f->held_path, d->cfg->log_dir, "directory.pb") != 0 ||
	    held_path(f->crl_path, d->cfg->log_dir, "crl.der") != 0 ||
	    held_path(f->baseline_path, d->cfg->log_dir,
		      "baseline.policy") != 0)
		return PPX_ERANGE;
	f->drop_seen = (struct crl_file_id){-2, -2, -2};
	if ((rc = fed_held_open(d)) != 0)
		return rc;
	fed_crl_open(d);
	f->opening = 1;
	drop_look(d);
	f->opening = 0;
	f->drop_checked_ms = ppxd_now_ms();
	if ((rc = writer_flush(d)) != 0)
		return rc;
	if (!d->directory && f->has_seq)
		return fail_closed(d);
	if (!d->directory)
		log_info("no federation directory yet: waiting for one at %s "
			 "or from a partner", d->cfg->directory_drop);
	return 0;
}

void federation_free(struct ppxd *d)
{
	struct federation *f = d->federation;

	ppx_directory_free(d->directory);
	d->directory = NULL;
	policy_free(d->baseline);
	d->baseline = NULL;
	if (!f)
		return;
	free(f->owed);
	free(f->peers);
	free(f);
	d->federation = NULL;
}

void federation_tick(struct ppxd *d, int64_t now_ms)
{
	struct federation *f = d->federation;

	if (!f)
		return;
	for (size_t i = 0; i < f->n_owed; i++)
		if (f->owed[i])
			fed_send(d, i, 0);
	if (now_ms - f->drop_checked_ms < 1000)
		return;
	f->drop_checked_ms = now_ms;
	drop_look(d);
	fed_crl_check(d, NULL);	/* the CRL file reloaded: pass it on */
	date_check(d);
}

int federation_status(struct ppxd *d, Ppx__V1__DirectoryStatus **out)
{
	struct federation *f = d->federation;
	const struct ppx_directory *dir = d->directory;
	Ppx__V1__DirectoryStatus *st;
	char when[40];

	*out = NULL;
	if (!f || !dir)
		return 0;
	st = &f->st;
	ppx__v1__directory_status__init(st);
	st->federation = (char *)dir->federation;
	st->serial = dir->serial;
	st->issued_ms = dir->issued_ms;
	st->not_before_ms = dir->not_before_ms;
	st->not_after_ms = dir->not_after_ms;
	st->signer = (char *)dir->signer;
	memcpy(f->status_sha, dir->sha256, 32);
	st->sha256.data = f->status_sha;
	st->sha256.len = 32;
	st->taken_ms = f->taken_ms;
	snprintf(f->status_source, sizeof(f->status_source), "%s", f->source);
	if (f->dated) {
		ppx_time_iso(when, sizeof(when), f->dated > 0
				     ? dir->not_after_ms : dir->not_before_ms);
		snprintf(f->status_source + strlen(f->status_source),
			 sizeof(f->status_source) - strlen(f->status_source),
			 " (WARNING: %s %s; in force until a newer one is "
			 "taken)", f->dated > 0 ? "expired" : "not valid before",
			 when);
	}
	st->source = f->status_source;
	st->agencies = (uint32_t)dir->n_agencies;
	st->crl_number = ppx_trust_crl_number(d->trust);
	st->crl_next_update_ms = (int64_t)ppx_trust_crl_next_update(d->trust) *
				 1000;
	st->crl_source = f->crl_source;
	st->log_seq = f->log_seq;
	*out = st;
	return 0;
}

int federation_policy_check(struct ppxd *d, const struct policy_query *q)
{
	int rc = policy_check(d->policy, q);
	char why[600];

	if (rc != 0 || !d->baseline)
		return rc;
	if ((rc = policy_check(d->baseline, q)) != 0) {
		snprintf(why, sizeof(why), "%s", ppx_error_last());
		return ppx_error_set(rc, "federation baseline policy: %s", why);
	}
	return 0;
}
