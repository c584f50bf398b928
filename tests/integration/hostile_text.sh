#!/usr/bin/env bash
# hostile_text.sh — strings are text, and the sending person belongs to
# the sending agency (issue 10, holes 1 and 4), with real daemons:
#
#   (a) prison.cardiff (build/tests/inject body-json) signs bodies with
#       invalid UTF-8 in sender_person.id, in a nested repeated string
#       (subject.aliases[1]) and a NUL inside notification.details:
#       probation refuses each with REJECT_BAD_BODY naming the field, and
#       stores none of them;
#   (b) a body whose sender_person.agency names probation.gwent, signed by
#       prison.cardiff: REJECT_SENDER_MISMATCH naming both;
#   (c) a body whose sender_agency is not text: refused, and the refusal's
#       detail (which quotes it) is text in the signed receipt and the log;
#   (d) every signed receipt probation sent decodes with a strict decoder
#       (python3's UTF-8 codec over the wire format: no ppx code), and
#       every line of `ppx log --json` is UTF-8 JSON;
#   (e) odd but valid text (accents, Welsh, Irish, CJK, an emoji) is
#       STORED and round-trips through the hook JSON, `ppx show --json`
#       and `ppx log --json`;
#   (f) an operator cannot submit what is not text either (a NUL inside a
#       string is refused before signing), nor backdate a message (hole 8:
#       a createdMs from 2001 is refused; the daemon stamps its own time);
#   (g) the daemons still serve and the logs verify.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
if [ ! -x "$INJECT" ]; then
	notok "the injector is built (make $BUILD/tests/inject)"
	finish
	exit 1
fi
command -v python3 >/dev/null || { notok "python3 is installed"; finish; exit 1; }

fed_init
P=probation.gwent
SINK=$FED/sink
mkdir -p "$SINK" "$FED/receipts"
cat >"$FED/sink.sh" <<'SH'
#!/bin/sh
# sink.sh DIR: append the entry JSON on stdin to DIR/entries.
cat >>"$1/entries" && echo >>"$1/entries"
SH
chmod 755 "$FED/sink.sh"
cat >>"$(fed_conf $P)" <<EOF
[hook sink]
command = $FED/sink.sh "$SINK"
entry_kinds = ENTRY_RECEIVED
timeout_ms = 2000
EOF
for a in $AGENCIES; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
EP=tcp://127.0.0.1:$(fed_port $P)

# inject JSONFILE [--patch MARK=HEX]...: one body from prison.cardiff to
# probation; the verified answer on stdout, receipts kept for (d).
inject() {
	local f=$1; shift
	echo "--- inject body-json $f $*" >>"$FED/inject.err"
	"$INJECT" --pki "$PKI" --endpoint "$EP" --to $P --as prison.cardiff \
		--receipts-to "$FED/receipts" body-json "$f" "$@" \
		2>>"$FED/inject.err"
}

# A release date from prison.cardiff, with marks to patch: QQ in the
# sender's id, ZZZ in an alias, MM in the details.  $1: the sender
# person's agency; $2: the sender agency; $3: the sender's name.
body() {
	printf '{"senderAgency":"%s","senderPerson":{"id":"op.QQ.prison","name":"%s","agency":"%s","role":"OMU"},"recipients":["%s"],"marking":"OFFICIAL_SENSITIVE","priority":"ROUTINE","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"},"subject":{"pncId":"2019/0123456X","crn":"X123456","name":"John Smith","aliases":["Jon Smith","Johnny ZZZ"]},"notification":{"kind":"RELEASE_DATE","effectiveDate":"2026-12-24","details":"Release confirmed: MM wing"}}\n' \
		"${2:-prison.cardiff}" "${3:-Priya Shah}" "${1:-prison.cardiff}" $P
}
received() { log_count $P ENTRY_RECEIVED; }
starts_with() { [[ "$1" == "$2"* ]]; }
body >"$FED/plain.json"
before=$(received)

# ---- (a) strings that are not text ----
out=$(inject "$FED/plain.json" --patch QQ=c0af)
diag "sender_person.id with an overlong '/': $out"
check "(a) invalid UTF-8 in sender_person.id: REJECT_BAD_BODY naming the field" \
	starts_with "$out" "REFUSED REJECT_BAD_BODY message from prison.cardiff: sender_person.id: invalid UTF-8 at byte 3"
out=$(inject "$FED/plain.json" --patch ZZZ=edb080)
diag "a surrogate in subject.aliases[1]: $out"
check "(a) a surrogate in a nested repeated string: REJECT_BAD_BODY naming subject.aliases[1]" \
	starts_with "$out" "REFUSED REJECT_BAD_BODY message from prison.cardiff: subject.aliases[1]: invalid UTF-8 at byte 7"
