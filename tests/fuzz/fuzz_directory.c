/*
 * fuzz_directory.c — libFuzzer target for the federation directory: the
 * bytes of a SignedDirectory, as a partner's Frame{directory} or a file
 * drop brings them, through ppx_directory_parse() at the current time and
 * without time (as ppx verify judges one in a log), then what a daemon
 * does with one that verifies: supersedes and the text of its changes.
 *
 * The trust store is the demo PKI ($PPX_TEST_PKI, else $BUILD/pki, else
 * build/pki), loaded once.  A seed signed with another build's demo PKI
 * stops at the signer's chain, which still covers the decoding and the
 * unknown-field checks.  Nothing may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ppx/directory.h"
#include "ppx/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ppx_trust *fuzz_trust(void)
{
	static ppx_trust *trust;
	static int tried;
	char ca[1024], crl[1024], dflt[512];
	const char *root = getenv("PPX_TEST_PKI");
	const char *build = getenv("BUILD");

	if (tried)
		return trust;
	tried = 1;
	if (!root) {
		snprintf(dflt, sizeof(dflt), "%s/pki", build ? build : "build");
		root = dflt;
	}
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", root);
	snprintf(crl, sizeof(crl), "%s/ca/crl.pem", root);
	if (ppx_trust_load(&trust, ca, crl, NULL) != 0) {
		fprintf(stderr, "fuzz_directory: %s\n", ppx_error_last());
		abort();	/* a broken harness, not a finding */
	}
	return trust;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static time_t now;
	struct ppx_directory *dir = NULL, *history = NULL;
	ppx_trust *trust = fuzz_trust();
	char text[4096];

	if (!now)
		now = time(NULL);
	if (ppx_directory_parse(&dir, data, size, trust, now) == 0) {
		(void)ppx_directory_supersedes(NULL, dir);
		(void)ppx_directory_changes(NULL, dir, text, sizeof(text));
	}
	if (ppx_directory_parse(&history, data, size, trust, 0) == 0 && dir) {
		(void)ppx_directory_supersedes(dir, history);
		(void)ppx_directory_changes(dir, history, text, sizeof(text));
	}
	ppx_directory_free(dir);
	ppx_directory_free(history);
	return 0;
}
