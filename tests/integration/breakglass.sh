#!/usr/bin/env bash
# breakglass.sh — break-glass from end to end, across the pieces that each
# have their own scenario: an emergency read through the daemon and an
# emergency send, both owed a review by the named reviewer (`ppx due`),
# counted in the board's report (`ppx report`: accesses, reviewed,
# overdue, justified), reviewed by the reviewer (`ppx review`), and found
# with the subject by `ppx audit`.
#
# police.gwent: the test user is dana.evans (need_to_know = named: she is
# named on no record, so reading the subject needs --emergency); the
# reviewer rita.reviewer is another uid until the review, when the two
# swap.  probation.gwent receives the emergency send.
set -u
. "$(dirname "$0")/lib.sh"
fed_init
ME=$(id -u)
OTHER_UID=$((ME + 4242))
ACC=$'[evidence]\nwitness = no\n[accountability]\nemergency_reviewer = rita.reviewer\nemergency_review_days = 2\n[operator rita.reviewer]\nname = Rita Reviewer\nrole = information assurance\n'"uid = $OTHER_UID"
fed_config police.gwent "$ACC"
fed_config probation.gwent $'[evidence]\nwitness = no'
C=$(fed_conf police.gwent)
# dana.evans, the test user, reads only what the records name her on.
sed -i "/^\[operator dana.evans\]/a need_to_know = named" "$C"
for a in police.gwent probation.gwent; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done
ERR=$FED/ppx.err
POLICE_LOG=$FED/police.gwent/log
px() { "$PPX" "$@" 2>>"$ERR"; }
checkx() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
X=(--pnc 2019/0123456X --name "John Smith")
# The emergency reviews due lists at police: "ref|reviewer|state" lines
# (read directly: through the daemon, ppx due needs need_to_know = all).
owed() {
	px due --log "$POLICE_LOG" --json "$@" | jq -r '.owners[] | .person as $p |
		.items[] | select(.kind == "emergency-review") |
		"\(.ref)|\($p)|\(.state)"' | sort
}
# One of the report's emergency measures over the total row: "count/total",
# for the year to today; with a second argument, ten days on (faketime: a
# review is overdue by the clock, never by --as-of alone), read directly.
measure() {	# measure KEY [later]
	local f=(--config "$C") t=() day
	if [ -n "${2:-}" ]; then
		f=(--log "$POLICE_LOG")
		t=(at_clock +10d)
	fi
	day=$("${t[@]}" date -u +%F)
	"${t[@]}" "$PPX" report "${f[@]}" --json --from 2026-01-01 --to "$day" \
		2>>"$ERR" | jq -r --arg k "$1" '.total[$k] | "\(.count)/\(.total)"'
}

# --- the accesses ---------------------------------------------------------------
check "a send about X without need to know is refused" \
	fails px send notification --config "$C" --to probation.gwent --kind arrest \
	"${X[@]}" --details "Arrested at 21:40"
em=$(px send notification --config "$C" --to probation.gwent --kind arrest \
	"${X[@]}" --details "Arrested at 21:40" --emergency \
	--reason "Out of hours: officer at the door" --wait --timeout 20 | tail -1)
send_seq=$(cut -d' ' -f2 <<<"$em")
checkx "an emergency send is delivered and logged ($em)" '[ -n "$send_seq" ]'
msg=$("$PPX" subject pnc:2019/0123456X --config "$C" 2>&1 >/dev/null); rc=$?
checkx "a read of X without need to know is refused" \
	'[ $rc -ne 0 ] && grep -q "need to know" <<<"$msg"'
check "an emergency read of X shows it" \
	bash -c "\"$PPX\" subject pnc:2019/0123456X --config \"$C\" --emergency --reason 'Threat to life reported' 2>>\"$ERR\" | grep -q 'notification ARREST by Dana Evans'"
read_seq=$(px log --log "$POLICE_LOG" --json --kind READ |
	jq -r 'select(.access.emergency == true) | .seq' | tail -1)
checkx "the emergency read is logged (seq $read_seq)" '[ -n "$read_seq" ]'

# --- owed, counted ------------------------------------------------------------------
checkx "ppx due: both accesses owe rita.reviewer a review" \
	'[ "$(owed --soon 5)" = "$(printf "seq %s|rita.reviewer|soon\nseq %s|rita.reviewer|soon" $(printf "%s\n" "$send_seq" "$read_seq" | sort))" ]'
checkx "report: two emergency accesses" \
	'[ "$(measure emergency_accesses | cut -d/ -f1)" = 2 ]'
checkx "report: none reviewed of the two owed, none overdue today" \
	'[ "$(measure emergency_reviewed)" = 0/2 ] && [ "$(measure emergency_review_overdue)" = 0/2 ]'
checkx "report as of ten days on: both reviews overdue" \
	'[ "$(measure emergency_review_overdue later)" = 2/2 ]'

# --- the review -----------------------------------------------------------------------
out=$("$PPX" review "$read_seq" --justified --finding "Imminent risk" --config "$C" 2>&1); rc=$?
checkx "the accessor cannot review her own access" \
	'[ $rc -eq 1 ] && grep -q "rita.reviewer" <<<"$out"'
fed_stop police.gwent
sed -i -e "s/^uid = $ME\$/uid = SWAP/" -e "s/^uid = $OTHER_UID\$/uid = $ME/" \
	-e "s/^uid = SWAP\$/uid = $OTHER_UID/" "$C"
fed_start police.gwent || { notok "police restarts"; finish; exit 1; }
check "the reviewer finds the emergency read justified" \
	px review "$read_seq" --justified --finding "Imminent risk: right to read" --config "$C"
checkx "ppx due: only the send still owes a review" \
	'[ "$(owed --soon 5)" = "seq $send_seq|rita.reviewer|soon" ]'
checkx "report: one of two reviewed, found justified" \
	'[ "$(measure emergency_reviewed)" = 1/2 ] && [ "$(measure emergency_justified)" = 1/1 ]'
checkx "report as of ten days on: one review overdue" \
	'[ "$(measure emergency_review_overdue later)" = 1/2 ]'
px audit pnc:2019/0123456X --log "$POLICE_LOG" --format jsonl >"$FED/audit.jsonl"
checkx "audit of X: the emergency read, its reason and its reader" \
	'jq -se "map(select(.action == \"emergency read\" and .person == \"dana.evans\" and (.why | contains(\"Threat to life reported\")))) | length == 1" "$FED/audit.jsonl" >/dev/null'
checkx "audit of X: the emergency send and the review" \
	'jq -se "(map(select(.action == \"emergency sent\")) | length == 1) and (map(select(.action == \"reviewed\" and .person == \"rita.reviewer\")) | length == 1)" "$FED/audit.jsonl" >/dev/null'
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$ERR" >/dev/null; then
	notok "ppx ran without sanitizer reports"; grep -m5 -E "Sanitizer|runtime error" "$ERR" | sed 's/^/# /'
fi
finish
