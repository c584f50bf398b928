/*
 * cmd_directory_status.c — printing a federation directory: one judged
 * from a file (`ppx directory show`) and the one in force in the running
 * daemon with each partner's standing (`ppx directory`), as a table or as
 * JSON; and the line `ppx status` gives it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "client.h"
#include "directory_cmd.h"
#include "ppx/error.h"
#include "ppx/json-c.h"
#include "ppx/timefmt.h"

static const char usage[] =
	"usage: ppx directory [--config FILE] [--json]\n"
	"The directory in force in the running ppxd (serial, federation,\n"
	"validity, age, signer, where it came from, the CRL in force) and each\n"
	"partner's type, standing, endpoint and certificates with their dates.\n"
	"See also: ppx directory make, ppx directory show (ppx directory "
	"--help).\n";

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Whole days from now to `ms` (negative: past). */
static long long days_left(int64_t ms)
{
	long long d = (long long)ms - (long long)time(NULL) * 1000;

	return d >= 0 ? d / 86400000 : -((-d + 86399999) / 86400000);
}

/* One certificate of a directory as text or a JSON object. */
static void cert_print(const ppx_cert *cert, const char *role,
		       json_object *list)
{
	time_t nb = 0, na = 0;
	char serial[80], fp[2 * PPX_FINGERPRINT_LEN + 1], b[32], a[32];
	uint8_t raw[PPX_FINGERPRINT_LEN];
	json_object *o;

	ppx_cert_dates(cert, &nb, &na);
	ppx_cert_serial_hex(cert, serial, sizeof(serial));
	if (ppx_cert_fingerprint(cert, raw) != 0)
		memset(raw, 0, sizeof(raw));
	hex(fp, raw, sizeof(raw));
	ppx_time_iso(b, sizeof(b), (int64_t)nb * 1000);
	ppx_time_iso(a, sizeof(a), (int64_t)na * 1000);
	if (!list) {
		printf("    %-9s %.16s  serial %-10s %s to %s  %lld days left\n",
		       role, fp, serial, b, a, days_left((int64_t)na * 1000));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "role", json_object_new_string(role));
	json_object_object_add(o, "fingerprint", json_object_new_string(fp));
	json_object_object_add(o, "serial", json_object_new_string(serial));
	json_object_object_add(o, "notBefore", json_object_new_string(b));
	json_object_object_add(o, "notAfter", json_object_new_string(a));
	json_object_object_add(o, "daysLeft",
			       json_object_new_int64(days_left((int64_t)na *
							       1000)));
	json_object_array_add(list, o);
}

static json_object *agency_json(const struct ppx_dir_agency *a)
{
	json_object *o = json_object_new_object(), *eps =
		json_object_new_array(), *certs = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(a->name));
	json_object_object_add(o, "type", json_object_new_string(a->type));
	json_object_object_add(o, "displayName",
			       json_object_new_string(a->display_name));
	json_object_object_add(o, "status", json_object_new_string(
			       ppx_agency_status_name(a->status)));
	for (size_t i = 0; i < a->n_endpoints; i++)
		json_object_array_add(eps,
				      json_object_new_string(a->endpoints[i]));
	json_object_object_add(o, "endpoints", eps);
	for (size_t i = 0; i < a->n_signing; i++)
		cert_print(a->signing[i], "signing", certs);
	for (size_t i = 0; i < a->n_transport; i++)
		cert_print(a->transport[i], "transport", certs);
	json_object_object_add(o, "certificates", certs);
	return o;
}

