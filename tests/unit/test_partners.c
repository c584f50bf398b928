/*
 * test_partners.c — the partners as a signed directory makes them
 * (daemon/partners.c): agencies it lists join with a link, an outbox
 * lane and a budget; suspended, removed and not-allowed ones are cut off
 * with their lanes kept; endpoints are followed; certificates are
 * accepted per standing and use.
 *
 * The daemon is the fixture's police.gwent (partners probation.gwent and
 * prison.cardiff from [partner] sections) on the in-memory transport.
 * Directories are real: the demo PKI's certificates (a fourth agency,
 * housing.newport, gets certificates the demo CA signs in the test),
 * signed with the demo directory key and judged by ppx_directory_parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../daemon/budget.h"
#include "../../daemon/federation.h"
#include "../../daemon/federation_int.h"
#include "../../daemon/inbound.h"
#include "../../daemon/outbox.h"
#include "../../daemon/partners.h"
#include "../../daemon/transport.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "pki_forge.h"
#include "ppx/directory.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "ppx.pb-c.h"
#include "support.h"
#include "transport_mem.h"

#define DAY_MS (86400LL * 1000)
#define AGENCIES 4

enum { POLICE, PROBATION, PRISON, HOUSING };

static const char *const names[AGENCIES] = {
	"police.gwent", "probation.gwent", "prison.cardiff", "housing.newport",
};
static const char *const types[AGENCIES] = {
	"police", "probation", "prison", "housing",
};

/* One agency as a test lists it. */
struct listing {
	int listed;
	int status;		/* PPX__V1__AGENCY_STATUS__AGENCY_* */
	char endpoint[256];
	char standby[256];	/* a second endpoint, if not "" */
};

struct fixture {
	struct daemon_fixture *df;
	struct ppxd *d;
	struct listing l[AGENCIES];
	ProtobufCBinaryData sign[AGENCIES], trans[AGENCIES];
	ProtobufCBinaryData sign2;	/* probation's second signing cert */
	int probation_two_signing;
	uint8_t sign_fp[AGENCIES][PPX_FINGERPRINT_LEN];
	uint8_t trans_fp[AGENCIES][PPX_FINGERPRINT_LEN];
	uint8_t sign2_fp[PPX_FINGERPRINT_LEN];
	uint64_t serial;
	struct ppx_directory *dir;	/* in force: d->directory */
};

static ProtobufCBinaryData der_of(const ppx_cert *c, uint8_t *fp)
{
	ProtobufCBinaryData b = {0, NULL};

	assert_int_equal(ppx_cert_der(&b.data, &b.len, c), 0);
	assert_int_equal(ppx_cert_fingerprint(c, fp), 0);
	return b;
}

static ProtobufCBinaryData demo_der(const char *agency, const char *role,
				    uint8_t *fp)
{
	char rel[256];
	ppx_cert *c = NULL;
	ProtobufCBinaryData b;

	snprintf(rel, sizeof(rel), "agencies/%s/%s.crt", agency, role);
	assert_int_equal(ppx_cert_load(&c, pki_path(rel)), 0);
	b = der_of(c, fp);
	ppx_cert_free(c);
	return b;
}

