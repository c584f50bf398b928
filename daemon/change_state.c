/*
 * change_state.c — a file in force read into "KEY = VALUE" lines, and the
 * readable difference between two such readings (change_state.h).
 *
 * Where it sits: changes.c reads each file the daemon has in force here,
 * at start and on every reload, and logs the difference from the state the
 * file's latest change entry recorded.  The lines are what the next
 * comparison starts from, so they are recorded in the entry itself
 * (ChangeRecord.in_force); they never hold a secret, nor any digest of
 * one: keys that name key or PIN material, and a hook's command (which may
 * carry a database password), are shown as "(hidden)".  Whether a hidden
 * value changed is told by hidden_tag, an HMAC-SHA256 of the hidden values
 * under a random key the daemon keeps to itself (change_state_set_key;
 * changes.c keeps the tag in the file's LMDB mark, never in an entry).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "change_state.h"
#include "ppx/config.h"
#include "ppx/envelope.h"
#include "ppx/error.h"

#define FILE_MAX (64u << 20)		/* bytes read of one file */
#define LINES_MAX 1000000

/* Keys whose values are never shown ("do not log secrets"). */
static const char *const hidden_keys[] = {
	"signing_key", "transport_key", "pkcs11_pin_file", "command",
};

/* The key of the hidden tags (change_state_set_key); all zero until set. */
static uint8_t tag_key[32];

void change_state_set_key(const uint8_t key[32])
{
	if (key)
		memcpy(tag_key, key, sizeof(tag_key));
	else
		OPENSSL_cleanse(tag_key, sizeof(tag_key));
}

