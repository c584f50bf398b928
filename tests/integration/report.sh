#!/usr/bin/env bash
# report.sh — `ppx due` and `ppx report` give the known answers for a
# scripted quarter (July to September 2026) exchanged by three real daemons.
#
# Every message carries an explicit message id and a creation time in the
# past.  Timeliness is measured from the log's own entries (the SENT entry
# of what an agency sends, the RECEIVED entry of what it receives), which
# the daemons stamp with their clocks, and a daemon refuses a creation
# time far from its clock: so the three daemons run under libfaketime,
# their shared clock set to each message's creation time before it is
# sent (messages sent in time order), with a PKI issued on 1 June 2026.
# The history, as police.gwent's log holds it (all dates 2026; England
# and Wales bank holiday Monday 31 August):
#
# meetings (minutes due 10 working days after level 2, 5 after level 3)
#   M4 GW-2026-0380 L3 Thu 09 Jul, Ian Price, police; minutes 14 Jul (day 3)
#      on time; disclosure NO in the minutes but a decision D4 (considered)
#      sent later; action D1 prison due 24 Jul, completed 23 Jul by update.
#      No later meeting: review due 3 Sep (8 weeks) -> overdue.
#   M3 GW-2026-0350 L2 Wed 15 Jul, Mark Jones, police; minutes 29 Jul (day
#      10) on time; amended 20 Aug (v2), which completes action C1 (police,
#      due 28 Aug): done.
#   M1 GW-2026-0412 L3 Thu 27 Aug, John Smith, police; minutes Fri 4 Sep:
#      working day 5 counting the bank holiday (on time), day 6 without it
#      (late).  A1 probation due 7 Sep completed 7 Sep; A2 police due 8 Sep
#      open -> overdue; A3 prison due 17 Sep open -> due soon.
#   M2 GW-2026-0413 L3 Thu 27 Aug, Mark Jones, probation; minutes Mon 7 Sep
#      (day 6) late; disclosure NO.  B1 police due 10 Sep completed 11 Sep
#      (done, late); B2 probation due 15 Oct (outside the quarter).
# notifications with an acknowledgement deadline
#   N6 police->probation 20 Jun (Q2), acknowledged after 24 h.
#   N1 police->probation 1 Sep, due 3 Sep 17:00, acknowledged after 24 h.
#   N2 police->probation+prison 8 Sep 10:00, due 10 Sep 10:00: prison after
#      6 h (in time), probation after 72 h (late).
#   N3 police->prison 10 Sep 12:00, due 11 Sep 12:00: never -> overdue.
#   N4 probation->police 11 Sep, due 16 Sep 17:00: not yet -> due soon.
#   N5 police->probation ARREST without a deadline: owes nothing.
# partner records (police owns level, probation risk)
#   R1 John Smith: police v1 level 3, probation v2 adds risk, police v3
#      level 2 -> latest versions differ in level (police 2, probation 3).
#   R2 Mark Jones: police v1, probation v2 risk public medium, police v3
#      (an officer), probation v4 public high -> differ in risk.
#   R3 Ian Price: police v1, probation v2 adds risk -> agree.
set -u
unset PPX_DEADLINES
. "$(dirname "$0")/lib.sh"
fed_init
. "$(dirname "$0")/history.bash"
history_pki 2026-06-01 || { notok "a PKI issued on 1 June 2026"; finish; exit 1; }
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }
fed_start prison.cardiff || { notok "prison starts"; finish; exit 1; }

ERR=$FED/ppx.err
px() { "$PPX" "$@" 2>>"$ERR"; }
checkx() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
POLICE_LOG=$FED/police.gwent/log
HOLIDAYS=$TOP/docs/examples/bank-holidays-england-wales-2026-2027.txt
EXAMPLE_RULES=$TOP/docs/examples/deadlines.conf

DANA=$(person dana.evans "Dana Evans" police.gwent "police offender manager")
SAM=$(person sam.okafor "Sam Okafor" probation.gwent "offender manager")
PRIYA=$(person priya.shah "Priya Shah" prison.cardiff "offender management unit")
RHYS=$(person rhys.morgan "Rhys Morgan" police.gwent "MAPPA chair")
HELEN=$(person helen.price "Helen Price" probation.gwent "MAPPA chair")
JS='{"pncId":"2019/0123456X","crn":"X123456","name":"John Smith","dateOfBirth":"1979-03-14"}'
MJ='{"pncId":"2020/0654321Y","crn":"Y654321","name":"Mark Jones","dateOfBirth":"1985-07-02"}'
IP='{"pncId":"2018/0111111Z","crn":"Z111111","name":"Ian Price","dateOfBirth":"1990-11-30"}'
COMMON='"marking":"OFFICIAL_SENSITIVE","priority":"ROUTINE","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"}'

