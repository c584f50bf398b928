/*
 * fuzz_text.c — libFuzzer target for the text check (lib/text.c): any
 * bytes walked as a Body, a ReceiptBody and a control request, escaped and
 * repaired.  Nothing may crash or read out of bounds; a walk that passes
 * means every string protobuf-c decodes is text; what ppx_text_escape()
 * and ppx_text_repair() return is always text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/error.h"
#include "ppx/text.h"
#include "ppx.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_be_text(const char *s, size_t len)
{
	if (ppx_utf8_find_bad((const uint8_t *)s, len) != len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256];
	size_t len;
	char *fixed;
	Ppx__V1__Body *b;

	if (ppx_text_check(&ppx__v1__body__descriptor, data, size, NULL) == 0 &&
	    (b = ppx__v1__body__unpack(NULL, size, data))) {
		if (b->sender_person)
			must_be_text(b->sender_person->id,
				     strlen(b->sender_person->id));
		for (size_t i = 0; i < b->n_recipients; i++)
			must_be_text(b->recipients[i], strlen(b->recipients[i]));
		ppx__v1__body__free_unpacked(b, NULL);
	}
	ppx_text_check(&ppx__v1__receipt_body__descriptor, data, size, "r");
	ppx_text_check(&ppx__v1__control_request__descriptor, data, size, "c");
	must_be_text(ppx_error_last(), strlen(ppx_error_last()));
	len = ppx_text_escape(out, sizeof(out), (const char *)data, size);
	must_be_text(out, len);
	fixed = ppx_text_repair((const char *)data, size, &len);
	if (fixed)
		must_be_text(fixed, len);
	free(fixed);
	return 0;
}
