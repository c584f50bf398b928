#!/usr/bin/env bash
# batch_sig.sh — batch signatures (docs/PROTOCOL.md 3.4) between real
# daemons:
#
#   (a) police and probation, both with batch_signatures = yes (the
#       default): after probation's first receipt says it accepts batches,
#       a burst from police goes out under batch signatures; every message
#       arrives once and is receipted, both logs verify with `ppx verify`,
#       and one message's evidence bundle verifies on its own, in ppx and
#       in the independent checker (pyppx), which says it is batch-signed;
#   (b) prison.cardiff with batch_signatures = no, behaving as a version-1
#       peer: its receipts never say accepts_batch, so police keeps signing
#       to it one by one, and everything still arrives both ways;
#   (c) a hostile partner (tests/tools/inject) sends forged batch
#       envelopes to probation: each is refused, none stored, and probation
#       keeps running; an honest batch from it is stored, at prison too
#       (batch_signatures = no asks for none, but refuses none);
#   (d) probation restarted with batch_signatures = no: what police signed
#       in batches before probation's first receipt said so is still
#       stored (nothing in flight is lost), and from that receipt on
#       police signs alone and everything is stored;
#   (e) probation and prison both taking batches, a burst from police to
#       probation, to prison and to both, interleaved: every frame police
#       sent is checked in its evidence bundle (pyppx): the frames under one
#       batch signature (one root) all go to the same recipient set and are
#       all of its tree_size leaves, so no recipient learns of messages to
#       another agency (PROTOCOL.md 3.4);
#   (f) police with batch_sign_wait_ms = 1000: five messages from five
#       separate `ppx send` calls 0.05 s apart wait for each other and go
#       out under one batch signature (tree_size 5); without the wait
#       each would be sealed alone.
set -u
. "$(dirname "$0")/lib.sh"
INJECT=$TOP/$BUILD/tests/inject
CA=$PKI/ca/ca.crt
N=${BATCH_N:-200}
[ -x "$INJECT" ] || { notok "the injector is built (make $BUILD/tests/inject)"; finish; exit 1; }
fed_init
sed -i '/^\[delivery\]/a batch_signatures = no' "$(fed_conf prison.cardiff)"
for a in police.gwent probation.gwent prison.cardiff; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done

prove() {	# prove AGENCY OUT ID
	"$PPX" prove --log "$(fed_log_dir "$1")" --pki "$PKI" -o "$2" "$3" 2>>"$FED/prove.err"
}
# The last message police sent to $1, by id.
last_sent() { sent_to police.gwent "$1" | tail -1; }

# ---- (a) police -> probation, batched ----
body_json police.gwent probation.gwent ARREST "first, signed alone" >"$FED/first.json"
out=$(ppx_send police.gwent "$FED/first.json" --wait --timeout 20 2>&1)
check "(a) a first message is delivered (its receipt says probation accepts batches)" \
	grep -q "probation.gwent=DELIVERED" <<<"$out"
fed_burst police.gwent probation.gwent "$N" "batched {}" >"$FED/burst.json"
ppx_send police.gwent "$FED/burst.json" >"$FED/burst.out" 2>&1
check "(a) police accepts the burst of $N" [ $? -eq 0 ]
check "(a) every message to probation is receipted within 60 s" \
	wait_until 60 fed_all_receipted police.gwent probation.gwent
fed_tally police.gwent probation.gwent "(a) police -> probation"
check "(a) probation received $((N + 1)) messages" \
	[ "$(received_from probation.gwent police.gwent | sort -u | wc -l)" -eq $((N + 1)) ]
id=$(last_sent probation.gwent)
fed_stop police.gwent
fed_stop probation.gwent
check "(a) police's log verifies (ppx verify)" log_verify police.gwent
check "(a) probation's log verifies (ppx verify)" log_verify probation.gwent
prove police.gwent "$FED/batched.ppxe" "police.gwent/$id"
out=$("$PPX" verify --bundle "$FED/batched.ppxe" --ca "$CA" 2>&1)
rc=$?
diag "$(head -5 <<<"$out")"
check "(a) the bundle of a batched message verifies on its own" [ "$rc" -eq 0 ]
out=$(pycheck evidence "$FED/batched.ppxe" --ca "$CA" 2>&1)
rc=$?
diag "$(grep -i batch <<<"$out")"
check "(a) ... and in the independent checker" [ "$rc" -eq 0 ]
check "(a) ... which finds it batch-signed" grep -q "batch-signed: body [0-9]* of [0-9]*" <<<"$out"
prove probation.gwent "$FED/received.ppxe" "police.gwent/$id"
check "(a) probation's bundle of it verifies too" \
	"$PPX" verify --bundle "$FED/received.ppxe" --ca "$CA"
