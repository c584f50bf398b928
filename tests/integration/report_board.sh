#!/usr/bin/env bash
# report_board.sh — the board's measures beyond the obligations (attendance,
# agencies on the case not invited, referral timeliness, transfers not
# accepted, cancelled meetings not rearranged, plans copied unchanged, the
# category/level snapshot on 31 March) against a scripted history with
# known answers, exchanged by three real daemons under libfaketime
# (history.bash); then the HTML report, rendered by headless Chromium,
# checked in the DOM it built and in a screenshot.
#
# The history, as police.gwent's log holds it (2026; the report is the
# second quarter, as of 15 July):
#
# partner records (police; lead police.gwent)
#   R1 Alan Ames: v1 10 Mar category 1 level 2, partners probation and
#      prison; v2 10 Apr level 3 (after 31 March).
#   R2 Beth Bell: v1 12 Mar category 2 level 1, partner probation.
#   R3 Carl Cole: v1 5 Apr category 3 level 2, no partners.
#   -> on 31 March: cat 1/level 2: 1, cat 2/level 1: 1 (2 records);
#      on 30 April: cat 1/level 3, cat 2/level 1, cat 3/level 2 (3).
# meetings (police's minutes, level 3)
#   MA Alan 20 Apr: required police+probation, actual police; plan P1.
#   MB Alan 18 May: required and actual police, probation, prison; plan P1
#      (copied from MA).
#   MC Beth 5 May: cancelled, not rearranged.
#   MD Alan 15 Jun: cancelled, rearranged for 29 Jun.
#   ME Carl 2 Jun: cancelled; MF (a later meeting about Carl) rearranges it.
#   MF Carl 16 Jun: required police, actual police+probation; plan P2.
#   MG Alan 25 Jun: required and actual police; plan P3 (not copied); its
#      area is hostile text: <script>alert(1)</script> & gwent.
#   -> attended: police 4/4, probation 1/2, prison 1/1 (6/7);
#      on the case, not invited: police 0/4, probation 1/3 (MG), prison
#      2/3 (MA, MG) (3/10); cancelled not rearranged 1/3 (MC);
#      plans copied 1/2 (MB, not MG).
# notifications
#   release dates (prison): Alan 1 Dec 2026, Carl 1 Aug 2026.
#   referrals (probation): Alan 1 May (>= 183 days before: in time), Carl
#      2 May (late), Beth 3 May (no release date known: not counted)
#      -> probation 1/2.
#   transfers: T1 police->probation 10 May, accepted 11 May; T2
#      police->prison 1 Jun, never accepted; T3 probation->police 5 Jun,
#      accepted by police 6 Jun -> not accepted: police 0/1, probation
#      0/1, prison 1/1 (1/3).
set -u
unset PPX_DEADLINES
. "$(dirname "$0")/lib.sh"
fed_init
. "$(dirname "$0")/history.bash"
history_pki 2026-03-01 || { notok "a PKI issued on 1 March 2026"; finish; exit 1; }
fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start probation.gwent || { notok "probation starts"; finish; exit 1; }
fed_start prison.cardiff || { notok "prison starts"; finish; exit 1; }

ERR=$FED/ppx.err
px() { "$PPX" "$@" 2>>"$ERR"; }
POLICE_LOG=$FED/police.gwent/log

DANA=$(person dana.evans "Dana Evans" police.gwent "police offender manager")
SAM=$(person sam.okafor "Sam Okafor" probation.gwent "offender manager")
PRIYA=$(person priya.shah "Priya Shah" prison.cardiff "offender management unit")
RHYS=$(person rhys.morgan "Rhys Morgan" police.gwent "MAPPA chair")
AA='{"pncId":"2021/0000001A","name":"Alan Ames","dateOfBirth":"1980-01-01"}'
BB='{"pncId":"2021/0000002B","name":"Beth Bell","dateOfBirth":"1981-02-02"}'
CC='{"pncId":"2021/0000003C","name":"Carl Cole","dateOfBirth":"1982-03-03"}'
COMMON='"marking":"OFFICIAL_SENSITIVE","priority":"ROUTINE","purpose":{"legalBasis":"CJA_2003_S325","text":"MAPPA co-operation"}'
P='"police.gwent"'
B='"probation.gwent"'
C='"prison.cardiff"'
HOSTILE='<script>alert(1)</script> & gwent'

