/*
 * options.c — the options shared by the commands that read a log.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	if (!p) {
		fprintf(stderr, "ppx: out of memory\n");
		exit(PPX_EXIT_UNAVAILABLE);
	}
	snprintf(p, n, "%s/%s", a, b);
	return p;	/* lives until exit */
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
			o->ca = join(optarg, "ca/ca.crt");
			o->crl = join(optarg, "ca/crl.pem");
			o->certs = join(optarg, "certs");
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
