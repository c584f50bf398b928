#!/usr/bin/env bash
# kills.sh — many rounds of SIGKILL at random points while police and
# probation send to each other at once.  Each round starts a burst in both
# directions, waits until each side has logged the first message it sends
# in this round (so that every kill falls into traffic both ways, however
# slowly the daemons run), then a random 0.02–0.8 s, kills police,
# probation or both,
# and restarts what it killed; nothing waits for the previous round to
# settle.  At the end every message either side logged as sent is in the
# other's log exactly once, with a receipt, and both logs verify.
set -u
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-8}
B=${B:-2000}	# messages per direction per round
fed_init

burst() {	# burst FROM TO ROUND
	fed_burst "$1" "$2" "$B" "round $3 message {} from $1" >"$FED/burst-$1-$3.json"
}

fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
killed_police=0 killed_probation=0
# AGENCY has logged more than N messages sent.
sent_more() { [ "$(log_count "$1" ENTRY_SENT)" -gt "$2" ]; }
for r in $(seq 1 "$ROUNDS"); do
	before_police=$(log_count police.gwent ENTRY_SENT)
	before_probation=$(log_count probation.gwent ENTRY_SENT)
	burst police.gwent probation.gwent "$r"
	burst probation.gwent police.gwent "$r"
	# The clients themselves in the background (not a shell function's
	# subshell), so that the kill below reaches them.
	"$PPX" send --config "$(fed_conf police.gwent)" \
		--json "$FED/burst-police.gwent-$r.json" >/dev/null 2>&1 &
	p1=$!
	"$PPX" send --config "$(fed_conf probation.gwent)" \
		--json "$FED/burst-probation.gwent-$r.json" >/dev/null 2>&1 &
	p2=$!
	check "round $r: police's burst is under way" \
		wait_until 120 sent_more police.gwent "$before_police"
	check "round $r: probation's burst is under way" \
		wait_until 120 sent_more probation.gwent "$before_probation"
	pause=$(printf "0.%02d" $((2 + RANDOM % 78)))
	sleep "$pause"
	case $((RANDOM % 3)) in
	0) victims="police.gwent" ;;
	1) victims="probation.gwent" ;;
	*) victims="police.gwent probation.gwent" ;;
	esac
	for v in $victims; do
		fed_kill "$v"
		case $v in police.gwent) killed_police=$((killed_police + 1)) ;;
		*) killed_probation=$((killed_probation + 1)) ;; esac
	done
	# What a killed daemon had not logged was never accepted and never
	# existed; its client waits for an answer that will not come.
	sleep 0.3
	kill "$p1" "$p2" 2>/dev/null
	wait "$p1" "$p2" 2>/dev/null
	diag "round $r: killed $victims after ${pause}s; logged as sent so far: police $(sent_to police.gwent probation.gwent | wc -l), probation $(sent_to probation.gwent police.gwent | wc -l)"
	for v in $victims; do
		fed_start "$v" || notok "round $r: $v restarts"
	done
done
diag "$ROUNDS rounds: police killed $killed_police times, probation $killed_probation times"

check "police's outbox for probation settles" wait_until 180 fed_delivered police.gwent probation.gwent
check "probation's outbox for police settles" wait_until 180 fed_delivered probation.gwent police.gwent
fed_tally police.gwent probation.gwent "police -> probation"
check "police -> probation: as many messages as rounds, at least, were sent" [ "$TALLY_SENT" -ge "$ROUNDS" ]
check "police -> probation: every message has a logged receipt" fed_all_receipted police.gwent probation.gwent
fed_tally probation.gwent police.gwent "probation -> police"
check "probation -> police: every message has a logged receipt" fed_all_receipted probation.gwent police.gwent
check "police still answers" fed_alive police.gwent
check "probation still answers" fed_alive probation.gwent
fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
