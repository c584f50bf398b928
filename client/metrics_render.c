/*
 * metrics_render.c — the daemon's StatusReply as Prometheus text
 * exposition format 0.0.4: one family per metric, `# HELP` and `# TYPE`
 * before its samples, every series labelled with the agency, per partner
 * series with `partner`.  Names are prefixed `ppx_`, values are in base
 * units (seconds, bytes), counters end in `_total`; the list, and what
 * is left out when (a partner never receipted: no
 * ppx_last_receipt_age_seconds), is in docs/OPERATIONS.md section 5.
 *
 * Label values come from partners' certificates, the directory and the
 * daemon's configuration: they are escaped as the format requires
 * (backslash, double quote, newline) and bytes that are not UTF-8 are
 * replaced, so that no value can end a label or a line early.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "ppx/error.h"
#include "ppx/names.h"
#include "ppx/text.h"

/* The output being written, with what every series carries. */
struct mx {
	FILE *f;
	const char *agency;
	int64_t now_ms;
};

/* A label value, escaped: \\, \" and \n; what is not UTF-8 as U+FFFD. */
static void put_value(FILE *f, const char *v)
{
	size_t len;
	char *text = ppx_text_repair(v ? v : "", v ? strlen(v) : 0, &len);

	if (!text)
		return;		/* out of memory: the stream fails too */
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\')
			fputs("\\\\", f);
		else if (text[i] == '"')
			fputs("\\\"", f);
		else if (text[i] == '\n')
			fputs("\\n", f);
		else
			fputc(text[i], f);
	}
	free(text);
}

