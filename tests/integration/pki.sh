#!/usr/bin/env bash
# pki.sh — integration test of certs/ppx-pki, the federation PKI tool.
#
# Builds the demo PKI (and more) in a temporary directory and checks the
# result with plain openssl commands: names, key types, extensions, file
# modes, chains and CRL, the expired / not-yet-valid / revoked / rogue /
# wrong-role fixtures, `inspect` fingerprints, refusals of bad input,
# idempotence of `demo`, and revoke + crl for a newly issued certificate.
#
# Run from the repository root: bash tests/integration/pki.sh
# Output is TAP on stdout (diagnostics of failures as "# " lines); the exit
# status is non-zero if any test failed.

set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/../.." && pwd)
PKI_TOOL="$top/certs/ppx-pki"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ppx-pki-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
# Anything the tool wrote to $TMPDIR would land here (it must not).
export TMPDIR="$tmp/tmpdir"
mkdir "$TMPDIR"
D="$tmp/pki"
CA="$D/ca/ca.crt"
CRL="$D/ca/crl.pem"
AGENCIES="police.gwent probation.gwent prison.cardiff"
n=0
failures=0

# Run ppx-pki with its stderr kept in $tmp/stderr.
pki() {
	bash "$PKI_TOOL" "$@" 2>"$tmp/stderr"
}

# Record one test: "ok" if the command "${@:2}" succeeds, else "not ok"
# followed by its output as TAP comments.  $1 is the description.  The
# command runs as an `if` condition, where set -e does not apply: test
# functions check each step explicitly.
check() {
	local desc=$1
	shift
	n=$((n + 1))
	: >"$tmp/stderr"
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failures=$((failures + 1))
		sed 's/^/# /' "$tmp/out"
		[ -s "$tmp/stderr" ] && sed 's/^/# stderr: /' "$tmp/stderr"
	fi
	return 0
}

# Succeed if the output (stdout and stderr) of the command "${@:2}" contains
# text $1; the command itself may fail.
output_has() {
	local text=$1 out
	shift
	out=$("$@" 2>&1) || true
	printf '%s\n' "$out"
	grep -qF -- "$text" <<<"$out"
}

# Verify certificate $1 against the demo CA and CRL.
verify() {
	openssl verify -crl_check -CAfile "$CA" -CRLfile "$CRL" "$1"
}

# Succeed if verification of $1 fails with message $2.
verify_fails_with() {
	local out
	if out=$(verify "$1" 2>&1); then
		echo "unexpectedly verified: $out"
		return 1
	fi
	printf '%s\n' "$out"
	grep -qF -- "$2" <<<"$out"
}

# Succeed if certificate $1 has subject exactly $2 (openssl -subj form).
subject_is() {
	local s
	s=$(openssl x509 -in "$1" -noout -subject -nameopt compat)
	echo "$s"
	[ "$s" = "subject=$2" ]
}

# Succeed if the -text of certificate $1 contains each of the other arguments.
text_has() {
	local cert=$1 text
	shift
	text=$(openssl x509 -in "$cert" -noout -text)
	local want
	for want in "$@"; do
		grep -qF -- "$want" <<<"$text" || { echo "missing: $want"; return 1; }
	done
}

# Succeed if private key $1 belongs to certificate $2.
key_matches() {
	[ "$(openssl pkey -in "$1" -pubout)" = "$(openssl x509 -in "$2" -noout -pubkey)" ]
}

# Succeed if every file named in "$@" exists.
all_exist() {
	local f rc=0
	for f in "$@"; do
		[ -f "$f" ] || { echo "missing: $f"; rc=1; }
	done
	return $rc
}

