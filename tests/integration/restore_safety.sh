#!/usr/bin/env bash
# restore_safety.sh — `ppx restore` run as root leaves a log the daemon's
# own user can start on, a crash at any step of it leaves a state ppxd
# refuses to start on (never a new, empty log) and a second `ppx restore`
# completes, a damaged log in place does not stop it, and text the
# daemon's marker parser would refuse is refused up front.
#
# police.gwent and probation.gwent exchange a few messages; probation is
# backed up (ppx backup), then stopped.  As root, probation runs as
# `nobody` (its directory and keys given to it, as the package gives
# /var/lib/ppx to ppx) and `ppx restore` runs as root.  Crashes are the
# test hook PPX_RESTORE_TEST_STOP=N of client/cmd_restore.c (an _exit
# right after step N: 1 the marker written, 2 the log moved aside), and
# by hand the state "marker, no log, no copy".  The damaged log is
# corrupt.sh's "wild node sizes", which crashes any reader of it.
set -u
. "$(dirname "$0")/lib.sh"
P=probation.gwent
AGENCIES="police.gwent $P"
FED_DIR=$(mktemp -d /tmp/ppx-fed-XXXXXX)
cp -a "$PKI" "$FED_DIR/pki"	# ours to give to probation's user
PKI=$FED_DIR/pki
fed_init
for a in $AGENCIES; do fed_config "$a" $'[evidence]\nwitness_interval_ms = 300'; done
PC=$(fed_conf $P)
PLOG=$FED/$P/log
OUT=$FED/out
BAK=$FED/p.bak

# Probation's daemon runs as `nobody` when we are root.
AS_USER=""
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	AS_USER=nobody
	AS_GROUP=$(id -gn nobody)
	mkdir -p "$PLOG"
	chmod 755 "$FED"
	chmod -R a+rX "$PKI/ca" "$PKI/certs" "$FED/crl.pem" "$FED/policy.conf"
	chmod a+rx "$PKI" "$PKI/agencies"
	chown -R "$AS_USER:$AS_GROUP" "$FED/$P" "$PKI/agencies/$P"
else
	diag "not root: probation runs as $(id -un), the ownership checks are skipped"
fi
p_start() {	# probation, as its user
	PPXD_WRAP="${AS_USER:+setpriv --reuid=$AS_USER --regid=$AS_GROUP --clear-groups} ${PPXD_WRAP:-}" \
		fed_start $P
}
p_refused() {	# p_refused WHAT: ppxd refuses to start, saying a restore was interrupted
	local out rc
	# shellcheck disable=SC2086
	out=$(timeout 60 ${AS_USER:+setpriv --reuid=$AS_USER --regid=$AS_GROUP --clear-groups} \
		${PPXD_WRAP:-} "$PPXD" -f -c "$PC" 2>&1); rc=$?
	echo "$out" >>"$FED/$P/refused.out"
	diag "$1: ppxd exit $rc: $(grep 'ppxd' <<<"$out" | tail -1)"
	check "$1: ppxd refuses to start" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
	check "$1: ... saying a restore was interrupted" grep -q "a restore was interrupted" <<<"$out"
}
p_status() { "$PPX" status --config "$PC" >/dev/null 2>&1; }
owned() {	# owned FILE...: by probation's user (when we are root)
	local f
	[ -n "$AS_USER" ] || return 0
	for f; do [ "$(stat -c %U "$f")" = "$AS_USER" ] || return 1; done
}
restore() {	# restore [args]: ppx restore of probation from $BAK
	"$PPX" restore --from "$BAK" --config "$PC" --reason "disk lost" "$@" >"$OUT" 2>&1
}

fed_start police.gwent || { notok "police starts"; finish; exit 1; }
p_start || { notok "probation starts as ${AS_USER:-us}"; finish; exit 1; }
fed_burst $P police.gwent 20 "restore safety {}" >"$FED/burst.json"
ppx_send $P "$FED/burst.json" >/dev/null 2>&1
fed_burst police.gwent $P 20 "restore safety back {}" >"$FED/burst2.json"
ppx_send police.gwent "$FED/burst2.json" >/dev/null 2>&1
cosigned() { [ "$(log_count $P ENTRY_COSIGNED)" -ge 1 ]; }
wait_until 30 cosigned ||
	diag "no cosigned checkpoint in probation's log yet"
"$PPX" backup --to "$BAK" --config "$PC" >"$OUT" 2>&1
check "ppx backup of probation exits 0" grep -q "verified:" "$OUT"
check "... leaving no temporary file of its own" \
	[ -z "$(find "$FED" -maxdepth 1 -name 'p.bak.tmp*')" ]
: >"$FED/p2.bak.tmp"	# another backup's, say
"$PPX" backup --to "$FED/p2.bak" --config "$PC" >"$OUT" 2>&1
check "a backup beside another's temporary file succeeds" grep -q "verified:" "$OUT"
check "... and leaves that file alone" [ -e "$FED/p2.bak.tmp" ]
ppx_send $P "$FED/burst.json" >/dev/null 2>&1	# after the copy

