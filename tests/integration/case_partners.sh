#!/usr/bin/env bash
# case_partners.sh — need to know from the case, and break-glass sending,
# with real daemons: police.gwent (the lead agency), probation.gwent and
# housing.newport, a duty-to-co-operate agency (its certificates issued for
# this test into a copy of the demo PKI).
#
#   (a) police's partner record lists housing: a notification about the
#       subject reaches housing, and is in its log;
#   (b) police's update removes housing: the update itself reaches housing
#       (the version housing held lists it); the next notification is
#       refused at police's daemon, naming the record; a frame sent anyway
#       (the injector, signed as police) and a notification from probation,
#       whose log never got the removal, are refused by housing's daemon
#       (REJECT_POLICY, naming the record);
#   (c) a further update re-adds housing: it receives again, from police
#       and from probation;
#   (d) the static list overrides: a subject listed in [duty-to-cooperate
#       housing.newport] reaches housing without any record;
#   (e) break-glass: an emergency send to housing while it is not on the
#       case is delivered and logged at both ends with access.emergency and
#       the reason (police's entry with the reviewer and the review due
#       date); probation, with no emergency_reviewer, is refused; a frame
#       with an empty or over-long emergency reason is refused
#       REJECT_BAD_BODY; ppx show prints EMERGENCY;
#   (f) police's operator has need_to_know = named: a subject whose records
#       do not name them is refused ("need to know"), and allowed with
#       --emergency; probation's, restarted with need_to_know = agency, may
#       send about a case whose record lists probation, not about another;
#   (g) the logs verify.
set -u
. "$(dirname "$0")/lib.sh"
AGENCIES="police.gwent probation.gwent housing.newport"
INJECT=$TOP/$BUILD/tests/inject

fed_init
cp -a "$PKI" "$FED/pki"
PKI=$FED/pki
"$TOP/certs/ppx-pki" agency "$PKI" housing.newport >/dev/null 2>"$FED/pki.err" ||
	{ notok "housing.newport's certificates are issued"; diag "$(cat "$FED/pki.err")"; finish; exit 1; }
cat >"$FED/policy.conf" <<'POL'
[rule responsible-authorities]
from = police.*, probation.*
to = police.*, probation.*, housing.*
kinds = *
max_marking = OFFICIAL-SENSITIVE

[rule housing-replies]
from = housing.*
to = police.*, probation.*
kinds = acknowledgement

[duty-to-cooperate housing.newport]
subjects = pnc:2022/0000777S
POL
for a in $AGENCIES; do fed_config "$a"; done
# housing is a duty-to-co-operate partner of the other two.
for a in police.gwent probation.gwent; do
	sed -i 's/^\[partner housing.newport\]$/&\ntype = duty-to-cooperate/' "$(fed_conf "$a")"
done
# Police's operator may send only about subjects whose records name them;
# rev.jones (another account) reviews police's emergencies.
cat >>"$(fed_conf police.gwent)" <<'CONF'
need_to_know = named
[operator rev.jones]
name = Rhian Jones
role = MAPPA manager
uid = 4000000001
[accountability]
emergency_reviewer = rev.jones
emergency_review_days = 2
CONF
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
for a in $AGENCIES; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done
POLICE=(--config "$(fed_conf police.gwent)")
PROBATION=(--config "$(fed_conf probation.gwent)")
ERR=$FED/stderr
P1=2021/0000001A		# the subject of the case
SUBJ=(--pnc "$P1" --name "John Smith")

