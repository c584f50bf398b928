#!/usr/bin/env bash
# diskfull.sh — a log that fills.
#
# 1. Probation's log is capped at 1 MiB (log_max_mb) while police sends
#    more than fits: probation refuses what it cannot store with the
#    transient REJECT_STORAGE_FULL, police keeps those queued, probation's
#    own users are told "storage full", and every message police holds a
#    receipt for is in probation's log.  With the cap raised, everything
#    arrives exactly once.
# 2. Police's log lives on a 3 MiB file system (tmpfs; skipped where this
#    machine cannot mount one): when it fills, `ppx send` is refused with a
#    clear error, the daemon keeps running, nothing it accepted is lost, and
#    once the file system grows it carries on where it stopped.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-1500}
fed_init
sed -i '/^\[agency\]/a log_max_mb = 1' "$(fed_conf probation.gwent)"

fed_burst police.gwent probation.gwent "$N" \
	"disk full message {}, padded to the size of a real notification: $(printf '%0400d' 0)" >"$FED/burst.json"
body_json probation.gwent police.gwent ARREST "from probation while full" >"$FED/one.json"

refused_full() { grep -q 'storage full\|is full' "$FED/probation.gwent/ppxd.out"; }
# Messages police holds a receipt for that probation does not have.
receipted_not_stored() {
	comm -23 <(receipted_ids police.gwent | sort -u) \
		<(received_from probation.gwent police.gwent | sort -u) | grep -c . || true
}

fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
out=$(ppx_send police.gwent "$FED/burst.json" 2>&1)
check "police accepted all $N messages" [ "$(grep -c 'probation.gwent=' <<<"$out")" -eq "$N" ]
check "probation's log fills and it says so" wait_until 60 refused_full
sleep 2	# police retries against the full log for a while
stored=$(log_count probation.gwent ENTRY_RECEIVED)
diag "probation stored $stored of $N before its 1 MiB log filled; police holds receipts for $(receipted_count police.gwent)"
check "probation stored some, not all" eval '[ "$stored" -gt 0 ] && [ "$stored" -lt "$N" ]'
st=$("$PPX" status --config "$(fed_conf probation.gwent)")
diag "$(grep refused <<<"$st")"
check "probation refused the rest as REJECT_STORAGE_FULL (ppx status)" \
	grep -q 'refused REJECT_STORAGE_FULL' <<<"$st"
check "probation is still running and answering" fed_alive probation.gwent
# What room is left takes single messages; then probation's users are told.
own=0
while out=$(ppx_send probation.gwent "$FED/one.json" 2>&1) && [ "$own" -lt 500 ]; do
	own=$((own + 1))
done
diag "probation's own user sent $own more, then: $out"
check "probation's own user is refused once the log is full" [ "$own" -lt 500 ]
check "... with a clear error" grep -qi 'full' <<<"$out"
check "every message police holds a receipt for is in probation's log" [ "$(receipted_not_stored)" -eq 0 ]
held=$(fed_depth police.gwent probation.gwent)
check "police still holds the rest in its outbox ($held)" [ "${held:-0}" -gt 0 ]

fed_stop probation.gwent
check "probation's full log still verifies" log_verify probation.gwent
sed -i 's/^log_max_mb = 1$/log_max_mb = 64/' "$(fed_conf probation.gwent)"
fed_start probation.gwent || notok "probation restarts with a larger cap"
check "police's outbox settles once probation has room" wait_until 120 fed_delivered police.gwent probation.gwent
fed_tally police.gwent probation.gwent "capped receiver log"
check "every message has a logged receipt" fed_all_receipted police.gwent probation.gwent

# ---- 2. the sender's file system fills -----------------------------------
fed_stop police.gwent
mnt=$FED/police-fs
mkdir -p "$mnt"
if mount -t tmpfs -o size=3m,mode=0700 ppx-test "$mnt" 2>/dev/null; then
	trap 'umount "$mnt" 2>/dev/null' EXIT
	sed -i "s|^log_dir = .*|log_dir = $mnt/log|" "$(fed_conf police.gwent)"
	fed_start police.gwent || notok "police starts on a 3 MiB file system"
	accepted=0 err=""
	# Send in chunks of 50 until police refuses.
	head -50 "$FED/burst.json" >"$FED/chunk.json"
	for c in $(seq 1 200); do
		if out=$(ppx_send police.gwent "$FED/chunk.json" 2>&1); then
			accepted=$((accepted + $(grep -c 'probation.gwent=' <<<"$out")))
		else
			accepted=$((accepted + $(grep -c 'probation.gwent=' <<<"$out")))
			err=$(grep -iv 'probation.gwent=' <<<"$out" | head -1)
			break
		fi
	done
	diag "police accepted $accepted messages before its file system filled: $err"
	check "ppx send is refused when the file system is full" [ -n "$err" ]
	check "... with a clear error" grep -qi 'full\|no space' <<<"$err"
	check "police is still running and answering" fed_alive police.gwent
	check "every message police accepted is in probation's log" \
		wait_until 180 eval '[ -z "$(comm -23 <(sent_to police.gwent probation.gwent | sort) <(received_from probation.gwent police.gwent | sort -u))" ]'
	mount -o remount,size=64m "$mnt"
	check "once the file system grows police settles without a restart" \
		wait_until 120 fed_settled police.gwent probation.gwent
	send_chunk() { ppx_send police.gwent "$FED/chunk.json" >/dev/null; }
	check "... and takes new work" send_chunk
	check "... which is delivered" wait_until 60 fed_settled police.gwent probation.gwent
	fed_tally police.gwent probation.gwent "full sender file system"
	fed_stop police.gwent
	check "police's log verifies" log_verify police.gwent
	fed_stop probation.gwent
	umount "$mnt"
	trap - EXIT
else
	ok "# SKIP cannot mount a tmpfs here: the file-system case needs root"
fi
fed_stop probation.gwent
check "probation's log verifies" log_verify probation.gwent
finish
