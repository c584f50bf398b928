/*
 * signer.c — the agency's signing key in a process of its own, after
 * OpenSMTPD's `ca` process.
 *
 * ppxd parses what partners and clients send; a memory-safety bug in any
 * of those parsers must not hand over the agency's signing key.  So the
 * key lives in a child forked by main.c right after the configuration is
 * read, before any socket is opened or anything from outside is parsed.
 * The child keeps its end of a socketpair(AF_UNIX, SOCK_SEQPACKET) and
 * stdin/stdout/stderr and closes every other descriptor; it sets
 * PR_SET_PDEATHSIG (SIGKILL: it goes when ppxd goes) and
 * PR_SET_NO_NEW_PRIVS, ignores SIGTERM, SIGINT and SIGHUP (a signal to the
 * whole process group must not take the key away before the parent's final
 * checkpoint), gets a fresh OpenSSL secure heap (memory locks are not
 * inherited across fork), loads the key with ppx_signer_open() (a key
 * file or a PKCS#11 token, as the configuration says) and serves
 * requests in order until the socket closes (the parent may write up to
 * SIGNER_BATCH requests before it reads their answers: a burst of
 * submits costs one wake-up each way, not one per message).  The parent
 * never opens the key file: its ppx_signer is made by
 * ppx_signer_with_backend() with the backend below, and at start-up it
 * has the child sign a probe and verifies it against the certificate, so
 * that a key that does not match its certificate stops the daemon there.
 *
 * The protocol.  Every packet but a request's continuations starts with a
 * struct signer_hdr (16 bytes, host byte order, the two ends being one
 * program): version (1), type, request id, payload length in all, status.
 *
 *   child -> parent   READY    once, after loading the key: status 0, or
 *                              the ppx_error code and its text as payload
 *   parent -> child   SIGN     id n, len L, the first min(L, 32 KiB) bytes
 *                              of the message; then continuation packets
 *                              of raw bytes, each min(left, 32 KiB), until
 *                              L bytes have come
 *   child -> parent   SIGNATURE  id n: the signature (at most 80 bytes)
 *                    ERROR    id n (0 if the header was unreadable):
 *                              status, and the reason as text (<= 256)
 *
 * The child refuses, with an ERROR answer and a line in the daemon's log
 * (stderr in the foreground, else syslog): a packet shorter than a header
 * or longer than a packet may be, another version, another type, an empty
 * payload or one longer than max_frame plus the longest prefix, a packet
 * whose size does not match what the length leaves, and any message that
 * does not begin with one of ppx's own to-be-signed prefixes, "ppx/v1/"
 * label 0x00 (ppx_tbs_purpose(), whose labels are listed once in
 * lib/envelope.c; a "batch" message must be exactly its 53 bytes: a
 * size and a Merkle root, PROTOCOL.md 3.4).  So a compromised parser can
 * have the agency sign bodies, receipts, checkpoints and batch roots —
 * which it could ask for anyway — but no bytes that something else would
 * accept as signed by the agency.
 * Two text forms are signed besides (lib/note.c, PROTOCOL.md 11.1): the
 * C2SP note text of a checkpoint of this agency, and a cosignature/v1
 * message over any well-formed checkpoint note; both are exactly
 * parsed, hold no NUL and cannot begin with "ppx/v1/".
 * A message refused as too long has its continuations read and dropped;
 * after any other refusal the child reads the next packet as a new
 * request (the parent never sends a malformed one).
 *
 * Failure.  The parent waits at most SIGNER_TIMEOUT_MS for any packet to
 * go or come (SO_SNDTIMEO, SO_RCVTIMEO).  If the child dies, closes its
 * socket, does not answer in time or answers out of turn, the signer is
 * lost for good: signing fails from then on, signer_lost() says so and the
 * event loop (ppxd.c) stops the daemon with that error and exit status 1.
 * Nothing is lost with it: the log is durable and the outbox resends what
 * has no receipt after a restart.  The parent reaps the child, and when
 * the parent closes its end the child frees its key and exits (0), so
 * valgrind's leak check runs on both.
 *
 * No seccomp filter.  The child's system calls once the key is loaded are
 * few (recvmsg, sendmsg, write or sendto for the log, brk/mmap/munmap,
 * exit), and a libseccomp allow-list of those works in a native build; but
 * tried on this Debian 12 (libseccomp 2.5.4, valgrind 3.19), valgrind does
 * not implement the seccomp system call ("unhandled amd64-linux syscall:
 * 317", so seccomp_load() fails), and under ASan LeakSanitizer's exit-time
 * check makes calls (clone, ptrace, opening /proc/self/maps) that such a
 * list must refuse, and the process is killed with SIGSYS.  A filter that
 * the leak-checked builds cannot run would leave the code they test
 * different from the code that ships, so there is none; the isolation is
 * the separate address space, the closed descriptors and NO_NEW_PRIVS.
 *
 * The CURVE secret (transport_key) cannot move here: libzmq takes it as
 * bytes through ZMQ_CURVE_SECRETKEY and runs the CurveZMQ handshake in its
 * own I/O thread, with no callback through which an outside process could
 * do the key agreement.  It stays in the parsing process, wiped in main.c
 * as soon as the transport has it (docs/ARCHITECTURE.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/note.h"
#include "ppx/signer_open.h"
#include "signer.h"

#define SECURE_HEAP (64 * 1024)	/* as main.c's */
#define SECURE_HEAP_MIN 32
#define REAP_WAIT_MS 30000	/* for the child to exit once told to */