static ProtobufCBinaryData forged_der(const char *agency, const char *role,
				      const char *ku, uint8_t *fp)
{
	ppx_cert *c = forge_cert(agency, role, ku);
	ProtobufCBinaryData b = der_of(c, fp);

	ppx_cert_free(c);
	return b;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->df = daemon_fixture_new("police.gwent", "refusal_budget = 2");
	f->d = &f->df->d;
	for (int i = 0; i < AGENCIES; i++) {
		f->l[i].listed = 1;
		f->l[i].status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
		snprintf(f->l[i].endpoint, sizeof(f->l[i].endpoint),
			 "tcp://127.0.0.1:%d", 7101 + i);
		if (i == HOUSING) {
			f->sign[i] = forged_der(names[i], "signing",
						"critical,digitalSignature",
						f->sign_fp[i]);
			f->trans[i] = forged_der(names[i], "transport",
						 "critical,keyAgreement",
						 f->trans_fp[i]);
		} else {
			f->sign[i] = demo_der(names[i], "signing",
					      f->sign_fp[i]);
			f->trans[i] = demo_der(names[i], "transport",
					       f->trans_fp[i]);
		}
	}
	f->sign2 = forged_der("probation.gwent", "signing",
			      "critical,digitalSignature", f->sign2_fp);
	/* As the ZeroMQ transport: each link where its [partner] says, and
	 * the directory lists them there too. */
	for (size_t i = 0; i < f->d->cfg->n_partners; i++) {
		const struct ppx_partner *p = &f->d->cfg->partners[i];

		transport_link_set(f->d->transport, i, p->endpoint, 1);
		for (int k = 0; k < AGENCIES; k++)
			if (strcmp(names[k], p->name) == 0)
				snprintf(f->l[k].endpoint,
					 sizeof(f->l[k].endpoint), "%s",
					 p->endpoint);
	}
	f->serial = 4;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < AGENCIES; i++) {
		free(f->sign[i].data);
		free(f->trans[i].data);
	}
	free(f->sign2.data);
	partners_free(f->d);
	f->d->directory = NULL;
	ppx_directory_free(f->dir);
	daemon_fixture_free(&f->df);
	free(f);
	return 0;
}

static ppx_signer *directory_signer(void)
{
	char key[4096], crt[4096];
	ppx_signer *s = NULL;

	snprintf(key, sizeof(key), "%s",
		 pki_path("test/directory/directory.key"));
	snprintf(crt, sizeof(crt), "%s",
		 pki_path("test/directory/directory.crt"));
	if (ppx_signer_load(&s, key, crt) != 0)
		fail_msg("no test directory key (make pki): %s",
			 ppx_error_last());
	return s;
}

/* Sign the listings as the next directory serial, judge it, and put it
 * in force with partners_apply; returns what partners_apply returned. */
static int apply(struct fixture *f)
{
	Ppx__V1__Directory dir = PPX__V1__DIRECTORY__INIT;
	Ppx__V1__DirectoryAgency a[AGENCIES], *ap[AGENCIES];
	char *eps[AGENCIES][2];
	ProtobufCBinaryData sign[AGENCIES][2];
	int64_t now = (int64_t)time(NULL) * 1000;
	uint8_t *buf, *signed_bytes = NULL;
	size_t n = 0, len = 0, packed;
	ppx_signer *s = directory_signer();
	struct ppx_directory *parsed = NULL;
	int rc;

	dir.federation = "england-wales";
	dir.serial = ++f->serial;
	dir.issued_ms = now;
	dir.not_before_ms = now - DAY_MS;
	dir.not_after_ms = now + DAY_MS;
	dir.baseline_policy = "";
	for (int i = 0; i < AGENCIES; i++) {
		if (!f->l[i].listed)
			continue;
		ppx__v1__directory_agency__init(&a[n]);
		a[n].name = (char *)names[i];
		a[n].type = (char *)types[i];
		a[n].display_name = "";
		eps[n][0] = f->l[i].endpoint;
		eps[n][1] = f->l[i].standby;
		a[n].endpoints = eps[n];
		a[n].n_endpoints = f->l[i].standby[0] ? 2 : 1;
		/* probation_two_signing 2: the new one alone */
		sign[n][0] = i == PROBATION && f->probation_two_signing == 2 ?
				     f->sign2 : f->sign[i];
		sign[n][1] = f->sign2;
		a[n].signing_certificates = sign[n];
		a[n].n_signing_certificates =
			i == PROBATION && f->probation_two_signing == 1 ? 2 : 1;
		a[n].transport_certificates = &f->trans[i];
		a[n].n_transport_certificates = 1;
		a[n].status = f->l[i].status;
		ap[n] = &a[n];
		n++;
	}
	dir.agencies = ap;
	dir.n_agencies = n;
	packed = ppx__v1__directory__get_packed_size(&dir);
	buf = malloc(packed ? packed : 1);
	assert_non_null(buf);
	ppx__v1__directory__pack(&dir, buf);
	assert_int_equal(ppx_directory_sign(&signed_bytes, &len, buf, packed,
					    s), 0);
	if (ppx_directory_parse(&parsed, signed_bytes, len, f->d->trust,
				time(NULL)) != 0)
		fail_msg("directory refused: %s", ppx_error_last());
	free(buf);
	free(signed_bytes);
	ppx_signer_free(s);
	f->d->directory = parsed;	/* as federation.c does first */
	rc = partners_apply(f->d, parsed);
	ppx_directory_free(f->dir);
	f->dir = parsed;
	return rc;
}

