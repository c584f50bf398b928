/*
 * test_federation.c — the federation directory and the CRL taken in and
 * passed on by ppxd (daemon/federation.c, federation_io.c): the file
 * drop, partners' Frame{directory} and Frame{crl} through the receive
 * pipeline, the held copies at start, the refusals and their limits, the
 * sends at link-up, the baseline policy.
 *
 * A real daemon state (daemon_fixture: configuration, policy, LMDB log,
 * writer, budgets, outbox) on the in-memory transport, with directories
 * signed by the demo PKI's test directory key (make pki:
 * DIR/test/directory/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../daemon/budget.h"
#include "../../daemon/changes.h"
#include "../../daemon/federation.h"
#include "../../daemon/inbound.h"
#include "../../daemon/partners.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "pki_forge.h"
#include "ppx/directory.h"
#include "ppx/error.h"
#include "support.h"
#include "transport_mem.h"

#define N_AGENCIES 3
#define DAY_MS (86400LL * 1000)

static const char *const names[N_AGENCIES] = {"police.gwent",
					      "probation.gwent",
					      "prison.cardiff"};
static const char *const types[N_AGENCIES] = {"police", "probation",
					      "prison"};

/* A daemon of police.gwent with [federation], and a place for the drop. */
struct fed {
	struct daemon_fixture *f;
	char *drop_dir;
	char drop[1024];
};

static struct fed *fed_new(void)
{
	struct fed *t = calloc(1, sizeof(*t));
	char section[1400];

	assert_non_null(t);
	t->drop_dir = tmpdir_new();
	snprintf(t->drop, sizeof(t->drop), "%s/directory.pb", t->drop_dir);
	snprintf(section, sizeof(section),
		 "\n[federation]\ndirectory = %s\nname = england-wales\n",
		 t->drop);
	t->f = daemon_fixture_new("police.gwent", section);
	assert_int_equal(changes_new(&t->f->d.changes, &t->f->d), 0);
	return t;
}

static void fed_free(struct fed *t)
{
	writer_flush(&t->f->d);	/* what a new directory replaced, freed */
	federation_free(&t->f->d);
	partners_free(&t->f->d);
	changes_free(&t->f->d.changes);
	daemon_fixture_free(&t->f);
	tmpdir_remove(t->drop_dir);
	free(t);
}

static ProtobufCBinaryData cert_der(const char *agency, const char *role)
{
	char rel[256];
	ppx_cert *cert = NULL;
	ProtobufCBinaryData b = {0, NULL};

	snprintf(rel, sizeof(rel), "agencies/%s/%s.crt", agency, role);
	assert_int_equal(ppx_cert_load(&cert, pki_path(rel)), 0);
	assert_int_equal(ppx_cert_der(&b.data, &b.len, cert), 0);
	ppx_cert_free(cert);
	return b;
}

static int64_t valid_from_days = -1, valid_to_days = 30;

/* A SignedDirectory of the three demo agencies, serial `serial`, with
 * `baseline` (may be ""), valid from valid_from_days to valid_to_days
 * from now, signed by the demo directory key. */
