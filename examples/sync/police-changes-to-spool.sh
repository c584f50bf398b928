#!/usr/bin/env bash
# police-changes-to-spool.sh — turn changes in a police case database into
# partner-record updates in ppxd's spool directory (examples/sync/README.md).
#
#   police-changes-to-spool.sh LOCALDB SINKDB SPOOLDIR AGENCY
#
# LOCALDB   the force's SQLite database, with schema-local.sql loaded: the
#           triggers there queue every change in case_changes
# SINKDB    this agency's ppx-sink-sqlite database (its [hook]), read only:
#           the latest version of each partner record, sent or received
# SPOOLDIR  the daemon's [spool] dir
# AGENCY    this agency, e.g. police.gwent (left out of the recipients)
#
# Run it from cron or a timer, as often as you like.  Each run, for each
# record with pending changes:
#   1. if an update it spooled earlier is not yet in SINKDB (the daemon has
#      not sent it yet, or refused it), it waits: one update per record is
#      on its way at a time, each based on the one before;
#   2. otherwise it builds the next version from the latest one in SINKDB
#      (or version 1 if there is none), taking the police-owned fields that
#      changed from LOCALDB, and lists them in changedFields;
#   3. in one transaction it puts the update in spool_outbox and marks the
#      changes it carries;
# then it writes every update in spool_outbox that is not yet in the spool:
# NAME.json.tmp, fsync, rename to NAME.json.  If it dies between rename and
# noting that, the next run writes the same NAME with the same bytes, which
# the daemon recognises as the same message (docs/HOOKS.md, "Exactly
# once").  Exit 0, or 1 with the reason on stderr (a refused update is
# reported with the daemon's reason from SPOOLDIR/failed/).
set -euo pipefail

die() { echo "police-changes-to-spool: $*" >&2; exit 1; }

[ $# -eq 4 ] || {
	echo "usage: police-changes-to-spool.sh LOCALDB SINKDB SPOOLDIR AGENCY" >&2
	exit 64
}
command -v sqlite3 >/dev/null || die "needs the sqlite3 command (Debian package sqlite3)"

abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
LOCAL=$(abs "$1")
SINK=$(abs "$2")
SPOOL=$(abs "$3")
AGENCY=$4

# The values below go into SQL text, so they are checked first; every value
# that comes from a database stays inside SQL.
[[ $AGENCY =~ ^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$ ]] ||
	die "$AGENCY: not an agency name (e.g. police.gwent)"
for p in "$LOCAL" "$SINK"; do
	case $p in *\'* | *\?* | *\#* | *$'\n'*) die "$p: a path without quotes, ?, # or newlines, please" ;; esac
done
[ -f "$LOCAL" ] || die "$LOCAL: no such database (load schema-local.sql into it)"
[ -d "$SPOOL" ] || die "$SPOOL: no such directory (the daemon's [spool] dir)"

# The latest version of each record, from the sink if it has any yet.
latest_sql="CREATE TEMP TABLE latest (record_id TEXT PRIMARY KEY,
	version INTEGER, body TEXT);"
if [ -f "$SINK" ] && [ "$(sqlite3 "file:$SINK?mode=ro" \
	"SELECT count(*) FROM sqlite_master WHERE name = 'partner_record_latest'")" = 1 ]; then
	latest_sql="$latest_sql
ATTACH 'file:$SINK?mode=ro' AS sink;
INSERT OR IGNORE INTO temp.latest
	SELECT l.record_id, l.version, m.body
	FROM sink.partner_record_latest l
	JOIN sink.messages m
	  ON m.sender_agency = l.sender_agency AND m.message_id = l.message_id;"
fi

