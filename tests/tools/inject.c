/*
 * inject.c — a partner that misbehaves on purpose, for the scenario tests.
 *
 * It connects to a daemon's ROUTER exactly as a partner daemon would: a
 * CURVE client holding an agency's transport key from the PKI, pinning the
 * server key from the server's transport certificate, so that the daemon's
 * ZAP handler maps it to that agency.  It then sends frames crafted to
 * reach one check of the receive pipeline (PROTOCOL.md section 3.1) and
 * prints one line per answer, after verifying the signed receipt with
 * ppx_receipt_open() and matching its body hash to a frame it sent:
 *
 *   STORED <seq>  |  DUPLICATE <seq>  |  REFUSED <REASON_NAME> <detail>
 *
 * Nothing here goes through the sending daemon: no sender-side policy, no
 * outbox, no retries.  That is the point: it tests the receiver alone.
 *
 * usage: inject --endpoint EP --as WHO --to AGENCY [--pki DIR]
 *               [--timeout-ms N] [--expect-no-connect] [--conns C]
 *               MODE [ARG]
 *
 *   --endpoint EP  the daemon's listen address, e.g. tcp://127.0.0.1:20001
 *   --as WHO       the client: an agency of DIR/agencies/, or a directory
 *                  relative to DIR holding transport.key and signing.key
 *                  (e.g. test/revoked/housing.newport), whose last
 *                  component names the agency
 *   --to AGENCY    the daemon's agency: its transport certificate gives the
 *                  server key, and every receipt must be signed by it
 *   --pki DIR      the PKI (default $PPX_TEST_PKI, else $BUILD/pki)
 *   --timeout-ms N how long to wait for every answer (default 5000)
 *   --expect-no-connect
 *                  the daemon must refuse the handshake: prints NOCONNECT
 *                  when no answer came within the timeout
 *
 * Modes (every message is a complete notification from WHO to AGENCY,
 * signed with WHO's signing key, unless the mode says otherwise):
 *
 *   valid              one message
 *   repeat N           the same frame N times (same bytes, same message id);
 *                      the copies are sent once the first is answered, so
 *                      that they replay a message already stored
 *   signed-as AGENCY2  a body from AGENCY2 signed with AGENCY2's key, sent
 *                      over WHO's authenticated link
 *   garbage            bytes that are not a protobuf Frame
 *   oversize           PPX_FRAME_MAX + 1 bytes
 *   version N          a valid frame re-encoded with Frame.version = N
 *   kind KIND          a message of that NotificationKind, e.g. ARREST
 *   reuse-id           a message (of --kind KIND, default ARREST); then
 *                      another body under its message id
 *                      (REFUSED REJECT_ID_REUSED) and the first frame's
 *                      bytes again (its original receipt: STORED, same seq)
 *   squat ID           a message (of --kind KIND, default ARREST) under
 *                      message id ID (32 hex digits), e.g. one another
 *                      agency used: ids are unique per sender only
 *   update-of ID       an action update (action A1, in progress) whose
 *                      replies_to is message ID
 *   flood N            N distinct messages (of --kind KIND, default
 *                      ARREST), all sent as fast as the link takes them
 *                      once the first is answered: a partner at full speed
 *   body-json FILE     hostile text: the Body of FILE (canonical JSON;
 *                      messageId, createdMs and senderAgency filled in when
 *                      absent) serialised, then each --patch MARK=HEX
 *                      applied to the bytes, and the result signed as it
 *                      is (never through ppx_body_seal, which would refuse
 *                      it).  MARK is ASCII found exactly once in the bytes
 *                      and HEX its replacement of the same length, so no
 *                      length prefix changes: --patch QQ=c0af puts an
 *                      overlong '/' where QQ was, --patch QQ=0041 a NUL.
 *                      --receipts-to DIR writes each answer's frame to
 *                      DIR/receipt-PID-N.bin, for a strict decoder.
 *   version-layout N, junk N [--conns C], latency N
 *                      see "Budget modes" below main's helpers
 *
 * Exit: 0 when every frame got a verified answer (with --expect-no-connect:
 * when none did); 1 otherwise; 2 usage; 3 setup failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/json.h"
#include "ppx/pki.h"
#include "ppx/receipt.h"
#include "ppx.pb-c.h"
#include "../unit/support.h"

#define EXIT_ANSWERS 1
#define EXIT_USAGE 2
#define EXIT_SETUP 3
#define REPEAT_MAX 1000
#define FLOOD_MAX 200000
#define CONNS_MAX 1000	/* junk --conns */
#define PATH_CAP 4096
#define MONITOR_EP "inproc://inject-monitor"

struct opts {
	const char *endpoint, *as, *to, *pki, *mode, *arg, *kind;
	const char *patch[8];	/* body-json: MARK=HEX */
	size_t n_patch;
	const char *receipts_to;	/* a directory, or NULL */
	long timeout_ms;
	long conns;		/* junk: connections */
	long hold_ms;		/* junk: wait after connecting, then send */
	int watch;		/* junk: a monitor per connection */
	int expect_no_connect;
	char agency[PPX_NAME_MAX];	/* last component of --as */
};

/* One frame to send, and what came back for it. */
struct frame {
	uint8_t *data;
	size_t len;
	uint8_t hash[PPX_HASH_LEN];	/* what a receipt item names */
	int answered;
	uint8_t receipt[PPX_HASH_LEN];	/* hash of the answer's frame */
};

struct frames {
	struct frame *f;
	size_t n, n_answered, cap;
	size_t first_open;	/* no frame before it is unanswered */
	int repeats;		/* mode repeat: report answers repeated */
};