action() {	# action ID OWNER DUE STATUS [OUTCOME]
	printf '{"id":"%s","description":"%s","owner":%s,"dueDate":"%s","status":"%s"%s}' \
		"$1" "$ACTION_TEXT" "$2" "$3" "$4" "${5:+,\"outcome\":\"$5\"}"
}

# minutes NAME FROM TO CREATED MEETING LEVEL DATE CHAIR SUBJECT YES|NO
#         ACTIONS VERSION [SUPERSEDES]
minutes() {
	local disc='' sup='' considered=false
	if [ "${10}" = YES ]; then
		considered=true
		disc=',"disclosures":[{"considered":true,"consideredAnswer":"YES","decision":"DO_NOT_DISCLOSE","rationale":"No third party at risk has been identified","legalBasis":"CJA_2003_S325","decidedBy":'"$8"',"meetingId":"'"$5"'"}]'
	fi
	[ -n "${13:-}" ] && sup=',"supersedes":"'"$(mid "${13}")"'"'
	send "$2" "$1" '{"messageId":"'"$(mid "$1")"'","recipients":['"$3"'],"createdMs":"'"$(ms "$4")"'",'"$COMMON"',"subject":'"$9"''"$sup"',"minutes":{"meetingId":"'"$5"'","area":"gwent","level":"LEVEL_'"$6"'","meetingDate":"'"$7"'","chair":'"$8"',"leadAgency":"'"$2"'","required":[{"person":'"$8"'},{"person":'"$DANA"'},{"person":'"$SAM"'},{"person":'"$PRIYA"'}],"actual":[{"person":'"$8"'},{"person":'"$DANA"'},{"person":'"$SAM"'}],"absent":[{"person":'"$PRIYA"'}],"subjects":['"$9"'],"risk":{"category":"CATEGORY_2","level":"LEVEL_'"$6"'","rosh":[{"group":"PUBLIC","level":"RISK_HIGH"}],"imminence":"not imminent","assessment":"OASys 2026-06-30"},"plan":{"supervision":"Weekly reporting","monitoringAndControl":"Curfew 19:00-07:00","interventionsAndTreatment":"Accredited programme","victimSafetyPlanning":"Exclusion zone around the victim"},"disclosureConsidered":'"$considered"',"disclosureConsideredAnswer":"'"${10}"'"'"$disc"',"actions":['"${11}"'],"standing":{"recall":"not indicated","licenceExpiry":"2028-03-01","exitStrategy":"review at licence expiry","offenderViews":"engages with supervision","nextReviewDate":"2026-10-22"},"commentsToSmb":"none","version":'"${12}"'}}'
}

# update NAME FROM TO CREATED MINUTES MEETING ACTION OUTCOME BY
update() {
	send "$2" "$1" '{"messageId":"'"$(mid "$1")"'","recipients":['"$3"'],"createdMs":"'"$(ms "$4")"'",'"$COMMON"',"repliesTo":"'"$(mid "$5")"'","actionUpdate":{"meetingId":"'"$6"'","actionId":"'"$7"'","status":"ACTION_COMPLETED","outcome":"'"$8"'","updatedBy":'"$9"'}}'
}

# notify NAME FROM TO CREATED DEADLINE SUBJECT KIND EXTRA
notify() {
	local dl=''
	[ -n "$5" ] && dl=',"ackDeadlineMs":"'"$(ms "$5")"'"'
	send "$2" "$1" '{"messageId":"'"$(mid "$1")"'","recipients":['"$3"'],"createdMs":"'"$(ms "$4")"'",'"$COMMON"''"$dl"',"subject":'"$6"',"notification":{"kind":"'"$7"'","effectiveDate":"'"${4%%T*}"'","details":"Scripted for the report test"'"$8"'}}'
}

