#!/usr/bin/env bash
# sinks.sh — the database sinks (tools/sink, docs/SINKS.md) against real
# databases: an SQLite file, and a PostgreSQL server started here on
# loopback by scripts/pg-test-server.  If PostgreSQL cannot be started the
# test fails; it never skips.
#
# The entries are tests/fixtures/hook-entries/*.json: one log entry of each
# family as a durable hook hands it over (docs/HOOKS.md), plus two
# concurrent second versions of a partner record (probation's risk, police's
# level), a release date from the prison that names the subject by other
# identifiers, and a receipt.
#
# Then, when the daemon has durable hooks and a spool (docs/CONFIG.md
# documents [hook] and [spool]), the same end to end: police's case table
# changes, examples/sync turns the change into a partner-record update in
# police's spool, probation's ppxd receives it and its hook's sink files it.
#
# MODE=stream (sinks_mode_stream.sh) runs it all with the sinks as
# streaming hooks (docs/HOOKS.md, "Streaming hooks"): each fixture goes as
# a batch of one and the answer stands for the exit status (ok 0, fail 1,
# refuse 2); then batches of many, a poison entry among them, and a batch
# given again; and the end to end with `mode = stream`.
. "$(dirname "$0")/lib.sh"
MODE=${MODE:-each}

FIX=$TOP/tests/fixtures/hook-entries
SQLITE_SINK=$TOP/$BUILD/ppx-sink-sqlite
PG_SINK=$TOP/$BUILD/ppx-sink-pg
T=$(mktemp -d /tmp/ppx-sinks-XXXXXX)
FED=$T		# finish() cleans up $FED when everything passed
PGDIR=""

cleanup() {
	[ -n "$PGDIR" ] && "$TOP/scripts/pg-test-server" stop "$PGDIR"
	[ -n "$PGDIR" ] && rm -rf "$PGDIR"
}
trap cleanup EXIT

# In the order that exercises subject matching: the notification makes a
# subject (PNC, CRN), the release date another (prison number, ViSOR), and
# the minutes name a PNC and a prison number: a conflict, never a merge.
ENTRIES="notification release_date minutes disclosure partner_record
partner_record-v2 partner_record-v2-police acknowledgement action_update
receipt"

