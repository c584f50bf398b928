#!/usr/bin/env bash
# reading.sh — the reading commands (ppx log with its filters, ppx show,
# ppx follow, ppx subject, ppx export) give the known answers on real logs,
# while the daemons run and after they have stopped.
#
# police.gwent sends four notifications about two subjects:
#   m1 ARREST         -> probation, subject A, acknowledgement asked for by
#                        tomorrow; probation acknowledges it (m5)
#   m2 RISK_CHANGE    -> probation, subject B, acknowledgement asked for
#                        within 2.5 s: overdue when the checks run
#   m3 INTELLIGENCE   -> probation, subject A; probation's policy refuses it
#   m4 LICENCE_EXPIRY -> prison.cardiff (not running): stays queued; it names
#                        subject B by prison number and ViSOR id only
# probation.gwent sends m5 (the acknowledgement of m1) and m6
# RECALL_REQUESTED about subject C, whose details hold a comma, quotes and
# a line break.  Every ppx run's stderr is kept: under SAN=1 any sanitizer
# report from ppx itself fails the test.
set -u
. "$(dirname "$0")/lib.sh"
fed_init
cat >"$FED/probation-policy.conf" <<'POL'
[rule responsible-authorities]
from = police.*, probation.*
to = police.*, probation.*, prison.*
kinds = notification:A*, notification:R*, notification:L*, minutes,
    disclosure, partner_record, acknowledgement, action_update
POL
# The counts below are of the entries this test causes, read while the
# daemons run: witnessing, which logs its exchanges whenever a log has
# grown, is off here (witness*.sh test it), or an exchange landing
# between two reads would change them.
nowit=$'[evidence]\nwitness = no'
fed_config police.gwent "$nowit"
FED_POLICY=$FED/probation-policy.conf fed_config probation.gwent "$nowit"
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }

ERR=$FED/ppx.err
POLICE_LOG=$FED/police.gwent/log
PROBATION_LOG=$FED/probation.gwent/log
px() { "$PPX" "$@" 2>>"$ERR"; }		# ppx, its stderr kept
pl() { px "$1" --log "$POLICE_LOG" "${@:2}"; }	# ppx CMD on police's log
lines() { grep -c . || true; }
# checkx "description" 'shell condition': for conditions of several commands.
checkx() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
# Whether file $1 is the beginning of file $2 (a stopping daemon appends a
# checkpoint, nothing else).
is_prefix() { cmp -s "$1" <(head -c "$(stat -c %s "$1")" "$2"); }
# Each line of stdin (or the whole of it, with "doc") is JSON.
json_ok() {
	if command -v python3 >/dev/null; then
		python3 -c 'import json,sys
t = sys.stdin.read()
if sys.argv[1] == "doc": json.loads(t)
else: [json.loads(l) for l in t.splitlines()]' "${1:-lines}" 2>>"$ERR"
	else
		grep -qv '^[{}[ ]' && return 1 || return 0
	fi
}
# CSV records on stdin (RFC 4180: a line break inside quotes is data).
csv_records() { awk '{ q += gsub(/"/, "\""); if (q % 2 == 0) n++ } END { print n + 0 }'; }
# The values of a string field in JSON Lines on stdin.
field() { grep -o "\"$1\":\"[^\"]*\"" | cut -d'"' -f4; }
b64id() { printf "$(sed 's/../\\x&/g' <<<"$1")" | base64; }
ms_from_now() { echo $(( $(date +%s) * 1000 + $1 )); }

SUBJ_A='{"pncId":"2019/0123456X","crn":"X123456","name":"John Smith","dateOfBirth":"1980-02-29"}'
SUBJ_B='{"pncId":"2020/0654321Y","prisonNumber":"A1234BC","name":"Owen Price"}'
SUBJ_B2='{"prisonNumber":"A1234BC","visorId":"V-778","name":"Owen Price"}'
note() {	# note TO KIND DETAILS SUBJECT [BODY FIELDS,] [NOTIFICATION FIELDS,]
	printf '{"recipients":["%s"],"marking":"OFFICIAL_SENSITIVE","priority":"URGENT","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"},"subject":%s,%s"notification":{%s"kind":"%s","effectiveDate":"2026-11-21","details":"%s"}}\n' "$1" "$4" "${5:-}" "${6:-}" "$2" "$3"
}
send() {	# send AGENCY FILE [args]: the message id
	ppx_send "$@" 2>>"$ERR" | tail -1 | cut -d' ' -f1
}

