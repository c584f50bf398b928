/*
 * note.c — the C2SP text forms of ppx checkpoints and cosignatures
 * (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature): the note text
 * a log signs, the message a witness signs, their signature lines and key
 * ids, and the strict check the signer process makes before it signs one
 * of them (daemon/signer.c).
 *
 * The parser accepts exactly the form the writer makes: one way to spell
 * each checkpoint, so that a text the signer is handed either is a
 * checkpoint note or is refused.  docs/PROTOCOL.md 11.1 gives every byte.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/note.h"
#include "pki_int.h"

#define ROOT_B64_LEN 44		/* base64 of 32 bytes, padded */
#define EM_DASH "\xe2\x80\x94"

/* An origin's agency part: printable ASCII but space and '+'. */
static int agency_ok(const char *a, size_t n)
{
	if (n == 0 || n >= PPX_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] <= 0x20 || (unsigned char)a[i] >= 0x7f ||
		    a[i] == '+')
			return 0;
	return 1;
}

int ppx_note_checkpoint_text(char *out, size_t cap, size_t *len,
			     const char *agency, uint64_t tree_size,
			     const uint8_t root[32])
{
	unsigned char b64[ROOT_B64_LEN + 1];
	int n;

	if (!agency_ok(agency, strlen(agency)))
		return ppx_error_set(PPX_EINVAL, "agency name \"%.64s\" cannot "
				     "be a checkpoint origin (spaces, '+' or "
				     "control bytes)", agency);
	EVP_EncodeBlock(b64, root, 32);
	n = snprintf(out, cap, "%s" PPX_NOTE_LOG_SUFFIX "\n%llu\n%s\n", agency,
		     (unsigned long long)tree_size, (const char *)b64);
	if (n < 0 || (size_t)n >= cap)
		return ppx_error_set(PPX_ETOOBIG, "checkpoint note of %s does "
				     "not fit %zu bytes", agency, cap);
	*len = (size_t)n;
	return 0;
}

