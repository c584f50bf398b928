#!/usr/bin/env bash
# flood.sh — a partner sending at full speed.  Prison (an authenticated
# partner, through tests/tools/inject, which has no window and no backoff)
# pours distinct signed messages into police as fast as the link takes
# them, while probation sends police a paced stream and police's operators
# ask for its status.  Police stays responsive to the others — probation's
# messages arrive during the flood, every status request is answered — and
# its memory stays bounded.  Nothing from either sender is lost or doubled.
set -u
. "$(dirname "$0")/lib.sh"
FLOOD=${FLOOD:-40000}
N=${N:-300}
STATUS_WITHIN=${STATUS_WITHIN:-5}	# seconds; run-tests allows more under valgrind
HEAP_KIB=${HEAP_KIB:-16384}	# heap growth allowed; run-tests allows more under valgrind
INJECT=$TOP/$BUILD/tests/inject
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) that would count as the daemon's heap here; keep it small.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
fed_init
# run-tests sets these under valgrind, where police's batch of 1,024 frames
# takes seconds: smaller batches, and a link allowed to be slow.
for kv in ${BATCH_MAX:+batch_max=$BATCH_MAX} \
	  ${HEARTBEAT_TIMEOUT_MS:+heartbeat_timeout_ms=$HEARTBEAT_TIMEOUT_MS}; do
	conf=$(fed_conf police.gwent)
	if grep -q "^${kv%%=*} = " "$conf"; then
		sed -i "s/^${kv%%=*} = .*/${kv%%=*} = ${kv#*=}/" "$conf"
	else
		sed -i "/^\[delivery\]/a ${kv%%=*} = ${kv#*=}" "$conf"
	fi
done
[ -x "$INJECT" ] || notok "the injector is built (make $BUILD/tests/inject)"

for c in $(seq -w 1 10); do
	fed_burst probation.gwent police.gwent $((N / 10)) "beside the flood $c-{}" >"$FED/paced-$c.json"
done
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
anon0=$(fed_anon police.gwent)

"$INJECT" --endpoint "tcp://127.0.0.1:$(fed_port police.gwent)" --as prison.cardiff \
	--to police.gwent --pki "$PKI" --timeout-ms 300000 flood "$FLOOD" --kind RELEASE_DATE \
	>"$FED/flood.out" 2>"$FED/flood.err" &
flooder=$!
flood_running() { kill -0 "$flooder" 2>/dev/null; }
flood_stored() { grep -c '^STORED' "$FED/flood.out" || true; }
check "the flood reaches police" wait_until 60 eval '[ "$(flood_stored)" -gt 0 ]'

# While prison floods: probation's paced stream, status requests, memory.
# A figure counts as "during the flood" only if the flood still ran after
# it was read.
anon_q="" max_anon=0 slow_status=0 status_n=0 worst_ms=0 during=0 chunks=0
t_flood=$(date +%s.%N)
for c in $(seq -w 1 10); do
	flood_running || break
	ppx_send probation.gwent "$FED/paced-$c.json" >/dev/null || notok "probation submits chunk $c"
	chunks=$((chunks + 1))
	for k in 1 2 3; do
		t0=$(date +%s%N)
		if ! timeout "$STATUS_WITHIN" "$PPX" status --config "$(fed_conf police.gwent)" >/dev/null; then
			slow_status=$((slow_status + 1))
		fi
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ "$ms" -gt "$worst_ms" ] && worst_ms=$ms
		status_n=$((status_n + 1))
		a=$(fed_anon police.gwent); [ "${a:-0}" -gt "$max_anon" ] && max_anon=$a
		# The heap once a quarter of the flood is in: after that it
		# must level off, whatever is still to come.
		[ -z "$anon_q" ] && [ "$(flood_stored)" -ge $((FLOOD / 4)) ] && anon_q=$max_anon
		sleep 0.1
	done
	n=$(received_from police.gwent probation.gwent | wc -l)
	flood_running && during=$n stored_during=$(flood_stored)
done
diag "sampled during the flood: police had stored ${stored_during:-?} of prison's $FLOOD and $during of probation's $((chunks * N / 10)) submitted so far"
diag "$status_n status requests during the flood, slowest $worst_ms ms, $slow_status over ${STATUS_WITHIN}s"
check "police answered every status request within ${STATUS_WITHIN}s" [ "$slow_status" -eq 0 ]
wait "$flooder"; rc=$?
diag "inject exit $rc"
diag "the flood took $(awk -v a="$t_flood" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s from the first stored message"
for c in $(seq -w $((chunks + 1)) 10); do	# the rest of probation's stream
	ppx_send probation.gwent "$FED/paced-$c.json" >/dev/null
done
check "every flooded message was answered with a verified receipt (inject exit 0)" [ "$rc" -eq 0 ]
diag "inject: $(tail -1 "$FED/flood.err" 2>/dev/null)"
check "probation's stream settles" wait_until 60 fed_settled probation.gwent police.gwent
diag "police's anonymous memory (heap, stacks): $anon0 KiB at start, ${anon_q:-?} KiB a quarter into the flood, at most $max_anon KiB sampled during it; resident peak with the log's mapped pages $(fed_hwm police.gwent) KiB"
# Bounded: ZeroMQ's receive high-water mark and batch_max cap what is held,
# so the heap levels off early instead of growing with the flood.
check "police's heap grew by less than $HEAP_KIB KiB over the last three quarters of the flood" \
	[ $(( max_anon - ${anon_q:-0} )) -lt "$HEAP_KIB" ]

# Police's log order is the order it stored things: a message of
# probation's stored before prison's last one was stored during the flood.
interleaved=$(ppx_log police.gwent | jq -s '[.[] | select(.kind == "ENTRY_RECEIVED")] |
	([.[] | select(.sender == "prison.cardiff") | .seq] | max) as $last |
	[.[] | select(.sender == "probation.gwent" and .seq < $last)] | length')
diag "probation's messages police stored before prison's last one: $interleaved"
check "probation's messages reached police during the flood" [ "${interleaved:-0}" -gt 0 ]
stored=$(flood_stored)
recv=$(received_from police.gwent prison.cardiff | sort)
diag "prison -> police (flood): sent $FLOOD, receipted $stored, received $(grep -c . <<<"$recv"), duplicated $(uniq -d <<<"$recv" | grep -c . || true)"
check "prison's flood: all $FLOOD stored once" [ "$(sort -u <<<"$recv" | grep -c .)" -eq "$FLOOD" ]
check "prison's flood: nothing duplicated" [ -z "$(uniq -d <<<"$recv")" ]
fed_tally probation.gwent police.gwent "probation -> police beside the flood"
check "police still answers" fed_alive police.gwent
fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
finish
