/*
 * cmd_verify.c — `ppx verify`: recompute a log's hash chain and Merkle tree
 * and check every signature in it, read-only, naming the first sequence
 * number at which anything differs.  Works on a copy and while the daemon
 * is down.  The reading runs in a child process (ppx_log_check_dir()), so
 * that a file damaged in a way that crashes LMDB is reported as damaged;
 * the signatures are checked on every core (--jobs, lib/verify_pool.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client.h"
#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppx/evidence.h"

static const char usage[] =
	"usage: ppx verify --log DIR (--pki DIR | --ca FILE --crl FILE "
	"--certs DIR) [--jobs N] [--json]\n"
	"       ppx verify --bundle FILE [--ca FILE | --pki DIR] [--json]\n"
	"Checks the log in DIR against the federation CA and the known\n"
	"certificates; or, offline, the evidence bundle FILE (ppx prove)\n"
	"against the CA given (without one, against the bundle's own CA,\n"
	"which proves nothing by itself), printing what it proves.\n"
	"--jobs N: check the log's signatures on N threads (default: one\n"
	"per CPU online); the verdict is the same for every N.\n"
	"Exit 0: verified; 1: something differs; 2: usage; 3: cannot read.\n";

static void print_report(const char *dir, const ppx_verify_report *r, int json)
{
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "log", json_object_new_string(dir));
		json_object_object_add(o, "ok", json_object_new_boolean(r->ok));
		json_object_object_add(o, "entries",
				       json_object_new_uint64(r->entries));
		json_object_object_add(o, "signatures",
				       json_object_new_uint64(r->signatures));
		json_object_object_add(o, "checkpoints",
				       json_object_new_uint64(r->checkpoints));
		if (!r->ok) {
			json_object_object_add(o, "first_bad",
					       json_object_new_uint64(r->first_bad));
			json_object_object_add(o, "error",
					       json_object_new_string(
						       ppx_strerror(r->code)));
			json_object_object_add(o, "reason",
					       json_object_new_string(r->reason));
		}
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	if (r->ok)
		printf("%s: verified %llu entries, %llu signatures, %llu "
		       "checkpoints\n",
		       dir, (unsigned long long)r->entries,
		       (unsigned long long)r->signatures,
		       (unsigned long long)r->checkpoints);
	else
		printf("%s: DOES NOT VERIFY at entry %llu: %s\n", dir,
		       (unsigned long long)r->first_bad, r->reason);
}

/* The whole file, at most PPX_EVIDENCE_MAX bytes. */
static int read_bundle(uint8_t **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return ppx_error_set(PPX_EIO, "cannot open %s: %s", path,
				     strerror(errno));
	if (!(buf = malloc(PPX_EVIDENCE_MAX + 1))) {
		fclose(f);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	n = fread(buf, 1, PPX_EVIDENCE_MAX + 1, f);
	if (ferror(f) || n > PPX_EVIDENCE_MAX) {
		fclose(f);
		free(buf);
		return ppx_error_set(PPX_EIO, "cannot read %s, or it is over "
				     "%u bytes", path, PPX_EVIDENCE_MAX);
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static void print_bundle(const char *path, const ppx_evidence_report *r,
			 int json)
{
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "bundle",
				       json_object_new_string(path));
		json_object_object_add(o, "ok", json_object_new_boolean(r->ok));
		json_object_object_add(o, "proves", json_object_new_string(
					       r->text ? r->text : ""));
		if (!r->ok)
			json_object_object_add(
				o, "reason", json_object_new_string(r->reason));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	if (r->text)
		fputs(r->text, stdout);
	if (r->ok)
		printf("%s: VERIFIED\n", path);
	else
		printf("%s: DOES NOT VERIFY: %s\n", path, r->reason);
}

static int verify_bundle(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"ca", required_argument, NULL, 'a'},
		{"pki", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *ca = NULL;
	char ca_buf[4096];
	uint8_t *buf = NULL, *der = NULL;
	size_t len = 0, der_len = 0;
	ppx_evidence_report r;
	int ch, json = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': path = optarg; break;
		case 'a': ca = optarg; break;
		case 'p':
			if ((size_t)snprintf(ca_buf, sizeof(ca_buf),
					     "%s/ca/ca.crt", optarg) >=
			    sizeof(ca_buf)) {
				fprintf(stderr, "ppx verify: --pki path too "
					"long\n");
				return PPX_EXIT_USAGE;
			}
			ca = ca_buf;
			break;
		case 'j': json = 1; break;
		case 'h': fputs(usage, stdout); return PPX_EXIT_OK;
		default: fputs(usage, stderr); return PPX_EXIT_USAGE;
		}
	}
	if (!path || optind != argc) {
		fprintf(stderr, "ppx verify: --bundle FILE, and no "
			"argument\n%s", usage);
		return PPX_EXIT_USAGE;
	}
	if ((rc = read_bundle(&buf, &len, path)) != 0 ||
	    (ca && (rc = ppx_evidence_read_ca(&der, &der_len, ca)) != 0) ||
	    (rc = ppx_evidence_verify(&r, buf, len, der, der_len)) != 0) {
		fprintf(stderr, "ppx verify: %s\n", ppx_error_last());
		free(buf);
		free(der);
		return ppx_exit_code(rc);
	}
	print_bundle(path, &r, json);
	rc = r.ok ? PPX_EXIT_OK : PPX_EXIT_NO;
	ppx_evidence_report_clear(&r);
	free(buf);
	free(der);
	return rc;
}

