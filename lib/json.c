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
#include "ppx/json.h"

/* JSON nesting json-c accepts: a message level plus an array level for
 * each of PPX_JSON_MAX_DEPTH messages. */
#define JSON_TEXT_DEPTH (2 * PPX_JSON_MAX_DEPTH)
#define PATH_MAX_LEN 192	/* longer paths are cut, ending in "..." */
#define NAME_MAX_LEN 128	/* a field's JSON name */
#define QUOTE_MAX 48		/* bytes of input quoted in an error */

/* Where the walk is: the path so far and the messages entered. */
struct walk {
	char path[PATH_MAX_LEN];
	size_t len;
	int depth;
};

/* How values of each protobuf-c type map to JSON, and the size of one
 * value in a C struct (of one element, for repeated fields). */
enum kind { K_SIGNED, K_UNSIGNED, K_REAL, K_BOOL, K_ENUM, K_STRING, K_BYTES,
	    K_MESSAGE };

struct type_info {
	const char *name;
	enum kind kind;
	size_t size;
};

static const struct type_info types[] = {
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
static const struct type_info *type_of(const ProtobufCFieldDescriptor *f)
{
	return &types[f->type];
}

/* --- Errors and paths -------------------------------------------------- */

/* Record "path: detail" (just the detail at the top) and return `code`. */
__attribute__((format(printf, 3, 4))) static int
walk_fail(const struct walk *w, int code, const char *fmt, ...)
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

static int walk_nomem(const struct walk *w)
{
	return walk_fail(w, PPX_ENOMEM, "out of memory");
}

/* Append ".name" (or "name" at the top) or "[i]" to the path and return
 * its previous length, for path_pop().  A path that does not fit is cut
 * and ends in "...". */
static size_t path_push(struct walk *w, const char *name, size_t i)
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

static void path_pop(struct walk *w, size_t saved)
{
	w->len = saved;
	w->path[saved] = '\0';
}

/* Up to QUOTE_MAX bytes of `s`, with anything but printable ASCII (and the
 * double quote, which would confuse the reader) shown as '?'. */
static const char *printable(char buf[QUOTE_MAX + 4], const char *s)
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
static const char *json_kind(json_object *v)
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
static int json_name(char out[NAME_MAX_LEN], const char *name)
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
static int field_index(const ProtobufCMessageDescriptor *d, const char *key)
{
	char name[NAME_MAX_LEN];

	for (unsigned i = 0; i < d->n_fields; i++)
		if (strcmp(key, d->fields[i].name) == 0 ||
		    (json_name(name, d->fields[i].name) == 0 &&
		     strcmp(key, name) == 0))
			return (int)i;
	return -1;
}

/* --- Encodings --------------------------------------------------------- */

/* Whether `s` is well-formed UTF-8: no overlong forms, no surrogates,
 * nothing above U+10FFFF (RFC 3629). */
static int utf8_valid(const unsigned char *s, size_t len)
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
static int base64_decode(ProtobufCBinaryData *out, const char *s, size_t len)
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
static int number_text(const char *s, double *d)
{
	const char *digit = s + (*s == '-');
	char *end;

	if (*digit < '0' || *digit > '9' || strpbrk(s, "xX"))
		return -1;
	*d = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

/* --- Message -> JSON --------------------------------------------------- */

static int message_to_json(struct walk *w, json_object **out,
			   const ProtobufCMessage *m);

static const void *member_at(const ProtobufCMessage *m, unsigned offset)
{
	return (const char *)m + offset;
}

/* Whether a proto3 field without presence holds its default, by the test
 * protobuf-c's packer makes (so -0.0 counts as 0). */
static int value_is_default(const struct type_info *t, const void *v)
{
	static const unsigned char zero[8];

	switch (t->kind) {
	case K_REAL:
		return t->size == sizeof(float) ? *(const float *)v == 0 :
						  *(const double *)v == 0;
	case K_STRING:
		return !*(const char *const *)v || !**(const char *const *)v;
	case K_BYTES:
		return ((const ProtobufCBinaryData *)v)->len == 0;
	case K_MESSAGE:
		return *(const void *const *)v == NULL;
	default:		/* integers, bool, enum */
		return memcmp(v, zero, t->size) == 0;
	}
}

/* Whether field `f` is written: exactly when protobuf-c's packer would put
 * it on the wire, by its label (and for oneof members, their case). */
static int field_present(const ProtobufCMessage *m,
			 const ProtobufCFieldDescriptor *f)
{
	const struct type_info *t = type_of(f);
	const void *v = member_at(m, f->offset);
	const void *q = member_at(m, f->quantifier_offset);
	int pointer = t->kind == K_STRING || t->kind == K_MESSAGE;
	const void *ptr = pointer ? *(const void *const *)v : NULL;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)q != 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(const uint32_t *)q != f->id)
			return 0;
		return !pointer || (ptr && ptr != f->default_value);
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return !pointer || ptr;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (pointer)
			return ptr && ptr != f->default_value;
		return *(const protobuf_c_boolean *)q != 0;
	default:
		return !value_is_default(t, v);
	}
}

