#!/usr/bin/env bash
# person_sig.sh — personal signatures (docs/PROTOCOL.md 3.2), with real
# daemons: police.gwent sends to probation.gwent, and both policies
# require a personal signature on disclosure decisions (and, at probation,
# on recall decisions).
#
#   (a) sending: an unsigned disclosure decision is refused at submit (exit
#       1, saying a personal signature is required); one signed with the
#       operator's person key (ppx send --sign) is delivered, and `ppx show`
#       at both ends names the signer; a key that is not the operator's
#       person_cert is refused; a notification (not required) still flows
#       unsigned;
#   (b) receiving, from a partner that ignores its own policy
#       (build/tests/inject): unsigned where required ->
#       REJECT_PERSON_SIGNATURE_REQUIRED; a person certificate of another
#       agency, an agency signing certificate used as a person's, a revoked
#       person certificate (ppx-pki revoke, the CRL reloaded), a signature
#       over other bytes, and a body that does not name the signer ->
#       REJECT_BAD_PERSON_SIGNATURE, each with its detail; a good one is
#       stored;
#   (c) the same frames checked by pyppx.person, written from PROTOCOL.md
#       3.2 alone, reach the same verdicts.
#
# The PKI is a copy in the federation's directory: the person certificates
# issued and revoked here touch no other test.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
PKI_TOOL=$TOP/certs/ppx-pki

if [ ! -x "$INJECT" ]; then
	notok "the injector is built (make $BUILD/tests/inject)"
	finish
	exit 1
fi

FED_DIR=$(mktemp -d /tmp/ppx-fed-XXXXXX)
cp -r "$PKI" "$FED_DIR/pki"
PKI=$FED_DIR/pki
"$PKI_TOOL" person "$PKI" police.gwent "Revoked Officer" --id revoked.officer >/dev/null 2>&1 ||
	notok "ppx-pki issues a second police person certificate"
fed_init
cat >>"$FED/policy.conf" <<'POL'

[signatures]
require_person_signature = disclosure, notification:RECALL_DECIDED
POL
DANA=$PKI/people/police.gwent/dana.evans
fed_config police.gwent
printf 'person_cert = %s.crt\n' "$DANA" >>"$(fed_conf police.gwent)"
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
for a in police.gwent probation.gwent; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done
POLICE=(--config "$(fed_conf police.gwent)")
PROBATION=(--config "$(fed_conf probation.gwent)")
PROBATION_EP=tcp://127.0.0.1:$(fed_port probation.gwent)
ERR=$FED/stderr

run_ok() {	# run_ok DESCRIPTION COMMAND...: exit 0; stdout in $out
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
		notok "$what"
		diag "exit $rc, wanted 1 and '$text'; stderr: $(cat "$ERR")"
	fi
}
msg_id() { cut -d' ' -f1 <<<"$1" | tail -1; }
logged() {	# logged AGENCY KIND ID
	ppx_log "$1" | grep "\"kind\":\"$2\"" | grep -q "\"message_id\":\"$3\""
}

# --- (a) sending ------------------------------------------------------
SUBJ=(--pnc 2019/0123456X --crn X123456 --name "John Smith")
DECISION=(disclosure "${POLICE[@]}" --to probation.gwent "${SUBJ[@]}"
	--considered yes --decision do-not-disclose
	--rationale "No current risk to the employer's staff"
	--decided-by "Alex Morgan, probation.gwent, MAPPA chair"
	--meeting-id GW-2026-114)
refused "(a) an unsigned disclosure decision is refused at submit" \
	"needs a personal signature" "$PPX" send "${DECISION[@]}"
run_ok "(a) a disclosure decision signed with the operator's person key is delivered" \
	"$PPX" send "${DECISION[@]}" --sign "$DANA.key" --wait --timeout 20
signed=$(msg_id "$out")
check "(a) probation logged it" logged probation.gwent ENTRY_RECEIVED "$signed"
FPR=$(openssl x509 -in "$DANA.crt" -outform DER | sha256sum | cut -c1-64)
shows_signer() {	# shows_signer AGENCY-CONFIG...
	"$PPX" show "police.gwent/$signed" "$@" >"$FED/show.txt" 2>"$ERR" &&
		grep -qF "signed by Dana Evans (person certificate ${FPR:0:16}...) of police.gwent" "$FED/show.txt"
}
check "(a) ppx show at police names the signer" shows_signer "${POLICE[@]}"
check "(a) ppx show at probation names the signer" shows_signer "${PROBATION[@]}"
show_json_fpr() {
	"$PPX" show "police.gwent/$signed" "${PROBATION[@]}" --json |
		jq -r '.person_signature.fingerprint'
}
check "(a) ppx show --json gives the signer's fingerprint" \
	[ "$(show_json_fpr)" = "$FPR" ]
refused "(a) a person key that is not the operator's person_cert is refused" \
	"not operator dana.evans's person_cert" \
	"$PPX" send "${DECISION[@]}" --sign "$PKI/people/police.gwent/revoked.officer.key"
run_ok "(a) an unsigned notification (not required) is delivered" \
	"$PPX" send notification "${POLICE[@]}" --to probation.gwent \
	--kind arrest "${SUBJ[@]}" --details "Arrested 21:40 in the exclusion zone" \
	--wait --timeout 20
unsigned=$(msg_id "$out")
shows_unsigned() {
	"$PPX" show "police.gwent/$unsigned" "${PROBATION[@]}" >"$FED/show2.txt" 2>&1 &&
		grep -qx "no personal signature" "$FED/show2.txt" && return 0
	diag "ppx show: $(cat "$FED/show2.txt")"
	return 1
}
check "(a) ppx show says it has no personal signature" shows_unsigned

