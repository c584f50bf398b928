/*
 * msgref.c — which message a reference typed by a person means.
 *
 * A message id is chosen by its sender and is unique among that sender's
 * messages only: a partner may send a message under an id another agency
 * already used, by chance or to squat it.  A message is therefore (sender
 * agency, message id), and `ppx show` takes
 *
 *   AGENCY/ID    the message AGENCY sent with that id
 *   ID           the only message with that id, whoever sent it
 *
 * where ID is the 32 hex digits of the id or an unambiguous prefix of them.
 * The candidates come from the log's ids index: every entry about an id
 * names a message of one sender — ours for SENT and RECEIPT_RECEIVED
 * entries (and for entries with no partner), the partner's for the others
 * (RECEIVED, REJECTED, RECEIPT_SENT, ...).  When the reference fits more
 * than one (sender, id), nothing is guessed: every candidate is listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "logread.h"
#include "ppx/entry.h"
#include "ppx/error.h"

#define REF_IDS_MAX PPX_LOG_REF_IDS_MAX	/* ids one prefix may stand for */

/* "[AGENCY/]HEX" into its parts: the agency ("" if none), and the id or
 * prefix as bytes (an odd last digit in the high nibble). */
static int ref_parse(struct lr_ref *r, const char *text)
{
	const char *slash = strchr(text, '/'), *hex = slash ? slash + 1 : text;
	size_t alen = slash ? (size_t)(slash - text) : 0, n = strlen(hex);

	memset(r, 0, sizeof(*r));
	if (alen >= sizeof(r->agency) || (slash && alen == 0))
		return ppx_error_set(PPX_EINVAL, "\"%s\": AGENCY/ID names an "
				     "agency before the slash", text);
	memcpy(r->agency, text, alen);
	if (n == 0 || n > 2 * PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EINVAL, "\"%s\": a message id is 1 to "
				     "%d hex digits (a prefix of the id)", text,
				     2 * PPX_MESSAGE_ID_LEN);
	for (size_t i = 0; i < n; i++) {
		int v = ppx_hex_digit((unsigned char)hex[i]);

		if (v < 0)
			return ppx_error_set(PPX_EINVAL, "\"%s\": a message id "
					     "is hex digits only", text);
		r->id[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	r->nibbles = n;
	return 0;
}

/* Whether an entry is about one of our messages (else its peer's). */
static int about_ours(const Ppx__V1__LogEntry *e)
{
	return e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	       e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED ||
	       !e->peer_agency[0];
}

int lr_ref_owns(const struct lr_ref_match *m, const Ppx__V1__LogEntry *e)
{
	if (about_ours(e))
		return m->ours;
	return !m->ours && strcmp(e->peer_agency, m->sender) == 0;
}

/* Add the (sender, id) that entry e is about, once; learn our name from
 * what we sent. */
static void ref_note(struct lr_ref *r, const uint8_t *id,
		     const Ppx__V1__LogEntry *e)
{
	int ours = about_ours(e);
	struct lr_ref_match *m;

	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT && !r->us[0]) {
		Ppx__V1__Body *b = NULL;

		if (ppx_entry_body(&b, NULL, e) == 0) {
			snprintf(r->us, sizeof(r->us), "%s", b->sender_agency);
			ppx__v1__body__free_unpacked(b, NULL);
		}
	}
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->m[i].id, id, PPX_MESSAGE_ID_LEN) == 0 &&
		    r->m[i].ours == ours &&
		    (ours || strcmp(r->m[i].sender, e->peer_agency) == 0))
			return;
	if (r->n == LR_REF_MAX) {
		r->more = 1;
		return;
	}
	m = &r->m[r->n++];
	memcpy(m->id, id, PPX_MESSAGE_ID_LEN);
	m->ours = ours;
	snprintf(m->sender, sizeof(m->sender), "%s", ours ? "" : e->peer_agency);
	m->seq = e->seq;
}

/* Every (sender, id) the log holds entries about, for one id. */
static int ref_collect(struct lr_ref *r, logread *lr, const uint8_t *id)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc = logread_by_message(lr, id, &seqs, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		Ppx__V1__LogEntry *e = NULL;

		if (ppx_log_get(logread_log(lr), seqs[i], &e) != 0)
			continue;	/* ppx show reports it when listed */
		/* Reads and reviews of a message name it; they are
		 * nobody's message of that id. */
		if (e->kind != PPX__V1__ENTRY_KIND__ENTRY_READ &&
		    e->kind != PPX__V1__ENTRY_KIND__ENTRY_REVIEW)
			ref_note(r, id, e);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	free(seqs);
	return rc;
}

/* Keep only the candidates sent by r->agency. */
static void ref_filter(struct lr_ref *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++)
		if (strcmp(lr_ref_sender(r, &r->m[i]), r->agency) == 0)
			r->m[k++] = r->m[i];
	r->n = k;
}

int lr_ref_resolve(struct lr_ref *r, logread *lr, const char *text)
{
	uint8_t (*ids)[PPX_LOG_ID_LEN] = NULL;
	size_t n = 0;
	int rc = ref_parse(r, text);

	if (rc != 0)
		return rc;
	if (!(ids = calloc(REF_IDS_MAX, sizeof(*ids))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	rc = ppx_log_ids_by_prefix(logread_log(lr), r->id, r->nibbles, ids,
				   REF_IDS_MAX, &n);
	r->more = n == REF_IDS_MAX;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ref_collect(r, lr, ids[i]);
	free(ids);
	if (rc == 0 && r->agency[0])
		ref_filter(r);
	return rc;
}

const char *lr_ref_sender(const struct lr_ref *r, const struct lr_ref_match *m)
{
	if (!m->ours)
		return m->sender;
	return r->us[0] ? r->us : "(this agency)";
}

void lr_ref_list(FILE *out, const struct lr_ref *r)
{
	char hex[LR_ID_HEX];

	for (size_t i = 0; i < r->n; i++) {
		ppx_hex(hex, r->m[i].id, PPX_MESSAGE_ID_LEN);
		fprintf(out, "  %s/%s  (%s, first logged at seq %llu)\n",
			lr_ref_sender(r, &r->m[i]), hex,
			r->m[i].ours ? "sent by us" : "from a partner",
			(unsigned long long)r->m[i].seq);
	}
	if (r->more)
		fprintf(out, "  ... and more: give more digits\n");
}