# The backend under test: sink (a command), q SQL (one value per line).
# as_hook SINK...: stdin to the sink as a hook of $MODE gives it; the exit
# status of mode = each.
as_hook() {
	local line ans rc
	[ "$MODE" = stream ] || { "$@"; return; }
	IFS= read -r line || true
	ans=$(printf '%s\nend 0\n' "$line" | PPX_HOOK_MODE=stream "$@"); rc=$?
	case $ans in
	"ok 0") return 0 ;;
	"fail 0 "*) return 1 ;;
	"refuse "*) return 2 ;;
	esac
	echo "no answer (exit $rc): $ans" >&2
	return $((rc ? rc : 3))
}
use_sqlite() {
	DB=$T/case.sqlite
	sink() { as_hook "$SQLITE_SINK" "$DB"; }
	q() { sqlite3 -batch -noheader "$DB" "$1"; }
}
use_pg() {
	sink() { as_hook "$PG_SINK" "$PGCONN"; }
	q() { psql "$PGCONN" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
}

feed() {	# feed NAME: the fixture to the sink; its exit status
	sink <"$FIX/$1.json" 2>>"$T/sink.err"
}

feed_all() {
	local e rc=0
	for e in $ENTRIES; do
		feed "$e" || { diag "$e: exit $?"; rc=1; }
	done
	return $rc
}

is() {	# is "description" EXPECTED SQL
	local got
	got=$(q "$3" 2>&1)
	if [ "$got" = "$2" ]; then
		ok "$1"
	else
		notok "$1"
		diag "expected: $2"
		diag "got:      $got"
	fi
}

# Row counts of every table, to compare before and after.
TABLES="messages subjects subject_identifiers subject_aliases subject_merges
subject_conflicts message_subjects notifications rosh conditions addresses minutes attendees
actions action_updates disclosures partner_records acknowledgements"
counts() {
	local t sql=""
	for t in $TABLES; do
		sql="$sql${sql:+ UNION ALL }SELECT '$t', count(*) FROM $t"
	done
	q "$sql"
}

# The checks both sinks must pass.  $1: sqlite or postgresql.
sink_checks() {
	local b=$1 before after rc

	check "$b: every fixture is stored (exit 0)" feed_all
	is "$b: one message row per message, none for the receipt" 9 \
		"SELECT count(*) FROM messages"
	is "$b: received and sent messages are told apart" "received 7
sent 2" "SELECT direction || ' ' || count(*) FROM messages
		 GROUP BY direction ORDER BY direction"
	is "$b: notifications keep kind, date and text exactly" \
		"ARREST|2026-11-21|yes|LEVEL_3
RELEASE_DATE|2027-03-14|no|" \
		"SELECT kind || '|' || effective_date || '|' ||
		 CASE WHEN details LIKE '%Ystrad Mynach custody suite; café%'
		 THEN 'yes' ELSE 'no' END || '|' || COALESCE(level, '')
		 FROM notifications ORDER BY kind"
	is "$b: a notification's risk, conditions and address are rows" \
		"CHILDREN RISK_VERY_HIGH|c-2 SHPO|CF82 7AA" \
		"SELECT (SELECT risk_group || ' ' || level FROM rosh
		  WHERE message_id = '9f1c0b7e5a2d4c3b8e6f0a1b2c3d4e5f'
		  ORDER BY risk_group LIMIT 1) || '|' ||
		 (SELECT condition_id || ' ' || kind FROM conditions
		  WHERE message_id = '9f1c0b7e5a2d4c3b8e6f0a1b2c3d4e5f') || '|' ||
		 (SELECT postcode FROM addresses
		  WHERE message_id = '9f1c0b7e5a2d4c3b8e6f0a1b2c3d4e5f')"
	# The notification makes subject 1 (PNC, CRN), the prison's release
	# date subject 2 (prison number, ViSOR): two people as far as the
	# sink knows.  The minutes name the PNC and the prison number: one
	# partner's word does not make them one (issue 10, hole 7).
	is "$b: subjects known as different stay different" \
		"1|John Smith|2019/0123456X|X123456||
2|John SMITH|||A1234BC|V-778" \
		"SELECT subject_id || '|' || name || '|' ||
		 COALESCE(pnc_id, '') || '|' || COALESCE(crn, '') || '|' ||
		 COALESCE(prison_number, '') || '|' || COALESCE(visor_id, '')
		 FROM subject_summary ORDER BY subject_id"
	is "$b: ... a conflict row names both, the message and the identifiers" \
		"police.gwent 6bc1bee22e409f96e93d7e117393172a 1 2 pnc:2019/0123456X,prison:A1234BC open" \
		"SELECT sender_agency || ' ' || message_id || ' ' || subject_id ||
		 ' ' || other_subject_id || ' ' || identifiers || ' ' ||
		 CASE WHEN resolved_ms IS NULL THEN 'open' ELSE 'closed' END
		 FROM subject_conflicts"
	is "$b: ... the message is stored, filed under both; nothing merged" \
		"1 2|8|2|0|Johnny Smith" \
		"SELECT (SELECT min(subject_id) || ' ' || max(subject_id)
		  FROM message_subjects
		  WHERE message_id = '6bc1bee22e409f96e93d7e117393172a') || '|' ||
		 (SELECT count(*) FROM message_subjects WHERE subject_id = 1)
		 || '|' || (SELECT count(*) FROM message_subjects
		  WHERE subject_id = 2) || '|' ||
		 (SELECT count(*) FROM subject_merges) || '|' ||
		 (SELECT alias FROM subject_aliases)"
	is "$b: minutes with the risk management plan" \
		"gwent-2026-118|LEVEL_3|1|GPS tag; curfew 19:00-07:00|YES" \
		"SELECT meeting_id || '|' || level || '|' || version || '|' ||
		 monitoring_and_control || '|' || disclosure_considered_answer
		 FROM minutes"
	is "$b: attendance required/actual/absent" "absent 1
actual 2
required 3" "SELECT attendance || ' ' || count(*) FROM attendees
		 GROUP BY attendance ORDER BY attendance"
	is "$b: actions with named owners; an update applies" \
		"x-1|Sam Okafor|ACTION_OPEN
x-2|Dana Evans|ACTION_COMPLETED
x-3|Priya Shah|ACTION_IN_PROGRESS" \
		"SELECT action_id || '|' || owner_name || '|' || status
		 FROM actions_current ORDER BY action_id"
	is "$b: disclosure decisions, from minutes and on their own" \
		"DISCLOSE|NEW_PARTNER|gwent-2026-118
