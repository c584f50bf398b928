-- schema-local.sql — a stand-in for a police force's own case database, and
-- the three tables the sync example adds to it (examples/sync/README.md).
--
-- subjects_local and orders_local are "the existing system": in real life
-- a ViSOR export, a force's case system, a reporting replica.  The example
-- adds:
--   * triggers that write one row into case_changes for every change to a
--     field the police own in the shared partner record (docs/PROTOCOL.md:
--     identity, MAPPA category and level, registered address, orders);
--   * case_changes, the queue police-changes-to-spool.sh reads;
--   * spool_outbox, the updates it has decided on but may not yet have
--     written into the spool (so a crash between the two loses nothing);
--   * sync_state, the last version of each record it put in the spool.
-- Load it with: sqlite3 police-case.sqlite < schema-local.sql

PRAGMA journal_mode = WAL;

-- One row per subject the force manages.  Enumerations are the names in
-- proto/ppx.proto, so they go into the partner record as they are.
CREATE TABLE IF NOT EXISTS subjects_local (
	local_id INTEGER PRIMARY KEY,
	-- The shared partner record's id, agreed between the agencies (e.g.
	-- the MAPPA case reference).  Printable, no spaces.
	record_id TEXT NOT NULL UNIQUE
		CHECK (record_id NOT GLOB '*[^!-~]*' AND length(record_id) <= 128),
	pnc_id TEXT,
	name TEXT,
	date_of_birth TEXT,			-- YYYY-MM-DD
	address_lines TEXT,			-- the registered address
	postcode TEXT,
	mappa_category TEXT CHECK (mappa_category IN
		('CATEGORY_1', 'CATEGORY_2', 'CATEGORY_3')),
	mappa_level TEXT CHECK (mappa_level IN ('LEVEL_1', 'LEVEL_2', 'LEVEL_3')),
	lead_agency TEXT CHECK (lead_agency NOT GLOB '*[^a-z0-9.-]*'),
	-- Agencies on the case, comma-separated: the recipients of updates.
	partner_agencies TEXT NOT NULL
		CHECK (partner_agencies NOT GLOB '*[^a-z0-9.,-]*')
);

-- Orders the police monitor (SOPO, SHPO, SRO, foreign travel orders):
-- their part of the record's conditions.  Licence conditions are
-- probation's and come from probation's own system.
CREATE TABLE IF NOT EXISTS orders_local (
	local_id INTEGER NOT NULL REFERENCES subjects_local (local_id),
	condition_id TEXT NOT NULL,		-- unique within the record
	kind TEXT NOT NULL CHECK (kind IN
		('SOPO', 'SHPO', 'SRO', 'FOREIGN_TRAVEL_ORDER', 'OTHER_ORDER')),
	text TEXT NOT NULL,
	start_date TEXT,
	end_date TEXT,
	PRIMARY KEY (local_id, condition_id)
);

-- Changes not yet sent.  `field` is the partner record field that changed,
-- as changed_fields names it; 'new' for a subject just added.
CREATE TABLE IF NOT EXISTS case_changes (
	change_id INTEGER PRIMARY KEY AUTOINCREMENT,
	local_id INTEGER NOT NULL,
	field TEXT NOT NULL,
	changed_at TEXT NOT NULL
		DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	spooled_as TEXT		-- the spool file that carries it; '-' if it
				-- turned out to change nothing; NULL: pending
);
CREATE INDEX IF NOT EXISTS case_changes_pending
	ON case_changes (spooled_as, local_id);

CREATE TABLE IF NOT EXISTS spool_outbox (
	file_name TEXT PRIMARY KEY,		-- NAME.json in the spool
	body TEXT NOT NULL,			-- the ppx.v1.Body, JSON
	created_at TEXT NOT NULL
		DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	written_at TEXT				-- NULL: not yet in the spool
);

CREATE TABLE IF NOT EXISTS sync_state (
	record_id TEXT PRIMARY KEY,
	spooled_version INTEGER NOT NULL,
	spool_file TEXT NOT NULL
);

-- The triggers: one queue row per changed field.  `IS NOT` compares NULLs
-- too, so clearing a value is a change and rewriting the same one is not.
CREATE TRIGGER IF NOT EXISTS subjects_local_new
AFTER INSERT ON subjects_local BEGIN
	INSERT INTO case_changes (local_id, field) VALUES (new.local_id, 'new');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_pnc
AFTER UPDATE OF pnc_id ON subjects_local WHEN old.pnc_id IS NOT new.pnc_id
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'subject.pnc_id');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_name
AFTER UPDATE OF name ON subjects_local WHEN old.name IS NOT new.name
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'subject.name');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_dob
AFTER UPDATE OF date_of_birth ON subjects_local
WHEN old.date_of_birth IS NOT new.date_of_birth
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'subject.date_of_birth');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_address
AFTER UPDATE OF address_lines, postcode ON subjects_local
WHEN old.address_lines IS NOT new.address_lines
  OR old.postcode IS NOT new.postcode
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'addresses');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_category
AFTER UPDATE OF mappa_category ON subjects_local
WHEN old.mappa_category IS NOT new.mappa_category
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'category');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_level
AFTER UPDATE OF mappa_level ON subjects_local
WHEN old.mappa_level IS NOT new.mappa_level
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'level');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_lead
AFTER UPDATE OF lead_agency ON subjects_local
WHEN old.lead_agency IS NOT new.lead_agency
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'lead_agency');
END;

CREATE TRIGGER IF NOT EXISTS subjects_local_partners
AFTER UPDATE OF partner_agencies ON subjects_local
WHEN old.partner_agencies IS NOT new.partner_agencies
BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'partner_agencies');
END;

CREATE TRIGGER IF NOT EXISTS orders_local_insert
AFTER INSERT ON orders_local BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'conditions');
END;

CREATE TRIGGER IF NOT EXISTS orders_local_update
AFTER UPDATE ON orders_local BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (new.local_id, 'conditions');
END;

CREATE TRIGGER IF NOT EXISTS orders_local_delete
AFTER DELETE ON orders_local BEGIN
	INSERT INTO case_changes (local_id, field)
	VALUES (old.local_id, 'conditions');
END;
