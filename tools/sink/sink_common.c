/*
 * sink_common.c — one log entry (JSON, docs/HOOKS.md) to rows, in one
 * transaction, for either database (sink_int.h says who does what).
 *
 * The daemon's durable hook runs a sink once per committed log entry with
 * the entry on stdin.  Here the entry is read (size-capped), parsed with
 * json-c (strict, UTF-8 checked) and, if it is a message this agency sent or
 * received, stored: a row in `messages` keyed by (sender agency, message
 * id), the subjects it names (matched by any identifier, never merged), and
 * the rows of its family.
 * Entries that carry no message (receipts, checkpoints, refusals, notes) are
 * accepted and leave the database untouched: a refused message's bytes were
 * never verified, so they must never look like a received notification.
 * A SENT or RECEIVED entry always carries a message, so one without a body
 * (the daemon could not map it) is an entry this sink cannot store: exit 2,
 * never 0, or the hook would report as stored a message with no row.
 *
 * Idempotence: the insert into `messages` is ON CONFLICT DO NOTHING; if it
 * changed no row, the entry was stored by an earlier run (whose COMMIT
 * happened but whose exit status the daemon never saw), and nothing else is
 * written.  The child tables are keyed by (sender agency, message id) too,
 * as a second guard.  A message id is unique only per sender: another
 * agency's message under the same id is another message, never a squat on
 * the first.
 *
 * Proto3 JSON leaves out fields at their default, so a missing field is an
 * empty string, zero or false, never an error; only a value of the wrong
 * JSON type or out of range makes the entry malformed (exit 2).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sink_int.h"

/* Longest statement text, after the column list is built. */
#define SQL_MAX 4096

int sink_fail(struct sink *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return code;
}

int sink_schema_refuse(struct sink *s, int64_t have)
{
	return sink_fail(s, SINK_EDB, "the database has the tables of sink "
			 "schema %lld, keyed by message id alone; this sink "
			 "writes schema %d, keyed by (sender agency, message "
			 "id), and does not change a database in place: give "
			 "the hook a new database and a new name, so that it "
			 "refills from the start of the log (docs/SINKS.md, "
			 "\"Changing the schema\")", (long long)have,
			 SINK_SCHEMA_VERSION);
}

/* Record the first malformation of the entry; later ones are dropped. */
void entry_bad(struct entry *e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (e->rc)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->rc = sink_fail(e->s, SINK_EENTRY, "%s%s%s", e->where ? e->where : "",
			  e->where ? "." : "", msg);
}

/* ------------------------------------------------------------------ */
/* Reading JSON values.  Absent and null both mean "the default".       */
/* ------------------------------------------------------------------ */

json_object *entry_member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

/* A string member, or an enum given by number; NULL if absent or empty. */
const char *entry_text(struct entry *e, json_object *o, const char *key)
{
	json_object *v = entry_member(o, key);
	const char *t;

	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int)) {
		entry_bad(e, "%s: expected a string", key);
		return NULL;
	}
	t = json_object_get_string(v);
	return t && *t ? t : NULL;
}

/* A 64-bit integer member: a decimal string (canonical JSON) or a number. */
int64_t entry_int(struct entry *e, json_object *o, const char *key)
{
	json_object *v = entry_member(o, key);
	const char *t;
	char *end;
	long long n;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int)) {
		entry_bad(e, "%s: expected an integer", key);
		return 0;
	}
	t = json_object_get_string(v);
	errno = 0;
	n = strtoll(t, &end, 10);
	if (errno || end == t || *end || isspace((unsigned char)*t)) {
		entry_bad(e, "%s: %s is not an integer from -2^63 to 2^63-1", key, t);
		return 0;
	}
	return n;
}

int entry_bool(struct entry *e, json_object *o, const char *key)
{
	json_object *v = entry_member(o, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		entry_bad(e, "%s: expected true or false", key);
		return 0;
	}
	return json_object_get_boolean(v);
}

json_object *entry_obj(struct entry *e, json_object *o, const char *key)
{
	json_object *v = entry_member(o, key);

	if (v && !json_object_is_type(v, json_type_object)) {
		entry_bad(e, "%s: expected an object", key);
		return NULL;
	}
	return v;
}