/* What the link's monitor reported. */
struct link_state {
	int handshakes;		/* succeeded */
	int refused;		/* failed: authentication or protocol */
	unsigned last_failure;	/* the event's value (ZAP status code) */
};

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: inject --endpoint EP --as WHO --to AGENCY [--pki DIR]\n"
		"              [--timeout-ms N] [--expect-no-connect] [--conns C]\n"
		"              [--hold-ms H] [--watch] MODE [ARG]\n"
		"modes: valid | repeat N | signed-as AGENCY | garbage | "
		"oversize |\n"
		"       version N | kind KIND | flood N [--kind KIND] |\n"
		"       body-json FILE [--patch MARK=HEX]... "
		"[--receipts-to DIR] |\n"
		"       version-layout N | junk N [--conns C] | latency N\n");
	exit(status);
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const char *default_pki(void)
{
	static char buf[PATH_CAP];
	const char *env = getenv("PPX_TEST_PKI");
	const char *build = getenv("BUILD");

	if (env)
		return env;
	snprintf(buf, sizeof(buf), "%s/pki", build ? build : "build");
	return buf;
}

/* The modes of hostile ids, in their own block below build_frames(). */
static int ident_mode(const char *mode);
static int ident_takes_arg(const char *mode);
static int build_ident(struct frames *fs, const struct opts *o);

/* The modes that take an argument (always required). */
static int mode_takes_arg(const char *mode)
{
	if (ident_mode(mode))
		return ident_takes_arg(mode);
	return strcmp(mode, "repeat") == 0 || strcmp(mode, "signed-as") == 0 ||
	       strcmp(mode, "version") == 0 || strcmp(mode, "kind") == 0 ||
	       strcmp(mode, "flood") == 0 || strcmp(mode, "body-json") == 0 ||
	       strcmp(mode, "version-layout") == 0 ||
	       strcmp(mode, "junk") == 0 || strcmp(mode, "latency") == 0;
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"endpoint", required_argument, NULL, 'e'},
		{"as", required_argument, NULL, 'a'},
		{"to", required_argument, NULL, 't'},
		{"pki", required_argument, NULL, 'p'},
		{"timeout-ms", required_argument, NULL, 'T'},
		{"expect-no-connect", no_argument, NULL, 'N'},
		{"kind", required_argument, NULL, 'k'},
		{"patch", required_argument, NULL, 'P'},
		{"receipts-to", required_argument, NULL, 'R'},
		{"conns", required_argument, NULL, 'C'},
		{"hold-ms", required_argument, NULL, 'H'},
		{"watch", no_argument, NULL, 'W'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *slash;
	int ch;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 5000;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e': o->endpoint = optarg; break;
		case 'a': o->as = optarg; break;
		case 't': o->to = optarg; break;
		case 'p': o->pki = optarg; break;
		case 'N': o->expect_no_connect = 1; break;
		case 'W': o->watch = 1; break;
		case 'k': o->kind = optarg; break;
		case 'R': o->receipts_to = optarg; break;
		case 'P':
			if (o->n_patch == sizeof(o->patch) / sizeof(o->patch[0]))
				usage(EXIT_USAGE);
			o->patch[o->n_patch++] = optarg;
			break;
		case 'h': usage(0); break;
		case 'T':
			if (parse_long(optarg, 1, 3600000, &o->timeout_ms) != 0)
				usage(EXIT_USAGE);
			break;
		case 'C':
			if (parse_long(optarg, 1, CONNS_MAX, &o->conns) != 0)
				usage(EXIT_USAGE);
			break;
		case 'H':
			if (parse_long(optarg, 0, 600000, &o->hold_ms) != 0)
				usage(EXIT_USAGE);
			break;
		default: usage(EXIT_USAGE);
		}
	}
	if (!o->endpoint || !o->as || !o->to || optind >= argc)
		usage(EXIT_USAGE);
	o->mode = argv[optind++];
	if (mode_takes_arg(o->mode) && optind < argc)
		o->arg = argv[optind++];
	if (optind != argc || (mode_takes_arg(o->mode) && !o->arg))
		usage(EXIT_USAGE);
	slash = strrchr(o->as, '/');
	snprintf(o->agency, sizeof(o->agency), "%s", slash ? slash + 1 : o->as);
	if (!o->pki)
		o->pki = default_pki();
}

/* "<pki>/<dir of WHO>/<file>": WHO as signer_at() reads it. */
static void who_path(char *out, size_t cap, const struct opts *o,
		     const char *who, const char *file)
{
	snprintf(out, cap, "%s/%s%s/%s", o->pki,
		 strchr(who, '/') ? "" : "agencies/", who, file);
}

/* Take ownership of a frame to send, and note what its answer will name:
 * the hash of signed_body if the frame opens as a message, else of the
 * raw frame, as the receiver computes it. */
static int frames_add(struct frames *fs, uint8_t *data, size_t len)
{
	Ppx__V1__Frame *f = NULL;
	struct frame *fr;

	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? 2 * fs->cap : 8;
		struct frame *grown = realloc(fs->f, cap * sizeof(*grown));

		if (!grown) {
			free(data);
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		}
		fs->f = grown;
		fs->cap = cap;
	}
	fr = &fs->f[fs->n++];
	memset(fr, 0, sizeof(*fr));
	fr->data = data;
	fr->len = len;
	if (ppx_frame_decode(&f, data, len) == 0 && f->message)
		ppx_sha256(fr->hash, f->message->signed_body.data,
			   f->message->signed_body.len);
	else
		ppx_sha256(fr->hash, data, len);	/* the whole frame (5) */
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	ppx_error_clear();
	return 0;
}

static void frames_free(struct frames *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->f[i].data);
	free(fs->f);
}

/* A complete notification of `kind` from `who` to `to`, signed by `who`. */
static int seal_message(uint8_t **out, size_t *len, const char *who,
			const char *to, int kind)
{
	const char *slash = strrchr(who, '/');
	ppx_signer *signer = signer_at(who);
	Ppx__V1__Body *b = body_new(slash ? slash + 1 : who, to);
	int rc;

	b->notification->kind = kind;
	rc = ppx_body_seal(out, len, signer, b);
	body_free(b);
	ppx_signer_free(signer);
	return rc;
}