att() { local p out=''; for p in "$@"; do out="$out${out:+,}{\"person\":$p}"; done; echo "$out"; }
head_json() {	# head_json NAME CREATED RECIPIENTS
	printf '"messageId":"%s","recipients":[%s],"createdMs":"%s",%s' \
		"$(mid "$1")" "$3" "$(ms "$2")" "$COMMON"
}

# held NAME CREATED MEETING DATE AREA SUBJECT REQUIRED ACTUAL ABSENT PLAN
held() {
	send police.gwent "$1" '{'"$(head_json "$1" "$2" "$B,$C")"',"subject":'"$6"',"minutes":{"meetingId":"'"$3"'","area":"'"$5"'","level":"LEVEL_3","meetingDate":"'"$4"'","chair":'"$RHYS"',"leadAgency":"police.gwent","required":['"$7"'],"actual":['"$8"'],"absent":['"$9"'],"subjects":['"$6"'],"risk":{"category":"CATEGORY_1","level":"LEVEL_3","rosh":[{"group":"PUBLIC","level":"RISK_HIGH"}]},"plan":{"supervision":"'"${10}"'","monitoringAndControl":"Curfew","interventionsAndTreatment":"Programme","victimSafetyPlanning":"Exclusion zone"},"disclosureConsideredAnswer":"NO","actions":[],"version":1}}'
}

# cancelled NAME CREATED MEETING DATE SUBJECT [REARRANGED]
cancelled() {
	send police.gwent "$1" '{'"$(head_json "$1" "$2" "$B,$C")"',"subject":'"$5"',"minutes":{"meetingId":"'"$3"'","area":"gwent","meetingDate":"'"$4"'","leadAgency":"police.gwent","meetingCancelled":true'"${6:+,\"rearrangedDate\":\"$6\"}"',"version":1}}'
}

# notify NAME FROM TO CREATED SUBJECT KIND EFFECTIVE EXTRA
notify() {
	send "$2" "$1" '{'"$(head_json "$1" "$4" "$3")"',"subject":'"$5"',"notification":{"kind":"'"$6"'","effectiveDate":"'"$7"'","details":"Scripted for the board report test"'"$8"'}}'
}

# ack NAME FROM TO CREATED NOTIFICATION BY
ack() {
	send "$2" "$1" '{'"$(head_json "$1" "$4" "$3")"',"repliesTo":"'"$(mid "$5")"'","acknowledgement":{"acknowledgedBy":'"$6"',"note":"transfer accepted"}}'
}

# record NAME CREATED SUBJECT ID VERSION CATEGORY LEVEL PARTNERS CHANGED [SUPERSEDES]
record() {
	local sup='' base=''
	[ -n "${10:-}" ] && sup=',"supersedes":"'"$(mid "${10}")"'"'
	[ "$5" -gt 1 ] && base=',"baseVersion":"'"$(( $5 - 1 ))"'"'
	send police.gwent "$1" '{'"$(head_json "$1" "$2" "$B")"',"subject":'"$3"''"$sup"',"partnerRecord":{"recordId":"'"$4"'","version":"'"$5"'"'"$base"',"changedFields":['"$9"'],"subject":'"$3"',"category":"CATEGORY_'"$6"'","level":"LEVEL_'"$7"'","leadAgency":"police.gwent","partnerAgencies":['"$8"']}}'
}