# ack NAME FROM TO CREATED NOTIFICATION BY
ack() {
	send "$2" "$1" '{"messageId":"'"$(mid "$1")"'","recipients":['"$3"'],"createdMs":"'"$(ms "$4")"'",'"$COMMON"',"repliesTo":"'"$(mid "$5")"'","acknowledgement":{"acknowledgedBy":'"$6"',"note":"taken on"}}'
}

# record NAME FROM TO CREATED SUBJECT RECORD-JSON [SUPERSEDES]
record() {
	local sup=''
	[ -n "${7:-}" ] && sup=',"supersedes":"'"$(mid "$7")"'"'
	send "$2" "$1" '{"messageId":"'"$(mid "$1")"'","recipients":['"$3"'],"createdMs":"'"$(ms "$4")"'",'"$COMMON"',"subject":'"$5"''"$sup"',"partnerRecord":'"$6"'}'
}

P='"police.gwent"'
B='"probation.gwent"'
C='"prison.cardiff"'
RISK_JS=',"risk":{"rosh":[{"group":"PUBLIC","level":"RISK_HIGH"}]}'
history() {
	ACTION_TEXT="Provide a custody behaviour report"
	minutes M4v1 police.gwent "$B,$C" 2026-07-14T15:00Z GW-2026-0380 3 2026-07-09 "$RHYS" "$IP" NO \
		"$(action D1 "$PRIYA" 2026-07-24 ACTION_OPEN)" 1 || return 1
	send police.gwent D4 '{"messageId":"'"$(mid D4)"'","recipients":['"$B"'],"createdMs":"'"$(ms 2026-07-20T10:00Z)"'",'"$COMMON"',"subject":'"$IP"',"disclosure":{"considered":true,"consideredAnswer":"YES","decision":"DEFER","rationale":"Await the outcome of the accommodation search","legalBasis":"CJA_2003_S325","decidedBy":'"$RHYS"',"meetingId":"GW-2026-0380"}}' || return 1
	update D1u prison.cardiff "$P,$B" 2026-07-23T11:00Z M4v1 GW-2026-0380 D1 "Behaviour report shared" "$PRIYA" || return 1
	ACTION_TEXT="Check ViSOR registration details"
	minutes M3v1 police.gwent "$B,$C" 2026-07-29T16:00Z GW-2026-0350 2 2026-07-15 "$RHYS" "$MJ" YES \
		"$(action C1 "$DANA" 2026-08-28 ACTION_OPEN)" 1 || return 1
	minutes M3v2 police.gwent "$B,$C" 2026-08-20T09:00Z GW-2026-0350 2 2026-07-15 "$RHYS" "$MJ" YES \
		"$(action C1 "$DANA" 2026-08-28 ACTION_COMPLETED "Registration verified at a home visit")" 2 M3v1 || return 1
	local a1 a2 a3 b1 b2
	ACTION_TEXT="Refer to the approved premises panel"; a1=$(action A1 "$SAM" 2026-09-07 ACTION_OPEN)
	ACTION_TEXT="Verify the proposed address by an unannounced home visit"; a2=$(action A2 "$DANA" 2026-09-08 ACTION_OPEN)
	ACTION_TEXT="Share the adjudication record from HMP Cardiff"; a3=$(action A3 "$PRIYA" 2026-09-17 ACTION_OPEN)
	minutes M1v1 police.gwent "$B,$C" 2026-09-04T10:00Z GW-2026-0412 3 2026-08-27 "$RHYS" "$JS" YES "$a1,$a2,$a3" 1 || return 1
	ACTION_TEXT="Update the ViSOR risk assessment"; b1=$(action B1 "$DANA" 2026-09-10 ACTION_OPEN)
	ACTION_TEXT="Review licence conditions before release"; b2=$(action B2 "$SAM" 2026-10-15 ACTION_OPEN)
	minutes M2v1 probation.gwent "$P,$C" 2026-09-07T09:00Z GW-2026-0413 3 2026-08-27 "$HELEN" "$MJ" NO "$b1,$b2" 1 || return 1
	update A1u probation.gwent "$P" 2026-09-07T15:00Z M1v1 GW-2026-0412 A1 "Referred; panel on 21 September" "$SAM" || return 1
	update B1u police.gwent "$B" 2026-09-11T10:00Z M2v1 GW-2026-0413 B1 "ViSOR updated" "$DANA" || return 1

	notify N6 police.gwent "$B" 2026-06-20T09:00Z 2026-06-22T17:00Z "$JS" RISK_CHANGE "$RISK_JS" || return 1
	ack N6a probation.gwent "$P" 2026-06-21T09:00Z N6 "$SAM" || return 1
	notify N5 police.gwent "$B" 2026-08-10T22:00Z "" "$MJ" ARREST "" || return 1
	notify N1 police.gwent "$B" 2026-09-01T09:00Z 2026-09-03T17:00Z "$JS" RISK_CHANGE "$RISK_JS" || return 1
	ack N1a probation.gwent "$P" 2026-09-02T09:00Z N1 "$SAM" || return 1
	notify N2 police.gwent "$B,$C" 2026-09-08T10:00Z 2026-09-10T10:00Z "$MJ" RISK_CHANGE "$RISK_JS" || return 1
	ack N2c prison.cardiff "$P" 2026-09-08T16:00Z N2 "$PRIYA" || return 1
	ack N2b probation.gwent "$P" 2026-09-11T10:00Z N2 "$SAM" || return 1
	notify N3 police.gwent "$C" 2026-09-10T12:00Z 2026-09-11T12:00Z "$IP" LEVEL_SET ',"risk":{"level":"LEVEL_3"}' || return 1
	notify N4 probation.gwent "$P" 2026-09-11T09:00Z 2026-09-16T17:00Z "$JS" LICENCE_CONDITIONS \
		',"conditions":[{"id":"c1","kind":"RESIDENCE","text":"Reside at an approved address","monitoringAgency":"probation.gwent"}]' || return 1

	local pol='"subject":{"pncId":"%s","name":"%s","dateOfBirth":"%s"},"category":"CATEGORY_2","level":"LEVEL_%s"'
	local p1 p2 p3
	p1=$(printf "$pol" 2019/0123456X "John Smith" 1979-03-14 3)
	p2=$(printf "$pol" 2020/0654321Y "Mark Jones" 1985-07-02 3)
	p3=$(printf "$pol" 2018/0111111Z "Ian Price" 1990-11-30 3)
	local v1='"version":"1","changedFields":["subject.pnc_id","subject.name","subject.date_of_birth","category","level"]'
	local crn='"subject":{"pncId":"%s","crn":"%s","name":"%s","dateOfBirth":"%s"},"category":"CATEGORY_2","level":"LEVEL_%s"'
	local c1 c2 c3
	c1=$(printf "$crn" 2019/0123456X X123456 "John Smith" 1979-03-14 3)
	c2=$(printf "$crn" 2020/0654321Y Y654321 "Mark Jones" 1985-07-02 3)
	c3=$(printf "$crn" 2018/0111111Z Z111111 "Ian Price" 1990-11-30 3)
	local hi_ka='"rosh":[{"group":"PUBLIC","level":"RISK_HIGH"},{"group":"KNOWN_ADULT","level":"RISK_VERY_HIGH"}]'
	local officer='"officers":{"policeOffenderManager":'"$DANA"'}'
	record R1v1 police.gwent "$B" 2026-08-28T09:00Z "$JS" '{"recordId":"GW-SUBJ-0001",'"$v1,$p1"'}' || return 1
	record R2v1 police.gwent "$B" 2026-08-28T09:30Z "$MJ" '{"recordId":"GW-SUBJ-0002",'"$v1,$p2"'}' || return 1
	record R3v1 police.gwent "$B" 2026-08-28T10:00Z "$IP" '{"recordId":"GW-SUBJ-0003",'"$v1,$p3"'}' || return 1
	record R1v2 probation.gwent "$P" 2026-08-29T09:00Z "$JS" '{"recordId":"GW-SUBJ-0001","version":"2","baseVersion":"1","changedFields":["subject.crn","rosh"],'"$c1,$hi_ka"'}' R1v1 || return 1
	record R2v2 probation.gwent "$P" 2026-08-29T09:30Z "$MJ" '{"recordId":"GW-SUBJ-0002","version":"2","baseVersion":"1","changedFields":["subject.crn","rosh"],'"$c2"',"rosh":[{"group":"PUBLIC","level":"RISK_MEDIUM"}]}' R2v1 || return 1
	record R3v2 probation.gwent "$P" 2026-08-29T10:00Z "$IP" '{"recordId":"GW-SUBJ-0003","version":"2","baseVersion":"1","changedFields":["subject.crn","rosh"],'"$c3"',"rosh":[{"group":"PUBLIC","level":"RISK_HIGH"}]}' R3v1 || return 1
	record R2v3 police.gwent "$B" 2026-09-02T09:30Z "$MJ" '{"recordId":"GW-SUBJ-0002","version":"3","baseVersion":"2","changedFields":["officers.police_offender_manager"],'"$c2"',"rosh":[{"group":"PUBLIC","level":"RISK_MEDIUM"}],'"$officer"'}' R2v2 || return 1
	record R1v3 police.gwent "$B" 2026-09-09T09:00Z "$JS" '{"recordId":"GW-SUBJ-0001","version":"3","baseVersion":"2","changedFields":["level"],'"$(printf "$crn" 2019/0123456X X123456 "John Smith" 1979-03-14 2),$hi_ka"'}' R1v2 || return 1
	record R2v4 probation.gwent "$P" 2026-09-09T09:30Z "$MJ" '{"recordId":"GW-SUBJ-0002","version":"4","baseVersion":"3","changedFields":["rosh"],'"$c2"',"rosh":[{"group":"PUBLIC","level":"RISK_HIGH"}],'"$officer"'}' R2v3 || return 1
}

