/*
 * policy.h — who may send what to whom.
 *
 * The policy file (docs/CONFIG.md) lists rules — from which agencies, to
 * which, which message families and notification kinds, up to which
 * protective marking, and whether counter-terrorism material may pass —
 * and the duty-to-co-operate agencies with the cases each is a partner
 * on.  Need to know (DOMAIN.md): a message passes only if some rule lets
 * it, and a duty-to-co-operate agency receives only what concerns its
 * cases.
 *
 * The daemon asks twice: before signing, once per recipient, and in the
 * receive pipeline with `to` = itself, so that a partner with a laxer
 * policy cannot push material we would not accept.
 */
#ifndef PPXD_POLICY_H
#define PPXD_POLICY_H

#include <stddef.h>

#include "ppx/cases.h"
#include "ppx/config.h"
#include "ppx.pb-c.h"

#define POLICY_MAX_RULES 1024
#define POLICY_MAX_DTC 256
#define POLICY_MAX_SUBJECTS 100000	/* per duty-to-co-operate agency */

typedef struct ppxd_policy ppxd_policy;

/*
 * Read and check the policy file at `path`: unknown sections or keys,
 * missing or repeated keys, unknown families, notification kind names
 * and globs that match no NotificationKind are refused, naming
 * "file:line".  On success *out is new (free with policy_free).
 */
int policy_load(ppxd_policy **out, const char *path);

void policy_free(ppxd_policy *self);

/* One message, from one agency to one recipient. */
struct policy_query {
	const char *from;		/* sending agency */
	const char *to;			/* one recipient agency */
	int family;			/* Ppx__V1__Body__PayloadCase */
	int kind;			/* Ppx__V1__NotificationKind, or 0 */
	int marking;			/* Ppx__V1__ProtectiveMarking */
	int counter_terrorism;		/* nonzero for CT material */
	const char *const *subjects;	/* subject keys, "crn:X123456" */
	size_t n_subjects;
	/* Need to know by case (PROTOCOL.md 3.5), for a duty-to-co-operate
	 * recipient: the case of the subject keys as this agency's log holds
	 * it (ppx_case_load; NULL: no record held), the message itself when
	 * it is a partner record, and whether it is sent in an emergency
	 * (Body.emergency, which waives this test and only this one). */
	const struct ppx_case *cas;
	const Ppx__V1__PartnerRecord *record;
	int emergency;
	/* `to` is a duty-to-co-operate agency by the directory or the
	 * configuration (ppxd_duty_to_cooperate), even without a
	 * [duty-to-cooperate] section here: judged with an empty static
	 * list, by its cases only. */
	int to_dtc;
};

/* The query for message body `b` from `from`, under its subject keys
 * (ppx_subject_keys), with its record and emergency; `to` and `cas` are
 * left for the caller to set. */
void policy_query_of(struct policy_query *q, const Ppx__V1__Body *b,
		     const char *from, char *const *subjects,
		     size_t n_subjects);

/* Subject keys `keys` (NULLs skipped) as "K1, K2" into `out` (cut at
 * `cap`), as refusals name them. */
void policy_keys_text(char *out, size_t cap, const char *const *keys,
		      size_t n);

/*
 * 0 if the policy lets `q` pass; otherwise PPX_EPOLICY and
 * ppx_error_last() says why in a sentence, e.g. "policy: no rule lets
 * police.gwent send notification:ARREST to housing.newport".  A query
 * with an unknown family, kind or marking is refused the same way.  A
 * duty-to-co-operate recipient T passes need to know if its static
 * subjects list one of the keys, or the message is an emergency, or the
 * message is a partner record listing T, or the case (q->cas) lists T;
 * else the refusal names the record that decided: "policy:
 * housing.newport is not on the case of crn:X1: partner record R v3
 * (police.gwent) does not list housing.newport, and [duty-to-cooperate
 * housing.newport] does not list crn:X1".
 */
int policy_check(const ppxd_policy *self, const struct policy_query *q);

/*
 * Nonzero if the policy's [signatures] require_person_signature lists the
 * family (or notification kind) of `b`: then a message of it is sent and
 * accepted only with a personal signature.  `what` gets the family or
 * kind as the file writes it, e.g. "disclosure", for the refusal.
 */
int policy_person_required(const ppxd_policy *self, const Ppx__V1__Body *b,
			   char *what, size_t size);

/* Nonzero if `agency` has a [duty-to-cooperate AGENCY] section. */
int policy_is_duty_to_cooperate(const ppxd_policy *self, const char *agency);

/*
 * The configuration and the policy agree on which partners are
 * duty-to-co-operate agencies: a partner of type duty-to-cooperate
 * without a [duty-to-cooperate] section would otherwise receive whatever
 * the rules allow, whatever the case.  0 or PPX_EINVAL naming both files.
 */
int policy_check_config(const ppxd_policy *self, const struct ppx_config *cfg);

#endif
