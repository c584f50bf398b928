/*
 * text.h — strings are text: valid UTF-8 without NUL, checked on the wire
 * bytes and kept so in everything ppx writes.
 *
 * protobuf-c neither checks UTF-8 nor keeps bytes after a NUL (it decodes
 * a string into a NUL-terminated char *), so a check on the decoded
 * message could not see a NUL and what follows it.  ppx_text_check()
 * therefore walks the SERIALISED bytes with the generated descriptors:
 * every length-delimited field whose descriptor type is a string must be
 * strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) and hold no NUL; every submessage is walked the same way, to
 * a bounded depth; unknown fields are skipped.
 *
 * The rest is for writing: ppx_text_escape() makes text quoted from
 * outside (error details that end up in receipts, log entries and log
 * lines) valid, printable UTF-8; ppx_text_repair() replaces what is not
 * UTF-8 by U+FFFD for JSON and CSV output.
 */
#ifndef PPX_TEXT_H
#define PPX_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define PPX_TEXT_MAX_DEPTH 32	/* nested messages walked by the check */

/* Length (1 to 4) of the well-formed UTF-8 sequence at `s`, which has
 * `left` bytes (at least 1), or 0 if none starts there.  NUL counts as a
 * well-formed sequence here; ppx_utf8_find_bad() refuses it. */
size_t ppx_utf8_seq(const uint8_t *s, size_t left);

/* Offset of the first byte of `s` that is NUL or not part of well-formed
 * UTF-8, or `len` when the whole is text. */
size_t ppx_utf8_find_bad(const uint8_t *s, size_t len);

/*
 * Check every string field, at any depth, of the serialised message of
 * type `desc` in `buf`.  0 when all are text; otherwise PPX_EBODY with a
 * detail naming the field by its path and the byte at fault, e.g.
 * `minutes.attendees[2].name: invalid UTF-8 at byte 5`, `what` put in
 * front ("receipt: items[0].detail: ...") when not NULL.  Bytes that are
 * not a well-formed protobuf encoding, or nesting deeper than
 * PPX_TEXT_MAX_DEPTH, are PPX_EBODY too.
 */
int ppx_text_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
		   size_t len, const char *what);

/*
 * Copy `len` bytes of `in` into `out` (`cap` bytes, at least 1, always
 * NUL-terminated) as printable UTF-8: a byte that is not part of
 * well-formed UTF-8, NUL, a C0 control or DEL becomes the four characters
 * `\xNN`.  Cut at a character boundary when it does not fit.  Returns the
 * length written.  `in` and `out` must not overlap.
 */
size_t ppx_text_escape(char *out, size_t cap, const char *in, size_t len);

/*
 * A malloc'd, NUL-terminated copy of `len` bytes of `in` in which every
 * byte that is not part of well-formed UTF-8 (and every NUL) is replaced
 * by U+FFFD.  *outlen (if not NULL) gets its length.  NULL when out of
 * memory.
 */
char *ppx_text_repair(const char *in, size_t len, size_t *outlen);

#endif
