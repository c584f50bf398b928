#!/usr/bin/env bash
# hostile_ids.sh — a message is (sender agency, message id), and an id names
# one message: squatting and reuse, with real daemons (issue 10, holes 2
# and 3).
#
#   (a) prison.cardiff, a co-recipient, squats ids of probation's messages
#       at police, before and after the real message arrives: police holds
#       both; `ppx show probation.gwent/ID` shows probation's, `ppx show ID`
#       says the id is ambiguous and lists both; police's acknowledgement
#       of probation.gwent/ID reaches probation about its message; the hook
#       JSON names each message's sender; an action update from prison
#       naming minutes only probation sent does not bind to them;
#   (b) `ppx send` of another body under an id already used fails, saying
#       so, while the same body again is idempotent; the spool puts such a
#       file in failed/ with the reason;
#   (c) a partner that sends another body under an id it already got
#       STORED is refused REJECT_ID_REUSED, and the refusal is logged; the
#       identical bytes again get the original receipt (same seq);
#   (d) for the sender, REJECT_ID_REUSED is permanent: delivery ends
#       REFUSED with that reason (ppx send --wait, ppx status).
#
# Frames of (a) and (c) come from build/tests/inject.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject

if [ ! -x "$INJECT" ]; then
	notok "the injector is built (make $BUILD/tests/inject)"
	finish
	exit 1
fi

fed_init
SPOOL=$FED/spool
HOOKED=$FED/hook.jsonl
mkdir -m 0700 "$SPOOL"
printf '#!/bin/sh\ncat >>"%s"\necho >>"%s"\n' "$HOOKED" "$HOOKED" >"$FED/dump.sh"
chmod 0700 "$FED/dump.sh"
fed_config police.gwent "$(printf '[hook dump]\ncommand = %s\n' "$FED/dump.sh")"
fed_config probation.gwent "$(printf '[spool]\ndir = %s\noperator = sam.okafor\nscan_ms = 100\n' "$SPOOL")"
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
for a in $AGENCIES; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done
POLICE=(--config "$(fed_conf police.gwent)")
PROBATION=(--config "$(fed_conf probation.gwent)")
POLICE_EP=tcp://127.0.0.1:$(fed_port police.gwent)
POLICE_LOG=(--log "$(fed_log_dir police.gwent)")
ERR=$FED/stderr

# inject MODE [ARG] [options]: frames from prison to police.
inject() {
	echo "--- inject $*" >>"$FED/inject.err"
	"$INJECT" --pki "$PKI" --endpoint "$POLICE_EP" --to police.gwent \
		--as prison.cardiff "$@" 2>>"$FED/inject.err"
}

quiet() { "$@" >/dev/null; }
new_id() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
b64() { printf '%s' "$1" | xxd -r -p | base64; }

# An arrest notification from probation under id $1 to the recipients $2
# (a JSON list), with details $3.
arrest() {
	printf '{"messageId":"%s","recipients":%s,"marking":"OFFICIAL_SENSITIVE","priority":"URGENT","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"},"subject":{"pncId":"2019/0123456X","crn":"X123456","name":"John Smith"},"notification":{"kind":"ARREST","effectiveDate":"2026-11-21","details":"%s"}}\n' \
		"$(b64 "$1")" "$2" "$3"
}

# An entry of police's log of KIND from PEER about message ID (or with
# reason REASON, for ID "reason:REASON").
police_has() {	# police_has KIND PEER ID
	"$PPX" log "${POLICE_LOG[@]}" --json |
		jq -c --arg k "$1" --arg p "$2" --arg id "$3" \
		'select(.kind == $k and .peer == $p and
			(.message_id == $id or "reason:" + .reason == $id))' |
		grep -q .
}

# --- (a) squatting ---------------------------------------------------------
before=$(new_id)
after=$(new_id)
out=$(inject squat "$before" --kind RELEASE_DATE)
check "(a) prison squats an id at police before probation's message: STORED" \
	grep -q '^STORED ' <<<"$out"
arrest "$before" '["police.gwent","prison.cardiff"]' "The real arrest (1)" >"$FED/before.json"
arrest "$after" '["police.gwent","prison.cardiff"]' "The real arrest (2)" >"$FED/after.json"
check "(a) probation's messages under those ids are delivered" \
	quiet ppx_send probation.gwent "$FED/before.json" --wait --timeout 20
ppx_send probation.gwent "$FED/after.json" --wait --timeout 20 >/dev/null
out=$(inject squat "$after" --kind RELEASE_DATE)
check "(a) prison squats an id after probation's message: STORED" \
	grep -q '^STORED ' <<<"$out"