if history && replay; then
	ok "the scripted history (28 messages) is accepted and delivered"
else
	finish
	exit 1
fi
fed_stop_all

# ---- ppx due, as of Monday 14 September 2026 ----------------------------
AS_OF=(--as-of 2026-09-14)
RULES=(--deadlines "$EXAMPLE_RULES")
due() { px due --log "$POLICE_LOG" "${RULES[@]}" "$@"; }
report() { px report --log "$POLICE_LOG" "${RULES[@]}" "$@"; }
N3=$(hexid N3)
N4=$(hexid N4)
JSN='John Smith (pnc:2019/0123456X)'
IPN='Ian Price (pnc:2018/0111111Z)'
MJN='Mark Jones (pnc:2020/0654321Y)'

out=$(due "${AS_OF[@]}"); rc=$?
check "ppx due exits 1 when something is overdue" [ "$rc" -eq 1 ]
check "ppx due counts 3 overdue and 2 due by Monday 21 September" \
	grep -qx 'ppx due for police.gwent, as of 2026-09-14: 3 overdue, 2 due by 2026-09-21 (5 working days)' <<<"$out"
check "the text groups by agency, then person" \
	[ "$(grep -v '^ \{4\}' <<<"$out" | grep -v '^$' | tail -n +2 | tr '\n' '|')" = \
	  "police.gwent|  (no one named yet)|  Dana Evans|  Rhys Morgan|prison.cardiff|  (no one named yet)|  Priya Shah|" ]