check "(a) ... in the independent checker too" \
	pycheck evidence "$FED/received.ppxe" --ca "$CA"

# ---- (b) a peer that does not take batches ----
fed_start police.gwent || notok "police starts again"
fed_start probation.gwent || notok "probation starts again"
body_json police.gwent prison.cardiff ARREST "to prison, first" >"$FED/p1.json"
out=$(ppx_send police.gwent "$FED/p1.json" --wait --timeout 20 2>&1)
check "(b) police delivers to prison" grep -q "prison.cardiff=DELIVERED" <<<"$out"
fed_burst police.gwent prison.cardiff 50 "to prison {}" >"$FED/pburst.json"
ppx_send police.gwent "$FED/pburst.json" >/dev/null 2>&1
check "(b) all 51 messages to prison are receipted within 60 s" \
	wait_until 60 fed_all_receipted police.gwent prison.cardiff
fed_tally police.gwent prison.cardiff "(b) police -> prison"
check "(b) prison refused nothing" [ "$(log_count prison.cardiff ENTRY_REJECTED)" -eq 0 ]
body_json prison.cardiff police.gwent RELEASE_DATE "release date set" >"$FED/rel.json"
out=$(ppx_send prison.cardiff "$FED/rel.json" --wait --timeout 20 2>&1)
check "(b) prison delivers to police" grep -q "police.gwent=DELIVERED" <<<"$out"
pid=$(last_sent prison.cardiff)
fed_stop police.gwent
prove police.gwent "$FED/single.ppxe" "police.gwent/$pid"
out=$(pycheck evidence "$FED/single.ppxe" --ca "$CA" 2>&1)
check "(b) a message to prison verifies in the independent checker" [ $? -eq 0 ]
check "(b) ... signed alone, not in a batch" fails grep -q "batch-signed" <<<"$out"
fed_start police.gwent || notok "police starts a third time"

# ---- (c) a hostile partner ----
inject() {	# inject TO ARGS...
	local to=$1; shift
	"$INJECT" --pki "$PKI" --endpoint "tcp://127.0.0.1:$(fed_port "$to")" \
		--to "$to" "$@" 2>>"$FED/inject.err"
}
before=$(log_count probation.gwent ENTRY_RECEIVED)
for c in wrong-index wrong-path swapped other-purpose other-signer; do
	out=$(inject probation.gwent --as police.gwent batch "$c")
	diag "batch $c: $out"
	check "(c) batch $c: refused as a bad signature" \
		bash -c '[ -n "$1" ] && ! grep -qv "^REFUSED REJECT_BAD_SIGNATURE " <<<"$1"' _ "$out"
done
for c in long-path index-outside size-zero size-huge short-hash; do
	out=$(inject probation.gwent --as police.gwent batch "$c")
	diag "batch $c: $out"
	check "(c) batch $c: refused as a bad frame" grep -q "^REFUSED REJECT_BAD_FRAME .*batch" <<<"$out"
done
check "(c) no forged message was stored" \
	[ "$(log_count probation.gwent ENTRY_RECEIVED)" -eq "$before" ]
check "(c) probation keeps running" fed_alive probation.gwent
out=$(inject probation.gwent --as police.gwent batch good)
diag "batch good: $out"
check "(c) an honest batch from the injector is stored, all 4" \
	[ "$(grep -c "^STORED " <<<"$out")" -eq 4 ]
out=$(inject prison.cardiff --as police.gwent batch good)
diag "to prison: $out"
check "(c) prison, which asks for no batches, still stores an honest batch, all 4" \
	[ "$(grep -c "^STORED " <<<"$out")" -eq 4 ]