static void print_json(const struct ppx_directory *dir)
{
	json_object *o = json_object_new_object(), *list =
		json_object_new_array();
	char t[32], sha[65];

	json_object_object_add(o, "federation",
			       json_object_new_string(dir->federation));
	json_object_object_add(o, "serial",
			       json_object_new_uint64(dir->serial));
	ppx_time_iso(t, sizeof(t), dir->issued_ms);
	json_object_object_add(o, "issued", json_object_new_string(t));
	ppx_time_iso(t, sizeof(t), dir->not_before_ms);
	json_object_object_add(o, "notBefore", json_object_new_string(t));
	ppx_time_iso(t, sizeof(t), dir->not_after_ms);
	json_object_object_add(o, "notAfter", json_object_new_string(t));
	json_object_object_add(o, "signer", json_object_new_string(dir->signer));
	hex(sha, dir->sha256, sizeof(dir->sha256));
	json_object_object_add(o, "sha256", json_object_new_string(sha));
	json_object_object_add(o, "baselinePolicy",
			       json_object_new_string(dir->baseline_policy));
	for (size_t i = 0; i < dir->n_agencies; i++)
		json_object_array_add(list, agency_json(&dir->agencies[i]));
	json_object_object_add(o, "agencies", list);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void directory_print(const struct ppx_directory *dir, const ppx_trust *trust,
		     int json)
{
	char issued[32], nb[32], na[32], sha[65];

	(void)trust;
	if (json) {
		print_json(dir);
		return;
	}
	ppx_time_iso(issued, sizeof(issued), dir->issued_ms);
	ppx_time_iso(nb, sizeof(nb), dir->not_before_ms);
	ppx_time_iso(na, sizeof(na), dir->not_after_ms);
	hex(sha, dir->sha256, sizeof(dir->sha256));
	printf("directory %s serial %llu: verifies and is current\n",
	       dir->federation, (unsigned long long)dir->serial);
	printf("  issued %s, valid %s to %s (%lld days left)\n", issued, nb,
	       na, days_left(dir->not_after_ms));
	printf("  signer %s\n  sha256 %s\n", dir->signer, sha);
	printf("  baseline policy: %s\n",
	       dir->baseline_policy[0] ? "yes" : "none");
	printf("%-24s %-18s %-10s %s\n", "agency", "type", "status",
	       "endpoints");
	for (size_t i = 0; i < dir->n_agencies; i++) {
		const struct ppx_dir_agency *a = &dir->agencies[i];

		printf("%-24s %-18s %-10s", a->name, a->type,
		       ppx_agency_status_name(a->status));
		for (size_t k = 0; k < a->n_endpoints; k++)
			printf(" %s", a->endpoints[k]);
		printf("\n");
		for (size_t k = 0; k < a->n_signing; k++)
			cert_print(a->signing[k], "signing", NULL);
		for (size_t k = 0; k < a->n_transport; k++)
			cert_print(a->transport[k], "transport", NULL);
	}
}

/* "12 s", "5 min", "3 h", "2 days" since `ms`. */
static void age_text(char *out, size_t cap, int64_t ms)
{
	long long s = ((long long)time(NULL) * 1000 - ms) / 1000;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, cap, "%lld s", s);
	else if (s < 7200)
		snprintf(out, cap, "%lld min", s / 60);
	else if (s < 172800)
		snprintf(out, cap, "%lld h", s / 3600);
	else
		snprintf(out, cap, "%lld days", s / 86400);
}

void directory_status_line(char *out, size_t cap,
			   const Ppx__V1__DirectoryStatus *d)
{
	char age[32], until[32];

	if (!d) {
		snprintf(out, cap, "directory: none in force");
		return;
	}
	age_text(age, sizeof(age), d->taken_ms);
	ppx_time_iso(until, sizeof(until), d->not_after_ms);
	snprintf(out, cap, "directory %s serial %llu, taken %s ago from %s, "
		 "valid until %s%s", d->federation,
		 (unsigned long long)d->serial, age,
		 strcmp(d->source, "held") == 0 ? "the held copy" : d->source,
		 until,
		 d->not_after_ms <= (int64_t)time(NULL) * 1000 ? " (EXPIRED)"
							       : "");
}

