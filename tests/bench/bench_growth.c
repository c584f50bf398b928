/*
 * bench_growth.c — how the log's costs grow with its size, from 10^4 to
 * 10^6 entries (10^7 on request: GROWTH_MAX=10000000).
 *
 * It builds a real log through the log store's own API in a temporary
 * directory: every entry is a SENT or RECEIVED entry (alternately) holding
 * a notification sealed and signed for it alone, with its own random
 * message id and a subject drawn from SUBJECTS subjects (each indexed under
 * a "pnc:" and a "crn:" key, as the daemon indexes them), appended in
 * groups of GROUP as the daemon's group commit does.  Nothing is shared
 * between entries, so that verifying the log checks as many signatures as
 * it holds entries.
 *
 * When the log reaches each size (10^4, 10^5, 10^6, and 10^7 when
 * GROWTH_MAX asks for it; a smaller GROWTH_MAX caps it for quick runs) it
 * measures, in this order:
 *
 *   - lookups by message id, with the calls the daemon and `ppx show` make:
 *     ppx_log_find() on the dedupe index (outbox, spool) and
 *     ppx_log_by_message() + ppx_log_get() (ppx_records_find); LOOKUPS random
 *     existing ids, median;
 *   - lookups by subject: ppx_log_by_subject() + ppx_log_get_raw() of every
 *     entry it lists (what `ppx subject` does), for the subject of a random
 *     existing entry, median;
 *   - ppx_log_check() over the whole log (leaves, chain and tree, no
 *     signatures), and ppx_log_check_dir(), what ppxd runs before it
 *     starts: every record of the file read, then ppx_log_check(), in a
 *     child process;
 *   - ppx_log_verify() over the whole log (what `ppx verify` runs), beside
 *     raw OpenSSL Ed25519 verification measured just before it, and
 *     ppx_log_verify_jobs() with 2 threads (`ppx verify --jobs 2`): the
 *     speed-up;
 *   - the start-up check as ppxd runs it, from the check seal, on a copy
 *     of the log with a checkpoint appended (as after a clean stop);
 *   - the durable append rate of the next entries (their frames sealed
 *     beforehand), in groups of GROUP and of one, each commit fsynced, and
 *     the bytes each commit writes per entry; those entries stay in the log;
 *   - the pages each sub-database of the log holds (leaf, branch and
 *     overflow, from mdb_stat), which tell which of them the bytes written
 *     per commit grow with (docs/PERFORMANCE.md, "Log growth").
 *
 * Each figure is printed with its ratio to the figure at 10^4.  The log is
 * in the page cache throughout (it has just been written): this measures
 * the indexes, not the disk.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "../../lib/logstore_int.h"
#include "../../lib/pki_int.h"
#include "../unit/support.h"

#define SUBJECTS 50000
#define GROUP 1000
#define LOOKUPS 10000
#define RUNS 5			/* append runs; the median is reported */
#define RUN_GROUPS 2		/* commits of GROUP per append run */
#define RUN_ONES 100		/* commits of one per append run */
#define APPENDED (RUNS * (RUN_GROUPS * GROUP + RUN_ONES))
#define SIZES 4
#define DEFAULT_MAX 1000000	/* the largest size unless GROWTH_MAX says */
#define RAW_SECONDS 0.3

static const uint64_t sizes[SIZES] = {10000, 100000, 1000000, 10000000};

