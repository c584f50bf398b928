#!/usr/bin/env bash
# pki_strict.sh — the trust checks do not bend (issue 10, hole 9), with
# real daemons:
#   (a) probation's certificates are revoked and police reloads the CRL;
#       an older CRL (lower crlNumber, nothing revoked) dropped into place
#       afterwards is refused with a clear error and probation still
#       cannot deliver;
#   (b) a newer-numbered CRL without nextUpdate that revokes nothing is
#       refused on reload just the same, and at start police refuses to
#       run with it; a current CRL lifts the revocation and the held
#       messages arrive (so the "nothing arrives" checks are not vacuous);
#   (c) a signing or transport certificate without keyUsage: police does
#       not start with it as its own, and a partner's transport
#       certificate without keyUsage is refused at connection;
#   (d) a control directory owned by another user (nobody): ppxd does not
#       start (needs root to make one; skipped otherwise).
# The bad CRLs come from a copy of the demo CA (tests/tools/forge-crl for
# the one openssl ca cannot make), the bad certificates from openssl x509.
set -u
. "$(dirname "$0")/lib.sh"
FORGE=$TOP/tests/tools/forge-crl
fed_init

# Police reads its own CRL file; probation keeps the demo CRL throughout.
cp -r "$PKI/ca" "$FED/ca"
CA() { PPX_CA_DIR=$FED/ca openssl ca -batch -config "$FED/ca/openssl.cnf" "$@" 2>/dev/null; }
gencrl() { CA -gencrl -crldays 30 -out "$1"; }
police_crl() { cp "$1" "$FED/police-crl.new" && mv -f "$FED/police-crl.new" "$FED/police-crl.pem"; }
conf_set() {	# conf_set AGENCY KEY VALUE
	sed -i "s|^$2 = .*|$2 = $3|" "$(fed_conf "$1")"
}
said() { grep -q -- "$2" "$FED/$1/ppxd.out"; }
from_probation() { received_from police.gwent probation.gwent | wc -l; }
send_probation() {	# send_probation LABEL: one message to police
	fed_burst probation.gwent police.gwent 1 "$1" >"$FED/$1.json" &&
		ppx_send probation.gwent "$FED/$1.json" >/dev/null
}
# start_refused AGENCY TEXT: ppxd exits non-zero at start, saying TEXT.
start_refused() {
	local out=$FED/$1/refused.out rc
	timeout 10 ${PPXD_WRAP:-} "$PPXD" -f -c "$(fed_conf "$1")" >"$out" 2>&1
	rc=$?
	cat "$out" >>"$FED/$1/ppxd.out"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q -- "$2" "$out"
}

gencrl "$FED/old.pem"
police_crl "$FED/old.pem"
conf_set police.gwent crl "$FED/police-crl.pem"
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
send_probation before
check "before revocation, probation delivers to police" \
	wait_until 30 fed_settled probation.gwent police.gwent

# (a) Revoke probation, then try to go back to the older CRL.
CA -revoke "$PKI/agencies/probation.gwent/transport.crt" -crl_reason keyCompromise
CA -revoke "$PKI/agencies/probation.gwent/signing.crt" -crl_reason keyCompromise
gencrl "$FED/new.pem"
police_crl "$FED/new.pem"
check "police reloads the CRL revoking probation" \
	wait_until 10 said police.gwent "reloaded CRL"
n=$(from_probation)
send_probation revoked
sleep 4
check "revoked probation cannot deliver" [ "$(from_probation)" -eq "$n" ]
police_crl "$FED/old.pem"
check "an older CRL (lower crlNumber) is refused with a clear error" \
	wait_until 10 said police.gwent "CRL not reloaded, the old one stays: CRL $FED/police-crl.pem is older (by crlNumber)"
sleep 5
check "... and probation still cannot deliver" [ "$(from_probation)" -eq "$n" ]
check "... police still runs" fed_alive police.gwent

