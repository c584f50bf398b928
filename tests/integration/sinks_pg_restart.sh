#!/usr/bin/env bash
# sinks_pg_restart.sh — ppx-sink-pg as a streaming hook (docs/SINKS.md)
# while its PostgreSQL server restarts, with real daemons and the private
# server of scripts/pg-test-server.  The sink keeps one session for its
# whole life; the restart ends it.  The sink must connect again (its
# prepared statements went with the old session) and store the batch: the
# hook carries on, every message reaches the database once, and no good
# entry is set aside.  Then a database error with a reason longer than an
# answer line, and one met by a statement sent in the pipeline.  If PostgreSQL cannot be started the test fails.
set -u
. "$(dirname "$0")/lib.sh"
fed_init
P=probation.gwent
PGDIR=$FED/pg
cleanup() { "$TOP/scripts/pg-test-server" stop "$PGDIR"; }
trap cleanup EXIT
chmod o+x "$FED"
if ! PGCONN=$("$TOP/scripts/pg-test-server" start "$PGDIR" 2>"$FED/pg.err"); then
	notok "the private PostgreSQL server starts"
	diag "$(cat "$FED/pg.err")"
	finish
	exit 1
fi

cat >>"$(fed_conf $P)" <<EOF2
[hook casework]
command = $TOP/$BUILD/ppx-sink-pg "$PGCONN"
mode = stream
entry_kinds = ENTRY_RECEIVED
retry_initial_ms = 3000
retry_max_ms = 3000
quarantine_after = 3
EOF2

rows() { psql "$PGCONN" -XAtq -c "SELECT count(*) FROM messages" 2>/dev/null; }
has_rows() { [ "$(rows)" = "$1" ]; }
status() { "$PPX" status --config "$(fed_conf $P)" 2>&1; }
hook_ok() { status | grep -q '^hook casework .*behind 0 .*ok$'; }
starts() { grep -c 'hook casework: streaming to pid' "$FED/$P/ppxd.out"; }

fed_start police.gwent || { notok "police starts"; finish; exit 1; }
fed_start $P || { notok "probation starts"; finish; exit 1; }

fed_burst police.gwent $P 10 "before {}" >"$FED/before.json"
ppx_send police.gwent "$FED/before.json" >/dev/null || notok "police sends"
check "the ten messages before the restart reach PostgreSQL" wait_until 60 has_rows 10
check "one sink process streams them" test "$(starts)" = 1

"$TOP/scripts/pg-test-server" restart "$PGDIR" 2>>"$FED/pg.err" ||
	notok "PostgreSQL restarts"
fed_burst police.gwent $P 10 "after {}" >"$FED/after.json"
ppx_send police.gwent "$FED/after.json" >/dev/null || notok "police sends again"
check "the ten messages after the restart reach PostgreSQL too" wait_until 60 has_rows 20
check "the hook is at the end of the log, ok" wait_until 30 hook_ok
diag "$(status | grep '^hook')"
check "the same sink process connected again (it was not restarted)" \
	test "$(starts)" = 1
check "each message once" test "$(psql "$PGCONN" -XAtq -c \
	"SELECT count(DISTINCT message_id) FROM messages")" = 20
check "nothing was set aside (no ENTRY_HOOK_QUARANTINE)" \
	test "$(ppx_log $P | jq -r 'select(.kind == "ENTRY_HOOK_QUARANTINE") | .seq' | wc -l)" -eq 0
check "no batch failed" bash -c "! grep -q 'hook casework: .*not stored' '$FED/$P/ppxd.out'"

# --- a reason longer than an answer line ---------------------------------
# A trigger makes every insert fail with a 1,100-byte message.  The sink
# answers `fail SEQ REASON` with the reason cut to the daemon's 1,024-byte
# line: the failure is logged with the database's reason and the process
# kept (not killed for an over-long line).  Without the trigger the entry
# is stored on the next try, and nothing is set aside.
pgq() { psql "$PGCONN" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
pgq "CREATE FUNCTION no_insert() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN RAISE EXCEPTION 'refused by trigger %', repeat('x', 1100); END \$\$;
	CREATE TRIGGER no_insert BEFORE INSERT ON messages
	FOR EACH ROW EXECUTE FUNCTION no_insert()" >/dev/null ||
	notok "the trigger is made"
fed_burst police.gwent $P 1 "long reason" >"$FED/long.json"
ppx_send police.gwent "$FED/long.json" >/dev/null || notok "police sends one more"
failed_long() { grep -q 'hook casework: .*not stored.*refused by trigger xxxxxxxxxx' "$FED/$P/ppxd.out"; }
check "long: the failure is logged with the database's reason" wait_until 60 failed_long
pgq "DROP TRIGGER no_insert ON messages" >/dev/null || notok "the trigger is dropped"
check "long: the sink was not killed for an over-long answer" \
	bash -c "! grep -q 'hook casework: answer line longer' '$FED/$P/ppxd.out'"
check "long: ... and is the same process" test "$(starts)" = 1
check "long: the entry is stored on a later try" wait_until 60 has_rows 21
check "long: the hook is at the end of the log, ok" wait_until 30 hook_ok
check "long: nothing was set aside" \
	test "$(ppx_log $P | jq -r 'select(.kind == "ENTRY_HOOK_QUARANTINE") | .seq' | wc -l)" -eq 0

# --- a failure in the pipeline -------------------------------------------
# The sink sends a batch's row INSERTs without waiting for their answers
# (libpq's pipeline mode).  A trigger makes every notification row fail:
# that INSERT's answer is read later (at the next look-up, or at COMMIT),
# after the message's own row was stored in the same transaction.  The
# batch must still fail with the trigger's reason and leave no row of it;
# without the trigger every message is stored, once.
pgq "CREATE FUNCTION no_notification() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN RAISE EXCEPTION 'notification refused in the pipeline'; END \$\$;
	CREATE TRIGGER no_notification BEFORE INSERT ON notifications
	FOR EACH ROW EXECUTE FUNCTION no_notification()" >/dev/null ||
	notok "the notification trigger is made"
fed_burst police.gwent $P 5 "piped {}" >"$FED/piped.json"
ppx_send police.gwent "$FED/piped.json" >/dev/null || notok "police sends five more"
failed_piped() { grep -q 'hook casework: .*not stored.*notification refused in the pipeline' "$FED/$P/ppxd.out"; }
check "pipeline: the batch fails with the failed statement's reason" wait_until 60 failed_piped
check "pipeline: ... and no row of it is stored, not even the messages" has_rows 21
pgq "DROP TRIGGER no_notification ON notifications" >/dev/null ||
	notok "the notification trigger is dropped"
check "pipeline: the five are stored on a later try" wait_until 60 has_rows 26
check "pipeline: each message once, with its notification" \
	test "$(pgq "SELECT count(DISTINCT m.message_id) FROM messages m
		JOIN notifications n USING (sender_agency, message_id)")" = 26
check "pipeline: the same process all along" test "$(starts)" = 1
check "pipeline: nothing was set aside" \
	test "$(ppx_log $P | jq -r 'select(.kind == "ENTRY_HOOK_QUARANTINE") | .seq' | wc -l)" -eq 0

fed_stop police.gwent
fed_stop $P
finish
