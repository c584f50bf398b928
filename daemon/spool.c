/*
 * spool.c — messages dropped as files into a directory, each sent exactly
 * once and moved aside with its outcome (docs/HOOKS.md).
 *
 * Where it sits: a local way in, beside the control socket.  Every
 * scan_ms, within a loop iteration and before its commit, spool_scan()
 * lists NAME.json files (never dotfiles or *.tmp: writers write elsewhere
 * and rename(2), so a half-written file is never seen), reads each as one
 * ppx.v1.Body in canonical JSON and submits it through
 * submit_body() (submit.c) as the [spool] operator, exactly as `ppx send`
 * would.  The file is moved only after the iteration's commit:
 *
 *   committed  -> done/NAME.json.result (message id, log seq), then the
 *                 file to done/NAME.json;
 *   refused    -> failed/NAME.json.error (why), then the file to failed/;
 *   our fault  -> (log full, out of memory, commit failed) the file stays
 *                 and is tried again at the next scan.
 *
 * Exactly once: a file without a messageId gets one derived from its name
 * and bytes (SHA-256, first 16 bytes), so the same file seen again after a
 * crash between the commit and the move is the same message; it is found
 * in the log's dedupe index and only moved, never sent twice.  A file
 * whose messageId names a message already sent with another body is
 * refused (PPX_EREUSED) and goes to failed/: it was never sent.
 *
 * Whoever can write the spool sends as its operator, so spool_new()
 * refuses a directory other users may enter, and files are opened without
 * following symbolic links.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "log.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/json.h"
#include "ppx/timefmt.h"
#include "state.h"
#include "spool.h"
#include "submit.h"
#include "writer.h"

#define SPOOL_SUFFIX ".json"
#define SPOOL_NAME_MAX 200	/* room for ".result.tmp" within NAME_MAX */
#define SPOOL_ID_LABEL "ppx-spool-v1"

struct spool {
	int dir, done, failed;	/* directory fds; -1 without [spool] */
	const struct ppx_operator *op;
	int64_t next_scan_ms;
	char last_warning[512];	/* not repeated every scan */
};

/* A submitted file, waiting for the commit.  why: "" if it was
 * submitted, else why it was refused. */
struct spooled {
	char name[SPOOL_NAME_MAX + 1];
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint64_t seq;
	char why[512];
	int reused;	/* refused: its id names another message */
};

/* ------------------------------------------------------------------ */
/* Outcomes                                                            */
/* ------------------------------------------------------------------ */

/* dirfd/NAME.json.SUFFIX holds `json` and a newline, written to a
 * temporary name, synced, then renamed into place.  0, or PPX_EIO with
 * errno saying why (the caller logs it). */
static int write_outcome(int dirfd, const char *name, const char *suffix,
			 json_object *o)
{
	char path[SPOOL_NAME_MAX + 32], tmp[SPOOL_NAME_MAX + 40];
	const char *text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	int fd, ok;

	snprintf(path, sizeof(path), "%s%s", name, suffix);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", path);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return PPX_EIO;
	ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
	     fsync(fd) == 0;
	if (close(fd) != 0 || !ok || renameat(dirfd, tmp, dirfd, path) != 0) {
		unlinkat(dirfd, tmp, 0);
		return PPX_EIO;
	}
	return 0;
}

static json_object *outcome_new(const char *name)
{
	json_object *o = json_object_new_object();
	char when[40];

	ppx_time_iso_ms(when, sizeof(when), ppxd_now_ms());
	json_object_object_add(o, "file", json_object_new_string(name));
	json_object_object_add(o, "time", json_object_new_string(when));
	return o;
}

/* The file was refused: failed/NAME.json.error, then the file. */
static void spool_refuse(struct spool *sp, const char *name, const char *why)
{
	json_object *o = outcome_new(name);
	int rc;

	json_object_object_add(o, "error", json_object_new_string(why));
	rc = write_outcome(sp->failed, name, ".error", o);
	json_object_put(o);
	if (rc != 0 || renameat(sp->dir, name, sp->failed, name) != 0) {
		log_warn("spool: cannot move %s to failed/", name);
		return;
	}
	log_warnx("spool: %s refused, moved to failed/: %s", name, why);
}

