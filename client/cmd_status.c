/*
 * cmd_status.c — `ppx status`: the daemon's partners, link state, outbox
 * depth, last receipt, the frames it refused, by reason, and its durable
 * hooks (docs/HOOKS.md): how far each got and whether it is stuck; with
 * a federation directory in force, one line for it and each partner's
 * standing (PROTOCOL.md 13.4; `ppx directory` has the detail).  Its own
 * certificates (signing, transport, the CA's, the directory signer's)
 * with the days each has left, the CRL's nextUpdate, and the expiry
 * warnings in force (daemon/expiry.c) come first: they are what an
 * operator must act on before anything breaks.
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
#include "ppx/json.h"
#include "ppx/names.h"
#include "ppx/timefmt.h"

static const char usage[] =
	"usage: ppx status [--config FILE] [--json]\n"
	"Shows each partner (link up or down, messages waiting, last\n"
	"receipt), the counts of refused frames by reason, and each hook\n"
	"(its cursor, entries behind, and STUCK with the last error), with\n"
	"the entries it set aside (QUARANTINED: see ppx hook), and the\n"
	"witnessing of each partner: its checkpoint we hold, ours it\n"
	"cosigned, and ALARM when its log did not extend what we cosigned.\n"
	"With a federation directory in force (ppx directory), one line\n"
	"names it, and each partner's standing is shown under it.\n"
	"Before all that: the daemon's own certificates with the days each\n"
	"has left, the CRL's nextUpdate, and a WARNING line for each\n"
	"certificate or CRL within its expiry warning (90, 30, 7 days; the\n"
	"CRL: 3 and 1 day).\n";

const char *config_path_default(const char *given)
{
	const char *env = getenv("PPX_CONFIG");

	return given ? given : env ? env : "/etc/ppx/ppxd.conf";
}

/* One line per entry the hook set aside, oldest first. */
static void print_quarantine(const Ppx__V1__HookStatus *h)
{
	for (size_t i = 0; i < h->n_quarantined; i++) {
		const Ppx__V1__HookQuarantined *q = h->quarantined[i];
		char when[32] = "-";

		if (q->since_ms)
			ppx_time_iso(when, sizeof(when), q->since_ms);
		printf("hook %-20s QUARANTINED entry %-8llu since %s: %s\n",
		       h->name, (unsigned long long)q->seq, when,
		       q->last_error);
	}
}

/* One line per hook: "hook NAME next N behind N delivered N ok|...",
 * then one per entry it set aside. */
static void print_hook(const Ppx__V1__HookStatus *h)
{
	char state[64] = "ok";
	long long wait = (long long)h->next_retry_ms -
			 (long long)time(NULL) * 1000;

	if (h->failures)
		snprintf(state, sizeof(state), "%s (%u failures, next try in "
			 "%lld s)", h->stuck ? "STUCK" : "failing", h->failures,
			 wait > 0 ? (wait + 999) / 1000 : 0);
	else if (h->running)
		snprintf(state, sizeof(state), "running");
	printf("hook %-20s next %-8llu behind %-8llu delivered %-8llu %s%s%s\n",
	       h->name, (unsigned long long)h->next_seq,
	       (unsigned long long)h->behind,
	       (unsigned long long)h->delivered, state,
	       h->last_error[0] ? ": " : "", h->last_error);
	print_quarantine(h);
}

/* A partner's budgets, under its line when there is something to say:
 * refusals in the window, log bytes this hour of its quota, a block. */
static void print_budget(const Ppx__V1__PartnerStatus *p)
{
	char until[32] = "";

	if (!p->refusals_window && !p->log_bytes_hour && !p->blocked_episodes)
		return;
	if (p->blocked_until_ms)
		ppx_time_iso(until, sizeof(until),
			     p->blocked_until_ms);
	printf("  %-22s refusals %llu in window, log %llu of %llu bytes this "
	       "hour, %u blocks%s%s\n", "", (unsigned long long)p->refusals_window,
	       (unsigned long long)p->log_bytes_hour,
	       (unsigned long long)p->log_quota_bytes_hour,
	       p->blocked_episodes, until[0] ? ", BLOCKED until " : "", until);
}

/* A partner's standing in the directory in force, under its line when
 * there is one ("configured": no directory, nothing to add). */
static void print_standing(const Ppx__V1__PartnerStatus *p)
{
	if (!p->standing[0] || strcmp(p->standing, "configured") == 0)
		return;
	printf("  %-22s %s%s%s%s%s\n", "", p->standing,
	       p->type[0] ? ", " : "", p->type,
	       p->endpoint[0] ? ", at " : "", p->endpoint);
}

/* "N entries, T s ago", or "none" (0: never). */
static void witness_point(char *out, size_t cap, uint64_t size, int64_t ms)
{
	long long age = (long long)time(NULL) * 1000 - ms;

	if (!ms)
		snprintf(out, cap, "none");
	else
		snprintf(out, cap, "%llu (%llds ago)", (unsigned long long)size,
			 age > 0 ? age / 1000 : 0);
}

/* Witnessing, one line per partner: its checkpoint we hold, ours it
 * cosigned, and an ALARM with what it was about. */