/* A valid frame re-encoded with another wire version. */
static int reversion(uint8_t **data, size_t *len, uint32_t version)
{
	Ppx__V1__Frame *f = ppx__v1__frame__unpack(NULL, *len, *data);
	uint8_t *buf;
	size_t size;

	if (!f)
		return ppx_error_set(PPX_EFRAME, "cannot re-decode our frame");
	f->version = version;
	size = ppx__v1__frame__get_packed_size(f);
	buf = malloc(size);
	if (buf) {
		ppx__v1__frame__pack(f, buf);
		free(*data);
		*data = buf;
		*len = size;
	}
	ppx__v1__frame__free_unpacked(f, NULL);
	return buf ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
}

static int kind_by_name(const char *name)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(
		&ppx__v1__notification_kind__descriptor, name);

	if (!v || v->value == 0) {
		fprintf(stderr, "inject: %s is not a NotificationKind\n", name);
		usage(EXIT_USAGE);
	}
	return v->value;
}

/* Frames of the non-message modes. */
static int build_raw(struct frames *fs, const char *mode)
{
	static const char garbage[] = "\x0f\xff\xff garbage: not a ppx Frame";
	uint8_t *buf;
	size_t len;

	if (strcmp(mode, "garbage") == 0)
		len = sizeof(garbage) - 1;
	else
		len = (size_t)PPX_FRAME_MAX + 1;
	buf = calloc(1, len);
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (strcmp(mode, "garbage") == 0)
		memcpy(buf, garbage, len);
	else
		memset(buf, 'x', len);
	return frames_add(fs, buf, len);
}

/* N distinct messages, each sealed on its own (its own message id). */
static int build_flood(struct frames *fs, const struct opts *o)
{
	int kind = o->kind ? kind_by_name(o->kind)
			   : PPX__V1__NOTIFICATION_KIND__ARREST;
	long n;
	int rc = 0;

	if (parse_long(o->arg, 1, FLOOD_MAX, &n) != 0)
		usage(EXIT_USAGE);
	for (long i = 0; rc == 0 && i < n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;

		rc = seal_message(&buf, &len, o->as, o->to, kind);
		if (rc == 0)
			rc = frames_add(fs, buf, len);
	}
	return rc;
}

/* ---- body-json: hostile text (tests/integration/hostile_text.sh) ---- */

/* The whole of a small file, NUL-terminated. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = f ? malloc(1 << 20) : NULL;

	*len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (buf)
		buf[*len] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One MARK=HEX patch, applied where MARK occurs, exactly once. */