static const struct ppx_partner *partner(struct fixture *f, int who)
{
	const struct ppx_partner *p = ppx_config_partner(f->d->cfg,
							 names[who]);

	assert_non_null(p);
	return p;
}

static size_t link_of(struct fixture *f, int who)
{
	return daemon_fixture_link(f->df, names[who]);
}

static void assert_detail(const char *want)
{
	if (!strstr(ppx_error_last(), want))
		fail_msg("expected \"%s\" in \"%s\"", want, ppx_error_last());
}

static void test_partners__without_a_directory_all_is_as_configured(
	void **state)
{
	struct fixture *f = *state;

	assert_null(f->d->directory);
	assert_int_equal(partner(f, PROBATION)->standing,
			 PPX_STANDING_CONFIGURED);
	assert_int_equal(partners_may_send(f->d, names[PRISON]), 0);
	assert_int_equal(partners_cert_allowed(f->d, names[PROBATION],
					       PPX_ROLE_SIGNING, f->sign2_fp,
					       PARTNERS_USE_MESSAGE), 0);
	assert_int_equal(transport_links(f->d->transport), 2);
}

static void test_partners__a_listed_agency_joins_with_link_lane_budget(
	void **state)
{
	struct fixture *f = *state;
	const struct ppx_partner *p;
	struct outbox_stats st;
	int64_t until = 0, now = ppxd_now_ms();
	uint32_t episode = 0;
	size_t i;

	assert_int_equal(apply(f), 0);
	assert_int_equal(f->d->cfg->n_partners, 3);
	p = partner(f, HOUSING);
	assert_int_equal(p->from_directory, 1);
	assert_int_equal(p->standing, PPX_STANDING_ACTIVE);
	assert_string_equal(p->type, "housing");
	assert_int_equal(p->duty_to_cooperate, 1);
	assert_string_equal(p->endpoint, "tcp://127.0.0.1:7104");
	/* The link, at the partner's index, open, to the listed place. */
	assert_int_equal(transport_links(f->d->transport), 3);
	i = link_of(f, HOUSING);
	assert_int_equal(i, 2);
	assert_string_equal(transport_link_agency(f->d->transport, i),
			    names[HOUSING]);
	assert_int_equal(transport_link_open(f->d->transport, i), 1);
	assert_string_equal(transport_link_endpoint(f->d->transport, i),
			    "tcp://127.0.0.1:7104");
	/* Its lane, empty, and its budget. */
	outbox_stats(f->d, i, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.sent, 0);
	assert_int_equal(budget_refusal(f->d->budget, names[HOUSING], now,
					&until, &episode), 0);
	assert_int_equal(budget_refusal(f->d->budget, names[HOUSING], now,
					&until, &episode), 0);
	assert_int_equal(budget_refusal(f->d->budget, names[HOUSING], now,
					&until, &episode), 1);
	assert_true(budget_blocked(f->d->budget, names[HOUSING], now));
	/* The [partner] sections' partners: active, their links untouched. */
	assert_int_equal(partner(f, PROBATION)->standing,
			 PPX_STANDING_ACTIVE);
	assert_int_equal(partner(f, PROBATION)->from_directory, 0);
	assert_int_equal(transport_mem_link_resets(f->d->transport,
						   link_of(f, PROBATION)), 0);
	/* The same directory again adds nothing. */
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->d->cfg->n_partners, 3);
	assert_int_equal(transport_links(f->d->transport), 3);
}

