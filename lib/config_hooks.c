/*
 * config_hooks.c — the values of the integration sections of the
 * configuration file: where the event stream may listen, a hook's command
 * and its filters (docs/HOOKS.md, docs/CONFIG.md).
 *
 * config.c owns the table of keys and the sections; for the [hook NAME]
 * sections and the events endpoint it calls the functions here, which turn
 * each value into what hooks.c and events.c use, or say in `why` what is
 * wrong with it.  Lists
 * are comma-separated on one line, as everything in the configuration file
 * is; names are checked against the schema's descriptors, so that a typo
 * in a kind is an error at start-up, not a filter that silently never
 * matches.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "ppx.pb-c.h"
#include "ppx/error.h"

#define ITEM_MAX 128		/* bytes of one list item */
#define AGENCY_GLOB_CHARS "abcdefghijklmnopqrstuvwxyz0123456789.-*?[]!"
#define KIND_GLOB_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_*?[]!"

static int fail(char *why, size_t cap, const char *msg)
{
	snprintf(why, cap, "%s", msg);
	return PPX_EINVAL;
}

/* "ITEM: msg" */
static int fail_item(char *why, size_t cap, const char *item,
		     const char *msg)
{
	snprintf(why, cap, "%s: %s", item, msg);
	return PPX_EINVAL;
}

/* Calls fn on each comma-separated item of value, trimmed; an empty item
 * or one over ITEM_MAX bytes is refused. */
static int list_each(const char *value, char *why, size_t cap,
		     int (*fn)(void *arg, const char *item, char *why,
			       size_t cap),
		     void *arg)
{
	const char *s = value;
	char item[ITEM_MAX];

	for (;;) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		int rc;

		while (n > 0 && isspace((unsigned char)*s)) {
			s++;
			n--;
		}
		while (n > 0 && isspace((unsigned char)s[n - 1]))
			n--;
		if (n == 0)
			return fail(why, cap, "empty item in the list");
		if (n >= sizeof(item))
			return fail(why, cap, "an item is longer than 127 "
				    "characters");
		memcpy(item, s, n);
		item[n] = '\0';
		if ((rc = fn(arg, item, why, cap)) < 0)
			return rc;
		if (!end)
			return 0;
		s = end + 1;
	}
}

/* ------------------------------------------------------------------ */
/* [events] endpoint                                                   */
/* ------------------------------------------------------------------ */