static int apply_patch(uint8_t *buf, size_t len, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t mlen = eq ? (size_t)(eq - spec) : 0;
	uint8_t *at = mlen ? memmem(buf, len, spec, mlen) : NULL;
	const char *hex = eq ? eq + 1 : "";

	if (!at || strlen(hex) != 2 * mlen ||
	    memmem(at + 1, len - (size_t)(at - buf) - 1, spec, mlen))
		return ppx_error_set(PPX_EINVAL, "--patch %s: the mark must "
				     "occur once and the hex be as long", spec);
	for (size_t i = 0; i < mlen; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return ppx_error_set(PPX_EINVAL, "--patch %s: bad hex",
					     spec);
		at[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* The Body of the JSON file, completed as a sending daemon would. */
static int body_from_json(Ppx__V1__Body **out, const struct opts *o)
{
	static uint8_t id[PPX_MESSAGE_ID_LEN];
	size_t len = 0;
	char *text = read_file(o->arg, &len);
	Ppx__V1__Body *b = NULL;
	int rc;

	if (!text)
		return ppx_error_set(PPX_EIO, "cannot read %s", o->arg);
	rc = ppx_json_parse((ProtobufCMessage **)&b,
			    &ppx__v1__body__descriptor, text, len);
	free(text);
	if (rc != 0)
		return rc;
	if (b->message_id.len == 0 && (rc = ppx_message_id_new(id)) == 0) {
		b->message_id.data = malloc(sizeof(id));
		if (b->message_id.data) {
			memcpy(b->message_id.data, id, sizeof(id));
			b->message_id.len = sizeof(id);
		}
	}
	if (b->created_ms == 0)
		b->created_ms = (int64_t)time(NULL) * 1000;
	if (!b->sender_agency[0]) {
		if (b->sender_agency != protobuf_c_empty_string)
			free(b->sender_agency);
		b->sender_agency = strdup(o->agency);
	}
	*out = b;
	return rc;
}

/* The body of FILE, patched and signed by WHO byte for byte. */
static int build_body_json(struct frames *fs, const struct opts *o)
{
	ppx_signer *signer = signer_at(o->as);
	Ppx__V1__Body *b = NULL;
	uint8_t *bytes = NULL, *frame = NULL;
	size_t len = 0, flen = 0;
	int rc = signer ? body_from_json(&b, o)
			: ppx_error_set(PPX_EIO, "no signer %s", o->as);

	if (rc == 0) {
		len = ppx__v1__body__get_packed_size(b);
		if (!(bytes = malloc(len ? len : 1)))
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	if (rc == 0)
		ppx__v1__body__pack(b, bytes);
	for (size_t i = 0; rc == 0 && i < o->n_patch; i++)
		rc = apply_patch(bytes, len, o->patch[i]);
	if (rc == 0)
		rc = ppx_frame_seal(&frame, &flen, signer,
				    PPX__V1__SIGNED_PURPOSE__SIGNED_BODY, bytes,
				    len);
	if (rc == 0)
		rc = frames_add(fs, frame, flen);
	free(bytes);
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx_signer_free(signer);
	return rc;
}

/* --receipts-to: the answer's frame as received, for a strict decoder. */
static void save_receipt(const struct opts *o, const uint8_t *data,
			 size_t len)
{
	static unsigned n;
	char path[PATH_CAP];
	FILE *f;

	if (!o->receipts_to)
		return;
	snprintf(path, sizeof(path), "%s/receipt-%ld-%u.bin", o->receipts_to,
		 (long)getpid(), ++n);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len)
		fprintf(stderr, "inject: cannot write %s\n", path);
	if (f)
		fclose(f);
}

/* ---- end of body-json ---- */

/* Fill `fs` with the frames of the mode. */
static int build_frames(struct frames *fs, const struct opts *o)
{
	int kind = PPX__V1__NOTIFICATION_KIND__ARREST;
	const char *who = o->as;
	long n = 1, version = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (ident_mode(o->mode))
		return build_ident(fs, o);
	if (strcmp(o->mode, "garbage") == 0 || strcmp(o->mode, "oversize") == 0)
		return build_raw(fs, o->mode);
	if (strcmp(o->mode, "flood") == 0)
		return build_flood(fs, o);
	if (strcmp(o->mode, "body-json") == 0)
		return build_body_json(fs, o);
	if (strcmp(o->mode, "repeat") == 0) {
		if (parse_long(o->arg, 1, REPEAT_MAX, &n) != 0)
			usage(EXIT_USAGE);
		fs->repeats = 1;
	} else if (strcmp(o->mode, "version") == 0) {
		if (parse_long(o->arg, 0, 0xffffffffL, &version) != 0)
			usage(EXIT_USAGE);
	} else if (strcmp(o->mode, "signed-as") == 0) {
		who = o->arg;
	} else if (strcmp(o->mode, "kind") == 0) {
		kind = kind_by_name(o->arg);
	} else if (strcmp(o->mode, "valid") != 0) {
		usage(EXIT_USAGE);
	}
	rc = seal_message(&buf, &len, who, o->to, kind);
	if (rc == 0 && strcmp(o->mode, "version") == 0)
		rc = reversion(&buf, &len, (uint32_t)version);
	for (long i = 0; rc == 0 && i < n; i++) {
		uint8_t *copy = malloc(len);

		if (!copy) {
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
			break;
		}
		memcpy(copy, buf, len);
		rc = frames_add(fs, copy, len);
	}
	free(buf);
	return rc;
}

/* ---- modes of hostile ids (issue 10: squatting, reuse) ----------------- */

/* A 16-byte message id from its 32 hex digits. */
static int ident_id(uint8_t id[PPX_MESSAGE_ID_LEN], const char *hex)
{
	unsigned v;

	if (strlen(hex) != 2 * PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EINVAL, "%s: a message id is 32 hex "
				     "digits", hex);
	for (size_t i = 0; i < PPX_MESSAGE_ID_LEN; i++) {
		if (!strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return ppx_error_set(PPX_EINVAL, "%s is not hex", hex);
		id[i] = (uint8_t)v;
	}
	return 0;
}

/* Seal b, signed by WHO, and add the frame. */
static int ident_add(struct frames *fs, const struct opts *o,
		     Ppx__V1__Body *b)
{
	ppx_signer *signer = signer_at(o->as);
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = ppx_body_seal(&buf, &len, signer, b);

	ppx_signer_free(signer);
	return rc ? rc : frames_add(fs, buf, len);
}

/* reuse-id: a message; another body under its id; its bytes again. */
static int ident_reuse(struct frames *fs, const struct opts *o)
{
	Ppx__V1__Body *b = body_new(o->agency, o->to);
	char *details = b->notification->details;
	uint8_t *copy = NULL;
	int rc;

	if (o->kind)
		b->notification->kind = kind_by_name(o->kind);
	rc = ident_add(fs, o, b);
	b->notification->details = "Another body under the same id.";
	if (rc == 0)
		rc = ident_add(fs, o, b);
	b->notification->details = details;
	if (rc == 0 && !(copy = malloc(fs->f[0].len)))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	if (rc == 0) {
		memcpy(copy, fs->f[0].data, fs->f[0].len);
		rc = frames_add(fs, copy, fs->f[0].len);
	}
	fs->repeats = 1;
	body_free(b);
	return rc;
}

/* squat ID: a message (of --kind, default ARREST) under id ID. */
static int ident_squat(struct frames *fs, const struct opts *o)
{
	Ppx__V1__Body *b = body_new(o->agency, o->to);
	char *details = b->notification->details;
	int rc = ident_id(b->message_id.data, o->arg);

	if (o->kind)
		b->notification->kind = kind_by_name(o->kind);
	b->notification->details = "Junk under a squatted message id.";
	if (rc == 0)
		rc = ident_add(fs, o, b);
	b->notification->details = details;
	body_free(b);
	return rc;
}

/* update-of ID: an update of action A1 answering message ID as minutes
 * (the notification's place in the oneof is given back before freeing). */
static int ident_update_of(struct frames *fs, const struct opts *o)
{
	Ppx__V1__Body *b = body_new(o->agency, o->to);
	Ppx__V1__Notification *n = b->notification;
	Ppx__V1__ActionUpdate u = PPX__V1__ACTION_UPDATE__INIT;
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int rc = ident_id(id, o->arg);

	u.action_id = "A1";
	u.status = PPX__V1__ACTION_STATUS__ACTION_IN_PROGRESS;
	u.updated_by = b->sender_person;
	b->replies_to.data = id;
	b->replies_to.len = sizeof(id);
	b->payload_case = PPX__V1__BODY__PAYLOAD_ACTION_UPDATE;
	b->action_update = &u;
	if (rc == 0)
		rc = ident_add(fs, o, b);
	b->replies_to.data = NULL;
	b->replies_to.len = 0;
	b->payload_case = PPX__V1__BODY__PAYLOAD_NOTIFICATION;
	b->notification = n;
	body_free(b);
	return rc;
}

static int ident_mode(const char *mode)
{
	return strcmp(mode, "reuse-id") == 0 || ident_takes_arg(mode);
}

static int ident_takes_arg(const char *mode)
{
	return strcmp(mode, "squat") == 0 || strcmp(mode, "update-of") == 0;
}

static int build_ident(struct frames *fs, const struct opts *o)
{
	if (strcmp(o->mode, "reuse-id") == 0)
		return ident_reuse(fs, o);
	if (strcmp(o->mode, "squat") == 0)
		return ident_squat(fs, o);
	return ident_update_of(fs, o);
}
/* ---- end of the modes of hostile ids ---- */

static int set_int(void *sock, int opt, int value)
{
	return zmq_setsockopt(sock, opt, &value, sizeof(value));
}

/* The CURVE keys: ours from WHO's transport key, the server's pinned from
 * AGENCY's transport certificate. */
static int load_keys(const struct opts *o, uint8_t secret[32],
		     uint8_t public_key[32], uint8_t server[32])
{
	char path[PATH_CAP];
	X509 *cert = NULL;
	int rc;

	who_path(path, sizeof(path), o, o->to, "transport.crt");
	rc = ppx_cert_load(&cert, path);
	if (rc == 0)
		rc = ppx_cert_x25519_public(cert, server);
	X509_free(cert);
	if (rc != 0)
		return rc;
	who_path(path, sizeof(path), o, o->as, "transport.key");
	return ppx_transport_key_load(secret, public_key, path);
}

/* A DEALER to the daemon, as a CURVE client, and a monitor of its
 * handshakes. */
static int link_open(void *ctx, const struct opts *o, void **sock,
		     void **mon)
{
	uint8_t secret[32], public_key[32], server[32];
	int rc = load_keys(o, secret, public_key, server);

	*sock = *mon = NULL;
	if (rc != 0)
		return rc;
	*sock = zmq_socket(ctx, ZMQ_DEALER);
	if (!*sock || set_int(*sock, ZMQ_LINGER, 0) ||
	    set_int(*sock, ZMQ_SNDTIMEO, (int)o->timeout_ms) ||
	    zmq_setsockopt(*sock, ZMQ_CURVE_SERVERKEY, server, 32) ||
	    zmq_setsockopt(*sock, ZMQ_CURVE_PUBLICKEY, public_key, 32) ||
	    zmq_setsockopt(*sock, ZMQ_CURVE_SECRETKEY, secret, 32) ||
	    zmq_socket_monitor(*sock, MONITOR_EP,
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
				       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) ||
	    !(*mon = zmq_socket(ctx, ZMQ_PAIR)) ||
	    set_int(*mon, ZMQ_LINGER, 0) || zmq_connect(*mon, MONITOR_EP) ||
	    zmq_connect(*sock, o->endpoint))
		rc = ppx_error_set(PPX_EIO, "cannot connect to %s: %s",
				   o->endpoint, zmq_strerror(zmq_errno()));
	ppx_wipe(secret, sizeof(secret));
	return rc;
}

static void monitor_read(void *mon, struct link_state *st)
{
	zmq_msg_t m;
	uint16_t event = 0;
	uint32_t value = 0;
	int more = 1;
	size_t ml = sizeof(more);

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return;
	}
	if (zmq_msg_size(&m) >= 6) {
		memcpy(&event, zmq_msg_data(&m), sizeof(event));
		memcpy(&value, (uint8_t *)zmq_msg_data(&m) + 2, sizeof(value));
	}
	zmq_msg_close(&m);
	while (zmq_getsockopt(mon, ZMQ_RCVMORE, &more, &ml) == 0 && more) {
		zmq_msg_init(&m);
		zmq_msg_recv(&m, mon, 0);
		zmq_msg_close(&m);
	}
	if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		st->handshakes++;
	} else if (event) {
		st->refused++;
		st->last_failure = value;
	}
}

static const char *reason_name(int reason)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&ppx__v1__reject_reason__descriptor, reason);

	return v ? v->name : "REJECT_?";
}

