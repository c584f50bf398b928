#!/usr/bin/env bash
# evidence.sh — `ppx prove` writes evidence bundles that `ppx verify
# --bundle` and the independent checker (pycheck evidence) accept offline,
# with no log and no daemon:
#
#   (a) police sends a notification to probation; police's bundle of it
#       (the frame as sent, probation's receipt, police's SENT entry in a
#       signed checkpoint, and probation's proof of recording when the
#       receipt carries one) verifies;
#   (b) probation's bundle of the message it received verifies;
#   (c) a refusal entry at probation, proven with --seq, verifies;
#   (d) every single byte of a bundle changed makes it fail, naming what
#       (build/tests/evidence-flip, in-process); a few changes through
#       `ppx verify --bundle` itself name the part that broke;
#   (e) a bundle checked against another CA fails;
#   (f) a message signed personally (ppx send --sign): its bundle names
#       the person, and both verifiers check the personal signature.
#
# The partners witness each other every 200 ms (PROTOCOL.md 11): police's
# bundle carries probation's cosignature of police's checkpoint (and, when
# a request police cosigned proved consistency from the receipt's
# checkpoint, police's of probation's).
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
FLIP=$TOP/$BUILD/tests/evidence-flip
CA=$PKI/ca/ca.crt

fed_init
for a in police.gwent probation.gwent; do
	fed_config "$a" $'[evidence]\nwitness_interval_ms = 200'
done
DANA=$PKI/people/police.gwent/dana.evans
printf 'person_cert = %s.crt\n' "$DANA" >>"$(fed_conf police.gwent)"
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }

body_json police.gwent probation.gwent ARREST "Arrested 21:40 on suspicion of breach of SHPO" >"$FED/arrest.json"
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
check "police's message is delivered to probation" grep -q "probation.gwent=DELIVERED" <<<"$out"
id=$(cut -d' ' -f1 <<<"$out" | tail -1)
out=$(ppx_send police.gwent "$FED/arrest.json" --sign "$DANA.key" --wait --timeout 20 2>&1)
check "a message signed personally by dana.evans is delivered" grep -q "probation.gwent=DELIVERED" <<<"$out"
signed=$(cut -d' ' -f1 <<<"$out" | tail -1)

# A refusal at probation: prison may not send an arrest (REJECT_POLICY).
"$INJECT" --pki "$PKI" --endpoint "tcp://127.0.0.1:$(fed_port probation.gwent)" \
	--to probation.gwent --as prison.cardiff kind ARREST >/dev/null 2>>"$FED/inject.err"
check "probation logged a refusal" [ "$(log_count probation.gwent ENTRY_REJECTED)" -ge 1 ]

prove() {	# prove AGENCY OUT ARGS...
	local a=$1 f=$2; shift 2
	"$PPX" prove --log "$(fed_log_dir "$a")" --pki "$PKI" -o "$f" "$@" 2>>"$FED/prove.err"
}
verify() { "$PPX" verify --bundle "$1" --ca "$CA"; }
cosigned() {	# cosigned: police's bundle of $id holds probation's cosignature
	prove police.gwent "$FED/live.ppxe" "police.gwent/$id" &&
		verify "$FED/live.ppxe" >"$FED/live.txt" &&
		grep -A3 "^log of police.gwent: entry [0-9]*, ENTRY_SENT" "$FED/live.txt" |
		grep -q "cosigned by probation.gwent"
}
check "ppx prove works on a live log: probation cosigns police's SENT entry within 10 s" \
	wait_until 10 cosigned

# Each daemon signs a checkpoint when it stops: every entry is then in one.
fed_stop police.gwent
fed_stop probation.gwent

# (a) the sender's bundle
prove police.gwent "$FED/sent.ppxe" "police.gwent/$id"
check "ppx prove writes police's bundle of the message it sent" [ -s "$FED/sent.ppxe" ]
out=$(verify "$FED/sent.ppxe" 2>&1)
rc=$?
diag "$out"
check "ppx verify --bundle accepts it (exit 0)" [ "$rc" -eq 0 ]
check "... saying who sent what" grep -q "^message police.gwent/$id: notification" <<<"$out"
check "... that probation stored it" grep -q "^receipt 1: probation.gwent stored it at seq" <<<"$out"
check "... and police's SENT entry in a signed checkpoint" grep -q "^log of police.gwent: entry [0-9]*, ENTRY_SENT" <<<"$out"
check "... and probation's RECEIVED entry in its checkpoint, by the receipt's proof" \
	grep -q "^log of probation.gwent: entry [0-9]*, ENTRY_RECEIVED.*(proof carried by its receipt)" <<<"$out"
check "... police's checkpoint cosigned by probation" \
	bash -c 'grep -A3 "^log of police.gwent" | grep -q "^  cosigned by probation.gwent"' <<<"$out"
# Police's cosignature of probation's log reaches the bundle only when a
# request police cosigned carried the consistency proof from the receipt's
# checkpoint, which depends on when the witnessing exchanges ran: shown,
# not required.
grep -A3 "^log of probation.gwent" <<<"$out" | grep -q "^  cosigned by police.gwent" ||
	diag "probation's end holds no cosignature by police in this run"
