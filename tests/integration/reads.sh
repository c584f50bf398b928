#!/usr/bin/env bash
# reads.sh — every consultation of the log goes through the daemon and is
# logged (docs/ppx-reading.md, "How reads are recorded").
#
# police.gwent ([accountability] reason = required, an emergency reviewer)
# sends probation.gwent a notification about subject A, a partner record
# of A naming its operator dana.evans as police offender manager, and a
# notification about subject B.  Then, through ppxd's read.sock:
#   - a read without a reason is refused; with --reason, every reading
#     command (log, show, follow, subject, export, prove, due, report)
#     leaves an ENTRY_READ with the person, command, scope and reason,
#     show and subject with the message id and subject keys; status calls
#     are coalesced into one entry with their count;
#   - with a configured purpose no --reason is needed, and the purpose is
#     logged;
#   - with need_to_know = named, A (whose record names dana.evans) is
#     readable, B and a read of every subject are refused, and B with
#     --emergency --reason is read, logged with the reviewer and the date
#     the review is due;
#   - hostile requests (--log, --output, --config in argv, an unknown
#     command, 200 arguments, a control character, a caller who is no
#     operator) are refused, logged as refused, and the daemon goes on;
#   - `ppx follow` through the daemon ends when its client is killed;
#   - a read of the files while the daemon is down (--log) leaves a record
#     that the next start logs as a direct read (and SIGHUP, one made while
#     it runs).
set -u
. "$(dirname "$0")/lib.sh"
fed_init
ERR=$FED/ppx.err
POLICE_LOG=$FED/police.gwent/log
C=$(fed_conf police.gwent)
checkx() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
# Whether jq's filter selects anything (jq -e judges only the last input).
any() { jq -c "$@" | grep -q .; }
# police's configuration: required reasons, a reviewer, the operator's
# extra keys ($1), witnessing off (its exchanges would land between reads).
police_config() {
	fed_config police.gwent $'[evidence]\nwitness = no\n[accountability]\nreason = required\nemergency_reviewer = sam.patel\nemergency_review_days = 2'
	printf '%s' "$1" >>"$C"
	printf '[operator sam.patel]\nname = Sam Patel\nrole = MAPPA coordinator\nuid = 4242\n' >>"$C"
}
px() { "$PPX" "$@" 2>>"$ERR"; }
# The last ENTRY_READ of police's log (read directly: leaves a record).
last_read() { "$PPX" log --log "$POLICE_LOG" --json --kind READ 2>>"$ERR" | tail -1; }
reads_of() { "$PPX" log --log "$POLICE_LOG" --json --kind READ 2>>"$ERR" |
	jq -c --arg c "$1" 'select(.access.command == $c)'; }

police_config ""
fed_config probation.gwent $'[evidence]\nwitness = no'
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }

# --- the messages ----------------------------------------------------------
body_json police.gwent probation.gwent ARREST "Arrested: subject A" |
	jq '.subject = {"pncId": "2019/0000001A", "name": "Alan Able"}' >"$FED/a.json"
body_json police.gwent probation.gwent ARREST "Arrested: subject B" |
	jq '.subject = {"pncId": "2019/0000002B", "name": "Bea Baker"}' >"$FED/b.json"
px send --json "$FED/a.json" --config "$C" --wait --timeout 20 >"$FED/a.out"
px send --json "$FED/b.json" --config "$C" --wait --timeout 20 >"$FED/b.out"
# C links A's PNC to a CRN that D, about B, also carries (a wrong link)
body_json police.gwent probation.gwent ARREST "Arrested: subject C" |
	jq '.subject = {"pncId": "2019/0000001A", "crn": "X100", "name": "Alan Able"}' >"$FED/c.json"
body_json police.gwent probation.gwent ARREST "Arrested: subject D" |
	jq '.subject = {"pncId": "2019/0000002B", "crn": "X100", "name": "Bea Baker"}' >"$FED/d.json"
px send --json "$FED/c.json" --config "$C" --wait --timeout 20 >/dev/null
px send --json "$FED/d.json" --config "$C" --wait --timeout 20 >/dev/null
"$PPX" send record --config "$C" --to probation.gwent --record-id AA-1 \
	--pnc 2019/0000001A --name "Alan Able" --category 2 --level 2 \
	--lead-agency police.gwent --partner police.gwent --partner probation.gwent \
	--police-offender-manager "Dana Evans, police.gwent" --print 2>>"$ERR" |
	jq '.partnerRecord.officers.policeOffenderManager.id = "dana.evans"' >"$FED/rec.json"