# The file list demo must create.
demo_files() {
	local a r p
	printf '%s\n' "$D/ca/ca.key" "$D/ca/ca.crt" "$D/ca/crl.pem" "$D/ca/index.txt" \
		"$D/ca/serial" "$D/ca/crlnumber" "$D/ca/openssl.cnf" "$D/test/README" \
		"$D/test/rogue-ca/ca.key" "$D/test/rogue-ca/ca.crt" "$D/test/rogue-ca/crl.pem"
	for a in $AGENCIES; do
		for r in signing transport; do
			printf '%s\n' "$D/agencies/$a/$r.key" "$D/agencies/$a/$r.crt" "$D/certs/$a-$r.pem"
		done
	done
	for p in police.gwent/dana.evans probation.gwent/sam.okafor prison.cardiff/priya.shah; do
		printf '%s\n' "$D/people/$p.key" "$D/people/$p.crt" \
			"$D/certs/${p%%/*}-person-${p#*/}.pem"
	done
	for p in rogue/police.gwent/signing expired/police.gwent/signing \
		expired/police.gwent/transport notyet/police.gwent/signing \
		notyet/police.gwent/transport revoked/police.gwent/signing \
		revoked/housing.newport/signing revoked/housing.newport/transport \
		wrongrole/police.gwent/signing; do
		printf '%s\n' "$D/test/$p.key" "$D/test/$p.crt"
	done
}

# Run demo and succeed if it took less than $1 seconds.
demo_fast() {
	local t0 t1
	t0=$(date +%s%N)
	pki demo "$D" || return 1
	t1=$(date +%s%N)
	echo "demo took $(((t1 - t0) / 1000000)) ms"
	[ $(((t1 - t0) / 1000000000)) -lt "$1" ]
}

# Succeed if every *.key under $D is mode 0600 and its directory 0700.
key_modes() {
	local f rc=0 count=0
	while IFS= read -r f; do
		count=$((count + 1))
		[ "$(stat -c %a "$f")" = 600 ] || { echo "$f: $(stat -c %a "$f")"; rc=1; }
		[ "$(stat -c %a "$(dirname "$f")")" = 700 ] ||
			{ echo "$(dirname "$f"): $(stat -c %a "$(dirname "$f")")"; rc=1; }
	done < <(find "$D" -name '*.key')
	echo "$count keys"
	[ "$count" -ge 20 ] || return 1
	return $rc
}