_Static_assert(sizeof(struct signer_hdr) == 16, "signer header is 16 bytes");

struct signer_proc {
	int fd;			/* our end of the socket pair, or -1 */
	pid_t pid;		/* the child, 0 once reaped */
	uint32_t next_id;
	int lost;
	char why[256];		/* why it is lost */
};

/* ------------------------------------------------------------------ */
/* Packets, both sides                                                 */
/* ------------------------------------------------------------------ */

/* Send one packet: a header (if any) and `len` bytes. */
static int send_packet(int fd, const struct signer_hdr *h, const void *data,
		       size_t len)
{
	struct iovec iov[2];
	struct msghdr m = {.msg_iov = iov};
	ssize_t n;

	if (h) {
		iov[m.msg_iovlen].iov_base = (void *)h;
		iov[m.msg_iovlen++].iov_len = SIGNER_HDR_LEN;
	}
	if (len) {
		iov[m.msg_iovlen].iov_base = (void *)data;
		iov[m.msg_iovlen++].iov_len = len;
	}
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ppx_error_set(PPX_EIO, "%s", errno == EAGAIN ?
				     "timed out" : strerror(errno));
	return 0;
}

/* Receive one packet of at most `cap` bytes; *trunc if it was longer.
 * The length, 0 at end of file, or -1 with errno. */
static ssize_t recv_packet(int fd, void *buf, size_t cap, int *trunc)
{
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	do
		n = recvmsg(fd, &m, 0);
	while (n < 0 && errno == EINTR);
	*trunc = (m.msg_flags & MSG_TRUNC) != 0;
	return n;
}

int signer_parse_request(struct signer_hdr *out, const uint8_t *pkt,
			 size_t n, int trunc, size_t max)
{
	size_t first;

	if (n < SIGNER_HDR_LEN)
		return ppx_error_set(PPX_EFRAME, "packet of %zu bytes, shorter "
				     "than a header", n);
	memcpy(out, pkt, SIGNER_HDR_LEN);
	if (out->version != SIGNER_VERSION)
		return ppx_error_set(PPX_EVERSION, "protocol version %u, not %u",
				     out->version, SIGNER_VERSION);
	if (out->type != SIGNER_SIGN)
		return ppx_error_set(PPX_EFRAME, "request type %u is not SIGN",
				     out->type);
	if (trunc)
		return ppx_error_set(PPX_EFRAME, "packet longer than %zu "
				     "bytes", SIGNER_HDR_LEN + SIGNER_CHUNK);
	if (out->len == 0)
		return ppx_error_set(PPX_EFRAME, "empty message");
	first = out->len < SIGNER_CHUNK ? out->len : SIGNER_CHUNK;
	if (n - SIGNER_HDR_LEN != first)
		return ppx_error_set(PPX_EFRAME, "%zu payload bytes in the "
				     "first packet of a %u-byte message, not "
				     "%zu", n - SIGNER_HDR_LEN, out->len,
				     first);
	if (out->len > max)	/* last: its continuations are well formed */
		return ppx_error_set(PPX_ETOOBIG, "message of %u bytes (at "
				     "most %zu are signed)", out->len, max);
	return 0;
}

