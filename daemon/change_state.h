/*
 * change_state.h — one file in force, as the change entries record it:
 * its SHA-256 and its content normalised to "KEY = VALUE" lines, and the
 * readable difference between two such states.
 *
 * The configuration and the policy file are read with libppx's INI reader
 * into "[section] key = value" lines (a continued value joined with a
 * space, keys that name secrets shown as "(hidden)", with no digest of
 * their value: hidden_tag, a keyed HMAC of them, tells their change); a
 * certificate file into its subject, serial, fingerprint and validity; a
 * CRL into its number, lastUpdate, nextUpdate and revoked count.  Nothing
 * is ever read from a key file.  changes.c logs these (ENTRY_CONFIG_CHANGE,
 * ENTRY_POLICY_CHANGE, ENTRY_KEY_CHANGE; docs/PROTOCOL.md) and compares
 * each new state with the one its latest entry recorded.
 */
#ifndef PPXD_CHANGE_STATE_H
#define PPXD_CHANGE_STATE_H

#include <stddef.h>
#include <stdint.h>

#define CHANGE_STATE_MAX_BYTES (1u << 20)	/* of lines recorded per file */
#define CHANGE_LINE_MAX 1024			/* one readable change */

struct change_state {
	uint8_t sha256[32];
	int present;		/* 0: the file is gone (or never read) */
	char **lines;		/* "KEY = VALUE", in file order */
	size_t n;
	uint64_t hidden_tag;	/* HMAC-SHA256 (8 bytes) of the hidden values */
};

/*
 * The key of hidden_tag: 32 random bytes the daemon keeps to itself
 * (changes.c); NULL wipes it.  Until set, tags are keyed with zeros.
 */
void change_state_set_key(const uint8_t key[32]);

/*
 * Read the file at `path` as a `what` ("configuration", "policy",
 * "certificate", "ca", "crl") into *out (cleared first).  0, or a
 * negative ppx code with ppx_error_last() saying "file:line: problem"
 * (an INI file that does not parse, a certificate or CRL that does not
 * decode, a file that cannot be read).
 */
int change_state_read(struct change_state *out, const char *what,
		      const char *path);

/* The SHA-256 of the file at `path`. */
int change_state_hash(uint8_t out[32], const char *path);

/* Lines copied from `lines` (a recorded ChangeRecord.in_force). */
int change_state_set_lines(struct change_state *self, char *const *lines,
			   size_t n);

void change_state_clear(struct change_state *self);

/*
 * What changed from `old` to `now`, one readable line each, appended to
 * *out (malloc'd strings; *n counts them): "[rule r] added", "[operator o]
 * removed", "[partner x] endpoint: A -> B", "hidden value changed (one or
 * more of [pki] pkcs11_pin_file, [hook h] command)" (hidden_tag differs), a list's items "added X, Y; removed Z".  An
 * `old` without lines but present gives "changed (previous content not
 * recorded)".
 */
int change_diff(char ***out, size_t *n, const struct change_state *old,
		const struct change_state *now);

/* Append a copy of printf-formatted text to *out. */
int change_lines_add(char ***out, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void change_lines_free(char **lines, size_t n);

/* The section of a line: "[rule r]" of "[rule r] from = x"; "" if none.
 * Writes at most `cap` bytes. */
void change_line_section(const char *line, char *out, size_t cap);

#endif
