#!/usr/bin/env bash
# hooks.sh — the integration hooks with real daemons (docs/HOOKS.md):
# a durable hook given every received entry in order and exactly once
# (failing, hanging, and across a SIGKILL while it consumes 5,000
# entries), stuck hooks in `ppx status`, the event stream, and the spool
# directory (a good file sent once, a malformed one refused, half-written
# ones never touched).
#
# The hook is tests' own sink: a shell script that stores each entry as
# $SINK/sink/SEQ, created with O_EXCL (set -C), so a second delivery of
# the same entry is recorded in $SINK/dups instead of stored twice, and
# appends SEQ to $SINK/order for the order of first deliveries.  It fails
# while $SINK/fail holds a positive count, and hangs while $SINK/hang does.
#
# MODE=stream (hooks_mode_stream.sh) runs it all with `mode = stream`: the
# same sink, as one process given batches (docs/HOOKS.md, "Streaming
# hooks"), refusing an entry with `refuse SEQ` instead of exit 1 and
# hanging by never answering.
set -u
MODE=${MODE:-each}
. "$(dirname "$0")/lib.sh"
N=${N:-5000}
SUBSCRIBE=$TOP/$BUILD/tests/subscribe
fed_init

P=probation.gwent
SINK=$FED/sink
SPOOL=$FED/$P/spool
EVDIR=$FED/$P/events
mkdir -p "$SINK/sink"
mkdir -m 700 "$SPOOL" "$EVDIR"

cat >"$FED/sink.sh" <<'SH'
#!/bin/sh
# sink.sh DIR: store the entry JSON on stdin as DIR/sink/SEQ, once.  As a
# streaming hook (PPX_HOOK_MODE=stream): each entry line so, and one answer
# per batch.
dir=$1
one() {	# one LINE: 0 stored (or stored before), 1 refused
	seq=${1#*\"seq\":}
	seq=${seq%%,*}
	echo "$seq" >>"$dir/attempts"
	for what in fail hang; do
		n=0
		[ -f "$dir/$what" ] && read -r n <"$dir/$what"
		if [ "${n:-0}" -gt 0 ]; then
			echo $((n - 1)) >"$dir/$what"
			[ "$what" = hang ] && exec sleep 600
			echo "sink: refusing entry $seq on purpose" >&2
			return 1
		fi
	done
	if (set -C; printf '%s\n' "$1" >"$dir/sink/$seq") 2>>"$dir/errors"; then
		echo "$seq" >>"$dir/order"
	else
		echo "$seq" >>"$dir/dups"
	fi
}
if [ "${PPX_HOOK_MODE:-}" != stream ]; then
	IFS= read -r line || exit 3
	one "$line" || exit 1
	exit 0
fi
refused=
while IFS= read -r line; do
	case $line in
	"end "*)
		if [ -n "$refused" ]; then
			echo "refuse $refused sink: refusing entry $refused on purpose"
		else
			echo "ok ${line#end }"
		fi
		refused=
		continue ;;
	esac
	[ -n "$refused" ] || one "$line" || refused=$seq
done
SH
chmod 755 "$FED/sink.sh"

cat >>"$(fed_conf $P)" <<EOF
[events]
endpoint = ipc://$EVDIR/events.sock
[spool]
dir = $SPOOL
operator = sam.okafor
scan_ms = 100
[hook sink]
command = $FED/sink.sh "$SINK"
entry_kinds = ENTRY_RECEIVED
partners = police.*
timeout_ms = 2000
retry_initial_ms = 300
retry_max_ms = 1000
stuck_failures = 2
EOF
[ "$MODE" = stream ] && printf 'mode = stream\nbatch_max = 200\n' >>"$(fed_conf $P)"

lines() { if [ -f "$1" ]; then grep -c . "$1"; else echo 0; fi; }
stored() { [ "$(lines "$SINK/order")" -ge "$1" ]; }	# wait_until N stored K
attempts_of() { grep -cx "$1" "$SINK/attempts" 2>/dev/null || true; }
status() { "$PPX" status --config "$(fed_conf $P)" "$@" 2>&1; }
# The seqs of the entries the hook must get: everything probation received.
expected() { ppx_log $P | grep '"kind":"ENTRY_RECEIVED"' | grep -o '"seq":[0-9]*' | cut -d: -f2; }

