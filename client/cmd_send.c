/*
 * cmd_send.c — `ppx send --json FILE|-` and `ppx send FAMILY [flags]`:
 * submit messages to the daemon.
 *
 * `ppx send notification|minutes|disclosure|record` builds one body from
 * flags (compose.c, which checks it with the domain rules first) and
 * submits it here with send_body().  With --json, the input holds one or
 * more ppx.v1.Body objects in protobuf's canonical
 * JSON mapping (one after another, e.g. JSON Lines).  Each is submitted;
 * the daemon fills in who is sending (from the caller's Unix identity),
 * checks it and its recipients against the policy, signs it, logs it and
 * queues it.  For each message one line is printed: the message id, its
 * log position and its delivery state per recipient.  With --wait, ppx
 * waits until every recipient's signed receipt is logged (or --timeout).
 *
 * With --sign KEY the sender signs each message personally
 * (docs/PROTOCOL.md 3.2): ppx asks the daemon to prepare the body (it
 * completes it as it would seal it, naming the person certificate) and
 * gets its exact bytes back, signs them with the person's key (a 0600
 * file, or a pkcs11: URI with $PPX_PKCS11_MODULE and
 * $PPX_PERSON_PIN_FILE), and submits the bytes with the signature.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "client.h"
#include "compose.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/json-c.h"
#include "ppx/names.h"
#include "ppx/person.h"

#define SEND_WINDOW 256
#define INPUT_MAX (256L * 1024 * 1024)

static const char usage[] =
	"usage: ppx send --json FILE|- [--config FILE] [--wait] [--timeout S]\n"
	"                [--sign KEY [--sign-cert CERT]]\n"
	"       ppx send notification|minutes|disclosure|record [OPTIONS]\n"
	"Submits each ppx.v1.Body in FILE (canonical protobuf JSON, one\n"
	"object after another), or the one the options describe (ppx send\n"
	"minutes --help lists them), and prints: message-id log-seq "
	"partner=state...\n"
	"Exit 0: all queued (or, with --wait, delivered); 1: something was\n"
	"refused; 3: the daemon did not answer.\n";

struct send_opts {
	const char *config, *json, *sign, *sign_cert;
	int wait;
	long timeout_s;
};

static int read_all(char **out, size_t *len, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	if (!f || !buf) {
		fprintf(stderr, "ppx send: cannot read %s\n", path);
		free(buf);
		return PPX_EXIT_USAGE;
	}
	for (size_t r; (r = fread(buf + n, 1, cap - n, f)) > 0;) {
		n += r;
		if (n == cap) {
			char *g = cap * 2 <= (size_t)INPUT_MAX
					  ? realloc(buf, cap * 2) : NULL;

			if (!g) {
				fprintf(stderr, "ppx send: %s is too large\n", path);
				free(buf);
				return PPX_EXIT_USAGE;
			}
			buf = g;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* Parse the next JSON value from text[*pos..len) into a Body. */
static int next_body(Ppx__V1__Body **out, json_tokener *tok, const char *text,
		     size_t len, size_t *pos)
{
	json_object *obj;

	*out = NULL;
	while (*pos < len && strchr(" \t\r\n", text[*pos]))
		(*pos)++;
	if (*pos >= len)
		return 1;	/* end of input */
	json_tokener_reset(tok);
	obj = json_tokener_parse_ex(tok, text + *pos, (int)(len - *pos));
	if (!obj) {
		fprintf(stderr, "ppx send: input byte %zu: %s\n", *pos,
			json_tokener_error_desc(json_tokener_get_error(tok)));
		return -1;
	}
	*pos += json_tokener_get_parse_end(tok);
	if (ppx_json_to_message((ProtobufCMessage **)out,
				&ppx__v1__body__descriptor, obj) != 0) {
		fprintf(stderr, "ppx send: %s\n", ppx_error_last());
		json_object_put(obj);
		return -1;
	}
	json_object_put(obj);
	return 0;
}

static const char *or_unknown(const char *name)
{
	return name ? name : "?";
}

