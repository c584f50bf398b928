# lib.sh — shared by the scenario tests: a three-agency federation
# (police.gwent, probation.gwent, prison.cardiff) of real ppxd processes on
# loopback, with the demo PKI, real sockets and real certificates.
#
# Source it from a test, then: fed_init; fed_start police.gwent; ...
# TAP: ok "description" / notok "description" / check COND "description";
# finish prints the plan and returns non-zero if anything failed.
# Not itself a test (tests/run-tests runs *.sh in this directory; this is
# lib.sh and guards against being run).

BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKI=${PPX_TEST_PKI:-$TOP/$BUILD/pki}
PPXD=$TOP/$BUILD/ppxd
PPX=$TOP/$BUILD/ppx
AGENCIES="police.gwent probation.gwent prison.cardiff"
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
notok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
check() {	# check "description" command...
	local what=$1; shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}
fails() { ! "$@"; }	# check "..." fails COMMAND...: it must fail
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
finish() {
	fed_stop_all
	# Under SAN=1 or a valgrind PPXD_WRAP the daemons report to their
	# output; any report fails.  valgrind -q prints no leak summary, only
	# "N bytes in M blocks are definitely lost"; with --error-markers (as
	# tests/run-tests gives) every kind of error is caught by its marker.
	local report='ERROR: (Address|Leak)Sanitizer|runtime error:|^==[0-9]+== (VALGRIND-ERROR-BEGIN|Invalid|Conditional|Use of|.* are (definitely|indirectly) lost|.*definitely lost: [1-9])'
	if grep -lE "$report" "$FED"/*/ppxd.out >/dev/null 2>&1; then
		notok "the daemons ran without sanitizer reports"
		grep -hE -A12 "$report" "$FED"/*/ppxd.out | head -40 |
			sed 's/^/# /'
	fi
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ] && [ "${KEEP:-0}" = 0 ] && rm -rf "$FED"
	[ "$tap_failed" -eq 0 ]
}

# A port block unlikely to collide with a parallel run.
fed_port() {
	local i
	case $1 in
	police.gwent) i=0 ;; probation.gwent) i=1 ;; prison.cardiff) i=2 ;;
	*) i=3 ;;
	esac
	echo $((FED_PORT + i))
}

# Write one agency's configuration.  $2: extra text for [delivery].
fed_config() {
	local a=$1 dir=$FED/$1 p
	mkdir -p "$dir"
	{
		echo "[agency]"
		echo "name = $a"
		echo "area = gwent"
		echo "listen = tcp://127.0.0.1:$(fed_port "$a")"
		echo "log_dir = $dir/log"
		echo "control = $dir/run"
		echo "policy = ${FED_POLICY:-$FED/policy.conf}"
		echo "[pki]"
		echo "ca = $PKI/ca/ca.crt"
		echo "crl = $FED/crl.pem"
		echo "certs = $PKI/certs"
		echo "signing_key = $PKI/agencies/$a/signing.key"
		echo "signing_cert = $PKI/agencies/$a/signing.crt"
		echo "transport_key = $PKI/agencies/$a/transport.key"
		echo "transport_cert = $PKI/agencies/$a/transport.crt"
		echo "[delivery]"
		echo "retry_initial_ms = 100"
		echo "retry_max_ms = 2000"
		echo "heartbeat_ms = 500"
		echo "heartbeat_timeout_ms = 3000"
		echo "${2:-}"
		for p in $AGENCIES; do
			[ "$p" = "$a" ] && continue
			echo "[partner $p]"
			echo "endpoint = tcp://127.0.0.1:$(fed_port "$p")"
		done
		fed_operator "$a"
		echo "uid = $(id -u)"
	} >"$dir/ppxd.conf"
}

