/*
 * domain_fixtures.h — message bodies for the tests of the domain rules
 * (test_domain.c) and of the checks against the log (test_domain_records.c).
 *
 * Bodies are written as JSON (the canonical mapping, .proto field names);
 * a test changes one to three members of a valid one by path, so that
 * every case reads as "this valid message, but ...".
 */
#ifndef PPX_TEST_DOMAIN_FIXTURES_H
#define PPX_TEST_DOMAIN_FIXTURES_H

#include <stddef.h>

#include "ppx.pb-c.h"

#define ID1 "AQEBAQEBAQEBAQEBAQEBAQ=="	/* 16 bytes of 0x01, base64 */

/* People, as JSON Person objects. */
#define PERSON(n, a, r) \
	"{\"name\":\"" n "\",\"agency\":\"" a "\",\"role\":\"" r "\"}"
#define SAM PERSON("Sam Okafor", "probation.gwent", "offender manager")
#define DANA PERSON("Dana Evans", "police.gwent", "police offender manager")

/* Valid bodies: a notification (ARREST), minutes with an action and a
 * decision, a decision to disclose, a partner record's version 1 (by
 * police) and version 2 (by probation, adding the CRN), an
 * acknowledgement and an action update (both replying to ID1). */
extern const char DF_NOTE[];
extern const char DF_MINUTES[];
extern const char DF_DISCLOSURE[];
extern const char DF_RECORD1[];
extern const char DF_RECORD2[];
extern const char DF_ACK[];
extern const char DF_ACTION[];

/* One change: the member at a dotted path (numbers index arrays) becomes
 * the JSON `value`, or is removed when value is NULL. */
struct mut {
	const char *path, *value;
};

/* `json` with sender_agency `sender` (unless NULL) and the first n
 * changes (stopping at one with a NULL path), as a Body; free with
 * body_drop(). */
Ppx__V1__Body *body_from(const char *json, const char *sender,
			 const struct mut *m, size_t n);
void body_drop(Ppx__V1__Body *b);

#endif