/* What is measured at one size. */
struct figures {
	double append_group;	/* entries/s, groups of GROUP */
	double group_mb;	/* MB written per commit of GROUP */
	double group_entry_b;	/* the same per entry, bytes */
	double append_one;	/* entries/s, one per commit */
	double one_kb;		/* KB written per commit of one */
	double pages[NUM_DBS];	/* pages of each sub-database, before the
				 * appends */
	double raw_commit;	/* raw LMDB fsynced commits of one put/s */
	double find_us;		/* ppx_log_find */
	double by_id_us;	/* ppx_log_by_message + ppx_log_get */
	double by_subject_us;	/* ppx_log_by_subject + get_raw of each */
	double subject_entries;	/* mean entries returned per subject */
	double check_s;		/* ppx_log_check, whole log */
	double check_us;	/* the same per entry */
	double check_dir_s;	/* ppx_log_check_dir, whole log */
	double check_dir_us;	/* the same per entry */
	double verify_s;	/* ppx_log_verify, whole log */
	double verify_us;	/* the same per entry */
	double verify_cpu_us;	/* CPU time per entry */
	double raw_verify_us;	/* one raw Ed25519 verification */
	double raw_verify_cpu_us;	/* the same in CPU time */
	/* measure_startup(), measure_verify_jobs() */
	double sealed_s;	/* the start-up check from the seal */
	double verify2_s;	/* ppx_log_verify_jobs, 2 threads */
	double verify_speedup;	/* verify_s / verify2_s */
};

struct frame {
	uint8_t *data;
	size_t len;
};

/* The log being grown and what is remembered of each of its entries. */
struct growth {
	const char *dir;
	ppx_log *log;
	ppx_trust *trust;
	ppx_signer *police, *probation;
	uint64_t rng;
	uint64_t next;			/* seq of the next entry generated */
	uint8_t (*ids)[PPX_MESSAGE_ID_LEN];	/* message id by seq */
	uint32_t *subject;		/* subject number by seq */
	size_t cap;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: unlike the clock, it does not count the time
 * the benchmark waits for a core the other work on the machine holds. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes this process has passed to write(2) so far (LMDB writes its dirty
 * pages with it), from /proc/self/io; 0 where that is not available. */
static double written_bytes(void)
{
	FILE *fp = fopen("/proc/self/io", "r");
	char line[128];
	double v = 0;

	while (fp && fgets(line, sizeof(line), fp))
		if (strncmp(line, "wchar:", 6) == 0)
			v = (double)strtoull(line + 6, NULL, 10);
	if (fp)
		fclose(fp);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "bench_growth: %s: %s\n", what, ppx_error_last());
	exit(1);
}

/* xorshift64*: reproducible choices of subjects and lookups. */
static uint64_t rng_next(struct growth *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545F4914F6CDD1DULL;
}

static void subject_ids(char *pnc, size_t pnc_len, char *crn, size_t crn_len,
			uint32_t s)
{
	snprintf(pnc, pnc_len, "20%02u/%07uX", 10 + s % 15, s);
	snprintf(crn, crn_len, "X%06u", s);
}

/* Seal the message of entry g->next (choosing its id and subject): sent by
 * police.gwent for even seqs, received from probation.gwent for odd. */
static void seal_next(struct growth *g, struct frame *out)
{
	uint64_t seq = g->next;
	int in = (int)(seq & 1);
	const char *from = in ? "probation.gwent" : "police.gwent";
	char *to[] = {in ? "police.gwent" : "probation.gwent"};
	Ppx__V1__Body b = PPX__V1__BODY__INIT;
	Ppx__V1__Person p = PPX__V1__PERSON__INIT;
	Ppx__V1__SubjectIds subj = PPX__V1__SUBJECT_IDS__INIT;
	Ppx__V1__Notification n = PPX__V1__NOTIFICATION__INIT;
	char pnc[32], crn[16], details[96];

	if (seq >= g->cap || ppx_message_id_new(g->ids[seq]) != 0)
		die("message id");
	g->subject[seq] = (uint32_t)(rng_next(g) % SUBJECTS);
	subject_ids(pnc, sizeof(pnc), crn, sizeof(crn), g->subject[seq]);
	snprintf(details, sizeof(details), "Arrested 21:40 on suspicion of "
		 "breach of SHPO (entry %llu).", (unsigned long long)seq);
	p.id = "dana.evans";
	p.name = "Dana Evans";
	p.agency = (char *)from;
	p.role = "police offender manager";
	subj.pnc_id = pnc;
	subj.crn = crn;
	n.kind = PPX__V1__NOTIFICATION_KIND__ARREST;
	n.effective_date = "2026-11-21";
	n.details = details;
	b.message_id.data = g->ids[seq];
	b.message_id.len = PPX_MESSAGE_ID_LEN;
	b.sender_agency = (char *)from;
	b.sender_person = &p;
	b.n_recipients = 1;
	b.recipients = to;
	b.created_ms = (int64_t)time(NULL) * 1000;
	b.marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE;
	b.priority = PPX__V1__PRIORITY__URGENT;
	b.subject = &subj;
	b.payload_case = PPX__V1__BODY__PAYLOAD_NOTIFICATION;
	b.notification = &n;
	if (ppx_body_seal(&out->data, &out->len,
			  in ? g->probation : g->police, &b) != 0)
		die("seal");
	g->next++;
}

