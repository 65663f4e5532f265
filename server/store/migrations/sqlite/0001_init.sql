-- The first schema of the misetup account store, SQLite dialect.
-- Times are INTEGER microseconds since the Unix epoch (UTC). Tables are
-- STRICT, so a value of the wrong type is refused rather than stored.
-- An empty email, phone or challenge Mi ID is stored as NULL so that UNIQUE
-- and REFERENCES ignore it.

CREATE TABLE accounts (
	mi_id          TEXT PRIMARY KEY CHECK (mi_id <> ''),
	email          TEXT UNIQUE,
	phone          TEXT UNIQUE,
	password_hash  TEXT NOT NULL,
	display_name   TEXT NOT NULL DEFAULT '',
	region         TEXT NOT NULL DEFAULT '',
	language       TEXT NOT NULL DEFAULT '',
	recovery_email TEXT NOT NULL DEFAULT '',
	recovery_phone TEXT NOT NULL DEFAULT '',
	totp_secret    TEXT NOT NULL DEFAULT '',
	totp_enabled   INTEGER NOT NULL DEFAULT 0,
	totp_last_step INTEGER, -- NULL until a TOTP step is used
	quota_bytes    INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE challenges (
	id             TEXT PRIMARY KEY CHECK (id <> ''),
	purpose        TEXT NOT NULL,
	channel        TEXT NOT NULL,
	destination    TEXT NOT NULL,
	mi_id          TEXT REFERENCES accounts (mi_id) ON DELETE CASCADE,
	code_hash      BLOB NOT NULL,
	payload        TEXT NOT NULL DEFAULT '',
	state          TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'expired', 'dead')),
	attempts_left  INTEGER NOT NULL CHECK (attempts_left >= 0),
	sends          INTEGER NOT NULL DEFAULT 0,
	expires_at     INTEGER NOT NULL,
	resend_after   INTEGER NOT NULL,
	created_at     INTEGER NOT NULL,
	delivery_state TEXT NOT NULL CHECK (delivery_state IN ('queued', 'sent', 'failed')),
	delivery_at    INTEGER,
	delivery_error TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX challenges_by_account ON challenges (mi_id, created_at);

CREATE TABLE sends (
	destination TEXT NOT NULL,
	at          INTEGER NOT NULL
) STRICT;
CREATE INDEX sends_by_destination ON sends (destination, at);

CREATE TABLE failures (
	key TEXT NOT NULL,
	at  INTEGER NOT NULL
) STRICT;
CREATE INDEX failures_by_key ON failures (key, at);

CREATE TABLE locks (
	key   TEXT PRIMARY KEY,
	until INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
	mi_id               TEXT NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	id                  TEXT NOT NULL CHECK (id <> ''),
	name                TEXT NOT NULL DEFAULT '',
	model               TEXT NOT NULL DEFAULT '',
	os                  TEXT NOT NULL DEFAULT '',
	last_seen           INTEGER,
	find_device         INTEGER NOT NULL DEFAULT 0,
	location_lat        REAL, -- the location is NULL in all four or in none
	location_lon        REAL,
	location_accuracy_m REAL,
	location_at         INTEGER,
	auto_sync           INTEGER NOT NULL DEFAULT 0,
	wifi_only           INTEGER NOT NULL DEFAULT 0,
	sync_categories     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(sync_categories)),
	sync_updated_at     INTEGER,
	created_at          INTEGER NOT NULL,
	PRIMARY KEY (mi_id, id)
) STRICT;

-- A session's device is not a foreign key: a session may name a device the
-- server has not stored. DeleteDevice removes a device's sessions itself.
CREATE TABLE sessions (
	token_hash      TEXT PRIMARY KEY CHECK (token_hash <> ''),
	mi_id           TEXT NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	device_id       TEXT NOT NULL DEFAULT '',
	kiosk           TEXT NOT NULL DEFAULT '',
	store_id        TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	last_used_at    INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	idle_timeout_ns INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX sessions_by_device ON sessions (mi_id, device_id);

CREATE TABLE commands (
	id                  TEXT PRIMARY KEY CHECK (id <> ''),
	mi_id               TEXT NOT NULL,
	device_id           TEXT NOT NULL,
	type                TEXT NOT NULL,
	message             TEXT NOT NULL DEFAULT '',
	state               TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'done', 'failed')),
	result              TEXT NOT NULL DEFAULT '',
	location_lat        REAL,
	location_lon        REAL,
	location_accuracy_m REAL,
	location_at         INTEGER,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER,
	FOREIGN KEY (mi_id, device_id) REFERENCES devices (mi_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX commands_by_device ON commands (mi_id, device_id, state, created_at);

CREATE TABLE usage (
	mi_id    TEXT NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	category TEXT NOT NULL,
	bytes    INTEGER NOT NULL,
	PRIMARY KEY (mi_id, category)
) STRICT;

CREATE TABLE recovery_codes (
	mi_id TEXT NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	hash  TEXT NOT NULL,
	PRIMARY KEY (mi_id, hash)
) STRICT;

-- The audit log outlives what it tells of: no foreign keys.
CREATE TABLE audit (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	at        INTEGER NOT NULL,
	mi_id     TEXT NOT NULL DEFAULT '',
	device_id TEXT NOT NULL DEFAULT '',
	kiosk     TEXT NOT NULL DEFAULT '',
	store_id  TEXT NOT NULL DEFAULT '',
	address   TEXT NOT NULL DEFAULT '',
	event     TEXT NOT NULL,
	detail    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_by_account ON audit (mi_id, id);