out=$(inject "$FED/plain.json" --patch MM=0041)
diag "a NUL in notification.details: $out"
check "(a) a NUL inside notification.details: REJECT_BAD_BODY naming it" \
	starts_with "$out" "REFUSED REJECT_BAD_BODY message from prison.cardiff: notification.details: NUL at byte 19"

# ---- (b) the sending person belongs to the signing agency ----
body probation.gwent >"$FED/borrowed.json"
out=$(inject "$FED/borrowed.json")
diag "sender_person of probation.gwent, signed by prison.cardiff: $out"
check "(b) a sender person of another agency: REJECT_SENDER_MISMATCH naming both" \
	bash -c 'grep -q "^REFUSED REJECT_SENDER_MISMATCH .*prison.cardiff.*probation.gwent" <<<"$1"' _ "$out"

# Other persons a body names are the sending agency's statement: police
# names a probation officer as the one who decided; ppx show says whose
# word that is.
printf '{"recipients":["%s"],"marking":"OFFICIAL_SENSITIVE","priority":"ROUTINE","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"},"subject":{"pncId":"2019/0123456X","crn":"X123456","name":"John Smith"},"disclosure":{"considered":true,"consideredAnswer":"YES","decision":"DEFER","rationale":"Await the accommodation search","legalBasis":"CJA_2003_S325","decidedBy":{"id":"helen.price","name":"Helen Price","agency":"probation.gwent","role":"MAPPA chair"},"meetingId":"GW-2026-0380"}}\n' $P >"$FED/decision.json"
out=$(ppx_send police.gwent "$FED/decision.json" --wait --timeout 20 2>&1)
diag "a disclosure decision naming a probation officer: $out"
did=$(ppx_log $P | jq -r 'select(.kind == "ENTRY_RECEIVED" and .sender == "police.gwent") | .message_id' | tail -1)
shown=$("$PPX" show "$did" --config "$(fed_conf $P)" 2>&1)
check "(b) ppx show: the sending person is of the signing agency" \
	grep -q "^sent by Dana Evans (dana.evans) of police.gwent, the signing agency" <<<"$shown"
check "(b) ppx show: a person named in the body is stated by the sender" \
	grep -q "^  disclosure.decided_by: Helen Price (probation.gwent), stated by police.gwent" <<<"$shown"
check "(b) ppx show --json: stated_persons and stated_by" \
	[ "$("$PPX" show "$did" --config "$(fed_conf $P)" --json | jq -r '.stated_by + " " + .stated_persons[0].field + " " + .stated_persons[0].agency')" = "police.gwent disclosure.decided_by probation.gwent" ]

# ---- (c) a refusal that quotes bytes that are not text ----
body prison.cardiff prison.cardiffXX >"$FED/agency.json"
out=$(inject "$FED/agency.json" --patch XX=ff0a)
diag "sender_agency 'prison.cardiff\\xff\\n': $out"
check "(c) refused, the bad bytes quoted escaped" \
	bash -c 'grep -q "^REFUSED REJECT_SENDER_MISMATCH .*prison.cardiff\\\\xff\\\\x0a" <<<"$1"' _ "$out"

check "(a-c) none of these reached probation's log as RECEIVED (only police's decision did)" \
	[ "$(received)" -eq $((before + 1)) ]
check "(a-c) each is logged as REJECTED" \
	[ "$(log_count $P ENTRY_REJECTED)" -ge 5 ]

# ---- (e) odd but valid text round-trips ----
NAME='Siân Ó Briain-Łukasz 田中 😀'
body prison.cardiff prison.cardiff "$NAME" >"$FED/odd.json"
out=$(inject "$FED/odd.json")
diag "odd but valid text: $out"
check "(e) a body with non-ASCII names and an emoji is STORED" starts_with "$out" "STORED "
id=$(ppx_log $P | jq -r 'select(.kind == "ENTRY_RECEIVED") | .message_id' | tail -1)
check "(e) ppx show --json gives the name back byte for byte" \
	[ "$("$PPX" show "$id" --config "$(fed_conf $P)" --json | jq -r .body.senderPerson.name)" = "$NAME" ]
check "(e) ppx log --json gives it back" \
	[ "$(ppx_log $P | jq -r --arg id "$id" 'select(.kind == "ENTRY_RECEIVED" and .message_id == $id) | .sender_person')" = "$NAME" ]
hooked() { [ -s "$SINK/entries" ] && grep -q "$id" "$SINK/entries"; }
check "(e) the hook got the entry" wait_until 10 hooked
check "(e) the hook JSON has the body, with the name byte for byte" \
	[ "$(grep "$id" "$SINK/entries" | jq -r .body.senderPerson.name)" = "$NAME" ]