run_ok() {	# run_ok DESCRIPTION COMMAND...: exit 0, stdout in $out
	local what=$1; shift
	out=$("$@" 2>"$ERR"); local rc=$?
	[ "$rc" -eq 0 ] || diag "exit $rc: $(cat "$ERR")"
	check "$what" [ "$rc" -eq 0 ]
}
refused() {	# refused DESCRIPTION TEXT COMMAND...: exit 1, TEXT on stderr
	local what=$1 text=$2; shift 2
	"$@" >/dev/null 2>"$ERR"; local rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$text" "$ERR"; then
		ok "$what"
	else
		notok "$what"; diag "exit $rc, wanted 1 and '$text'; stderr: $(cat "$ERR")"
	fi
}
msg_id() { cut -d' ' -f1 <<<"$1" | tail -1; }
entry() {	# entry AGENCY KIND ID: the log entry of KIND for message ID
	ppx_log "$1" | jq -c --arg k "$2" --arg id "$3" \
		'select(.kind == $k and .message_id == $id)'
}
logged() { [ -n "$(entry "$@")" ]; }
jqe() {	# jqe FILTER... <JSON: jq -e on a non-empty input (jq 1.6 passes none)
	local in; in=$(cat)
	[ -n "$in" ] && jq -e "$@" <<<"$in" >/dev/null
}
notify() {	# notify FROM-ARGS... : an arrest about P1 to housing
	"$PPX" send notification "$@" --to housing.newport --kind arrest \
		"${SUBJ[@]}" --details "Arrested near the tenancy" --wait --timeout 20
}
# inject JSON: a Body signed by police's key, straight to housing's daemon
# (no sending daemon, no sender-side checks); prints the answer.
inject() {
	printf '%s\n' "$1" >"$FED/inject.json"
	"$INJECT" --pki "$PKI" --endpoint "tcp://127.0.0.1:$(fed_port housing.newport)" \
		--to housing.newport --as police.gwent body-json "$FED/inject.json" 2>>"$FED/inject.err"
}
DANA='{"id":"dana.evans","name":"Dana Evans","agency":"police.gwent","role":"police offender manager"}'
COMMON='"marking":"OFFICIAL_SENSITIVE","priority":"URGENT","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"}'
arrest_json() {	# arrest_json PNC [EXTRA]: a notification police -> housing
	printf '{"recipients":["housing.newport"],%s,"senderPerson":%s,"subject":{"pncId":"%s","name":"John Smith"},"notification":{"kind":"ARREST","effectiveDate":"2026-11-21","details":"Arrested"}%s}' \
		"$COMMON" "$DANA" "$1" "${2:-}"
}

# --- (a) on the case -----------------------------------------------------
V1='{"recipients":["probation.gwent","housing.newport"],'"$COMMON"',"subject":{"pncId":"'"$P1"'","name":"John Smith"},"partnerRecord":{"recordId":"JS-1","version":"1","changedFields":["subject.pnc_id","subject.name","lead_agency","officers.police_offender_manager","partner_agencies"],"subject":{"pncId":"'"$P1"'","name":"John Smith"},"leadAgency":"police.gwent","officers":{"policeOffenderManager":'"$DANA"'},"partnerAgencies":["police.gwent","probation.gwent","housing.newport"]}}'
printf '%s\n' "$V1" >"$FED/v1.json"
run_ok "(a) police's partner record v1 (lead police; partners police, probation, housing) is delivered" \
	ppx_send police.gwent "$FED/v1.json" --wait --timeout 20
v1=$(jq -r .message_id <<<"$(ppx_log police.gwent | jq -c 'select(.kind == "ENTRY_SENT")' | tail -1)")
check "(a) housing holds record v1" logged housing.newport ENTRY_RECEIVED "$v1"
run_ok "(a) a notification about the subject reaches housing while v1 lists it" \
	notify "${POLICE[@]}"
n1=$(msg_id "$out")
check "(a) housing logged it as RECEIVED" logged housing.newport ENTRY_RECEIVED "$n1"

# --- (b) removed --------------------------------------------------------
run_ok "(b) police's update v2 removing housing is sent to housing (only)" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1 --no-partner housing.newport \
	--to housing.newport --wait --timeout 20
v2=$(msg_id "$out")
check "(b) the removal itself reached housing (the version it held lists it)" \
	logged housing.newport ENTRY_RECEIVED "$v2"
refused "(b) the next notification is refused at police, naming the record rule" \
	"housing.newport is not on the case of pnc:$P1: partner record JS-1 v2 (police.gwent) does not list housing.newport, and [duty-to-cooperate housing.newport] does not list pnc:$P1" \
	notify "${POLICE[@]}"
