/*
 * report_html.c — `ppx report --format html`: the board's figures as one
 * self-contained page that a board member can open from an e-mail.
 *
 * No script, no font, style sheet or image from anywhere: the style is
 * inline and every chart is inline SVG (bars of count over total, by
 * agency and by month), each with a <title> and a description for screen
 * readers, and followed by the table of the same figures as text, so that
 * what a chart shows is also in the document.  Every string that comes
 * from the log (agency and area names: a partner's text) is repaired to
 * UTF-8 and escaped before it is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "ppx/text.h"

#define BAR_W 320		/* px of a full bar (100%) */
#define LABEL_W 220		/* px for the agency name */
#define ROW_H 22
#define MONTH_W 36		/* px per month */
#define MONTH_H 120		/* px of a full month bar */

static const char style[] =
	"body{font-family:sans-serif;margin:2em;color:#111;max-width:70em}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}"
	"table{border-collapse:collapse;margin:1em 0}"
	"th,td{border:1px solid #999;padding:.2em .5em;text-align:right}"
	"th[scope=row],th:first-child{text-align:left}caption{text-align:left;"
	"font-weight:bold;padding:.3em 0}"
	"figure{margin:1em 2em 1em 0;display:inline-block;vertical-align:top}"
	".wide{overflow-x:auto}"
	"figcaption{font-weight:bold}.good{fill:#2a7a3b}.bad{fill:#b3261e}"
	".rest{fill:#ddd}svg text{font-size:12px;fill:#111}"
	"dl dt{font-weight:bold}";

/* s, repaired to UTF-8 and escaped for text and attribute values. */
static void esc(FILE *out, const char *s)
{
	char *fixed = ppx_text_repair(s, strlen(s), NULL);

	for (const char *p = fixed ? fixed : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;

		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
		}
	}
	free(fixed);
}

static int pct(const struct ratio *r)
{
	return r->total ? (int)(r->count * 100 / r->total) : 0;
}

static void cell(FILE *out, const struct ratio *r, enum measure k)
{
	if (!r->total) {
		fprintf(out, "<td data-measure=\"%s\">-</td>",
			report_measure[k].key);
		return;
	}
	fprintf(out, "<td data-measure=\"%s\" data-count=\"%ld\" "
		"data-total=\"%ld\">%ld/%ld (%d%%)</td>", report_measure[k].key,
		r->count, r->total, r->count, r->total, pct(r));
}

/* A table: one row per element of v (and the total when given), one
 * column per measure. */