int signer_check_message(const uint8_t *msg, size_t len,
			 const char *agency)
{
	if (ppx_tbs_purpose(msg, len) == 0 &&
	    ppx_note_sign_form(msg, len, agency) == 0)
		return ppx_error_set(PPX_EPURPOSE, "message does not begin "
				     "with a ppx label (\"ppx/v1/\" body, "
				     "receipt, checkpoint, restore or batch, "
				     "then 0x00) and is "
				     "no checkpoint note of %s nor a "
				     "cosignature/v1 message",
				     agency ? agency : "this agency");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The child                                                           */
/* ------------------------------------------------------------------ */

/* Answer request `id` with an error: the code and ppx_error_last(). */
static void child_refuse(int fd, uint32_t id, int code)
{
	const char *text = ppx_error_last();
	size_t len = strlen(text);
	struct signer_hdr h = {SIGNER_VERSION, SIGNER_ERROR, id, 0, code};

	if (len > SIGNER_TEXT_MAX)
		len = SIGNER_TEXT_MAX;
	h.len = (uint32_t)len;
	log_warnx("signer process: request %u refused: %s", id, text);
	if (send_packet(fd, &h, text, len) != 0)
		log_warnx("signer process: cannot answer: %s",
			  ppx_error_last());
}

/* The rest of a message after its first packet, into msg[have..len). */
static int child_read_rest(int fd, uint8_t *msg, size_t have, size_t len)
{
	while (have < len) {
		size_t want = len - have < SIGNER_CHUNK ? len - have
							  : SIGNER_CHUNK;
		int trunc;
		ssize_t n = recv_packet(fd, msg + have, want, &trunc);

		if (n <= 0)
			return ppx_error_set(PPX_EIO, "socket closed in a "
					     "request");
		if (trunc || (size_t)n != want)
			return ppx_error_set(PPX_EFRAME, "continuation packet "
					     "of %zd bytes, not %zu", n, want);
		have += (size_t)n;
	}
	return 0;
}

/* Read and drop the continuations of a message refused as too long, so
 * that the next packet read is the next request. */
static void child_drain(int fd, uint8_t *buf, size_t have, size_t len)
{
	while (have < len) {
		size_t want = len - have < SIGNER_CHUNK ? len - have
							  : SIGNER_CHUNK;
		int trunc;
		ssize_t n = recv_packet(fd, buf, want, &trunc);

		if (n <= 0 || trunc || (size_t)n != want)
			return;
		have += (size_t)n;
	}
}

/* Sign one message and answer with the signature. */
static int child_sign(int fd, ppx_signer *s, uint32_t id, const uint8_t *msg,
		      size_t len)
{
	struct signer_hdr h = {SIGNER_VERSION, SIGNER_SIGNATURE, id, 0, 0};
	uint8_t sig[PPX_SIG_MAX];
	size_t siglen = 0;
	int rc = signer_check_message(msg, len, ppx_signer_agency(s));

	if (rc == 0)
		rc = ppx_signer_sign(s, sig, sizeof(sig), &siglen, msg, len);
	if (rc != 0)
		return rc;
	h.len = (uint32_t)siglen;
	if (send_packet(fd, &h, sig, siglen) != 0)
		log_warnx("signer process: cannot answer: %s",
			  ppx_error_last());
	return 0;
}

/* One request whose first packet is pkt[0..n). */
static void child_request(int fd, ppx_signer *s, size_t max,
			  uint8_t *pkt, size_t n, int trunc)
{
	struct signer_hdr h = {0};
	uint8_t *msg = NULL;
	size_t first = n > SIGNER_HDR_LEN ? n - SIGNER_HDR_LEN : 0;
	int rc = signer_parse_request(&h, pkt, n, trunc, max);

	if (rc == PPX_ETOOBIG)
		child_drain(fd, pkt, first, h.len);
	if (rc == 0 && !(msg = malloc(h.len)))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	if (rc == 0) {
		memcpy(msg, pkt + SIGNER_HDR_LEN, first);
		rc = child_read_rest(fd, msg, first, h.len);
	}
	if (rc == 0)
		rc = child_sign(fd, s, h.id, msg, h.len);
	if (rc != 0)
		child_refuse(fd, h.id, rc);
	free(msg);
}

/* Serve requests until the parent closes its end. */
static void child_serve(int fd, ppx_signer *s, size_t max)
{
	uint8_t *pkt = malloc(SIGNER_HDR_LEN + SIGNER_CHUNK);
	ssize_t n;
	int trunc;

	if (!pkt) {
		log_warnx("signer process: out of memory");
		return;
	}
	while ((n = recv_packet(fd, pkt, SIGNER_HDR_LEN + SIGNER_CHUNK,
				&trunc)) > 0)
		child_request(fd, s, max, pkt, (size_t)n, trunc);
	if (n < 0)
		log_warn("signer process: reading requests");
	free(pkt);
}

/*
 * Keep only fd and the standard three; go when the parent goes; never
 * gain privileges; ignore the signals that stop a daemon (the parent
 * decides when to stop, by closing the socket); a secure heap of our own,
 * locked (mlock is not inherited).
 */
static void child_isolate(int fd, pid_t parent)
{
	closelog();		/* syslog reopens its socket when needed */
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0U, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_warn("signer process: prctl");
	if (getppid() != parent)
		exit(1);	/* the parent went before PDEATHSIG was set */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);	/* e.g. systemd's, to the whole group:
					 * the parent still signs its final
					 * checkpoint, then closes the socket */
	if (CRYPTO_secure_malloc_initialized()) {
		CRYPTO_secure_malloc_done();
		CRYPTO_secure_malloc_init(SECURE_HEAP, SECURE_HEAP_MIN);
	}
}

