#!/usr/bin/env bash
# federation_join.sh — two agencies join a running federation by one signed
# directory dropped at one daemon.
#
# police.gwent, probation.gwent and prison.cardiff run with directory
# serial 1, which lists the three; police.dyfed and probation.dyfed, issued
# their certificates after the three started, run with serial 1 as their
# onboarding pack: they are in no directory the three hold, so the three
# refuse them.  Serial 2, listing all five, is dropped at police.gwent
# only.  Every daemon takes it (police from its file, the others from a
# partner), the newcomers exchange both ways with each of the three, and
# nobody is restarted or reconfigured.
set -u
. "$(dirname "$0")/directory.bash"
N=${N:-20}		# messages each way per pair
WITHIN=${WITHIN:-30}	# seconds for the directory to reach everyone
NEW="police.dyfed probation.dyfed"
ALL="$THREE $NEW"
dir_init
AGENCIES=$ALL	# fed_stop_all stops all five

for a in $THREE; do dir_config "$a"; done
dir_make 1 "$FED/dir1.pb" $THREE || notok "directory serial 1 is made"
for a in $THREE; do dir_drop "$a" "$FED/dir1.pb"; done
for a in $THREE; do fed_start "$a" || notok "$a starts"; done
check "the three hold serial 1" wait_until "$WITHIN" dir_all_at 1 $THREE
check "police and probation are connected" wait_until "$UP" connected police.gwent probation.gwent
check "prison and police are connected" wait_until "$UP" connected prison.cardiff police.gwent

# The newcomers are issued their certificates now, with the three running.
for a in $NEW; do
	check "ppx-pki issues $a" dir_agency "$a"
	dir_config "$a"
	dir_drop "$a" "$FED/dir1.pb"
	fed_start "$a" || notok "$a starts"
done
check "the newcomers hold serial 1 (their onboarding pack)" wait_until "$WITHIN" dir_all_at 1 $NEW
dir_send police.dyfed police.gwent 1 "before-join" ||
	diag "police.dyfed refused to send before it is listed: $(cat "$FED"/send-police.dyfed-police.gwent-before-join.json.out)"
sleep 3
check "before serial 2 police.gwent stores nothing from police.dyfed" \
	[ -z "$(received_from police.gwent police.dyfed)" ]
check "... and holds no session with it" not_connected police.gwent police.dyfed

pids_before=$(pids_of $THREE)
sums_before=$(conf_sums $ALL)

dir_make 2 "$FED/dir2.pb" $ALL || notok "directory serial 2 is made"
show() { "$PPX" directory show "$1" --ca "$PKI/ca/ca.crt" >"$1.show" 2>&1; }
check "ppx directory show accepts serial 2" show "$FED/dir2.pb"
dir_drop police.gwent "$FED/dir2.pb"
t0=$(date +%s)
for a in $ALL; do
	check "$a puts serial 2 in force within ${WITHIN}s" wait_until "$WITHIN" dir_at "$a" 2
done
diag "serial 2 reached all five in $(( $(date +%s) - t0 ))s"
check "police.gwent logged serial 2 from its file drop" \
	[ "$(dir_entries police.gwent 2)" = "peer=" ]
for a in probation.gwent prison.cardiff $NEW; do
	src=$(dir_entries "$a" 2)
	diag "$a took serial 2: $src"
	check "$a logged serial 2 once, from a partner" \
		bash -c '[ "$(grep -c . <<<"$1")" = 1 ] && [ "$1" != "peer=" ]' _ "$src"
done
check "ppx directory shows serial 2 at probation.dyfed" \
	bash -c '"$1" directory --config "$2" --json | jq -e ".directory.serial | tonumber == 2" >/dev/null' \
	_ "$PPX" "$(fed_conf probation.dyfed)"
for a in $THREE; do
	for n in $NEW; do
		check "$a sees $n active" wait_until "$SOON" standing_is "$a" "$n" active
	done
done

for n in $NEW; do
	for a in $THREE; do
		dir_send "$n" "$a" "$N" joined || notok "$n submits to $a"
		dir_send "$a" "$n" "$N" joined || notok "$a submits to $n"
	done
done
for n in $NEW; do
	for a in $THREE; do
		check "$n -> $a settles" wait_until "$SETTLE" fed_delivered "$n" "$a"
		check "$a -> $n settles" wait_until "$SETTLE" fed_delivered "$a" "$n"
	done
done
for n in $NEW; do
	for a in $THREE; do
		fed_tally "$n" "$a" "$n -> $a"
		check "$n -> $a: at least the $N after joining" [ "${TALLY_SENT:-0}" -ge "$N" ]
		check "$n -> $a: every message receipted" fed_all_receipted "$n" "$a"
		fed_tally "$a" "$n" "$a -> $n"
		check "$a -> $n: every message receipted" fed_all_receipted "$a" "$n"
	done
done

# Witnessing needs no [partner] section either: a newcomer's log is
# cosigned by partners it knows only from the directory, and ppx checkpoint
# finds their cosignatures (and certificates) through the held directory.
cosigned() { "$PPX" checkpoint --config "$(fed_conf "$1")" 2>&1 | grep -q '^cosigned by '; }
check "police.dyfed's log is cosigned by partners the directory brought" \
	wait_until "$SETTLE" cosigned police.dyfed
check "the three were not restarted" [ "$(pids_of $THREE)" = "$pids_before" ]
check "no configuration was changed" [ "$(conf_sums $ALL)" = "$sums_before" ]
check "all five still run" all_alive $ALL
fed_stop_all
for a in $ALL; do check "$a's log verifies" log_verify "$a"; done
finish
