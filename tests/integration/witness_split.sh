#!/usr/bin/env bash
# witness_split.sh — a split view (PROTOCOL.md 11.2, gossip): two machines
# write as probation with the same keys and diverged logs, one shown to
# police and the other to prison.  Police and prison gossip the
# checkpoints of probation they cosigned, and one of them raises a
# split-view alarm; messages keep flowing to both.
set -u
. "$(dirname "$0")/lib.sh"
AGENCIES="police.gwent probation.gwent prison.cardiff"
fed_init
for a in $AGENCIES; do fed_config "$a" $'[evidence]\nwitness_interval_ms = 200'; done
for a in $AGENCIES; do fed_start "$a" || { notok "$a starts"; finish; exit 1; }; done

P=probation.gwent B=probation2
status_json() { "$PPX" status --json --config "$(fed_conf "$1")" 2>/dev/null; }
held() {
	status_json "$1" | jq -r --arg p "$2" \
		'.witnesses[] | select(.agency == $p) | .heldSize // 0 | tonumber'
}
send() {	# send FROM TO TEXT
	body_json "${1%2}" "$2" ARREST "$3" >"$FED/m.json"
	"$PPX" send --config "$(fed_conf "$1")" --json "$FED/m.json" --wait --timeout 20 >/dev/null 2>&1
}
at_least() { [ "$("${@:2}")" -ge "$1" ]; }

check "probation -> police delivered" send $P police.gwent "one"
check "probation -> prison delivered" send $P prison.cardiff "one"
check "police holds probation's log" wait_until 20 at_least 1 held police.gwent $P
check "prison holds probation's log" wait_until 20 at_least 1 held prison.cardiff $P

# Copy probation's data: the copy (B) talks to prison only, the original
# to police only; prison is pointed at B's port.
fed_stop $P
cp -a "$FED/$P" "$FED/$B"
rm -f "$FED/$B/pid" "$FED/$B/ppxd.out"
sed -i "s|$FED/$P/|$FED/$B/|; s|^listen = tcp://127.0.0.1:.*|listen = tcp://127.0.0.1:$((FED_PORT + 3))|; /^\[partner police.gwent\]/,+1d" "$FED/$B/ppxd.conf"
sed -i "s|^log_dir = .*|log_dir = $FED/$B/log|; s|^control = .*|control = $FED/$B/run|" "$FED/$B/ppxd.conf"
sed -i "/^\[partner prison.cardiff\]/,+1d" "$(fed_conf $P)"
fed_stop prison.cardiff
sed -i "/^\[partner $P\]/{n;s|:[0-9]*\$|:$((FED_PORT + 3))|}" "$(fed_conf prison.cardiff)"
fed_start prison.cardiff || notok "prison restarts"
fed_start $P || notok "probation (police's) restarts"
fed_start $B || notok "probation (prison's copy) starts"

alarms() { log_count police.gwent ENTRY_WITNESS_ALARM; log_count prison.cardiff ENTRY_WITNESS_ALARM; }
total() { alarms | paste -sd+ | bc; }
for i in 1 2 3 4 5 6; do
	send $P police.gwent "to police $i" || notok "police gets message $i"
	send $B prison.cardiff "to prison $i $i" || notok "prison gets message $i"
	send $B prison.cardiff "to prison again $i" || true
done
check "a split-view alarm is raised" wait_until 30 at_least 1 total
for a in police.gwent prison.cardiff; do
	ppx_log $a | jq -c 'select(.kind == "ENTRY_WITNESS_ALARM")' >>"$FED/alarms.json"
done
diag "$(head -c 800 "$FED/alarms.json")"
check "... as a split view" grep -q "split view" "$FED/alarms.json"
check "... naming whose gossip showed it" jq -e 'select(.reported_by != "")' "$FED/alarms.json"
check "messages still reach police" send $P police.gwent "after the alarm"
check "... and prison" send $B prison.cardiff "after the alarm"
fed_stop_all
fed_stop $B
check "police's log verifies" log_verify police.gwent
check "prison's log verifies" log_verify prison.cardiff
finish