static uint8_t *directory(uint64_t serial, const char *baseline, size_t *len)
{
	Ppx__V1__Directory d = PPX__V1__DIRECTORY__INIT;
	Ppx__V1__DirectoryAgency a[N_AGENCIES], *ap[N_AGENCIES];
	ProtobufCBinaryData sign[N_AGENCIES], trans[N_AGENCIES];
	char ep[N_AGENCIES][64], *eps[N_AGENCIES][1];
	int64_t now = (int64_t)time(NULL) * 1000;
	ppx_signer *s = NULL;
	uint8_t *buf, *out = NULL;
	char key[4096], crt[4096];
	size_t n;

	d.federation = "england-wales";
	d.serial = serial;
	d.issued_ms = now;
	d.not_before_ms = now + valid_from_days * DAY_MS;
	d.not_after_ms = now + valid_to_days * DAY_MS;
	d.baseline_policy = (char *)baseline;
	for (int i = 0; i < N_AGENCIES; i++) {
		ppx__v1__directory_agency__init(&a[i]);
		a[i].name = (char *)names[i];
		a[i].type = (char *)types[i];
		a[i].display_name = "";
		snprintf(ep[i], sizeof(ep[i]), "tcp://127.0.0.1:%d", 2 + i);
		eps[i][0] = ep[i];
		a[i].endpoints = eps[i];
		a[i].n_endpoints = 1;
		sign[i] = cert_der(names[i], "signing");
		trans[i] = cert_der(names[i], "transport");
		a[i].signing_certificates = &sign[i];
		a[i].n_signing_certificates = 1;
		a[i].transport_certificates = &trans[i];
		a[i].n_transport_certificates = 1;
		a[i].status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
		ap[i] = &a[i];
	}
	d.agencies = ap;
	d.n_agencies = N_AGENCIES;
	n = ppx__v1__directory__get_packed_size(&d);
	assert_non_null(buf = malloc(n));
	ppx__v1__directory__pack(&d, buf);
	snprintf(key, sizeof(key), "%s/directory.key",
		 pki_path("test/directory"));
	snprintf(crt, sizeof(crt), "%s/directory.crt",
		 pki_path("test/directory"));
	if (ppx_signer_load(&s, key, crt) != 0)
		fail_msg("no directory key (make pki): %s", ppx_error_last());
	assert_int_equal(ppx_directory_sign(&out, len, buf, n, s), 0);
	ppx_signer_free(s);
	free(buf);
	for (int i = 0; i < N_AGENCIES; i++) {
		free(sign[i].data);
		free(trans[i].data);
	}
	return out;
}

/* Frame{field: bytes} as a partner sends it. */
static uint8_t *frame_of(int field, const uint8_t *bytes, size_t n,
			 size_t *len)
{
	Ppx__V1__Frame f = PPX__V1__FRAME__INIT;
	Ppx__V1__SignedDirectory *sd = NULL;
	uint8_t *out;

	f.version = 1;
	if (field == 7) {
		sd = ppx__v1__signed_directory__unpack(NULL, n, bytes);
		f.content_case = PPX__V1__FRAME__CONTENT_DIRECTORY;
		f.directory = sd;
	} else {
		f.content_case = PPX__V1__FRAME__CONTENT_CRL;
		f.crl.data = (uint8_t *)bytes;
		f.crl.len = n;
	}
	*len = ppx__v1__frame__get_packed_size(&f);
	assert_non_null(out = malloc(*len));
	ppx__v1__frame__pack(&f, out);
	if (sd)
		ppx__v1__signed_directory__free_unpacked(sd, NULL);
	return out;
}

/* `agency` sends a Frame{directory} or Frame{crl}; the iteration ends. */
static void receive(struct fed *t, const char *agency, int field,
		    const uint8_t *bytes, size_t n)
{
	size_t len;
	uint8_t *frame = frame_of(field, bytes, n, &len);

	transport_mem_inbound_push(t->f->d.transport, agency, agency, frame,
				   len);
	free(frame);
	inbound_drain(&t->f->d, 16);
	writer_flush(&t->f->d);
}