check "A2, due last Tuesday and open, is 4 working days overdue" \
	grep -qE '^    overdue  2026-09-08    -4  action      GW-2026-0412/A2  ' <<<"$out"

expected=$(cat <<CSV
agency,person,state,due,working_days,kind,ref,subject,what,deadline
police.gwent,,soon,2026-09-16,2,acknowledge,$N4,$JSN,acknowledge LICENCE_CONDITIONS from probation.gwent,2026-09-16T17:00:00Z
police.gwent,Dana Evans,overdue,2026-09-08,-4,action,GW-2026-0412/A2,$JSN,Verify the proposed address by an unannounced home visit,
police.gwent,Rhys Morgan,overdue,2026-09-03,-7,review,GW-2026-0380,$IPN,"next MAPPA meeting (level 3, every 8 weeks)",
prison.cardiff,,overdue,2026-09-11,-1,acknowledge,$N3,$IPN,acknowledge LEVEL_SET from police.gwent,2026-09-11T12:00:00Z
prison.cardiff,Priya Shah,soon,2026-09-17,3,action,GW-2026-0412/A3,$JSN,Share the adjudication record from HMP Cardiff,
CSV
)
got=$(due "${AS_OF[@]}" --csv | tr -d '\r')
check "ppx due --csv lists exactly the five obligations, due dates and working days" [ "$got" = "$expected" ]
[ "$got" = "$expected" ] || diff <(echo "$expected") <(echo "$got") | sed 's/^/# /'

