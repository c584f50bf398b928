#!/usr/bin/env bash
# metrics.sh — `ppx metrics` tells what the daemons' logs and links say, in
# a form Prometheus takes:
#
#   (a) police, probation and prison exchange messages; prison stops, so
#       its link is down and police's messages queue for it; a garbage
#       frame from police's link is refused by probation;
#   (b) the exposition passes `promtool check metrics` (format and lint),
#       and its figures match: sent and received per partner as the logs
#       count them, prison's outbox depth and oldest age, links up and
#       down, the refusal by reason, log size and free space, certificate
#       expiry as the demo certificates' notAfter says;
#   (c) --out writes the file whole (mode 0644, no temporary left);
#   (d) --listen serves GET /metrics with the 0.0.4 content type, 404 and
#       405 otherwise, and refuses to listen beyond loopback;
#   (e) a daemon down: exit non-zero, and --out holds ppx_up 0;
#   (f) the shipped alert rules pass `promtool check rules` and their unit
#       tests (`promtool test rules`).
set -u
# The three learn of each other from a signed directory (directory.bash),
# so that partners' certificates and the directory are in the status.
# shellcheck source=directory.bash
. "$(dirname "$0")/directory.bash"
INJECT=$TOP/$BUILD/tests/inject
RULES=$TOP/examples/prometheus

if ! command -v promtool >/dev/null || ! command -v curl >/dev/null ||
	[ ! -x "$INJECT" ]; then
	notok "promtool, curl and the injector are there (scripts/install-deps, make $BUILD/tests/inject)"
	finish
	exit 1
fi

dir_init
diag "federation in $FED (kept if a check fails, or with KEEP=1)"
# witnessing off: its entries would land between a snapshot and the read
# of the log it is compared with
for a in $THREE; do
	dir_config "$a"
	printf '[evidence]\nwitness = no\n' >>"$(fed_conf "$a")"
done
dir_make 1 "$FED/dir1.pb" $THREE || notok "directory serial 1 is made"
for a in $THREE; do dir_drop "$a" "$FED/dir1.pb"; done
for a in $THREE; do
	fed_start "$a" || { notok "$a starts"; finish; exit 1; }
done
check "the three hold serial 1" wait_until "$SOON" dir_all_at 1 $THREE
check "police's links are up" wait_until "$UP" connected police.gwent probation.gwent
check "... both" wait_until "$UP" connected police.gwent prison.cardiff

metrics() { "$PPX" metrics --config "$(fed_conf "$1")" "${@:2}"; }

# value TEXT NAME LABELS: the value of the series NAME{agency=..,LABELS}
# in exposition TEXT (LABELS as written, e.g. partner="prison.cardiff").
value() {
	awk -v n="$2" -v l="${3:-}" '{
		k = $1
		if (substr(k, 1, length(n) + 1) != n "{") next
		rest = substr(k, length(n) + 2)
		sub(/^agency="[^"]*",?/, "", rest)
		if (rest == l "}") print $2
	}' <<<"$1"
}
is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }
eq() { [ -n "$1" ] && [ "$1" = "$2" ]; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 > b + 0) }'; }
between() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v + 0 >= lo && v + 0 <= hi) }'; }
promtool_ok() { promtool check metrics <<<"$1" >"$FED/promtool.out" 2>&1; }

# ---- (a) traffic, a link down, a refusal ----
fed_burst police.gwent probation.gwent 3 "metrics {}" >"$FED/p2prob.json"
out=$(ppx_send police.gwent "$FED/p2prob.json" --wait --timeout "$UP" 2>&1)
check "(a) police delivers 3 messages to probation" \
	[ "$(grep -c "probation.gwent=DELIVERED" <<<"$out")" -eq 3 ]
body_json probation.gwent police.gwent ARREST "from probation 1" >"$FED/prob2p.json"
body_json probation.gwent police.gwent ARREST "from probation 2" >>"$FED/prob2p.json"
out=$(ppx_send probation.gwent "$FED/prob2p.json" --wait --timeout "$UP" 2>&1)
check "(a) probation delivers 2 messages to police" \
	[ "$(grep -c "police.gwent=DELIVERED" <<<"$out")" -eq 2 ]