static int wants_bundle(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--bundle") == 0 ||
		    strncmp(argv[i], "--bundle=", 9) == 0)
			return 1;
	return 0;
}

/* --jobs, or the CPUs online (at most PPX_VERIFY_JOBS_MAX). */
static unsigned jobs_of(const struct log_opts *o)
{
	long n;

	if (o->jobs)
		return o->jobs;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > PPX_VERIFY_JOBS_MAX ? PPX_VERIFY_JOBS_MAX
						   : (unsigned)n;
}

/* One trust store per thread, each loaded from the same files (a store
 * caches verdicts: threads do not share one). */
static int load_trusts(ppx_trust **trusts, unsigned jobs,
		       const struct log_opts *o)
{
	for (unsigned t = 0; t < jobs; t++)
		if (ppx_trust_load(&trusts[t], o->ca, o->crl, o->certs) != 0)
			return -1;
	return 0;
}

static void free_trusts(ppx_trust **trusts, unsigned jobs)
{
	for (unsigned t = 0; t < jobs; t++)
		ppx_trust_free(trusts[t]);
	free(trusts);
}

int cmd_verify(int argc, char **argv)
{
	struct log_opts o;
	ppx_verify_report r;
	ppx_trust **trusts;
	unsigned jobs;
	int rc;

	if (wants_bundle(argc, argv))
		return verify_bundle(argc, argv);
	rc = log_opts_parse(&o, argc, argv, usage);
	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	if (!o.ca || !o.crl) {
		fprintf(stderr, "ppx verify: give --pki DIR or --ca and --crl\n%s",
			usage);
		return PPX_EXIT_USAGE;
	}
	jobs = jobs_of(&o);
	if (!(trusts = calloc(jobs, sizeof(*trusts)))) {
		fprintf(stderr, "ppx verify: out of memory\n");
		return PPX_EXIT_UNAVAILABLE;
	}
	if (load_trusts(trusts, jobs, &o) != 0 ||
	    ppx_log_check_dir_jobs(&r, o.log_dir,
				   (const ppx_trust *const *)trusts,
				   jobs) != 0) {
		fprintf(stderr, "ppx verify: %s\n", ppx_error_last());
		free_trusts(trusts, jobs);
		return PPX_EXIT_UNAVAILABLE;
	}
	print_report(o.log_dir, &r, o.json);
	free_trusts(trusts, jobs);
	return r.ok ? PPX_EXIT_OK : PPX_EXIT_NO;
}