# The named person the test user is at each agency.
fed_operator() {
	case $1 in
	police.gwent) printf '[operator dana.evans]\nname = Dana Evans\nrole = police offender manager\ngrade = DS\n' ;;
	probation.gwent) printf '[operator sam.okafor]\nname = Sam Okafor\nrole = offender manager\ngrade = PO\n' ;;
	*) printf '[operator priya.shah]\nname = Priya Shah\nrole = offender management unit\ngrade = SO\n' ;;
	esac
}

fed_policy() {
	cat >"$FED/policy.conf" <<'POL'
[rule responsible-authorities]
from = police.*, probation.*
to = police.*, probation.*, prison.*
kinds = *
max_marking = OFFICIAL-SENSITIVE

[rule prison]
from = prison.*
to = police.*, probation.*
kinds = notification:RELEASE_DATE, notification:PRISON_*,
    notification:SECURITY_INTELLIGENCE, acknowledgement, action_update
POL
}

fed_init() {
	FED=${FED_DIR:-$(mktemp -d /tmp/ppx-fed-XXXXXX)}
	mkdir -p "$FED"
	FED_PORT=${FED_PORT:-$((20000 + (RANDOM % 2000) * 4))}
	cp "$PKI/ca/crl.pem" "$FED/crl.pem"
	fed_policy
	local a
	for a in $AGENCIES; do fed_config "$a"; done
}

fed_conf() { echo "$FED/$1/ppxd.conf"; }

fed_start() {	# fed_start AGENCY: start ppxd in the background
	local a=$1
	faketime_sweep	# PPXD_WRAP may preload libfaketime (skew.sh)
	# PPXD_WRAP runs the daemon under a tool, e.g. "valgrind -q --leak-check=full"
	${PPXD_WRAP:-} "$PPXD" -f -c "$(fed_conf "$a")" >>"$FED/$a/ppxd.out" 2>&1 &
	echo $! >"$FED/$a/pid"
	fed_wait_up "$a"
}

fed_pid() { cat "$FED/$1/pid" 2>/dev/null; }

# The signer process of an agency's ppxd (daemon/signer.c): the one child
# of the daemon's process that stays (hooks come and go).
fed_signer_pid() {
	local pid
	pid=$(fed_pid "$1") || return 1
	cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -1
}

# Wait until the daemon answers on its control socket.
fed_wait_up() {
	local i n=100
	# 10 s, and a minute under valgrind (a start after a kill checks the
	# log from its last seal)
	[ -n "${VALGRIND:-}" ] && n=600
	for i in $(seq 1 "$n"); do
		"$PPX" status --config "$(fed_conf "$1")" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	diag "$1 did not come up:"; tail -5 "$FED/$1/ppxd.out" | sed 's/^/# /'
	return 1
}

fed_stop() {	# SIGTERM and wait
	local pid
	pid=$(fed_pid "$1") || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$FED/$1/pid"
}

fed_kill() {	# SIGKILL and wait
	local pid
	pid=$(fed_pid "$1") || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$FED/$1/pid"
}

fed_stop_all() {
	local a
	for a in $AGENCIES; do fed_stop "$a"; done
}

# A notification body in canonical JSON: $1 from, $2 to, $3 kind, $4 details
body_json() {
	printf '{"recipients":["%s"],"marking":"OFFICIAL_SENSITIVE","priority":"URGENT","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"},"subject":{"pncId":"2019/0123456X","crn":"X123456","name":"John Smith"},"notification":{"kind":"%s","effectiveDate":"2026-11-21","details":"%s"}}\n' "$2" "$3" "$4"
}

