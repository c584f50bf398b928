/*
 * directory.c — judging a signed federation directory (PROTOCOL.md 13.1
 * and 13.2).
 *
 * A SignedDirectory reaches a daemon from its file drop, from a partner
 * over a link, or from its own held copy; `ppx directory show` reads one
 * from a file and `ppx verify` finds one in an old log.  All of them come
 * here, to ppx_directory_parse(), which checks the rules of PROTOCOL.md
 * 13.2 in the order given there and stops at the first one broken, naming
 * it.  What it returns is the directory as the rest of ppx uses it: the
 * listed certificates decoded and already judged against the CA (without
 * time: their dates and the CRL are judged when they are used).
 *
 * What changed between two directories, which one supersedes which, and
 * signing one are in lib/directory_changes.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "directory_int.h"
#include "ppx/config.h"
#include "ppx/directory.h"
#include "ppx/error.h"
#include "ppx/text.h"
#include "ppx.pb-c.h"

const char *const ppx_directory_types[] = {
	"police", "probation", "prison",
	"youth-offending", "housing", "health", "children",
	"adult-social-care", "education", "jobcentre", "immigration",
	"council", "other", NULL,
};

/* The first three types are the responsible authorities. */
#define RESPONSIBLE_TYPES 3

/* What a judgement of one directory needs at hand: where the error goes
 * and the trust store. */
struct judge {
	const ppx_trust *trust;
	uint64_t serial;	/* 0 until the Directory is decoded */
	char signer_org[PPX_NAME_MAX];	/* the directory certificate's O:
					 * the federation it signs for */
	const struct ppx_directory *held;	/* or NULL (parse_next) */
};