NEW='"subject.pnc_id","subject.name","subject.date_of_birth","category","level","lead_agency"'
history() {
	record R1v1 2026-03-10T09:00Z "$AA" GW-R1 1 1 2 "$B,$C" "$NEW,\"partner_agencies\""
	record R2v1 2026-03-12T09:00Z "$BB" GW-R2 1 2 1 "$B" "$NEW,\"partner_agencies\""
	notify RLA prison.cardiff "$P,$B" 2026-04-01T09:00Z "$AA" RELEASE_DATE 2026-12-01 ''
	notify RLC prison.cardiff "$P,$B" 2026-04-02T09:00Z "$CC" RELEASE_DATE 2026-08-01 ''
	record R3v1 2026-04-05T09:00Z "$CC" GW-R3 1 3 2 "" "$NEW"
	record R1v2 2026-04-10T09:00Z "$AA" GW-R1 2 1 3 "$B,$C" '"level"' R1v1
	held MA 2026-04-22T10:00Z GW-MA 2026-04-20 gwent "$AA" "$(att "$RHYS" "$SAM")" "$(att "$RHYS")" "$(att "$SAM")" P1
	notify RFA probation.gwent "$P" 2026-05-01T09:00Z "$AA" MAPPA_REFERRAL 2026-05-01 ',"risk":{"category":"CATEGORY_1"}'
	notify RFC probation.gwent "$P" 2026-05-02T09:00Z "$CC" MAPPA_REFERRAL 2026-05-02 ',"risk":{"category":"CATEGORY_3"}'
	notify RFB probation.gwent "$P" 2026-05-03T09:00Z "$BB" MAPPA_REFERRAL 2026-05-03 ',"risk":{"category":"CATEGORY_2"}'
	cancelled MC 2026-05-04T09:00Z GW-MC 2026-05-05 "$BB"
	notify T1 police.gwent "$B" 2026-05-10T09:00Z "$AA" TRANSFER 2026-05-10 ',"fromArea":"gwent","toArea":"south-wales"'
	ack T1a probation.gwent "$P" 2026-05-11T09:00Z T1 "$SAM"
	held MB 2026-05-20T10:00Z GW-MB 2026-05-18 gwent "$AA" "$(att "$RHYS" "$SAM" "$PRIYA")" "$(att "$RHYS" "$SAM" "$PRIYA")" "" P1
	cancelled ME 2026-06-01T08:00Z GW-ME 2026-06-02 "$CC"
	notify T2 police.gwent "$C" 2026-06-01T09:00Z "$BB" TRANSFER 2026-06-01 ',"fromArea":"gwent","toArea":"dyfed-powys"'
	notify T3 probation.gwent "$P" 2026-06-05T09:00Z "$CC" TRANSFER 2026-06-05 ',"fromArea":"south-wales","toArea":"gwent"'
	ack T3a police.gwent "$B" 2026-06-06T09:00Z T3 "$DANA"
	cancelled MD 2026-06-12T09:00Z GW-MD 2026-06-15 "$AA" 2026-06-29
	held MF 2026-06-17T10:00Z GW-MF 2026-06-16 gwent "$CC" "$(att "$RHYS")" "$(att "$RHYS" "$SAM")" "" P2
	held MG 2026-06-26T10:00Z GW-MG 2026-06-25 "$HOSTILE" "$AA" "$(att "$RHYS")" "$(att "$RHYS")" "" P3
}

history
if replay; then
	ok "the scripted history (21 messages) is accepted and delivered"
else
	finish
	exit 1
fi
fed_stop_all

Q2=(--quarter 2026Q2 --as-of 2026-07-15)
report() { px report --log "$POLICE_LOG" "${Q2[@]}" "$@"; }
json=$(report --json)
# fig ROW MEASURE: "count/total" of a row ("total" or an agency) in the JSON
fig() {
	jq -r --arg a "$1" --arg k "$2" \
		'[.rows[], .total] | map(select(.agency == $a))[0][$k] | "\(.count)/\(.total)"' <<<"$json"
}
figs() {	# figs MEASURE: police probation prison total
	echo "$(fig police.gwent "$1") $(fig probation.gwent "$1") $(fig prison.cardiff "$1") $(fig total "$1")"
}
check "attended when expected: police 4/4, probation 1/2, prison 1/1, total 6/7 ($(figs attended))" \
	[ "$(figs attended)" = "4/4 1/2 1/1 6/7" ]
