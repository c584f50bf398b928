#!/usr/bin/env bash
# witness_fork.sh — two machines writing as probation, both seen by one
# partner: police sends to the original (P), whose receipts carry its
# checkpoints (PROTOCOL.md 5.3), while the copy (B) sends to police and
# asks police to cosign its log.  Police keeps each receipt's checkpoint
# to be proven against the next checkpoint probation presents (PROTOCOL.md
# 11.2), so the fork shows at police alone, without any gossip: an alarm
# naming a receipt, while messages keep flowing both ways.
set -u
. "$(dirname "$0")/lib.sh"
AGENCIES="police.gwent probation.gwent"
fed_init
fed_config police.gwent $'[evidence]\nwitness_interval_ms = 200'
fed_config probation.gwent $'[evidence]\nwitness_interval_ms = 200'
for a in $AGENCIES; do fed_start "$a" || { notok "$a starts"; finish; exit 1; }; done

P=probation.gwent B=probation2
send() {	# send FROM TO TEXT
	body_json "${1%2}" "$2" ARREST "$3" >"$FED/m.json"
	"$PPX" send --config "$(fed_conf "$1")" --json "$FED/m.json" --wait --timeout 20 >/dev/null 2>&1
}
at_least() { [ "$("${@:2}")" -ge "$1" ]; }
alarms() { log_count police.gwent ENTRY_WITNESS_ALARM; }

check "police -> probation delivered" send police.gwent $P "one"
check "probation -> police delivered" send $P police.gwent "one"

# The copy B on its own port asks police to cosign and sends to it; the
# original P no longer asks police anything (witness = no) but still
# answers police's messages with receipts carrying its checkpoints.
fed_stop $P
cp -a "$FED/$P" "$FED/$B"
rm -f "$FED/$B/pid" "$FED/$B/ppxd.out"
sed -i "s|$FED/$P/|$FED/$B/|; s|^listen = tcp://127.0.0.1:.*|listen = tcp://127.0.0.1:$((FED_PORT + 3))|" "$FED/$B/ppxd.conf"
sed -i "s|^log_dir = .*|log_dir = $FED/$B/log|; s|^control = .*|control = $FED/$B/run|" "$FED/$B/ppxd.conf"
sed -i 's|^witness_interval_ms = 200$|witness = no|' "$(fed_conf $P)"
fed_start $P || notok "probation (the original) restarts"
fed_start $B || notok "probation (the copy) starts"

check "no alarm before the fork has grown" [ "$(alarms)" -eq 0 ]
for i in 1 2 3; do
	send police.gwent $P "to the original $i" || notok "the original gets message $i"
done
for i in 1 2 3 4 5 6 7 8; do
	send $B police.gwent "from the copy $i" || notok "police gets message $i from the copy"
done
check "police raises an alarm" wait_until 30 at_least 1 alarms
ppx_log police.gwent | jq -c 'select(.kind == "ENTRY_WITNESS_ALARM")' >"$FED/alarms.json"
diag "$(head -c 600 "$FED/alarms.json")"
check "... naming a receipt of probation" grep -q "a receipt of $P" "$FED/alarms.json"
check "messages still reach the original" send police.gwent $P "after the alarm"
check "... and police" send $B police.gwent "after the alarm"
fed_stop_all
fed_stop $B
check "police's log verifies" log_verify police.gwent
finish