# --- configuration ------------------------------------------------------
refused_conf() {	# refused_conf WHAT PATTERN SED-SCRIPT: ppxd -n refuses
	sed "$3" "$(fed_conf $P)" >"$FED/bad.conf"
	out=$("$PPXD" -n -c "$FED/bad.conf" 2>&1)
	local rc=$?
	diag "$out"
	if [ "$rc" -eq 1 ] && grep -q "bad.conf:[0-9]*:.*$2" <<<"$out"; then
		ok "ppxd -n refuses $1, naming file and line"
	else
		notok "ppxd -n refuses $1, naming file and line"
	fi
}
"$PPXD" -n -c "$(fed_conf $P)" >/dev/null 2>&1
check "ppxd -n accepts [events], [spool] and [hook NAME]" [ $? -eq 0 ]
refused_conf "an event stream on a public address" "tcp://0.0.0.0:7999: .*loopback" \
	"s|^endpoint = ipc://.*|endpoint = tcp://0.0.0.0:7999|"
refused_conf "a hook filter naming a kind that does not exist" \
	"ARRESTED: not a NotificationKind" "s|^partners = police.\*|kinds = ARRESTED|"
refused_conf "a hook partner that is not a partner" \
	"police.dyfed is not a configured \[partner\]" "s|^partners = police.\*|partners = police.dyfed|"
refused_conf "a hook whose program is not there" \
	"\[hook sink\] command: cannot run /nonexistent/sink.sh: No such file" \
	"s|^command = .*|command = /nonexistent/sink.sh|"
refused_conf "a spool operator that is not an [operator]" \
	"nobody.here: not a configured \[operator\]" "s|^operator = sam.okafor|operator = nobody.here|"

fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start $P || { notok "probation starts"; finish; exit 1; }

# --- the event stream ---------------------------------------------------
if [ -x "$SUBSCRIBE" ]; then
	"$SUBSCRIBE" "ipc://$EVDIR/events.sock" "ENTRY_RECEIVED/" 2 60 \
		>"$FED/events.out" 2>&1 &
	subscriber=$!
	sleep 0.5	# let the subscription reach the publisher
else
	subscriber=
fi

# --- a hook that fails three times, then stores the entry ---------------
echo 3 >"$SINK/fail"
body_json police.gwent $P ARREST "hook message 1" >"$FED/one.json"
ppx_send police.gwent "$FED/one.json" >/dev/null || notok "police sends"
check "ppx status reports the failing hook as STUCK" \
	wait_until 20 bash -c "'$PPX' status --config '$(fed_conf $P)' | grep -q '^hook sink .*STUCK.*refusing entry'"
diag "$(status | grep '^hook')"
check "status --json has the hook's failures" \
	bash -c "'$PPX' status --config '$(fed_conf $P)' --json | grep -q '\"hooks\":\[{\"name\":\"sink\"'"
check "the hook stores the entry once it succeeds" wait_until 20 stored 1
first=$(head -1 "$SINK/order")
check "... after three failed runs and one good one" [ "$(attempts_of "$first")" -eq 4 ]
check "... and only once" [ "$(lines "$SINK/dups")" -eq 0 ]
check "... and ppx status shows the hook ok again" \
	wait_until 5 bash -c "'$PPX' status --config '$(fed_conf $P)' | grep -q '^hook sink .*delivered 1 *ok$'"
check "the entry is the one probation received" \
	[ "$first" = "$(expected | head -1)" ]
e=$(cat "$SINK/sink/$first")
check "the hook's JSON starts with agency, seq, time, kind, family, peer" \
	grep -qE "^\{\"agency\":\"$P\",\"seq\":$first,\"time\":\"[0-9-]{10}T[0-9:]{8}\.[0-9]{3}Z\",\"kind\":\"ENTRY_RECEIVED\",\"family\":\"notification\",\"peer\":\"police.gwent\",\"message_id\":\"[0-9a-f]{32}\"" <<<"$e"
check "... has the subjects and the decoded body" \
	bash -c "grep -q '\"subjects\":\[\"pnc:2019/0123456X\",\"crn:X123456\"\]' <<<'$e' && grep -q '\"body\":{.*\"details\":\"hook message 1\"' <<<'$e'"
