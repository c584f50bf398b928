/*
 * cmd_checkpoint.c — `ppx checkpoint`: the newest cosigned checkpoint of
 * our log (or of a partner's log that we cosigned) in the C2SP forms
 * (PROTOCOL.md 11.1), for existing transparency tooling: the note text,
 * the log's signature line, then one cosignature/v1 line per witness that
 * cosigned exactly that checkpoint.
 *
 * It reads the log read-only (the daemon may be running) through the
 * marks the daemon keeps per partner: for our log, the last ENTRY_COSIGNED
 * of each partner, of which the largest checkpoint is printed; for a
 * partner's, our last ENTRY_WITNESSED that cosigned it.  The partners are
 * the [partner] sections and, with [federation], the agencies of the
 * directory the daemon holds (LOG_DIR/directory.pb), whose certificates
 * join the configured trust store; certificates are found there by
 * fingerprint.  A P-256 agency's signatures have no C2SP form: the
 * command says so and fails.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ppx/config.h"
#include "ppx/directory.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "ppx/file.h"
#include "ppx/note.h"

static const char usage[] =
	"usage: ppx checkpoint [--config FILE] [--c2sp] [AGENCY]\n"
	"Prints the newest checkpoint of our log that a partner cosigned\n"
	"(or, given AGENCY, the newest of that partner's log that we\n"
	"cosigned).  With --c2sp: exactly the C2SP signed note (the\n"
	"tlog-checkpoint text, the log's signature line and the\n"
	"tlog-cosignature/v1 lines), for transparency tooling.\n";

/* One witnessing exchange read back from the log. */
struct exchange {
	Ppx__V1__Frame *req;	/* Frame{witness} */
	Ppx__V1__Frame *rep;	/* Frame{cosignature} */
	Ppx__V1__Checkpoint *cp;
};

static void exchange_clear(struct exchange *x)
{
	if (x->req)
		ppx__v1__frame__free_unpacked(x->req, NULL);
	if (x->rep)
		ppx__v1__frame__free_unpacked(x->rep, NULL);
	if (x->cp)
		ppx__v1__checkpoint__free_unpacked(x->cp, NULL);
	memset(x, 0, sizeof(*x));
}