out=$(pycheck evidence "$FED/sent.ppxe" --ca "$CA" 2>&1)
rc=$?
diag "$out"
check "the independent checker accepts it" [ "$rc" -eq 0 ]

# (b) the receiver's bundle
prove probation.gwent "$FED/received.ppxe" "police.gwent/$id"
out=$(verify "$FED/received.ppxe" 2>&1)
rc=$?
diag "$out"
check "probation's bundle of the message it received verifies" [ "$rc" -eq 0 ]
check "... with its RECEIVED entry in its checkpoint" grep -q "^log of probation.gwent: entry [0-9]*, ENTRY_RECEIVED" <<<"$out"
check "... and the independent checker accepts it" pycheck evidence "$FED/received.ppxe" --ca "$CA"

# (c) a refusal, by its position
seq=$(ppx_log probation.gwent | jq -r 'select(.kind == "ENTRY_REJECTED") | .seq' | head -1)
prove probation.gwent "$FED/refusal.ppxe" --seq "$seq"
out=$(verify "$FED/refusal.ppxe" 2>&1)
rc=$?
diag "$out"
check "a refusal entry proven with --seq verifies" [ "$rc" -eq 0 ]
check "... naming the refusal" grep -q "ENTRY_REJECTED.*partner prison.cardiff" <<<"$out"
check "... and the independent checker accepts it" pycheck evidence "$FED/refusal.ppxe" --ca "$CA"
out=$("$PPX" prove --log "$(fed_log_dir probation.gwent)" --pki "$PKI" -o "$FED/none.ppxe" --seq 999999 2>&1)
check "an entry the log does not hold is refused (exit 1)" [ $? -eq 1 ]

# (d) every byte changed
out=$("$FLIP" "$FED/sent.ppxe" "$CA" 2>&1)
rc=$?
diag "$out"
check "every single byte of the sender's bundle changed makes it fail" [ "$rc" -eq 0 ]
check "... naming many different things" [ "$(sed -n 's/.*, \([0-9]*\) different failures named/\1/p' <<<"$out")" -ge 10 ]
out=$("$FLIP" "$FED/refusal.ppxe" "$CA" 2>&1)
check "every single byte of the entry bundle changed makes it fail" [ $? -eq 0 ]

# a change to the message's signature, through ppx verify itself
change_signature() {	# change_signature IN OUT: a bit of the message's signature
	PYTHONPATH="$TOP/$BUILD/py" /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
import ppx_pb2
raw = bytearray(open(sys.argv[1], "rb").read())
b = ppx_pb2.EvidenceBundle.FromString(bytes(raw))
sig = ppx_pb2.Frame.FromString(b.frame).message.signature
i = bytes(raw).index(sig)
raw[i + 10] ^= 0x01
open(sys.argv[2], "wb").write(raw)
PY
}
change_signature "$FED/sent.ppxe" "$FED/badsig.ppxe"
out=$(verify "$FED/badsig.ppxe" 2>&1)
rc=$?
diag "$out"
check "a bit of the message's signature changed: ppx verify --bundle fails (exit 1)" [ "$rc" -eq 1 ]
check "... naming the message's signature" grep -q "DOES NOT VERIFY: message: signature does not verify" <<<"$out"
out=$(pycheck evidence "$FED/badsig.ppxe" --ca "$CA" 2>&1)
rc=$?
diag "$out"
check "... and so does the independent checker" [ "$rc" -eq 1 ]
out=$("$PPX" verify --bundle "$FED/sent.ppxe" --ca "$PKI/ca/crl.pem" 2>&1)
check "a CA file that holds no certificate is a usage error (exit 2)" [ $? -eq 2 ]

# (e) another CA
"$TOP/certs/ppx-pki" demo "$FED/otherpki" >/dev/null 2>&1
out=$("$PPX" verify --bundle "$FED/sent.ppxe" --ca "$FED/otherpki/ca/ca.crt" 2>&1)
rc=$?
diag "$out"
check "a bundle checked against another CA fails (exit 1)" [ "$rc" -eq 1 ]
check "... saying the CA is not the one given" grep -q "CA: the bundle's CA certificate is not the CA given" <<<"$out"

# (f) a personally signed message
prove police.gwent "$FED/person.ppxe" "police.gwent/$signed"
out=$(verify "$FED/person.ppxe" 2>&1)
rc=$?
diag "$out"
check "the bundle of a personally signed message verifies" [ "$rc" -eq 0 ]
check "... naming the person who signed it" grep -q "signed personally by Dana Evans of police.gwent" <<<"$out"
out=$(pycheck evidence "$FED/person.ppxe" --ca "$CA" 2>&1)
rc=$?
diag "$out"
check "... and the independent checker agrees" [ "$rc" -eq 0 ]
check "... naming the person too" grep -q "signed personally by Dana Evans" <<<"$out"
finish