check "on the case, not invited: police 0/4, probation 1/3, prison 2/3, total 3/10 ($(figs not_invited))" \
	[ "$(figs not_invited)" = "0/4 1/3 2/3 3/10" ]
check "referrals 6 months before release: probation 1/2 ($(fig probation.gwent referrals_in_time), total $(fig total referrals_in_time))" \
	[ "$(fig probation.gwent referrals_in_time) $(fig total referrals_in_time)" = "1/2 1/2" ]
check "transfers not accepted: police 0/1, probation 0/1, prison 1/1, total 1/3 ($(figs transfers_not_accepted))" \
	[ "$(figs transfers_not_accepted)" = "0/1 0/1 1/1 1/3" ]
check "cancelled meetings not rearranged: police 1/3 ($(fig police.gwent cancelled_not_rearranged))" \
	[ "$(fig police.gwent cancelled_not_rearranged) $(fig total cancelled_not_rearranged)" = "1/3 1/3" ]
check "plans copied unchanged: police 1/2 ($(fig police.gwent plans_copied))" \
	[ "$(fig police.gwent plans_copied) $(fig total plans_copied)" = "1/2 1/2" ]
check "no emergency access in this log ($(fig total emergency_accesses))" \
	grep -qE '^0/[1-9][0-9]*$' <<<"$(fig total emergency_accesses)"
got=$(jq -c '.snapshot' <<<"$json")
check "31 March snapshot (the default): category 1 level 2 and category 2 level 1 ($got)" \
	[ "$got" = '{"date":"2026-03-31","counts":[{"category":"1","level":"2","count":1},{"category":"2","level":"1","count":1}],"total":2}' ]
got=$(report --json --snapshot 2026-04-30 | jq -c '.snapshot')
check "30 April snapshot: Alan's level 3 since 10 April, and Carl ($got)" \
	[ "$got" = '{"date":"2026-04-30","counts":[{"category":"1","level":"3","count":1},{"category":"2","level":"1","count":1},{"category":"3","level":"2","count":1}],"total":3}' ]
got=$(jq -c '[.months[] | {(.agency): "\(.attended.count)/\(.attended.total)"}] | add' <<<"$json")
check "attendance by month: April 1/2, May 3/3, June 2/2 ($got)" \
	[ "$got" = '{"2026-04":"1/2","2026-05":"3/3","2026-06":"2/2"}' ]
got=$(jq -c '[.months[] | {(.agency): "\(.plans_copied.count)/\(.plans_copied.total)"}] | add' <<<"$json")
check "plans copied by month: May's (MB, copied) 1/1, June's (MG, new) 0/1 ($got)" \
	[ "$got" = '{"2026-04":"0/0","2026-05":"1/1","2026-06":"0/1"}' ]
got=$(jq -c '[.months[] | {(.agency): "\(.cancelled_not_rearranged.count)/\(.cancelled_not_rearranged.total)"}] | add' <<<"$json")
check "cancelled by month: May's (MC, Beth) not rearranged, June's two rearranged ($got)" \
	[ "$got" = '{"2026-04":"0/0","2026-05":"1/1","2026-06":"0/2"}' ]
got=$(jq -r --arg h "$HOSTILE" '[.areas[] | select(.agency == $h or .agency == "dyfed-powys") | "\(.agency)=\(.attended.total),\(.transfers_not_accepted.count)"] | join(";")' <<<"$json")
check "by area: the hostile area's one meeting, dyfed-powys's unaccepted transfer ($got)" \
	[ "$got" = "$HOSTILE=1,0;dyfed-powys=0,1" ]