static void write_bytes(const char *path, const uint8_t *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static uint8_t *read_bytes(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void held_path(struct fed *t, char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/log/%s", t->f->dir, name);
}

/* The latest entry of `kind`, or fail. */
static Ppx__V1__LogEntry *last_entry(struct fed *t, int kind)
{
	uint64_t size = ppx_log_size(t->f->d.log);

	for (uint64_t s = size; s-- > 0;) {
		Ppx__V1__LogEntry *e = NULL;

		assert_int_equal(ppx_log_get(t->f->d.log, s, &e), 0);
		if ((int)e->kind == kind)
			return e;
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	fail_msg("no entry of kind %d", kind);
	return NULL;
}

/* The frames queued on link `agency`: how many carry `content`. */
static size_t sent(struct fed *t, const char *agency, int content)
{
	size_t link = daemon_fixture_link(t->f, agency), n = 0, len;
	uint8_t *data;

	while (transport_mem_link_take(t->f->d.transport, link, &data,
				       &len) == 0) {
		Ppx__V1__Frame *f = ppx__v1__frame__unpack(NULL, len, data);

		assert_non_null(f);
		n += (int)f->content_case == content;
		ppx__v1__frame__free_unpacked(f, NULL);
		free(data);
	}
	return n;
}

static void link_up(struct fed *t, const char *agency)
{
	size_t link = daemon_fixture_link(t->f, agency);

	transport_mem_link_up(t->f->d.transport, link, 1);
	while (transport_link_event(t->f->d.transport, link) != LINK_NONE)
		;
	federation_link_up(&t->f->d, link);
}

/* ------------------------------------------------------------------ */

static void test_federation__drop_is_taken_logged_held_and_sent_at_link_up(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__DirectoryStatus *st = NULL;
	Ppx__V1__LogEntry *e;
	char path[1200];
	size_t len, held_len;
	uint8_t *bytes = directory(4, "", &len), *held;

	(void)state;
	write_bytes(t->drop, bytes, len);
	assert_int_equal(federation_open(d), 0);
	assert_non_null(d->directory);
	assert_int_equal(d->directory->serial, 4);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY,
				 NULL), 1);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY);
	assert_int_equal(e->data.len, len);
	assert_memory_equal(e->data.data, bytes, len);
	assert_string_equal(e->peer_agency, "");
	assert_non_null(strstr(e->detail, "serial 4 from file "));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	held_path(t, path, sizeof(path), "directory.pb");
	assert_non_null(held = read_bytes(path, &held_len));
	assert_int_equal(held_len, len);
	assert_memory_equal(held, bytes, len);
	free(held);

	/* A link that comes up gets the directory and the CRL. */
	link_up(t, "probation.gwent");
	assert_int_equal(sent(t, "probation.gwent",
			      PPX__V1__FRAME__CONTENT_DIRECTORY), 1);
	link_up(t, "prison.cardiff");
	assert_int_equal(transport_mem_link_queued(
				 d->transport,
				 daemon_fixture_link(t->f, "prison.cardiff")),
			 2);
	assert_int_equal(sent(t, "prison.cardiff",
			      PPX__V1__FRAME__CONTENT_CRL), 1);

	assert_int_equal(federation_status(d, &st), 0);
	assert_non_null(st);
	assert_int_equal(st->serial, 4);
	assert_string_equal(st->federation, "england-wales");
	assert_non_null(strstr(st->source, "file "));
	assert_int_equal(st->agencies, 3);
	free(bytes);
	fed_free(t);
}

static void test_federation__newer_from_a_partner_is_taken_and_sent_on(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__LogEntry *e;
	size_t len4, len5;
	uint8_t *d4 = directory(4, "", &len4), *d5 = directory(5, "", &len5);

	(void)state;
	write_bytes(t->drop, d4, len4);
	assert_int_equal(federation_open(d), 0);
	link_up(t, "probation.gwent");
	link_up(t, "prison.cardiff");
	sent(t, "probation.gwent", 0);
	sent(t, "prison.cardiff", 0);

	receive(t, "probation.gwent", 7, d5, len5);
	assert_int_equal(d->directory->serial, 5);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY);
	assert_string_equal(e->peer_agency, "probation.gwent");
	assert_non_null(strstr(e->detail, "serial 5 from partner "
					  "probation.gwent: serial 4 -> 5"));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	/* Sent on to the other partner, not back to where it came from;
	 * never answered. */
	assert_int_equal(sent(t, "prison.cardiff",
			      PPX__V1__FRAME__CONTENT_DIRECTORY), 1);
	assert_int_equal(sent(t, "probation.gwent",
			      PPX__V1__FRAME__CONTENT_DIRECTORY), 0);
	assert_int_equal(transport_mem_replies(d->transport), 0);

	/* The same bytes again: dropped quietly. */
	receive(t, "prison.cardiff", 7, d5, len5);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY,
				 NULL), 2);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED,
				 NULL), 0);
	free(d4);
	free(d5);
	fed_free(t);
}

