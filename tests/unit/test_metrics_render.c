/*
 * test_metrics_render.c — client/metrics_render.c: the exposition of a
 * status whose names come from outside (partners' certificates, hooks'
 * names): label values escaped as the text format requires, so that no
 * name can end a label or a line; what is not UTF-8 replaced; series left
 * out when there is nothing to say; and the exposition of a daemon down.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../client/metrics.h"
#include "ppx.pb-c.h"

#define NOW_MS 1800000000000LL

/* The line of `text` that starts with `prefix`, copied; NULL if none. */
static char *line_of(const char *text, const char *prefix)
{
	const char *p = text;

	while (p) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return strndup(p, strcspn(p, "\n"));
		p = strchr(p, '\n');
		p = p && p[1] ? p + 1 : NULL;
	}
	return NULL;
}

/* Every line is a comment or NAME{...} VALUE with no raw newline, quote
 * or backslash loose in a label value: checked by walking the quotes. */
static int lines_well_formed(const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		int in_value = 0;

		if (p[0] != '#') {
			for (size_t i = 0; i < n; i++) {
				if (in_value && p[i] == '\\') {
					if (!strchr("\\\"n", p[i + 1]))
						return 0;
					i++;
				} else if (p[i] == '"') {
					in_value = !in_value;
				}
			}
			if (in_value)
				return 0;
		}
		p += n + (p[n] == '\n');
	}
	return 1;
}

static void test_metrics_render__hostile_names_are_escaped(void **state)
{
	Ppx__V1__StatusReply s = PPX__V1__STATUS_REPLY__INIT;
	Ppx__V1__PartnerStatus p = PPX__V1__PARTNER_STATUS__INIT;
	Ppx__V1__PartnerStatus *pp[] = {&p};
	Ppx__V1__HookStatus h = PPX__V1__HOOK_STATUS__INIT;
	Ppx__V1__HookStatus *hp[] = {&h};
	char agency[] = "evil\"} 1\nppx_up{agency=\"x";
	char hook[] = "a\\b\xff";
	char *text = NULL, *line;
	size_t len;

	(void)state;
	s.agency = (char *)"police.gwent";
	s.partners = pp;
	s.n_partners = 1;
	s.hooks = hp;
	s.n_hooks = 1;
	p.agency = agency;
	p.outbox_depth = 7;
	h.name = hook;
	h.stuck = 1;
	assert_int_equal(metrics_render(&text, &len, &s, NOW_MS), 0);
	assert_int_equal(strlen(text), len);
	assert_true(lines_well_formed(text));
	line = line_of(text, "ppx_outbox_depth{");
	assert_non_null(line);
	assert_string_equal(line, "ppx_outbox_depth{agency=\"police.gwent\","
			    "partner=\"evil\\\"} 1\\nppx_up{agency=\\\"x\"} 7");
	free(line);
	/* One ppx_up line only: the name did not make a second. */
	assert_non_null(line = line_of(text, "ppx_up{"));
	assert_string_equal(line, "ppx_up{agency=\"police.gwent\"} 1");
	assert_null(strstr(strstr(text, line) + 1, "\nppx_up{"));
	free(line);
	line = line_of(text, "ppx_hook_stuck{");
	assert_string_equal(line, "ppx_hook_stuck{agency=\"police.gwent\","
			    "hook=\"a\\\\b\xef\xbf\xbd\"} 1");
	free(line);
	free(text);
}

static void test_metrics_render__no_receipt_no_age(void **state)
{
	Ppx__V1__StatusReply s = PPX__V1__STATUS_REPLY__INIT;
	Ppx__V1__PartnerStatus a = PPX__V1__PARTNER_STATUS__INIT;
	Ppx__V1__PartnerStatus b = PPX__V1__PARTNER_STATUS__INIT;
	Ppx__V1__PartnerStatus *pp[] = {&a, &b};
	char *text = NULL, *line;
	size_t len;

	(void)state;
	s.agency = (char *)"police.gwent";
	s.partners = pp;
	s.n_partners = 2;
	a.agency = (char *)"probation.gwent";
	a.last_receipt_ms = NOW_MS - 2500;
	a.oldest_waiting_ms = NOW_MS - 61000;
	b.agency = (char *)"prison.cardiff";
	assert_int_equal(metrics_render(&text, &len, &s, NOW_MS), 0);
	line = line_of(text, "ppx_last_receipt_age_seconds{");
	assert_string_equal(line, "ppx_last_receipt_age_seconds{agency="
			    "\"police.gwent\",partner=\"probation.gwent\"} 2.5");
	free(line);
	assert_null(strstr(text, "ppx_last_receipt_age_seconds{agency="
			   "\"police.gwent\",partner=\"prison.cardiff\"}"));
	line = line_of(text, "ppx_outbox_oldest_age_seconds{");
	assert_string_equal(line, "ppx_outbox_oldest_age_seconds{agency="
			    "\"police.gwent\",partner=\"probation.gwent\"} 61");
	free(line);
	assert_non_null(strstr(text, "ppx_outbox_oldest_age_seconds{agency="
			       "\"police.gwent\",partner=\"prison.cardiff\"} 0\n"));
	free(text);
}

static void test_metrics_render__certificates_expiry_and_duplicates(void **state)
{
	Ppx__V1__StatusReply s = PPX__V1__STATUS_REPLY__INIT;
	Ppx__V1__CertStatus own = PPX__V1__CERT_STATUS__INIT;
	Ppx__V1__CertStatus ca = PPX__V1__CERT_STATUS__INIT;
	Ppx__V1__CertStatus *cp[] = {&own, &ca, &ca};
	char *text = NULL;
	size_t len;

	(void)state;
	s.agency = (char *)"police.gwent";
	s.certificates = cp;
	s.n_certificates = 3;
	own.role = (char *)"signing";
	own.serial = (char *)"1001";
	own.not_after_ms = NOW_MS - 1000;	/* expired a second ago */
	ca.role = (char *)"ca";
	ca.serial = (char *)"01";
	ca.not_after_ms = NOW_MS + 86400000;
	assert_int_equal(metrics_render(&text, &len, &s, NOW_MS), 0);
	assert_non_null(strstr(text, "ppx_certificate_expiry_seconds{agency="
			       "\"police.gwent\",role=\"signing\",owner="
			       "\"police.gwent\",serial=\"1001\"} -1\n"));
	assert_non_null(strstr(text, "role=\"ca\",owner=\"ca\",serial=\"01\"} "
			       "86400\n"));
	/* The CA listed twice is one series. */
	assert_null(strstr(strstr(text, "owner=\"ca\"") + 1, "owner=\"ca\""));
	free(text);
}

static void test_metrics_render__down_is_up_zero(void **state)
{
	char *text = NULL;
	size_t len;

	(void)state;
	assert_int_equal(metrics_render_down(&text, &len, "probation.gwent"), 0);
	assert_string_equal(text, "# HELP ppx_up 1 when the daemon answered.\n"
			    "# TYPE ppx_up gauge\n"
			    "ppx_up{agency=\"probation.gwent\"} 0\n");
	free(text);
	assert_int_equal(metrics_render_down(&text, &len, NULL), 0);
	assert_non_null(strstr(text, "\nppx_up 0\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_render__hostile_names_are_escaped),
		cmocka_unit_test(test_metrics_render__no_receipt_no_age),
		cmocka_unit_test(test_metrics_render__certificates_expiry_and_duplicates),
		cmocka_unit_test(test_metrics_render__down_is_up_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
