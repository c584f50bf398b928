/*
 * compose_int.h — what the files of the compose module share, and no one
 * else sees.
 *
 *   compose.c         options, values, the common fields, entry points
 *                     (the story of the module is told there)
 *   compose_msg.c     notifications, minutes, disclosure decisions,
 *                     acknowledgements and action updates
 *   compose_record.c  partner records: updates built on the latest
 *                     version, merges
 *
 * The compose_* value parsers print what is wrong (naming the flag) and
 * return a PPX_E* code (PPX_EINVAL, PPX_ENOMEM), 0 when all is well;
 * cmd_send.c, cmd_ack.c and cmd_action.c make it the exit status with
 * ppx_exit_code().
 */
#ifndef PPX_COMPOSE_INT_H
#define PPX_COMPOSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/config.h"
#include "ppx/records.h"
#include "compose.h"
#include "ppx.pb-c.h"

#define COMPOSE_LIST_MAX 64	/* times one option may be given */
#define COMPOSE_LOADED_MAX 16	/* logged bodies a compose starts from */

/* The commands, as bits of the option table's `families`. */
enum {
	F_NOTIFICATION = 1u << 0,
	F_MINUTES = 1u << 1,
	F_DISCLOSURE = 1u << 2,
	F_RECORD = 1u << 3,
	F_ACK = 1u << 4,
	F_ACTION = 1u << 5,
};

enum opt {
	O_CONFIG, O_WAIT, O_TIMEOUT, O_PRINT, O_HELP, O_SIGN, O_SIGN_CERT,
	O_TO, O_MARKING, O_PRIORITY, O_ACK_BY, O_PURPOSE, O_LEGAL_BASIS,
	O_AREA, O_CT, O_SUPERSEDES, O_EMERGENCY, O_REASON,
	O_PNC, O_CRO, O_CRN, O_PRISON_NUMBER, O_VISOR, O_NAME, O_ALIAS, O_DOB,
	O_KIND, O_KINDS, O_EFFECTIVE, O_DETAILS, O_CATEGORY, O_LEVEL, O_ROSH,
	O_IMMINENCE, O_ASSESSMENT, O_CONDITION, O_ADDRESS, O_FROM_AREA,
	O_TO_AREA, O_RECALL, O_DECIDED_BY, O_VISIT_ANNOUNCED, O_VISITED_BY,
	O_VISIT_OUTCOME, O_SAFETY, O_EXIT_PLAN,
	O_MEETING_ID, O_DATE, O_CHAIR, O_LEAD_AGENCY, O_REQUIRED, O_ATTENDED,
	O_ABSENT, O_DISCLOSURE_CONSIDERED, O_ACTION, O_SUPERVISION,
	O_MONITORING, O_INTERVENTIONS, O_VICTIM_SAFETY, O_CONTINGENCY, O_AMEND,
	O_NEXT_REVIEW, O_CPP, O_VIEWS, O_EXIT_STRATEGY, O_COMMENTS,
	O_CANCELLED, O_REARRANGED,
	O_CONSIDERED, O_DECISION, O_RECIPIENT_CATEGORY, O_RECIPIENT,
	O_INFORMATION, O_RATIONALE, O_APPROVED_BY, O_EXECUTED_BY, O_EXECUTED,
	O_RECORD_ID, O_BASE_VERSION, O_MERGE, O_OFFENDER_MANAGER, O_POLICE_OM,
	O_POLICE_SUPERVISOR, O_PARTNER, O_NO_PARTNER, O_CURRENT_PRISON,
	O_CLEAR,
	O_NOTE, O_ACTION_ID, O_STATUS, O_OUTCOME,
	O_COUNT
};

/* The values an option was given, in order (a flag without argument:
 * "1"). */
struct compose_list {
	const char *v[COMPOSE_LIST_MAX];
	size_t n;
};