/* Two directories taken in one iteration: the log's mark "directory"
 * ends on the second's entry alone, the first's mark moved on too. */
static void test_federation__two_in_one_iteration_leave_one_mark(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	struct ppx_log_mark *m = NULL;
	size_t len4, len5, len6, n = 0, flen;
	uint8_t *d4 = directory(4, "", &len4), *d5 = directory(5, "", &len5);
	uint8_t *d6 = directory(6, "", &len6), *frame;

	(void)state;
	write_bytes(t->drop, d4, len4);
	assert_int_equal(federation_open(d), 0);
	writer_flush(d);
	frame = frame_of(7, d5, len5, &flen);
	transport_mem_inbound_push(d->transport, "probation.gwent",
				   "probation.gwent", frame, flen);
	free(frame);
	frame = frame_of(7, d6, len6, &flen);
	transport_mem_inbound_push(d->transport, "prison.cardiff",
				   "prison.cardiff", frame, flen);
	free(frame);
	inbound_drain(d, 16);
	writer_flush(d);
	assert_int_equal(d->directory->serial, 6);
	assert_int_equal(ppx_log_mark_list(d->log, "directory", &m, &n, 64),
			 0);
	assert_int_equal(n, 1);
	free(m);
	free(d4);
	free(d5);
	free(d6);
	fed_free(t);
}

static void test_federation__older_is_refused_logged_and_not_answered(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__LogEntry *e;
	struct budget_view v;
	size_t len3, len5;
	uint8_t *d3 = directory(3, "", &len3), *d5 = directory(5, "", &len5);

	(void)state;
	assert_int_equal(federation_open(d), 0);
	assert_null(d->directory);	/* a newcomer: waits */
	receive(t, "probation.gwent", 7, d5, len5);
	assert_int_equal(d->directory->serial, 5);
	receive(t, "prison.cardiff", 7, d3, len3);
	assert_int_equal(d->directory->serial, 5);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
	assert_int_equal(e->reason,
			 PPX__V1__REJECT_REASON__REJECT_DIRECTORY_STALE);
	assert_string_equal(e->peer_agency, "prison.cardiff");
	assert_int_equal(e->frame_size, len3);
	assert_int_equal(e->frame_hash.len, 32);
	assert_true(e->data.len <= 1024);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	assert_int_equal(transport_mem_replies(d->transport), 0);
	assert_int_equal(
		d->refusals[PPX__V1__REJECT_REASON__REJECT_DIRECTORY_STALE], 1);
	/* A stale directory is sent in good faith: no budget spent. */
	budget_view(d->budget, "prison.cardiff", ppxd_now_ms(), &v);
	assert_int_equal(v.refusals_window, 0);
	free(d3);
	free(d5);
	fed_free(t);
}