/* 127.a.b.c, each part 0-255. */
static int ipv4_loopback(const char *host, size_t len)
{
	char buf[16];
	unsigned a, b, c, d;
	char tail;

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (strspn(buf, "0123456789.") != len ||
	    sscanf(buf, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4)
		return 0;
	return a == 127 && b < 256 && c < 256 && d < 256;
}

static int port_ok(const char *s)
{
	long v = 0;

	if (!*s || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return 0;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v >= 1 && v <= 65535;
}

int ppxi_config_events_endpoint_parse(const char *value, char *why, size_t cap)
{
	const char *host, *colon;
	size_t hlen;

	if (strncmp(value, "ipc://", 6) == 0) {
		if (value[6] != '/')
			return fail(why, cap, "ipc:// needs an absolute path, "
				    "e.g. ipc:///run/ppx/events.sock");
		/* sockaddr_un.sun_path holds 107 bytes and the NUL. */
		if (strlen(value + 6) > 107)
			return fail(why, cap, "the socket path is longer than "
				    "107 characters");
		return 0;
	}
	if (strncmp(value, "tcp://", 6) != 0)
		return fail(why, cap, "must be ipc://PATH or tcp://127.0.0.1:"
			    "PORT (loopback only)");
	host = value + 6;
	colon = strrchr(host, ':');
	if (!colon || !port_ok(colon + 1))
		return fail(why, cap, "must be tcp://HOST:PORT with a port "
			    "1-65535");
	hlen = (size_t)(colon - host);
	if ((hlen == 9 && strncmp(host, "localhost", 9) == 0) ||
	    (hlen == 5 && strncmp(host, "[::1]", 5) == 0) ||
	    ipv4_loopback(host, hlen))
		return 0;
	return fail(why, cap, "the event stream has no authentication: "
		    "listen on ipc:// or a loopback address (127.0.0.1, "
		    "[::1], localhost) only");
}

/* ------------------------------------------------------------------ */
/* [hook NAME] command                                                 */
/* ------------------------------------------------------------------ */

struct words {
	char *out;
	size_t cap, len, argc;
};

/* Appends one character to the current word. */
static int word_put(struct words *w, char c)
{
	if (w->len + 1 >= w->cap)
		return -1;
	w->out[w->len++] = c;
	return 0;
}

/* Ends the current word. */
static int word_end(struct words *w)
{
	if (w->argc >= PPX_CONFIG_HOOK_ARGS || w->len + 1 > w->cap)
		return -1;
	w->out[w->len++] = '\0';
	w->argc++;
	return 0;
}

/* Splits at blanks; "..." groups, with \" and \\ inside.  0, or a
 * negative value with why set. */
static int split_words(struct words *w, const char *s, char *why, size_t cap)
{
	while (*s) {
		int quoted = 0, any = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		while (*s && (quoted || (*s != ' ' && *s != '\t'))) {
			if (*s == '"') {
				quoted = !quoted;
				any = 1;
				s++;
				continue;
			}
			if (quoted && *s == '\\' && s[1] && strchr("\"\\", s[1]))
				s++;
			if (word_put(w, *s++) < 0)
				return fail(why, cap, "command too long");
			any = 1;
		}
		if (quoted)
			return fail(why, cap, "a double quote is not closed");
		if (any && word_end(w) < 0)
			return fail(why, cap, "more than 32 words or too long");
	}
	return 0;
}

static int command_parse(struct ppx_hook_config *h, const char *value,
			 const char *dir, char *why, size_t cap)
{
	char words[sizeof(h->command)];
	struct words w = {words, sizeof(words), 0, 0};
	size_t dlen = strlen(dir), off = 0;
	int rc;

	for (const char *s = value; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return fail(why, cap, "control character in the "
				    "command");
	if ((rc = split_words(&w, value, why, cap)) < 0)
		return rc;
	if (w.argc == 0 || !words[0])
		return fail(why, cap, "no program to run");
	/* The program, made absolute as every path in the file is. */
	if (words[0] != '/') {
		if (dlen + 1 + w.len > sizeof(h->command))
			return fail(why, cap, "command too long once the "
				    "program is made absolute");
		memcpy(h->command, dir, dlen);
		h->command[dlen] = '/';
		off = dlen + 1;
	}
	if (off + w.len > sizeof(h->command))
		return fail(why, cap, "command too long");
	memcpy(h->command + off, words, w.len);
	h->argc = w.argc;
	return 0;
}

void ppx_config_hook_argv(const struct ppx_hook_config *h, char **argv)
{
	const char *s = h->command;

	for (size_t i = 0; i < h->argc; i++) {
		argv[i] = (char *)s;
		s += strlen(s) + 1;
	}
	argv[h->argc] = NULL;
}

/* ------------------------------------------------------------------ */
/* [hook NAME] filters                                                 */
/* ------------------------------------------------------------------ */

static int entry_kind_add(void *arg, const char *item, char *why, size_t cap)
{
	const ProtobufCEnumDescriptor *d = &ppx__v1__entry_kind__descriptor;
	uint32_t *set = arg;
	char name[ITEM_MAX + 8];

	if (strcmp(item, "*") == 0) {
		for (unsigned i = 0; i < d->n_values; i++)
			if (d->values[i].value > 0 && d->values[i].value < 32)
				*set |= UINT32_C(1) << d->values[i].value;
		return 0;
	}
	snprintf(name, sizeof(name), "%s%s",
		 strncmp(item, "ENTRY_", 6) == 0 ? "" : "ENTRY_", item);
	for (unsigned i = 0; i < d->n_values; i++)
		if (d->values[i].value > 0 && d->values[i].value < 32 &&
		    strcmp(d->values[i].name, name) == 0) {
			*set |= UINT32_C(1) << d->values[i].value;
			return 0;
		}
	return fail_item(why, cap, item, "not an EntryKind, e.g. "
			 "ENTRY_RECEIVED (see proto/ppx.proto)");
}

static int entry_kinds_parse(uint32_t *out, const char *value, char *why,
			     size_t cap)
{
	*out = 0;
	return list_each(value, why, cap, entry_kind_add, out);
}

static int family_add(void *arg, const char *item, char *why, size_t cap)
{
	const ProtobufCMessageDescriptor *d = &ppx__v1__body__descriptor;
	int all = strcmp(item, "*") == 0;
	uint32_t *set = arg, before = *set;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->id >= PPX_CONFIG_FAMILY_FIRST &&
		    f->id - PPX_CONFIG_FAMILY_FIRST < 32 &&
		    (all || strcmp(item, f->name) == 0))
			*set |= UINT32_C(1) << (f->id - PPX_CONFIG_FAMILY_FIRST);
	}
	if (*set != before || all)
		return 0;
	return fail_item(why, cap, item, "unknown family; expected "
			 "notification, minutes, disclosure, partner_record, "
			 "acknowledgement, action_update, or *");
}

static int families_parse(uint32_t *out, const char *value, char *why,
			  size_t cap)
{
	*out = 0;
	return list_each(value, why, cap, family_add, out);
}

static int kind_add(void *arg, const char *item, char *why, size_t cap)
{
	const ProtobufCEnumDescriptor *d =
		&ppx__v1__notification_kind__descriptor;
	uint64_t *set = arg;
	int matched = 0;

	if (strspn(item, KIND_GLOB_CHARS) != strlen(item))
		return fail_item(why, cap, item, "a notification kind is "
				 "written in capitals, e.g. RELEASE_DATE or "
				 "RECALL_*");
	for (unsigned i = 0; i < d->n_values; i++) {
		int v = d->values[i].value;

		if (v <= 0 || v >= 64 || fnmatch(item, d->values[i].name, 0))
			continue;
		*set |= UINT64_C(1) << v;
		matched = 1;
	}
	if (matched)
		return 0;
	return fail_item(why, cap, item, strpbrk(item, "*?[") ?
			 "matches no NotificationKind (see proto/ppx.proto)" :
			 "not a NotificationKind (see proto/ppx.proto)");
}

static int kinds_parse(uint64_t *out, const char *value, char *why,
		       size_t cap)
{
	*out = 0;
	return list_each(value, why, cap, kind_add, out);
}

static int partner_add(void *arg, const char *item, char *why, size_t cap)
{
	struct ppx_hook_config *h = arg;

	if (strspn(item, AGENCY_GLOB_CHARS) != strlen(item))
		return fail_item(why, cap, item, "not an agency name or glob "
				 "(a-z, 0-9, '.', '-', and * ? [ ])");
	if (strlen(item) >= PPX_CONFIG_AGENCY_MAX)
		return fail_item(why, cap, item, "longer than an agency name");
	if (h->n_partners >= PPX_CONFIG_HOOK_PARTNERS)
		return fail(why, cap, "more than 32 partners");
	memcpy(h->partners[h->n_partners++], item, strlen(item) + 1);
	return 0;
}

static int partners_parse(struct ppx_hook_config *h, const char *value, char *why,
			  size_t cap)
{
	h->n_partners = 0;
	return list_each(value, why, cap, partner_add, h);
}

/* ------------------------------------------------------------------ */
/* [hook NAME] sections                                                */
/* ------------------------------------------------------------------ */

/* An id: ^[a-z0-9][a-z0-9._-]*$, as config.c's operator ids. */
static int name_valid(const char *s)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	return *s && strchr(first, *s) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") ==
		       strlen(s);
}

