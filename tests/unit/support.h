/*
 * support.h — fixtures shared by the unit tests.
 *
 * The PKI fixtures are made by `certs/ppx-pki demo` into $BUILD/pki (make
 * test does that first); PPX_TEST_PKI overrides the location.
 */
#ifndef PPX_TEST_SUPPORT_H
#define PPX_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/envelope.h"
#include "ppx/pki.h"

/* "$PKI/<rel>" in a static buffer (one call at a time). */
const char *pki_path(const char *rel);

/* A second static buffer, for when two paths are needed at once. */
const char *pki_path2(const char *rel);

/* The federation trust store with the demo agencies' certificates. */
ppx_trust *trust_demo(void);

/* The signer of a demo agency, e.g. "police.gwent", or of a fixture
 * directory such as "test/expired/police.gwent". */
ppx_signer *signer_at(const char *dir);

/* A complete notification body from `from` to `to` (freed by body_free). */
Ppx__V1__Body *body_new(const char *from, const char *to);
void body_free(Ppx__V1__Body *b);

/* A fresh temporary directory (mkdtemp) and its recursive removal. */
char *tmpdir_new(void);
void tmpdir_remove(char *dir);

/* Write `text` to the file at `path` (created or truncated). */
void write_text(const char *path, const char *text);

/* Remove a directory tree (e.g. a log inside a temporary directory). */
void tmpdir_clear(const char *dir);

#endif