/* Append the entry of `seq` holding frame f, indexed as the daemon does,
 * with a sent message's outbox record. */
static void append_entry(struct growth *g, ppx_log_batch *b, uint64_t seq,
			 const struct frame *f)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char pnc[32], crn[16], kp[40], kc[24];
	char *keys[] = {kp, kc};
	int in = (int)(seq & 1);
	uint64_t got;

	subject_ids(pnc, sizeof(pnc), crn, sizeof(crn), g->subject[seq]);
	snprintf(kp, sizeof(kp), "pnc:%s", pnc);
	snprintf(kc, sizeof(kc), "crn:%s", crn);
	e.kind = in ? PPX__V1__ENTRY_KIND__ENTRY_RECEIVED
		    : PPX__V1__ENTRY_KIND__ENTRY_SENT;
	e.peer_agency = in ? "probation.gwent" : "";
	e.message_id.data = g->ids[seq];
	e.message_id.len = PPX_MESSAGE_ID_LEN;
	e.person = "dana.evans";
	e.data.data = f->data;
	e.data.len = f->len;
	e.subject_keys = keys;
	e.n_subject_keys = 2;
	e.family = "notification";
	if (ppx_log_append(b, &e, &got) != 0)
		die("append");
	if (got != seq) {
		fprintf(stderr, "bench_growth: entry %llu landed at %llu\n",
			(unsigned long long)seq, (unsigned long long)got);
		exit(1);
	}
	/* A message sent waits in the outbox for its recipient's receipt. */
	if (!in && ppx_log_outbox_add(b, "probation.gwent", seq) != 0)
		die("outbox");
}

/* Append frames f[0..n) (entries from seq) in one fsynced commit. */
static void commit_frames(struct growth *g, uint64_t seq,
			  const struct frame *f, size_t n)
{
	ppx_log_batch *b = NULL;

	if (ppx_log_begin(&b, g->log) != 0)
		die("begin");
	for (size_t i = 0; i < n; i++)
		append_entry(g, b, seq + i, &f[i]);
	if (ppx_log_commit(b) != 0)
		die("commit");
}

/* Seal and append entries, GROUP per commit, until the log holds `size`. */
static void grow_to(struct growth *g, uint64_t size)
{
	static struct frame f[GROUP];

	while (ppx_log_size(g->log) < size) {
		uint64_t seq = ppx_log_size(g->log);
		size_t n = size - seq < GROUP ? (size_t)(size - seq) : GROUP;

		for (size_t i = 0; i < n; i++)
			seal_next(g, &f[i]);
		commit_frames(g, seq, f, n);
		for (size_t i = 0; i < n; i++)
			free(f[i].data);
	}
}

/* Raw LMDB fsynced commits of one put per second, median of RUNS runs of
 * RUN_ONES, in a fresh environment beside the log: the disk's limit for
 * appends of one, measured at the same moment. */