fed_stop prison.cardiff
fed_burst police.gwent prison.cardiff 4 "queued {}" >"$FED/p2prison.json"
ppx_send police.gwent "$FED/p2prison.json" >/dev/null 2>&1
check "(a) police logged 4 messages to prison, stopped" \
	[ "$(sent_to police.gwent prison.cardiff | wc -l)" -eq 4 ]
out=$("$INJECT" --pki "$PKI" --endpoint "tcp://127.0.0.1:$(fed_port probation.gwent)" \
	--to probation.gwent --as police.gwent garbage 2>>"$FED/inject.err")
check "(a) probation refuses garbage on police's link: REJECT_BAD_FRAME" \
	grep -q "^REFUSED REJECT_BAD_FRAME" <<<"$out"
prison_down() { "$PPX" status --config "$(fed_conf police.gwent)" --json |
	jq -e '.partners[] | select(.agency == "prison.cardiff") | .connected != true' >/dev/null; }
check "(a) police sees its link to prison down" wait_until "$UP" prison_down
sleep 1.1	# the oldest message waiting for prison is a second old

# ---- (b) the exposition and its figures ----
police=$(metrics police.gwent)
check "(b) ppx metrics answers for police" [ $? -eq 0 ]
check "(b) police's exposition passes promtool check metrics" promtool_ok "$police"
diag "$(cat "$FED/promtool.out")"
probation=$(metrics probation.gwent)
check "(b) probation's exposition passes promtool check metrics" promtool_ok "$probation"
diag "$(cat "$FED/promtool.out")"
check "(b) every series carries the agency" \
	bash -c '! grep -v "^#" <<<"$1" | grep -v "agency=\"police.gwent\"" | grep -q .' _ "$police"
check "(b) ppx_up is 1" eq "$(value "$police" ppx_up)" 1
# ppx_messages_sent_total counts sends over the link (a resend counts
# again): the 3 for probation went once each, none for prison went.
check "(b) sent to probation as police's log counts (3)" \
	eq "$(value "$police" ppx_messages_sent_total 'partner="probation.gwent"')" \
	"$(sent_to police.gwent probation.gwent | wc -l)"
check "(b) nothing went to prison, its link down" \
	eq "$(value "$police" ppx_messages_sent_total 'partner="prison.cardiff"')" 0
check "(b) delivered to probation: 3" \
	eq "$(value "$police" ppx_messages_delivered_total 'partner="probation.gwent"')" 3
check "(b) received from probation as police's log counts (2)" \
	eq "$(value "$police" ppx_messages_received_total 'partner="probation.gwent"')" \
	"$(received_from police.gwent probation.gwent | wc -l)"
check "(b) received from police as probation's log counts (3)" \
	eq "$(value "$probation" ppx_messages_received_total 'partner="police.gwent"')" \
	"$(received_from probation.gwent police.gwent | wc -l)"
check "(b) police's outbox for prison holds the 4 its log says it sent" \
	eq "$(value "$police" ppx_outbox_depth 'partner="prison.cardiff"')" \
	"$(sent_to police.gwent prison.cardiff | wc -l)"
check "(b) and the oldest of them is over a second old" \
	gt "$(value "$police" ppx_outbox_oldest_age_seconds 'partner="prison.cardiff"')" 1
check "(b) the outbox for probation is empty, its oldest age 0" \
	eq "$(value "$police" ppx_outbox_depth 'partner="probation.gwent"')/$(value "$police" ppx_outbox_oldest_age_seconds 'partner="probation.gwent"')" 0/0
check "(b) link to prison down (0)" eq "$(value "$police" ppx_link_up 'partner="prison.cardiff"')" 0
check "(b) link to probation up (1)" eq "$(value "$police" ppx_link_up 'partner="probation.gwent"')" 1
check "(b) probation counts police's garbage frame under REJECT_BAD_FRAME" \
	eq "$(value "$probation" ppx_frames_refused_total 'partner="police.gwent",reason="REJECT_BAD_FRAME"')" 1
