/*
 * json_int.h — what json.c shares with json_print.c (message -> JSON) and
 * json_parse.c (JSON -> message): the walk with its error path, the type
 * table, field names and the encodings.  Internal to libppx.
 */
#ifndef PPX_JSON_INT_H
#define PPX_JSON_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

#include "ppx/json-c.h"

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

/* By protobuf-c type (PROTOBUF_C_TYPE_*). */
extern const struct type_info ppxi_types[];

/* Descriptors are compiled in, so their types are trusted. */
const struct type_info *ppxi_type_of(const ProtobufCFieldDescriptor *f);

/* Record "path: detail" (just the detail at the top) and return `code`. */
int ppxi_walk_fail(const struct walk *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ppxi_walk_nomem(const struct walk *w);

/* Append ".name" (or "name" at the top) or "[i]" to the path and return its
 * previous length, for ppxi_path_pop().  A path that does not fit is cut and
 * ends in "...". */
size_t ppxi_path_push(struct walk *w, const char *name, size_t i);
void ppxi_path_pop(struct walk *w, size_t saved);

/* Up to QUOTE_MAX bytes of `s`, made printable, for error messages. */
const char *ppxi_printable(char buf[QUOTE_MAX + 4], const char *s);

/* "a number", "an array": what a JSON value is, for error messages. */
const char *ppxi_json_kind(json_object *v);

/* The JSON name of a .proto field name (risk_level -> riskLevel). */
int ppxi_json_name(char out[NAME_MAX_LEN], const char *name);

/* The index of the field `key` names (JSON or .proto name), or -1. */
int ppxi_field_index(const ProtobufCMessageDescriptor *d, const char *key);

/* Whether `s` is well-formed UTF-8 (RFC 3629). */
int ppxi_utf8_valid(const unsigned char *s, size_t len);

/* Base64 (standard or URL-safe, padded or not) into `out`, malloc'd (NULL
 * when empty): 0, PPX_EINVAL or PPX_ENOMEM. */
int ppxi_base64_decode(ProtobufCBinaryData *out, const char *s, size_t len);

/* A JSON number written as a string as a double: 0 or -1. */
int ppxi_number_text(const char *s, double *d);

#endif
