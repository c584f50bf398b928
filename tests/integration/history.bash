# history.bash — a scripted history of messages sent in the past, for the
# scenarios that check ppx due and ppx report against known answers
# (report.sh, report_board.sh).  Not a scenario itself (tests/run-tests
# runs *.sh only); source it after lib.sh and fed_init.
#
# Every message carries an explicit message id and a creation time in the
# past.  A daemon refuses a creation time far from its clock, so the
# daemons run under libfaketime, their shared clock an offset in
# $FED/clock set to each message's creation time before it is sent
# (messages sent in time order); ZeroMQ's timers keep real time.
#
#   history_pki DATE    a PKI issued on DATE, the federation configured
#   send AGENCY NAME JSON   queue a message; replay sends the queue
#   ms ISO-TIME, mid NAME (a 16-byte id in base64), hexid NAME (in hex)

export FAKETIME_DONT_FAKE_MONOTONIC=1
# Under AddressSanitizer the preloaded library must be allowed to come
# first.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -1)

set_clock() {	# set_clock MS: the daemons' clock at MS (Unix milliseconds)
	printf '%+d\n' $(( $1 / 1000 - $(date -u +%s) )) >"$FED/clock.new" &&
		mv "$FED/clock.new" "$FED/clock"
}

# history_pki DATE: the daemons' clock at DATE, a PKI issued then, every
# agency configured and its daemon to run under libfaketime.
history_pki() {
	set_clock "$(( $(date -u -d "$1T00:00Z" +%s) * 1000 ))"
	at_clock "@$1 00:00:00" "$TOP/certs/ppx-pki" demo "$FED/pki" >/dev/null &&
		at_clock "@$1 00:00:00" "$TOP/certs/ppx-pki" crl "$FED/pki" --days 400 >/dev/null ||
		return 1
	PKI=$FED/pki
	cp "$PKI/ca/crl.pem" "$FED/crl.pem"
	local a
	for a in $AGENCIES; do fed_config "$a"; done
	PPXD_WRAP="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$FED/clock FAKETIME_NO_CACHE=1 ${PPXD_WRAP:-}"
}

ms() { echo $(( $(date -u -d "$1" +%s) * 1000 )); }
mid() { printf '%-16.16s' "$1" | base64; }	# a 16-byte id, in base64
hexid() { printf '%-16.16s' "$1" | od -An -tx1 | tr -d ' \n'; }

person() {	# person ID NAME AGENCY ROLE
	printf '{"id":"%s","name":"%s","agency":"%s","role":"%s","grade":"-"}' \
		"$1" "$2" "$3" "$4"
}

# send AGENCY NAME JSON: queue the message; replay sends the queue.
send() {
	printf '%s\n' "$3" >"$FED/msg-$2.json"
	printf '%s %s %s\n' "$(jq -r .createdMs <<<"$3")" "$1" "$2" >>"$FED/queue"
}
# Submit every queued message in time order, the daemons' clock at its
# creation time, and wait for every recipient's receipt.
replay() {
	local t a name out
	while read -r t a name; do
		set_clock "$t"
		if ! out=$(ppx_send "$a" "$FED/msg-$name.json" --wait --timeout 20 2>&1); then
			notok "$name is accepted and delivered"
			diag "$out"
			return 1
		fi
	done < <(sort -n "$FED/queue")
}