json_object *entry_arr(struct entry *e, json_object *o, const char *key)
{
	json_object *v = entry_member(o, key);

	if (v && !json_object_is_type(v, json_type_array)) {
		entry_bad(e, "%s: expected an array", key);
		return NULL;
	}
	return v;
}

/* Elements of an optional array, and the i-th as an object. */
size_t entry_len(json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

json_object *entry_elem(struct entry *e, json_object *a, size_t i,
			    const char *key)
{
	json_object *v = json_object_array_get_idx(a, i);

	if (!v || !json_object_is_type(v, json_type_object)) {
		entry_bad(e, "%s[%zu]: expected an object", key, i);
		return NULL;
	}
	return v;
}

/* A string array joined with commas (e.g. recipients); NULL if empty. */
const char *entry_joined(struct entry *e, json_object *o, const char *key)
{
	json_object *a = entry_arr(e, o, key);
	size_t i, n = entry_len(a), len = 0;
	char *out;

	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i);

		if (!v || !json_object_is_type(v, json_type_string)) {
			entry_bad(e, "%s[%zu]: expected a string", key, i);
			return NULL;
		}
		len += (size_t)json_object_get_string_len(v) + 1;
	}
	if (n == 0 || e->rc)
		return NULL;
	if (e->nowned == OWNED_MAX || !(out = malloc(len))) {
		entry_bad(e, "%s: out of memory", key);
		return NULL;
	}
	e->owned[e->nowned++] = out;
	out[0] = '\0';
	for (i = 0, len = 0; i < n; i++) {
		const char *t = json_object_get_string(
			json_object_array_get_idx(a, i));
		size_t l = strlen(t);

		if (i)
			out[len++] = ',';
		memcpy(out + len, t, l + 1);
		len += l;
	}
	return out;
}

/* The value of a base64 digit (standard or URL-safe alphabet), or -1. */
static int b64_digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * A bytes member (base64, as canonical JSON writes message ids) into `out`
 * as lower-case hex; "" if absent.  At most ID_MAX bytes.
 */
static void entry_id_hex(struct entry *e, json_object *o, const char *key,
		       char out[ID_HEX])
{
	static const char hex[] = "0123456789abcdef";
	const char *t = entry_text(e, o, key);
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	out[0] = '\0';
	for (; t && *t && *t != '='; t++) {
		int d = b64_digit((unsigned char)*t);

		if (d < 0) {
			entry_bad(e, "%s: not base64", key);
			return;
		}
		acc = (acc << 6 | (unsigned)d) & 0xffffu;
		if ((bits += 6) < 8)
			continue;
		bits -= 8;
		if (n + 2 >= ID_HEX) {
			entry_bad(e, "%s: longer than %d bytes", key, ID_MAX);
			return;
		}
		out[n++] = hex[(acc >> (bits + 4)) & 0xf];
		out[n++] = hex[(acc >> bits) & 0xf];
	}
	out[n] = '\0';
}

/* ------------------------------------------------------------------ */
/* Rows                                                                 */
/* ------------------------------------------------------------------ */

void row_init(struct row *r, const char *table)
{
	r->table = table;
	r->n = 0;
}

static void row_add(struct entry *e, struct row *r, const char *col,
		    struct sink_val v)
{
	if (r->n == SINK_MAX_COLS) {
		entry_bad(e, "internal: more than %d columns for %s", SINK_MAX_COLS,
		    r->table);
		return;
	}
	r->col[r->n] = col;
	r->val[r->n++] = v;
}

void col_text(struct entry *e, struct row *r, const char *col,
		     const char *text)
{
	row_add(e, r, col, (struct sink_val){
		.type = text ? SINK_TEXT : SINK_NULL, .text = text});
}

void col_int(struct entry *e, struct row *r, const char *col,
		    int64_t n)
{
	row_add(e, r, col, (struct sink_val){.type = SINK_INT, .num = n});
}

void col_message(struct entry *e, struct row *r)
{
	col_text(e, r, "sender_agency", e->sender);
	col_text(e, r, "message_id", e->id);
}

void col_bool(struct entry *e, struct row *r, const char *col, int b)
{
	row_add(e, r, col, (struct sink_val){.type = SINK_BOOL, .num = !!b});
}

