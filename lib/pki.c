/*
 * pki.c — the federation trust anchor, certificate checks, and the two kinds
 * of private key an agency holds.
 *
 * Every signature a daemon accepts and every CURVE key it lets connect is
 * judged here: the certificate must chain to the federation CA, be within
 * its validity period, not be on the current CRL, and carry the role it is
 * used for (signing, transport, person).  OpenSSL's verifier does the X.509
 * work; a verify callback collects every error it meets so that the code we
 * return follows our fixed order (untrusted, expired, not yet valid, revoked,
 * CRL unavailable) rather than OpenSSL's internal one.
 *
 * Private keys are read only by ppx_signer_load() and
 * ppx_transport_key_load(): the file must be a regular file of mode 0600 (or
 * stricter), its bytes are read into a buffer that is wiped after parsing,
 * and EVP_PKEY_free() wipes the key itself.  Ed25519 and X25519 keys are
 * decoded here rather than by OpenSSL's PEM decoder, which leaves copies
 * of the key in the memory it frees (see raw_key_type()).
 *
 * The CRL is read, taken and handed out by lib/pki_crl.c; the trust
 * store's struct is in lib/pki_int.h for it.
 *
 * Certificates go in and out as ppx_cert (lib/pki_cert.c), so that the
 * public header names no OpenSSL type; the X509 inside is reached here
 * through ppxi_cert_x509().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ppx/error.h"
#include "ppx.pb-c.h"
#include "pki_int.h"

#define KEY_FILE_MAX (64 * 1024)
/* Known certificates: the certificates directory plus, with a federation
 * directory, up to 4 signing and 4 transport certificates of each of its
 * 4,096 agencies (include/ppx/directory.h). */
#define KNOWN_MAX (4096 + 4096 * 8)


struct ppx_signer {
	EVP_PKEY *key;			/* in-process key, or NULL */
	const struct ppx_signer_backend *backend;	/* or NULL: `key` */
	void *backend_ctx;
	ppx_cert *cert;
	int algorithm;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	char agency[PPX_NAME_MAX];
};

void ppx_wipe(void *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
}

