/*
 * entry_json.h — a log entry as the entry JSON: the one object in which
 * ppx hands a log entry to anything outside it.
 *
 * The same object, with the same keys, is what durable hooks get on stdin
 * and the event stream publishes (daemon/events.c), and what `ppx log
 * --json`, follow, show, subject and export print (client/cmd_log.c, which
 * adds what only a reader of the whole log knows: delivery and
 * acknowledgement state).  docs/HOOKS.md, "The entry JSON", is the
 * reference for every key.
 *
 * The object is a json-c object, as ppx_json_from_message() gives
 * (include/ppx/json.h), so that callers can add to it, embed it and
 * serialise it as they need.  Strings are copied as the log holds them: a
 * string from an older log may not be UTF-8, so callers repair the text
 * they write (ppx_text_repair()).
 */
#ifndef PPX_ENTRY_JSON_H
#define PPX_ENTRY_JSON_H

#include <json-c/json.h>

#include "ppx.pb-c.h"

/* Flags of ppx_entry_json(). */
#define PPX_ENTRY_JSON_BODY 0x1u	/* add "body": the message in
					 * canonical JSON, or null */

/*
 * Entry `e` of the log of `agency` ("" when not known) as a new JSON
 * object (the caller json_object_put()s it).  `body` is the message the
 * entry holds (ppx_entry_body()), or NULL when it holds none or it does
 * not decode; the keys about the message are there only with a body.
 * PPX_ENOMEM.
 */
int ppx_entry_json(json_object **out, const Ppx__V1__LogEntry *e,
		   const Ppx__V1__Body *body, const char *agency,
		   unsigned flags);

#endif
