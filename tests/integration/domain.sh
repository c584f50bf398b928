#!/usr/bin/env bash
# domain.sh — sending by flags, and the domain rules, with real daemons:
#
#   (a) each family composed from flags (`ppx send notification|minutes|
#       disclosure|record`) arrives; a notification of every kind arrives;
#   (b) each domain rule is refused at the client, naming the field; the
#       daemon refuses the same body given as JSON (it does not trust the
#       client);
#   (c) minutes are amended by a new version that supersedes them;
#   (d) partner records: an update based on an old version is refused at
#       the sender as a conflict, naming the latest; an agency changing a
#       field it does not own is refused;
#   (e) a concurrent edit: police and probation both turn version 4 into a
#       "version 5" while apart; each receiver refuses the other's as
#       REJECT_CONFLICT (detected, not overwritten); a merge resolves it;
#   (f) `ppx ack` and `ppx action` travel back as signed messages and are
#       logged at the original sender;
#   (g) the logs verify.
set -u
. "$(dirname "$0")/lib.sh"

fed_init
# prison.cardiff keeps the prison-owned fields of partner records.
cat >>"$FED/policy.conf" <<'POL'

[rule prison-records]
from = prison.*
to = police.*, probation.*
kinds = partner_record
POL
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
for a in $AGENCIES; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done
POLICE=(--config "$(fed_conf police.gwent)")
PROBATION=(--config "$(fed_conf probation.gwent)")
PRISON=(--config "$(fed_conf prison.cardiff)")
ERR=$FED/stderr

# run_ok DESCRIPTION COMMAND...: exit 0; its stdout is kept in $out.
run_ok() {
	local what=$1; shift
	out=$("$@" 2>"$ERR"); local rc=$?
	[ "$rc" -eq 0 ] || diag "exit $rc: $(cat "$ERR")"
	check "$what" [ "$rc" -eq 0 ]
}

# refused DESCRIPTION TEXT COMMAND...: exits 1 and says TEXT on stderr.
refused() {
	local what=$1 text=$2; shift 2
	"$@" >/dev/null 2>"$ERR"; local rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$text" "$ERR"; then
		ok "$what"
	else
		notok "$what"
		diag "exit $rc, wanted 1 and '$text'; stderr: $(cat "$ERR")"
	fi
}

msg_id() { cut -d' ' -f1 <<<"$1" | tail -1; }
logged() {	# logged AGENCY KIND ID: the log holds an entry of KIND for ID
	ppx_log "$1" | grep "\"kind\":\"$2\"" | grep -q "\"message_id\":\"$3\""
}

# --- (a) each family by flags ------------------------------------------
SUBJ=(--pnc 2019/0123456X --crn X123456 --name "John Smith")
run_ok "(a) a notification composed from flags is delivered" \
	"$PPX" send notification "${POLICE[@]}" --to probation.gwent \
	--kind arrest "${SUBJ[@]}" --priority immediate \
	--details "Arrested 21:40 in the exclusion zone" --wait --timeout 20
arrest=$(msg_id "$out")
check "(a) probation logged the arrest as RECEIVED" \
	logged probation.gwent ENTRY_RECEIVED "$arrest"

