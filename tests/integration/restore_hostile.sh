#!/usr/bin/env bash
# restore_hostile.sh — a partner's restore notice (PROTOCOL.md 14.2)
# cannot be used to silence witnessing or to cost its receiver: notices
# sent over probation's authenticated link by the inject tool.
#
# police.gwent witnesses probation.gwent's log; probation is then stopped,
# so the checkpoint police holds of it (N entries) stays put.
#   - a genuine notice (a log of N + 1000 entries) is taken once;
#   - an older notice signed with another agency's key, sent on several
#     connections and again after police restarts, is dropped before its
#     signature is judged: no ENTRY_REJECTED, no refusal in the journal;
#     a newer one so signed is refused (the check can fail);
#   - a notice of exactly N entries with another root is a fork: refused,
#     and the witnessing alarm raised;
#   - with the alarm outstanding, a notice (of 1 entry) is neither taken
#     nor refused: the journal says it is left for the operators.
# police's log verifies.
set -u
. "$(dirname "$0")/lib.sh"
WITHIN=${WITHIN:-60}	# seconds a wait may take
P=probation.gwent
AGENCIES="police.gwent $P"
fed_init
for a in $AGENCIES; do fed_config "$a" $'[evidence]\nwitness_interval_ms = 300'; done
POL=$(fed_conf police.gwent)
PLOG=$(fed_log_dir police.gwent)
INJECT=$TOP/$BUILD/tests/inject
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start $P || { notok "probation starts"; finish; exit 1; }

# The size of the checkpoint of probation's log police holds, or "none".
held_size() {
	"$PPX" status --config "$POL" 2>/dev/null |
		awk -v p=$P '$1 == "witness" && $2 == p { print $6 }'
}
holds_some() { [ "$(held_size)" -gt 0 ] 2>/dev/null; }
kind_count() { "$PPX" log --log "$PLOG" --json --kind "$1" 2>/dev/null | wc -l; }
refused() { "$PPX" log --log "$PLOG" --json --kind REJECTED 2>/dev/null |
	jq -c --arg p $P 'select(.peer == $p and (.detail | test("restore notice refused")))' | wc -l; }
journal_has() { grep -c -- "$1" "$FED/police.gwent/ppxd.out" || true; }
forge() {	# forge MODE ARG: a notice over probation's link to police
	sleep 1.1	# one notice per partner per second is judged
	"$INJECT" --pki "$PKI" --endpoint "tcp://127.0.0.1:$(fed_port police.gwent)" \
		--to police.gwent --as $P --timeout-ms 1500 "$@" >>"$FED/inject.err" 2>&1 || true
}
status_ok() {	# police's status answers, shows probation's witness line, no ALARM
	local out
	out=$("$PPX" status --config "$POL") &&
		grep -Eq "^witness +$P " <<<"$out" && ! grep -q ALARM <<<"$out"
}
alarmed() { "$PPX" status --config "$POL" 2>/dev/null | grep -Eq "^witness +$P .*ALARM"; }

body_json $P police.gwent ARREST "before the notices" >"$FED/m.json"
ppx_send $P "$FED/m.json" >/dev/null 2>&1
check "police holds a checkpoint of probation's log" wait_until "$WITHIN" holds_some
fed_stop $P
N=$(held_size)
diag "police holds probation's log at $N entries"

# --- a notice taken, then older ones dropped unjudged ------------------------
forge restore-at $((N + 1000))
check "a genuine notice is taken (one ENTRY_PARTNER_RESTORED)" \
	wait_until "$WITHIN" bash -c "[ \$(\"$PPX\" log --log \"$PLOG\" --json --kind PARTNER_RESTORED 2>/dev/null | wc -l) -eq 1 ]"
check "... and police still holds probation's log at $N entries" [ "$(held_size)" = "$N" ]
before=$(refused)
lines=$(journal_has "restore notice refused")
for i in 1 2 3; do forge restore-old-signed-as prison.cardiff; done
sleep 1
check "an older notice signed by prison, on 3 connections, logs no refusal" [ "$(refused)" -eq "$before" ]
check "... and no refusal in the journal" [ "$(journal_has "restore notice refused")" -eq "$lines" ]
fed_stop police.gwent
fed_start police.gwent || notok "police restarts"
for i in 1 2; do forge restore-old-signed-as prison.cardiff; done
sleep 1
check "after police restarts, the older notice still logs no refusal" [ "$(refused)" -eq "$before" ]
check "... nor in the journal" [ "$(journal_has "restore notice refused")" -eq "$lines" ]
check "... and police shows probation's witness line without alarm" status_ok
forge restore-signed-as prison.cardiff
check "a newer notice signed by prison is refused and logged" \
	wait_until "$WITHIN" bash -c "[ \$(\"$PPX\" log --log \"$PLOG\" --json --kind REJECTED 2>/dev/null | grep -c 'restore notice refused') -gt $before ]"

# --- a fork: the size police holds, another root -------------------------------
before=$(refused)
forge restore-at "$N"
check "a notice of the held size with another root is refused" \
	wait_until "$WITHIN" bash -c "[ \$(\"$PPX\" log --log \"$PLOG\" --json --kind REJECTED 2>/dev/null | grep -c 'a fork, not a restore') -ge 1 ]"
check "... and raises the witnessing alarm" wait_until "$WITHIN" alarmed
check "... logged as ENTRY_WITNESS_ALARM" [ "$(kind_count WITNESS_ALARM)" -ge 1 ]
check "... and is not taken" [ "$(kind_count PARTNER_RESTORED)" -eq 1 ]

# --- under alarm: left for the operators -------------------------------------
before=$(refused)
forge restore-at 1
check "under the alarm a notice is left for the operators (journal)" \
	wait_until "$WITHIN" bash -c "grep -q 'left for the operators' \"$FED/police.gwent/ppxd.out\""
check "... not taken" [ "$(kind_count PARTNER_RESTORED)" -eq 1 ]
check "... not refused" [ "$(refused)" -eq "$before" ]
check "... and police still holds probation's log at $N entries" [ "$(held_size)" = "$N" ]
fed_stop_all
check "police's log verifies" log_verify police.gwent
finish