note probation.gwent ARREST "Arrested 21:40 on suspicion of breach of SHPO" "$SUBJ_A" \
	"\"ackDeadlineMs\":\"$(ms_from_now 86400000)\"," >"$FED/m1.json"
m2_deadline=$(ms_from_now 2500)
note probation.gwent RISK_CHANGE "Risk to children now very high" "$SUBJ_B" \
	"\"ackDeadlineMs\":\"$m2_deadline\"," \
	'"risk":{"rosh":[{"group":"CHILDREN","level":"RISK_VERY_HIGH"}]},' >"$FED/m2.json"
note probation.gwent INTELLIGENCE "Seen near the school gates" "$SUBJ_A" >"$FED/m3.json"
note prison.cardiff LICENCE_EXPIRY "Licence expires in 8 weeks" "$SUBJ_B2" >"$FED/m4.json"
m1=$(send police.gwent "$FED/m1.json" --wait --timeout 20)
m2=$(send police.gwent "$FED/m2.json" --wait --timeout 20)
m3=$(send police.gwent "$FED/m3.json" --wait --timeout 20)
m4=$(send police.gwent "$FED/m4.json")
diag "m1 $m1 m2 $m2 m3 $m3 m4 $m4"
checkx "police sent four messages" '[ -n "$m1" ] && [ -n "$m2" ] && [ -n "$m3" ] && [ -n "$m4" ]'
sleep 1.1
T=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1.1
cat >"$FED/m5.json" <<JSON
{"recipients":["police.gwent"],"marking":"OFFICIAL_SENSITIVE","repliesTo":"$(b64id "$m1")","subject":$SUBJ_A,"acknowledgement":{"acknowledgedBy":{"id":"sam.okafor","name":"Sam Okafor","agency":"probation.gwent","role":"offender manager"},"note":"read; will visit tomorrow"}}
JSON
cat >"$FED/m6.json" <<'JSON'
{"recipients":["police.gwent"],"marking":"OFFICIAL_SENSITIVE","priority":"IMMEDIATE","subject":{"crn":"Y999999","name":"Carl Jones"},"notification":{"kind":"RECALL_REQUESTED","effectiveDate":"2026-11-21","details":"Recall requested, \"urgent\"\nsee the breach report"}}
JSON
m5=$(send probation.gwent "$FED/m5.json" --wait --timeout 20)
m6=$(send probation.gwent "$FED/m6.json" --wait --timeout 20)
diag "m5 $m5 m6 $m6"
received() { [ "$(ppx_log police.gwent | grep -c '"kind":"ENTRY_RECEIVED"')" -ge 2 ]; }
check "police received the acknowledgement and the recall request" wait_until 20 received
past_m2() { [ "$(date +%s%3N)" -gt "$m2_deadline" ]; }
wait_until 5 past_m2

# ---- ppx log: filters against known answers ----
ids() { pl log --json "$@" | field message_id | grep . | sort -u | tr '\n' ' '; }
sent_ids() { pl log --json --kind SENT "$@" | field message_id | sort | tr '\n' ' '; }
set_of() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
all=$(pl log --json)
check "log --json: every line is JSON" json_ok <<<"$all"
check "log --json prints the entry JSON of docs/HOOKS.md (agency, seq, time, kind first)" \
	grep -q "^{\"agency\":\"police.gwent\",\"seq\":0,\"time\":\"[0-9T:.-]*Z\",\"kind\":\"ENTRY_" <<<"$all"