# ---- (d) a strict decoder reads every signed receipt ----
cat >"$FED/strict.py" <<'PY'
# strict.py FILE...: each FILE is a serialised ppx Frame carrying a receipt;
# every string field of its ReceiptBody (and of the checkpoint it carries)
# must decode as strict UTF-8, as protobuf's own libraries demand.  Field
# numbers from proto/ppx.proto.
import sys

def fields(b):
    i = 0
    while i < len(b):
        tag, i = varint(b, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            _, i = varint(b, i); yield num, None
        elif wt == 2:
            n, i = varint(b, i); yield num, b[i:i + n]; i += n
        elif wt in (1, 5):
            i += 8 if wt == 1 else 4; yield num, None
        else:
            raise ValueError("wire type %d" % wt)
        if i > len(b):
            raise ValueError("truncated")

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if not c & 0x80:
            return v, i

def sub(b, num):
    return [v for n, v in fields(b) if n == num]

STRINGS = {"receipt": {1, 2}, "item": {6}, "checkpoint": {1}}
for path in sys.argv[1:]:
    frame = open(path, "rb").read()
    body = sub(sub(frame, 3)[0], 1)[0]           # Frame.receipt.signed_body
    for n, v in fields(body):
        if n in STRINGS["receipt"]:
            v.decode("utf-8")
        elif n == 4:                              # items
            for m, w in fields(v):
                if m in STRINGS["item"]:
                    w.decode("utf-8")
        elif n == 5:                              # checkpoint envelope
            for w in sub(sub(v, 1)[0], 1):
                w.decode("utf-8")
print(len(sys.argv) - 1)
PY
strict() { python3 "$FED/strict.py" "$FED"/receipts/*.bin >"$FED/strict.out" 2>&1; }
check "(d) every signed receipt decodes with a strict UTF-8 decoder" strict
diag "receipts read strictly: $(tail -1 "$FED/strict.out")"
logtext() { ppx_log $P | python3 -c 'import sys, json
for line in sys.stdin.buffer: json.loads(line.decode("utf-8"))'; }
check "(d) every line of ppx log --json is UTF-8 JSON" logtext
check "(d) the daemon's output is UTF-8" \
	python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$FED/$P/ppxd.out"

# ---- (f) the operator's side ----
body_json police.gwent $P ARREST "plain" >"$FED/nul.json"
sed -i 's/"plain"/"pl\\u0000ain"/' "$FED/nul.json"
out=$(ppx_send police.gwent "$FED/nul.json" 2>&1)
diag "ppx send with a NUL: $out"
check "(f) a submission with a NUL inside a string is refused" \
	bash -c '! "$0" send --config "$1" --json "$2" >/dev/null 2>&1' "$PPX" "$(fed_conf police.gwent)" "$FED/nul.json"

# Backdating (hole 8): the daemon stamps created_ms, and refuses a value
# from the caller further than clock_skew_ms from its clock.
body_json police.gwent $P ARREST "backdated" |
	jq -c '.createdMs = "1000000000000"' >"$FED/2001.json"
out=$(ppx_send police.gwent "$FED/2001.json" 2>&1)
diag "ppx send with createdMs in 2001: $out"
check "(f) a submission dated 2001 is refused, saying why" \
	grep -q "createdMs 2001-09-09T01:46:40.000Z is [0-9]* s in the past" <<<"$out"
check "(f) ... and nothing dated 2001 was signed or logged" \
	[ "$(ppx_log police.gwent | jq -r 'select(.kind == "ENTRY_SENT") | .created' | grep -c '^2001')" -eq 0 ]
body_json police.gwent $P ARREST "undated" >"$FED/undated.json"
ppx_send police.gwent "$FED/undated.json" --wait --timeout 20 >/dev/null 2>&1
stamped=$(ppx_log police.gwent | jq -r 'select(.kind == "ENTRY_SENT") | .created' | tail -1)
check "(f) a submission without createdMs is stamped with the daemon's clock ($stamped)" \
	[ "${stamped:0:10}" = "$(date -u +%Y-%m-%d)" ]

# ---- (g) still serving ----
body_json police.gwent $P ARREST "after the hostile text" >"$FED/after.json"
check "(g) police still delivers to probation" \
	ppx_send police.gwent "$FED/after.json" --wait --timeout 20
fed_stop_all
check "(g) probation's log verifies" log_verify $P
check "(g) prison's and police's logs verify" \
	bash -c "'$PPX' verify --log '$(fed_log_dir police.gwent)' --pki '$PKI' >/dev/null"
finish