static void test_federation__bad_directory_is_refused_once_per_interval(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__LogEntry *e;
	struct budget_view v;
	size_t len;
	uint8_t *bytes = directory(6, "", &len);

	(void)state;
	assert_int_equal(federation_open(d), 0);
	bytes[len - 1] ^= 1;	/* the signature's last byte */
	receive(t, "probation.gwent", 7, bytes, len);
	bytes[len - 2] ^= 1;	/* other bytes: judged again */
	receive(t, "probation.gwent", 7, bytes, len);
	assert_null(d->directory);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED,
				 "probation.gwent"), 1);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
	assert_int_equal(e->reason,
			 PPX__V1__REJECT_REASON__REJECT_BAD_DIRECTORY);
	assert_non_null(strstr(e->detail, "directory from partner "
					  "probation.gwent refused"));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	assert_int_equal(
		d->refusals[PPX__V1__REJECT_REASON__REJECT_BAD_DIRECTORY], 2);
	budget_view(d->budget, "probation.gwent", ppxd_now_ms(), &v);
	assert_int_equal(v.refusals_window, 2);
	/* The same bytes a third time are not even judged. */
	receive(t, "probation.gwent", 7, bytes, len);
	assert_int_equal(
		d->refusals[PPX__V1__REJECT_REASON__REJECT_BAD_DIRECTORY], 2);
	free(bytes);
	fed_free(t);
}

/* The file drop is the local operator's: each bad file dropped is
 * refused and logged, however soon after the last. */
static void test_federation__each_bad_drop_is_logged(void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	int64_t now = ppxd_now_ms();
	size_t len;
	uint8_t *bytes = directory(6, "", &len);

	(void)state;
	assert_int_equal(federation_open(d), 0);
	bytes[len - 1] ^= 1;
	write_bytes(t->drop, bytes, len);
	federation_tick(d, now + 5000);	/* looked at once a second */
	writer_flush(d);
	bytes[len - 2] ^= 1;
	write_bytes(t->drop, bytes, len - 1);	/* another size: changed */
	federation_tick(d, now + 7000);
	writer_flush(d);
	assert_null(d->directory);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED,
				 ""), 2);
	free(bytes);
	fed_free(t);
}

static void test_federation__oversized_frame_is_refused_unjudged(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	size_t n = (size_t)d->cfg->max_frame + 16, at = 0;
	uint8_t *frame = calloc(1, n + 16);
	Ppx__V1__LogEntry *e;

	(void)state;
	assert_non_null(frame);
	assert_int_equal(federation_open(d), 0);
	frame[at++] = 7 << 3 | 2;	/* Frame.directory, n bytes */
	for (size_t v = n; v; v >>= 7)
		frame[at++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
	transport_mem_inbound_push(d->transport, "probation.gwent", "r",
				   frame, at + n);
	inbound_drain(d, 4);
	writer_flush(d);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
	assert_int_equal(e->reason, PPX__V1__REJECT_REASON__REJECT_TOO_LARGE);
	assert_int_equal(e->frame_size, at + n);
	assert_true(e->data.len <= 1024);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	assert_int_equal(transport_mem_replies(d->transport), 0);
	assert_null(d->directory);
	free(frame);
	fed_free(t);
}

/* A frame that protobuf would read otherwise than the scanner (two
 * SignedDirectory fields are merged; another wire version) is refused
 * before anything in it is judged. */
static void test_federation__ambiguous_frame_is_refused_unjudged(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__LogEntry *e;
	size_t len5, len, n2;
	uint8_t *d5 = directory(5, "", &len5), *f, *twice;

	(void)state;
	assert_int_equal(federation_open(d), 0);
	f = frame_of(7, d5, len5, &len);
	assert_int_equal(f[0], 1 << 3);	/* version 1 first, then field 7 */
	n2 = len + len - 2;
	assert_non_null(twice = malloc(n2));
	memcpy(twice, f, len);
	memcpy(twice + len, f + 2, len - 2);
	transport_mem_inbound_push(d->transport, "probation.gwent", "r",
				   twice, n2);
	inbound_drain(d, 4);
	writer_flush(d);
	assert_null(d->directory);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
	assert_non_null(strstr(e->detail, "2 directory or CRL fields"));
	ppx__v1__log_entry__free_unpacked(e, NULL);

	f[1] = 2;	/* wire version 2 */
	transport_mem_inbound_push(d->transport, "prison.cardiff", "r", f,
				   len);
	inbound_drain(d, 4);
	writer_flush(d);
	assert_null(d->directory);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
	assert_non_null(strstr(e->detail, "wire version 2"));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	assert_int_equal(transport_mem_replies(d->transport), 0);

	/* The same directory in a proper frame is judged and taken. */
	receive(t, "prison.cardiff", 7, d5, len5);
	assert_non_null(d->directory);
	assert_int_equal(d->directory->serial, 5);
	free(twice);
	free(f);
	free(d5);
	fed_free(t);
}

static void test_federation__start_follows_the_log_when_the_file_is_behind(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	char path[1200];
	size_t len4, len5, held_len;
	uint8_t *d4 = directory(4, "", &len4), *d5 = directory(5, "", &len5);
	uint8_t *held;

	(void)state;
	write_bytes(t->drop, d4, len4);
	assert_int_equal(federation_open(d), 0);
	receive(t, "probation.gwent", 7, d5, len5);
	assert_int_equal(d->directory->serial, 5);
	/* A crash between the commit and the held file's write. */
	held_path(t, path, sizeof(path), "directory.pb");
	write_bytes(path, d4, len4);
	federation_free(d);
	assert_int_equal(federation_open(d), 0);
	assert_int_equal(d->directory->serial, 5);
	assert_non_null(held = read_bytes(path, &held_len));
	assert_int_equal(held_len, len5);
	assert_memory_equal(held, d5, len5);
	free(held);
	/* Nothing logged again: the stale drop at start is not a refusal. */
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY,
				 NULL), 2);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED,
				 NULL), 0);
	free(d4);
	free(d5);
	fed_free(t);
}

