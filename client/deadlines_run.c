/*
 * deadlines_run.c — what ppx due and ppx report share: the deadlines file
 * (the rules, read with the daemon's INI reader), the common options,
 * opening the log read-only and collecting its obligations, and the
 * output helpers for CSV and the terminal.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "deadlines.h"
#include "ppx/error.h"
#include "ppx/text.h"

/* ------------------------------------------------------------------ */
/* The deadlines file                                                  */
/* ------------------------------------------------------------------ */

/* Every key of the deadlines file; docs/ppx-deadlines.md documents each. */
static const struct rule_key {
	const char *name;
	long def, min, max;
	size_t offset;
} rule_keys[] = {
	{"minutes_level2_days", 10, 1, 365,
	 offsetof(struct deadlines_config, minutes_level2_days)},
	{"minutes_level3_days", 5, 1, 365,
	 offsetof(struct deadlines_config, minutes_level3_days)},
	{"review_level2_weeks", 16, 1, 104,
	 offsetof(struct deadlines_config, review_level2_weeks)},
	{"review_level3_weeks", 8, 1, 104,
	 offsetof(struct deadlines_config, review_level3_weeks)},
	{"due_soon_days", 5, 0, 365,
	 offsetof(struct deadlines_config, due_soon_days)},
};
#define N_RULE_KEYS (sizeof(rule_keys) / sizeof(rule_keys[0]))

struct rules_parse {
	struct deadlines_config *cfg;
	int seen[N_RULE_KEYS + 1];	/* line of each key; last: holidays */
};

static int rules_section(void *user, const char *section, int *line)
{
	(void)user;
	(void)line;
	if (strcmp(section, "deadlines") != 0)
		return ppx_error_set(PPX_EINVAL, "unknown section [%s]: the "
				     "keys go in [deadlines]", section);
	return 0;
}

/* `value` resolved against the directory of the file at `file`. */
static int resolve_path(char *out, size_t cap, const char *file,
			const char *value)
{
	const char *slash = strrchr(file, '/');
	int n;

	if (value[0] == '/' || !slash)
		n = snprintf(out, cap, "%s", value);
	else
		n = snprintf(out, cap, "%.*s/%s", (int)(slash - file), file,
			     value);
	if (n < 0 || (size_t)n >= cap)
		return ppx_error_set(PPX_EINVAL, "bank_holidays path is too "
				     "long");
	return 0;
}

static int rules_number(long *out, const struct rule_key *k,
			const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < k->min || v > k->max)
		return ppx_error_set(PPX_EINVAL, "%s = %s: must be a whole "
				     "number from %ld to %ld", k->name, value,
				     k->min, k->max);
	*out = v;
	return 0;
}

static int rules_key(void *user, const struct ppx_ini_entry *e)
{
	struct rules_parse *p = user;
	size_t i = 0;

	if (e->continued)
		return ppx_error_set(PPX_EINVAL, "indented line: continuation "
				     "lines are not allowed");
	if (strcmp(e->section, "deadlines") != 0)
		return ppx_error_set(PPX_EINVAL, "%s outside [deadlines]",
				     e->name);
	while (i < N_RULE_KEYS && strcmp(rule_keys[i].name, e->name) != 0)
		i++;
	if (i == N_RULE_KEYS && strcmp(e->name, "bank_holidays") != 0)
		return ppx_error_set(PPX_EINVAL, "unknown key %s", e->name);
	if (p->seen[i])
		return ppx_error_set(PPX_EINVAL, "%s given twice (first at "
				     "line %d)", e->name, p->seen[i]);
	p->seen[i] = e->line;
	if (i == N_RULE_KEYS)
		return resolve_path(p->cfg->bank_holidays,
				    sizeof(p->cfg->bank_holidays),
				    p->cfg->path, e->value);
	return rules_number((long *)(void *)((char *)p->cfg +
					     rule_keys[i].offset),
			    &rule_keys[i], e->value);
}

int deadlines_config_load(struct deadlines_config *out, const char *path)
{
	static const struct ppx_ini_handler h = {rules_section, rules_key,
						 NULL};
	struct rules_parse p = {.cfg = out};

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < N_RULE_KEYS; i++)
		*(long *)(void *)((char *)out + rule_keys[i].offset) =
			rule_keys[i].def;
	if (!path)
		path = getenv("PPX_DEADLINES");
	if (!path || !*path)
		return 0;
	if ((size_t)snprintf(out->path, sizeof(out->path), "%s", path) >=
	    sizeof(out->path))
		return ppx_error_set(PPX_EINVAL, "deadlines file path too long");
	return ppx_ini_parse(path, &h, &p);
}

/* ------------------------------------------------------------------ */
/* What ppx due and ppx report share                                   */
/* ------------------------------------------------------------------ */

