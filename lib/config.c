/*
 * config.c — reading and checking the agency's configuration file.
 *
 * This is the first thing ppxd does: main.c calls ppx_config_load() and every
 * other module takes its settings from the struct ppx_config it returns.
 * Nothing here opens keys, sockets or the log; it only makes sure that the
 * file says something complete and sensible, so that a typo stops the
 * daemon at start-up with "file:line: what is wrong" rather than later with
 * a puzzle.
 *
 * The file is read by config_ini.c (a line-numbering layer over libinih).
 * Every key of every section is one row of `keys[]` below: section, name,
 * type, required, default, range and where it goes in the struct.
 * docs/CONFIG.md documents each row.  The values of the integration
 * sections ([events], [spool], [hook NAME]: a command, lists of kinds and
 * partners) are parsed by config_hooks.c; [federation] partners, and the
 * partners a directory adds at run time, by config_fed.c.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "ppx/error.h"
#include "ppx/envelope.h"
#include "ppx/pkcs11.h"
#include "ppx/pki.h"

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

static int is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int ppx_config_agency_name_valid(const char *name)
{
	size_t len = strlen(name);
	int dots = 0;

	if (len == 0 || len >= PPX_CONFIG_AGENCY_MAX || !(name[0] >= 'a' &&
						      name[0] <= 'z'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (name[i + 1] == '\0' || name[i + 1] == '.')
				return 0;
			dots++;
		} else if (!is_lower_alnum(name[i]) && name[i] != '-') {
			return 0;
		}
	}
	return dots > 0;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGIT "0123456789"

/* Nonzero if `s` is one character of `first` then any of `rest`. */
static int word_valid(const char *s, const char *first, const char *rest)
{
	return *s && strchr(first, *s) && strspn(s + 1, rest) == strlen(s + 1);
}

/* A MAPPA area: ^[a-z][a-z0-9-]*$ */
static int label_valid(const char *s)
{
	return word_valid(s, LOWER, LOWER DIGIT "-");
}

/* An operator id: ^[a-z0-9][a-z0-9._-]*$ */
static int id_valid(const char *s)
{
	return word_valid(s, LOWER DIGIT, LOWER DIGIT "._-");
}

/* A portable Unix user name, as useradd accepts by default. */
static int user_name_valid(const char *s)
{
	return word_valid(s, LOWER "_", LOWER DIGIT "_-");
}

/* Printable text (UTF-8 allowed), no control characters. */
static int text_valid(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int port_valid(const char *s)
{
	long port = 0;

	if (!*s || strlen(s) > 5)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		port = port * 10 + (*s - '0');
	}
	return port >= 1 && port <= 65535;
}

/*
 * tcp://HOST:PORT where HOST is a name or IPv4 address, [IPv6], or (when
 * binding) "*".  ZeroMQ accepts more (interface names, ephemeral ports);
 * partners need a fixed address, so we accept only what they can use.
 */