# Succeed if DIR/certs holds exactly the real agencies' and people's certs.
certs_dir_exact() {
	local got want
	got=$(find "$D/certs" -mindepth 1 -printf '%f\n' | sort)
	want=$(for a in $AGENCIES; do echo "$a-signing.pem"; echo "$a-transport.pem"; done
		printf '%s\n' police.gwent-person-dana.evans.pem \
			probation.gwent-person-sam.okafor.pem prison.cardiff-person-priya.shah.pem)
	want=$(sort <<<"$want")
	diff <(echo "$want") <(echo "$got") || return 1
	! grep -l 'PRIVATE KEY' "$D"/certs/*
}

# Succeed if each agency's transport cert holds an X25519 key for key agreement.
transport_x25519() {
	local a
	for a in $AGENCIES; do
		text_has "$D/agencies/$a/transport.crt" "Public Key Algorithm: X25519" \
			"X509v3 Key Usage: critical" "Key Agreement" "CA:FALSE" || return 1
		subject_is "$D/agencies/$a/transport.crt" "/O=$a/OU=transport/CN=$a" || return 1
		key_matches "$D/agencies/$a/transport.key" "$D/agencies/$a/transport.crt" || return 1
		grep -q 'X25519 Private-Key' <<<"$(openssl pkey -in "$D/agencies/$a/transport.key" -noout -text)" ||
			return 1
	done
}

# Succeed if each agency's signing cert is Ed25519 with the right names and usage.
signing_ed25519() {
	local a
	for a in $AGENCIES; do
		text_has "$D/agencies/$a/signing.crt" "Public Key Algorithm: ED25519" \
			"Digital Signature, Non Repudiation" "CA:FALSE" \
			"X509v3 Authority Key Identifier" || return 1
		subject_is "$D/agencies/$a/signing.crt" "/O=$a/OU=signing/CN=$a" || return 1
		key_matches "$D/agencies/$a/signing.key" "$D/agencies/$a/signing.crt" || return 1
	done
}

# Succeed if the people's certs have the right names and Ed25519 keys.
people_certs() {
	subject_is "$D/people/police.gwent/dana.evans.crt" "/O=police.gwent/OU=person/CN=Dana Evans" &&
		subject_is "$D/people/probation.gwent/sam.okafor.crt" "/O=probation.gwent/OU=person/CN=Sam Okafor" &&
		subject_is "$D/people/prison.cardiff/priya.shah.crt" "/O=prison.cardiff/OU=person/CN=Priya Shah" &&
		text_has "$D/people/police.gwent/dana.evans.crt" "Public Key Algorithm: ED25519" "Digital Signature" &&
		key_matches "$D/people/police.gwent/dana.evans.key" "$D/people/police.gwent/dana.evans.crt"
}

# Succeed if the CA certificate has the federation name and CA extensions.
ca_cert() {
	subject_is "$CA" "/O=ppx federation/OU=ca/CN=ppx demo federation CA" &&
		text_has "$CA" "Public Key Algorithm: ED25519" "X509v3 Basic Constraints: critical" \
			"CA:TRUE, pathlen:0" "X509v3 Key Usage: critical" "Certificate Sign, CRL Sign" \
			"X509v3 Subject Key Identifier"
}

# Succeed if every real agency and person cert verifies with the CRL.
all_verify() {
	local c
	for c in "$D"/agencies/*/*.crt "$D"/people/*/*.crt; do
		verify "$c" || return 1
	done
}

# Succeed if the dates of certificate $1 are $2 and $3 (openssl's format).
dates_are() {
	local got
	got=$(openssl x509 -in "$1" -noout -dates)
	echo "$got"
	[ "$got" = "notBefore=$2"$'\n'"notAfter=$3" ]
}

# Succeed if the CRL $1 lists serial number of certificate $2.
crl_lists() {
	local serial
	serial=$(openssl x509 -in "$2" -noout -serial)
	grep -q "Serial Number: ${serial#serial=}\$" <<<"$(openssl crl -in "$1" -noout -text)"
}

# Succeed if inspect prints the SHA-256 of the DER of certificate $1.
inspect_fingerprint() {
	local want got
	want=$(openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1)
	got=$(pki inspect "$1" | awk '$1 == "fingerprint:" { print $2 }')
	echo "want $want got $got"
	[ -n "$want" ] && [ "$want" = "$got" ]
}

# Succeed if inspect of $1 (with --pki) shows field $2 with value $3.
inspect_field() {
	local got
	got=$(pki inspect "$1" --pki "$D" | sed -n "s/^$2: *//p")
	echo "$2: '$got'"
	[ "$got" = "$3" ]
}

# Succeed if `agency` refuses every bad name with a non-zero exit.
bad_names_refused() {
	local name rc=0
	for name in Police.Gwent police police..gwent .police.gwent police.gwent. \
		"police gwent" 1police.gwent police_gwent.x police/gwent.x ../../etc.x \
		"" police.Gwent "police.gwent;id" -police.gwent; do
		if pki agency "$D" "$name" --out bad; then
			echo "accepted '$name'"
			rc=1
		elif ! grep -q 'agency name\|unknown option' "$tmp/stderr"; then
			echo "no clear error for '$name': $(cat "$tmp/stderr")"
			rc=1
		fi
	done
	[ "$(find "$D/agencies" -mindepth 1 -maxdepth 1 | wc -l)" -eq 3 ] || { echo "directories made"; rc=1; }
	return $rc
}

# A digest of every file (name, mode, contents) under $D.
tree_digest() {
	(cd "$D" && find . -printf '%p %m\n' | sort && find . -type f -print0 | sort -z |
		xargs -0 sha256sum) | sha256sum
}

# Succeed if a second demo changes nothing.
demo_idempotent() {
	local before after
	before=$(tree_digest)
	pki demo "$D" || return 1
	after=$(tree_digest)
	[ "$before" = "$after" ]
}

