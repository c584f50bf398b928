#!/usr/bin/env bash
# systemd.sh — ppxd under systemd, with systemd's own interfaces and no
# systemd running: a real NOTIFY_SOCKET (a python3 listener on an AF_UNIX
# datagram socket, as systemd's), the real libsystemd in the daemon, and a
# private systemd-journald.
#
#   (a) READY=1 comes only after the log check: when it arrives, the
#       daemon's "entries checked" line is already written; on a damaged
#       log no READY=1, a STATUS= that says why, exit 1;
#   (b) with WATCHDOG_USEC and WATCHDOG_PID (the daemon's own pid, as
#       systemd sets them) the loop pings WATCHDOG=1 again and again;
#   (c) SIGHUP: RELOADING=1 with MONOTONIC_USEC=, then READY=1;
#   (d) one writer: a second ppxd on the same log_dir (its own ports and
#       control dir) exits 1 naming the first one's pid; the first goes on
#       (a message still goes through) and its log verifies;
#   (e) SIGTERM: STOPPING=1;
#   (f) the journal: as root, probation's ppxd (not -f, JOURNAL_STREAM
#       unset) in a mount namespace with its own systemd-journald; a frame
#       prison.cardiff may not send is refused, and `journalctl -o json`
#       shows the record with PPX_AGENCY, PPX_PARTNER, PPX_REASON and
#       PPX_MESSAGE_ID.  Skipped (said) without root, unshare or journald.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject

fed_init
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
NOTES=$FED/notify.txt
SOCK=$FED/notify.sock

# The listener: every datagram's lines appended to $NOTES; on READY=1 it
# also notes whether the daemon's output already holds the log check's
# line ("READY-AFTER-CHECK yes|no").
python3 - "$SOCK" "$NOTES" "$FED/police.gwent/ppxd.out" <<'PY' &
import os, socket, sys
path, notes, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(notes, "a") as f:
    f.write("LISTENING\n"); f.flush()
    while True:
        data = s.recv(65536).decode("utf-8", "replace")
        for line in data.split("\n"):
            if line:
                f.write(line + "\n")
            if line == "READY=1":
                try:
                    seen = "entries checked in" in open(out).read()
                except OSError:
                    seen = False
                f.write("READY-AFTER-CHECK %s\n" % ("yes" if seen else "no"))
        f.flush()
PY
LISTENER=$!
wait_until 10 test -S "$SOCK" || notok "the notify listener is up"

count() { grep -c "^$1\$" "$NOTES" 2>/dev/null || true; }

# police under "systemd": NOTIFY_SOCKET, WATCHDOG_USEC=1s, WATCHDOG_PID
# its own pid (the wrapper's $$, kept by exec).
start_notified() {
	# shellcheck disable=SC2016
	NOTIFY_SOCKET=$SOCK PPXD=$PPXD CONF=$(fed_conf police.gwent) \
		WRAP="${PPXD_WRAP:-}" bash -c \
		'export WATCHDOG_PID=$$ WATCHDOG_USEC=1000000; exec $WRAP "$PPXD" -f -c "$CONF"' \
		>>"$FED/police.gwent/ppxd.out" 2>&1 &
	echo $! >"$FED/police.gwent/pid"
}

# (a) a damaged log first: no READY=1.
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
body_json police.gwent probation.gwent ARREST "first" >"$FED/one.json"
ppx_send police.gwent "$FED/one.json" >/dev/null
check "a first message delivered" wait_until 30 fed_settled police.gwent probation.gwent
fed_stop police.gwent
LOG=$(fed_log_dir police.gwent)
cp -a "$LOG" "$FED/backup"
truncate -s $(( $(stat -c %s "$LOG/data.mdb") / 2 )) "$LOG/data.mdb"

start_notified
pid=$(fed_pid police.gwent)
wait "$pid"; rc=$?
rm -f "$FED/police.gwent/pid"
check "(a) on a damaged log ppxd exits 1" [ "$rc" -eq 1 ]
check "(a) ... with no READY=1" [ "$(count READY=1)" -eq 0 ]
check "(a) ... and a STATUS= that says it did not start" \
	wait_until 10 grep -Eq '^STATUS=not started: log .*(truncated|damaged)' "$NOTES"
rm -rf "$LOG"; cp -a "$FED/backup" "$LOG"
: >"$FED/police.gwent/ppxd.out"	# the listener reads it afresh

start_notified
PID=$(fed_pid police.gwent)
fed_wait_up police.gwent || notok "police starts under the notify socket"
check "(a) READY=1 arrives" wait_until 20 grep -q '^READY=1$' "$NOTES"
check "(a) ... after the log check's line was written" \
	grep -q '^READY-AFTER-CHECK yes$' "$NOTES"
check "(a) ... with a STATUS= line naming the partners and the outbox" \
	grep -q '^STATUS=police.gwent: 2 partners, [0-9]* links up, outbox [0-9]*' "$NOTES"

# (b) the watchdog: pings keep coming.
w0=$(count WATCHDOG=1)
sleep 3
w1=$(count WATCHDOG=1)
diag "WATCHDOG=1 pings in about 3 s: $((w1 - w0))"
check "(b) WATCHDOG=1 arrives repeatedly (>= 2 in a few seconds)" [ $((w1 - w0)) -ge 2 ]