static void test_partners__failed_addition_leaves_indexes_aligned(
	void **state)
{
	struct fixture *f = *state;
	struct outbox_stats st;
	size_t i;

	transport_mem_fail_link_add(f->d->transport, 1);
	assert_int_equal(apply(f), PPX_ENOMEM);
	/* Not added at all: no config entry without its link and lane. */
	assert_null(ppx_config_partner(f->d->cfg, names[HOUSING]));
	assert_int_equal(f->d->cfg->n_partners, 2);
	assert_int_equal(transport_links(f->d->transport), 2);
	/* Beyond the lanes, the outbox's entry points do nothing. */
	outbox_stats(f->d, 7, &st);
	assert_int_equal(st.depth, 0);
	outbox_link_event(f->d, 7, LINK_DOWN);
	outbox_receipts(f->d, 7, 10);
	/* The next directory adds it whole, at aligned indexes. */
	transport_mem_fail_link_add(f->d->transport, 0);
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->d->cfg->n_partners, 3);
	assert_int_equal(transport_links(f->d->transport), 3);
	i = link_of(f, HOUSING);
	assert_int_equal(i, 2);
	assert_string_equal(f->d->cfg->partners[i].name, names[HOUSING]);
	outbox_stats(f->d, i, &st);
	assert_int_equal(st.depth, 0);
}

static void test_partners__suspended_is_cut_off_and_reinstated(void **state)
{
	struct fixture *f = *state;
	size_t i, resets;

	assert_int_equal(apply(f), 0);
	i = link_of(f, HOUSING);
	f->l[HOUSING].status = PPX__V1__AGENCY_STATUS__AGENCY_SUSPENDED;
	assert_int_equal(apply(f), 0);
	assert_int_equal(partner(f, HOUSING)->standing,
			 PPX_STANDING_SUSPENDED);
	assert_int_equal(transport_link_open(f->d->transport, i), 0);
	assert_int_equal(transport_mem_link_cuts(f->d->transport, i), 1);
	/* Kept: the partner, its link and its lane. */
	assert_int_equal(f->d->cfg->n_partners, 3);
	assert_int_equal(transport_links(f->d->transport), 3);
	/* A pause: new messages are taken and held with the queue. */
	assert_int_equal(partners_may_send(f->d, names[HOUSING]), 0);
	/* Its frames are not. */
	assert_int_equal(partners_cert_allowed(f->d, names[HOUSING],
					       PPX_ROLE_SIGNING,
					       f->sign_fp[HOUSING],
					       PARTNERS_USE_MESSAGE),
			 PPX_ENOTLISTED);
	assert_detail("housing.newport is suspended in directory serial 6");
	/* A link cut off sends nothing, however often it is reset. */
	transport_mem_link_up(f->d->transport, i, 1);
	assert_int_equal(transport_link_send(f->d->transport, i,
					     (const uint8_t *)"x", 1),
			 PPX_EFULL);
	resets = transport_mem_link_resets(f->d->transport, i);
	f->l[HOUSING].status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
	assert_int_equal(apply(f), 0);
	assert_int_equal(partner(f, HOUSING)->standing, PPX_STANDING_ACTIVE);
	assert_int_equal(transport_link_open(f->d->transport, i), 1);
	/* Reset: the outbox resends from the oldest without a receipt. */
	assert_true(transport_mem_link_resets(f->d->transport, i) > resets);
	assert_int_equal(partners_may_send(f->d, names[HOUSING]), 0);
}

static void test_partners__removed_is_cut_off_with_its_lane_kept(
	void **state)
{
	struct fixture *f = *state;
	size_t i = link_of(f, PRISON);

	assert_int_equal(apply(f), 0);
	f->l[PRISON].listed = 0;
	assert_int_equal(apply(f), 0);
	assert_int_equal(partner(f, PRISON)->standing, PPX_STANDING_REMOVED);
	assert_int_equal(transport_link_open(f->d->transport, i), 0);
	assert_int_equal(transport_mem_link_cuts(f->d->transport, i), 1);
	assert_int_equal(link_of(f, PRISON), i);
	assert_int_equal(partners_may_send(f->d, names[PRISON]),
			 PPX_ENOTLISTED);
	assert_detail("prison.cardiff is not listed in directory serial 6");
	assert_int_equal(partners_cert_allowed(f->d, names[PRISON],
					       PPX_ROLE_TRANSPORT,
					       f->trans_fp[PRISON],
					       PARTNERS_USE_SESSION),
			 PPX_ENOTLISTED);
}