/* Tell the parent whether the key loaded (rc and its text). */
static void child_ready(int fd, int rc)
{
	const char *text = rc ? ppx_error_last() : "";
	size_t len = strlen(text) < SIGNER_TEXT_MAX ? strlen(text)
						    : SIGNER_TEXT_MAX;
	struct signer_hdr h = {SIGNER_VERSION, SIGNER_READY, 0,
			       (uint32_t)len, rc};

	if (send_packet(fd, &h, text, len) != 0)
		log_warnx("signer process: cannot report: %s",
			  ppx_error_last());
}

/* The child's life: never returns.  It frees its copy of everything the
 * parent had allocated that it can reach (the configuration). */
static void child_main(int fd, const struct ppx_config *cfg, pid_t parent)
{
	size_t max = (size_t)cfg->max_frame + SIGNER_LABEL_MAX;
	ppx_signer *s = NULL;
	int rc;

	child_isolate(fd, parent);
	rc = ppx_signer_open(&s, cfg);
	ppx_config_free((struct ppx_config *)cfg);
	child_ready(fd, rc);
	if (rc == 0)
		child_serve(fd, s, max);
	ppx_signer_free(s);
	close(fd);
	exit(rc == 0 ? 0 : 1);
}

/* ------------------------------------------------------------------ */
/* The parent                                                          */
/* ------------------------------------------------------------------ */

/* The signer is lost for good: note why, once (the event loop stops the
 * daemon and main.c logs it). */
static int lose(struct signer_proc *p, const char *what)
{
	if (!p->lost) {
		p->lost = 1;
		snprintf(p->why, sizeof(p->why), "signer process %d: %s; "
			 "stopping (restart ppxd: the log and the outbox are "
			 "durable)", (int)p->pid, what);
	}
	return ppx_error_set(PPX_EIO, "%s", p->why);
}

/* Read the answer to request `id`. */
static int read_answer(struct signer_proc *p, uint32_t id, uint8_t *sig,
		       size_t cap, size_t *siglen)
{
	uint8_t buf[SIGNER_HDR_LEN + SIGNER_TEXT_MAX + 1];
	struct signer_hdr h;
	int trunc;
	ssize_t n = recv_packet(p->fd, buf, sizeof(buf) - 1, &trunc);

	if (n == 0)
		return lose(p, "closed its socket (it died?)");
	if (n < 0)
		return lose(p, errno == EAGAIN ? "no answer in time" :
			    strerror(errno));
	memcpy(&h, buf, n >= (ssize_t)SIGNER_HDR_LEN ? SIGNER_HDR_LEN : 0);
	if (trunc || n < (ssize_t)SIGNER_HDR_LEN ||
	    h.version != SIGNER_VERSION || h.id != id ||
	    h.len != (size_t)n - SIGNER_HDR_LEN)
		return lose(p, "answered out of turn or garbled");
	if (h.type == SIGNER_ERROR) {
		buf[n] = 0;
		return ppx_error_set(h.status < 0 ? h.status : PPX_EIO,
				     "signer process refused to sign: %s",
				     (const char *)buf + SIGNER_HDR_LEN);
	}
	if (h.type != SIGNER_SIGNATURE || h.len > cap)
		return lose(p, "answered with something not a signature");
	memcpy(sig, buf + SIGNER_HDR_LEN, h.len);
	*siglen = h.len;
	return 0;
}

