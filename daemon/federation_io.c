/*
 * federation_io.c — the directory's and the CRL's way in and out: frames
 * from partners (federation_frame), what each link is owed and sent
 * (federation_link_up, fed_forward), the refusals of documents that do
 * not verify, and the held files' bytes.  The CRL is federation_crl.c's.
 *
 * Where it sits: inbound.c hands every frame to federation_frame() before
 * the message pipeline; a Frame{directory} or Frame{crl} is consumed here
 * and never answered.  A partner is trusted to be who it is, not to
 * behave: each document costs a signature check, so a source's same bytes
 * again are dropped without parsing, and at most FED_PARSES_PER_S are
 * judged per source per second (the rest dropped, counted and said).  A
 * refused document is logged as ENTRY_REJECTED at most once per partner
 * per FED_REFUSAL_EVERY_MS (the entry counts those not logged since; the
 * file drop's each time, being judged once per change of the file),
 * within the partner's log quota, and spends its refusal budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "budget.h"
#include "federation_int.h"
#include "inbound.h"
#include "log.h"
#include "partners.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "state.h"
#include "transport.h"
#include "writer.h"

#define FIELD_DIRECTORY 7	/* Frame.directory */
#define FIELD_CRL 8		/* Frame.crl */

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

static size_t varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* Frame{version 1, field: bytes}, the bytes as they are (a
 * SignedDirectory is passed on verbatim, never re-encoded). */
int fed_frame(uint8_t **out, size_t *len, int field, const uint8_t *bytes,
	      size_t n)
{
	uint8_t *f = malloc(n + 16);
	size_t at = 0;

	if (!f)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	f[at++] = 1 << 3;	/* version, varint */
	f[at++] = 1;
	f[at++] = (uint8_t)(field << 3 | 2);
	at += varint_put(f + at, n);
	memcpy(f + at, bytes, n);
	*out = f;
	*len = at + n;
	return 0;
}

