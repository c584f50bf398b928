#!/usr/bin/env bash
# federation_links.sh — a directory dropped at one daemon reaches the
# others over the links (Frame{directory}), each judging it itself: three
# real daemons with [federation], no restart.  A newer one dropped at
# another daemon replaces it everywhere; an older one dropped is refused
# and logged (REJECT_DIRECTORY_STALE), a corrupted one too
# (REJECT_BAD_DIRECTORY), and the directory in force stays.  Messages
# flow throughout; a daemon restarted keeps the directory it held
# (LOG_DIR/directory.pb) without logging it again; `ppx directory` shows
# it.  A new CRL put in police's own CRL file reaches the others over the
# links (Frame{crl}), held in their LOG_DIR/crl.der.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-20}
fed_init

# [federation] for each daemon, its own file drop.
for a in $AGENCIES; do
	fed_config "$a" "[federation]
directory = $FED/$a/drop.pb
name = england-wales
partners = *
forward = yes"
done

# From serial 2, police lists a standby endpoint first where nobody
# listens (FED_PORT + 9): its partners reach it only by trying the next
# listed endpoint (PROTOCOL.md 13.4).
eps() {	# eps SERIAL AGENCY: its endpoints, JSON
	if [ "$1" -ge 2 ] && [ "$2" = police.gwent ]; then
		printf '"tcp://127.0.0.1:%s", ' $((FED_PORT + 9))
	fi
	printf '"tcp://127.0.0.1:%s"' "$(fed_port "$2")"
}
spec() {	# spec SERIAL: the directory of the three agencies
	local a first=1
	printf '{"federation": "england-wales", "serial": %s, "valid_days": 30,\n "agencies": [' "$1"
	for a in $AGENCIES; do
		[ $first = 1 ] || printf ','
		first=0
		case $a in
		police.gwent) t=police ;; probation.gwent) t=probation ;; *) t=prison ;;
		esac
		printf '\n  {"name": "%s", "type": "%s", "display_name": "%s", "endpoints": [%s], "status": "active", "signing_certificates": ["%s"], "transport_certificates": ["%s"]}' \
			"$a" "$t" "$a" "$(eps "$1" "$a")" \
			"$PKI/agencies/$a/signing.crt" "$PKI/agencies/$a/transport.crt"
	done
	printf '\n]}\n'
}
make_dir() {	# make_dir SERIAL OUT
	spec "$1" >"$FED/spec$1.json"
	"$PPX" directory make "$FED/spec$1.json" \
		--key "$PKI/directory/directory.key" \
		--cert "$PKI/directory/directory.crt" -o "$2"
}
drop() {	# drop AGENCY FILE: put it in place atomically
	cp "$2" "$FED/$1/drop.new" && mv -f "$FED/$1/drop.new" "$FED/$1/drop.pb"
}
dirs_are() {	# dirs_are N: every daemon logged N directories
	local a
	for a in $AGENCIES; do
		[ "$(log_count "$a" ENTRY_DIRECTORY)" -eq "$1" ] || return 1
	done
}
refused() {	# refused AGENCY REASON
	ppx_log "$1" | grep '"kind":"ENTRY_REJECTED"' | grep -q "\"reason\":\"$2\""
}

check "directory serial 1 made" make_dir 1 "$FED/d1.pb"
check "directory serial 2 made" make_dir 2 "$FED/d2.pb"
# police has a CRL file of its own, to publish new CRLs into; a copy of
# the CA to issue them, so the shared demo PKI is left alone.
cp "$PKI/ca/crl.pem" "$FED/police.gwent/crl.pem"
sed -i "s|^crl = .*|crl = $FED/police.gwent/crl.pem|" "$(fed_conf police.gwent)"
cp -r "$PKI/ca" "$FED/ca"
for a in $AGENCIES; do
	check "$a starts with [federation] and no directory" fed_start "$a"
done
check "each says it waits for a directory" \
	grep -q 'no federation directory yet' "$FED/police.gwent/ppxd.out"

drop police.gwent "$FED/d1.pb"
check "serial 1 dropped at police reaches every daemon" wait_until 30 dirs_are 1
check "probation took it from a partner, not a file" \
	sh -c "'$PPX' log --log '$(fed_log_dir probation.gwent)' --json | grep ENTRY_DIRECTORY | grep -q 'from partner'"

fed_burst police.gwent probation.gwent "$N" "federation before" >"$FED/b1.json"
ppx_send police.gwent "$FED/b1.json" >/dev/null
check "messages flow under serial 1" wait_until 60 fed_settled police.gwent probation.gwent

drop prison.cardiff "$FED/d2.pb"
check "serial 2 dropped at prison replaces it everywhere" wait_until 30 dirs_are 2

drop probation.gwent "$FED/d1.pb"
check "an older directory dropped is refused and logged" \
	wait_until 10 refused probation.gwent REJECT_DIRECTORY_STALE
head -c 200 "$FED/d2.pb" >"$FED/bad.pb"
printf 'garbage' >>"$FED/bad.pb"
drop police.gwent "$FED/bad.pb"
check "a corrupted directory dropped is refused and logged" \
	wait_until 10 refused police.gwent REJECT_BAD_DIRECTORY
check "serial 2 stays in force everywhere" dirs_are 2

fed_burst probation.gwent police.gwent "$N" "federation after" >"$FED/b2.json"
ppx_send probation.gwent "$FED/b2.json" >/dev/null
check "messages flow under serial 2" wait_until 60 fed_settled probation.gwent police.gwent
check "probation reached police at its second listed endpoint" \
	grep -q "link to police.gwent: no session at tcp://127.0.0.1:$((FED_PORT + 9))" "$FED/probation.gwent/ppxd.out"

fed_stop probation.gwent
check "probation restarts" fed_start probation.gwent
sleep 2
check "... on the directory it held, not logged again" dirs_are 2
check "... which ppx directory shows" \
	sh -c "'$PPX' directory --config '$(fed_conf probation.gwent)' | grep -q 'serial 2'"
check "ppx status shows the directory" \
	sh -c "'$PPX' status --config '$(fed_conf police.gwent)' | grep -qi 'directory'"
PPX_CA_DIR=$FED/ca openssl ca -batch -config "$FED/ca/openssl.cnf" \
	-gencrl -crldays 2 -out "$FED/crl.new" 2>/dev/null &&
	openssl crl -in "$FED/crl.new" -outform DER -out "$FED/crl.der" &&
	mv -f "$FED/crl.new" "$FED/police.gwent/crl.pem"
has_crl() { cmp -s "$FED/crl.der" "$(fed_log_dir "$1")/crl.der"; }
check "a new CRL at police reaches probation over the link" wait_until 20 has_crl probation.gwent
check "... and prison" wait_until 20 has_crl prison.cardiff
crl_logged() {
	"$PPX" log --log "$(fed_log_dir "$1")" --json |
		grep ENTRY_KEY_CHANGE | grep -q crl.der
}
check "... logged as a key change" wait_until 20 crl_logged prison.cardiff
fed_burst police.gwent prison.cardiff 5 "after the CRL" >"$FED/b3.json"
ppx_send police.gwent "$FED/b3.json" >/dev/null
check "messages flow after the sessions were cut for it" wait_until 60 fed_settled police.gwent prison.cardiff
for a in $AGENCIES; do
	check "$a's log verifies" log_verify "$a"
done
finish
