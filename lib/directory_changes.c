/*
 * directory_changes.c — what the daemon does with directories once judged:
 * which of two supersedes the other, who is listed with which certificate,
 * what changed (the text logged with ENTRY_DIRECTORY and shown by
 * `ppx directory`), and signing a new one (`ppx directory make`).
 *
 * Everything here takes directories that ppx_directory_parse()
 * (lib/directory.c) has already judged, so nothing in them is checked
 * again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory_int.h"
#include "ppx/directory.h"
#include "ppx/error.h"
#include "ppx/text.h"
#include "ppx.pb-c.h"

int ppx_directory_supersedes(const struct ppx_directory *held,
			     const struct ppx_directory *offered)
{
	unsigned long long h, o = (unsigned long long)offered->serial;

	if (!held)
		return 0;
	h = (unsigned long long)held->serial;
	if (strcmp(held->federation, offered->federation) != 0)
		return ppx_error_set(PPX_EBADDIR,
				     "directory serial %llu names federation "
				     "'%s', not '%s' (held serial %llu)",
				     o, offered->federation, held->federation,
				     h);
	if (held->len == offered->len &&
	    memcmp(held->bytes, offered->bytes, held->len) == 0)
		return ppx_error_set(PPX_EDUP, "directory serial %llu is the "
				     "one held (serial %llu)", o, h);
	if (o < h)
		return ppx_error_set(PPX_ESTALE, "directory serial %llu is "
				     "older than the one held (serial %llu)",
				     o, h);
	if (o == h)
		return ppx_error_set(PPX_ESTALE, "directory serial %llu has "
				     "the serial of the one held (serial %llu) "
				     "with other content: refused", o, h);
	return 0;
}

const struct ppx_dir_agency *ppx_directory_agency(
	const struct ppx_directory *self, const char *name)
{
	for (size_t i = 0; self && i < self->n_agencies; i++)
		if (strcmp(self->agencies[i].name, name) == 0)
			return &self->agencies[i];
	return NULL;
}

int ppx_directory_lists_cert(const struct ppx_directory *self,
			     const char *agency, enum ppx_cert_role role,
			     const uint8_t fp[PPX_FINGERPRINT_LEN])
{
	const struct ppx_dir_agency *a = ppx_directory_agency(self, agency);
	size_t n;
	const uint8_t (*fps)[PPX_FINGERPRINT_LEN];

	if (!a || (role != PPX_ROLE_SIGNING && role != PPX_ROLE_TRANSPORT))
		return 0;
	n = role == PPX_ROLE_SIGNING ? a->n_signing : a->n_transport;
	fps = role == PPX_ROLE_SIGNING ? (const uint8_t (*)[32])a->signing_fp
				       : (const uint8_t (*)[32])a->transport_fp;
	for (size_t i = 0; i < n; i++)
		if (memcmp(fps[i], fp, PPX_FINGERPRINT_LEN) == 0)
			return 1;
	return 0;
}

/* The text of changes being written: cut at cap, counted in full. */
struct changes {
	char *out;
	size_t cap, used;
	size_t count;
};

static void change(struct changes *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void change(struct changes *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	c->count++;
	if (c->cap == 0 || c->used + 1 >= c->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->out + c->used, c->cap - c->used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	c->used += (size_t)n;
	if (c->used + 1 >= c->cap) {
		c->used = c->cap - 1;
		return;
	}
	c->out[c->used++] = '\n';
	c->out[c->used] = '\0';
}

/* The first 8 bytes of a fingerprint in hex, then "...". */
static void fp_short(char out[20], const uint8_t *fp)
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", fp[i]);
	memcpy(out + 16, "...", 4);
}

static int fp_in(const uint8_t (*fps)[PPX_FINGERPRINT_LEN], size_t n,
		 const uint8_t *fp)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(fps[i], fp, PPX_FINGERPRINT_LEN) == 0)
			return 1;
	return 0;
}

/* Certificates of one role added to and removed from an agency. */
static void cert_changes(struct changes *c, const char *name,
			 const char *role,
			 const uint8_t (*old)[PPX_FINGERPRINT_LEN], size_t n_old,
			 const uint8_t (*new)[PPX_FINGERPRINT_LEN], size_t n_new)
{
	char hex[20];

	for (size_t i = 0; i < n_new; i++)
		if (!fp_in(old, n_old, new[i])) {
			fp_short(hex, new[i]);
			change(c, "%s: %s certificate added %s", name, role,
			       hex);
		}
	for (size_t i = 0; i < n_old; i++)
		if (!fp_in(new, n_new, old[i])) {
			fp_short(hex, old[i]);
			change(c, "%s: %s certificate removed %s", name, role,
			       hex);
		}
}

/* The endpoints as one comma-separated list. */
static void endpoints_text(char *out, size_t cap,
			   const struct ppx_dir_agency *a)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < a->n_endpoints && used < cap; i++) {
		int n = snprintf(out + used, cap - used, "%s%s", i ? "," : "",
				 a->endpoints[i]);

		if (n < 0)
			return;
		used += (size_t)n;
	}
}