DO_NOT_DISCLOSE|EMPLOYER|gwent-2026-118" \
		"SELECT decision || '|' || recipient_category || '|' || meeting_id
		 FROM disclosures ORDER BY decision"
	is "$b: partner record versions are all kept" \
		"1 police.gwent
2 police.gwent
2 probation.gwent" \
		"SELECT version || ' ' || sender_agency FROM partner_records
		 WHERE record_id = 'gwent-rec-0042' ORDER BY version, sender_agency"
	is "$b: partner_record_latest and the concurrent version 2" \
		"2|LEVEL_2|2|police.gwent,probation.gwent" \
		"SELECT l.version || '|' || l.level || '|' || c.claims
		 || '|' || c.agencies FROM partner_record_latest l
		 JOIN partner_record_conflicts c ON c.record_id = l.record_id"
	is "$b: the agencies' copies disagree on the level" \
		"police.gwent LEVEL_2|probation.gwent LEVEL_3" \
		"SELECT agency || ' ' || level || '|' || other_agency || ' ' ||
		 other_level FROM partner_record_mismatches"
	is "$b: an acknowledgement joins the notification it answers" \
		"ARREST|Sam Okafor" \
		"SELECT n.kind || '|' || a.acknowledged_by_name
		 FROM acknowledgements a JOIN notifications n
		 ON n.message_id = a.replies_to"

	before=$(counts)
	check "$b: every fixture again (a retried hook) exits 0" feed_all
	after=$(counts)
	check "$b: storing the same entries twice adds no row" \
		test "$before" = "$after"

	printf '{"seq": 1, "kind": "ENTRY_RECEIVED", "body": {' |
		sink 2>"$T/err"; rc=$?
	check "$b: bad JSON exits 2" test "$rc" -eq 2
	check "$b: ... saying the entry is not JSON" \
		grep -q 'entry is not JSON' "$T/err"
	cat "$T/err" >>"$T/sink.err"
	sink </dev/null 2>>"$T/sink.err"; rc=$?
	check "$b: no input at all exits 2" test "$rc" -eq 2
	# A message whose body the daemon could not map (one bad byte) comes
	# with "body":null: nothing to store is not "stored" (issue 10, 1).
	sed -e 's/"body":{.*}}$/"body":null}/' "$FIX/notification.json" |
		sink 2>"$T/err"; rc=$?
	check "$b: a RECEIVED entry whose body is null exits 2" \
		test "$rc" -eq 2
	check "$b: ... saying the body could not be mapped" \
		grep -q 'body: null' "$T/err"
	cat "$T/err" >>"$T/sink.err"
	# Well-formed JSON, but the minutes' comments are an object: the
	# message row is written before this is found, and must go again.
	sed -e 's/6bc1bee22e409f96e93d7e117393172a/0123456789abcdef0123456789abcdef/' \
	    -e 's/"commentsToSmb":"GPS tag resources"/"commentsToSmb":{"x":1}/' \
		"$FIX/minutes.json" | sink 2>"$T/err"; rc=$?
	check "$b: a malformed entry exits 2" test "$rc" -eq 2
	check "$b: ... naming the field" grep -q 'commentsToSmb' "$T/err"
	after=$(counts)
	check "$b: bad entries leave no row behind" test "$before" = "$after"
	cat "$T/err" >>"$T/sink.err"

	# A message is (sender agency, message id) (issue 10, hole 2): the
	# prison sending junk under police's message id is a message of its
	# own, and police's row stays as police sent it.
	sed -e 's/"peer":"police.gwent"/"peer":"prison.cardiff"/' \
	    -e 's/"senderAgency":"police.gwent"/"senderAgency":"prison.cardiff"/' \
	    -e 's/Ystrad Mynach custody suite/SQUATTED/' \
		"$FIX/notification.json" | sink 2>>"$T/sink.err"; rc=$?
	is "$b: another agency's message under the same id is a row of its own (exit $rc); the first is unchanged" \
		"police.gwent|no