/* Print one reply; returns 1 if anything in it was refused. */
static int print_reply(const Ppx__V1__ControlReply *r)
{
	char hex[2 * PPX_MESSAGE_ID_LEN + 1] = "";
	const Ppx__V1__SubmitReply *s = r->submit ? r->submit : r->message_state;
	int refused = 0;

	if (r->code != 0 || !s) {
		fprintf(stderr, "ppx send: refused: %s\n", r->error);
		return 1;
	}
	if (s->message_id.len == PPX_MESSAGE_ID_LEN)
		ppx_hex(hex, s->message_id.data, s->message_id.len);
	printf("%s %llu", hex, (unsigned long long)s->log_seq);
	for (size_t i = 0; i < s->n_deliveries; i++) {
		printf(" %s=%s", s->deliveries[i]->partner,
		       or_unknown(ppx_delivery_state_name(
			       s->deliveries[i]->state)));
		refused |= s->deliveries[i]->state ==
			   PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED;
	}
	printf("\n");
	for (size_t i = 0; refused && i < s->n_deliveries; i++)
		if (s->deliveries[i]->state ==
		    PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED)
			fprintf(stderr, "ppx send: %s refused %s: %s\n",
				s->deliveries[i]->partner, hex,
				or_unknown(ppx_reject_reason_name(
					s->deliveries[i]->reason)));
	return refused;
}

struct sent_ids {
	uint8_t (*id)[PPX_MESSAGE_ID_LEN];
	size_t n, cap;
};

static int remember(struct sent_ids *s, const Ppx__V1__ControlReply *r)
{
	if (r->code != 0 || !r->submit ||
	    r->submit->message_id.len != PPX_MESSAGE_ID_LEN)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		void *g = realloc(s->id, cap * sizeof(*s->id));

		if (!g)
			return -1;
		s->id = g;
		s->cap = cap;
	}
	memcpy(s->id[s->n++], r->submit->message_id.data, PPX_MESSAGE_ID_LEN);
	return 0;
}

/* The person's signer for --sign KEY [--sign-cert CERT]; NULL without
 * --sign.  PPX_E* on failure, after saying why. */
static int person_open(ppx_signer **out, const char *key, const char *cert)
{
	int rc;

	*out = NULL;
	if (!key)
		return 0;
	rc = ppx_person_signer_open(out, key, cert, getenv("PPX_PKCS11_MODULE"),
				    getenv("PPX_PERSON_PIN_FILE"));
	if (rc != 0)
		fprintf(stderr, "ppx send: --sign: %s\n", ppx_error_last());
	return rc;
}

/* One request and its reply. */
static int exchange(struct ctl *c, Ppx__V1__SubmitRequest *sub,
		    Ppx__V1__ControlReply **out)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	int rc;

	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT;
	req.submit = sub;
	if ((rc = ctl_send(c, &req)) != 0 || (rc = ctl_recv(c, out)) != 0)
		fprintf(stderr, "ppx send: %s\n", ppx_error_last());
	return rc;
}

/*
 * Submit `b` signed by `person`: a prepare, the signature over the bytes
 * it answers, and the signed submit, whose reply is *out (or the
 * prepare's, when that was refused).
 */
static int submit_signed(struct ctl *c, const Ppx__V1__Body *b,
			 ppx_signer *person, Ppx__V1__ControlReply **out)
{
	Ppx__V1__SubmitRequest sub = PPX__V1__SUBMIT_REQUEST__INIT;
	Ppx__V1__PersonSignature *ps = NULL;
	Ppx__V1__ControlReply *prep = NULL;
	int rc;

	*out = NULL;
	sub.body = (Ppx__V1__Body *)b;
	sub.prepare = 1;
	if ((rc = ppx_cert_der(&sub.person_cert.data, &sub.person_cert.len,
			       ppx_signer_cert(person))) != 0 ||
	    (rc = exchange(c, &sub, &prep)) != 0) {
		free(sub.person_cert.data);
		return rc;
	}
	free(sub.person_cert.data);
	if (prep->code != 0 || !prep->submit) {
		*out = prep;
		return 0;
	}
	rc = ppx_person_sign(&ps, person, prep->submit->prepared_body.data,
			     prep->submit->prepared_body.len);
	if (rc != 0)
		fprintf(stderr, "ppx send: --sign: %s\n", ppx_error_last());
	ppx__v1__submit_request__init(&sub);
	sub.signed_body = prep->submit->prepared_body;
	sub.person = ps;
	if (rc == 0)
		rc = exchange(c, &sub, out);
	ppx_person_signature_free(ps);
	ppx__v1__control_reply__free_unpacked(prep, NULL);
	return rc;
}

/* Submit every body in the input, each signed by `person`, one at a
 * time. */