/* Read a whole file of at most `max` bytes into a NUL-terminated buffer. */
static int read_file(char **out, size_t *len, const char *path, int fd,
		     size_t max)
{
	char *buf = malloc(max + 1);
	size_t n = 0;

	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "cannot read %s: out of memory",
				     path);
	for (;;) {
		ssize_t r = read(fd, buf + n, max - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			ppx_wipe(buf, max + 1);
			free(buf);
			return ppx_error_set(PPX_EIO, "cannot read %s: %s", path,
					     strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == max) {
			ppx_wipe(buf, max + 1);
			free(buf);
			return ppx_error_set(PPX_EINVAL,
					     "cannot read %s: larger than %zu bytes",
					     path, max);
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/*
 * Read the private key file at `path`, refusing files that others could
 * read or write.  The caller wipes and frees *out.
 */
static int read_key_file(char **out, size_t *len, const char *path)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ppx_error_set(errno == ENOENT ? PPX_ENOTFOUND : PPX_EIO,
				     "cannot open key %s: %s", path,
				     strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ppx_error_set(PPX_EPERM,
				     "cannot use key %s: not a regular file",
				     path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return ppx_error_set(PPX_EPERM,
				     "cannot use key %s: mode %04o, must be 0600",
				     path, (unsigned)(st.st_mode & 07777));
	}
	rc = read_file(out, len, path, fd, KEY_FILE_MAX);
	close(fd);
	return rc;
}

/* PEM armour of a PKCS#8 key (split so that no scan for committed keys
 * mistakes this file for one). */
#define PEM_KEY_BEGIN "-----BEGIN " "PRIVATE KEY-----"
#define PEM_KEY_END "-----END " "PRIVATE KEY-----"
#define PKCS8_RAW_LEN 48	/* the DER of an Ed25519 or X25519 PKCS#8 key */
#define PKCS8_OID_AT 11		/* the last byte of its algorithm OID */

/* 1.3.101.112 (Ed25519) or 1.3.101.110 (X25519), then OCTET STRING of an
 * OCTET STRING of 32 bytes; byte PKCS8_OID_AT tells which. */
static const uint8_t pkcs8_raw_prefix[16] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
	0x03, 0x2b, 0x65, 0x00, 0x04, 0x22, 0x04, 0x20,
};

/*
 * OpenSSL 3.0's decoders free the copies of a key they pass it through
 * without wiping them (the PEM body, the DER, the ASN.1 octet string, the
 * parameters of an export); tests/unit/test_keywipe.c finds them.  An
 * Ed25519 or X25519 key in PKCS#8 PEM, the only form OpenSSL writes for
 * them, is one fixed 48-byte structure, so it is decoded here in buffers
 * that are wiped and handed to OpenSSL as the raw key.
 *
 * Returns EVP_PKEY_ED25519 or EVP_PKEY_X25519 with the key in `raw`, or 0
 * if `pem` holds a key in another form (raw is then untouched).
 */
static int raw_key_type(uint8_t raw[32], const char *pem, size_t len)
{
	char b64[4 * PKCS8_RAW_LEN / 3];
	uint8_t der[PKCS8_RAW_LEN];
	const char *p = memmem(pem, len, PEM_KEY_BEGIN, strlen(PEM_KEY_BEGIN));
	const char *end;
	size_t n = 0;
	int type = 0;

	if (!p)
		return 0;
	p += strlen(PEM_KEY_BEGIN);
	end = memmem(p, len - (size_t)(p - pem), PEM_KEY_END,
		     strlen(PEM_KEY_END));
	for (; end && p < end && n <= sizeof(b64); p++)
		if (!strchr(" \t\r\n", *p)) {
			if (n < sizeof(b64))
				b64[n] = *p;
			n++;
		}
	if (end && n == sizeof(b64) &&
	    EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n) ==
		    PKCS8_RAW_LEN &&
	    memcmp(der, pkcs8_raw_prefix, PKCS8_OID_AT) == 0 &&
	    memcmp(der + PKCS8_OID_AT + 1, pkcs8_raw_prefix + PKCS8_OID_AT + 1,
		   sizeof(pkcs8_raw_prefix) - PKCS8_OID_AT - 1) == 0) {
		type = der[PKCS8_OID_AT] == 0x70   ? EVP_PKEY_ED25519
		       : der[PKCS8_OID_AT] == 0x6e ? EVP_PKEY_X25519
						   : 0;
		if (type)
			memcpy(raw, der + sizeof(pkcs8_raw_prefix), 32);
	}
	ppx_wipe(b64, sizeof(b64));
	ppx_wipe(der, sizeof(der));
	return type;
}

/*
 * Load a PEM private key from `path` (see read_key_file()).  The file's
 * bytes are wiped once parsed.
 */
static int load_private_key(EVP_PKEY **out, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	uint8_t raw[32];
	EVP_PKEY *key = NULL;
	int type, rc = read_key_file(&buf, &len, path);

	if (rc != 0)
		return rc;
	type = raw_key_type(raw, buf, len);
	if (type != 0) {
		key = EVP_PKEY_new_raw_private_key(type, NULL, raw, sizeof(raw));
		ppx_wipe(raw, sizeof(raw));
	} else {
		/* ECDSA P-256: OpenSSL's decoder, copies and all */
		BIO *bio = BIO_new_mem_buf(buf, (int)len);

		key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			  : NULL;
		BIO_free(bio);
	}
	ppx_wipe(buf, len);
	free(buf);
	if (!key)
		return ppx_error_set(PPX_EINVAL,
				     "cannot use key %s: not a PEM private key",
				     path);
	*out = key;
	return 0;
}

int ppx_trust_load(ppx_trust **out, const char *ca_file, const char *crl_file,
		   const char *certs_dir)
{
	ppx_trust *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	t->store = X509_STORE_new();
	if (!t->store) {
		ppx_trust_free(t);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	rc = ppx_cert_load(&t->ca, ca_file);
	if (rc == 0 && X509_check_ca(ppxi_cert_x509(t->ca)) == 0)
		rc = ppx_error_set(PPX_EINVAL, "%s is not a CA certificate",
				   ca_file);
	if (rc == 0 &&
	    X509_STORE_add_cert(t->store, ppxi_cert_x509(t->ca)) != 1)
		rc = ppx_error_set(PPX_ECRYPTO, "cannot use CA %s", ca_file);
	if (rc == 0)
		rc = ppx_trust_reload_crl(t, crl_file);
	if (rc == 0 && certs_dir)
		rc = ppx_trust_add_dir(t, certs_dir);
	if (rc != 0) {
		ppx_trust_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void ppx_trust_free(ppx_trust *self)
{
	if (!self)
		return;
	for (size_t i = 0; i < self->n_known; i++)
		ppx_cert_free(self->known[i].cert);
	free(self->known);
	X509_CRL_free(self->crl);
	ppx_cert_free(self->ca);
	X509_STORE_free(self->store);
	free(self);
}

const ppx_cert *ppx_trust_ca(const ppx_trust *self)
{
	return self->ca;
}


/* Add `cert` (owned, freed when not kept) as a known certificate; `name`
 * says which, for messages. */
static int add_known(ppx_trust *self, ppx_cert *cert, const char *name)
{
	struct known_cert *grown;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	int rc = ppx_cert_fingerprint(cert, fp);

	if (rc != 0 || ppx_trust_find(self, fp)) {
		ppx_cert_free(cert);	/* the same certificate twice */
		return rc;
	}
	if (self->n_known >= KNOWN_MAX) {
		ppx_cert_free(cert);
		return ppx_error_set(PPX_ERANGE,
				     "cannot add %s: more than %d certificates",
				     name, KNOWN_MAX);
	}
	grown = realloc(self->known, (self->n_known + 1) * sizeof(*grown));
	if (!grown) {
		ppx_cert_free(cert);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	self->known = grown;
	memset(&grown[self->n_known], 0, sizeof(*grown));
	memcpy(grown[self->n_known].fp, fp, sizeof(fp));
	grown[self->n_known].cert = cert;
	/* Read now, so that a handshake compares keys, not certificates. */
	grown[self->n_known].has_x25519 =
		ppx_cert_x25519_public(cert, grown[self->n_known].x25519) == 0;
	if (!grown[self->n_known].has_x25519)
		ppx_error_clear();
	self->n_known++;
	return 0;
}

int ppx_trust_add_cert_file(ppx_trust *self, const char *path)
{
	ppx_cert *cert = NULL;
	int rc = ppx_cert_load(&cert, path);

	if (rc != 0)
		return rc;
	return add_known(self, cert, path);
}

int ppx_trust_add_cert(ppx_trust *self, const ppx_cert *cert)
{
	X509 *x = ppxi_cert_x509(cert);
	ppx_cert *copy = NULL;
	int rc;

	if (X509_up_ref(x) != 1)
		return ppx_error_set(PPX_ECRYPTO, "cannot copy a certificate");
	rc = ppxi_cert_adopt(&copy, x);
	if (rc != 0)
		return rc;
	return add_known(self, copy, "a certificate");
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Add every *.pem and *.crt file in `dir` as a known certificate. */
int ppx_trust_add_dir(ppx_trust *self, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int rc = 0;

	if (!d)
		return ppx_error_set(PPX_ENOTFOUND,
				     "cannot open certificate directory %s: %s",
				     dir, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".pem") &&
		    !has_suffix(de->d_name, ".crt"))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     de->d_name) >= sizeof(path)) {
			rc = ppx_error_set(PPX_EINVAL, "path too long in %s",
					   dir);
			break;
		}
		rc = ppx_trust_add_cert_file(self, path);
	}
	closedir(d);
	return rc;
}

const ppx_cert *ppx_trust_find(const ppx_trust *self,
			       const uint8_t fingerprint[PPX_FINGERPRINT_LEN])
{
	for (size_t i = 0; i < self->n_known; i++)
		if (CRYPTO_memcmp(self->known[i].fp, fingerprint,
				  PPX_FINGERPRINT_LEN) == 0)
			return self->known[i].cert;
	return NULL;
}

const ppx_cert *ppx_trust_find_transport(const ppx_trust *self,
					 const uint8_t key[32])
{
	size_t at = 0;

	return ppx_trust_find_transport_next(self, key, &at);
}

const ppx_cert *ppx_trust_find_transport_next(const ppx_trust *self,
					      const uint8_t key[32],
					      size_t *at)
{
	for (size_t i = *at; i < self->n_known; i++)
		if (self->known[i].has_x25519 &&
		    CRYPTO_memcmp(self->known[i].x25519, key, 32) == 0) {
			*at = i + 1;
			return self->known[i].cert;
		}
	*at = self->n_known;
	return NULL;
}

/* Errors seen by the verify callback, one bit per class. */
enum seen {
	SEEN_UNTRUSTED = 1 << 0,
	SEEN_EXPIRED = 1 << 1,
	SEEN_NOTYET = 1 << 2,
	SEEN_REVOKED = 1 << 3,
	SEEN_CRL = 1 << 4,
};

static int seen_index = -1;
static pthread_once_t seen_once = PTHREAD_ONCE_INIT;

/* Once for the process: ppx verify runs verify_chain() on many threads. */
static void seen_init(void)
{
	seen_index = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL,
						     NULL);
}

static unsigned classify(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return SEEN_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return SEEN_NOTYET;
	case X509_V_ERR_CERT_REVOKED:
		return SEEN_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
		return SEEN_CRL;
	default:
		return SEEN_UNTRUSTED;
	}
}

