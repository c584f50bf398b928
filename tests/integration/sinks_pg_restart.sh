#!/usr/bin/env bash
# sinks_pg_restart.sh — ppx-sink-pg as a streaming hook (docs/SINKS.md)
# while its PostgreSQL server restarts, with real daemons and the private
# server of scripts/pg-test-server.  The sink keeps one session for its
# whole life; the restart ends it.  The sink must connect again (its
# prepared statements went with the old session) and store the batch: the
# hook carries on, every message reaches the database once, and no good
# entry is set aside.  If PostgreSQL cannot be started the test fails.
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
retry_initial_ms = 100
retry_max_ms = 400
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

fed_stop police.gwent
fed_stop $P
finish