prison.cardiff|yes" \
		"SELECT m.sender_agency || '|' || CASE WHEN n.details LIKE
		 '%SQUATTED%' THEN 'yes' ELSE 'no' END FROM messages m
		 JOIN notifications n ON n.sender_agency = m.sender_agency
		 AND n.message_id = m.message_id
		 WHERE m.message_id = '9f1c0b7e5a2d4c3b8e6f0a1b2c3d4e5f'
		 ORDER BY m.sender_agency"
	sed -e 's/"senderAgency":"police.gwent"/"senderAgency":"prison.cardiff"/' \
		"$FIX/notification.json" | sink 2>"$T/err"; rc=$?
	check "$b: a body whose senderAgency is not the entry's peer exits 2" \
		test "$rc" -eq 2
	cat "$T/err" >>"$T/sink.err"
}

# A fixture under another message id and seq: renum NAME ID SEQ.
renum() {
	sed -e "s/9f1c0b7e5a2d4c3b8e6f0a1b2c3d4e5f/$2/" \
	    -e "s/\"seq\":[0-9]*/\"seq\":$3/" "$FIX/$1.json"
}
stream_batch() {	# stream_batch FILE: its lines and "end LAST" to the sink
	{ cat "$1"; echo "end $2"; } | PPX_HOOK_MODE=stream "$SINK_CMD" "$SINK_DB" 2>>"$T/sink.err"
}
messages_with() { q "SELECT count(*) FROM messages WHERE message_id = '$1'"; }

# Streaming only: batches of many in one transaction, a poison entry in
# the middle set aside alone, and a batch given again adds nothing.
stream_checks() {
	local b=$1 A=a0000000000000000000000000000001 B=b0000000000000000000000000000002
	local C=c0000000000000000000000000000003 before after ans
	{ renum notification $A 901
	  sed -e 's/"commentsToSmb":"GPS tag resources"/"commentsToSmb":{"x":1}/' \
	      -e 's/"seq":[0-9]*/"seq":902/' \
	      -e 's/6bc1bee22e409f96e93d7e117393172a/0123456789abcdef0123456789abcdef/' \
		"$FIX/minutes.json"
	  renum notification $B 903; } >"$T/batch1"
	ans=$(stream_batch "$T/batch1" 903)
	diag "$b: answer: $ans"
	check "$b: a batch with a malformed entry in the middle: refuse naming it" \
		grep -q '^refuse 902 body.*commentsToSmb' <<<"$ans"
	check "$b: ... the entry before it is stored" test "$(messages_with $A)" = 1
	check "$b: ... the malformed one and the one after it are not" \
		test "$(messages_with 0123456789abcdef0123456789abcdef)$(messages_with $B)" = 00
	{ renum notification $B 903; renum notification $C 904; } >"$T/batch2"
	ans=$(stream_batch "$T/batch2" 904)
	check "$b: the rest, as the next batch: ok LAST" test "$ans" = "ok 904"
	check "$b: ... stored" test "$(messages_with $B)$(messages_with $C)" = 11
	before=$(counts)
	ans=$(stream_batch "$T/batch2" 904)
	after=$(counts)
	check "$b: the same batch again (a replay after a kill): ok, no row added" \
		test "$ans" = "ok 904" -a "$before" = "$after"
	ans=$(printf 'not an entry\n' | PPX_HOOK_MODE=stream "$SINK_CMD" "$SINK_DB" 2>&1); rc=$?
	check "$b: a line that is neither an entry nor an end line: exit 2, no answer" \
		test "$rc" = 2 -a -z "$(grep -v '^ppx-sink' <<<"$ans")"
}

# --- SQLite ---------------------------------------------------------------
use_sqlite
sink_checks sqlite
if [ "$MODE" = stream ]; then
	SINK_CMD=$SQLITE_SINK SINK_DB=$DB stream_checks sqlite
fi
is "sqlite: the database is in WAL mode" wal "PRAGMA journal_mode"
check "sqlite: the database file is private (0600)" \
	test "$(stat -c %a "$DB")" = 600
# A database an older sink made (schema 1: keyed by message id alone) is
# refused with what to do, never half-changed.
sqlite3 "$T/v1.sqlite" "CREATE TABLE sink_meta (key TEXT PRIMARY KEY,
	value TEXT NOT NULL); INSERT INTO sink_meta VALUES ('schema_version', '1');
	CREATE TABLE messages (message_id TEXT PRIMARY KEY, body TEXT NOT NULL)"