static void print_item(const Ppx__V1__ReceiptItem *it)
{
	switch (it->status) {
	case PPX__V1__RECEIPT_STATUS__STORED:
		printf("STORED %llu\n", (unsigned long long)it->log_seq);
		break;
	case PPX__V1__RECEIPT_STATUS__DUPLICATE:
		printf("DUPLICATE %llu\n", (unsigned long long)it->log_seq);
		break;
	default:
		printf("REFUSED %s %s\n", reason_name(it->reason),
		       it->detail ? it->detail : "");
		break;
	}
	fflush(stdout);
}

/* Mark the first unanswered frame whose hash the item names: its index,
 * or -1 if the item answers nothing we sent. */
static long match_item(struct frames *fs, const Ppx__V1__ReceiptItem *it)
{
	/* Answers mostly come in the order frames were sent: start after the
	 * first frame still unanswered, so a flood is not quadratic. */
	while (fs->first_open < fs->n && fs->f[fs->first_open].answered)
		fs->first_open++;
	for (size_t i = fs->first_open; i < fs->n; i++)
		if (!fs->f[i].answered && it->body_hash.len == PPX_HASH_LEN &&
		    memcmp(fs->f[i].hash, it->body_hash.data,
			   PPX_HASH_LEN) == 0) {
			fs->f[i].answered = 1;
			fs->n_answered++;
			return (long)i;
		}
	return -1;
}

/* A STORED receipt byte for byte the same as an earlier answer's is worth
 * saying: that is a receiver replaying an original receipt rather than
 * answering DUPLICATE. */