/* The message is in the log: done/NAME.json.result, then the file. */
static void spool_sent(struct spool *sp, const struct spooled *s)
{
	json_object *o = outcome_new(s->name);
	char hex[2 * PPX_MESSAGE_ID_LEN + 1];
	int rc;

	ppx_hex(hex, s->id, sizeof(s->id));
	json_object_object_add(o, "message_id", json_object_new_string(hex));
	json_object_object_add(o, "log_seq", json_object_new_uint64(s->seq));
	rc = write_outcome(sp->done, s->name, ".result", o);
	json_object_put(o);
	if (rc != 0 || renameat(sp->dir, s->name, sp->done, s->name) != 0) {
		/* It stays; the next scan finds it sent and tries again. */
		log_warn("spool: %s is sent (message %s, log entry %llu) but "
			 "cannot be moved to done/", s->name, hex,
			 (unsigned long long)s->seq);
		return;
	}
	log_info("spool: %s sent as message %s (log entry %llu)", s->name, hex,
		 (unsigned long long)s->seq);
}

/*
 * After the commit.  A refused file is moved to failed/ only now, and only
 * if its message is not in the log after all: a refusal that came after
 * the message was appended (a failure on the way out of
 * submit_body) must not turn a sent message into a failed file.
 */
static void spooled_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct spooled *s = arg;

	if (rc != 0)
		log_info("spool: %s stays in the spool: the log commit failed",
			 s->name);
	else if (!s->why[0])
		spool_sent(d->spool, s);
	else if (!s->reused &&
		 ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_SENT, "",
			      s->id, sizeof(s->id), &s->seq) == 0)
		spool_sent(d->spool, s);
	else
		spool_refuse(d->spool, s->name, s->why);
	free(s);
}

/* ------------------------------------------------------------------ */
/* One file                                                            */
/* ------------------------------------------------------------------ */

/* Reads a regular file of at most PPX_JSON_MAX_INPUT bytes.  Returns 0,
 * 1 if it has gone (its writer took it back), or with `why` set:
 * PPX_EINVAL (a symbolic link, not a regular file), PPX_ERANGE (too
 * large), PPX_ENOMEM, or PPX_EIO (cannot open or read it). */
static int read_file(struct spool *sp, const char *name, char **out,
		     size_t *len, char *why, size_t cap)
{
	int fd = openat(sp->dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);
	struct stat st;
	ssize_t n = 0;
	int rc = PPX_EIO;

	*out = NULL;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 && errno == ELOOP) {
		snprintf(why, cap, "a symbolic link: put the file itself in "
			 "the spool");
		rc = PPX_EINVAL;
	} else if (fd < 0) {
		snprintf(why, cap, "cannot open it: %s", strerror(errno));
	}
	if (fd < 0)
		return rc;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, cap, "not a regular file");
		rc = PPX_EINVAL;
	} else if (st.st_size > PPX_JSON_MAX_INPUT) {
		snprintf(why, cap, "%lld bytes; a message file may have at "
			 "most %d", (long long)st.st_size, PPX_JSON_MAX_INPUT);
		rc = PPX_ERANGE;
	} else if (!(*out = malloc((size_t)st.st_size + 1))) {
		snprintf(why, cap, "out of memory");
		rc = PPX_ENOMEM;
	} else if ((n = read(fd, *out, (size_t)st.st_size)) != st.st_size) {
		snprintf(why, cap, "cannot read it: %s",
			 n < 0 ? strerror(errno) : "it changed while read");
	}
	close(fd);
	if (*out && n == st.st_size) {
		*len = (size_t)n;
		return 0;
	}
	free(*out);
	*out = NULL;
	return rc;
}