n_all=$(lines <<<"$all")
check "log: the table has a header and one line per entry" \
	[ "$(pl log | lines)" -eq $((n_all + 1)) ]
check "--direction out: the four messages we sent" \
	[ "$(sent_ids --direction out)" = "$(set_of "$m1" "$m2" "$m3" "$m4")" ]
checkx "--direction in: the two messages received, and no SENT" \
	'[ "$(ids --direction in --kind RECEIVED)" = "$(set_of "$m5" "$m6")" ] &&
	! pl log --json --direction in | grep -q "\"kind\":\"ENTRY_SENT\""'
check "--subject pnc:2019/0123456X: m1, m3 and the acknowledgement m5" \
	[ "$(ids --subject pnc:2019/0123456X)" = "$(set_of "$m1" "$m3" "$m5")" ]
check "--subject with a bare CRN matches the same" \
	[ "$(ids --subject X123456)" = "$(set_of "$m1" "$m3" "$m5")" ]
check "--subject with a bare prison number: m2 and m4" \
	[ "$(ids --subject A1234BC)" = "$(set_of "$m2" "$m4")" ]
check "--subject visor:V-778: m4 only" [ "$(ids --subject visor:V-778)" = "$(set_of "$m4")" ]
check "--subject crn:2019/0123456X (right id, wrong scheme): nothing" \
	[ -z "$(ids --subject crn:2019/0123456X)" ]
check "--kind ARREST: m1" [ "$(ids --kind arrest)" = "$(set_of "$m1")" ]
check "--kind notification:RISK_CHANGE,intelligence: m2 and m3" \
	[ "$(ids --kind notification:RISK_CHANGE,intelligence)" = "$(set_of "$m2" "$m3")" ]
check "--kind acknowledgement: m5" [ "$(ids --kind acknowledgement)" = "$(set_of "$m5")" ]
check "--kind notification --direction out: the four sent" \
	[ "$(ids --kind notification --direction out)" = "$(set_of "$m1" "$m2" "$m3" "$m4")" ]
check "--partner prison.cardiff: m4" [ "$(sent_ids --partner prison.cardiff)" = "$(set_of "$m4")" ]
check "--partner 'prob*' (a glob): m1, m2, m3 sent to probation" \
	[ "$(sent_ids --partner 'prob*')" = "$(set_of "$m1" "$m2" "$m3")" ]
check "--state queued: m4" [ "$(ids --state queued)" = "$(set_of "$m4")" ]
check "--state refused: m3" [ "$(ids --state refused)" = "$(set_of "$m3")" ]
check "--state delivered --direction out: m1 and m2" \
	[ "$(ids --state delivered --direction out)" = "$(set_of "$m1" "$m2")" ]
check "the refusal's reason is REJECT_POLICY" \
	pl log --json --state refused | grep -q '"state":"REFUSED","receipt_seq":[0-9]*,"remote_seq":[0-9]*,"reason":"REJECT_POLICY"'
check "--ack acknowledged: m1" [ "$(ids --ack acknowledged)" = "$(set_of "$m1")" ]
check "--ack overdue: m2" [ "$(ids --ack overdue)" = "$(set_of "$m2")" ]
check "--ack pending: m2 (m1 was acknowledged)" [ "$(ids --ack pending)" = "$(set_of "$m2")" ]
check "--ack unacknowledged: m2, m4 and the received m6" \
	[ "$(ids --ack unacknowledged)" = "$(set_of "$m2" "$m4" "$m6")" ]
checkx "--since T: only what probation sent later" \
	'[ "$(ids --since "$T" --kind RECEIVED)" = "$(set_of "$m5" "$m6")" ] &&
	[ -z "$(ids --since "$T" --kind SENT)" ]'
checkx "--until T: only what came before" \
	'[ "$(ids --until "$T" --kind SENT)" = "$(set_of "$m1" "$m2" "$m3" "$m4")" ] &&
	[ -z "$(ids --until "$T" --kind RECEIVED)" ]'