/* Send one SIGN request for msg, in as many packets as it takes; its id
 * into *id. */
static int send_request(struct signer_proc *p, const uint8_t *msg, size_t len,
			uint32_t *id)
{
	struct signer_hdr h = {SIGNER_VERSION, SIGNER_SIGN, ++p->next_id,
			       (uint32_t)len, 0};
	size_t off = len < SIGNER_CHUNK ? len : SIGNER_CHUNK;
	int rc;

	if (len == 0 || len > UINT32_MAX)
		return ppx_error_set(PPX_EINVAL, "cannot sign %zu bytes", len);
	*id = h.id;
	rc = send_packet(p->fd, &h, msg, off);
	while (rc == 0 && off < len) {
		size_t n = len - off < SIGNER_CHUNK ? len - off : SIGNER_CHUNK;

		rc = send_packet(p->fd, NULL, msg + off, n);
		off += n;
	}
	return rc != 0 ? lose(p, ppx_error_last()) : 0;
}

/* The backend's sign(): one request, one answer.  A child that died since
 * the last request is found by the send (EPIPE) or the read (end of
 * file); the loop reaps it. */
static int proc_sign(void *ctx, uint8_t *sig, size_t cap, size_t *siglen,
		     const uint8_t *msg, size_t len)
{
	struct signer_proc *p = ctx;
	uint32_t id;
	int rc;

	if (p->lost)
		return ppx_error_set(PPX_EIO, "%s", p->why);
	if ((rc = send_request(p, msg, len, &id)) != 0)
		return rc;
	return read_answer(p, id, sig, cap, siglen);
}

/*
 * The backend's sign_many(): up to SIGNER_BATCH requests written one
 * after another, then their answers read in order, so that the child
 * signs a burst in one wake-up and the daemon waits once.  Every answer
 * to what was sent is read, even after an ERROR answer, so that the next
 * request and answer stay in step.
 */
static int proc_sign_many(void *ctx, size_t n, uint8_t (*sig)[PPX_SIG_MAX],
			  size_t *siglen, const uint8_t *const *msg,
			  const size_t *len)
{
	struct signer_proc *p = ctx;
	uint32_t first = 0, id;
	int rc = 0;

	for (size_t at = 0; rc == 0 && at < n; at += SIGNER_BATCH) {
		size_t k = n - at < SIGNER_BATCH ? n - at : SIGNER_BATCH;
		size_t sent = 0;

		if (p->lost)
			return ppx_error_set(PPX_EIO, "%s", p->why);
		for (; rc == 0 && sent < k; sent++) {
			rc = send_request(p, msg[at + sent], len[at + sent],
					  &id);
			if (sent == 0)
				first = id;
		}
		if (rc != 0)
			sent--;		/* the one that failed went nowhere */
		for (size_t i = 0; i < sent && !p->lost; i++) {
			int r = read_answer(p, first + (uint32_t)i,
					    sig[at + i], PPX_SIG_MAX,
					    &siglen[at + i]);

			if (rc == 0)
				rc = r;
		}
	}
	return rc;
}

