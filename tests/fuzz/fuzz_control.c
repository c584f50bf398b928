/*
 * fuzz_control.c — libFuzzer target for the control socket: the bytes of a
 * ppx.v1.ControlRequest, decoded and validated as daemon/control.c does
 * before it needs the log, the signer or the partners.  A submit's body is
 * completed the way submit_body() completes it (the operator as
 * sender, an id, a time and the area when missing) and then checked with
 * ppx_body_check() and ppx_domain_check(), as police.gwent.  Nothing may
 * crash, leak or read out of bounds, whatever the input.
 */
#include <stdint.h>

#include "ppx/control.h"
#include "ppx/domain.h"
#include "ppx/envelope.h"
#include "ppx.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define US "police.gwent"

/* What complete_body() in daemon/submit.c fills in, with fixed values. */
static void check_submit(const Ppx__V1__Body *in)
{
	static uint8_t id[16] = {0x5a, 0x01};
	Ppx__V1__Person person = PPX__V1__PERSON__INIT;
	Ppx__V1__Acknowledgement ack;
	Ppx__V1__ActionUpdate update;
	Ppx__V1__Body b = *in;

	person.id = "dana.evans";
	person.name = "Dana Evans";
	person.agency = US;
	person.role = "police offender manager";
	person.grade = "DS";
	b.sender_person = &person;
	b.sender_agency = US;
	if (b.message_id.len == 0) {
		b.message_id.data = id;
		b.message_id.len = sizeof(id);
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
	/* And as given, without the daemon's help. */
	ppx_body_check(in, US);
	ppx_domain_check(in, US);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ppx__V1__ControlRequest *req;

	if (size > PPX_CONTROL_REQUEST_MAX)	/* the socket takes no more */
		return 0;
	req = ppx__v1__control_request__unpack(NULL, size, data);
	if (!req)
		return 0;
	if (req->version == PPX_CONTROL_VERSION &&
	    req->request_case == PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT &&
	    req->submit->body)
		check_submit(req->submit->body);
	/* Status and message-state requests go to the log at once: past
	 * the decode there is nothing of theirs to check without it. */
	ppx__v1__control_request__free_unpacked(req, NULL);
	return 0;
}
