#!/usr/bin/env bash
# refusals.sh — probation.gwent's daemon refuses what it must, answers each
# refusal with a signed receipt, logs and counts it, and goes on serving
# the partners that behave:
#
#   (a) keys whose certificate is revoked, or unknown, cannot connect (ZAP);
#   (b) an envelope signed by one agency over another's link: SENDER_MISMATCH;
#   (c) a kind the policy forbids (prison -> probation ARREST): POLICY;
#   (d) a replayed message: the original's log position, logged once;
#   (e) garbage, an oversized frame and wire version 2: BAD_FRAME,
#       TOO_LARGE, UNSUPPORTED_VERSION;
#   (f) afterwards police still delivers, the refusals are counted by reason,
#       and the logs verify;
#   (g) revoking prison.cardiff's transport certificate and sending SIGHUP
#       cuts its live session: its messages stay queued while police's pass.
#
# The frames of (a)-(e) come from build/tests/inject, a partner that
# misbehaves on purpose, so the receiver's checks are tested without the
# sender's.  The federation runs on a private copy of the PKI: (a) needs
# housing.newport's revoked transport certificate among the known ones, and
# (g) revokes a certificate.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
PKI_TOOL=$TOP/certs/ppx-pki

if [ ! -x "$INJECT" ]; then
	notok "the injector is built (make $BUILD/tests/inject)"
	finish
	exit 1
fi

fed_init
cp -a "$PKI" "$FED/pki"
PKI=$FED/pki
cp "$PKI/test/revoked/housing.newport/transport.crt" \
	"$PKI/certs/housing.newport-transport.pem"
for a in $AGENCIES; do fed_config "$a"; done
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
for a in $AGENCIES; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done

PROBATION_EP=tcp://127.0.0.1:$(fed_port probation.gwent)
OUT=$FED/probation.gwent/ppxd.out

# inject WHO MODE [ARG] [options]: frames to probation as WHO; answers on
# stdout, the injector's own notes appended to $FED/inject.err.
inject() {
	local who=$1; shift
	echo "--- inject --as $who $*" >>"$FED/inject.err"
	"$INJECT" --pki "$PKI" --endpoint "$PROBATION_EP" --to probation.gwent \
		--as "$who" "$@" 2>>"$FED/inject.err"
}

status_json() { "$PPX" status --config "$(fed_conf "$1")" --json; }

refusal_count() {	# refusal_count AGENCY REASON: frames refused for it
	# The daemon's total (.refusals), not a partner's refusalsByReason.
	status_json "$1" | jq -r --arg r "$2" \
		'[.refusals[]? | select(.reason == $r) | .count | tonumber] | add // 0'
}

partner_json() {	# partner_json AGENCY PARTNER: the PartnerStatus object
	status_json "$1" | grep -o "{\"agency\":\"$2\"[^}]*}"
}

link_up() { partner_json "$1" "$2" | grep -q '"connected":true'; }
link_down() {	# the daemon answers, and says the link is down
	local p
	p=$(partner_json "$1" "$2") && ! grep -q '"connected":true' <<<"$p"
}

outbox_depth() {	# outbox_depth AGENCY PARTNER
	local n
	n=$(partner_json "$1" "$2" | grep -o '"outboxDepth":"[0-9]*"' |
		grep -o '[0-9]*"$' | tr -d '"')
	echo "${n:-0}"
}

# Entries of KIND about message id ID in an agency's log.
id_count() {	# id_count AGENCY KIND ID
	ppx_log "$1" | grep "\"kind\":\"$2\"" | grep -c "\"message_id\":\"$3\"" || true
}

id_at() {	# id_at AGENCY SEQ: message id of the entry at SEQ
	ppx_log "$1" | jq -r --argjson s "$2" 'select(.seq == $s) | .message_id'
}

starts_with() { [[ "$1" == "$2"* ]]; }
not_in_output() { ! grep -q "$1" "$OUT"; }
matches() { [[ "$1" =~ $2 ]]; }
received_once() {	# received_once AGENCY ID
	[ -n "$2" ] && [ "$(id_count "$1" ENTRY_RECEIVED "$2")" -eq 1 ]
}
never_received() {	# never_received AGENCY ID
	[ -n "$2" ] && [ "$(id_count "$1" ENTRY_RECEIVED "$2")" -eq 0 ]
}
revoke() {	# revoke CERT: in the private PKI, and publish its CRL
	"$PKI_TOOL" revoke "$PKI" "$1" --reason keyCompromise 2>>"$FED/inject.err" &&
		cp "$PKI/ca/crl.pem" "$FED/crl.pem.new" &&
		mv "$FED/crl.pem.new" "$FED/crl.pem"
}
zap_refusals() { grep -c "refused connection from .*$1" "$OUT" || true; }
zap_refusals_above() { [ "$(zap_refusals "$1")" -gt "$2" ]; }