static int new_or_nomem(const struct walk *w, json_object **out,
			json_object *v)
{
	*out = v;
	return v ? 0 : walk_nomem(w);
}

/* 32-bit integers as numbers, 64-bit ones as decimal strings: JSON readers
 * commonly hold numbers as doubles, exact only to 2^53. */
static int integer_to_json(const struct walk *w, json_object **out,
			   const struct type_info *t, const void *v)
{
	char buf[24];

	if (t->size == 4 && t->kind == K_SIGNED)
		return new_or_nomem(w, out,
				    json_object_new_int(*(const int32_t *)v));
	if (t->size == 4)
		return new_or_nomem(w, out,
				    json_object_new_int64(*(const uint32_t *)v));
	if (t->kind == K_SIGNED)
		snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)v);
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)v);
	return new_or_nomem(w, out, json_object_new_string(buf));
}

/* A float or double as the shortest text that reads back to the same
 * value; the non-finite ones as the strings proto3 JSON names. */
static int real_to_json(const struct walk *w, json_object **out, double d,
			int is_float)
{
	char buf[40];

	if (isnan(d) || isinf(d))
		return new_or_nomem(w, out, json_object_new_string(
			isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity"));
	if (d == 0 && signbit(d)) {
		snprintf(buf, sizeof(buf), "-0.0");	/* "-0" reads as 0 */
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, d);
			if (is_float ? strtof(buf, NULL) == (float)d :
				       strtod(buf, NULL) == d)
				break;
		}
	}
	return new_or_nomem(w, out, json_object_new_double_s(d, buf));
}

/* An enum as its value name; a value this build does not know (a newer
 * peer's) stays a number, as proto3 enums are open. */
static int enum_to_json(const struct walk *w, json_object **out,
			const ProtobufCEnumDescriptor *ed, int value)
{
	const ProtobufCEnumValue *ev =
		protobuf_c_enum_descriptor_get_value(ed, value);

	if (!ev)
		return new_or_nomem(w, out, json_object_new_int(value));
	return new_or_nomem(w, out, json_object_new_string(ev->name));
}

static int string_to_json(const struct walk *w, json_object **out,
			  const char *s)
{
	size_t len;

	if (!s)
		return walk_fail(w, PPX_EINVAL, "string pointer is NULL");
	len = strlen(s);
	if (!utf8_valid((const unsigned char *)s, len))
		return walk_fail(w, PPX_EINVAL, "string is not valid UTF-8");
	if (len > INT32_MAX)
		return walk_fail(w, PPX_ETOOBIG, "string is too long for JSON");
	return new_or_nomem(w, out, json_object_new_string_len(s, (int)len));
}

