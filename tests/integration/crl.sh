#!/usr/bin/env bash
# crl.sh — a CRL that expires.  While the CRL is current, messages flow;
# then a CRL valid for a few seconds is dropped into place (the daemons
# load it by themselves) and once its nextUpdate
# passes, both daemons say so and refuse their partner (fail closed) but
# keep running, keep queueing and lose nothing — a daemon restarted then
# still starts.  When a current CRL is dropped into place (no signal, no
# restart) the held messages arrive, each exactly once.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-200}
VALID=${VALID:-8}	# seconds the short CRL is valid
fed_init

# A copy of the CA to publish CRLs with, so the shared demo PKI is left alone.
cp -r "$PKI/ca" "$FED/ca"
publish() {	# publish SECONDS: a CRL due again in SECONDS, atomically
	PPX_CA_DIR=$FED/ca openssl ca -batch -config "$FED/ca/openssl.cnf" \
		-gencrl -crlsec "$1" -out "$FED/crl.new" 2>/dev/null &&
		mv -f "$FED/crl.new" "$FED/crl.pem"
}
batch() {	# batch NAME
	fed_burst police.gwent probation.gwent "$N" "crl $1 message" >"$FED/$1.json"
}
stale_said() { grep -q 'CRL .* is out of date' "$FED/$1/ppxd.out"; }

fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
batch current
ppx_send police.gwent "$FED/current.json" >/dev/null
check "while the CRL is current, everything is delivered" wait_until 60 fed_settled police.gwent probation.gwent
fed_tally police.gwent probation.gwent "CRL current"

check "a CRL valid for ${VALID}s is published" publish "$VALID"
expires=$(( $(date +%s) + VALID ))
sleep $(( expires - $(date +%s) + 1 ))
check "police says its CRL is out of date" wait_until 10 stale_said police.gwent
check "probation says its CRL is out of date" wait_until 10 stale_said probation.gwent
before=$(received_from probation.gwent police.gwent | wc -l)
batch stale
send_stale() { ppx_send police.gwent "$FED/stale.json" >/dev/null; }
check "police still takes work while its CRL is stale" send_stale
sleep 3
check "probation stores nothing from police under a stale CRL" \
	[ "$(received_from probation.gwent police.gwent | wc -l)" -eq "$before" ]
check "police holds all $N in its outbox" [ "$(fed_depth police.gwent probation.gwent)" = "$N" ]
fed_stop probation.gwent
check "probation restarted with a stale CRL still starts" fed_start probation.gwent
check "... and says why partners are refused" grep -q 'starting anyway' "$FED/probation.gwent/ppxd.out"
sleep 2
check "... and still stores nothing from police" \
	[ "$(received_from probation.gwent police.gwent | wc -l)" -eq "$before" ]
check "police and probation are both running" fed_alive police.gwent
check "probation answers" fed_alive probation.gwent

check "a current CRL is published (no signal, no restart)" publish 2592000
check "the held messages arrive" wait_until 60 fed_delivered police.gwent probation.gwent
check "police reloaded the CRLs by itself" \
	[ "$(grep -c 'CRL file .* changed' "$FED/police.gwent/ppxd.out")" -ge 2 ]
fed_tally police.gwent probation.gwent "CRL expired, then renewed"
check "every message has a logged receipt" fed_all_receipted police.gwent probation.gwent
fed_stop police.gwent
fed_stop probation.gwent
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
