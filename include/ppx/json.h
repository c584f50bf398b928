/*
 * json.h — protobuf messages to and from protobuf's canonical proto3 JSON.
 *
 * One generic mapper, driven by the protobuf-c descriptors, serves every
 * message in ppx.proto: the control socket and the client speak JSON, the
 * wire and the log speak protobuf, and this is where the two meet.  The
 * mapping is protobuf's own (https://protobuf.dev/programming-guides/
 * proto3/#json):
 *
 *   - fields are named in lowerCamelCase on output; input accepts that name
 *     or the .proto name; an unknown name is refused;
 *   - fields at their proto3 default are left out; submessages that are set
 *     and the chosen member of a oneof are always written;
 *   - 64-bit integers are decimal strings (numbers are accepted on input),
 *     32-bit ones numbers; every integer is range-checked on input;
 *   - float and double are numbers, or "NaN", "Infinity", "-Infinity";
 *   - bytes are base64 with padding (input: standard or URL-safe, padded
 *     or not); enums are their value names (input: name or number);
 *   - null on input means "not given", for any field.
 *
 * Input is refused with PPX_EINVAL, and a detail that names the path of the
 * offending value (`minutes.actions[2].owner.agency: expected a string,
 * got a number`); text over PPX_JSON_MAX_INPUT bytes or nested deeper than
 * PPX_JSON_MAX_DEPTH messages is refused with PPX_ETOOBIG.
 *
 * This header speaks JSON text only, so that a program using libppx needs
 * no json-c headers.  Programs that already build their JSON with json-c
 * take the message as a json-c object from the bridge, include/ppx/json-c.h
 * (ppx_json_from_message(), ppx_json_to_message()).
 *
 * Not supported, because ppx.proto does not use them: map fields (which
 * protobuf-c describes as repeated entry messages), the well-known types'
 * special forms (Timestamp, Duration, Any, wrappers), and the check that
 * proto2 `required` fields are present on input.
 */
#ifndef PPX_JSON_H
#define PPX_JSON_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define PPX_JSON_MAX_INPUT (4 * 1024 * 1024)	/* bytes of JSON text */
#define PPX_JSON_MAX_DEPTH 32			/* nested messages */

/* Flags of ppx_json_print(). */
#define PPX_JSON_PRETTY 0x1u	/* indent by two spaces, one field a line */

/*
 * `msg` as JSON text, NUL-terminated and malloc'd (the caller frees it).
 * Without flags the text is compact: no whitespace at all.  A string that
 * is not UTF-8 is written with U+FFFD in place of each bad byte (JSON is
 * text; ppx refuses such strings on the way in, but a log may hold some
 * from before).  Fails with PPX_EINVAL if the message is malformed (a
 * repeated field with a NULL element), PPX_ETOOBIG if it nests deeper than
 * PPX_JSON_MAX_DEPTH, PPX_ENOMEM.
 */
int ppx_json_print(char **out, const ProtobufCMessage *msg, unsigned flags);

/*
 * A new message of type `desc` from `len` bytes of JSON text (not
 * necessarily NUL-terminated).  The text must be one JSON object, valid
 * UTF-8, with nothing but whitespace after it.  The message is allocated
 * as protobuf-c's unpacker would allocate it, so the caller frees it with
 * protobuf_c_message_free_unpacked(msg, NULL).  On failure *out is NULL
 * and nothing is left allocated.
 */
int ppx_json_parse(ProtobufCMessage **out,
		   const ProtobufCMessageDescriptor *desc, const char *text,
		   size_t len);

#endif