static double raw_commit_rate(const struct frame *f)
{
	char dir[] = "/tmp/ppx-bench-raw-XXXXXX";
	double rate[RUNS];
	MDB_env *env = NULL;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint64_t key = 0;

	if (!mkdtemp(dir) || mdb_env_create(&env) != 0 ||
	    mdb_env_set_mapsize(env, 1ULL << 26) != 0 ||
	    mdb_env_open(env, dir, 0, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, NULL, 0, &dbi) != 0 || mdb_txn_commit(txn) != 0)
		die("raw LMDB");
	for (int r = 0; r < RUNS; r++) {
		double t = now_s();

		for (int c = 0; c < RUN_ONES; c++, key++) {
			MDB_val k = {sizeof(key), &key}, v = {f->len, f->data};

			if (mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
			    mdb_put(txn, dbi, &k, &v, 0) != 0 ||
			    mdb_txn_commit(txn) != 0)
				die("raw LMDB commit");
		}
		rate[r] = RUN_ONES / (now_s() - t);
	}
	mdb_env_close(env);
	tmpdir_clear(dir);
	return median(rate, RUNS);
}

/* The durable append rates of the next APPENDED entries, sealed first. */
static void measure_append(struct growth *g, struct figures *fig)
{
	struct frame *f = calloc(APPENDED, sizeof(*f));
	double group[RUNS], one[RUNS], written = 0, written_one = 0;
	size_t k = 0;

	if (!f)
		die("out of memory");
	for (size_t i = 0; i < APPENDED; i++)
		seal_next(g, &f[i]);
	for (int r = 0; r < RUNS; r++) {
		double t = now_s(), w = written_bytes();

		for (int c = 0; c < RUN_GROUPS; c++, k += GROUP)
			commit_frames(g, ppx_log_size(g->log), &f[k], GROUP);
		group[r] = RUN_GROUPS * GROUP / (now_s() - t);
		written += written_bytes() - w;
		t = now_s();
		w = written_bytes();
		for (int c = 0; c < RUN_ONES; c++, k++)
			commit_frames(g, ppx_log_size(g->log), &f[k], 1);
		one[r] = RUN_ONES / (now_s() - t);
		written_one += written_bytes() - w;
	}
	fig->raw_commit = raw_commit_rate(&f[0]);
	for (size_t i = 0; i < APPENDED; i++)
		free(f[i].data);
	free(f);
	fig->append_group = median(group, RUNS);
	fig->append_one = median(one, RUNS);
	fig->group_mb = written / (RUNS * RUN_GROUPS) / 1e6;
	fig->group_entry_b = fig->group_mb * 1e6 / GROUP;
	fig->one_kb = written_one / (RUNS * RUN_ONES) / 1e3;
}

/* The pages (leaf, branch and overflow) each sub-database of the log holds:
 * what a commit's random-key inserts are spread over. */
static void measure_pages(struct growth *g, struct figures *fig)
{
	ppx_log *log = g->log;
	MDB_txn *txn;

	if (mdb_txn_begin(log->env, NULL, MDB_RDONLY, &txn) != 0)
		die("mdb_txn_begin");
	for (int i = 0; i < NUM_DBS; i++) {
		MDB_stat st;

		if (mdb_stat(txn, log->dbi[i], &st) != 0)
			die("mdb_stat");
		fig->pages[i] = (double)(st.ms_leaf_pages + st.ms_branch_pages +
					 st.ms_overflow_pages);
	}
	mdb_txn_abort(txn);
}

/* Median µs of ppx_log_find() for random existing ids. */
static double measure_find(struct growth *g, uint64_t size, double *us)
{
	for (int i = 0; i < LOOKUPS; i++) {
		uint64_t seq = rng_next(g) % size, found;
		int in = (int)(seq & 1);
		double t = now_s();

		if (ppx_log_find(g->log, in ? PPX__V1__ENTRY_KIND__ENTRY_RECEIVED
					    : PPX__V1__ENTRY_KIND__ENTRY_SENT,
				 in ? "probation.gwent" : "", g->ids[seq],
				 PPX_MESSAGE_ID_LEN, &found) != 0)
			die("find");
		us[i] = (now_s() - t) * 1e6;
		if (found != seq)
			die("find found another entry");
	}
	return median(us, LOOKUPS);
}

/* Median µs to list the entries about a random existing id and decode
 * them, as ppx_records_find() does. */
