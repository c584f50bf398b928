/*
 * cmd_export.c — `ppx export`: the log's entries, filtered as `ppx log`
 * filters them, as JSON Lines or CSV, for analysis and reporting outside
 * ppx (the counts a Strategic Management Board asks for), read-only.
 *
 * JSON Lines: one object per entry, as `ppx log --json` prints it plus, for
 * messages, "body": the whole message in protobuf's canonical JSON.
 *
 * CSV (RFC 4180): a header line, then one record per entry; every field is
 * quoted, quotes inside are doubled, and commas and line breaks inside a
 * field are kept as they are; records end in CRLF.  Lists (recipients,
 * subject keys, deliveries) are joined with ';'.
 *
 * The output holds personal data: a file named with --output is created
 * mode 0600, and is not overwritten unless --force is given.  If the export
 * fails half-way the file is removed, so that no partial export is left
 * looking complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client.h"
#include "logread.h"
#include "ppx/error.h"
#include "ppx/text.h"

static const char usage[] =
	"usage: ppx export --format jsonl|csv [--output FILE [--force]]\n"
	"                  [--log DIR | --config FILE] [FILTERS]\n"
	"Writes the entries of the log that pass the filters as JSON Lines\n"
	"(each message with its whole body; --json is --format jsonl) or as\n"
	"CSV with a header line, to standard output or to FILE (created mode\n"
	"0600; an existing FILE is replaced only with --force).\n"
	LR_WHERE_HELP LR_FILTER_HELP;

/* The CSV columns, named as the keys of the entry's JSON object; "text"
 * and "acknowledged_by" are worked out here. */
static const char *const columns[] = {
	"seq", "time", "kind", "direction", "peer", "message_id", "family",
	"notification", "priority", "sender", "sender_person", "recipients",
	"subjects", "subject_name", "created", "state", "deliveries",
	"ack", "ack_deadline", "acknowledged_by", "replies_to", "supersedes",
	"person", "reason", "detail", "related_ids", "text",
};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

struct export {
	FILE *out;
	int csv;
	size_t n;
};

/* Write s as the inside of a quoted CSV field, as UTF-8 text (U+FFFD
 * for what is not: a partner's string in an older log may not be). */
static void csv_text(FILE *out, const char *s)
{
	char *fixed = ppx_text_repair(s, strlen(s), NULL);

	for (const char *p = fixed ? fixed : ""; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	free(fixed);
}

/* A list for column `what`: its strings; or, of the deliveries,
 * "partner=STATE" (column deliveries) or the partners that acknowledged
 * (column acknowledged_by). */
static void csv_list(FILE *out, json_object *a, const char *what)
{
	size_t n = json_object_array_length(a), k = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i), *p, *s, *ack;

		if (!json_object_is_type(v, json_type_object)) {
			fputs(k++ ? ";" : "", out);
			csv_text(out, json_object_get_string(v));
			continue;
		}
		json_object_object_get_ex(v, "partner", &p);
		json_object_object_get_ex(v, "state", &s);
		json_object_object_get_ex(v, "acknowledged", &ack);
		if (strcmp(what, "acknowledged_by") == 0 &&
		    !json_object_get_boolean(ack))
			continue;
		fputs(k++ ? ";" : "", out);
		csv_text(out, json_object_get_string(p));
		if (strcmp(what, "deliveries") == 0) {
			fputc('=', out);
			csv_text(out, json_object_get_string(s));
		}
	}
}

/* The free text of a message: a notification's details, an
 * acknowledgement's note, an action update's outcome. */
static const char *message_text(const struct lr_entry *ent)
{
	const Ppx__V1__Body *b = ent->body;

	if (!b)
		return "";
	switch (b->payload_case) {
	case PPX__V1__BODY__PAYLOAD_NOTIFICATION:
		return b->notification->details;
	case PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT:
		return b->acknowledgement->note;
	case PPX__V1__BODY__PAYLOAD_ACTION_UPDATE:
		return b->action_update->outcome;
	default:
		return "";
	}
}

