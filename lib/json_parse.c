/*
 * json_parse.c — canonical proto3 JSON -> protobuf-c message (json.c has
 * the design).  The message is built as protobuf-c's unpacker builds it, so
 * that protobuf_c_message_free_unpacked() frees it whole or half-built.
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
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "\"%s\" is not a decimal integer",
				      ppxi_printable(q, s));
	if (errno == ERANGE)
		return ppxi_walk_fail(w, PPX_EINVAL, "%s is out of range",
				      ppxi_printable(q, s));
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
		return ppxi_walk_fail(
			w, PPX_EINVAL,
			"%s is at a 64-bit limit, to which larger "
			"numbers are clamped: write it as a string",
			json_object_get_string(v));
	case json_type_double:
		if (!isfinite(d) || d != trunc(d))
			return ppxi_walk_fail(
				w, PPX_EINVAL, "%s is not an integer",
				ppxi_printable(q, json_object_get_string(v)));
		if (fabs(d) >= 18446744073709551616.0)
			return ppxi_walk_fail(
				w, PPX_EINVAL, "%s is out of range",
				ppxi_printable(q, json_object_get_string(v)));
		*neg = d < 0;
		*mag = (uint64_t)fabs(d);
		return 0;
	case json_type_string:
		return read_decimal(w, json_object_get_string(v), neg, mag);
	default:
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "expected an integer, got %s",
				      ppxi_json_kind(v));
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
		return ppxi_walk_fail(
			w, PPX_EINVAL, "%s is out of range for %s",
			ppxi_printable(q, json_object_get_string(v)), t->name);
	if (!neg && mag > max)
		return ppxi_walk_fail(
			w, PPX_EINVAL, "%s is out of range for %s",
			ppxi_printable(q, json_object_get_string(v)), t->name);
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
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "%s is out of range (NaN and "
				      "the infinities are written as strings)",
				      ppxi_printable(q, s));
	case json_type_string:
		if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 ||
		    strcmp(s, "-Infinity") == 0)
			*d = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY :
							       INFINITY;
		else if (ppxi_number_text(s, d) != 0)
			return ppxi_walk_fail(w, PPX_EINVAL,
					      "\"%s\" is not a number",
					      ppxi_printable(q, s));
		else if (isinf(*d))
			return ppxi_walk_fail(w, PPX_EINVAL,
					      "%s is out of range",
					      ppxi_printable(q, s));
		return 0;
	default:
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "expected a number, got %s",
				      ppxi_json_kind(v));
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
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "%g is out of range for float", d);
	*(float *)slot = (float)d;
	return 0;
}

static int bool_from_json(const struct walk *w, void *slot, json_object *v)
{
	if (!json_object_is_type(v, json_type_boolean))
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "expected true or false, got %s",
				      ppxi_json_kind(v));
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
		return integer_from_json(w, slot,
					 &ppxi_types[PROTOBUF_C_TYPE_ENUM], v);
	if (!json_object_is_type(v, json_type_string))
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "expected a %s name, got %s", ed->name,
				      ppxi_json_kind(v));
	ev = protobuf_c_enum_descriptor_get_value_by_name(
		ed, json_object_get_string(v));
	if (!ev || (size_t)json_object_get_string_len(v) != strlen(ev->name))
		return ppxi_walk_fail(
			w, PPX_EINVAL, "%s has no value \"%s\"", ed->name,
			ppxi_printable(q, json_object_get_string(v)));
	*(int32_t *)slot = ev->value;
	return 0;
}

/* The text of a JSON string, checked: no NUL inside, valid UTF-8. */
static int read_text(const struct walk *w, json_object *v, const char *what,
		     const char **s, size_t *len)
{
	if (!json_object_is_type(v, json_type_string))
		return ppxi_walk_fail(w, PPX_EINVAL, "expected %s, got %s",
				      what, ppxi_json_kind(v));
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (memchr(*s, '\0', *len))
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "string contains NUL (\\u0000)");
	if (!ppxi_utf8_valid((const unsigned char *)*s, *len))
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "string is not valid UTF-8");
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
		return ppxi_walk_nomem(w);
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
	rc = ppxi_base64_decode(slot, s, len);
	if (rc == PPX_ENOMEM)
		return ppxi_walk_nomem(w);
	if (rc)
		return ppxi_walk_fail(w, PPX_EINVAL, "string is not base64");
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
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "expected an object, got %s",
				      ppxi_json_kind(v));
	sub = malloc(d->sizeof_message);
	if (!sub)
		return ppxi_walk_nomem(w);
	protobuf_c_message_init(d, sub);
	*(ProtobufCMessage **)slot = sub;
	return message_from_json(w, sub, v);
}

/* Read one value of field `f` from `v` into `slot`. */
static int value_from_json(struct walk *w, void *slot,
			   const ProtobufCFieldDescriptor *f, json_object *v)
{
	const struct type_info *t = ppxi_type_of(f);

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
	size_t size = ppxi_type_of(f)->size, n;
	char *arr;
	int rc = 0;

	if (!json_object_is_type(v, json_type_array))
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "expected an array, got %s",
				      ppxi_json_kind(v));
	n = json_object_array_length(v);
	if (n == 0)
		return 0;
	arr = calloc(n, size);
	if (!arr)
		return ppxi_walk_nomem(w);
	*(char **)member_of(m, f->offset) = arr;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		size_t saved = ppxi_path_push(w, NULL, i);

		(*count)++;
		if (json_object_is_type(e, json_type_null))
			rc = ppxi_walk_fail(w, PPX_EINVAL, "null in a list");
		else
			rc = value_from_json(w, arr + i * size, f, e);
		ppxi_path_pop(w, saved);
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
			if (!o || ppxi_json_name(other, o->name))
				snprintf(other, sizeof(other), "#%u",
					 *(uint32_t *)q);
			return ppxi_walk_fail(
				w, PPX_EINVAL,
				"\"%s\" is given too, "
				"and only one member of a oneof may "
				"be",
				other);
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
	int i = ppxi_field_index(d, key), rc;
	size_t saved;

	if (i < 0)
		return ppxi_walk_fail(w, PPX_EINVAL, "%s has no field \"%s\"",
				      d->name, ppxi_printable(q, key));
	rc = ppxi_json_name(name, d->fields[i].name);
	if (rc)
		return rc;
	saved = ppxi_path_push(w, name, 0);
	if (seen[i])
		rc = ppxi_walk_fail(w, PPX_EINVAL,
				    "field is given twice (as %s "
				    "and as %s)",
				    name, d->fields[i].name);
	else if (json_object_is_type(v, json_type_null))
		rc = 0;
	else if (d->fields[i].label == PROTOBUF_C_LABEL_REPEATED)
		rc = repeated_from_json(w, m, &d->fields[i], v);
	else
		rc = single_from_json(w, m, &d->fields[i], v);
	seen[i] = 1;
	ppxi_path_pop(w, saved);
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
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "expected an object (%s), "
				      "got %s",
				      d->name, ppxi_json_kind(obj));
	if (w->depth >= PPX_JSON_MAX_DEPTH)
		return ppxi_walk_fail(w, PPX_ETOOBIG,
				      "messages nested deeper than %d",
				      PPX_JSON_MAX_DEPTH);
	seen = calloc(d->n_fields + 1, 1);
	if (!seen)
		return ppxi_walk_nomem(w);
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