/* The first 16 bytes of SHA-256(label 0 name 0 content). */
static int derive_id(uint8_t id[PPX_MESSAGE_ID_LEN], const char *name,
		     const char *text, size_t len)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(ctx, SPOOL_ID_LABEL,
				  sizeof(SPOOL_ID_LABEL)) &&
		 EVP_DigestUpdate(ctx, name, strlen(name) + 1) &&
		 EVP_DigestUpdate(ctx, text, len) &&
		 EVP_DigestFinal_ex(ctx, md, &mdlen);

	EVP_MD_CTX_free(ctx);
	if (!ok || mdlen < PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_ECRYPTO, "cannot hash spool file %s",
				     name);
	memcpy(id, md, PPX_MESSAGE_ID_LEN);
	return 0;
}

/* Failures that are ours, not the file's: try it again later. */
static int transient(int code)
{
	return code == PPX_ENOMEM || code == PPX_EIO || code == PPX_EFULL ||
	       code == PPX_ECRYPTO || code == PPX_ECORRUPT ||
	       code == PPX_ERANGE;
}

/* Submit body b (whose id is s->id); a message the log has already is
 * taken again only if it is the same (submit_body() says so), and
 * a different body under its id is refused.  The file moves after the
 * commit, to done/ or, if refused, to failed/.  Returns 0 when s is the
 * commit's to free; else a failure that is ours (the file stays), with s
 * still the caller's. */
static int submit(struct ppxd *d, struct spooled *s, Ppx__V1__Body *b)
{
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int rc = submit_body(d, d->spool->op, b, id, &s->seq);

	if (rc != 0 && transient(rc))
		return rc;
	s->reused = rc == PPX_EREUSED;
	if (rc != 0)
		snprintf(s->why, sizeof(s->why), "%s", ppx_error_last());
	if (writer_after(d, spooled_after_commit, s) != 0)
		return PPX_ENOMEM;	/* tried again at the next scan */
	return 0;
}

/* Parse and submit one file's text.  Returns 0 (the commit moves the
 * file), or a ppx code with the problem in ppx_error_last(): a file that
 * is not a message, or a failure of ours. */
static int spool_text(struct ppxd *d, const char *name, const char *text,
		      size_t len)
{
	Ppx__V1__Body *parsed = NULL, b;
	struct spooled *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(s->name, name, strlen(name) + 1);
	rc = ppx_json_parse((ProtobufCMessage **)&parsed,
			    &ppx__v1__body__descriptor, text, len);
	if (rc != 0)
		rc = ppx_error_set(rc, "not one ppx.v1.Body in canonical JSON "
				   "(as ppx send --json reads): %s",
				   ppx_error_last());
	else if (parsed->message_id.len == 0)
		rc = derive_id(s->id, name, text, len);
	else if (parsed->message_id.len == PPX_MESSAGE_ID_LEN)
		memcpy(s->id, parsed->message_id.data, PPX_MESSAGE_ID_LEN);
	else
		rc = ppx_error_set(PPX_EINVAL, "messageId has %zu bytes, not "
				   "%d", parsed->message_id.len,
				   PPX_MESSAGE_ID_LEN);
	if (rc == 0) {
		b = *parsed;
		b.message_id.data = s->id;
		b.message_id.len = sizeof(s->id);
		rc = submit(d, s, &b);
	}
	if (parsed)
		ppx__v1__body__free_unpacked(parsed, NULL);
	if (rc != 0)
		free(s);
	return rc;
}

static void spool_file(struct ppxd *d, const char *name)
{
	struct spool *sp = d->spool;
	char why[512], *text = NULL;
	size_t len = 0;
	int rc = read_file(sp, name, &text, &len, why, sizeof(why));

	if (rc > 0)
		return;
	if (rc < 0) {
		spool_refuse(sp, name, why);
		return;
	}
	rc = spool_text(d, name, text, len);
	free(text);
	if (rc == 0 || !transient(rc)) {
		if (rc != 0)
			spool_refuse(sp, name, ppx_error_last());
		sp->last_warning[0] = '\0';
		return;
	}
	snprintf(why, sizeof(why), "%s", ppx_error_last());
	if (strcmp(why, sp->last_warning) != 0)
		log_warnx("spool: %s stays in the spool, to be tried again: %s",
			  name, why);
	snprintf(sp->last_warning, sizeof(sp->last_warning), "%s", why);
}

