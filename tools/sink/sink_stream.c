/*
 * sink_stream.c — the sinks as a streaming hook (`mode = stream`,
 * docs/HOOKS.md "Streaming hooks"): one process, one database connection,
 * one transaction per batch.
 *
 * The daemon writes each entry of a batch as one line of JSON, then
 * "end SEQ".  The batch is kept in memory (the daemon bounds it by
 * batch_bytes; SINK_MAX_BATCH here) and stored in one transaction; the
 * answer, one line on stdout, comes only after COMMIT:
 *
 *   ok SEQ              all stored (or stored before: inserts are
 *                       idempotent, so a batch given again after a crash
 *                       between our COMMIT and the daemon's cursor commit
 *                       adds no row)
 *   refuse SEQ REASON   entry SEQ is malformed (what exits 2 in mode =
 *                       each): the transaction is rolled back, the entries
 *                       before SEQ are stored again in a new one and
 *                       committed; SEQ and those after it are not stored
 *   fail SEQ REASON     the database failed: nothing of the batch stored
 *
 * REASON is also written to stderr, which the daemon keeps as the tail of
 * a failure.  Input that breaks the protocol (a line over SINK_MAX_ENTRY,
 * a bad end line) ends the program with exit 2: the daemon counts that as
 * a failure of the batch and starts it again.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

/* The most a batch may hold in memory. */
#define SINK_MAX_BATCH (320L * 1024 * 1024)
/* The longest answer line the daemon takes, without its newline. */
#define ANSWER_MAX 1023

struct line {
	char *text;
	size_t len;
};

struct batch {
	struct line *v;
	size_t n, cap, bytes;
	int over;		/* more than SINK_MAX_BATCH: refused whole */
};

static void batch_reset(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].text);
	b->n = 0;
	b->bytes = 0;
	b->over = 0;
}

/*
 * One line of `in` without its newline into *out (the caller frees it),
 * at most SINK_MAX_ENTRY bytes.  1: a line; 0: end of input; -1: too
 * long or out of memory (s->err says which).
 */
static int line_read(struct sink *s, FILE *in, struct line *out)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *g;
	int c;

	if (!buf)
		return sink_fail(s, -1, "out of memory");
	while ((c = getc_unlocked(in)) != EOF && c != '\n') {
		if (n + 1 >= cap) {
			if (cap >= (size_t)SINK_MAX_ENTRY) {
				free(buf);
				return sink_fail(s, -1, "a line longer than "
						 "%ld bytes", SINK_MAX_ENTRY);
			}
			if (!(g = realloc(buf, cap * 2))) {
				free(buf);
				return sink_fail(s, -1, "out of memory");
			}
			buf = g;
			cap *= 2;
		}
		buf[n++] = (char)c;
	}
	if (c == EOF && n == 0) {
		free(buf);
		return 0;
	}
	buf[n] = '\0';
	out->text = buf;
	out->len = n;
	return 1;
}

/* Keep an entry line for the batch. */
static int batch_add(struct sink *s, struct batch *b, struct line *l)
{
	struct line *g;

	if (b->over || b->bytes + l->len > (size_t)SINK_MAX_BATCH) {
		b->over = 1;
		free(l->text);
		return 0;
	}
	if (b->n == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 256;

		if (!(g = realloc(b->v, ncap * sizeof(*g)))) {
			free(l->text);
			return sink_fail(s, -1, "out of memory");
		}
		b->v = g;
		b->cap = ncap;
	}
	b->v[b->n++] = *l;
	b->bytes += l->len;
	return 0;
}

/*
 * Store the first n entries of b in one transaction.  0 after COMMIT;
 * else the error (rolled back), with *bad the entry that failed (n if it
 * was the transaction itself) and s->seq its seq.
 */
static int batch_store(struct sink *s, const struct batch *b, size_t n,
		       size_t *bad)
{
	int rc;

	*bad = n;
	if ((rc = s->db->begin(s)) != 0) {
		s->db->rollback(s);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = sink_apply(s, b->v[i].text, b->v[i].len)) != 0) {
			*bad = i;
			s->db->rollback(s);
			return rc;
		}
	if ((rc = s->db->commit(s)) != 0)
		s->db->rollback(s);
	return rc;
}