# (c) reload.
kill -HUP "$PID"
check "(c) SIGHUP: RELOADING=1" wait_until 20 grep -q '^RELOADING=1$' "$NOTES"
check "(c) ... with MONOTONIC_USEC=" grep -q '^MONOTONIC_USEC=[0-9][0-9]*$' "$NOTES"
ready_after_reload() {
	awk '/^RELOADING=1$/ { r = 1 } r && /^READY=1$/ { ok = 1 } END { exit !ok }' "$NOTES"
}
check "(c) ... then READY=1 again" wait_until 20 ready_after_reload

# (d) a second ppxd on the same log.
sed -e "s|^listen = .*|listen = tcp://127.0.0.1:$((FED_PORT + 3))|" \
    -e "s|^control = .*|control = $FED/second-run|" \
	"$(fed_conf police.gwent)" >"$FED/second.conf"
out=$(timeout 60 ${PPXD_WRAP:-} "$PPXD" -f -c "$FED/second.conf" 2>&1); rc=$?
diag "second ppxd: exit $rc: $(tail -1 <<<"$out")"
check "(d) a second ppxd on the same log exits 1" [ "$rc" -eq 1 ]
check "(d) ... naming the log and the first one's pid" \
	grep -q "log $LOG is in use by another ppxd (pid $PID)" <<<"$out"
lock_file_ok() {
	[ "$(cat "$LOG/ppxd.lock")" = "$PID" ] && [ "$(stat -c %a "$LOG/ppxd.lock")" = 600 ]
}
check "(d) the lock file holds the pid, mode 0600" lock_file_ok
config_check() { "$PPXD" -n -c "$FED/second.conf" >/dev/null; }
check "(d) ppxd -n (a configuration check) does not need the lock" config_check
body_json police.gwent probation.gwent ARREST "after the second" >"$FED/two.json"
ppx_send police.gwent "$FED/two.json" >/dev/null
check "(d) the first still delivers" wait_until 30 fed_settled police.gwent probation.gwent
check "(d) ... and police's log verifies" log_verify police.gwent

# (e) stop.
fed_stop police.gwent
check "(e) SIGTERM: STOPPING=1" wait_until 10 grep -q '^STOPPING=1$' "$NOTES"
kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null
check "(e) the lock is free once it stopped: police starts again" fed_start police.gwent

# (f) the journal, for real.
JOURNALD=/lib/systemd/systemd-journald
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null ||
   ! command -v journalctl >/dev/null || [ ! -x "$JOURNALD" ] ||
   [ ! -x "$INJECT" ]; then
	diag "(f) skipped: needs root, unshare, journalctl, $JOURNALD and $INJECT"
	finish
	exit $?
fi
fed_stop probation.gwent
# The namespace: /run a private tmpfs holding journald's sockets and its
# runtime journal; probation's ppxd started in it without -f.
cat >"$FED/ns.sh" <<'NS'
mount -t tmpfs tmpfs /run || exit 1
mkdir -p /run/systemd/journal /run/log/journal
"$JOURNALD" >"$FED/journald.out" 2>&1 &
for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
unset JOURNAL_STREAM
exec $WRAP "$PPXD" -c "$CONF"
NS
FED=$FED JOURNALD=$JOURNALD PPXD=$PPXD CONF=$(fed_conf probation.gwent) \
	WRAP="${PPXD_WRAP:-}" unshare -m --propagation private bash "$FED/ns.sh" \
	>>"$FED/probation.gwent/ppxd.out" 2>&1 &
echo $! >"$FED/probation.gwent/pid"
NSPID=$!
fed_wait_up probation.gwent || notok "(f) probation starts in the namespace"
out=$("$INJECT" --pki "$PKI" --endpoint "tcp://127.0.0.1:$(fed_port probation.gwent)" \
	--to probation.gwent --as prison.cardiff kind ARREST 2>>"$FED/inject.err")
check "(f) prison.cardiff's ARREST is refused" grep -q '^REFUSED REJECT_POLICY' <<<"$out"
journal() {
	nsenter -t "$NSPID" -m journalctl -D /run/log/journal -o json --no-pager \
		SYSLOG_IDENTIFIER=ppxd 2>/dev/null
}
refusal_record() {
	journal | jq -c 'select(.PPX_REASON == "REJECT_POLICY")' | grep -q .
}
check "(f) the journal holds the refusal with PPX_REASON=REJECT_POLICY" \
	wait_until 20 refusal_record
rec=$(journal | jq -c 'select(.PPX_REASON == "REJECT_POLICY")' | head -1)
diag "(f) $(jq -c '{MESSAGE, PRIORITY, PPX_AGENCY, PPX_PARTNER, PPX_REASON, PPX_MESSAGE_ID}' <<<"$rec")"
check "(f) ... PPX_PARTNER=prison.cardiff" [ "$(jq -r .PPX_PARTNER <<<"$rec")" = prison.cardiff ]
check "(f) ... PPX_AGENCY=probation.gwent" [ "$(jq -r .PPX_AGENCY <<<"$rec")" = probation.gwent ]
check "(f) ... PPX_MESSAGE_ID, 32 hex digits" grep -Eq '^[0-9a-f]{32}$' <<<"$(jq -r .PPX_MESSAGE_ID <<<"$rec")"
warning_line() {
	[ "$(jq -r .PRIORITY <<<"$rec")" = 4 ] &&
		grep -q '^refused a frame from prison.cardiff: ' <<<"$(jq -r .MESSAGE <<<"$rec")"
}
check "(f) ... PRIORITY=4 (warning), MESSAGE the line stderr would show" warning_line
check "(f) the start-up lines are in the journal too, with PPX_AGENCY" \
	grep -q '"PPX_AGENCY":"probation.gwent"' <<<"$(journal | grep 'entries checked in')"
fed_stop probation.gwent	# journald ends with the namespace's last process
finish
