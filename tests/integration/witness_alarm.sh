#!/usr/bin/env bash
# witness_alarm.sh — a partner's log that does not extend what was
# cosigned raises an alarm (PROTOCOL.md 11.3): probation restored from an
# older copy of its data, then rewritten from nothing with the same keys.
# Police and prison raise the alarm (log entry, ppx status, event stream)
# and messages between them and probation still flow and are stored.
set -u
. "$(dirname "$0")/lib.sh"
AGENCIES="police.gwent probation.gwent prison.cardiff"
SUBSCRIBE=$TOP/$BUILD/tests/subscribe
fed_init
mkdir -p -m 0700 "$FED/ev"
fed_config police.gwent $'[evidence]\nwitness_interval_ms = 200\n[events]\nendpoint = ipc://'"$FED"'/ev/events.sock'
for a in probation.gwent prison.cardiff; do
	fed_config "$a" $'[evidence]\nwitness_interval_ms = 200'
done
for a in $AGENCIES; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done

P=probation.gwent
status_json() { "$PPX" status --json --config "$(fed_conf "$1")" 2>/dev/null; }
held() {	# held A B: the size of B's log that A holds
	status_json "$1" | jq -r --arg p "$2" \
		'.witnesses[] | select(.agency == $p) | .heldSize // 0 | tonumber'
}
alarmed() { status_json "$1" | jq -e --arg p "$2" '.witnesses[] | select(.agency == $p) | .alarm == true' >/dev/null; }
send() {	# send FROM TO TEXT
	body_json "$1" "$2" ARREST "$3" >"$FED/m.json"
	ppx_send "$1" "$FED/m.json" --wait --timeout 20 >/dev/null 2>&1
}
at_least() { [ "$("${@:2}")" -ge "$1" ]; }

check "probation -> police delivered" send $P police.gwent "one"
check "police holds a checkpoint of probation's log" wait_until 20 at_least 1 held police.gwent $P
check "prison holds one too" wait_until 20 at_least 1 held prison.cardiff $P

# --- restore: an older copy of probation's data put back ---------------
fed_stop $P
cp -a "$FED/$P/log" "$FED/log.snapshot"
fed_start $P || notok "probation restarts"
h0=$(held police.gwent $P)
for i in 1 2 3; do send $P police.gwent "after snapshot $i"; done
send $P prison.cardiff "to prison" || true
check "police holds probation's grown log" wait_until 20 at_least $((h0 + 6)) held police.gwent $P
check "prison too" wait_until 20 at_least $((h0 + 6)) held prison.cardiff $P
size=$(held police.gwent $P)
fed_stop $P
rm -rf "$FED/$P/log" && mv "$FED/log.snapshot" "$FED/$P/log"
if [ -x "$SUBSCRIBE" ]; then
	"$SUBSCRIBE" "ipc://$FED/ev/events.sock" "ENTRY_WITNESS_ALARM" 1 60 \
		>"$FED/events.out" 2>&1 &
	subscriber=$!
	sleep 0.5
else
	subscriber=
fi
fed_start $P || notok "probation restarts from the old copy"
alarms() { log_count "$1" ENTRY_WITNESS_ALARM; }
check "police logs an alarm for the restored log" wait_until 20 at_least 1 alarms police.gwent
check "prison logs one too" wait_until 20 at_least 1 alarms prison.cardiff
check "police's status shows the ALARM" alarmed police.gwent $P
out=$("$PPX" status --config "$(fed_conf police.gwent)" 2>&1)
diag "$out"
check "... in the text too" grep -q "ALARM" <<<"$out"
if [ -n "$subscriber" ]; then
	wait "$subscriber"
	check "the alarm is sent on the event stream" [ $? -eq 0 ]
	diag "$(cat "$FED/events.out")"
fi
n=$(log_count police.gwent ENTRY_RECEIVED)
check "a message from the restored probation is still stored at police" send $P police.gwent "after restore"
check "... as RECEIVED" [ "$(log_count police.gwent ENTRY_RECEIVED)" -gt "$n" ]
check "police -> probation is still delivered" send police.gwent $P "to restored"

# --- rewrite: probation's data wiped, same keys ------------------------
# On fresh logs, so that the alarm can only come from the rewrite.
fed_stop_all
check "police's log verifies" log_verify police.gwent
check "prison's log verifies" log_verify prison.cardiff
for a in $AGENCIES; do rm -rf "$FED/$a/log"; fed_start "$a" || notok "$a restarts"; done
check "probation -> police delivered" send $P police.gwent "fresh"
check "police holds probation's fresh log" wait_until 20 at_least 2 held police.gwent $P
check "prison holds it too" wait_until 20 at_least 1 held prison.cardiff $P
size=$(held police.gwent $P)
before=$(alarms police.gwent)
check "no alarm yet" [ "$before" -eq 0 ] && [ "$(alarms prison.cardiff)" -eq 0 ]
fed_stop $P
rm -rf "$FED/$P/log"
fed_start $P || notok "probation restarts with an empty log"
for i in 1 2 3 4 5 6 7 8; do send $P police.gwent "rewritten $i"; done
check "police's status shows the ALARM" wait_until 20 alarmed police.gwent $P
more() { [ "$(alarms police.gwent)" -gt "$before" ]; }
check "police logs an alarm for the rewritten log" wait_until 20 more
check "prison logs one too" wait_until 20 at_least 1 alarms prison.cardiff
check "police still holds the checkpoint it cosigned" at_least "$size" held police.gwent $P
n=$(log_count police.gwent ENTRY_RECEIVED)
check "messages from the rewritten probation are still stored" send $P police.gwent "still flowing"
check "... as RECEIVED" [ "$(log_count police.gwent ENTRY_RECEIVED)" -gt "$n" ]
ppx_log police.gwent | jq -c 'select(.kind == "ENTRY_WITNESS_ALARM")' >"$FED/alarms.json"
diag "$(head -c 600 "$FED/alarms.json")"
check "the alarm entry names probation" grep -q "$P" "$FED/alarms.json"
check "... and the two checkpoints that disagree" \
	jq -e 'select(.held_size != null and .presented_size != null and .held_root != .presented_root)' "$FED/alarms.json"

fed_stop_all
check "police's log verifies" log_verify police.gwent
check "prison's log verifies" log_verify prison.cardiff
finish