if command -v jq >/dev/null; then
	check "... and is valid JSON" bash -c "jq -e '.body.notification.kind == \"ARREST\"' <<<'$e' >/dev/null"
	# One entry JSON (lib/entry_json.c): ppx log --json prints the same
	# object, less the body, plus what it works out from the whole log.
	hook_view=$(jq -Sc 'del(.body)' <<<"$e")
	log_view=$("$PPX" log --config "$(fed_conf $P)" --json |
		jq -Sc --argjson s "$first" 'select(.seq == $s) | del(.state, .ack, .deliveries)')
	diag "hook: $hook_view"
	check "ppx log --json gives that entry with the same keys and values as the hook" \
		[ -n "$log_view" -a "$hook_view" = "$log_view" ]
	check "... which include the message's summary and direction" \
		jq -e '.direction == "in" and .recipients == ["'"$P"'"] and .sender == "police.gwent" and (.time_ms | type) == "number"' <<<"$e"
fi

# --- a hook that hangs is killed after timeout_ms and run again ---------
echo 1 >"$SINK/hang"
body_json police.gwent $P ARREST "hook message 2" >"$FED/two.json"
ppx_send police.gwent "$FED/two.json" >/dev/null || notok "police sends"
check "a hanging hook is killed after its timeout and the entry stored" \
	wait_until 30 stored 2
second=$(tail -1 "$SINK/order")
check "... after two runs" [ "$(attempts_of "$second")" -eq 2 ]
if [ "$MODE" = stream ]; then
	check "... the daemon said it had no answer in time" \
		grep -q "hook sink: no answer after 2000 ms; killing pid" "$FED/$P/ppxd.out"
else
	check "... the daemon said it timed out" \
		grep -q "hook sink: entry $second: no exit after 2000 ms" "$FED/$P/ppxd.out"
fi
check "entries reach the hook in log order" [ "$(cat "$SINK/order")" = "$(expected)" ]