px send --json "$FED/rec.json" --config "$C" --wait --timeout 20 >"$FED/rec.out"
A_ID=$(jq -r '.message_id // .messageId // empty' "$FED/a.out" 2>/dev/null | head -1)
[ -n "$A_ID" ] || A_ID=$("$PPX" log --log "$POLICE_LOG" --json --kind SENT 2>>"$ERR" |
	jq -r 'select(.subjects | index("pnc:2019/0000001A")) | .message_id' | head -1)
check "three messages sent, A's id known" [ -n "$A_ID" ]

# --- a reason is required ----------------------------------------------------
msg=$("$PPX" log --config "$C" 2>&1 >/dev/null); rc=$?
checkx "a read without a reason is refused when one is required" \
	'[ $rc -ne 0 ] && grep -q "a reason is required" <<<"$msg"'
checkx "the refusal is logged as a refused ENTRY_READ" \
	'last_read | jq -e ".detail | startswith(\"refused: a reason is required\")" >/dev/null'

msg=$("$PPX" log --config "$C" --reason " " 2>&1 >/dev/null); rc=$?
checkx "a reason of only spaces is refused" '[ $rc -ne 0 ] && grep -q "only spaces" <<<"$msg"'
msg=$("$PPX" log --config "$C" --reason $'why\e[2J' 2>&1 >/dev/null); rc=$?
checkx "a reason with a control character is refused" '[ $rc -ne 0 ] && grep -q "control characters" <<<"$msg"'

# --- every reading command, through the daemon ---------------------------------
R=(--config "$C" --reason "case review")
px log "${R[@]}" --json >"$FED/log.out"
checkx "ppx log through the daemon shows the log" '[ -s "$FED/log.out" ]'
checkx "ppx log: ENTRY_READ with person, command, reason" \
	'reads_of log | any "select(.person == \"dana.evans\" and .access.reason == \"case review\" and .access.scope == \"--json\")" >/dev/null'
px show "$A_ID" "${R[@]}" >"$FED/show.out"
checkx "ppx show through the daemon shows the message" 'grep -q "subject A" "$FED/show.out"'
checkx "ppx show: ENTRY_READ with the message id and subject key" \
	'reads_of show | any --arg id "$A_ID" "select(.message_id == \$id and (.subjects | index(\"pnc:2019/0000001A\")) and .access.scope == \$id)" >/dev/null'
px show "$A_ID" "${R[@]}" >/dev/null
checkx "a second ppx show still finds one message (reads are no message)" \
	'[ "$(reads_of show | wc -l)" -eq 2 ]'
px subject pnc:2019/0000001A "${R[@]}" >"$FED/subject.out"
checkx "ppx subject through the daemon" 'grep -q . "$FED/subject.out"'
checkx "ppx subject: ENTRY_READ with the subject key" \
	'reads_of subject | any "select(.subjects == [\"pnc:2019/0000001A\"] and .access.reason == \"case review\")" >/dev/null'
px export --format jsonl --output "$FED/export.jsonl" "${R[@]}"
checkx "ppx export --output: the file, written through the daemon, mode 0600" \
	'[ -s "$FED/export.jsonl" ] && [ "$(stat -c %a "$FED/export.jsonl")" = 600 ]'
checkx "ppx export: ENTRY_READ without --output in its scope" \
	'reads_of export | any "select(.access.scope == \"--format jsonl\")" >/dev/null'
px prove "$A_ID" --output "$FED/bundle" "${R[@]}"
checkx "ppx prove through the daemon writes the bundle" '[ -s "$FED/bundle" ]'
checkx "ppx prove: ENTRY_READ with the message id" \
	'reads_of prove | any --arg id "$A_ID" "select(.message_id == \$id)" >/dev/null'
px due --config "$C" >/dev/null
checkx "ppx due needs no reason, and is logged" \
	'reads_of due | any "select(.person == \"dana.evans\")" >/dev/null'
px report --config "$C" >/dev/null
checkx "ppx report needs no reason, and is logged" \
	'reads_of report | any "select(.person == \"dana.evans\")" >/dev/null'
"$PPX" log --subject pnc:2019/0000001A --log "$POLICE_LOG" --json 2>>"$ERR" >"$FED/subj-a.json"
checkx "the reads of subject A are found through the subject index" \
	'any "select(.kind == \"ENTRY_READ\")" "$FED/subj-a.json" >/dev/null'

