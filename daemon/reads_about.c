/*
 * reads_about.c — what a read is about, and whether the reader needs to
 * know it.
 *
 * A read names subjects (`subject X`, `audit X`, `--subject X`), or a
 * message (`show REF`, `prove REF`, `prove --seq N`), or nothing, which
 * is every subject in the log.  The subjects' keys and the messages' ids
 * go into the ENTRY_READ, so that `ppx audit SUBJECT` finds the read
 * through the subject index.  Need to know ([operator] need_to_know):
 * `all` may read anything; `agency` reads the subjects whose latest
 * partner records list this agency, `named` those whose records name the
 * person (include/ppx/cases.h).  A message reference is judged by every
 * message it could name, and a read naming no subject needs `all`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ppx/cases.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/subject.h"
#include "reads.h"

#define ABOUT_ENTRIES_MAX 256	/* entries looked at per message id */

void reads_about_free(struct read_about *a)
{
	for (size_t i = 0; i < a->n_keys; i++)
		free(a->keys[i]);
	memset(a, 0, sizeof(*a));
}

static int add_key(struct read_about *a, const char *key)
{
	for (size_t i = 0; i < a->n_keys; i++)
		if (strcmp(a->keys[i], key) == 0)
			return 0;
	if (!ppx_subject_key_valid(key))
		return 0;
	if (a->n_keys == READS_KEYS_MAX)	/* not all could be checked */
		return ppx_error_set(PPX_EINVAL, "the read is about more than "
				     "%d subject identifiers: name fewer",
				     READS_KEYS_MAX);
	if (!(a->keys[a->n_keys] = strdup(key)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	a->n_keys++;
	return 0;
}

static void add_id(struct read_about *a, const uint8_t *id)
{
	for (size_t i = 0; i < a->n_ids; i++)
		if (memcmp(a->ids[i], id, PPX_LOG_ID_LEN) == 0)
			return;
	if (a->n_ids < READS_IDS_MAX)
		memcpy(a->ids[a->n_ids++], id, PPX_LOG_ID_LEN);
}

/* Whether `key` has entries in the log. */
static int key_in_log(ppx_log *log, const char *key)
{
	uint64_t *seqs = NULL;
	size_t n = 0;

	if (ppx_log_by_subject(log, key, &seqs, &n, 1) != 0) {
		ppx_error_clear();
		return 0;
	}
	free(seqs);
	return n > 0;
}

/* "pnc:X" (scheme in any case) as its key; a bare "X" as the key of each
 * scheme under which the log holds it. */
static int add_subject(struct read_about *a, ppx_log *log, const char *s)
{
	const char *colon = strchr(s, ':');
	char key[READS_ARG_LEN_MAX + 16];
	int rc = 0;

	for (size_t i = 0; rc == 0 && ppx_subject_scheme(i); i++) {
		const char *scheme = ppx_subject_scheme(i);

		if (colon && (strlen(scheme) != (size_t)(colon - s) ||
			      strncasecmp(scheme, s, strlen(scheme)) != 0))
			continue;
		snprintf(key, sizeof(key), "%s:%s", scheme,
			 colon ? colon + 1 : s);
		if (colon || key_in_log(log, key))
			rc = add_key(a, key);
	}
	return rc;
}

/* Whether entry e is about a message of ours (else its peer's). */
static int about_ours(const Ppx__V1__LogEntry *e)
{
	return e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	       e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED ||
	       !e->peer_agency[0];
}

static int add_entry(struct read_about *a, const Ppx__V1__LogEntry *e)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < e->n_subject_keys; k++)
		if (strncmp(e->subject_keys[k], "record:", 7) != 0)
			rc = add_key(a, e->subject_keys[k]);
	return rc;
}

/* The messages of id `id` (sent by `agency` if not ""): their keys. */
static int add_message(struct read_about *a, ppx_log *log, const uint8_t *id,
		       const char *agency, const char *ours)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc = ppx_log_by_message(log, id, PPX_LOG_ID_LEN, &seqs, &n,
				    ABOUT_ENTRIES_MAX);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		Ppx__V1__LogEntry *e = NULL;

		if (ppx_log_get(log, seqs[i], &e) != 0) {
			ppx_error_clear();
			continue;
		}
		if (e->kind != PPX__V1__ENTRY_KIND__ENTRY_READ &&
		    e->kind != PPX__V1__ENTRY_KIND__ENTRY_REVIEW &&
		    (!*agency || strcmp(agency, about_ours(e) ? ours
					: e->peer_agency) == 0)) {
			add_id(a, id);
			rc = add_entry(a, e);
		}
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	free(seqs);
	return rc;
}