/*
 * Record every error and let verification go on, so that all of them are
 * known at the end.  The caller refuses the certificate if any was seen;
 * carrying on is therefore never an acceptance.
 */
static int collect_cb(int ok, X509_STORE_CTX *ctx)
{
	if (!ok) {
		unsigned *seen = X509_STORE_CTX_get_ex_data(ctx, seen_index);

		if (!seen)	/* nowhere to record it: refuse outright */
			return 0;
		*seen |= classify(X509_STORE_CTX_get_error(ctx));
	}
	return 1;
}

static int verify_chain(const ppx_trust *self, X509 *cert, time_t now,
			unsigned *seen)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	int rc = 0;

	pthread_once(&seen_once, seen_init);
	if (!ctx || !crls || seen_index < 0 ||
	    X509_STORE_CTX_init(ctx, self->store, cert, NULL) != 1 ||
	    (self->crl && sk_X509_CRL_push(crls, self->crl) <= 0)) {
		rc = ppx_error_set(PPX_ENOMEM, "cannot set up verification");
		goto out;
	}
	if (now == 0) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	} else {
		X509_STORE_CTX_set0_crls(ctx, crls);
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK);
		X509_STORE_CTX_set_time(ctx, 0, now);
	}
	X509_STORE_CTX_set_ex_data(ctx, seen_index, seen);
	X509_STORE_CTX_set_verify_cb(ctx, collect_cb);
	if (X509_verify_cert(ctx) != 1)
		*seen |= SEEN_UNTRUSTED;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_CRL_free(crls);
	return rc;
}