struct compose {
	Ppx__V1__Body body;		/* what is composed */
	unsigned family;		/* F_* */
	char cmd[32];			/* "ppx send minutes", for messages */
	struct ppx_config *cfg;
	struct compose_list vals[O_COUNT];
	const char *args[2];		/* positional: ack/action's ID */
	size_t n_args;
	void **arena;			/* allocations, freed together */
	size_t n_arena, cap_arena;
	Ppx__V1__Body *loaded[COMPOSE_LOADED_MAX];	/* bodies from the log */
	size_t n_loaded;
	/* storage the body points into */
	Ppx__V1__SubjectIds subject;
	Ppx__V1__Purpose purpose;
	Ppx__V1__Emergency emergency;
	Ppx__V1__RiskPicture risk;
	Ppx__V1__Notification notification;
	Ppx__V1__HomeVisit visit;
	Ppx__V1__Minutes minutes;
	Ppx__V1__RiskManagementPlan plan;
	Ppx__V1__StandingItems standing;
	Ppx__V1__DisclosureDecision disclosure;
	Ppx__V1__PartnerRecord record;
	Ppx__V1__SubjectIds record_subject;
	Ppx__V1__NamedOfficers officers;
	Ppx__V1__Acknowledgement ack;
	Ppx__V1__ActionUpdate update;
};

/* Print "CMD: message" on stderr; PPX_EINVAL. */
int compose_fail(const struct compose *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Zeroed memory / a copy of s[0..len), freed with the compose; NULL when
 * out of memory. */
void *compose_alloc(struct compose *c, size_t size);
char *compose_strndup(struct compose *c, const char *s, size_t len);

/* Keep a body loaded from the log until the compose is freed. */
int compose_keep(struct compose *c, Ppx__V1__Body *loaded);

/* The last value of an option, or NULL; all of them. */
const char *compose_val(const struct compose *c, int opt);
const struct compose_list *compose_all(const struct compose *c, int opt);

/* Values, each naming `what` (the flag) when it is wrong. */
int compose_enum(struct compose *c, int *out,
		 const ProtobufCEnumDescriptor *d, const char *prefix,
		 const char *text, const char *what);
int compose_yesno(struct compose *c, int *out, const char *text,
		  const char *what);
int compose_uint(struct compose *c, uint64_t *out, const char *text,
		 const char *what);
int compose_id(struct compose *c, ProtobufCBinaryData *out, const char *text,
	       const char *what);
int compose_time(struct compose *c, int64_t *out, const char *text,
		 const char *what, int end_of_day);
int compose_person(struct compose *c, Ppx__V1__Person **out,
		   const char *text);
int compose_spec(struct compose *c, const char *text, const char *what,
		 const char *const *keys, char **values);

/* The subject flags over `base` (may be NULL) into *s. */
int compose_subject(struct compose *c, Ppx__V1__SubjectIds *s,
		    const Ppx__V1__SubjectIds *base);

/* Recipients, marking, priority, deadline, purpose, area, CT, subject. */
int compose_common(struct compose *c);

/* Message `ref` from the local log (read-only), among `kinds`
 * (RECORDS_*): ID (32 hex digits) when only one agency sent a message
 * with that id, else AGENCY/ID; its id into *id; the body is kept by the
 * compose.  The failure lists the candidates of an ambiguous ID. */
int compose_logged(struct compose *c, struct ppx_logged_message *out,
		   ProtobufCBinaryData *id, const char *ref, unsigned kinds,
		   const char *what);

/* The named person the caller is at this agency (the daemon will say the
 * same, from the caller's Unix identity). */
Ppx__V1__Person *compose_operator(struct compose *c);

/* The families (compose_msg.c, compose_record.c). */
int compose_notification(struct compose *c);
int compose_minutes(struct compose *c);
int compose_disclosure(struct compose *c);
int compose_record(struct compose *c);
int compose_reply(struct compose *c);	/* ack and action */
int compose_list_kinds(void);		/* prints; 1 (done, as --help) */

/* Shared by the families: the risk picture flags over `base` (with
 * --level as the subject's level if `level`); --condition and --rosh as
 * new arrays; one address spec. */
int compose_risk(struct compose *c, Ppx__V1__RiskPicture **out,
		 const Ppx__V1__RiskPicture *base, int level);
int compose_conditions(struct compose *c, Ppx__V1__Condition ***out,
		       size_t *n);
int compose_rosh(struct compose *c, Ppx__V1__RiskOfSeriousHarm ***out,
		 size_t *n);
int compose_address(struct compose *c, Ppx__V1__Address **out,
		    const char *spec);

#endif
