/*
 * review.h — the reviewer's finding on an emergency access (`ppx review`,
 * ControlRequest.review; docs/PROTOCOL.md 9).
 */
#ifndef PPXD_REVIEW_H
#define PPXD_REVIEW_H

#include <stdint.h>

#include "ppx.pb-c.h"

struct ppxd;

/* The mark set (ppx_log_mark_*) of the reviewed accesses: keyed by the
 * seq of the emergency entry, valued by the seq of its ENTRY_REVIEW. */
#define REVIEW_MARKS "emergency-review"
#define REVIEW_FINDING_MAX 1024	/* bytes */

/*
 * Log the finding of operator `person` on the emergency access at r->seq:
 * an ENTRY_REVIEW in this iteration's batch (person, related_seq, the
 * reviewed entry's subject keys, message id and peer_agency,
 * access{reason = finding, justified}) and its mark, so that a second review is refused.  *seq is
 * the ENTRY_REVIEW's place.  Refused: PPX_EPERM when `person` is not the
 * configured emergency_reviewer or is the one who accessed; PPX_EINVAL
 * for a finding that is empty, too long or not printable, or an entry
 * that is no emergency READ or SENT; PPX_ENOTFOUND for no such entry;
 * PPX_EDUP when it was reviewed already.
 */
int review_log(struct ppxd *d, const char *person,
	       const Ppx__V1__ReviewRequest *r, uint64_t *seq);

#endif