static void note_repeat(struct frames *fs, long i,
			const Ppx__V1__ReceiptItem *it, const uint8_t *data,
			size_t len)
{
	ppx_sha256(fs->f[i].receipt, data, len);
	if (it->status != PPX__V1__RECEIPT_STATUS__STORED)
		return;
	for (size_t j = 0; j < fs->n; j++)
		if ((long)j != i && fs->f[j].answered &&
		    memcmp(fs->f[j].receipt, fs->f[i].receipt,
			   PPX_HASH_LEN) == 0) {
			fprintf(stderr,
				"inject: the answer to frame %ld repeats the "
				"receipt of frame %zu byte for byte\n",
				i + 1, j + 1);
			return;
		}
}

/* Verify one answer and print its items: 0, or -1 if it is not a receipt
 * from the daemon addressed to us about frames we sent. */
static int handle_answer(const ppx_trust *trust, const struct opts *o,
			 struct frames *fs, const uint8_t *data, size_t len)
{
	Ppx__V1__ReceiptBody *r = NULL;
	int bad = 0;
	int rc;

	save_receipt(o, data, len);
	rc = ppx_receipt_open(&r, trust, data, len, o->to, o->agency,
			      time(NULL));

	if (rc != 0) {
		fprintf(stderr, "inject: an answer of %zu bytes is not a valid "
			"receipt: %s\n", len, ppx_error_last());
		return -1;
	}
	for (size_t k = 0; k < r->n_items; k++) {
		long i = match_item(fs, r->items[k]);

		print_item(r->items[k]);
		if (i < 0) {
			fprintf(stderr, "inject: a receipt item names a body "
				"hash of no frame we sent\n");
			bad = 1;
		} else if (fs->repeats) {
			note_repeat(fs, i, r->items[k], data, len);
		}
	}
	ppx__v1__receipt_body__free_unpacked(r, NULL);
	return bad ? -1 : 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until `want` frames are answered or the deadline passes: 0, or -1
 * if an answer failed verification. */
static int collect(void *sock, void *mon, const ppx_trust *trust,
		   const struct opts *o, struct frames *fs,
		   struct link_state *st, size_t want, long deadline)
{
	int bad = 0;

	while (fs->n_answered < want && now_ms() < deadline) {
		zmq_pollitem_t items[] = {{sock, 0, ZMQ_POLLIN, 0},
					  {mon, 0, ZMQ_POLLIN, 0}};
		zmq_msg_t m;

		if (zmq_poll(items, 2, deadline - now_ms()) < 0)
			continue;
		if (items[1].revents)
			monitor_read(mon, st);
		if (!items[0].revents)
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0 &&
		    handle_answer(trust, o, fs, zmq_msg_data(&m),
				  zmq_msg_size(&m)) != 0)
			bad = 1;
		zmq_msg_close(&m);
	}
	return bad ? -1 : 0;
}

/* The outcome, as the exit status. */
static int verdict(const struct opts *o, const struct frames *fs,
		   const struct link_state *st, int bad)
{
	if (o->expect_no_connect) {
		if (fs->n_answered > 0) {
			fprintf(stderr, "inject: %s answered a client that "
				"should not have been let in\n", o->to);
			return EXIT_ANSWERS;
		}
		printf("NOCONNECT\n");
		fprintf(stderr, "inject: no answer in %ld ms; %d handshakes "
			"refused (last status %u), %d succeeded\n",
			o->timeout_ms, st->refused, st->last_failure,
			st->handshakes);
		return st->handshakes == 0 ? 0 : EXIT_ANSWERS;
	}
	if (fs->n_answered < fs->n) {
		if (st->handshakes == 0)
			printf("NOCONNECT\n");
		fprintf(stderr, "inject: %zu of %zu frames unanswered after "
			"%ld ms (%d handshakes, %d refused)\n",
			fs->n - fs->n_answered, fs->n, o->timeout_ms,
			st->handshakes, st->refused);
		return EXIT_ANSWERS;
	}
	return bad ? EXIT_ANSWERS : 0;
}

static int load_trust(ppx_trust **out, const struct opts *o)
{
	char ca[PATH_CAP], crl[PATH_CAP], certs[PATH_CAP];

	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", o->pki);
	snprintf(crl, sizeof(crl), "%s/ca/crl.pem", o->pki);
	snprintf(certs, sizeof(certs), "%s/certs", o->pki);
	return ppx_trust_load(out, ca, crl, certs);
}

static int send_frames(void *sock, const struct frames *fs, size_t from,
		       size_t to)
{
	for (size_t i = from; i < to; i++)
		if (zmq_send(sock, fs->f[i].data, fs->f[i].len, 0) < 0)
			return ppx_error_set(PPX_EIO, "cannot queue frame %zu: %s",
					     i + 1, zmq_strerror(zmq_errno()));
	return 0;
}

/* Connect, send the first frame and wait for its answer, then send the
 * others and collect their answers, all within the timeout. */
static int run(const struct opts *o, const ppx_trust *trust,
	       struct frames *fs)
{
	struct link_state st = {0};
	void *ctx = zmq_ctx_new(), *sock = NULL, *mon = NULL;
	long deadline = now_ms() + o->timeout_ms;
	int rc, bad = 0;

	if (!ctx)
		return ppx_error_set(PPX_EIO, "cannot create a ZeroMQ context");
	rc = link_open(ctx, o, &sock, &mon);
	if (rc == 0)
		rc = send_frames(sock, fs, 0, 1);
	if (rc == 0 && collect(sock, mon, trust, o, fs, &st, 1, deadline))
		bad = 1;
	if (rc == 0 && fs->n_answered == 1)
		rc = send_frames(sock, fs, 1, fs->n);
	if (rc == 0 &&
	    collect(sock, mon, trust, o, fs, &st, fs->n, deadline) != 0)
		bad = 1;
	if (sock)
		zmq_close(sock);
	if (mon)
		zmq_close(mon);
	zmq_ctx_term(ctx);
	if (rc != 0)
		return rc;
	return verdict(o, fs, &st, bad);
}

