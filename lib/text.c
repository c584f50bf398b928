/*
 * text.c — every string ppx accepts or writes is text: valid UTF-8
 * without NUL (text.h has the contract).
 *
 * Where it sits: the sending daemon checks a body's serialised bytes
 * before it signs them (ppx_body_seal), the receiving daemon checks them
 * once the signature holds and before policy (inbound.c), and receipts
 * and checkpoints from partners are checked when opened.  The check walks
 * the wire bytes rather than the decoded message because protobuf-c keeps
 * neither the knowledge that a string was not UTF-8 nor the bytes after a
 * NUL: a decoded "op\0evil" reads as "op", and what the signature covers
 * would differ from what every reader sees.
 *
 * A walk keeps, per nested message, which field it is in and where that
 * field's tag sits, so that a failure can be named by its path
 * (`minutes.attendees[2].name`).  The index of a repeated element is
 * counted only then, by rescanning the message up to that tag: the walk
 * itself stays linear however many elements there are.
 *
 * The writing half makes text from outside safe to quote: escaped as \xNN
 * where a person reads it (error details, log lines), U+FFFD where a
 * program reads it (JSON, CSV).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/text.h"

#define QUOTE_BYTES 40	/* of a bad string, quoted in the detail */

size_t ppx_utf8_seq(const uint8_t *s, size_t left)
{
	uint8_t c = s[0], lo, hi;
	size_t more = c < 0x80 ? 0 : c < 0xc2 ? 4 : c < 0xe0 ? 1 :
		      c < 0xf0 ? 2 : c < 0xf5 ? 3 : 4;

	/* 0x80..0xc1 are continuation bytes or overlong leads, 0xf5.. lead
	 * above U+10FFFF: no sequence starts with them. */
	if (more == 4 || left <= more)
		return 0;
	/* The second byte's range excludes overlongs (e0, f0), surrogates
	 * (ed) and code points above U+10FFFF (f4). */
	lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	for (size_t k = 1; k <= more; k++, lo = 0x80, hi = 0xbf)
		if (s[k] < lo || s[k] > hi)
			return 0;
	return more + 1;
}

size_t ppx_utf8_find_bad(const uint8_t *s, size_t len)
{
	size_t i = 0, n;

	while (i < len && s[i] != 0 && (n = ppx_utf8_seq(s + i, len - i)) > 0)
		i += n;
	return i;
}

/* ------------------------------------------------------------------ */
/* Walking the wire bytes                                              */
/* ------------------------------------------------------------------ */

/* One field occurrence on the wire. */
struct wire_field {
	uint32_t id;
	unsigned type;		/* wire type: 0 varint, 1 64-bit, 2 length-
				 * delimited, 5 32-bit */
	size_t start;		/* offset of its tag */
	const uint8_t *data;	/* type 2: the payload */
	size_t size;
};

/* Where the walk is, per nested message: the field being walked, the
 * message holding it and the offset of that field's tag. */
struct level {
	const ProtobufCFieldDescriptor *field;
	const uint8_t *msg;
	size_t at;
};

struct walk {
	struct level stack[PPX_TEXT_MAX_DEPTH + 1];
	unsigned depth;
	const char *what;
};

/* The next field at *pos: 0, 1 at the end, -1 if the bytes are not a
 * protobuf encoding (groups, wire types 3 and 4, included: ppx.proto has
 * none and protobuf-c would not decode them). */
static int next_field(const uint8_t *buf, size_t len, size_t *pos,
		      struct wire_field *f)
{
	uint64_t tag, v;