# (b) A newer-numbered CRL without nextUpdate that revokes nothing.  The
# revoking CRL is put back first (the same CRL again is taken), so that
# this part stands on its own even where (a) failed.
reloads() { grep -c "reloaded CRL" "$FED/police.gwent/ppxd.out"; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
r=$(reloads)
police_crl "$FED/new.pem"
check "the CRL in force, dropped into place again, is taken" \
	wait_until 10 reloaded_since "$r"
sleep 2
n=$(from_probation)
send_probation no-next
"$FORGE" "$FED/new.pem" "$FED/ca/ca.key" "$FED/no-next.pem" --number 1000 \
	--no-next-update --no-revoked
police_crl "$FED/no-next.pem"
check "a CRL without nextUpdate is refused on reload with a clear error" \
	wait_until 10 said police.gwent "police-crl.pem has no nextUpdate"
sleep 5
check "... and probation still cannot deliver" [ "$(from_probation)" -eq "$n" ]
"$FORGE" "$FED/new.pem" "$FED/ca/ca.key" "$FED/lifted.pem" --number 1001 --no-revoked
police_crl "$FED/lifted.pem"
check "a current, newer CRL that lifts the revocation is taken: the held message arrives" \
	wait_until 30 fed_settled probation.gwent police.gwent
fed_stop police.gwent
police_crl "$FED/no-next.pem"
check "police refuses to start with a CRL without nextUpdate" \
	start_refused police.gwent "has no nextUpdate"

# (c) Certificates without keyUsage.
police_crl "$FED/old.pem"
printf '[bare]\nbasicConstraints = critical,CA:FALSE\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n' >"$FED/bare.cnf"
bare_cert() {	# bare_cert AGENCY ROLE OUT: same key, no keyUsage
	openssl pkey -in "$PKI/agencies/$1/$2.key" -pubout -out "$FED/$1-$2.pub" &&
	openssl x509 -new -subj "/O=$1/OU=$2/CN=$1" -force_pubkey "$FED/$1-$2.pub" \
		-CA "$FED/ca/ca.crt" -CAkey "$FED/ca/ca.key" -set_serial "0x7$RANDOM" \
		-days 30 -extfile "$FED/bare.cnf" -extensions bare -out "$3"
}
bare_cert police.gwent signing "$FED/police-signing-bare.crt"
bare_cert police.gwent transport "$FED/police-transport-bare.crt"
bare_cert probation.gwent transport "$FED/probation-transport-bare.crt"
conf_set police.gwent signing_cert "$FED/police-signing-bare.crt"
check "police refuses to start with its signing certificate without keyUsage" \
	start_refused police.gwent "has no keyUsage"
conf_set police.gwent signing_cert "$PKI/agencies/police.gwent/signing.crt"
conf_set police.gwent transport_cert "$FED/police-transport-bare.crt"
check "police refuses to start with its transport certificate without keyUsage" \
	start_refused police.gwent "has no keyUsage"
conf_set police.gwent transport_cert "$PKI/agencies/police.gwent/transport.crt"

# Police knows probation's CURVE key only from a certificate without
# keyUsage; probation (not revoked in its own CRL) still holds a message.
mkdir -p "$FED/police-certs"
cp "$PKI"/certs/*.pem "$FED/police-certs/"
cp "$FED/probation-transport-bare.crt" "$FED/police-certs/probation.gwent-transport.pem"
conf_set police.gwent certs "$FED/police-certs"
police_crl "$PKI/ca/crl.pem"
n=$(from_probation)
send_probation bare
fed_start police.gwent || notok "police starts with probation's bare certificate known"
check "a partner's transport certificate without keyUsage is refused at connection" \
	wait_until 15 said police.gwent "refused connection from .*no keyUsage"
check "... and nothing from probation is stored" [ "$(from_probation)" -eq "$n" ]
fed_stop police.gwent
conf_set police.gwent certs "$PKI/certs"

# (d) A control directory of another user.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	rm -rf "$FED/police.gwent/run"
	mkdir -m 0700 "$FED/police.gwent/run"
	chown nobody "$FED/police.gwent/run"
	check "ppxd refuses to start with a control directory owned by nobody" \
		start_refused police.gwent "control directory $FED/police.gwent/run is owned by uid"
	chown "$(id -u)" "$FED/police.gwent/run"
	check "... and starts once it is its own" fed_start police.gwent
else
	ok "# skip control directory of another user: needs root"
fi
fed_stop_all
check "police's log verifies" log_verify police.gwent
check "probation's log verifies" log_verify probation.gwent
finish