static double measure_by_id(struct growth *g, uint64_t size, double *us)
{
	for (int i = 0; i < LOOKUPS; i++) {
		uint64_t seq = rng_next(g) % size, *seqs = NULL;
		size_t n = 0;
		double t = now_s();

		if (ppx_log_by_message(g->log, g->ids[seq], PPX_MESSAGE_ID_LEN,
				       &seqs, &n, 4096) != 0)
			die("by message");
		for (size_t j = 0; j < n; j++) {
			Ppx__V1__LogEntry *e = NULL;

			if (ppx_log_get(g->log, seqs[j], &e) != 0)
				die("get");
			ppx__v1__log_entry__free_unpacked(e, NULL);
		}
		us[i] = (now_s() - t) * 1e6;
		free(seqs);
		if (n != 1)
			die("by message found no entry");
	}
	return median(us, LOOKUPS);
}

/* Median µs to read every entry of the subject of a random existing entry
 * through the subject index; *mean_n is how many entries that was. */
static double measure_by_subject(struct growth *g, uint64_t size, double *us,
				 double *mean_n)
{
	uint64_t total = 0;

	for (int i = 0; i < LOOKUPS; i++) {
		uint64_t seq = rng_next(g) % size, *seqs = NULL;
		char pnc[32], crn[16], key[40];
		size_t n = 0;
		double t;

		subject_ids(pnc, sizeof(pnc), crn, sizeof(crn),
			    g->subject[seq]);
		snprintf(key, sizeof(key), "pnc:%s", pnc);
		t = now_s();
		if (ppx_log_by_subject(g->log, key, &seqs, &n, 1u << 20) != 0)
			die("by subject");
		for (size_t j = 0; j < n; j++) {
			uint8_t *data = NULL;
			size_t len = 0;

			if (ppx_log_get_raw(g->log, seqs[j], &data, &len) != 0)
				die("get raw");
			free(data);
		}
		us[i] = (now_s() - t) * 1e6;
		free(seqs);
		if (n == 0)
			die("by subject found no entry");
		total += n;
	}
	*mean_n = (double)total / LOOKUPS;
	return median(us, LOOKUPS);
}

/* µs per raw OpenSSL Ed25519 verification, by the clock and in CPU time,
 * medians of RUNS runs. */
static void raw_verify(struct figures *fig, ppx_signer *signer)
{
	EVP_PKEY *pub =
		X509_get0_pubkey(ppxi_cert_x509(ppx_signer_cert(signer)));
	uint8_t tbs[400], sig[PPX_SIG_MAX];
	size_t siglen = sizeof(sig);
	double us[RUNS], cpu[RUNS];

	memset(tbs, 0x5a, sizeof(tbs));
	if (ppx_signer_sign(signer, sig, sizeof(sig), &siglen, tbs,
			    sizeof(tbs)) != 0)
		die("sign");
	for (int r = 0; r < RUNS; r++) {
		double start = now_s(), c = cpu_s(), t;
		long n = 0;

		do {
			EVP_MD_CTX *m = EVP_MD_CTX_new();
			int ok = EVP_DigestVerifyInit(m, NULL, NULL, NULL,
						      pub) == 1 &&
				 EVP_DigestVerify(m, sig, siglen, tbs,
						  sizeof(tbs)) == 1;

			EVP_MD_CTX_free(m);
			if (!ok)
				die("raw verify");
			n++;
		} while ((t = now_s() - start) < RAW_SECONDS);
		us[r] = t * 1e6 / (double)n;
		cpu[r] = (cpu_s() - c) * 1e6 / (double)n;
	}
	fig->raw_verify_us = median(us, RUNS);
	fig->raw_verify_cpu_us = median(cpu, RUNS);
}

/* ppx_log_check() in this process, or (in_child) ppx_log_check_dir() as
 * ppxd runs it at start, over the whole log: seconds, median of `runs`. */
