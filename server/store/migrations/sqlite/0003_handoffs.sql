-- Hand-offs: a kiosk asks for a one-time link that a customer opens on
-- their own phone to type the identifier and password there. The kiosk's
-- id and the phone's link are stored only as keyed hashes. A sign-in
-- records its account and the kiosk's device; the session is opened when
-- the kiosk collects it, so no token is ever stored. A claim (claim_ref,
-- claimed_until) holds the link for one submission; a claim past its
-- deadline is as good as open.
CREATE TABLE handoffs (
	id_hash       TEXT PRIMARY KEY CHECK (id_hash <> ''),
	link_hash     TEXT NOT NULL UNIQUE CHECK (link_hash <> ''),
	purpose       TEXT NOT NULL CHECK (purpose IN ('registration', 'sign_in')),
	state         TEXT NOT NULL CHECK (state IN ('open', 'claimed', 'done', 'collected')),
	region        TEXT NOT NULL DEFAULT '',
	language      TEXT NOT NULL DEFAULT '',
	device_id     TEXT NOT NULL DEFAULT '',
	device_name   TEXT NOT NULL DEFAULT '',
	device_model  TEXT NOT NULL DEFAULT '',
	device_os     TEXT NOT NULL DEFAULT '',
	kiosk         TEXT NOT NULL DEFAULT '',
	store_id      TEXT NOT NULL DEFAULT '',
	claim_ref     TEXT NOT NULL DEFAULT '',
	claimed_until INTEGER,
	mi_id         TEXT REFERENCES accounts (mi_id) ON DELETE CASCADE,
	challenge_id  TEXT REFERENCES challenges (id) ON DELETE CASCADE,
	method        TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	done_at       INTEGER,
	collected_at  INTEGER
) STRICT;
CREATE INDEX handoffs_by_expiry ON handoffs (expires_at);
