#!/usr/bin/env bash
# slowloris.sh — connections held open that send nothing, or trickle the
# start of a handshake a byte at a time, never finishing it.  300 of them
# hang on probation's port (each one probation closes is replaced at once)
# while police's messages to probation are delivered and probation answers
# its operators; no connection outlives the handshake deadline
# (handshake_timeout_ms, 2 s here) by more than scheduling slack, and the
# descriptors come back.
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
use IO::Socket::INET; use IO::Select; use Time::HiRes qw(time);
my ($port, $n, $stop, $secs) = @ARGV;
my $greeting = "\xff" . ("\0" x 8) . "\x7f\x03\x00CURVE" . ("\0" x 15);
my (%sent, %born, $opened, $closed, $longest);
my $sel = IO::Select->new;
$opened = $closed = $longest = 0;
# A write to a connection probation has just closed must not kill us.
$SIG{PIPE} = 'IGNORE';
sub gone {
	my ($s) = @_;
	my $life = time - $born{$s};
	$longest = $life if $life > $longest;
	$sel->remove($s); close($s); $closed++;
	open_one() unless -e $stop;
}
sub open_one {
	# Blocking connect: each is established (the kernel's accept queue may
	# make one wait for a SYN retry) before it is counted.
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
				      Proto => 'tcp', Timeout => 10) or return;
	$s->blocking(0);
	$sel->add($s); $sent{$s} = 0; $born{$s} = time; $opened++;
}
open_one() for 1 .. $n;
my $start = time;
# Keep $n hanging until the stop file appears, then let the last ones go.
while (time - $start < $secs && $sel->count > 0) {
	for my $s ($sel->handles) {	# trickle: odd descriptors only
		next if fileno($s) % 2 == 0 || $sent{$s} >= length($greeting);
		my $w = syswrite($s, substr($greeting, $sent{$s}, 1));
		if (defined $w) { $sent{$s} += $w; next }
		gone($s) unless $!{EAGAIN} || $!{EWOULDBLOCK};	# EPIPE, ECONNRESET
	}
	for my $s ($sel->can_read(0.2)) {
		my $buf; my $r = sysread($s, $buf, 4096);
		next if defined $r && $r > 0;
		next if !defined $r && ($!{EAGAIN} || $!{EWOULDBLOCK});
		gone($s);
	}
}
printf "opened %d closed %d longest %.1f\n", $opened, $closed, $longest;
PERL

fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
pid=$(fed_pid probation.gwent)
fds_before=$(ls /proc/"$pid"/fd | wc -l)
fed_burst police.gwent probation.gwent "$N" "slowloris message" >"$FED/burst.json"

perl "$FED/slowloris.pl" "$(fed_port probation.gwent)" "$CONNS" "$FED/stop" 60 >"$FED/loris.out" 2>&1 &
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
check "... and the connections were still hanging then" hanging
touch "$FED/stop"
wait "$loris"
loris_rc=$?
result=$(cat "$FED/loris.out")
diag "slowloris: $result"
check "the connection holder ran to its end (exit status $loris_rc)" [ "$loris_rc" -eq 0 ]
read -r _ opened _ closed _ longest <<<"$result"
check "at least $CONNS connections were opened" [ "${opened:-0}" -ge "$CONNS" ]
check "probation closed every one of them" [ "${closed:-0}" -eq "${opened:-1}" ]
check "... none lived past its 2 s handshake deadline (plus 3 s for scheduling)" \
	awk -v l="${longest:-99}" 'BEGIN { exit !(l < 5) }'
fds_after=$(ls /proc/"$pid"/fd | wc -l)
diag "probation's descriptors afterwards: $fds_after"
check "probation's descriptors came back" [ "$fds_after" -le $((fds_before + 5)) ]
fed_tally police.gwent probation.gwent "police -> probation beside $CONNS hanging connections"
fed_stop police.gwent
fed_stop probation.gwent
check "probation's log verifies" log_verify probation.gwent
finish
