/*
 * cases.h — who is on a subject's case, from the partner records a log
 * holds (need to know, docs/CONFIG.md and PROTOCOL.md 3.5).
 *
 * The case of a subject is every partner record whose subject shares a
 * subject key with it ("pnc:...", "crn:...").  For each such record the
 * latest version this log holds counts (all of them, should two agencies'
 * versions of one number be held: a fork not yet merged); earlier
 * versions do not.  An agency is on the case while one of them names it
 * as lead agency, partner agency or current prison; a person, while one
 * names them (by Person.id) as one of its officers.
 *
 * Both ends decide from their own logs, which hold the same records once
 * the updates have travelled: the sender before signing, the receiver on
 * receipt.  What is not in the log does not count, so a decision errs on
 * the side of refusing.
 */
#ifndef PPX_CASES_H
#define PPX_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/logstore.h"
#include "ppx.pb-c.h"

#define PPX_CASE_RECORDS_MAX 16		/* records (latest versions) kept */
#define PPX_CASE_ENTRIES_MAX 100000	/* entries per subject key looked at,
					 * newest first */

struct ppx_case_record {
	Ppx__V1__Body *body;		/* owned; payload is a partner record */
	uint64_t seq;			/* our log position */
};

struct ppx_case {
	struct ppx_case_record records[PPX_CASE_RECORDS_MAX];
	size_t n;
	int more;			/* more records than kept */
};

/*
 * The case of the subject keys `keys` (as ppx_subject_keys() gives them;
 * "record:" keys are ignored) in `log`: the latest version of each
 * partner record about them.  No record is not an error (c->n is 0).
 * PPX_ENOMEM, or the log's error.  Free with ppx_case_free().
 */
int ppx_case_load(struct ppx_case *c, ppx_log *log, char *const *keys,
		  size_t n_keys);
/* The same, looking at no more than `max_entries` entries per key (as
 * ppx_log_by_subject() returns them): for callers that must stay quick,
 * such as the daemon's event loop; a record beyond them is not found. */
int ppx_case_load_max(struct ppx_case *c, ppx_log *log, char *const *keys,
		      size_t n_keys, size_t max_entries);
void ppx_case_free(struct ppx_case *c);

/*
 * Whether `agency` is on the case: 1, with `why` saying by which record
 * ("partner record R v3 (police.gwent) lists it as a partner agency"),
 * else 0 with `why` saying what the records list.  `why` may be NULL.
 */
int ppx_case_lists_agency(const struct ppx_case *c, const char *agency,
			  char *why, size_t cap);

/* Whether `record` (a partner record body) itself names `agency` as lead,
 * partner or current prison. */
int ppx_record_lists_agency(const Ppx__V1__PartnerRecord *r,
			    const char *agency);

/* Whether the person with id `person_id` of `agency` is one of the
 * officers named by a record of the case: 1 or 0. */
int ppx_case_names_person(const struct ppx_case *c, const char *person_id,
			  const char *agency);

/* Whether partner record `r` itself names that person as one of its
 * officers (a record being sent counts for its own sender's operator). */
int ppx_record_names_person(const Ppx__V1__PartnerRecord *r,
			    const char *person_id, const char *agency);

#endif
