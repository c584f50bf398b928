/*
 * federation_int.h — what federation.c (the directory: taking it, holding
 * it, its status), federation_io.c (frames, forwarding, refusals, the
 * held files' bytes) and federation_crl.c (the CRL over the links)
 * share.  Private to those files.
 */
#ifndef PPXD_FEDERATION_INT_H
#define PPXD_FEDERATION_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "federation.h"
#include "ppx/directory.h"
#include "ppx/file.h"

#define FED_SOURCE_MAX (PATH_MAX + 16)	/* "file PATH", "partner AGENCY" */
#define FED_PEERS_MAX 8192		/* sources remembered */
#define FED_PARSES_PER_S 2		/* documents judged per partner per second */
#define FED_REFUSAL_EVERY_MS 10000	/* one REJECTED entry per source per */

/* Per link: what it is owed. */
enum { OWE_DIRECTORY = 1, OWE_CRL = 2 };

/* What one source (a partner, the file drop) sent us lately. */
struct fed_peer {
	char key[FED_SOURCE_MAX];	/* "partner AGENCY", "file PATH" */
	uint8_t dir_sha[32];		/* the last directory judged from it */
	int has_dir;
	uint8_t crl_sha[32];		/* the last CRL judged from it */
	int has_crl;
	int64_t window_ms;		/* the second its parses count in */
	unsigned parses;
	uint64_t skipped;		/* past FED_PARSES_PER_S, unsaid */
	int64_t entry_ms;		/* its last REJECTED entry */
	uint64_t unlogged;		/* refusals since, not logged */
};

struct federation {
	char held_path[PATH_MAX];	/* LOG_DIR/directory.pb */
	char crl_path[PATH_MAX];	/* LOG_DIR/crl.der */
	char baseline_path[PATH_MAX];	/* LOG_DIR/baseline.policy */
	struct crl_file_id drop_seen;	/* the file drop as last looked at */
	int64_t drop_checked_ms;
	/* The directory taken this iteration, logged, waiting for the
	 * commit to be put in force; later offers are judged against it. */
	struct ppx_directory *pending;
	uint64_t pending_seq;		/* its ENTRY_DIRECTORY */
	char source[FED_SOURCE_MAX];	/* of the directory in force */
	int64_t taken_ms;
	uint64_t log_seq;		/* its ENTRY_DIRECTORY; 0: none yet */
	int has_seq;
	int dated;			/* outside its dates: warned */
	int opening;			/* in federation_open() */
	int closed;			/* d->directory is fail_closed()'s
					 * stand-in, listing nobody */
	char crl_source[FED_SOURCE_MAX];
	uint8_t crl_sha[32];		/* the CRL in force, as last sent */
	int has_crl;
	const void *crl_trust;		/* the trust store and its CRL */
	unsigned crl_generation;	/* generation crl_sha was taken at */
	uint8_t *owed;			/* per link, OWE_* bits */
	size_t n_owed;
	struct fed_peer *peers;
	size_t n_peers;
	char status_source[FED_SOURCE_MAX + 128];
	uint8_t status_sha[32];
	Ppx__V1__DirectoryStatus st;	/* federation_status() fills it */
};

/* A directory logged in this iteration, put in force after the commit. */
struct fed_taking {
	struct ppx_directory *dir;
	ppxd_policy *baseline;
	char source[FED_SOURCE_MAX];
	char agency[PPX_NAME_MAX];
	uint64_t seq;
	int logged;		/* its entry is in the batch */
};

#define FED_MARK_SET "directory"	/* the latest ENTRY_DIRECTORY */

/* federation.c */
/* Parse at `now` (0: no dates) and check it is of our federation. */
int fed_judge(struct ppxd *d, struct ppx_directory **out,
	      const uint8_t *bytes, size_t len, time_t now,
	      const struct ppx_directory *held);
/* The directory's baseline policy, loaded; NULL if it has none. */
int fed_baseline_load(struct ppxd *d, const struct ppx_directory *dir,
		      ppxd_policy **out);
/* Put t->dir and t->baseline in force now (what the log already says). */
void fed_put_in_force(struct ppxd *d, struct fed_taking *t);
/* Log `dir` (owned now) and put it in force after the commit. */
int fed_take(struct ppxd *d, struct ppx_directory *dir, ppxd_policy *base,
	     const char *source, const char *agency);
/* federation_held.c: the newer of the held file and the log's latest. */
int fed_held_open(struct ppxd *d);

/* federation.c: take a SignedDirectory from `source` ("file PATH",
 * "partner AGENCY"; `agency` the partner or "").  Refusals are logged
 * here; nothing is returned to the sender. */
void fed_take_directory(struct ppxd *d, const char *source,
			const char *agency, const uint8_t *bytes, size_t len);

/* federation_io.c */
struct fed_peer *fed_peer(struct federation *f, const char *key);
/* 1 if `p` may have one more document judged now, else 0 (counted). */
int fed_may_parse(struct fed_peer *p, int64_t now);
/* Log the refusal of a document from `source` (rate-limited per source),
 * count it, and charge the partner (`agency`, "" for the file). */
void fed_refuse(struct ppxd *d, const char *source, const char *agency,
		const uint8_t *bytes, size_t len, int code, const char *what);
/* Frame{directory} with `bytes` verbatim, or Frame{crl}. */
int fed_frame(uint8_t **out, size_t *len, int field, const uint8_t *bytes,
	      size_t n);
/* Send what link i is owed (`what`: OWE_* bits added); the rest stays
 * owed. */
void fed_send(struct ppxd *d, size_t link, unsigned what);
/* Owe every link that is up (but `except`'s) `what`, and send it. */
void fed_forward(struct ppxd *d, unsigned what, const char *except);
/* federation_crl.c */
/* The CRL in force changed (any way): note it, owe it to every link. */
void fed_crl_check(struct ppxd *d, const char *source);
/* Take the held CRL at start. */
void fed_crl_open(struct ppxd *d);
/* A CRL from a partner: taken if newer, refused if it does not verify,
 * dropped quietly if not newer. */
void fed_take_crl(struct ppxd *d, const char *source, const char *agency,
		  const uint8_t *der, size_t len);

#endif
