#!/usr/bin/env bash
# quarantine.sh — a durable hook survives a poison entry without losing it
# (docs/HOOKS.md, "Quarantine"; issue 10, hole 1), with real daemons.
#
# Probation has two hooks running the same test sink, which stores each
# entry as DIR/sink/SEQ and appends SEQ to DIR/order, but refuses (exit 1)
# any entry whose text holds POISON while $FED/poison exists:
#   q       on_failure = quarantine (the default), quarantine_after = 2;
#   strict  on_failure = stop: today's strict order.
# Police sends m1, "POISON m2", m3.  Then: q has m1 and m3 and has set m2
# aside (ENTRY_HOOK_QUARANTINE in the log, QUARANTINED in ppx status);
# strict has m1 only and is stuck on m2; a restart keeps both so; once the
# cause is gone, `ppx hook retry` gives m2 to q (logged, with the person
# and the reason); a second poison entry set aside is dropped by `ppx hook
# drop` (logged) and never stored.
set -u
. "$(dirname "$0")/lib.sh"
fed_init

P=probation.gwent
conf() { fed_conf $P; }

cat >"$FED/sink.sh" <<'SH'
#!/bin/sh
# sink.sh DIR POISONFILE
dir=$1
IFS= read -r line || exit 3
seq=${line#*\"seq\":}
seq=${seq%%,*}
echo "$seq" >>"$dir/attempts"
case $line in
*POISON*)
	if [ -e "$2" ]; then
		echo "sink: cannot map entry $seq (poison)" >&2
		exit 1
	fi ;;
esac
printf '%s\n' "$line" >"$dir/sink/$seq"
echo "$seq" >>"$dir/order"
SH
chmod 755 "$FED/sink.sh"
mkdir -p "$FED/q/sink" "$FED/strict/sink"
touch "$FED/poison"

cat >>"$(conf)" <<EOF
[hook q]
command = $FED/sink.sh "$FED/q" "$FED/poison"
entry_kinds = ENTRY_RECEIVED
retry_initial_ms = 100
retry_max_ms = 200
quarantine_after = 2
[hook strict]
command = $FED/sink.sh "$FED/strict" "$FED/poison"
entry_kinds = ENTRY_RECEIVED
retry_initial_ms = 100
retry_max_ms = 200
on_failure = stop
EOF

lines() { if [ -f "$1" ]; then grep -c . "$1"; else echo 0; fi; }
stored() { [ "$(lines "$FED/$1/order")" -ge "$2" ]; }	# stored HOOK N
status() { "$PPX" status --config "$(conf)" 2>&1; }
received() { ppx_log $P | jq -r 'select(.kind == "ENTRY_RECEIVED") | .seq'; }
entries() {	# entries KIND HOOK: JSON lines of the hook entries of KIND
	ppx_log $P | jq -c --arg k "$1" --arg h "$2" \
		'select(.kind == $k and .family == $h)'
}
quarantined_in_status() { status | grep -q "^hook $1 .*QUARANTINED entry $2 "; }
hookcmd() { "$PPX" hook --config "$(conf)" "$@"; }

fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start $P || { notok "probation starts"; finish; exit 1; }

for m in m1 "POISON m2" m3; do
	body_json police.gwent $P ARREST "$m" >"$FED/m.json"
	ppx_send police.gwent "$FED/m.json" --wait >/dev/null ||
		notok "police sends $m"
done
check "probation received the three messages" \
	wait_until 30 bash -c "[ \$('$PPX' log --log '$(fed_log_dir $P)' --json | grep -c ENTRY_RECEIVED) -ge 3 ]"
read -r s1 s2 s3 < <(received | tr '\n' ' ')
diag "received at seqs $s1 $s2 $s3"

# --- on_failure = quarantine ---------------------------------------------
check "q: the entries after the poison one are delivered" \
	wait_until 30 stored q 2
check "q: ... m1 then m3, m2 not stored" \
	[ "$(tr '\n' ' ' <"$FED/q/order")" = "$s1 $s3 " ]
check "q: m2 was tried quarantine_after (2) times" \
	[ "$(grep -cx "$s2" "$FED/q/attempts")" -eq 2 ]
e=$(entries ENTRY_HOOK_QUARANTINE q)
diag "$e"
check "q: ENTRY_HOOK_QUARANTINE in the log names the hook and the entry" \
	[ "$(jq -r '.related_seq' <<<"$e")" = "$s2" ]
check "q: ... with the last error" grep -q 'cannot map entry.*poison' <<<"$e"
check "q: ppx status lists the entry as QUARANTINED" \
	wait_until 5 quarantined_in_status q "$s2"
diag "$(status | grep '^hook')"
check "q: status --json has it, with on_failure" \
	bash -c "'$PPX' status --config '$(conf)' --json | jq -e '.hooks[] | select(.name == \"q\") | .onFailure == \"quarantine\" and .quarantined[0].seq == \"$s2\"' >/dev/null"

