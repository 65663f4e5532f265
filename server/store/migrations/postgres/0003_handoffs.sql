-- Hand-offs: a kiosk asks for a one-time link that a customer opens on
-- their own phone to type the identifier and password there. The kiosk's
-- id and the phone's link are stored only as keyed hashes. A sign-in
-- records its account and the kiosk's device; the session is opened when
-- the kiosk collects it, so no token is ever stored. A claim (claim_ref,
-- claimed_until) holds the link for one submission; a claim past its
-- deadline is as good as open.
CREATE TABLE handoffs (
	id_hash       text PRIMARY KEY CHECK (id_hash <> ''),
	link_hash     text NOT NULL UNIQUE CHECK (link_hash <> ''),
	purpose       text NOT NULL CHECK (purpose IN ('registration', 'sign_in')),
	state         text NOT NULL CHECK (state IN ('open', 'claimed', 'done', 'collected')),
	region        text NOT NULL DEFAULT '',
	language      text NOT NULL DEFAULT '',
	device_id     text NOT NULL DEFAULT '',
	device_name   text NOT NULL DEFAULT '',
	device_model  text NOT NULL DEFAULT '',
	device_os     text NOT NULL DEFAULT '',
	kiosk         text NOT NULL DEFAULT '',
	store_id      text NOT NULL DEFAULT '',
	claim_ref     text NOT NULL DEFAULT '',
	claimed_until timestamptz,
	mi_id         text REFERENCES accounts (mi_id) ON DELETE CASCADE,
	challenge_id  text REFERENCES challenges (id) ON DELETE CASCADE,
	method        text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL,
	expires_at    timestamptz NOT NULL,
	done_at       timestamptz,
	collected_at  timestamptz
);
CREATE INDEX handoffs_by_expiry ON handoffs (expires_at);
