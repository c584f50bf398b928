#!/usr/bin/env bash
# pkcs11.sh — police.gwent signs with a key held in a SoftHSM2 token
# (PKCS#11), probation.gwent with its key file: messages go both ways,
# each side verifies the other's signatures and receipts, and `ppx verify`
# passes on both logs, whose checkpoints police signed on the token.
set -u
. "$(dirname "$0")/lib.sh"
MODULE=/usr/lib/softhsm/libsofthsm2.so
fed_init

# A token of its own in the scenario's directory; the daemon started below
# inherits SOFTHSM2_CONF.
mkdir -p "$FED/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$FED/softhsm/tokens" >"$FED/softhsm/softhsm2.conf"
export SOFTHSM2_CONF=$FED/softhsm/softhsm2.conf
(umask 077; echo 4711 >"$FED/softhsm/pin"; echo 8080 >"$FED/softhsm/so-pin")
out=$("$TOP/certs/ppx-pki" token-import "$PKI" police.gwent --module "$MODULE" \
	--token ppx --pin-file "$FED/softhsm/pin" \
	--so-pin-file "$FED/softhsm/so-pin" 2>&1)
check "ppx-pki token-import puts police's signing key into the token" \
	grep -q '^signing_key = pkcs11:token=ppx;object=police.gwent;id=%01;type=private$' <<<"$out"
diag "$out"

# police's [pki] names the token instead of the key file.
conf=$(fed_conf police.gwent)
grep -v '^signing_key = ' "$conf" | sed "s|^\[pki\]|[pki]\\
$(grep '^signing_key = ' <<<"$out")\\
$(grep '^pkcs11_module = ' <<<"$out")\\
$(grep '^pkcs11_pin_file = ' <<<"$out")|" >"$conf.new" && mv "$conf.new" "$conf"
check "police's configuration holds no key file for signing" \
	fails grep -qF "/signing.key" "$conf"

chmod 0644 "$FED/softhsm/pin"
out=$("$PPXD" -n -c "$conf" 2>&1)
check "ppxd refuses a PIN file of mode 0644" grep -q "mode 0644, must be 0600" <<<"$out"
chmod 0600 "$FED/softhsm/pin"
diag "$out"

fed_start police.gwent || { notok "police starts with its key in the token"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }
signer=$(fed_signer_pid police.gwent)
check "police's signer process has the PKCS#11 module loaded" \
	grep -q libsofthsm2.so "/proc/${signer:-0}/maps"
check "police's main process, which parses partners' frames, has not" \
	fails grep -q libsofthsm2.so "/proc/$(fed_pid police.gwent)/maps"

body_json police.gwent probation.gwent ARREST "signed on the token" >"$FED/p2b.json"
out=$(ppx_send police.gwent "$FED/p2b.json" --wait --timeout 20 2>&1)
check "police -> probation delivered and receipted" grep -q "probation.gwent=DELIVERED" <<<"$out"
diag "$out"
body_json probation.gwent police.gwent ARREST "signed with the key file" >"$FED/b2p.json"
out=$(ppx_send probation.gwent "$FED/b2p.json" --wait --timeout 20 2>&1)
check "probation -> police delivered and receipted" grep -q "police.gwent=DELIVERED" <<<"$out"
diag "$out"

check "probation verified and logged police's message" [ "$(log_count probation.gwent ENTRY_RECEIVED)" -eq 1 ]
check "police verified and logged probation's message" [ "$(log_count police.gwent ENTRY_RECEIVED)" -eq 1 ]
check "police logged probation's signed receipt" [ "$(log_count police.gwent ENTRY_RECEIPT_RECEIVED)" -eq 1 ]
check "probation logged police's token-signed receipt" [ "$(log_count probation.gwent ENTRY_RECEIPT_RECEIVED)" -eq 1 ]

fed_stop police.gwent
fed_stop probation.gwent
check "police signed a checkpoint on the token at exit" [ "$(log_count police.gwent ENTRY_CHECKPOINT)" -ge 1 ]
for a in police.gwent probation.gwent; do
	out=$("$PPX" verify --log "$(fed_log_dir $a)" --pki "$PKI" 2>&1)
	rc=$?
	check "ppx verify passes on $a's log" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || diag "$out"
done
finish