/* The error, on one line, for an answer and stderr.  The daemon kills a
 * sink whose answer line is longer than 1,024 bytes with its newline
 * (docs/HOOKS.md), so the reason is cut to fit after "WORD SEQ ". */
static void answer_write(struct sink *s, FILE *out, const char *word,
			 const char *seq, const char *why)
{
	char reason[sizeof(s->err)];
	size_t i, head = strlen(word) + 1 + strlen(seq) + 1;

	for (i = 0; why[i] && i + 1 < sizeof(reason); i++)
		reason[i] = why[i] == '\n' || why[i] == '\r' ? ' ' : why[i];
	reason[i] = '\0';
	fprintf(stderr, "%s: %s %s: %s\n", s->prog, word, seq, reason);
	if (i + head > ANSWER_MAX)
		i = head < ANSWER_MAX ? ANSWER_MAX - head : 0;
	fprintf(out, "%s %s %.*s\n", word, seq, (int)i, reason);
}

/* Store the batch and answer it.  `last` is the end line's SEQ.  Returns
 * 0, or -1 if the database connection is lost for good: the program ends,
 * and the daemon starts it again for the next batch. */
static int batch_answer(struct sink *s, const struct batch *b,
			const char *last, FILE *out)
{
	char why[sizeof(s->err)], seq[24];
	size_t bad, ignored;
	int rc, lost = 0;

	if (b->over) {
		answer_write(s, out, "fail", last, "the batch is larger than "
			     "this sink takes (320 MiB); lower batch_bytes");
		return 0;
	}
	rc = batch_store(s, b, b->n, &bad);
	/* The connection was lost (a server restart, say) and is open again:
	 * the batch once more, in the new session. */
	if (rc != 0 && s->db->reconnect &&
	    (lost = s->db->reconnect(s)) == 1)
		rc = batch_store(s, b, b->n, &bad);
	if (rc == 0) {
		fprintf(out, "ok %s\n", last);
		return 0;
	}
	if (lost < 0) {
		answer_write(s, out, "fail", last, s->err);
		return -1;
	}
	memcpy(why, s->err, sizeof(why));
	/* An entry whose seq cannot be read is named only if it is the last,
	 * which the end line names; else the batch fails, and the daemon gives
	 * it again one entry at a time. */
	if (rc == SINK_EENTRY && s->seq < 0 && bad + 1 == b->n)
		snprintf(seq, sizeof(seq), "%s", last);
	else if (rc == SINK_EENTRY && s->seq >= 0)
		snprintf(seq, sizeof(seq), "%" PRId64, s->seq);
	else {
		answer_write(s, out, "fail", last, why);
		return 0;
	}
	/* The entries before the refused one, in a transaction of their own. */
	if (bad > 0 && batch_store(s, b, bad, &ignored) != 0) {
		answer_write(s, out, "fail", last, s->err);
		return 0;
	}
	answer_write(s, out, "refuse", seq, why);
	return 0;
}

/* "end SEQ": SEQ, digits only, into last. */
static int end_parse(const struct line *l, char *last, size_t cap)
{
	const char *p = l->text + 4;
	size_t n = strspn(p, "0123456789");

	if (strncmp(l->text, "end ", 4) != 0 || n == 0 || n >= cap ||
	    p[n] != '\0')
		return -1;
	memcpy(last, p, n + 1);
	return 0;
}

int sink_stream(struct sink *s, FILE *in, FILE *out)
{
	struct batch b = {0};
	struct line l;
	char last[24];
	int rc, lost = 0, code = SINK_EXIT_OK;

	s->batch = 1;
	while ((rc = line_read(s, in, &l)) == 1) {
		if (l.text[0] == '{') {
			if ((rc = batch_add(s, &b, &l)) != 0)
				break;
			continue;
		}
		rc = end_parse(&l, last, sizeof(last));
		if (rc != 0)
			sink_fail(s, -1, "not an entry nor \"end SEQ\": %.40s",
				  l.text);
		free(l.text);
		if (rc != 0)
			break;
		lost = batch_answer(s, &b, last, out);
		batch_reset(&b);
		if (fflush(out) != 0 || lost)
			break;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: stream input: %s\n", s->prog, s->err);
		code = SINK_EXIT_ENTRY;
	}
	if (lost)
		code = SINK_EXIT_DB;
	batch_reset(&b);
	free(b.v);
	return code;
}