# What each kind needs beyond kind, subject and details (DOMAIN.md).
kind_flags() {	# sets extra=(...)
	extra=()
	case $1 in
	mappa-eligible|mappa-referral) extra=(--category 2) ;;
	screening-decision) extra=(--level 2 --decided-by "MAPPA coordinator") ;;
	level-set) extra=(--level 3) ;;
	deregistration) extra=(--exit-plan "Exit plan agreed at review") ;;
	risk-change) extra=(--rosh public=high --rosh known-adult=very-high
		--ack-by +2d) ;;
	licence-conditions) extra=(--condition
		"Curfew 19:00-07:00; kind=curfew; monitor=probation.gwent") ;;
	order) extra=(--condition
		"No unsupervised contact with children; kind=shpo; monitor=police.gwent") ;;
	address-proposed|address-confirmed|registered-address-change)
		extra=(--address "Approved Premises, Newport; postcode=NP20 1AA") ;;
	transfer) extra=(--from-area gwent --to-area south-wales) ;;
	recall-decided) extra=(--recall no --decided-by "ACO Jones") ;;
	home-visit) extra=(--announced no --visited-by "DS Evans"
		--visit-outcome "No concerns") ;;
	esac
}
kinds=$("$PPX" send notification "${PROBATION[@]}" --kinds)
check "(a) there are 32 notification kinds" [ "$(wc -l <<<"$kinds")" -eq 32 ]
sent_kinds=0
for k in $kinds; do
	kind_flags "$k"
	if "$PPX" send notification "${PROBATION[@]}" --to police.gwent \
		--kind "$k" "${SUBJ[@]}" --details "a $k notification" \
		"${extra[@]}" >>"$FED/kinds.out" 2>>"$FED/kinds.err"; then
		sent_kinds=$((sent_kinds + 1))
	else
		diag "$k: $(tail -1 "$FED/kinds.err")"
	fi
done
check "(a) a notification of every kind is accepted (32)" [ "$sent_kinds" -eq 32 ]
check "(a) police received all 32" wait_until 20 bash -c \
	"[ \$(\"$PPX\" log --log \"$FED/police.gwent/log\" --json | grep -c '\"kind\":\"ENTRY_RECEIVED\"') -ge 32 ]"

MEETING=(--meeting-id GW-2026-114 --level 2 --date 2026-11-20
	--chair "Alex Morgan, probation.gwent, MAPPA chair"
	--lead-agency probation.gwent
	--required "Sam Okafor, probation.gwent, offender manager"
	--required "Dana Evans, police.gwent, police offender manager"
	--attended "Sam Okafor, probation.gwent, offender manager"
	--supervision "Weekly appointments")
ABSENT=(--absent "Dana Evans, police.gwent, police offender manager")
ACTION=(--action "Unannounced home visit; id=A1; owner=Dana Evans, police.gwent; due=2026-12-01")
run_ok "(a) minutes composed from flags are delivered" \
	"$PPX" send minutes "${PROBATION[@]}" --to police.gwent "${SUBJ[@]}" \
	"${MEETING[@]}" "${ABSENT[@]}" --disclosure-considered no "${ACTION[@]}" \
	--next-review 2027-02-10 --wait --timeout 20
minutes=$(msg_id "$out")
check "(a) police logged the minutes" logged police.gwent ENTRY_RECEIVED "$minutes"

DECISION=(--considered yes --decision do-not-disclose
	--rationale "No current risk to the employer's staff"
	--decided-by "Alex Morgan, probation.gwent, MAPPA chair"
	--meeting-id GW-2026-114)
run_ok "(a) a disclosure decision composed from flags is delivered" \
	"$PPX" send disclosure "${POLICE[@]}" --to probation.gwent "${SUBJ[@]}" \
	"${DECISION[@]}" --wait --timeout 20
check "(a) probation logged the decision" \
	logged probation.gwent ENTRY_RECEIVED "$(msg_id "$out")"

run_ok "(a) a partner record (version 1) composed from flags is delivered" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1981 \
	--pnc 2019/0123456X --name "John Smith" --dob 1981-04-02 --category 2 \
	--level 2 --partner police.gwent --partner probation.gwent \
	--police-offender-manager "Dana Evans, police.gwent" --wait --timeout 20
v1=$(msg_id "$out")
check "(a) probation logged version 1" logged probation.gwent ENTRY_RECEIVED "$v1"

# --- (b) each rule refused at the client, naming the field --------------
MIN=(send minutes "${PROBATION[@]}" --to police.gwent "${SUBJ[@]}")
refused "(b) minutes without required attendees" "minutes.required" \
	"$PPX" "${MIN[@]}" --meeting-id M --level 2 --date 2026-11-20 \
	--chair "A B, probation.gwent" --lead-agency probation.gwent \
	--disclosure-considered no
