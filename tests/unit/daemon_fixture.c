/*
 * daemon_fixture.c — builds a struct ppxd as main.c does (configuration,
 * policy, trust, signer, log, writer, budgets, outbox) from files
 * written to a temporary directory, with the in-memory transport in
 * place of CurveZMQ.  See daemon_fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/budget.h"
#include "../../daemon/outbox.h"
#include "../../daemon/restore.h"
#include "../../daemon/stats.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "support.h"
#include "transport_mem.h"

static const char *const demo_agencies[] = {
	"police.gwent", "probation.gwent", "prison.cardiff",
};

/* The policy of the integration scenarios (tests/integration/lib.sh). */
static const char policy_text[] =
	"[rule responsible-authorities]\n"
	"from = police.*, probation.*\n"
	"to = police.*, probation.*, prison.*\n"
	"kinds = *\n"
	"max_marking = OFFICIAL-SENSITIVE\n"
	"\n"
	"[rule prison]\n"
	"from = prison.*\n"
	"to = police.*, probation.*\n"
	"kinds = notification:RELEASE_DATE, notification:PRISON_*,\n"
	"    notification:SECURITY_INTELLIGENCE, acknowledgement, "
	"action_update\n";

/* Append printf-style text to `buf` of `cap` bytes at *at. */
static void put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *at, cap - *at, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - *at);
	*at += (size_t)n;
}

static void write_config(const char *dir, const char *agency,
			 const char *delivery, const char *path)
{
	static char text[16384];
	char pki[PATH_MAX];
	size_t at = 0, len;

	/* Absolute: the configuration lives elsewhere. */
	if (!realpath(pki_path("."), pki))
		fail_msg("no demo PKI at %s (run make pki)", pki_path("."));
	len = strlen(pki);
	assert_true(len + 2 < sizeof(pki));
	pki[len] = '/';
	pki[len + 1] = '\0';
	put(text, sizeof(text), &at,
	    "[agency]\nname = %s\narea = gwent\n"
	    "listen = tcp://127.0.0.1:1\nlog_dir = %s/log\n"
	    "control = %s/run\npolicy = %s/policy.conf\n", agency, dir, dir,
	    dir);
	put(text, sizeof(text), &at,
	    "[pki]\nca = %sca/ca.crt\ncrl = %sca/crl.pem\ncerts = %scerts\n",
	    pki, pki, pki);
	put(text, sizeof(text), &at,
	    "signing_key = %sagencies/%s/signing.key\n"
	    "signing_cert = %sagencies/%s/signing.crt\n"
	    "transport_key = %sagencies/%s/transport.key\n"
	    "transport_cert = %sagencies/%s/transport.crt\n", pki, agency,
	    pki, agency, pki, agency, pki, agency);
	put(text, sizeof(text), &at, "[delivery]\n%s\n",
	    delivery ? delivery : "");
	for (size_t i = 0; i < 3; i++)
		if (strcmp(demo_agencies[i], agency) != 0)
			put(text, sizeof(text), &at,
			    "[partner %s]\nendpoint = tcp://127.0.0.1:%zu\n",
			    demo_agencies[i], 2 + i);
	put(text, sizeof(text), &at,
	    "[operator dana.evans]\nname = Dana Evans\nrole = officer\n"
	    "grade = DS\nuid = %u\n", (unsigned)getuid());
	write_text(path, text);
}

/* The modules as main.c starts them, the transport in memory. */
static void start(struct ppxd *d)
{
	const char *names[8];
	size_t n = d->cfg->n_partners;

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		names[i] = d->cfg->partners[i].name;
	if (policy_load(&d->policy, d->cfg->policy_path) != 0 ||
	    policy_check_config(d->policy, d->cfg) != 0 ||
	    ppx_trust_load(&d->trust, d->cfg->ca, d->cfg->crl,
			   d->cfg->certs) != 0 ||
	    ppx_signer_load(&d->signer, d->cfg->signing_key,
			    d->cfg->signing_cert) != 0 ||
	    ppx_log_open(&d->log, d->cfg->log_dir, NULL) != 0 ||
	    writer_new(&d->writer) != 0 ||
	    budget_new(&d->budget, d->cfg) != 0 ||
	    transport_mem_new(&d->transport, names, n) != 0 ||
	    outbox_new(&d->outbox, d) != 0)
		fail_msg("cannot build the daemon: %s", ppx_error_last());
	d->checkpoint_size = ppx_log_size(d->log);
	d->started_ms = ppxd_now_ms();
}