/* Set PPX_EBADDIR with "directory serial N: " (once known) in front. */
static int refuse(const struct judge *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int refuse(const struct judge *j, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (j->serial)
		return ppx_error_set(PPX_EBADDIR, "directory serial %llu: %s",
				     (unsigned long long)j->serial, why);
	return ppx_error_set(PPX_EBADDIR, "directory: %s", why);
}

const char *ppx_agency_status_name(int status)
{
	switch (status) {
	case PPX_AGENCY_ACTIVE:
		return "active";
	case PPX_AGENCY_SUSPENDED:
		return "suspended";
	case PPX_AGENCY_LEAVING:
		return "leaving";
	}
	return "?";
}

void ppx_directory_free(struct ppx_directory *self)
{
	if (!self)
		return;
	for (size_t i = 0; i < self->n_agencies; i++) {
		struct ppx_dir_agency *a = &self->agencies[i];

		for (size_t k = 0; k < a->n_signing; k++)
			ppx_cert_free(a->signing[k]);
		for (size_t k = 0; k < a->n_transport; k++)
			ppx_cert_free(a->transport[k]);
	}
	free(self->agencies);
	free(self->baseline_policy);
	free(self->bytes);
	free(self);
}

/* Fields the schema does not name, anywhere in the document: a receiver
 * that dropped them silently would sign off on content it never read. */
static int has_unknown_fields(const Ppx__V1__SignedDirectory *sd,
			      const Ppx__V1__Directory *d)
{
	if (sd->base.n_unknown_fields || (d && d->base.n_unknown_fields))
		return 1;
	for (size_t i = 0; d && i < d->n_agencies; i++)
		if (d->agencies[i]->base.n_unknown_fields)
			return 1;
	return 0;
}

/* "ppx/v1/directory" 0x00 directory-bytes, as signed. */
static int directory_tbs(uint8_t **out, size_t *len, const uint8_t *dir,
			 size_t dir_len)
{
	size_t pre = sizeof(PPX_DIRECTORY_TBS_LABEL);	/* with the NUL */
	uint8_t *buf = malloc(pre + dir_len);

	*out = NULL;
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(buf, PPX_DIRECTORY_TBS_LABEL, pre);
	if (dir_len)
		memcpy(buf + pre, dir, dir_len);
	*out = buf;
	*len = pre + dir_len;
	return 0;
}

int ppxi_directory_tbs(uint8_t **out, size_t *len, const uint8_t *dir,
		       size_t dir_len)
{
	return directory_tbs(out, len, dir, dir_len);
}

/* The signer: a directory certificate of the CA, current at `now` (0:
 * chain and role only); the signature over the directory verifies with
 * its key and names its algorithm. */
static int judge_signature(struct judge *j, struct ppx_directory *dir,
			   const Ppx__V1__SignedDirectory *sd, time_t now)
{
	ppx_cert *signer = NULL;
	ppx_identity id;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	int rc = ppx_cert_from_der(&signer, sd->signer_certificate.data,
				   sd->signer_certificate.len);

	if (rc != 0)
		return refuse(j, "signer certificate: %s", ppx_error_last());
	rc = ppx_trust_check(j->trust, signer, now, PPX_ROLE_DIRECTORY, &id);
	if (rc != 0) {
		rc = refuse(j, "signer certificate is not a %sdirectory "
			    "certificate of the federation CA: %s",
			    now ? "current " : "", ppx_error_last());
		goto done;
	}
	ppx_cert_subject(signer, dir->signer, sizeof(dir->signer));
	memcpy(dir->signer_fp, id.fingerprint, PPX_FINGERPRINT_LEN);
	snprintf(j->signer_org, sizeof(j->signer_org), "%s", id.agency);
	if ((int)sd->algorithm != ppx_cert_algorithm(signer)) {
		rc = refuse(j, "signature algorithm %d is not the signer "
			    "certificate's (%d)", (int)sd->algorithm,
			    ppx_cert_algorithm(signer));
		goto done;
	}
	rc = directory_tbs(&tbs, &tbs_len, sd->directory.data,
			   sd->directory.len);
	if (rc == 0 && ppx_cert_verify_signature(signer, sd->signature.data,
						 sd->signature.len, tbs,
						 tbs_len) != 0)
		rc = refuse(j, "signature does not verify with the signer "
			    "certificate %s", dir->signer);
done:
	free(tbs);
	ppx_cert_free(signer);
	return rc;
}

/* `s` as it may be quoted in a message: control characters escaped, cut
 * at 64 bytes (it comes from outside). */
static const char *shown(char out[80], const char *s)
{
	size_t n = strlen(s);

	ppx_text_escape(out, 80, s, n > 64 ? 64 : n);
	return out;
}

/* Printable ASCII, 1 to max-1 bytes. */
static int printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* The Directory's own fields: federation, serial, validity, sizes. */
static int judge_header(struct judge *j, struct ppx_directory *dir,
			const Ppx__V1__Directory *d, time_t now)
{
	int64_t now_ms = (int64_t)now * 1000;
	char fed[80], org[80];

	if (!printable(d->federation, PPX_DIRECTORY_FEDERATION_MAX))
		return refuse(j, "federation name must be 1 to %d printable "
			      "characters", PPX_DIRECTORY_FEDERATION_MAX - 1);
	/* One CA may certify the directory keys of several federations:
	 * a key signs for the federation its certificate names, no other. */
	if (strcmp(d->federation, j->signer_org) != 0)
		return refuse(j, "federation %s is not the one the signer "
			      "certificate signs for (O=%s)",
			      shown(fed, d->federation),
			      shown(org, j->signer_org));
	if (d->serial == 0)
		return refuse(j, "serial must be greater than 0");
	if (d->not_before_ms >= d->not_after_ms)
		return refuse(j, "not_before_ms must be before not_after_ms");
	if (now && now_ms < d->not_before_ms)
		return refuse(j, "not yet valid (valid from %lld ms)",
			      (long long)d->not_before_ms);
	if (now && now_ms >= d->not_after_ms)
		return refuse(j, "expired (valid until %lld ms)",
			      (long long)d->not_after_ms);
	/* A directory that lists nobody would cut every partner off. */
	if (d->n_agencies < 1 || d->n_agencies > PPX_DIRECTORY_MAX_AGENCIES)
		return refuse(j, "%zu agencies: 1 to %d", d->n_agencies,
			      PPX_DIRECTORY_MAX_AGENCIES);
	if (strlen(d->baseline_policy) > PPX_DIRECTORY_BASELINE_MAX)
		return refuse(j, "baseline policy over %u bytes",
			      PPX_DIRECTORY_BASELINE_MAX);
	snprintf(dir->federation, sizeof(dir->federation), "%s", d->federation);
	dir->serial = d->serial;
	dir->issued_ms = d->issued_ms;
	dir->not_before_ms = d->not_before_ms;
	dir->not_after_ms = d->not_after_ms;
	dir->baseline_policy = strdup(d->baseline_policy);
	if (!dir->baseline_policy)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	return 0;
}

static int type_index(const char *type)
{
	for (int i = 0; ppx_directory_types[i]; i++)
		if (strcmp(type, ppx_directory_types[i]) == 0)
			return i;
	return -1;
}

/* The type agrees with the name, from which section 4.1 of PROTOCOL.md
 * takes it: a responsible authority's name starts with its type's label
 * ("prison.cardiff"), a duty-to-co-operate agency's with none of those. */
static int type_fits_name(int t, const char *name)
{
	size_t label = strcspn(name, ".");

	for (int i = 0; i < RESPONSIBLE_TYPES; i++) {
		size_t n = strlen(ppx_directory_types[i]);

		if (label == n && strncmp(name, ppx_directory_types[i], n) == 0)
			return t == i;
	}
	return t >= RESPONSIBLE_TYPES;
}

/* tcp://HOST:PORT: HOST a host name, IPv4 address or [IPv6] address,
 * PORT 1..65535, nothing else. */
static int endpoint_valid(const char *ep)
{
	const char *host, *colon, *p;
	unsigned long port = 0;

	if (strncmp(ep, "tcp://", 6) != 0 || strlen(ep) >= 256)
		return 0;
	host = ep + 6;
	if (*host == '[') {
		colon = strchr(host, ']');
		if (!colon || colon == host + 1 || colon[1] != ':')
			return 0;
		for (p = host + 1; p < colon; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return 0;
		if (!memchr(host + 1, ':', (size_t)(colon - host - 1)))
			return 0;	/* brackets hold IPv6 only */
		colon++;
	} else {
		colon = strrchr(host, ':');
		if (!colon || colon == host)
			return 0;
		for (p = host; p < colon; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
				    *p))
				return 0;
		if (*host == '-' || *host == '.' || colon[-1] == '-')
			return 0;
	}
	p = colon + 1;
	if (*p == '\0' || *p == '0' || strlen(p) > 5)
		return 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535;
}

static const char *role_word(enum ppx_cert_role role)
{
	return role == PPX_ROLE_SIGNING ? "signing" : "transport";
}

/* One listed certificate: DER, chains to the CA with `role` (no time),
 * names the agency as O. */
static int judge_cert(struct judge *j, const char *agency,
		      enum ppx_cert_role role, size_t index,
		      const ProtobufCBinaryData *der, ppx_cert **out,
		      uint8_t fp[PPX_FINGERPRINT_LEN])
{
	ppx_identity id;
	uint8_t der_fp[PPX_FINGERPRINT_LEN];
	int rc = ppx_cert_from_der(out, der->data, der->len);

	if (rc != 0)
		return refuse(j, "agency %s: %s certificate %zu: %s", agency,
			      role_word(role), index, ppx_error_last());
	/* The held directory listed these very bytes for this agency in
	 * this role, judged under the same CA: without time the verdict is
	 * the same, and the chain need not be verified again. */
	SHA256(der->data, der->len, der_fp);
	if (j->held && ppx_directory_lists_cert(j->held, agency, role, der_fp))
		rc = ppx_cert_identity(*out, &id);
	else
		rc = ppx_trust_check(j->trust, *out, 0, role, &id);
	if (rc != 0)
		return refuse(j, "agency %s: %s certificate %zu is not a %s "
			      "certificate of the federation CA: %s", agency,
			      role_word(role), index, role_word(role),
			      ppx_error_last());
	if (strcmp(id.agency, agency) != 0)
		return refuse(j, "agency %s: %s certificate %zu names %s",
			      agency, role_word(role), index, id.agency);
	memcpy(fp, id.fingerprint, PPX_FINGERPRINT_LEN);
	return 0;
}

/* 1 if fingerprint `fp` is already taken by a certificate of the
 * directory judged so far (every agency before `upto`, and `a`). */
static int cert_listed(const struct ppx_directory *dir,
		       const struct ppx_dir_agency *a, const uint8_t *fp)
{
	const struct ppx_dir_agency *b;

	for (size_t i = 0; i <= dir->n_agencies; i++) {
		b = i < dir->n_agencies ? &dir->agencies[i] : a;
		for (size_t k = 0; k < b->n_signing; k++)
			if (memcmp(b->signing_fp[k], fp, PPX_FINGERPRINT_LEN) == 0)
				return 1;
		for (size_t k = 0; k < b->n_transport; k++)
			if (memcmp(b->transport_fp[k], fp,
				   PPX_FINGERPRINT_LEN) == 0)
				return 1;
	}
	return 0;
}

/* The certificates of one role: 1..PPX_DIRECTORY_MAX_CERTS, each judged,
 * none listed twice in the directory. */
static int judge_certs(struct judge *j, struct ppx_directory *dir,
		       struct ppx_dir_agency *a, enum ppx_cert_role role,
		       size_t n, ProtobufCBinaryData *ders)
{
	ppx_cert **certs = role == PPX_ROLE_SIGNING ? a->signing : a->transport;
	uint8_t (*fps)[PPX_FINGERPRINT_LEN] =
		role == PPX_ROLE_SIGNING ? a->signing_fp : a->transport_fp;
	size_t *count = role == PPX_ROLE_SIGNING ? &a->n_signing
						 : &a->n_transport;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	ppx_cert *cert = NULL;
	int rc;

	if (n < 1 || n > PPX_DIRECTORY_MAX_CERTS)
		return refuse(j, "agency %s: %zu %s certificates: 1 to %d",
			      a->name, n, role_word(role),
			      PPX_DIRECTORY_MAX_CERTS);
	for (size_t i = 0; i < n; i++) {
		rc = judge_cert(j, a->name, role, i, &ders[i], &cert, fp);
		if (rc == 0 && cert_listed(dir, a, fp))
			rc = refuse(j, "agency %s: %s certificate %zu is "
				    "listed twice", a->name, role_word(role),
				    i);
		if (rc != 0) {
			ppx_cert_free(cert);
			return rc;
		}
		certs[*count] = cert;
		memcpy(fps[*count], fp, PPX_FINGERPRINT_LEN);
		(*count)++;
		cert = NULL;
	}
	return 0;
}

/* Name, type, display name, endpoints and status of one agency. */
static int judge_agency_fields(struct judge *j, const struct ppx_directory *dir,
			       struct ppx_dir_agency *a,
			       const Ppx__V1__DirectoryAgency *pa, size_t index)
{
	char q[80];
	int t;

	if (!ppx_config_agency_name_valid(pa->name) ||
	    strlen(pa->name) >= sizeof(a->name))
		return refuse(j, "agency %zu: '%s' is not an agency name "
			      "(e.g. police.gwent)", index, shown(q, pa->name));
	snprintf(a->name, sizeof(a->name), "%s", pa->name);
	if (ppx_directory_agency(dir, a->name))
		return refuse(j, "agency %s is listed twice", a->name);
	t = type_index(pa->type);
	if (t < 0)
		return refuse(j, "agency %s: unknown type '%s'", a->name,
			      shown(q, pa->type));
	snprintf(a->type, sizeof(a->type), "%s", pa->type);
	a->duty_to_cooperate = t >= RESPONSIBLE_TYPES;
	if (!type_fits_name(t, a->name))
		return refuse(j, "agency %s: type %s does not fit its name "
			      "(police, probation and prison agencies are "
			      "named by their type, others are not)",
			      a->name, a->type);
	if (strlen(pa->display_name) >= sizeof(a->display_name))
		return refuse(j, "agency %s: display name over %d bytes",
			      a->name, PPX_NAME_MAX - 1);
	snprintf(a->display_name, sizeof(a->display_name), "%s",
		 pa->display_name);
	if (pa->n_endpoints < 1 || pa->n_endpoints > PPX_DIRECTORY_MAX_ENDPOINTS)
		return refuse(j, "agency %s: %zu endpoints: 1 to %d", a->name,
			      pa->n_endpoints, PPX_DIRECTORY_MAX_ENDPOINTS);
	for (size_t i = 0; i < pa->n_endpoints; i++) {
		if (!endpoint_valid(pa->endpoints[i]))
			return refuse(j, "agency %s: endpoint %zu '%s' is "
				      "not tcp://HOST:PORT", a->name, i,
				      shown(q, pa->endpoints[i]));
		snprintf(a->endpoints[i], sizeof(a->endpoints[i]), "%s",
			 pa->endpoints[i]);
	}
	a->n_endpoints = pa->n_endpoints;
	if ((int)pa->status < PPX_AGENCY_ACTIVE ||
	    (int)pa->status > PPX_AGENCY_LEAVING)
		return refuse(j, "agency %s: status %d is not active, "
			      "suspended or leaving", a->name, (int)pa->status);
	a->status = (int)pa->status;
	return 0;
}

/* Every agency, in order; each one judged is counted in dir->n_agencies
 * so that ppx_directory_free() frees its certificates. */
static int judge_agencies(struct judge *j, struct ppx_directory *dir,
			  const Ppx__V1__Directory *d)
{
	int rc;

	dir->agencies = calloc(d->n_agencies ? d->n_agencies : 1,
			       sizeof(*dir->agencies));
	if (!dir->agencies)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->n_agencies; i++) {
		const Ppx__V1__DirectoryAgency *pa = d->agencies[i];
		struct ppx_dir_agency *a = &dir->agencies[i];

		rc = judge_agency_fields(j, dir, a, pa, i);
		if (rc == 0)
			rc = judge_certs(j, dir, a, PPX_ROLE_SIGNING,
					 pa->n_signing_certificates,
					 pa->signing_certificates);
		if (rc == 0)
			rc = judge_certs(j, dir, a, PPX_ROLE_TRANSPORT,
					 pa->n_transport_certificates,
					 pa->transport_certificates);
		dir->n_agencies++;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Decode the Directory inside and judge its content. */
static int judge_directory(struct judge *j, struct ppx_directory *dir,
			   const Ppx__V1__SignedDirectory *sd, time_t now)
{
	Ppx__V1__Directory *d;
	int rc;

	if (ppx_text_check(&ppx__v1__directory__descriptor, sd->directory.data,
			   sd->directory.len, NULL) != 0)
		return refuse(j, "%s", ppx_error_last());
	d = ppx__v1__directory__unpack(NULL, sd->directory.len,
				       sd->directory.data);
	if (!d)
		return refuse(j, "directory bytes do not decode as a Directory");
	if (has_unknown_fields(sd, d)) {
		ppx__v1__directory__free_unpacked(d, NULL);
		return refuse(j, "carries fields the schema does not name");
	}
	j->serial = d->serial;
	rc = judge_header(j, dir, d, now);
	/* Not newer than the one held: said before the agencies are judged,
	 * so that replaying old directories costs one signature check. */
	if (rc == 0 && j->held && d->serial <= j->held->serial &&
	    strcmp(d->federation, j->held->federation) == 0)
		rc = ppx_error_set(PPX_ESTALE, "directory serial %llu is not "
				   "newer than serial %llu held",
				   (unsigned long long)d->serial,
				   (unsigned long long)j->held->serial);
	if (rc == 0)
		rc = judge_agencies(j, dir, d);
	ppx__v1__directory__free_unpacked(d, NULL);
	return rc;
}

/* Keep the bytes as given, and their SHA-256. */
static int keep_bytes(struct ppx_directory *dir, const uint8_t *bytes,
		      size_t len)
{
	dir->bytes = malloc(len);
	if (!dir->bytes)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(dir->bytes, bytes, len);
	dir->len = len;
	SHA256(bytes, len, dir->sha256);
	return 0;
}

int ppx_directory_parse(struct ppx_directory **out, const uint8_t *bytes,
			size_t len, const ppx_trust *trust, time_t now)
{
	return ppx_directory_parse_next(out, bytes, len, trust, now, NULL);
}

int ppx_directory_parse_next(struct ppx_directory **out, const uint8_t *bytes,
			     size_t len, const ppx_trust *trust, time_t now,
			     const struct ppx_directory *held)
{
	struct judge j = {.trust = trust, .serial = 0, .held = held};
	struct ppx_directory *dir;
	Ppx__V1__SignedDirectory *sd;
	int rc;

	*out = NULL;
	if (len == 0 || len > PPX_DIRECTORY_MAX_BYTES)
		return refuse(&j, "%zu bytes: expected 1 to %u", len,
			      PPX_DIRECTORY_MAX_BYTES);
	sd = ppx__v1__signed_directory__unpack(NULL, len, bytes);
	if (!sd)
		return refuse(&j, "does not decode as a SignedDirectory");
	dir = calloc(1, sizeof(*dir));
	if (!dir) {
		ppx__v1__signed_directory__free_unpacked(sd, NULL);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	if (has_unknown_fields(sd, NULL))
		rc = refuse(&j, "carries fields the schema does not name");
	else
		rc = judge_signature(&j, dir, sd, now);
	if (rc == 0)
		rc = judge_directory(&j, dir, sd, now);
	if (rc == 0)
		rc = keep_bytes(dir, bytes, len);
	ppx__v1__signed_directory__free_unpacked(sd, NULL);
	if (rc != 0) {
		ppx_directory_free(dir);
		return rc;
	}
	*out = dir;
	return 0;
}