check "(c) probation's refusals are logged, and its log still verifies" \
	bash -c "[ \"\$(\"$PPX\" log --log \"$(fed_log_dir probation.gwent)\" --json | grep -c ENTRY_REJECTED)\" -ge 11 ]"

# ---- (d) a partner that stops accepting batches ----
body_json police.gwent probation.gwent ARREST "before the change" >"$FED/d1.json"
out=$(ppx_send police.gwent "$FED/d1.json" --wait --timeout 20 2>&1)
check "(d) police delivers to probation (which accepts batches)" grep -q "probation.gwent=DELIVERED" <<<"$out"
fed_stop probation.gwent
sed -i '/^\[delivery\]/a batch_signatures = no' "$(fed_conf probation.gwent)"
fed_start probation.gwent || notok "probation starts without batches"
rej0=$(ppx_log probation.gwent | grep -c '"reason":"REJECT_BATCH_UNSUPPORTED"' || true)
rcv0=$(log_count probation.gwent ENTRY_RECEIVED)
fed_burst police.gwent probation.gwent 20 "after the change {}" >"$FED/d2.json"
ppx_send police.gwent "$FED/d2.json" >/dev/null 2>&1
check "(d) police settles the 20 with probation within 60 s" \
	wait_until 60 fed_settled police.gwent probation.gwent
rej=$(( $(ppx_log probation.gwent | grep -c '"reason":"REJECT_BATCH_UNSUPPORTED"' || true) - rej0 ))
rcv=$(( $(log_count probation.gwent ENTRY_RECEIVED) - rcv0 ))
diag "(d) of 20 sent before probation's first receipt: $rcv stored, $rej refused as batch-signed"
check "(d) ... all 20 stored, none refused (signed before its receipt said no)" \
	[ "$rcv" -eq 20 -a "$rej" -eq 0 ]
rcv0=$(log_count probation.gwent ENTRY_RECEIVED)
fed_burst police.gwent probation.gwent 20 "after its receipt {}" >"$FED/d3.json"
ppx_send police.gwent "$FED/d3.json" >/dev/null 2>&1
check "(d) after its receipt said no, police signs alone: all 20 more stored within 60 s" \
	wait_until 60 bash -c "[ \"\$(\"$PPX\" log --log \"$(fed_log_dir probation.gwent)\" --json | grep -c ENTRY_RECEIVED)\" -ge $((rcv0 + 20)) ]"

# ---- (e) one batch per recipient set ----
fed_stop probation.gwent
fed_stop prison.cardiff
sed -i '/^batch_signatures = no/d' "$(fed_conf probation.gwent)" "$(fed_conf prison.cardiff)"
fed_start probation.gwent || notok "probation starts with batches again"
fed_start prison.cardiff || notok "prison starts with batches"
for to in probation.gwent prison.cardiff; do
	body_json police.gwent "$to" ARREST "(e) first to $to" >"$FED/e1.json"
	out=$(ppx_send police.gwent "$FED/e1.json" --wait --timeout 20 2>&1)
	check "(e) police delivers to $to (its receipt says it accepts batches)" \
		grep -q "$to=DELIVERED" <<<"$out"
