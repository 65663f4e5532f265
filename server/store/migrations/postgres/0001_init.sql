-- The first schema of the misetup account store, PostgreSQL dialect.
-- Times are timestamptz (microseconds), written in UTC. Sync categories
-- are jsonb.
-- An empty email, phone or challenge Mi ID is stored as NULL so that UNIQUE
-- and REFERENCES ignore it.

CREATE TABLE accounts (
	mi_id          text PRIMARY KEY CHECK (mi_id <> ''),
	email          text UNIQUE,
	phone          text UNIQUE,
	password_hash  text NOT NULL,
	display_name   text NOT NULL DEFAULT '',
	region         text NOT NULL DEFAULT '',
	language       text NOT NULL DEFAULT '',
	recovery_email text NOT NULL DEFAULT '',
	recovery_phone text NOT NULL DEFAULT '',
	totp_secret    text NOT NULL DEFAULT '',
	totp_enabled   boolean NOT NULL DEFAULT false,
	totp_last_step bigint, -- NULL until a TOTP step is used
	quota_bytes    bigint NOT NULL DEFAULT 0,
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL
);

CREATE TABLE challenges (
	id             text PRIMARY KEY CHECK (id <> ''),
	purpose        text NOT NULL,
	channel        text NOT NULL,
	destination    text NOT NULL,
	mi_id          text REFERENCES accounts (mi_id) ON DELETE CASCADE,
	code_hash      bytea NOT NULL,
	payload        text NOT NULL DEFAULT '',
	state          text NOT NULL CHECK (state IN ('pending', 'verified', 'expired', 'dead')),
	attempts_left  integer NOT NULL CHECK (attempts_left >= 0),
	sends          integer NOT NULL DEFAULT 0,
	expires_at     timestamptz NOT NULL,
	resend_after   timestamptz NOT NULL,
	created_at     timestamptz NOT NULL,
	delivery_state text NOT NULL CHECK (delivery_state IN ('queued', 'sent', 'failed')),
	delivery_at    timestamptz,
	delivery_error text NOT NULL DEFAULT ''
);
CREATE INDEX challenges_by_account ON challenges (mi_id, created_at);

CREATE TABLE sends (
	destination text NOT NULL,
	at          timestamptz NOT NULL
);
CREATE INDEX sends_by_destination ON sends (destination, at);

CREATE TABLE failures (
	key text NOT NULL,
	at  timestamptz NOT NULL
);
CREATE INDEX failures_by_key ON failures (key, at);

CREATE TABLE locks (
	key   text PRIMARY KEY,
	until timestamptz NOT NULL
);

CREATE TABLE devices (
	mi_id               text NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	id                  text NOT NULL CHECK (id <> ''),
	name                text NOT NULL DEFAULT '',
	model               text NOT NULL DEFAULT '',
	os                  text NOT NULL DEFAULT '',
	last_seen           timestamptz,
	find_device         boolean NOT NULL DEFAULT false,
	location_lat        double precision, -- the location is NULL in all four or in none
	location_lon        double precision,
	location_accuracy_m double precision,
	location_at         timestamptz,
	auto_sync           boolean NOT NULL DEFAULT false,
	wifi_only           boolean NOT NULL DEFAULT false,
	sync_categories     jsonb NOT NULL DEFAULT '[]',
	sync_updated_at     timestamptz,
	created_at          timestamptz NOT NULL,
	PRIMARY KEY (mi_id, id)
);

-- A session's device is not a foreign key: a session may name a device the
-- server has not stored. DeleteDevice removes a device's sessions itself.
CREATE TABLE sessions (
	token_hash      text PRIMARY KEY CHECK (token_hash <> ''),
	mi_id           text NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	device_id       text NOT NULL DEFAULT '',
	kiosk           text NOT NULL DEFAULT '',
	store_id        text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	last_used_at    timestamptz NOT NULL,
	expires_at      timestamptz NOT NULL,
	idle_timeout_ns bigint NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_device ON sessions (mi_id, device_id);

CREATE TABLE commands (
	id                  text PRIMARY KEY CHECK (id <> ''),
	mi_id               text NOT NULL,
	device_id           text NOT NULL,
	type                text NOT NULL,
	message             text NOT NULL DEFAULT '',
	state               text NOT NULL CHECK (state IN ('pending', 'delivered', 'done', 'failed')),
	result              text NOT NULL DEFAULT '',
	location_lat        double precision,
	location_lon        double precision,
	location_accuracy_m double precision,
	location_at         timestamptz,
	created_at          timestamptz NOT NULL,
	updated_at          timestamptz,
	FOREIGN KEY (mi_id, device_id) REFERENCES devices (mi_id, id) ON DELETE CASCADE
);
CREATE INDEX commands_by_device ON commands (mi_id, device_id, state, created_at);

CREATE TABLE usage (
	mi_id    text NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	category text NOT NULL,
	bytes    bigint NOT NULL,
	PRIMARY KEY (mi_id, category)
);

CREATE TABLE recovery_codes (
	mi_id text NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	hash  text NOT NULL,
	PRIMARY KEY (mi_id, hash)
);

-- The audit log outlives what it tells of: no foreign keys.
CREATE TABLE audit (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL,
	mi_id     text NOT NULL DEFAULT '',
	device_id text NOT NULL DEFAULT '',
	kiosk     text NOT NULL DEFAULT '',
	store_id  text NOT NULL DEFAULT '',
	address   text NOT NULL DEFAULT '',
	event     text NOT NULL,
	detail    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_account ON audit (mi_id, id);