check "(b) and in all refusals by reason" \
	eq "$(value "$probation" ppx_refusals_total 'reason="REJECT_BAD_FRAME"')" 1
check "(b) police refused nothing of probation" \
	[ -z "$(value "$police" ppx_frames_refused_total 'partner="probation.gwent",reason="REJECT_BAD_FRAME"')" ]
check "(b) a receipt from probation: its age is there" \
	is_int "$(value "$police" ppx_last_receipt_age_seconds 'partner="probation.gwent"' | cut -d. -f1)"
check "(b) no receipt from prison: no age" \
	[ -z "$(value "$police" ppx_last_receipt_age_seconds 'partner="prison.cardiff"')" ]
check "(b) log entries as the log holds" \
	eq "$(value "$police" ppx_log_entries)" "$(ppx_log police.gwent | wc -l)"
log_bytes=$(value "$police" ppx_log_bytes)
check "(b) log bytes: the size of data.mdb" \
	eq "$log_bytes" "$(stat -c %s "$(fed_log_dir police.gwent)/data.mdb")"
check "(b) free bytes on the log's filesystem > 0" \
	gt "$(value "$police" ppx_log_filesystem_free_bytes)" 0
check "(b) started within the last hour" \
	between "$(value "$police" ppx_start_time_seconds)" "$(($(date +%s) - 3600))" "$(date +%s)"
check "(b) the directory in force: serial 1" eq "$(value "$police" ppx_directory_serial)" 1
check "(b) its expiry within 30 days (valid_days 30)" \
	between "$(value "$police" ppx_directory_expiry_seconds)" $((29 * 86400)) $((30 * 86400))
check "(b) probation's standing: active" \
	eq "$(value "$police" ppx_partner_standing 'partner="probation.gwent",standing="active"')" 1