check "--since today --until today (dates) keep everything" \
	[ "$(pl log --json --since "$(date -u +%F)" --until "$(date -u +%F)" | lines)" -eq "$n_all" ]
check "--since tomorrow: nothing" [ "$(pl log --json --since "$(date -u -d tomorrow +%F)" | lines)" -eq 0 ]
out=$("$PPX" log --log "$POLICE_LOG" --since yesterday 2>&1); rc=$?
checkx "--since yesterday is a usage error that shows the accepted forms" \
	'[ "$rc" -eq 2 ] && grep -q "2026-11-21T09:30" <<<"$out"'
out=$("$PPX" log --log "$POLICE_LOG" --kind BOGUS 2>&1); rc=$?
checkx "--kind BOGUS is a usage error that lists what is accepted" \
	'[ "$rc" -eq 2 ] && grep -q "notification kind" <<<"$out"'
out=$("$PPX" log --log "$FED/nowhere" 2>&1); rc=$?
checkx "a missing log: exit 3 and what to check" \
	'[ "$rc" -eq 3 ] && grep -q "there is no log in $FED/nowhere" <<<"$out"'
# Through the daemon, each read is logged (ENTRY_READ) before it is shown:
# it sees itself.
check "log --config FILE reads the log of the daemon configuration" \
	[ "$(px log --config "$(fed_conf police.gwent)" --json | lines)" -eq $((n_all + 1)) ]
check "log with \$PPX_CONFIG" \
	[ "$(PPX_CONFIG=$(fed_conf police.gwent) px log --json | lines)" -eq $((n_all + 2)) ]
n_all=$((n_all + 2))	# those two reads are entries of the log now

# ---- ppx show ----
show1=$(pl show "$m1")
checkx "show: m1 delivered to probation and acknowledged by Sam Okafor" \
	'grep -q "probation.gwent *DELIVERED" <<<"$show1" &&
	grep -q "acknowledged .* by Sam Okafor" <<<"$show1"'
checkx "show: the message as pretty canonical JSON" \
	'grep -q "^  \"notification\": {\$" <<<"$show1" &&
	grep -q "\"kind\": \"ARREST\"" <<<"$show1"'
j=$(pl show "$m1" --json)
check "show --json parses" json_ok doc <<<"$j"
checkx "show --json: body, delivery, acknowledgement" \
	'grep -q "\"body\": {" <<<"$j" && grep -q "\"acknowledged\": true" <<<"$j" &&
	grep -q "\"by\": \"Sam Okafor\"" <<<"$j" &&
	grep -q "\"ack\": \"ACKNOWLEDGED\"" <<<"$j"'
check "show m3: REFUSED by probation for REJECT_POLICY" \
	pl show "$m3" | grep -q "probation.gwent *REFUSED.*REJECT_POLICY"
check "show m2: not acknowledged, OVERDUE" \
	pl show "$m2" | grep -q "acknowledgement asked for by .*: OVERDUE"
"$PPX" show 0123456789abcdef0123456789abcdef --log "$POLICE_LOG" >/dev/null 2>"$FED/show.err"; rc=$?
checkx "show of an id not in the log: exit 1, and where to look" \
	'[ "$rc" -eq 1 ] && grep -q "ppx log lists" "$FED/show.err"'
"$PPX" show xyz --log "$POLICE_LOG" >/dev/null 2>&1; rc=$?
check "show of something that is not an id: usage error" [ "$rc" -eq 2 ]
before=$(ppx_log police.gwent | lines)
again=$(pl show "$m1" --body | ppx_send police.gwent - 2>>"$ERR")
checkx "show --body round-trips through the project's JSON mapper: ppx send takes it back as the same message" \
	'[ "$(cut -d" " -f1 <<<"$again")" = "$m1" ] &&
	[ "$(ppx_log police.gwent | lines)" -eq "$before" ]'

# ---- ppx subject ----
sa=$(pl subject pnc:2019/0123456X)
check "subject: A's identifiers linked through the messages" \
	grep -q "identifiers: pnc:2019/0123456X crn:X123456" <<<"$sa"