int change_lines_add(char ***out, size_t *n, const char *fmt, ...)
{
	char buf[CHANGE_LINE_MAX], **grown, *s;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		return ppx_error_set(PPX_EINVAL, "cannot format a change");
	if ((size_t)len >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	if (*n >= LINES_MAX)
		return ppx_error_set(PPX_ERANGE, "more than %d lines",
				     LINES_MAX);
	if (!(grown = realloc(*out, (*n + 1) * sizeof(*grown))) ||
	    !(s = strdup(buf))) {
		if (grown)
			*out = grown;
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	*out = grown;
	(*out)[(*n)++] = s;
	return 0;
}

void change_lines_free(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

void change_state_clear(struct change_state *self)
{
	change_lines_free(self->lines, self->n);
	memset(self, 0, sizeof(*self));
}

int change_state_set_lines(struct change_state *self, char *const *lines,
			   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (change_lines_add(&self->lines, &self->n, "%s",
				     lines[i]) != 0)
			return PPX_ENOMEM;
	return 0;
}

/* The whole file, at most FILE_MAX bytes; *out is malloc'd. */
static int read_file(uint8_t **out, size_t *len, const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, got;

	*out = NULL;
	*len = 0;
	if (!fp)
		return ppx_error_set(PPX_EIO, "cannot open %s: %s", path,
				     strerror(errno));
	do {
		uint8_t *b;

		if (cap >= FILE_MAX) {
			fclose(fp);
			free(buf);
			return ppx_error_set(PPX_ERANGE, "%s: larger than %u "
					     "bytes", path, FILE_MAX);
		}
		cap = cap ? 2 * cap : 8192;
		if (!(b = realloc(buf, cap))) {
			fclose(fp);
			free(buf);
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		}
		buf = b;
		got = fread(buf + *len, 1, cap - *len, fp);
		*len += got;
	} while (*len == cap);
	fclose(fp);
	*out = buf;
	return 0;
}

int change_state_hash(uint8_t out[32], const char *path)
{
	uint8_t *data;
	size_t len;
	int rc = read_file(&data, &len, path);

	if (rc == 0)
		rc = ppx_sha256(out, data, len);
	free(data);
	return rc;
}

/* ------------------------------------------------------------------ */
/* INI files                                                           */
/* ------------------------------------------------------------------ */

struct ini_lines {
	struct change_state *st;
	char section[300];
};

static int ini_section(void *user, const char *section, int *line)
{
	struct ini_lines *l = user;

	(void)line;
	snprintf(l->section, sizeof(l->section), "[%s]", section);
	return change_lines_add(&l->st->lines, &l->st->n, "%s", l->section);
}

/* A continued value goes on the line before, after a space. */
static int ini_continue(struct ini_lines *l, const char *value)
{
	char *prev, *s;
	size_t a, b;

	if (l->st->n == 0)
		return 0;
	prev = l->st->lines[l->st->n - 1];
	a = strlen(prev);
	b = strlen(value);
	if (!(s = realloc(prev, a + b + 2)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	s[a] = ' ';
	memcpy(s + a + 1, value, b + 1);
	l->st->lines[l->st->n - 1] = s;
	return 0;
}

static int ini_key(void *user, const struct ppx_ini_entry *e)
{
	struct ini_lines *l = user;

	if (e->continued)
		return ini_continue(l, e->value);
	if (!l->section[0])
		return change_lines_add(&l->st->lines, &l->st->n, "%s = %s",
					e->name, e->value);
	return change_lines_add(&l->st->lines, &l->st->n, "%s %s = %s",
				l->section, e->name, e->value);
}

/* Where a line's key ends (" = "), or its length if it has no value. */
static size_t key_len(const char *line)
{
	const char *eq = strstr(line, " = ");

	return eq ? (size_t)(eq - line) : strlen(line);
}

/* The key's own name: "endpoint" of "[partner x] endpoint". */
static const char *key_name(const char *line, size_t klen, size_t *len)
{
	const char *p = line, *close;

	if (line[0] == '[' && (close = memchr(line, ']', klen)) &&
	    close + 2 <= line + klen) {
		p = close + 2;
	}
	*len = klen - (size_t)(p - line);
	return p;
}

static int is_hidden(const char *line)
{
	size_t klen = key_len(line), len;
	const char *name = key_name(line, klen, &len);

	if (!line[klen])
		return 0;
	for (size_t i = 0; i < sizeof(hidden_keys) / sizeof(*hidden_keys);
	     i++)
		if (strlen(hidden_keys[i]) == len &&
		    memcmp(hidden_keys[i], name, len) == 0)
			return 1;
	return 0;
}

/* The hidden values' HMAC-SHA256 (first 8 bytes): "KEY\0VALUE\0" of each. */
static int hidden_tag(uint64_t *out, char *const *lines, size_t n)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t md[32];
	size_t mdlen = 0;
	int ok = ctx && EVP_MAC_init(ctx, tag_key, sizeof(tag_key), params);

	for (size_t i = 0; ok && i < n; i++)
		if (is_hidden(lines[i]))
			ok = EVP_MAC_update(ctx, (const uint8_t *)lines[i],
					    strlen(lines[i]) + 1);
	ok = ok && EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) && mdlen == 32;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		return ppx_error_set(PPX_EINVAL, "cannot compute an HMAC");
	*out = 0;
	for (int i = 0; i < 8; i++)
		*out = (*out << 8) | md[i];
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/* "KEY = (hidden)" for a secret's line; the value is wiped. */
static int hide(char **line)
{
	size_t klen = key_len(*line);
	char *s;

	if (!(s = malloc(klen + sizeof(" = (hidden)"))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(s, *line, klen);
	memcpy(s + klen, " = (hidden)", sizeof(" = (hidden)"));
	OPENSSL_cleanse(*line, strlen(*line));
	free(*line);
	*line = s;
	return 0;
}

static int ini_read(struct change_state *st, const char *path)
{
	struct ini_lines l = {.st = st};
	struct ppx_ini_handler h = {.section = ini_section, .key = ini_key};
	int rc = ppx_ini_parse(path, &h, &l);

	if (rc == 0)
		rc = hidden_tag(&st->hidden_tag, st->lines, st->n);
	for (size_t i = 0; rc == 0 && i < st->n; i++)
		if (is_hidden(st->lines[i]))
			rc = hide(&st->lines[i]);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Certificates and CRLs                                               */
/* ------------------------------------------------------------------ */

static void asn1_time_text(const ASN1_TIME *t, char *out, size_t cap)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		snprintf(out, cap, "none");
	else
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An integer (serial, crlNumber) in hex, as openssl prints it. */
static void asn1_int_text(const ASN1_INTEGER *i, char *out, size_t cap)
{
	BIGNUM *bn = i ? ASN1_INTEGER_to_BN(i, NULL) : NULL;
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(out, cap, "%s", hex ? hex : "none");
	OPENSSL_free(hex);
	BN_free(bn);
}

static void name_text(const X509_NAME *name, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	snprintf(out, cap, "?");
	if (!b)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0)
		snprintf(out, cap, "%.*s", (int)len, p);
	BIO_free(b);
}

static int cert_lines(struct change_state *st, X509 *x)
{
	char text[512], hex[65];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	name_text(X509_get_subject_name(x), text, sizeof(text));
	rc = change_lines_add(&st->lines, &st->n, "subject = %s", text);
	asn1_int_text(X509_get0_serialNumber(x), text, sizeof(text));
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n, "serial = %s", text);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		return ppx_error_set(PPX_EINVAL, "cannot hash certificate");
	ppx_hex(hex, md, 32);
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n,
				      "fingerprint = sha256 %s", hex);
	asn1_time_text(X509_get0_notBefore(x), text, sizeof(text));
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n, "notBefore = %s",
				      text);
	asn1_time_text(X509_get0_notAfter(x), text, sizeof(text));
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n, "notAfter = %s",
				      text);
	return rc;
}

/* "revoked_serials = A, B, C": so that a diff names what was added. */
static int revoked_line(struct change_state *st,
			const STACK_OF(X509_REVOKED) *rev)
{
	size_t cap = 64, used;
	char *s = malloc(cap), text[128];
	int rc;

	if (!s)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	used = (size_t)snprintf(s, cap, "revoked_serials =");
	for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
		size_t l;

		asn1_int_text(X509_REVOKED_get0_serialNumber(
				      sk_X509_REVOKED_value(rev, i)),
			      text, sizeof(text));
		l = strlen(text) + 3;
		if (used + l + 1 > cap) {
			char *g = realloc(s, 2 * (used + l + 1));

			if (!g) {
				free(s);
				return ppx_error_set(PPX_ENOMEM,
						     "out of memory");
			}
			s = g;
			cap = 2 * (used + l + 1);
		}
		used += (size_t)snprintf(s + used, cap - used, "%s %s",
					 i ? "," : "", text);
	}
	rc = change_lines_add(&st->lines, &st->n, "%s", "");
	if (rc == 0) {
		free(st->lines[st->n - 1]);
		st->lines[st->n - 1] = s;
	} else {
		free(s);
	}
	return rc;
}

static int crl_lines(struct change_state *st, X509_CRL *crl)
{
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
						 NULL);
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	char text[512];
	int rc;

	name_text(X509_CRL_get_issuer(crl), text, sizeof(text));
	rc = change_lines_add(&st->lines, &st->n, "issuer = %s", text);
	asn1_int_text(num, text, sizeof(text));
	ASN1_INTEGER_free(num);
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n, "number = %s", text);
	asn1_time_text(X509_CRL_get0_lastUpdate(crl), text, sizeof(text));
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n, "lastUpdate = %s",
				      text);
	asn1_time_text(X509_CRL_get0_nextUpdate(crl), text, sizeof(text));
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n, "nextUpdate = %s",
				      text);
	if (rc == 0)
		rc = change_lines_add(&st->lines, &st->n, "revoked = %d",
				      rev ? sk_X509_REVOKED_num(rev) : 0);
	if (rc == 0 && rev && sk_X509_REVOKED_num(rev) > 0)
		rc = revoked_line(st, rev);
	return rc;
}

