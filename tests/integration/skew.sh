#!/usr/bin/env bash
# skew.sh — clock skew between partners (police's clock moved with
# libfaketime; probation's is right).
#
# 1. Police 2 minutes fast, inside probation's 5-minute allowance:
#    everything is delivered.
# 2. Police 10 minutes fast: probation refuses its messages as dated in the
#    future (REJECT_CLOCK_SKEW, transient), police keeps them queued and
#    says why; nothing is lost.  When probation's operator widens the
#    allowance, every held message arrives exactly once.
# 3. Police's clock put right: new messages flow as usual.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-200}
fed_init
# libfaketime shifts the wall clock only; ZeroMQ's timers keep real time.
# Under AddressSanitizer the preloaded library must be allowed to come first.
export FAKETIME_DONT_FAKE_MONOTONIC=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

batch() {	# batch NAME: N messages from police to probation
	fed_burst police.gwent probation.gwent "$N" "skew $1 message" >"$FED/$1.json"
}
# The library itself, through env (which execs), so that the pid fed_start
# records is the daemon's own: the faketime wrapper would stay its parent.
FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -1)
OFFSET=+0
at_offset() {	# at_offset OFFSET: (re)start police with its clock moved
	OFFSET=$1
	fed_stop police.gwent
	PPXD_WRAP="env LD_PRELOAD=$FAKETIME_LIB FAKETIME=$1 ${PPXD_WRAP:-}" \
		fed_start police.gwent
}
# Police's users share its machine, and its clock.
police_send() {
	faketime_sweep
	env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$OFFSET" \
		"$PPX" send --config "$(fed_conf police.gwent)" --json "$1" >/dev/null
}
refused_skew() {
	"$PPX" status --config "$(fed_conf probation.gwent)" | grep -q 'refused REJECT_CLOCK_SKEW'
}

if [ -z "$FAKETIME_LIB" ]; then
	notok "libfaketime is installed (scripts/install-deps installs faketime)"
	finish; exit 1
fi
fed_start probation.gwent || notok "probation starts"
at_offset +2m || notok "police starts 2 minutes fast"
batch two-minutes
police_send "$FED/two-minutes.json"
check "2 minutes fast: police's outbox settles" wait_until 60 fed_settled police.gwent probation.gwent
fed_tally police.gwent probation.gwent "police 2 minutes fast"

at_offset +10m || notok "police starts 10 minutes fast"
batch ten-minutes
held_before=$(received_from probation.gwent police.gwent | wc -l)
police_send "$FED/ten-minutes.json"
check "10 minutes fast: probation refuses them as REJECT_CLOCK_SKEW" wait_until 30 refused_skew
sleep 2	# police retries for a while
check "... and stores none of them" [ "$(received_from probation.gwent police.gwent | wc -l)" -eq "$held_before" ]
check "police keeps them queued" [ "$(fed_depth police.gwent probation.gwent)" = "$N" ]
check "police's log says why" grep -q 'in the future: check the sender' "$FED/police.gwent/ppxd.out"
check "probation's log says why" grep -q 'dated .* ms in the future' "$FED/probation.gwent/ppxd.out"

fed_stop probation.gwent
sed -i '/^\[delivery\]/a clock_skew_ms = 900000' "$(fed_conf probation.gwent)"
fed_start probation.gwent || notok "probation restarts allowing 15 minutes"
check "with 15 minutes allowed the held messages arrive" wait_until 60 fed_settled police.gwent probation.gwent
fed_tally police.gwent probation.gwent "police 10 minutes fast, then allowed"

at_offset +0 || notok "police restarts with its clock right"
batch right
police_send "$FED/right.json"
check "clocks agreeing: police's outbox settles" wait_until 60 fed_delivered police.gwent probation.gwent
fed_tally police.gwent probation.gwent "all three phases"
check "every message has a logged receipt" fed_all_receipted police.gwent probation.gwent
fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