json=$(due "${AS_OF[@]}" --json)
check "ppx due --json: 3 overdue, 2 soon" grep -q '"as_of":"2026-09-14","soon_days":5,"soon_until":"2026-09-21","overdue":3,"soon":2,' <<<"$json"
check "ppx due --json: the review of Ian Price, owed by the chair" \
	grep -q '{"agency":"police.gwent","person":"Rhys Morgan","items":\[{"state":"overdue","kind":"review","ref":"GW-2026-0380","due":"2026-09-03","working_days":-7,' <<<"$json"
check "ppx due --json: prison's unacknowledged LEVEL_SET, with its deadline" \
	grep -q '"state":"overdue","kind":"acknowledge","ref":"'"$N3"'","due":"2026-09-11","working_days":-1,"deadline":"2026-09-11T12:00:00Z"' <<<"$json"

# Through the configuration, a read goes through the running daemon.
fed_start police.gwent || notok "police restarts"
got=$(px due --config "$(fed_conf police.gwent)" "${RULES[@]}" "${AS_OF[@]}" --csv | tr -d '\r')
check "ppx due --config reads the log through the daemon of the configuration" [ "$got" = "$expected" ]
fed_stop police.gwent

got=$(due "${AS_OF[@]}" --soon 2 --csv | tr -d '\r' | cut -d, -f3,7 | tail -n +2 | tr '\n' ' ')
check "--soon 2 stops at Wednesday 16 September (A3 on the 17th is left out)" \
	[ "$got" = "soon,$N4 overdue,GW-2026-0412/A2 overdue,GW-2026-0380 overdue,$N3 " ]

json=$(due --as-of 2026-09-07 --json)
check "as of 7 September: later messages do not count (1 overdue, 2 soon)" \
	grep -q '"overdue":1,"soon":2,' <<<"$json"
check "as of 7 September: B1 is due in 3 working days, its update not yet sent" \
	grep -q '"state":"soon","kind":"action","ref":"GW-2026-0413/B1","due":"2026-09-10","working_days":3,' <<<"$json"

# ---- ppx report, third quarter of 2026 ----------------------------------
Q3=(--quarter 2026Q3 "${AS_OF[@]}")
RECEIPT='([0-9]+ms|[0-9.]+s)'
# (Times to ack are measured between log entries, a moment after the
# scripted times: a figure may read a minute or an hour short.)
out=$(report "${Q3[@]}"); rc=$?
check "ppx report exits 0" [ "$rc" -eq 0 ]
rows=$(tr -s ' ' <<<"$out")
check "report: police.gwent minutes 3/3, disclosure 3/3, actions 2/3 done 1/3 overdue, acks 0/1, mismatches 2/3" \
	grep -qx 'police.gwent 3/3 3/3 2/3 1/3 0/1 - - 2/3' <<<"$rows"
check "report: prison.cardiff actions 1/2 done 0/2 overdue, acks 1/2, median to ack 6h" \
	grep -qxE "prison.cardiff - - 1/2 0/2 1/2 $RECEIPT (6h 00m|5h 59m) -" <<<"$rows"
check "report: probation.gwent minutes 0/1 (day 6), disclosure 0/1, acks 1/2, median to ack 48h" \
	grep -qxE "probation.gwent 0/1 0/1 1/1 0/1 1/2 $RECEIPT (2d 0h|1d 23h) 2/3" <<<"$rows"
check "report: total minutes 3/4, disclosure 3/4, actions 4/6 and 1/6, acks 2/5, median 24h, mismatches 2/3" \
	grep -qxE "total 3/4 3/4 4/6 1/6 2/5 $RECEIPT (1d 0h|23h 59m) 2/3" <<<"$rows"
check "report: the level mismatch of John Smith's record is named" \
	grep -qx "  $JSN: police.gwent GW-SUBJ-0001 v3, probation.gwent GW-SUBJ-0001 v2: level 2 vs 3" <<<"$out"
check "report: the risk mismatch of Mark Jones's record is named" \
	grep -qx "  $MJN: police.gwent GW-SUBJ-0002 v3, probation.gwent GW-SUBJ-0002 v4: risk to public medium vs high" <<<"$out"
[ -n "${VERBOSE:-}" ] && sed 's/^/# /' <<<"$out"