static void print_witness(const Ppx__V1__WitnessStatus *w)
{
	char held[64], ours[64], when[32] = "-";

	witness_point(held, sizeof(held), w->held_size, w->held_ms);
	witness_point(ours, sizeof(ours), w->cosigned_size, w->cosigned_ms);
	printf("witness %-20s its log held %-18s ours cosigned %-18s %s\n",
	       w->agency, held, ours, w->alarm ? "ALARM" : "ok");
	if (w->alarm) {
		ppx_time_iso(when, sizeof(when), w->alarm_ms);
		printf("  ALARM since %s: %s\n", when, w->alarm_detail);
	}
	if (w->restored_ms) {
		ppx_time_iso(when, sizeof(when), w->restored_ms);
		printf("  its log was restored from a backup at %s, to %llu "
		       "entries\n", when,
		       (unsigned long long)w->restored_size);
	}
}

/* Days from now to `ms`, rounded down; negative once past. */
static long long days_left(int64_t ms)
{
	int64_t left = ms - (int64_t)time(NULL) * 1000;

	return (long long)(left >= 0 ? left / 86400000
				     : -((-left + 86399999) / 86400000));
}

/* Our own certificates, the CRL, then the warnings in force. */
static void print_expiry(const Ppx__V1__StatusReply *s)
{
	for (size_t i = 0; i < s->n_certificates; i++) {
		const Ppx__V1__CertStatus *c = s->certificates[i];
		char when[PPX_TIME_ISO_LEN];

		ppx_time_iso(when, sizeof(when), c->not_after_ms);
		printf("certificate %-10s serial %-20s expires %s (%lld days "
		       "left)\n", c->role, c->serial, when,
		       days_left(c->not_after_ms));
	}
	if (s->crl_next_update_ms) {
		char when[PPX_TIME_ISO_LEN];

		ppx_time_iso(when, sizeof(when), s->crl_next_update_ms);
		printf("CRL next update %s (%lld days left)\n", when,
		       days_left(s->crl_next_update_ms));
	}
	for (size_t i = 0; i < s->n_warnings; i++)
		printf("WARNING: %s\n", s->warnings[i]);
}

static void print_text(const Ppx__V1__StatusReply *s)
{
	printf("%s: %llu log entries\n", s->agency,
	       (unsigned long long)s->log_size);
	if (!s->listening)
		printf("NOT LISTENING for partners: %s\n", s->listen_error);
	if (s->restored_ms) {
		char when[PPX_TIME_ISO_LEN];

		ppx_time_iso(when, sizeof(when), s->restored_ms);
		printf("restored from a backup at %s\n", when);
	}
	if (s->log_check && strcmp(s->log_check->full, "FAILED") == 0)
		printf("LOG DAMAGED: the full check found entry %llu: %s\n",
		       (unsigned long long)s->log_check->first_bad,
		       s->log_check->reason);
	else if (s->log_check)
		printf("log check: %llu entries at start from seal %llu "
		       "(%lld ms); full check %s\n",
		       (unsigned long long)s->log_check->start_entries,
		       (unsigned long long)s->log_check->start_from,
		       (long long)s->log_check->start_ms, s->log_check->full);
	if (s->log_check && strcmp(s->log_check->full, "could not run") == 0 &&
	    s->log_check->reason)
		printf("log check: the full check said nothing: %s\n",
		       s->log_check->reason);
	print_expiry(s);
	if (s->directory) {
		char line[512];

		directory_status_line(line, sizeof(line), s->directory);
		printf("%s\n", line);
	}
	printf("%-24s %-5s %8s %10s %10s %8s  %s\n", "partner", "link",
	       "waiting", "sent", "delivered", "refused", "last receipt");
	for (size_t i = 0; i < s->n_partners; i++) {
		const Ppx__V1__PartnerStatus *p = s->partners[i];
		char when[32] = "-";

		if (p->last_receipt_ms)
			ppx_time_iso(when, sizeof(when),
				     p->last_receipt_ms);
		printf("%-24s %-5s %8llu %10llu %10llu %8llu  %s\n", p->agency,
		       p->connected ? "up" : "down",
		       (unsigned long long)p->outbox_depth,
		       (unsigned long long)p->sent,
		       (unsigned long long)p->delivered,
		       (unsigned long long)p->refused, when);
		print_budget(p);
		print_standing(p);
	}
	for (size_t i = 0; i < s->n_refusals; i++) {
		const char *reason = ppx_reject_reason_name(
			s->refusals[i]->reason);

		printf("refused %-32s %llu\n", reason ? reason : "?",
		       (unsigned long long)s->refusals[i]->count);
	}
	for (size_t i = 0; i < s->n_hooks; i++)
		print_hook(s->hooks[i]);
	for (size_t i = 0; i < s->n_witnesses; i++)
		print_witness(s->witnesses[i]);
}

int cmd_status(int argc, char **argv)
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
	if ((rc = ctl_status(config_path_default(config), &reply,
			     "status")) != 0)
		return rc;
	if (json) {
		char *text = NULL;

		if (ppx_json_print(&text, &reply->status->base, 0) == 0)
			puts(text);
		free(text);
	} else {
		print_text(reply->status);
	}
	ppx__v1__control_reply__free_unpacked(reply, NULL);
	return PPX_EXIT_OK;
}