/* The certificates of one partner, under its line. */
static void print_partner_certs(const Ppx__V1__PartnerStatus *p)
{
	for (size_t i = 0; i < p->n_certificates; i++) {
		const Ppx__V1__CertStatus *c = p->certificates[i];
		char fp[2 * PPX_FINGERPRINT_LEN + 1] = "", b[32], a[32];

		if (c->fingerprint.len == PPX_FINGERPRINT_LEN)
			hex(fp, c->fingerprint.data, c->fingerprint.len);
		ppx_time_iso(b, sizeof(b), c->not_before_ms);
		ppx_time_iso(a, sizeof(a), c->not_after_ms);
		printf("    %-9s %.16s  serial %-10s %s to %s  %lld days "
		       "left%s\n", c->role, fp, c->serial, b, a,
		       days_left(c->not_after_ms), c->in_use ? "  in use" : "");
	}
}

static void print_in_force(const Ppx__V1__StatusReply *s)
{
	const Ppx__V1__DirectoryStatus *d = s->directory;
	char line[512], t[32];

	directory_status_line(line, sizeof(line), d);
	printf("%s\n", line);
	if (d) {
		char sha[65] = "";

		if (d->sha256.len == 32)
			hex(sha, d->sha256.data, 32);
		ppx_time_iso(t, sizeof(t), d->issued_ms);
		printf("  issued %s, %u agencies, signer %s\n  sha256 %s, "
		       "log entry %llu\n", t, d->agencies, d->signer, sha,
		       (unsigned long long)d->log_seq);
		ppx_time_iso(t, sizeof(t), d->crl_next_update_ms);
		printf("  CRL number %llu, next update %s, from %s\n",
		       (unsigned long long)d->crl_number, t,
		       d->crl_source[0] ? d->crl_source : "-");
	}
	printf("%-24s %-18s %-12s %s\n", "partner", "type", "standing",
	       "endpoint");
	for (size_t i = 0; i < s->n_partners; i++) {
		const Ppx__V1__PartnerStatus *p = s->partners[i];

		printf("%-24s %-18s %-12s %s\n", p->agency,
		       p->type[0] ? p->type : "-",
		       p->standing[0] ? p->standing : "-",
		       p->endpoint[0] ? p->endpoint : "-");
		print_partner_certs(p);
	}
}

/* --json: the directory status and the partners' parts of StatusReply,
 * as proto3 JSON, with what the table works out added: the directory's
 * age (ageS) and each certificate's daysLeft. */
static void print_in_force_json(const Ppx__V1__StatusReply *s)
{
	Ppx__V1__StatusReply only = PPX__V1__STATUS_REPLY__INIT;
	json_object *o = NULL, *dir, *partners, *certs;

	only.agency = s->agency;
	only.directory = s->directory;
	only.n_partners = s->n_partners;
	only.partners = s->partners;
	if (ppx_json_from_message(&o, &only.base) != 0) {
		fprintf(stderr, "ppx directory: %s\n", ppx_error_last());
		return;
	}
	if (s->directory && json_object_object_get_ex(o, "directory", &dir))
		json_object_object_add(dir, "ageS", json_object_new_int64(
			((int64_t)time(NULL) * 1000 - s->directory->taken_ms) /
			1000));
	for (size_t i = 0; json_object_object_get_ex(o, "partners", &partners)
			   && i < s->n_partners; i++) {
		json_object *p = json_object_array_get_idx(partners, i);

		if (!json_object_object_get_ex(p, "certificates", &certs))
			continue;
		for (size_t k = 0; k < s->partners[i]->n_certificates; k++)
			json_object_object_add(
				json_object_array_get_idx(certs, k),
				"daysLeft", json_object_new_int64(days_left(
					s->partners[i]->certificates[k]
						->not_after_ms)));
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int directory_in_force(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	Ppx__V1__ControlReply *reply = NULL;
	const char *config = NULL;
	int ch, json = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			config = optarg;
		else if (ch == 'j')
			json = 1;
		else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? PPX_EXIT_OK : PPX_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ppx directory: unknown argument '%s'\n%s",
			argv[optind], usage);
		return PPX_EXIT_USAGE;
	}
	rc = ctl_status(config_path_default(config), &reply, "directory");
	if (rc != 0)
		return rc;
	if (json)
		print_in_force_json(reply->status);
	else
		print_in_force(reply->status);
	ppx__v1__control_reply__free_unpacked(reply, NULL);
	return PPX_EXIT_OK;
}