static void head(struct mx *m, const char *name, const char *type,
		 const char *help)
{
	fprintf(m->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample: NAME{agency="..",K="V",...} VALUE, with `n` label pairs
 * in `kv` (key, value, key, value ...). */
static void sample(struct mx *m, const char *name, const char *const *kv,
		   size_t n, double v)
{
	fprintf(m->f, "%s{agency=\"", name);
	put_value(m->f, m->agency);
	fputc('"', m->f);
	for (size_t i = 0; i < n; i++) {
		fprintf(m->f, ",%s=\"", kv[2 * i]);
		put_value(m->f, kv[2 * i + 1]);
		fputc('"', m->f);
	}
	if (isnan(v))
		fputs("} NaN\n", m->f);
	else
		fprintf(m->f, "} %.15g\n", v);
}

/* One series of the agency alone, under its own HELP and TYPE. */
static void single(struct mx *m, const char *name, const char *type,
		   const char *help, double v)
{
	head(m, name, type, help);
	sample(m, name, NULL, 0, v);
}

/* Seconds from now to `ms` (negative when it is past). */
static double until_s(const struct mx *m, int64_t ms)
{
	return (double)(ms - m->now_ms) / 1000.0;
}

/* Seconds from `ms` to now, never negative (clocks step). */
static double since_s(const struct mx *m, int64_t ms)
{
	return ms < m->now_ms ? (double)(m->now_ms - ms) / 1000.0 : 0.0;
}

/* ---- per partner ---- */

/* A figure of a partner's status line; NAN: no sample for it. */
typedef double (*partner_value)(const struct mx *m,
				const Ppx__V1__PartnerStatus *p);

static double p_sent(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	(void)m;
	return (double)p->sent;
}

static double p_delivered(const struct mx *m,
			  const Ppx__V1__PartnerStatus *p)
{
	(void)m;
	return (double)p->delivered;
}

static double p_refused(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	(void)m;
	return (double)p->refused;
}

static double p_received(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	(void)m;
	return (double)p->received;
}

static double p_depth(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	(void)m;
	return (double)p->outbox_depth;
}

static double p_oldest(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	return p->oldest_waiting_ms ? since_s(m, p->oldest_waiting_ms) : 0.0;
}

static double p_link(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	(void)m;
	return p->connected ? 1.0 : 0.0;
}

static double p_receipt(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	return p->last_receipt_ms ? since_s(m, p->last_receipt_ms) : NAN;
}

static double p_blocked(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	return p->blocked_until_ms > m->now_ms ? 1.0 : 0.0;
}

static double p_quota(const struct mx *m, const Ppx__V1__PartnerStatus *p)
{
	(void)m;
	return p->log_quota_bytes_hour ?
		(double)p->log_bytes_hour / (double)p->log_quota_bytes_hour :
		0.0;
}

static const struct {
	const char *name, *type, *help;
	partner_value value;
} partner_metrics[] = {
	{"ppx_messages_sent_total", "counter",
	 "Messages sent to the partner (logged SENT) since the daemon started.",
	 p_sent},
	{"ppx_messages_delivered_total", "counter",
	 "Messages the partner receipted as stored since the daemon started.",
	 p_delivered},
	{"ppx_messages_refused_total", "counter",
	 "Messages the partner refused since the daemon started.", p_refused},
	{"ppx_messages_received_total", "counter",
	 "Messages from the partner stored since the daemon started.",
	 p_received},
	{"ppx_outbox_depth", "gauge",
	 "Messages waiting for the partner's receipt.", p_depth},
	{"ppx_outbox_oldest_age_seconds", "gauge",
	 "Age of the oldest message waiting for the partner; 0 when none.",
	 p_oldest},
	{"ppx_link_up", "gauge",
	 "1 when the link to the partner is connected.", p_link},
	{"ppx_last_receipt_age_seconds", "gauge",
	 "Seconds since the partner's last receipt; absent when none since "
	 "start.", p_receipt},
	{"ppx_partner_blocked", "gauge",
	 "1 while the partner is blocked for spending its refusal budget.",
	 p_blocked},
	{"ppx_partner_log_quota_used_ratio", "gauge",
	 "Share of its hourly log quota the partner's frames used; 0 without "
	 "a quota.", p_quota},
};

static void partners(struct mx *m, const Ppx__V1__StatusReply *s)
{
	size_t n = sizeof(partner_metrics) / sizeof(partner_metrics[0]);

	for (size_t k = 0; k < n; k++) {
		head(m, partner_metrics[k].name, partner_metrics[k].type,
		     partner_metrics[k].help);
		for (size_t i = 0; i < s->n_partners; i++) {
			const char *kv[] = {"partner", s->partners[i]->agency};
			double v = partner_metrics[k].value(m, s->partners[i]);

			if (!isnan(v))
				sample(m, partner_metrics[k].name, kv, 1, v);
		}
	}
}

static void refusals(struct mx *m, const Ppx__V1__StatusReply *s)
{
	head(m, "ppx_frames_refused_total", "counter",
	     "Frames of the partner refused since the daemon started, by "
	     "reason.");
	for (size_t i = 0; i < s->n_partners; i++) {
		const Ppx__V1__PartnerStatus *p = s->partners[i];

		for (size_t r = 0; r < p->n_refusals_by_reason; r++) {
			const char *name = ppx_reject_reason_name(
				p->refusals_by_reason[r]->reason);
			const char *kv[] = {"partner", p->agency, "reason",
					    name ? name : "UNKNOWN"};

			sample(m, "ppx_frames_refused_total", kv, 2,
			       (double)p->refusals_by_reason[r]->count);
		}
	}
	head(m, "ppx_refusals_total", "counter",
	     "Everything refused since the daemon started (frames, receipts, "
	     "connections), by reason.");
	for (size_t r = 0; r < s->n_refusals; r++) {
		const char *name = ppx_reject_reason_name(
			s->refusals[r]->reason);
		const char *kv[] = {"reason", name ? name : "UNKNOWN"};

		sample(m, "ppx_refusals_total", kv, 1,
		       (double)s->refusals[r]->count);
	}
}

static void standing(struct mx *m, const Ppx__V1__StatusReply *s)
{
	head(m, "ppx_partner_standing", "gauge",
	     "The partner's standing in the federation (info: always 1).");
	for (size_t i = 0; i < s->n_partners; i++) {
		const char *kv[] = {"partner", s->partners[i]->agency,
				    "standing", s->partners[i]->standing};

		if (s->partners[i]->standing[0])
			sample(m, "ppx_partner_standing", kv, 2, 1.0);
	}
}

/* ---- witnessing ---- */

static void witnesses(struct mx *m, const Ppx__V1__StatusReply *s)
{
	head(m, "ppx_witness_alarm", "gauge",
	     "1 when the partner's log does not extend what we cosigned.");
	for (size_t i = 0; i < s->n_witnesses; i++) {
		const char *kv[] = {"partner", s->witnesses[i]->agency};

		sample(m, "ppx_witness_alarm", kv, 1,
		       s->witnesses[i]->alarm ? 1.0 : 0.0);
	}
	head(m, "ppx_witness_cosigned_age_seconds", "gauge",
	     "Seconds since the partner last cosigned our checkpoint; absent "
	     "when never.");
	for (size_t i = 0; i < s->n_witnesses; i++) {
		const char *kv[] = {"partner", s->witnesses[i]->agency};

		if (s->witnesses[i]->cosigned_ms)
			sample(m, "ppx_witness_cosigned_age_seconds", kv, 1,
			       since_s(m, s->witnesses[i]->cosigned_ms));
	}
	head(m, "ppx_partner_restored_time_seconds", "gauge",
	     "When the partner's last restore notice we took was made (Unix "
	     "time); absent when none.");
	for (size_t i = 0; i < s->n_witnesses; i++) {
		const char *kv[] = {"partner", s->witnesses[i]->agency};

		if (s->witnesses[i]->restored_ms)
			sample(m, "ppx_partner_restored_time_seconds", kv, 1,
			       (double)s->witnesses[i]->restored_ms / 1000.0);
	}
}

/* ---- hooks ---- */

typedef double (*hook_value)(const struct mx *m, const Ppx__V1__HookStatus *h);

static double h_behind(const struct mx *m, const Ppx__V1__HookStatus *h)
{
	(void)m;
	return (double)h->behind;
}

static double h_stuck(const struct mx *m, const Ppx__V1__HookStatus *h)
{
	(void)m;
	return h->stuck ? 1.0 : 0.0;
}

static double h_quarantined(const struct mx *m, const Ppx__V1__HookStatus *h)
{
	(void)m;
	return (double)h->n_quarantined;
}

static double h_failing(const struct mx *m, const Ppx__V1__HookStatus *h)
{
	return h->failing_since_ms ? since_s(m, h->failing_since_ms) : 0.0;
}

static double h_delivered(const struct mx *m, const Ppx__V1__HookStatus *h)
{
	(void)m;
	return (double)h->delivered;
}

static const struct {
	const char *name, *type, *help;
	hook_value value;
} hook_metrics[] = {
	{"ppx_hook_behind_entries", "gauge",
	 "Log entries the hook has yet to store.", h_behind},
	{"ppx_hook_stuck", "gauge",
	 "1 when the hook stopped on an entry it keeps failing on.", h_stuck},
	{"ppx_hook_quarantined", "gauge",
	 "Entries the hook set aside, awaiting ppx hook retry or drop.",
	 h_quarantined},
	{"ppx_hook_failing_seconds", "gauge",
	 "Seconds the hook has been failing on its current entry; 0 when not.",
	 h_failing},
	{"ppx_hook_delivered_total", "counter",
	 "Entries the hook stored since the daemon started.", h_delivered},
};

static void hooks(struct mx *m, const Ppx__V1__StatusReply *s)
{
	size_t n = sizeof(hook_metrics) / sizeof(hook_metrics[0]);

	for (size_t k = 0; k < n; k++) {
		head(m, hook_metrics[k].name, hook_metrics[k].type,
		     hook_metrics[k].help);
		for (size_t i = 0; i < s->n_hooks; i++) {
			const char *kv[] = {"hook", s->hooks[i]->name};

			sample(m, hook_metrics[k].name, kv, 1,
			       hook_metrics[k].value(m, s->hooks[i]));
		}
	}
}

/* ---- certificates, CRL, directory ---- */

/* Whose certificate `c`, our own status's, is: ours for signing and
 * transport, else its role ("ca", "directory"). */
static const char *own_owner(const struct mx *m, const Ppx__V1__CertStatus *c)
{
	if (strcmp(c->role, "ca") == 0 || strcmp(c->role, "directory") == 0)
		return c->role;
	return m->agency;
}

/* 1 when `c` was already written for `owner`: the same certificate
 * listed twice would make a duplicate series. */
static int cert_seen(Ppx__V1__CertStatus *const *list, size_t n,
		     const Ppx__V1__CertStatus *c)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i]->role, c->role) == 0 &&
		    strcmp(list[i]->serial, c->serial) == 0)
			return 1;
	return 0;
}

