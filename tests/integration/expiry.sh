#!/usr/bin/env bash
# expiry.sh — expiry is never a surprise.  Police's own pair is reissued to
# end at a known time END; police's ppxd runs on a clock moved with
# libfaketime through a timestamp file holding an offset
# (FAKETIME_TIMESTAMP_FILE, re-read at once: FAKETIME_NO_CACHE), so the daemon's own loop sees the clock
# cross each level while it runs:
#
#   (a) 120 days before END: no warning in the log or in `ppx status`;
#   (b) 89, 29 and 6 days before: each level (90, 30, 7) logged once for
#       each of police's certificates and shown by `ppx status` (a WARNING
#       line, and warnDays on the certificate in --json);
#   (c) later within the same level, no second line; a restart within a
#       level says it again at start;
#   (d) the CRL: a CRL whose nextUpdate is 60 hours away warns "nextUpdate
#       in 2 days" once it is installed (the daemon reloads the file), and
#       on a clock 2 days later "in N hours"; `ppx status` shows both the
#       CRL's next update and the warning.
set -u
. "$(dirname "$0")/lib.sh"
PKI_TOOL=$TOP/certs/ppx-pki
export FAKETIME_DONT_FAKE_MONOTONIC=1 TZ=UTC
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -1)
if [ -z "$FAKETIME_LIB" ]; then
	notok "libfaketime is installed (scripts/install-deps installs faketime)"
	finish; exit 1
fi

fed_init
cp -a "$PKI" "$FED/pki"
PKI=$FED/pki
for a in $AGENCIES; do fed_config "$a"; done
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
P=police.gwent
OUT=$FED/$P/ppxd.out
CLOCK=$FED/faketime

# END: 200 days from now, to the second (ppx-pki wants whole days from a
# start).  The CRL is made to last beyond it, so that only the
# certificates warn in (a)-(c).
START_S=$(date -u +%s)
END_S=$(( START_S + 200 * 86400 ))
START=$(date -u -d "@$START_S" +%Y%m%d%H%M%SZ)
END=$(date -u -d "@$END_S" +%Y%m%d%H%M%SZ)
reissue() { "$PKI_TOOL" agency "$PKI" $P --force --start "$START" --end "$END" >/dev/null; }
check "police's pair is reissued to end at $END" reissue
"$PKI_TOOL" crl "$PKI" --days 400 >/dev/null 2>&1 && cp "$PKI/ca/crl.pem" "$FED/crl.pem"

# The file holds an offset from the real clock ("+N" seconds), so that the
# faked clock goes on ticking.
set_clock_at() {	# set_clock_at EPOCH: the clock set to EPOCH now
	local off=$(( $1 - $(date -u +%s) ))
	[ "$off" -ge 0 ] && off=+$off
	echo "$off" >"$CLOCK.new"
	mv "$CLOCK.new" "$CLOCK"
}
set_clock() {	# set_clock DAYS: the clock DAYS days (less an hour) before END
	set_clock_at $(( END_S - $1 * 86400 + 3600 ))
}
faked() {
	faketime_sweep
	env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$CLOCK" \
		FAKETIME_NO_CACHE=1 "$@"
}
start_police() {
	PPXD_WRAP="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$CLOCK FAKETIME_NO_CACHE=1 ${PPXD_WRAP:-}" \
		fed_start $P
}
status() { faked "$PPX" status --config "$(fed_conf $P)" "$@"; }
lines() {	# lines PATTERN: how many lines of police's output match
	grep -c -- "$1" "$OUT" 2>/dev/null || true
}
SIGNING="own signing certificate $PKI/agencies/$P/signing.crt"
TRANSPORT="own transport certificate $PKI/agencies/$P/transport.crt"
warn_days() {	# warn_days ROLE: warnDays of police's own certificate
	status --json | jq -r --arg r "$1" \
		'.certificates[] | select(.role == $r) | .warnDays // 0'
}

# (a) 120 days before: nothing.
set_clock 120
start_police || notok "police starts 120 days before END"
st=$(status)
diag "$(grep -E '^certificate|^CRL' <<<"$st")"
check "(a) 120 days: ppx status shows police's signing certificate with 119 days left" \
	grep -q '^certificate signing .*(119 days left)' <<<"$st"
check "(a) ... and no WARNING" fails grep -q '^WARNING' <<<"$st"
check "(a) ... nor any expiry line in the log" [ "$(lines 'expires in')" -eq 0 ]
check "(a) ... warnDays 0" [ "$(warn_days signing)" = 0 ]