static int endpoint_valid(const char *s, int bind)
{
	const char *host = s + 6, *colon;
	size_t hlen;

	if (strncmp(s, "tcp://", 6) != 0)
		return 0;
	colon = strrchr(host, ':');
	if (!colon || colon == host || !port_valid(colon + 1))
		return 0;
	hlen = (size_t)(colon - host);
	if (hlen == 1 && host[0] == '*')
		return bind;
	if (host[0] == '[') {
		if (hlen < 3 || host[hlen - 1] != ']')
			return 0;
		for (size_t i = 1; i + 1 < hlen; i++)
			if (!isxdigit((unsigned char)host[i]) &&
			    host[i] != ':' && host[i] != '.')
				return 0;
		return 1;
	}
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-_", host[i]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

enum section_kind {
	SEC_NONE,
	SEC_AGENCY,
	SEC_PKI,
	SEC_DELIVERY,
	SEC_PARTNER,
	SEC_OPERATOR,
	SEC_EVENTS,
	SEC_SPOOL,
	SEC_HOOK,
	SEC_EVIDENCE,
	SEC_ACCOUNTABILITY,
	SEC_FEDERATION,
	SEC_COUNT
};

enum key_type {
	KEY_AGENCY,		/* dotted agency name */
	KEY_LABEL,		/* lower-case word */
	KEY_LISTEN,		/* tcp://host:port, host may be "*" */
	KEY_ENDPOINT,		/* tcp://host:port */
	KEY_PATH,		/* resolved against the file's directory */
	KEY_KEYREF,		/* a KEY_PATH, or a pkcs11: URI as it is */
	KEY_LONG,		/* whole number in [min, max] */
	KEY_TEXT,		/* printable text */
	KEY_USER,		/* Unix user name, resolved to a uid now */
	KEY_UID,		/* numeric Unix uid */
	KEY_PARTNER_TYPE,	/* responsible-authority | duty-to-cooperate */
	KEY_EVENTS,		/* ipc://PATH or tcp://LOOPBACK:PORT */
	KEY_OPERATOR,		/* the id of an [operator ID] */
	KEY_HOOK,		/* command and filters: config_hooks.c */
	KEY_SIGNER,		/* process | in-process */
	KEY_PERSON_CERT,	/* a SHA-256 in hex, or a certificate file */
	KEY_YESNO,		/* yes | no, into an int 1 | 0 (def: default) */
	KEY_PROOFS,		/* required | optional, into an int 0 | 1 */
	KEY_REASON,		/* optional | required | out-of-hours */
	KEY_NEED_TO_KNOW,	/* all | agency | named */
	KEY_SWITCH_OFF,		/* yes | no, into an int 0 | 1: "no" turns
				 * off what is on by default */
	KEY_FED_NAME,		/* a federation's name: like an operator id */
	KEY_FED_PARTNERS,	/* agency names and globs, comma-separated */
};

struct key_spec {
	enum section_kind section;
	const char *name;
	enum key_type type;
	int required;
	long long def, min, max;
	size_t offset;		/* into the section's struct */
	size_t size;
};

#define FIELD(type, f) offsetof(type, f), sizeof(((type *)0)->f)
#define STR(sec, key, t, req, f) \
	{sec, key, t, req, 0, 0, 0, FIELD(struct ppx_config, f)}
#define NUM(key, def, min, max, f) \
	{SEC_DELIVERY, key, KEY_LONG, 0, def, min, max, \
	 FIELD(struct ppx_config, f)}
#define PTN(key, t, req, f) \
	{SEC_PARTNER, key, t, req, 0, 0, 0, FIELD(struct ppx_partner, f)}
#define OPR(key, t, req, max, f) \
	{SEC_OPERATOR, key, t, req, 0, 0, max, FIELD(struct ppx_operator, f)}
#define HOOK(key, t, req, f) \
	{SEC_HOOK, key, t, req, 0, 0, 0, FIELD(struct ppx_hook_config, f)}
#define HNUM(key, def, min, max, f) \
	{SEC_HOOK, key, KEY_LONG, 0, def, min, max, FIELD(struct ppx_hook_config, f)}

/* Every key the file may hold.  docs/CONFIG.md documents each row. */
static const struct key_spec keys[] = {
	STR(SEC_AGENCY, "name", KEY_AGENCY, 1, agency),
	STR(SEC_AGENCY, "area", KEY_LABEL, 0, area),
	STR(SEC_AGENCY, "listen", KEY_LISTEN, 1, listen),
	STR(SEC_AGENCY, "log_dir", KEY_PATH, 1, log_dir),
	STR(SEC_AGENCY, "control", KEY_PATH, 1, control_dir),
	STR(SEC_AGENCY, "policy", KEY_PATH, 1, policy_path),
	{SEC_AGENCY, "log_max_mb", KEY_LONG, 0, 0, 0, 16777216,
	 FIELD(struct ppx_config, log_max_mb)},
	{SEC_AGENCY, "log_check_full", KEY_YESNO, 0, 0, 0, 1,
	 FIELD(struct ppx_config, log_check_full)},
	STR(SEC_PKI, "ca", KEY_PATH, 1, ca),
	STR(SEC_PKI, "crl", KEY_PATH, 1, crl),
	STR(SEC_PKI, "certs", KEY_PATH, 1, certs),
	STR(SEC_PKI, "signing_key", KEY_KEYREF, 1, signing_key),
	STR(SEC_PKI, "pkcs11_module", KEY_PATH, 0, pkcs11_module),
	STR(SEC_PKI, "pkcs11_pin_file", KEY_PATH, 0, pkcs11_pin_file),
	STR(SEC_PKI, "signer", KEY_SIGNER, 0, signer_in_process),
	STR(SEC_PKI, "signing_cert", KEY_PATH, 1, signing_cert),
	STR(SEC_PKI, "transport_key", KEY_PATH, 1, transport_key),
	STR(SEC_PKI, "transport_cert", KEY_PATH, 1, transport_cert),
	NUM("retry_initial_ms", 200, 10, 60000, retry_initial_ms),
	NUM("retry_max_ms", 30000, 100, 3600000, retry_max_ms),
	NUM("window", 256, 1, 10000, window),
	NUM("heartbeat_ms", 1000, 100, 60000, heartbeat_ms),
	NUM("heartbeat_timeout_ms", 5000, 100, 600000, heartbeat_timeout_ms),
	NUM("handshake_timeout_ms", 10000, 100, 600000, handshake_timeout_ms),
	NUM("batch_max", 1024, 1, 100000, batch_max),
	NUM("checkpoint_every", 1000, 1, 10000000, checkpoint_every),
	NUM("clock_skew_ms", 300000, 0, 86400000, clock_skew_ms),
	NUM("max_frame", 1048576, 1024, 16777216, max_frame),
	NUM("refusal_budget", 200, 1, 100000000, refusal_budget),
	NUM("refusal_window_ms", 60000, 1000, 86400000, refusal_window_ms),
	NUM("block_initial_ms", 60000, 1000, 86400000, block_initial_ms),
	NUM("block_max_ms", 3600000, 1000, 604800000, block_max_ms),
	NUM("log_quota_bytes_hour", 134217728, 65536, 1099511627776LL,
	    log_quota_bytes_hour),
	NUM("refusal_log_ms", 10000, 100, 3600000, refusal_log_ms),
	/* batch signatures (PROTOCOL.md 3.4) */
	{SEC_DELIVERY, "batch_signatures", KEY_YESNO, 0, 1, 0, 1,
	 FIELD(struct ppx_config, batch_signatures)},
	NUM("batch_sign_max", 256, 2, 65536, batch_sign_max),
	NUM("batch_sign_wait_ms", 0, 0, 1000, batch_sign_wait_ms),
	/* required unless [federation] directory is set: on_end checks */
	PTN("endpoint", KEY_ENDPOINT, 0, endpoint),
	PTN("type", KEY_PARTNER_TYPE, 0, duty_to_cooperate),
	OPR("user", KEY_USER, 0, 0, user),
	OPR("uid", KEY_UID, 0, 4294967294LL, uid),
	OPR("name", KEY_TEXT, 1, 0, name),
	OPR("role", KEY_TEXT, 0, 0, role),
	OPR("grade", KEY_TEXT, 0, 0, grade),
	OPR("person_cert", KEY_PERSON_CERT, 0, 0, person_cert),
	OPR("purpose", KEY_TEXT, 0, 0, purpose),
	OPR("need_to_know", KEY_NEED_TO_KNOW, 0, 0, need_to_know),
	STR(SEC_EVENTS, "endpoint", KEY_EVENTS, 1, events_endpoint),
	STR(SEC_SPOOL, "dir", KEY_PATH, 1, spool_dir),
	STR(SEC_SPOOL, "operator", KEY_OPERATOR, 1, spool_operator),
	{SEC_SPOOL, "scan_ms", KEY_LONG, 0, 200, 10, 60000,
	 FIELD(struct ppx_config, spool_scan_ms)},
	HOOK("command", KEY_HOOK, 1, command),
	HOOK("entry_kinds", KEY_HOOK, 0, entry_kinds),
	HOOK("families", KEY_HOOK, 0, families),
	HOOK("kinds", KEY_HOOK, 0, kinds),
	HOOK("partners", KEY_HOOK, 0, partners),
	HNUM("timeout_ms", 30000, 100, 86400000, timeout_ms),
	HNUM("retry_initial_ms", 1000, 10, 3600000, retry_initial_ms),
	HNUM("retry_max_ms", 60000, 100, 86400000, retry_max_ms),
	HNUM("stuck_failures", 3, 1, 1000000, stuck_failures),
	HNUM("quarantine_after", 5, 1, 1000000, quarantine_after),
	HOOK("on_failure", KEY_HOOK, 0, on_failure_stop),
	HOOK("mode", KEY_HOOK, 0, stream),
	HNUM("batch_max", 1000, 1, 100000, batch_max),
	HNUM("batch_bytes", 4194304, 65536, 268435456, batch_bytes),
	/* [evidence]: proof of recording (PROTOCOL.md 5.3) and witnessing
	 * (PROTOCOL.md 11) */
	{SEC_EVIDENCE, "proofs", KEY_YESNO, 0, 1, 0, 1,
	 FIELD(struct ppx_config, evidence_proofs)},
	{SEC_EVIDENCE, "witness", KEY_YESNO, 0, 1, 0, 1,
	 FIELD(struct ppx_config, witness)},
	{SEC_EVIDENCE, "witness_interval_ms", KEY_LONG, 0, 10000, 10, 86400000,
	 FIELD(struct ppx_config, witness_interval_ms)},
	PTN("proofs", KEY_PROOFS, 0, proofs_optional),
	PTN("witness", KEY_SWITCH_OFF, 0, witness_off),
	/* [accountability]: who read what and why; break-glass */
	STR(SEC_ACCOUNTABILITY, "reason", KEY_REASON, 0, reason_rule),
	STR(SEC_ACCOUNTABILITY, "emergency_reviewer", KEY_OPERATOR, 0,
	    emergency_reviewer),
	{SEC_ACCOUNTABILITY, "emergency_review_days", KEY_LONG, 0, 2, 1, 60,
	 FIELD(struct ppx_config, emergency_review_days)},
	{SEC_ACCOUNTABILITY, "counting_log_ms", KEY_LONG, 0, 3600000, 0,
	 604800000, FIELD(struct ppx_config, counting_log_ms)},
	STR(SEC_ACCOUNTABILITY, "ppx", KEY_PATH, 0, ppx_path),
	/* [federation]: the signed directory (PROTOCOL.md 13) */
	STR(SEC_FEDERATION, "directory", KEY_PATH, 1, directory_drop),
	/* Required: without it the first directory from any partner could
	 * move the daemon into another federation under the same CA. */
	STR(SEC_FEDERATION, "name", KEY_FED_NAME, 1, federation),
	STR(SEC_FEDERATION, "partners", KEY_FED_PARTNERS, 0, fed_partners),
	{SEC_FEDERATION, "forward", KEY_YESNO, 0, 1, 0, 1,
	 FIELD(struct ppx_config, fed_forward)},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct {
	const char *name;	/* keyword inside [ ] */
	enum section_kind kind;
	int has_arg;		/* [partner NAME], [operator ID] */
} sections[] = {
	{"agency", SEC_AGENCY, 0},
	{"pki", SEC_PKI, 0},
	{"delivery", SEC_DELIVERY, 0},
	{"partner", SEC_PARTNER, 1},
	{"operator", SEC_OPERATOR, 1},
	{"events", SEC_EVENTS, 0},
	{"spool", SEC_SPOOL, 0},
	{"hook", SEC_HOOK, 1},
	{"evidence", SEC_EVIDENCE, 0},
	{"accountability", SEC_ACCOUNTABILITY, 0},
	{"federation", SEC_FEDERATION, 0},
};

/* What the parse has seen so far. */
struct parse {
	struct ppx_config *cfg;
	char dir[PATH_MAX];		/* absolute directory of the file */
	enum section_kind sec;		/* the section being read */
	void *base;			/* the struct it fills */
	int seen[N_KEYS];		/* line of each key, 0 if not given */
	int top_line[SEC_COUNT];	/* header line of each fixed section */
	size_t cap_partners, cap_operators, cap_hooks;
};

static const struct key_spec *key_find(enum section_kind sec,
				       const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].section == sec && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int key_line(const struct parse *p, enum section_kind sec,
		    const char *name)
{
	const struct key_spec *k = key_find(sec, name);

	return k ? p->seen[k - keys] : 0;
}

static const char *section_title(enum section_kind sec)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (sections[i].kind == sec)
			return sections[i].name;
	return "?";
}

/* ------------------------------------------------------------------ */
/* Setting one value                                                   */
/* ------------------------------------------------------------------ */

/* "[section] name = value: why", the shape of every value error. */
static int bad_value(const struct ppx_ini_entry *e, const char *why)
{
	return ppx_error_set(PPX_EINVAL, "[%s] %s = %s: %s", e->section,
			     e->name, e->value, why);
}

static int set_string(char *field, const struct key_spec *k,
		      const struct ppx_ini_entry *e)
{
	char why[64];

	if (strlen(e->value) >= k->size) {
		snprintf(why, sizeof(why), "longer than %zu characters",
			 k->size - 1);
		return bad_value(e, why);
	}
	memcpy(field, e->value, strlen(e->value) + 1);
	return 0;
}

static int set_path(struct parse *p, char *field, const struct key_spec *k,
		    const struct ppx_ini_entry *e)
{
	int n;

	if (!text_valid(e->value))
		return bad_value(e, "control character in path");
	if (e->value[0] == '/')
		return set_string(field, k, e);
	n = snprintf(field, k->size, "%s/%s", p->dir, e->value);
	if (n < 0 || (size_t)n >= k->size)
		return bad_value(e, "path too long once made absolute");
	return 0;
}

static int set_long(void *field, const struct key_spec *k,
		    const struct ppx_ini_entry *e)
{
	char why[96], *end;
	long long v;

	errno = 0;
	v = strtoll(e->value, &end, 10);
	if (end == e->value || *end != '\0' || isspace((unsigned char)*e->value))
		return bad_value(e, "not a whole number");
	if (errno == ERANGE || v < k->min || v > k->max) {
		snprintf(why, sizeof(why), "must be between %lld and %lld",
			 k->min, k->max);
		return bad_value(e, why);
	}
	if (k->type == KEY_UID)
		*(uid_t *)field = (uid_t)v;
	else
		*(long *)field = (long)v;
	return 0;
}

/* user = NAME: must name an existing Unix user; its uid is kept. */
static int set_user(struct parse *p, char *field, const struct key_spec *k,
		    const struct ppx_ini_entry *e)
{
	struct ppx_operator *op = p->base;
	struct passwd pw, *res = NULL;
	char buf[16384], why[128];
	int rc;

	if (!user_name_valid(e->value))
		return bad_value(e, "not a valid Unix user name");
	rc = set_string(field, k, e);
	if (rc < 0)
		return rc;
	rc = getpwnam_r(e->value, &pw, buf, sizeof(buf), &res);
	if (rc != 0) {
		snprintf(why, sizeof(why), "cannot look up the user: %s",
			 strerror(rc));
		return bad_value(e, why);
	}
	if (!res)
		return bad_value(e, "no such Unix user on this system");
	op->uid = pw.pw_uid;
	return 0;
}

static int set_partner_type(int *field, const struct ppx_ini_entry *e)
{
	if (strcmp(e->value, "responsible-authority") == 0)
		*field = 0;
	else if (strcmp(e->value, "duty-to-cooperate") == 0)
		*field = 1;
	else
		return bad_value(e, "must be responsible-authority or "
				 "duty-to-cooperate");
	return 0;
}

/* One of two words into an int: `zero` gives 0, `one` gives 1. */
static int set_choice(int *field, const struct ppx_ini_entry *e,
		      const char *zero, const char *one)
{
	char why[80];

	if (strcmp(e->value, zero) == 0)
		*field = 0;
	else if (strcmp(e->value, one) == 0)
		*field = 1;
	else {
		snprintf(why, sizeof(why), "must be %s or %s", one, zero);
		return bad_value(e, why);
	}
	return 0;
}

/* One of three words, into 0, 1 or 2. */
static int set_choice3(int *field, const struct ppx_ini_entry *e,
		       const char *zero, const char *one, const char *two)
{
	char why[96];

	if (strcmp(e->value, two) == 0) {
		*field = 2;
		return 0;
	}
	if (strcmp(e->value, zero) == 0 || strcmp(e->value, one) == 0)
		return set_choice(field, e, zero, one);
	snprintf(why, sizeof(why), "must be %s, %s or %s", zero, one, two);
	return bad_value(e, why);
}

/* Where the signing key is used: 0 its own process, 1 this one. */
static int set_signer(int *field, const struct ppx_ini_entry *e)
{
	if (strcmp(e->value, "process") == 0)
		*field = 0;
	else if (strcmp(e->value, "in-process") == 0)
		*field = 1;
	else
		return bad_value(e, "must be process or in-process");
	return 0;
}

/* person_cert = 64 hex digits (the certificate's SHA-256), or the path
 * of the PEM certificate, read now and fingerprinted. */
static int set_person_cert(struct parse *p, uint8_t *field,
			   const struct ppx_ini_entry *e)
{
	struct ppx_operator *op = p->base;
	char path[PATH_MAX], why[320];
	ppx_cert *cert = NULL;
	size_t n = strlen(e->value);
	int hex = n == 64, rc;

	for (size_t i = 0; hex && i < n; i++)
		hex = ppx_hex_digit(e->value[i]) >= 0;
	op->has_person_cert = 1;
	if (hex) {
		for (size_t i = 0; i < 32; i++)
			field[i] = (uint8_t)(ppx_hex_digit(e->value[2 * i]) << 4 |
					     ppx_hex_digit(e->value[2 * i + 1]));
		return 0;
	}
	if (!text_valid(e->value))
		return bad_value(e, "control character in path");
	rc = e->value[0] == '/'
		     ? snprintf(path, sizeof(path), "%s", e->value)
		     : snprintf(path, sizeof(path), "%s/%s", p->dir, e->value);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return bad_value(e, "path too long once made absolute");
	if (ppx_cert_load(&cert, path) != 0 ||
	    ppx_cert_fingerprint(cert, field) != 0) {
		snprintf(why, sizeof(why), "neither 64 hex digits (the "
			 "certificate's SHA-256) nor a certificate: %s",
			 ppx_error_last());
		ppx_cert_free(cert);
		return bad_value(e, why);
	}
	ppx_cert_free(cert);
	return 0;
}

/* Check `e` against its row `k` and store it.  One case per type. */
static int key_set(struct parse *p, const struct key_spec *k,
		   const struct ppx_ini_entry *e)
{
	char *field = (char *)p->base + k->offset;
	char why[256] = "";

	if (!e->value[0])
		return bad_value(e, "empty; give a value or leave the key out");
	switch (k->type) {
	case KEY_AGENCY:
		if (!ppx_config_agency_name_valid(e->value))
			return bad_value(e, "not a dotted agency name such as "
					 "police.gwent (lower case)");
		return set_string(field, k, e);
	case KEY_LABEL:
		if (!label_valid(e->value))
			return bad_value(e, "must be a lower-case word "
					 "(a-z, 0-9, -)");
		return set_string(field, k, e);
	case KEY_LISTEN:
	case KEY_ENDPOINT:
		if (!endpoint_valid(e->value, k->type == KEY_LISTEN))
			return bad_value(e, k->type == KEY_LISTEN ?
					 "must be tcp://HOST:PORT "
					 "(HOST may be *)" :
					 "must be tcp://HOST:PORT");
		return set_string(field, k, e);
	case KEY_PATH:
		return set_path(p, field, k, e);
	case KEY_KEYREF:
		if (ppx_pkcs11_uri_is(e->value))
			return set_string(field, k, e);
		return set_path(p, field, k, e);
	case KEY_LONG:
	case KEY_UID:
		return set_long(field, k, e);
	case KEY_TEXT:
		if (!text_valid(e->value))
			return bad_value(e, "control character in text");
		return set_string(field, k, e);
	case KEY_USER:
		return set_user(p, field, k, e);
	case KEY_PARTNER_TYPE:
		return set_partner_type((int *)(void *)field, e);
	case KEY_OPERATOR:
		if (!id_valid(e->value))
			return bad_value(e, "not an operator id such as "
					 "dana.evans");
		return set_string(field, k, e);
	case KEY_EVENTS:
		if (ppxi_config_events_endpoint_parse(e->value, why, sizeof(why)))
			return bad_value(e, why);
		return set_string(field, k, e);
	case KEY_SIGNER:
		return set_signer((int *)(void *)field, e);
	case KEY_PERSON_CERT:
		return set_person_cert(p, (uint8_t *)field, e);
	case KEY_YESNO:
		return set_choice((int *)(void *)field, e, "no", "yes");
	case KEY_PROOFS:
		return set_choice((int *)(void *)field, e, "required",
				  "optional");
	case KEY_SWITCH_OFF:
		return set_choice((int *)(void *)field, e, "yes", "no");
	case KEY_REASON:
		return set_choice3((int *)(void *)field, e, "optional",
				   "required", "out-of-hours");
	case KEY_NEED_TO_KNOW:
		return set_choice3((int *)(void *)field, e, "all", "agency",
				   "named");
	case KEY_FED_NAME:
		if (!id_valid(e->value))
			return bad_value(e, "not a federation name such as "
					 "england-wales (a-z, 0-9, '.', '_', "
					 "'-')");
		return set_string(field, k, e);
	case KEY_FED_PARTNERS:
		if (ppxi_config_fed_partners_parse(p->cfg, e->value, why,
						   sizeof(why)))
			return bad_value(e, why);
		return 0;
	case KEY_HOOK:
		if (ppxi_config_hook_value(p->base, e, p->dir, why, sizeof(why)))
			return bad_value(e, why);
		return 0;
	}
	return bad_value(e, "unhandled key type");
}

static void set_defaults(void *base, enum section_kind sec)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].section == sec && keys[i].type == KEY_LONG)
			*(long *)(void *)((char *)base + keys[i].offset) =
				(long)keys[i].def;
		else if (keys[i].section == sec && keys[i].type == KEY_YESNO)
			*(int *)(void *)((char *)base + keys[i].offset) =
				(int)keys[i].def;
}