int deadlines_opt(struct deadlines_opts *o, int ch, const char *arg,
		  const char *cmd)
{
	switch (ch) {
	case 'l': o->log_dir = arg; return 1;
	case 'c': o->config = arg; return 1;
	case 'd': o->deadlines = arg; return 1;
	case 'a': o->as_of = arg; return 1;
	case 'j':
	case 'v':
		if (o->format != FORMAT_TEXT) {
			fprintf(stderr, "ppx %s: --json and --csv are "
				"exclusive\n", cmd);
			return PPX_EINVAL;
		}
		o->format = ch == 'j' ? FORMAT_JSON : FORMAT_CSV;
		return 1;
	default:
		return 0;
	}
}

/* The log directory and agency: --log, else the daemon configuration
 * (--config, $PPX_CONFIG, /etc/ppx/ppxd.conf). */
static int run_where(struct deadlines_run *r, const struct deadlines_opts *o,
		     char *dir, size_t cap, const char *cmd)
{
	struct ppx_config *cfg = NULL;

	if (o->log_dir && o->config) {
		fprintf(stderr, "ppx %s: give --log or --config, not both\n",
			cmd);
		return PPX_EINVAL;
	}
	if (o->log_dir) {
		snprintf(dir, cap, "%s", o->log_dir);
		return 0;
	}
	if (ppx_config_load(&cfg, config_path_default(o->config)) != 0) {
		fprintf(stderr, "ppx %s: %s\n", cmd, ppx_error_last());
		return PPX_EINVAL;
	}
	snprintf(dir, cap, "%s", cfg->log_dir);
	snprintf(r->agency, sizeof(r->agency), "%s", cfg->agency);
	ppx_config_free(cfg);
	return 0;
}

/* The rules, the calendar and "today". */
static int run_rules(struct deadlines_run *r, const struct deadlines_opts *o,
		     const char *cmd)
{
	if (deadlines_config_load(&r->cfg, o->deadlines) != 0) {
		fprintf(stderr, "ppx %s: deadlines file: %s\n", cmd,
			ppx_error_last());
		return PPX_EINVAL;
	}
	if (r->cfg.bank_holidays[0]
		    ? ppx_calendar_load(&r->cal, r->cfg.bank_holidays) != 0
		    : ppx_calendar_new(&r->cal) != 0) {
		fprintf(stderr, "ppx %s: %s\n", cmd, ppx_error_last());
		return PPX_EINVAL;
	}
	if (o->as_of && ppx_date_parse(&r->as_of, o->as_of) != 0) {
		fprintf(stderr, "ppx %s: --as-of: %s\n", cmd, ppx_error_last());
		return PPX_EINVAL;
	}
	if (!o->as_of)
		r->as_of = ppx_date_of_ms((int64_t)time(NULL) * 1000);
	return 0;
}

int deadlines_run_open(struct deadlines_run *r,
		       const struct deadlines_opts *o, const char *cmd)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	char dir[PATH_MAX];
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = run_where(r, o, dir, sizeof(dir), cmd)) != 0 ||
	    (rc = run_rules(r, o, cmd)) != 0)
		return rc;
	if (ppx_log_open(&r->log, dir, &ro) != 0) {
		fprintf(stderr, "ppx %s: cannot open the log in %s: %s\n", cmd,
			dir, ppx_error_last());
		return PPX_EIO;
	}
	if (deadlines_collect(&r->dl, r->log, &r->cfg, r->cal, r->as_of,
			      r->agency) != 0) {
		fprintf(stderr, "ppx %s: reading %s: %s\n", cmd, dir,
			ppx_error_last());
		return PPX_EIO;
	}
	if (!r->agency[0])
		snprintf(r->agency, sizeof(r->agency), "%s", r->dl->agency);
	if (r->dl->undecodable)
		fprintf(stderr, "ppx %s: %zu entries of %s did not decode and "
			"are left out: run ppx verify\n", cmd,
			r->dl->undecodable, dir);
	return 0;
}

void deadlines_run_close(struct deadlines_run *r)
{
	deadlines_free(r->dl);
	ppx_log_close(r->log);
	ppx_calendar_free(r->cal);
	memset(r, 0, sizeof(*r));
}

void deadlines_csv_field(FILE *out, const char *text)
{
	/* UTF-8 text (U+FFFD for what is not): a partner's string in an
	 * older log may not be. */
	char *fixed = ppx_text_repair(text, strlen(text), NULL);
	const char *s = fixed ? fixed : "";
	int quote = strpbrk(s, ",\"\r\n") != NULL || (*s && strchr(" \t", *s));
	int inert = *s && strchr("=+-@\t\r", *s);

	if (!quote && !inert) {
		fputs(s, out);
		free(fixed);
		return;
	}
	fputc('"', out);
	if (inert)
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
	free(fixed);
}

void deadlines_print_clean(FILE *out, const char *s, int width)
{
	int n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
		n += (c & 0xc0) != 0x80;	/* count characters, not bytes */
	}
	for (; n < width; n++)
		fputc(' ', out);
}