# N arrest notifications FROM -> TO, one per line, as `ppx send --json`
# reads them; each one's details are TEXT with {} replaced by the message's
# number (zero-padded to N's width), or TEXT and the number.
fed_burst() {	# fed_burst FROM TO N TEXT
	local i text
	for i in $(seq -w 1 "$3"); do
		text=${4//\{\}/$i}
		[ "$text" = "$4" ] && text="$4 $i"
		body_json "$1" "$2" ARREST "$text"
	done
}

ppx_send() {	# ppx_send AGENCY FILE [args]
	local a=$1 f=$2; shift 2
	"$PPX" send --config "$(fed_conf "$a")" --json "$f" "$@"
}

fed_log_dir() { sed -n 's/^log_dir = //p' "$(fed_conf "$1")"; }
ppx_log() { "$PPX" log --log "$(fed_log_dir "$1")" --json; }

# Entries of a kind in an agency's log (daemon may be running: read-only).
log_count() {	# log_count AGENCY KIND
	ppx_log "$1" | grep -c "\"kind\":\"$2\"" || true
}

# Message ids answered by the signed receipts AGENCY logged (one receipt
# may answer a burst of messages).
receipted_ids() {	# receipted_ids AGENCY
	ppx_log "$1" | grep '"kind":"ENTRY_RECEIPT_RECEIVED"' |
		grep -o '"related_ids":\[[^]]*\]' | grep -o '[0-9a-f]\{32\}'
}
receipted_count() { receipted_ids "$1" | sort -u | wc -l; }

# Message ids FROM logged as sent to TO; TO's received copies from FROM.
sent_to() { ppx_log "$1" | jq -r --arg to "$2" 'select(.kind == "ENTRY_SENT" and (.recipients | index($to)) != null) | .message_id'; }
received_from() { ppx_log "$1" | jq -r --arg from "$2" 'select(.kind == "ENTRY_RECEIVED" and .sender == $from) | .message_id'; }

# What one direction did, printed and checked: messages sent, received,
# lost (sent, never received) and duplicated (received twice) — the last
# two must be 0.  Run it once FROM's outbox for TO is empty (fed_settled).
logs_readable() { ppx_log "$1" >/dev/null && ppx_log "$2" >/dev/null; }
fed_tally() {	# fed_tally FROM TO LABEL
	local sent recv lost dup
	check "$3: both logs can be read" logs_readable "$1" "$2"
	sent=$(sent_to "$1" "$2" | sort)
	recv=$(received_from "$2" "$1" | sort)
	dup=$(uniq -d <<<"$recv" | grep -c . || true)
	lost=$(comm -23 <(echo "$sent") <(uniq <<<"$recv") | grep -c . || true)
	diag "$3: sent $(grep -c . <<<"$sent"), received $(grep -c . <<<"$recv"), lost $lost, duplicated $dup"
	check "$3: something was sent" [ -n "$sent" ]
	check "$3: nothing lost" [ "$lost" -eq 0 ]
	check "$3: nothing duplicated" [ "$dup" -eq 0 ]
	TALLY_SENT=$(grep -c . <<<"$sent")
}

# Every message FROM sent to TO has a signed receipt logged at FROM.
fed_all_receipted() {	# fed_all_receipted FROM TO
	[ -z "$(comm -23 <(sent_to "$1" "$2" | sort) <(receipted_ids "$1" | sort -u))" ]
}

# FROM's outbox for TO is empty and every message it sent TO has its
# receipt in FROM's log.  The outbox empties when a receipt is taken, the
# receipt's entry is written at the end of that loop turn: a check that
# reads the log after a wait must wait for this, not for fed_settled.
fed_delivered() {	# fed_delivered FROM TO
	fed_settled "$1" "$2" && fed_all_receipted "$1" "$2"
}

# FROM is connected to TO and its outbox for TO is empty.
fed_settled() {	# fed_settled FROM TO
	"$PPX" status --config "$(fed_conf "$1")" --json 2>/dev/null |
		jq -e --arg to "$2" '.partners[] | select(.agency == $to) |
			.connected == true and ((.outboxDepth // "0") | tonumber) == 0' >/dev/null
}

# How many messages FROM holds for TO, unreceipted; empty if FROM does not
# answer.
fed_depth() {	# fed_depth FROM TO
	"$PPX" status --config "$(fed_conf "$1")" --json 2>/dev/null |
		jq -r --arg to "$2" '.partners[] | select(.agency == $to) | .outboxDepth // "0"'
}

# Resident and peak memory of a running daemon, in KiB.
fed_rss() { awk '/^VmRSS/ { print $2 }' "/proc/$(fed_pid "$1")/status" 2>/dev/null; }
fed_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$(fed_pid "$1")/status" 2>/dev/null; }
# Anonymous memory only: the heap and stacks, not the log's mapped pages.
fed_anon() { awk '/^RssAnon/ { print $2 }' "/proc/$(fed_pid "$1")/status" 2>/dev/null; }

# The daemon still runs and answers on its control socket: a status
# request (5 s client timeout) answered within 12 tries, the process alive
# throughout (a busy daemon under valgrind may miss one).
fed_alive() {	# fed_alive AGENCY
	local try
	for try in 1 2 3 4 5 6 7 8 9 10 11 12; do
		kill -0 "$(fed_pid "$1")" 2>/dev/null || return 1
		"$PPX" status --config "$(fed_conf "$1")" >/dev/null 2>&1 && return 0
	done
	return 1
}

# Change one byte (the fourth) of every copy of TEXT in FILE, a stopped
# daemon's data.mdb: damage where a test wants it.  Prints how many.
flip_text() {	# flip_text FILE TEXT
	perl -e '
		my ($path, $text) = @ARGV;
		open(my $f, "+<:raw", $path) or die "$path: $!";
		local $/; my $all = <$f>; my $n = 0; my $at = 0;
		while (($at = index($all, $text, $at)) >= 0) {
			seek($f, $at + 3, 0); print $f chr(ord(substr($all, $at + 3, 1)) ^ 1);
			$at += length($text); $n++;
		}
		close($f); print "$n\n";' "$1" "$2"
}

log_verify() { "$PPX" verify --log "$(fed_log_dir "$1")" --pki "$PKI" >/dev/null; }

# libfaketime, preloaded, makes a shared memory object and a semaphore
# named by its pid (/dev/shm/faketime_shm_PID, sem.faketime_sem_PID) with
# O_EXCL, and fails when a process of that pid killed earlier left its
# own: pids wrap within one run of the suite.  faketime_sweep removes
# those whose process is gone; every start of a program on a moved clock
# (fed_start, at_clock, the scenarios' own wrappers) runs it first.
faketime_sweep() {
	local f pid
	for f in /dev/shm/faketime_shm_* /dev/shm/sem.faketime_sem_*; do
		[ -e "$f" ] || continue
		pid=${f##*_}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] || rm -f "$f"
	done
}

# at_clock SPEC COMMAND...: COMMAND (and what it runs) on a clock libfaketime
# moves (SPEC as FAKETIME takes it: "+10d", "@2026-01-01 00:00:00"),
# preloaded directly rather than through the faketime wrapper (whose own
# named semaphore can collide too); under SAN=1 the preloaded library must
# be let come before AddressSanitizer's.
at_clock() {
	local lib
	faketime_sweep
	lib=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -1)
	[ -n "$lib" ] || { echo "libfaketime is not installed (scripts/install-deps)" >&2; return 1; }
	env LD_PRELOAD="$lib" FAKETIME="$1" \
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "${@:2}"
}

# Wait until COMMAND succeeds, up to $1 seconds.
wait_until() {
	local secs=$1 i; shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "lib.sh is sourced by the scenario tests, not run" >&2
	exit 1
fi

# The independent checker (tests/tools/pyppx, written from the documents):
# pycheck MODULE ARGS... runs `python3 -m pyppx.MODULE` with Debian's python3
# and the protobuf classes make wrote into $BUILD/py.
pycheck() {
	local m=$1; shift
	PYTHONPATH="$TOP/tests/tools:$TOP/$BUILD/py" /usr/bin/python3 -m "pyppx.$m" "$@"
}
