/*
 * cmd_verify.c — `ppx verify`: recompute a log's hash chain and Merkle tree
 * and check every signature in it, read-only, naming the first sequence
 * number at which anything differs.  Works on a copy and while the daemon
 * is down.  The reading runs in a child process (ppx_log_check_dir()), so
 * that a file damaged in a way that crashes LMDB is reported as damaged.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "client.h"
#include "ppx/checkpoint.h"
#include "ppx/error.h"

static const char usage[] =
	"usage: ppx verify --log DIR (--pki DIR | --ca FILE --crl FILE "
	"--certs DIR) [--json]\n"
	"Checks the log in DIR against the federation CA and the known\n"
	"certificates.  Exit 0: verified; 1: something differs; 3: cannot read.\n";

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

int cmd_verify(int argc, char **argv)
{
	struct log_opts o;
	ppx_verify_report r;
	ppx_trust *trust = NULL;
	int rc = log_opts_parse(&o, argc, argv, usage);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	if (!o.ca || !o.crl) {
		fprintf(stderr, "ppx verify: give --pki DIR or --ca and --crl\n%s",
			usage);
		return PPX_EXIT_USAGE;
	}
	if (ppx_trust_load(&trust, o.ca, o.crl, o.certs) != 0 ||
	    ppx_log_check_dir(&r, o.log_dir, trust) != 0) {
		fprintf(stderr, "ppx verify: %s\n", ppx_error_last());
		ppx_trust_free(trust);
		return PPX_EXIT_UNAVAILABLE;
	}
	print_report(o.log_dir, &r, o.json);
	ppx_trust_free(trust);
	return r.ok ? PPX_EXIT_OK : PPX_EXIT_NO;
}
