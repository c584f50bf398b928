/*
 * domain.h — the rules of the four message families (DOMAIN.md), checked
 * before a body is signed and again when a partner's body is received.
 *
 * The rules are pure functions of one Body and the agency that sends it:
 * nothing here reads the log or the clock.  What needs the log (is this
 * partner record update based on the latest version? does the message it
 * answers exist?) is daemon/records.c, which builds on the partner record
 * functions below.
 *
 * A refusal is PPX_EBODY (something required is missing or malformed) or
 * PPX_EPOLICY (an agency changing a partner record field it does not
 * own), and ppx_error_last() names the field by its path in the Body, e.g.
 * "minutes.actions[1].owner.agency: an action needs a named owner and
 * their agency".  docs/PROTOCOL.md section 4 lists every rule.
 *
 * Agency types.  The type of an agency is the first label of its dotted
 * name: police.gwent is police, probation.gwent probation, prison.cardiff
 * prison; any other first label (housing, health, ...) is a
 * duty-to-co-operate agency, which owns no partner record field.
 */
#ifndef PPX_DOMAIN_H
#define PPX_DOMAIN_H

#include <stddef.h>

#include "ppx.pb-c.h"

/* Agency types, as bits so that a field may have several owners. */
enum ppx_agency_type {
	PPX_AGENCY_POLICE = 1u << 0,
	PPX_AGENCY_PROBATION = 1u << 1,
	PPX_AGENCY_PRISON = 1u << 2,
	PPX_AGENCY_DTC = 1u << 3,	/* duty-to-co-operate: owns nothing */
};

/* The type of `agency` (a PPX_AGENCY_* bit); PPX_AGENCY_DTC for any name
 * that is not police.*, probation.* or prison.*, and for NULL. */
unsigned ppx_agency_type(const char *agency);

/* "police", "probation", "prison", "police or probation", ... into `out`
 * for a set of PPX_AGENCY_* bits ("no agency" for none). */
void ppx_agency_types_name(char *out, size_t cap, unsigned types);

/*
 * Check `b` against the rules of its family, as sent by `sender_agency`
 * (the configured agency before signing; the verified signer on receipt).
 * The body's own completeness (message id, recipients, marking, ...) is
 * ppx_body_check()'s; this adds what the domain requires.  0, PPX_EBODY or
 * PPX_EPOLICY with the field named in ppx_error_last().
 */
int ppx_domain_check(const Ppx__V1__Body *b, const char *sender_agency);

/* ------------------------------------------------------------------ */
/* Partner records: fields, owners and differences                     */
/* ------------------------------------------------------------------ */

/* The number of PartnerRecord field paths that can change (below). */
#define PPX_RECORD_FIELDS 19

/* Bytes of Body.emergency.reason at most (PROTOCOL.md 3.6). */
#define PPX_EMERGENCY_REASON_MAX 1024

/*
 * The field paths an update can change, as `changed_fields` names them:
 * "subject.pnc_id", ..., "addresses", "category", "level", "rosh",
 * "lead_agency", "officers.offender_manager", ..., "conditions",
 * "partner_agencies", "current_prison".  `i` < PPX_RECORD_FIELDS, else
 * NULL.
 */
const char *ppx_record_field_name(size_t i);

/*
 * The agency types that own field `path` (PPX_AGENCY_* bits; 0 for a
 * name that is not a field).  "conditions" is owned per condition by its
 * kind (licence conditions: probation; orders: police) and gives the
 * union of the two.
 */
unsigned ppx_record_field_owners(const char *path);

/* The owners of a condition of `kind` (a Ppx__V1__ConditionKind). */
unsigned ppx_condition_owners(int kind);

/*
 * The fields in which `a` and `b` differ, in the order of
 * ppx_record_field_name(), as pointers to those static names: out must
 * have room for PPX_RECORD_FIELDS.  Either may be NULL (a record with
 * nothing set).  Sets *n; returns 0.  (Memory shortage while comparing
 * counts as a difference, so that a change is refused rather than let
 * by.)
 */
int ppx_record_diff(const char **out, size_t *n,
		    const Ppx__V1__PartnerRecord *a,
		    const Ppx__V1__PartnerRecord *b);

/* Nonzero if field `path` holds the same value in `a` and `b` (either
 * may be NULL).  An unknown path is never equal. */
int ppx_record_field_equal(const char *path, const Ppx__V1__PartnerRecord *a,
			   const Ppx__V1__PartnerRecord *b);

/*
 * May `agency` (by its type) turn field `path` of `from` into its value in
 * `to`?  For "conditions" every condition added, removed or changed
 * (matched by id) must be of a kind the agency's type owns.  0,
 * PPX_EPOLICY naming the field, the agency and the owner, or PPX_EBODY for
 * a path that is not a field.
 */
int ppx_record_may_change(const char *path, const char *agency,
			  const Ppx__V1__PartnerRecord *from,
			  const Ppx__V1__PartnerRecord *to);

/*
 * Make field `path` of `to` hold the value it has in `from` (`from` may be
 * NULL: the field is cleared), for composing an update or a merge.  The
 * copy is shallow: `to` then points into `from`'s memory, so it may be
 * used only while `from` lives and must never be freed with
 * protobuf_c_message_free_unpacked().  For "subject.*" and "officers.*",
 * `to` must have a subject / officers of its own (not shared with
 * another record).  0 or PPX_EINVAL.
 */
int ppx_record_field_take(Ppx__V1__PartnerRecord *to, const char *path,
			  const Ppx__V1__PartnerRecord *from);

#endif