/* ------------------------------------------------------------------ */
/* Sections                                                            */
/* ------------------------------------------------------------------ */

/* Forget the keys of a repeatable section kind before the next one. */
static void seen_reset(struct parse *p, enum section_kind sec)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].section == sec)
			p->seen[i] = 0;
}

static int open_fixed(struct parse *p, enum section_kind sec, int line)
{
	if (p->top_line[sec])
		return ppx_error_set(PPX_EINVAL,
				     "[%s] given twice (first at line %d)",
				     section_title(sec), p->top_line[sec]);
	p->top_line[sec] = line;
	p->sec = sec;
	p->base = p->cfg;
	return 0;
}

int ppx_config_grow(void **arr, size_t *cap, size_t n, size_t max, size_t size)
{
	size_t ncap;
	void *na;

	if (n < *cap)
		return 0;
	if (n >= max)
		return PPX_ERANGE;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > max)
		ncap = max;
	na = realloc(*arr, ncap * size);
	if (!na)
		return PPX_ENOMEM;
	*arr = na;
	*cap = ncap;
	return 0;
}

static int open_partner(struct parse *p, const char *name, int line)
{
	struct ppx_config *c = p->cfg;
	const struct ppx_partner *dup = ppx_config_partner(c, name);
	struct ppx_partner *pt;
	int rc;

	if (!ppx_config_agency_name_valid(name))
		return ppx_error_set(PPX_EINVAL, "[partner %s]: not a dotted "
				     "agency name such as probation.gwent",
				     name);
	if (dup)
		return ppx_error_set(PPX_EINVAL, "[partner %s] given twice "
				     "(first at line %d)", name, dup->line);
	rc = ppx_config_grow((void **)&c->partners, &p->cap_partners, c->n_partners,
		  PPX_CONFIG_MAX_PARTNERS, sizeof(*pt));
	if (rc < 0)
		return ppx_error_set(rc, "[partner %s]: %s", name,
				     rc == PPX_ERANGE ? "more than 256 partners"
				     : "out of memory");
	pt = &c->partners[c->n_partners++];
	memset(pt, 0, sizeof(*pt));
	memcpy(pt->name, name, strlen(name) + 1);
	pt->line = line;
	seen_reset(p, SEC_PARTNER);
	p->sec = SEC_PARTNER;
	p->base = pt;
	return 0;
}