csv=$(report --csv | tr -d '\r')
hdr=$(head -1 <<<"$csv")
col() { awk -F, -v k="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } $1 == "total" { print $c }' <<<"$csv"; }
check "report --csv: attended 6 of 7 in the total line" \
	[ "$(col attended),$(col attended_total)" = "6,7" ]
check "report --csv: the header names every new measure" \
	grep -q ',plans_copied,plans_copied_total,emergency_accesses,emergency_accesses_total,emergency_reviewed,emergency_reviewed_total,emergency_review_overdue,emergency_review_overdue_total,emergency_justified,emergency_justified_total$' <<<"$hdr"
out=$(report)
check "report (text): the total of the board's measures" \
	grep -qE '^total +6/7 +3/10 +1/2 +1/3 +1/3 +1/2 +0/[0-9]+ +- +- +-$' <<<"$out"
check "report (text): 31 March, 2 records" \
	grep -q '^partner records by category and level on 2026-03-31: 2$' <<<"$out"
px report --log "$POLICE_LOG" "${Q2[@]}" --snapshot 2026-02-30 >/dev/null; rc=$?
check "--snapshot 2026-02-30 is a usage error" [ "$rc" -eq 2 ]
px report --log "$POLICE_LOG" "${Q2[@]}" --format pdf >/dev/null; rc=$?
check "--format pdf is a usage error" [ "$rc" -eq 2 ]
px report --log "$POLICE_LOG" "${Q2[@]}" --format html --output "$FED/no-such-dir/x.html"; rc=$?
check "--output into a missing directory is an error, not a crash" [ "$rc" -eq 3 ]

# ---- the HTML page ---------------------------------------------------------
HTML=$FED/board.html
report --format html --output "$HTML"; rc=$?
check "report --format html --output writes the page" [ "$rc" -eq 0 ] && [ -s "$HTML" ]
check "the page holds no script element: the hostile area is escaped" \
	[ "$(grep -ci '<script' "$HTML")" -eq 0 ]
check "the hostile area is shown as text" \
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; &amp; gwent' "$HTML"
check "the page loads nothing: no src, href, url() or @import" \
	[ "$(grep -ciE 'src=|href=|url\(|@import' "$HTML")" -eq 0 ]
check "every chart has a title for screen readers" \
	[ "$(grep -c '<svg ' "$HTML")" -gt 10 ] && [ "$(grep -c '<svg ' "$HTML")" -eq "$(grep -o '<svg [^>]*aria-labelledby="[^"]*"><title id=' "$HTML" | wc -l)" ]

# Chromium renders it: the DOM it built and a screenshot.  It is not our
# code: it runs natively under SAN=1 and VALGRIND=1 alike.
if ! command -v chromium >/dev/null; then
	notok "chromium is installed (scripts/install-deps installs it)"
	finish
	exit 1
fi
chrome() {
	timeout 120 env -u LD_PRELOAD -u ASAN_OPTIONS chromium --headless=new \
		--no-sandbox --disable-gpu --disable-dev-shm-usage \
		--user-data-dir="$FED/chromium" --no-first-run "$@" "file://$HTML" 2>>"$FED/chromium.err"
}
chrome --dump-dom >"$FED/dom.html"; rc=$?
check "chromium loads the page and dumps its DOM" [ "$rc" -eq 0 ] && [ -s "$FED/dom.html" ]
pycheck_dom() {
	python3 - "$FED/dom.html" "$HOSTILE" <<'PY'
import sys
from html.parser import HTMLParser

class Tables(HTMLParser):
    """Every table's rows as lists of cell texts; what elements occur."""
    def __init__(self):
        super().__init__()
        self.tables, self.table, self.row, self.cell = {}, None, None, None
        self.tags, self.h1 = set(), ""
        self.in_h1 = False
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "table":
            self.table = self.tables.setdefault(a.get("id", ""), [])
        elif tag == "tr" and self.table is not None:
            self.row = []
            self.table.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
        elif tag == "h1":
            self.in_h1 = True
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "table":
            self.table = None
        elif tag == "h1":
            self.in_h1 = False
    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.in_h1:
            self.h1 += data

p = Tables()
p.feed(open(sys.argv[1], encoding="utf-8").read())
fail = []
def want(what, ok):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        fail.append(what)

want("no script element in the DOM", "script" not in p.tags)
want("the title names the agency and period",
     p.h1 == "MAPPA board report for police.gwent: 2026-04-01 to 2026-06-30")
agency = p.tables.get("by-agency", [])
head = agency[0] if agency else []
rows = {r[0]: dict(zip(head, r)) for r in agency[1:]}
def cell(row, col):
    return rows.get(row, {}).get(col, "?").split(" ")[0]
want("total attended 6/7", cell("total", "attended when expected") == "6/7")
want("prison not invited 2/3", cell("prison.cardiff", "on the case, not invited") == "2/3")
want("probation referrals 1/2",
     cell("probation.gwent", "referred 6 months before release") == "1/2")
want("total transfers not accepted 1/3", cell("total", "transfers not accepted") == "1/3")
want("police cancelled not rearranged 1/3",
     cell("police.gwent", "cancelled, not rearranged") == "1/3")
want("police plans copied 1/2", cell("police.gwent", "plan copied unchanged") == "1/2")
areas = [r[0] for r in p.tables.get("by-area", [])[1:]]
want("the hostile area is a row header, as text", sys.argv[2] in areas)
snap = p.tables.get("snapshot", [])
want("the snapshot: category 1 has one record at level 2",
     len(snap) > 1 and snap[1][:3] == ["category 1", "0", "1"])
months = [r[0] for r in p.tables.get("by-month", [])[1:]]
want("three months", months == ["2026-04", "2026-05", "2026-06"])
sys.exit(1 if fail else 0)
PY
}
if out=$(pycheck_dom 2>&1); then
	ok "the DOM Chromium built holds the figures, the title and the escaped area"
else
	notok "the DOM Chromium built holds the figures, the title and the escaped area"
	diag "$out"
fi

chrome --screenshot="$FED/board.png" --window-size=1200,2000 >/dev/null; rc=$?
check "chromium takes a screenshot" [ "$rc" -eq 0 ] && [ -s "$FED/board.png" ]
# Decode the PNG (zlib and the five row filters: no imaging library) and
# count what is not white, and the bars' colours.
pngcount() {
	python3 - "$FED/board.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunk = data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", chunk[:10])
    elif kind == b"IDAT":
        idat += chunk
assert depth == 8 and ctype in (2, 6), "8-bit RGB or RGBA expected"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, at = bytearray(stride), 0
nonwhite, colours, green, red = 0, set(), 0, 0
for y in range(h):
    f, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
    at += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        if px != b"\xff\xff\xff":
            nonwhite += 1
        if y % 4 == 0 and x % (4 * bpp) == 0:
            colours.add(px)
        green += px == b"\x2a\x7a\x3b"
        red += px == b"\xb3\x26\x1e"
print(w, h, nonwhite, len(colours), green, red)
PY
}
read -r w h nonwhite colours green red < <(pngcount 2>"$FED/png.err")
check "the screenshot is 1200x2000 (${w:-?}x${h:-?})" [ "${w:-0}" -eq 1200 ] && [ "${h:-0}" -eq 2000 ]
check "the screenshot is not blank: ${nonwhite:-0} pixels not white, ${colours:-0} colours" \
	[ "${nonwhite:-0}" -gt 50000 ] && [ "${colours:-0}" -ge 10 ]
check "the bars are drawn: ${green:-0} green and ${red:-0} red pixels" \
	[ "${green:-0}" -gt 1000 ] && [ "${red:-0}" -gt 1000 ]

# Under VALGRIND=1 the other ppx calls run natively (tests/run-tests):
# the report itself runs under valgrind here, in each format.
if [ "${VALGRIND:-0}" = 1 ]; then
	for f in text json csv html; do
		valgrind -q --error-exitcode=97 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect \
			"$PPX" report --log "$POLICE_LOG" "${Q2[@]}" --format "$f" \
			--output "$FED/vg.$f" 2>"$FED/vg-$f.err"; rc=$?
		check "ppx report --format $f runs clean under valgrind" [ "$rc" -eq 0 ]
		[ "$rc" -eq 0 ] || diag "$(head -20 "$FED/vg-$f.err")"
	done
fi

if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ERR" 2>/dev/null; then
	notok "ppx ran without sanitizer reports"
	grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ERR" | head -40 | sed 's/^/# /'
fi
finish