/* The exchange the mark `prefix` || agency points at: 0 or PPX_ENOTFOUND. */
static int exchange_load(struct exchange *x, ppx_log *log, const char *prefix,
			 const char *agency)
{
	char set[PPX_LOG_CURSOR_NAME_MAX + 1];
	struct ppx_log_mark *m = NULL;
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__WitnessRecord *rec = NULL;
	size_t n = 0;
	int rc;

	memset(x, 0, sizeof(*x));
	snprintf(set, sizeof(set), "%s%s", prefix, agency);
	rc = ppx_log_mark_list(log, set, &m, &n, 1);
	if (rc == 0 && n == 0)
		rc = PPX_ENOTFOUND;
	if (rc == 0)
		rc = ppx_log_get(log, m[0].seq, &e);
	if (rc == 0 && !(rec = ppx__v1__witness_record__unpack(
				 NULL, e->data.len, e->data.data)))
		rc = PPX_ECORRUPT;
	if (rc == 0)
		rc = ppx_frame_decode(&x->req, rec->request.data,
				      rec->request.len);
	if (rc == 0)
		rc = ppx_frame_decode(&x->rep, rec->reply.data,
				      rec->reply.len);
	if (rc == 0 &&
	    (x->req->content_case != PPX__V1__FRAME__CONTENT_WITNESS ||
	     x->rep->content_case != PPX__V1__FRAME__CONTENT_COSIGNATURE ||
	     !x->req->witness->checkpoint ||
	     !(x->cp = ppx__v1__checkpoint__unpack(
		       NULL, x->req->witness->checkpoint->signed_body.len,
		       x->req->witness->checkpoint->signed_body.data)) ||
	     x->cp->root_hash.len != PPX_HASH_LEN))
		rc = PPX_ECORRUPT;
	if (rec)
		ppx__v1__witness_record__free_unpacked(rec, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	free(m);
	if (rc != 0)
		exchange_clear(x);
	return rc;
}

static const ppx_cert *cert_of(const ppx_trust *trust,
			       const ProtobufCBinaryData *fp)
{
	return fp->len == PPX_FINGERPRINT_LEN ? ppx_trust_find(trust, fp->data)
					       : NULL;
}

/* The note text and the log's signature line of x's checkpoint. */
static int print_note(const struct exchange *x, const ppx_trust *trust,
		      int c2sp)
{
	char note[PPX_NOTE_MAX], line[PPX_NOTE_LINE_MAX], name[PPX_NAME_MAX + 16];
	const Ppx__V1__Envelope *env = x->req->witness->checkpoint;
	const ppx_cert *cert = cert_of(trust, &env->signer_fingerprint);
	size_t len;
	int rc = ppx_note_checkpoint_text(note, sizeof(note), &len,
					  x->cp->agency, x->cp->tree_size,
					  x->cp->root_hash.data);

	if (rc != 0)
		return rc;
	if (!c2sp) {
		printf("checkpoint of %s: size %llu\n", x->cp->agency,
		       (unsigned long long)x->cp->tree_size);
		return 0;
	}
	/* the C2SP line only for --c2sp: it refuses a P-256 log key */
	if (!cert)
		return ppx_error_set(PPX_EUNTRUSTED, "the certificate that "
				     "signed %s's checkpoint is not in the "
				     "trust store", x->cp->agency);
	snprintf(name, sizeof(name), "%s" PPX_NOTE_LOG_SUFFIX, x->cp->agency);
	rc = ppx_note_signature_line(line, sizeof(line), name,
				     PPX_NOTE_TYPE_ED25519, cert, 0,
				     x->req->witness->note_signature.data,
				     x->req->witness->note_signature.len);
	if (rc != 0)
		return rc;
	printf("%s\n%s", note, line);
	return 0;
}

/* A cosignature line of x's reply, if it is of the same checkpoint. */
static int print_cosignature(const struct exchange *x,
			     const Ppx__V1__Checkpoint *of,
			     const ppx_trust *trust, int c2sp)
{
	const Ppx__V1__WitnessReply *r = x->rep->cosignature;
	const ppx_cert *cert = cert_of(trust, &r->signer_fingerprint);
	char line[PPX_NOTE_LINE_MAX], name[PPX_NAME_MAX + 16];
	int rc;

	if (r->result != PPX__V1__WITNESS_RESULT__COSIGNED ||
	    r->tree_size != of->tree_size || r->root_hash.len != PPX_HASH_LEN ||
	    memcmp(r->root_hash.data, of->root_hash.data, PPX_HASH_LEN) != 0)
		return 0;
	if (!cert)
		return ppx_error_set(PPX_EUNTRUSTED, "the certificate of %s's "
				     "cosignature is not in the trust store",
				     r->witness_agency);
	snprintf(name, sizeof(name), "%s" PPX_NOTE_WITNESS_SUFFIX,
		 r->witness_agency);
	rc = ppx_note_signature_line(line, sizeof(line), name,
				     PPX_NOTE_TYPE_COSIGNATURE_V1, cert,
				     r->timestamp, r->signature.data,
				     r->signature.len);
	if (rc == 0 && c2sp)
		fputs(line, stdout);
	else if (rc == 0)
		printf("cosigned by %s at %llu\n", r->witness_agency,
		       (unsigned long long)r->timestamp);
	return rc;
}

/* The directory the daemon holds, judged without dates (NULL: none, or
 * no [federation]); its certificates join `trust`. */
static int held_directory(struct ppx_directory **out,
			  const struct ppx_config *cfg, ppx_trust *trust)
{
	char path[PATH_MAX + 16];
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!cfg->directory_drop[0])
		return 0;
	snprintf(path, sizeof(path), "%s/directory.pb", cfg->log_dir);
	rc = ppx_file_read(&bytes, &len, path, PPX_DIRECTORY_MAX_BYTES);
	if (rc == PPX_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = ppx_directory_parse(out, bytes, len, trust, 0);
	free(bytes);
	for (size_t i = 0; rc == 0 && i < (*out)->n_agencies; i++) {
		const struct ppx_dir_agency *a = &(*out)->agencies[i];

		for (size_t k = 0; rc == 0 && k < a->n_signing; k++)
			rc = ppx_trust_add_cert(trust, a->signing[k]);
	}
	return rc;
}

/* The partners: the [partner] sections, then the directory's agencies
 * (not us, not twice); borrowed names. */
static size_t partner_names(const char **names, size_t cap,
			    const struct ppx_config *cfg,
			    const struct ppx_directory *dir)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_partners && n < cap; i++)
		names[n++] = cfg->partners[i].name;
	for (size_t i = 0; dir && i < dir->n_agencies && n < cap; i++) {
		const char *a = dir->agencies[i].name;

		if (strcmp(a, cfg->agency) != 0 && !ppx_config_partner(cfg, a))
			names[n++] = a;
	}
	return n;
}