static void csv_row(FILE *out, const struct lr_entry *ent, json_object *o)
{
	for (size_t i = 0; i < N_COLUMNS; i++) {
		const char *key = strcmp(columns[i], "acknowledged_by") == 0
					  ? "deliveries" : columns[i];
		json_object *v = NULL;

		fputs(i ? ",\"" : "\"", out);
		if (strcmp(key, "text") == 0)
			csv_text(out, message_text(ent));
		else if (json_object_object_get_ex(o, key, &v) &&
			 json_object_is_type(v, json_type_array))
			csv_list(out, v, columns[i]);
		else if (v)
			csv_text(out, json_object_get_string(v));
		fputc('"', out);
	}
	fputs("\r\n", out);
}

static int export_entry(void *ctx, struct lr_entry *ent)
{
	struct export *x = ctx;
	json_object *o = lr_entry_json(ent, x->csv ? 0 : LR_JSON_BODY);

	if (!o)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (x->csv)
		csv_row(x->out, ent, o);
	else
		lr_json_line(x->out, o);
	json_object_put(o);
	x->n++;
	return ferror(x->out) ? ppx_error_set(PPX_EIO, "cannot write the "
					      "export: %s", strerror(errno))
			      : 0;
}

/* --output FILE, created 0600; not replacing one unless --force. */
static FILE *open_output(const struct lr_opts *o)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC |
		    (o->force ? O_TRUNC : O_EXCL);
	int fd = open(o->output, flags, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		fprintf(stderr, "ppx export: cannot create %s: %s%s\n",
			o->output, strerror(errno),
			errno == EEXIST ? " (remove it, choose another name, "
					  "or give --force to replace it)" : "");
		if (fd >= 0)
			close(fd);
	}
	return f;
}

static int check_format(struct lr_opts *o)
{
	if (o->json && o->format && strcmp(o->format, "jsonl") != 0) {
		fprintf(stderr, "ppx export: --json and --format %s disagree; "
			"give one\n", o->format);
		return PPX_EXIT_USAGE;
	}
	if (!o->format && !o->json) {
		fprintf(stderr, "ppx export: say --format jsonl or --format "
			"csv\n%s", usage);
		return PPX_EXIT_USAGE;
	}
	if (!o->format)
		o->format = "jsonl";
	return 0;
}

/* Export, then close the output; an exit code. */
static int run(logread *lr, const struct lr_opts *o, struct export *x)
{
	int rc = 0;

	if (x->csv) {
		for (size_t i = 0; i < N_COLUMNS; i++)
			fprintf(x->out, "%s%s", i ? "," : "", columns[i]);
		fputs("\r\n", x->out);
	}
	rc = logread_each(lr, &o->filter, 0, logread_size(lr), export_entry, x);
	if (rc < 0)
		rc = lr_fail(o->cmd, rc);
	else
		rc = ppx_exit_code(lr_flush(o->cmd, x->out,
					    o->output ? o->output
						      : "standard output"));
	if (o->output && fclose(x->out) != 0 && rc == 0)
		rc = lr_fail(o->cmd, ppx_error_set(PPX_EIO, "cannot write %s: "
						   "%s", o->output,
						   strerror(errno)));
	if (o->output && rc != 0)
		unlink(o->output);
	else if (o->output)
		fprintf(stderr, "ppx export: %zu entr%s written to %s\n", x->n,
			x->n == 1 ? "y" : "ies", o->output);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct lr_opts o;
	struct export x = {stdout, 0, 0};
	logread *lr = NULL;
	int rc = lr_opts_parse(&o, argc, argv, LR_OPT_FILTERS | LR_OPT_EXPORT,
			       0, usage);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	if ((rc = check_format(&o)) != 0)
		return rc;
	if (o.force && !o.output) {
		fprintf(stderr, "ppx export: --force goes with --output FILE\n");
		return PPX_EXIT_USAGE;
	}
	x.csv = strcmp(o.format, "csv") == 0;
	if ((rc = logread_open(&lr, &o)) != 0)
		return lr_fail(o.cmd, rc);
	if (o.output && !(x.out = open_output(&o))) {
		logread_close(lr);
		return PPX_EXIT_UNAVAILABLE;
	}
	rc = run(lr, &o, &x);
	logread_close(lr);
	return rc;
}
