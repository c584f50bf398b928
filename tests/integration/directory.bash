# directory.bash — shared by the federation scenarios (federation_*.sh):
# a federation of up to six agencies that learn of each other from a signed
# directory (PROTOCOL.md 13) instead of [partner] sections.
#
# Sourced by a scenario (it sources lib.sh itself), then:
#   dir_init                      a scratch copy of the demo PKI with a
#                                 directory key, the three lib.sh agencies
#   dir_agency NAME [ARGS]        issue a new agency (ppx-pki agency)
#   dir_config NAME               its configuration, with [federation]
#   dir_make SERIAL OUT ENTRY...  write a spec and sign it (ppx directory make)
#   dir_drop NAME FILE            put FILE in NAME's file drop, atomically
#   dir_serial NAME               the serial in force at NAME's daemon
# Nothing here changes build/pki: every certificate, key and CRL the
# scenarios make is in $FED/pki, a copy.
# Not itself a test (tests/run-tests runs *.sh; this is *.bash).

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PPXPKI=$TOP/certs/ppx-pki
FEDNAME=gwent-test
THREE="police.gwent probation.gwent prison.cardiff"
# Seconds to wait: for a change to show in status (SOON), for a link to
# come up (UP), for an outbox to empty (SETTLE); longer under valgrind.
SOON=${SOON:-10}
UP=${UP:-20}
SETTLE=${SETTLE:-60}
export PPX	# ppx-pki directory-sign runs $PPX

# lib.sh's fed_port gives every agency but the three the same port; here
# each of the two newcomers and a moved endpoint has its own, in a block
# of 8 below lib.sh's range and the kernel's ephemeral ports.
fed_port() {
	local i
	case $1 in
	police.gwent) i=0 ;; probation.gwent) i=1 ;; prison.cardiff) i=2 ;;
	police.dyfed) i=3 ;; probation.dyfed) i=4 ;; moved) i=5 ;;
	*) i=6 ;;
	esac
	echo $((FED_PORT + i))
}

dir_init() {
	FED_DIR=$(mktemp -d /tmp/ppx-fed-XXXXXX)
	FED_PORT=${FED_PORT:-$((28000 + (RANDOM % 500) * 8))}
	cp -a "$PKI" "$FED_DIR/pki"
	PKI=$FED_DIR/pki
	fed_init
	"$PPXPKI" directory-key "$PKI" --federation "$FEDNAME" >"$FED/directory-key.out" 2>&1 ||
		{ notok "ppx-pki directory-key makes the directory key"
		  diag "$(cat "$FED/directory-key.out")"; }
}

dir_agency() {	# dir_agency NAME [ppx-pki agency options]
	local a=$1; shift
	"$PPXPKI" agency "$PKI" "$a" "$@" >"$FED/issue-$a.out" 2>&1
}

fed_listen() { sed -n 's|^listen = ||p' "$(fed_conf "$1")"; }

# NAME's configuration: no [partner] sections, its partners are the
# directory's; its own file drop and its own CRL file.
dir_config() {	# dir_config NAME [PORT]
	local a=$1 dir=$FED/$1
	mkdir -p "$dir"
	[ -f "$dir/crl.pem" ] || cp "$PKI/ca/crl.pem" "$dir/crl.pem"
	{
		echo "[agency]"
		echo "name = $a"
		echo "area = gwent"
		echo "listen = tcp://127.0.0.1:${2:-$(fed_port "$a")}"
		echo "log_dir = $dir/log"
		echo "control = $dir/run"
		echo "policy = $FED/policy.conf"
		echo "[pki]"
		echo "ca = $PKI/ca/ca.crt"
		echo "crl = $dir/crl.pem"
		echo "certs = $PKI/certs"
		echo "signing_key = $PKI/agencies/$a/signing.key"
		echo "signing_cert = $PKI/agencies/$a/signing.crt"
		echo "transport_key = $PKI/agencies/$a/transport.key"
		echo "transport_cert = $PKI/agencies/$a/transport.crt"
		echo "[delivery]"
		echo "retry_initial_ms = 100"
		echo "retry_max_ms = 1000"
		echo "heartbeat_ms = 500"
		echo "heartbeat_timeout_ms = ${HEARTBEAT_TIMEOUT_MS:-3000}"
		echo "[federation]"
		echo "directory = $dir/directory.pb"
		echo "name = $FEDNAME"
		echo "partners = *"
		echo "forward = yes"
		fed_operator "$a"
		echo "uid = $(id -u)"
	} >"$dir/ppxd.conf"
}

