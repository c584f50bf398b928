/*
 * domain_int.h — what the two files of the domain module share, and no one
 * else sees.
 *
 *   domain.c         the rules of every family and the dispatch (the story
 *                    of the module is told there)
 *   domain_record.c  partner records: the field ownership table, the
 *                    difference of two versions, and the record's rules
 *
 * The helpers below build the path of the offending field into messages
 * ("minutes.actions[1].owner.agency: ...") and return PPX_EBODY.
 */
#ifndef PPX_DOMAIN_INT_H
#define PPX_DOMAIN_INT_H

#include <stddef.h>

#include "ppx/domain.h"

#define PATH_MAX_LEN 160	/* a field path in a message */

/* ppx_error_set(code, "PATH: WHAT"); returns code. */
int ppxi_refuse(int code, const char *path, const char *what);

/* s is neither NULL nor "". */
int ppxi_nonempty(const char *s);

/* "path.name" (name given) or "path[i]" into buf (PATH_MAX_LEN bytes). */
const char *ppxi_sub(char *buf, const char *path, const char *name, size_t i);

/* A dotted agency name at `path`; required or else only checked if set. */
int ppxi_check_agency(const char *s, const char *path, int required);

/* At least one system identifier, and a valid date of birth if given. */
int ppxi_check_subject(const Ppx__V1__SubjectIds *s, const char *path);

/* A 16-byte message id; `what` says why it is needed. */
int ppxi_check_message_id(ProtobufCBinaryData id, const char *path,
			  const char *what);

/* Nonzero for the kinds of orders (SOPO .. OTHER_ORDER). */
int ppxi_is_order(int kind);

/* Each condition: kind, text in full, monitoring agency, dates.  `need`
 * is 0 here (the notification kinds' needs are domain.c's). */
int ppxi_check_conditions(Ppx__V1__Condition *const *c, size_t n,
			  const char *path, unsigned need);

/* Each risk of serious harm: a group and a level, each group once. */
int ppxi_check_rosh(Ppx__V1__RiskOfSeriousHarm *const *r, size_t n,
		    const char *path);

/* The rules of a partner record as sent by `sender` (domain_record.c). */
int ppxi_domain_check_record(const Ppx__V1__Body *b, const char *sender);

#endif