static int submit_all_signed(struct ctl *c, const char *text, size_t len,
			     struct sent_ids *ids, int quiet,
			     ppx_signer *person)
{
	json_tokener *tok = json_tokener_new();
	size_t pos = 0;
	int rc = tok ? PPX_EXIT_OK : PPX_EXIT_UNAVAILABLE;

	while (tok) {
		Ppx__V1__ControlReply *r = NULL;
		Ppx__V1__Body *b = NULL;
		int got = next_body(&b, tok, text, len, &pos), err;

		if (got != 0) {
			if (got < 0)
				rc = PPX_EXIT_USAGE;
			break;
		}
		err = submit_signed(c, b, person, &r);
		ppx__v1__body__free_unpacked(b, NULL);
		if (err != 0) {
			rc = ppx_exit_code(err);
			break;
		}
		if ((quiet ? r->code != 0 : print_reply(r)) && rc == PPX_EXIT_OK)
			rc = PPX_EXIT_NO;
		if (quiet && r->code != 0)
			fprintf(stderr, "ppx send: refused: %s\n", r->error);
		remember(ids, r);
		ppx__v1__control_reply__free_unpacked(r, NULL);
	}
	json_tokener_free(tok);
	return rc;
}

/* Submit every body in the input, up to SEND_WINDOW at a time. */
static int submit_all(struct ctl *c, const char *text, size_t len,
		      struct sent_ids *ids, int quiet)
{
	json_tokener *tok = json_tokener_new();
	size_t pos = 0, outstanding = 0;
	int more = 1, rc = PPX_EXIT_OK;

	while (tok && (more || outstanding > 0)) {
		while (more && outstanding < SEND_WINDOW) {
			Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
			Ppx__V1__SubmitRequest sub = PPX__V1__SUBMIT_REQUEST__INIT;
			Ppx__V1__Body *b = NULL;
			int got = next_body(&b, tok, text, len, &pos);

			if (got != 0) {
				more = 0;
				if (got < 0)
					rc = PPX_EXIT_USAGE;
				break;
			}
			sub.body = b;
			req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT;
			req.submit = &sub;
			if (ctl_send(c, &req) == 0)
				outstanding++;
			ppx__v1__body__free_unpacked(b, NULL);
		}
		if (outstanding == 0)
			break;
		Ppx__V1__ControlReply *r = NULL;
		int err = ctl_recv(c, &r);

		if (err != 0) {
			fprintf(stderr, "ppx send: %s\n", ppx_error_last());
			json_tokener_free(tok);
			return ppx_exit_code(err);
		}
		outstanding--;
		if ((quiet ? r->code != 0 : print_reply(r)) && rc == PPX_EXIT_OK)
			rc = PPX_EXIT_NO;
		if (quiet && r->code != 0)
			fprintf(stderr, "ppx send: refused: %s\n", r->error);
		remember(ids, r);
		ppx__v1__control_reply__free_unpacked(r, NULL);
	}
	json_tokener_free(tok);
	return rc;
}

/* 1 if every delivery of the message is settled (delivered or refused),
 * 0 if not yet, or the PPX_E* code of a failed exchange with ppxd. */
static int settled(struct ctl *c, const uint8_t *id, int *refused)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__MessageStateRequest q = PPX__V1__MESSAGE_STATE_REQUEST__INIT;
	Ppx__V1__ControlReply *r = NULL;
	int done = 0;

	q.message_id.data = (uint8_t *)id;
	q.message_id.len = PPX_MESSAGE_ID_LEN;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_MESSAGE_STATE;
	req.message_state = &q;
	if ((done = ctl_send(c, &req)) != 0 || (done = ctl_recv(c, &r)) != 0)
		return done;
	if (r->code == 0 && r->message_state) {
		done = 1;
		for (size_t i = 0; i < r->message_state->n_deliveries; i++) {
			int st = r->message_state->deliveries[i]->state;

			done &= st != PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED;
			*refused |= st == PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED;
		}
		if (done)
			print_reply(r);
	}
	ppx__v1__control_reply__free_unpacked(r, NULL);
	return done;
}