# --- (b) receiving ----------------------------------------------------
inject() {	# inject CASE [options]: police -> probation, the answer on stdout
	echo "--- inject $*" >>"$FED/inject.err"
	"$INJECT" --pki "$PKI" --endpoint "$PROBATION_EP" --to probation.gwent \
		--as police.gwent person "$@" 2>>"$FED/inject.err"
}
answers() {	# answers WANT DETAIL CASE [options]
	local want=$1 detail=$2; shift 2
	inject "$@" >"$FED/answer" || true
	grep -q "^$want" "$FED/answer" && grep -qF -- "$detail" "$FED/answer" && return 0
	diag "wanted '$want ... $detail', got: $(cat "$FED/answer")"
	return 1
}
R=(--kind RECALL_DECIDED)
check "(b) unsigned where required: REJECT_PERSON_SIGNATURE_REQUIRED" \
	answers "REFUSED REJECT_PERSON_SIGNATURE_REQUIRED" "RECALL_DECIDED" none "${R[@]}"
check "(b) unsigned where not required: stored" \
	answers "STORED" "" none
check "(b) a good personal signature: stored" \
	answers "STORED" "" good --person people/police.gwent/dana.evans \
	--frame-to "$FED/good.bin"
check "(b) a person certificate of another agency: REJECT_BAD_PERSON_SIGNATURE" \
	answers "REFUSED REJECT_BAD_PERSON_SIGNATURE" "other agency" \
	good "${R[@]}" --person people/probation.gwent/sam.okafor \
	--frame-to "$FED/other-agency.bin"
check "(b) an agency signing certificate as a person's: REJECT_BAD_PERSON_SIGNATURE" \
	answers "REFUSED REJECT_BAD_PERSON_SIGNATURE" "other role" \
	good "${R[@]}" --person agencies/police.gwent/signing \
	--frame-to "$FED/other-role.bin"
check "(b) a signature over other bytes: REJECT_BAD_PERSON_SIGNATURE" \
	answers "REFUSED REJECT_BAD_PERSON_SIGNATURE" "bad signature" \
	other-bytes "${R[@]}" --person people/police.gwent/dana.evans \
	--frame-to "$FED/other-bytes.bin"
check "(b) a body that does not name the signer: REJECT_BAD_PERSON_SIGNATURE" \
	answers "REFUSED REJECT_BAD_PERSON_SIGNATURE" "not the sender person" \
	not-sender --person people/police.gwent/dana.evans \
	--frame-to "$FED/not-sender.bin"
check "(b) a bad personal signature is refused even where none is required" \
	answers "REFUSED REJECT_BAD_PERSON_SIGNATURE" "bad signature" \
	other-bytes --person people/police.gwent/dana.evans
check "(b) before revocation the second officer's signature is stored" \
	answers "STORED" "" good --person people/police.gwent/revoked.officer \
	--frame-to "$FED/before-revocation.bin"
revoke() { "$PKI_TOOL" revoke "$PKI" "$PKI/people/police.gwent/revoked.officer.crt" >/dev/null 2>&1; }
check "(b) ppx-pki revokes the second officer's certificate" revoke
cp "$PKI/ca/crl.pem" "$FED/crl.new" && mv -f "$FED/crl.new" "$FED/crl.pem"
crl_reloaded() { grep -q 'CRL file .* changed' "$FED/probation.gwent/ppxd.out"; }
check "(b) probation reloads the CRL" wait_until 20 crl_reloaded
check "(b) a revoked person certificate: REJECT_BAD_PERSON_SIGNATURE" \
	answers "REFUSED REJECT_BAD_PERSON_SIGNATURE" "revoked person certificate" \
	good --person people/police.gwent/revoked.officer \
	--frame-to "$FED/revoked.bin"
bad_logged() {
	ppx_log probation.gwent | jq -r 'select(.kind == "ENTRY_REJECTED") | .reason' |
		grep -c REJECT_BAD_PERSON_SIGNATURE
}
check "(b) probation logged the refusals" [ "$(bad_logged)" -ge 6 ]

# --- (c) the independent check -------------------------------------------
pyverdict() {	# pyverdict FRAME EXIT TEXT [options]: pyppx.person says so
	local f=$1 want=$2 text=$3; shift 3
	pycheck person "$FED/$f.bin" --ca "$PKI/ca/ca.crt" --crl "$FED/crl.pem" \
		"$@" >"$FED/py.out" 2>&1
	local rc=$?
	[ "$rc" -eq "$want" ] && grep -qF -- "$text" "$FED/py.out" && return 0
	diag "pyppx.person $f: exit $rc, wanted $want and '$text': $(cat "$FED/py.out")"
	return 1
}
check "(c) pyppx.person accepts the good signature" \
	pyverdict good 0 "signed by Dana Evans ($FPR) of police.gwent"
check "(c) pyppx.person: another agency" pyverdict other-agency 1 "other agency"
check "(c) pyppx.person: another role" pyverdict other-role 1 "other role"
check "(c) pyppx.person: other bytes" pyverdict other-bytes 1 "bad signature"
check "(c) pyppx.person: not the sender person" pyverdict not-sender 1 "not the sender person"
check "(c) pyppx.person: revoked" pyverdict revoked 1 "revoked person certificate"
check "(c) pyppx.person: signed before revocation, revoked now" \
	pyverdict before-revocation 1 "revoked person certificate"
check "(c) pyppx.person: ... but it holds as history" \
	pyverdict before-revocation 0 "signed by Revoked Officer" --history

fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