/* ---- Budget modes (issue 10: budgets, deviations) -------------------
 *
 * version-layout N  a frame of wire version N whose field 2 is a varint:
 *                   nothing a version-1 decoder takes for an Envelope
 * junk N            N distinct frames that are not ppx Frames, sent at
 *                   full speed over --conns C connections (default 1),
 *                   --hold-ms H after connecting (default 0), without
 *                   waiting for answers; prints one summary line
 *                   "junk: sent S answered A" and the answers by reason
 *                   (a flooding partner: answers stop once it is blocked);
 *                   --watch (at most WATCH_MAX connections) monitors each
 *                   connection and adds "junk: connections C up U down D
 *                   refused R": handshakes that succeeded (C of them, if
 *                   none was made again), connections the daemon ended,
 *                   handshakes it refused
 * latency N         N valid messages, each sent once the one before is
 *                   answered; prints "latency: n N p50 X p99 Y max Z" (ms)
 */
static int build_version_layout(struct frames *fs, const struct opts *o)
{
	uint8_t *buf = malloc(16);
	size_t n = 0;
	long v;

	if (parse_long(o->arg, 0, 0xffffffffL, &v) != 0)
		usage(EXIT_USAGE);
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	buf[n++] = 0x08;
	for (unsigned long u = (unsigned long)v;; u >>= 7) {
		buf[n++] = (uint8_t)((u & 0x7f) | (u > 0x7f ? 0x80 : 0));
		if (u <= 0x7f)
			break;
	}
	buf[n++] = 0x10;
	buf[n++] = 0x05;
	return frames_add(fs, buf, n);
}

static int build_junk(struct frames *fs, const struct opts *o)
{
	long n;
	int rc = 0;

	if (parse_long(o->arg, 1, FLOOD_MAX, &n) != 0)
		usage(EXIT_USAGE);
	for (long i = 0; rc == 0 && i < n; i++) {
		uint8_t *buf = malloc(64);
		int len;

		if (!buf)
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		len = snprintf((char *)buf, 64, "\x0f\xff\xff junk %ld", i);
		rc = frames_add(fs, buf, (size_t)len);
	}
	return rc;
}

#define WATCH_MAX 300	/* three zmq sockets each: within ZMQ_MAX_SOCKETS */

/* What the junk connections' monitors saw (--watch): handshakes that
 * succeeded, sessions ended after one (a failed handshake ends no
 * session), handshakes refused. */
struct junk_seen {
	long up, down, refused;
	char is_up[CONNS_MAX];
};

/* A DEALER to the daemon, monitored if --watch (*mon then set). */
static void *junk_socket(void *ctx, const struct opts *o, long i,
			 void **mon)
{
	uint8_t secret[32], public_key[32], server[32];
	char ep[64];
	void *s;

	if (load_keys(o, secret, public_key, server) != 0)
		return NULL;
	s = zmq_socket(ctx, ZMQ_DEALER);
	if (s && (set_int(s, ZMQ_LINGER, 0) || set_int(s, ZMQ_SNDHWM, 100000) ||
		  zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 32) ||
		  zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, public_key, 32) ||
		  zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 32))) {
		zmq_close(s);
		s = NULL;
	}
	ppx_wipe(secret, sizeof(secret));
	snprintf(ep, sizeof(ep), "inproc://inject-junk-%ld", i);
	if (s && o->watch &&
	    (zmq_socket_monitor(s, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
					       ZMQ_EVENT_DISCONNECTED |
					       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
					       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) ||
	     !(*mon = zmq_socket(ctx, ZMQ_PAIR)) ||
	     set_int(*mon, ZMQ_LINGER, 0) || zmq_connect(*mon, ep)))
		return NULL;
	if (s && zmq_connect(s, o->endpoint)) {
		zmq_close(s);
		s = NULL;
	}
	return s;
}

/* Count what junk connection i's monitor says. */
static void junk_events(void *mon, long i, struct junk_seen *seen)
{
	zmq_msg_t m;
	uint16_t event;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0)
			break;
		event = 0;
		if (zmq_msg_size(&m) >= 2)
			memcpy(&event, zmq_msg_data(&m), sizeof(event));
		seen->up += event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
		seen->down += event == ZMQ_EVENT_DISCONNECTED && seen->is_up[i];
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED ||
		    event == ZMQ_EVENT_DISCONNECTED)
			seen->is_up[i] = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
		seen->refused += event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
				 event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
		zmq_msg_close(&m);
		zmq_msg_init(&m);	/* the event's second part: its address */
		zmq_msg_recv(&m, mon, ZMQ_DONTWAIT);
		zmq_msg_close(&m);
	}
	zmq_msg_close(&m);
}

/* Count one answer's items by status and reason, without a line each. */
static void junk_answer(const ppx_trust *trust, const struct opts *o,
			struct frames *fs, zmq_msg_t *m, uint64_t *by)
{
	Ppx__V1__ReceiptBody *r = NULL;

	if (ppx_receipt_open(&r, trust, zmq_msg_data(m), zmq_msg_size(m),
			     o->to, o->agency, time(NULL)) != 0)
		return;
	for (size_t k = 0; k < r->n_items; k++)
		if (match_item(fs, r->items[k]) >= 0)
			by[r->items[k]->status == PPX__V1__RECEIPT_STATUS__REFUSED
				   ? (r->items[k]->reason & 63)
				   : 0]++;
	ppx__v1__receipt_body__free_unpacked(r, NULL);
}

static void junk_collect(void **socks, void **mons, long c,
			 const ppx_trust *trust, const struct opts *o,
			 struct frames *fs, uint64_t *by, long deadline,
			 struct junk_seen *seen)
{
	zmq_pollitem_t items[CONNS_MAX];
	long quiet = now_ms() + 3000;

