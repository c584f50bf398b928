/*
 * json-c.h — the bridge to json-c, for programs that already build their
 * JSON with it: protobuf messages and log entries as json-c objects.
 *
 * This is the one public header of libppx that includes a foreign
 * library's header (<json-c/json.h>; tests/integration/layout.sh checks
 * that no other does).  The rest of libppx speaks JSON as text
 * (include/ppx/json.h, include/ppx/entry_json.h), which is all a program
 * that only prints or reads JSON needs.  The ppx client includes this: it
 * embeds entries and messages in JSON output of its own.
 */
#ifndef PPX_JSON_C_H
#define PPX_JSON_C_H

#include <json-c/json.h>

#include "ppx/entry_json.h"
#include "ppx/json.h"

/*
 * `msg` as a JSON object (a new reference: the caller json_object_put()s
 * it), mapped as ppx_json_print() maps it.  PPX_EINVAL, PPX_ETOOBIG,
 * PPX_ENOMEM as there.
 */
int ppx_json_from_message(json_object **out, const ProtobufCMessage *msg);

/*
 * A new message of type `desc` from the JSON object `obj`, as
 * ppx_json_parse() makes it from text (the caller frees it with
 * protobuf_c_message_free_unpacked(msg, NULL)).  On failure *out is NULL
 * and nothing is left allocated.
 */
int ppx_json_to_message(ProtobufCMessage **out,
			const ProtobufCMessageDescriptor *desc,
			json_object *obj);

/*
 * As ppx_entry_json_print(), as a new JSON object (the caller
 * json_object_put()s it), so that callers can add to it and embed it.
 * Strings are copied as the log holds them: one from an older log may not
 * be UTF-8, so callers repair the text they write (ppx_text_repair()).
 * PPX_ENOMEM.
 */
int ppx_entry_json(json_object **out, const Ppx__V1__LogEntry *e,
		   const Ppx__V1__Body *body, const char *agency,
		   unsigned flags);

#endif