before=$(ppx_log housing.newport | grep -c '"kind":"ENTRY_RECEIVED"')
ans=$(inject "$(arrest_json "$P1")")
check "(b) a frame sent anyway (signed as police) is refused by housing: REJECT_POLICY" \
	grep -q "^REFUSED REJECT_POLICY .*not on the case of pnc:$P1: partner record JS-1 v2 (police.gwent) does not list housing.newport" <<<"$ans"
[ -n "$ans" ] && diag "injector: $ans"
# probation never got v2: its own log still lists housing, so its daemon
# sends; housing decides from its own log.
run_ok "(b) probation (whose log lacks the removal) sends a notification to housing" \
	"$PPX" send notification "${PROBATION[@]}" --to housing.newport --kind arrest \
	"${SUBJ[@]}" --details "Arrested near the tenancy"
pn=$(msg_id "$out")
check "(b) housing refuses probation's notification: REJECT_POLICY naming the record" \
	wait_until 20 bash -c "'$PPX' log --log '$(fed_log_dir housing.newport)' --json |
		jq -c --arg id '$pn' 'select(.kind == \"ENTRY_REJECTED\" and .message_id == \$id and .reason == \"REJECT_POLICY\" and (.detail | contains(\"partner record JS-1 v2 (police.gwent) does not list housing.newport\")))' | grep -q ."
check "(b) housing stored nothing more" \
	[ "$(ppx_log housing.newport | grep -c '"kind":"ENTRY_RECEIVED"')" -eq "$before" ]

# --- (c) re-added ---------------------------------------------------------
run_ok "(c) police's update v3 re-adds housing (to probation and housing)" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1 --partner housing.newport \
	--to probation.gwent --to housing.newport --wait --timeout 20
v3=$(msg_id "$out")
check "(c) housing holds v3" logged housing.newport ENTRY_RECEIVED "$v3"
check "(c) probation holds v3" logged probation.gwent ENTRY_RECEIVED "$v3"
run_ok "(c) police's notification reaches housing again" notify "${POLICE[@]}"
check "(c) housing logged it" logged housing.newport ENTRY_RECEIVED "$(msg_id "$out")"
run_ok "(c) probation's notification reaches housing again" notify "${PROBATION[@]}"
check "(c) housing logged probation's" logged housing.newport ENTRY_RECEIVED "$(msg_id "$out")"
ans=$(inject "$(arrest_json "$P1")")
check "(c) and a frame straight from the injector is stored" grep -q "^STORED " <<<"$ans"

# --- (d) the static list -------------------------------------------------
run_ok "(d) a subject in [duty-to-cooperate housing.newport] reaches housing without any record" \
	"$PPX" send notification "${PROBATION[@]}" --to housing.newport --kind arrest \
	--pnc 2022/0000777S --name "Static Listed" --details "Arrested" --wait --timeout 20
check "(d) housing logged it" logged housing.newport ENTRY_RECEIVED "$(msg_id "$out")"
refused "(d) a subject with no record and not in the list is refused" \
	"housing.newport is not on the case of pnc:2022/0000888T: this agency holds no partner record of the case" \
	"$PPX" send notification "${PROBATION[@]}" --to housing.newport --kind arrest \
	--pnc 2022/0000888T --name "Nobody Listed" --details "Arrested" --wait --timeout 20

# --- (e) break-glass ---------------------------------------------------------
run_ok "(e) police's update v4 removes housing again" \
	"$PPX" send record "${POLICE[@]}" --record-id JS-1 --no-partner housing.newport \
	--to probation.gwent --to housing.newport --wait --timeout 20
REASON="Imminent risk to a housing officer visiting the tenancy today"
refused "(e) without --emergency, housing is refused" "partner record JS-1 v4" \
	notify "${POLICE[@]}"
run_ok "(e) with --emergency --reason, the notification is delivered" \
	notify "${POLICE[@]}" --emergency --reason "$REASON"
em=$(msg_id "$out")
sent=$(entry police.gwent ENTRY_SENT "$em")
check "(e) police's SENT entry: access.emergency, the reason, reviewer rev.jones, a review due date" \
	jqe --arg r "$REASON" '.access.emergency == true and .access.reason == $r and .access.reviewer == "rev.jones" and (.access.reviewDueMs | tonumber) > .time_ms' <<<"$sent"
