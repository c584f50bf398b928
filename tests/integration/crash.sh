#!/usr/bin/env bash
# crash.sh — SIGKILL during a burst of 10,000 messages, of the receiver and
# then of the sender: after restart every message the sender logged is in
# the receiver's log exactly once, and has a receipt in the sender's log.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-10000}
fed_init

fed_burst police.gwent probation.gwent "$N" "crash message" >"$FED/burst.json"

sent_ids() { sent_to police.gwent probation.gwent; }
all_settled() { fed_delivered police.gwent probation.gwent; }
# Kill after a random 0.3 to 1.8 s, mid-burst.
random_pause() { sleep "$(printf '0.%d' $((3 + RANDOM % 7)))"; sleep $((RANDOM % 2)); }

# Compare both logs: $1 names the round.
judge() {
	fed_tally police.gwent probation.gwent "$1"
	diag "$1: receipts logged by police for $(receipted_count police.gwent) messages"
	if fed_all_receipted police.gwent probation.gwent; then
		ok "$1: every sent message has a logged receipt"
	else
		notok "$1: every sent message has a logged receipt"
		unreceipted_said
	fi
}

# Why a message has no receipt: what police still holds for probation,
# one such message as each side shows it, and what police's daemon said
# about receipts and commits.
unreceipted_said() {
	local id
	id=$(comm -23 <(sent_ids | sort) <(receipted_ids police.gwent | sort -u) | head -1)
	[ -n "$id" ] || id=$(sent_ids | tail -1)
	diag "police's outbox for probation: $(fed_depth police.gwent probation.gwent) waiting; e.g. $id"
	diag "police shows: $("$PPX" show "$id" --log "$(fed_log_dir police.gwent)" 2>&1 | grep -E '^  [a-z.]+ +[A-Z]|^ +[0-9]+  20' | head -4 | tr '\n' ' ' | tr -s ' ')"
	diag "probation shows: $("$PPX" show "$id" --log "$(fed_log_dir probation.gwent)" 2>&1 | grep -E '^ +[0-9]+  20' | head -4 | tr '\n' ' ' | tr -s ' ')"
	diag "police said: $(grep -iE 'receipt|commit|batch|cannot' "$FED/police.gwent/ppxd.out" | tail -3 | tr '\n' ' ')"
}

# Round 1: the receiver dies mid-burst.
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
ppx_send police.gwent "$FED/burst.json" >/dev/null &
sender=$!
random_pause
fed_kill probation.gwent
diag "killed probation with $(log_count probation.gwent ENTRY_RECEIVED) received"
wait "$sender"
fed_start probation.gwent || notok "probation restarts"
check "round 1 settles" wait_until 120 all_settled
judge "receiver killed"

# Round 2: the sender dies mid-burst (some submits are then refused to the
# client, which is told; those never existed).
ppx_send police.gwent "$FED/burst.json" >/dev/null 2>&1 &
sender=$!
random_pause
fed_kill police.gwent
diag "killed police with $(sent_ids | wc -l) logged as sent"
wait "$sender"
fed_start police.gwent || notok "police restarts"
check "round 2 settles" wait_until 120 all_settled
judge "sender killed"

fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