dir_type() {
	case $1 in
	police.*) echo police ;; probation.*) echo probation ;;
	prison.*) echo prison ;; *) echo other ;;
	esac
}

# A directory spec (the JSON `ppx directory make` reads).  Each ENTRY is
# NAME[:STATUS[:PAIRS]]: STATUS active (default), suspended or leaving;
# PAIRS a "+"-list of which of NAME's certificate pairs to list: "cur"
# (agencies/NAME, the default), "next" (agencies/NAME/next, from ppx-pki
# renew), "previous" (after ppx-pki switch).  The endpoint is the one in
# NAME's configuration.
dir_spec() {	# dir_spec SERIAL OUT ENTRY...
	local serial=$1 out=$2 e a st pairs p d
	local agencies=() list=() sig=() tr=()
	shift 2
	for e in "$@"; do
		IFS=: read -r a st pairs <<<"$e"
		sig=() tr=()
		IFS=+ read -ra list <<<"${pairs:-cur}"
		for p in "${list[@]}"; do
			d=$PKI/agencies/$a
			[ "$p" = cur ] || d=$d/$p
			sig+=("$d/signing.crt") tr+=("$d/transport.crt")
		done
		agencies+=("$(jq -n --arg name "$a" --arg type "$(dir_type "$a")" \
			--arg ep "$(fed_listen "$a")" --arg st "${st:-active}" \
			--argjson s "$(printf '%s\n' "${sig[@]}" | jq -R . | jq -s .)" \
			--argjson t "$(printf '%s\n' "${tr[@]}" | jq -R . | jq -s .)" \
			'{name: $name, type: $type, display_name: $name,
			  endpoints: [$ep], status: $st,
			  signing_certificates: $s, transport_certificates: $t}')")
	done
	printf '%s\n' "${agencies[@]}" | jq -s --arg fed "$FEDNAME" --argjson serial "$serial" \
		'{federation: $fed, serial: $serial, valid_days: 30, agencies: .}' >"$out"
}

# Sign a spec with the directory key.
dir_sign() {	# dir_sign SPEC OUT
	"$PPX" directory make "$1" --key "$PKI/directory/directory.key" \
		--cert "$PKI/directory/directory.crt" -o "$2"
}

dir_make() {	# dir_make SERIAL OUT ENTRY...
	local serial=$1 out=$2
	shift 2
	dir_spec "$serial" "${out%.pb}.json" "$@" &&
		dir_sign "${out%.pb}.json" "$out" >"${out%.pb}.out" 2>&1 ||
		{ diag "directory serial $serial was not made:"; diag "$(cat "${out%.pb}.out" 2>/dev/null)"; return 1; }
}

# Drop a directory into NAME's watched file, as an operator would: write
# beside it, rename over it.
dir_drop() {	# dir_drop NAME FILE
	cp "$2" "$FED/$1/directory.pb.new" && mv -f "$FED/$1/directory.pb.new" "$FED/$1/directory.pb"
}

ppx_status_json() { "$PPX" status --config "$(fed_conf "$1")" --json 2>/dev/null; }

# The serial of the directory in force at NAME's daemon ("" if it does not
# answer, 0 if it holds none).
dir_serial() { ppx_status_json "$1" | jq -r '.directory.serial // "0"'; }
dir_at() { [ "$(dir_serial "$1")" = "$2" ]; }	# dir_at NAME SERIAL
dir_all_at() {	# dir_all_at SERIAL NAME...
	local s=$1 a; shift
	for a in "$@"; do dir_at "$a" "$s" || return 1; done
}

# NAME's view of partner P: a field of its PartnerStatus.
partner_field() {	# partner_field NAME P FIELD
	ppx_status_json "$1" | jq -r --arg p "$2" --arg f "$3" \
		'.partners[] | select(.agency == $p) | .[$f] // empty'
}
standing_is() { [ "$(partner_field "$1" "$2" standing)" = "$3" ]; }
connected() { [ "$(partner_field "$1" "$2" connected)" = true ]; }
not_connected() { ! connected "$@"; }