/* Column `col` from the string member `key` of `o`. */
void col_str(struct entry *e, struct row *r, const char *col,
		    json_object *o, const char *key)
{
	col_text(e, r, col, entry_text(e, o, key));
}

/* A ppx.v1.Person's name and agency (and id) into columns PREFIX_... */
void col_person(struct entry *e, struct row *r, json_object *o,
		       const char *key, const char *id_col,
		       const char *name_col, const char *agency_col)
{
	json_object *p = entry_obj(e, o, key);

	if (id_col)
		col_str(e, r, id_col, p, "id");
	col_str(e, r, name_col, p, "name");
	col_str(e, r, agency_col, p, "agency");
}

/*
 * INSERT the row, ON CONFLICT DO NOTHING.  The statement is built from the
 * row's constant table and column names only; values are parameters.
 * *changes (may be NULL): 1 if a row was added, 0 if it was there.
 */
int row_insert(struct entry *e, struct row *r, int64_t *changes)
{
	char sql[SQL_MAX];
	size_t len;
	int i, k;

	if (e->rc)
		return e->rc;
	len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (", r->table);
	for (i = 0; i < r->n && len < sizeof(sql); i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s",
					i ? ", " : "", r->col[i]);
	if (len < sizeof(sql))
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
					") VALUES (");
	for (i = 0; i < r->n && len < sizeof(sql); i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s$%d",
					i ? ", " : "", i + 1);
	if (len < sizeof(sql))
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
					") ON CONFLICT DO NOTHING");
	if (len >= sizeof(sql))
		return e->rc = sink_fail(e->s, SINK_EDB,
					 "internal: INSERT INTO %s too long",
					 r->table);
	k = e->s->db->exec(e->s, sql, r->val, r->n, changes);
	return e->rc = k;
}

/* Run a fixed statement with the values given. */
int row_exec(struct entry *e, const char *sql, const struct sink_val *v,
	       int n)
{
	if (e->rc)
		return e->rc;
	return e->rc = e->s->db->exec(e->s, sql, v, n, NULL);
}

/* ------------------------------------------------------------------ */
/* The entry                                                            */
/* ------------------------------------------------------------------ */

/* The message row: envelope facts and the whole body.  *fresh: 0 if the
 * message was stored before (a retried hook). */