# ---- (a) who may not connect at all ----
out=$(inject test/revoked/housing.newport valid --expect-no-connect --timeout-ms 2000)
check "(a) housing.newport, whose transport certificate is revoked, cannot connect" \
	[ "$out" = NOCONNECT ]
check "(a) probation logged the refused connection as revoked" \
	grep -q "refused connection from .*revoked" "$OUT"
check "(a) probation counted it under REJECT_CERT_REVOKED" \
	[ "$(refusal_count probation.gwent REJECT_CERT_REVOKED)" -ge 1 ]
# (Its certificate among the known ones is logged at start, ENTRY_KEY_CHANGE:
# probation's own record of the files it has in force.)
check "(a) nothing of housing.newport reached probation's log but the refused connection" \
	[ "$(ppx_log probation.gwent | grep -v -e '"kind":"ENTRY_CONNECTION_REFUSED"' -e '"kind":"ENTRY_KEY_CHANGE"' | grep -c housing.newport)" -eq 0 ]
out=$(inject test/expired/police.gwent valid --expect-no-connect --timeout-ms 2000)
check "(a) a key of no known transport certificate cannot connect" \
	[ "$out" = NOCONNECT ]
check "(a) probation counted it under REJECT_UNKNOWN_SIGNER" \
	[ "$(refusal_count probation.gwent REJECT_UNKNOWN_SIGNER)" -ge 1 ]

# ---- (b) signed as another agency ----
out=$(inject prison.cardiff signed-as police.gwent)
diag "prison.cardiff signed-as police.gwent: $out"
check "(b) an envelope signed by police.gwent over prison.cardiff's link is REJECT_SENDER_MISMATCH" \
	starts_with "$out" "REFUSED REJECT_SENDER_MISMATCH "

# ---- (c) the receiver's policy ----
out=$(inject prison.cardiff kind ARREST)
diag "prison.cardiff kind ARREST: $out"
check "(c) prison.cardiff may not notify probation of an ARREST: REJECT_POLICY" \
	starts_with "$out" "REFUSED REJECT_POLICY "
out=$(inject prison.cardiff kind RELEASE_DATE)
check "(c) while a RELEASE_DATE over the same link is STORED" \
	starts_with "$out" "STORED "

