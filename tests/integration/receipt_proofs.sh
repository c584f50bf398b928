#!/usr/bin/env bash
# receipt_proofs.sh — every receipt carries proof of recording (PROTOCOL.md
# 5.3): police sends N messages each to probation and prison; every
# RECEIPT_RECEIVED entry in police's log then carries the receiver's
# checkpoint and, for each message, the entry and its inclusion proof, and
# the independent checker (pyppx.receipts, written from PROTOCOL.md)
# accepts each one -- and refuses each once one byte of a proof changes.
# A receiver that sends no proofs delivers nothing to a sender that
# requires them (the receipt is logged REJECTED, the message stays
# queued) until that partner is made `proofs = optional`; its delivery is
# then shown as without proof of recording.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-40}
fed_init

fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }
fed_start prison.cardiff || { notok "prison starts"; finish; exit 1; }

fed_burst police.gwent probation.gwent "$N" "proof {}" >"$FED/probation.json"
fed_burst police.gwent prison.cardiff "$N" "proof {}" >"$FED/prison.json"
ppx_send police.gwent "$FED/probation.json" >/dev/null 2>&1
check "police sends $N messages to probation" [ $? -eq 0 ]
ppx_send police.gwent "$FED/prison.json" >/dev/null 2>&1
check "police sends $N messages to prison" [ $? -eq 0 ]
check "probation receipts them all" wait_until 60 fed_delivered police.gwent probation.gwent
check "prison receipts them all" wait_until 60 fed_delivered police.gwent prison.cardiff

receipts=$(log_count police.gwent ENTRY_RECEIPT_RECEIVED)
diag "police logged $receipts receipts for $((2 * N)) messages"
check "police logged receipts" [ "$receipts" -ge 1 ]

out=$(pycheck receipts --log "$(fed_log_dir police.gwent)" --us police.gwent \
	--certs "$PKI/certs" 2>&1)
rc=$?
diag "$out"
check "the independent check accepts every receipt's proof" [ "$rc" -eq 0 ]
check "... for every message sent: $((2 * N)) verified, none failed" \
	grep -q "items $((2 * N)) verified $((2 * N)) failed 0$" <<<"$out"
check "... and every one of the $receipts receipts carries a signed checkpoint" \
	grep -q "^receipts $receipts checkpoints $receipts items" <<<"$out"

out=$(pycheck receipts --log "$(fed_log_dir police.gwent)" --us police.gwent \
	--certs "$PKI/certs" --mutate 2>&1)
rc=$?
diag "$(tail -1 <<<"$out")"
check "with one byte of each proof changed, the check refuses every one" \
	[ "$rc" -eq 0 ]
check "... $((2 * N)) failed, none verified" \
	grep -q "items $((2 * N)) verified 0 failed $((2 * N))$" <<<"$out"

id=$(ppx_log police.gwent | jq -r 'select(.kind == "ENTRY_SENT") | .message_id' | head -1)
out=$("$PPX" show "police.gwent/$id" --config "$(fed_conf police.gwent)" 2>&1)
diag "$(grep -i 'recorded\|proof' <<<"$out")"
check "ppx show: recorded at the partner's seq, in its checkpoint, verified" \
	grep -q "recorded at their log seq [0-9]*, in their checkpoint of size [0-9]* signed at .*: proof verified" <<<"$out"
out=$("$PPX" show "police.gwent/$id" --config "$(fed_conf police.gwent)" --json 2>&1)
shown_verified() {
	jq -e '[.. | objects | select(has("proof"))] | length > 0 and all(.proof == "verified" and .remote_tree_size > 0)' <<<"$out" >/dev/null
}
check "ppx show --json: proof verified, with the remote tree size" shown_verified

check "both logs verify" log_verify police.gwent
check "... probation's too" log_verify probation.gwent

# A receiver that sends no proofs: police requires them.
fed_stop prison.cardiff
printf '[evidence]\nproofs = no\n' >>"$(fed_conf prison.cardiff)"
fed_start prison.cardiff || notok "prison restarts without proofs"
body_json police.gwent prison.cardiff ARREST "no proof expected" >"$FED/one.json"
ppx_send police.gwent "$FED/one.json" >/dev/null 2>&1
unproven() {
	ppx_log police.gwent | jq -e 'select(.kind == "ENTRY_REJECTED" and (.detail // "" | test("without valid proof of recording")))' >/dev/null
}
check "a receipt without proof is logged REJECTED at police" wait_until 30 unproven
check "... and the message stays queued" [ "$(fed_depth police.gwent prison.cardiff)" -ge 1 ]
check "... police says so" grep -q "without valid proof of recording" "$FED/police.gwent/ppxd.out"

# That partner made optional: its receipts deliver, without proof.
fed_stop police.gwent
sed -i 's/^\[partner prison.cardiff\]$/&\nproofs = optional/' "$(fed_conf police.gwent)"
fed_start police.gwent || notok "police restarts with prison optional"
check "with proofs = optional, the message is delivered" wait_until 60 fed_settled police.gwent prison.cardiff
id=$(ppx_log police.gwent | jq -r 'select(.kind == "ENTRY_SENT") | .message_id' | tail -1)
out=$("$PPX" show "police.gwent/$id" --config "$(fed_conf police.gwent)" 2>&1)
diag "$(grep -i 'proof' <<<"$out")"
check "ppx show says it came without proof of recording" grep -q "no proof of recording" <<<"$out"
check "police's log still verifies" log_verify police.gwent
finish
