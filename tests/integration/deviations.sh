#!/usr/bin/env bash
# deviations.sh — where ppxd strayed from docs/PROTOCOL.md (issue 10, holes
# 6 and 10), each shown against a real daemon:
#
#   (a) a frame over 1 MiB is refused naming SHA-256 of the whole frame,
#       not of its first 1,048,576 bytes (section 5), and its REJECTED
#       entry holds its size, its hash and at most a 1 KiB prefix (6);
#   (b) a frame of wire version 2 laid out as version 1 cannot decode is
#       REJECT_UNSUPPORTED_VERSION, not REJECT_BAD_FRAME (3.1, step 2);
#   (c) with checkpoint_every = 100, checkpoints are exactly 100 entries
#       apart, however large the group commits (6);
#   (d) the listen port is never given up: while another local process
#       tries all the time to bind it, twenty CRL reloads (SIGHUP) cut the
#       partner sessions, the other process never gets the port, and
#       police still delivers to probation afterwards (7);
#   (e) a daemon that finds its port taken at start-up runs, says so in
#       `ppx status`, and listens as soon as the port is free;
#   (f) 100 connections sending at once: every frame is answered (past 64
#       connections in one iteration, REJECT_BUSY), none dropped.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
FLOOD=${FLOOD:-1000}
[ -x "$INJECT" ] || { notok "the injector is built (make $BUILD/tests/inject)"; finish; exit 1; }
fed_init
sed -i '/^\[delivery\]/a checkpoint_every = 100' "$(fed_conf probation.gwent)"
fed_start probation.gwent && fed_start police.gwent || notok "daemons start"
PORT=$(fed_port probation.gwent)
EP=tcp://127.0.0.1:$PORT
inject() { "$INJECT" --pki "$PKI" --endpoint "$EP" --to probation.gwent "$@" 2>>"$FED/inject.err"; }
status_json() { "$PPX" status --config "$(fed_conf "$1")" --json; }

# ---- (a) an oversized frame ----
out=$(inject --as police.gwent oversize)
rc=$?
diag "oversize: $out (inject exit $rc)"
check "(a) a frame of 1 MiB + 1 byte is REJECT_TOO_LARGE" grep -q "^REFUSED REJECT_TOO_LARGE " <<<"$out"
check "(a) ... its receipt naming SHA-256 of the whole frame (inject matched it: exit 0)" [ "$rc" -eq 0 ]
whole=$(head -c $((1048576 + 1)) /dev/zero | tr '\0' x | sha256sum | cut -d' ' -f1)
entry=$(ppx_log probation.gwent | jq -c 'select(.kind == "ENTRY_REJECTED" and .reason == "REJECT_TOO_LARGE")' | head -1)
diag "its entry: $(cut -c1-300 <<<"$entry")"
check "(a) its REJECTED entry gives the frame's size" \
	[ "$(jq -r ".frame_size" <<<"$entry")" = 1048577 ]
check "(a) ... and SHA-256 of the whole frame" \
	[ "$(jq -r ".frame_hash" <<<"$entry")" = "$whole" ]

# ---- (b) a later version with another layout ----
out=$(inject --as police.gwent version-layout 2)
diag "version-layout 2: $out"
check "(b) wire version 2 laid out otherwise is REJECT_UNSUPPORTED_VERSION" \
	grep -q "^REFUSED REJECT_UNSUPPORTED_VERSION .*speaks version 1" <<<"$out"

# ---- (c) checkpoint spacing ----
inject --as police.gwent --timeout-ms 120000 flood "$FLOOD" >"$FED/flood.out"
check "(c) police's $FLOOD messages were all stored" \
	[ "$(grep -c '^STORED' "$FED/flood.out")" -eq "$FLOOD" ]
fed_stop probation.gwent
cps=$(ppx_log probation.gwent | jq -r 'select(.kind == "ENTRY_CHECKPOINT") | .seq')
gaps=$(awk 'NR > 1 { print $1 - prev } { prev = $1 }' <<<"$cps" | sort -n | uniq -c | tr '\n' ' ')
diag "checkpoints at $(tr '\n' ' ' <<<"$cps"| cut -c1-200); gaps (count gap): $gaps"
n=$(grep -c . <<<"$cps")
check "(c) at least $((FLOOD / 100)) checkpoints" [ "$n" -ge $((FLOOD / 100)) ]
check "(c) consecutive checkpoints are exactly 100 entries apart (the last, at stop, at most)" \
	awk 'NR > 1 { g = $1 - prev; if (g != 100 && !(NR == n && g < 100)) bad = 1 } { prev = $1 } END { exit bad }' n="$n" <<<"$cps"