"$SQLITE_SINK" "$T/v1.sqlite" <"$FIX/notification.json" 2>"$T/err"; rc=$?
v1_refused() {
	[ "$rc" -eq 1 ] &&
	grep -q 'schema 1.*new database and a new name' "$T/err" &&
	[ "$(sqlite3 "$T/v1.sqlite" "SELECT count(*) FROM sqlite_master
		WHERE name = 'notifications'")" = 0 ]
}
check "sqlite: a schema 1 database is refused (exit 1), saying what to do, and left as it was" \
	v1_refused
"$SQLITE_SINK" "$T/no/such/dir/x.sqlite" <"$FIX/notification.json" \
	2>/dev/null; rc=$?
check "sqlite: a database that cannot be opened exits 1" test "$rc" -eq 1

# --- PostgreSQL -----------------------------------------------------------
PGDIR=$(mktemp -d /tmp/ppx-pg-XXXXXX)
if PGCONN=$("$TOP/scripts/pg-test-server" start "$PGDIR" 2>"$T/pg.err"); then
	ok "postgresql: a test server runs on loopback"
	use_pg
	sink_checks postgresql
	if [ "$MODE" = stream ]; then
		SINK_CMD=$PG_SINK SINK_DB=$PGCONN stream_checks postgresql
	fi
	is "postgresql: the body is queryable as JSON" "ARREST" \
		"SELECT body->'notification'->>'kind' FROM messages
		 WHERE message_id = '9f1c0b7e5a2d4c3b8e6f0a1b2c3d4e5f'
		 AND sender_agency = 'police.gwent'"
	# A schema 1 database (here a PostgreSQL schema of its own) is
	# refused, as in SQLite, and left as it was.
	q "CREATE SCHEMA v1; CREATE TABLE v1.sink_meta (key text PRIMARY KEY,
		value text NOT NULL); INSERT INTO v1.sink_meta
		VALUES ('schema_version', '1'); CREATE TABLE v1.messages
		(message_id text PRIMARY KEY, body json NOT NULL)"
	"$PG_SINK" "$PGCONN options=-csearch_path=v1" \
		<"$FIX/notification.json" 2>"$T/err"; rc=$?
	pg_v1_refused() {
		[ "$rc" -eq 1 ] &&
		grep -q 'schema 1.*new database and a new name' "$T/err" &&
		[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'v1'
			AND tablename = 'notifications'")" = 0 ]
	}
	check "postgresql: a schema 1 database is refused (exit 1), saying what to do, and left as it was" \
		pg_v1_refused
	"$PG_SINK" "host=127.0.0.1 port=1 user=ppx dbname=postgres" \
		<"$FIX/notification.json" 2>/dev/null; rc=$?
	check "postgresql: a server that cannot be reached exits 1" \
		test "$rc" -eq 1
else
	notok "postgresql: a test server runs on loopback"
	sed 's/^/# /' "$T/pg.err"
fi

# Under SAN=1 a sanitizer report fails the run even where the exit status
# was as expected.
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/sink.err"; then
	notok "the sinks ran without sanitizer reports"
	grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$T/sink.err" | head -40 | sed 's/^/# /'
else
	ok "the sinks ran without sanitizer reports"
fi

# --- End to end: a police case table to probation's sink ------------------
# examples/sync as its README tells a police IT team to set it up, with a
# sink hook on every daemon.
e2e_hook() {	# the [hook] (and for police the [spool]) of agency $1
	printf '[hook casework]\ncommand = %s %s\nmode = %s\n' "$SQLITE_SINK" \
		"$T/$1.sqlite" "$MODE"
	[ "$1" = police.gwent ] &&
		printf '[spool]\ndir = %s\noperator = dana.evans\n' "$T/spool"
	return 0
}
e2e_local() { sqlite3 -batch -noheader "$T/police-case.sqlite" "$1"; }
e2e_sync() {
	"$TOP/examples/sync/police-changes-to-spool.sh" "$T/police-case.sqlite" \
		"$T/police.gwent.sqlite" "$T/spool" police.gwent >>"$T/sync.out" 2>&1
}
e2e_latest() {	# e2e_latest AGENCY: version|level of the record in its sink
	sqlite3 -batch -noheader "$T/$1.sqlite" \
		"SELECT version || '|' || level FROM partner_record_latest
		 WHERE record_id = 'gwent-rec-0099'" 2>/dev/null
}
e2e_has() { [ "$(e2e_latest "$1")" = "$2" ]; }