/* Wait for the child to exit, at most REAP_WAIT_MS; then kill it. */
static void reap(struct signer_proc *p)
{
	for (int i = 0; p->pid > 0 && i < REAP_WAIT_MS / 10; i++) {
		if (waitpid(p->pid, NULL, WNOHANG) != 0)
			return;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	if (p->pid > 0) {
		log_warnx("signer process %d did not exit: killing it",
			  (int)p->pid);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
}

/* The backend's free(): close our end, so the child exits; reap it. */
static void proc_free(void *ctx)
{
	struct signer_proc *p = ctx;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	reap(p);
	free(p);
}

static const struct ppx_signer_backend proc_backend = {
	.name = "signer process",
	.sign = proc_sign,
	.sign_many = proc_sign_many,
	.free = proc_free,
};

int signer_lost(struct signer_proc *self)
{
	int status;
	char what[64];

	if (!self->lost && self->pid > 0 &&
	    waitpid(self->pid, &status, WNOHANG) == self->pid) {
		if (WIFSIGNALED(status))
			snprintf(what, sizeof(what), "killed by signal %d",
				 WTERMSIG(status));
		else
			snprintf(what, sizeof(what), "exited with status %d",
				 WEXITSTATUS(status));
		lose(self, what);
		self->pid = 0;
	}
	if (self->lost)
		ppx_error_set(PPX_EIO, "%s", self->why);
	return self->lost;
}

int signer_set_timeout(struct signer_proc *self, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (setsockopt(self->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(self->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return ppx_error_set(PPX_EIO, "signer process: socket "
				     "timeouts: %s", strerror(errno));
	return 0;
}

int signer_fd(const struct signer_proc *self)
{
	return self->fd;
}

int signer_pid(const struct signer_proc *self)
{
	return (int)self->pid;
}

/* The child's READY: 0, or its error (the key did not load). */
static int wait_ready(struct signer_proc *p)
{
	uint8_t buf[SIGNER_HDR_LEN + SIGNER_TEXT_MAX + 1];
	struct signer_hdr h;
	int trunc;
	ssize_t n = recv_packet(p->fd, buf, sizeof(buf) - 1, &trunc);

	if (n < (ssize_t)SIGNER_HDR_LEN || trunc)
		return lose(p, n < 0 && errno == EAGAIN ?
			    "did not load the key in time" :
			    "exited before loading the key");
	memcpy(&h, buf, SIGNER_HDR_LEN);
	if (h.version != SIGNER_VERSION || h.type != SIGNER_READY ||
	    h.len != (size_t)n - SIGNER_HDR_LEN)
		return lose(p, "sent something other than READY");
	buf[n] = 0;
	if (h.status != 0)
		return ppx_error_set(h.status < 0 ? h.status : PPX_EIO, "%s",
				     (const char *)buf + SIGNER_HDR_LEN);
	return 0;
}

/*
 * Sign a probe through the process and verify it with the certificate.
 * The probe is a body-labelled message whose bytes start with 0x00, a
 * protobuf tag no decoder accepts, so the signature over it can never
 * pass as a signed body.
 */
static int probe(ppx_signer *s, const char *cert_file)
{
	uint8_t msg[sizeof("ppx/v1/body") + 1 + 32] = "ppx/v1/body";
	uint8_t sig[PPX_SIG_MAX];
	size_t siglen = 0;
	int rc;

	msg[sizeof("ppx/v1/body")] = 0;
	if (RAND_bytes(msg + sizeof("ppx/v1/body") + 1, 32) != 1)
		return ppx_error_set(PPX_ECRYPTO, "no random bytes for the "
				     "signer probe");
	rc = ppx_signer_sign(s, sig, sizeof(sig), &siglen, msg, sizeof(msg));
	if (rc == 0 && ppx_cert_verify_signature(ppx_signer_cert(s), sig,
						 siglen, msg,
						 sizeof(msg)) != 0)
		rc = ppx_error_set(PPX_EINVAL, "signing key does not match "
				   "certificate %s (the signer process's "
				   "probe signature does not verify)",
				   cert_file);
	return rc;
}

/* socketpair + fork; the child never returns from here. */
static int spawn(struct signer_proc *p, const struct ppx_config *cfg)
{
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return ppx_error_set(PPX_EIO, "signer process: socketpair: %s",
				     strerror(errno));
	fflush(NULL);		/* nothing buffered is written twice */
	p->pid = fork();
	if (p->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		p->pid = 0;
		return ppx_error_set(PPX_EIO, "signer process: fork: %s",
				     strerror(errno));
	}
	if (p->pid == 0) {
		close(sv[0]);
		free(p);	/* the child's copy of the parent's handle */
		child_main(sv[1], cfg, parent);
	}
	close(sv[1]);
	p->fd = sv[0];
	return signer_set_timeout(p, SIGNER_TIMEOUT_MS);
}

int signer_start(ppx_signer **out, struct signer_proc **proc,
		 const struct ppx_config *cfg)
{
	struct signer_proc *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	*proc = NULL;
	if (!p)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	p->fd = -1;
	rc = spawn(p, cfg);
	if (rc == 0)
		rc = wait_ready(p);
	if (rc != 0) {
		proc_free(p);
		return rc;
	}
	rc = ppx_signer_with_backend(out, &proc_backend, p, cfg->signing_cert);
	if (rc == 0)
		rc = probe(*out, cfg->signing_cert);
	if (rc != 0) {
		ppx_signer_free(*out);
		*out = NULL;
		return rc;
	}
	*proc = p;
	log_debug("signer process %d holds the signing key %s", (int)p->pid,
		  cfg->signing_key);
	return 0;
}