/* Bytes as standard base64 with padding. */
static int bytes_to_json(const struct walk *w, json_object **out,
			 const ProtobufCBinaryData *b)
{
	unsigned char *text;
	int len, rc;

	if (b->len && !b->data)
		return walk_fail(w, PPX_EINVAL, "bytes of length %zu at NULL",
				 b->len);
	if (b->len > INT32_MAX / 4 * 3 - 3)
		return walk_fail(w, PPX_ETOOBIG, "bytes are too long for JSON");
	text = malloc((b->len + 2) / 3 * 4 + 1);
	if (!text)
		return walk_nomem(w);
	len = EVP_EncodeBlock(text, b->len ? b->data : text, (int)b->len);
	rc = new_or_nomem(w, out,
			  json_object_new_string_len((char *)text, len));
	free(text);
	return rc;
}

/* One value of field `f`, stored at `v`, as a new JSON value. */
static int value_to_json(struct walk *w, json_object **out,
			 const ProtobufCFieldDescriptor *f, const void *v)
{
	const struct type_info *t = type_of(f);
	const ProtobufCMessage *sub;

	switch (t->kind) {
	case K_SIGNED:
	case K_UNSIGNED:
		return integer_to_json(w, out, t, v);
	case K_REAL:
		if (t->size == sizeof(float))
			return real_to_json(w, out, *(const float *)v, 1);
		return real_to_json(w, out, *(const double *)v, 0);
	case K_BOOL:
		return new_or_nomem(w, out, json_object_new_boolean(
			*(const protobuf_c_boolean *)v != 0));
	case K_ENUM:
		return enum_to_json(w, out, f->descriptor, *(const int *)v);
	case K_STRING:
		return string_to_json(w, out, *(const char *const *)v);
	case K_BYTES:
		return bytes_to_json(w, out, v);
	case K_MESSAGE:
		break;
	}
	sub = *(const ProtobufCMessage *const *)v;
	if (!sub)
		return walk_fail(w, PPX_EINVAL, "message pointer is NULL");
	return message_to_json(w, out, sub);
}