/* ------------------------------------------------------------------ */
/* The directory                                                       */
/* ------------------------------------------------------------------ */

/* NAME.json, not a dotfile: what writers rename into place. */
static int spool_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name), s = strlen(SPOOL_SUFFIX);

	return e->d_name[0] != '.' && n > s && n <= SPOOL_NAME_MAX &&
	       strcmp(e->d_name + n - s, SPOOL_SUFFIX) == 0;
}

void spool_scan(struct ppxd *d, size_t max)
{
	struct spool *sp = d->spool;
	int64_t now = ppxd_now_ms();
	struct dirent **names = NULL;
	int n;

	if (sp->dir < 0 || now < sp->next_scan_ms)
		return;
	sp->next_scan_ms = now + d->cfg->spool_scan_ms;
	n = scandirat(sp->dir, ".", &names, spool_name, alphasort);
	if (n < 0) {
		log_warn("spool: cannot list %s", d->cfg->spool_dir);
		return;
	}
	for (int i = 0; i < n; i++) {
		if ((size_t)i < max)
			spool_file(d, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	if ((size_t)n > max)	/* more waiting: come back at once */
		sp->next_scan_ms = now;
}

long spool_timeout(struct ppxd *d, long max)
{
	int64_t left = d->spool->next_scan_ms - ppxd_now_ms();

	if (d->spool->dir < 0 || left >= max)
		return max;
	return left < 0 ? 0 : (long)left;
}

/* dir/sub, made 0700 if missing; an fd for it, or -1 with the error. */
static int open_sub(int dir, const char *path, const char *sub)
{
	int fd;

	if (mkdirat(dir, sub, 0700) != 0 && errno != EEXIST)
		return ppx_error_set(PPX_EIO, "cannot create %s/%s: %s", path,
				     sub, strerror(errno));
	fd = openat(dir, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ppx_error_set(PPX_EIO, "cannot open %s/%s: %s", path,
				     sub, strerror(errno));
	return fd;
}

static int spool_open(struct spool *sp, const char *path)
{
	struct stat st;

	sp->dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir < 0)
		return ppx_error_set(PPX_EIO, "cannot open spool directory %s: "
				     "%s (create it, mode 0700 or 0770)", path,
				     strerror(errno));
	if (fstat(sp->dir, &st) != 0)
		return ppx_error_set(PPX_EIO, "cannot stat spool directory %s: "
				     "%s", path, strerror(errno));
	if (st.st_mode & 007)
		return ppx_error_set(PPX_EPERM, "spool directory %s is open to "
				     "all users (mode %04o): whoever writes it "
				     "sends as its operator; make it 0700 or "
				     "0770", path,
				     (unsigned)(st.st_mode & 07777));
	if ((sp->done = open_sub(sp->dir, path, "done")) < 0)
		return sp->done;
	if ((sp->failed = open_sub(sp->dir, path, "failed")) < 0)
		return sp->failed;
	return 0;
}

int spool_new(struct spool **out, struct ppxd *d)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	const struct ppx_config *c = d->cfg;
	int rc = 0;

	*out = NULL;
	if (!sp)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	sp->dir = sp->done = sp->failed = -1;
	if (c->spool_dir[0]) {
		sp->op = ppx_config_operator_by_id(c, c->spool_operator);
		rc = sp->op ? spool_open(sp, c->spool_dir) :
			      ppx_error_set(PPX_EINVAL, "[spool] operator %s "
					    "is not configured",
					    c->spool_operator);
	}
	if (rc != 0) {
		spool_free(&sp);
		return rc;
	}
	if (sp->dir >= 0)
		log_info("spool %s: sending each NAME.json as %s",
			 c->spool_dir, sp->op->id);
	*out = sp;
	return 0;
}

void spool_free(struct spool **self)
{
	struct spool *sp = *self;

	if (!sp)
		return;
	if (sp->dir >= 0)
		close(sp->dir);
	if (sp->done >= 0)
		close(sp->done);
	if (sp->failed >= 0)
		close(sp->failed);
	free(sp);
	*self = NULL;
}
