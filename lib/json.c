/*
 * json.c — protobuf-c messages to and from protobuf's canonical proto3 JSON.
 *
 * Everything here is driven by the descriptors protoc-c generates: a
 * message is walked field by field through its ProtobufCMessageDescriptor,
 * and each field's ProtobufCFieldDescriptor says where its value lives in
 * the C struct (offset), where its count, oneof case or has_ flag lives
 * (quantifier_offset) and what type it is.  No code knows any particular
 * message, so a field added to ppx.proto needs no change here.
 *
 * Output (message -> json-c object) mirrors protobuf-c's packer: a field is
 * written exactly when the packer would put it on the wire, so JSON ->
 * message -> pack gives back the bytes the message packed to.
 *
 * Input (json-c object -> message) builds the message the way protobuf-c's
 * unpacker does: every submessage, string, bytes buffer and repeated array
 * comes from malloc, each message is set up by its descriptor's init, and
 * the message is consistent after every single store, so that
 * protobuf_c_message_free_unpacked() can free it whole, or half-built when
 * a value is refused.  JSON text is parsed by json-c in strict mode with
 * UTF-8 validation, under a size cap and a nesting cap, before any of that.
 *
 * Errors name the path of the value at fault, built as the walk goes down
 * (`minutes.actions[2].owner.agency`), and quote input only after making
 * it printable: these messages end up in logs.
 *
 * This file holds what both directions share (json_int.h); json_print.c
 * writes JSON and json_parse.c reads it.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ppx/error.h"
#include "json_int.h"

const struct type_info ppxi_types[] = {
	[PROTOBUF_C_TYPE_INT32] = {"int32", K_SIGNED, 4},
	[PROTOBUF_C_TYPE_SINT32] = {"sint32", K_SIGNED, 4},
	[PROTOBUF_C_TYPE_SFIXED32] = {"sfixed32", K_SIGNED, 4},
	[PROTOBUF_C_TYPE_INT64] = {"int64", K_SIGNED, 8},
	[PROTOBUF_C_TYPE_SINT64] = {"sint64", K_SIGNED, 8},
	[PROTOBUF_C_TYPE_SFIXED64] = {"sfixed64", K_SIGNED, 8},
	[PROTOBUF_C_TYPE_UINT32] = {"uint32", K_UNSIGNED, 4},
	[PROTOBUF_C_TYPE_FIXED32] = {"fixed32", K_UNSIGNED, 4},
	[PROTOBUF_C_TYPE_UINT64] = {"uint64", K_UNSIGNED, 8},
	[PROTOBUF_C_TYPE_FIXED64] = {"fixed64", K_UNSIGNED, 8},
	[PROTOBUF_C_TYPE_FLOAT] = {"float", K_REAL, sizeof(float)},
	[PROTOBUF_C_TYPE_DOUBLE] = {"double", K_REAL, sizeof(double)},
	[PROTOBUF_C_TYPE_BOOL] = {"bool", K_BOOL, sizeof(protobuf_c_boolean)},
	[PROTOBUF_C_TYPE_ENUM] = {"enum", K_ENUM, sizeof(int32_t)},
	[PROTOBUF_C_TYPE_STRING] = {"string", K_STRING, sizeof(char *)},
	[PROTOBUF_C_TYPE_BYTES] = {"bytes", K_BYTES,
				   sizeof(ProtobufCBinaryData)},
	[PROTOBUF_C_TYPE_MESSAGE] = {"message", K_MESSAGE,
				     sizeof(ProtobufCMessage *)},
};

/* Descriptors are compiled in, so their types are trusted. */
const struct type_info *ppxi_type_of(const ProtobufCFieldDescriptor *f)
{
	return &ppxi_types[f->type];
}

/* --- Errors and paths -------------------------------------------------- */

