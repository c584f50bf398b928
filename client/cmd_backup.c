/*
 * cmd_backup.c — `ppx backup --to FILE`: a consistent, compacted copy of a
 * running daemon's log, checked before it is kept.
 *
 * A backup is a read of everything, so it goes where reads go
 * (readvia.c): through the daemon's read socket, which checks the
 * operator, logs an ENTRY_READ with the reason ("backup" unless --reason
 * says otherwise) and runs `ppx backup` as itself with our temporary file
 * (FILE.tmp-XXXXXX, mkostemp: ours alone) as its
 * standard output; or, with --log DIR (root or the daemon's user), the log
 * is copied directly after a record of the read is left in DIR/reads/.
 * Either way the copy is one read transaction of LMDB's (ppx_log_copy_fd):
 * one committed state of the log, taken while the daemon appends.
 *
 * Then the copy is checked as `ppx verify` checks a log (chain, tree,
 * indexes, every signature, in a child process: ppx_log_check_dir()),
 * synced, and linked to FILE, which is never replaced without --force.
 * What it holds is printed: entries, bytes, the newest checkpoint in it,
 * the newest one a partner cosigned, and the file's SHA-256.  Exit 0 only
 * for a verified copy; anything else leaves no FILE behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "client.h"
#include "ppx/checkpoint.h"
#include "ppx/config.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "ppx/timefmt.h"

#define GRANT_ENV "PPX_READ_GRANT"
#define SCAN_BACK_MAX 200000	/* entries looked at for checkpoints */

static const char usage[] =
	"usage: ppx backup --to FILE [--config FILE | --log DIR (--pki DIR | "
	"--ca F --crl F [--certs D])]\n"
	"                  [--reason TEXT] [--force] [--json]\n"
	"Copies the log of the running daemon (through its read socket, as\n"
	"a logged read; with --log, directly) into FILE, compacted and\n"
	"consistent, checks the copy as ppx verify does and prints what it\n"
	"holds.  FILE is not replaced unless --force.  Exit 0: a verified\n"
	"copy is in FILE; 1: the copy does not verify; 2: usage; 3: cannot.\n";

/* ---- the copy, in the daemon's child or directly ----------------------- */

/* `ppx backup [--config F | --log DIR] [--output TMP [--force]]` as
 * read_via() runs it: the log's data copied to --output (the unique
 * temporary file backup() made, hence --force) or to standard output
 * (the file the client passed to the daemon). */
static int copy_run(int argc, char **argv)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	const char *config = NULL, *dir = NULL, *output = NULL;
	struct ppx_config *cfg = NULL;
	ppx_log *log = NULL;
	int fd = STDOUT_FILENO, rc = 0, force = 0;

	for (int i = 1; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (i + 1 < argc && strcmp(argv[i], "--config") == 0)
			config = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--log") == 0)
			dir = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--output") == 0)
			output = argv[++i];
		else
			rc = ppx_error_set(PPX_EINVAL, "unexpected argument "
					   "%s", argv[i]);
	}
	if (rc == 0 && !dir &&
	    (rc = ppx_config_load(&cfg, config_path_default(config))) == 0)
		dir = cfg->log_dir;
	if (rc == 0 && output &&
	    (fd = open(output, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		       (force ? O_TRUNC : O_EXCL), 0600)) < 0)
		rc = ppx_error_set(PPX_EIO, "cannot create %s: %s", output,
				   strerror(errno));
	if (rc == 0)
		rc = ppx_log_open(&log, dir, &ro);
	if (rc == 0)
		rc = ppx_log_copy_fd(log, fd);
	if (rc != 0)
		fprintf(stderr, "ppx backup: %s\n", ppx_error_last());
	ppx_log_close(log);
	if (fd != STDOUT_FILENO)
		close(fd);
	ppx_config_free(cfg);
	return ppx_exit_code(rc);
}

/* ---- what a copy holds ----------------------------------------------- */

/* The envelope of our checkpoint an entry holds: an ENTRY_CHECKPOINT's
 * Frame{checkpoint}, or the Frame{witness} of an ENTRY_COSIGNED (our
 * checkpoint, which a partner cosigned).  *frame and *rec own it. */
static const Ppx__V1__Envelope *checkpoint_env(Ppx__V1__Frame **frame,
					       Ppx__V1__WitnessRecord **rec,
					       const Ppx__V1__LogEntry *e)
{
	const ProtobufCBinaryData *bytes = &e->data;

	*frame = NULL;
	*rec = NULL;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_COSIGNED) {
		if (!(*rec = ppx__v1__witness_record__unpack(
			      NULL, e->data.len, e->data.data)))
			return NULL;
		bytes = &(*rec)->request;
	} else if (e->kind != PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT) {
		return NULL;
	}
	if (ppx_frame_decode(frame, bytes->data, bytes->len) != 0)
		return NULL;
	if ((*frame)->content_case == PPX__V1__FRAME__CONTENT_CHECKPOINT)
		return (*frame)->checkpoint;
	if ((*frame)->content_case == PPX__V1__FRAME__CONTENT_WITNESS)
		return (*frame)->witness->checkpoint;
	return NULL;
}