static int open_operator(struct parse *p, const char *id, int line)
{
	struct ppx_config *c = p->cfg;
	struct ppx_operator *op;
	int rc;

	if (!id_valid(id) || strlen(id) >= sizeof(op->id))
		return ppx_error_set(PPX_EINVAL, "[operator %s]: the id must "
				     "be lower case a-z, 0-9, '.', '_', '-', "
				     "e.g. dana.evans", id);
	for (size_t i = 0; i < c->n_operators; i++)
		if (strcmp(c->operators[i].id, id) == 0)
			return ppx_error_set(PPX_EINVAL, "[operator %s] given "
					     "twice (first at line %d)", id,
					     c->operators[i].line);
	rc = ppx_config_grow((void **)&c->operators, &p->cap_operators, c->n_operators,
		  PPX_CONFIG_MAX_OPERATORS, sizeof(*op));
	if (rc < 0)
		return ppx_error_set(rc, "[operator %s]: %s", id,
				     rc == PPX_ERANGE ? "more than 1024 "
				     "operators" : "out of memory");
	op = &c->operators[c->n_operators++];
	memset(op, 0, sizeof(*op));
	memcpy(op->id, id, strlen(id) + 1);
	op->line = line;
	seen_reset(p, SEC_OPERATOR);
	p->sec = SEC_OPERATOR;
	p->base = op;
	return 0;
}