static void test_partners__not_allowed_by_glob_is_neither_added_nor_let_in(
	void **state)
{
	struct fixture *f = *state;
	struct ppx_config *c = f->d->cfg;

	snprintf(c->fed_partners[0], sizeof(c->fed_partners[0]), "police.*");
	snprintf(c->fed_partners[1], sizeof(c->fed_partners[1]),
		 "probation.*");
	c->n_fed_partners = 2;
	assert_int_equal(apply(f), 0);
	assert_null(ppx_config_partner(c, names[HOUSING]));
	assert_int_equal(transport_links(f->d->transport), 2);
	assert_int_equal(partner(f, PRISON)->standing,
			 PPX_STANDING_NOT_ALLOWED);
	assert_int_equal(transport_link_open(f->d->transport,
					     link_of(f, PRISON)), 0);
	assert_int_equal(partner(f, PROBATION)->standing,
			 PPX_STANDING_ACTIVE);
	assert_int_equal(partners_cert_allowed(f->d, names[HOUSING],
					       PPX_ROLE_TRANSPORT,
					       f->trans_fp[HOUSING],
					       PARTNERS_USE_SESSION),
			 PPX_ENOTLISTED);
	assert_detail("not among [federation] partners");
}

static void test_partners__endpoint_change_resets_the_link(void **state)
{
	struct fixture *f = *state;
	size_t i = link_of(f, PRISON), resets;

	assert_int_equal(apply(f), 0);
	assert_string_equal(transport_link_endpoint(f->d->transport, i),
			    f->l[PRISON].endpoint);
	assert_int_equal(transport_mem_link_resets(f->d->transport, i), 0);
	resets = transport_mem_link_resets(f->d->transport, i);
	snprintf(f->l[PRISON].endpoint, sizeof(f->l[PRISON].endpoint),
		 "tcp://10.0.0.9:7400");
	assert_int_equal(apply(f), 0);
	assert_string_equal(transport_link_endpoint(f->d->transport, i),
			    "tcp://10.0.0.9:7400");
	assert_string_equal(partner(f, PRISON)->endpoint,
			    "tcp://10.0.0.9:7400");
	assert_true(transport_mem_link_resets(f->d->transport, i) > resets);
	assert_int_equal(transport_link_open(f->d->transport, i), 1);
	assert_int_equal(transport_mem_link_cuts(f->d->transport, i), 0);
}

static void test_partners__cert_allowed_per_standing_and_use(void **state)
{
	struct fixture *f = *state;
	struct ppxd *d = f->d;
	const char *h = names[HOUSING];
	const uint8_t *sfp = f->sign_fp[HOUSING], *tfp = f->trans_fp[HOUSING];

	assert_int_equal(apply(f), 0);
	/* Listed, active: every use. */
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_SIGNING, sfp,
					       PARTNERS_USE_MESSAGE), 0);
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_SIGNING, sfp,
					       PARTNERS_USE_RECEIPT), 0);
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_TRANSPORT, tfp,
					       PARTNERS_USE_SESSION), 0);
	/* Unlisted: another's certificate, or a role it is not listed in. */
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_SIGNING,
					       f->sign2_fp,
					       PARTNERS_USE_MESSAGE),
			 PPX_ENOTLISTED);
	assert_detail("signing certificate");
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_SIGNING, tfp,
					       PARTNERS_USE_MESSAGE),
			 PPX_ENOTLISTED);
	/* Leaving: sessions and receipts, no messages. */
	f->l[HOUSING].status = PPX__V1__AGENCY_STATUS__AGENCY_LEAVING;
	assert_int_equal(apply(f), 0);
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_TRANSPORT, tfp,
					       PARTNERS_USE_SESSION), 0);
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_SIGNING, sfp,
					       PARTNERS_USE_RECEIPT), 0);
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_SIGNING, sfp,
					       PARTNERS_USE_MESSAGE),
			 PPX_ENOTLISTED);
	assert_detail("is leaving the federation");
	/* Suspended: nothing. */
	f->l[HOUSING].status = PPX__V1__AGENCY_STATUS__AGENCY_SUSPENDED;
	assert_int_equal(apply(f), 0);
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_TRANSPORT, tfp,
					       PARTNERS_USE_SESSION),
			 PPX_ENOTLISTED);
	assert_int_equal(partners_cert_allowed(d, h, PPX_ROLE_SIGNING, sfp,
					       PARTNERS_USE_RECEIPT),
			 PPX_ENOTLISTED);
	assert_detail("suspended");
}

