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
 * This file is the core: options, frames, sealing, the link, the answers
 * and the verdict.  The hostile modes that need more than a few lines live
 * beside it, each in a file of its own sharing inject.h: body-json in
 * inject_text.c, reuse-id, squat and update-of in inject_ids.c, and
 * version-layout, junk and latency in inject_budget.c.
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
 *                      see "Budget modes" in inject_budget.c
 *   restore-signed-as A2, restore-checkpoint-of A2, restore-old-signed-as A2,
 *   restore-at SIZE
 *                      forged restore notices; see inject_restore.c
 *   person CASE [--person REL] [--frame-to FILE]
 *                      a message personally signed (or not) as CASE says:
 *                      none, good, other-bytes, not-sender; see
 *                      inject_person.c.  --frame-to writes the frame to
 *                      FILE, for an independent check (pyppx.person)
 *   batch CASE         batch-signed messages, honest (good) or forged;
 *                      see inject_batch.c
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
#include "inject.h"

#define REPEAT_MAX 1000
#define MONITOR_EP "inproc://inject-monitor"

void inject_usage(int status)
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
		"       version-layout N | junk N [--conns C] | latency N |\n"
		"       person none|good|other-bytes|not-sender "
		"[--person REL] [--frame-to FILE] |\n"
		"       batch good|wrong-index|wrong-path|swapped|"
		"other-purpose|other-signer|\n"
		"             long-path|index-outside|size-zero|size-huge|"
		"short-hash\n");
	exit(status);
}

int inject_parse_long(const char *s, long min, long max, long *out)
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

/* The modes that take an argument (always required). */
static int mode_takes_arg(const char *mode)
{
	if (ident_mode(mode))
		return ident_takes_arg(mode);
	return strcmp(mode, "repeat") == 0 || strcmp(mode, "signed-as") == 0 ||
	       strcmp(mode, "version") == 0 || strcmp(mode, "kind") == 0 ||
	       strcmp(mode, "flood") == 0 || strcmp(mode, "body-json") == 0 ||
	       strcmp(mode, "version-layout") == 0 ||
	       strcmp(mode, "junk") == 0 || strcmp(mode, "latency") == 0 ||
	       person_mode(mode) || restore_mode(mode) || batch_mode(mode);
}

/* What parse_opts() takes: the options inject_usage() lists. */
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
	{"person", required_argument, NULL, 'S'},
	{"frame-to", required_argument, NULL, 'O'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void parse_opts(struct opts *o, int argc, char **argv)
{
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
		case 'S': o->person = optarg; break;
		case 'O': o->frame_to = optarg; break;
		case 'P':
			if (o->n_patch == sizeof(o->patch) / sizeof(o->patch[0]))
				inject_usage(EXIT_USAGE);
			o->patch[o->n_patch++] = optarg;
			break;
		case 'h': inject_usage(0); break;
		case 'T':
			if (inject_parse_long(optarg, 1, 3600000,
					      &o->timeout_ms) != 0)
				inject_usage(EXIT_USAGE);
			break;
		case 'C':
			if (inject_parse_long(optarg, 1, CONNS_MAX,
					      &o->conns) != 0)
				inject_usage(EXIT_USAGE);
			break;
		case 'H':
			if (inject_parse_long(optarg, 0, 600000,
					      &o->hold_ms) != 0)
				inject_usage(EXIT_USAGE);
			break;
		default: inject_usage(EXIT_USAGE);
		}
	}
	if (!o->endpoint || !o->as || !o->to || optind >= argc)
		inject_usage(EXIT_USAGE);
	o->mode = argv[optind++];
	if (mode_takes_arg(o->mode) && optind < argc)
		o->arg = argv[optind++];
	if (optind != argc || (mode_takes_arg(o->mode) && !o->arg))
		inject_usage(EXIT_USAGE);
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
int inject_frames_add(struct frames *fs, uint8_t *data, size_t len)
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

int inject_kind_by_name(const char *name)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(
		&ppx__v1__notification_kind__descriptor, name);

	if (!v || v->value == 0) {
		fprintf(stderr, "inject: %s is not a NotificationKind\n", name);
		inject_usage(EXIT_USAGE);
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
	return inject_frames_add(fs, buf, len);
}