static void checkpoint_env_free(Ppx__V1__Frame *frame,
				Ppx__V1__WitnessRecord *rec)
{
	if (frame)
		ppx__v1__frame__free_unpacked(frame, NULL);
	if (rec)
		ppx__v1__witness_record__free_unpacked(rec, NULL);
}

/* The checkpoint an entry holds, decoded, not judged (the copy verified). */
static Ppx__V1__Checkpoint *checkpoint_in(const Ppx__V1__LogEntry *e)
{
	Ppx__V1__WitnessRecord *rec;
	Ppx__V1__Frame *f;
	const Ppx__V1__Envelope *env = checkpoint_env(&f, &rec, e);
	Ppx__V1__Checkpoint *cp = NULL;

	if (env)
		cp = ppx__v1__checkpoint__unpack(NULL, env->signed_body.len,
						 env->signed_body.data);
	if (cp && cp->root_hash.len != PPX_HASH_LEN) {
		ppx__v1__checkpoint__free_unpacked(cp, NULL);
		cp = NULL;
	}
	checkpoint_env_free(f, rec);
	return cp;
}

int backup_check_agency(const char *file, uint64_t seq,
			const ppx_trust *trust, const char *agency)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	Ppx__V1__Checkpoint *cp = NULL;
	Ppx__V1__WitnessRecord *rec = NULL;
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__LogEntry *e = NULL;
	const Ppx__V1__Envelope *env;
	ppx_identity signer;
	ppx_log *log = NULL;
	int rc;

	if ((rc = ppx_log_open(&log, file, &ro)) == 0)
		rc = ppx_log_get(log, seq, &e);
	if (rc == 0 && !(env = checkpoint_env(&f, &rec, e)))
		rc = ppx_error_set(PPX_EBODY, "entry %llu holds no checkpoint",
				   (unsigned long long)seq);
	if (rc == 0)
		rc = ppx_envelope_verify(trust, env,
					 PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
					 agency, 0, &signer);
	if (rc == 0)
		rc = ppx_checkpoint_decode(&cp, env, agency);
	if (cp)
		ppx__v1__checkpoint__free_unpacked(cp, NULL);
	checkpoint_env_free(f, rec);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	ppx_log_close(log);
	return rc;
}

void backup_info_clear(struct backup_info *b)
{
	if (b->newest)
		ppx__v1__checkpoint__free_unpacked(b->newest, NULL);
	if (b->cosigned)
		ppx__v1__checkpoint__free_unpacked(b->cosigned, NULL);
	memset(b, 0, sizeof(*b));
}

/* The newest checkpoint and the newest cosigned one, walking back from
 * the end (at most SCAN_BACK_MAX entries). */
static int scan_back(struct backup_info *b, ppx_log *log)
{
	uint64_t n = ppx_log_size(log), stop;
	int rc = 0;

	stop = n > SCAN_BACK_MAX ? n - SCAN_BACK_MAX : 0;
	for (uint64_t s = n; s > stop && (!b->newest || !b->cosigned); s--) {
		Ppx__V1__LogEntry *e = NULL;
		Ppx__V1__Checkpoint **slot = NULL;

		if ((rc = ppx_log_get(log, s - 1, &e)) != 0)
			return rc;
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT &&
		    !b->newest)
			slot = &b->newest;
		else if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_COSIGNED &&
			 !b->cosigned)
			slot = &b->cosigned;
		if (slot && (*slot = checkpoint_in(e)) != NULL) {
			if (slot == &b->newest)
				b->newest_seq = s - 1;
			else {
				b->cosigned_seq = s - 1;
				snprintf(b->cosigner, sizeof(b->cosigner),
					 "%s", e->peer_agency);
			}
		}
		if (s == n)
			b->last_ms = e->time_ms;
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return 0;
}

static int file_sha256(uint8_t out[PPX_HASH_LEN], const char *path)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t buf[65536];
	unsigned len = 0;
	FILE *f = fopen(path, "rb");
	size_t n;
	int ok = md && f && EVP_DigestInit_ex(md, EVP_sha256(), NULL);

	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(md, buf, n);
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, out, &len);
	if (f)
		fclose(f);
	EVP_MD_CTX_free(md);
	return ok ? 0 : ppx_error_set(PPX_EIO, "cannot hash %s", path);
}