int ppxi_config_hook_add(struct ppx_hook_config **out, struct ppx_config *c,
		    size_t *cap, const char *name, int line)
{
	struct ppx_hook_config *h;

	if (!name_valid(name) || strlen(name) >= sizeof(h->name))
		return ppx_error_set(PPX_EINVAL, "[hook %s]: the name must be "
				     "lower case a-z, 0-9, '.', '_', '-', under "
				     "64 characters, e.g. casework-db", name);
	for (size_t i = 0; i < c->n_hooks; i++)
		if (strcmp(c->hooks[i].name, name) == 0)
			return ppx_error_set(PPX_EINVAL, "[hook %s] given twice "
					     "(first at line %d)", name,
					     c->hooks[i].line);
	if (c->n_hooks >= PPX_CONFIG_MAX_HOOKS)
		return ppx_error_set(PPX_EINVAL, "[hook %s]: more than %d "
				     "hooks", name, PPX_CONFIG_MAX_HOOKS);
	if (c->n_hooks == *cap) {
		size_t ncap = *cap ? 2 * *cap : 4;

		if (!(h = realloc(c->hooks, ncap * sizeof(*h))))
			return ppx_error_set(PPX_ENOMEM, "[hook %s]: out of "
					     "memory", name);
		c->hooks = h;
		*cap = ncap;
	}
	h = &c->hooks[c->n_hooks++];
	memset(h, 0, sizeof(*h));
	memcpy(h->name, name, strlen(name) + 1);
	h->line = line;
	h->entry_kinds = UINT32_C(1) << PPX__V1__ENTRY_KIND__ENTRY_SENT |
			 UINT32_C(1) << PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
	*out = h;
	return 0;
}

