#!/usr/bin/env bash
# directory_tool.sh — the directory tools on their own, no daemons: the
# directory key (ppx-pki directory-key), signing a directory from a JSON
# spec (ppx-pki directory-sign, ppx directory make), judging a directory
# file (ppx directory show: exit 0 current, 1 refused with the reason),
# and a key rotation's PKI side (ppx-pki renew, switch).  Works on a copy
# of the demo PKI, so the shared one is left alone.
set -u
. "$(dirname "$0")/lib.sh"
FED=$(mktemp -d /tmp/ppx-dirtool-XXXXXX)
P=$FED/pki
cp -r "$PKI" "$P"
export PPX
PKITOOL=$TOP/certs/ppx-pki

spec() {	# spec FILE SERIAL STATUS-OF-PROBATION [extra police signing cert]
	local extra=${4:+, \"$4\"}
	cat >"$1" <<JSON
{"federation": "england-wales", "serial": $2, "valid_days": 30,
 "agencies": [
  {"name": "police.gwent", "type": "police", "display_name": "Gwent Police",
   "endpoints": ["tcp://127.0.0.1:7101"], "status": "active",
   "signing_certificates": ["pki/agencies/police.gwent/signing.crt"$extra],
   "transport_certificates": ["pki/agencies/police.gwent/transport.crt"]},
  {"name": "probation.gwent", "type": "probation",
   "endpoints": ["tcp://[::1]:7102", "tcp://probation.example:7102"],
   "status": "$3",
   "signing_certificates": ["pki/agencies/probation.gwent/signing.crt"],
   "transport_certificates": ["pki/agencies/probation.gwent/transport.crt"]}]}
JSON
}
show() { "$PPX" directory show "$@" --ca "$P/ca/ca.crt"; }
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

check "the demo has a directory key, marked as the demo's" test -f "$P/directory/DEMO"
check "directory-key replaces the demo's without --force" \
	"$PKITOOL" directory-key "$P" --federation england-wales
check "... and it is no longer the demo's" test ! -e "$P/directory/DEMO"
check "... named for the federation, in the directory role" \
	grep -q 'O = england-wales, OU = directory, CN = england-wales directory' \
	<(openssl x509 -in "$P/directory/directory.crt" -noout -subject)
check "... the key mode 0600" [ "$(stat -c %a "$P/directory/directory.key")" = 600 ]
check "directory-key will not replace it without --force" \
	fails "$PKITOOL" directory-key "$P" --federation england-wales
"$PKITOOL" directory-key "$P" --federation 'Bad Name' 2>/dev/null
check "directory-key refuses a bad federation name (exit 2)" [ $? = 2 ]

spec "$FED/s1.json" 1 active
check "directory-sign signs a spec" "$PKITOOL" directory-sign "$P" "$FED/s1.json" -o "$FED/d1.pb"
check "show: it verifies and is current" show "$FED/d1.pb"
check "show --json gives its serial and both agencies" \
	test "$(show "$FED/d1.pb" --json | jq -r '[.serial, (.agencies | length)] | @tsv')" = "1	2"

spec "$FED/bad.json" 1 gone
"$PPX" directory make "$FED/bad.json" --key "$P/directory/directory.key" \
	--cert "$P/directory/directory.crt" -o "$FED/bad.pb" 2>/dev/null
check "make refuses a spec with an unknown status (exit 2)" [ $? = 2 ]

"$PPX" directory make "$FED/s1.json" --key "$P/agencies/police.gwent/signing.key" \
	--cert "$P/agencies/police.gwent/signing.crt" -o "$FED/police.pb" 2>/dev/null
show "$FED/police.pb" 2>"$FED/err" >/dev/null
check "show refuses one signed by an agency's signing key (exit 1)" [ $? = 1 ]
check "... naming the directory role" grep -q 'not a current directory certificate' "$FED/err"

jq '.valid_days = null | del(.valid_days) | .not_before = "2020-01-01T00:00:00Z" | .not_after = "2021-01-01T00:00:00Z"' \
	"$FED/s1.json" >"$FED/old.json"
"$PKITOOL" directory-sign "$P" "$FED/old.json" -o "$FED/old.pb" 2>/dev/null
show "$FED/old.pb" 2>"$FED/err" >/dev/null
check "show refuses an expired directory (exit 1)" [ $? = 1 ]
check "... saying so" grep -q 'expired' "$FED/err"

cp "$FED/d1.pb" "$FED/flip.pb"
printf '\x01' | dd of="$FED/flip.pb" bs=1 seek=40 conv=notrunc 2>/dev/null
check "show refuses a directory with one byte changed" fails show "$FED/flip.pb"

jq '.agencies[0].endpoints = ["tcp://127.0.0.1:0"]' "$FED/s1.json" >"$FED/ep.json"
"$PKITOOL" directory-sign "$P" "$FED/ep.json" -o "$FED/ep.pb" 2>/dev/null
show "$FED/ep.pb" 2>"$FED/err" >/dev/null
check "show refuses a bad endpoint, naming the agency" grep -q 'agency police.gwent: endpoint 0' "$FED/err"

old_sig=$(fp "$P/agencies/police.gwent/signing.crt")
"$PKITOOL" renew "$P" police.gwent --days 400 >"$FED/renew.out" 2>/dev/null
check "renew issues a new pair into next/" \
	test -f "$P/agencies/police.gwent/next/signing.key" -a -f "$P/agencies/police.gwent/next/transport.crt"
new_sig=$(fp "$P/agencies/police.gwent/next/signing.crt")
check "renew prints the new fingerprints" grep -q "^signing $new_sig" "$FED/renew.out"
check "renew copies the new certificates into certs/" \
	test "$(ls "$P"/certs/police.gwent-signing-*.pem "$P"/certs/police.gwent-transport-*.pem | wc -l)" -eq 2
check "renew will not replace a pending renewal" fails "$PKITOOL" renew "$P" police.gwent 2>/dev/null

spec "$FED/s2.json" 2 suspended pki/agencies/police.gwent/next/signing.crt
"$PKITOOL" directory-sign "$P" "$FED/s2.json" -o "$FED/d2.pb" 2>/dev/null
check "a directory with the old and new signing certificates verifies" show "$FED/d2.pb"
check "... and lists both" \
	test "$(show "$FED/d2.pb" --json | jq '[.agencies[0].certificates[] | select(.role == "signing")] | length')" = 2
check "... and the suspension" \
	test "$(show "$FED/d2.pb" --json | jq -r '.agencies[1].status')" = suspended

check "switch puts the renewed pair in place" "$PKITOOL" switch "$P" police.gwent
check "... the current signing certificate is the new one" test "$(fp "$P/agencies/police.gwent/signing.crt")" = "$new_sig"
check "... the old one is in previous/" test "$(fp "$P/agencies/police.gwent/previous/signing.crt")" = "$old_sig"
check "... and next/ is gone" test ! -e "$P/agencies/police.gwent/next"
check "... keys stay 0600" test "$(stat -c %a "$P/agencies/police.gwent/signing.key")" = 600
check "switch with no renewal pending fails" fails "$PKITOOL" switch "$P" police.gwent 2>/dev/null

finish