# --- text the daemon's marker parser refuses ---------------------------------
"$PPX" restore --from "$BAK" --config "$PC" --reason $'disk\tlost' >"$OUT" 2>&1
rc=$?
check "--reason with a tab is refused (exit 2)" [ "$rc" -eq 2 ]
check "... saying so" grep -q "control character" "$OUT"
cp "$BAK" "$FED/p"$'\n'"bak"
"$PPX" restore --from "$FED/p"$'\n'"bak" --config "$PC" --reason x >"$OUT" 2>&1
rc=$?
check "--from with a newline is refused (exit 2)" [ "$rc" -eq 2 ]
check "... and nothing was written" [ ! -e "$PLOG/restored.json" ]

fed_stop $P
orig=$(md5sum <"$PLOG/data.mdb")

# --- a crash after step 1 (the marker written) --------------------------------
PPX_RESTORE_TEST_STOP=1 restore
rc=$?
diag "$(tail -2 "$OUT")"
check "crash after the marker: ppx restore stopped there (exit 99)" [ "$rc" -eq 99 ]
check "... the marker and the checked copy are there" \
	[ -e "$PLOG/restored.json" -a -e "$PLOG/data.mdb.restoring" ]
check "... both owned by probation's user" owned "$PLOG/restored.json" \
	"$PLOG/data.mdb.restoring"
check "... and the log is as it was" [ "$(md5sum <"$PLOG/data.mdb")" = "$orig" ]
p_refused "crash after the marker"
restore
rc=$?
check "ppx restore again completes it (exit 0)" [ "$rc" -eq 0 ]
check "... leaving no data.mdb.restoring" [ ! -e "$PLOG/data.mdb.restoring" ]
kept=$(for f in "$PLOG"/replaced-*/data.mdb; do md5sum <"$f"; done | grep -c "$orig")
check "... the replaced log kept in replaced-*/" [ "$kept" -ge 1 ]

# --- a crash after step 2 (the log moved aside) -------------------------------
PPX_RESTORE_TEST_STOP=2 restore
rc=$?
check "crash after moving the log aside: exit 99" [ "$rc" -eq 99 ]
check "... no data.mdb, the copy and the marker there" [ ! -e "$PLOG/data.mdb" -a \
	-e "$PLOG/data.mdb.restoring" -a -e "$PLOG/restored.json" ]
p_refused "crash after moving the log aside"
check "... and ppxd made no new log" [ ! -e "$PLOG/data.mdb" ]
# The copy lost too: only the marker says a restore was under way.
rm -f "$PLOG/data.mdb.restoring"
p_refused "marker without a log"
check "... and ppxd made no new log" [ ! -e "$PLOG/data.mdb" ]
restore
rc=$?
diag "$(grep -i "interrupted\|replaces" "$OUT")"
check "ppx restore again completes it (exit 0)" [ "$rc" -eq 0 ]
check "... taking what was replaced from the marker" grep -q "an interrupted restore is completed" "$OUT"

# --- the daemon's user starts on what root restored ---------------------------
for f in data.mdb restored.json ppxd.lock; do
	check "$f is owned by probation's user" owned "$PLOG/$f"
done
check "the replaced-* directories too" owned "$(ls -d "$PLOG"/replaced-* | head -1)"
p_start
check "probation starts on the restored log as ${AS_USER:-us}" p_status
n=$("$PPX" log --log "$PLOG" --json --kind RESTORED 2>/dev/null | wc -l)
check "... logging ENTRY_RESTORED once" [ "$n" -eq 1 ]
check "... and the marker is removed" [ ! -e "$PLOG/restored.json" ]

# --- a damaged log in place: read in a child -----------------------------------
# corrupt.sh's wild node sizes, in every node of every leaf page but the
# format record's: the newest entry, which the comparison reads, too.
fed_stop $P
n=$(perl -e '
	my ($path) = @ARGV;
	open(my $f, "+<:raw", $path) or die "$path: $!";
	my ($ps, $n, $size) = (4096, 0, -s $path);
	for (my $pg = 2; $pg * $ps < $size; $pg++) {
		seek($f, $pg * $ps, 0);
		read($f, my $page, $ps) == $ps or last;
		my ($flags, $lower) = unpack("x10 v v", $page);
		next unless ($flags & 0x7f) == 0x02;
		next if index($page, "format") >= 0;	# the format record kept
		for my $i (0 .. (($lower - 16) >> 1) - 1) {
			my $ptr = unpack("v", substr($page, 16 + 2 * $i, 2));
			next if $ptr < 16 || $ptr + 8 > $ps;
			next if unpack("v", substr($page, $ptr + 4, 2)) & 7;
			seek($f, $pg * $ps + $ptr, 0);
			print $f pack("v v", 0xffff, 0xffff);
			$n++;
		}
	}
	close($f); print "$n\n";' "$PLOG/data.mdb")
check "wild node sizes in all $n nodes of the leaf pages of probation's log" [ "$n" -ge 1 ]
restore >/dev/null 2>&1
rc=$?
diag "$(grep -i "replaces\|restored" "$OUT")"
check "ppx restore over the damaged log exits 0" [ "$rc" -eq 0 ]
check "... saying the log it replaces cannot be read (damaged)" \
	grep -q "the log it replaces cannot be read (damaged" "$OUT"
check "... and writing replaced_size 0" \
	jq -e '.replaced_size == 0 and (has("replaced_root") | not)' "$PLOG/restored.json"
p_start
check "probation starts on it" p_status
check "probation's log verifies" "$PPX" verify --log "$PLOG" --pki "$PKI"
finish