static int open_hook(struct parse *p, const char *name, int line)
{
	struct ppx_hook_config *h;
	int rc = ppxi_config_hook_add(&h, p->cfg, &p->cap_hooks, name, line);

	if (rc < 0)
		return rc;
	set_defaults(h, SEC_HOOK);
	seen_reset(p, SEC_HOOK);
	p->sec = SEC_HOOK;
	p->base = h;
	return 0;
}

static int close_hook(struct parse *p, int *line)
{
	struct ppxi_config_hook_lines l = {
		key_line(p, SEC_HOOK, "command"),
		key_line(p, SEC_HOOK, "kinds"),
		key_line(p, SEC_HOOK, "families"),
		key_line(p, SEC_HOOK, "retry_initial_ms"),
		key_line(p, SEC_HOOK, "retry_max_ms"),
	};

	return ppxi_config_hook_finish(p->base, &l, line);
}

/* The required keys of the current operator are all there;
 * an operator is one Unix user, and nobody else's. */
static int close_entry(struct parse *p, int *line)
{
	const struct ppx_config *c = p->cfg;
	int by_user = key_line(p, SEC_OPERATOR, "user");
	int by_uid = key_line(p, SEC_OPERATOR, "uid");
	const struct ppx_operator *op = p->base;

	if (p->sec == SEC_HOOK)
		return close_hook(p, line);
	if (p->sec != SEC_OPERATOR)
		return 0;
	*line = op->line;
	if (!key_line(p, SEC_OPERATOR, "name"))
		return ppx_error_set(PPX_EINVAL, "[operator %s] has no name; "
				     "it is required", op->id);
	if (by_user && by_uid)
		*line = by_user > by_uid ? by_user : by_uid;
	if (!by_user == !by_uid)
		return ppx_error_set(PPX_EINVAL, "[operator %s] gives %s; give "
				     "exactly one of user and uid", op->id,
				     by_user ? "both user and uid" :
				     "neither user nor uid");
	for (const struct ppx_operator *o = c->operators; o < op; o++)
		if (o->uid == op->uid) {
			*line = by_user ? by_user : by_uid;
			return ppx_error_set(PPX_EINVAL, "[operator %s]: uid %lu"
					     " is already operator %s (line %d);"
					     " one person per Unix user",
					     op->id, (unsigned long)op->uid,
					     o->id, o->line);
		}
	return 0;
}

