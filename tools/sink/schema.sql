-- schema.sql — the tables ppx-sink-sqlite keeps (SQLite 3.35 or later).
--
-- ppx-sink-sqlite runs this whole file before every entry: every statement
-- is CREATE ... IF NOT EXISTS, so it creates what is missing and changes
-- nothing else.  schema-pg.sql is the same schema for PostgreSQL; keep the
-- two in step.  docs/SINKS.md explains the tables and gives example queries.
--
-- Conventions:
--   * message ids (message_id, supersedes, replies_to) are 32 lower-case hex
--     digits, as `ppx log` prints them, so they join across tables;
--   * enumerations are their names in proto/ppx.proto ("LEVEL_2",
--     "RISK_HIGH", "RELEASE_DATE"); a value this schema does not know is
--     kept as its number;
--   * dates are text as the sender wrote them (YYYY-MM-DD); times in
--     milliseconds since 1970 are INTEGER columns named *_ms;
--   * booleans are 0 or 1;
--   * a message is (sender_agency, message_id): a message id is unique only
--     per sender, so every table a message fills is keyed by both (plus a
--     position n for repeated items) and storing an entry twice adds
--     nothing, while another agency's message under the same id is a row
--     of its own.

-- Which schema this is, for later migrations.
CREATE TABLE IF NOT EXISTS sink_meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO sink_meta (key, value) VALUES ('schema_version', '2')
	ON CONFLICT DO NOTHING;

-- Every message sent or received: the envelope facts and the whole body.
CREATE TABLE IF NOT EXISTS messages (
	sender_agency TEXT NOT NULL,	-- who sent it (the signer):
	message_id TEXT NOT NULL,	-- with sender_agency, the key
	agency TEXT,				-- whose log: this agency
	log_seq INTEGER,			-- position in this agency's log
	log_time TEXT,				-- when it was logged (RFC 3339)
	log_kind TEXT NOT NULL,			-- ENTRY_RECEIVED or ENTRY_SENT
	direction TEXT NOT NULL,		-- 'received' or 'sent'
	peer TEXT,				-- the partner it came from
	logged_by TEXT,				-- person id on the log entry
	family TEXT,				-- notification, minutes, ...
	sender_person_id TEXT,
	sender_person_name TEXT,
	sender_person_role TEXT,
	recipients TEXT,			-- comma-separated agency names
	created_ms INTEGER NOT NULL DEFAULT 0,
	marking TEXT,
	priority TEXT,
	legal_basis TEXT,
	purpose TEXT,
	area TEXT,
	counter_terrorism INTEGER NOT NULL DEFAULT 0,
	ack_deadline_ms INTEGER,
	supersedes TEXT,			-- message id this one replaces
	replies_to TEXT,			-- message id this one answers
	subject_name TEXT,			-- as the sender named the subject
	body TEXT NOT NULL,			-- ppx.v1.Body, canonical JSON
	PRIMARY KEY (sender_agency, message_id)
);
CREATE INDEX IF NOT EXISTS messages_family ON messages (family, created_ms);
CREATE INDEX IF NOT EXISTS messages_replies_to ON messages (replies_to);