/* Copy the single value of attribute `nid` of `name` into `out`. */
static int name_field(char *out, size_t cap, X509_NAME *name, int nid)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	int len;

	if (idx < 0 || X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
		return PPX_EINVAL;	/* missing, or more than one */
	len = ASN1_STRING_to_UTF8(&utf8,
				  X509_NAME_ENTRY_get_data(
					  X509_NAME_get_entry(name, idx)));
	if (len <= 0 || (size_t)len >= cap ||
	    memchr(utf8, '\0', (size_t)len)) {
		OPENSSL_free(utf8);
		return PPX_EINVAL;
	}
	memcpy(out, utf8, (size_t)len);
	out[len] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

int ppx_cert_identity(const ppx_cert *cert, ppx_identity *out)
{
	X509_NAME *subject = X509_get_subject_name(ppxi_cert_x509(cert));

	memset(out, 0, sizeof(*out));
	if (name_field(out->agency, sizeof(out->agency), subject,
		       NID_organizationName) != 0 ||
	    name_field(out->name, sizeof(out->name), subject,
		       NID_commonName) != 0)
		return ppx_error_set(PPX_EINVAL, "certificate lacks a single O "
				     "and CN");
	return ppx_cert_fingerprint(cert, out->fingerprint);
}

static const char *role_name(enum ppx_cert_role role)
{
	switch (role) {
	case PPX_ROLE_SIGNING:
		return "signing";
	case PPX_ROLE_TRANSPORT:
		return "transport";
	case PPX_ROLE_PERSON:
		return "person";
	case PPX_ROLE_DIRECTORY:
		return "directory";
	}
	return "?";
}

/* The names and key usage must fit the role the certificate is used for. */
static int check_role(X509 *cert, enum ppx_cert_role role, ppx_identity *id)
{
	X509_NAME *subject = X509_get_subject_name(cert);
	char ou[32];
	uint32_t ku = X509_get_key_usage(cert);
	uint32_t need = role == PPX_ROLE_TRANSPORT ? KU_KEY_AGREEMENT
						   : KU_DIGITAL_SIGNATURE;

	if (name_field(id->agency, sizeof(id->agency), subject,
		       NID_organizationName) != 0 ||
	    name_field(id->name, sizeof(id->name), subject,
		       NID_commonName) != 0 ||
	    name_field(ou, sizeof(ou), subject,
		       NID_organizationalUnitName) != 0)
		return ppx_error_set(PPX_EUNTRUSTED,
				     "certificate lacks a single O, OU and CN");
	if (strcmp(ou, role_name(role)) != 0)
		return ppx_error_set(PPX_EUNTRUSTED,
				     "certificate of %s is a %s certificate, "
				     "not a %s certificate",
				     id->agency, ou, role_name(role));
	/* Without the extension X509_get_key_usage() allows every use, so
	 * its absence is refused rather than read as "any". */
	if (!(X509_get_extension_flags(cert) & EXFLAG_KUSAGE))
		return ppx_error_set(PPX_EUNTRUSTED,
				     "certificate of %s has no keyUsage "
				     "extension: every ppx %s certificate must "
				     "carry one (%s)",
				     id->agency, role_name(role),
				     role == PPX_ROLE_TRANSPORT
					     ? "keyAgreement"
					     : "digitalSignature");
	/* X509_check_ca() says 0 for basicConstraints CA:TRUE without
	 * keyCertSign: a certificate that claims to be a CA is no role's. */
	if (X509_check_ca(cert) != 0 ||
	    (X509_get_extension_flags(cert) & EXFLAG_CA) || !(ku & need))
		return ppx_error_set(PPX_EUNTRUSTED,
				     "certificate of %s lacks %s key usage",
				     id->agency, role_name(role));
	id->role = role;
	return 0;
}

int ppxi_cert_check_role(X509 *cert, enum ppx_cert_role role,
			 ppx_identity *id)
{
	return check_role(cert, role, id);
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static struct known_cert *known_entry(const ppx_trust *self,
				      const ppx_cert *cert)
{
	for (size_t i = 0; i < self->n_known; i++)
		if (self->known[i].cert == cert)
			return &self->known[i];
	return NULL;
}

time_t ppx_trust_crl_next_update(const ppx_trust *self)
{
	return self->crl ? asn1_time(X509_CRL_get0_nextUpdate(self->crl)) : 0;
}

/* Remember a successful check of a known certificate at `now` (or, with
 * now == 0, of its history, which holds for as long as the CA does). */
static void cache_verdict(const ppx_trust *self, const ppx_cert *cert,
			  time_t now, const ppx_identity *id)
{
	struct known_cert *k = known_entry(self, cert);
	time_t until = asn1_time(X509_get0_notAfter(ppxi_cert_x509(cert)));
	time_t next;

	if (k && now == 0) {
		k->history = *id;
		k->has_history = 1;
		return;
	}
	next = ppx_trust_crl_next_update(self);
	if (!k || until == 0 || next == 0)
		return;
	k->verdict = *id;
	k->verdict_crl = self->crl_generation;
	k->valid_from = asn1_time(X509_get0_notBefore(ppxi_cert_x509(cert)));
	k->valid_until = until < next ? until : next;
}

static int cached_verdict(const ppx_trust *self, const ppx_cert *cert,
			  time_t now, enum ppx_cert_role role,
			  ppx_identity *out)
{
	const struct known_cert *k = known_entry(self, cert);

	if (k && now == 0 && k->has_history && k->history.role == role) {
		*out = k->history;
		return 1;
	}
	if (!k || now == 0 || k->verdict_crl != self->crl_generation ||
	    k->verdict.role != role || now < k->valid_from ||
	    now >= k->valid_until)
		return 0;
	*out = k->verdict;
	return 1;
}

int ppx_trust_check(const ppx_trust *self, const ppx_cert *cert, time_t now,
		    enum ppx_cert_role role, ppx_identity *out)
{
	unsigned seen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (cached_verdict(self, cert, now, role, out))
		return 0;
	rc = verify_chain(self, ppxi_cert_x509(cert), now, &seen);
	if (rc != 0)
		return rc;
	if (!self->crl && now != 0)
		seen |= SEEN_CRL;
	if (seen & SEEN_UNTRUSTED)
		return ppx_error_set(PPX_EUNTRUSTED,
				     "certificate does not chain to the "
				     "federation CA");
	if (seen & SEEN_EXPIRED)
		return ppx_error_set(PPX_EEXPIRED, "certificate has expired");
	if (seen & SEEN_NOTYET)
		return ppx_error_set(PPX_ENOTYETVALID,
				     "certificate is not yet valid");
	if (seen & SEEN_REVOKED)
		return ppx_error_set(PPX_EREVOKED, "certificate is revoked");
	if (seen & SEEN_CRL)
		return ppx_error_set(PPX_ECRL,
				     "no current CRL: publish a new one with "
				     "ppx-pki crl and reload");
	rc = check_role(ppxi_cert_x509(cert), role, out);
	if (rc == 0)
		rc = ppx_cert_fingerprint(cert, out->fingerprint);
	if (rc == 0)
		cache_verdict(self, cert, now, out);
	return rc;
}

static int key_algorithm(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return PPX__V1__SIGNATURE_ALGORITHM__SIG_ED25519;
	case EVP_PKEY_EC:
		return EVP_PKEY_get_bits(key) == 256
			       ? PPX__V1__SIGNATURE_ALGORITHM__SIG_ECDSA_P256_SHA256
			       : 0;
	default:
		return 0;
	}
}

int ppx_cert_algorithm(const ppx_cert *cert)
{
	EVP_PKEY *key = X509_get0_pubkey(ppxi_cert_x509(cert));

	return key ? key_algorithm(key) : 0;
}

/* The certificate's agency, fingerprint and algorithm into s. */
static int signer_cert(ppx_signer *s, const char *cert_file)
{
	X509_NAME *subject;
	int rc = ppx_cert_load(&s->cert, cert_file);

	if (rc == 0 && (s->algorithm = ppx_cert_algorithm(s->cert)) == 0)
		rc = ppx_error_set(PPX_EINVAL, "certificate %s holds neither "
				   "an Ed25519 nor an ECDSA P-256 key",
				   cert_file);
	if (rc == 0)
		rc = ppx_cert_fingerprint(s->cert, s->fp);
	subject = rc == 0 ? X509_get_subject_name(ppxi_cert_x509(s->cert))
			  : NULL;
	if (rc == 0 && name_field(s->agency, sizeof(s->agency), subject,
				  NID_organizationName) != 0)
		rc = ppx_error_set(PPX_EINVAL,
				   "certificate %s names no single agency (O)",
				   cert_file);
	return rc;
}

int ppx_signer_load(ppx_signer **out, const char *key_file,
		    const char *cert_file)
{
	ppx_signer *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	rc = load_private_key(&s->key, key_file);
	if (rc == 0)
		rc = signer_cert(s, cert_file);
	if (rc == 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(ppxi_cert_x509(s->cert)), s->key) != 1)
		rc = ppx_error_set(PPX_EINVAL,
				   "key %s does not match certificate %s",
				   key_file, cert_file);
	if (rc != 0) {
		ppx_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int ppx_signer_with_backend(ppx_signer **out,
			    const struct ppx_signer_backend *backend,
			    void *ctx, const char *cert_file)
{
	ppx_signer *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s) {
		backend->free(ctx);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	s->backend = backend;
	s->backend_ctx = ctx;
	rc = signer_cert(s, cert_file);
	if (rc != 0) {
		ppx_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void ppx_signer_free(ppx_signer *self)
{
	if (!self)
		return;
	if (self->backend)
		self->backend->free(self->backend_ctx);
	EVP_PKEY_free(self->key);	/* OpenSSL wipes the private key */
	ppx_cert_free(self->cert);
	ppx_wipe(self, sizeof(*self));
	free(self);
}

const uint8_t *ppx_signer_fingerprint(const ppx_signer *self)
{
	return self->fp;
}

const char *ppx_signer_agency(const ppx_signer *self)
{
	return self->agency;
}

const ppx_cert *ppx_signer_cert(const ppx_signer *self)
{
	return self->cert;
}

int ppx_signer_algorithm(const ppx_signer *self)
{
	return self->algorithm;
}

/* Ed25519 signs the message itself; ECDSA P-256 signs its SHA-256. */
static const EVP_MD *digest_for(EVP_PKEY *key)
{
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL
							     : EVP_sha256();
}

int ppx_signer_sign(ppx_signer *self, uint8_t *sig, size_t cap,
		    size_t *siglen, const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *ctx;
	size_t n = cap;
	int ok;

	if (self->backend)
		return self->backend->sign(self->backend_ctx, sig, cap, siglen,
					   msg, len);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ok = EVP_DigestSignInit(ctx, NULL, digest_for(self->key), NULL,
				self->key) == 1 &&
	     EVP_DigestSign(ctx, sig, &n, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ppx_error_set(PPX_ECRYPTO, "signing failed");
	*siglen = n;
	return 0;
}

int ppx_signer_sign_many(ppx_signer *self, size_t n,
			 uint8_t (*sig)[PPX_SIG_MAX], size_t *siglen,
			 const uint8_t *const *msg, const size_t *len)
{
	int rc = 0;

	if (self->backend && self->backend->sign_many)
		return self->backend->sign_many(self->backend_ctx, n, sig,
						siglen, msg, len);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ppx_signer_sign(self, sig[i], PPX_SIG_MAX, &siglen[i],
				     msg[i], len[i]);
	return rc;
}

int ppx_cert_verify_signature(const ppx_cert *cert, const uint8_t *sig,
			      size_t siglen, const uint8_t *msg, size_t len)
{
	EVP_PKEY *key = X509_get0_pubkey(ppxi_cert_x509(cert));
	EVP_MD_CTX *ctx;
	int ok;

	if (!key || key_algorithm(key) == 0)
		return ppx_error_set(PPX_EBADSIG,
				     "signer certificate has no signing key");
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ok = EVP_DigestVerifyInit(ctx, NULL, digest_for(key), NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ppx_error_set(PPX_EBADSIG, "signature does not verify");
	return 0;
}

/* The key is taken from the file by raw_key_type(), never exported from
 * OpenSSL, whose export leaves a copy in freed memory. */
int ppx_transport_key_load(uint8_t secret[32], uint8_t public_key[32],
			   const char *key_file)
{
	EVP_PKEY *key = NULL;
	char *buf = NULL;
	size_t len = 0, plen = 32;
	int rc = read_key_file(&buf, &len, key_file);

	if (rc != 0)
		return rc;
	if (raw_key_type(secret, buf, len) == EVP_PKEY_X25519)
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
						   secret, 32);
	ppx_wipe(buf, len);
	free(buf);
	if (!key || EVP_PKEY_get_raw_public_key(key, public_key, &plen) != 1 ||
	    plen != 32)
		rc = ppx_error_set(PPX_EINVAL,
				   "key %s is not an X25519 key in PKCS#8 PEM",
				   key_file);
	EVP_PKEY_free(key);
	if (rc != 0)
		ppx_wipe(secret, 32);
	return rc;
}

const ppx_cert *ppx_trust_find_agency(const ppx_trust *self,
				      const char *agency,
				      enum ppx_cert_role role, time_t now)
{
	ppx_identity id;

	for (size_t i = 0; i < self->n_known; i++)
		if (ppx_trust_check(self, self->known[i].cert, now, role,
				    &id) == 0 &&
		    strcmp(id.agency, agency) == 0)
			return self->known[i].cert;
	ppx_error_set(PPX_ENOTFOUND,
		      "no valid %s certificate of %s among the known "
		      "certificates",
		      role_name(role), agency);
	return NULL;
}