# Times to acknowledge are measured between log entries that the daemons
# stamped as the messages went, a moment after their scripted creation:
# within 5 s of the scripted figure.
# near_row CSV AGENCY,..,ACKS_TOTAL MEDIAN_ACK_MS MISMATCHED,COMPARED
near_row() {
	awk -F, -v p="$2" -v want="$3" -v s="$4" '{
		pre = $1; for (i = 2; i <= 10; i++) pre = pre "," $i
		if (pre == p && $13 "," $14 == s && $11 ~ /^[0-9]*$/ &&
		    $12 ~ /^[0-9]+$/ && ($12 - want)^2 <= 25000000) found = 1
	} END { exit !found }' <<<"$1"
}
near() { [ -n "$2" ] && [ $(( ($2 - $1) * ($2 - $1) )) -le 25000000 ]; }
export -f near
csv=$(report "${Q3[@]}" --csv | tr -d '\r')
check "report --csv: the header" grep -q '^agency,minutes_on_time,minutes_total,disclosure_considered,meetings_total,actions_done,actions_overdue,actions_total,acks_in_time,acks_total,median_receipt_ms,median_ack_ms,records_mismatched,records_compared,attended,attended_total,' <<<"$csv"
check "report --csv: police.gwent" grep -q '^police.gwent,3,3,3,3,2,1,3,0,1,,,2,3,' <<<"$csv"
check "report --csv: prison.cardiff (median to ack 21600000 ms)" near_row "$csv" prison.cardiff,0,0,0,0,1,0,2,1,2 21600000 0,0
check "report --csv: probation.gwent (median to ack 172800000 ms)" near_row "$csv" probation.gwent,0,1,0,1,1,0,1,1,2 172800000 2,3
check "report --csv: total (median to ack 86400000 ms)" near_row "$csv" total,3,4,3,4,4,1,6,2,5 86400000 2,3
check "report --csv: five records" [ "$(grep -c . <<<"$csv")" -eq 5 ]

json=$(report "${Q3[@]}" --json)
r() { printf '"minutes_on_time":{"count":%s,"total":%s},"disclosure_considered":{"count":%s,"total":%s},"actions_done":{"count":%s,"total":%s},"actions_overdue":{"count":%s,"total":%s},"acks_in_time":{"count":%s,"total":%s},' "$@"; }
check "report --json: police.gwent" \
	grep -qF '{"agency":"police.gwent",'"$(r 3 3 3 3 2 3 1 3 0 1)"'"median_receipt_ms":null,"median_ack_ms":null,"record_mismatches":{"count":2,"total":3},' <<<"$json"
check "report --json: prison.cardiff" \
	grep -qE '\{"agency":"prison.cardiff",'"$(r 0 0 0 0 1 2 0 2 1 2)"'"median_receipt_ms":[0-9]+,"median_ack_ms":[0-9]+,"record_mismatches":\{"count":0,"total":0\},' <<<"$json"
check "report --json: probation.gwent" \
	grep -qE '\{"agency":"probation.gwent",'"$(r 0 1 0 1 1 1 0 1 1 2)"'"median_receipt_ms":[0-9]+,"median_ack_ms":[0-9]+,"record_mismatches":\{"count":2,"total":3\},' <<<"$json"
check "report --json: total" \
	grep -qE '"total":\{"agency":"total",'"$(r 3 4 3 4 4 6 1 6 2 5)"'"median_receipt_ms":[0-9]+,"median_ack_ms":[0-9]+,"record_mismatches":\{"count":2,"total":3\},' <<<"$json"
acks=$(jq -r '[.rows[], .total] | map(select(.agency != "police.gwent") | .median_ack_ms) | join(" ")' <<<"$json")
check "report --json: median times to ack 6 h, 48 h, 24 h within 5 s ($acks)" \
	bash -c 'set -- $1; near 21600000 "$1" && near 172800000 "$2" && near 86400000 "$3"' _ "$acks"
check "report --json: the level mismatch, with both copies" \
	grep -qF '{"subject":"'"$JSN"'","differ":["level"],"copies":[{"agency":"police.gwent","record_id":"GW-SUBJ-0001","version":3,"level":"2",' <<<"$json"
check "report --json: the risk mismatch" \
	grep -qF '{"subject":"'"$MJN"'","differ":["public"],' <<<"$json"
