#!/usr/bin/env bash
# audit.sh — `ppx audit SUBJECT` gives exactly the known account of a
# scripted history, in table, CSV and JSON; and the review of emergency
# access: owed in `ppx due`, overdue later, refused to anyone but the
# configured reviewer, accepted from the reviewer, then gone from due and
# refused a second time.
#
# The history, with police.gwent, probation.gwent and prison.cardiff
# running (subject X: pnc 2019/0123456X, crn X123456; subject Y: pnc
# 2020/0654321Y):
#   m1 police -> probation ARREST about X, acknowledgement asked for;
#      probation acknowledges it (ppx ack)
#   m2 police -> probation ARREST about Y
#   m3 probation -> police RISK_CHANGE about X; police acknowledges it
#   m4 probation -> police RISK_CHANGE about Y
#   m5 police -> prison INTELLIGENCE about X: the prison's policy refuses it
#   m6 probation -> police a disclosure decision about X, whose rationale
#      holds quotes, a comma and a line break (text from a partner)
#   r1 police -> probation partner record R-X1 about X, then its update r2
#      (level 3), and a record R-Y1 about Y
# At police, the audit of X is then the thirteen rows of EXPECTED below,
# nothing about Y.  Reads (ENTRY_READ, written once reads are logged) are
# checked apart, since each ppx audit may itself be one: every one about X
# is a row with its reader.
set -u
. "$(dirname "$0")/lib.sh"
fed_init
cat >"$FED/prison-policy.conf" <<'POL'
[rule responsible-authorities]
from = police.*, probation.*
to = police.*, probation.*, prison.*
kinds = notification:A*, notification:R*, notification:L*, minutes,
    disclosure, partner_record, acknowledgement, action_update

[rule prison]
from = prison.*
to = police.*, probation.*
kinds = notification:RELEASE_DATE, notification:PRISON_*,
    notification:SECURITY_INTELLIGENCE, acknowledgement, action_update
POL
ME=$(id -u)
OTHER_UID=$((ME + 4242))
# Police has a second operator, the emergency reviewer, on another uid:
# the test user is dana.evans until the review, then the reviewer.
ACC=$'[evidence]\nwitness = no\n[accountability]\nemergency_reviewer = rita.reviewer\nemergency_review_days = 2\n[operator rita.reviewer]\nname = Rita Reviewer\nrole = information assurance\ngrade = SEO'
fed_config police.gwent "$ACC"$'\n'"uid = $OTHER_UID"
fed_config probation.gwent $'[evidence]\nwitness = no'
FED_POLICY=$FED/prison-policy.conf fed_config prison.cardiff $'[evidence]\nwitness = no'
for a in $AGENCIES; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done

ERR=$FED/ppx.err
POLICE=(--config "$(fed_conf police.gwent)")
PROBATION=(--config "$(fed_conf probation.gwent)")
POLICE_LOG=$FED/police.gwent/log
px() { "$PPX" "$@" 2>>"$ERR"; }
checkx() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
# Under SAN=1, any sanitizer report from ppx itself fails the test.
ppx_clean() {
	check "ppx ran without sanitizer reports" \
		bash -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \"$ERR\""
}
# The message id ppx send printed (its last line's first word).
sent() { "$PPX" send "$@" --wait --timeout 20 2>>"$ERR" | tail -1 | cut -d' ' -f1; }
X=(--pnc 2019/0123456X --crn X123456 --name "John Smith")
Y=(--pnc 2020/0654321Y --name "Owen Price")
XP=(--pnc 2019/0123456X --name "John Smith")	# the CRN is probation's to set

m1=$(sent notification "${POLICE[@]}" --to probation.gwent --kind arrest \
	"${X[@]}" --details "Arrested at 21:40" --ack-by +1d)
m2=$(sent notification "${POLICE[@]}" --to probation.gwent --kind arrest \
	"${Y[@]}" --details "Arrested at 22:10")
m3=$(sent notification "${PROBATION[@]}" --to police.gwent --kind risk-change \
	"${X[@]}" --details "Risk to the public now high" --rosh public=high \
	--ack-by +2d)
m4=$(sent notification "${PROBATION[@]}" --to police.gwent --kind risk-change \
	"${Y[@]}" --details "Risk to children now high" --rosh children=high \
	--ack-by +2d)
"$PPX" send notification "${POLICE[@]}" --to prison.cardiff --kind intelligence \
	"${X[@]}" --details "Seen near the school" --wait --timeout 20 \
	>"$FED/m5.out" 2>>"$ERR"