/* Our log: the largest checkpoint any partner cosigned, and every
 * partner's cosignature of exactly that one. */
static int ours(const struct ppx_config *cfg,
		const struct ppx_directory *dir, ppx_log *log,
		const ppx_trust *trust, int c2sp)
{
	size_t cap = cfg->n_partners + (dir ? dir->n_agencies : 0) + 1;
	const char **names = calloc(cap, sizeof(*names));
	struct exchange *x = calloc(cap, sizeof(*x));
	size_t best = 0, found = 0, n;
	int rc = 0;

	if (!x || !names) {
		free(names);
		free(x);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	n = partner_names(names, cap, cfg, dir);
	for (size_t i = 0; i < n; i++)
		if (exchange_load(&x[i], log, "witness-cosigned/",
				  names[i]) == 0 &&
		    (!found++ || x[i].cp->tree_size > x[best].cp->tree_size))
			best = i;
	if (!found)
		rc = ppx_error_set(PPX_ENOTFOUND, "no partner has cosigned a "
				   "checkpoint of our log yet");
	if (rc == 0)
		rc = print_note(&x[best], trust, c2sp);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (x[i].rep)
			rc = print_cosignature(&x[i], x[best].cp, trust, c2sp);
	for (size_t i = 0; i < n; i++)
		exchange_clear(&x[i]);
	free(x);
	free(names);
	return rc;
}

/* A partner's log: the newest checkpoint of it we cosigned. */
static int theirs(ppx_log *log, const ppx_trust *trust, const char *agency,
		  int c2sp)
{
	struct exchange x;
	int rc = exchange_load(&x, log, "witness-held/", agency);

	if (rc == PPX_ENOTFOUND)
		return ppx_error_set(rc, "we have cosigned no checkpoint of "
				     "%s's log", agency);
	if (rc == 0)
		rc = print_note(&x, trust, c2sp);
	if (rc == 0)
		rc = print_cosignature(&x, x.cp, trust, c2sp);
	exchange_clear(&x);
	return rc;
}

int cmd_checkpoint(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"c2sp", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	struct ppx_directory *dir = NULL;
	const char *config = NULL;
	struct ppx_config *cfg = NULL;
	ppx_trust *trust = NULL;
	ppx_log *log = NULL;
	int ch, c2sp = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:Ch", longopts, NULL)) != -1) {
		if (ch == 'c')
			config = optarg;
		else if (ch == 'C')
			c2sp = 1;
		else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : PPX_EINVAL;
		}
	}
	if (argc - optind > 1) {
		fputs(usage, stderr);
		return PPX_EINVAL;
	}
	rc = ppx_config_load(&cfg, config_path_default(config));
	if (rc == 0)
		rc = ppx_trust_load(&trust, cfg->ca, cfg->crl, cfg->certs);
	if (rc == 0)
		rc = held_directory(&dir, cfg, trust);
	if (rc == 0)
		rc = ppx_log_open(&log, cfg->log_dir, &ro);
	if (rc == 0)
		rc = optind < argc ? theirs(log, trust, argv[optind], c2sp)
				   : ours(cfg, dir, log, trust, c2sp);
	if (rc != 0)
		fprintf(stderr, "ppx checkpoint: %s\n", ppx_error_last());
	ppx_log_close(log);
	ppx_directory_free(dir);
	ppx_trust_free(trust);
	ppx_config_free(cfg);
	return rc;
}