# Issue, revoke and re-publish for a new person: the whole revocation cycle.
revoke_cycle() {
	local crt="$D/people/police.gwent/test-person.crt" n1 n2
	pki person "$D" police.gwent "Test Person" --days 10 || return 1
	[ -f "$crt" ] && [ "$(stat -c %a "${crt%.crt}.key")" = 600 ] || return 1
	subject_is "$crt" "/O=police.gwent/OU=person/CN=Test Person" || return 1
	[ -f "$D/certs/police.gwent-person-test-person.pem" ] || return 1
	verify "$crt" || return 1
	inspect_field "$crt" revoked no || return 1
	n1=$(openssl crl -in "$CRL" -noout -crlnumber)
	pki revoke "$D" "$crt" --reason keyCompromise || return 1
	verify_fails_with "$crt" "certificate revoked" || return 1
	crl_lists "$CRL" "$crt" || return 1
	inspect_field "$crt" verify "FAILED: certificate revoked" || return 1
	grep -q '^revoked: *yes' <<<"$(pki inspect "$crt" --pki "$D")" || return 1
	# Revoking twice is an error.
	! pki revoke "$D" "$crt" || return 1
	pki crl "$D" --hours 1 || return 1
	n2=$(openssl crl -in "$CRL" -noout -crlnumber)
	echo "crl number $n1 -> $n2"
	[ "$n1" != "$n2" ] || return 1
	crl_lists "$CRL" "$crt" || return 1
	# The CRL now expires within the hour, but not yet.
	openssl crl -in "$CRL" -noout -nextupdate
	local next
	next=$(openssl crl -in "$CRL" -noout -nextupdate)
	next=$(date -u -d "${next#nextUpdate=}" +%s)
	[ $((next - $(date -u +%s))) -le 3600 ] && [ $((next - $(date -u +%s))) -gt 3000 ] || return 1
	verify "$D/agencies/police.gwent/signing.crt" || return 1
	pki crl "$D" || return 1
	verify_fails_with "$crt" "certificate revoked"
}

# Succeed if `revoke` refuses a certificate from another CA.
revoke_foreign_refused() {
	! pki revoke "$D" "$D/test/rogue/police.gwent/signing.crt" &&
		grep -q 'not issued by' "$tmp/stderr"
}

# An expired cert issued with --out keeps the main ones and stays out of certs/.
agency_out_expired() {
	local before
	before=$(sha256sum "$D/agencies/prison.cardiff/signing.crt" "$D/certs/prison.cardiff-signing.pem")
	pki agency "$D" prison.cardiff --out old --start 20200101000000Z --end 20200201000000Z || return 1
	[ "$before" = "$(sha256sum "$D/agencies/prison.cardiff/signing.crt" "$D/certs/prison.cardiff-signing.pem")" ] ||
		return 1
	[ ! -e "$D/certs/prison.cardiff-old-signing.pem" ] || return 1
	dates_are "$D/agencies/prison.cardiff/old/signing.crt" "Jan  1 00:00:00 2020 GMT" "Feb  1 00:00:00 2020 GMT" &&
		dates_are "$D/agencies/prison.cardiff/old/transport.crt" "Jan  1 00:00:00 2020 GMT" "Feb  1 00:00:00 2020 GMT" &&
		verify_fails_with "$D/agencies/prison.cardiff/old/transport.crt" "certificate has expired" &&
		[ "$(stat -c %a "$D/agencies/prison.cardiff/old/transport.key")" = 600 ]
}