# --- on_failure = stop: today's behaviour ----------------------------------
check "strict: stops on the poison entry" \
	wait_until 10 bash -c "'$PPX' status --config '$(conf)' | grep -q '^hook strict .*next $s2 .*STUCK'"
check "strict: ... delivered m1 only, nothing after it" \
	[ "$(tr '\n' ' ' <"$FED/strict/order")" = "$s1 " ]
check "strict: ... and set nothing aside" \
	[ -z "$(entries ENTRY_HOOK_QUARANTINE strict)" ]

# --- a restart keeps the quarantine ------------------------------------------
fed_stop $P
fed_start $P || notok "probation starts again"
check "restart: q still lists the entry as QUARANTINED" \
	wait_until 10 quarantined_in_status q "$s2"
sleep 1
check "restart: q did not run m2 again, nor m1 and m3" \
	[ "$(grep -cx "$s2" "$FED/q/attempts")" -eq 2 -a \
	  "$(tr '\n' ' ' <"$FED/q/order")" = "$s1 $s3 " ]
check "restart: strict is still stopped on m2" \
	[ "$(tr '\n' ' ' <"$FED/strict/order")" = "$s1 " ]

# --- decisions ---------------------------------------------------------------
hookcmd retry q "$s2" >/dev/null 2>"$FED/err"
rc=$?
check "ppx hook retry without --reason is a usage error (2), saying so" \
	bash -c "[ $rc -eq 2 ] && grep -q -- '--reason TEXT is required' '$FED/err'"
hookcmd retry q "$s1" --reason "x" >/dev/null 2>"$FED/err"
check "ppx hook retry of an entry not set aside fails (1)" [ $? -eq 1 ]
check "... saying so" grep -q 'has not set entry' "$FED/err"
rm -f "$FED/poison"	# the cause is fixed
out=$(hookcmd retry q "$s2" --reason "sink fixed, ticket 4411" 2>&1)
check "ppx hook retry q SEQ --reason: accepted" \
	grep -q "entry $s2 will be given to the hook again" <<<"$out"
retried() { stored q 3 && [ "$(tr '\n' ' ' <"$FED/q/order")" = "$s1 $s3 $s2 " ]; }
check "retry: the hook stores m2, out of order: m1 m3 m2" wait_until 10 retried
e=$(entries ENTRY_HOOK_DECISION q)
diag "$e"
check "retry: ENTRY_HOOK_DECISION logged with the person and the reason" \
	bash -c "jq -se 'map(select(.related_seq == $s2 and .person == \"sam.okafor\" and (.detail | test(\"retry.*sink fixed, ticket 4411\")))) | length == 1' <<<'$e' >/dev/null"
q_empty() {	# status --json: hook q, with on_failure, has nothing set aside
	"$PPX" status --config "$(conf)" --json | jq -e '.hooks[] |
		select(.name == "q") | .onFailure == "quarantine" and
		(.quarantined // [] | length) == 0' >/dev/null
}
check "retry: q's quarantine is empty again" wait_until 5 q_empty
check "strict: goes on in order once the cause is fixed" \
	wait_until 10 bash -c "[ \"\$(tr '\n' ' ' <'$FED/strict/order')\" = '$s1 $s2 $s3 ' ]"

touch "$FED/poison"
body_json police.gwent $P ARREST "POISON m4" >"$FED/m.json"
ppx_send police.gwent "$FED/m.json" --wait >/dev/null || notok "police sends m4"
check "a second poison entry is set aside" \
	wait_until 30 bash -c "[ -n \"\$('$PPX' status --config '$(conf)' | grep '^hook q .*QUARANTINED')\" ]"
s4=$(status | sed -n 's/^hook q .*QUARANTINED entry \([0-9]*\) .*/\1/p')
out=$(hookcmd drop q "$s4" --reason "junk from a partner, see incident 77" 2>&1)
check "ppx hook drop q SEQ --reason: accepted" grep -q "dropped" <<<"$out"
e=$(entries ENTRY_HOOK_DECISION q | jq -c "select(.related_seq == ${s4:-0})")
check "drop: ENTRY_HOOK_DECISION logged with the person and the reason" \
	bash -c "jq -se 'map(select(.person == \"sam.okafor\" and (.detail | test(\"drop.*incident 77\")))) | length == 1' <<<'$e' >/dev/null"
check "drop: the entry is no longer listed" wait_until 5 q_empty
fed_stop $P
fed_start $P || notok "probation starts a third time"
sleep 1
dropped_for_good() { [ -n "$s4" ] && [ ! -e "$FED/q/sink/$s4" ] && q_empty; }
check "drop: ... not after a restart either, and never stored" \
	dropped_for_good
check "the log verifies" log_verify $P
fed_stop_all
finish