static double time_check(struct growth *g, uint64_t size, int runs,
			 int in_child)
{
	double s[3];

	for (int r = 0; r < runs; r++) {
		ppx_verify_report rep;
		double t = now_s();
		int rc = in_child ? ppx_log_check_dir(&rep, g->dir, NULL)
				  : ppx_log_check(&rep, g->log);

		if (rc != 0 || !rep.ok || rep.entries != size)
			die(in_child ? "the start-up check" : "ppx_log_check");
		s[r] = now_s() - t;
	}
	return median(s, (size_t)runs);
}

/* ppx_log_verify() over the whole log: seconds, median of 3 runs below
 * 10^6 entries, one run at 10^6. */
static void measure_verify(struct growth *g, uint64_t size,
			   struct figures *fig)
{
	double s[3], cpu[3];
	int runs = size < 1000000 ? 3 : 1;

	fig->check_s = time_check(g, size, runs, 0);
	fig->check_us = fig->check_s * 1e6 / (double)size;
	fig->check_dir_s = time_check(g, size, runs, 1);
	fig->check_dir_us = fig->check_dir_s * 1e6 / (double)size;
	raw_verify(fig, g->police);
	for (int r = 0; r < runs; r++) {
		ppx_verify_report rep;
		double t = now_s(), c = cpu_s();

		if (ppx_log_verify(&rep, g->log, g->trust) != 0)
			die("verify");
		s[r] = now_s() - t;
		cpu[r] = cpu_s() - c;
		if (!rep.ok || rep.entries != size || rep.signatures != size) {
			fprintf(stderr, "bench_growth: verify of %llu entries: "
				"ok %d, %llu entries, %llu signatures: %s\n",
				(unsigned long long)size, rep.ok,
				(unsigned long long)rep.entries,
				(unsigned long long)rep.signatures, rep.reason);
			exit(1);
		}
	}
	fig->verify_s = median(s, (size_t)runs);
	fig->verify_us = fig->verify_s * 1e6 / (double)size;
	fig->verify_cpu_us = median(cpu, (size_t)runs) * 1e6 / (double)size;
}

/*
 * The start-up check as ppxd runs it (ppx_log_check_dir_mode(), from the
 * check seal): on a copy of the log with a checkpoint appended, so that
 * its seal is at `size`, as after a clean stop (the daemon also moves the
 * seal with every checkpoint_every entries).  Median of 3 runs, seconds.
 */
static void measure_startup(struct growth *g, uint64_t size,
			    struct figures *fig)
{
	char dir[] = "/tmp/ppx-bench-startup-XXXXXX", path[64];
	ppx_log *copy = NULL;
	double s[3];
	int fd;

	if (!mkdtemp(dir))
		die("startup: mkdtemp");
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    ppx_log_copy_fd(g->log, fd) != 0 || close(fd) != 0 ||
	    ppx_log_open(&copy, dir, NULL) != 0 ||
	    ppx_checkpoint_append(copy, g->police, NULL, NULL, NULL) != 0)
		die("startup: a sealed copy");
	ppx_log_close(copy);
	for (int r = 0; r < 3; r++) {
		ppx_verify_report rep;
		double t = now_s();

		if (ppx_log_check_dir_mode(&rep, dir, NULL,
					   PPX_CHECK_SEALED) != 0 ||
		    !rep.ok || rep.from != size)
			die("the start-up check from the seal");
		s[r] = now_s() - t;
	}
	fig->sealed_s = median(s, 3);
	tmpdir_clear(dir);
}

/* ppx_log_verify_jobs() with 2 threads (each its own trust store), as
 * many runs as measure_verify() made with one: the speed-up of
 * `ppx verify --jobs 2` over --jobs 1. */
static void measure_verify_jobs(struct growth *g, uint64_t size,
				struct figures *fig)
{
	const ppx_trust *trusts[2] = {g->trust, trust_demo()};
	int runs = size < 1000000 ? 3 : 1;
	double s[3];

	for (int r = 0; r < runs; r++) {
		ppx_verify_report rep;
		double t = now_s();

		if (ppx_log_verify_jobs(&rep, g->log, trusts, 2) != 0 ||
		    !rep.ok || rep.entries != size || rep.signatures != size)
			die("verify with 2 jobs");
		s[r] = now_s() - t;
	}
	ppx_trust_free((ppx_trust *)trusts[1]);
	fig->verify2_s = median(s, (size_t)runs);
	fig->verify_speedup = fig->verify_s / fig->verify2_s;
}