if [ -n "$subscriber" ]; then
	wait "$subscriber"
	check "an event-stream subscriber got both received entries" [ $? -eq 0 ]
	check "... with topic ENTRY_RECEIVED/notification and the entry JSON" \
		[ "$(grep -c "^ENTRY_RECEIVED/notification	{\"agency\":\"$P\",\"seq\":[0-9]*,.*\"kind\":\"ENTRY_RECEIVED\"" "$FED/events.out")" -eq 2 ]
else
	diag "no $SUBSCRIBE (make $BUILD/tests/subscribe): event stream not tested"
fi

# --- an entry larger than a pipe's buffer --------------------------------
big=$(head -c 300000 /dev/zero | tr '\0' x)
body_json police.gwent $P ARREST "big $big end-of-big" >"$FED/big.json"
ppx_send police.gwent "$FED/big.json" >/dev/null || notok "police sends"
check "an entry larger than a pipe's buffer reaches the hook" \
	wait_until 20 stored 3
check "... whole" grep -q "x end-of-big" "$SINK/sink/$(tail -1 "$SINK/order")"

# --- the spool ----------------------------------------------------------
sent_before=$(log_count $P ENTRY_SENT)
body_json $P police.gwent ARREST "from the spool" >"$SPOOL/.arrest-1.json.tmp"
printf '{"recipients": ["police.gwent"], "notification": {' >"$SPOOL/half.json.tmp"
mv "$SPOOL/.arrest-1.json.tmp" "$SPOOL/arrest-1.json"
check "a spool file is sent and moved to done/" wait_until 10 test -f "$SPOOL/done/arrest-1.json"
res=$(cat "$SPOOL/done/arrest-1.json.result" 2>/dev/null)
diag "$res"
id=$(grep -o '"message_id":"[0-9a-f]\{32\}"' <<<"$res" | cut -d'"' -f4)
check "... with its message id and log position beside it" \
	grep -qE '^\{"file":"arrest-1.json","time":"[^"]*","message_id":"[0-9a-f]{32}","log_seq":[0-9]+\}$' <<<"$res"
check "... sent once" [ "$(ppx_log $P | grep '"kind":"ENTRY_SENT"' | grep -c "$id")" -eq 1 ]
check "... and police received it once" \
	wait_until 10 bash -c "'$PPX' log --log '$FED/police.gwent/log' --json | grep '\"kind\":\"ENTRY_RECEIVED\"' | grep -q '$id'"
check "... once" [ "$(ppx_log police.gwent | grep '"kind":"ENTRY_RECEIVED"' | grep -c "$id")" -eq 1 ]
check "... from the spool's operator" \
	bash -c "'$PPX' log --log '$FED/police.gwent/log' --json | grep '$id' | grep ENTRY_RECEIVED | grep -q '\"person\":\"sam.okafor\"'"
# The same file again (as after a crash between the commit and the move):
# the same derived id, found in the log, so moved and not sent again.
cp "$SPOOL/done/arrest-1.json" "$SPOOL/.again.tmp"
rm "$SPOOL/done/arrest-1.json" "$SPOOL/done/arrest-1.json.result"
mv "$SPOOL/.again.tmp" "$SPOOL/arrest-1.json"
check "the same file seen again is moved to done/ again" wait_until 10 test -f "$SPOOL/done/arrest-1.json"
check "... with the same message id" grep -q "$id" "$SPOOL/done/arrest-1.json.result"
check "... and not sent again" [ "$(ppx_log $P | grep -c '"kind":"ENTRY_SENT"')" -eq $((sent_before + 1)) ]

printf '{"recipients": ["police.gwent"], "notification": {"kind": ' >"$SPOOL/.bad.tmp"
mv "$SPOOL/.bad.tmp" "$SPOOL/bad.json"
body_json $P housing.newport ARREST "not a partner" >"$SPOOL/.x.tmp"
mv "$SPOOL/.x.tmp" "$SPOOL/stranger.json"
check "a malformed spool file is moved to failed/" wait_until 10 test -f "$SPOOL/failed/bad.json"
diag "$(cat "$SPOOL/failed/bad.json.error" 2>/dev/null)"
check "... with a clear reason beside it" \
	grep -q '"error":"not one ppx.v1.Body in canonical JSON' "$SPOOL/failed/bad.json.error"
check "a message the daemon refuses is moved to failed/ with why" \
	wait_until 10 grep -q "housing.newport is not a configured partner" "$SPOOL/failed/stranger.json.error"
check "... nothing more was sent" [ "$(log_count $P ENTRY_SENT)" -eq $((sent_before + 1)) ]
check "... and the daemon is unharmed" bash -c "kill -0 $(fed_pid $P) && '$PPX' status --config '$(fed_conf $P)' >/dev/null"
check "a file not yet renamed into place is left alone" \
	bash -c "[ -f '$SPOOL/half.json.tmp' ] && [ ! -e '$SPOOL/failed/half.json.tmp' ]"

# --- SIGKILL while the hook consumes N entries ---------------------------
fed_burst police.gwent $P "$N" "burst" >"$FED/burst.json"
ppx_send police.gwent "$FED/burst.json" >/dev/null || notok "police sends the burst"
start=$(date +%s)
wait_until 120 stored $((3 + N / 5))
fed_kill $P
diag "killed probation with $(lines "$SINK/order") entries in the sink"
# let an orphaned run of the hook finish (a streaming one, its batch)
if [ "$MODE" = stream ]; then sleep 3; else sleep 0.5; fi
fed_start $P || notok "probation restarts"
check "after the restart the hook catches up with all $N entries" \
	wait_until 300 stored $((N + 3))
diag "$(lines "$SINK/order") entries stored in $(( $(date +%s) - start )) s, $(lines "$SINK/dups") delivered twice"
exp=$(expected)
check "the sink holds every received entry" [ "$(lines "$SINK/order")" -eq "$(grep -c . <<<"$exp")" ]
check "... each exactly once, in log order, without gaps" [ "$(cat "$SINK/order")" = "$exp" ]
if [ "$MODE" = stream ]; then
	check "... and only the batch in flight at the kill was given twice" [ "$(lines "$SINK/dups")" -le 200 ]
else
	check "... and only the entry in flight at the kill was given twice" [ "$(lines "$SINK/dups")" -le 1 ]
fi

# A clean restart gives nothing again.
before=$(lines "$SINK/attempts")
fed_stop $P
fed_start $P || notok "probation restarts"
sleep 1
check "after a clean restart no entry is given again" [ "$(lines "$SINK/attempts")" -eq "$before" ]
check "ppx status: the hook is at the end of the log" \
	bash -c "'$PPX' status --config '$(fed_conf $P)' | grep -q '^hook sink .*behind 0 .*ok$'"

fed_stop police.gwent
fed_stop $P
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify $P
finish