/* A decimal without leading zeros ("0" alone is fine) ending at LF. */
static int parse_decimal(uint64_t *out, const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* The next line of text[*at, len): its start and length without LF. */
static int next_line(const uint8_t **line, size_t *n, const uint8_t *text,
		     size_t len, size_t *at)
{
	const uint8_t *lf;

	if (*at >= len)
		return -1;
	lf = memchr(text + *at, '\n', len - *at);
	if (!lf)
		return -1;
	*line = text + *at;
	*n = (size_t)(lf - *line);
	*at += *n + 1;
	return 0;
}

static int parse_root(uint8_t root[32], const uint8_t *p, size_t n)
{
	unsigned char raw[36];
	unsigned char again[ROOT_B64_LEN + 1];

	if (n != ROOT_B64_LEN ||
	    EVP_DecodeBlock(raw, p, ROOT_B64_LEN) != 33)
		return -1;	/* 32 bytes and one '=' of padding */
	memcpy(root, raw, 32);
	EVP_EncodeBlock(again, root, 32);	/* canonical spelling only */
	return memcmp(again, p, ROOT_B64_LEN) == 0 ? 0 : -1;
}

int ppx_note_checkpoint_parse(char agency[PPX_NAME_MAX], uint64_t *tree_size,
			      uint8_t root[32], const uint8_t *text,
			      size_t len)
{
	size_t at = 0, n, suffix = strlen(PPX_NOTE_LOG_SUFFIX);
	const uint8_t *line;

	if (next_line(&line, &n, text, len, &at) != 0 || n <= suffix ||
	    memcmp(line + n - suffix, PPX_NOTE_LOG_SUFFIX, suffix) != 0 ||
	    !agency_ok((const char *)line, n - suffix))
		goto bad;
	memcpy(agency, line, n - suffix);
	agency[n - suffix] = 0;
	if (next_line(&line, &n, text, len, &at) != 0 ||
	    parse_decimal(tree_size, line, n) != 0)
		goto bad;
	if (next_line(&line, &n, text, len, &at) != 0 ||
	    parse_root(root, line, n) != 0 || at != len)
		goto bad;
	return 0;
bad:
	return ppx_error_set(PPX_EINVAL, "not a ppx checkpoint note (origin "
			     "AGENCY/ppx-log, size, base64 root, nothing "
			     "more)");
}

int ppx_note_cosigned_message(char *out, size_t cap, size_t *len,
			      uint64_t t, const char *note, size_t note_len)
{
	int n = snprintf(out, cap, PPX_NOTE_COSIG_HEADER "time %llu\n%.*s",
			 (unsigned long long)t, (int)note_len, note);

	if (t > INT64_MAX)
		return ppx_error_set(PPX_EINVAL, "cosignature time %llu is "
				     "beyond 2^63 - 1", (unsigned long long)t);
	if (n < 0 || (size_t)n >= cap)
		return ppx_error_set(PPX_ETOOBIG, "cosigned message does not "
				     "fit %zu bytes", cap);
	*len = (size_t)n;
	return 0;
}

/* "cosignature/v1\ntime T\n" at the start of msg: its length, or 0. */
static size_t cosig_header(const uint8_t *msg, size_t len)
{
	size_t h = strlen(PPX_NOTE_COSIG_HEADER), at, n;
	const uint8_t *line;
	uint64_t t;

	if (len < h || memcmp(msg, PPX_NOTE_COSIG_HEADER, h) != 0)
		return 0;
	at = h;
	if (next_line(&line, &n, msg, len, &at) != 0 || n < 6 ||
	    memcmp(line, "time ", 5) != 0 ||
	    parse_decimal(&t, line + 5, n - 5) != 0 || t > INT64_MAX)
		return 0;
	return at;
}

int ppx_note_sign_form(const uint8_t *msg, size_t len, const char *own_agency)
{
	char agency[PPX_NAME_MAX];
	uint8_t root[32];
	uint64_t size;
	size_t h;

	if (len > PPX_NOTE_MAX || memchr(msg, 0, len))
		return 0;
	if (ppx_note_checkpoint_parse(agency, &size, root, msg, len) == 0)
		return own_agency && strcmp(agency, own_agency) == 0 ? 1 : 0;
	h = cosig_header(msg, len);
	if (h > 0 && ppx_note_checkpoint_parse(agency, &size, root, msg + h,
					       len - h) == 0)
		return 2;
	return 0;
}

void ppx_note_key_id(uint8_t out[4], const char *name, uint8_t type,
		     const uint8_t *public_key, size_t public_len)
{
	uint8_t buf[PPX_NAME_MAX + 2 + 64], md[PPX_HASH_LEN];
	size_t n = strnlen(name, PPX_NAME_MAX);

	if (public_len > 64)
		public_len = 64;	/* Ed25519 keys are 32 bytes */
	memcpy(buf, name, n);
	buf[n++] = '\n';
	buf[n++] = type;
	memcpy(buf + n, public_key, public_len);
	ppx_sha256(md, buf, n + public_len);
	memcpy(out, md, 4);
}

int ppx_cert_ed25519_public(const ppx_cert *cert, uint8_t out[32])
{
	EVP_PKEY *key = X509_get0_pubkey(ppxi_cert_x509(cert));
	size_t len = 32;

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(key, out, &len) != 1 || len != 32)
		return ppx_error_set(PPX_EINVAL, "certificate does not hold an "
				     "Ed25519 key: no C2SP form (a P-256 "
				     "agency's checkpoints are ppx's only)");
	return 0;
}

int ppx_note_signature_line(char *out, size_t cap, const char *name,
			    uint8_t type, const ppx_cert *cert, uint64_t t,
			    const uint8_t *sig, size_t sig_len)
{
	uint8_t pub[32], blob[4 + 8 + 64];
	unsigned char b64[4 * sizeof(blob) / 3 + 4];
	size_t n = 4;
	int rc = ppx_cert_ed25519_public(cert, pub), w;

	if (rc != 0)
		return rc;
	if (sig_len != 64)
		return ppx_error_set(PPX_EINVAL, "an Ed25519 signature is 64 "
				     "bytes, not %zu", sig_len);
	ppx_note_key_id(blob, name, type, pub, sizeof(pub));
	if (type == PPX_NOTE_TYPE_COSIGNATURE_V1)
		for (int i = 7; i >= 0; i--)
			blob[n++] = (uint8_t)(t >> (8 * i));
	memcpy(blob + n, sig, sig_len);
	EVP_EncodeBlock(b64, blob, (int)(n + sig_len));
	w = snprintf(out, cap, EM_DASH " %s %s\n", name, (const char *)b64);
	if (w < 0 || (size_t)w >= cap)
		return ppx_error_set(PPX_ETOOBIG, "signature line of %s does "
				     "not fit %zu bytes", name, cap);
	return 0;
}
