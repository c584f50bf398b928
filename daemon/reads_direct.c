/*
 * reads_direct.c — reads of the files themselves, recorded after the fact.
 *
 * With the daemon down, an administrator reads the log directly (`ppx
 * log --log DIR`).  ppx then first leaves a record in <log_dir>/reads/
 * (client/readvia.c): a small JSON object with the reader's uid and user
 * name, the time, the command's arguments, the reason and whether it was
 * an emergency; it refuses to read if it cannot.  At start and on SIGHUP
 * the daemon turns each record into an ENTRY_READ with access.direct and
 * access.read_ms, the person being the operator of the file's owner (the
 * kernel's word, not the record's) or "uid:N", and removes the records
 * once the entries are committed.  Records that say the same (person,
 * command, arguments, reason) are one entry with access.count.  A record
 * that is not one is logged as such and renamed NAME.bad: never a crash.
 *
 * The log directory is the daemon's user's (umask 077, main.c); one open
 * to other users is closed here, with a warning.  reads/ is 01730: the
 * daemon's group may leave records (if the group may read the log at
 * all), not list or remove others'.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "ppx/error.h"
#include "ppx/workdays.h"
#include "reads.h"
#include "state.h"
#include "writer.h"

#define RECORDS_PER_PASS 4096	/* the rest wait for the next pass */

/* One record, parsed. */
struct record {
	char name[256];		/* in reads/ */
	char person[160];
	char *command, *scope, *reason, *user;
	char **argv;
	size_t argc;
	int emergency;
	int64_t read_ms;
	uint32_t count;		/* records merged into this one */
	int merged;		/* counted in an earlier one */
};

/* The names to remove after the commit. */
struct done_names {
	int dirfd;
	size_t n;
	char (*names)[256];
};

static void record_clear(struct record *r)
{
	for (size_t i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->command);
	free(r->scope);
	free(r->reason);
	free(r->user);
	memset(r, 0, sizeof(*r));
}

int reads_direct_dir(struct ppxd *d)
{
	char path[PATH_MAX];
	struct stat st;

	if (stat(d->cfg->log_dir, &st) == 0 && (st.st_mode & 007)) {
		log_warnx("log directory %s is open to other users (mode "
			  "%04o): closing it (chmod o-rwx); reading goes "
			  "through ppxd", d->cfg->log_dir,
			  (unsigned)(st.st_mode & 07777));
		if (chmod(d->cfg->log_dir, st.st_mode & 07770) != 0)
			log_warn("chmod %s", d->cfg->log_dir);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", d->cfg->log_dir,
			     READS_DIRECT_DIR) >= sizeof(path))
		return ppx_error_set(PPX_EINVAL, "log directory path too long");
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return ppx_error_set(PPX_EIO, "cannot create %s: %s", path,
				     strerror(errno));
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid())
		return ppx_error_set(PPX_EPERM, "%s must be a directory of "
				     "ppxd's user", path);
	if ((st.st_mode & 07777) != 01730 && chmod(path, 01730) != 0)
		return ppx_error_set(PPX_EIO, "cannot chmod %s: %s", path,
				     strerror(errno));
	return 0;
}

/* ---- reading a record ----------------------------------------------------- */

static char *json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

