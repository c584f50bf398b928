#!/usr/bin/env bash
# restore_py.sh — a restore (PROTOCOL.md 14) judged by pyppx.restore, a
# verifier written from PROTOCOL.md and ppx.proto alone.
#
# police.gwent and probation.gwent exchange a few messages (witnessing
# every 0.3 s), probation is backed up, they exchange more, probation is
# stopped and restored from the copy, started, and they exchange again
# until both outboxes are empty; then again with a copy taken just before
# the stop.  pyppx.restore accepts probation's log (each ENTRY_RESTORED:
# the signed notice, its checkpoint the root of the copy, computed in
# Python; its replaced size and root those of the log put aside) and
# police's (each ENTRY_PARTNER_RESTORED: the notice, byte for byte one of
# probation's; the held checkpoint; the count of messages queued again,
# from police's own receipts).  Then it refuses notices made from the real one
# that each break one rule (re-signed with the demo PKI's keys so that
# only that rule breaks), naming the rule: an unknown field in the frame,
# a flipped signature byte, the checkpoint's root off by one bit, its tree
# size one more and one less than the copy, another agency (in the notice,
# as its signer, as its checkpoint's), the purpose and label of a
# checkpoint, copied_ms after restored_ms or not the copy's newest
# entry's; and police's record with resent one more, a held checkpoint's
# or the notice's signature flipped, a held checkpoint no larger than the
# copy with another root (signed again).
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-5}		# messages each way in each round
WITHIN=${WITHIN:-60}	# seconds a wait may take
P=probation.gwent
AGENCIES="police.gwent $P"
fed_init
for a in $AGENCIES; do fed_config "$a" $'[evidence]\nwitness_interval_ms = 300'; done
PC=$(fed_conf $P)
PLOG=$(fed_log_dir $P)
CLOG=$(fed_log_dir police.gwent)
OUT=$FED/out
py() { pycheck restore "$@"; }
quietly() { "$@" >>"$FED/quiet.out" 2>&1; }
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start $P || { notok "probation starts"; finish; exit 1; }

round() {	# round LABEL: N messages each way, then both outboxes empty
	fed_burst police.gwent $P "$N" "$1 police {}" >"$FED/a.json"
	fed_burst $P police.gwent "$N" "$1 probation {}" >"$FED/b.json"
	ppx_send police.gwent "$FED/a.json" >>"$FED/send.out" 2>&1 &&
		ppx_send $P "$FED/b.json" >>"$FED/send.out" 2>&1 &&
		wait_until "$WITHIN" fed_settled police.gwent $P &&
		wait_until "$WITHIN" fed_settled $P police.gwent
}
check "police and probation exchange $N messages each way" round one
"$PPX" backup --to "$FED/p.bak" --config "$PC" >"$OUT" 2>&1
check "ppx backup of probation" grep -q "verified: [0-9]* entries" "$OUT"
copied=$(sed -n 's/.*verified: \([0-9]*\) entries.*/\1/p' "$OUT")
check "... then $N more each way" round two
cosigned() {	# police holds a checkpoint of probation's log past the copy
	"$PPX" status --config "$(fed_conf police.gwent)" --json 2>/dev/null |
		jq -e --arg p $P --argjson n "$copied" \
		'[.witnesses[]? | select(.agency == $p) | (.heldSize // 0 | tonumber)] | max > $n' >/dev/null
}
check "... and police witnesses probation's log past the copy" wait_until "$WITHIN" cosigned
fed_stop $P
"$PPX" restore --from "$FED/p.bak" --config "$PC" --reason "python check" >"$OUT" 2>&1
rc=$?
diag "$(cat "$OUT")"
check "ppx restore puts the copy of $copied entries in place" [ "$rc" -eq 0 ]
fed_start $P || notok "probation starts on the restored log"
taken() { [ "$(log_count police.gwent ENTRY_PARTNER_RESTORED)" -eq 1 ]; }
check "police takes probation's notice" wait_until "$WITHIN" taken
check "... and they exchange $N more each way, settling what was queued again" round three
# A second restore, of a copy taken just before the stop: police holds no
# checkpoint of probation's log larger than it (or hardly), and nothing
# was receipted after it.
"$PPX" backup --to "$FED/p2.bak" --config "$PC" >"$OUT" 2>&1
copied2=$(sed -n 's/.*verified: \([0-9]*\) entries.*/\1/p' "$OUT")
fed_stop $P
sleep 1	# ppx restore names the replaced files' directory by the second
check "a second copy, taken just before the stop, restored" \
	quietly "$PPX" restore --from "$FED/p2.bak" --config "$PC" --reason "second"
fed_start $P || notok "probation starts on the second restored log"
# Police takes at most one notice from a partner an hour (PROTOCOL.md
# 14.2, 10): the second is deferred, and probation's log still carries its
# ENTRY_RESTORED, which the verifier checks below.
check "police defers probation's second notice, within the hour of the first" \
	wait_until "$WITHIN" grep -q "restore notice from $P deferred: one taken at" "$FED/police.gwent/ppxd.out"
check "... and takes no second one" [ "$(log_count police.gwent ENTRY_PARTNER_RESTORED)" -eq 1 ]
check "... and they exchange $N more each way" round four
fed_stop_all