static int repeated_to_json(struct walk *w, json_object **out,
			    const ProtobufCMessage *m,
			    const ProtobufCFieldDescriptor *f)
{
	size_t n = *(const size_t *)member_at(m, f->quantifier_offset);
	const char *arr = *(const char *const *)member_at(m, f->offset);
	size_t size = type_of(f)->size;
	json_object *a;
	int rc = 0;

	if (!arr)
		return walk_fail(w, PPX_EINVAL, "%zu elements at NULL", n);
	a = json_object_new_array();
	if (!a)
		return walk_nomem(w);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t saved = path_push(w, NULL, i);
		json_object *v = NULL;

		rc = value_to_json(w, &v, f, arr + i * size);
		if (rc == 0 && json_object_array_add(a, v) != 0) {
			json_object_put(v);
			rc = walk_nomem(w);
		}
		path_pop(w, saved);
	}
	if (rc) {
		json_object_put(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* Add field `f` of `m` to `obj` under its JSON name. */
static int member_to_json(struct walk *w, json_object *obj,
			  const ProtobufCMessage *m,
			  const ProtobufCFieldDescriptor *f)
{
	char name[NAME_MAX_LEN];
	json_object *v = NULL;
	size_t saved;
	int rc = json_name(name, f->name);

	if (rc)
		return rc;
	saved = path_push(w, name, 0);
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		rc = repeated_to_json(w, &v, m, f);
	else
		rc = value_to_json(w, &v, f, member_at(m, f->offset));
	if (rc == 0 && json_object_object_add(obj, name, v) != 0) {
		json_object_put(v);
		rc = walk_nomem(w);
	}
	path_pop(w, saved);
	return rc;
}

static int message_to_json(struct walk *w, json_object **out,
			   const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_object *obj;
	int rc = 0;

	if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
		return walk_fail(w, PPX_EINVAL, "message has no descriptor");
	if (w->depth >= PPX_JSON_MAX_DEPTH)
		return walk_fail(w, PPX_ETOOBIG,
				 "messages nested deeper than %d",
				 PPX_JSON_MAX_DEPTH);
	obj = json_object_new_object();
	if (!obj)
		return walk_nomem(w);
	w->depth++;
	for (unsigned i = 0; i < d->n_fields && rc == 0; i++)
		if (field_present(m, &d->fields[i]))
			rc = member_to_json(w, obj, m, &d->fields[i]);
	w->depth--;
	if (rc) {
		json_object_put(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

int ppx_json_from_message(json_object **out, const ProtobufCMessage *msg)
{
	struct walk w = {.len = 0};

	if (!out || !msg)
		return ppx_error_set(PPX_EINVAL,
				     "ppx_json_from_message: no message given");
	*out = NULL;
	return message_to_json(&w, out, msg);
}

int ppx_json_print(char **out, const ProtobufCMessage *msg, unsigned flags)
{
	int jflags = JSON_C_TO_STRING_NOSLASHESCAPE;
	json_object *obj = NULL;
	const char *text;
	size_t len = 0;
	int rc;

	if (!out || (flags & ~PPX_JSON_PRETTY))
		return ppx_error_set(PPX_EINVAL, "ppx_json_print: no output or "
				     "unknown flags 0x%x", flags);
	*out = NULL;
	rc = ppx_json_from_message(&obj, msg);
	if (rc)
		return rc;
	jflags |= (flags & PPX_JSON_PRETTY) ?
			  JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			  JSON_C_TO_STRING_PLAIN;
	text = json_object_to_json_string_length(obj, jflags, &len);
	if (text)
		*out = malloc(len + 1);
	if (*out)
		memcpy(*out, text, len + 1);
	json_object_put(obj);
	if (!*out)
		return ppx_error_set(PPX_ENOMEM, "out of memory printing a %s",
				     msg->descriptor->name);
	return 0;
}

/* --- JSON -> message --------------------------------------------------- */

static int message_from_json(struct walk *w, ProtobufCMessage *m,
			     json_object *obj);

static void *member_of(ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

/* A decimal integer string, "-"? digits, as sign and magnitude. */
static int read_decimal(const struct walk *w, const char *s, int *neg,
			uint64_t *mag)
{
	const char *p = s + (*s == '-');
	char q[QUOTE_MAX + 4], *end;

	*neg = *s == '-';
	*mag = 0;
	end = (char *)p;
	errno = 0;
	if (*p >= '0' && *p <= '9')	/* strtoull would skip spaces, '+' */
		*mag = strtoull(p, &end, 10);
	if (end == p || *end != '\0')
		return walk_fail(w, PPX_EINVAL, "\"%s\" is not a decimal integer",
				 printable(q, s));
	if (errno == ERANGE)
		return walk_fail(w, PPX_EINVAL, "%s is out of range",
				 printable(q, s));
	return 0;
}

/*
 * An integer from a JSON number or a decimal string, as sign and magnitude
 * so that every 64-bit value of either signedness fits.  Numbers with a
 * zero fraction (1.0, 1e3) are integers too.
 */
static int read_integer(const struct walk *w, json_object *v, int *neg,
			uint64_t *mag)
{
	char q[QUOTE_MAX + 4];
	int64_t s64 = json_object_get_int64(v);
	double d = json_object_get_double(v);

	switch (json_object_get_type(v)) {
	case json_type_int:
		*neg = s64 < 0;
		*mag = *neg ? (uint64_t)(-(s64 + 1)) + 1 :
			      json_object_get_uint64(v);
		/* json-c clamps numbers that do not fit to these limits. */
		if (s64 != INT64_MIN && *mag != UINT64_MAX)
			return 0;
		return walk_fail(w, PPX_EINVAL,
				 "%s is at a 64-bit limit, to which larger "
				 "numbers are clamped: write it as a string",
				 json_object_get_string(v));
	case json_type_double:
		if (!isfinite(d) || d != trunc(d))
			return walk_fail(w, PPX_EINVAL, "%s is not an integer",
					 printable(q, json_object_get_string(v)));
		if (fabs(d) >= 18446744073709551616.0)
			return walk_fail(w, PPX_EINVAL, "%s is out of range",
					 printable(q, json_object_get_string(v)));
		*neg = d < 0;
		*mag = (uint64_t)fabs(d);
		return 0;
	case json_type_string:
		return read_decimal(w, json_object_get_string(v), neg, mag);
	default:
		return walk_fail(w, PPX_EINVAL, "expected an integer, got %s",
				 json_kind(v));
	}
}

/* Check an integer against the range of type `t` and store it at `slot`
 * (two's complement, so one store serves signed and unsigned). */
static int store_integer(const struct walk *w, void *slot,
			 const struct type_info *t, int neg, uint64_t mag,
			 json_object *v)
{
	int is_signed = t->kind != K_UNSIGNED;
	uint64_t max = t->size == 4 ? (is_signed ? INT32_MAX : UINT32_MAX) :
				      (is_signed ? INT64_MAX : UINT64_MAX);
	char q[QUOTE_MAX + 4];

	if (neg && mag != 0 && (!is_signed || mag - 1 > max))
		return walk_fail(w, PPX_EINVAL, "%s is out of range for %s",
				 printable(q, json_object_get_string(v)),
				 t->name);
	if (!neg && mag > max)
		return walk_fail(w, PPX_EINVAL, "%s is out of range for %s",
				 printable(q, json_object_get_string(v)),
				 t->name);
	if (neg)
		mag = 0 - mag;
	if (t->size == 4)
		*(uint32_t *)slot = (uint32_t)mag;
	else
		*(uint64_t *)slot = mag;
	return 0;
}

static int integer_from_json(const struct walk *w, void *slot,
			     const struct type_info *t, json_object *v)
{
	uint64_t mag = 0;
	int neg = 0, rc = read_integer(w, v, &neg, &mag);

	return rc ? rc : store_integer(w, slot, t, neg, mag, v);
}

/* A double from a JSON number, or from a string holding a number or one
 * of "NaN", "Infinity", "-Infinity" (the only ways to give those). */
static int read_real(const struct walk *w, json_object *v, double *d)
{
	const char *s = json_object_get_string(v);
	char q[QUOTE_MAX + 4];

	switch (json_object_get_type(v)) {
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			*d = (double)json_object_get_int64(v);
		else
			*d = (double)json_object_get_uint64(v);
		return 0;
	case json_type_double:
		*d = json_object_get_double(v);
		if (isfinite(*d))
			return 0;
		return walk_fail(w, PPX_EINVAL, "%s is out of range (NaN and "
				 "the infinities are written as strings)",
				 printable(q, s));
	case json_type_string:
		if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 ||
		    strcmp(s, "-Infinity") == 0)
			*d = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY :
							       INFINITY;
		else if (number_text(s, d) != 0)
			return walk_fail(w, PPX_EINVAL, "\"%s\" is not a number",
					 printable(q, s));
		else if (isinf(*d))
			return walk_fail(w, PPX_EINVAL, "%s is out of range",
					 printable(q, s));
		return 0;
	default:
		return walk_fail(w, PPX_EINVAL, "expected a number, got %s",
				 json_kind(v));
	}
}

static int real_from_json(const struct walk *w, void *slot,
			  const struct type_info *t, json_object *v)
{
	double d = 0;
	int rc = read_real(w, v, &d);

	if (rc)
		return rc;
	if (t->size == sizeof(double)) {
		*(double *)slot = d;
		return 0;
	}
	if (isinf((float)d) && !isinf(d))
		return walk_fail(w, PPX_EINVAL, "%g is out of range for float",
				 d);
	*(float *)slot = (float)d;
	return 0;
}

static int bool_from_json(const struct walk *w, void *slot, json_object *v)
{
	if (!json_object_is_type(v, json_type_boolean))
		return walk_fail(w, PPX_EINVAL, "expected true or false, got %s",
				 json_kind(v));
	*(protobuf_c_boolean *)slot = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

/* An enum from its value name, or from a number: proto3 enums are open,
 * so any int32 is kept. */
static int enum_from_json(const struct walk *w, void *slot,
			  const ProtobufCEnumDescriptor *ed, json_object *v)
{
	const ProtobufCEnumValue *ev;
	char q[QUOTE_MAX + 4];

	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double))
		return integer_from_json(w, slot, &types[PROTOBUF_C_TYPE_ENUM],
					 v);
	if (!json_object_is_type(v, json_type_string))
		return walk_fail(w, PPX_EINVAL, "expected a %s name, got %s",
				 ed->name, json_kind(v));
	ev = protobuf_c_enum_descriptor_get_value_by_name(
		ed, json_object_get_string(v));
	if (!ev || (size_t)json_object_get_string_len(v) != strlen(ev->name))
		return walk_fail(w, PPX_EINVAL, "%s has no value \"%s\"",
				 ed->name,
				 printable(q, json_object_get_string(v)));
	*(int32_t *)slot = ev->value;
	return 0;
}

/* The text of a JSON string, checked: no NUL inside, valid UTF-8. */
static int read_text(const struct walk *w, json_object *v, const char *what,
		     const char **s, size_t *len)
{
	if (!json_object_is_type(v, json_type_string))
		return walk_fail(w, PPX_EINVAL, "expected %s, got %s", what,
				 json_kind(v));
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (memchr(*s, '\0', *len))
		return walk_fail(w, PPX_EINVAL, "string contains NUL (\\u0000)");
	if (!utf8_valid((const unsigned char *)*s, *len))
		return walk_fail(w, PPX_EINVAL, "string is not valid UTF-8");
	return 0;
}

static int string_from_json(const struct walk *w, void *slot, json_object *v)
{
	const char *s;
	size_t len;
	char *copy;
	int rc = read_text(w, v, "a string", &s, &len);

	if (rc)
		return rc;
	copy = malloc(len + 1);
	if (!copy)
		return walk_nomem(w);
	memcpy(copy, s, len + 1);
	*(char **)slot = copy;
	return 0;
}

static int bytes_from_json(const struct walk *w, void *slot, json_object *v)
{
	const char *s;
	size_t len;
	int rc = read_text(w, v, "a base64 string", &s, &len);

	if (rc)
		return rc;
	rc = base64_decode(slot, s, len);
	if (rc == PPX_ENOMEM)
		return walk_nomem(w);
	if (rc)
		return walk_fail(w, PPX_EINVAL, "string is not base64");
	return 0;
}

/* A new message of type `d`, stored at `slot` before it is filled so that
 * freeing the parent frees it too. */
static int submessage_from_json(struct walk *w, void *slot,
				const ProtobufCMessageDescriptor *d,
				json_object *v)
{
	ProtobufCMessage *sub;

	if (!json_object_is_type(v, json_type_object))
		return walk_fail(w, PPX_EINVAL, "expected an object, got %s",
				 json_kind(v));
	sub = malloc(d->sizeof_message);
	if (!sub)
		return walk_nomem(w);
	protobuf_c_message_init(d, sub);
	*(ProtobufCMessage **)slot = sub;
	return message_from_json(w, sub, v);
}

/* Read one value of field `f` from `v` into `slot`. */
static int value_from_json(struct walk *w, void *slot,
			   const ProtobufCFieldDescriptor *f, json_object *v)
{
	const struct type_info *t = type_of(f);

	switch (t->kind) {
	case K_SIGNED:
	case K_UNSIGNED:
		return integer_from_json(w, slot, t, v);
	case K_REAL:
		return real_from_json(w, slot, t, v);
	case K_BOOL:
		return bool_from_json(w, slot, v);
	case K_ENUM:
		return enum_from_json(w, slot, f->descriptor, v);
	case K_STRING:
		return string_from_json(w, slot, v);
	case K_BYTES:
		return bytes_from_json(w, slot, v);
	case K_MESSAGE:
		break;
	}
	return submessage_from_json(w, slot, f->descriptor, v);
}

/*
 * A repeated field from a JSON array.  The array is allocated zeroed and
 * the count raised before each element is read, so that what a failure
 * leaves behind is exactly what free_unpacked walks and frees.
 */
static int repeated_from_json(struct walk *w, ProtobufCMessage *m,
			      const ProtobufCFieldDescriptor *f,
			      json_object *v)
{
	size_t *count = member_of(m, f->quantifier_offset);
	size_t size = type_of(f)->size, n;
	char *arr;
	int rc = 0;

	if (!json_object_is_type(v, json_type_array))
		return walk_fail(w, PPX_EINVAL, "expected an array, got %s",
				 json_kind(v));
	n = json_object_array_length(v);
	if (n == 0)
		return 0;
	arr = calloc(n, size);
	if (!arr)
		return walk_nomem(w);
	*(char **)member_of(m, f->offset) = arr;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		size_t saved = path_push(w, NULL, i);

		(*count)++;
		if (json_object_is_type(e, json_type_null))
			rc = walk_fail(w, PPX_EINVAL, "null in a list");
		else
			rc = value_from_json(w, arr + i * size, f, e);
		path_pop(w, saved);
	}
	return rc;
}

/* A field that is not repeated: mark it set (oneof case, proto2 has_ flag)
 * and read its value.  A second member of a oneof is refused. */
static int single_from_json(struct walk *w, ProtobufCMessage *m,
			    const ProtobufCFieldDescriptor *f, json_object *v)
{
	void *q = member_of(m, f->quantifier_offset);
	const ProtobufCFieldDescriptor *o;
	char other[NAME_MAX_LEN];

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(uint32_t *)q != 0) {
			o = protobuf_c_message_descriptor_get_field(
				m->descriptor, *(uint32_t *)q);
			if (!o || json_name(other, o->name))
				snprintf(other, sizeof(other), "#%u",
					 *(uint32_t *)q);
			return walk_fail(w, PPX_EINVAL, "\"%s\" is given too, "
					 "and only one member of a oneof may "
					 "be", other);
		}
		*(uint32_t *)q = f->id;
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		   f->type != PROTOBUF_C_TYPE_STRING &&
		   f->type != PROTOBUF_C_TYPE_MESSAGE) {
		*(protobuf_c_boolean *)q = 1;
	}
	return value_from_json(w, member_of(m, f->offset), f, v);
}

/* The member `key` of a JSON object into message `m`; `seen` marks fields
 * given already, under either of their names.  null means "not given". */
static int member_from_json(struct walk *w, ProtobufCMessage *m,
			    unsigned char *seen, const char *key,
			    json_object *v)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char name[NAME_MAX_LEN], q[QUOTE_MAX + 4];
	int i = field_index(d, key), rc;
	size_t saved;

	if (i < 0)
		return walk_fail(w, PPX_EINVAL, "%s has no field \"%s\"",
				 d->name, printable(q, key));
	rc = json_name(name, d->fields[i].name);
	if (rc)
		return rc;
	saved = path_push(w, name, 0);
	if (seen[i])
		rc = walk_fail(w, PPX_EINVAL, "field is given twice (as %s "
			       "and as %s)", name, d->fields[i].name);
	else if (json_object_is_type(v, json_type_null))
		rc = 0;
	else if (d->fields[i].label == PROTOBUF_C_LABEL_REPEATED)
		rc = repeated_from_json(w, m, &d->fields[i], v);
	else
		rc = single_from_json(w, m, &d->fields[i], v);
	seen[i] = 1;
	path_pop(w, saved);
	return rc;
}