# ---- (d) a replay ----
received=$(log_count probation.gwent ENTRY_RECEIVED)
rejected=$(log_count probation.gwent ENTRY_REJECTED)
out=$(inject police.gwent repeat 3)
diag "police.gwent repeat 3: $(tr '\n' ' ' <<<"$out")"
first=$(head -1 <<<"$out")
seq=${first#STORED }
check "(d) the first copy is STORED" matches "$first" '^STORED [0-9]+$'
check "(d) both replays are answered with the original's log position" \
	[ "$(tail -n +2 <<<"$out" | grep -c " $seq\$")" -eq 2 ]
# PROTOCOL.md 3.1 step 10: a replay gets the original receipt, byte for
# byte, so its item says STORED at the original position.
check "(d) both replays are answered with the original receipt (STORED $seq)" \
	[ "$(tail -n +2 <<<"$out" | grep -c "^STORED $seq\$")" -eq 2 ]
id=$(id_at probation.gwent "$seq")
check "(d) probation logged the message as RECEIVED once" \
	received_once probation.gwent "$id"
check "(d) and one RECEIVED entry in all for the three copies" \
	[ "$(log_count probation.gwent ENTRY_RECEIVED)" -eq $((received + 1)) ]
check "(d) the replays were not logged as refusals either" \
	[ "$(log_count probation.gwent ENTRY_REJECTED)" -eq "$rejected" ]

# ---- (e) malformed frames ----
out=$(inject police.gwent garbage)
check "(e) garbage is REJECT_BAD_FRAME" starts_with "$out" "REFUSED REJECT_BAD_FRAME "
out=$(inject police.gwent oversize)
check "(e) a frame of 1 MiB + 1 byte is REJECT_TOO_LARGE" \
	starts_with "$out" "REFUSED REJECT_TOO_LARGE "
out=$(inject police.gwent version 2)
check "(e) wire version 2 is REJECT_UNSUPPORTED_VERSION" \
	starts_with "$out" "REFUSED REJECT_UNSUPPORTED_VERSION "
check "(e) the refusal of version 2 says which version probation speaks" \
	grep -q "speaks version 1" <<<"$out"

# ---- (f) still serving, and everything counted ----
body_json police.gwent probation.gwent ARREST "Arrested 21:40 on suspicion of breach of SHPO" >"$FED/arrest.json"
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
diag "$out"
check "(f) police's ppx send --wait to probation is still DELIVERED" \
	grep -q "probation.gwent=DELIVERED" <<<"$out"
for r in REJECT_SENDER_MISMATCH REJECT_POLICY REJECT_BAD_FRAME REJECT_TOO_LARGE \
	REJECT_UNSUPPORTED_VERSION; do
	check "(f) probation's status counts one $r" \
		[ "$(refusal_count probation.gwent "$r")" -eq 1 ]
done
check "(f) probation's status counts the revoked connection" \
	[ "$(refusal_count probation.gwent REJECT_CERT_REVOKED)" -ge 1 ]
check "(f) probation logged each refused frame as ENTRY_REJECTED" \
	[ "$(log_count probation.gwent ENTRY_REJECTED)" -eq 5 ]
diag "$(status_json probation.gwent)"

# ---- (g) SIGHUP with a new CRL cuts prison.cardiff's live session ----
body_json prison.cardiff probation.gwent RELEASE_DATE "Release on licence confirmed" >"$FED/release.json"
check "(g) before: prison.cardiff's link to probation is up" \
	wait_until 5 link_up prison.cardiff probation.gwent
out=$(ppx_send prison.cardiff "$FED/release.json" --wait --timeout 20 2>&1)
check "(g) before: prison delivers a RELEASE_DATE to probation" \
	grep -q "probation.gwent=DELIVERED" <<<"$out"
revoked_before=$(zap_refusals revoked)
check "(g) prison.cardiff's transport certificate is revoked and the CRL published" \
	revoke "$PKI/agencies/prison.cardiff/transport.crt"
kill -HUP "$(fed_pid probation.gwent)"
check "(g) probation reloads the CRL on SIGHUP" \
	wait_until 5 grep -q "reloaded CRL" "$OUT"
# transport_cut_sessions() (daemon/transport.c) once unbound and bound
# again, and the bind could fail (EADDRINUSE, or another process on the
# port), leaving the daemon listening nowhere.  It now keeps its listening
# socket and hands it to a new ROUTER (deviations.sh (d) tries to take the
# port meanwhile); the reloads at the end of (g) still check it.
check "(g) probation listens again after cutting the sessions" \
	not_in_output "cannot listen again"
check "(g) prison.cardiff's link to probation goes down" \
	wait_until 10 link_down prison.cardiff probation.gwent
check "(g) probation refuses prison.cardiff's reconnection as revoked" \
	wait_until 10 zap_refusals_above revoked "$revoked_before"
out=$(ppx_send prison.cardiff "$FED/release.json" 2>&1)
id=$(cut -d' ' -f1 <<<"$out" | tail -1)
diag "prison queued: $out"
sleep 3	# retry_max_ms is 2000: time for at least one more attempt
check "(g) prison's message stays queued for probation" \
	[ "$(outbox_depth prison.cardiff probation.gwent)" -ge 1 ]
check "(g) prison's link to probation is still down" \
	link_down prison.cardiff probation.gwent
check "(g) probation did not receive it" never_received probation.gwent "$id"
diag "$(status_json prison.cardiff)"
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
diag "$out"
check "(g) police still delivers to probation" \
	grep -q "probation.gwent=DELIVERED" <<<"$out"
for i in 1 2 3 4 5 6 7 8 9 10; do
	kill -HUP "$(fed_pid probation.gwent)"
	sleep 0.3
done
check "(g) after ten more reloads probation still listens" \
	not_in_output "cannot listen again"
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
diag "$out"
check "(g) and police still delivers to probation" \
	grep -q "probation.gwent=DELIVERED" <<<"$out"

fed_stop_all
for a in $AGENCIES; do
	check "$a's log verifies" log_verify "$a"
done
finish
