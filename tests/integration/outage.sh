#!/usr/bin/env bash
# outage.sh — probation is down while police queues 1,000 messages; when
# probation comes back every message is delivered exactly once, in order.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-1000}
fed_init
fed_start police.gwent || { notok "police starts"; finish; exit 1; }

fed_burst police.gwent probation.gwent "$N" "outage message" >"$FED/burst.json"
out=$(ppx_send police.gwent "$FED/burst.json")
check "police queued all $N messages while probation is down" [ "$(grep -c "probation.gwent=QUEUED" <<<"$out")" -eq "$N" ]
depth=$("$PPX" status --config "$(fed_conf police.gwent)" --json | grep -o '"outboxDepth":"[0-9]*"' | grep -o '[0-9]*')
check "ppx status shows an outbox of $N for probation" [ "${depth:-0}" -eq "$N" ]

sleep 2	# let police retry against a closed port for a while
fed_start probation.gwent || notok "probation starts"
received() { [ "$(log_count probation.gwent ENTRY_RECEIVED)" -ge "$N" ]; }
delivered() { [ "$(receipted_count police.gwent)" -ge "$N" ]; }
check "probation received all $N after it came back" wait_until 60 received
check "police logged a receipt for all $N" wait_until 60 delivered
sleep 1
ids_sent=$(ppx_log police.gwent | grep '"kind":"ENTRY_SENT"' | grep -o '"message_id":"[0-9a-f]*"')
ids_recv=$(ppx_log probation.gwent | grep '"kind":"ENTRY_RECEIVED"' | grep -o '"message_id":"[0-9a-f]*"')
check "each message was received exactly once" [ "$(sort -u <<<"$ids_recv" | wc -l)" -eq "$N" ] 
check "no message was received twice" [ "$(wc -l <<<"$ids_recv")" -eq "$N" ]
check "probation received them in the order police sent them" [ "$ids_sent" = "$ids_recv" ]
fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
