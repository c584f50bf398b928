/*
 * reads_check.c — a read request's argv judged as hostile input, and the
 * reason rule.
 *
 * The daemon runs `ppx CMD ARGS --config ITS-CONFIG` as its own user for
 * whoever asked: the arguments must not make that process read another
 * log, read or write any file, or take another configuration.  So the
 * argv is parsed here as the reading commands' getopt_long would parse
 * it, against a closed list of options: an option not on the list, an
 * abbreviation, a short option cluster or anything naming a file is
 * refused, not filtered.  What the read is about (the subjects and the
 * message reference) comes out of the same parse, for need to know
 * (reads_about.c) and for the ENTRY_READ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/error.h"
#include "ppx/text.h"
#include "reads.h"

/* The reading commands, whether they only count (report: figures, no
 * content) and whether they need no reason (report, and due, which shows
 * subjects and reasons and so needs need to know like any read naming
 * no subject). */
static const struct {
	const char *name;
	int counting;
	int no_reason;
	int positional;		/* 0 none, 1 a subject, 2 a message ref */
} commands[] = {
	{"log", 0, 0, 0}, {"show", 0, 0, 2}, {"follow", 0, 0, 0},
	{"subject", 0, 0, 1}, {"export", 0, 0, 0}, {"prove", 0, 0, 2},
	{"audit", 0, 0, 1}, {"due", 0, 1, 0}, {"report", 1, 1, 0},
	{"backup", 0, 0, 0},	/* the whole log, copied (cmd_backup.c) */
};

/* The long options the reading commands take that are safe to run as the
 * daemon: 1 if it takes a value. */
static const struct {
	const char *name;
	int value;
} options[] = {
	{"json", 0}, {"help", 0}, {"force", 0}, {"exact", 0}, {"body", 0},
	{"subject", 1}, {"kind", 1}, {"partner", 1}, {"direction", 1},
	{"since", 1}, {"until", 1}, {"state", 1}, {"ack", 1}, {"from", 1},
	{"format", 1}, {"seq", 1}, {"soon", 1}, {"quarter", 1}, {"to", 1},
	{"as-of", 1}, {"csv", 0}, {"snapshot", 1}, {"at", 1},
};

/* Short options: j and h alone; s k p d f with a value (lr_opts_parse). */
static const char short_flags[] = "jh", short_values[] = "skpdf";

/* Options refused with a word on why. */
static const struct {
	const char *name;
	const char *why;
} refused[] = {
	{"log", "reads another log (read it directly with ppx --log DIR)"},
	{"config", "names another configuration"},
	{"output", "writes a file (ppx opens it as you and passes it)"},
	{"deadlines", "reads a file as the daemon: only for root and the "
		      "daemon's user (the daemon's $PPX_DEADLINES applies)"},
	{"pki", "reads files"}, {"ca", "reads a file"},
	{"crl", "reads a file"}, {"certs", "reads files"},
	{"reason", "belongs in the request, not its argv"},
	{"emergency", "belongs in the request, not its argv"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Printable text: no control characters (UTF-8 bytes above 0x7f pass). */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* "--name[=value]": -1 refused (error set), else whether it takes the
 * next item as its value (0 when given with '='). */
static int long_option(const char *arg, unsigned flags)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);

	if (len == 0)
		return ppx_error_set(PPX_EINVAL, "\"%s\": not taken through "
				     "the daemon", arg);
	if ((flags & READS_PLAN_FILES) && len == 9 &&
	    strncmp(name, "deadlines", 9) == 0)
		return !eq;	/* the caller may read what the daemon may */
	for (size_t i = 0; i < N(refused); i++)
		if (strncmp(refused[i].name, name, len) == 0)
			return ppx_error_set(PPX_EINVAL, "option --%.*s "
					     "refused: it %s", (int)len, name,
					     refused[i].why);
	for (size_t i = 0; i < N(options); i++)
		if (strlen(options[i].name) == len &&
		    strncmp(options[i].name, name, len) == 0) {
			if (eq && !options[i].value)
				return ppx_error_set(PPX_EINVAL, "option --%s "
						     "takes no value",
						     options[i].name);
			return eq ? 0 : options[i].value;
		}
	return ppx_error_set(PPX_EINVAL, "option --%.*s is not one a read "
			     "through the daemon takes (write options in "
			     "full)", (int)len, name);
}

/* "-x": -1 refused, else whether it takes the next item as its value. */
static int short_option(const char *arg)
{
	if (strlen(arg) != 2)
		return ppx_error_set(PPX_EINVAL, "\"%s\": give short options "
				     "one by one (-j -s ID), or in full", arg);
	if (strchr(short_flags, arg[1]))
		return 0;
	if (strchr(short_values, arg[1]))
		return 1;
	return ppx_error_set(PPX_EINVAL, "option %s refused through the "
			     "daemon", arg);
}

/* The subject or seq an option's value names, if any. */
static int note_value(struct read_plan *p, const char *opt, const char *val)
{
	const char *name = opt[1] == '-' ? opt + 2 : opt + 1;
	char *end;

	if (strncmp(name, "subject", 7) == 0 || strcmp(name, "s") == 0) {
		if (p->n_subjects == READS_SUBJECTS_MAX)
			return ppx_error_set(PPX_EINVAL, "at most %d --subject",
					     READS_SUBJECTS_MAX);
		p->subjects[p->n_subjects++] = val;
	} else if (strncmp(name, "seq", 3) == 0) {
		if (*val < '0' || *val > '9' ||
		    (p->seq = strtoull(val, &end, 10), *end))
			return ppx_error_set(PPX_EINVAL, "--seq %s: a sequence "
					     "number", val);
		p->has_seq = 1;
	}
	return 0;
}