static int message_from_json(struct walk *w, ProtobufCMessage *m,
			     json_object *obj)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	struct json_object_iterator it, end;
	unsigned char *seen;
	int rc = 0;

	if (!json_object_is_type(obj, json_type_object))
		return walk_fail(w, PPX_EINVAL, "expected an object (%s), "
				 "got %s", d->name, json_kind(obj));
	if (w->depth >= PPX_JSON_MAX_DEPTH)
		return walk_fail(w, PPX_ETOOBIG,
				 "messages nested deeper than %d",
				 PPX_JSON_MAX_DEPTH);
	seen = calloc(d->n_fields + 1, 1);
	if (!seen)
		return walk_nomem(w);
	w->depth++;
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	while (rc == 0 && !json_object_iter_equal(&it, &end)) {
		rc = member_from_json(w, m, seen,
				      json_object_iter_peek_name(&it),
				      json_object_iter_peek_value(&it));
		json_object_iter_next(&it);
	}
	w->depth--;
	free(seen);
	return rc;
}

int ppx_json_to_message(ProtobufCMessage **out,
			const ProtobufCMessageDescriptor *desc,
			json_object *obj)
{
	struct walk w = {.len = 0};
	ProtobufCMessage *m;
	int rc;

	if (!out || !desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
		return ppx_error_set(PPX_EINVAL, "ppx_json_to_message: no "
				     "output or no message type");
	*out = NULL;
	m = malloc(desc->sizeof_message);
	if (!m)
		return ppx_error_set(PPX_ENOMEM, "out of memory for a %s",
				     desc->name);
	protobuf_c_message_init(desc, m);
	rc = message_from_json(&w, m, obj);
	if (rc) {
		protobuf_c_message_free_unpacked(m, NULL);
		return rc;
	}
	*out = m;
	return 0;
}

/* Parse `len` bytes of JSON text into one JSON value, all of them used. */
static int json_read(json_object **out, const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_TEXT_DEPTH);
	enum json_tokener_error err;
	size_t end;
	int rc = 0;

	if (!tok)
		return ppx_error_set(PPX_ENOMEM, "out of memory parsing JSON");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_continue) {
		/* All of it read: a NUL says that is the end (of "null"). */
		*out = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
	}
	if (err == json_tokener_error_parse_eof)
		rc = ppx_error_set(PPX_EINVAL, "JSON text ends early, at byte "
				   "%zu", len);
	else if (err == json_tokener_error_depth)
		rc = ppx_error_set(PPX_ETOOBIG, "JSON text nests deeper than %d "
				   "levels (at byte %zu)", JSON_TEXT_DEPTH, end);
	else if (err != json_tokener_success)
		rc = ppx_error_set(PPX_EINVAL, "JSON text does not parse at "
				   "byte %zu: %s", end,
				   json_tokener_error_desc(err));
	else if (end != len)
		rc = ppx_error_set(PPX_EINVAL, "JSON text goes on after the "
				   "value, at byte %zu", end);
	json_tokener_free(tok);
	if (rc) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

int ppx_json_parse(ProtobufCMessage **out,
		   const ProtobufCMessageDescriptor *desc, const char *text,
		   size_t len)
{
	json_object *obj = NULL;
	const char *nul;
	int rc;

	if (!out || !desc || (!text && len))
		return ppx_error_set(PPX_EINVAL, "ppx_json_parse: no output, "
				     "message type or text");
	*out = NULL;
	if (len > PPX_JSON_MAX_INPUT)
		return ppx_error_set(PPX_ETOOBIG, "JSON text of %zu bytes is "
				     "over the limit of %d", len,
				     PPX_JSON_MAX_INPUT);
	nul = len ? memchr(text, '\0', len) : NULL;
	if (nul)
		return ppx_error_set(PPX_EINVAL, "JSON text has a NUL byte at "
				     "byte %zu", (size_t)(nul - text));
	rc = json_read(&obj, len ? text : "", len);
	if (rc == 0)
		rc = ppx_json_to_message(out, desc, obj);
	json_object_put(obj);
	return rc;
}
