/*
 * fuzz_body.c — libFuzzer target for every payload a partner can send: the
 * bytes of a signed ppx.v1.Body, decoded and checked as ppxd checks a body
 * whose signature has held (ppx_body_check, then the family rules of
 * ppx_domain_check).  Each input is checked as sent by a police, a
 * probation and a duty-to-co-operate agency, so that the owner rules of
 * partner records are reached from every side.  Nothing may crash, leak or
 * read out of bounds, whatever the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ppx/domain.h"
#include "ppx/envelope.h"
#include "ppx.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const senders[] = {
		"police.gwent", "probation.gwent", "housing.newport",
	};
	Ppx__V1__Body *b = ppx__v1__body__unpack(NULL, size, data);

	if (!b)
		return 0;
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		ppx_body_check(b, senders[i]);
		ppx_domain_check(b, senders[i]);
	}
	/* As signed by whoever the body claims sent it, as on receipt. */
	if (ppx_body_check(b, b->sender_agency) == 0)
		ppx_domain_check(b, b->sender_agency);
	ppx__v1__body__free_unpacked(b, NULL);
	return 0;
}