/* One option item (and its value, argv[*i + 1], when it takes one). */
static int plan_option(struct read_plan *p, char *const *argv, size_t argc,
		       size_t *i, unsigned flags)
{
	const char *arg = argv[*i], *eq;
	int value = arg[1] == '-' ? long_option(arg, flags) : short_option(arg);

	if (value < 0)
		return value;
	if (value) {
		if (*i + 1 >= argc)
			return ppx_error_set(PPX_EINVAL, "%s needs a value", arg);
		(*i)++;
		if (argv[*i][0] == '-')
			return ppx_error_set(PPX_EINVAL, "%s needs a value, "
					     "not \"%s\"", arg, argv[*i]);
		return note_value(p, arg, argv[*i]);
	}
	if (arg[1] == '-' && (eq = strchr(arg, '='))) {
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
		return note_value(p, name, eq + 1);
	}
	return 0;
}

/* The arguments as given, for the entry's scope. */
static void plan_scope(struct read_plan *p, char *const *argv, size_t argc)
{
	size_t at = 0;

	p->scope[0] = '\0';
	for (size_t i = 1; i < argc && at < sizeof(p->scope) - 1; i++) {
		int n = snprintf(p->scope + at, sizeof(p->scope) - at, "%s%s",
				 i > 1 ? " " : "", argv[i]);

		if (n < 0)
			break;
		at += (size_t)n;
	}
	if (at >= sizeof(p->scope))
		memcpy(p->scope + sizeof(p->scope) - 4, "...", 4);
}

static int plan_command(struct read_plan *p, const char *cmd, int *positional)
{
	for (size_t i = 0; i < N(commands); i++)
		if (strcmp(commands[i].name, cmd) == 0) {
			p->command = commands[i].name;
			p->counting = commands[i].counting;
			p->no_reason = commands[i].no_reason;
			*positional = commands[i].positional;
			return 0;
		}
	return ppx_error_set(PPX_EINVAL, "\"%s\" is not a reading command "
			     "(log, show, follow, subject, export, prove, "
			     "audit, due, report)", cmd);
}

static int plan_items(char *const *argv, size_t argc)
{
	if (argc == 0 || !argv[0])
		return ppx_error_set(PPX_EINVAL, "a read names its command");
	if (argc > READS_ARGS_MAX)
		return ppx_error_set(PPX_EINVAL, "a read has at most %d "
				     "arguments, not %zu", READS_ARGS_MAX,
				     argc);
	for (size_t i = 0; i < argc; i++) {
		if (!argv[i] || strlen(argv[i]) > READS_ARG_LEN_MAX)
			return ppx_error_set(PPX_EINVAL, "argument %zu is longer "
					     "than %d bytes", i,
					     READS_ARG_LEN_MAX);
		if (!argv[i][0] || !printable(argv[i]))
			return ppx_error_set(PPX_EINVAL, "argument %zu is empty "
					     "or not printable text", i);
	}
	return 0;
}

int reads_plan(struct read_plan *p, char *const *argv, size_t argc,
	       unsigned flags)
{
	int positional = 0, rc;
	size_t n_pos = 0;

	memset(p, 0, sizeof(*p));
	if ((rc = plan_items(argv, argc)) != 0 ||
	    (rc = plan_command(p, argv[0], &positional)) != 0)
		return rc;
	for (size_t i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if ((rc = plan_option(p, argv, argc, &i, flags)) != 0)
				return rc;
			continue;
		}
		if (++n_pos > (positional ? 1u : 0u))
			return ppx_error_set(PPX_EINVAL, "ppx %s takes %s",
					     p->command, positional
					     ? "one argument" : "no argument");
		if (positional == 1 && p->n_subjects < READS_SUBJECTS_MAX)
			p->subjects[p->n_subjects++] = argv[i];
		else if (positional == 2)
			p->ref = argv[i];
	}
	plan_scope(p, argv, argc);
	return 0;
}

int reads_item_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= READS_ARG_LEN_MAX &&
	       ppx_utf8_find_bad((const uint8_t *)s, len) == len &&
	       printable(s);
}

int reads_reason_check(const char *reason)
{
	size_t len = strlen(reason);

	if (len > READS_REASON_MAX)
		return ppx_error_set(PPX_EINVAL, "a reason is at most %d "
				     "bytes", READS_REASON_MAX);
	if (len > 0 && strspn(reason, " ") == len)
		return ppx_error_set(PPX_EINVAL, "a reason must say why, not "
				     "be only spaces");
	if (ppx_utf8_find_bad((const uint8_t *)reason, len) != len ||
	    !printable(reason))
		return ppx_error_set(PPX_EINVAL, "a reason is printable UTF-8 "
				     "text, without control characters");
	return 0;
}

int reads_in_hours(const struct tm *local)
{
	return local->tm_wday >= 1 && local->tm_wday <= 5 &&
	       local->tm_hour >= 8 && local->tm_hour < 18;
}

int reads_reason_needed(int rule, int counting, const struct tm *local)
{
	if (counting)
		return 0;
	if (rule == PPX_REASON_REQUIRED)
		return 1;
	return rule == PPX_REASON_OUT_OF_HOURS && !reads_in_hours(local);
}