static int wait_all(struct ctl *c, const struct sent_ids *ids, long timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	size_t next = 0;
	int refused = 0;

	while (next < ids->n) {
		int s = settled(c, ids->id[next], &refused);

		if (s < 0)
			return ppx_exit_code(s);
		if (s > 0) {
			next++;
			continue;
		}
		if (time(NULL) >= end) {
			fprintf(stderr, "ppx send: %zu of %zu messages still wait "
				"for receipts after %ld s\n",
				ids->n - next, ids->n, timeout_s);
			return PPX_EXIT_NO;
		}
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	return refused ? PPX_EXIT_NO : PPX_EXIT_OK;
}

static int parse(struct send_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", required_argument, NULL, 'j'},
		{"wait", no_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 't'},
		{"sign", required_argument, NULL, 's'},
		{"sign-cert", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->timeout_s = 60;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:j:wt:s:C:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'j': o->json = optarg; break;
		case 'w': o->wait = 1; break;
		case 's': o->sign = optarg; break;
		case 'C': o->sign_cert = optarg; break;
		case 't':
			o->timeout_s = strtol(optarg, &end, 10);
			if (*end || o->timeout_s <= 0) {
				fprintf(stderr, "ppx send: --timeout needs a "
					"positive number of seconds\n");
				return PPX_EXIT_USAGE;
			}
			break;
		case 'h': fputs(usage, stdout); return -1;
		default: fputs(usage, stderr); return PPX_EXIT_USAGE;
		}
	}
	if (!o->json || optind != argc || (o->sign_cert && !o->sign)) {
		fputs(usage, stderr);
		return PPX_EXIT_USAGE;
	}
	return 0;
}

int send_body(const struct send_common *o, const Ppx__V1__Body *b)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__SubmitRequest sub = PPX__V1__SUBMIT_REQUEST__INIT;
	Ppx__V1__ControlReply *r = NULL;
	struct sent_ids ids = {0};
	ppx_signer *person = NULL;
	struct ctl c;
	int rc = person_open(&person, o->sign, o->sign_cert);

	if (rc == 0 && (rc = ctl_open(&c, config_path_default(o->config),
				      30000)) != 0)
		ppx_signer_free(person);
	if (rc != 0)
		return ppx_exit_code(rc);
	sub.body = (Ppx__V1__Body *)b;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT;
	req.submit = &sub;
	if (person)
		rc = submit_signed(&c, b, person, &r);
	else if ((rc = ctl_send(&c, &req)) != 0 ||
		 (rc = ctl_recv(&c, &r)) != 0)
		fprintf(stderr, "ppx send: %s\n", ppx_error_last());
	ppx_signer_free(person);
	if (rc != 0) {
		ctl_close(&c);
		return ppx_exit_code(rc);
	}
	if (o->wait && r->code != 0)
		fprintf(stderr, "ppx send: refused: %s\n", r->error);
	rc = (o->wait ? r->code != 0 : print_reply(r)) ? PPX_EXIT_NO
						       : PPX_EXIT_OK;
	if (remember(&ids, r) != 0)
		rc = PPX_EXIT_UNAVAILABLE;
	ppx__v1__control_reply__free_unpacked(r, NULL);
	if (o->wait && rc == PPX_EXIT_OK)
		rc = wait_all(&c, &ids, o->timeout_s);
	ctl_close(&c);
	free(ids.id);
	return rc;
}

int send_composed(const struct send_common *o, const struct compose *c)
{
	int rc = compose_check(c);

	if (rc != 0)
		return ppx_exit_code(rc);
	return o->print ? ppx_exit_code(compose_print(c))
			: send_body(o, compose_body(c));
}

/* `ppx send FAMILY [flags]`: one body composed from flags. */
static int send_family(int argc, char **argv)
{
	struct send_common o;
	struct compose *c = NULL;
	int rc = compose_send(&c, &o, argc, argv);

	rc = rc == 0 ? send_composed(&o, c)
	     : rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	compose_free(&c);
	return rc;
}

int cmd_send(int argc, char **argv)
{
	struct send_opts o;
	struct sent_ids ids = {0};
	ppx_signer *person = NULL;
	struct ctl c;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (argc >= 2 && argv[1][0] != '-')
		return send_family(argc - 1, argv + 1);
	if ((rc = parse(&o, argc, argv)) != 0)
		return rc < 0 ? PPX_EXIT_OK : rc;
	if ((rc = person_open(&person, o.sign, o.sign_cert)) != 0)
		return ppx_exit_code(rc);
	if ((rc = read_all(&text, &len, o.json)) != 0) {
		ppx_signer_free(person);
		return rc;
	}
	if ((rc = ctl_open(&c, config_path_default(o.config), 30000)) != 0) {
		ppx_signer_free(person);
		free(text);
		return ppx_exit_code(rc);
	}
	rc = person ? submit_all_signed(&c, text, len, &ids, o.wait, person)
		    : submit_all(&c, text, len, &ids, o.wait);
	ppx_signer_free(person);
	if (o.wait && rc == PPX_EXIT_OK)
		rc = wait_all(&c, &ids, o.timeout_s);
	ctl_close(&c);
	free(ids.id);
	free(text);
	return rc;
}