# ENTRY_DIRECTORY entries for SERIAL in NAME's log; their sources (peer).
dir_entries() {	# dir_entries NAME SERIAL
	ppx_log "$1" | jq -r --arg s "serial $2 " \
		'select(.kind == "ENTRY_DIRECTORY" and (.detail | startswith($s))) | "peer=" + .peer'
}
# ENTRY_REJECTED entries with REASON in NAME's log.
rejected_count() {	# rejected_count NAME REASON
	ppx_log "$1" | jq -r --arg r "$2" 'select(.kind == "ENTRY_REJECTED" and .reason == $r) | .seq' | grep -c . || true
}

# Messages FROM -> TO: N of KIND (ARREST unless prison sends).
dir_send() {	# dir_send FROM TO N LABEL
	local kind=ARREST i f=$FED/send-$1-$2-$4.json
	case $1 in prison.*) kind=RELEASE_DATE ;; esac
	for i in $(seq -w 1 "$3"); do
		body_json "$1" "$2" "$kind" "$4 $1 to $2 $i"
	done >"$f"
	ppx_send "$1" "$f" >"$f.out" 2>&1
}

conf_sums() {	# conf_sums NAME...: their configurations' SHA-256
	local a
	for a in "$@"; do sha256sum "$(fed_conf "$a")"; done
}
pids_of() {	# pids_of NAME...
	local a
	for a in "$@"; do echo "$a $(fed_pid "$a")"; done
}
all_alive() {	# all_alive NAME...
	local a
	for a in "$@"; do fed_alive "$a" || return 1; done
}

# A copy of the signed directory IN, re-signed by KEY with CERT in place of
# the directory certificate (e.g. an agency's signing key: a signature
# that verifies, by a certificate the federation CA issued, for another
# role).  With the protobuf classes make writes into $BUILD/py and the
# openssl command: nothing of ppx's own signing code.
dir_resign() {	# dir_resign IN OUT KEY CERT
	PYTHONPATH="$TOP/$BUILD/py" /usr/bin/python3 - "$@" <<'PY'
import subprocess, sys, tempfile, os
import ppx_pb2
src, out, key, cert = sys.argv[1:5]
sd = ppx_pb2.SignedDirectory()
sd.ParseFromString(open(src, "rb").read())
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                     check=True, capture_output=True).stdout
with tempfile.NamedTemporaryFile(delete=False) as f:
    f.write(b"ppx/v1/directory\x00" + sd.directory)
sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key,
                      "-in", f.name], check=True, capture_output=True).stdout
os.unlink(f.name)
sd.signer_certificate = der
sd.signature = sig
open(out, "wb").write(sd.SerializeToString())
PY
}

# A copy of FILE with the byte at OFFSET (default: the middle) inverted.
flip_byte() {	# flip_byte IN OUT [OFFSET]
	/usr/bin/python3 - "$@" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = int(sys.argv[3]) if len(sys.argv) > 3 else len(b) // 2
b[i] ^= 0xff
open(sys.argv[2], "wb").write(bytes(b))
PY
}

# The number of the CRL in force at NAME's daemon (decimal).
crl_number() { ppx_status_json "$1" | jq -r '.directory.crlNumber // "0"'; }
crl_at_least() {	# crl_at_least N NAME...
	local n=$1 a; shift
	for a in "$@"; do
		[ "$(crl_number "$a")" -ge "$n" ] 2>/dev/null || return 1
	done
}
# The number of a CRL file (decimal).
crl_file_number() {
	local h
	h=$(openssl crl -in "$1" -noout -crlnumber | sed 's/^crlNumber=0x//; s/^crlNumber=//')
	echo $((16#$h))
}
rejected_more() {	# rejected_more NAME REASON COUNT: more than COUNT now
	[ "$(rejected_count "$1" "$2")" -gt "$3" ]
}
endpoint_is() { [ "$(partner_field "$1" "$2" endpoint)" = "$3" ]; }	# NAME P EP
