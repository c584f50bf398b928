#!/usr/bin/env bash
# hostile_flood.sh — a partner that floods (issue 10, hole 5).  Prison
# (an authenticated partner, through tests/tools/inject) pours messages
# into probation until its log quota is spent, then junk at full speed
# over many connections until its refusal budget is spent, while police
# sends probation real messages through its daemon.  Shown:
#
#   * police's messages are all delivered, none lost or doubled;
#   * prison's messages past its quota are refused REJECT_OVER_QUOTA
#     (transient: its sender would retry later) and not stored, and what
#     it made probation log stays within the quota (ppx status, and the
#     log file's growth);
#   * prison gets blocked: one ENTRY_PARTNER_BLOCKED for the episode,
#     `ppx status` shows it, its handshakes are refused at ZAP, and those
#     refusals are logged as ENTRY_CONNECTION_REFUSED entries at most once
#     per refusal_log_ms (and as few lines in the daemon's output);
#   * every frame probation took was answered (connections past 64 in one
#     iteration with REJECT_BUSY); the frames it did not answer are those
#     PROTOCOL.md section 7 says: a blocked partner's, discarded.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
N=${N:-200}			# police's messages
MSGS=${MSGS:-2000}		# prison's messages (past its quota)
JUNK=${JUNK:-20000}		# prison's junk frames
CONNS=${CONNS:-100}		# ... over this many connections
QUOTA=${QUOTA:-1048576}	# bytes an hour, per partner
BUDGET=100			# refusals a minute, per partner
REPORT_MS=2000
[ -x "$INJECT" ] || { notok "the injector is built (make $BUILD/tests/inject)"; finish; exit 1; }
fed_init
sed -i "/^\[delivery\]/a refusal_budget = $BUDGET\nrefusal_window_ms = 60000\nblock_initial_ms = 30000\nlog_quota_bytes_hour = $QUOTA\nrefusal_log_ms = $REPORT_MS" \
	"$(fed_conf probation.gwent)"
fed_start probation.gwent && fed_start police.gwent || notok "daemons start"
EP=tcp://127.0.0.1:$(fed_port probation.gwent)
OUT=$FED/probation.gwent/ppxd.out
MDB=$(fed_log_dir probation.gwent)/data.mdb
inject() { "$INJECT" --pki "$PKI" --endpoint "$EP" --to probation.gwent --as prison.cardiff "$@" 2>>"$FED/inject.err"; }
status_json() { "$PPX" status --config "$(fed_conf probation.gwent)" --json; }
prison_status() { status_json | jq -c '.partners[] | select(.agency == "prison.cardiff")'; }
refused_count() {	# refused_count REASON: frames probation refused for it
	status_json | jq -r --arg r "$1" '[.refusals[]? | select(.reason == $r) | .count | tonumber] | add // 0'
}
for c in $(seq -w 1 10); do
	fed_burst police.gwent probation.gwent $((N / 10)) "beside the hostile flood $c-{}" >"$FED/good-$c.json"
done
size0=$(stat -c %s "$MDB")
t0=$(date +%s)

# police: its real messages, a chunk at a time, through both phases
( for c in $(seq -w 1 10); do ppx_send police.gwent "$FED/good-$c.json" >/dev/null; sleep 0.5; done ) &
good=$!

# ---- phase 1: messages past the quota ----
inject --timeout-ms 120000 flood "$MSGS" --kind RELEASE_DATE >"$FED/msgs.out"
rc=$?
stored=$(grep -c '^STORED' "$FED/msgs.out" || true)
quota=$(grep -c '^REFUSED REJECT_OVER_QUOTA' "$FED/msgs.out" || true)
diag "prison's $MSGS messages: $stored stored, $quota refused REJECT_OVER_QUOTA, inject exit $rc"
check "phase 1: every one of prison's messages was answered (inject exit 0)" [ "$rc" -eq 0 ]
check "phase 1: some were stored" [ "$stored" -gt 0 ]
check "phase 1: past its quota the rest were refused REJECT_OVER_QUOTA" [ "$quota" -gt 0 ]
check "phase 1: ... and only those: stored + over quota = sent" [ $((stored + quota)) -eq "$MSGS" ]
ps=$(prison_status)
diag "prison at probation: $ps"
within_quota() {	# within_quota PARTNER_JSON SLACK: its log bytes this hour
	jq -e --argjson q "$QUOTA" --argjson s "$2" \
		'(.logBytesHour | tonumber) <= $q + $s and (.logBytesHour | tonumber) > ($q / 2)' <<<"$1" >/dev/null
}
# The one REJECT_OVER_QUOTA entry of the hour is logged past the quota.
check "phase 1: ppx status: prison's log bytes this hour are within its quota (and one refusal entry)" within_quota "$ps" 2048
received=$(received_from probation.gwent prison.cardiff | sort -u | wc -l)
check "phase 1: probation holds exactly the $stored messages it receipted" [ "$received" -eq "$stored" ]