static void test_partners__leaving_gets_no_new_messages(void **state)
{
	struct fixture *f = *state;
	size_t i = link_of(f, PROBATION);

	f->l[PROBATION].status = PPX__V1__AGENCY_STATUS__AGENCY_LEAVING;
	f->serial = 6;
	assert_int_equal(apply(f), 0);
	assert_int_equal(partner(f, PROBATION)->standing,
			 PPX_STANDING_LEAVING);
	assert_int_equal(partners_may_send(f->d, names[PROBATION]),
			 PPX_ENOTLISTED);
	assert_string_equal(ppx_error_last(),
			    "probation.gwent is leaving the federation "
			    "(directory serial 7): no new messages");
	/* Its link stays: what is queued is delivered. */
	assert_int_equal(transport_link_open(f->d->transport, i), 1);
	assert_int_equal(transport_mem_link_cuts(f->d->transport, i), 0);
}

static void test_partners__added_certificate_cuts_no_session(void **state)
{
	struct fixture *f = *state;
	size_t i = link_of(f, PROBATION), resets;

	assert_int_equal(apply(f), 0);
	resets = transport_mem_link_resets(f->d->transport, i);
	/* Rotation step 2: the new signing certificate beside the old. */
	f->probation_two_signing = 1;
	assert_int_equal(apply(f), 0);
	assert_int_equal(transport_mem_link_cuts(f->d->transport, i), 0);
	assert_int_equal(transport_mem_link_resets(f->d->transport, i), resets);
	assert_int_equal(partners_cert_allowed(f->d, names[PROBATION],
					       PPX_ROLE_SIGNING, f->sign2_fp,
					       PARTNERS_USE_MESSAGE), 0);
	assert_int_equal(partners_cert_allowed(f->d, names[PROBATION],
					       PPX_ROLE_SIGNING,
					       f->sign_fp[PROBATION],
					       PARTNERS_USE_MESSAGE), 0);
	/* The new certificate is known to the trust store now. */
	assert_non_null(ppx_trust_find(f->d->trust, f->sign2_fp));
}

static void test_partners__removed_certificate_cuts_sessions(void **state)
{
	struct fixture *f = *state;
	size_t i = link_of(f, PROBATION), resets;

	f->probation_two_signing = 1;
	assert_int_equal(apply(f), 0);
	resets = transport_mem_link_resets(f->d->transport, i);
	/* Rotation step 3: the old certificate de-listed. */
	f->probation_two_signing = 2;
	assert_int_equal(apply(f), 0);
	assert_int_equal(transport_mem_link_cuts(f->d->transport, i), 1);
	assert_true(transport_mem_link_resets(f->d->transport, i) > resets);
	assert_int_equal(partners_cert_allowed(f->d, names[PROBATION],
					       PPX_ROLE_SIGNING,
					       f->sign_fp[PROBATION],
					       PARTNERS_USE_MESSAGE),
			 PPX_ENOTLISTED);
}

/* A directory or CRL passed on by a partner cut off is not parsed. */
static void test_partners__directory_from_a_suspended_partner_is_dropped(
	void **state)
{
	struct fixture *f = *state;
	uint8_t *frame = NULL;
	size_t len = 0;

	assert_non_null(f->d->federation = calloc(1, sizeof(struct federation)));
	f->l[HOUSING].status = PPX__V1__AGENCY_STATUS__AGENCY_SUSPENDED;
	assert_int_equal(apply(f), 0);
	assert_int_equal(fed_frame(&frame, &len, 7, (const uint8_t *)"x", 1),
			 0);
	assert_int_equal(federation_frame(f->d, names[HOUSING], frame, len),
			 1);
	assert_int_equal(f->d->federation->n_peers, 0);
	/* An active one's is judged (and this one refused). */
	assert_int_equal(federation_frame(f->d, names[PROBATION], frame, len),
			 1);
	assert_int_equal(f->d->federation->n_peers, 1);
	free(frame);
	free(f->d->federation->peers);
	free(f->d->federation);
	f->d->federation = NULL;
}