/* The record's arguments: command, scope, argv. */
static int record_argv(struct record *r, json_object *o, const char **why)
{
	json_object *a;
	size_t n, at = 0;

	if (!json_object_object_get_ex(o, "argv", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0 || n > READS_ARGS_MAX) {
		*why = "no argv of 1 to 32 strings";
		return -1;
	}
	if (!(r->argv = calloc(n, sizeof(char *))) ||
	    !(r->scope = calloc(1, 1024)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i);

		if (!json_object_is_type(v, json_type_string) ||
		    !reads_item_ok(json_object_get_string(v)) ||
		    !(r->argv[r->argc] = strdup(json_object_get_string(v)))) {
			*why = "argv holds something other than strings of "
			       "printable text";
			return -1;
		}
		if (i > 0 && at < 1023)
			at += (size_t)snprintf(r->scope + at, 1024 - at, "%s%s",
					       i > 1 ? " " : "", r->argv[i]);
		r->argc++;
	}
	if (at > 1023)
		memcpy(r->scope + 1020, "...", 4);
	r->command = strdup(r->argv[0]);
	return r->command ? 0 : -1;
}

static int record_parse(struct record *r, const char *text, const char **why)
{
	json_object *o = json_tokener_parse(text), *v;
	int rc = -1;

	*why = "not a JSON object";
	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	if (record_argv(r, o, why) != 0)
		goto out;
	/* read_ms stays the file's mtime: the record's time_ms is the
	 * reader's word, and could backdate the read */
	r->reason = json_str(o, "reason");
	r->user = json_str(o, "user");
	if (json_object_object_get_ex(o, "emergency", &v))
		r->emergency = json_object_get_boolean(v);
	*why = "its reason or user is not printable text of at most 1024 "
	       "bytes";
	if ((r->reason && reads_reason_check(r->reason) != 0) ||
	    (r->user && (strlen(r->user) > 64 || !reads_item_ok(r->user)))) {
		ppx_error_clear();
		goto out;
	}
	*why = "an emergency read without a reason";
	if (r->emergency && (!r->reason || !r->reason[0]))
		goto out;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* Read reads/NAME: 0, or -1 with `why` for a malformed one. */
static int record_read(struct ppxd *d, int dirfd, struct record *r,
		       const char **why)
{
	char *text;
	struct stat st;
	ssize_t n;
	const struct ppx_operator *op;
	int fd = openat(dirfd, r->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);

	*why = "cannot be opened as a regular file";
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > READS_RECORD_MAX) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	op = ppx_config_operator_by_uid(d->cfg, st.st_uid);
	if (op)
		snprintf(r->person, sizeof(r->person), "%s", op->id);
	else
		snprintf(r->person, sizeof(r->person), "uid:%lu",
			 (unsigned long)st.st_uid);
	r->read_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
		     st.st_mtim.tv_nsec / 1000000;
	text = calloc(1, (size_t)st.st_size + 1);
	n = text ? read(fd, text, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(text);
		*why = "cannot be read whole";
		return -1;
	}
	n = record_parse(r, text, why);
	free(text);
	return (int)n;
}

/* ---- into entries ------------------------------------------------------------ */

static int same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Records saying the same, counted in the first. */
static void records_merge(struct record *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		v[i].count = v[i].merged ? 0 : 1;
		for (size_t j = 0; !v[i].merged && j < i; j++)
			if (!v[j].merged && v[j].command && v[i].command &&
			    same(v[j].person, v[i].person) &&
			    same(v[j].scope, v[i].scope) &&
			    same(v[j].reason, v[i].reason) &&
			    v[j].emergency == v[i].emergency) {
				v[j].count++;
				v[i].merged = 1;
				if (v[i].read_ms < v[j].read_ms)
					v[j].read_ms = v[i].read_ms;
			}
	}
}

/* What the record is about, if its arguments say it plainly. */
static void record_about(struct ppxd *d, struct record *r,
			 struct read_about *a)
{
	struct read_plan p;

	memset(a, 0, sizeof(*a));
	if (reads_plan(&p, r->argv, r->argc, READS_PLAN_FILES) != 0 ||
	    reads_about(a, d->log, d->cfg->agency, &p) != 0) {
		ppx_error_clear();
		memset(a, 0, sizeof(*a));
	}
}

