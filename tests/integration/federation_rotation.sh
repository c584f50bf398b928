#!/usr/bin/env bash
# federation_rotation.sh — probation.gwent rotates its signing and
# transport keys under a steady load, with overlap:
#
#   serial 1  probation's current pair (issued to expire in a day)
#   ppx-pki renew: a new pair in agencies/probation.gwent/next
#   serial 2  probation's current and new pairs, dropped at police only
#   ppx-pki switch, probation restarted on its new keys (its choice)
#   serial 3  only the new pair
#
# Meanwhile police and probation send each other a message every
# ${PACE:-0.1}s.  Every message submitted arrives exactly once, in order,
# with a signed receipt.  Then, with the clock (libfaketime) past the old
# certificates' notAfter, `ppx verify` still passes on both logs.
set -u
. "$(dirname "$0")/directory.bash"
PACE=${PACE:-0.1}	# seconds between a pair of load messages
STEP=${STEP:-2}		# seconds of load between the steps
WITHIN=${WITHIN:-30}
P=probation.gwent
TWO="police.gwent $P"
export FAKETIME_DONT_FAKE_MONOTONIC=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -1)
dir_init
AGENCIES=$TWO

check "probation's pair is reissued to expire in a day" dir_agency $P --force --days 1
cp "$PKI/agencies/$P/signing.crt" "$FED/old-signing.crt"
cp "$PKI/agencies/$P/transport.crt" "$FED/old-transport.crt"
for a in $TWO; do dir_config "$a"; done
dir_make 1 "$FED/dir1.pb" police.gwent $P || notok "serial 1 is made"
for a in $TWO; do dir_drop "$a" "$FED/dir1.pb"; fed_start "$a" || notok "$a starts"; done
check "both hold serial 1" wait_until "$WITHIN" dir_all_at 1 $TWO
check "police and probation are connected" wait_until "$UP" connected police.gwent $P

# The load: one message each way per PACE, numbered, until load.stop.
load() {
	local i=0 n
	while [ ! -e "$FED/load.stop" ]; do
		i=$((i + 1)); n=$(printf %05d "$i")
		body_json police.gwent $P ARREST "load police $n" >"$FED/load-police.json"
		ppx_send police.gwent "$FED/load-police.json" >>"$FED/load-police.out" 2>&1 ||
			echo "$n" >>"$FED/load-police.failed"
		body_json $P police.gwent ARREST "load probation $n" >"$FED/load-probation.json"
		ppx_send $P "$FED/load-probation.json" >>"$FED/load-probation.out" 2>&1 ||
			echo "$n" >>"$FED/load-probation.failed"
		sleep "$PACE"
	done
}
load &
load_pid=$!
sleep "$STEP"

quietly() { "$@" >>"$FED/quiet.out" 2>&1; }	# its output into a file
renew() { "$PPXPKI" renew "$PKI" $P >"$FED/renew.out" 2>&1; }
check "ppx-pki renew makes probation's next pair" renew
diag "$(cat "$FED/renew.out")"
dir_make 2 "$FED/dir2.pb" police.gwent $P:active:cur+next || notok "serial 2 is made"
dir_drop police.gwent "$FED/dir2.pb"
check "both hold serial 2 (old and new pairs)" wait_until "$WITHIN" dir_all_at 2 $TWO
sleep "$STEP"

check "ppx-pki switch puts the new pair in place" quietly "$PPXPKI" switch "$PKI" $P
check "... and keeps the old one as previous" \
	cmp -s "$FED/old-signing.crt" "$PKI/agencies/$P/previous/signing.crt"
check "... its configured signing certificate is now another" \
	fails cmp -s "$FED/old-signing.crt" "$PKI/agencies/$P/signing.crt"
fed_stop $P
fed_start $P || notok "probation restarts on its new keys"
check "police and probation are connected again" wait_until "$UP" connected police.gwent $P
sleep "$STEP"

dir_make 3 "$FED/dir3.pb" police.gwent $P || notok "serial 3 is made"
dir_drop police.gwent "$FED/dir3.pb"
check "both hold serial 3 (new pair only)" wait_until "$WITHIN" dir_all_at 3 $TWO
sleep "$STEP"
touch "$FED/load.stop"
wait "$load_pid"