int backup_info_read(struct backup_info *out, const char *file,
		     const ppx_trust *trust)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_log *log = NULL;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ppx_log_check_dir(&out->report, file, trust)) != 0)
		return rc;
	if (!out->report.ok)
		return 0;
	if (stat(file, &st) != 0)
		return ppx_error_set(PPX_EIO, "cannot stat %s: %s", file,
				     strerror(errno));
	out->bytes = (uint64_t)st.st_size;
	if ((rc = ppx_log_open(&log, file, &ro)) == 0) {
		out->entries = ppx_log_size(log);
		if (out->entries > 0)
			rc = ppx_log_root(log, out->entries, out->root);
		if (rc == 0)
			rc = scan_back(out, log);
		ppx_log_close(log);
	}
	if (rc == 0)
		rc = file_sha256(out->sha256, file);
	if (rc != 0)
		backup_info_clear(out);
	return rc;
}

void backup_info_print(const struct backup_info *b, const char *file)
{
	char hex[2 * PPX_HASH_LEN + 1], t[PPX_TIME_ISO_LEN];

	ppx_hex(hex, b->root, PPX_HASH_LEN);
	printf("%s: verified: %llu entries, %llu bytes, root %s\n", file,
	       (unsigned long long)b->entries, (unsigned long long)b->bytes,
	       hex);
	ppx_time_iso(t, sizeof(t), b->last_ms);
	printf("  newest entry: %s\n", t);
	if (b->newest) {
		ppx_hex(hex, b->newest->root_hash.data, PPX_HASH_LEN);
		ppx_time_iso(t, sizeof(t), b->newest->time_ms);
		printf("  newest checkpoint: entry %llu, tree size %llu, "
		       "root %s, %s\n", (unsigned long long)b->newest_seq,
		       (unsigned long long)b->newest->tree_size, hex, t);
	} else {
		printf("  newest checkpoint: none\n");
	}
	if (b->cosigned)
		printf("  newest cosigned: tree size %llu, by %s\n",
		       (unsigned long long)b->cosigned->tree_size,
		       b->cosigner);
	else
		printf("  newest cosigned: none in the copy\n");
	ppx_hex(hex, b->sha256, PPX_HASH_LEN);
	printf("  sha256 %s\n", hex);
}

/* ---- ppx backup --to FILE --------------------------------------------- */

struct backup_opts {
	const char *to, *config, *log_dir, *reason, *ca, *crl, *certs;
	int force;
	char ca_buf[PATH_MAX], crl_buf[PATH_MAX], certs_buf[PATH_MAX];
};

/* --pki DIR: a ppx-pki layout's CA, CRL and certificates. */
static int pki_paths(struct backup_opts *o, const char *pki)
{
	if ((size_t)snprintf(o->ca_buf, sizeof(o->ca_buf), "%s/ca/ca.crt",
			     pki) >= sizeof(o->ca_buf) ||
	    (size_t)snprintf(o->crl_buf, sizeof(o->crl_buf), "%s/ca/crl.pem",
			     pki) >= sizeof(o->crl_buf) ||
	    (size_t)snprintf(o->certs_buf, sizeof(o->certs_buf), "%s/certs",
			     pki) >= sizeof(o->certs_buf)) {
		fprintf(stderr, "ppx backup: --pki path too long\n");
		return PPX_EINVAL;
	}
	o->ca = o->ca_buf;
	o->crl = o->crl_buf;
	o->certs = o->certs_buf;
	return 0;
}

static int parse(struct backup_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"to", required_argument, NULL, 't'},
		{"config", required_argument, NULL, 'c'},
		{"reason", required_argument, NULL, 'r'},
		{"force", no_argument, NULL, 'f'},
		{"log", required_argument, NULL, 'l'},
		{"pki", required_argument, NULL, 'p'},
		{"ca", required_argument, NULL, 'a'},
		{"crl", required_argument, NULL, 'C'},
		{"certs", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->reason = "backup";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': o->to = optarg; break;
		case 'c': o->config = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'f': o->force = 1; break;
		case 'l': o->log_dir = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'C': o->crl = optarg; break;
		case 'e': o->certs = optarg; break;
		case 'p':
			if (pki_paths(o, optarg) != 0)
				return PPX_EINVAL;
			break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return PPX_EINVAL;
		}
	}
	if (optind != argc || !o->to || !*o->reason) {
		fprintf(stderr, "ppx backup: --to FILE, no argument, and a "
			"reason if --reason is given\n%s", usage);
		return PPX_EINVAL;
	}
	return 0;
}

/* The trust the copy is judged by: --pki/--ca with --log, else the
 * configuration's. */
