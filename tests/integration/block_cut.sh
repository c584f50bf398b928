#!/usr/bin/env bash
# block_cut.sh — a blocked partner loses its own connections, and nobody
# else loses theirs.  Prison (an authenticated partner, through
# tests/tools/inject) pours junk over many connections into probation
# until its refusal budget is spent, while police's daemon sends probation
# real messages over its one session.  Shown:
#
#   * prison's connections are closed by probation, every one of them, and
#     none is made again: inject's monitors see each end, its later frames
#     get no answer, and a new handshake is refused while it is blocked;
#   * police's session is not cut: its daemon never logs the link to
#     probation down, probation's output has no session-wide cut, and
#     police's messages are all delivered, none lost or doubled.
#
# (Before, a block replaced probation's ROUTER and so cut every partner's
# session: police's link went down once per block episode.)
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
N=${N:-100}			# police's messages
JUNK=${JUNK:-20000}		# prison's junk frames
CONNS=${CONNS:-20}		# ... over this many connections
BUDGET=100			# refusals a minute, per partner
[ -x "$INJECT" ] || { notok "the injector is built (make $BUILD/tests/inject)"; finish; exit 1; }
fed_init
sed -i "/^\[delivery\]/a refusal_budget = $BUDGET\nrefusal_window_ms = 60000\nblock_initial_ms = 30000\nrefusal_log_ms = 2000" \
	"$(fed_conf probation.gwent)"
fed_start probation.gwent && fed_start police.gwent || notok "daemons start"
EP=tcp://127.0.0.1:$(fed_port probation.gwent)
OUT=$FED/probation.gwent/ppxd.out
POUT=$FED/police.gwent/ppxd.out
inject() { "$INJECT" --pki "$PKI" --endpoint "$EP" --to probation.gwent --as prison.cardiff "$@" 2>>"$FED/inject.err"; }
downs() { grep -c 'link to probation.gwent is down' "$POUT" || true; }
check "police's link to probation is up before the flood" wait_until 30 fed_settled police.gwent probation.gwent
downs0=$(downs)
for c in $(seq -w 1 5); do
	fed_burst police.gwent probation.gwent $((N / 5)) "beside the block $c-{}" >"$FED/good-$c.json"
done

# police: its real messages, a chunk at a time, while prison floods
( for c in $(seq -w 1 5); do ppx_send police.gwent "$FED/good-$c.json" >/dev/null; sleep 0.5; done ) &
good=$!
inject --timeout-ms 20000 --conns "$CONNS" --hold-ms 1500 --watch junk "$JUNK" >"$FED/junk.out"
rc=$?
sed 's/^/# /' "$FED/junk.out"
check "inject ran (exit $rc)" [ "$rc" -eq 0 ]
field() { sed -n "s/^junk: $1\$/\\1/p" "$FED/junk.out"; }
sent=$(field 'sent \([0-9]*\) answered [0-9]*')
answered=$(field 'sent [0-9]* answered \([0-9]*\)')
jbad=$(field 'REJECT_BAD_FRAME \([0-9]*\)')
up=$(field 'connections [0-9]* up \([0-9]*\) down [0-9]* refused [0-9]*')
down=$(field 'connections [0-9]* up [0-9]* down \([0-9]*\) refused [0-9]*')
# The daemon's own record says the budget was spent.  inject's count of
# refusals can be lower: the answers still queued when probation cuts the
# connections go with them (under valgrind, 80 of the 101 reached it in
# one run, none in another).
blocked=$("$PPX" log --log "$FED/probation.gwent/log" --json --kind PARTNER_BLOCKED 2>/dev/null)
diag "$blocked"
check "prison spent its refusal budget: probation logged it blocked, more than $BUDGET refused" \
	[ "$(jq -s --arg b "more than $BUDGET refused frames" \
		'length >= 1 and .[0].peer == "prison.cardiff" and (.[0].detail | startswith($b))' <<<"$blocked")" = true ]
diag "REJECT_BAD_FRAME answers that reached prison: ${jbad:-0}"
check "prison's later frames got no answer (answered ${answered:-?} of ${sent:-?})" \
	[ "${answered:-0}" -lt "${sent:-0}" ]
check "probation closed every one of prison's $CONNS connections (inject saw ${down:-?} end)" \
	[ "${down:-0}" -eq "$CONNS" ]
check "none of them was made again while blocked (${up:-?} handshakes for $CONNS connections)" \
	[ "${up:-0}" -eq "$CONNS" ]
out=$(inject valid --expect-no-connect --timeout-ms 2000)
check "a blocked prison cannot connect" [ "$out" = NOCONNECT ]
grep 'cut [0-9]* connections\? of prison.cardiff' "$OUT" | sed 's/^/# /'
check "probation says it cut prison's connections" grep -q 'cut [0-9]* connections\? of prison.cardiff' "$OUT"

wait "$good"
check "police's messages settle" wait_until 60 fed_settled police.gwent probation.gwent
fed_tally police.gwent probation.gwent "police -> probation beside the block"
grep 'link to probation.gwent' "$POUT" | sed 's/^/# /'
check "police's link to probation never went down ($(( $(downs) - downs0 )) times)" [ "$(downs)" -eq "$downs0" ]
grep -i 'sessions cut\|cutting sessions' "$OUT" | sed 's/^/# /'
check "probation cut no partner's session but prison's" fails grep -qi 'sessions cut\|cutting sessions' "$OUT"
check "probation's log verifies" log_verify probation.gwent
finish