static void test_partners__every_listed_endpoint_is_tried_in_turn(
	void **state)
{
	struct fixture *f = *state;
	char ep[256];

	snprintf(f->l[PRISON].standby, sizeof(f->l[PRISON].standby),
		 "tcp://127.0.0.1:7999");
	assert_int_equal(apply(f), 0);
	/* The link is set to the first; the transport walks the others. */
	assert_string_equal(transport_link_endpoint(f->d->transport,
						    link_of(f, PRISON)),
			    f->l[PRISON].endpoint);
	assert_int_equal(partners_endpoint(f->d, names[PRISON], 0, ep,
					   sizeof(ep)), 2);
	assert_string_equal(ep, f->l[PRISON].endpoint);
	assert_int_equal(partners_endpoint(f->d, names[PRISON], 1, ep,
					   sizeof(ep)), 2);
	assert_string_equal(ep, "tcp://127.0.0.1:7999");
	assert_int_equal(partners_endpoint(f->d, names[PRISON], 2, ep,
					   sizeof(ep)), 2);
	assert_string_equal(ep, f->l[PRISON].endpoint);
	assert_int_equal(partners_endpoint(f->d, names[PROBATION], 1, ep,
					   sizeof(ep)), 1);
	assert_string_equal(ep, f->l[PROBATION].endpoint);
	assert_int_equal(partners_endpoint(f->d, "council.cardiff", 0, ep,
					   sizeof(ep)), 0);
}

/* Two known certificates hold prison's transport key (certified again
 * with new dates); the directory lists only the second. */
static void test_partners__handshake_judges_the_listed_certificate_of_a_key(
	void **state)
{
	struct fixture *f = *state;
	ppx_cert *old = NULL, *again;
	const ppx_cert *first;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	ppx_identity id;
	uint8_t key[32];
	char who[256] = "";

	assert_int_equal(ppx_cert_load(&old, pki_path("agencies/prison.cardiff/"
						       "transport.crt")), 0);
	assert_int_equal(ppx_cert_x25519_public(old, key), 0);
	again = forge_cert_like(names[PRISON], "transport",
				"critical,keyAgreement", old);
	free(f->trans[PRISON].data);
	f->trans[PRISON] = der_of(again, f->trans_fp[PRISON]);
	assert_int_equal(apply(f), 0);
	/* The old one comes first in the trust store: it is not listed. */
	first = ppx_trust_find_transport(f->d->trust, key);
	assert_non_null(first);
	assert_int_equal(ppx_cert_fingerprint(first, fp), 0);
	assert_memory_not_equal(fp, f->trans_fp[PRISON], PPX_FINGERPRINT_LEN);
	assert_int_equal(partners_transport_cert(f->d, key, &id, who,
						 sizeof(who)), 0);
	assert_string_equal(who, names[PRISON]);
	assert_memory_equal(id.fingerprint, f->trans_fp[PRISON],
			    PPX_FINGERPRINT_LEN);
	/* A key nobody's certificate holds. */
	key[0] ^= 1;
	snprintf(who, sizeof(who), "unchanged");
	assert_int_equal(partners_transport_cert(f->d, key, &id, who,
						 sizeof(who)),
			 PPX_EUNKNOWN_SIGNER);
	assert_string_equal(who, "unchanged");
	ppx_cert_free(again);
	ppx_cert_free(old);
}

static void test_partners__server_key_is_a_listed_transport_key(
	void **state)
{
	struct fixture *f = *state;
	uint8_t key[32], want[32];
	ppx_cert *c = NULL;

	assert_int_equal(apply(f), 0);
	assert_int_equal(ppx_cert_load(&c, pki_path("agencies/prison.cardiff/"
						     "transport.crt")), 0);
	assert_int_equal(ppx_cert_x25519_public(c, want), 0);
	ppx_cert_free(c);
	assert_int_equal(partners_server_key(f->d, names[PRISON], 0, key), 1);
	assert_memory_equal(key, want, 32);
	assert_int_equal(partners_server_key(f->d, names[PRISON], 5, key), 1);
	assert_memory_equal(key, want, 32);
	assert_int_equal(partners_server_key(f->d, names[HOUSING], 0, key), 1);
}