static void measure_at(struct growth *g, uint64_t size, struct figures *fig)
{
	double *us = malloc(LOOKUPS * sizeof(*us));

	if (!us)
		die("out of memory");
	fig->find_us = measure_find(g, size, us);
	fig->by_id_us = measure_by_id(g, size, us);
	fig->by_subject_us = measure_by_subject(g, size, us,
						&fig->subject_entries);
	free(us);
	measure_verify(g, size, fig);
	measure_verify_jobs(g, size, fig);
	measure_startup(g, size, fig);
	measure_pages(g, fig);
	measure_append(g, fig);
}

static double field(const struct figures *f, size_t offset)
{
	return *(const double *)(const void *)((const char *)f + offset);
}

/* One row of the table: the figure at each size and its ratio to the
 * figure at 10^4. */
static void row(const char *label, int decimals, const struct figures *f,
		size_t n, size_t offset)
{
	double base = field(&f[0], offset);

	printf("%-40s", label);
	for (size_t i = 0; i < n; i++) {
		double v = field(&f[i], offset);
		char num[32];

		snprintf(num, sizeof(num), "%.*f", decimals, v);
		if (i == 0)
			printf(" %12s        ", num);
		else
			printf(" %12s (%5.2fx)", num, v / base);
	}
	printf("\n");
}

/* A row of one figure divided by another, at each size. */
static void ratio_row(const char *label, const struct figures *f, size_t n,
		      size_t num, size_t den)
{
	printf("%-40s", label);
	for (size_t i = 0; i < n; i++)
		printf(" %12.2f        ", field(&f[i], num) / field(&f[i], den));
	printf("\n");
}

#define ROW(label, decimals, field) \
	row(label, decimals, fig, n, offsetof(struct figures, field))

/* The start-up check from the seal and the verify speed-up. */
static void report_startup(const struct figures *fig, size_t n)
{
	ROW("start-up check from the seal (s)", 3, sealed_s);
	ratio_row("start-up from seal / whole-log check", fig, n,
		  offsetof(struct figures, sealed_s),
		  offsetof(struct figures, check_dir_s));
	ROW("ppx_log_verify, 2 jobs, whole log (s)", 2, verify2_s);
	ROW("verify speed-up, 2 jobs / 1 (aim 1.8)", 2, verify_speedup);
}

static void report(const struct figures *fig, size_t n)
{
	printf("\n%-40s", "log size (entries)");
	for (size_t i = 0; i < n; i++)
		printf(" %12llu %s", (unsigned long long)sizes[i],
		       i ? "(x 10^4) " : "        ");
	printf("\n");
	ROW("durable append, group of 1000 (/s)", 0, append_group);
	ROW("  written per commit of 1000 (MB)", 1, group_mb);
	ROW("  written per entry, groups of 1000 (B)", 0, group_entry_b);
	ROW("durable append, group of 1 (/s)", 0, append_one);
	ROW("  written per commit of 1 (KB)", 1, one_kb);
	ROW("raw LMDB fsynced commit, same run (/s)", 0, raw_commit);
	ratio_row("append of 1000 / raw commit", fig, n,
		  offsetof(struct figures, append_group),
		  offsetof(struct figures, raw_commit));
	ratio_row("append of 1 / raw commit", fig, n,
		  offsetof(struct figures, append_one),
		  offsetof(struct figures, raw_commit));
	for (int i = 0; i < NUM_DBS; i++) {
		char label[64];

		snprintf(label, sizeof(label), "  pages of sub-database %s",
			 ppxi_logstore_db_name(i));
		row(label, 0, fig, n, offsetof(struct figures, pages) +
				      (size_t)i * sizeof(double));
	}
	ROW("find by id, dedupe index (us)", 1, find_us);
	ROW("entries by id + decode (us)", 1, by_id_us);
	ROW("entries by subject + read (us)", 1, by_subject_us);
	ROW("  entries per subject looked up", 1, subject_entries);
	ROW("ppx_log_check, whole log (s)", 2, check_s);
	ROW("ppx_log_check per entry (us)", 2, check_us);
	ROW("start-up check, child, whole log (s)", 2, check_dir_s);
	ROW("start-up check per entry (us)", 2, check_dir_us);
	ratio_row("start-up check / ppx_log_check", fig, n,
		  offsetof(struct figures, check_dir_s),
		  offsetof(struct figures, check_s));
	ROW("ppx_log_verify, whole log (s)", 2, verify_s);
	ROW("ppx_log_verify per entry (us)", 1, verify_us);
	ROW("raw Ed25519 verify, same run (us)", 1, raw_verify_us);
	ratio_row("verify per entry / raw verify", fig, n,
		  offsetof(struct figures, verify_us),
		  offsetof(struct figures, raw_verify_us));
	ROW("ppx_log_verify CPU per entry (us)", 1, verify_cpu_us);
	ROW("raw Ed25519 verify CPU (us)", 1, raw_verify_cpu_us);
	ratio_row("verify CPU per entry / raw verify CPU", fig, n,
		  offsetof(struct figures, verify_cpu_us),
		  offsetof(struct figures, raw_verify_cpu_us));
	report_startup(fig, n);
}