/* "[AGENCY/]HEX": the messages it could name.  A malformed one names
 * none (ppx says what is wrong with it). */
static int add_ref(struct read_about *a, ppx_log *log, const char *ref,
		   const char *ours)
{
	const char *slash = strchr(ref, '/'), *hex = slash ? slash + 1 : ref;
	uint8_t prefix[PPX_LOG_ID_LEN] = {0}, (*ids)[PPX_LOG_ID_LEN];
	char agency[256] = "";
	size_t len = strlen(hex), n = 0;
	int rc = 0;

	if (len == 0 || len > 2 * PPX_LOG_ID_LEN ||
	    (slash && (size_t)(slash - ref) >= sizeof(agency)))
		return 0;
	if (slash)
		snprintf(agency, sizeof(agency), "%.*s", (int)(slash - ref), ref);
	for (size_t i = 0; i < len; i++) {
		int v = ppx_hex_digit((unsigned char)hex[i]);

		if (v < 0)
			return 0;
		prefix[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	if (!(ids = calloc(PPX_LOG_REF_IDS_MAX, sizeof(*ids))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (ppx_log_ids_by_prefix(log, prefix, len, ids, PPX_LOG_REF_IDS_MAX,
				  &n)) {
		free(ids);
		return ppx_error_last_code();
	}
	a->more = n == PPX_LOG_REF_IDS_MAX;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = add_message(a, log, ids[i], agency, ours);
	free(ids);
	return rc;
}

static int add_seq(struct read_about *a, ppx_log *log, uint64_t seq)
{
	Ppx__V1__LogEntry *e = NULL;
	int rc;

	if (seq >= ppx_log_size(log) || ppx_log_get(log, seq, &e) != 0) {
		ppx_error_clear();
		return 0;	/* ppx prove says there is no such entry */
	}
	if (e->message_id.len == PPX_LOG_ID_LEN)
		add_id(a, e->message_id.data);
	rc = add_entry(a, e);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

int reads_about(struct read_about *a, ppx_log *log, const char *ours,
		const struct read_plan *p)
{
	int rc = 0;

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; rc == 0 && i < p->n_subjects; i++)
		rc = add_subject(a, log, p->subjects[i]);
	if (rc == 0 && p->ref)
		rc = add_ref(a, log, p->ref, ours);
	if (rc == 0 && p->has_seq)
		rc = add_seq(a, log, p->seq);
	a->every = !p->counting && !p->n_subjects && !p->ref && !p->has_seq;
	if (rc != 0)
		reads_about_free(a);
	return rc;
}

/* Whether op needs to know subject `key`; why not in `why`. */
static int key_known(ppx_log *log, const struct ppx_config *cfg,
		     const struct ppx_operator *op, char *key, char *why,
		     size_t cap)
{
	struct ppx_case c;
	int ok;

	if (ppx_case_load_max(&c, log, &key, 1, READS_CASE_ENTRIES_MAX) != 0)
		return ppx_error_last_code();
	if (op->need_to_know == PPX_NTK_AGENCY)
		ok = ppx_case_lists_agency(&c, cfg->agency, NULL, 0);
	else
		ok = ppx_case_names_person(&c, op->id, cfg->agency);
	if (!ok)
		snprintf(why, cap, "need to know: %s, and no partner record of "
			 "the case of %s %s", op->need_to_know ==
			 PPX_NTK_AGENCY ? "need_to_know = agency" :
			 "need_to_know = named", key, op->need_to_know ==
			 PPX_NTK_AGENCY ? "lists this agency" :
			 "names you as an officer");
	ppx_case_free(&c);
	return ok;
}

int reads_need_to_know(ppx_log *log, const struct ppx_config *cfg,
		       const struct ppx_operator *op,
		       const struct read_plan *p, const struct read_about *a,
		       char *why, size_t cap)
{
	int ok = 1;

	if (op->need_to_know == PPX_NTK_ALL || p->counting)
		return 1;
	if (a->every) {
		snprintf(why, cap, "need to know: ppx %s without --subject "
			 "reads every subject, which needs need_to_know = all",
			 p->command);
		return 0;
	}
	if (a->more) {
		snprintf(why, cap, "need to know: %s may name more than %d "
			 "messages; give more of the reference", p->ref,
			 PPX_LOG_REF_IDS_MAX);
		return 0;
	}
	if (a->n_keys == 0) {	/* names nothing known, or no subject */
		snprintf(why, cap, "need to know: what %s names is about no "
			 "subject in the log, which needs need_to_know = all",
			 p->scope);
		return 0;
	}
	for (size_t i = 0; ok == 1 && i < a->n_keys; i++)
		ok = key_known(log, cfg, op, a->keys[i], why, cap);
	return ok;
}
