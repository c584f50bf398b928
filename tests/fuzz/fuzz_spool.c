/*
 * fuzz_spool.c — libFuzzer target for spool files: the text a local writer
 * renames into the spool directory, read as daemon/spool.c reads it (one
 * ppx.v1.Body in canonical JSON, at most PPX_JSON_MAX_INPUT bytes, a
 * messageId either absent or 16 bytes), completed as submit_body()
 * completes a body for the spool's operator, and checked with ppx_body_check() and
 * ppx_domain_check() as police.gwent.  spool_text() itself needs a running
 * daemon (the log and the writer), so this repeats its parse.  Nothing may
 * crash, leak or read out of bounds, whatever the input.
 */
#include <stdint.h>

#include "ppx/domain.h"
#include "ppx/envelope.h"
#include "ppx/json.h"
#include "ppx.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define US "police.gwent"

static void check_body(const Ppx__V1__Body *in)
{
	static uint8_t derived[16] = {0x5b, 0x01};
	Ppx__V1__Person person = PPX__V1__PERSON__INIT;
	Ppx__V1__Acknowledgement ack;
	Ppx__V1__ActionUpdate update;
	Ppx__V1__Body b = *in;

	if (in->message_id.len != 0 && in->message_id.len != 16)
		return;		/* refused by spool_text() */
	person.id = "spool";
	person.name = "Spool";
	person.agency = US;
	person.role = "police offender manager";
	b.sender_person = &person;
	b.sender_agency = US;
	if (b.message_id.len == 0) {
		b.message_id.data = derived;
		b.message_id.len = sizeof(derived);
	}
	if (b.created_ms == 0)
		b.created_ms = 1795297203000;
	if (!b.area || !b.area[0])
		b.area = "gwent";
	if (b.payload_case == PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT &&
	    b.acknowledgement) {
		ack = *b.acknowledgement;
		ack.acknowledged_by = &person;
		b.acknowledgement = &ack;
	} else if (b.payload_case == PPX__V1__BODY__PAYLOAD_ACTION_UPDATE &&
		   b.action_update) {
		update = *b.action_update;
		update.updated_by = &person;
		b.action_update = &update;
	}
	if (ppx_body_check(&b, US) == 0)
		ppx_domain_check(&b, US);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ppx__V1__Body *b = NULL;

	if (size > PPX_JSON_MAX_INPUT)
		return 0;	/* read_file() refuses it unread */
	if (ppx_json_parse((ProtobufCMessage **)&b, &ppx__v1__body__descriptor,
			   (const char *)data, size) != 0)
		return 0;
	check_body(b);
	ppx__v1__body__free_unpacked(b, NULL);
	return 0;
}
