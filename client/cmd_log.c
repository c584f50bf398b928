/*
 * cmd_log.c — `ppx log`: list a log's entries, read-only, as a table or as
 * JSON Lines.  Opens LMDB read-only, so it works while the daemon is down.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "client.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"

static const char usage[] =
	"usage: ppx log --log DIR [--json]\n"
	"Lists every entry: sequence, time (UTC), kind, partner, message id,\n"
	"person and detail.\n";

static const char *kind_name(int kind)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&ppx__v1__entry_kind__descriptor, kind);

	return v ? v->name : "?";
}

static void format_time(char *out, size_t cap, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, cap, "?");
}

/* "notification ARREST from Dana Evans" for a message entry; else the
 * entry's own detail. */
static void describe(char *out, size_t cap, const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__Body *b = NULL;
	const char *kind = "";

	snprintf(out, cap, "%s", e->detail);
	if (e->n_related_ids > 0 && !e->detail[0])
		snprintf(out, cap, "answers %zu message%s", e->n_related_ids,
			 e->n_related_ids == 1 ? "" : "s");
	if ((e->kind != PPX__V1__ENTRY_KIND__ENTRY_SENT &&
	     e->kind != PPX__V1__ENTRY_KIND__ENTRY_RECEIVED) ||
	    ppx_frame_decode(&f, e->data.data, e->data.len) != 0)
		return;
	if (f->message)
		b = ppx__v1__body__unpack(NULL, f->message->signed_body.len,
					  f->message->signed_body.data);
	if (b && b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&ppx__v1__notification_kind__descriptor,
			b->notification->kind);

		kind = v ? v->name : "?";
	}
	if (b)
		snprintf(out, cap, "%s %s by %s", e->family, kind,
			 b->sender_person ? b->sender_person->name : "?");
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx__v1__frame__free_unpacked(f, NULL);
}

static void print_json(const Ppx__V1__LogEntry *e, const char *id)
{
	json_object *o = json_object_new_object();
	char when[32];

	format_time(when, sizeof(when), e->time_ms);
	json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "kind",
			       json_object_new_string(kind_name(e->kind)));
	json_object_object_add(o, "peer", json_object_new_string(e->peer_agency));
	json_object_object_add(o, "message_id", json_object_new_string(id));
	json_object_object_add(o, "person", json_object_new_string(e->person));
	json_object_object_add(o, "detail", json_object_new_string(e->detail));
	if (e->n_related_ids > 0) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < e->n_related_ids; i++) {
			char hex[2 * PPX_MESSAGE_ID_LEN + 1] = "";

			if (e->related_ids[i].len == PPX_MESSAGE_ID_LEN)
				ppx_hex(hex, e->related_ids[i].data,
					PPX_MESSAGE_ID_LEN);
			json_object_array_add(a, json_object_new_string(hex));
		}
		json_object_object_add(o, "related_ids", a);
	}
	if (e->reason) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&ppx__v1__reject_reason__descriptor, e->reason);

		json_object_object_add(o, "reason",
				       json_object_new_string(v ? v->name : "?"));
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static int print_entry(void *ctx, uint64_t seq, const uint8_t *data,
		       size_t len)
{
	const int *json = ctx;
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);
	char id[2 * PPX_MESSAGE_ID_LEN + 1] = "", when[32], what[256];

	if (!e) {
		printf("%8" PRIu64 "  (entry does not decode: run ppx verify)\n",
		       seq);
		return 0;
	}
	if (e->message_id.len == PPX_MESSAGE_ID_LEN)
		ppx_hex(id, e->message_id.data, e->message_id.len);
	if (*json) {
		print_json(e, id);
	} else {
		format_time(when, sizeof(when), e->time_ms);
		describe(what, sizeof(what), e);
		printf("%6" PRIu64 "  %s  %-16s %-16s %-32s %s\n", seq, when,
		       kind_name(e->kind) + strlen("ENTRY_"),
		       e->peer_agency[0] ? e->peer_agency : "-",
		       id[0] ? id : "-", what);
	}
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return 0;
}

int cmd_log(int argc, char **argv)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	struct log_opts o;
	ppx_log *log = NULL;
	int rc = log_opts_parse(&o, argc, argv, usage);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : rc;
	if (ppx_log_open(&log, o.log_dir, &ro) != 0 ||
	    ppx_log_foreach(log, 0, ppx_log_size(log), print_entry, &o.json) < 0) {
		fprintf(stderr, "ppx log: %s\n", ppx_error_last());
		ppx_log_close(log);
		return PPX_EXIT_UNAVAILABLE;
	}
	ppx_log_close(log);
	return PPX_EXIT_OK;
}