m5=$(tail -1 "$FED/m5.out" | cut -d' ' -f1)
RATIONALE=$'No current risk to "staff", reviewed\nagain at the panel'
m6=$(sent disclosure "${PROBATION[@]}" --to police.gwent "${X[@]}" \
	--considered yes --decision do-not-disclose --rationale "$RATIONALE" \
	--decided-by "Alex Morgan, probation.gwent, MAPPA chair")
r1=$(sent record "${POLICE[@]}" --to probation.gwent --record-id R-X1 "${XP[@]}" \
	--category 2 --level 2 --partner police.gwent --partner probation.gwent)
r2=$(sent record "${POLICE[@]}" --to probation.gwent --record-id R-X1 --level 3)
ry=$(sent record "${POLICE[@]}" --to probation.gwent --record-id R-Y1 "${Y[@]}" \
	--category 2 --level 1 --partner police.gwent --partner probation.gwent)
diag "m1 $m1 m2 $m2 m3 $m3 m4 $m4 m5 $m5 m6 $m6 r1 $r1 r2 $r2 ry $ry"
checkx "the history was sent (ten messages)" \
	'[ -n "$m1" ] && [ -n "$m2" ] && [ -n "$m3" ] && [ -n "$m4" ] && [ -n "$m5" ] && [ -n "$m6" ] && [ -n "$r1" ] && [ -n "$r2" ] && [ -n "$ry" ]'
check "prison refused m5 by its policy" grep -q "prison.cardiff=REFUSED" "$FED/m5.out"
check "probation acknowledges m1" px ack "$m1" "${PROBATION[@]}" --wait --timeout 20
check "police acknowledges m3" px ack "$m3" "${POLICE[@]}" --wait --timeout 20
received() { [ "$(px log --log "$POLICE_LOG" --json --kind RECEIVED | grep -c .)" -ge 4 ]; }
check "police received m3, m4, m6 and the acknowledgement of m1" wait_until 20 received

# ---- ppx audit X at police --------------------------------------------------
# Rows other than reads, in log order: action|person|agency|partner|message
# prefix.  "ack1" is probation's acknowledgement of m1, "ack3" ours of m3.
EXPECTED="sent|dana.evans|police.gwent|probation.gwent|$m1
delivered||probation.gwent|probation.gwent|$m1
received|sam.okafor|probation.gwent|probation.gwent|$m3
refused||prison.cardiff|prison.cardiff|$m5
sent|dana.evans|police.gwent|prison.cardiff|$m5
disclosure decided|sam.okafor|probation.gwent|probation.gwent|$m6
sent|dana.evans|police.gwent|probation.gwent|$r1
delivered||probation.gwent|probation.gwent|$r1
sent|dana.evans|police.gwent|probation.gwent|$r2
delivered||probation.gwent|probation.gwent|$r2
acknowledged|sam.okafor|probation.gwent|probation.gwent|ack1
acknowledged|dana.evans|police.gwent|probation.gwent|ack3
delivered||probation.gwent|probation.gwent|ack3"
# The rows of a JSON Lines audit, reads left out, as above (sorted: the
# order of rows is checked on the seqs).
shape() {
	jq -r --arg m1 "$m1" --arg m3 "$m3" 'select(.action | test("read") | not) |
		[.action, .person, .agency, .partner,
		 (if .entry == "ENTRY_SENT" or .entry == "ENTRY_RECEIVED" or
		     .entry == "ENTRY_RECEIPT_RECEIVED" then
			(if .family == "acknowledgement" then
				(if .direction == "in" and .entry == "ENTRY_RECEIVED"
				 then "ack1" else "ack3" end)
			 else .message_id end)
		  else .message_id end)] | join("|")' | sort
}
jl=$(px audit pnc:2019/0123456X --log "$POLICE_LOG" --format jsonl)
diag "$(jq -c '[.seq, .action, .person, .agency, .partner, .message_id[0:8], .why]' <<<"$jl" 2>/dev/null)"
checkx "audit --format jsonl: every line is JSON" 'jq -e . <<<"$jl" >/dev/null'
checkx "audit X: exactly the known rows (actions, persons, agencies, partners, messages)" \
	'[ "$(shape <<<"$jl")" = "$(sort <<<"$EXPECTED")" ]'
checkx "audit X: rows in log order" \
	'[ "$(jq -r .seq <<<"$jl")" = "$(jq -r .seq <<<"$jl" | sort -n)" ]'
checkx "audit X: nothing about Y (m2, m4, R-Y1)" \
	'! grep -qE "$m2|$m4|$ry|2020/0654321Y|Owen Price" <<<"$jl"'
