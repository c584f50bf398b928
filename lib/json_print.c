/*
 * json_print.c — protobuf-c message -> canonical proto3 JSON (json.c has
 * the design).  A field is written exactly when protobuf-c's packer would
 * put it on the wire.
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
#include "ppx/text.h"
#include "json_int.h"

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
	const struct type_info *t = ppxi_type_of(f);
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
	return v ? 0 : ppxi_walk_nomem(w);
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

/* A string that is not UTF-8 (one stored before ppx refused them, see
 * text.h) is written with U+FFFD for each bad byte: JSON must be text,
 * and a reader is better served by the rest of the message than by none
 * of it. */
static int string_to_json(const struct walk *w, json_object **out,
			  const char *s)
{
	char *fixed = NULL;
	size_t len;
	int rc;

	if (!s)
		return ppxi_walk_fail(w, PPX_EINVAL, "string pointer is NULL");
	len = strlen(s);
	if (!ppxi_utf8_valid((const unsigned char *)s, len)) {
		if (!(fixed = ppx_text_repair(s, len, &len)))
			return ppxi_walk_nomem(w);
		s = fixed;
	}
	if (len > INT32_MAX)
		rc = ppxi_walk_fail(w, PPX_ETOOBIG,
				    "string is too long for JSON");
	else
		rc = new_or_nomem(w, out,
				  json_object_new_string_len(s, (int)len));
	free(fixed);
	return rc;
}

/* Bytes as standard base64 with padding. */
static int bytes_to_json(const struct walk *w, json_object **out,
			 const ProtobufCBinaryData *b)
{
	unsigned char *text;
	int len, rc;

	if (b->len && !b->data)
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "bytes of length %zu at NULL", b->len);
	if (b->len > INT32_MAX / 4 * 3 - 3)
		return ppxi_walk_fail(w, PPX_ETOOBIG,
				      "bytes are too long for JSON");
	text = malloc((b->len + 2) / 3 * 4 + 1);
	if (!text)
		return ppxi_walk_nomem(w);
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
	const struct type_info *t = ppxi_type_of(f);
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
		return ppxi_walk_fail(w, PPX_EINVAL, "message pointer is NULL");
	return message_to_json(w, out, sub);
}

static int repeated_to_json(struct walk *w, json_object **out,
			    const ProtobufCMessage *m,
			    const ProtobufCFieldDescriptor *f)
{
	size_t n = *(const size_t *)member_at(m, f->quantifier_offset);
	const char *arr = *(const char *const *)member_at(m, f->offset);
	size_t size = ppxi_type_of(f)->size;
	json_object *a;
	int rc = 0;

	if (!arr)
		return ppxi_walk_fail(w, PPX_EINVAL, "%zu elements at NULL", n);
	a = json_object_new_array();
	if (!a)
		return ppxi_walk_nomem(w);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t saved = ppxi_path_push(w, NULL, i);
		json_object *v = NULL;

		rc = value_to_json(w, &v, f, arr + i * size);
		if (rc == 0 && json_object_array_add(a, v) != 0) {
			json_object_put(v);
			rc = ppxi_walk_nomem(w);
		}
		ppxi_path_pop(w, saved);
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
	int rc = ppxi_json_name(name, f->name);

	if (rc)
		return rc;
	saved = ppxi_path_push(w, name, 0);
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		rc = repeated_to_json(w, &v, m, f);
	else
		rc = value_to_json(w, &v, f, member_at(m, f->offset));
	if (rc == 0 && json_object_object_add(obj, name, v) != 0) {
		json_object_put(v);
		rc = ppxi_walk_nomem(w);
	}
	ppxi_path_pop(w, saved);
	return rc;
}

static int message_to_json(struct walk *w, json_object **out,
			   const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_object *obj;
	int rc = 0;

	if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
		return ppxi_walk_fail(w, PPX_EINVAL,
				      "message has no descriptor");
	if (w->depth >= PPX_JSON_MAX_DEPTH)
		return ppxi_walk_fail(w, PPX_ETOOBIG,
				      "messages nested deeper than %d",
				      PPX_JSON_MAX_DEPTH);
	obj = json_object_new_object();
	if (!obj)
		return ppxi_walk_nomem(w);
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