receipts=$(grep -oE '"median_receipt_ms":[0-9]+' <<<"$json" | cut -d: -f2 | tr '\n' ' ')
check "report --json: median times to receipt are measured, under 30 s ($receipts)" \
	bash -c 'n=0; for v in $1; do [ "$v" -lt 30000 ] || exit 1; n=$((n + 1)); done; [ $n -eq 3 ]' _ "$receipts"
if command -v python3 >/dev/null; then
	check "the JSON of ppx due and ppx report parses" python3 -c 'import json,sys
for t in sys.argv[1:]: json.loads(t)' "$json" "$(due "${AS_OF[@]}" --json)"
fi

# The bank holiday is what puts M1's minutes on time.
json=$(px report --log "$POLICE_LOG" "${Q3[@]}" --json)
check "without bank holidays M1's minutes are late: police 2/3, total 2/4" \
	grep -q '"bank_holidays":0}.*{"agency":"police.gwent","minutes_on_time":{"count":2,"total":3}.*"total":{"agency":"total","minutes_on_time":{"count":2,"total":4}' <<<"$json"
json=$(PPX_DEADLINES=$EXAMPLE_RULES px report --log "$POLICE_LOG" "${Q3[@]}" --json)
check "\$PPX_DEADLINES gives the rules too (16 bank holidays, police 3/3)" \
	grep -q '"bank_holidays":16}.*{"agency":"police.gwent","minutes_on_time":{"count":3,"total":3}' <<<"$json"

csv=$(report --quarter 2026Q2 "${AS_OF[@]}" --csv | tr -d '\r')
check "second quarter: only N6, acknowledged in 24 h" \
	near_row "$csv" probation.gwent,0,0,0,0,0,0,0,1,1 86400000 0,0
csv=$(report --from 2026-09-01 --to 2026-09-30 "${AS_OF[@]}" --csv | tr -d '\r')
check "September: no meetings, actions 2/4 done and 1/4 overdue" \
	near_row "$csv" total,0,0,0,0,2,1,4,2,5 86400000 2,3
csv=$(px report --log "$FED/probation.gwent/log" "${RULES[@]}" "${Q3[@]}" --csv | tr -d '\r')
check "probation's own log gives the same minutes, actions and mismatches" \
	near_row "$csv" total,3,4,3,4,4,1,6,1,3 172800000 2,3

# ---- refusals ------------------------------------------------------------
px report --log "$POLICE_LOG" >/dev/null; rc=$?
check "report without a period is a usage error" [ "$rc" -eq 2 ]
px report --log "$POLICE_LOG" --quarter 2026Q5 >/dev/null; rc=$?
check "report --quarter 2026Q5 is a usage error" [ "$rc" -eq 2 ]
px due --log "$POLICE_LOG" --as-of 2026-02-30 >/dev/null; rc=$?
check "due --as-of 2026-02-30 is a usage error" [ "$rc" -eq 2 ]
px due --log "$POLICE_LOG" --json --csv >/dev/null; rc=$?
check "--json with --csv is a usage error" [ "$rc" -eq 2 ]
printf '[deadlines]\nminutes_level3_days = 5\nminutes_level4_days = 3\n' >"$FED/bad.conf"
msg=$("$PPX" due --log "$POLICE_LOG" --deadlines "$FED/bad.conf" 2>&1 >/dev/null); rc=$?
checkx "an unknown key in the deadlines file is refused with file:line" \
	'[ "$rc" -eq 2 ] && grep -q "$FED/bad.conf:3: unknown key minutes_level4_days" <<<"$msg"'
printf '# holidays\n2026-12-25\n2026-12-26\n' >"$FED/bad-holidays.txt"
printf '[deadlines]\nbank_holidays = bad-holidays.txt\n' >"$FED/bad2.conf"
msg=$("$PPX" report --log "$POLICE_LOG" --deadlines "$FED/bad2.conf" --quarter 2026Q4 2>&1 >/dev/null); rc=$?
checkx "a weekend in the bank holidays is refused with file:line" \
	'[ "$rc" -eq 2 ] && grep -q "$FED/bad-holidays.txt:3: 2026-12-26 is a Saturday" <<<"$msg"'
px due --log "$FED/no-such-log" >/dev/null; rc=$?
check "a missing log is exit 3" [ "$rc" -eq 3 ]

if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ERR" 2>/dev/null; then
	notok "ppx ran without sanitizer reports"
	grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ERR" | head -40 | sed 's/^/# /'
fi
finish