diag "police's submissions refused: $(grep -c . "$FED/load-police.failed" 2>/dev/null || echo 0)"
diag "probation's refused (its daemon restarting): $(grep -c . "$FED/load-probation.failed" 2>/dev/null || echo 0)"
check "police never refused a submission" [ ! -s "$FED/load-police.failed" ]
check "police -> probation settles" wait_until "$SETTLE" fed_delivered police.gwent $P
check "probation -> police settles" wait_until "$SETTLE" fed_delivered $P police.gwent
in_order() {	# in_order FROM TO: TO stored FROM's messages in the order sent
	cmp -s <(sent_to "$1" "$2") <(received_from "$2" "$1" | awk '!seen[$0]++')
}
submitted_all_sent() {	# every id ppx send printed is logged as sent
	[ -z "$(comm -23 <(grep -o '^[0-9a-f]\{32\}' "$1" | sort -u) <(sent_to "$2" "$3" | sort -u))" ]
}
for pair in "police.gwent $P" "$P police.gwent"; do
	# shellcheck disable=SC2086
	set -- $pair
	check "$1: every accepted submission is logged as sent" \
		submitted_all_sent "$FED/load-${1%%.*}.out" "$1" "$2"
	fed_tally "$1" "$2" "$1 -> $2 across the rotation"
	check "$1 -> $2: received in the order sent" in_order "$1" "$2"
	check "$1 -> $2: every message receipted" fed_all_receipted "$1" "$2"
done
accepted_certs() {	# how many of probation's certificates police accepts
	ppx_status_json police.gwent | jq --arg p $P \
		'[.partners[] | select(.agency == $p) | .certificates[]?] | length'
}
certs_are() { [ "$(accepted_certs)" = "$1" ]; }
check "police accepts probation's new pair only (2 certificates)" \
	wait_until "$SOON" certs_are 2
diag "police's view of probation: $(ppx_status_json police.gwent | jq -c --arg p $P '.partners[] | select(.agency == $p) | .certificates')"
fed_stop_all
for a in $TWO; do check "$a's log verifies" log_verify "$a"; done

# --- after the old certificates' notAfter
if [ -z "$FAKETIME_LIB" ]; then
	notok "libfaketime is installed (scripts/install-deps installs faketime)"
	finish; exit 1
fi
later() { faketime_sweep; env LD_PRELOAD="$FAKETIME_LIB" FAKETIME=+3d "$@"; }
check "with the clock 3 days on, probation's old certificate has expired" \
	fails quietly later openssl x509 -in "$FED/old-signing.crt" -noout -checkend 0
check "... and its new one has not" \
	quietly later openssl x509 -in "$PKI/agencies/$P/signing.crt" -noout -checkend 0
for a in $TWO; do
	check "3 days on, $a's log verifies (certificates from the PKI's certs)" \
		quietly later "$PPX" verify --log "$(fed_log_dir "$a")" --pki "$PKI"
done
# Without the old certificates' copies in certs/: they are in the log's
# ENTRY_DIRECTORY entries, if ppx verify takes them from there.
cp -a "$PKI" "$FED/pki-without-old"
removed=0
for f in "$FED"/pki-without-old/certs/*; do
	if cmp -s "$f" "$FED/old-signing.crt" || cmp -s "$f" "$FED/old-transport.crt"; then
		rm -f "$f"; removed=$((removed + 1))
	fi
done
diag "old certificate files in certs/: $removed ($(ls "$PKI/certs" | grep $P | tr '\n' ' '))"
rm -rf "$FED/pki-without-old/agencies/$P/previous"
for a in $TWO; do
	if later "$PPX" verify --log "$(fed_log_dir "$a")" --pki "$FED/pki-without-old" >"$FED/verify-$a.out" 2>&1; then
		ok "3 days on, $a's log verifies without the old certificates' files"
	elif [ "${VERIFY_FROM_LOG:-1}" = 1 ]; then
		notok "3 days on, $a's log verifies without the old certificates' files"
		diag "$(head -5 "$FED/verify-$a.out")"
	fi
done
finish
