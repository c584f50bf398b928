#!/usr/bin/env bash
# logcheck.sh — the start-up check from the check seal and the full check
# in the background, on real daemons and a really damaged file.
#   (1) A clean log: police starts, checking from its seal (the checkpoint
#       of its last clean stop), and the background full check passes
#       (ppx status, the log).
#   (2) Damage after the seal (entries written after the last checkpoint,
#       police killed before it could sign another): the start-up check
#       finds it and police refuses to start, naming the entry.
#   (3) Damage before the seal: police starts (the start-up check does not
#       read that far back), the full check in the background finds it:
#       LOG DAMAGED at LOG_CRIT, in ppx status (text and JSON) and the
#       metrics, naming the entry; police keeps exchanging messages.
#   (4) The same damage with log_check_full = yes: police refuses to start.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-30}
fed_init
# Witnessing rewrites meta pages each commit and would leave stale copies
# of the marker text that the damage below could hit instead (corrupt.sh).
for a in $AGENCIES; do fed_config "$a" $'[evidence]\nwitness = no'; done
LOG=$(fed_log_dir police.gwent)
CONF=$(fed_conf police.gwent)
status_json() { "$PPX" status --config "$CONF" --json; }
full_state() { status_json | jq -r '.logCheck.full // empty'; }
full_is() { [ "$(full_state)" = "$1" ]; }
flip() { flip_text "$LOG/data.mdb" "$1"; }	# flip TEXT (lib.sh)
nth_sent() {	# nth_sent K: the seq of police's K-th SENT entry (a burst is logged in order)
	ppx_log police.gwent | jq -r 'select(.kind == "ENTRY_SENT") | .seq' | sed -n "$1p"
}

fed_burst police.gwent probation.gwent "$N" "early marker" >"$FED/early.json"
fed_burst police.gwent probation.gwent 10 "tail marker" >"$FED/tail.json"
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
ppx_send police.gwent "$FED/early.json" >/dev/null
check "$N messages delivered" wait_until 30 fed_settled police.gwent probation.gwent
fed_stop police.gwent		# its last checkpoint: the check seal

# (1) A clean log.
fed_start police.gwent || notok "police starts again"
check "(1) police checked its log from the seal at start" \
	grep -q "checked in [0-9]* ms (from its check seal)" "$FED/police.gwent/ppxd.out"
check "(1) the full check in the background passes" \
	wait_until 60 full_is passed
check "(1) ... and says so in its log" \
	grep -q "full check passed" "$FED/police.gwent/ppxd.out"
from=$(status_json | jq -r '.logCheck.startFrom // 0')
check "(1) ppx status names the seal the start-up check began at ($from)" [ "${from:-0}" -gt "$N" ]
check "(1) ppx status says the full check passed" \
	grep -q "full check passed" <("$PPX" status --config "$CONF")

# (2) Damage after the seal.
ppx_send police.gwent "$FED/tail.json" >/dev/null
check "10 more messages delivered" wait_until 30 fed_settled police.gwent probation.gwent
fed_kill police.gwent		# no checkpoint: these entries follow the seal
fed_stop probation.gwent
cp -a "$LOG" "$FED/backup"
tail_seq=$(nth_sent $((N + 5)))
n=$(flip "tail marker 05")
check "(2) one byte of a message after the seal changed ($n copies, entry $tail_seq)" test "$n" -ge 1 -a -n "$tail_seq"
# shellcheck disable=SC2086
out=$(timeout 60 ${PPXD_WRAP:-} "$PPXD" -f -c "$CONF" 2>&1); rc=$?
echo "$out" >>"$FED/police.gwent/ppxd.out"
diag "(2) ppxd exit $rc: $(tail -1 <<<"$out")"
check "(2) police refuses to start (exit 1)" [ "$rc" -eq 1 ]
check "(2) ... naming the damaged entry" grep -q "damaged at entry $tail_seq" <<<"$out"
rm -rf "$LOG"; cp -a "$FED/backup" "$LOG"

# (3) Damage before the seal.
early_seq=$(nth_sent 7)
n=$(flip "early marker 07")
check "(3) one byte of a message before the seal changed ($n copies, entry $early_seq)" test "$n" -ge 1 -a -n "$early_seq" -a "${early_seq:-0}" -lt "${from:-0}"
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
check "(3) police starts: the start-up check reads from the seal" fed_alive police.gwent
check "(3) the full check in the background finds the damage" \
	wait_until 60 grep -q "LOG DAMAGED.*damaged at entry $early_seq" "$FED/police.gwent/ppxd.out"
check "(3) ppx status shows it, naming the entry" \
	grep -q "LOG DAMAGED: the full check found entry $early_seq" <("$PPX" status --config "$CONF")
check "(3) ppx status --json: logCheck.full is FAILED" [ "$(full_state)" = FAILED ]
check "(3) the metrics: ppx_log_check_failed 1" \
	grep -Eq "^ppx_log_check_failed(\{[^}]*\})? 1$" <("$PPX" metrics --config "$CONF" 2>/dev/null)
fed_burst police.gwent probation.gwent 3 "after damage" >"$FED/after.json"
ppx_send police.gwent "$FED/after.json" >/dev/null
check "(3) police keeps exchanging messages" \
	wait_until 30 fed_settled police.gwent probation.gwent
fed_stop police.gwent
fed_stop probation.gwent
check "(3) ppx verify names the damaged entry too" \
	grep -q "at entry $early_seq" <("$PPX" verify --log "$LOG" --pki "$PKI" 2>&1)
# ppx verify on one thread and on three: the same verdict, word for word,
# on the damaged log and on the intact backup.
for j in 1 3; do
	"$PPX" verify --log "$LOG" --pki "$PKI" --jobs $j --json >"$FED/bad.$j" 2>&1
	echo "exit $?" >>"$FED/bad.$j"
	"$PPX" verify --log "$FED/backup" --pki "$PKI" --jobs $j --json >"$FED/good.$j" 2>&1
	echo "exit $?" >>"$FED/good.$j"
done
diag "ppx verify --jobs 3, damaged: $(head -1 "$FED/bad.3")"
check "(3) ppx verify --jobs 1 and --jobs 3 say the same of the damaged log" \
	cmp -s "$FED/bad.1" "$FED/bad.3"
check "(3) ... and of the intact one, which verifies" \
	bash -c "cmp -s '$FED/good.1' '$FED/good.3' && grep -q '\"ok\":true' '$FED/good.3'"
check "ppx verify --jobs 0 is a usage error (exit 2)" \
	bash -c "\"$PPX\" verify --log '$LOG' --pki '$PKI' --jobs 0 2>/dev/null; [ \$? -eq 2 ]"

# (4) The same damage, the whole log checked at start.
sed -i '/^\[agency\]/a log_check_full = yes' "$CONF"
# shellcheck disable=SC2086
out=$(timeout 60 ${PPXD_WRAP:-} "$PPXD" -f -c "$CONF" 2>&1); rc=$?
echo "$out" >>"$FED/police.gwent/ppxd.out"
diag "(4) ppxd exit $rc: $(tail -1 <<<"$out")"
check "(4) with log_check_full = yes police refuses to start (exit 1)" [ "$rc" -eq 1 ]
check "(4) ... naming the damaged entry" grep -q "damaged at entry $early_seq" <<<"$out"
finish