static void cert_sample(struct mx *m, const char *owner,
			const Ppx__V1__CertStatus *c)
{
	const char *kv[] = {"role", c->role, "owner", owner,
			    "serial", c->serial};

	sample(m, "ppx_certificate_expiry_seconds", kv, 3,
	       until_s(m, c->not_after_ms));
}

static void certificates(struct mx *m, const Ppx__V1__StatusReply *s)
{
	head(m, "ppx_certificate_expiry_seconds", "gauge",
	     "Seconds until the certificate's notAfter; negative once "
	     "expired.");
	for (size_t i = 0; i < s->n_certificates; i++)
		if (!cert_seen(s->certificates, i, s->certificates[i]))
			cert_sample(m, own_owner(m, s->certificates[i]),
				    s->certificates[i]);
	for (size_t i = 0; i < s->n_partners; i++) {
		const Ppx__V1__PartnerStatus *p = s->partners[i];

		for (size_t k = 0; k < p->n_certificates; k++)
			if (!cert_seen(p->certificates, k, p->certificates[k]))
				cert_sample(m, p->agency, p->certificates[k]);
	}
}

static void crl_and_directory(struct mx *m, const Ppx__V1__StatusReply *s)
{
	int64_t next = s->crl_next_update_ms;

	if (!next && s->directory)
		next = s->directory->crl_next_update_ms;
	head(m, "ppx_crl_next_update_seconds", "gauge",
	     "Seconds until the CRL in force's nextUpdate; negative once "
	     "past; absent without a CRL.");
	if (next)
		sample(m, "ppx_crl_next_update_seconds", NULL, 0,
		       until_s(m, next));
	single(m, "ppx_expiry_warnings", "gauge",
	       "Certificate and CRL expiry warnings in force (ppx status).",
	       (double)s->n_warnings);
	if (!s->directory)
		return;
	single(m, "ppx_directory_serial", "gauge",
	       "Serial of the federation directory in force.",
	       (double)s->directory->serial);
	single(m, "ppx_directory_expiry_seconds", "gauge",
	       "Seconds until the directory in force's notAfter.",
	       until_s(m, s->directory->not_after_ms));
}

