/*
 * cmd_prove.c — `ppx prove [AGENCY/]ID` and `ppx prove --seq N`: an
 * evidence bundle of one message, or of one entry of the log, written to
 * a file (docs/EVIDENCE.md).
 *
 * Like `ppx show` it reads the log directly, read-only, and needs no
 * daemon.  The message is named as `ppx show` names it (msgref.c); the
 * bundle is made by ppx_evidence_prove_message() or
 * ppx_evidence_prove_entry() from the log, the known certificates, the
 * CRL and the CA of the daemon's configuration (or --pki, or --ca, --crl
 * and --certs).  `ppx verify --bundle FILE` checks what it writes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "logread.h"
#include "ppx/config.h"
#include "ppx/error.h"
#include "ppx/evidence.h"

static const char usage[] =
	"usage: ppx prove ([AGENCY/]ID | --seq N) [-o FILE]\n"
	"                 [--log DIR | --config FILE]\n"
	"                 [--pki DIR | --ca FILE --crl FILE --certs DIR]\n"
	"Writes an evidence bundle: message ID (as ppx show names it) with\n"
	"every receipt about it, the proof of its recording in this log and,\n"
	"from the receipts, in the partner's, with the cosignatures held, the\n"
	"certificates, the CRL and the CA; or with --seq, entry N of this log\n"
	"proven against a signed checkpoint.  ppx verify --bundle FILE checks\n"
	"it offline.  Without -o the bundle goes to standard output (not a\n"
	"terminal).  The certificates, CRL and CA are those of the daemon's\n"
	"configuration unless --pki or --ca, --crl and --certs are given.\n"
	"Exit 0: written; 1: no such message or entry, or nothing signed\n"
	"covers it yet; 2: usage; 3: cannot read the log or write the file.\n"
	LR_WHERE_HELP;

struct prove_opts {
	struct lr_opts lr;	/* log_dir, config, args: for logread */
	const char *out;
	const char *ca, *crl, *certs;
	int has_seq;
	uint64_t seq;
	char ca_buf[4096], crl_buf[4096], certs_buf[4096];
	struct ppx_config *cfg;	/* when the PKI comes from it */
};

static int pki_dir(struct prove_opts *o, const char *dir)
{
	if ((size_t)snprintf(o->ca_buf, sizeof(o->ca_buf), "%s/ca/ca.crt",
			     dir) >= sizeof(o->ca_buf) ||
	    (size_t)snprintf(o->crl_buf, sizeof(o->crl_buf), "%s/ca/crl.pem",
			     dir) >= sizeof(o->crl_buf) ||
	    (size_t)snprintf(o->certs_buf, sizeof(o->certs_buf), "%s/certs",
			     dir) >= sizeof(o->certs_buf)) {
		fprintf(stderr, "ppx prove: --pki path too long\n");
		return PPX_EINVAL;
	}
	o->ca = o->ca_buf;
	o->crl = o->crl_buf;
	o->certs = o->certs_buf;
	return 0;
}

static int parse_seq(struct prove_opts *o, const char *s)
{
	char *end;

	errno = 0;
	o->seq = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "ppx prove: --seq takes an entry number, not "
			"'%s'\n", s);
		return PPX_EINVAL;
	}
	o->has_seq = 1;
	return 0;
}

static int parse(struct prove_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"log", required_argument, NULL, 'l'},
		{"config", required_argument, NULL, 'C'},
		{"pki", required_argument, NULL, 'p'},
		{"ca", required_argument, NULL, 'a'},
		{"crl", required_argument, NULL, 'r'},
		{"certs", required_argument, NULL, 'c'},
		{"seq", required_argument, NULL, 's'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch, rc = 0;

	optind = 1;
	while (rc == 0 &&
	       (ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': o->lr.log_dir = optarg; break;
		case 'C': o->lr.config = optarg; break;
		case 'p': rc = pki_dir(o, optarg); break;
		case 'a': o->ca = optarg; break;
		case 'r': o->crl = optarg; break;
		case 'c': o->certs = optarg; break;
		case 's': rc = parse_seq(o, optarg); break;
		case 'o': o->out = optarg; break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return PPX_EINVAL;
		}
	}
	if (rc != 0)
		return rc;
	if (argc - optind != (o->has_seq ? 0 : 1)) {
		fprintf(stderr, "ppx prove: give one message ID, or --seq "
			"N\n%s", usage);
		return PPX_EINVAL;
	}
	if (!o->has_seq)
		o->lr.args[o->lr.n_args++] = argv[optind];
	return 0;
}

