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
 * Here the entry JSON is text, ready to hand on.  Callers that add to the
 * object, or embed it in JSON of their own built with json-c (the
 * client), take it as a json-c object from the bridge,
 * include/ppx/json-c.h (ppx_entry_json()).
 */
#ifndef PPX_ENTRY_JSON_H
#define PPX_ENTRY_JSON_H

#include "ppx.pb-c.h"

/* Flags of ppx_entry_json(). */
#define PPX_ENTRY_JSON_BODY 0x1u	/* add "body": the message in
					 * canonical JSON, or null */

/*
 * Entry `e` of the log of `agency` ("" when not known) as compact JSON
 * text, NUL-terminated and malloc'd (the caller frees it).  `body` is the
 * message the entry holds (ppx_entry_body()), or NULL when it holds none
 * or it does not decode; the keys about the message are there only with a
 * body.  The text is valid UTF-8: a string from an older log that is not
 * has U+FFFD in place of each bad byte.  PPX_ENOMEM.
 */
int ppx_entry_json_print(char **out, const Ppx__V1__LogEntry *e,
			 const Ppx__V1__Body *body, const char *agency,
			 unsigned flags);

#endif