checkx "subject: A's history has m1, m3 and m5" \
	'grep -q "$m1" <<<"$sa" && grep -q "$m3" <<<"$sa" && grep -q "$m5" <<<"$sa"'
check "subject: nothing for A is awaiting acknowledgement" grep -q "^nothing that asked" <<<"$sa"
sb=$(pl subject pnc:2020/0654321Y --json)
check "subject --json parses" json_ok doc <<<"$sb"
checkx "subject B: following the prison number reaches m4 and ViSOR V-778" \
	'grep -q "$m4" <<<"$sb" && grep -q "\"visor:V-778\"" <<<"$sb"'
check "subject B: m2 unacknowledged by probation, overdue" \
	tr -d ' \n' <<<"$sb" | grep -q "\"unacknowledged\":\[{\"seq\":[0-9]*,\"message_id\":\"$m2\",\"direction\":\"out\",\"partner\":\"probation.gwent\",\"waiting_for\":\"probation.gwent\""
checkx "subject --exact does not follow the prison number" \
	'! pl subject pnc:2020/0654321Y --exact | grep -q "$m4"'
sp=$(px subject 2020/0654321Y --log "$PROBATION_LOG")
check "subject on probation's log: m2 received from police, we have not acknowledged it" \
	grep -q "received from police.gwent, and we have not acknowledged it; due by .*OVERDUE" <<<"$sp"
check "subject on probation's log: m1 acknowledged by us, so not listed as waiting" \
	[ "$(px subject X123456 --log "$PROBATION_LOG" | grep -c "not acknowledged")" -eq 0 ]
"$PPX" subject pnc:1999/0000000Z --log "$POLICE_LOG" >/dev/null 2>"$FED/subj.err"; rc=$?
checkx "subject with nothing about it: exit 1 and a hint" \
	'[ "$rc" -eq 1 ] && grep -q "nothing about pnc:1999/0000000Z" "$FED/subj.err"'
"$PPX" subject nomis:A1234BC --log "$POLICE_LOG" >/dev/null 2>&1; rc=$?
check "subject with an unknown scheme: usage error" [ "$rc" -eq 2 ]

# ---- ppx export ----
jl=$(pl export --format jsonl)
checkx "export jsonl: one parsing line per entry" \
	'json_ok <<<"$jl" && [ "$(lines <<<"$jl")" -eq "$n_all" ]'
check "export jsonl: messages carry their body" \
	[ "$(grep -c '"body":{' <<<"$jl")" -eq "$(grep -c '"kind":"ENTRY_\(SENT\|RECEIVED\)"' <<<"$jl")" ]
pl export --format csv >"$FED/all.csv"
check "export csv: a header and one record per entry" \
	[ "$(csv_records <"$FED/all.csv")" -eq $((n_all + 1)) ]
check "export csv: the details with a comma, quotes and a line break are quoted" \
	grep -q '"Recall requested, ""urgent""' "$FED/all.csv"
if command -v python3 >/dev/null; then
	check "export csv: python's csv reader agrees on the rows and columns" \
		python3 -c 'import csv,sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert len(rows) == int(sys.argv[2]) + 1, len(rows)
assert all(len(r) == len(rows[0]) for r in rows)
assert any(r[rows[0].index("text")] == "Recall requested, \"urgent\"\nsee the breach report" for r in rows)' \
		"$FED/all.csv" "$n_all" 2>>"$ERR"
fi
n_out=$(pl log --json --direction out | lines)
pl export --format csv --direction out --output "$FED/out.csv" 2>/dev/null
checkx "export --output with filters: the filtered records, file mode 0600" \
	'[ "$(csv_records <"$FED/out.csv")" -eq $((n_out + 1)) ] &&
	[ "$(stat -c %a "$FED/out.csv")" = 600 ]'
"$PPX" export --format csv --log "$POLICE_LOG" --output "$FED/out.csv" >/dev/null 2>"$FED/exp.err"; rc=$?
checkx "export refuses to overwrite without --force" \
	'[ "$rc" -eq 3 ] && grep -q -- "--force" "$FED/exp.err"'
