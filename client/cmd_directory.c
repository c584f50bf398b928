/*
 * cmd_directory.c — `ppx directory`: the federation directory (PROTOCOL.md
 * 13).
 *
 *   ppx directory make SPEC.json --key KEY --cert CERT -o OUT
 *       build a Directory from a JSON description and sign it with the
 *       directory key (ppx-pki directory-sign calls this);
 *   ppx directory show FILE --ca CA [--crl CRL] [--json]
 *       judge a SignedDirectory file as a daemon would, and print it;
 *   ppx directory [--config F] [--json]
 *       the directory in force in the running daemon, and each partner's
 *       standing, endpoint and certificates (cmd_directory_status.c).
 *
 * The spec is local input from the operator and is checked as it is read;
 * the signed result is still judged by every receiver, and `show` judges
 * it here exactly as ppxd does, through ppx_directory_parse().
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "client.h"
#include "directory_cmd.h"
#include "ppx/directory.h"
#include "ppx/error.h"
#include "ppx/file.h"
#include "ppx/pki.h"
#include "ppx/timefmt.h"

#define SPEC_MAX (1024 * 1024)
#define POLICY_MAX PPX_DIRECTORY_BASELINE_MAX

static const char usage[] =
	"usage: ppx directory [--config FILE] [--json]\n"
	"       ppx directory make SPEC.json --key KEY --cert CERT -o OUT\n"
	"       ppx directory show FILE --ca CA [--crl CRL] [--json]\n"
	"The first form shows the directory in force in the running ppxd\n"
	"and each partner's standing, endpoint and certificates.  make signs\n"
	"the directory SPEC.json describes with a directory key (see\n"
	"certs/README.md); show judges a directory file as ppxd would (exit 0:\n"
	"it verifies and is current; 1: refused, with the reason).\n";

/* A whole file, at most `max` bytes, into *out (NUL-terminated). */
static int read_all(char **out, size_t *len, const char *path, size_t max)
{
	uint8_t *buf = NULL;
	int rc = ppx_file_read(&buf, len, path, max);

	*out = (char *)buf;
	return rc;
}

