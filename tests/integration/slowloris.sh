#!/usr/bin/env bash
# slowloris.sh — connections held open that send nothing, or trickle the
# start of a handshake a byte at a time, never finishing it.  While 300 of
# them hang on probation's port, police's messages to probation are
# delivered and probation answers its operators; every one of those
# connections is closed by probation within its handshake deadline
# (handshake_timeout_ms, 2 s here), and its descriptors come back.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-500}
CONNS=${CONNS:-300}
fed_init
sed -i '/^\[delivery\]/a handshake_timeout_ms = 2000' "$(fed_conf probation.gwent)"

# The hanging connections: half silent, half sending a ZMTP greeting one
# byte every 200 ms.  Prints how many it opened, how many probation closed
# and when the last was closed, after at most $2 seconds.
cat >"$FED/slowloris.pl" <<'PERL'
use strict; use warnings;
use IO::Socket::INET; use IO::Select; use Time::HiRes qw(time sleep);
my ($port, $secs, $n) = @ARGV;
my $greeting = "\xff" . ("\0" x 8) . "\x7f\x03\x00CURVE" . ("\0" x 15);
my (@socks, %sent, %closed);
for my $i (1 .. $n) {
	# Blocking connects: each is established (the kernel's accept queue
	# may make one wait for a SYN retry) before it is counted.
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
				      Proto => 'tcp', Timeout => 10) or next;
	$s->blocking(0);
	push @socks, $s; $sent{$s} = 0;
}
my $start = time; my $last = 0;
my $sel = IO::Select->new(@socks);
while (time - $start < $secs && keys(%closed) < @socks) {
	for my $s (@socks) {	# trickle: odd connections only
		next if $closed{$s} || fileno($s) % 2 == 0 || $sent{$s} >= length($greeting);
		my $w = syswrite($s, substr($greeting, $sent{$s}, 1));
		$sent{$s}++ if defined $w && $w == 1;
	}
	for my $s ($sel->can_read(0.2)) {
		my $buf; my $r = sysread($s, $buf, 4096);
		if (!defined $r || $r == 0) {
			$closed{$s} = 1; $sel->remove($s); $last = time - $start;
		}
	}
}
printf "opened %d closed %d last_closed_after %.1f\n", scalar(@socks), scalar(keys %closed), $last;
PERL

fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
pid=$(fed_pid probation.gwent)
fds_before=$(ls /proc/"$pid"/fd | wc -l)
for i in $(seq -w 1 "$N"); do
	body_json police.gwent probation.gwent ARREST "slowloris message $i"
done >"$FED/burst.json"

perl "$FED/slowloris.pl" "$(fed_port probation.gwent)" 40 "$CONNS" >"$FED/loris.out" 2>&1 &
loris=$!
hanging() { [ "$(ls /proc/"$pid"/fd | wc -l)" -gt $((fds_before + CONNS / 2)) ]; }
check "the hanging connections reached probation" wait_until 10 hanging
diag "probation's descriptors: $fds_before before, $(ls /proc/"$pid"/fd | wc -l) with the connections hanging"
t0=$(date +%s.%N)
ppx_send police.gwent "$FED/burst.json" >/dev/null
check "police's $N messages are delivered while they hang" wait_until 30 fed_settled police.gwent probation.gwent
t1=$(date +%s.%N)
diag "delivered in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
check "probation answers its operators meanwhile" fed_alive probation.gwent
wait "$loris"
result=$(cat "$FED/loris.out")
diag "slowloris: $result"
read -r _ opened _ closed _ last <<<"$result"
check "all $CONNS connections were opened" [ "${opened:-0}" -eq "$CONNS" ]
check "probation closed every one of them" [ "${closed:-0}" -eq "${opened:-1}" ]
check "... within its 2 s handshake deadline (and scheduling slack)" \
	awk -v l="${last:-99}" 'BEGIN { exit !(l < 8) }'
fds_after=$(ls /proc/"$pid"/fd | wc -l)
diag "probation's descriptors afterwards: $fds_after"
check "probation's descriptors came back" [ "$fds_after" -le $((fds_before + 5)) ]
fed_tally police.gwent probation.gwent "police -> probation beside $CONNS hanging connections"
fed_stop police.gwent
fed_stop probation.gwent
check "probation's log verifies" log_verify probation.gwent
finish