# Steps 1-3, in one transaction.  BEGIN IMMEDIATE holds the write lock, so
# no change can slip in between reading the queue and marking it.
plan() {
	{
		echo ".bail on"
		echo "CREATE TEMP TABLE params AS SELECT '$AGENCY' AS agency;"
		echo "$latest_sql"
		cat <<'SQL'
BEGIN IMMEDIATE;

-- The police-owned fields of a partner record, and where they are in it.
CREATE TEMP TABLE fields (field TEXT PRIMARY KEY, path TEXT NOT NULL);
INSERT INTO fields VALUES
	('subject.pnc_id', '$.subject.pncId'),
	('subject.name', '$.subject.name'),
	('subject.date_of_birth', '$.subject.dateOfBirth'),
	('addresses', '$.addresses'),
	('category', '$.category'),
	('level', '$.level'),
	('lead_agency', '$.leadAgency'),
	('conditions', '$.conditions'),
	('partner_agencies', '$.partnerAgencies');

-- Records with pending changes, and what changed ('new': everything).
CREATE TEMP TABLE pending AS
SELECT s.local_id, s.record_id, max(c.change_id) AS last_change,
       ',' || group_concat(DISTINCT c.field) || ',' AS changed
FROM case_changes c JOIN subjects_local s ON s.local_id = c.local_id
WHERE c.spooled_as IS NULL
GROUP BY s.local_id;

-- Step 1: those whose previous update has reached the sink.
CREATE TEMP TABLE build AS
SELECT p.local_id, p.record_id, p.last_change, p.changed,
       COALESCE(l.version, 0) AS base_version,
       json_extract(l.body, '$.messageId') AS base_id,
       COALESCE(json_extract(l.body, '$.partnerRecord'),
		json_object('recordId', p.record_id)) AS base,
       NULL AS rec
FROM pending p
LEFT JOIN temp.latest l ON l.record_id = p.record_id
LEFT JOIN sync_state st ON st.record_id = p.record_id
WHERE COALESCE(st.spooled_version, 0) <= COALESCE(l.version, 0);

SELECT 'waiting: ' || p.record_id || ': version ' || st.spooled_version ||
       ' (' || st.spool_file || ') is not in the sink yet'
FROM pending p JOIN sync_state st ON st.record_id = p.record_id
WHERE p.local_id NOT IN (SELECT local_id FROM build);

-- Step 2: the next version: the latest, with what changed here.
UPDATE build SET rec = json_remove(json_set(base,
	'$.version', CAST(base_version + 1 AS TEXT),
	'$.baseVersion', CAST(base_version AS TEXT)), '$.merges');

UPDATE build SET rec = json_set(rec,
	'$.subject.pncId', (SELECT pnc_id FROM subjects_local s
			    WHERE s.local_id = build.local_id))
WHERE changed GLOB '*,subject.pnc_id,*' OR changed GLOB '*,new,*';
UPDATE build SET rec = json_set(rec,
	'$.subject.name', (SELECT name FROM subjects_local s
			   WHERE s.local_id = build.local_id))
WHERE changed GLOB '*,subject.name,*' OR changed GLOB '*,new,*';
UPDATE build SET rec = json_set(rec,
	'$.subject.dateOfBirth', (SELECT date_of_birth FROM subjects_local s
				  WHERE s.local_id = build.local_id))
WHERE changed GLOB '*,subject.date_of_birth,*' OR changed GLOB '*,new,*';
UPDATE build SET rec = json_set(rec,
	'$.category', (SELECT mappa_category FROM subjects_local s
		       WHERE s.local_id = build.local_id))
WHERE changed GLOB '*,category,*' OR changed GLOB '*,new,*';
UPDATE build SET rec = json_set(rec,
	'$.level', (SELECT mappa_level FROM subjects_local s
		    WHERE s.local_id = build.local_id))
WHERE changed GLOB '*,level,*' OR changed GLOB '*,new,*';
UPDATE build SET rec = json_set(rec,
	'$.leadAgency', (SELECT lead_agency FROM subjects_local s
			 WHERE s.local_id = build.local_id))
WHERE changed GLOB '*,lead_agency,*' OR changed GLOB '*,new,*';
UPDATE build SET rec = json_set(rec, '$.partnerAgencies',
	json('["' || (SELECT replace(partner_agencies, ',', '","')
		      FROM subjects_local s
		      WHERE s.local_id = build.local_id) || '"]'))
WHERE changed GLOB '*,partner_agencies,*' OR changed GLOB '*,new,*';
-- Addresses: the other agencies' stay; the registered one is ours.
UPDATE build SET rec = json_set(rec, '$.addresses', (
	SELECT json_group_array(json(a)) FROM (
		SELECT value AS a FROM json_each(rec, '$.addresses')
		WHERE json_extract(value, '$.kind') IS NOT 'registered'
		UNION ALL
		SELECT json_object('lines', address_lines,
				   'postcode', postcode, 'kind', 'registered')
		FROM subjects_local s
		WHERE s.local_id = build.local_id
		  AND (address_lines IS NOT NULL OR postcode IS NOT NULL))))
WHERE changed GLOB '*,addresses,*' OR changed GLOB '*,new,*';
-- Conditions: probation's licence conditions stay; orders are ours.
UPDATE build SET rec = json_set(rec, '$.conditions', (
	SELECT json_group_array(json(c)) FROM (
		SELECT value AS c FROM json_each(rec, '$.conditions')
		WHERE json_extract(value, '$.kind') NOT IN
			('SOPO', 'SHPO', 'SRO', 'FOREIGN_TRAVEL_ORDER',
			 'OTHER_ORDER')
		UNION ALL
		SELECT json_object('id', condition_id, 'kind', kind,
				   'text', text,
				   'monitoringAgency', (SELECT agency FROM params),
				   'startDate', start_date, 'endDate', end_date)
		FROM orders_local o WHERE o.local_id = build.local_id)))
WHERE changed GLOB '*,conditions,*' OR changed GLOB '*,new,*';
-- Empty lists are left out, as canonical JSON does.
UPDATE build SET rec = json_remove(rec, '$.addresses')
WHERE json_array_length(rec, '$.addresses') = 0;
UPDATE build SET rec = json_remove(rec, '$.conditions')
WHERE json_array_length(rec, '$.conditions') = 0;

-- changedFields: the fields that now differ from the latest version (for
-- version 1: every field it sets).
UPDATE build SET rec = json_set(rec, '$.changedFields', (
	SELECT json_group_array(field) FROM fields
	WHERE json_extract(rec, path) IS NOT json_extract(base, path)));

-- Step 3: queue the update, mark the changes, note the version.
CREATE TEMP TABLE spooled AS
SELECT local_id, record_id, last_change, base_version + 1 AS version,
       CASE WHEN json_array_length(rec, '$.changedFields') = 0 THEN '-'
	    ELSE (CASE WHEN record_id GLOB '*[^A-Za-z0-9_-]*'
		       THEN 'x' || hex(record_id) ELSE record_id END)
		 || '-v' || (base_version + 1) || '.json' END AS file_name,
       json_object(
	'recipients', (SELECT json_group_array(value)
		       FROM json_each(rec, '$.partnerAgencies')
		       WHERE value <> (SELECT agency FROM params)),
	'marking', 'OFFICIAL_SENSITIVE',
	'priority', 'ROUTINE',
	'purpose', json_object('legalBasis', 'CJA_2003_S325',
			       'text', 'MAPPA partner record, from the '
				       || (SELECT agency FROM params)
				       || ' case system'),
	'subject', json(json_extract(rec, '$.subject')),
	'supersedes', CASE WHEN base_version > 0 THEN base_id END,
	'partnerRecord', json(rec)) AS body
FROM build;

INSERT INTO spool_outbox (file_name, body)
SELECT file_name, CASE WHEN json_extract(body, '$.supersedes') IS NULL
		       THEN json_remove(body, '$.supersedes') ELSE body END
FROM spooled WHERE file_name <> '-';

UPDATE case_changes SET spooled_as = (
	SELECT file_name FROM spooled s WHERE s.local_id = case_changes.local_id)
WHERE spooled_as IS NULL
  AND change_id <= (SELECT last_change FROM spooled s
		    WHERE s.local_id = case_changes.local_id);

INSERT INTO sync_state (record_id, spooled_version, spool_file)
SELECT record_id, version, file_name FROM spooled WHERE file_name <> '-'
ON CONFLICT (record_id) DO UPDATE SET
	spooled_version = excluded.spooled_version,
	spool_file = excluded.spool_file;

SELECT CASE WHEN file_name = '-' THEN 'unchanged: ' || record_id
	    ELSE 'queued: ' || file_name || ' (' ||
		 (SELECT group_concat(value, ', ') FROM
		  json_each(body, '$.partnerRecord.changedFields')) || ')'
       END
FROM spooled;

COMMIT;
SQL
	} | sqlite3 -batch "$LOCAL"
}