# A re-issue without --force or --out is refused and changes nothing.
agency_no_overwrite() {
	local before
	before=$(sha256sum "$D"/agencies/police.gwent/*)
	! pki agency "$D" police.gwent || return 1
	grep -q 'already exists' "$tmp/stderr" || return 1
	[ "$before" = "$(sha256sum "$D"/agencies/police.gwent/*)" ]
}

# A P-256 agency: ECDSA signing cert, X25519 transport cert, both verify.
agency_p256() {
	pki agency "$D" youth.newport --alg p256 || return 1
	text_has "$D/agencies/youth.newport/signing.crt" "Public Key Algorithm: id-ecPublicKey" \
		"NIST CURVE: P-256" &&
		text_has "$D/agencies/youth.newport/transport.crt" "Public Key Algorithm: X25519" &&
		verify "$D/agencies/youth.newport/signing.crt" &&
		verify "$D/agencies/youth.newport/transport.crt" &&
		grep -q '^key type: *ECDSA P-256$' <<<"$(pki inspect "$D/agencies/youth.newport/signing.crt")"
}

# Succeed if the tool wrote nothing to $TMPDIR.
nothing_in_tmpdir() {
	[ -z "$(ls -A "$TMPDIR")" ]
}

# Succeed if every file demo must create exists.
demo_complete() {
	local -a files
	mapfile -t files < <(demo_files)
	all_exist "${files[@]}"
}

# Succeed if the CRL lists all three revoked fixtures.
crl_lists_fixtures() {
	crl_lists "$CRL" "$D/test/revoked/police.gwent/signing.crt" &&
		crl_lists "$CRL" "$D/test/revoked/housing.newport/signing.crt" &&
		crl_lists "$CRL" "$D/test/revoked/housing.newport/transport.crt"
}

# Succeed if the police.gwent fixtures in test/$1 are valid from $2 to $3.
fixture_dates() {
	dates_are "$D/test/$1/police.gwent/signing.crt" "$2" "$3" &&
		dates_are "$D/test/$1/police.gwent/transport.crt" "$2" "$3"
}

# Succeed if the not-yet-valid transport fixture is X25519 and refused.
notyet_transport() {
	verify_fails_with "$D/test/notyet/police.gwent/transport.crt" "not yet valid" &&
		text_has "$D/test/notyet/police.gwent/transport.crt" "Public Key Algorithm: X25519"
}

# Succeed if the wrong-role fixture is a valid police.gwent person cert.
wrongrole_fixture() {
	local c="$D/test/wrongrole/police.gwent/signing.crt"
	subject_is "$c" "/O=police.gwent/OU=person/CN=Wrong Role" &&
		text_has "$c" "Public Key Algorithm: ED25519" &&
		key_matches "${c%.crt}.key" "$c" &&
		verify "$c"
}

# Succeed if inspect shows the right role, agency, name and key type.
inspect_names() {
	inspect_field "$D/agencies/police.gwent/transport.crt" role transport &&
		inspect_field "$D/agencies/police.gwent/transport.crt" agency police.gwent &&
		inspect_field "$D/people/police.gwent/dana.evans.crt" name "Dana Evans" &&
		inspect_field "$D/people/police.gwent/dana.evans.crt" role person &&
		inspect_field "$D/agencies/police.gwent/transport.crt" "key type" X25519 &&
		inspect_field "$D/agencies/police.gwent/signing.crt" "key type" ED25519
}

# Succeed if inspect --pki reports a good certificate as good.
inspect_good() {
	inspect_field "$D/agencies/police.gwent/signing.crt" verify ok &&
		inspect_field "$D/agencies/police.gwent/signing.crt" revoked no
}

# Succeed if inspect --pki reports expired and revoked certificates.
inspect_bad() {
	inspect_field "$D/test/expired/police.gwent/signing.crt" verify "FAILED: certificate has expired" &&
		inspect_field "$D/test/notyet/police.gwent/transport.crt" verify "FAILED: certificate is not yet valid" &&
		grep -q "^revoked: *yes" <<<"$(pki inspect "$D/test/revoked/police.gwent/signing.crt" --pki "$D")"
}

# Succeed if the command "$@" fails.
fails() {
	! "$@"
}

check "certs/ppx-pki is executable" test -x "$PKI_TOOL"
check "help prints usage" output_has "usage: ppx-pki" bash "$PKI_TOOL" help
check "unknown command is refused" fails pki frobnicate "$D"
check "agency before init-ca is refused" fails pki agency "$D" police.gwent
check "demo runs in under 10 s" demo_fast 10
check "demo creates the CA, agencies, people and fixtures" demo_complete
check "no scratch or staging directories left behind" \
	test -z "$(find "$D" -maxdepth 2 -name '.ppx-pki*')"
check "every private key is mode 0600 in a 0700 directory" key_modes
check "certs/ holds exactly the real agencies' and people's certificates" certs_dir_exact
check "CA certificate: name, Ed25519, CA:TRUE pathlen:0, keyCertSign+cRLSign" ca_cert
check "signing certificates: names, Ed25519, digitalSignature+nonRepudiation" signing_ed25519
check "transport certificates: X25519 keys, keyAgreement, names, keys match" transport_x25519
check "person certificates: names, Ed25519" people_certs
check "every agency and person certificate verifies with the CRL" all_verify
check "revoked fixture police.gwent: certificate revoked" \
	verify_fails_with "$D/test/revoked/police.gwent/signing.crt" "certificate revoked"
check "revoked fixture housing.newport signing: certificate revoked" \
	verify_fails_with "$D/test/revoked/housing.newport/signing.crt" "certificate revoked"
check "revoked fixture housing.newport transport: certificate revoked" \
	verify_fails_with "$D/test/revoked/housing.newport/transport.crt" "certificate revoked"
check "the CRL lists the revoked fixtures" crl_lists_fixtures
check "expired fixture signing: certificate has expired" \
	verify_fails_with "$D/test/expired/police.gwent/signing.crt" "certificate has expired"
check "expired fixture transport: certificate has expired" \
	verify_fails_with "$D/test/expired/police.gwent/transport.crt" "certificate has expired"
check "expired fixtures are valid 2020-01-01 to 2021-01-01" \
	fixture_dates expired "Jan  1 00:00:00 2020 GMT" "Jan  1 00:00:00 2021 GMT"
check "not-yet-valid fixture signing: not yet valid" \
	verify_fails_with "$D/test/notyet/police.gwent/signing.crt" "not yet valid"
check "not-yet-valid fixture transport: not yet valid, X25519" notyet_transport
check "not-yet-valid fixtures are valid 2099-01-01 to 2100-01-01" \
	fixture_dates notyet "Jan  1 00:00:00 2099 GMT" "Jan  1 00:00:00 2100 GMT"
check "rogue fixture does not verify against the federation CA" \
	fails verify "$D/test/rogue/police.gwent/signing.crt"
check "rogue fixture verifies against the rogue CA" \
	openssl verify -crl_check -CAfile "$D/test/rogue-ca/ca.crt" \
	-CRLfile "$D/test/rogue-ca/crl.pem" "$D/test/rogue/police.gwent/signing.crt"
check "wrong-role fixture is a valid police.gwent person certificate (Ed25519)" wrongrole_fixture
check "inspect: fingerprint of a signing certificate" \
	inspect_fingerprint "$D/agencies/police.gwent/signing.crt"
check "inspect: fingerprint of a transport certificate" \
	inspect_fingerprint "$D/agencies/probation.gwent/transport.crt"
check "inspect: fingerprint of a person certificate" \
	inspect_fingerprint "$D/people/prison.cardiff/priya.shah.crt"
check "inspect: role, agency, name, key type" inspect_names
check "inspect --pki: verify ok and not revoked for a good cert" inspect_good
check "inspect --pki: expired, not yet valid and revoked reported" inspect_bad
check "inspect of a non-certificate fails" fails pki inspect "$D/test/README"
check "bad agency names are refused with a non-zero exit" bad_names_refused
check "person with a bad id is refused" fails pki person "$D" police.gwent "X Y" --id ../x
check "demo a second time changes nothing" demo_idempotent
check "re-issuing an agency without --force is refused" agency_no_overwrite
check "agency --out with --start/--end: expired certs beside the main ones" agency_out_expired
check "agency --alg p256: ECDSA P-256 signing certificate" agency_p256
check "person, revoke, crl: the revocation cycle" revoke_cycle
check "revoke of a certificate from another CA is refused" revoke_foreign_refused
check "no key or scratch file was written to TMPDIR" nothing_in_tmpdir

echo "1..$n"
[ "$failures" -eq 0 ]