struct daemon_fixture *daemon_fixture_new(const char *agency,
					  const char *delivery)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	char path[1024];

	assert_non_null(f);
	f->dir = tmpdir_new();
	snprintf(path, sizeof(path), "%s/policy.conf", f->dir);
	write_text(path, policy_text);
	snprintf(path, sizeof(path), "%s/ppxd.conf", f->dir);
	write_config(f->dir, agency, delivery, path);
	if (ppx_config_load(&f->d.cfg, path) != 0)
		fail_msg("cannot load %s: %s", path, ppx_error_last());
	start(&f->d);
	return f;
}

void daemon_fixture_free(struct daemon_fixture **self)
{
	struct daemon_fixture *f = *self;
	struct ppxd *d;

	if (!f)
		return;
	d = &f->d;
	outbox_free(&d->outbox);
	transport_free(&d->transport);
	budget_free(&d->budget);
	stats_free(&d->stats);	/* the counts receipts and refusals made */
	writer_free(&d->writer);
	ppx_log_close(d->log);
	ppx_signer_free(d->signer);
	ppx_trust_free(d->trust);
	policy_free(d->policy);
	ppx_config_free(d->cfg);
	tmpdir_remove(f->dir);
	free(f);
	*self = NULL;
}

size_t daemon_fixture_link(struct daemon_fixture *f, const char *agency)
{
	int i = transport_link_find(f->d.transport, agency);

	assert_true(i >= 0);
	return (size_t)i;
}

size_t daemon_fixture_count(struct daemon_fixture *f, int kind,
			    const char *peer)
{
	uint64_t size = ppx_log_size(f->d.log);
	size_t n = 0;

	for (uint64_t s = 0; s < size; s++) {
		Ppx__V1__LogEntry *e = NULL;

		assert_int_equal(ppx_log_get(f->d.log, s, &e), 0);
		n += (int)e->kind == kind &&
		     (!peer || strcmp(e->peer_agency, peer) == 0);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return n;
}

struct fixture_sent daemon_fixture_submit(struct daemon_fixture *f,
					  const char *to)
{
	struct ppxd *d = &f->d;
	Ppx__V1__Body *b = body_new(d->cfg->agency, to);
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Frame *fr = NULL;
	struct fixture_sent s;
	uint8_t *frame = NULL;
	size_t len = 0;

	assert_int_equal(ppx_body_seal(&frame, &len, d->signer, b), 0);
	assert_int_equal(ppx_frame_decode(&fr, frame, len), 0);
	ppx_sha256(s.hash, fr->message->signed_body.data,
		   fr->message->signed_body.len);
	memcpy(s.id, b->message_id.data, sizeof(s.id));
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	e.message_id = b->message_id;
	e.person = b->sender_person->id;
	e.data.data = frame;
	e.data.len = len;
	assert_int_equal(writer_append(d, &e, &s.seq), 0);
	assert_int_equal(outbox_add(d, to, s.seq), 0);
	assert_int_equal(writer_flush(d), 0);
	ppx__v1__frame__free_unpacked(fr, NULL);
	free(frame);
	body_free(b);
	return s;
}

void daemon_fixture_iterate(struct daemon_fixture *f)
{
	struct ppxd *d = &f->d;
	struct transport *t = d->transport;

	for (size_t i = 0; i < transport_links(t); i++) {
		enum link_event ev;

		outbox_receipts(d, i, 100);
		while ((ev = transport_link_event(t, i)) != LINK_NONE)
			outbox_link_event(d, i, ev);
	}
	writer_flush(d);
	restore_tick(d);	/* nothing to do without restore_start() */
	outbox_pump(d);
}

void daemon_fixture_assert_next_sent(struct daemon_fixture *f, size_t link,
				     const struct fixture_sent *s)
{
	ppx_opened *o = NULL;
	uint8_t *data = NULL;
	size_t len = 0;

	assert_int_equal(transport_mem_link_take(f->d.transport, link, &data,
						 &len), 0);
	assert_int_equal(ppx_message_open(&o, f->d.trust, data, len,
					  f->d.cfg->agency, time(NULL)), 0);
	assert_memory_equal(o->body->message_id.data, s->id,
			    PPX_MESSAGE_ID_LEN);
	ppx_opened_free(o);
	free(data);
}

uint8_t *daemon_fixture_receipt(size_t *len, struct daemon_fixture *f,
				const char *partner,
				const struct fixture_sent *s, size_t n,
				int reason, uint64_t base)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem iv[FIXTURE_MAX_ITEMS], *ip[FIXTURE_MAX_ITEMS];
	ppx_signer *signer = signer_at(partner);
	uint8_t *out = NULL;

	assert_true(n <= FIXTURE_MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		ppx__v1__receipt_item__init(&iv[i]);
		iv[i].body_hash.data = (uint8_t *)s[i].hash;
		iv[i].body_hash.len = PPX_HASH_LEN;
		iv[i].message_id.data = (uint8_t *)s[i].id;
		iv[i].message_id.len = PPX_MESSAGE_ID_LEN;
		iv[i].status = reason ? PPX__V1__RECEIPT_STATUS__REFUSED
				      : PPX__V1__RECEIPT_STATUS__STORED;
		iv[i].reason = reason;
		iv[i].detail = reason ? "refused here for the test" : "";
		iv[i].log_seq = reason ? 0 : base + i;
		ip[i] = &iv[i];
	}
	r.receiver_agency = (char *)partner;
	r.sender_agency = f->d.cfg->agency;
	r.time_ms = ppxd_now_ms();
	r.n_items = n;
	r.items = ip;
	assert_int_equal(ppx_receipt_seal(&out, len, signer, &r), 0);
	ppx_signer_free(signer);
	return out;
}