done
both='probation.gwent","prison.cardiff'
both_receipted() {
	fed_all_receipted police.gwent probation.gwent &&
		fed_all_receipted police.gwent prison.cardiff
}
for i in $(seq -w 1 12); do
	body_json police.gwent probation.gwent ARREST "(e) to probation $i"
	body_json police.gwent prison.cardiff ARREST "(e) to prison $i"
	[ $((10#$i % 3)) -eq 0 ] && body_json police.gwent "$both" ARREST "(e) to both $i"
done >"$FED/mixed.json"
sent0=$(log_count police.gwent ENTRY_SENT)
ppx_send police.gwent "$FED/mixed.json" >/dev/null 2>&1
check "(e) police accepts the mixed burst of 28" [ $? -eq 0 ]
check "(e) all of it is receipted by probation and prison within 60 s" \
	wait_until 60 both_receipted
fed_stop police.gwent
ppx_log police.gwent | jq -c 'select(.kind == "ENTRY_SENT") | [.message_id, (.recipients | sort | join("+"))]' |
	tail -n +$((sent0 + 1)) >"$FED/mixed.sent"
check "(e) police logged 28 SENT entries for it" [ "$(wc -l <"$FED/mixed.sent")" -eq 28 ]
# Each frame's batch (by its root): a batch must hold only frames of one
# recipient set, and all its tree_size leaves must be frames of this burst
# (so tree_size counts messages to that set and to no one else).
bad=0 n=0
: >"$FED/mixed.roots"
while IFS= read -r row; do
	id=$(jq -r '.[0]' <<<"$row")
	set_=$(jq -r '.[1]' <<<"$row")
	prove police.gwent "$FED/e.ppxe" "police.gwent/$id" </dev/null || { bad=$((bad + 1)); continue; }
	out=$(pycheck evidence "$FED/e.ppxe" --ca "$CA" 2>&1 </dev/null) || { bad=$((bad + 1)); diag "$out"; continue; }
	n=$((n + 1))
	sed -n "s/.*batch-signed: body [0-9]* of \([0-9]*\), root \([0-9a-f]*\).*/\2 \1 $set_/p" <<<"$out" >>"$FED/mixed.roots"
done <"$FED/mixed.sent"
diag "(e) $n bundles checked, $(wc -l <"$FED/mixed.roots") batch-signed, in $(cut -d' ' -f1 "$FED/mixed.roots" | sort -u | wc -l) batches"
wrong=$(awk '{ n[$1]++; size[$1] = $2; if (!($1 in set)) set[$1] = $3; else if (set[$1] != $3) mixed[$1] = 1 }
	END { for (r in n) if (mixed[r] || n[r] != size[r]) print r, n[r] " of " size[r] (mixed[r] ? ", mixed sets" : "") }' "$FED/mixed.roots")
[ -n "$wrong" ] && diag "(e) batches that are wrong: $wrong"
check "(e) all 28 bundles verify in the independent checker" [ "$bad" -eq 0 -a "$n" -eq 28 ]
check "(e) every batch holds only messages to one recipient set, all of its tree_size of them" [ -z "$wrong" ]
check "(e) ... and batches were made (at least one per recipient set)" \
	[ "$(cut -d' ' -f3 "$FED/mixed.roots" | sort -u | wc -l)" -eq 3 ]

# ---- (f) submissions wait for a batch: batch_sign_wait_ms ----
sed -i '/^\[delivery\]/a batch_sign_wait_ms = 1000' "$(fed_conf police.gwent)"
fed_start police.gwent || notok "police starts a fourth time"
body_json police.gwent probation.gwent ARREST "(f) first" >"$FED/f1.json"
out=$(ppx_send police.gwent "$FED/f1.json" --wait --timeout 20 2>&1)
check "(f) a first message is delivered at once (nothing to wait for before probation's receipt)" \
	grep -q "probation.gwent=DELIVERED" <<<"$out"
senders=()
for i in 1 2 3 4 5; do
	body_json police.gwent probation.gwent ARREST "(f) separate send $i" >"$FED/f$i.json"
done
for i in 1 2 3 4 5; do
	ppx_send police.gwent "$FED/f$i.json" >"$FED/f$i.out" 2>&1 &
	senders+=($!)
	sleep 0.05	# apart: without the wait, each would be sealed alone
done
wait "${senders[@]}"
check "(f) five separate ppx send calls, 0.05 s apart, are all accepted" \
	[ "$(cat "$FED"/f[1-5].out | grep -c "probation.gwent")" -eq 5 ]
check "(f) all five are receipted by probation within 60 s" \
	wait_until 60 fed_all_receipted police.gwent probation.gwent
id=$(sent_to police.gwent probation.gwent | tail -1)
prove police.gwent "$FED/f.ppxe" "police.gwent/$id"
out=$(pycheck evidence "$FED/f.ppxe" --ca "$CA" 2>&1)
diag "(f) $(grep -i batch-signed <<<"$out")"
check "(f) they waited for each other: one batch signature over the five" \
	grep -q "batch-signed: body [1-5] of 5," <<<"$out"
fed_stop_all
check "(c) probation's log verifies after it all" log_verify probation.gwent
check "(c) prison's log verifies" log_verify prison.cardiff
finish