check "(c) probation's log verifies" log_verify probation.gwent

# ---- (d) the port during CRL reloads ----
cat >"$FED/squat.pl" <<'PERL'
use strict; use warnings; use Socket;
my ($port, $stop) = @ARGV;	# tries until the file $stop exists (300 s at most)
my ($tries, $got) = (0, 0);
my $end = time + 300;
my @held;
while (time < $end && !-e $stop) {
	socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
	setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
	$tries++;
	if (bind($s, sockaddr_in($port, inet_aton('127.0.0.1'))) && listen($s, 5)) {
		$got++; push @held, $s;	# hold it: the daemon is locked out
	} else { close($s) }
}
print "tries $tries got $got\n";
PERL
fed_start probation.gwent || notok "probation restarts"
body_json police.gwent probation.gwent ARREST "Arrested after the reloads" >"$FED/arrest.json"
perl "$FED/squat.pl" "$PORT" "$FED/squat.stop" >"$FED/squat.out" &
squat=$!
# One SIGHUP at a time, each waited for (signals sent together merge into
# one), so that the twenty reloads all happen while the squatter tries.
reloads() { grep -c 'reloaded CRL' "$FED/probation.gwent/ppxd.out"; }
for i in $(seq 1 20); do
	before=$(reloads)
	kill -HUP "$(fed_pid probation.gwent)"
	wait_until 60 eval '[ "$(reloads)" -gt "$before" ]' || break
	sleep 0.2
done
touch "$FED/squat.stop"
wait "$squat"
diag "squatter: $(cat "$FED/squat.out"); probation: $(grep -c 'reloaded CRL' "$FED/probation.gwent/ppxd.out") reloads"
check "(d) the other process never bound probation's port" grep -q " got 0$" "$FED/squat.out"
check "(d) probation reloaded the CRL twenty times" \
	[ "$(grep -c 'reloaded CRL' "$FED/probation.gwent/ppxd.out")" -ge 20 ]
check "(d) probation says it listens" eval 'status_json probation.gwent | jq -e ".listening == true" >/dev/null'
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
diag "$out"
check "(d) police still delivers to probation" grep -q "probation.gwent=DELIVERED" <<<"$out"

# ---- (f) more connections at once than one iteration answers ----
# Prison's 100 connections are made; probation is stopped while prison
# sends on all of them, so that their frames reach it together: every
# frame is answered, its refusal or, past 64 connections in one iteration,
# REJECT_BUSY.
inject --as prison.cardiff --conns 100 --hold-ms 3000 --timeout-ms 30000 junk 200 >"$FED/busy.out" &
busy=$!
sleep 2
kill -STOP "$(fed_pid probation.gwent)"
sleep 2
kill -CONT "$(fed_pid probation.gwent)"
wait "$busy"
sed 's/^/# /' "$FED/busy.out"
check "(f) each of the 200 frames over 100 connections was answered" \
	grep -q "^junk: sent 200 answered 200$" "$FED/busy.out"

# ---- (e) the port taken at start-up ----
fed_stop probation.gwent
# The port is held until the status has been read (a daemon under
# valgrind takes longer to start than any fixed hold), at most 300 s.
perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0); setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
	bind($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die "bind: $!"; listen($s, 5);
	open(my $f, ">", $ARGV[1]); close($f);
	for (1 .. 3000) { last if -e $ARGV[2]; select(undef, undef, undef, 0.1) }' \
	"$PORT" "$FED/held" "$FED/release" &
holder=$!
wait_until 5 test -e "$FED/held"
fed_start probation.gwent || notok "probation starts with its port taken"
st=$(status_json probation.gwent)
diag "status while the port is taken: $(jq -c '{listening, listenError}' <<<"$st")"
not_listening() { jq -e '(.listening // false) == false and (.listenError | test("cannot listen"))' <<<"$1" >/dev/null; }
check "(e) ppx status says probation does not listen, and why" not_listening "$st"
"$PPX" status --config "$(fed_conf probation.gwent)" | head -3 | sed 's/^/# /'
touch "$FED/release"
wait "$holder"
check "(e) once the port is free probation listens" \
	wait_until 30 eval 'status_json probation.gwent | jq -e ".listening == true" >/dev/null'
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
check "(e) and police delivers to it" grep -q "probation.gwent=DELIVERED" <<<"$out"
fed_stop_all
check "probation's log verifies" log_verify probation.gwent
check "police's log verifies" log_verify police.gwent
finish
