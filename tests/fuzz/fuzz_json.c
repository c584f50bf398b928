/*
 * fuzz_json.c — libFuzzer target for the proto3 JSON mapper, the parser
 * that text from the control socket and the client reaches first.
 *
 * The input is parsed as a ppx.v1.Body.  Whatever parses must print, the
 * printed text must parse again, and that must print to the same text (the
 * canonical form is a fixed point).  Nothing may crash, leak or read out of
 * bounds, whatever the input; a broken property aborts, which libFuzzer
 * and tests/run-tests both report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/error.h"
#include "ppx/json.h"
#include "ppx.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_json: %s: %s\n", what, ppx_error_last());
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d = &ppx__v1__body__descriptor;
	ProtobufCMessage *m = NULL, *again = NULL;
	char *text = NULL, *text2 = NULL, *pretty = NULL;

	if (ppx_json_parse(&m, d, (const char *)data, size) != 0) {
		if (m)
			broken("refused input left a message");
		return 0;
	}
	if (ppx_json_print(&text, m, 0) != 0 ||
	    ppx_json_print(&pretty, m, PPX_JSON_PRETTY) != 0)
		broken("a parsed message does not print");
	if (ppx_json_parse(&again, d, text, strlen(text)) != 0)
		broken("printed text does not parse");
	if (ppx_json_print(&text2, again, 0) != 0)
		broken("a reparsed message does not print");
	if (strcmp(text, text2) != 0)
		broken("printing is not a fixed point");
	protobuf_c_message_free_unpacked(again, NULL);
	again = NULL;
	if (ppx_json_parse(&again, d, pretty, strlen(pretty)) != 0)
		broken("pretty text does not parse");
	protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	free(pretty);
	free(text2);
	free(text);
	return 0;
}
