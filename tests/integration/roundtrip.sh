#!/usr/bin/env bash
# roundtrip.sh — every family sent as canonical JSON is read back as the
# same JSON, at the sender and at each receiver: notification (two kinds),
# minutes, disclosure decision, partner record, acknowledgement, action
# update.  The daemon adds only what it must (sender agency and person,
# area); everything the caller gave comes back unchanged.
set -u
. "$(dirname "$0")/lib.sh"
FIX=$TOP/tests/fixtures/hook-entries
fed_init
for a in $AGENCIES; do fed_start "$a" || notok "$a starts"; done

# The body a system would submit: what the fixture's sender gave, dated now
# (a receiver refuses messages dated beyond its clock-skew allowance) with
# its acknowledgement deadline as far after that as the fixture's, in
# canonical proto3 JSON form, which leaves out fields at their defaults.
submitted() {
	jq -S --arg now "$(($(date +%s) * 1000))" '
		.body | del(.senderAgency, .senderPerson, .area) |
		if .ackDeadlineMs then .ackDeadlineMs = (($now | tonumber) +
			(.ackDeadlineMs | tonumber) - (.createdMs | tonumber) |
			tostring) else . end | .createdMs = $now |
		walk(if type == "object" then with_entries(select(
			.value != "" and .value != "0" and .value != 0 and
			.value != false and .value != [])) else . end)' "$FIX/$1.json"
}
hex_id() { jq -r '.message_id' "$FIX/$1.json"; }
show_body() {	# show_body AGENCY HEXID: the stored body, canonical
	"$PPX" show --config "$(fed_conf "$1")" "$2" --body | jq -S .
}

for f in notification release_date minutes disclosure partner_record acknowledgement action_update; do
	sender=$(jq -r '.body.senderAgency' "$FIX/$f.json")
	submitted "$f" >"$FED/$f.json"
	out=$(ppx_send "$sender" "$FED/$f.json" --wait --timeout 30 2>&1)
	rc=$?
	diag "$f from $sender: $out"
	check "$f: sent as JSON by $sender and delivered to every recipient" [ "$rc" -eq 0 ]
	id=$(hex_id "$f")
	for a in $sender $(jq -r '.body.recipients[]' "$FIX/$f.json"); do
		got=$(show_body "$a" "$id" 2>&1)
		check "$f: $a reads back the JSON that was sent" \
			[ "$(jq -S 'del(.senderAgency, .senderPerson, .area)' <<<"$got")" = "$(cat "$FED/$f.json")" ]
		check "$f: $a sees it signed by $sender, sent by its operator" \
			[ "$(jq -r '.senderAgency + " " + .senderPerson.agency' <<<"$got")" = "$sender $sender" ]
	done
done
# A body dated beyond the clock-skew allowance is refused before signing.
submitted notification | jq --arg t "$((($(date +%s) + 86400) * 1000))" \
	'.createdMs = $t | .messageId = "AAAAAAAAAAAAAAAAAAAAAA=="' >"$FED/future.json"
out=$(ppx_send police.gwent "$FED/future.json" 2>&1)
check "a body dated a day ahead is refused before signing" grep -q "in the future" <<<"$out"
finish
