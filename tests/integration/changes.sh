#!/usr/bin/env bash
# changes.sh — the files in force are logged when they change.
#
# A first start logs one change entry per file (configuration, policy, CRL,
# CA, each certificate) with what is in force and its SHA-256; a restart
# with nothing changed logs nothing; an operator's `ppx reload` after edits
# to the configuration and the policy logs exactly what changed, with the
# operator; a new CRL logs its old -> new; a configuration that does not
# load is refused and logged, and the old one stays in force (messages
# still flow); `ppx verify` still passes.
set -u
. "$(dirname "$0")/lib.sh"
fed_init
P=police.gwent
CONF=$(fed_conf $P)

changes() {	# changes AGENCY: the change entries, one JSON object a line
	ppx_log "$1" | jq -c 'select(.kind == "ENTRY_CONFIG_CHANGE" or
		.kind == "ENTRY_POLICY_CHANGE" or .kind == "ENTRY_KEY_CHANGE")'
}
n_changes() { changes "$1" | grep -c . || true; }
# The latest entry for WHAT (and PATH) among the change entries.
latest() {	# latest AGENCY WHAT [PATH]
	changes "$1" | jq -c --arg w "$2" --arg p "${3:-}" \
		'select(.change.what == $w and ($p == "" or .change.path == $p))' |
		tail -1
}
jqe() { jq -e "$@" >/dev/null; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
has_change() {	# has_change JSON TEXT: one of its changes is exactly TEXT
	jqe --arg t "$2" '.change.changes | index($t) != null' <<<"$1" >/dev/null
}

# Police's known certificates in a copy it may change.
cp -r "$PKI/certs" "$FED/certs"
sed -i "s|^certs = .*|certs = $FED/certs|" "$CONF"
fed_start $P && fed_start probation.gwent || notok "daemons start"

# --- first start -----------------------------------------------------------
certs=$(ls "$FED"/certs/*.pem "$FED"/certs/*.crt 2>/dev/null | wc -l)
want=$((4 + 2 + certs))	# configuration, policy, CRL, CA, own two, certs/
check "first start: one change entry per file ($want)" [ "$(n_changes $P)" -eq "$want" ]
c=$(latest $P configuration)
check "the configuration's entry is ENTRY_CONFIG_CHANGE, cause start, no person" \
	jqe '.kind == "ENTRY_CONFIG_CHANGE" and .change.cause == "start" and
		.person == "" and .change.previous_sha256 == ""' <<<"$c"
check "... its sha256 is the file's" [ "$(jq -r .change.sha256 <<<"$c")" = "$(sha "$CONF")" ]
check "... it lists what is in force" has_change "$c" \
	"in force: [partner probation.gwent] endpoint = tcp://127.0.0.1:$(fed_port probation.gwent)"
check "... with no key path in it: keys are shown as (hidden)" \
	jqe '[.change.in_force[] | select(test("signing_key = \\(hidden\\)$"))] | length == 1' <<<"$c"
check "... and nowhere in the entry" fails grep -qF "$P/signing.key" <<<"$c"
key=$(sed -n 's/^signing_key = //p' "$CONF" | head -1)
check "... nor any digest of it" fails grep -qE \
	"$(printf %s "$key" | sha256sum | cut -c1-16)|hidden, sha256" <<<"$(ppx_log $P)"
check "the tag key of hidden values is LOG_DIR/change-key, 32 bytes, mode 0600" \
	[ "$(stat -c %a:%s "$(fed_log_dir $P)/change-key" 2>/dev/null)" = 600:32 ]
p=$(latest $P policy)
check "the policy's entry is ENTRY_POLICY_CHANGE with the file's sha256" \
	jqe --arg s "$(sha "$FED/policy.conf")" \
		'.kind == "ENTRY_POLICY_CHANGE" and .change.sha256 == $s' <<<"$p"
check "... its rules in force, a continued list joined" has_change "$p" \
	"in force: [rule prison] kinds = notification:RELEASE_DATE, notification:PRISON_*, notification:SECURITY_INTELLIGENCE, acknowledgement, action_update"
r=$(latest $P crl)
check "the CRL's entry is ENTRY_KEY_CHANGE with the file's sha256" \
	jqe --arg s "$(sha "$FED/crl.pem")" \
		'.kind == "ENTRY_KEY_CHANGE" and .change.sha256 == $s' <<<"$r"
check "... its number and nextUpdate in force" \
	jqe '[.change.changes[] | select(test("^in force: (number|nextUpdate|revoked) = "))] | length == 3' <<<"$r"
s=$(latest $P certificate "$(realpath "$PKI/agencies/$P/signing.crt")")
check "our signing certificate: subject, serial, fingerprint, notAfter" \
	jqe '[.change.changes[] | select(test("^in force: (subject|serial|fingerprint|notAfter) = "))] | length == 4' <<<"$s"
check "... its fingerprint is the certificate's" has_change "$s" \
	"in force: fingerprint = sha256 $(openssl x509 -in "$PKI/agencies/$P/signing.crt" -outform DER | sha256sum | cut -d' ' -f1)"
line=$("$PPX" log --log "$(fed_log_dir $P)" | grep CONFIG_CHANGE)
check "ppx log shows the configuration's sha256 on one line" grep -q "configuration .* sha256 $(sha "$CONF")" <<<"$line"

# --- restart with nothing changed --------------------------------------------
before=$(n_changes $P)
fed_stop $P
check "a restart with nothing changed" fed_start $P
check "... logs no change entry" [ "$(n_changes $P)" -eq "$before" ]

# --- ppx reload after edits, as an operator ----------------------------------
old_conf=$(sha "$CONF")
old_pol=$(sha "$FED/policy.conf")
sed -i "s|^endpoint = tcp://127.0.0.1:$(fed_port prison.cardiff)\$|endpoint = tcp://127.0.0.1:7999|" "$CONF"
sed -i 's/^retry_max_ms = 2000$/retry_max_ms = 3000/' "$CONF"
printf '[operator lee.morgan]\nname = Lee Morgan\nrole = analyst\nuid = 4242\n' >>"$CONF"
printf '\n[rule extra]\nfrom = police.*\nto = prison.*\nkinds = minutes\n' >>"$FED/policy.conf"
out=$("$PPX" reload --config "$CONF" 2>&1)
rc=$?
diag "$out"
check "ppx reload succeeds" [ "$rc" -eq 0 ]
check "... and says two entries were logged" grep -q "^2 change entries logged" <<<"$out"
check "... and what waits for a restart" grep -qF "at restart: configuration $(realpath "$CONF"): [delivery] retry_max_ms: 2000 -> 3000" <<<"$out"
check "two new entries, no more" [ "$(n_changes $P)" -eq $((before + 2)) ]
c=$(latest $P configuration)
check "the configuration's entry names the operator and cause reload" \
	jqe '.person == "dana.evans" and .change.cause == "reload"' <<<"$c"
check "... with the old and new sha256" jqe --arg o "$old_conf" --arg n "$(sha "$CONF")" \
	'.change.previous_sha256 == $o and .change.sha256 == $n' <<<"$c"
check "... names the endpoint's change (at restart)" has_change "$c" \
	"[partner prison.cardiff] endpoint: tcp://127.0.0.1:$(fed_port prison.cardiff) -> tcp://127.0.0.1:7999 (takes effect at restart)"
check "... the delivery key's" has_change "$c" \
	"[delivery] retry_max_ms: 2000 -> 3000 (takes effect at restart)"
check "... the operator added (in force now)" has_change "$c" "[operator lee.morgan] added"
check "... and nothing else" jqe '.change.changes | length == 3' <<<"$c"
p=$(latest $P policy)
check "the policy's entry: [rule extra] added, by the operator" \
	jqe --arg o "$old_pol" '.person == "dana.evans" and .change.changes == ["[rule extra] added"] and .change.previous_sha256 == $o' <<<"$p"
out=$("$PPX" reload --config "$CONF" 2>&1)
check "a second ppx reload, nothing changed: nothing logged" grep -q "^0 change entries logged" <<<"$out"
check "... really nothing" [ "$(n_changes $P)" -eq $((before + 2)) ]

# The operators are in force at once: the test user's uid moved away, then
# back (by SIGHUP, since it is no longer an operator).
reload_ok() { "$PPX" reload --config "$CONF" >/dev/null 2>&1; }
sed -i "s/^uid = $(id -u)\$/uid = 4243/" "$CONF"
check "ppx reload with our operator's uid changed" reload_ok
check "... and we are no longer an operator, at once" fails reload_ok
c=$(latest $P configuration)
check "... the entry says so, with the operator" has_change "$c" \
	"[operator dana.evans] uid: $(id -u) -> 4243"
sed -i "s/^uid = 4243\$/uid = $(id -u)/" "$CONF"
kill -HUP "$(fed_pid $P)"
check "SIGHUP puts us back" wait_until 10 reload_ok
c=$(latest $P configuration)
check "... logged with no person" jqe '.person == "" and .change.cause == "reload"' <<<"$c"

# [accountability] ppx: the program reads run is found at start only.
printf '\n[accountability]\nppx = /bin/true\n' >>"$CONF"
out=$("$PPX" reload --config "$CONF" 2>&1)
diag "$out"
check "ppx reload with [accountability] ppx set says it waits for a restart" \
	grep -qF "at restart: configuration $(realpath "$CONF"): [accountability] ppx" <<<"$out"
c=$(latest $P configuration)
check "... and so does its entry" has_change "$c" "[accountability] ppx (takes effect at restart)"

# A certificate put beside the others and one taken away: logged, in
# force at restart.
cp "$FED/certs/probation.gwent-person-sam.okafor.pem" "$FED/certs/extra.pem"
rm "$FED/certs/prison.cardiff-person-priya.shah.pem"
out=$("$PPX" reload --config "$CONF" 2>&1)
diag "$out"
check "ppx reload with a certificate added and one removed: two entries" \
	grep -q "^2 change entries logged" <<<"$out"
c=$(latest $P certificate "$FED/certs/extra.pem")
check "... the new one's entry: added, at restart, with its subject" \
	jqe '.kind == "ENTRY_KEY_CHANGE" and .person == "dana.evans" and
		.change.changes[0] == "added (takes effect at restart)" and
		(.change.changes[1] | startswith("in force: subject = "))' <<<"$c"
c=$(latest $P certificate "$FED/certs/prison.cardiff-person-priya.shah.pem")
check "... the removed one's: removed, no sha256, the old one before" \
	jqe '.change.changes == ["removed (takes effect at restart)"] and
		.change.sha256 == "" and .change.previous_sha256 != ""' <<<"$c"

# --- a new CRL, SIGHUP -----------------------------------------------------
cp -r "$PKI" "$FED/pki"
old_number=$(jq -r '.change.in_force[] | select(startswith("number = "))' <<<"$(latest $P crl)")
"$TOP/certs/ppx-pki" crl "$FED/pki" >/dev/null 2>&1 &&
	cp "$FED/pki/ca/crl.pem" "$FED/crl.new" && mv -f "$FED/crl.new" "$FED/crl.pem"
kill -HUP "$(fed_pid $P)"
crl_logged() { [ "$(latest $P crl | jq -r .change.sha256)" = "$(sha "$FED/crl.pem")" ]; }
check "a reissued CRL is logged" wait_until 10 crl_logged
r=$(latest $P crl)
check "... as ENTRY_KEY_CHANGE, no person, cause reload" \
	jqe '.kind == "ENTRY_KEY_CHANGE" and .person == "" and .change.cause == "reload"' <<<"$r"
check "... its number old -> new" \
	jqe --arg o "${old_number#number = }" '[.change.changes[] | select(startswith("number: " + $o + " -> "))] | length == 1' <<<"$r"
check "... and its lastUpdate old -> new" \
	jqe '[.change.changes[] | select(startswith("lastUpdate: "))] | length == 1' <<<"$r"

# --- a broken configuration: refused, logged, old one in force ---------------
cp "$CONF" "$FED/good.conf"
printf '[delivery]\nwindow = 0\n' >>"$CONF"
bad_line=$(wc -l <"$CONF")
kill -HUP "$(fed_pid $P)"
refused() { latest $P configuration | jq -e '.detail | startswith("reload refused: ")' >/dev/null; }
check "a configuration that does not load is refused and logged" wait_until 10 refused
c=$(latest $P configuration)
diag "$(jq -r .detail <<<"$c")"
check "... the refusal names file and line" grep -q "reload refused: .*ppxd.conf:[0-9]*: " <<<"$(jq -r .detail <<<"$c")"
check "the daemon still runs" kill -0 "$(fed_pid $P)"
cp "$FED/good.conf" "$CONF"
check "... and answers" fed_alive $P
fed_burst $P probation.gwent 5 "after refusal" >"$FED/after.json"
send_after() { ppx_send $P "$FED/after.json" >/dev/null; }
check "... and still exchanges messages" send_after
check "... delivered" wait_until 30 fed_settled $P probation.gwent
# A file that loads but does not agree with the policy: ppx reload says so.
sed -i "/^\[partner probation.gwent\]/a type = duty-to-cooperate" "$CONF"
out=$("$PPX" reload --config "$CONF" 2>&1)
rc=$?
diag "$out"
check "ppx reload of a configuration the policy disagrees with fails" [ "$rc" -eq 1 ]
check "... and the reply says it was refused" grep -q "reload refused: " <<<"$out"
check "... logged with the operator" \
	jqe '.person == "dana.evans" and (.detail | startswith("reload refused: "))' <<<"$(latest $P configuration)"
cp "$FED/good.conf" "$CONF"

fed_stop probation.gwent
fed_stop $P
check "police's log verifies" log_verify $P
finish