checkx "audit X: the refusal says why (the prison's policy)" \
	'[ "$(jq -r "select(.action == \"refused\") | .why" <<<"$jl")" != "" ] &&
	 jq -r "select(.action == \"refused\") | .why" <<<"$jl" | grep -q "^REJECT_POLICY"'
checkx "audit X: the disclosure row gives the outcome and the partner's rationale" \
	'[ "$(jq -r "select(.action == \"disclosure decided\") | .why" <<<"$jl")" = "DO_NOT_DISCLOSE under CJA_2003_S325: $RATIONALE" ]'
checkx "audit X: the partner records' update r2 is found (record:R-X1)" \
	'jq -r .message_id <<<"$jl" | grep -qx "$r2"'
checkx "audit with a bare CRN gives the same rows" \
	'[ "$(px audit X123456 --log "$POLICE_LOG" --format jsonl | shape)" = "$(shape <<<"$jl")" ]'

doc=$(px audit pnc:2019/0123456X --log "$POLICE_LOG" --json)
checkx "audit --json: one document with the same rows" \
	'[ "$(jq -c ".rows[]" <<<"$doc" | shape)" = "$(shape <<<"$jl")" ] &&
	 jq -e ".subject == \"pnc:2019/0123456X\" and (.identifiers | index(\"record:R-X1\"))" <<<"$doc" >/dev/null'

csv=$(px audit pnc:2019/0123456X --log "$POLICE_LOG" --format csv)
check "audit --format csv: the header" \
	[ "$(head -1 <<<"$csv")" = $'seq,time,action,direction,person,person_name,agency,partner,entry,family,message_id,what,why,emergency\r' ]
csv_rows() {	# records after the header as Python's csv module reads them, a
		# line break in a field as \n
	python3 -c 'import csv,sys
r = list(csv.reader(sys.stdin))
for row in r[1:]:
    if "read" not in row[2]: print("|".join(row).replace("\n", "\\n"))'
}
checkx "audit --format csv: one record per row, the same actions and messages" \
	'[ "$(csv_rows <<<"$csv" | cut -d"|" -f3 | sort)" = "$(jq -r "select(.action | test(\"read\") | not) | .action" <<<"$jl" | sort)" ]'
checkx "audit --format csv: the partner's rationale, line break and quotes, is one field" \
	'[ "$(csv_rows <<<"$csv" | grep -cF "No current risk to \"staff\", reviewed")" -eq 1 ]'

tab=$(px audit pnc:2019/0123456X --log "$POLICE_LOG")
checkx "audit table: a line per row after the header, and the line break shown as \\n" \
	'[ "$(sed -n "/^SEQ /,\$p" <<<"$tab" | grep -vc "^SEQ \|emergency read\| read ")" -eq 13 ] &&
	 grep -qF "reviewed\\nagain" <<<"$tab"'
check "audit Y: its own rows, and none of X" \
	bash -c "! \"$PPX\" audit pnc:2020/0654321Y --log \"$POLICE_LOG\" --format jsonl 2>/dev/null | grep -qE '$m1|$m3|$m6|R-X1'"
check "audit of an identifier nobody holds: exit 1" \
	bash -c "\"$PPX\" audit pnc:1999/0000000Z --log \"$POLICE_LOG\" >/dev/null 2>&1; [ \$? -eq 1 ]"
check "audit with --subject: a usage error" \
	bash -c "\"$PPX\" audit X123456 --subject X123456 --log \"$POLICE_LOG\" >/dev/null 2>&1; [ \$? -eq 2 ]"