for id in "$before" "$after"; do
	check "(a) police holds probation's message $id" \
		police_has ENTRY_RECEIVED probation.gwent "$id"
	check "(a) police holds prison's junk under $id" \
		police_has ENTRY_RECEIVED prison.cardiff "$id"
	out=$("$PPX" show "probation.gwent/$id" "${POLICE_LOG[@]}" 2>"$ERR")
	check "(a) ppx show probation.gwent/ID shows probation's message, not prison's junk" \
		bash -c 'grep -q "received from probation.gwent" <<<"$1" &&
			 ! grep -q "Junk under a squatted" <<<"$1"' - "$out"
	"$PPX" show "$id" "${POLICE_LOG[@]}" >/dev/null 2>"$ERR"
	check "(a) ppx show ID exits 2: ambiguous" [ $? -eq 2 ]
	check "(a) ... and lists both senders' messages" bash -c \
		"grep -q ambiguous '$ERR' && grep -q 'probation.gwent/$id' '$ERR' &&
		 grep -q 'prison.cardiff/$id' '$ERR'"
done
out=$("$PPX" show "prison.cardiff/${after:0:12}" "${POLICE_LOG[@]}" 2>"$ERR")
check "(a) ppx show AGENCY/PREFIX shows that agency's message" \
	grep -q "Junk under a squatted" <<<"$out"

"$PPX" ack "$before" "${POLICE[@]}" >/dev/null 2>"$ERR"
check "(a) ppx ack ID of an ambiguous id is refused, listing both" bash -c \
	"grep -q 'probation.gwent/$before' '$ERR' && grep -q 'prison.cardiff/$before' '$ERR'"
out=$("$PPX" ack "probation.gwent/$before" "${POLICE[@]}" --note "Seen" \
	--wait --timeout 20 2>"$ERR")
rc=$?
[ $rc -eq 0 ] || diag "ppx ack: exit $rc: $(cat "$ERR")"
check "(a) police acknowledges probation.gwent/ID" [ $rc -eq 0 ]
check "(a) the acknowledgement went to probation" grep -q "probation.gwent=DELIVERED" <<<"$out"
check "(a) police's log shows probation's message acknowledged" bash -c \
	"\"$PPX\" show probation.gwent/$before ${POLICE_LOG[*]@Q} --json |
	 jq -c '.acknowledgements[]' | grep -q ."
check "(a) ... and prison's junk under the id not acknowledged" bash -c \
	"\"$PPX\" show prison.cardiff/$before ${POLICE_LOG[*]@Q} --json |
	 jq -e '.acknowledgements | length == 0' >/dev/null"
check "(a) probation sees its message acknowledged by police" bash -c \
	"\"$PPX\" show $before --log \"$(fed_log_dir probation.gwent)\" --json |
	 jq -c '.acknowledgements[] | select(.partner == \"police.gwent\")' |
	 grep -q ."

# police's acknowledgement is the last of the three in the log
wait_until 30 grep -q '"kind":"ENTRY_SENT".*"sender":"police.gwent"' "$HOOKED"
check "(a) the hook JSON names prison as the sender of its junk" \
	grep -q "\"kind\":\"ENTRY_RECEIVED\".*\"message_id\":\"$after\",\"sender\":\"prison.cardiff\"" "$HOOKED"
check "(a) ... and probation as the sender of its message" \
	grep -q "\"kind\":\"ENTRY_RECEIVED\".*\"message_id\":\"$after\",\"sender\":\"probation.gwent\"" "$HOOKED"
check "(a) ... and police as the sender of what it sent" \
	grep -q '"kind":"ENTRY_SENT".*"sender":"police.gwent"' "$HOOKED"

# Minutes only probation sent: prison's update naming them binds nothing.
out=$("$PPX" send minutes "${PROBATION[@]}" --to police.gwent \
	--pnc 2019/0123456X --meeting-id GW-2026-200 --level 2 --date 2026-11-20 \
	--chair "Alex Morgan, probation.gwent, MAPPA chair" \
	--lead-agency probation.gwent \
	--required "Sam Okafor, probation.gwent, offender manager" \
	--attended "Sam Okafor, probation.gwent, offender manager" \
	--supervision "Weekly appointments" --disclosure-considered no \
	--action "Home visit; id=A1; owner=Dana Evans, police.gwent; due=2026-12-01" \
	--wait --timeout 20 2>"$ERR")
minutes=$(cut -d' ' -f1 <<<"$out" | tail -1)
[ -n "$minutes" ] || diag "minutes: $(cat "$ERR")"
out=$(inject update-of "$minutes")
check "(a) prison's action update naming probation's minutes to police is refused" \
	grep -q "^REFUSED REJECT_BAD_BODY .*from a party to the update" <<<"$out"
[ -n "$out" ] && diag "update-of: $out"