/* Record "path: detail" (just the detail at the top) and return `code`. */
int ppxi_walk_fail(const struct walk *w, int code, const char *fmt, ...)
{
	char detail[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (w->len == 0)
		return ppx_error_set(code, "%s", detail);
	return ppx_error_set(code, "%s: %s", w->path, detail);
}

int ppxi_walk_nomem(const struct walk *w)
{
	return ppxi_walk_fail(w, PPX_ENOMEM, "out of memory");
}

/* Append ".name" (or "name" at the top) or "[i]" to the path and return
 * its previous length, for ppxi_path_pop().  A path that does not fit is cut
 * and ends in "...". */
size_t ppxi_path_push(struct walk *w, const char *name, size_t i)
{
	size_t saved = w->len, room = sizeof(w->path) - w->len;
	int n;

	if (name)
		n = snprintf(w->path + w->len, room, "%s%s", w->len ? "." : "",
			     name);
	else
		n = snprintf(w->path + w->len, room, "[%zu]", i);
	if (n < 0 || (size_t)n >= room) {
		w->len = sizeof(w->path) - 1;
		memcpy(w->path + w->len - 3, "...", 3);
	} else {
		w->len += (size_t)n;
	}
	return saved;
}

void ppxi_path_pop(struct walk *w, size_t saved)
{
	w->len = saved;
	w->path[saved] = '\0';
}

/* Up to QUOTE_MAX bytes of `s`, with anything but printable ASCII (and the
 * double quote, which would confuse the reader) shown as '?'. */
const char *ppxi_printable(char buf[QUOTE_MAX + 4], const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < QUOTE_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* "a number", "an array": what a JSON value is, for error messages. */
const char *ppxi_json_kind(json_object *v)
{
	static const char *const kinds[] = {
		[json_type_null] = "null",	 [json_type_boolean] = "a boolean",
		[json_type_double] = "a number", [json_type_int] = "a number",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string",
	};
	unsigned t = (unsigned)json_object_get_type(v);

	return t < sizeof(kinds) / sizeof(kinds[0]) ? kinds[t] : "unknown";
}

/* --- Names ------------------------------------------------------------- */

static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* The JSON name of a .proto field name, as protoc derives it: each '_' is
 * dropped and the letter after it capitalised (risk_level -> riskLevel).
 * protobuf-c descriptors do not carry json_name, so it is derived here. */
int ppxi_json_name(char out[NAME_MAX_LEN], const char *name)
{
	size_t n = 0;
	int upper = 0;

	for (; *name; name++) {
		if (*name == '_') {
			upper = 1;
			continue;
		}
		if (n + 1 >= NAME_MAX_LEN)
			return ppx_error_set(PPX_ERANGE,
					     "field name ...%.40s is too long",
					     name);
		out[n++] = upper ? ascii_upper(*name) : *name;
		upper = 0;
	}
	out[n] = '\0';
	return 0;
}

/* The index of the field `key` names (JSON or .proto name), or -1. */
int ppxi_field_index(const ProtobufCMessageDescriptor *d, const char *key)
{
	char name[NAME_MAX_LEN];

	for (unsigned i = 0; i < d->n_fields; i++)
		if (strcmp(key, d->fields[i].name) == 0 ||
		    (ppxi_json_name(name, d->fields[i].name) == 0 &&
		     strcmp(key, name) == 0))
			return (int)i;
	return -1;
}

/* --- Encodings --------------------------------------------------------- */

/* Whether `s` is well-formed UTF-8: no overlong forms, no surrogates,
 * nothing above U+10FFFF (RFC 3629). */
int ppxi_utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i], lo, hi;
		size_t more = c < 0x80 ? 0 : c < 0xc2 ? 4 : c < 0xe0 ? 1 :
			      c < 0xf0 ? 2 : c < 0xf5 ? 3 : 4;

		if (more == 4 || len - i <= more)
			return 0;
		lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		for (size_t k = 1; k <= more; k++, lo = 0x80, hi = 0xbf)
			if (s[i + k] < lo || s[i + k] > hi)
				return 0;
		i += more + 1;
	}
	return 1;
}

/* The value of a base64 digit, standard or URL-safe alphabet, or -1. */
static int b64_digit(char c)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(digits, c) : NULL;

	if (p)
		return (int)(p - digits);
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decode base64 (standard or URL-safe alphabet, padded or not) into `out`,
 * malloc'd (NULL when empty).  Returns 0, PPX_EINVAL or PPX_ENOMEM. */
int ppxi_base64_decode(ProtobufCBinaryData *out, const char *s, size_t len)
{
	size_t pad = 0, n, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (len > 0 && s[len - 1] == '=' && pad < 2)
		len--, pad++;
	if ((pad && (len + pad) % 4 != 0) || len % 4 == 1)
		return PPX_EINVAL;
	n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (n == 0)
		return 0;
	out->data = malloc(n);
	if (!out->data)
		return PPX_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int d = b64_digit(s[i]);

		if (d < 0) {
			free(out->data);
			out->data = NULL;
			return PPX_EINVAL;
		}
		acc = (acc << 6 | (uint32_t)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[o++] = (uint8_t)(acc >> bits);
		}
	}
	out->len = o;
	return 0;
}

/* A JSON number written as a string ("1.5", "-2e3") as a double.  strtod
 * alone would also take spaces, '+', hex, "inf" and "nan". */
int ppxi_number_text(const char *s, double *d)
{
	const char *digit = s + (*s == '-');
	char *end;

	if (*digit < '0' || *digit > '9' || strpbrk(s, "xX"))
		return -1;
	*d = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