/* A section with a name: [partner NAME], [operator ID], [hook NAME]. */
static int open_named(struct parse *p, enum section_kind sec,
		      const char *name, int line)
{
	switch (sec) {
	case SEC_PARTNER:
		return open_partner(p, name, line);
	case SEC_OPERATOR:
		return open_operator(p, name, line);
	default:
		return open_hook(p, name, line);
	}
}

static int on_section(void *user, const char *section, int *line)
{
	struct parse *p = user;
	int header = *line;
	int rc = close_entry(p, line);

	if (rc < 0)
		return rc;
	*line = header;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		size_t n = strlen(sections[i].name);

		if (strncmp(section, sections[i].name, n) != 0)
			continue;
		if (!sections[i].has_arg && section[n] == '\0')
			return open_fixed(p, sections[i].kind, header);
		if (sections[i].has_arg && section[n] == ' ')
			return open_named(p, sections[i].kind, section + n + 1,
					  header);
	}
	p->sec = SEC_NONE;
	return ppx_error_set(PPX_EINVAL, "[%s]: unknown section; expected "
			     "[agency], [pki], [delivery], [partner NAME], "
			     "[operator ID], [events], [spool], [hook NAME], "
			     "[evidence], [accountability] or [federation]",
			     section);
}

static int on_key(void *user, const struct ppx_ini_entry *e)
{
	struct parse *p = user;
	const struct key_spec *k;

	if (e->continued)
		return ppx_error_set(PPX_EINVAL, "[%s] %s: this indented line "
				     "would continue its value; write each "
				     "value on one line, not indented",
				     e->section, e->name);
	k = key_find(p->sec, e->name);
	if (!k)
		return ppx_error_set(PPX_EINVAL, "[%s] %s: unknown key (see "
				     "docs/CONFIG.md)", e->section, e->name);
	if (p->seen[k - keys])
		return ppx_error_set(PPX_EINVAL, "[%s] %s given twice (first "
				     "at line %d)", e->section, e->name,
				     p->seen[k - keys]);
	p->seen[k - keys] = e->line;
	return key_set(p, k, e);
}

