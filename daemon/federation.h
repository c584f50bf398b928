/*
 * federation.h — the federation directory and the CRL, taken in and passed
 * on (PROTOCOL.md 13; docs/CONFIG.md [federation]).
 *
 * A directory reaches ppxd three ways: the copy it held when it stopped
 * (LOG_DIR/directory.pb), the file drop ([federation] directory, watched
 * like the CRL), and a partner's Frame{directory}.  Each is judged by
 * ppx_directory_parse and ppx_directory_supersedes; one that is newer is
 * logged (ENTRY_DIRECTORY), written to LOG_DIR/directory.pb, put in force
 * (d->directory, d->baseline, partners_apply) and sent to every partner
 * link that is up, and to each link as it comes up.  One that is older,
 * or does not verify, is logged as ENTRY_REJECTED (rate-limited per
 * source) and counted against the partner's budget; the same bytes again
 * are dropped quietly.  The CRL travels the same way (Frame{crl}, held in
 * LOG_DIR/crl.der, logged as ENTRY_KEY_CHANGE with cause "partner AGENCY").
 */
#ifndef PPXD_FEDERATION_H
#define PPXD_FEDERATION_H

#include <stddef.h>
#include <stdint.h>

#include "ppx.pb-c.h"
#include "state.h"

/* At start, after the log, the trust store and the transport are open:
 * take the held directory and CRL, then the file drop.  0, or a code
 * when the daemon must not start (a held directory that does not
 * verify is logged and set aside, not fatal). */
int federation_open(struct ppxd *d);
void federation_free(struct ppxd *d);

/* Each loop iteration: look at the file drop (at most once a second),
 * send what links are owed, and pass on a CRL newly in force. */
void federation_tick(struct ppxd *d, int64_t now_ms);

/* A frame from `agency` (authenticated by the transport), `raw` as
 * received: 1 if it is a Frame{directory} or Frame{crl}, taken or
 * refused here and never answered; 0 if it is anything else (the
 * caller's).  Without [federation] such frames are dropped quietly. */
int federation_frame(struct ppxd *d, const char *agency, const uint8_t *raw,
		     size_t len);

/* Link `link` came up: send it the directory and CRL we hold. */
void federation_link_up(struct ppxd *d, size_t link);

/* The status reply's directory: NULL if none is in force; else storage
 * of the federation module, valid until the next call or
 * federation_free(). */
int federation_status(struct ppxd *d, Ppx__V1__DirectoryStatus **out);

/* 1 if the CRL in force came from a partner (or its held copy) and the
 * CRL file was just refused as older than it: not a refusal to report
 * (reload.c), the file is simply behind.  Else 0. */
int federation_crl_newer_than_file(struct ppxd *d);

/* policy_check() by the local policy, then by the directory's baseline
 * policy when one is in force (a message passes only if both let it):
 * 0, or PPX_EPOLICY, the baseline's refusal saying "federation baseline
 * policy: ...".  For submit.c and inbound.c. */
struct policy_query;
int federation_policy_check(struct ppxd *d, const struct policy_query *q);

#endif
