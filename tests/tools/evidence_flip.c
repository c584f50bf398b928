/*
 * evidence_flip.c — every single byte of an evidence bundle changed, one
 * at a time, must make the bundle fail (tests/integration/evidence.sh).
 *
 *   evidence-flip BUNDLE CA.crt [STEP]
 *
 * For each byte (every STEP-th; 1 by default) it XORs the byte with 0x01
 * and with 0xff, runs ppx_evidence_verify() in-process on the copy, and
 * counts copies that still verify (there must be none).  It prints one
 * summary line, then how many times each failure was named ("receipt 1:
 * signature does not verify"; fingerprints in a reason shown as "#"), so
 * the script can show that failures name what.
 * Exit 0 when every changed copy failed, 1 otherwise, 2 on bad use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/evidence.h"

#define MAX_REASONS 256

struct tally {
	char what[MAX_REASONS][sizeof(((ppx_evidence_report *)0)->reason)];
	unsigned n[MAX_REASONS];
	size_t k;
};

/* The reason with each run of 8 or more hex digits (a fingerprint) as
 * "#", so that one check counts once however its bytes changed. */
static void normalise(char *out, size_t cap, const char *reason)
{
	size_t o = 0;

	for (const char *p = reason; *p && o + 1 < cap;) {
		size_t n = strspn(p, "0123456789abcdef");

		if (n >= 8) {
			out[o++] = '#';
			p += n;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
}

static void count(struct tally *t, const char *reason)
{
	char what[sizeof(t->what[0])];

	normalise(what, sizeof(what), reason);
	for (size_t i = 0; i < t->k; i++)
		if (strcmp(t->what[i], what) == 0) {
			t->n[i]++;
			return;
		}
	if (t->k < MAX_REASONS) {
		snprintf(t->what[t->k], sizeof(t->what[t->k]), "%s", what);
		t->n[t->k++] = 1;
	}
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = f ? malloc(PPX_EVIDENCE_MAX) : NULL;

	if (!buf) {
		if (f)
			fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, PPX_EVIDENCE_MAX, f);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	static const uint8_t masks[] = {0x01, 0xff};
	static struct tally t;
	uint8_t *buf, *ca = NULL;
	size_t len = 0, ca_len = 0, step = 1, tried = 0, passed = 0;
	ppx_evidence_report r;

	if (argc < 3 || !(buf = slurp(argv[1], &len)) ||
	    ppx_evidence_read_ca(&ca, &ca_len, argv[2]) != 0) {
		fprintf(stderr, "usage: evidence-flip BUNDLE CA.crt [STEP]\n");
		return 2;
	}
	if (argc > 3 && strtoul(argv[3], NULL, 10) > 0)
		step = strtoul(argv[3], NULL, 10);
	if (ppx_evidence_verify(&r, buf, len, ca, ca_len) != 0 || !r.ok) {
		fprintf(stderr, "the bundle does not verify unchanged: %s\n",
			r.reason);
		return 1;
	}
	ppx_evidence_report_clear(&r);
	for (size_t i = 0; i < len; i += step)
		for (size_t m = 0; m < sizeof(masks); m++) {
			buf[i] ^= masks[m];
			if (ppx_evidence_verify(&r, buf, len, ca, ca_len) != 0)
				return 2;
			tried++;
			if (r.ok) {
				passed++;
				printf("byte %zu ^ 0x%02x: still verifies\n", i,
				       masks[m]);
			} else {
				count(&t, r.reason);
			}
			ppx_evidence_report_clear(&r);
			buf[i] ^= masks[m];
		}
	printf("%zu bytes, %zu changed copies, %zu still verify, %zu "
	       "different failures named\n", len, tried, passed, t.k);
	for (size_t i = 0; i < t.k; i++)
		printf("%6u %s\n", t.n[i], t.what[i]);
	free(buf);
	free(ca);
	return passed ? 1 : 0;
}