# a grant is for the daemon's log only: not for another --log
px log "${R[@]}" >/dev/null
gseq=$(reads_of log | tail -1 | jq -r .seq)
rm -f "$FED"/probation.gwent/log/reads/*.json
msg=$(PPX_READ_GRANT=$gseq "$PPX" log --config "$C" --log "$FED/probation.gwent/log" 2>&1 >/dev/null); rc=$?
checkx "PPX_READ_GRANT with --log DIR reads nothing" \
	'[ $rc -ne 0 ] && grep -q "not the daemon.s grant" <<<"$msg"'

# follow: its entries while it runs; killed with its client
"$PPX" follow "${R[@]}" --from 0 >"$FED/follow.out" 2>>"$ERR" &
fpid=$!
wait_until 10 grep -q . "$FED/follow.out"
checkx "ppx follow through the daemon streams entries" 'grep -q . "$FED/follow.out"'
# the daemon's children only: the clients' own command lines match too
kids() { pgrep -P "$(fed_pid police.gwent)" -f -- "follow --config $(realpath "$C")"; }
child=$(kids | head -1)
check "the daemon runs ppx follow as its child" [ -n "$child" ]
kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
gone() { ! kids >/dev/null; }
check "killing the follow client ends the daemon's child" wait_until 5 gone
checkx "ppx follow: ENTRY_READ" 'reads_of follow | grep -q .'
# one caller holds at most 4 running reads
fpids=()
for i in 1 2 3 4; do
	"$PPX" follow "${R[@]}" --from 0 >/dev/null 2>>"$ERR" & fpids+=($!)
done
four() { [ "$(kids | wc -l)" -ge 4 ]; }
wait_until 10 four
msg=$("$PPX" log "${R[@]}" 2>&1 >/dev/null); rc=$?
checkx "a fifth running read of one caller is refused as busy" \
	'[ $rc -ne 0 ] && grep -q "you have 4 reads running" <<<"$msg"'
kill -TERM "${fpids[@]}"; wait "${fpids[@]}" 2>/dev/null
check "their children end with them" wait_until 5 gone

# status: counted
for i in 1 2 3; do px status --config "$C" >/dev/null; done

# --- hostile requests ----------------------------------------------------------
cat >"$FED/sock.py" <<'PY'
import socket, struct, sys, array
sys.path.insert(0, sys.argv[2])
import ppx_pb2
req = ppx_pb2.ControlRequest(version=1)
args = sys.argv[3:]
if args == ["MANY"]:
    args = ["log"] + ["--json"] * 200
if args == ["CTRL"]:
    args = ["subject", "pnc:1\x1b[2J"]
req.read.argv.extend(args)
req.read.reason = "probe"
data = req.SerializeToString()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
fds = array.array("i", [1, 2])
s.sendmsg([struct.pack(">I", len(data)) + data],
          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
hdr = s.recv(4)
n = struct.unpack(">I", hdr)[0]
buf = b""
while len(buf) < n:
    buf += s.recv(n - len(buf))
rep = ppx_pb2.ControlReply()
rep.ParseFromString(buf)
print(rep.code, rep.error)
PY
SOCK=$FED/police.gwent/run/read.sock
probe() { PYTHONPATH="$TOP/$BUILD/py" /usr/bin/python3 "$FED/sock.py" "$SOCK" "$TOP/$BUILD/py" "$@" 2>>"$ERR"; }
# a caller who is not an operator: let uid 4243 reach the socket
chmod o+x "$FED" "$FED/police.gwent" "$FED/police.gwent/run" "$TOP/$BUILD" "$TOP/$BUILD/py" 2>/dev/null
chmod o+w "$SOCK"
out=$(setpriv --reuid=4243 --regid=4243 --clear-groups /usr/bin/python3 "$FED/sock.py" "$SOCK" "$TOP/$BUILD/py" log 2>&1)
chmod o-w "$SOCK"; chmod o-x "$FED" "$FED/police.gwent" "$FED/police.gwent/run"
checkx "a caller who is not an operator is refused ($out)" 'grep -q "uid 4243 is not an operator" <<<"$out"'
checkx "... and logged as uid:4243" \
	'last_read | any "select(.person == \"uid:4243\")" >/dev/null'

for bad in "log --log /tmp" "log --output /tmp/x" "export --config /etc/passwd" \
	   "log --lo /tmp" "log -l/tmp" "verify --log /tmp" "send --json x" "MANY" "CTRL" \
	   "prove --pki /tmp"; do
	# shellcheck disable=SC2086
	out=$(probe $bad)
	checkx "refused: $bad ($out)" '[[ "$out" == -* ]]'
done
checkx "the daemon still answers after hostile requests" 'fed_alive police.gwent && px status --config "$C" >/dev/null'
for i in $(seq 1 30); do probe log --log /tmp >/dev/null; done
refused=$("$PPX" log --log "$POLICE_LOG" --json --kind READ 2>>"$ERR" | jq -c "select(.detail | startswith(\"refused\"))" | wc -l)
checkx "refused requests are logged, at most 10 a minute ($refused of 44)" \
	'[ "$refused" -ge 5 ] && [ "$refused" -le 20 ]'
# the limit is per caller: after that flood, another's refusal is logged
chmod o+x "$FED" "$FED/police.gwent" "$FED/police.gwent/run"; chmod o+w "$SOCK"
setpriv --reuid=4243 --regid=4243 --clear-groups /usr/bin/python3 "$FED/sock.py" "$SOCK" "$TOP/$BUILD/py" due >/dev/null 2>&1
chmod o-w "$SOCK"; chmod o-x "$FED" "$FED/police.gwent" "$FED/police.gwent/run"
checkx "the refusal limit is per caller: another caller's refusal is still logged" \
	'[ "$("$PPX" log --log "$POLICE_LOG" --json --kind READ 2>>"$ERR" | jq -c "select(.person == \"uid:4243\")" | wc -l)" -ge 2 ]'
fed_stop police.gwent
checkx "status calls are coalesced: one entry with their count" \
	'reads_of status | jq -s -e "map(.access.count) | add >= 4 and length <= 3" >/dev/null'

# --- a purpose instead of --reason ----------------------------------------------
police_config $'purpose = MAPPA case management\n'
fed_start police.gwent || notok "police restarts"
px log --config "$C" >/dev/null
checkx "with a purpose, no --reason is needed, and the purpose is logged" \
	'reads_of log | tail -1 | jq -e ".access.reason == \"MAPPA case management\"" >/dev/null'
# a direct read while the daemon runs: logged on SIGHUP
"$PPX" export --format csv --log "$POLICE_LOG" --reason "hup check" >/dev/null 2>>"$ERR"
kill -HUP "$(fed_pid police.gwent)"
hup_logged() { px log --config "$C" --json --kind READ | any 'select(.access.direct and .access.reason == "hup check" and .access.command == "export")'; }
check "a direct read is logged on SIGHUP" wait_until 10 hup_logged
fed_stop police.gwent

# --- need to know = named, and break-glass ---------------------------------------
police_config $'purpose = MAPPA case management\nneed_to_know = named\n'
fed_start police.gwent || notok "police restarts"
px subject pnc:2019/0000001A --config "$C" >"$FED/a.subject"
checkx "named: the subject whose record names the operator is readable" '[ $? -eq 0 ]'
checkx "named: ppx subject does not follow a linked identifier to another subject" \
	'grep -q "0000001A" "$FED/a.subject" && ! grep -q "0000002B" "$FED/a.subject"'
msg=$("$PPX" subject pnc:2019/0000002B --config "$C" 2>&1 >/dev/null); rc=$?
checkx "named: another subject is refused, saying how to break glass" \
	'[ $rc -ne 0 ] && grep -q "need to know" <<<"$msg" && grep -q -- "--emergency --reason" <<<"$msg"'
B_ID=$("$PPX" log --log "$POLICE_LOG" --json --kind SENT 2>>"$ERR" |
	jq -r 'select(.subjects | index("pnc:2019/0000002B")) | .message_id' | head -1)
checkx "named: show of a message about the named subject is allowed" \
	'px show "$A_ID" --config "$C" | grep -q "subject A"'
msg=$("$PPX" show "$B_ID" --config "$C" 2>&1 >/dev/null); rc=$?
checkx "named: show of a message about another subject is refused" \
	'[ $rc -ne 0 ] && grep -q "pnc:2019/0000002B" <<<"$msg"'
msg=$("$PPX" log --config "$C" 2>&1 >/dev/null); rc=$?
checkx "named: a read of every subject is refused" '[ $rc -ne 0 ] && grep -q "need_to_know = all" <<<"$msg"'
msg=$("$PPX" due --config "$C" 2>&1 >/dev/null); rc=$?
checkx "named: ppx due (it lists subjects and reasons) is refused" '[ $rc -ne 0 ] && grep -q "need_to_know = all" <<<"$msg"'
msg=$("$PPX" report --config "$C" 2>&1 >/dev/null)
checkx "named: ppx report (figures only) is allowed" '! grep -q "refused by ppxd" <<<"$msg"'
msg=$("$PPX" subject pnc:2019/0000002B --config "$C" --emergency 2>&1 >/dev/null); rc=$?
checkx "--emergency without --reason is refused" '[ $rc -ne 0 ] && grep -q "needs --reason" <<<"$msg"'
px subject pnc:2019/0000002B --config "$C" --emergency --reason "threat to life reported" >"$FED/b.subject"
checkx "an emergency read without need to know shows the subject" 'grep -q . "$FED/b.subject"'
now=$(($(date +%s) * 1000))
checkx "the emergency read is logged with reviewer and review due date" \
	'reads_of subject | tail -1 | jq -e --argjson now "$now" ".access.emergency == true and .access.reviewer == \"sam.patel\" and .access.reason == \"threat to life reported\" and (.access.reviewDueMs | tonumber) > \$now and .subjects == [\"pnc:2019/0000002B\"]" >/dev/null'
fed_stop police.gwent

# --- a direct read, recorded at the next start -------------------------------------
rm -f "$POLICE_LOG"/reads/*.json
before=$(date +%s%3N)
"$PPX" log --log "$POLICE_LOG" --reason "daemon down: checking" >/dev/null 2>>"$ERR"
checkx "a direct read leaves one record in reads/" '[ "$(ls "$POLICE_LOG"/reads/*.json | wc -l)" -eq 1 ]'
checkx "the record is the reader's, mode 0600" \
	'[ "$(stat -c %a "$POLICE_LOG"/reads/*.json)" = 600 ]'
msg=$(setpriv --reuid=4243 --regid=4243 --clear-groups "$PPX" log --log "$POLICE_LOG" 2>&1); rc=$?
checkx "a reader who cannot leave a record reads nothing" '[ $rc -ne 0 ] && grep -q "cannot leave a read record" <<<"$msg"'
record=$(ls "$POLICE_LOG"/reads/*.json)
echo 'not json' >"$POLICE_LOG/reads/read-0-0.json"
rec() { jq -cn --argjson t "$1" --arg r "$2" --argjson e "$3" \
	'{uid: 0, user: "x", time_ms: $t, argv: ["log"], reason: $r, emergency: $e}'; }
rec 1000 "backdated" false >"$POLICE_LOG/reads/read-1-1.json"
rec "$before" "" true >"$POLICE_LOG/reads/read-2-2.json"
rec "$before" $'bell\a' false >"$POLICE_LOG/reads/read-3-3.json"
fed_start police.gwent || notok "police restarts"
fed_stop police.gwent
"$PPX" log --log "$POLICE_LOG" --json --kind READ 2>>"$ERR" >"$FED/reads.json"
checkx "the direct read is logged: direct, read_ms, person, reason" \
	'any --argjson t "$before" "select(.access.direct == true and .access.command == \"log\" and .person == \"dana.evans\" and .access.reason == \"daemon down: checking\" and (.access.readMs | tonumber) >= \$t)" "$FED/reads.json" >/dev/null'
checkx "a malformed record is logged and moved aside" \
	'any "select(.detail | test(\"read-0-0.json is not one\"))" "$FED/reads.json" >/dev/null && [ -f "$POLICE_LOG/reads/read-0-0.json.bad" ]'
checkx "a record's time_ms does not backdate the read (the file's mtime counts)" \
	'any --argjson t "$before" "select(.access.reason == \"backdated\" and (.access.readMs | tonumber) >= \$t)" "$FED/reads.json" >/dev/null'
checkx "a record of an emergency read without a reason is moved aside" \
	'[ -f "$POLICE_LOG/reads/read-2-2.json.bad" ]'
checkx "a record whose reason holds a control character is moved aside" \
	'[ -f "$POLICE_LOG/reads/read-3-3.json.bad" ]'
checkx "a record logged is removed" '[ ! -e "$record" ]'
checkx "the log directory is the daemon's alone" '[ "$(stat -c %a "$POLICE_LOG")" = 700 ]'
checkx "the log still verifies" 'log_verify police.gwent'

msg=$("$PPX" log --config "$C" 2>&1 >/dev/null); rc=$?
checkx "with the daemon down, a read says so and how to read directly" \
	'[ $rc -ne 0 ] && grep -q -- "--log" <<<"$msg"'
msg=$("$PPX" log --partner -h --config "$C" 2>&1 >/dev/null); rc=$?
checkx "a \"-h\" as an option's value is no help request: the read still needs the daemon" \
	'[ $rc -ne 0 ] && grep -q "does not answer" <<<"$msg"'
if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$ERR" >/dev/null; then
	notok "ppx ran without sanitizer reports"; grep -m5 -E "Sanitizer|runtime error" "$ERR" | sed 's/^/# /'
fi
finish