static int pem_read(struct change_state *st, const char *what,
		    const char *path, const uint8_t *data, size_t len)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	int rc = ppx_error_set(PPX_EINVAL, "%s: not a PEM %s", path,
			       strcmp(what, "crl") == 0 ? "CRL"
							: "certificate");

	if (!b)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (strcmp(what, "crl") == 0) {
		X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		const uint8_t *p = data;

		/* A CRL a partner passed on is held as DER (federation). */
		if (!crl && !(crl = d2i_X509_CRL(NULL, &p, (long)len)))
			rc = ppx_error_set(PPX_EINVAL, "%s: not a PEM or DER "
					   "CRL", path);

		if (crl)
			rc = crl_lines(st, crl);
		X509_CRL_free(crl);
	} else {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

		if (x)
			rc = cert_lines(st, x);
		X509_free(x);
	}
	BIO_free(b);
	return rc;
}

/* Lines beyond CHANGE_STATE_MAX_BYTES are not recorded: one line says so. */
static int cap_lines(struct change_state *st)
{
	size_t total = 0;

	for (size_t i = 0; i < st->n; i++)
		total += strlen(st->lines[i]) + 1;
	if (total <= CHANGE_STATE_MAX_BYTES)
		return 0;
	change_lines_free(st->lines, st->n);
	st->lines = NULL;
	st->n = 0;
	return change_lines_add(&st->lines, &st->n, "(not recorded: %zu "
				"bytes of content)", total);
}