static void test_partners__status_says_standing_endpoint_certificates(
	void **state)
{
	struct fixture *f = *state;
	Ppx__V1__PartnerStatus ps = PPX__V1__PARTNER_STATUS__INIT;
	size_t i;

	assert_int_equal(apply(f), 0);
	i = link_of(f, HOUSING);
	assert_int_equal(partners_status(f->d, i, &ps), 0);
	assert_string_equal(ps.standing, "active");
	assert_string_equal(ps.endpoint, "tcp://127.0.0.1:7104");
	assert_string_equal(ps.type, "housing");
	assert_int_equal(ps.n_certificates, 2);
	assert_string_equal(ps.certificates[0]->role, "signing");
	assert_memory_equal(ps.certificates[0]->fingerprint.data,
			    f->sign_fp[HOUSING], 32);
	assert_string_equal(ps.certificates[1]->role, "transport");
	assert_true(ps.certificates[1]->not_after_ms >
		    ps.certificates[1]->not_before_ms);
	assert_true(ps.certificates[1]->serial[0] != '\0');
}

/* A message from probation.gwent to us, received as one iteration does:
 * the status of the one receipt item it gets, and its reason. */
static int receive_from_probation(struct fixture *f, int *reason)
{
	Ppx__V1__Body *b = body_new(names[PROBATION], names[POLICE]);
	ppx_signer *s = signer_at(names[PROBATION]);
	Ppx__V1__ReceiptBody *r = NULL;
	struct transport_route route;
	uint8_t *frame = NULL, *data = NULL;
	size_t len = 0, dlen = 0;
	int status;

	assert_int_equal(ppx_body_seal(&frame, &len, s, b), 0);
	transport_mem_inbound_push(f->d->transport, names[PROBATION], "c1",
				   frame, len);
	assert_int_equal(inbound_drain(f->d, 100), 1);
	writer_flush(f->d);
	assert_int_equal(transport_mem_reply_take(f->d->transport, &route,
						  &data, &dlen), 0);
	assert_int_equal(ppx_receipt_open(&r, f->d->trust, data, dlen,
					  names[POLICE], names[PROBATION],
					  time(NULL)), 0);
	status = r->items[0]->status;
	*reason = r->items[0]->reason;
	ppx__v1__receipt_body__free_unpacked(r, NULL);
	free(data);
	free(frame);
	ppx_signer_free(s);
	body_free(b);
	return status;
}

static void test_partners__messages_of_a_suspended_partner_are_refused(
	void **state)
{
	struct fixture *f = *state;
	int reason = 0;

	f->l[PROBATION].status = PPX__V1__AGENCY_STATUS__AGENCY_SUSPENDED;
	assert_int_equal(apply(f), 0);
	assert_int_equal(receive_from_probation(f, &reason),
			 PPX__V1__RECEIPT_STATUS__REFUSED);
	assert_int_equal(reason,
			 PPX__V1__REJECT_REASON__REJECT_NOT_IN_DIRECTORY);
	assert_int_equal(daemon_fixture_count(f->df,
					      PPX__V1__ENTRY_KIND__ENTRY_RECEIVED,
					      NULL), 0);
	f->l[PROBATION].status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
	assert_int_equal(apply(f), 0);
	assert_int_equal(receive_from_probation(f, &reason),
			 PPX__V1__RECEIPT_STATUS__STORED);
	assert_int_equal(daemon_fixture_count(f->df,
					      PPX__V1__ENTRY_KIND__ENTRY_RECEIVED,
					      NULL), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_partners__without_a_directory_all_is_as_configured),
		T(test_partners__a_listed_agency_joins_with_link_lane_budget),
		T(test_partners__failed_addition_leaves_indexes_aligned),
		T(test_partners__suspended_is_cut_off_and_reinstated),
		T(test_partners__removed_is_cut_off_with_its_lane_kept),
		T(test_partners__not_allowed_by_glob_is_neither_added_nor_let_in),
		T(test_partners__endpoint_change_resets_the_link),
		T(test_partners__cert_allowed_per_standing_and_use),
		T(test_partners__leaving_gets_no_new_messages),
		T(test_partners__added_certificate_cuts_no_session),
		T(test_partners__removed_certificate_cuts_sessions),
		T(test_partners__directory_from_a_suspended_partner_is_dropped),
		T(test_partners__every_listed_endpoint_is_tried_in_turn),
		T(test_partners__handshake_judges_the_listed_certificate_of_a_key),
		T(test_partners__server_key_is_a_listed_transport_key),
		T(test_partners__status_says_standing_endpoint_certificates),
		T(test_partners__messages_of_a_suspended_partner_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