/* GROWTH_MAX is the largest size: below 10^6 for quick runs, 10^7 for the
 * long run (hours and about 12 GB of disk); 10^6 when it is not set. */
static size_t sizes_wanted(void)
{
	const char *s = getenv("GROWTH_MAX");
	char *end;
	unsigned long long max = DEFAULT_MAX;
	size_t n = 0;

	if (s && *s)
		max = strtoull(s, &end, 10);
	if (s && *s && (*end || max < sizes[0])) {
		fprintf(stderr, "bench_growth: GROWTH_MAX=%s: must be a "
			"number of entries, at least %llu\n", s,
			(unsigned long long)sizes[0]);
		exit(1);
	}
	while (n < SIZES && sizes[n] <= max)
		n++;
	return n;
}

int main(void)
{
	struct growth g = {.rng = 0x9e3779b97f4a7c15ULL};
	struct figures fig[SIZES] = {{0}};
	char dir[] = "/tmp/ppx-bench-growth-XXXXXX", path[64];
	size_t n = sizes_wanted();
	struct stat st;

	g.cap = sizes[n - 1] + n * APPENDED;
	g.ids = malloc(g.cap * sizeof(*g.ids));
	g.subject = malloc(g.cap * sizeof(*g.subject));
	if (!g.ids || !g.subject || !mkdtemp(dir))
		die("setup");
	g.dir = dir;
	g.police = signer_at("police.gwent");
	g.probation = signer_at("probation.gwent");
	g.trust = trust_demo();
	if (ppx_log_open(&g.log, dir, NULL) != 0)
		die("log open");
	for (size_t i = 0; i < n; i++) {
		double t = now_s();

		grow_to(&g, sizes[i]);
		printf("log grown to %llu entries (%.1f s sealing and "
		       "appending); measuring\n", (unsigned long long)sizes[i],
		       now_s() - t);
		fflush(stdout);
		measure_at(&g, sizes[i], &fig[i]);
	}
	report(fig, n);
	printf("(%d subjects; %d lookups each; appends: median of %d runs of "
	       "%d commits of %d and %d of 1)\n", SUBJECTS, LOOKUPS, RUNS,
	       RUN_GROUPS, GROUP, RUN_ONES);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) == 0)
		printf("log file: %.0f MB for %llu entries\n",
		       (double)st.st_size / 1e6,
		       (unsigned long long)ppx_log_size(g.log));
	ppx_log_close(g.log);
	tmpdir_clear(dir);
	ppx_trust_free(g.trust);
	ppx_signer_free(g.police);
	ppx_signer_free(g.probation);
	free(g.ids);
	free(g.subject);
	return 0;
}