# Refused updates: the daemon moved them to failed/ with the reason.
report_failed() {
	local name rc=0
	for name in $(sqlite3 -batch "$LOCAL" "SELECT spool_file FROM sync_state"); do
		[ -f "$SPOOL/failed/$name" ] || continue
		echo "police-changes-to-spool: $name was refused:" \
			"$(cat "$SPOOL/failed/$name.error" 2>/dev/null)" >&2
		rc=1
	done
	return $rc
}

# Write what spool_outbox holds into the spool, each file atomically.
write_outbox() {
	local name tmp
	for name in $(sqlite3 -batch "$LOCAL" \
		"SELECT file_name FROM spool_outbox WHERE written_at IS NULL
		 ORDER BY created_at, file_name"); do
		case $name in
		*[!A-Za-z0-9._-]* | .*) die "$name: unexpected file name in spool_outbox" ;;
		esac
		tmp=$SPOOL/$name.tmp
		sqlite3 -batch "$LOCAL" \
			"SELECT body FROM spool_outbox WHERE file_name = '$name'" >"$tmp"
		sync "$tmp"
		mv -f "$tmp" "$SPOOL/$name"
		sqlite3 -batch "$LOCAL" "UPDATE spool_outbox
			SET written_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
			WHERE file_name = '$name'"
		echo "spooled: $name"
	done
}

plan
write_outbox
report_failed