static void table(FILE *out, const char *id, const char *caption,
		  const char *first, const struct row *v, size_t n,
		  const struct row *total)
{
	fprintf(out, "<div class=\"wide\"><table id=\"%s\"><caption>%s"
		"</caption>\n<thead><tr><th scope=\"col\">%s</th>", id, caption,
		first);
	for (int k = 0; k < M_COUNT; k++)
		fprintf(out, "<th scope=\"col\">%s</th>", report_measure[k].title);
	fputs("</tr></thead>\n<tbody>\n", out);
	for (size_t i = 0; i <= n; i++) {
		const struct row *w = i < n ? &v[i] : total;

		if (!w)
			continue;
		fputs("<tr><th scope=\"row\">", out);
		esc(out, i < n ? w->agency : "total");
		fputs("</th>", out);
		for (int k = 0; k < M_COUNT; k++)
			cell(out, &w->m[k], k);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div>\n", out);
}

static const char *colour(enum measure k)
{
	return report_measure[k].lower_is_better ? "bad" : "good";
}

/* Horizontal bars of measure k, one per agency. */
static void chart_agencies(FILE *out, const struct report *rp, enum measure k)
{
	size_t n = rp->agencies.n, y = 0, shown = 0;
	int h;

	for (size_t i = 0; i < n; i++)
		shown += rp->agencies.v[i].m[k].total > 0;
	h = (int)shown * ROW_H + 8;

	fprintf(out, "<figure><figcaption>%s, by agency</figcaption>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
		"width=\"%d\" height=\"%d\" aria-labelledby=\"a-%s\">"
		"<title id=\"a-%s\">%s over %s, by agency</title>\n",
		report_measure[k].title, LABEL_W + BAR_W + 90, h,
		report_measure[k].key, report_measure[k].key,
		report_measure[k].title, report_measure[k].over);
	for (size_t i = 0; i < n; i++) {
		const struct row *w = &rp->agencies.v[i];
		const struct ratio *r = &w->m[k];
		int yy = (int)y * ROW_H + 4;

		if (!r->total)
			continue;
		fprintf(out, "<g><title>");
		esc(out, w->agency);
		fprintf(out, ": %ld/%ld</title><text x=\"0\" y=\"%d\">", r->count,
			r->total, yy + 13);
		esc(out, w->agency);
		fprintf(out, "</text><rect class=\"rest\" x=\"%d\" y=\"%d\" "
			"width=\"%d\" height=\"16\"/><rect class=\"%s\" x=\"%d\" "
			"y=\"%d\" width=\"%d\" height=\"16\"/><text x=\"%d\" "
			"y=\"%d\">%ld/%ld</text></g>\n", LABEL_W, yy, BAR_W,
			colour(k), LABEL_W, yy, pct(r) * BAR_W / 100,
			LABEL_W + BAR_W + 6, yy + 13, r->count, r->total);
		y++;
	}
	fputs("</svg></figure>\n", out);
}

/* Vertical bars of measure k, one per month of the period. */
static void chart_months(FILE *out, const struct report *rp, enum measure k)
{
	int w = (int)rp->n_months * MONTH_W + 40, h = MONTH_H + 50;

	fprintf(out, "<figure><figcaption>%s, by month</figcaption>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
		"width=\"%d\" height=\"%d\" aria-labelledby=\"m-%s\">"
		"<title id=\"m-%s\">%s over %s, by month</title>\n", report_measure[k].title,
		w, h, report_measure[k].key, report_measure[k].key,
		report_measure[k].title, report_measure[k].over);
	for (size_t i = 0; i < rp->n_months; i++) {
		const struct ratio *r = &rp->months[i].m[k];
		int x = (int)i * MONTH_W + 4, bh = pct(r) * MONTH_H / 100;

		fprintf(out, "<g><title>%s: %ld/%ld</title>"
			"<rect class=\"rest\" x=\"%d\" y=\"16\" width=\"%d\" "
			"height=\"%d\"/><rect class=\"%s\" x=\"%d\" y=\"%d\" "
			"width=\"%d\" height=\"%d\"/><text x=\"%d\" y=\"12\">"
			"%ld/%ld</text><text x=\"%d\" y=\"%d\">%.2s</text></g>\n",
			rp->months[i].agency, r->count, r->total, x,
			MONTH_W - 8, MONTH_H, colour(k), x,
			16 + MONTH_H - bh, MONTH_W - 8, bh, x, r->count,
			r->total, x, MONTH_H + 32, rp->months[i].agency + 5);
	}
	fputs("</svg></figure>\n", out);
}

static void snapshot_table(FILE *out, const struct snapshot *s)
{
	char d[PPX_DATE_LEN];

	ppx_date_format(d, s->day);
	fprintf(out, "<table id=\"snapshot\"><caption>Partner records by "
		"MAPPA category and level on %s (%ld)</caption>\n<thead><tr>"
		"<th scope=\"col\">category</th>", d, s->total);
	for (int l = 1; l <= REPORT_LEVELS; l++)
		fprintf(out, "<th scope=\"col\">level %s</th>",
			report_level_name(l % REPORT_LEVELS));
	fputs("</tr></thead>\n<tbody>\n", out);
	for (int c = 1; c <= REPORT_CATEGORIES; c++) {
		fprintf(out, "<tr><th scope=\"row\">category %s</th>",
			report_level_name(c % REPORT_CATEGORIES));
		for (int l = 1; l <= REPORT_LEVELS; l++)
			fprintf(out, "<td data-category=\"%s\" data-level=\"%s\">"
				"%ld</td>", report_level_name(c % REPORT_CATEGORIES),
				report_level_name(l % REPORT_LEVELS),
				s->n[c % REPORT_CATEGORIES][l % REPORT_LEVELS]);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static void definitions(FILE *out)
{
	fputs("<h2>What each figure counts</h2>\n<dl>\n", out);
	for (int k = 0; k < M_COUNT; k++)
		fprintf(out, "<dt>%s</dt><dd>counted over %s "
			"(docs/ppx-deadlines.md)</dd>\n", report_measure[k].title,
			report_measure[k].over);
	fputs("</dl>\n", out);
}

void report_html(FILE *out, struct report *rp, const char *agency)
{
	char from[PPX_DATE_LEN], to[PPX_DATE_LEN], as_of[PPX_DATE_LEN];

	ppx_date_format(from, rp->from);
	ppx_date_format(to, rp->to);
	ppx_date_format(as_of, rp->as_of);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<title>MAPPA board report", out);
	if (*agency) {
		fputs(" for ", out);
		esc(out, agency);
	}
	fprintf(out, ", %s to %s</title><style>%s</style></head>\n<body>\n"
		"<h1 id=\"title\">MAPPA board report", from, to, style);
	if (*agency) {
		fputs(" for ", out);
		esc(out, agency);
	}
	fprintf(out, ": %s to %s</h1>\n<p>As of %s, from this agency's log. "
		"Each figure is a count over a total; a dash means there was "
		"nothing to count.</p>\n", from, to, as_of);
	fputs("<h2>By agency</h2>\n", out);
	for (int k = 0; k < M_COUNT; k++)
		if (rp->total.m[k].total)
			chart_agencies(out, rp, k);
	table(out, "by-agency", "By agency", "agency", rp->agencies.v,
	      rp->agencies.n, &rp->total);
	fputs("<h2>By month</h2>\n", out);
	for (int k = 0; k < M_COUNT; k++)
		if (rp->total.m[k].total && k != M_RECORDS)
			chart_months(out, rp, k);
	table(out, "by-month", "By month", "month", rp->months, rp->n_months,
	      NULL);
	if (rp->areas.n) {
		fputs("<h2>By area</h2>\n", out);
		table(out, "by-area", "By area", "area", rp->areas.v,
		      rp->areas.n, NULL);
	}
	fputs("<h2>Category and level</h2>\n", out);
	snapshot_table(out, &rp->snap);
	definitions(out);
	fputs("</body></html>\n", out);
}