got=$(entry housing.newport ENTRY_RECEIVED "$em")
check "(e) housing's RECEIVED entry: access.emergency and the reason, no reviewer" \
	jqe --arg r "$REASON" '.access.emergency == true and .access.reason == $r and (.access.reviewer // "") == ""' <<<"$got"
check "(e) ppx show prints EMERGENCY and the reason at the sender" \
	bash -c "'$PPX' show '$em' --config '$(fed_conf police.gwent)' | grep -qF 'EMERGENCY: $REASON'"
check "(e) ... and who owes the review" \
	bash -c "'$PPX' show '$em' --config '$(fed_conf police.gwent)' | grep -q 'review owed by rev.jones by '"
refused "(e) probation, with no emergency_reviewer, is refused" "emergency_reviewer" \
	notify "${PROBATION[@]}" --emergency --reason "$REASON"
notify "${POLICE[@]}" --emergency >/dev/null 2>"$ERR"
check "(e) --emergency without --reason is refused by ppx (usage)" \
	grep -qF -- "--emergency needs --reason" "$ERR"
ans=$(inject "$(arrest_json "$P1" ',"emergency":{"reason":""}')")
check "(e) a frame with an empty emergency reason: REJECT_BAD_BODY" \
	grep -q "^REFUSED REJECT_BAD_BODY .*emergency.reason" <<<"$ans"
long=$(head -c 1025 /dev/zero | tr '\0' x)
ans=$(inject "$(arrest_json "$P1" ',"emergency":{"reason":"'"$long"'"}')")
check "(e) a frame with a 1025-byte emergency reason: REJECT_BAD_BODY" \
	grep -q "^REFUSED REJECT_BAD_BODY .*emergency.reason" <<<"$ans"
ans=$(inject "$(arrest_json "$P1" ',"emergency":{"reason":"'"${long:1}"'"}')")
check "(e) a frame with a 1024-byte reason is stored (housing not on the case)" \
	grep -q "^STORED " <<<"$ans"

# --- (f) the operator's own need to know -----------------------------------
OTHER=(--crn Z999999 --name "Other Subject")
"$PPX" send record "${PROBATION[@]}" --record-id OS-1 --crn Z999999 \
	--partner probation.gwent --partner police.gwent --to police.gwent \
	--wait --timeout 20 >/dev/null 2>"$ERR" || diag "OS-1: $(cat "$ERR")"
refused "(f) dana.evans (need_to_know = named) may not send about a subject no record names her on" \
	"need to know: operator dana.evans (need_to_know = named)" \
	"$PPX" send notification "${POLICE[@]}" --to probation.gwent --kind arrest \
	"${OTHER[@]}" --details "Arrested"
run_ok "(f) ... but may with --emergency" \
	"$PPX" send notification "${POLICE[@]}" --to probation.gwent --kind arrest \
	"${OTHER[@]}" --details "Arrested" --emergency --reason "Threat to life reported by a neighbour" \
	--wait --timeout 20
run_ok "(f) and may about the case whose record names her" \
	"$PPX" send notification "${POLICE[@]}" --to probation.gwent --kind arrest \
	"${SUBJ[@]}" --details "Arrested" --wait --timeout 20

# probation's operator with need_to_know = agency (a restart reads it).
fed_stop probation.gwent
echo "need_to_know = agency" >>"$(fed_conf probation.gwent)"
fed_start probation.gwent || notok "probation restarts"
run_ok "(f) sam.okafor (need_to_know = agency) may send about a case whose record lists probation" \
	"$PPX" send notification "${PROBATION[@]}" --to police.gwent --kind arrest \
	"${OTHER[@]}" --details "Arrested" --wait --timeout 20
refused "(f) ... but not about a subject no record of which lists probation" \
	"need to know: operator sam.okafor (need_to_know = agency) sends only about cases that list probation.gwent" \
	"$PPX" send notification "${PROBATION[@]}" --to police.gwent --kind arrest \
	--pnc 2022/0000888T --name "Nobody Listed" --details "Arrested" --wait --timeout 20

# --- (g) ---------------------------------------------------------------------
for a in $AGENCIES; do check "(g) $a's log verifies" log_verify "$a"; done
finish
