/*
 * config_ini.c — the INI reader under config.c and policy.c: a thin layer
 * over libinih.  libinih does the tokenising; this feeds it one line at a
 * time through ini_parse_stream() so that it always knows the line number
 * (Debian builds libinih without INI_HANDLER_LINENO), sees section headers
 * itself (libinih truncates long section names and says nothing about
 * empty sections), and refuses lines longer than libinih's buffer instead
 * of letting them be split in two.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/config.h"
#include "ppx/error.h"

/* ------------------------------------------------------------------ */
/* The INI reader                                                      */
/* ------------------------------------------------------------------ */

#define RAW_MAX 4096		/* >= libinih's line buffer (200 on Debian) */
#define SECTION_MAX 256

struct ini_run {
	FILE *fp;
	const struct ppx_ini_handler *h;
	void *user;
	int line;		/* of the line last handed to libinih */
	int in_key;		/* libinih would treat an indented line as a
				 * continuation (its "previous name" is set) */
	char raw[RAW_MAX];	/* that line as read, for the checks below */
	char section[SECTION_MAX];
	int err;		/* the first error, 0 if none */
	int err_line;
	char err_msg[512];
};

/* Keep the first failure; the callbacks have described it already. */
static void run_fail(struct ini_run *r, int code)
{
	if (r->err)
		return;
	r->err = code;
	r->err_line = r->line;
	snprintf(r->err_msg, sizeof(r->err_msg), "%s", ppx_error_last());
}

/*
 * Read one line, newline included, into buf[num] as fgets() would, but
 * refuse a line that does not fit (fgets would hand libinih its two halves
 * as two lines) and a NUL byte (which would hide the rest of the line).
 * Returns 1 for a line, 0 at end of file, or a negative code.
 */
static int read_line(FILE *fp, char *buf, int num)
{
	size_t len = 0;
	int c;

	while ((c = getc(fp)) != EOF) {
		if (c == '\0')
			return ppx_error_set(PPX_EINVAL, "NUL byte in line");
		if (len + 1 >= (size_t)num)
			return ppx_error_set(PPX_EINVAL,
					     "line longer than %d characters; "
					     "split lists over indented lines",
					     num - 2);
		buf[len++] = (char)c;
		if (c == '\n')
			break;
	}
	buf[len] = '\0';
	return len > 0;
}

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/*
 * A "[name]" header, recognised exactly where libinih recognises one: the
 * first non-blank character is '[', there is a ']', and the line is not an
 * indented continuation of the previous value.
 */
static int on_raw_line(struct ini_run *r)
{
	const char *s = skip_space(r->raw);
	const char *end;
	int line;

	if (*s != '[' || (r->in_key && s > r->raw))
		return 0;
	end = strchr(s + 1, ']');
	if (!end)
		return 0;	/* libinih reports the syntax error */
	if ((size_t)(end - s - 1) >= sizeof(r->section))
		return ppx_error_set(PPX_EINVAL,
				     "section name longer than %zu characters",
				     sizeof(r->section) - 1);
	memcpy(r->section, s + 1, (size_t)(end - s - 1));
	r->section[end - s - 1] = '\0';
	r->in_key = 0;
	line = r->line;
	if (!r->h->section)
		return 0;
	int rc = r->h->section(r->user, r->section, &line);
	r->line = line;
	return rc;
}

/* libinih's ini_reader: one line, counted; NULL stops the parse. */
static char *ini_read(char *str, int num, void *stream)
{
	struct ini_run *r = stream;
	const char *raw = str;
	int rc;

	if (r->err || num < 3)
		return NULL;
	rc = read_line(r->fp, str, num);
	if (rc == 0)
		return NULL;
	r->line++;
	if (rc < 0) {
		run_fail(r, rc);
		return NULL;
	}
	if (r->line == 1 && strncmp(raw, "\xEF\xBB\xBF", 3) == 0)
		raw += 3;	/* libinih skips a UTF-8 BOM, so do we */
	snprintf(r->raw, sizeof(r->raw), "%s", raw);
	rc = on_raw_line(r);
	if (rc < 0) {
		run_fail(r, rc);
		return NULL;
	}
	return str;
}

/* Whether the raw line is "name = ..." (or "name: ...") and not an
 * indented line that libinih has taken as a continuation of `name`. */
static int is_key_line(const char *raw, const char *name)
{
	const char *s = skip_space(raw);
	size_t n = strlen(name);

	if (strncmp(s, name, n) != 0)
		return 0;
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '=' || *s == ':';
}

#if INI_HANDLER_LINENO
static int ini_on_pair(void *user, const char *section, const char *name,
		       const char *value, int lineno)
#else
static int ini_on_pair(void *user, const char *section, const char *name,
		       const char *value)
#endif
{
	struct ini_run *r = user;
	struct ppx_ini_entry e;
	int rc;

	(void)section;		/* possibly truncated; r->section is whole */
#if INI_HANDLER_LINENO
	(void)lineno;
#endif
	if (r->err)
		return 0;
	e.section = r->section;
	e.name = name;
	e.value = value ? value : "";
	e.line = r->line;
	e.continued = !is_key_line(r->raw, name);
	r->in_key = 1;
	if (!r->section[0])
		rc = ppx_error_set(PPX_EINVAL,
				   "%s = %s: outside any [section]", name,
				   e.value);
	else
		rc = r->h->key(r->user, &e);
	if (rc < 0) {
		run_fail(r, rc);
		return 0;
	}
	return 1;
}

/* Turn libinih's result and ours into one answer naming file:line. */
static int ini_finish(struct ini_run *r, const char *path, int rv, int io)
{
	int line;

	if (rv == -2)
		return ppx_error_set(PPX_ENOMEM, "%s: out of memory", path);
	if (io)
		return ppx_error_set(PPX_EIO, "cannot read %s", path);
	if (rv > 0 && (!r->err || rv < r->err_line))
		return ppx_error_set(PPX_EINVAL,
				     "%s:%d: syntax error: expected [section], "
				     "name = value, or a comment", path, rv);
	if (!r->err && r->h->end) {
		line = r->line > 0 ? r->line : 1;
		int rc = r->h->end(r->user, &line);
		r->line = line;
		if (rc < 0)
			run_fail(r, rc);
	}
	if (r->err)
		return ppx_error_set(r->err, "%s:%d: %s", path, r->err_line,
				     r->err_msg);
	return 0;
}

int ppx_ini_parse(const char *path, const struct ppx_ini_handler *h,
		     void *user)
{
	struct ini_run *r;
	int rv, io, rc;

	r = calloc(1, sizeof(*r));
	if (!r)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	r->h = h;
	r->user = user;
	r->fp = fopen(path, "re");
	if (!r->fp) {
		rc = ppx_error_set(PPX_EIO, "cannot open %s: %s", path,
				   strerror(errno));
		free(r);
		return rc;
	}
	rv = ini_parse_stream(ini_read, r, ini_on_pair, r);
	io = ferror(r->fp);
	fclose(r->fp);
	rc = ini_finish(r, path, rv, io);
	free(r);
	return rc;
}