static void test_federation__bad_held_file_is_moved_aside(void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	char path[1200], logdir[1200];
	struct dirent *de;
	DIR *dp;
	int aside = 0;

	(void)state;
	held_path(t, path, sizeof(path), "directory.pb");
	write_text(path, "not a directory");
	assert_int_equal(federation_open(d), 0);
	assert_null(d->directory);
	held_path(t, logdir, sizeof(logdir), "");
	assert_non_null(dp = opendir(logdir));
	while ((de = readdir(dp)))
		aside += strncmp(de->d_name, "directory.pb.bad-", 17) == 0;
	closedir(dp);
	assert_int_equal(aside, 1);
	assert_null(read_bytes(path, &(size_t){0}));
	fed_free(t);
}

/* The log has held a directory, but at start none verifies (here: the
 * configuration now names another federation): no partner is trusted on
 * the CA alone, every one is cut off until a directory is in force, and
 * the stand-in is never sent. */
static void test_federation__fails_closed_when_no_directory_can_be_in_force(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__DirectoryStatus *st = NULL;
	const struct ppx_partner *p;
	uint8_t fp[PPX_FINGERPRINT_LEN] = {0};
	size_t len4, len5;
	uint8_t *d4 = directory(4, "", &len4), *d5 = directory(5, "", &len5);

	(void)state;
	write_bytes(t->drop, d4, len4);
	assert_int_equal(federation_open(d), 0);
	assert_int_equal(d->directory->serial, 4);
	writer_flush(d);
	federation_free(d);
	partners_free(d);
	unlink(t->drop);

	snprintf(d->cfg->federation, sizeof(d->cfg->federation), "scotland");
	assert_int_equal(federation_open(d), 0);
	assert_non_null(d->directory);
	assert_int_equal(d->directory->serial, 0);
	assert_int_equal(d->directory->n_agencies, 0);
	p = ppx_config_partner(d->cfg, "probation.gwent");
	assert_non_null(p);
	assert_int_equal(p->standing, PPX_STANDING_REMOVED);
	assert_int_not_equal(partners_cert_allowed(d, "probation.gwent",
						   PPX_ROLE_TRANSPORT, fp,
						   PARTNERS_USE_SESSION), 0);
	assert_int_equal(federation_status(d, &st), 0);
	assert_non_null(st);
	assert_non_null(strstr(st->source, "WARNING"));
	link_up(t, "probation.gwent");
	assert_int_equal(sent(t, "probation.gwent",
			      PPX__V1__FRAME__CONTENT_DIRECTORY), 0);

	/* A directory dropped in is taken, and the partners are back. */
	snprintf(d->cfg->federation, sizeof(d->cfg->federation),
		 "england-wales");
	write_bytes(t->drop, d5, len5);
	federation_tick(d, ppxd_now_ms() + 5000);
	writer_flush(d);
	assert_int_equal(d->directory->serial, 5);
	p = ppx_config_partner(d->cfg, "probation.gwent");
	assert_int_equal(p->standing, PPX_STANDING_ACTIVE);
	free(d4);
	free(d5);
	fed_free(t);
}

