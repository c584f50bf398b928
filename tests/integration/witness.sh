#!/usr/bin/env bash
# witness.sh — partners witness each other's logs (PROTOCOL.md 11): police
# and probation cosign each other's checkpoints both ways, and the C2SP
# export verifies with an independent checker (tests/tools/pyppx/note.py).
set -u
. "$(dirname "$0")/lib.sh"
AGENCIES="police.gwent probation.gwent"
fed_init
for a in $AGENCIES; do
	fed_config "$a" $'[evidence]\nwitness_interval_ms = 200'
done

fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }

body_json police.gwent probation.gwent ARREST "Arrested 21:40" >"$FED/arrest.json"
out=$(ppx_send police.gwent "$FED/arrest.json" --wait --timeout 20 2>&1)
check "a message is delivered with witnessing on" [ $? -eq 0 ]

status_json() { "$PPX" status --json --config "$(fed_conf "$1")" 2>/dev/null; }
# witnessed A B: A's status shows B's log held and its own cosigned by B
witnessed() {
	status_json "$1" | jq -e --arg p "$2" \
		'.witnesses[] | select(.agency == $p) |
		 select((.heldSize // 0 | tonumber) > 0 and (.cosignedSize // 0 | tonumber) > 0)' >/dev/null
}
check "police holds probation's checkpoint and probation cosigned police's" \
	wait_until 20 witnessed police.gwent probation.gwent
check "... and the same the other way" \
	wait_until 20 witnessed probation.gwent police.gwent
cosigned_logged() { [ "$(log_count "$1" ENTRY_COSIGNED)" -ge 1 ]; }
check "police logged ENTRY_COSIGNED" wait_until 20 cosigned_logged police.gwent
check "police logged ENTRY_WITNESSED" [ "$(log_count police.gwent ENTRY_WITNESSED)" -ge 1 ]
check "probation logged ENTRY_COSIGNED" wait_until 20 cosigned_logged probation.gwent
check "no alarm anywhere" [ "$(log_count police.gwent ENTRY_WITNESS_ALARM)$(log_count probation.gwent ENTRY_WITNESS_ALARM)" = 00 ]
out=$("$PPX" status --config "$(fed_conf police.gwent)" 2>&1)
diag "$out"
check "ppx status shows witnessing per partner" grep -qi "witness" <<<"$out"

# More messages: the logs grow and are cosigned again, with proofs.
# The size cosigned is read before the burst: the request for the grown
# log may be answered before the burst's --wait returns.
sz() { status_json police.gwent | jq -r '.witnesses[0].cosignedSize // 0 | tonumber'; }
first=$(sz)
fed_burst police.gwent probation.gwent 5 "burst" >"$FED/burst.json"
ppx_send police.gwent "$FED/burst.json" --wait --timeout 20 >/dev/null 2>&1
grown() { [ "$(sz)" -gt "$first" ]; }
check "police's grown log is cosigned again" wait_until 20 grown

out=$("$PPX" checkpoint --c2sp --config "$(fed_conf police.gwent)" 2>&1)
rc=$?
diag "$out"
check "ppx checkpoint --c2sp prints our cosigned checkpoint" [ "$rc" -eq 0 ]
printf '%s\n' "$out" >"$FED/police.note"
check "pyppx verifies the log's note signature and the cosignature" \
	pycheck note "$FED/police.note" \
	--log police.gwent="$PKI/agencies/police.gwent/signing.crt" \
	--witness probation.gwent="$PKI/agencies/probation.gwent/signing.crt"
sed '2s/^\([0-9][0-9]*\)$/1\1/' "$FED/police.note" >"$FED/bad.note"
check "... and refuses it with the size changed" \
	fails pycheck note "$FED/bad.note" \
	--log police.gwent="$PKI/agencies/police.gwent/signing.crt" \
	--witness probation.gwent="$PKI/agencies/probation.gwent/signing.crt"
out=$("$PPX" checkpoint --c2sp --config "$(fed_conf police.gwent)" probation.gwent 2>&1)
printf '%s\n' "$out" >"$FED/probation.note"
check "probation's checkpoint that police cosigned verifies too" \
	pycheck note "$FED/probation.note" \
	--log probation.gwent="$PKI/agencies/probation.gwent/signing.crt" \
	--witness police.gwent="$PKI/agencies/police.gwent/signing.crt"

# [partner probation.gwent] witness = no at police (a version-1 peer):
# police neither asks probation to cosign nor cosigns for it; messages
# still flow.
fed_stop police.gwent
sed -i '/^\[partner probation.gwent\]/a witness = no' "$(fed_conf police.gwent)"
fed_start police.gwent || notok "police restarts"
cosigned_before=$(log_count police.gwent ENTRY_COSIGNED)
witnessed_before=$(log_count police.gwent ENTRY_WITNESSED)
body_json police.gwent probation.gwent ARREST "Arrested again" >"$FED/again.json"
check "with witness = no for probation, a message is delivered" \
	ppx_send police.gwent "$FED/again.json" --wait --timeout 20
body_json probation.gwent police.gwent ARREST "Noted" >"$FED/back.json"
check "... and one the other way" \
	ppx_send probation.gwent "$FED/back.json" --wait --timeout 20
sleep 2	# ten witnessing intervals: nothing may come of them
check "... and police logs no cosignature from probation" \
	[ "$(log_count police.gwent ENTRY_COSIGNED)" -eq "$cosigned_before" ]
check "... and cosigns nothing for it" \
	[ "$(log_count police.gwent ENTRY_WITNESSED)" -eq "$witnessed_before" ]

fed_stop_all
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
