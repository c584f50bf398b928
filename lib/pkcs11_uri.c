/*
 * pkcs11_uri.c — what the configuration says about a key on a token: the
 * pkcs11: URI that names it (RFC 7512, the subset ppx reads) and the file
 * that holds the user PIN.
 *
 * lib/pkcs11.c opens the token with what this returns.  Both are local
 * input, checked strictly: an attribute ppx does not read is refused
 * rather than ignored, since a URI that says more than ppx checks could
 * pick a key the operator did not mean.  The PIN file is held to the same
 * rule as a key file (mode 0600 or stricter), and every buffer that held
 * the PIN is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/pkcs11.h"

#define SCHEME "pkcs11:"

int ppx_pkcs11_uri_is(const char *s)
{
	return strncmp(s, SCHEME, strlen(SCHEME)) == 0;
}

/*
 * Percent-decode the `len` bytes at `s` into `out` (at most `cap` bytes).
 * Text (labels) must decode to printable bytes, no NUL; the result is then
 * NUL-terminated.  Returns the decoded length or -1.
 */
static long decode(uint8_t *out, size_t cap, const char *s, size_t len,
		   int text)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			const unsigned char *h = (const unsigned char *)s + i;
			int hi = i + 2 < len ? ppx_hex_digit(h[1]) : -1;
			int lo = hi >= 0 ? ppx_hex_digit(h[2]) : -1;

			if (lo < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
		}
		if (n + (text ? 1 : 0) >= cap || (text && (c < 0x20 ||
							   c == 0x7f)))
			return -1;
		out[n++] = (uint8_t)c;
	}
	if (text)
		out[n] = '\0';
	return (long)n;
}

/* One name=value attribute of the URI's path into `out`. */
static int uri_attr(struct ppx_pkcs11_uri *out, const char *a, size_t len,
		    const char *uri)
{
	const char *eq = memchr(a, '=', len);
	size_t nlen = eq ? (size_t)(eq - a) : len;
	const char *v = eq ? eq + 1 : a + len;
	size_t vlen = len - nlen - (eq ? 1 : 0);
	long n = -1;

	if (!eq || vlen == 0)
		return ppx_error_set(PPX_EINVAL, "%s: attribute '%.*s' has no "
				     "value", uri, (int)len, a);
	if (nlen == 5 && memcmp(a, "token", 5) == 0)
		n = decode((uint8_t *)out->token, sizeof(out->token), v, vlen,
			   1);
	else if (nlen == 6 && memcmp(a, "object", 6) == 0)
		n = decode((uint8_t *)out->object, sizeof(out->object), v,
			   vlen, 1);
	else if (nlen == 2 && memcmp(a, "id", 2) == 0)
		n = decode(out->id, sizeof(out->id), v, vlen, 0);
	else if (nlen == 4 && memcmp(a, "type", 4) == 0)
		n = vlen == 7 && memcmp(v, "private", 7) == 0 ? 1 : -1;
	else
		return ppx_error_set(PPX_EINVAL, "%s: attribute '%.*s' is not "
				     "one ppx reads (token, object, id, "
				     "type=private)", uri, (int)nlen, a);
	if (n <= 0)
		return ppx_error_set(PPX_EINVAL, "%s: bad value of '%.*s' (a "
				     "bad %%XX escape, a control character "
				     "or too long)", uri, (int)nlen, a);
	if (nlen == 2)
		out->id_len = (size_t)n;
	return 0;
}

int ppx_pkcs11_uri_parse(struct ppx_pkcs11_uri *out, const char *uri)
{
	const char *p = uri + strlen(SCHEME);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!ppx_pkcs11_uri_is(uri))
		return ppx_error_set(PPX_EINVAL, "%s: not a pkcs11: URI", uri);
	if (strchr(p, '?'))
		return ppx_error_set(PPX_EINVAL, "%s: query attributes (?...) "
				     "are not read; give the module and the "
				     "PIN file in the configuration", uri);
	while (*p) {
		size_t len = strcspn(p, ";");

		if (len > 0 && (rc = uri_attr(out, p, len, uri)) != 0)
			return rc;
		p += len + (p[len] == ';');
	}
	if (!out->token[0])
		return ppx_error_set(PPX_EINVAL, "%s: no token=LABEL", uri);
	if (!out->object[0] && out->id_len == 0)
		return ppx_error_set(PPX_EINVAL, "%s: neither object=LABEL nor "
				     "id=%%XX..., so no key is named", uri);
	return 0;
}

/* Read at most cap - 1 bytes of `fd` into pin. */
static int pin_read_fd(char *pin, size_t cap, size_t *len, int fd,
		       const char *path)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, pin + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ppx_error_set(PPX_EIO, "cannot read PIN file "
					     "%s: %s", path, strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap)
			return ppx_error_set(PPX_EINVAL, "PIN file %s: longer "
					     "than %zu bytes", path, cap - 1);
	}
	while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
		n--;
	pin[n] = '\0';
	if (n == 0 || memchr(pin, '\n', n))
		return ppx_error_set(PPX_EINVAL, "PIN file %s: must hold the "
				     "PIN on one line", path);
	*len = n;
	return 0;
}

int ppx_pkcs11_pin_read(char pin[PPX_PKCS11_PIN_MAX], size_t *len,
			const char *path)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ppx_error_set(errno == ENOENT ? PPX_ENOTFOUND : PPX_EIO,
				     "cannot open PIN file %s: %s", path,
				     strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = ppx_error_set(PPX_EPERM, "cannot use PIN file %s: not a "
				   "regular file", path);
	else if (st.st_mode & 077)
		rc = ppx_error_set(PPX_EPERM, "cannot use PIN file %s: mode "
				   "%04o, must be 0600", path,
				   (unsigned)(st.st_mode & 07777));
	else
		rc = pin_read_fd(pin, PPX_PKCS11_PIN_MAX - 1, len, fd, path);
	close(fd);
	if (rc != 0)
		ppx_wipe(pin, PPX_PKCS11_PIN_MAX);
	return rc;
}