# --- (b) ppx send: another body under a used id ----------------------------
id=$(new_id)
arrest "$id" '["police.gwent"]' "First body" >"$FED/first.json"
arrest "$id" '["police.gwent"]' "Second body" >"$FED/second.json"
arrest "$id" '["police.gwent","prison.cardiff"]' "First body" >"$FED/wider.json"
first=$(ppx_send probation.gwent "$FED/first.json" 2>"$ERR")
check "(b) the first body is queued" [ -n "$first" ]
again=$(ppx_send probation.gwent "$FED/first.json" 2>"$ERR")
check "(b) the same body again is the same message (same log entry)" \
	[ "$(cut -d' ' -f1,2 <<<"$again")" = "$(cut -d' ' -f1,2 <<<"$first")" ]
ppx_send probation.gwent "$FED/second.json" >"$FED/second.out" 2>"$ERR"
check "(b) another body under the id fails (exit 1)" [ $? -eq 1 ]
check "(b) ... saying the id is already used" grep -q "already used by another message" "$ERR"
check "(b) ... and prints no delivery state" [ ! -s "$FED/second.out" ]
ppx_send probation.gwent "$FED/wider.json" >"$FED/wider.out" 2>"$ERR"
check "(b) the same body to one more recipient under the id fails" [ $? -eq 1 ]
check "(b) nothing under the id went to prison" \
	fails bash -c "\"$PPX\" log --log \"$(fed_log_dir probation.gwent)\" --json |
	 grep '\"kind\":\"ENTRY_SENT\"' | grep '\"message_id\":\"$id\"' | grep -q prison"

cp "$FED/first.json" "$SPOOL/.same.tmp" && mv "$SPOOL/.same.tmp" "$SPOOL/same.json"
cp "$FED/second.json" "$SPOOL/.other.tmp" && mv "$SPOOL/.other.tmp" "$SPOOL/other.json"
wait_until 10 bash -c "[ ! -e '$SPOOL/same.json' ] && [ ! -e '$SPOOL/other.json' ]"
check "(b) the spool takes the same body again as sent (done/)" [ -e "$SPOOL/done/same.json" ]
check "(b) the spool puts another body under the id in failed/" [ -e "$SPOOL/failed/other.json" ]
check "(b) ... with the reason" grep -q "already used by another message" \
	"$SPOOL/failed/other.json.error"

# --- (c) a partner reuses an id for another body ----------------------------
out=$(inject reuse-id --kind RELEASE_DATE)
diag "reuse-id: $(tr '\n' '|' <<<"$out")"
stored=$(grep -m1 '^STORED ' <<<"$out" | cut -d' ' -f2)
check "(c) the first body is STORED" [ -n "$stored" ]
check "(c) another body under its id is REFUSED REJECT_ID_REUSED" \
	grep -q '^REFUSED REJECT_ID_REUSED ' <<<"$out"
check "(c) the identical bytes again get the original receipt (same seq)" \
	[ "$(grep -c "^STORED $stored\$" <<<"$out")" -eq 2 ]
check "(c) police logged the refusal" \
	police_has ENTRY_REJECTED prison.cardiff reason:REJECT_ID_REUSED

# --- (d) the sending side: REJECT_ID_REUSED is permanent -------------------
# A second holder of police's key (a restored daemon, say) squats an id at
# probation; police's own message under it is then refused for good, and
# police says so instead of resending for ever.
id=$(new_id)
echo "--- inject --as police.gwent squat $id (to probation)" >>"$FED/inject.err"
"$INJECT" --pki "$PKI" --endpoint "tcp://127.0.0.1:$(fed_port probation.gwent)" \
	--to probation.gwent --as police.gwent squat "$id" >/dev/null 2>>"$FED/inject.err"
printf '{"messageId":"%s","recipients":["probation.gwent"],"marking":"OFFICIAL_SENSITIVE","priority":"URGENT","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"},"subject":{"pncId":"2019/0123456X"},"notification":{"kind":"ARREST","effectiveDate":"2026-11-21","details":"The real one"}}\n' \
	"$(b64 "$id")" >"$FED/police.json"
ppx_send police.gwent "$FED/police.json" --wait --timeout 20 >"$FED/police.out" 2>"$ERR"
rc=$?
check "(d) police's message under the squatted id ends refused (exit 1, not a timeout)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'probation.gwent refused $id: REJECT_ID_REUSED' '$ERR'"
[ $rc -eq 1 ] || diag "exit $rc: $(cat "$ERR")"
check "(d) ppx status counts the message as refused by probation" bash -c \
	"\"$PPX\" status ${POLICE[*]@Q} --json | jq -r '.partners[] | select(.agency == \"probation.gwent\") | .refused' | grep -qx 1"
check "(d) nothing of it waits in police's outbox" fed_settled police.gwent probation.gwent

fed_stop_all
for a in $AGENCIES; do
	check "$a's log verifies" log_verify "$a"
done
finish
