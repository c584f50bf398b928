#!/usr/bin/env bash
# corrupt.sh — a damaged LMDB file gives a clear error at start, never a
# silent wrong answer.  Police's log (50 messages sent and receipted) is
# damaged five ways on a stopped daemon: one byte of one message changed,
# the file cut short, its header overwritten, the B-tree pages holding the
# messages given node sizes that send LMDB's reads outside the file (a
# damage LMDB does not detect: it trusts its pages, and reading such a file
# crashes the process), and its lock file scrambled.
# Each time the daemon either refuses to start, naming what is wrong, and
# leaves the file as it found it — and the reading commands refuse too —
# or (the lock file, which LMDB rebuilds) starts on an intact log.
# Restoring the backup brings everything back.
set -u
. "$(dirname "$0")/lib.sh"
N=${N:-50}
fed_init
# The damage below is aimed at leaf pages by the text they hold, stale
# bytes of a reused page included; witnessing's marks rewrite the meta
# pages each commit, which then reuse freed pages that still hold the
# text, and the format record would be hit instead of an entry.  So it is
# left out here (witness*.sh test it).
for a in $AGENCIES; do fed_config "$a" $'[evidence]\nwitness = no'; done
# Police checks its whole log before it starts (log_check_full): the
# damage below is in entries before its check seal, which the default
# start-up check leaves to the full check in the background (logcheck.sh
# shows both).
sed -i '/^\[agency\]/a log_check_full = yes' "$(fed_conf police.gwent)"
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
flip() { flip_text "$LOG/data.mdb" "$1"; }	# flip TEXT (lib.sh)

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

# 4. Wild node sizes: in every B-tree leaf page holding a message, the
#    first node whose value lies in the page gets a value size of 4 GiB.
#    Reading it faults in LMDB; ppxd and ppx verify read in a child
#    process and report the damage.  Under a sanitizer or valgrind that
#    child's fault is reported, as it should be: this case's output is kept
#    apart from ppxd.out, which finish checks for reports.
wild() {	# wild TEXT: prints how many nodes it changed
	perl -e '
		my ($path, $text) = @ARGV;
		open(my $f, "+<:raw", $path) or die "$path: $!";
		my ($ps, $n, $size) = (4096, 0, -s $path);
		for (my $pg = 2; $pg * $ps < $size; $pg++) {
			seek($f, $pg * $ps, 0);
			read($f, my $page, $ps) == $ps or last;
			my ($flags, $lower) = unpack("x10 v v", $page);
			next unless ($flags & 0x7f) == 0x02;	# P_LEAF only
			next unless index($page, $text) >= 0;
			for my $i (0 .. (($lower - 16) >> 1) - 1) {
				my $ptr = unpack("v", substr($page, 16 + 2 * $i, 2));
				next if $ptr < 16 || $ptr + 8 > $ps;
				# not F_BIGDATA, F_SUBDATA or F_DUPDATA
				next if unpack("v", substr($page, $ptr + 4, 2)) & 7;
				seek($f, $pg * $ps + $ptr, 0);
				print $f pack("v v", 0xffff, 0xffff);
				$n++;
				last;
			}
		}
		close($f); print "$n\n";' "$LOG/data.mdb" "$1"
}
n=$(wild "corrupt marker")
check "wild node sizes in $n pages" [ "$n" -ge 1 ]
sum=$(md5sum <"$LOG/data.mdb")
# shellcheck disable=SC2086
out=$(timeout 300 ${PPXD_WRAP:-} "$PPXD" -f -c "$(fed_conf police.gwent)" 2>&1); rc=$?
echo "$out" >"$FED/wild.out"
diag "wild node sizes: ppxd exit $rc: $(grep 'ppxd' <<<"$out" | tail -1)"
check "wild node sizes: ppxd refuses to start (exit 1)" [ "$rc" -eq 1 ]
check "wild node sizes: ... saying the log is damaged" \
	grep -Eq "log $LOG (is damaged|.*without a verdict)" <<<"$out"
check "wild node sizes: ... and leaves the file as it was" \
	[ "$(md5sum <"$LOG/data.mdb")" = "$sum" ]
out=$("$PPX" verify --log "$LOG" --pki "$PKI" 2>&1); rc=$?
diag "wild node sizes: ppx verify exit $rc: $(tail -1 <<<"$out")"
check "wild node sizes: ppx verify fails (exit 3)" [ "$rc" -eq 3 ]
check "wild node sizes: ... saying the log is damaged" \
	grep -Eq "is damaged|without a verdict" <<<"$out"
out=$("$PPX" log --log "$LOG" 2>&1 >/dev/null); rc=$?
diag "wild node sizes: ppx log exit $rc: $(tail -1 <<<"$out")"
check "wild node sizes: ppx log exits with 128 + the signal" [ "$rc" -gt 128 ]
check "wild node sizes: ... pointing to ppx verify" grep -q "ppx verify" <<<"$out"
restore

# 5. The lock file scrambled: LMDB rebuilds it when no process holds it.
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
