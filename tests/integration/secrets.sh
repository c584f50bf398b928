#!/usr/bin/env bash
# secrets.sh — no payload in clear on the wire, no private key in
# any log or output, key files 0600 and loose ones refused.
#
# (1) A capture of the loopback traffic between police and probation while
#     they exchange messages holds none of the messages' distinctive field
#     values — while the sender's own log (LMDB, written in clear on disk)
#     does, proving the search would find them.
# (2) No line of any agency's private key PEM, nor the raw 32-byte secret
#     (X25519 transport, Ed25519 signing; in binary or as hex text), appears
#     in the daemons' output (run with -v) or in any log's data.mdb.
# (3) Every *.key in the PKI is mode 0600, and ppxd refuses a signing or
#     transport key that others may read.
# (4) A running daemon cannot dump core (its core size limit is 0, so no
#     core file holds its keys) and holds OpenSSL's secure heap, where the
#     private keys live, locked in memory (VmLck) so they are not swapped
#     out — or says that it could not lock it.  Wiping keys when they are
#     freed is shown by tests/unit/test_keywipe.c.
#
# Needs tcpdump (scripts/install-deps installs it) and root (or the capture
# capabilities) to capture on lo.  A missing tcpdump is a failure, not a skip.
set -u
. "$(dirname "$0")/lib.sh"
fed_init

P1=$(fed_port police.gwent)
P2=$(fed_port probation.gwent)
PCAP=$FED/lo.pcap	# .pcap: Debian's AppArmor profile lets tcpdump write only those
tcpdump_pid=