static void test_federation__baseline_policy_narrows_the_local_one(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	struct policy_query q = {0};
	size_t len;
	uint8_t *bytes = directory(
		7, "[rule police-only]\nfrom = police.*\nto = police.*\n"
		   "kinds = *\nmax_marking = OFFICIAL\n", &len);

	(void)state;
	write_bytes(t->drop, bytes, len);
	assert_int_equal(federation_open(d), 0);
	assert_non_null(d->baseline);
	q.from = "police.gwent";
	q.to = "probation.gwent";
	q.family = PPX__V1__BODY__PAYLOAD_NOTIFICATION;
	q.kind = PPX__V1__NOTIFICATION_KIND__ARREST;
	q.marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL;
	assert_int_equal(policy_check(d->policy, &q), 0);
	assert_int_equal(federation_policy_check(d, &q), PPX_EPOLICY);
	assert_non_null(strstr(ppx_error_last(),
			       "federation baseline policy: "));
	free(bytes);
	fed_free(t);
}

static void test_federation__expired_held_directory_stays_with_a_warning(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__DirectoryStatus *st = NULL;
	char path[1200];
	size_t len, len9;
	uint8_t *bytes, *d9;

	(void)state;
	valid_from_days = -3;
	valid_to_days = -1;
	bytes = directory(8, "", &len);
	valid_from_days = -1;
	valid_to_days = 30;
	held_path(t, path, sizeof(path), "directory.pb");
	write_bytes(path, bytes, len);
	assert_int_equal(federation_open(d), 0);
	assert_non_null(d->directory);
	assert_int_equal(d->directory->serial, 8);
	assert_int_equal(federation_status(d, &st), 0);
	assert_non_null(st);
	assert_non_null(strstr(st->source, "WARNING: expired"));
	/* A current one replaces it, and the warning goes. */
	d9 = directory(9, "", &len9);
	receive(t, "probation.gwent", 7, d9, len9);
	assert_int_equal(d->directory->serial, 9);
	assert_int_equal(federation_status(d, &st), 0);
	assert_null(strstr(st->source, "WARNING"));
	free(bytes);
	free(d9);
	fed_free(t);
}

/* A CRL newer than the demo's, as DER. */
static uint8_t *newer_crl(struct fed *t, size_t *len)
{
	struct forge_crl spec = {.number = 1000,
				 .this_update = time(NULL) - 60,
				 .next_update = time(NULL) + 86400};
	char path[1200];
	X509_CRL *crl;
	FILE *fp;
	uint8_t *der = NULL;
	int n;

	snprintf(path, sizeof(path), "%s/newer.pem", t->drop_dir);
	forge_crl_write(path, &spec);
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_true((n = i2d_X509_CRL(crl, &der)) > 0);
	X509_CRL_free(crl);
	*len = (size_t)n;
	return der;
}

