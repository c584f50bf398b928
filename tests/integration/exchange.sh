#!/usr/bin/env bash
# exchange.sh — a notification from police to probation arrives, its signed
# receipt returns, and both logs verify.
set -u
. "$(dirname "$0")/lib.sh"
fed_init
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }

body_json police.gwent probation.gwent ARREST "Arrested 21:40 on suspicion of breach of SHPO" >"$FED/arrest.json"
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
rc=$?
diag "$out"
check "send --wait returns 0 once the receipt is logged" [ "$rc" -eq 0 ]
check "ppx send reports the message delivered to probation" grep -q "probation.gwent=DELIVERED" <<<"$out"
check "probation logged it as RECEIVED once" [ "$(log_count probation.gwent ENTRY_RECEIVED)" -eq 1 ]
check "probation logged the receipt it sent" [ "$(log_count probation.gwent ENTRY_RECEIPT_SENT)" -eq 1 ]
check "police logged the message as SENT" [ "$(log_count police.gwent ENTRY_SENT)" -eq 1 ]
check "police logged the verified receipt" [ "$(log_count police.gwent ENTRY_RECEIPT_RECEIVED)" -eq 1 ]
id=$(cut -d' ' -f1 <<<"$out" | tail -1)
check "the same message id is in both logs" bash -c "ppx_log() { \"$PPX\" log --log \"$FED/\$1/log\" --json; }; ppx_log probation.gwent | grep -q '$id'"
check "probation's log names the sending person" bash -c "\"$PPX\" log --log \"$FED/probation.gwent/log\" --json | grep ENTRY_RECEIVED | grep -q '\"person\":\"dana.evans\"'"
fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
