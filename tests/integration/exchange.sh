#!/usr/bin/env bash
# exchange.sh — a notification from police to probation arrives, its signed
# receipt returns, and both logs verify.
set -u
. "$(dirname "$0")/lib.sh"
fed_init

# ppxd -n checks a configuration and names file and line of a problem.
out=$("$PPXD" -n -c "$(fed_conf police.gwent)" 2>&1)
check "ppxd -n accepts a good configuration" [ $? -eq 0 ]
sed 's/^window = .*//; s/^\[delivery\]/[delivery]\nwindow = 0/' "$(fed_conf police.gwent)" >"$FED/bad.conf"
out=$("$PPXD" -n -c "$FED/bad.conf" 2>&1)
rc=$?
diag "$out"
check "ppxd -n refuses a bad value (exit 1)" [ "$rc" -eq 1 ]
check "... naming the file and line" grep -q "bad.conf:[0-9]*:.*window" <<<"$out"

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
# The policy is applied before signing: prison may not send an arrest.
fed_start prison.cardiff || notok "prison starts"
body_json prison.cardiff police.gwent ARREST "not prison's to send" >"$FED/forbidden.json"
out=$(ppx_send prison.cardiff "$FED/forbidden.json" 2>&1)
rc=$?
diag "$out"
check "the sender's policy refuses a forbidden kind before signing" [ "$rc" -ne 0 ]
check "... saying which rule is missing" grep -q "no rule lets prison.cardiff send notification:ARREST" <<<"$out"
check "... and nothing was logged as sent" [ "$(log_count prison.cardiff ENTRY_SENT)" -eq 0 ]

# Only operators reach the control socket: another Unix user is refused.
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
	check "a user who is not an operator cannot use the control socket" \
		bash -c "! runuser -u nobody -- \"$PPX\" status --config \"$(fed_conf police.gwent)\" >/dev/null 2>&1"
fi

# SIGTERM: a clean exit with a final checkpoint.
pid=$(fed_pid police.gwent)
kill -TERM "$pid"
wait "$pid"
check "ppxd exits 0 on SIGTERM" [ $? -eq 0 ]
rm -f "$FED/police.gwent/pid"
check "... after signing a checkpoint of its log" [ "$(log_count police.gwent ENTRY_CHECKPOINT)" -ge 1 ]
fed_stop probation.gwent
fed_stop prison.cardiff

# The socket's peer credentials are checked too: with no operator for
# this uid, even a user who can reach the socket is refused.
sed -i "s/^uid = .*/uid = 65534/" "$(fed_conf probation.gwent)"
"$PPXD" -f -c "$(fed_conf probation.gwent)" >>"$FED/probation.gwent/ppxd.out" 2>&1 &
echo $! >"$FED/probation.gwent/pid"
refused_logged() {	# asks until the daemon is up and has said whom it refused
	"$PPX" status --config "$(fed_conf probation.gwent)" >/dev/null 2>&1
	grep -q "uid $(id -u) is not a configured operator" "$FED/probation.gwent/ppxd.out"
}
wait_until 30 refused_logged
out=$("$PPX" status --config "$(fed_conf probation.gwent)" 2>&1)
check "a caller whose uid is not an operator is refused at the socket" [ $? -ne 0 ]
check "... and the daemon logged who it refused" \
	grep -q "uid $(id -u) is not a configured operator" "$FED/probation.gwent/ppxd.out"
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