refused "(b) minutes without actual attendees" "minutes.actual" \
	"$PPX" "${MIN[@]}" --meeting-id M --level 2 --date 2026-11-20 \
	--chair "A B, probation.gwent" --lead-agency probation.gwent \
	--required "Sam Okafor, probation.gwent, offender manager" \
	--disclosure-considered no
refused "(b) a required attendee neither attending nor absent" \
	"minutes.absent: Dana Evans (police.gwent) was required" \
	"$PPX" "${MIN[@]}" "${MEETING[@]}" --disclosure-considered no
refused "(b) minutes without a lead agency" "minutes.lead_agency" \
	"$PPX" "${MIN[@]}" "${MEETING[@]/--lead-agency/--comments}" \
	"${ABSENT[@]}" --disclosure-considered no
refused "(b) minutes without the disclosure-considered answer" \
	"minutes.disclosure_considered_answer" \
	"$PPX" "${MIN[@]}" "${MEETING[@]}" "${ABSENT[@]}"
refused "(b) an action owned by an agency, not a named person" \
	"minutes.actions[0].owner.name" \
	"$PPX" "${MIN[@]}" "${MEETING[@]}" "${ABSENT[@]}" \
	--disclosure-considered yes --action "Visit; due=2026-12-01; owner=, police.gwent"
refused "(b) an action owner without an agency" \
	"minutes.actions[0].owner.agency" \
	"$PPX" "${MIN[@]}" "${MEETING[@]}" "${ABSENT[@]}" \
	--disclosure-considered yes --action "Visit; due=2026-12-01; owner=Dana Evans"
refused "(b) an action without a due date" "minutes.actions[0].due_date" \
	"$PPX" "${MIN[@]}" "${MEETING[@]}" "${ABSENT[@]}" \
	--disclosure-considered yes --action "Visit; owner=Dana Evans, police.gwent"
refused "(b) an action 'completed' without an outcome" \
	"minutes.actions[0].outcome" \
	"$PPX" "${MIN[@]}" "${MEETING[@]}" "${ABSENT[@]}" \
	--disclosure-considered yes \
	--action "Visit; owner=Dana Evans, police.gwent; due=2026-12-01; status=completed"
DIS=(send disclosure "${POLICE[@]}" --to probation.gwent "${SUBJ[@]}")
refused "(b) a disclosure decision without considered yes/no" \
	"disclosure.considered_answer" "$PPX" "${DIS[@]}" \
	--decision defer --rationale R --decided-by "A B, police.gwent"
refused "(b) a disclosure decision without a rationale" \
	"disclosure.rationale" "$PPX" "${DIS[@]}" --considered yes \
	--decision defer --decided-by "A B, police.gwent"
refused "(b) a disclosure decision without decided-by" \
	"disclosure.decided_by" "$PPX" "${DIS[@]}" --considered yes \
	--decision defer --rationale R
refused "(b) a notification without a kind" "notification.kind" \
	"$PPX" send notification "${POLICE[@]}" --to probation.gwent \
	"${SUBJ[@]}" --details D
refused "(b) a risk change without an acknowledgement deadline" \
	"ack_deadline_ms" "$PPX" send notification "${PROBATION[@]}" \
	--to police.gwent "${SUBJ[@]}" --kind risk-change --details D \
	--rosh public=high

# The daemon applies the rules itself: the same minutes as JSON.
printf '{"recipients":["police.gwent"],"marking":"OFFICIAL_SENSITIVE","subject":{"crn":"X123456"},"minutes":{"meetingId":"M","level":"LEVEL_2","meetingDate":"2026-11-20","chair":{"name":"A B","agency":"probation.gwent"},"leadAgency":"probation.gwent","required":[{"person":{"name":"S O","agency":"probation.gwent","role":"OM"}}],"actual":[{"person":{"name":"S O","agency":"probation.gwent","role":"OM"}}],"version":1}}\n' >"$FED/minutes.json"
refused "(b) the daemon refuses minutes as JSON without the answer" \
	"minutes.disclosure_considered_answer" \
	"$PPX" send "${PROBATION[@]}" --json "$FED/minutes.json"