checkx "export --force replaces it" \
	'pl export --format jsonl --kind ARREST --output "$FED/out.csv" --force 2>/dev/null &&
	[ "$(lines <"$FED/out.csv")" -eq 1 ]'
"$PPX" export --format xml --log "$POLICE_LOG" >/dev/null 2>&1; rc=$?
check "export --format xml: usage error" [ "$rc" -eq 2 ]

# ---- ppx follow ----
"$PPX" follow --log "$POLICE_LOG" >"$FED/follow.out" 2>>"$ERR" &
fpid=$!
following() { grep -q "^ *SEQ  TIME" "$FED/follow.out"; }	# its header
check "follow starts" wait_until 10 following
note probation.gwent ARREST "Second arrest" "$SUBJ_A" >"$FED/m7.json"
m7=$(send police.gwent "$FED/m7.json" --wait --timeout 20)
seen() { grep -q "SENT .* $m7 .*ARREST" "$FED/follow.out"; }
check "follow prints a message as it is committed" wait_until 10 seen
receipt_seen() { grep -q "RECEIPT_RECEIVED .*answers 1 message: ${m7:0:8}" "$FED/follow.out"; }
check "follow prints its receipt as it is committed" wait_until 10 receipt_seen
kill -TERM "$fpid"; wait "$fpid"; rc=$?
check "follow ends cleanly on SIGTERM" [ "$rc" -eq 0 ]
checkx "follow starts at the end of the log" '! grep -q "$m1" "$FED/follow.out"'
check "follow --from 0 --kind ARREST prints the old arrest too" \
	bash -c "timeout -s INT 3 '$PPX' follow --log '$POLICE_LOG' --from 0 --kind ARREST --json 2>>'$ERR' | grep -q '$m1'"

# ---- with the daemons stopped ----
for c in "log --json" "log --json --subject X123456 --ack unacknowledged" \
	"show $m2 --json" "subject pnc:2019/0123456X --json" "export --format csv"; do
	pl $c >"$FED/up.$(tr -c 'a-z0-9' _ <<<"$c")" 2>>"$ERR"
done
fed_stop police.gwent
"$PPX" follow --log "$POLICE_LOG" --json >"$FED/follow2.out" 2>>"$ERR" &
fpid=$!
fed_stop probation.gwent
for c in "log --json" "log --json --subject X123456 --ack unacknowledged" \
	"show $m2 --json" "subject pnc:2019/0123456X --json" "export --format csv"; do
	pl $c >"$FED/down" 2>>"$ERR"
	check "ppx $c gives the same answer with the daemons stopped" \
		is_prefix "$FED/up.$(tr -c 'a-z0-9' _ <<<"$c")" "$FED/down"
done
fed_start police.gwent || notok "police restarts"
note probation.gwent ARREST "Third arrest" "$SUBJ_A" >"$FED/m8.json"
m8=$(send police.gwent "$FED/m8.json")
seen8() { grep -q "\"message_id\":\"$m8\"" "$FED/follow2.out"; }
check "follow started with the daemon down sees what it logs once restarted" wait_until 10 seen8
kill -INT "$fpid"; wait "$fpid"; rc=$?
check "follow ends cleanly on SIGINT" [ "$rc" -eq 0 ]
check "follow --json prints JSON Lines" json_ok <"$FED/follow2.out"

# ---- help ----
for c in log show follow subject export; do
	check "ppx $c --help" bash -c "'$PPX' $c --help | grep -q '^usage: ppx $c'"
done
check "ppx help lists the reading commands" \
	bash -c "'$PPX' help | grep -q '^  subject ' && '$PPX' help | grep -q '^  export '"

if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ERR"; then
	notok "ppx ran without sanitizer reports"
	grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ERR" | head -40 | sed 's/^/# /'
else
	ok "ppx ran without sanitizer reports"
fi
finish
