#!/usr/bin/env bash
# install_tree.sh — make install DESTDIR=TMP PREFIX=/usr puts exactly the
# files of docs/OPERATIONS.md section 1 there, with their modes; the units
# pass systemd-analyze verify against that tree; ppxd@.service's exposure
# (systemd-analyze security --offline=true) is at most 2.0; the installed
# ppxd runs the installed ppx for reads; make uninstall leaves nothing.  No
# root needed.
set -u
. "$(dirname "$0")/lib.sh"
FED=$(mktemp -d /tmp/ppx-install-XXXXXX)
DEST=$FED/dest
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	notok "systemd-analyze is installed (Debian package systemd; scripts/install-deps lists it)"
	finish
	exit 1
fi

# Unset the parent make's flags: this is a make of its own, in TOP.
inst() { env -u MAKEFLAGS -u MAKELEVEL make -s -C "$TOP" BUILD="$BUILD" PREFIX=/usr DESTDIR="$DEST" "$@"; }

out=$(inst install 2>&1)
check "make install DESTDIR PREFIX=/usr succeeds" [ $? -eq 0 ]
diag "$out"

expected="750 d etc/ppx
644 f lib/systemd/system/ppx-metrics-http@.service
644 f lib/systemd/system/ppx-metrics@.service
644 f lib/systemd/system/ppx-metrics@.timer
644 f lib/systemd/system/ppxd@.service
755 f usr/bin/ppx
755 f usr/bin/ppx-pki
755 f usr/bin/ppx-sink-pg
755 f usr/bin/ppx-sink-sqlite
644 f usr/lib/sysusers.d/ppx.conf
644 f usr/lib/tmpfiles.d/ppx.conf
755 f usr/sbin/ppxd
644 f usr/share/doc/ppx/examples/police.gwent.conf
644 f usr/share/doc/ppx/examples/policy.conf
644 f usr/share/man/man1/ppx-pki.1
644 f usr/share/man/man1/ppx-sink-pg.1
644 f usr/share/man/man1/ppx-sink-sqlite.1
644 f usr/share/man/man1/ppx.1
644 f usr/share/man/man8/ppxd.8
750 d var/lib/ppx"
expected=$(sort -k3 <<<"$expected")
# Every file, and every directory that is not 0755 (those are only parents).
got=$(cd "$DEST" && find . -mindepth 1 \( -type f -o -type l -o ! -perm 0755 \) \
	-printf '%m %y %P\n' | sort -k3)
check "make install puts exactly the expected files, with their modes" [ "$got" = "$expected" ]
[ "$got" = "$expected" ] || diag "$(diff <(echo "$expected") <(echo "$got"))"
check "the installed ppxd is the built one" cmp -s "$DEST/usr/sbin/ppxd" "$TOP/$BUILD/ppxd"
check "the units start the installed programs" \
	grep -q '^ExecStart=/usr/sbin/ppxd -c /etc/ppx/%i.conf$' "$DEST/lib/systemd/system/ppxd@.service"

# systemd-analyze verify checks each unit's syntax and that the programs it
# runs exist: against the installed tree, with the host's targets (which
# the units are ordered after) copied in beside, and /bin/kill (ExecReload).
VROOT=$FED/vroot
cp -a "$DEST" "$VROOT"
mkdir -p "$VROOT/usr/lib/systemd/system" "$VROOT/bin"
cp /lib/systemd/system/*.target "$VROOT/usr/lib/systemd/system/"
cp /bin/kill "$VROOT/bin/kill"
for u in ppxd@police.gwent.service ppx-metrics@police.gwent.service \
	ppx-metrics@police.gwent.timer ppx-metrics-http@police.gwent.service; do
	out=$(systemd-analyze verify --man=no --root="$VROOT" "$u" 2>&1)
	rc=$?
	check "systemd-analyze verify $u: no complaint" [ "$rc" -eq 0 -a -z "$out" ]
	[ -z "$out" ] || diag "$out"
done
# ... and it does complain when a program is missing.
rm "$VROOT/usr/sbin/ppxd"
out=$(systemd-analyze verify --man=no --root="$VROOT" ppxd@police.gwent.service 2>&1)
check "... and fails when ppxd is not installed" [ $? -ne 0 ]
diag "$out"

# The exposure level systemd rates the hardened daemon unit at.
cp "$DEST/lib/systemd/system/ppxd@.service" "$FED/ppxd@police.gwent.service"
out=$(systemd-analyze security --offline=true "$FED/ppxd@police.gwent.service" 2>&1)
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
diag "systemd-analyze security --offline=true ppxd@.service: ${level:-(none)}"
check "ppxd@.service's exposure level is at most $MAX_EXPOSURE" \
	awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l != "" && l + 0 <= m + 0) }'
[ -n "$level" ] || diag "$out"
for u in ppx-metrics@ ppx-metrics-http@; do
	cp "$DEST/lib/systemd/system/$u.service" "$FED/${u}police.gwent.service"
	out=$(systemd-analyze security --offline=true "$FED/${u}police.gwent.service" 2>&1)
	l=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
	diag "systemd-analyze security --offline=true $u.service: ${l:-(none)}"
	check "$u.service's exposure level is at most $MAX_EXPOSURE" \
		awk -v l="$l" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l != "" && l + 0 <= m + 0) }'
done

# The installed ppxd (in sbin) finds the installed ppx (in bin) for reads,
# with [accountability] ppx unset: a read through the daemon works.
FED_DIR=$FED fed_init
PPXD=$DEST/usr/sbin/ppxd
PPX=$DEST/usr/bin/ppx
if fed_start police.gwent; then
	out=$("$PPX" log --config "$(fed_conf police.gwent)" --reason "install test" --json 2>&1)
	check "a read through the installed ppxd runs the installed ppx (../bin/ppx)" \
		grep -q '"access":{"reason":"install test","command":"log"' <<<"$out"
	grep -q '"install test"' <<<"$out" || diag "$(tail -3 <<<"$out" | cut -c1-300)"
	fed_stop police.gwent
else
	notok "the installed ppxd starts"
fi

out=$(inst uninstall 2>&1)
check "make uninstall succeeds" [ $? -eq 0 ]
left=$(find "$DEST" \( -type f -o -type l \) -printf '%P\n')
check "make uninstall leaves no file" [ -z "$left" ]
diag "$left"
check "... nor the empty /etc/ppx and /var/lib/ppx" [ ! -e "$DEST/etc/ppx" -a ! -e "$DEST/var/lib/ppx" ]
finish