int change_state_read(struct change_state *out, const char *what,
		      const char *path)
{
	uint8_t *data;
	size_t len;
	int rc;

	change_state_clear(out);
	if ((rc = read_file(&data, &len, path)) != 0)
		return rc;
	rc = ppx_sha256(out->sha256, data, len);
	if (rc == 0 && (strcmp(what, "configuration") == 0 ||
			strcmp(what, "policy") == 0))
		rc = ini_read(out, path);
	else if (rc == 0)
		rc = pem_read(out, what, path, data, len);
	free(data);
	if (rc == 0)
		rc = cap_lines(out);
	if (rc != 0)
		change_state_clear(out);
	else
		out->present = 1;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Differences                                                         */
/* ------------------------------------------------------------------ */

void change_line_section(const char *line, char *out, size_t cap)
{
	const char *close = line[0] == '[' ? strchr(line, ']') : NULL;

	if (!close)
		snprintf(out, cap, "%s", "");
	else
		snprintf(out, cap, "%.*s", (int)(close - line + 1), line);
}

static int has_section(const struct change_state *st, const char *section)
{
	char s[CHANGE_LINE_MAX];

	for (size_t i = 0; i < st->n; i++) {
		change_line_section(st->lines[i], s, sizeof(s));
		if (strcmp(s, section) == 0)
			return 1;
	}
	return 0;
}

/* The line of `st` with the key of `line`, or NULL. */
static const char *find_key(const struct change_state *st, const char *line)
{
	size_t klen = key_len(line);

	for (size_t i = 0; i < st->n; i++)
		if (key_len(st->lines[i]) == klen &&
		    memcmp(st->lines[i], line, klen) == 0)
			return st->lines[i];
	return NULL;
}

/* Sections in `a` and not in `b`, once each: "[rule r] added". */
static int section_diff(char ***out, size_t *n, const struct change_state *a,
			const struct change_state *b, const char *verb)
{
	char s[CHANGE_LINE_MAX];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < a->n; i++)
		if (a->lines[i][0] == '[' && !strstr(a->lines[i], " = ")) {
			change_line_section(a->lines[i], s, sizeof(s));
			if (!has_section(b, s))
				rc = change_lines_add(out, n, "%s %s", s,
						      verb);
		}
	return rc;
}

struct items {
	char **v;
	size_t n;
	char *copy;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A comma-separated value's items, trimmed and sorted. */
static int items_split(struct items *it, const char *value)
{
	size_t cap = 1;
	char *p, *end;

	memset(it, 0, sizeof(*it));
	for (p = (char *)value; *p; p++)
		cap += *p == ',';
	if (!(it->copy = strdup(value)) ||
	    !(it->v = calloc(cap, sizeof(*it->v)))) {
		free(it->copy);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	for (p = it->copy; p; p = end) {
		if ((end = strchr(p, ',')))
			*end++ = '\0';
		while (*p == ' ')
			p++;
		for (char *t = p + strlen(p); t > p && t[-1] == ' '; t--)
			t[-1] = '\0';
		if (*p)
			it->v[it->n++] = p;
	}
	qsort(it->v, it->n, sizeof(*it->v), cmp_str);
	return 0;
}

static void items_free(struct items *it)
{
	free(it->v);
	free(it->copy);
}

/* Append "label X, Y" of the items of `a` not in `b` to buf. */
static void items_only(char *buf, size_t cap, const char *label,
		       const struct items *a, const struct items *b)
{
	size_t used = strlen(buf), j = 0, shown = 0;

	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && strcmp(b->v[j], a->v[i]) < 0)
			j++;
		if (j < b->n && strcmp(b->v[j], a->v[i]) == 0)
			continue;
		if (used < cap)
			used += (size_t)snprintf(buf + used, cap - used,
						 "%s%s%s", shown ? ", " :
						 (used ? "; " : ""),
						 shown ? "" : label, a->v[i]);
		shown++;
	}
}