# ---- phase 2: junk over many connections ----
bad0=$(refused_count REJECT_BAD_FRAME)
t_junk=$(date +%s)
inject --timeout-ms 20000 --conns "$CONNS" junk "$JUNK" >"$FED/junk.out"
cat "$FED/junk.out" | sed 's/^/# /'
sent=$(sed -n 's/^junk: sent \([0-9]*\) answered \([0-9]*\)$/\1/p' "$FED/junk.out")
answered=$(sed -n 's/^junk: sent \([0-9]*\) answered \([0-9]*\)$/\2/p' "$FED/junk.out")
jbad=$(sed -n 's/^junk: REJECT_BAD_FRAME //p' "$FED/junk.out")
jbusy=$(sed -n 's/^junk: REJECT_BUSY //p' "$FED/junk.out")
bad=$(( $(refused_count REJECT_BAD_FRAME) - bad0 ))
discarded=$(grep -o 'discarded [0-9]* \(more \)\?frames\? of prison.cardiff' "$OUT" | awk '{ s += $2 } END { print s + 0 }')
diag "junk: sent ${sent:-?}, answered ${answered:-?} (${jbad:-0} BAD_FRAME, ${jbusy:-0} BUSY); probation refused $bad as BAD_FRAME, said it discarded $discarded"
check "phase 2: prison spent its refusal budget: more than $BUDGET refused" [ "${jbad:-0}" -gt "$BUDGET" ]
check "phase 2: every frame probation refused was answered (its count = prison's answers)" [ "$bad" -eq "${jbad:-0}" ]
check "phase 2: the rest were discarded or lost with its cut connections, never more than sent" \
	[ $(( ${answered:-0} + discarded )) -le "${sent:-0}" ]
ps=$(prison_status)
diag "prison at probation: $ps"
is_blocked() { jq -e '(.blockedUntilMs | tonumber) > 0 and .blockedEpisodes == 1' <<<"$1" >/dev/null; }
check "phase 2: ppx status shows prison blocked, in its first episode" is_blocked "$ps"
"$PPX" status --config "$(fed_conf probation.gwent)" | grep -A1 '^prison.cardiff' | sed 's/^/# /'
out=$(inject valid --expect-no-connect --timeout-ms 2000)
check "phase 2: a blocked prison cannot connect" [ "$out" = NOCONNECT ]
blocked=$(log_count probation.gwent ENTRY_PARTNER_BLOCKED)
check "phase 2: one ENTRY_PARTNER_BLOCKED for the episode" [ "$blocked" -eq 1 ]
ppx_log probation.gwent | jq -c 'select(.kind == "ENTRY_PARTNER_BLOCKED")' | sed 's/^/# /'

wait "$good"
check "police's messages settle" wait_until 60 fed_settled police.gwent probation.gwent
fed_tally police.gwent probation.gwent "police -> probation beside the hostile flood"
secs=$(( $(date +%s) - t_junk + 1 ))
conn=$(ppx_log probation.gwent | jq -c 'select(.kind == "ENTRY_CONNECTION_REFUSED")' | grep -c prison.cardiff || true)
lines=$(grep -c 'refused connection from.*prison.cardiff' "$OUT" || true)
diag "$secs s since the junk began: $conn ENTRY_CONNECTION_REFUSED entries and $lines lines for prison; $(grep -c . "$OUT") lines of output in all"
ppx_log probation.gwent | jq -c 'select(.kind == "ENTRY_CONNECTION_REFUSED")' | tail -2 | cut -c1-300 | sed 's/^/# /'
check "refused handshakes: at most one entry per ${REPORT_MS} ms" [ "$conn" -le $(( secs * 1000 / REPORT_MS + 2 )) ]
check "refused handshakes: at most one line per ${REPORT_MS} ms" [ "$lines" -le $(( secs * 1000 / REPORT_MS + 2 )) ]
check "refused frames: a few lines, not one per frame" [ "$(grep -c 'refused .*frames\? from prison' "$OUT")" -le $(( secs * 1000 / REPORT_MS + 4 )) ]
ps=$(prison_status)
diag "prison at probation: $ps"
# Refused handshakes are bounded by their own rate, not by the quota: they
# are charged, and may take it past the quota by their few entries.
check "what prison made probation log stays within its quota (and $conn refused-handshake entries)" \
	within_quota "$ps" $(( 2048 + conn * 400 ))
fed_stop probation.gwent
fed_stop police.gwent
grown=$(( $(stat -c %s "$MDB") - size0 ))
diag "probation's log file grew by $grown bytes ($(log_count probation.gwent ENTRY_REJECTED) REJECTED entries, $(ppx_log probation.gwent | grep -c . ) entries in all) for prison's $MSGS messages and $JUNK junk frames and police's $N messages; prison's quota is $QUOTA bytes an hour"
# The file holds the entries, their Merkle nodes and indexes in 4 KiB
# pages: prison's quota, police's messages and that overhead fit well
# within 4 MiB (before budgets, the junk alone added some 26 MB).
check "the log file grew by less than 4 MiB" [ "$grown" -lt $((4 * 1048576)) ]
check "probation's log verifies" log_verify probation.gwent
finish
