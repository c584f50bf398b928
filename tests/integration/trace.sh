#!/usr/bin/env bash
# trace.sh — PPXD_TRACE: police started with it writes one line per busy
# loop iteration while 20 messages go to probation, its counts adding
# up to at least what was submitted, logged and sent; a trace file that cannot be
# opened is said and ignored (the daemon runs and delivers).
set -u
. "$(dirname "$0")/lib.sh"
N=20
fed_init
PPXD_WRAP="env PPXD_TRACE=$FED/police.trace ${PPXD_WRAP:-}" fed_start police.gwent ||
	{ notok "police starts with PPXD_TRACE"; finish; exit 1; }
PPXD_WRAP="env PPXD_TRACE=$FED/no-such-dir/probation.trace ${PPXD_WRAP:-}" \
	fed_start probation.gwent || notok "probation starts with a bad PPXD_TRACE"

fed_burst police.gwent probation.gwent "$N" "traced message" >"$FED/burst.json"
ppx_send police.gwent "$FED/burst.json" >/dev/null
delivered() { [ "$(receipted_count police.gwent)" -ge "$N" ]; }
check "all $N receipted" wait_until 60 delivered
fed_stop police.gwent	# the trace is written out at exit
fed_stop probation.gwent

t=$FED/police.trace
check "the trace file exists, mode 0600" [ "$(stat -c %a "$t" 2>/dev/null)" = 600 ]
check "it starts with its header" grep -q '^# wake_us poll_us' "$t"
lines=$(grep -vc '^#' "$t")
check "it holds iteration lines" [ "${lines:-0}" -gt 0 ]
check "each line has 9 fields" awk '!/^#/ && NF != 9 { exit 1 }' "$t"
# Fields: wake poll inbound/n receipts/n control/n other commit/n after pump/n
sum() { awk -v f="$1" '!/^#/ { split($f, a, "/"); s += a[2] } END { print s + 0 }' "$t"; }
check "control requests counted: the $N submits and the status checks (got $(sum 5))" [ "$(sum 5)" -ge "$N" ]
check "messages sent counted: at least $N (got $(sum 9))" [ "$(sum 9)" -ge "$N" ]
check "receipts counted: at least 1 (got $(sum 4))" [ "$(sum 4)" -ge 1 ]
check "committed entries counted: at least SENT + RECEIPT_RECEIVED" \
	[ "$(sum 7)" -ge $((N + 1)) ]
check "probation said it cannot open its trace" \
	grep -q "PPXD_TRACE: cannot open .*no-such-dir/probation.trace" "$FED/probation.gwent/ppxd.out"
check "and made no trace" [ ! -e "$FED/no-such-dir" ]
check "probation logged all $N" [ "$(log_count probation.gwent ENTRY_RECEIVED)" -ge "$N" ]
finish