/* ------------------------------------------------------------------ */
/* Whole-file checks                                                   */
/* ------------------------------------------------------------------ */

/* The required keys of the fixed sections: [agency] and [pki] always,
 * [events], [spool] and [federation] if they are there.  (close_entry checks those of
 * the named sections.) */
static int check_required(const struct parse *p, int *line)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_spec *k = &keys[i];
		const char *sec = section_title(k->section);
		int optional = k->section == SEC_EVENTS ||
			       k->section == SEC_SPOOL ||
			       k->section == SEC_FEDERATION;

		if (!k->required || (k->section > SEC_DELIVERY && !optional) ||
		    (optional && !p->top_line[k->section]) ||
		    ((const char *)p->cfg + k->offset)[0] != '\0')
			continue;
		if (!p->top_line[k->section])
			return ppx_error_set(PPX_EINVAL, "no [%s] section; it "
					     "must give %s", sec, k->name);
		*line = p->top_line[k->section];
		return ppx_error_set(PPX_EINVAL, "[%s] has no %s; it is "
				     "required", sec, k->name);
	}
	return 0;
}

/* `later` must not be below `earlier`: name the line that says so. */
static int check_order(const struct parse *p, int *line, const char *later,
		       long lv, const char *earlier, long ev)
{
	int at = key_line(p, SEC_DELIVERY, later);

	if (lv >= ev)
		return 0;
	if (!at)
		at = key_line(p, SEC_DELIVERY, earlier);
	*line = at ? at : p->top_line[SEC_DELIVERY];
	return ppx_error_set(PPX_EINVAL, "[delivery] %s = %ld: must be at "
			     "least %s (%ld)", later, lv, earlier, ev);
}

/*
 * A signing_key that is a pkcs11: URI must parse and needs pkcs11_module
 * and pkcs11_pin_file; a key file needs neither, and either given beside
 * one is a mistake worth stopping for.
 */
