#!/usr/bin/env bash
# hooks_stream_hostile.sh — a streaming hook (docs/HOOKS.md, "Streaming
# hooks") that misbehaves, with real daemons: it answers garbage, names the
# wrong seq, writes a line too long, floods its stdout without a newline,
# exits mid-batch, never answers, answers twice, floods its stderr.  Each
# time the daemon kills it (its process group), logs why, counts a failure
# and gives the batch again to a new process: the daemon keeps running,
# and every entry reaches the sink, in order, none lost.
#
# Then a poison entry among twenty in one batch (a hook added after they
# arrived, so that it catches up in one batch): the sink refuses it with
# `refuse SEQ`; the entries before it are stored with that answer, the
# poison one alone is set aside (quarantine_after = 1), and the rest follow.
set -u
. "$(dirname "$0")/lib.sh"
fed_init
P=probation.gwent

cat >"$FED/evil.sh" <<'SH'
#!/bin/sh
# evil.sh DIR: store each entry line as DIR/sink/SEQ (once: a second time
# is noted in DIR/dups); answer each batch as the next line of DIR/script
# says (then ok); with DIR/poison, refuse the entry holding POISON.
dir=$1
refused= n=0
while IFS= read -r line; do
	case $line in
	"end "*)
		last=${line#end }
		echo "$n" >>"$dir/batches"
		n=0
		if [ -n "$refused" ]; then
			echo "refuse $refused cannot map this entry (poison)"
			refused=
			continue
		fi
		how=ok
		if [ -s "$dir/script" ]; then
			how=$(head -1 "$dir/script")
			sed -i 1d "$dir/script"
		fi
		echo "$how" >>"$dir/did"
		case $how in
		garbage) echo "yes, stored" ;;
		wrongseq) echo "ok $((last + 1))" ;;
		long) head -c 5000 /dev/zero | tr '\0' x; echo ;;
		flood) head -c 50000000 /dev/zero | tr '\0' x ;;
		exit) exit 0 ;;
		silent) sleep 600 ;;
		twice) echo "ok $last"; echo "ok $last" ;;
		errflood) head -c 20000000 /dev/zero | tr '\0' e >&2; echo "ok $last" ;;
		*) echo "ok $last" ;;
		esac
		continue ;;
	esac
	n=$((n + 1))
	[ -n "$refused" ] && continue
	seq=${line#*\"seq\":}
	seq=${seq%%,*}
	case $line in *POISON*) if [ -e "$dir/poison" ]; then refused=$seq; continue; fi ;; esac
	if (set -C; printf '%s\n' "$line" >"$dir/sink/$seq") 2>/dev/null; then
		echo "$seq" >>"$dir/order"
	else
		echo "$seq" >>"$dir/dups"
	fi
done
SH
chmod 755 "$FED/evil.sh"
mkdir -p "$FED/evil/sink" "$FED/p/sink"
touch "$FED/p/poison"
MISDEEDS="garbage wrongseq long flood exit silent twice errflood"
printf '%s\n' $MISDEEDS >"$FED/evil/script"