static void test_federation__crl_from_a_partner_is_taken_held_and_logged(
	void **state)
{
	struct fed *t = fed_new();
	struct ppxd *d = &t->f->d;
	Ppx__V1__LogEntry *e;
	Ppx__V1__ChangeRecord *cr;
	char path[1200];
	size_t len, held_len, keys, frame_len;
	uint8_t *der = newer_crl(t, &len), *held, junk[64] = {0x30, 0x3e};
	uint8_t *frame;

	(void)state;
	assert_int_equal(federation_open(d), 0);
	keys = daemon_fixture_count(t->f, PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE,
				    NULL);
	/* Logged first: in force only once the entry is committed. */
	frame = frame_of(8, der, len, &frame_len);
	transport_mem_inbound_push(d->transport, "probation.gwent",
				   "probation.gwent", frame, frame_len);
	free(frame);
	inbound_drain(d, 16);
	assert_true(writer_pending(d) > 0);
	assert_true(ppx_trust_crl_number(d->trust) < 1000);
	writer_flush(d);
	assert_int_equal(ppx_trust_crl_number(d->trust), 1000);
	held_path(t, path, sizeof(path), "crl.der");
	assert_non_null(held = read_bytes(path, &held_len));
	assert_int_equal(held_len, len);
	assert_memory_equal(held, der, len);
	free(held);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE,
				 NULL), keys + 1);
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE);
	assert_non_null(cr = ppx__v1__change_record__unpack(NULL, e->data.len,
							    e->data.data));
	assert_string_equal(cr->what, "crl");
	assert_string_equal(cr->cause, "partner probation.gwent");
	ppx__v1__change_record__free_unpacked(cr, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);

	/* The same again: dropped quietly; a bad one: refused, logged. */
	receive(t, "prison.cardiff", 8, der, len);
	assert_int_equal(daemon_fixture_count(
				 t->f, PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE,
				 NULL), keys + 1);
	receive(t, "prison.cardiff", 8, junk, sizeof(junk));
	e = last_entry(t, PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
	assert_int_equal(e->reason,
			 PPX__V1__REJECT_REASON__REJECT_BAD_DIRECTORY);
	assert_non_null(strstr(e->detail, "CRL from partner prison.cardiff"));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	assert_int_equal(ppx_trust_crl_number(d->trust), 1000);

	/* At the next start the held CRL is in force again. */
	federation_free(d);
	ppx_trust_free(d->trust);
	assert_int_equal(ppx_trust_load(&d->trust, d->cfg->ca, d->cfg->crl,
					d->cfg->certs), 0);
	assert_true(ppx_trust_crl_number(d->trust) < 1000);
	assert_int_equal(federation_open(d), 0);
	assert_int_equal(ppx_trust_crl_number(d->trust), 1000);
	free(der);
	fed_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_federation__drop_is_taken_logged_held_and_sent_at_link_up),
		cmocka_unit_test(
			test_federation__newer_from_a_partner_is_taken_and_sent_on),
		cmocka_unit_test(
			test_federation__older_is_refused_logged_and_not_answered),
		cmocka_unit_test(
			test_federation__two_in_one_iteration_leave_one_mark),
		cmocka_unit_test(
			test_federation__bad_directory_is_refused_once_per_interval),
		cmocka_unit_test(
			test_federation__oversized_frame_is_refused_unjudged),
		cmocka_unit_test(
			test_federation__ambiguous_frame_is_refused_unjudged),
		cmocka_unit_test(
			test_federation__start_follows_the_log_when_the_file_is_behind),
		cmocka_unit_test(test_federation__bad_held_file_is_moved_aside),
		cmocka_unit_test(
			test_federation__fails_closed_when_no_directory_can_be_in_force),
		cmocka_unit_test(test_federation__each_bad_drop_is_logged),
		cmocka_unit_test(
			test_federation__baseline_policy_narrows_the_local_one),
		cmocka_unit_test(
			test_federation__expired_held_directory_stays_with_a_warning),
		cmocka_unit_test(
			test_federation__crl_from_a_partner_is_taken_held_and_logged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