/* --ca, --crl and --certs, else the daemon configuration's [pki]. */
static int pki_paths(struct prove_opts *o)
{
	int rc;

	if (o->ca && o->crl && o->certs)
		return 0;
	if (o->ca || o->crl || o->certs) {
		fprintf(stderr, "ppx prove: give --ca, --crl and --certs "
			"together (or --pki DIR)\n");
		return PPX_EINVAL;
	}
	if ((rc = ppx_config_load(&o->cfg,
				  config_path_default(o->lr.config))) != 0) {
		fprintf(stderr, "ppx prove: %s; or give --pki DIR\n",
			ppx_error_last());
		return PPX_EINVAL;
	}
	o->ca = o->cfg->ca;
	o->crl = o->cfg->crl;
	o->certs = o->cfg->certs;
	return 0;
}

/* The message the reference names: its id, and its sender unless ours. */
static int pick(logread *lr, const char *arg, uint8_t id[PPX_MESSAGE_ID_LEN],
		char sender[PPX_NAME_MAX], int *ours)
{
	struct lr_ref *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if ((rc = lr_ref_resolve(r, lr, arg)) == 0 && r->n != 1) {
		rc = r->n ? PPX_EINVAL : PPX_ENOTFOUND;
		ppx_error_set(rc, r->n ? "%s is ambiguous: name it as AGENCY/ID"
				       : "message %s is not in log %s", arg,
			      logread_dir(lr));
		if (r->n > 1)
			lr_ref_list(stderr, r);
	}
	if (rc == 0) {
		memcpy(id, r->m[0].id, PPX_MESSAGE_ID_LEN);
		*ours = r->m[0].ours;
		snprintf(sender, PPX_NAME_MAX, "%s", r->m[0].sender);
	}
	free(r);
	return rc;
}

static int write_out(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	int ok;

	if (!f)
		return ppx_error_set(PPX_EIO, "cannot write %s: %s", path,
				     strerror(errno));
	ok = fwrite(buf, 1, len, f) == len;
	ok = (path ? fclose(f) : fflush(f)) == 0 && ok;
	if (!ok)
		return ppx_error_set(PPX_EIO, "cannot write %s",
				     path ? path : "standard output");
	return 0;
}

static int prove(struct prove_opts *o, uint8_t **buf, size_t *len)
{
	struct ppx_evidence_pki pki = {.ca_file = o->ca, .crl_file = o->crl};
	char sender[PPX_NAME_MAX];
	uint8_t id[PPX_MESSAGE_ID_LEN];
	ppx_trust *trust = NULL;
	logread *lr = NULL;
	int rc, ours = 0;

	o->lr.cmd = "prove";
	if ((rc = ppx_trust_load(&trust, o->ca, o->crl, o->certs)) != 0)
		return rc;
	pki.trust = trust;
	if ((rc = logread_open(&lr, &o->lr)) == 0 && !o->has_seq)
		rc = pick(lr, o->lr.args[0], id, sender, &ours);
	if (rc == 0 && o->has_seq)
		rc = ppx_evidence_prove_entry(buf, len, logread_log(lr), &pki,
					      o->seq);
	else if (rc == 0)
		rc = ppx_evidence_prove_message(buf, len, logread_log(lr), &pki,
						ours ? NULL : sender, id);
	logread_close(lr);
	ppx_trust_free(trust);
	return rc;
}

int cmd_prove(int argc, char **argv)
{
	struct prove_opts *o = calloc(1, sizeof(*o));
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!o)
		return lr_fail("prove", ppx_error_set(PPX_ENOMEM, "out of "
						      "memory"));
	rc = parse(o, argc, argv);
	if (rc == 0)
		rc = pki_paths(o);
	if (rc == 0 && !o->out && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ppx prove: the bundle is binary: give -o FILE "
			"or redirect standard output\n");
		rc = PPX_EINVAL;
	}
	if (rc == 1 || rc == PPX_EINVAL) {
		ppx_config_free(o->cfg);
		free(o);
		return rc == 1 ? PPX_EXIT_OK : PPX_EXIT_USAGE;
	}
	if (rc == 0 && (rc = prove(o, &buf, &len)) == 0)
		rc = write_out(o->out, buf, len);
	if (rc == 0 && o->out)
		fprintf(stderr, "ppx prove: wrote %zu bytes to %s\n", len,
			o->out);
	else if (rc != 0)
		fprintf(stderr, "ppx prove: %s\n", ppx_error_last());
	free(buf);
	ppx_config_free(o->cfg);
	free(o);
	return rc == PPX_ENOTFOUND ? PPX_EXIT_NO : ppx_exit_code(rc);
}