static void store_message(struct entry *e, int *fresh)
{
	json_object *person = entry_obj(e, e->body, "senderPerson");
	json_object *purpose = entry_obj(e, e->body, "purpose");
	json_object *subject = entry_obj(e, e->body, "subject");
	int received = strcmp(e->kind, "ENTRY_RECEIVED") == 0;
	int64_t changes = 0;
	struct row r;

	row_init(&r, "messages");
	col_message(e, &r);
	col_str(e, &r, "agency", e->root, "agency");
	if (entry_member(e->root, "seq"))
		col_int(e, &r, "log_seq", entry_int(e, e->root, "seq"));
	col_str(e, &r, "log_time", e->root, "time");
	col_text(e, &r, "log_kind", e->kind);
	col_text(e, &r, "direction", received ? "received" : "sent");
	col_str(e, &r, "peer", e->root, "peer");
	col_str(e, &r, "logged_by", e->root, "person");
	col_text(e, &r, "family", e->family);
	col_str(e, &r, "sender_person_id", person, "id");
	col_str(e, &r, "sender_person_name", person, "name");
	col_str(e, &r, "sender_person_role", person, "role");
	col_text(e, &r, "recipients", entry_joined(e, e->body, "recipients"));
	col_int(e, &r, "created_ms", e->created_ms);
	col_str(e, &r, "marking", e->body, "marking");
	col_str(e, &r, "priority", e->body, "priority");
	col_str(e, &r, "legal_basis", purpose, "legalBasis");
	col_str(e, &r, "purpose", purpose, "text");
	col_str(e, &r, "area", e->body, "area");
	col_bool(e, &r, "counter_terrorism",
		 entry_bool(e, e->body, "counterTerrorism"));
	if (entry_member(e->body, "ackDeadlineMs"))
		col_int(e, &r, "ack_deadline_ms",
			entry_int(e, e->body, "ackDeadlineMs"));
	col_text(e, &r, "supersedes", *e->supersedes ? e->supersedes : NULL);
	col_text(e, &r, "replies_to", *e->replies_to ? e->replies_to : NULL);
	col_str(e, &r, "subject_name", subject, "name");
	col_text(e, &r, "body", json_object_to_json_string_ext(e->body,
		 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	row_insert(e, &r, &changes);
	*fresh = changes > 0;
}

/* The entry's message id: its `message_id` (hex), else the body's. */
static void entry_id(struct entry *e)
{
	const char *t = entry_text(e, e->root, "message_id");
	size_t i;

	if (!t) {
		e->where = "body";
		entry_id_hex(e, e->body, "messageId", e->id);
		e->where = NULL;
		if (!e->rc && !*e->id)
			entry_bad(e, "message_id: missing, and the body has no messageId");
		return;
	}
	for (i = 0; t[i] && i + 1 < sizeof(e->id); i++) {
		if (!isxdigit((unsigned char)t[i]))
			break;
		e->id[i] = (char)tolower((unsigned char)t[i]);
	}
	e->id[i] = '\0';
	if (t[i] || i % 2)
		entry_bad(e, "message_id: expected hex digits, at most %d", 2 * ID_MAX);
}

/*
 * The sender agency, the first half of a message's key: the daemon's own
 * word, never the body's alone — the partner a RECEIVED entry came from
 * (whose signature the daemon checked, and which the body's senderAgency
 * must equal), this agency for a SENT one.  An entry where the two
 * disagree is not stored.
 */
static void entry_sender(struct entry *e)
{
	int received = strcmp(e->kind, "ENTRY_RECEIVED") == 0;
	const char *daemon = entry_text(e, e->root, received ? "peer" : "agency");
	const char *body = entry_text(e, e->body, "senderAgency");

	e->sender = daemon ? daemon : body;
	if (e->rc)
		return;
	if (!e->sender)
		entry_bad(e, "%s: missing: the sender agency of the message is "
			  "not known", received ? "peer" : "agency");
	else if (body && strcmp(body, e->sender) != 0)
		entry_bad(e, "body.senderAgency: %s, but the entry's %s is %s",
			  body, received ? "peer" : "agency", e->sender);
}

/*
 * Read the envelope facts of the entry.  Returns 1 if it carries a message
 * this agency sent or received (to be stored), 0 if not, or e->rc.
 */
static int entry_read(struct entry *e)
{
	if (!json_object_is_type(e->root, json_type_object)) {
		entry_bad(e, "entry is not a JSON object");
		return e->rc;
	}
	e->kind = entry_text(e, e->root, "kind");
	e->body = entry_obj(e, e->root, "body");
	if (e->rc)
		return e->rc;
	if (!e->kind) {
		entry_bad(e, "kind: missing");
		return e->rc;
	}
	if (strcmp(e->kind, "ENTRY_RECEIVED") != 0 &&
	    strcmp(e->kind, "ENTRY_SENT") != 0)
		return 0;
	/* A message whose body the daemon could not map (docs/HOOKS.md: the
	 * log keeps the bytes) is a message this sink cannot store: saying
	 * 0 would tell the daemon it is stored when no row exists. */
	if (!e->body) {
		entry_bad(e, "body: null or missing in a %s entry: the "
			  "daemon could not map this message's body to JSON, "
			  "so it cannot be stored; read it with ppx show",
			  e->kind);
		return e->rc;
	}
	if (!(e->family = family_of(e->body)))
		e->family = entry_text(e, e->root, "family");
	entry_id(e);
	entry_sender(e);
	e->where = "body";
	e->created_ms = entry_int(e, e->body, "createdMs");
	entry_id_hex(e, e->body, "supersedes", e->supersedes);
	entry_id_hex(e, e->body, "repliesTo", e->replies_to);
	e->where = NULL;
	return e->rc ? e->rc : 1;
}

/* One transaction: the message, its subjects and its family's rows. */
static int entry_store(struct entry *e)
{
	const struct sink_db *db = e->s->db;
	int fresh = 0;

	/* In a batch, the caller's transaction holds the entry. */
	e->rc = e->s->batch ? 0 : db->begin(e->s);
	if (!e->rc)
		store_message(e, &fresh);
	if (fresh)
		family_store(e);
	if (e->s->batch)
		return e->rc;
	if (!e->rc)
		e->rc = db->commit(e->s);
	if (e->rc)
		db->rollback(e->s);
	return e->rc;
}

/* Parse `len` bytes as one JSON value and nothing after it but space. */
static int parse(struct sink *s, const char *text, size_t len,
		 json_object **out)
{
	json_tokener *tok = json_tokener_new_ex(64);
	enum json_tokener_error jerr;
	size_t end;

	*out = NULL;
	if (!tok)
		return sink_fail(s, SINK_EDB, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	if (len > 0 && len <= (size_t)SINK_MAX_ENTRY)
		*out = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (len == 0)
		return sink_fail(s, SINK_EENTRY, "entry is not JSON: no input");
	if (!*out || jerr != json_tokener_success) {
		json_object_put(*out);
		*out = NULL;
		return sink_fail(s, SINK_EENTRY,
				 "entry is not JSON: %s at byte %zu",
				 jerr == json_tokener_continue
					 ? "unexpected end of input"
					 : json_tokener_error_desc(jerr), end);
	}
	for (; end < len && isspace((unsigned char)text[end]); end++)
		;
	if (end < len) {
		json_object_put(*out);
		*out = NULL;
		return sink_fail(s, SINK_EENTRY,
				 "entry is not JSON: text after the value at "
				 "byte %zu", end);
	}
	return 0;
}

int sink_apply(struct sink *s, const char *text, size_t len)
{
	struct entry e = {.s = s};
	json_object *seq;
	int rc, i;

	s->seq = -1;
	if ((rc = parse(s, text, len, &e.root)))
		return rc;
	if (json_object_is_type(e.root, json_type_object) &&
	    json_object_object_get_ex(e.root, "seq", &seq) &&
	    json_object_is_type(seq, json_type_int) &&
	    json_object_get_int64(seq) >= 0)
		s->seq = json_object_get_int64(seq);
	rc = entry_read(&e);
	if (rc == 1)
		rc = entry_store(&e);
	for (i = 0; i < e.nowned; i++)
		free(e.owned[i]);
	json_object_put(e.root);
	return rc;
}

int sink_args(int argc, char **argv, const char **db, int *stream)
{
	const char *mode = getenv("PPX_HOOK_MODE");

	*stream = mode && strcmp(mode, "stream") == 0;
	if (argc == 3 && strcmp(argv[1], "--stream") == 0) {
		*stream = 1;
		argv++;
		argc--;
	}
	if (argc != 2 || argv[1][0] == '-')
		return -1;
	*db = argv[1];
	return 0;
}

int sink_exit_code(int rc)
{
	if (rc == 0)
		return SINK_EXIT_OK;
	return rc == SINK_EENTRY ? SINK_EXIT_ENTRY : SINK_EXIT_DB;
}

/* All of `in`, up to SINK_MAX_ENTRY bytes. */
static int read_input(struct sink *s, FILE *in, char **out, size_t *len)
{
	size_t cap = 65536, n = 0, r;
	char *buf = malloc(cap), *g;

	*out = NULL;
	if (!buf)
		return sink_fail(s, SINK_EDB, "out of memory");
	while ((r = fread(buf + n, 1, cap - n, in)) > 0) {
		if ((n += r) < cap)
			continue;
		if (cap >= (size_t)SINK_MAX_ENTRY) {
			free(buf);
			return sink_fail(s, SINK_EENTRY,
					 "entry is larger than %ld bytes",
					 SINK_MAX_ENTRY);
		}
		if (!(g = realloc(buf, cap * 2))) {
			free(buf);
			return sink_fail(s, SINK_EDB, "out of memory");
		}
		buf = g;
		cap *= 2;
	}
	if (ferror(in)) {
		free(buf);
		return sink_fail(s, SINK_EDB,
				 "cannot read the entry on stdin: %s",
				 strerror(errno));
	}
	*out = buf;
	*len = n;
	return 0;
}

int sink_run(struct sink *s, FILE *in)
{
	char *text;
	size_t len = 0;
	int rc = read_input(s, in, &text, &len);

	if (rc == 0)
		rc = sink_apply(s, text, len);
	free(text);
	if (rc)
		fprintf(stderr, "%s: %s\n", s->prog, s->err);
	return sink_exit_code(rc);
}