/* on_failure = quarantine (the default) | stop. */
static int on_failure_parse(struct ppx_hook_config *h, const char *value, char *why,
			    size_t cap)
{
	if (strcmp(value, "quarantine") == 0)
		h->on_failure_stop = 0;
	else if (strcmp(value, "stop") == 0)
		h->on_failure_stop = 1;
	else
		return fail(why, cap, "must be quarantine (set a failing entry "
			    "aside after quarantine_after failures and go on) "
			    "or stop (retry it for ever, never skip)");
	return 0;
}

/* mode = each (the default) | stream. */
static int mode_parse(struct ppx_hook_config *h, const char *value, char *why,
		      size_t cap)
{
	if (strcmp(value, "each") == 0)
		h->stream = 0;
	else if (strcmp(value, "stream") == 0)
		h->stream = 1;
	else
		return fail(why, cap, "must be each (one run of the command "
			    "per entry) or stream (one long-running process "
			    "given entries in batches, docs/HOOKS.md)");
	return 0;
}

int ppxi_config_hook_value(struct ppx_hook_config *h, const struct ppx_ini_entry *e,
		      const char *dir, char *why, size_t cap)
{
	if (strcmp(e->name, "command") == 0) {
		h->command_line = e->line;
		return command_parse(h, e->value, dir, why, cap);
	}
	if (strcmp(e->name, "entry_kinds") == 0)
		return entry_kinds_parse(&h->entry_kinds, e->value, why, cap);
	if (strcmp(e->name, "families") == 0)
		return families_parse(&h->families, e->value, why, cap);
	if (strcmp(e->name, "kinds") == 0)
		return kinds_parse(&h->kinds, e->value, why, cap);
	if (strcmp(e->name, "on_failure") == 0)
		return on_failure_parse(h, e->value, why, cap);
	if (strcmp(e->name, "mode") == 0)
		return mode_parse(h, e->value, why, cap);
	h->partners_line = e->line;
	return partners_parse(h, e->value, why, cap);
}

int ppxi_config_hook_finish(struct ppx_hook_config *h, const struct ppxi_config_hook_lines *l,
		       int *line)
{
	uint32_t notification = UINT32_C(1) <<
		(PPX__V1__BODY__PAYLOAD_NOTIFICATION - PPX_CONFIG_FAMILY_FIRST);

	*line = h->line;
	if (!l->command)
		return ppx_error_set(PPX_EINVAL, "[hook %s] has no command; it "
				     "is required", h->name);
	/* kinds alone: the notifications of those kinds, nothing else. */
	if (l->kinds && !l->families)
		h->families = notification;
	if (l->kinds && l->families && !(h->families & notification)) {
		*line = l->kinds;
		return ppx_error_set(PPX_EINVAL, "[hook %s] kinds filters "
				     "notifications, but families leaves them "
				     "out: add notification to families or "
				     "drop kinds", h->name);
	}
	if (h->retry_max_ms < h->retry_initial_ms) {
		*line = l->retry_max ? l->retry_max : l->retry_initial;
		return ppx_error_set(PPX_EINVAL, "[hook %s] retry_max_ms = %ld:"
				     " must be at least retry_initial_ms (%ld)",
				     h->name, h->retry_max_ms,
				     h->retry_initial_ms);
	}
	return 0;
}

int ppxi_config_hooks_check(const struct ppx_config *c, int operator_line,
		       int reviewer_line, int *line)
{
	if (c->spool_dir[0] && !ppx_config_operator_by_id(c, c->spool_operator)) {
		*line = operator_line;
		return ppx_error_set(PPX_EINVAL, "[spool] operator = %s: not a "
				     "configured [operator]; the spool sends "
				     "as that person", c->spool_operator);
	}
	if (c->emergency_reviewer[0] &&
	    !ppx_config_operator_by_id(c, c->emergency_reviewer)) {
		*line = reviewer_line;
		return ppx_error_set(PPX_EINVAL, "[accountability] "
				     "emergency_reviewer = %s: not a "
				     "configured [operator]",
				     c->emergency_reviewer);
	}
	for (size_t i = 0; i < c->n_hooks; i++) {
		const struct ppx_hook_config *h = &c->hooks[i];

		for (size_t j = 0; j < h->n_partners; j++) {
			/* With a directory, partners come and go with it. */
			if (strpbrk(h->partners[j], "*?[") ||
			    c->directory_drop[0] ||
			    ppx_config_partner(c, h->partners[j]))
				continue;
			*line = h->partners_line;
			return ppx_error_set(PPX_EINVAL, "[hook %s] partners: "
					     "%s is not a configured [partner]",
					     h->name, h->partners[j]);
		}
	}
	return 0;
}