void daemon_fixture_push_receipt(struct daemon_fixture *f,
				 const char *partner,
				 const struct fixture_sent *s, size_t n,
				 int reason, uint64_t base)
{
	size_t len = 0;
	uint8_t *r = daemon_fixture_receipt(&len, f, partner, s, n, reason,
					    base);

	transport_mem_link_push(f->d.transport, daemon_fixture_link(f, partner),
				r, len);
	free(r);
}

uint8_t *daemon_fixture_seal(size_t *len, const char *who, int purpose,
			     const ProtobufCMessage *msg)
{
	ppx_signer *signer = signer_at(who);
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *body = malloc(n ? n : 1), *out = NULL;

	assert_non_null(body);
	protobuf_c_message_pack(msg, body);
	assert_int_equal(ppx_frame_seal(&out, len, signer, purpose, body, n),
			 0);
	free(body);
	ppx_signer_free(signer);
	return out;
}

Ppx__V1__Frame *daemon_fixture_checkpoint(const char *agency, uint64_t size,
					  uint8_t fill, int64_t ms)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	Ppx__V1__Frame *cpf = NULL;
	uint8_t root[PPX_HASH_LEN], *cpb;
	size_t cpl = 0;

	memset(root, fill, sizeof(root));
	cp.agency = (char *)agency;
	cp.tree_size = size;
	cp.root_hash = (ProtobufCBinaryData){sizeof(root), root};
	cp.time_ms = ms;
	cpb = daemon_fixture_seal(&cpl, agency,
				  PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
				  &cp.base);
	assert_int_equal(ppx_frame_decode(&cpf, cpb, cpl), 0);
	free(cpb);
	return cpf;
}

uint8_t *daemon_fixture_notice(size_t *len, const char *agency,
			       const char *signed_by, uint64_t size,
			       int64_t copied_ms, int64_t restored_ms)
{
	Ppx__V1__RestoreNotice n = PPX__V1__RESTORE_NOTICE__INIT;
	Ppx__V1__Frame *cpf = daemon_fixture_checkpoint(agency, size, 0x11,
							copied_ms);
	uint8_t *out;

	n.agency = (char *)agency;
	n.checkpoint = cpf->checkpoint;
	n.copied_ms = copied_ms;
	n.restored_ms = restored_ms;
	n.reason = "test";
	out = daemon_fixture_seal(len, signed_by,
				  PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE,
				  &n.base);
	ppx__v1__frame__free_unpacked(cpf, NULL);
	return out;
}
