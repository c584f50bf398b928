/*
 * ppx/names.h — the names under which ppx writes out the values of its
 * protocol enums and the families of a Body, the same in the log reader,
 * the event stream, the daemon's messages and status.
 *
 * Each name is the one proto/ppx.proto gives (the protobuf-c descriptors
 * are the single table), except that a delivery state drops its
 * "DELIVERY_" prefix, as it has always been shown.  Each function returns
 * a static string, or NULL for a value without a name: the caller says
 * what an unknown value is written as ("?", "").
 */
#ifndef PPX_NAMES_H
#define PPX_NAMES_H

/* "ENTRY_SENT", ... */
const char *ppx_entry_kind_name(int kind);

/* "QUEUED", "DELIVERED", "REFUSED" ("UNSPECIFIED" for 0). */
const char *ppx_delivery_state_name(int state);

/* "REJECT_POLICY", ... ("REJECT_NONE" for 0). */
const char *ppx_reject_reason_name(int reason);

/* "MAPPA_ELIGIBLE", ... */
const char *ppx_notification_kind_name(int kind);

/* "ROUTINE", "URGENT", "IMMEDIATE" ("PRIORITY_UNSPECIFIED" for 0). */
const char *ppx_priority_name(int priority);

/* "OFFICIAL", "OFFICIAL_SENSITIVE" ("MARKING_UNSPECIFIED" for 0). */
const char *ppx_marking_name(int marking);

/* The family of a Body by its payload case: the name of the payload
 * field, "notification", "partner_record", ...; NULL for no payload. */
const char *ppx_family_name(int payload_case);

#endif