tcpdump_gone() { ! kill -0 "$tcpdump_pid" 2>/dev/null; }
stop_tcpdump() {
	[ -n "$tcpdump_pid" ] || return 0
	kill -INT "$tcpdump_pid" 2>/dev/null
	# (A shell without job control starts background jobs with SIGINT
	# ignored; tcpdump installs its own handler, but fall back to TERM.)
	wait_until 5 tcpdump_gone ||
		kill -TERM "$tcpdump_pid" 2>/dev/null
	wait "$tcpdump_pid" 2>/dev/null
	tcpdump_pid=
}
# Whatever path the test leaves by, tcpdump and the daemons do not outlive it.
cleanup() {
	stop_tcpdump
	fed_stop_all
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP

# Start an agency's daemon like fed_start, but verbose: debug logging is
# where key material would most likely leak.
start_verbose() {
	local a=$1
	${PPXD_WRAP:-} "$PPXD" -f -v -c "$(fed_conf "$a")" >>"$FED/$a/ppxd.out" 2>&1 &
	echo $! >"$FED/$a/pid"
	fed_wait_up "$a"
}

# ---- (3) key files: mode 0600, loose modes refused (no daemon needed) ----
loose=$(find "$PKI" -name '*.key' ! -perm 600)
check "every *.key under the PKI is mode 0600" [ -z "$loose" ]
[ -n "$loose" ] && diag "loose: $loose"
check "... and there are key files to check" \
	[ "$(find "$PKI" -name '*.key' | wc -l)" -ge 6 ]

for kind in signing transport; do
	cp "$PKI/agencies/police.gwent/$kind.key" "$FED/loose-$kind.key"
	chmod 0644 "$FED/loose-$kind.key"
	sed "s|^${kind}_key = .*|${kind}_key = $FED/loose-$kind.key|" \
		"$(fed_conf police.gwent)" >"$FED/loose-$kind.conf"
	out=$("$PPXD" -n -c "$FED/loose-$kind.conf" 2>&1)
	rc=$?
	diag "$out"
	check "ppxd -n refuses a $kind key of mode 0644 (exit 1)" [ "$rc" -eq 1 ]
	check "... saying it must be 0600" grep -q "loose-$kind.key.*must be 0600" <<<"$out"
	chmod 0640 "$FED/loose-$kind.key"
	out=$("$PPXD" -n -c "$FED/loose-$kind.conf" 2>&1)
	rc=$?
	check "... and one of mode 0640 (group-readable)" [ "$rc" -eq 1 ]
	chmod 0600 "$FED/loose-$kind.key"
	out=$("$PPXD" -n -c "$FED/loose-$kind.conf" 2>&1)
	rc=$?
	check "... but accepts the same key at mode 0600" [ "$rc" -eq 0 ]
done

# ---- (1) the wire: capture loopback traffic during an exchange ----
if ! command -v tcpdump >/dev/null 2>&1; then
	notok "tcpdump is installed (scripts/install-deps installs it)"
	finish
	exit 1
fi
# --immediate-mode: hand each packet over at once, so that none is still in
# the kernel's ring buffer (and lost) when tcpdump is stopped; -U: write it
# to the file at once.  -Z root: Debian's tcpdump would otherwise drop to
# the tcpdump user, who cannot write into $FED.
tcpdump -i lo --immediate-mode -U -n -Z root -w "$PCAP" "tcp port $P1 or tcp port $P2" \
	>"$FED/tcpdump.out" 2>&1 &
tcpdump_pid=$!
# tcpdump says "listening on lo" once the capture is running.
if ! wait_until 10 grep -q "listening on" "$FED/tcpdump.out"; then
	notok "tcpdump captures on lo"
	sed 's/^/# /' "$FED/tcpdump.out"
	finish
	exit 1
fi
ok "tcpdump captures on lo (ports $P1, $P2)"

start_verbose police.gwent || { notok "police starts"; finish; exit 1; }
start_verbose probation.gwent || { notok "probation starts"; finish; exit 1; }

# Distinctive values in every free-text and identifying field.
M_DETAILS="MARKER-7f3a9c Arrested near Caerleon"
M_DETAILS2="MARKER-b81e4d Breach of licence at Pillgwenlly"
M_DETAILS3="MARKER-c0ffee Seen at Maindee with the victim"
M_NAME="Zebedee Quaxworth"
M_PNC="2021/0987654Q"
M_CRN="Q998877"
M_PURPOSE="MARKER-purpose-5d2a MAPPA"
MARKERS=("$M_DETAILS" "$M_DETAILS2" "$M_DETAILS3" "$M_NAME" "$M_PNC" "$M_CRN" "$M_PURPOSE")

marked_json() {	# marked_json TO KIND DETAILS
	printf '{"recipients":["%s"],"marking":"OFFICIAL_SENSITIVE","priority":"URGENT","purpose":{"legalBasis":"CJA_2003_S325","text":"%s"},"subject":{"pncId":"%s","crn":"%s","name":"%s"},"notification":{"kind":"%s","effectiveDate":"2026-11-21","details":"%s"}}\n' \
		"$1" "$M_PURPOSE" "$M_PNC" "$M_CRN" "$M_NAME" "$2" "$3"
}
marked_json probation.gwent ARREST "$M_DETAILS" >"$FED/m1.json"
marked_json probation.gwent ARREST "$M_DETAILS2" >"$FED/m2.json"
marked_json police.gwent ARREST "$M_DETAILS3" >"$FED/m3.json"

out=$(ppx_send police.gwent "$FED/m1.json" --wait --timeout 20 2>&1)
rc=$?
diag "$out"
check "police -> probation: first marked message delivered" [ "$rc" -eq 0 ]
out=$(ppx_send police.gwent "$FED/m2.json" --wait --timeout 20 2>&1)
rc=$?
diag "$out"
check "police -> probation: second marked message delivered" [ "$rc" -eq 0 ]
out=$(ppx_send probation.gwent "$FED/m3.json" --wait --timeout 20 2>&1)
rc=$?
diag "$out"
check "probation -> police: marked message delivered" [ "$rc" -eq 0 ]

pid=$(fed_pid police.gwent)
check "(4) police cannot dump core" \
	grep -Eq '^Max core file size +0 +0 ' "/proc/$pid/limits"
locked=$(awk '/^VmLck/ { print $2 }' "/proc/$pid/status")
diag "police's locked memory: ${locked:-?} kB (RLIMIT_MEMLOCK $(ulimit -l))"
if [ "$(ulimit -l)" = unlimited ] || [ "$(ulimit -l)" -ge 128 ]; then
	check "(4) police's secure heap for keys is locked in memory" [ "${locked:-0}" -ge 64 ]
else
	check "(4) police says its key memory could not be locked" \
		grep -q 'secure heap not locked' "$FED/police.gwent/ppxd.out"
fi

# Stop the daemons first (their goodbyes are captured too), then tcpdump,
# once both ports' traffic is in the file.
fed_stop police.gwent
fed_stop probation.gwent
npkts() { tcpdump -r "$PCAP" -n "tcp port $1" 2>/dev/null | wc -l; }
both_captured() { [ "$(npkts "$P1")" -ge 10 ] && [ "$(npkts "$P2")" -ge 10 ]; }
wait_until 10 both_captured
sleep 0.5
stop_tcpdump
sed 's/^/# /' "$FED/tcpdump.out"

# 24 bytes is the pcap file header alone.
check "the capture file holds packets" [ "$(stat -c %s "$PCAP")" -gt 24 ]
n1=$(npkts "$P1")
n2=$(npkts "$P2")
diag "captured packets: port $P1: $n1, port $P2: $n2"
check "the capture holds traffic on police's port" [ "$n1" -ge 10 ]
check "the capture holds traffic on probation's port" [ "$n2" -ge 10 ]
# Payload bytes, not only handshakes: at least the three bodies (~1 kB).
bytes=$(tcpdump -r "$PCAP" -n -q 2>/dev/null | awk '{ s += $NF } END { print s + 0 }')
diag "captured TCP payload bytes: $bytes"
check "the capture holds payload (> 1000 bytes of TCP data)" [ "$bytes" -gt 1000 ]

for m in "${MARKERS[@]}"; do
	c=$(grep -a -c -F -- "$m" "$PCAP")
	check "the capture does not hold \"$m\" in clear" [ "$c" -eq 0 ]
done
# Control: the same search finds them where they are in clear.
for m in "$M_DETAILS" "$M_DETAILS2" "$M_NAME" "$M_PNC"; do
	c=$(grep -a -c -F -- "$m" "$FED/police.gwent/log/data.mdb")
	check "control: the sender's data.mdb holds \"$m\"" [ "$c" -ge 1 ]
done
c=$(grep -a -c -F -- "$M_DETAILS3" "$FED/probation.gwent/log/data.mdb")
check "control: probation's data.mdb holds \"$M_DETAILS3\"" [ "$c" -ge 1 ]

# ---- (2) no private key material in outputs or logs ----
# Files to search: every daemon output and every log's data files.
files=()
for f in "$FED"/*/ppxd.out "$FED"/*/log/*.mdb; do
	[ -f "$f" ] && files+=("$f")
done
check "there are outputs and logs to search" [ "${#files[@]}" -ge 4 ]
check "the daemons' output is not empty (verbose logging ran)" \
	[ "$(cat "$FED"/police.gwent/ppxd.out "$FED"/probation.gwent/ppxd.out | wc -l)" -ge 2 ]
hexdump="$FED/files.hex"	# all searched files as one hex string per file
for f in "${files[@]}"; do
	xxd -p "$f" | tr -d '\n'
	echo
done >"$hexdump"

for a in $AGENCIES; do
	for kind in signing transport; do
		key=$PKI/agencies/$a/$kind.key
		# The PEM body lines (not the BEGIN/END lines every key shares).
		leaked=0
		while IFS= read -r line; do
			case $line in -----*|"") continue ;; esac
			grep -q -a -F -- "$line" "${files[@]}" && leaked=1
		done <"$key"
		check "no line of $a's $kind.key PEM is in any output or log" [ "$leaked" -eq 0 ]
		# For X25519 and Ed25519 the PKCS#8 DER ends with the 32-byte secret.
		secret=$(openssl pkey -in "$key" -outform DER | tail -c 32 | xxd -p | tr -d '\n')
		if [ "${#secret}" -ne 64 ]; then
			notok "read $a's $kind secret"
			continue
		fi
		check "$a's raw $kind secret is in no output or log (binary)" \
			bash -c "! grep -q -i -F '$secret' '$hexdump'"
		check "... nor as hex text" \
			bash -c "! grep -q -a -i -F '$secret' \"\$@\"" _ "${files[@]}"
	done
done

finish