# --- (c) amending minutes ------------------------------------------------
run_ok "(c) amended minutes (a new version) are delivered" \
	"$PPX" send minutes "${PROBATION[@]}" --amend "$minutes" \
	--comments "Amended: police attendance recorded" --wait --timeout 20
amended=$(msg_id "$out")
check "(c) police logged the amendment" logged police.gwent ENTRY_RECEIVED "$amended"
check "(c) the amendment was version 2: amending it makes version 3" bash -c \
	"\"$PPX\" send minutes ${PROBATION[*]@Q} --amend $amended --print |
	 grep -q '\"version\": 3'"

# --- (d) partner records at the sender -----------------------------------
run_ok "(d) police updates the record (version 2: level 3, prison a partner)" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1981 --level 3 \
	--partner prison.cardiff --wait --timeout 20
v2=$(msg_id "$out")
check "(d) probation holds version 2" logged probation.gwent ENTRY_RECEIVED "$v2"
check "(d) prison holds version 2" logged prison.cardiff ENTRY_RECEIVED "$v2"
refused "(d) an update based on version 1 is refused as a conflict" \
	"partner record JS-1981: based on version 1 but version 2 (from police.gwent" \
	"$PPX" send record "${PROBATION[@]}" --record-id JS-1981 \
	--base-version 1 --crn X123456
refused "(d) probation may not change the MAPPA level (police owns it)" \
	"partner_record.level: probation.gwent (probation) may not change this field: it is owned by police" \
	"$PPX" send record "${PROBATION[@]}" --record-id JS-1981 --level 1
refused "(d) prison may not change the category" \
	"partner_record.category: prison.cardiff (prison) may not change" \
	"$PPX" send record "${PRISON[@]}" --record-id JS-1981 --category 1
refused "(d) probation may not add an order (police owns orders)" \
	"partner_record.conditions[id c8]: probation.gwent may not change it: an order" \
	"$PPX" send record "${PROBATION[@]}" --record-id JS-1981 \
	--condition "Curfew; kind=curfew; monitor=probation.gwent; id=c9" \
	--condition "SHPO; kind=shpo; monitor=police.gwent; id=c8"
run_ok "(d) prison records where the subject is held (version 3)" \
	"$PPX" send record "${PRISON[@]}" --record-id JS-1981 \
	--prison-number A1234BC --current-prison prison.cardiff \
	--wait --timeout 20
v3=$(msg_id "$out")
check "(d) police and probation hold version 3" bash -c \
	"$(declare -f logged ppx_log fed_log_dir fed_conf); PPX=$PPX FED=$FED; logged police.gwent ENTRY_RECEIVED $v3 && logged probation.gwent ENTRY_RECEIVED $v3"
check "(d) an update lists exactly the fields it changes" bash -c \
	"\"$PPX\" send record ${PROBATION[*]@Q} --record-id JS-1981 --crn X123456 \
	 --offender-manager 'Sam Okafor, probation.gwent' --print |
	 tr -d ' \n' | grep -q '\"changedFields\":\[\"subject.crn\",\"officers.offender_manager\"\]'"
run_ok "(d) probation adds what it owns (version 4: CRN, offender manager)" \
	"$PPX" send record "${PROBATION[@]}" --record-id JS-1981 --crn X123456 \
	--offender-manager "Sam Okafor, probation.gwent" --wait --timeout 20
v4=$(msg_id "$out")
check "(d) police holds version 4" logged police.gwent ENTRY_RECEIVED "$v4"