/* ---- the whole ---- */

static void daemon_figures(struct mx *m, const Ppx__V1__StatusReply *s)
{
	single(m, "ppx_up", "gauge", "1 when the daemon answered.", 1.0);
	single(m, "ppx_start_time_seconds", "gauge",
	       "When the daemon started, Unix time.",
	       (double)s->started_ms / 1000.0);
	single(m, "ppx_log_entries", "gauge", "Entries in the log.",
	       (double)s->log_size);
	single(m, "ppx_log_bytes", "gauge", "Size of the log's data file.",
	       (double)s->log_bytes);
	single(m, "ppx_log_max_bytes", "gauge",
	       "The log's cap (log_max_mb); 0: no cap.",
	       (double)s->log_max_bytes);
	single(m, "ppx_log_filesystem_free_bytes", "gauge",
	       "Space free to the daemon on the log's filesystem.",
	       (double)s->disk_free_bytes);
	single(m, "ppx_listening", "gauge",
	       "1 when the partners' port is bound.",
	       s->listening ? 1.0 : 0.0);
	if (s->log_check)
		single(m, "ppx_log_check_failed", "gauge",
		       "1 when the full check of the log found it damaged.",
		       strcmp(s->log_check->full, "FAILED") == 0 ? 1.0 : 0.0);
	if (s->restored_ms)
		single(m, "ppx_restored_time_seconds", "gauge",
		       "When the log was last restored from a backup, Unix "
		       "time.", (double)s->restored_ms / 1000.0);
}

/* Close the stream `f` (open_memstream(buf, buflen)), which sets *buf
 * and *buflen only then: 0 with *out, or PPX_ENOMEM. */
static int finish(char **out, size_t *len, FILE *f, char **buf,
		  size_t *buflen)
{
	int failed = ferror(f);

	if (fclose(f) != 0 || failed || *buflen > METRICS_MAX) {
		free(*buf);
		return ppx_error_set(PPX_ENOMEM, "the metrics do not fit in "
				     "%u bytes", METRICS_MAX);
	}
	*out = *buf;
	*len = *buflen;
	return 0;
}

int metrics_render(char **out, size_t *len, const Ppx__V1__StatusReply *s,
		   int64_t now_ms)
{
	char *buf = NULL;
	size_t buflen = 0;
	struct mx m = {open_memstream(&buf, &buflen), s->agency, now_ms};

	if (!m.f)
		return ppx_error_set(PPX_ENOMEM, "cannot build the metrics");
	daemon_figures(&m, s);
	partners(&m, s);
	refusals(&m, s);
	standing(&m, s);
	witnesses(&m, s);
	hooks(&m, s);
	certificates(&m, s);
	crl_and_directory(&m, s);
	return finish(out, len, m.f, &buf, &buflen);
}

int metrics_render_down(char **out, size_t *len, const char *agency)
{
	char *buf = NULL;
	size_t buflen = 0;
	FILE *f = open_memstream(&buf, &buflen);

	if (!f)
		return ppx_error_set(PPX_ENOMEM, "cannot build the metrics");
	fputs("# HELP ppx_up 1 when the daemon answered.\n"
	      "# TYPE ppx_up gauge\n", f);
	if (agency) {
		fputs("ppx_up{agency=\"", f);
		put_value(f, agency);
		fputs("\"} 0\n", f);
	} else {
		fputs("ppx_up 0\n", f);
	}
	return finish(out, len, f, &buf, &buflen);
}