-- Subjects, matched by any identifier: a message naming an identifier
-- already known is filed under that subject.  One naming identifiers of two
-- subjects does not merge them (a partner's word is not enough): it is
-- filed under both and subject_conflicts records it for a person to
-- resolve; subject_merges records the merges people decide on.
CREATE TABLE IF NOT EXISTS subjects (
	subject_id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused
	name TEXT,				-- the latest name a message gave
	date_of_birth TEXT,
	first_sender TEXT NOT NULL,		-- the message that created it:
	first_message TEXT NOT NULL,		-- its sender agency and id
	last_sender TEXT NOT NULL,		-- the message that last named it:
	last_message TEXT NOT NULL		-- its sender agency and id
);

-- scheme: pnc, cro, crn, prison, visor (the subject keys of docs/CONFIG.md).
CREATE TABLE IF NOT EXISTS subject_identifiers (
	scheme TEXT NOT NULL,
	value TEXT NOT NULL,
	subject_id INTEGER NOT NULL REFERENCES subjects (subject_id),
	first_sender TEXT NOT NULL,
	first_message TEXT NOT NULL,
	PRIMARY KEY (scheme, value)
);
CREATE INDEX IF NOT EXISTS subject_identifiers_subject
	ON subject_identifiers (subject_id);

CREATE TABLE IF NOT EXISTS subject_aliases (
	subject_id INTEGER NOT NULL REFERENCES subjects (subject_id),
	alias TEXT NOT NULL,
	PRIMARY KEY (subject_id, alias)
);

-- Subjects a person found to be one: merged_id went into into_id (see
-- docs/SINKS.md, "Subject conflicts"), with the conflict it resolved.
CREATE TABLE IF NOT EXISTS subject_merges (
	merged_id INTEGER PRIMARY KEY,		-- the subject_id that went away
	into_id INTEGER NOT NULL,		-- where it is now
	sender_agency TEXT,			-- the message that prompted it,
	message_id TEXT,			-- if any
	decided_by TEXT,			-- who decided, and why
	reason TEXT
);

-- Messages that named identifiers of two subjects already known as
-- different people.  The sink never merges on a partner's word: the message
-- is filed under both subjects and this row waits for a person, who merges
-- them (subject_merges) or rules the message wrong, and sets resolved_ms,
-- resolved_by and resolution.
CREATE TABLE IF NOT EXISTS subject_conflicts (
	sender_agency TEXT NOT NULL,		-- the message
	message_id TEXT NOT NULL,
	subject_id INTEGER NOT NULL REFERENCES subjects (subject_id),
	other_subject_id INTEGER NOT NULL REFERENCES subjects (subject_id),
	identifiers TEXT NOT NULL,		-- as the message gave them:
						-- "pnc:2019/0123456X,crn:X1"
	logged_ms INTEGER NOT NULL DEFAULT 0,	-- created_ms of the message
	resolved_ms INTEGER,			-- NULL: open
	resolved_by TEXT,
	resolution TEXT,			-- e.g. "merged", "message wrong"
	PRIMARY KEY (sender_agency, message_id, subject_id, other_subject_id),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

-- Which subjects each message is about (minutes may name several).
CREATE TABLE IF NOT EXISTS message_subjects (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	subject_id INTEGER NOT NULL REFERENCES subjects (subject_id),
	PRIMARY KEY (sender_agency, message_id, subject_id),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);
CREATE INDEX IF NOT EXISTS message_subjects_subject
	ON message_subjects (subject_id);

-- Family 1: notifications.
CREATE TABLE IF NOT EXISTS notifications (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	kind TEXT,				-- RELEASE_DATE, ARREST, ...
	effective_date TEXT,
	details TEXT,
	category TEXT,				-- risk picture, when given
	level TEXT,
	imminence TEXT,
	assessment TEXT,
	from_area TEXT,
	to_area TEXT,
	recall INTEGER NOT NULL DEFAULT 0,
	decided_by TEXT,
	exit_plan TEXT,
	home_visit_announced INTEGER,
	home_visit_by TEXT,
	home_visit_outcome TEXT,
	home_visit_safety_issues TEXT,
	PRIMARY KEY (sender_agency, message_id),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

-- Risk of serious harm per group, of a notification, minutes or record.
CREATE TABLE IF NOT EXISTS rosh (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	risk_group TEXT NOT NULL,		-- CHILDREN, PUBLIC, ...
	level TEXT,				-- RISK_LOW ... RISK_VERY_HIGH
	PRIMARY KEY (sender_agency, message_id, risk_group),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

-- Licence conditions and orders, copied in full.
CREATE TABLE IF NOT EXISTS conditions (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	n INTEGER NOT NULL,			-- position in the message
	condition_id TEXT,
	kind TEXT,				-- CURFEW, EXCLUSION_ZONE, SHPO, ...
	text TEXT,
	monitoring_agency TEXT,
	start_date TEXT,
	end_date TEXT,
	PRIMARY KEY (sender_agency, message_id, n),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

CREATE TABLE IF NOT EXISTS addresses (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	n INTEGER NOT NULL,
	lines TEXT,
	postcode TEXT,
	from_date TEXT,
	to_date TEXT,
	kind TEXT,				-- home, approved premises, ...
	PRIMARY KEY (sender_agency, message_id, n),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

-- Family 2: minutes of MAPPA meetings (form B).  An amendment is a new
-- message with a higher version; see minutes_latest.
CREATE TABLE IF NOT EXISTS minutes (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	meeting_id TEXT,
	area TEXT,
	level TEXT,
	meeting_date TEXT,
	version INTEGER NOT NULL DEFAULT 0,
	chair_id TEXT,
	chair_name TEXT,
	chair_agency TEXT,
	lead_agency TEXT,
	category TEXT,
	imminence TEXT,
	supervision TEXT,
	monitoring_and_control TEXT,
	interventions_and_treatment TEXT,
	victim_safety_planning TEXT,
	contingency TEXT,
	disclosure_considered INTEGER NOT NULL DEFAULT 0,
	disclosure_considered_answer TEXT,	-- YES, NO; NULL: not answered
	recall TEXT,
	licence_expiry TEXT,
	exit_strategy TEXT,
	offender_views TEXT,
	critical_public_protection_case INTEGER NOT NULL DEFAULT 0,
	next_review_date TEXT,
	comments_to_smb TEXT,
	meeting_cancelled INTEGER NOT NULL DEFAULT 0,
	rearranged_date TEXT,
	PRIMARY KEY (sender_agency, message_id),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);
CREATE INDEX IF NOT EXISTS minutes_meeting ON minutes (meeting_id, version);

-- attendance: 'required', 'actual' or 'absent'.
CREATE TABLE IF NOT EXISTS attendees (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	attendance TEXT NOT NULL,
	n INTEGER NOT NULL,
	person_id TEXT,
	name TEXT,
	agency TEXT,
	role TEXT,
	grade TEXT,
	PRIMARY KEY (sender_agency, message_id, attendance, n),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

-- The actions of a set of minutes, as the minutes give them.
CREATE TABLE IF NOT EXISTS actions (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	n INTEGER NOT NULL,
	meeting_id TEXT,
	action_id TEXT,
	description TEXT,
	owner_id TEXT,
	owner_name TEXT,
	owner_agency TEXT,
	owner_role TEXT,
	due_date TEXT,
	status TEXT,				-- ACTION_OPEN, ACTION_COMPLETED, ...
	outcome TEXT,
	PRIMARY KEY (sender_agency, message_id, n),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);
CREATE INDEX IF NOT EXISTS actions_action ON actions (meeting_id, action_id);

-- Progress on an action, sent after the meeting.
CREATE TABLE IF NOT EXISTS action_updates (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	meeting_id TEXT,
	action_id TEXT,
	status TEXT,
	outcome TEXT,
	updated_by_id TEXT,
	updated_by_name TEXT,
	updated_by_agency TEXT,
	created_ms INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (sender_agency, message_id),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);
CREATE INDEX IF NOT EXISTS action_updates_action
	ON action_updates (meeting_id, action_id);

-- Family 3: disclosure decisions: one row for a disclosure message (n = 0),
-- one per decision recorded in minutes (n = its position there).
CREATE TABLE IF NOT EXISTS disclosures (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	n INTEGER NOT NULL,
	meeting_id TEXT,
	considered INTEGER NOT NULL DEFAULT 0,
	considered_answer TEXT,			-- YES, NO; NULL: not answered
	decision TEXT,				-- DISCLOSE, DO_NOT_DISCLOSE, DEFER
	recipient_category TEXT,
	recipient TEXT,
	information_disclosed TEXT,
	rationale TEXT,
	legal_basis TEXT,
	decided_by_name TEXT,
	decided_by_agency TEXT,
	approved_by_name TEXT,
	approved_by_agency TEXT,
	executed_by_name TEXT,
	executed_by_agency TEXT,
	executed_ms INTEGER,
	PRIMARY KEY (sender_agency, message_id, n),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

-- Family 4: partner records, every version kept.  Two agencies that update
-- the same version at once both stay (the message id tells them apart):
-- see partner_record_conflicts.  Addresses, rosh and conditions of a
-- version are in those tables under its message id.
CREATE TABLE IF NOT EXISTS partner_records (
	record_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	base_version INTEGER NOT NULL DEFAULT 0,
	changed_fields TEXT,			-- comma-separated field names
	created_ms INTEGER NOT NULL DEFAULT 0,
	category TEXT,
	level TEXT,
	lead_agency TEXT,
	offender_manager_name TEXT,
	offender_manager_agency TEXT,
	police_offender_manager_name TEXT,
	police_supervisor_name TEXT,
	partner_agencies TEXT,			-- comma-separated agency names
	current_prison TEXT,
	PRIMARY KEY (record_id, version, sender_agency, message_id),
	UNIQUE (sender_agency, message_id),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);

-- Acknowledgements: a named person took on the message replies_to names.
CREATE TABLE IF NOT EXISTS acknowledgements (
	sender_agency TEXT NOT NULL,
	message_id TEXT NOT NULL,
	replies_to TEXT,
	acknowledged_by_id TEXT,
	acknowledged_by_name TEXT,
	acknowledged_by_agency TEXT,
	note TEXT,
	created_ms INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (sender_agency, message_id),
	FOREIGN KEY (sender_agency, message_id)
		REFERENCES messages (sender_agency, message_id)
);
CREATE INDEX IF NOT EXISTS acknowledgements_replies_to
	ON acknowledgements (replies_to);

-- The newest version of each partner record (ties: the later message).
CREATE VIEW IF NOT EXISTS partner_record_latest AS
SELECT p.* FROM partner_records p
WHERE NOT EXISTS (
	SELECT 1 FROM partner_records q
	WHERE q.record_id = p.record_id
	  AND (q.version > p.version
	       OR (q.version = p.version
		   AND (q.created_ms > p.created_ms
			OR (q.created_ms = p.created_ms
			    AND q.message_id > p.message_id)))));

-- Versions of a partner record that more than one message claims: two
-- agencies edited at once, and someone must reconcile.
CREATE VIEW IF NOT EXISTS partner_record_conflicts AS
SELECT record_id, version, count(*) AS claims,
       group_concat(sender_agency, ',') AS agencies
FROM partner_records
GROUP BY record_id, version
HAVING count(*) > 1;

-- The newest version each agency sent of each record: that agency's copy.
CREATE VIEW IF NOT EXISTS partner_record_by_agency AS
SELECT p.* FROM partner_records p
WHERE NOT EXISTS (
	SELECT 1 FROM partner_records q
	WHERE q.record_id = p.record_id AND q.sender_agency = p.sender_agency
	  AND (q.version > p.version
	       OR (q.version = p.version
		   AND (q.created_ms > p.created_ms
			OR (q.created_ms = p.created_ms
			    AND q.message_id > p.message_id)))));

-- Agencies whose copies of a record disagree on the MAPPA level or the
-- risk of serious harm (001:L522, 004:L222), where both copies state it.
-- `ppx report` counts the same from the log.
CREATE VIEW IF NOT EXISTS partner_record_mismatches AS
SELECT a.record_id,
       a.sender_agency AS agency, a.version, a.level, a.rosh,
       b.sender_agency AS other_agency, b.version AS other_version,
       b.level AS other_level, b.rosh AS other_rosh
FROM (SELECT c.*, (SELECT group_concat(g, ',') FROM (SELECT risk_group || '=' || level AS g
		FROM rosh r WHERE r.sender_agency = c.sender_agency AND r.message_id = c.message_id ORDER BY risk_group)) AS rosh FROM partner_record_by_agency c) a
JOIN (SELECT d.*, (SELECT group_concat(g, ',') FROM (SELECT risk_group || '=' || level AS g
		FROM rosh r WHERE r.sender_agency = d.sender_agency AND r.message_id = d.message_id ORDER BY risk_group)) AS rosh FROM partner_record_by_agency d) b
  ON b.record_id = a.record_id AND b.sender_agency > a.sender_agency
WHERE (a.level IS NOT NULL AND b.level IS NOT NULL AND a.level <> b.level)
   OR (a.rosh IS NOT NULL AND b.rosh IS NOT NULL AND a.rosh <> b.rosh);

-- The newest version of each meeting's minutes.
CREATE VIEW IF NOT EXISTS minutes_latest AS
SELECT m.* FROM minutes m JOIN messages g
  ON g.sender_agency = m.sender_agency AND g.message_id = m.message_id
WHERE NOT EXISTS (
	SELECT 1 FROM minutes o JOIN messages h
	  ON h.sender_agency = o.sender_agency AND h.message_id = o.message_id
	WHERE o.meeting_id = m.meeting_id
	  AND (o.version > m.version
	       OR (o.version = m.version
		   AND (h.created_ms > g.created_ms
			OR (h.created_ms = g.created_ms
			    AND o.message_id > m.message_id)))));

-- Each action of the latest minutes, with the latest update applied.
CREATE VIEW IF NOT EXISTS actions_current AS
SELECT a.meeting_id, a.action_id, a.description, a.owner_name,
       a.owner_agency, a.due_date,
       COALESCE(u.status, a.status) AS status,
       COALESCE(u.outcome, a.outcome) AS outcome,
       a.sender_agency AS minutes_sender_agency,
       a.message_id AS minutes_message_id,
       u.sender_agency AS update_sender_agency,
       u.message_id AS update_message_id
FROM actions a
JOIN minutes_latest m
  ON m.sender_agency = a.sender_agency AND m.message_id = a.message_id
LEFT JOIN action_updates u
  ON u.sender_agency || '/' || u.message_id = (
	SELECT v.sender_agency || '/' || v.message_id FROM action_updates v
	WHERE v.meeting_id = a.meeting_id AND v.action_id = a.action_id
	ORDER BY v.created_ms DESC, v.sender_agency DESC, v.message_id DESC
	LIMIT 1);

-- One line per subject with its identifiers side by side.
CREATE VIEW IF NOT EXISTS subject_summary AS
SELECT s.subject_id, s.name, s.date_of_birth,
  (SELECT min(value) FROM subject_identifiers i
   WHERE i.subject_id = s.subject_id AND i.scheme = 'pnc') AS pnc_id,
  (SELECT min(value) FROM subject_identifiers i
   WHERE i.subject_id = s.subject_id AND i.scheme = 'cro') AS cro_number,
  (SELECT min(value) FROM subject_identifiers i
   WHERE i.subject_id = s.subject_id AND i.scheme = 'crn') AS crn,
  (SELECT min(value) FROM subject_identifiers i
   WHERE i.subject_id = s.subject_id AND i.scheme = 'prison') AS prison_number,
  (SELECT min(value) FROM subject_identifiers i
   WHERE i.subject_id = s.subject_id AND i.scheme = 'visor') AS visor_id,
  (SELECT count(*) FROM message_subjects ms
   WHERE ms.subject_id = s.subject_id) AS messages
FROM subjects s;