/*
 * A display name as it is quoted in the changes: a directory may give
 * any UTF-8, so a quote, a ';' or a backslash becomes \xNN as a control
 * or a byte that is not text does (ppx_text_escape).  A name can then
 * neither end its quotes nor pass for further changes once the lines
 * are joined with "; " in the ENTRY_DIRECTORY detail.
 */
static void quote_name(char *out, size_t cap, const char *name)
{
	char plain[PPX_NAME_MAX * 4];
	size_t used = 0;

	for (const char *p = name; *p && used + 5 < sizeof(plain); p++) {
		if (*p == '\'' || *p == ';' || *p == '\\')
			used += (size_t)snprintf(plain + used,
						 sizeof(plain) - used,
						 "\\x%02x", (unsigned char)*p);
		else
			plain[used++] = *p;
	}
	plain[used] = '\0';
	ppx_text_escape(out, cap, plain, used);
}

static void agency_changes(struct changes *c, const struct ppx_dir_agency *o,
			   const struct ppx_dir_agency *n)
{
	char eo[1100], en[1100], qo[PPX_NAME_MAX * 4], qn[PPX_NAME_MAX * 4];

	if (strcmp(o->type, n->type) != 0)
		change(c, "%s: type %s -> %s", n->name, o->type, n->type);
	if (o->status != n->status)
		change(c, "%s: %s -> %s", n->name,
		       ppx_agency_status_name(o->status),
		       ppx_agency_status_name(n->status));
	endpoints_text(eo, sizeof(eo), o);
	endpoints_text(en, sizeof(en), n);
	if (strcmp(eo, en) != 0)
		change(c, "%s: endpoint %s -> %s", n->name, eo, en);
	if (strcmp(o->display_name, n->display_name) != 0) {
		quote_name(qo, sizeof(qo), o->display_name);
		quote_name(qn, sizeof(qn), n->display_name);
		change(c, "%s: display name '%s' -> '%s'", n->name, qo, qn);
	}
	cert_changes(c, n->name, "signing",
		     (const uint8_t (*)[32])o->signing_fp, o->n_signing,
		     (const uint8_t (*)[32])n->signing_fp, n->n_signing);
	cert_changes(c, n->name, "transport",
		     (const uint8_t (*)[32])o->transport_fp, o->n_transport,
		     (const uint8_t (*)[32])n->transport_fp, n->n_transport);
}

size_t ppx_directory_changes(const struct ppx_directory *old,
			     const struct ppx_directory *new, char *out,
			     size_t cap)
{
	struct changes c = {.out = out, .cap = cap, .used = 0, .count = 0};

	if (cap > 0)
		out[0] = '\0';
	if (old && old->serial != new->serial)
		change(&c, "serial %llu -> %llu",
		       (unsigned long long)old->serial,
		       (unsigned long long)new->serial);
	else if (!old)
		change(&c, "serial %llu (first directory)",
		       (unsigned long long)new->serial);
	for (size_t i = 0; i < new->n_agencies; i++) {
		const struct ppx_dir_agency *n = &new->agencies[i];
		const struct ppx_dir_agency *o = ppx_directory_agency(old,
								      n->name);

		if (o)
			agency_changes(&c, o, n);
		else
			change(&c, "added %s (%s, %s, %s)", n->name, n->type,
			       ppx_agency_status_name(n->status),
			       n->endpoints[0]);
	}
	for (size_t i = 0; old && i < old->n_agencies; i++)
		if (!ppx_directory_agency(new, old->agencies[i].name))
			change(&c, "removed %s", old->agencies[i].name);
	if (old && strcmp(old->baseline_policy, new->baseline_policy) != 0)
		change(&c, "baseline policy changed");
	return c.count;
}

int ppx_directory_sign(uint8_t **out, size_t *len, const uint8_t *dir,
		       size_t dir_len, ppx_signer *signer)
{
	Ppx__V1__SignedDirectory sd = PPX__V1__SIGNED_DIRECTORY__INIT;
	uint8_t sig[PPX_SIG_MAX], *tbs = NULL, *cert = NULL, *buf;
	size_t tbs_len = 0, sig_len = 0, cert_len = 0;
	int rc = ppxi_directory_tbs(&tbs, &tbs_len, dir, dir_len);

	*out = NULL;
	*len = 0;
	if (rc == 0)
		rc = ppx_signer_sign(signer, sig, sizeof(sig), &sig_len, tbs,
				     tbs_len);
	free(tbs);
	if (rc == 0)
		rc = ppx_cert_der(&cert, &cert_len, ppx_signer_cert(signer));
	if (rc != 0)
		return rc;
	sd.directory.data = (uint8_t *)dir;
	sd.directory.len = dir_len;
	sd.algorithm = ppx_signer_algorithm(signer);
	sd.signature.data = sig;
	sd.signature.len = sig_len;
	sd.signer_certificate.data = cert;
	sd.signer_certificate.len = cert_len;
	buf = malloc(ppx__v1__signed_directory__get_packed_size(&sd) + 1);
	if (!buf) {
		free(cert);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	*len = ppx__v1__signed_directory__pack(&sd, buf);
	free(cert);
	*out = buf;
	return 0;
}