/* N distinct messages, each sealed on its own (its own message id). */
static int build_flood(struct frames *fs, const struct opts *o)
{
	int kind = o->kind ? inject_kind_by_name(o->kind)
			   : PPX__V1__NOTIFICATION_KIND__ARREST;
	long n;
	int rc = 0;

	if (inject_parse_long(o->arg, 1, FLOOD_MAX, &n) != 0)
		inject_usage(EXIT_USAGE);
	for (long i = 0; rc == 0 && i < n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;

		rc = seal_message(&buf, &len, o->as, o->to, kind);
		if (rc == 0)
			rc = inject_frames_add(fs, buf, len);
	}
	return rc;
}

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
	if (person_mode(o->mode))
		return build_person(fs, o);
	if (restore_mode(o->mode))
		return build_restore(fs, o);
	if (batch_mode(o->mode))
		return build_batch(fs, o);
	if (strcmp(o->mode, "repeat") == 0) {
		if (inject_parse_long(o->arg, 1, REPEAT_MAX, &n) != 0)
			inject_usage(EXIT_USAGE);
		fs->repeats = 1;
	} else if (strcmp(o->mode, "version") == 0) {
		if (inject_parse_long(o->arg, 0, 0xffffffffL, &version) != 0)
			inject_usage(EXIT_USAGE);
	} else if (strcmp(o->mode, "signed-as") == 0) {
		who = o->arg;
	} else if (strcmp(o->mode, "kind") == 0) {
		kind = inject_kind_by_name(o->arg);
	} else if (strcmp(o->mode, "valid") != 0) {
		inject_usage(EXIT_USAGE);
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
		rc = inject_frames_add(fs, copy, len);
	}
	free(buf);
	return rc;
}

int inject_set_int(void *sock, int opt, int value)
{
	return zmq_setsockopt(sock, opt, &value, sizeof(value));
}

/* The CURVE keys: ours from WHO's transport key, the server's pinned from
 * AGENCY's transport certificate. */
int inject_load_keys(const struct opts *o, uint8_t secret[32],
		     uint8_t public_key[32], uint8_t server[32])
{
	char path[PATH_CAP];
	ppx_cert *cert = NULL;
	int rc;

	who_path(path, sizeof(path), o, o->to, "transport.crt");
	rc = ppx_cert_load(&cert, path);
	if (rc == 0)
		rc = ppx_cert_x25519_public(cert, server);
	ppx_cert_free(cert);
	if (rc != 0)
		return rc;
	who_path(path, sizeof(path), o, o->as, "transport.key");
	return ppx_transport_key_load(secret, public_key, path);
}

/* A DEALER to the daemon, as a CURVE client, and a monitor of its
 * handshakes. */
int inject_link_open(void *ctx, const struct opts *o, void **sock,
		     void **mon)
{
	uint8_t secret[32], public_key[32], server[32];
	int rc = inject_load_keys(o, secret, public_key, server);

	*sock = *mon = NULL;
	if (rc != 0)
		return rc;
	*sock = zmq_socket(ctx, ZMQ_DEALER);
	if (!*sock || inject_set_int(*sock, ZMQ_LINGER, 0) ||
	    inject_set_int(*sock, ZMQ_SNDTIMEO, (int)o->timeout_ms) ||
	    zmq_setsockopt(*sock, ZMQ_CURVE_SERVERKEY, server, 32) ||
	    zmq_setsockopt(*sock, ZMQ_CURVE_PUBLICKEY, public_key, 32) ||
	    zmq_setsockopt(*sock, ZMQ_CURVE_SECRETKEY, secret, 32) ||
	    zmq_socket_monitor(*sock, MONITOR_EP,
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
				       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) ||
	    !(*mon = zmq_socket(ctx, ZMQ_PAIR)) ||
	    inject_set_int(*mon, ZMQ_LINGER, 0) ||
	    zmq_connect(*mon, MONITOR_EP) ||
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

const char *inject_reason_name(int reason)
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
		printf("REFUSED %s %s\n", inject_reason_name(it->reason),
		       it->detail ? it->detail : "");
		break;
	}
	fflush(stdout);
}

/* Mark the first unanswered frame whose hash the item names: its index,
 * or -1 if the item answers nothing we sent. */
long inject_match_item(struct frames *fs, const Ppx__V1__ReceiptItem *it)
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
		long i = inject_match_item(fs, r->items[k]);

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

long inject_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until `want` frames are answered or the deadline passes: 0, or -1
 * if an answer failed verification. */
int inject_collect(void *sock, void *mon, const ppx_trust *trust,
		   const struct opts *o, struct frames *fs,
		   struct link_state *st, size_t want, long deadline)
{
	int bad = 0;

	while (fs->n_answered < want && inject_now_ms() < deadline) {
		zmq_pollitem_t items[] = {{sock, 0, ZMQ_POLLIN, 0},
					  {mon, 0, ZMQ_POLLIN, 0}};
		zmq_msg_t m;

		if (zmq_poll(items, 2, deadline - inject_now_ms()) < 0)
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

int inject_send_frames(void *sock, const struct frames *fs, size_t from,
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
	long deadline = inject_now_ms() + o->timeout_ms;
	int rc, bad = 0;

	if (!ctx)
		return ppx_error_set(PPX_EIO, "cannot create a ZeroMQ context");
	rc = inject_link_open(ctx, o, &sock, &mon);
	if (rc == 0)
		rc = inject_send_frames(sock, fs, 0, 1);
	if (rc == 0 &&
	    inject_collect(sock, mon, trust, o, fs, &st, 1, deadline))
		bad = 1;
	if (rc == 0 && fs->n_answered == 1)
		rc = inject_send_frames(sock, fs, 1, fs->n);
	if (rc == 0 &&
	    inject_collect(sock, mon, trust, o, fs, &st, fs->n, deadline) != 0)
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