# add_hook NAME COMMAND QUARANTINE_AFTER [LINE...]: a streaming hook of
# probation's on the entries it received, retried after 100 to 200 ms.
add_hook() {
	local name=$1 command=$2 after=$3
	shift 3
	{
		printf '[hook %s]\ncommand = %s\nmode = stream\n' "$name" "$command"
		printf 'entry_kinds = ENTRY_RECEIVED\n'
		[ $# -eq 0 ] || printf '%s\n' "$@"
		printf 'retry_initial_ms = 100\nretry_max_ms = 200\n'
		printf 'quarantine_after = %s\n' "$after"
	} >>"$(fed_conf $P)"
}
add_hook evil "$FED/evil.sh \"$FED/evil\"" 1000 "timeout_ms = 1000" \
	"stuck_failures = 1000"

lines() { if [ -f "$1" ]; then grep -c . "$1"; else echo 0; fi; }
stored() { [ "$(lines "$FED/$1/order")" -ge "$2" ]; }	# stored HOOK N
received() { ppx_log $P | jq -r 'select(.kind == "ENTRY_RECEIVED") | .seq'; }
status() { "$PPX" status --config "$(fed_conf $P)" 2>&1; }
said() { grep -q "hook evil: $1" "$FED/$P/ppxd.out"; }

fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start $P || { notok "probation starts"; finish; exit 1; }

fed_burst police.gwent $P 20 "pmsg {}" | sed 's/"pmsg 07"/"POISON pmsg 07"/' >"$FED/burst.json"
ppx_send police.gwent "$FED/burst.json" >/dev/null || notok "police sends"
check "probation received the twenty messages" \
	wait_until 60 bash -c "[ \$('$PPX' log --log '$(fed_log_dir $P)' --json | grep -c ENTRY_RECEIVED) -ge 20 ]"
# The first batch stores every entry before its garbage answer: done is
# when every misdeed was tried and the hook is at the end of the log, ok.
evil_done() {
	[ "$(lines "$FED/evil/did")" -ge 8 ] &&
	status | grep -q '^hook evil .*behind 0 .*ok$'
}
check "evil: the hook gets to the end of the log, ok, in the end" wait_until 120 evil_done
check "evil: every entry reached the sink" stored evil 20
diag "evil did: $(tr '\n' ' ' <"$FED/evil/did")"
check "evil: ... after every misdeed was tried" \
	[ "$(head -8 "$FED/evil/did" | tr '\n' ' ')" = "$MISDEEDS " ]
check "evil: ... each entry once, in log order" \
	[ "$(cat "$FED/evil/order")" = "$(received)" ]
check "evil: garbage and a wrong seq: killed, saying what it answered" \
	bash -c "grep -q 'hook evil: bad answer to entries [0-9]*\.\.[0-9]*: \"yes, stored\"; killing pid' '$FED/$P/ppxd.out' &&
		grep -q 'hook evil: bad answer to entries [0-9]*\.\.[0-9]*: \"ok [0-9]*\"; killing pid' '$FED/$P/ppxd.out'"
check "evil: a line too long, and a flood without newline: killed" \
	[ "$(grep -c 'hook evil: answer line longer than 1024 bytes; killing pid' "$FED/$P/ppxd.out")" -ge 2 ]
check "evil: an exit mid-batch is a failure" said "entry [0-9]* not stored (ended before answering (exit status 0))"
check "evil: silence past timeout_ms: killed" said "no answer after 1000 ms; killing pid"
# The second "ok" comes with no batch in flight, or (when the next batch
# is already written) as a wrong answer to it: killed either way.
check "evil: a second answer to one batch: killed" \
	grep -Eq "hook evil: (answered with no batch in flight|bad answer to entries [0-9]+\.\.[0-9]+): \"ok [0-9]+\"; killing pid" "$FED/$P/ppxd.out"
check "evil: each failure counted and retried as in mode = each" \
	[ "$(grep -c 'hook evil: entry [0-9]* not stored' "$FED/$P/ppxd.out")" -ge 6 ]
check "evil: nothing was set aside" \
	[ "$(ppx_log $P | jq -r 'select(.kind == "ENTRY_HOOK_QUARANTINE") | .seq' | wc -l)" -eq 0 ]
check "the daemon kept running and answers" fed_alive $P
diag "$(status | grep '^hook')"

# --- a poison entry in a batch -------------------------------------------
fed_stop $P
add_hook p "$FED/evil.sh \"$FED/p\"" 1
fed_start $P || notok "probation restarts"
poison=$(received | sed -n 7p)	# "POISON pmsg 07": per-partner order
check "p: the other nineteen entries are stored" wait_until 60 stored p 19
check "p: its first batch held all twenty" [ "$(head -1 "$FED/p/batches")" = 20 ]
check "p: every entry but the poison one, once, in log order" \
	[ "$(cat "$FED/p/order")" = "$(received | grep -vx "$poison")" ]
check "p: none given twice" [ ! -s "$FED/p/dups" ]
q=$(ppx_log $P | jq -c 'select(.kind == "ENTRY_HOOK_QUARANTINE" and .family == "p")')
diag "$q"
check "p: the poison entry alone is set aside (ENTRY_HOOK_QUARANTINE)" \
	[ "$(jq -r .related_seq <<<"$q")" = "$poison" ]
check "p: ... with the sink's reason" grep -q 'refused: cannot map this entry (poison)' <<<"$q"
check "p: ppx status lists it QUARANTINED" \
	bash -c "'$PPX' status --config '$(fed_conf $P)' | grep -q '^hook p .*QUARANTINED entry $poison '"

# --- an answer before the whole batch was read ---------------------------
# A hook added when 120 entries wait (more than a pipe holds) refuses the
# first entry of its first batch at once, unread input behind it.  The
# daemon must not keep the process: the rest of that batch, cut mid-line,
# would be spliced onto the next.  It is killed; every line a sink gets is
# whole, and every entry is stored in the end.
cat >"$FED/early.sh" <<'SH'
#!/bin/sh
# early.sh DIR: refuse the first entry as soon as it is read, then store
# every line (DIR/lines) and answer ok.
dir=$1
while IFS= read -r line; do
	case $line in "end "*) echo "ok ${line#end }"; continue ;; esac
	printf '%s\n' "$line" >>"$dir/lines"
	seq=${line#*\"seq\":}
	seq=${seq%%,*}
	if [ ! -e "$dir/refused" ]; then
		echo "$seq" >"$dir/refused"
		echo "refuse $seq not now"
		continue
	fi
	echo "$seq" >>"$dir/order"
done
SH
chmod 755 "$FED/early.sh"
mkdir -p "$FED/early"
pad=$(head -c 600 /dev/zero | tr '\0' p)
fed_burst police.gwent $P 100 "early {} $pad" >"$FED/burst2.json"
ppx_send police.gwent "$FED/burst2.json" >/dev/null || notok "police sends a hundred more"
check "probation received the hundred more" \
	wait_until 60 bash -c "[ \$('$PPX' log --log '$(fed_log_dir $P)' --json | grep -c ENTRY_RECEIVED) -ge 120 ]"
fed_stop $P
add_hook early "$FED/early.sh \"$FED/early\"" 1000
fed_start $P || notok "probation restarts"
early_done() { [ "$(sort -un "$FED/early/order" 2>/dev/null | wc -l)" -ge 120 ]; }
check "early: every entry is stored in the end" wait_until 60 early_done
check "early: its first batch was more than a pipe holds" \
	[ "$(head -c 70000 "$FED/early/lines" 2>/dev/null | wc -c)" -ge 70000 ]
check "early: killed for answering before it was given the whole batch" \
	grep -q "hook early: answered before it was given the whole batch; killing pid" "$FED/$P/ppxd.out"
check "early: every line it got is a whole entry (none spliced)" \
	jq -e . "$FED/early/lines" >/dev/null
check "early: no bad answer counted against another entry" \
	bash -c "! grep -q 'hook early: bad answer' '$FED/$P/ppxd.out'"

# --- a process that ends after every answer -------------------------------
# The daemon writes the next batch the moment an ok comes; a process that
# answers ok and exits (between batches, as it sees it) may never read it.
# That is no failure of those entries: they go to a new process.  With
# quarantine_after = 1 a failure counted would set one aside unread.
cat >"$FED/once.sh" <<'SH'
#!/bin/sh
# once.sh DIR: store one batch (DIR/order), answer ok, exit 0.
dir=$1
while IFS= read -r line; do
	case $line in "end "*) echo "ok ${line#end }"; exit 0 ;; esac
	seq=${line#*\"seq\":}
	echo "${seq%%,*}" >>"$dir/order"
done
SH
chmod 755 "$FED/once.sh"
mkdir -p "$FED/once"
fed_stop $P
add_hook once "$FED/once.sh \"$FED/once\"" 1 "batch_max = 3"
fed_start $P || notok "probation restarts"
all=$(received | wc -l)
once_done() { [ "$(sort -un "$FED/once/order" 2>/dev/null | wc -l)" -ge "$all" ]; }
check "once: every one of the $all entries is stored" wait_until 120 once_done
check "once: ... in log order" \
	[ "$(awk '!seen[$0]++' "$FED/once/order")" = "$(received)" ]
check "once: no failure counted" \
	bash -c "! grep -q 'hook once: entry [0-9]* not stored' '$FED/$P/ppxd.out'"
check "once: nothing set aside" \
	[ -z "$(ppx_log $P | jq -c 'select(.kind == "ENTRY_HOOK_QUARANTINE" and .family == "once")')" ]
diag "once: $(grep -c 'hook once: pid [0-9]* ended after its last answer' "$FED/$P/ppxd.out") batches went to a new process"

fed_stop police.gwent
fed_stop $P
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify $P
finish
