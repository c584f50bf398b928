/*
 * test_daemon_codes.c — the daemon's functions that used to answer a bare
 * -1 now name what happened (STYLE.md): a partner that is no link is
 * PPX_ENOTFOUND, an IPC peer address without credentials PPX_ENOTFOUND,
 * and a transport with nothing waiting PPX_EAGAIN, which has a name of
 * its own in ppx_strerror().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../daemon/transport.h"
#include "../../daemon/zap.h"
#include "daemon_fixture.h"
#include "ppx/error.h"
#include "ppx.pb-c.h"

static void test_daemon_codes__eagain_has_its_own_name(void **state)
{
	(void)state;
	assert_string_equal(ppx_strerror(PPX_EAGAIN), "nothing to read now");
	assert_int_equal(ppx_error_reject_reason(PPX_EAGAIN),
			 PPX__V1__REJECT_REASON__REJECT_INTERNAL);
	assert_int_not_equal(PPX_EAGAIN, PPX_EINVAL);
}

static void test_daemon_codes__link_of_no_partner_is_not_found(void **state)
{
	struct daemon_fixture *f = daemon_fixture_new("police.gwent", NULL);

	(void)state;
	assert_int_equal(transport_link_find(f->d.transport, "prison.cardiff"),
			 (int)daemon_fixture_link(f, "prison.cardiff"));
	assert_int_equal(transport_link_find(f->d.transport, "nobody.here"),
			 PPX_ENOTFOUND);
	daemon_fixture_free(&f);
}

/* The in-memory transport keeps the contract the loop relies on. */
static void test_daemon_codes__nothing_waiting_is_eagain(void **state)
{
	struct daemon_fixture *f = daemon_fixture_new("police.gwent", NULL);
	struct transport_route route;
	struct transport_frame frame;
	char agency[PPX_NAME_MAX];

	(void)state;
	assert_int_equal(transport_recv(f->d.transport, &route, &frame,
					agency),
			 PPX_EAGAIN);
	assert_int_equal(transport_link_recv(f->d.transport,
					     daemon_fixture_link(f,
							"prison.cardiff"),
					     &frame),
			 PPX_EAGAIN);
	daemon_fixture_free(&f);
}

static void test_daemon_codes__tcp_peer_cred_is_not_found(
	void **state)
{
	long uid = -1, gid = -1;

	(void)state;
	assert_int_equal(zap_peer_cred("192.0.2.7", &uid, &gid),
			 PPX_ENOTFOUND);
	assert_int_equal(zap_peer_cred("x:abc:100:42", &uid, &gid),
			 PPX_ENOTFOUND);
	assert_int_equal(zap_peer_cred("x:1000:1001:42", &uid, &gid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 1001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daemon_codes__eagain_has_its_own_name),
		cmocka_unit_test(
			test_daemon_codes__link_of_no_partner_is_not_found),
		cmocka_unit_test(test_daemon_codes__nothing_waiting_is_eagain),
		cmocka_unit_test(
			test_daemon_codes__tcp_peer_cred_is_not_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