# Reads of X (ENTRY_READ with X's keys), when reads are logged: each is a
# row with the reader and the reason.
reads=$(px log --log "$POLICE_LOG" --json --kind READ --subject pnc:2019/0123456X | grep -c . || true)
jl=$(px audit pnc:2019/0123456X --log "$POLICE_LOG" --format jsonl)
n_read_rows=$(jq -r 'select(.action | test("read")) | .person' <<<"$jl" | grep -c . || true)
diag "ENTRY_READ about X in police's log: $reads; read rows: $n_read_rows"
checkx "audit X: a read row, with its person, for every ENTRY_READ about X" \
	'[ "$n_read_rows" -ge "$reads" ] &&
	 [ -z "$(jq -r "select(.action | test(\"read\")) | select(.person == \"\") | .seq" <<<"$jl")" ]'

# ---- emergency access and its review ----------------------------------------
ppx_due() { px due "${POLICE[@]}" --json "$@"; }
owed() {	# the emergency reviews due lists: "seq|reviewer|state"
	ppx_due "$@" | jq -r '.owners[] | .person as $p | .items[] |
		select(.kind == "emergency-review") | "\(.ref)|\($p)|\(.state)"'
}
check "ppx review with neither --justified nor --not-justified: usage" \
	bash -c "\"$PPX\" review 1 --finding x --config \"$(fed_conf police.gwent)\" 2>/dev/null; [ \$? -eq 2 ]"
if ! "$PPX" send notification --help 2>&1 | grep -q -- --emergency; then
	notok "needs ppx send --emergency (break-glass sends): the review is not exercised"
	ppx_clean
	finish
	exit
fi
em=$("$PPX" send notification "${POLICE[@]}" --to probation.gwent --kind arrest \
	"${Y[@]}" --details "Arrested again" --emergency \
	--reason "Out of hours: officer at the door" 2>>"$ERR" | tail -1)
em_seq=$(cut -d' ' -f2 <<<"$em")
diag "emergency send: $em"
checkx "an emergency send is logged" '[ -n "$em_seq" ]'
checkx "ppx due lists its review, owed by rita.reviewer, not overdue today" \
	'[ "$(owed --soon 5)" = "seq $em_seq|rita.reviewer|soon" ]'
checkx "ppx due --as-of ten days on: the review is overdue (exit 1)" \
	'[ "$(owed --as-of "$(date -u -d "+10 days" +%F)")" = "seq $em_seq|rita.reviewer|overdue" ] &&
	 ! "$PPX" due "${POLICE[@]}" --as-of "$(date -u -d "+10 days" +%F)" >/dev/null 2>&1'
# Under SAN=1 the preloaded libfaketime must be allowed to come first.
checkx "ppx due under a clock ten days on (faketime): overdue" \
	'[ "$(at_clock "+10d" "$PPX" due --log "$POLICE_LOG" --json 2>>"$ERR" |
	      jq -r ".owners[].items[] | select(.kind == \"emergency-review\") | .state")" = overdue ]'
check "the text of due names the access, the person, the reason and the reviewer" \
	bash -c "\"$PPX\" due --config \"$(fed_conf police.gwent)\" | grep -q 'review of emergency send at seq $em_seq by dana.evans (Out of hours: officer at the door) owed by rita.reviewer'"
checkx "audit Y shows the emergency send with its reason" \
	'px audit pnc:2020/0654321Y --log "$POLICE_LOG" --format jsonl |
	 jq -se "map(select(.action == \"emergency sent\" and (.why | startswith(\"emergency: Out of hours\")))) | length == 1" >/dev/null'
out=$("$PPX" review "$em_seq" --justified --finding "It was an emergency" "${POLICE[@]}" 2>&1)
rc=$?
checkx "ppx review by dana.evans (not the reviewer): refused" \
	'[ $rc -eq 1 ] && grep -q "only the emergency reviewer rita.reviewer" <<<"$out"'
# The test user becomes the reviewer; dana.evans moves to the other uid.
fed_stop police.gwent
sed -i -e "s/^uid = $ME\$/uid = SWAP/" -e "s/^uid = $OTHER_UID\$/uid = $ME/" \
	-e "s/^uid = SWAP\$/uid = $OTHER_UID/" "$(fed_conf police.gwent)"
fed_start police.gwent || { notok "police restarts"; finish; exit 1; }
check "ppx review by rita.reviewer: accepted" \
	px review "$em_seq" --not-justified --finding "No risk to life; should have waited" "${POLICE[@]}"
checkx "the ENTRY_REVIEW names the reviewer, the access and the finding" \
	'px log --log "$POLICE_LOG" --json --kind REVIEW | grep -q "rita.reviewer"'
checkx "ppx due no longer lists it" '[ -z "$(owed --soon 5)" ]'
check "a second review: refused" \
	fails px review "$em_seq" --justified --finding "again" "${POLICE[@]}"
checkx "audit Y shows the review, its verdict and finding" \
	'px audit pnc:2020/0654321Y --log "$POLICE_LOG" --format jsonl |
	 jq -se "map(select(.action == \"reviewed\" and .person == \"rita.reviewer\" and .why == \"not justified: No risk to life; should have waited\")) | length == 1" >/dev/null'
fed_stop police.gwent
check "police's log with the review verifies" log_verify police.gwent
check "police restarts on it (the start-up check of the indexes)" fed_start police.gwent
checkx "after the restart the review is still done: due lists nothing owed" \
	'[ -z "$(owed --soon 5)" ] && fails px review "$em_seq" --justified --finding "again" "${POLICE[@]}"'
ppx_clean
finish