static void record_log(struct ppxd *d, struct record *r)
{
	struct read_entry e = {0};
	struct read_about a;
	char detail[512];
	uint64_t seq;

	record_about(d, r, &a);
	snprintf(detail, sizeof(detail), "direct read of the files by %s "
		 "(user %s)%s", r->person, r->user ? r->user : "?",
		 r->count > 1 ? ", the same read several times" : "");
	e.person = r->person;
	e.command = r->command;
	e.scope = r->scope;
	e.reason = r->reason;
	e.detail = detail;
	e.about = &a;
	e.direct = 1;
	e.read_ms = r->read_ms;
	e.count = r->count;
	e.emergency = r->emergency;
	if (r->emergency && d->cfg->emergency_reviewer[0]) {
		e.reviewer = d->cfg->emergency_reviewer;
		e.review_due_ms = ppx_review_due_ms(
			NULL, r->read_ms, d->cfg->emergency_review_days);
	}
	if (reads_log_entry(d, &e, &seq) != 0)
		log_warnx("cannot log a direct read: %s", ppx_error_last());
	reads_about_free(&a);
}

/* A malformed record: said in the log, and moved aside. */
static void record_bad(struct ppxd *d, int dirfd, struct record *r,
		       const char *why)
{
	struct read_entry e = {0};
	char detail[512], bad[300];
	uint64_t seq;

	snprintf(detail, sizeof(detail), "direct read record %s is not one "
		 "(%s): moved aside as %s.bad", r->name, why, r->name);
	log_warnx("%s/%s: %s", READS_DIRECT_DIR, r->name, detail);
	e.person = r->person[0] ? r->person : "";
	e.command = "";
	e.detail = detail;
	e.direct = 1;
	e.read_ms = r->read_ms;
	if (reads_log_entry(d, &e, &seq) != 0)
		log_warnx("cannot log it: %s", ppx_error_last());
	snprintf(bad, sizeof(bad), "%s.bad", r->name);
	if (renameat(dirfd, r->name, dirfd, bad) != 0)
		log_warn("rename %s", r->name);
}

static void names_removed(struct ppxd *d, void *arg, int rc)
{
	struct done_names *dn = arg;

	(void)d;
	for (size_t i = 0; rc == 0 && i < dn->n; i++)
		unlinkat(dn->dirfd, dn->names[i], 0);
	close(dn->dirfd);
	free(dn->names);
	free(dn);
}

/* The names of the records in reads/, at most RECORDS_PER_PASS. */
static size_t records_list(int dirfd, struct record *v)
{
	DIR *dir = fdopendir(dup(dirfd));
	struct dirent *de;
	size_t n = 0, len;

	while (dir && n < RECORDS_PER_PASS && (de = readdir(dir))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || len >= 256 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;	/* ".", in the making, or set aside */
		memcpy(v[n++].name, de->d_name, len + 1);
	}
	if (dir)
		closedir(dir);
	return n;
}

void reads_direct_ingest(struct ppxd *d)
{
	char path[PATH_MAX];
	struct record *v = calloc(RECORDS_PER_PASS, sizeof(*v));
	struct done_names *dn = calloc(1, sizeof(*dn));
	size_t n;
	int dirfd;

	dirfd = (size_t)snprintf(path, sizeof(path), "%s/%s", d->cfg->log_dir,
				 READS_DIRECT_DIR) >= sizeof(path)
		? -1 : open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!v || !dn || dirfd < 0 ||
	    !(dn->names = calloc(RECORDS_PER_PASS, sizeof(*dn->names)))) {
		if (dirfd >= 0)
			close(dirfd);
		free(v);
		free(dn);
		return;
	}
	n = records_list(dirfd, v);
	for (size_t i = 0; i < n; i++) {
		const char *why;

		if (record_read(d, dirfd, &v[i], &why) != 0) {
			record_bad(d, dirfd, &v[i], why);
			record_clear(&v[i]);
			v[i].merged = 1;
			continue;
		}
		memcpy(dn->names[dn->n++], v[i].name, 256);
	}
	records_merge(v, n);
	for (size_t i = 0; i < n; i++)
		if (!v[i].merged)
			record_log(d, &v[i]);
	if (dn->n)
		log_info("%zu direct read%s of the log recorded", dn->n,
			 dn->n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		record_clear(&v[i]);
	free(v);
	dn->dirfd = dirfd;
	if (writer_after(d, names_removed, dn) != 0)
		names_removed(d, dn, -1);
}
