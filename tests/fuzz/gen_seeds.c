/*
 * gen_seeds.c — write the seed corpus of fuzz_envelope: valid message,
 * receipt and checkpoint frames signed with the demo PKI, and the classic
 * near misses (other versions, empty, truncated).  `make fuzz-seeds`
 * regenerates tests/fuzz/corpus/envelope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "../unit/support.h"

static void put(const char *dir, const char *name, const uint8_t *d, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n) {
		fprintf(stderr, "gen_seeds: cannot write %s\n", path);
		exit(1);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/envelope";
	ppx_signer *police = signer_at("police.gwent");
	ppx_signer *probation = signer_at("probation.gwent");
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem it = PPX__V1__RECEIPT_ITEM__INIT;
	Ppx__V1__ReceiptItem *items[] = {&it};
	uint8_t *msg = NULL, *rcpt = NULL, hash[32] = {0};
	size_t msg_len, rcpt_len;

	if (ppx_body_seal(&msg, &msg_len, police, b) != 0)
		return 1;
	put(dir, "message-arrest", msg, msg_len);
	put(dir, "message-truncated", msg, msg_len / 2);
	msg[1] = 2;	/* version 2 */
	put(dir, "message-version-2", msg, msg_len);
	it.body_hash.data = hash;
	it.body_hash.len = sizeof(hash);
	it.message_id = b->message_id;
	it.status = PPX__V1__RECEIPT_STATUS__STORED;
	r.receiver_agency = "probation.gwent";
	r.sender_agency = "police.gwent";
	r.time_ms = (int64_t)time(NULL) * 1000;
	r.n_items = 1;
	r.items = items;
	if (ppx_receipt_seal(&rcpt, &rcpt_len, probation, &r) != 0)
		return 1;
	put(dir, "receipt-stored", rcpt, rcpt_len);
	put(dir, "empty", (const uint8_t *)"", 0);
	free(msg);
	free(rcpt);
	body_free(b);
	ppx_signer_free(police);
	ppx_signer_free(probation);
	return 0;
}