e2e() {
	local a
	FED_DIR=$T fed_init
	mkdir -m 700 "$T/spool"
	for a in $AGENCIES; do fed_config "$a" "$(e2e_hook "$a")"; done
	for a in $AGENCIES; do fed_start "$a" || notok "$a starts"; done
	sqlite3 "$T/police-case.sqlite" <"$TOP/examples/sync/schema-local.sql" >/dev/null
	e2e_local "INSERT INTO subjects_local (record_id, pnc_id, name,
		date_of_birth, address_lines, postcode, mappa_category,
		mappa_level, lead_agency, partner_agencies)
		VALUES ('gwent-rec-0099', '2020/0000099Z', 'Rhys Bevan',
		'1979-07-04', '3 Station Road, Pontypool', 'NP4 6AA',
		'CATEGORY_1', 'LEVEL_2', 'probation.gwent',
		'police.gwent,probation.gwent,prison.cardiff')"
	check "sync: a new subject becomes version 1 in the spool" e2e_sync
	check "sync: police's sink has version 1 as sent" \
		wait_until 90 e2e_has police.gwent "1|LEVEL_2"
	check "sync: probation's sink has version 1" \
		wait_until 90 e2e_has probation.gwent "1|LEVEL_2"
	check "sync: prison's sink has version 1" \
		wait_until 90 e2e_has prison.cardiff "1|LEVEL_2"
	# A level change and a new order, made together: one update.
	e2e_local "UPDATE subjects_local SET mappa_level = 'LEVEL_3';
		INSERT INTO orders_local VALUES (1, 'o-1', 'SHPO',
		'Not to be alone with any child under 16',
		'2026-11-20', '2031-11-20')"
	check "sync: a level change and a new order become version 2" e2e_sync
	check "sync: probation's sink has version 2, level 3" \
		wait_until 90 e2e_has probation.gwent "2|LEVEL_3"
	is "sync: ... listing the fields that changed, with the order" \
		"level,conditions|o-1 SHPO police.gwent" \
		"SELECT p.changed_fields || '|' || c.condition_id || ' ' ||
		 c.kind || ' ' || c.monitoring_agency FROM partner_records p
		 JOIN conditions c ON c.message_id = p.message_id
		 WHERE p.record_id = 'gwent-rec-0099' AND p.version = 2"
	check "sync: police's sink has version 2 before the next one" \
		wait_until 90 e2e_has police.gwent "2|LEVEL_3"
	e2e_local "UPDATE subjects_local SET address_lines = 'Flat 1,
		9 Commercial Street, Pontypool', postcode = 'NP4 6JS'"
	check "sync: an address change becomes version 3" e2e_sync
	check "sync: prison's sink has version 3" \
		wait_until 90 e2e_has prison.cardiff "3|LEVEL_3"
	check "sync: probation's sink has version 3" \
		wait_until 90 e2e_has probation.gwent "3|LEVEL_3"
	is "sync: ... with the new registered address" "addresses|NP4 6JS" \
		"SELECT p.changed_fields || '|' || a.postcode
		 FROM partner_records p
		 JOIN addresses a ON a.message_id = p.message_id
		 WHERE p.record_id = 'gwent-rec-0099' AND p.version = 3"
	check "sync: the daemon sent every file and refused none" \
		test "$(ls "$T/spool/done" | grep -c '\.json$')" -eq 3 -a \
		-z "$(ls "$T/spool/failed" 2>/dev/null)"
	check "sync: a run with nothing new spools nothing" e2e_sync
	check "sync: ... and sends nothing" \
		test "$(ls "$T/spool/done" | grep -c '\.json$')" -eq 3
	is "sync: every agency's sink agrees (no mismatches)" 0 \
		"SELECT count(*) FROM partner_record_mismatches"
	grep -v '^ok' "$T/sync.out" | sed 's/^/# /'
	fed_stop_all
}

if grep -q '\[hook' "$TOP/docs/CONFIG.md" 2>/dev/null &&
	grep -q '\[spool' "$TOP/docs/CONFIG.md" 2>/dev/null; then
	use_sqlite
	DB=$T/probation.gwent.sqlite
	e2e
else
	diag "end to end skipped: ppxd has no [hook] and [spool] yet (docs/CONFIG.md)"
fi

finish