/* `rel` against the spec's directory `base` (unless absolute). */
static int spec_path(char *out, size_t cap, const char *base, const char *rel)
{
	int n = rel[0] == '/' ? snprintf(out, cap, "%s", rel)
			      : snprintf(out, cap, "%s/%s", base, rel);

	if (n < 0 || (size_t)n >= cap)
		return ppx_error_set(PPX_EINVAL, "path too long: %s", rel);
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" as ms since the epoch. */
static int parse_rfc3339(int64_t *out, const char *s)
{
	struct tm tm = {0};
	char back[PPX_TIME_ISO_LEN];
	time_t t;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	ppx_time_iso(back, sizeof(back), (int64_t)t * 1000);
	if (strcmp(back, s) != 0)
		return -1;
	*out = (int64_t)t * 1000;
	return 0;
}

/* The string member `key` of `obj`, or NULL. */
static const char *str_of(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* An array member, or NULL. */
static json_object *array_of(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static int status_value(const char *s)
{
	if (!s)
		return -1;
	for (int i = PPX_AGENCY_ACTIVE; i <= PPX_AGENCY_LEAVING; i++)
		if (strcmp(s, ppx_agency_status_name(i)) == 0)
			return i;
	return -1;
}

/* Read every certificate named in `list` as DER into *out (*n). */
static int spec_certs(ProtobufCBinaryData **out, size_t *n, json_object *list,
		      const char *base, const char *agency, const char *what)
{
	size_t count = list ? json_object_array_length(list) : 0;
	char path[4096];

	*n = 0;
	*out = calloc(count ? count : 1, sizeof(**out));
	if (!*out)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		json_object *v = json_object_array_get_idx(list, i);
		ppx_cert *cert = NULL;
		int rc;

		if (!json_object_is_type(v, json_type_string))
			return ppx_error_set(PPX_EINVAL, "agency %s: %s[%zu] "
					     "must be a file name", agency,
					     what, i);
		rc = spec_path(path, sizeof(path), base,
			       json_object_get_string(v));
		if (rc == 0)
			rc = ppx_cert_load(&cert, path);
		if (rc == 0)
			rc = ppx_cert_der(&(*out)[i].data, &(*out)[i].len,
					  cert);
		ppx_cert_free(cert);
		if (rc != 0)
			return ppx_error_set(rc, "agency %s: %s[%zu]: %s",
					     agency, what, i, ppx_error_last());
		(*n)++;
	}
	return 0;
}

static void spec_agency_free(Ppx__V1__DirectoryAgency *a)
{
	for (size_t i = 0; i < a->n_signing_certificates; i++)
		free(a->signing_certificates[i].data);
	for (size_t i = 0; i < a->n_transport_certificates; i++)
		free(a->transport_certificates[i].data);
	free(a->signing_certificates);
	free(a->transport_certificates);
	free(a->endpoints);
}

/* One agency of the spec.  Strings point into the JSON. */
static int spec_agency(Ppx__V1__DirectoryAgency *a, json_object *obj,
		       const char *base, size_t index)
{
	json_object *eps;
	const char *name = str_of(obj, "name");
	int status = status_value(str_of(obj, "status"));
	int rc;

	ppx__v1__directory_agency__init(a);
	if (!name || !str_of(obj, "type"))
		return ppx_error_set(PPX_EINVAL, "agencies[%zu] needs \"name\" "
				     "and \"type\"", index);
	if (status < 0)
		return ppx_error_set(PPX_EINVAL, "agency %s: \"status\" must be "
				     "active, suspended or leaving", name);
	a->name = (char *)name;
	a->type = (char *)str_of(obj, "type");
	a->display_name = (char *)(str_of(obj, "display_name")
					   ? str_of(obj, "display_name") : "");
	a->status = (Ppx__V1__AgencyStatus)status;
	eps = array_of(obj, "endpoints");
	a->n_endpoints = eps ? json_object_array_length(eps) : 0;
	a->endpoints = calloc(a->n_endpoints ? a->n_endpoints : 1,
			      sizeof(char *));
	if (!a->endpoints)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < a->n_endpoints; i++) {
		json_object *v = json_object_array_get_idx(eps, i);

		if (!json_object_is_type(v, json_type_string))
			return ppx_error_set(PPX_EINVAL, "agency %s: "
					     "endpoints[%zu] must be a string",
					     name, i);
		a->endpoints[i] = (char *)json_object_get_string(v);
	}
	rc = spec_certs(&a->signing_certificates, &a->n_signing_certificates,
			array_of(obj, "signing_certificates"), base, name,
			"signing_certificates");
	if (rc == 0)
		rc = spec_certs(&a->transport_certificates,
				&a->n_transport_certificates,
				array_of(obj, "transport_certificates"), base,
				name, "transport_certificates");
	return rc;
}

/* Serial, validity, baseline policy. */
static int spec_header(Ppx__V1__Directory *d, json_object *spec,
		       const char *base, char **policy)
{
	json_object *v;
	const char *nb = str_of(spec, "not_before"), *na = str_of(spec,
								   "not_after");
	const char *pf = str_of(spec, "baseline_policy_file");
	int64_t now_ms = (int64_t)time(NULL) * 1000, days;
	char path[4096];
	size_t len;

	d->federation = (char *)(str_of(spec, "federation")
					 ? str_of(spec, "federation") : "");
	if (!json_object_object_get_ex(spec, "serial", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 1)
		return ppx_error_set(PPX_EINVAL, "\"serial\" must be a whole "
				     "number from 1");
	d->serial = (uint64_t)json_object_get_int64(v);
	d->issued_ms = now_ms;
	if (json_object_object_get_ex(spec, "valid_days", &v)) {
		days = json_object_is_type(v, json_type_int)
			       ? json_object_get_int64(v) : 0;
		if (days < 1 || days > 36500 || nb || na)
			return ppx_error_set(PPX_EINVAL, "\"valid_days\" must "
					     "be 1 to 36500, without "
					     "not_before/not_after");
		d->not_before_ms = now_ms - 60 * 1000;	/* clocks differ */
		d->not_after_ms = now_ms + days * 86400 * 1000;
	} else if (!nb || !na || parse_rfc3339(&d->not_before_ms, nb) != 0 ||
		   parse_rfc3339(&d->not_after_ms, na) != 0) {
		return ppx_error_set(PPX_EINVAL, "give \"valid_days\", or "
				     "\"not_before\" and \"not_after\" as "
				     "YYYY-MM-DDTHH:MM:SSZ");
	}
	if (!pf)
		return 0;
	if (spec_path(path, sizeof(path), base, pf) != 0 ||
	    read_all(policy, &len, path, POLICY_MAX) != 0)
		return ppx_error_set(PPX_EINVAL, "baseline_policy_file: %s",
				     ppx_error_last());
	d->baseline_policy = *policy;
	return 0;
}

/* The Directory the spec describes, packed into *out. */
static int spec_build(uint8_t **out, size_t *len, json_object *spec,
		      const char *base)
{
	Ppx__V1__Directory d = PPX__V1__DIRECTORY__INIT;
	json_object *list = array_of(spec, "agencies");
	Ppx__V1__DirectoryAgency *agencies = NULL, **ptrs = NULL;
	char *policy = NULL;
	size_t n = list ? json_object_array_length(list) : 0;
	int rc = spec_header(&d, spec, base, &policy);

	*out = NULL;
	if (rc == 0 && !list)
		rc = ppx_error_set(PPX_EINVAL, "\"agencies\" must be a list");
	if (rc == 0) {
		agencies = calloc(n ? n : 1, sizeof(*agencies));
		ptrs = calloc(n ? n : 1, sizeof(*ptrs));
		if (!agencies || !ptrs)
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		ptrs[i] = &agencies[i];
		d.n_agencies = i + 1;
		rc = spec_agency(&agencies[i],
				 json_object_array_get_idx(list, i), base, i);
	}
	d.agencies = ptrs;
	if (rc == 0) {
		*len = ppx__v1__directory__get_packed_size(&d);
		*out = malloc(*len + 1);
		if (!*out)
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
		else
			ppx__v1__directory__pack(&d, *out);
	}
	for (size_t i = 0; i < d.n_agencies; i++)
		spec_agency_free(&agencies[i]);
	free(agencies);
	free(ptrs);
	free(policy);
	return rc;
}

/* Read the spec file and sign the directory it describes into `outfile`. */
static int make_directory(const char *spec_file, const char *key,
			  const char *cert, const char *outfile)
{
	char *text = NULL, path[4096], base[4096];
	size_t len = 0, dir_len = 0, signed_len = 0;
	uint8_t *dir = NULL, *sd = NULL;
	json_object *spec = NULL;
	ppx_signer *signer = NULL;
	int rc = read_all(&text, &len, spec_file, SPEC_MAX);

	snprintf(path, sizeof(path), "%s", spec_file);
	snprintf(base, sizeof(base), "%s", dirname(path));
	if (rc == 0 && !(spec = json_tokener_parse(text)))
		rc = ppx_error_set(PPX_EINVAL, "%s is not JSON", spec_file);
	if (rc == 0 && !json_object_is_type(spec, json_type_object))
		rc = ppx_error_set(PPX_EINVAL, "%s: expected a JSON object",
				   spec_file);
	if (rc == 0)
		rc = spec_build(&dir, &dir_len, spec, base);
	if (rc == 0)
		rc = ppx_signer_load(&signer, key, cert);
	if (rc == 0)
		rc = ppx_directory_sign(&sd, &signed_len, dir, dir_len, signer);
	if (rc == 0)
		rc = ppx_file_write_atomic(outfile, sd, signed_len, 0644);
	ppx_signer_free(signer);
	json_object_put(spec);
	free(text);
	free(dir);
	free(sd);
	return rc;
}

static int dir_make(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"cert", required_argument, NULL, 'c'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *key = NULL, *cert = NULL, *out = NULL;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (ch == 'k')
			key = optarg;
		else if (ch == 'c')
			cert = optarg;
		else if (ch == 'o')
			out = optarg;
		else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? PPX_EXIT_OK : PPX_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !key || !cert || !out) {
		fprintf(stderr, "ppx directory make: needs SPEC.json, --key, "
			"--cert and -o\n%s", usage);
		return PPX_EXIT_USAGE;
	}
	rc = make_directory(argv[optind], key, cert, out);
	if (rc != 0) {
		fprintf(stderr, "ppx directory make: %s\n", ppx_error_last());
		return rc == PPX_EINVAL ? PPX_EXIT_USAGE : PPX_EXIT_UNAVAILABLE;
	}
	fprintf(stderr, "ppx directory make: wrote %s\n", out);
	return PPX_EXIT_OK;
}

/* The CRL beside the CA file (DIR/ca/crl.pem for DIR/ca/ca.crt). */
static void crl_beside(char *out, size_t cap, const char *ca)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", ca);
	snprintf(out, cap, "%s/crl.pem", dirname(buf));
}