static int check_pkcs11(const struct parse *p, int *line)
{
	const struct ppx_config *c = p->cfg;
	int at = key_line(p, SEC_PKI, "signing_key");
	struct ppx_pkcs11_uri u;

	if (!ppx_pkcs11_uri_is(c->signing_key)) {
		at = key_line(p, SEC_PKI, c->pkcs11_module[0] ?
			      "pkcs11_module" : "pkcs11_pin_file");
		*line = at;
		return at ? ppx_error_set(PPX_EINVAL, "[pki] pkcs11_module "
					  "and pkcs11_pin_file are for a "
					  "signing_key that is a pkcs11: "
					  "URI, not a key file") : 0;
	}
	*line = at;
	if (ppx_pkcs11_uri_parse(&u, c->signing_key) != 0)
		return ppx_error_set(PPX_EINVAL, "[pki] signing_key = %s",
				     ppx_error_last());
	if (!c->pkcs11_module[0] || !c->pkcs11_pin_file[0])
		return ppx_error_set(PPX_EINVAL, "[pki] signing_key is a "
				     "pkcs11: URI; pkcs11_module and "
				     "pkcs11_pin_file are then required");
	return 0;
}

/*
 * Every [partner] has an endpoint, unless a [federation] directory is
 * set: then the directory's endpoint wins and a section only narrows.
 */
static int check_partners(const struct ppx_config *c, int *line)
{
	for (size_t i = 0; i < c->n_partners && !c->directory_drop[0]; i++)
		if (!c->partners[i].endpoint[0]) {
			*line = c->partners[i].line;
			return ppx_error_set(PPX_EINVAL, "[partner %s] has no "
					     "endpoint; it is required "
					     "without a [federation] "
					     "directory", c->partners[i].name);
		}
	return 0;
}

static int on_end(void *user, int *line)
{
	struct parse *p = user;
	const struct ppx_config *c = p->cfg;
	int rc = close_entry(p, line);

	if (rc == 0)
		rc = check_required(p, line);
	if (rc == 0)
		rc = check_pkcs11(p, line);
	if (rc == 0)
		rc = ppxi_config_hooks_check(c, key_line(p, SEC_SPOOL, "operator"),
					key_line(p, SEC_ACCOUNTABILITY,
						 "emergency_reviewer"),
					line);
	if (rc == 0)
		rc = check_order(p, line, "heartbeat_timeout_ms",
				 c->heartbeat_timeout_ms, "heartbeat_ms",
				 c->heartbeat_ms);
	if (rc == 0)
		rc = check_order(p, line, "retry_max_ms", c->retry_max_ms,
				 "retry_initial_ms", c->retry_initial_ms);
	if (rc == 0)
		rc = check_order(p, line, "block_max_ms", c->block_max_ms,
				 "block_initial_ms", c->block_initial_ms);
	if (rc == 0)
		rc = check_partners(c, line);
	for (size_t i = 0; rc == 0 && i < c->n_partners; i++)
		if (strcmp(c->partners[i].name, c->agency) == 0) {
			*line = c->partners[i].line;
			rc = ppx_error_set(PPX_EINVAL, "[partner %s]: that is "
					   "this agency's own name",
					   c->agency);
		}
	return rc;
}

/* The absolute directory holding `path`, against which relative paths
 * in the file are resolved. */
static int config_dir(char *dir, const char *path)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;

	if (n >= sizeof(tmp))
		return ppx_error_set(PPX_EINVAL, "%s: path too long", path);
	if (!slash)
		memcpy(tmp, ".", 2);
	else if (n == 0)
		memcpy(tmp, "/", 2);
	else {
		memcpy(tmp, path, n);
		tmp[n] = '\0';
	}
	if (!realpath(tmp, dir))
		return ppx_error_set(PPX_EIO, "cannot open %s: %s", path,
				     strerror(errno));
	return 0;
}

int ppx_config_load(struct ppx_config **out, const char *path)
{
	static const struct ppx_ini_handler h = {on_section, on_key,
						    on_end};
	struct parse *p;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->cfg = calloc(1, sizeof(*p->cfg)))) {
		free(p);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	if (strlen(path) >= sizeof(p->cfg->path))
		rc = ppx_error_set(PPX_EINVAL, "%s: path too long", path);
	else
		rc = config_dir(p->dir, path);
	if (rc == 0) {
		memcpy(p->cfg->path, path, strlen(path) + 1);
		set_defaults(p->cfg, SEC_DELIVERY);
		set_defaults(p->cfg, SEC_SPOOL);
		set_defaults(p->cfg, SEC_EVIDENCE);
		set_defaults(p->cfg, SEC_ACCOUNTABILITY);
		set_defaults(p->cfg, SEC_FEDERATION);
		rc = ppx_ini_parse(path, &h, p);
	}
	if (rc < 0)
		ppx_config_free(p->cfg);
	else
		*out = p->cfg;
	free(p);
	return rc;
}

void ppx_config_free(struct ppx_config *self)
{
	if (!self)
		return;
	free(self->partners);
	free(self->operators);
	free(self->hooks);
	free(self);
}

const struct ppx_partner *ppx_config_partner(const struct ppx_config *self,
					  const char *agency)
{
	for (size_t i = 0; i < self->n_partners; i++)
		if (strcmp(self->partners[i].name, agency) == 0)
			return &self->partners[i];
	return NULL;
}

const struct ppx_operator *ppx_config_operator_by_id(
	const struct ppx_config *self, const char *id)
{
	for (size_t i = 0; id && i < self->n_operators; i++)
		if (strcmp(self->operators[i].id, id) == 0)
			return &self->operators[i];
	return NULL;
}

const struct ppx_operator *ppx_config_operator_by_uid(
	const struct ppx_config *self, uid_t uid)
{
	for (size_t i = 0; i < self->n_operators; i++)
		if (self->operators[i].uid == uid)
			return &self->operators[i];
	return NULL;
}