check "(b) the CRL's nextUpdate is ahead" gt "$(value "$police" ppx_crl_next_update_seconds)" 0
# The partners' certificates we accept, with their notAfter.
expiry=$(grep '^ppx_certificate_expiry_seconds{.*owner="probation.gwent"' <<<"$police" | head -1)
diag "$expiry"
serial=$(sed -n 's/.*serial="\([0-9A-Fa-f]*\)".*/\1/p' <<<"$expiry")
cert=""
for f in "$PKI"/agencies/probation.gwent/*.crt; do
	s=$(openssl x509 -in "$f" -noout -serial | cut -d= -f2)
	[ "${s,,}" = "${serial,,}" ] && cert=$f
done
check "(b) probation's certificate is among police's expiry series, by serial" [ -n "$cert" ]
if [ -n "$cert" ]; then
	not_after=$(date -d "$(openssl x509 -in "$cert" -noout -enddate | cut -d= -f2)" +%s)
	now=$(date +%s)
	check "(b) its expiry seconds = its notAfter - now" \
		between "$(awk '{ print $2 }' <<<"$expiry")" $((not_after - now - 60)) $((not_after - now + 1))
fi

# ---- (c) --out ----
mkdir -p "$FED/textfile"
metrics police.gwent --out "$FED/textfile/ppx-police.prom"
check "(c) --out exits 0" [ $? -eq 0 ]
check "(c) the file is mode 0644" [ "$(stat -c %a "$FED/textfile/ppx-police.prom")" = 644 ]
check "(c) it passes promtool check metrics" promtool_ok "$(cat "$FED/textfile/ppx-police.prom")"
check "(c) it says police is up" grep -qx 'ppx_up{agency="police.gwent"} 1' "$FED/textfile/ppx-police.prom"
check "(c) no temporary file is left beside it" \
	[ "$(find "$FED/textfile" -mindepth 1 | wc -l)" -eq 1 ]
metrics police.gwent --out "$FED/nodir/ppx.prom" 2>"$FED/out.err"
rc=$?
failed_saying() { [ "$1" -ne 0 ] && grep -q -e "$2" ${3:+-e "$3"} <<<"$4"; }
check "(c) --out into a missing directory fails, saying where" \
	failed_saying "$rc" nodir "" "$(cat "$FED/out.err")"

# ---- (d) --listen ----
PORT=$(fed_port other)
for bad in "0.0.0.0:$PORT" "192.0.2.10:$PORT" "[::]:$PORT" "[::ffff:127.0.0.1]:$PORT" \
	"localhost:$PORT" "127.0.0.1:0" "127.0.0.1:99999" "127.0.0.1"; do
	err=$(metrics police.gwent --listen "$bad" 2>&1)
	rc=$?
	check "(d) --listen $bad is refused (exit 2) with a clear error" \
		failed_saying "$((rc == 2 ? 1 : 0))" "not a loopback address" "give ADDR:PORT" "$err"
done
"$PPX" metrics --config "$(fed_conf police.gwent)" --listen "127.0.0.1:$PORT" \
	2>"$FED/listen.err" &
listener=$!
serving() { curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics"; }
check "(d) --listen 127.0.0.1:$PORT serves" wait_until 10 serving
curl -s -D "$FED/h.txt" -o "$FED/body.txt" "http://127.0.0.1:$PORT/metrics"
check "(d) GET /metrics: 200" grep -q "^HTTP/1.1 200" "$FED/h.txt"
check "(d) with content type text/plain; version=0.0.4; charset=utf-8" \
	grep -qi "^Content-Type: text/plain; version=0.0.4; charset=utf-8" "$FED/h.txt"
check "(d) the body passes promtool check metrics" promtool_ok "$(cat "$FED/body.txt")"
check "(d) and is asked of the daemon: police's log entries" \
	eq "$(value "$(cat "$FED/body.txt")" ppx_log_entries)" "$(ppx_log police.gwent | wc -l)"
check "(d) GET /other: 404" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/other")" = 404 ]
check "(d) POST /metrics: 405" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "http://127.0.0.1:$PORT/metrics")" = 405 ]
check "(d) DELETE /metrics: 405" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/metrics")" = 405 ]
long=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $long" "http://127.0.0.1:$PORT/metrics")
check "(d) a request of 40 kB of headers is not served ($code)" [ "$code" != 200 ]
check "(d) and the endpoint still serves after it" serving
kill -TERM "$listener"
wait "$listener"
check "(d) SIGTERM stops it, exit 0" [ $? -eq 0 ]

# ---- (e) a daemon down ----
fed_stop probation.gwent
metrics probation.gwent --out "$FED/textfile/ppx-probation.prom" 2>"$FED/down.err"
rc=$?
diag "$(cat "$FED/down.err")"
check "(e) a daemon down: exit non-zero" [ "$rc" -ne 0 ]
check "(e) with a clear error" grep -q "ppx metrics" "$FED/down.err"
check "(e) --out holds ppx_up 0 for probation" \
	grep -qx 'ppx_up{agency="probation.gwent"} 0' "$FED/textfile/ppx-probation.prom"
check "(e) which passes promtool check metrics" \
	promtool_ok "$(cat "$FED/textfile/ppx-probation.prom")"
out=$(metrics probation.gwent 2>/dev/null)
rc=$?
check "(e) without --out: exit non-zero" [ "$rc" -ne 0 ]
check "(e) and nothing on stdout" [ -z "$out" ]

# ---- (f) the alert rules ----
out=$(promtool check rules "$RULES/ppx-alerts.yml" 2>&1)
rc=$?
diag "$out"
check "(f) promtool check rules ppx-alerts.yml" [ "$rc" -eq 0 ]
out=$(cd "$RULES" && promtool test rules ppx-alerts.test.yml 2>&1)
rc=$?
diag "$out"
check "(f) promtool test rules ppx-alerts.test.yml" [ "$rc" -eq 0 ]

fed_stop_all
finish
