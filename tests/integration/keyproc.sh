#!/usr/bin/env bash
# keyproc.sh — the agency's signing key lives in the signer process only
# (daemon/signer.c), and losing that process stops ppxd cleanly.
#
# (1) police and probation exchange messages (bodies and receipts are
#     signed on both sides through their signer processes).
# (2) The raw 32-byte Ed25519 private key of police's signing.key is in no
#     readable mapping of the main ppxd process, and is in the signer
#     child's memory — which shows the search finds it where it is
#     (tests/tools/memsearch reads /proc/PID/maps and /proc/PID/mem).
# (3) With probation down, police queues two messages; SIGKILL to police's
#     signer child makes police exit with status 1 and say that the signer
#     process was killed; restarting both delivers what was queued, with
#     receipts, and the logs verify.
#
# Under VALGRIND=1 the daemon's pid (fed_pid) is valgrind's, which runs
# ppxd in its own process, and the signer is that process's forked child,
# so the same pids serve in both modes.  Reading another process's memory
# needs root (ppxd is not dumpable): without it the test fails, it does
# not skip.
set -u
. "$(dirname "$0")/lib.sh"
MEMSEARCH=$TOP/tests/tools/memsearch
fed_init


# The raw private key: the last 32 bytes of the PKCS#8 DER of an Ed25519 key.
KEY=$PKI/agencies/police.gwent/signing.key
KEYHEX=$(openssl pkey -in "$KEY" -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')
check "the police signing key is Ed25519 and its 32 raw bytes are known" \
	[ "$(openssl pkey -in "$KEY" -noout -text | head -1)" = \
	  "ED25519 Private-Key:" -a "${#KEYHEX}" -eq 64 ]

# ---- (1) an exchange: signing happens on both sides ----
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
fed_burst police.gwent probation.gwent 3 "keyproc message {}" >"$FED/first.json"
check "police submits three messages" ppx_send police.gwent "$FED/first.json"
check "... and has signed receipts for all of them" \
	wait_until 60 fed_all_receipted police.gwent probation.gwent

# ---- (2) where the key is ----
main=$(fed_pid police.gwent)
child=$(fed_signer_pid police.gwent)
diag "police: ppxd pid $main, signer pid ${child:-none}"
check "police's ppxd has a signer child process" [ -n "$child" ]
out=$("$MEMSEARCH" "$main" "$KEYHEX")
diag "main process: occurrences, mappings read: $out"
check "the raw signing key is nowhere in the main ppxd process's memory" \
	[ -n "$out" -a "${out%% *}" = 0 ]
out=$("$MEMSEARCH" "${child:-0}" "$KEYHEX")
diag "signer process: occurrences, mappings read: $out"
check "... and is in the signer process's memory (the search works)" \
	[ -n "$out" -a "${out%% *}" != 0 ]

# ---- (3) the signer dies: ppxd stops, a restart delivers ----
fed_stop probation.gwent
fed_burst police.gwent probation.gwent 2 "queued message {}" >"$FED/queued.json"
check "with probation down, police queues two more" \
	ppx_send police.gwent "$FED/queued.json"
kill -KILL "$child" 2>/dev/null
wait "$main"
rc=$?
rm -f "$FED/police.gwent/pid"
check "killing the signer process makes ppxd exit with status 1 (got $rc)" \
	[ "$rc" -eq 1 ]
check "... saying the signer process was killed and to restart" \
	grep -q "signer process $child: killed by signal 9; stopping (restart ppxd" \
	"$FED/police.gwent/ppxd.out"
grep "signer process" "$FED/police.gwent/ppxd.out" | tail -3 | sed 's/^/# /'
check "... and leaves no signer process behind" \
	fails kill -0 "$child" 2>/dev/null

fed_start police.gwent && fed_start probation.gwent || notok "daemons restart"
check "after the restart every message police sent has a signed receipt" \
	wait_until 60 fed_all_receipted police.gwent probation.gwent
check "... five in all" [ "$(sent_to police.gwent probation.gwent | wc -l)" -eq 5 ]
fed_stop_all
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