static int trust_of(ppx_trust **out, const struct backup_opts *o)
{
	struct ppx_config *cfg = NULL;
	int rc;

	if (o->log_dir) {
		if (!o->ca || !o->crl)
			return ppx_error_set(PPX_EINVAL, "with --log, give "
					     "--pki DIR, or --ca and --crl");
		return ppx_trust_load(out, o->ca, o->crl, o->certs);
	}
	if ((rc = ppx_config_load(&cfg, config_path_default(o->config))) == 0)
		rc = ppx_trust_load(out, cfg->ca, cfg->crl, cfg->certs);
	ppx_config_free(cfg);
	return rc;
}

/* Runs the copy into tmp, ours (made by mkostemp): --force lets
 * read_via() open it again. */
static int take_copy(const struct backup_opts *o, const char *tmp)
{
	char *argv[11];
	int n = 0;

	argv[n++] = "backup";
	if (o->log_dir) {
		argv[n++] = "--log";
		argv[n++] = (char *)o->log_dir;
	} else if (o->config) {
		argv[n++] = "--config";
		argv[n++] = (char *)o->config;
	}
	argv[n++] = "--output";
	argv[n++] = (char *)tmp;
	argv[n++] = "--force";
	argv[n++] = "--reason";
	argv[n++] = (char *)o->reason;
	argv[n] = NULL;
	return read_via(n, argv, copy_run);
}

/* fsync the file and its directory, and link it to `to` (rename with
 * force): FILE appears whole or not at all. */
static int keep(const char *tmp, const char *to, int force)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(to, '/');
	int fd = open(tmp, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot sync %s: %s", tmp,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc == 0 && (force ? rename(tmp, to) : link(tmp, to)) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot create %s: %s%s", to,
				   strerror(errno), errno == EEXIST ?
				   " (choose another name, or give --force "
				   "to replace it)" : "");
	unlink(tmp);
	if (rc != 0)
		return rc;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - to) + 1 : 1,
		 slash ? to : ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

static int backup(const struct backup_opts *o)
{
	char tmp[PATH_MAX];
	struct backup_info b;
	ppx_trust *trust = NULL;
	int status, rc, fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", o->to) >=
	    sizeof(tmp))
		return ppx_exit_code(ppx_error_set(PPX_EINVAL, "--to: path "
						   "too long"));
	if (!o->force && access(o->to, F_OK) == 0) {
		fprintf(stderr, "ppx backup: %s exists (choose another name, "
			"or give --force to replace it)\n", o->to);
		return PPX_EXIT_UNAVAILABLE;
	}
	if ((rc = trust_of(&trust, o)) != 0) {
		fprintf(stderr, "ppx backup: %s\n", ppx_error_last());
		return ppx_exit_code(rc);
	}
	/* A name of our own next to FILE (same file system, for the link),
	 * so that a concurrent backup's file is never ours to remove. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fprintf(stderr, "ppx backup: cannot create a temporary file "
			"next to %s: %s\n", o->to, strerror(errno));
		ppx_trust_free(trust);
		return PPX_EXIT_UNAVAILABLE;
	}
	close(fd);
	if ((status = take_copy(o, tmp)) != 0) {
		unlink(tmp);
		ppx_trust_free(trust);
		return status;
	}
	rc = backup_info_read(&b, tmp, trust);
	ppx_trust_free(trust);
	if (rc == 0 && !b.report.ok) {
		fprintf(stderr, "ppx backup: the copy DOES NOT VERIFY at "
			"entry %llu: %s; nothing kept\n",
			(unsigned long long)b.report.first_bad, b.report.reason);
		unlink(tmp);
		return PPX_EXIT_NO;
	}
	if (rc == 0 && !b.newest && !b.cosigned) {
		fprintf(stderr, "ppx backup: the copy verifies but holds no "
			"checkpoint, so ppx restore could not tell whose log it "
			"is; nothing kept (take the backup through the daemon, "
			"which signs one first)\n");
		backup_info_clear(&b);
		unlink(tmp);
		return PPX_EXIT_NO;
	}
	if (rc == 0)
		rc = keep(tmp, o->to, o->force);
	if (rc != 0) {
		fprintf(stderr, "ppx backup: %s\n", ppx_error_last());
		unlink(tmp);
		return ppx_exit_code(rc);
	}
	backup_info_print(&b, o->to);
	backup_info_clear(&b);
	return PPX_EXIT_OK;
}

int cmd_backup(int argc, char **argv)
{
	struct backup_opts o;
	int rc;

	/* The daemon's child runs the copy alone, on its grant. */
	if (getenv(GRANT_ENV))
		return read_via(argc, argv, copy_run);
	if ((rc = parse(&o, argc, argv)) != 0)
		return rc == 1 ? PPX_EXIT_OK : PPX_EXIT_USAGE;
	return backup(&o);
}