static int varint_get(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *at < len; shift += 7) {
		uint8_t b = p[(*at)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* What frame_content() found of a frame. */
struct frame_scan {
	int content;		/* the last oneof field (2..8), or 0 */
	const uint8_t *body;	/* field 7 or 8: its bytes */
	size_t n;
	unsigned docs;		/* fields 7 and 8, of any wire type */
	uint64_t version;	/* field 1, the last; 0 if none */
	int version_bad;	/* field 1 not a varint */
};

/* One length-delimited field at p[*at] of `tag`, into `s`. */
static int scan_bytes(struct frame_scan *s, const uint8_t *p, size_t len,
		      size_t *at, uint64_t tag)
{
	uint64_t v;

	if (varint_get(p, len, at, &v) != 0 || v > len - *at)
		return -1;
	if ((tag >> 3) >= 2 && (tag >> 3) <= 8) {
		s->content = (int)(tag >> 3);
		s->body = p + *at;
		s->n = (size_t)v;
	}
	*at += (size_t)v;
	return 0;
}

/*
 * The content of a frame without decoding it: the field number of the
 * last field of the oneof (2..8; protobuf keeps the last), and for 7 or
 * 8 where its bytes are; with the version and how many fields 7 and 8
 * it has, so that federation_frame() can refuse what protobuf would read
 * otherwise (a repeated SignedDirectory is merged, not replaced).  -1 if
 * the frame does not scan as protobuf (the message pipeline then refuses
 * it as it always has).
 */
static int frame_content(struct frame_scan *s, const uint8_t *p, size_t len)
{
	size_t at = 0;

	memset(s, 0, sizeof(*s));
	while (at < len) {
		uint64_t tag, v;

		if (varint_get(p, len, &at, &tag) != 0)
			return -1;
		if ((tag >> 3) == FIELD_DIRECTORY || (tag >> 3) == FIELD_CRL)
			s->docs++;
		if ((tag >> 3) == 1)
			s->version_bad = (tag & 7) != 0;
		switch (tag & 7) {
		case 0:
			if (varint_get(p, len, &at, &v) != 0)
				return -1;
			if ((tag >> 3) == 1)
				s->version = v;
			break;
		case 1:
		case 5:
			if (len - at < ((tag & 7) == 1 ? 8u : 4u))
				return -1;
			at += (tag & 7) == 1 ? 8 : 4;
			break;
		case 2:
			if (scan_bytes(s, p, len, &at, tag) != 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sources and refusals                                                */
/* ------------------------------------------------------------------ */

struct fed_peer *fed_peer(struct federation *f, const char *key)
{
	struct fed_peer *p;

	for (size_t i = 0; i < f->n_peers; i++)
		if (strcmp(f->peers[i].key, key) == 0)
			return &f->peers[i];
	if (f->n_peers >= FED_PEERS_MAX)
		return &f->peers[0];	/* shared: only the limits are */
	p = realloc(f->peers, (f->n_peers + 1) * sizeof(*p));
	if (!p)
		return f->n_peers ? &f->peers[0] : NULL;
	f->peers = p;
	p = &f->peers[f->n_peers++];
	memset(p, 0, sizeof(*p));
	snprintf(p->key, sizeof(p->key), "%s", key);
	return p;
}

int fed_may_parse(struct fed_peer *p, int64_t now)
{
	if (now - p->window_ms >= 1000) {
		if (p->skipped)
			log_warnx("%s: %llu documents not judged: more than "
				  "%d a second", p->key,
				  (unsigned long long)p->skipped,
				  FED_PARSES_PER_S);
		p->window_ms = now;
		p->parses = 0;
		p->skipped = 0;
	}
	if (p->parses >= FED_PARSES_PER_S) {
		p->skipped++;
		return 0;
	}
	p->parses++;
	return 1;
}

void fed_refuse(struct ppxd *d, const char *source, const char *agency,
		const uint8_t *bytes, size_t len, int code, const char *what)
{
	struct fed_peer *p = fed_peer(d->federation, source);
	int64_t now = ppxd_now_ms(), until;
	char error[600], detail[800];
	uint32_t episode;

	snprintf(error, sizeof(error), "%s", ppx_error_last());
	ppxd_count_refusal(d, code);
	/* A stale directory is what a partner that has not yet taken ours
	 * sends in good faith (both sides send at link-up, PROTOCOL.md
	 * 13.5): logged, but only a bad document spends the budget. */
	if (agency[0] && code != PPX_ESTALE &&
	    budget_refusal(d->budget, agency, now, &until, &episode))
		inbound_block_partner(d, agency, until, episode);
	/* A partner's refusals are logged at most once per interval; the
	 * file drop's are each the local operator's own act, judged once
	 * per change of the file, and each is logged. */
	if (agency[0] && p && p->entry_ms &&
	    now - p->entry_ms < FED_REFUSAL_EVERY_MS) {
		p->unlogged++;
		return;
	}
	snprintf(detail, sizeof(detail), "%s from %s refused: %s", what,
		 source, error);
	if (p && p->unlogged)
		snprintf(detail + strlen(detail),
			 sizeof(detail) - strlen(detail),
			 " (and %llu more from it since the last entry)",
			 (unsigned long long)p->unlogged);
	log_warnx("%s", detail);
	inbound_log_refused(d, agency, bytes, len, code, detail);
	if (p) {
		p->entry_ms = now;
		p->unlogged = 0;
	}
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

static int owe(struct federation *f, size_t link, unsigned what)
{
	if (link >= f->n_owed) {
		uint8_t *o = realloc(f->owed, link + 1);

		if (!o)
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		memset(o + f->n_owed, 0, link + 1 - f->n_owed);
		f->owed = o;
		f->n_owed = link + 1;
	}
	f->owed[link] |= (uint8_t)what;
	return 0;
}

/* One document on link i: 0 sent (or nothing to send), PPX_EFULL. */
static int send_one(struct ppxd *d, size_t link, int field)
{
	uint8_t *der = NULL, *frame = NULL;
	const uint8_t *bytes;
	size_t n = 0, len = 0;
	int rc;

	if (field == FIELD_DIRECTORY) {
		if (!d->directory || d->federation->closed)
			return 0;	/* none, or the stand-in: nothing */
		bytes = d->directory->bytes;
		n = d->directory->len;
	} else {
		if (ppx_trust_crl_der(d->trust, &der, &n) != 0)
			return 0;
		bytes = der;
	}
	rc = fed_frame(&frame, &len, field, bytes, n);
	if (rc == 0 && len > (size_t)d->cfg->max_frame) {
		/* Frames keep the frame limit (PROTOCOL.md 13.5): such a
		 * directory is put at each daemon's file drop instead. */
		log_warnx("%s of %zu bytes not sent to %s: larger than "
			  "max_frame", field == FIELD_DIRECTORY ? "directory"
								: "CRL",
			  len, transport_link_agency(d->transport, link));
		rc = 0;
	} else if (rc == 0) {
		rc = transport_link_send(d->transport, link, frame, len);
	}
	free(frame);
	free(der);
	return rc == PPX_ENOMEM ? PPX_EFULL : rc;
}

void fed_send(struct ppxd *d, size_t link, unsigned what)
{
	struct federation *f = d->federation;

	if (owe(f, link, what) != 0 || !f->owed[link] ||
	    !transport_link_up(d->transport, link))
		return;
	if ((f->owed[link] & OWE_DIRECTORY) &&
	    send_one(d, link, FIELD_DIRECTORY) == 0)
		f->owed[link] &= (uint8_t)~OWE_DIRECTORY;
	if ((f->owed[link] & OWE_CRL) && send_one(d, link, FIELD_CRL) == 0)
		f->owed[link] &= (uint8_t)~OWE_CRL;
}

void fed_forward(struct ppxd *d, unsigned what, const char *except)
{
	if (!d->cfg->fed_forward)
		return;
	for (size_t i = 0; i < transport_links(d->transport); i++) {
		const char *a = transport_link_agency(d->transport, i);

		if (!transport_link_up(d->transport, i) ||
		    (except && a && strcmp(a, except) == 0))
			continue;
		fed_send(d, i, what);
	}
}

void federation_link_up(struct ppxd *d, size_t link)
{
	if (!d->federation || !d->cfg->fed_forward)
		return;
	if (owe(d->federation, link, 0) == 0)
		d->federation->owed[link] = 0;	/* a new session: all again */
	fed_send(d, link, OWE_DIRECTORY | OWE_CRL);
}

/* ------------------------------------------------------------------ */
/* Frames from partners                                                */
/* ------------------------------------------------------------------ */

/*
 * A frame carrying a directory or a CRL is judged only as protobuf would
 * read it the same way: version 1 and one field 7 or 8.  Otherwise it is
 * refused (and spends the budget), so that two implementations never
 * judge different bytes of the same frame.  1 if refused.
 */
static int frame_refused(struct ppxd *d, const struct frame_scan *s,
			 const char *source, const char *agency,
			 const uint8_t *raw, size_t len, const char *what)
{
	int code = 0;

	if (s->version_bad || s->version != 1)
		code = ppx_error_set(PPX_EVERSION, "frame has wire version "
				     "%llu; this daemon speaks version 1",
				     (unsigned long long)s->version);
	else if (s->docs > 1)
		code = ppx_error_set(PPX_EFRAME, "frame has %u directory or "
				     "CRL fields; one is allowed", s->docs);
	if (code != 0)
		fed_refuse(d, source, agency, raw, len, code, what);
	return code != 0;
}

int federation_frame(struct ppxd *d, const char *agency, const uint8_t *raw,
		     size_t len)
{
	struct frame_scan s;
	int content;
	const uint8_t *body;
	size_t n;
	const char *what;
	char source[FED_SOURCE_MAX];
	struct fed_peer *p;
	uint8_t sha[32];

	if (frame_content(&s, raw, len) != 0 ||
	    (s.content != FIELD_DIRECTORY && s.content != FIELD_CRL))
		return 0;
	if (!d->federation)
		return 1;	/* no [federation]: not ours to take */
	content = s.content;
	body = s.body;
	n = s.n;
	what = content == FIELD_DIRECTORY ? "directory" : "CRL";
	if (partners_session_allowed(d, agency) != 0) {
		log_debug("%s from %s dropped: %s", what, agency,
			  ppx_error_last());
		return 1;	/* cut off: not heard, not parsed */
	}
	snprintf(source, sizeof(source), "partner %s", agency);
	if (len > (size_t)d->cfg->max_frame) {
		ppx_error_set(PPX_ETOOBIG, "frame of %zu bytes exceeds the "
			      "%ld-byte cap", len, d->cfg->max_frame);
		fed_refuse(d, source, agency, raw, len, PPX_ETOOBIG, what);
		return 1;
	}
	if (frame_refused(d, &s, source, agency, raw, len, what))
		return 1;
	if (!(p = fed_peer(d->federation, source)))
		return 1;
	ppx_sha256(sha, body, n);
	if (content == FIELD_DIRECTORY) {
		if (p->has_dir && memcmp(p->dir_sha, sha, 32) == 0)
			return 1;	/* judged already */
		if (!fed_may_parse(p, ppxd_now_ms()))
			return 1;
		memcpy(p->dir_sha, sha, 32);
		p->has_dir = 1;
		fed_take_directory(d, source, agency, body, n);
		return 1;
	}
	if ((p->has_crl && memcmp(p->crl_sha, sha, 32) == 0) ||
	    (d->federation->has_crl &&
	     memcmp(d->federation->crl_sha, sha, 32) == 0))
		return 1;
	if (!fed_may_parse(p, ppxd_now_ms()))
		return 1;
	memcpy(p->crl_sha, sha, 32);
	p->has_crl = 1;
	fed_take_crl(d, source, agency, body, n);
	return 1;
}