	if (*pos == len)
		return 1;
	f->start = *pos;
	if (ppx_varint_read(buf, len, pos, &tag) != 0 || (tag >> 3) == 0 ||
	    (tag >> 3) > 0x1fffffff)
		return -1;
	f->id = (uint32_t)(tag >> 3);
	f->type = (unsigned)(tag & 7);
	switch (f->type) {
	case 0:
		return ppx_varint_read(buf, len, pos, &v);
	case 1:
	case 5:
		v = f->type == 1 ? 8 : 4;
		break;
	case 2:
		if (ppx_varint_read(buf, len, pos, &v) != 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (v > len - *pos)
		return -1;
	f->data = buf + *pos;
	f->size = (size_t)v;
	*pos += (size_t)v;
	return 0;
}

/* Which element of its repeated field the occurrence at `at` is. */
static size_t element_index(const struct level *l)
{
	struct wire_field f;
	size_t pos = 0, n = 0;

	while (pos < l->at && next_field(l->msg, l->at, &pos, &f) == 0)
		n += f.id == l->field->id;
	return n;
}

/* The path of the field being walked, e.g. "minutes.attendees[2].name". */
static void walk_path(const struct walk *w, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < w->depth && len < cap; i++) {
		const struct level *l = &w->stack[i];
		int n = snprintf(out + len, cap - len, "%s%s", i ? "." : "",
				 l->field->name);

		if (n > 0)
			len += (size_t)n;
		if (len < cap && l->field->label == PROTOBUF_C_LABEL_REPEATED &&
		    (n = snprintf(out + len, cap - len, "[%zu]",
				  element_index(l))) > 0)
			len += (size_t)n;
	}
}

/* PPX_EBODY naming the field being walked and `why`. */
static int ppxi_walk_fail(const struct walk *w, const char *why)
{
	char path[256];

	walk_path(w, path, sizeof(path));
	if (w->what)
		return ppx_error_set(PPX_EBODY, "%s: %s%s%s", w->what, path,
				     path[0] ? ": " : "", why);
	return ppx_error_set(PPX_EBODY, "%s%s%s", path, path[0] ? ": " : "",
			     why);
}

/* A string field's payload must be text. */
static int check_string(const struct walk *w, const uint8_t *s, size_t len)
{
	size_t bad = ppx_utf8_find_bad(s, len);
	char quote[4 * QUOTE_BYTES + 8], why[sizeof(quote) + 64];

	if (bad == len)
		return 0;
	ppx_text_escape(quote, sizeof(quote), (const char *)s,
			len < QUOTE_BYTES ? len : QUOTE_BYTES);
	snprintf(why, sizeof(why), "%s at byte %zu (\"%s%s\")",
		 s[bad] == 0 ? "NUL" : "invalid UTF-8", bad, quote,
		 len > QUOTE_BYTES ? "..." : "");
	return ppxi_walk_fail(w, why);
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d,
			const uint8_t *buf, size_t len)
{
	struct wire_field f;
	size_t pos = 0;
	int more, rc = 0;

	while (rc == 0 && (more = next_field(buf, len, &pos, &f)) == 0) {
		const ProtobufCFieldDescriptor *fd;
		struct level *l = &w->stack[w->depth];

		if (f.type != 2 ||
		    !(fd = protobuf_c_message_descriptor_get_field(d, f.id)))
			continue;	/* no text in it, or unknown: skipped */
		if (fd->type != PROTOBUF_C_TYPE_STRING &&
		    fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		l->field = fd;
		l->msg = buf;
		l->at = f.start;
		w->depth++;
		if (fd->type == PROTOBUF_C_TYPE_STRING)
			rc = check_string(w, f.data, f.size);
		else if (w->depth > PPX_TEXT_MAX_DEPTH)
			rc = ppxi_walk_fail(w, "messages nested too deep");
		else
			rc = walk_message(w, fd->descriptor, f.data, f.size);
		w->depth--;
	}
	if (rc == 0 && more < 0) {
		char why[64];

		snprintf(why, sizeof(why), "not a protobuf encoding at byte %zu",
			 pos);
		rc = ppxi_walk_fail(w, why);
	}
	return rc;
}

int ppx_text_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
		   size_t len, const char *what)
{
	struct walk w = {.depth = 0, .what = what};

	if (!desc || (len && !buf))
		return ppx_error_set(PPX_EINVAL, "ppx_text_check: no message");
	return walk_message(&w, desc, buf, len);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

size_t ppx_text_escape(char *out, size_t cap, const char *in, size_t len)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t o = 0, n;

	for (size_t i = 0; i < len; i += n) {
		n = ppx_utf8_seq(s + i, len - i);
		if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))
			n = 0;	/* a control: shown, never acted on */
		if (n == 0) {
			if (cap - o <= 4)
				break;
			snprintf(out + o, 5, "\\x%02x", s[i]);
			o += 4;
			n = 1;
			continue;
		}
		if (cap - o <= n)
			break;
		memcpy(out + o, s + i, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

char *ppx_text_repair(const char *in, size_t len, size_t *outlen)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t o = 0, n;
	char *out;

	if (len > (SIZE_MAX - 1) / 3 || !(out = malloc(3 * len + 1)))
		return NULL;
	for (size_t i = 0; i < len; i += n) {
		n = s[i] ? ppx_utf8_seq(s + i, len - i) : 0;
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			n = 1;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}
