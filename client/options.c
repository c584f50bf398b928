/*
 * options.c — the options shared by the commands that read a log.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* "dir/name" into buf; the caller's pointer to it, or NULL if too long. */
static const char *join(char *buf, size_t cap, const char *dir,
			const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
		return NULL;
	return buf;
}

int log_opts_parse(struct log_opts *o, int argc, char **argv,
		   const char *usage)
{
	static const struct option longopts[] = {
		{"log", required_argument, NULL, 'l'},
		{"ca", required_argument, NULL, 'a'},
		{"crl", required_argument, NULL, 'r'},
		{"certs", required_argument, NULL, 'c'},
		{"pki", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': o->log_dir = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'r': o->crl = optarg; break;
		case 'c': o->certs = optarg; break;
		case 'j': o->json = 1; break;
		case 'p':
			o->ca = join(o->ca_buf, sizeof(o->ca_buf), optarg,
				     "ca/ca.crt");
			o->crl = join(o->crl_buf, sizeof(o->crl_buf), optarg,
				      "ca/crl.pem");
			o->certs = join(o->certs_buf, sizeof(o->certs_buf),
					optarg, "certs");
			if (!o->ca || !o->crl || !o->certs) {
				fprintf(stderr, "ppx: --pki path too long\n");
				return PPX_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return PPX_EXIT_USAGE;
		}
	}
	if (optind != argc || !o->log_dir) {
		fprintf(stderr, "ppx %s: %s\n%s", argv[0],
			o->log_dir ? "unexpected argument" : "--log DIR is required",
			usage);
		return PPX_EXIT_USAGE;
	}
	return 0;
}
