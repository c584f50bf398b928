#!/usr/bin/env bash
# corrupt.sh — a damaged LMDB file gives a clear error at start, never a
# silent wrong answer.  Police's log (50 messages sent and receipted) is
# damaged four ways on a stopped daemon: one byte of one message changed,
# the file cut short, its header overwritten, and its lock file scrambled.
# Each time the daemon either refuses to start, naming what is wrong, and
# leaves the file as it found it — and the reading commands refuse too —
# or (the lock file, which LMDB rebuilds) starts on an intact log.
# Restoring the backup brings everything back.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-50}
fed_init
LOG=$(fed_log_dir police.gwent)

fed_burst police.gwent probation.gwent "$N" "corrupt marker" >"$FED/burst.json"
fed_start police.gwent && fed_start probation.gwent || notok "daemons start"
ppx_send police.gwent "$FED/burst.json" >/dev/null
check "$N messages delivered" wait_until 30 fed_settled police.gwent probation.gwent
fed_stop police.gwent
fed_stop probation.gwent
cp -a "$LOG" "$FED/backup"
entries=$(ppx_log police.gwent | wc -l)
diag "police's log holds $entries entries; backup taken"

restore() { rm -rf "$LOG"; cp -a "$FED/backup" "$LOG"; }
# Start police on the damaged log: it must exit non-zero by itself.
start_refused() {	# start_refused WHAT PATTERN
	local out rc sum
	sum=$(md5sum <"$LOG/data.mdb")
	# shellcheck disable=SC2086
	out=$(timeout 60 ${PPXD_WRAP:-} "$PPXD" -f -c "$(fed_conf police.gwent)" 2>&1); rc=$?
	diag "$1: ppxd exit $rc: $(tail -1 <<<"$out")"
	check "$1: ppxd refuses to start (exit 1)" [ "$rc" -eq 1 ]
	check "$1: ... saying what is wrong" grep -q "$2" <<<"$out"
	check "$1: ... and leaves the file as it was" [ "$(md5sum <"$LOG/data.mdb")" = "$sum" ]
	echo "$out" >>"$FED/police.gwent/ppxd.out"
}
verify_quiet() { "$PPX" verify --log "$LOG" --pki "$PKI" >/dev/null 2>&1; }
reading_refused() {	# reading_refused WHAT
	local out
	check "$1: ppx verify fails" fails verify_quiet
	if out=$("$PPX" log --log "$LOG" --json 2>&1 >/dev/null); then
		notok "$1: ppx log fails rather than print a damaged entry"
	else
		ok "$1: ppx log fails rather than print a damaged entry"
		diag "$1: $(tail -1 <<<"$out")"
	fi
}
flip() {	# flip TEXT: change one byte of every stored copy of TEXT
	perl -e '
		my ($path, $text) = @ARGV;
		open(my $f, "+<:raw", $path) or die "$path: $!";
		local $/; my $all = <$f>; my $n = 0; my $at = 0;
		while (($at = index($all, $text, $at)) >= 0) {
			seek($f, $at + 3, 0); print $f chr(ord(substr($all, $at + 3, 1)) ^ 1);
			$at += length($text); $n++;
		}
		close($f); print "$n\n";' "$LOG/data.mdb" "$1"
}

# 1. One byte of one message.
n=$(flip "corrupt marker 25")
check "one byte of message 25 changed ($n stored copies)" [ "$n" -ge 1 ]
start_refused "changed byte" "damaged at entry"
reading_refused "changed byte"
check "changed byte: ppx verify names the entry" \
	grep -q 'entry [0-9]' <("$PPX" verify --log "$LOG" --pki "$PKI" 2>&1)
restore

# 2. The file cut short.
truncate -s $(( $(stat -c %s "$LOG/data.mdb") / 2 )) "$LOG/data.mdb"
start_refused "truncated file" "truncated"
reading_refused "truncated file"
restore

# 3. The header (LMDB's two meta pages) overwritten.
head -c 8192 /dev/urandom | dd of="$LOG/data.mdb" conv=notrunc status=none
start_refused "overwritten header" "cannot open log"
reading_refused "overwritten header"
restore

# 4. The lock file scrambled: LMDB rebuilds it when no process holds it.
head -c "$(stat -c %s "$LOG/lock.mdb")" /dev/urandom >"$LOG/lock.mdb"
check "scrambled lock file: police starts" fed_start police.gwent
check "scrambled lock file: the log is intact" [ "$(ppx_log police.gwent | wc -l)" -ge "$entries" ]
fed_stop police.gwent
check "scrambled lock file: the log verifies" log_verify police.gwent
restore

check "restored from the backup, police starts" fed_start police.gwent
check "... with every entry" [ "$(ppx_log police.gwent | wc -l)" -ge "$entries" ]
fed_stop police.gwent
check "... and its log verifies" log_verify police.gwent
fed_tally police.gwent probation.gwent "police -> probation, police's log restored"
finish