static int dir_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ca", required_argument, NULL, 'a'},
		{"crl", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ca = NULL, *crl = NULL;
	char crl_buf[4096], *bytes = NULL;
	struct ppx_directory *dir = NULL;
	ppx_trust *trust = NULL;
	size_t len = 0;
	int ch, json = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'a')
			ca = optarg;
		else if (ch == 'r')
			crl = optarg;
		else if (ch == 'j')
			json = 1;
		else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? PPX_EXIT_OK : PPX_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !ca) {
		fprintf(stderr, "ppx directory show: needs FILE and --ca\n%s",
			usage);
		return PPX_EXIT_USAGE;
	}
	if (!crl) {
		crl_beside(crl_buf, sizeof(crl_buf), ca);
		crl = crl_buf;
	}
	rc = ppx_trust_load(&trust, ca, crl, NULL);
	if (rc == 0)
		rc = read_all(&bytes, &len, argv[optind],
			      PPX_DIRECTORY_MAX_BYTES);
	if (rc != 0) {
		fprintf(stderr, "ppx directory show: %s\n", ppx_error_last());
		ppx_trust_free(trust);
		return PPX_EXIT_UNAVAILABLE;
	}
	rc = ppx_directory_parse(&dir, (const uint8_t *)bytes, len, trust,
				 time(NULL));
	if (rc != 0) {
		fprintf(stderr, "ppx directory show: %s: refused: %s\n",
			argv[optind], ppx_error_last());
		rc = rc == PPX_ENOMEM ? PPX_EXIT_UNAVAILABLE : PPX_EXIT_NO;
	} else {
		directory_print(dir, trust, json);
	}
	ppx_directory_free(dir);
	ppx_trust_free(trust);
	free(bytes);
	return rc;
}

int cmd_directory(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "make") == 0)
		return dir_make(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return dir_show(argc - 1, argv + 1);
	return directory_in_force(argc, argv);
}