# --- (e) a concurrent edit -----------------------------------------------
fed_stop police.gwent
run_ok "(e) probation edits version 4 while police is away (queued)" \
	"$PPX" send record "${PROBATION[@]}" --record-id JS-1981 \
	--to police.gwent --rosh public=high --rosh children=medium
b5=$(msg_id "$out")
fed_stop probation.gwent
fed_start police.gwent || notok "police restarts"
run_ok "(e) police edits version 4 while probation is away (queued)" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1981 \
	--to probation.gwent --category 1
p5=$(msg_id "$out")
fed_start probation.gwent || notok "probation restarts"
conflict_logged() {	# conflict_logged AGENCY ID
	ppx_log "$1" | grep '"kind":"ENTRY_REJECTED"' | grep "\"message_id\":\"$2\"" |
		grep -q '"reason":"REJECT_CONFLICT"'
}
check "(e) probation refuses police's version 5 as REJECT_CONFLICT" \
	wait_until 20 conflict_logged probation.gwent "$p5"
check "(e) police refuses probation's version 5 as REJECT_CONFLICT" \
	wait_until 20 conflict_logged police.gwent "$b5"
check "(e) neither side stored the other's version 5" bash -c \
	"! \"$PPX\" log --log \"$FED/probation.gwent/log\" --json | grep ENTRY_RECEIVED | grep -q $p5 &&
	 ! \"$PPX\" log --log \"$FED/police.gwent/log\" --json | grep ENTRY_RECEIVED | grep -q $b5"
refused "(e) an update that ignores the other version is refused again" \
	"probation.gwent refused" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1981 \
	--to probation.gwent --level 2 --wait --timeout 20
run_ok "(e) police merges probation's version 5 and it is delivered" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1981 --merge "$b5" \
	--to probation.gwent --wait --timeout 20
merged=$(msg_id "$out")
check "(e) probation stored the merged version" \
	logged probation.gwent ENTRY_RECEIVED "$merged"
check "(e) the merge keeps police's category and probation's risk" bash -c \
	"\"$PPX\" send record ${POLICE[*]@Q} --record-id JS-1981 --level 3 --print |
	 tr -d ' \n' | grep '\"category\":\"CATEGORY_1\"' |
	 grep -q '\"rosh\":\[{\"group\":\"PUBLIC\",\"level\":\"RISK_HIGH\"}'"
run_ok "(e) probation updates the merged version as usual" \
	"$PPX" send record "${PROBATION[@]}" --record-id JS-1981 \
	--to police.gwent --rosh public=medium --wait --timeout 20

# --- (f) ack and action travel back --------------------------------------
run_ok "(f) probation acknowledges the arrest" \
	"$PPX" ack "$arrest" "${PROBATION[@]}" --note "Risk review booked" \
	--wait --timeout 20
ack=$(msg_id "$out")
check "(f) police (the original sender) logged the acknowledgement" \
	logged police.gwent ENTRY_RECEIVED "$ack"
refused "(f) ppx action: 'completed' needs an outcome" \
	"action_update.outcome" "$PPX" action "$minutes" "${POLICE[@]}" \
	--action-id A1 --status completed
run_ok "(f) police reports action A1 completed" \
	"$PPX" action "$minutes" "${POLICE[@]}" --action-id A1 \
	--status completed --outcome "Visited 30/11: no concerns" \
	--wait --timeout 20
upd=$(msg_id "$out")
check "(f) probation (the minutes' sender) logged the action update" \
	logged probation.gwent ENTRY_RECEIVED "$upd"
check "(f) the action update names the person who sent it" bash -c \
	"\"$PPX\" log --log \"$FED/probation.gwent/log\" --json | grep $upd |
	 grep ENTRY_RECEIVED | grep -q '\"person\":\"dana.evans\"'"

# --- (g) the logs verify ---------------------------------------------------
fed_stop_all
for a in $AGENCIES; do
	check "(g) $a's log verifies" log_verify "$a"
done
finish