/* "KEY: added X; removed Y" for a list whose items changed. */
static int list_diff(char ***out, size_t *n, const char *key, size_t klen,
		     const char *was, const char *now)
{
	struct items a, b;
	char buf[CHANGE_LINE_MAX] = "";
	int rc;

	if ((rc = items_split(&a, was)) != 0)
		return rc;
	if ((rc = items_split(&b, now)) != 0) {
		items_free(&a);
		return rc;
	}
	items_only(buf, sizeof(buf), "added ", &b, &a);
	items_only(buf, sizeof(buf), "removed ", &a, &b);
	if (!buf[0])
		snprintf(buf, sizeof(buf), "reordered");
	rc = change_lines_add(out, n, "%.*s: %s", (int)klen, key, buf);
	items_free(&a);
	items_free(&b);
	return rc;
}

/* One key in both states with different values. */
static int value_diff(char ***out, size_t *n, const char *was,
		      const char *now)
{
	size_t klen = key_len(now);
	const char *a = was + klen + 3, *b = now + klen + 3;

	if (strncmp(a, "(hidden", 7) == 0 && strncmp(b, "(hidden", 7) == 0)
		return 0;	/* hidden_diff says it */
	if (strchr(a, ',') || strchr(b, ','))
		return list_diff(out, n, now, klen, a, b);
	return change_lines_add(out, n, "%.*s: %s -> %s", (int)klen, now, a,
				b);
}

/* Keys of `now` new or changed since `old`, then those gone, in sections
 * that both have (a whole section added or removed is one line). */
static int key_diff(char ***out, size_t *n, const struct change_state *old,
		    const struct change_state *now)
{
	char s[CHANGE_LINE_MAX];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < now->n; i++) {
		const char *line = now->lines[i], *was;
		size_t klen = key_len(line);

		if (!line[klen])
			continue;	/* a section header */
		change_line_section(line, s, sizeof(s));
		if (s[0] && !has_section(old, s))
			continue;
		if (!(was = find_key(old, line)))
			rc = change_lines_add(out, n, "%.*s: added (%s)",
					      (int)klen, line,
					      line + klen + 3);
		else if (strcmp(was, line) != 0)
			rc = value_diff(out, n, was, line);
	}
	for (size_t i = 0; rc == 0 && i < old->n; i++) {
		const char *line = old->lines[i];
		size_t klen = key_len(line);

		if (!line[klen])
			continue;
		change_line_section(line, s, sizeof(s));
		if ((!s[0] || has_section(now, s)) && !find_key(now, line))
			rc = change_lines_add(out, n, "%.*s: removed (was %s)",
					      (int)klen, line,
					      line + klen + 3);
	}
	return rc;
}

/* A hidden value changed: which one is not known (only a tag of them all
 * is kept), so the hidden keys in both states are named:
 * "hidden value changed (one or more of [pki] signing_key, ...)". */
static int hidden_diff(char ***out, size_t *n, const struct change_state *old,
		       const struct change_state *now)
{
	char buf[CHANGE_LINE_MAX];
	size_t used = 0;

	for (size_t i = 0; i < now->n && used < sizeof(buf); i++) {
		size_t klen = key_len(now->lines[i]);

		if (strcmp(now->lines[i] + klen, " = (hidden)") != 0 ||
		    !find_key(old, now->lines[i]))
			continue;
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
					 "%s%.*s", used ? ", " : "",
					 (int)klen, now->lines[i]);
	}
	if (used == 0)
		return 0;	/* a hidden key added or removed: said above */
	return change_lines_add(out, n, "hidden value changed (one or more "
				"of %s)", buf);
}

int change_diff(char ***out, size_t *n, const struct change_state *old,
		const struct change_state *now)
{
	size_t n0 = *n;
	int rc;

	if (!now->present)
		return change_lines_add(out, n, "removed");
	if (!old->present)
		return change_lines_add(out, n, "added");
	if (old->n == 0 || old->lines[0][0] == '(' ||
	    (now->n && now->lines[0][0] == '('))
		return change_lines_add(out, n, "changed (previous content "
					"not recorded)");
	if ((rc = section_diff(out, n, now, old, "added")) != 0 ||
	    (rc = section_diff(out, n, old, now, "removed")) != 0 ||
	    (rc = key_diff(out, n, old, now)) != 0)
		return rc;
	if (rc == 0 && old->hidden_tag != now->hidden_tag &&
	    (rc = hidden_diff(out, n, old, now)) != 0)
		return rc;
	if (*n == n0)	/* comments or layout only */
		return change_lines_add(out, n, "changed (comments or layout "
					"only)");
	return 0;
}
