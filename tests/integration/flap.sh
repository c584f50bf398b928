#!/usr/bin/env bash
# flap.sh — a partner that flaps.  Police sends a steady stream to
# probation while probation freezes past the heartbeat timeout (SIGSTOP,
# SIGCONT), stops cleanly, and is killed, again and again, with short
# spells up in between.  At the end every message is in probation's log
# exactly once and in the order police sent them, and both logs verify.
set -u
. "$(dirname "$0")/lib.sh"
CHUNKS=${CHUNKS:-40}
PER=${PER:-40}
SETTLE_S=${SETTLE_S:-120}
fed_init

for c in $(seq -w 1 "$CHUNKS"); do
	fed_burst police.gwent probation.gwent "$PER" "flap chunk $c message" >"$FED/chunk-$c.json"
done

fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
stream() {	# one chunk every 0.25 s until the flapping is over
	local f
	while :; do
		for f in "$FED"/chunk-*.json; do
			[ -e "$FED/flaps-done" ] && return
			ppx_send police.gwent "$f" >/dev/null || echo "submit failed: $f"
			sleep 0.25
		done
	done
}
stream >"$FED/stream.out" 2>&1 &
streamer=$!

flaps=0
flap() {	# flap HOW
	case $1 in
	freeze)	# silent past heartbeat_timeout_ms (3 s): police drops the link
		kill -STOP "$(fed_pid probation.gwent)"; sleep 4
		kill -CONT "$(fed_pid probation.gwent)" ;;
	stop) fed_stop probation.gwent; sleep 1; fed_start probation.gwent ;;
	kill) fed_kill probation.gwent; sleep 1; fed_start probation.gwent ;;
	esac
	flaps=$((flaps + 1))
	diag "flap $flaps ($1): probation has received $(log_count probation.gwent ENTRY_RECEIVED)"
	sleep "0.$((3 + RANDOM % 7))"
}
for how in freeze stop kill freeze kill stop freeze kill; do
	flap "$how"
done
check "police streamed all through the flapping" kill -0 "$streamer"
touch "$FED/flaps-done"
wait "$streamer"
check "police accepted every chunk while probation flapped" [ ! -s "$FED/stream.out" ]
# Settled: the link up with nothing queued, and every message police
# logged as sent has its receipt logged (the status alone once read
# depth 0 while a slowed police rebuilt the lane after a resend).
settled() {
	fed_settled police.gwent probation.gwent &&
		fed_all_receipted police.gwent probation.gwent
}
check "police's outbox for probation settles" wait_until "$SETTLE_S" settled
fed_tally police.gwent probation.gwent "police -> probation across $flaps flaps"
check "every message arrived once, in the order police sent them" \
	[ "$(sent_to police.gwent probation.gwent)" = "$(received_from probation.gwent police.gwent)" ]
check "every message has a logged receipt" fed_all_receipted police.gwent probation.gwent
check "police still answers" fed_alive police.gwent
fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