# --- pyppx.restore accepts both logs -------------------------------------------
replaced=()
for d in "$PLOG"/replaced-*; do replaced+=(--replaced-log "$d"); done
py verify --log "$PLOG" --agency $P --pki "$PKI" "${replaced[@]}" >"$OUT" 2>&1
rc=$?
diag "$(cat "$OUT")"
check "pyppx.restore accepts probation's log, each notice naming the log it replaced (${#replaced[@]} put aside)" \
	[ "$rc" -eq 0 -a ${#replaced[@]} -eq 4 ]
check "... finding the first restore: a notice of the $copied entries before it" \
	grep -q "^OK seq $copied restored: $copied entries, .* reason 'python check'" "$OUT"
check "... and the second: a notice of the $copied2 entries before it" \
	grep -q "^OK seq $copied2 restored: $copied2 entries, .* reason 'second'" "$OUT"
py verify --log "$CLOG" --agency police.gwent --pki "$PKI" --peer-log "$P=$PLOG" >"$OUT" 2>&1
rc=$?
diag "$(cat "$OUT")"
check "pyppx.restore accepts police's log" [ "$rc" -eq 0 ]
check "... finding probation's notice taken, a held checkpoint and messages queued again" \
	grep -qE "^OK seq [0-9]+ partner $P restored: $copied entries, held [0-9]+, resent [1-9]" "$OUT"
held=$(grep " restored: $copied entries" "$OUT" | sed -n 's/.* held \([0-9]*\), .*/\1/p')
check "... the held checkpoint larger than the copy" [ "${held:-0}" -gt "$copied" ]
check "... and no record of probation's deferred second notice" \
	fails grep -qE "^OK seq [0-9]+ partner $P restored: $copied2 entries" "$OUT"
held2=

# --- crafted notices: each refused, naming its rule --------------------------------
mkdir -p "$FED/craft"
check "pyppx.restore crafts notices from probation's" \
	quietly py craft --log "$PLOG" --agency $P --pki "$PKI" --out "$FED/craft" --seq "$copied"
refused() {	# refused VARIANT RULE TEXT: judged in place of the real notice
	py verify --log "$PLOG" --agency $P --pki "$PKI" --data "$copied=$FED/craft/$1.frame" >"$OUT" 2>&1
	local rc=$?
	diag "$1: $(tail -1 "$OUT")"
	[ "$rc" -eq 1 ] && grep -q "^REFUSED: $2 .*$3" "$OUT"
}
check "the real notice's bytes, given the same way, are accepted" \
	quietly py verify --log "$PLOG" --agency $P --pki "$PKI" --data "$copied=$FED/craft/same.frame"
check "an unknown field in the frame (section 2): refused (R1)" refused unknown-field R1 "unknown fields"
check "a flipped signature byte: refused (R2, signature)" refused sig-flipped R2 "signature does not verify"
check "the checkpoint's root off by one bit: refused (R6, root)" refused root-bit R6 "is not the root of the $copied entries"
check "tree_size one more than the copy: refused (R6, size)" refused size-plus R6 "tree_size $((copied + 1))"
check "tree_size one less than the copy: refused (R6, size)" refused size-minus R6 "tree_size $((copied - 1))"
check "another agency in the notice: refused (R3)" refused agency-field R3 "RestoreNotice.agency"
check "signed by another agency: refused (R2)" refused agency-signer R2 "signed by police.gwent's signing"
check "another agency's checkpoint: refused (R4)" refused agency-checkpoint R4 "signed by police.gwent's signing"
check "purpose and label of a checkpoint: refused (R2, purpose)" refused label-checkpoint R2 "purpose 3, not 6"
check "label checkpoint under purpose restore: refused (R2, signature)" refused label-wrong R2 "label 'restore'"
check "copied_ms after restored_ms: refused (R5)" refused copied-after R5 "later than restored_ms"
check "copied_ms not the copy's newest entry's time: refused (R7)" refused copied-not-newest R7 "copy's newest entry"

# --- crafted records at police ------------------------------------------------------
mkdir -p "$FED/rec"
seq=$("$PPX" log --log "$CLOG" --json --kind PARTNER_RESTORED 2>/dev/null | jq -r .seq | head -1)
check "pyppx.restore crafts records from police's" \
	quietly py craft-record --log "$CLOG" --agency police.gwent --pki "$PKI" --out "$FED/rec" --seq "$seq"
refused_rec() {	# refused_rec VARIANT RULE TEXT
	py verify --log "$CLOG" --agency police.gwent --pki "$PKI" --peer-log "$P=$PLOG" \
		--data "$seq=$FED/rec/$1.record" >"$OUT" 2>&1
	local rc=$?
	diag "$1: $(tail -1 "$OUT")"
	[ "$rc" -eq 1 ] && grep -q "^REFUSED: $2 .*$3" "$OUT"
}
check "a record saying one more message queued again: refused (K1)" refused_rec resent-plus K1 "resent"
check "a record whose held checkpoint's signature is flipped: refused (H1)" refused_rec held-sig H1 "signature does not verify"
check "a record whose notice's signature is flipped: refused (R2)" refused_rec notice-sig R2 "signature does not verify"
# A record holding a checkpoint no larger than its copy: only with a second
# notice taken, which police defers within the hour of the first.
seq=$("$PPX" log --log "$CLOG" --json --kind PARTNER_RESTORED 2>/dev/null | jq -r .seq | tail -1)
if [ -n "$held2" ] && [ "$held2" -le "$copied2" ]; then
	mkdir -p "$FED/rec2"
	quietly py craft-record --log "$CLOG" --agency police.gwent --pki "$PKI" --out "$FED/rec2" --seq "$seq"
	mv "$FED/rec2/"* "$FED/rec/"
	check "a record holding a checkpoint no larger than the copy, its root off by a bit: refused (H2)" \
		refused_rec held-root-bit H2 "does not extend it"
else
	diag "no record here holds a checkpoint no larger than its copy (the second notice was deferred): H2 not tried"
fi
check "police's log verifies (ppx verify)" log_verify police.gwent
check "probation's log verifies (ppx verify)" log_verify $P
finish