# (b) each level, crossed while the daemon runs: the hourly check on the
# loop's clock (the clock jumps by days, so the next iteration checks).
level() {	# level DAYS_BEFORE LEVEL
	local left=$(($1 - 1)) st
	set_clock "$1"
	check "(b) $1 days before: the log says the signing certificate expires in $left days" \
		wait_until 20 grep -q "$SIGNING (serial [0-9a-f]*) expires in $left days" "$OUT"
	check "(b) ... and the transport certificate" \
		wait_until 20 grep -q "$TRANSPORT (serial [0-9a-f]*) expires in $left days" "$OUT"
	st=$(status)
	check "(b) ... ppx status warns" \
		grep -q "^WARNING: $SIGNING (serial [0-9a-f]*) expires in $left days" <<<"$st"
	check "(b) ... and shows $left days left" grep -q "^certificate signing .*($left days left)" <<<"$st"
	check "(b) ... warnDays $2 on both" [ "$(warn_days signing)/$(warn_days transport)" = "$2/$2" ]
	metrics_level "$1"
}
# The same in `ppx metrics`: police's own signing certificate's seconds
# left (an hour less than DAYS days, give or take the seconds the check
# takes), the warnings counted, and the exposition valid for promtool.
metrics_level() {	# metrics_level DAYS_BEFORE
	local m secs lo hi
	m=$(faked "$PPX" metrics --config "$(fed_conf $P)")
	secs=$(awk -v a="$P" '/^ppx_certificate_expiry_seconds\{/ && /role="signing"/ &&
		index($0, "owner=\"" a "\"") { print int($NF) }' <<<"$m" | head -1)
	lo=$(( $1 * 86400 - 3600 - 120 )); hi=$(( $1 * 86400 - 3600 + 120 ))
	check "(b) ... ppx metrics: the signing certificate expires in $1 days less an hour (${secs:-none} s)" \
		[ -n "$secs" ] && [ "$secs" -ge "$lo" ] && [ "$secs" -le "$hi" ]
	check "(b) ... ppx_expiry_warnings counts the warnings (at least the two certificates)" \
		awk '/^ppx_expiry_warnings\{/ { exit !($NF >= 2) }' <<<"$m"
	check "(b) ... and promtool accepts the exposition" \
		bash -c 'promtool check metrics >/dev/null' <<<"$m"
}
level 89 90
level 29 30
level 6 7
grep 'expires in' "$OUT" | sed 's/^/# /'

# (c) once per level.
n=$(lines "$SIGNING .* expires in")
set_clock 4
sleep 2
status >/dev/null
check "(c) later within the 7-day level: no second line" [ "$(lines "$SIGNING .* expires in")" -eq "$n" ]
check "(c) ... but ppx status says 3 days now" \
	grep -q "^WARNING: $SIGNING .* expires in 3 days" <<<"$(status)"
check "(c) one line per level over the run: 90, 30, 7" [ "$n" -eq 3 ]
fed_stop $P
start_police || notok "police starts again 4 days before END"
check "(c) a restart within the level says it at start" \
	wait_until 20 [ "$(lines "$SIGNING .* expires in 3 days")" -eq 1 ]

# (d) the CRL.
NOW=$(date -u +%s)
set_clock_at "$NOW"
"$PKI_TOOL" crl "$PKI" --hours 60 >/dev/null 2>&1 && cp "$PKI/ca/crl.pem" "$FED/crl.pem.new" &&
	mv "$FED/crl.pem.new" "$FED/crl.pem"
check "(d) a CRL 60 hours from nextUpdate: the log says to install a new one" \
	wait_until 20 grep -q "CRL $FED/crl.pem nextUpdate in 2 days .*: install a new one" "$OUT"
st=$(status)
check "(d) ... ppx status shows the CRL's next update" grep -q '^CRL next update ' <<<"$st"
check "(d) ... and warns" grep -q "^WARNING: CRL $FED/crl.pem nextUpdate in 2 days" <<<"$st"
m=$(faked "$PPX" metrics --config "$(fed_conf $P)")
crl_s=$(awk '/^ppx_crl_next_update_seconds/ { print int($NF) }' <<<"$m")
check "(d) ... ppx metrics: the CRL's nextUpdate 60 hours away (${crl_s:-none} s)" \
	[ -n "$crl_s" ] && [ "$crl_s" -le $(( 60 * 3600 )) ] && [ "$crl_s" -ge $(( 59 * 3600 )) ]
check "(d) ... the certificates' warnings are gone on today's clock" \
	fails grep -q "^WARNING: own" <<<"$st"
set_clock_at $(( NOW + 2 * 86400 ))
check "(d) two days later: nextUpdate in hours" \
	wait_until 20 grep -q "CRL $FED/crl.pem nextUpdate in 1[01] hours" "$OUT"
check "(d) ... and ppx status says so" \
	grep -q "^WARNING: CRL $FED/crl.pem nextUpdate in 1[01] hours" <<<"$(status)"
grep 'CRL.*nextUpdate' "$OUT" | sed 's/^/# /'
finish