	for (long i = 0; i < c; i++)
		items[i] = (zmq_pollitem_t){socks[i], 0, ZMQ_POLLIN, 0};
	while (fs->n_answered < fs->n && now_ms() < deadline &&
	       now_ms() < quiet) {
		for (long i = 0; o->watch && i < c; i++)
			junk_events(mons[i], i, seen);
		if (zmq_poll(items, (int)c, 200) <= 0)
			continue;
		for (long i = 0; i < c; i++) {
			zmq_msg_t m;

			zmq_msg_init(&m);
			while (zmq_msg_recv(&m, socks[i], ZMQ_DONTWAIT) >= 0) {
				junk_answer(trust, o, fs, &m, by);
				quiet = now_ms() + 3000;
			}
			zmq_msg_close(&m);
		}
	}
}

static int run_junk(const struct opts *o, const ppx_trust *trust,
		    struct frames *fs)
{
	void *ctx = zmq_ctx_new(), *socks[CONNS_MAX], *mons[CONNS_MAX] = {0};
	long c = o->conns ? o->conns : 1, deadline = now_ms() + o->timeout_ms;
	struct junk_seen seen = {0};
	uint64_t by[64] = {0};
	size_t sent = 0;

	if (o->watch && c > WATCH_MAX)
		return ppx_error_set(PPX_EINVAL, "--watch takes at most %d "
				     "connections", WATCH_MAX);
	for (long i = 0; i < c; i++)
		if (!(socks[i] = junk_socket(ctx, o, i, &mons[i])))
			return ppx_error_set(PPX_EIO, "cannot connect to %s",
					     o->endpoint);
	if (o->hold_ms)		/* the handshakes first, then every frame */
		nanosleep(&(struct timespec){o->hold_ms / 1000,
					     (o->hold_ms % 1000) * 1000000},
			  NULL);
	for (size_t i = 0; i < fs->n; i++)
		if (zmq_send(socks[i % (size_t)c], fs->f[i].data, fs->f[i].len,
			     ZMQ_DONTWAIT) >= 0)
			sent++;
	junk_collect(socks, mons, c, trust, o, fs, by, deadline, &seen);
	printf("junk: sent %zu answered %zu\n", sent, fs->n_answered);
	for (int r = 0; r < 64; r++)
		if (by[r])
			printf("junk: %s %llu\n", r ? reason_name(r) : "STORED",
			       (unsigned long long)by[r]);
	for (long i = 0; o->watch && i < c; i++)
		junk_events(mons[i], i, &seen);
	if (o->watch)
		printf("junk: connections %ld up %ld down %ld refused %ld\n", c,
		       seen.up, seen.down, seen.refused);
	for (long i = 0; i < c; i++) {
		if (mons[i])	/* stopped while its reader is open (#3575) */
			zmq_socket_monitor(socks[i], NULL, 0);
		zmq_close(socks[i]);
		if (mons[i])
			zmq_close(mons[i]);
	}
	zmq_ctx_term(ctx);
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	return (*(const long *)a > *(const long *)b) -
	       (*(const long *)a < *(const long *)b);
}

/* Each message alone: the time from its send to its answer. */
static int run_latency(const struct opts *o, const ppx_trust *trust,
		       struct frames *fs)
{
	struct link_state st = {0};
	void *ctx = zmq_ctx_new(), *sock = NULL, *mon = NULL;
	long *us = calloc(fs->n, sizeof(*us)), deadline;
	struct timespec t0, t1;
	size_t n = 0;
	int rc = us ? link_open(ctx, o, &sock, &mon) : PPX_ENOMEM;

	for (size_t i = 0; rc == 0 && i < fs->n; i++, n++) {
		deadline = now_ms() + o->timeout_ms;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((rc = send_frames(sock, fs, i, i + 1)) != 0 ||
		    collect(sock, mon, trust, o, fs, &st, i + 1, deadline) ||
		    fs->n_answered != i + 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		us[i] = (t1.tv_sec - t0.tv_sec) * 1000000L +
			(t1.tv_nsec - t0.tv_nsec) / 1000;
	}
	qsort(us, n, sizeof(*us), cmp_long);
	if (n > 0)
		printf("latency: n %zu p50 %.2f p99 %.2f max %.2f ms\n",
			n, us[n / 2] / 1000.0, us[(n * 99) / 100] / 1000.0,
			us[n - 1] / 1000.0);
	free(us);
	if (sock)
		zmq_close(sock);
	if (mon)
		zmq_close(mon);
	zmq_ctx_term(ctx);
	return rc != 0 ? rc : n == fs->n ? 0 : EXIT_ANSWERS;
}
/* ---- end of the budget modes ---- */

int main(int argc, char **argv)
{
	struct frames fs = {0};
	ppx_trust *trust = NULL;
	struct opts o;
	int rc;

	parse_opts(&o, argc, argv);
	/* signer_at() and body_new() of the test support read the PKI from
	 * the environment. */
	if (setenv("PPX_TEST_PKI", o.pki, 1) != 0)
		return EXIT_SETUP;
	rc = load_trust(&trust, &o);
	if (rc == 0 && strcmp(o.mode, "version-layout") == 0)
		rc = build_version_layout(&fs, &o);
	else if (rc == 0 && strcmp(o.mode, "junk") == 0)
		rc = build_junk(&fs, &o);
	else if (rc == 0 && strcmp(o.mode, "latency") == 0)
		rc = build_flood(&fs, &o);
	else if (rc == 0)
		rc = build_frames(&fs, &o);
	if (rc == 0) {
		rc = strcmp(o.mode, "junk") == 0      ? run_junk(&o, trust, &fs)
		     : strcmp(o.mode, "latency") == 0 ? run_latency(&o, trust, &fs)
						      : run(&o, trust, &fs);
		if (rc < 0) {
			fprintf(stderr, "inject: %s\n", ppx_error_last());
			rc = EXIT_SETUP;
		}
	} else {
		fprintf(stderr, "inject: %s\n", ppx_error_last());
		rc = EXIT_SETUP;
	}
	frames_free(&fs);
	ppx_trust_free(trust);
	return rc;
}
