-- Mi Cloud: the items of an account's sync categories, with versions and a
-- change number; blobs (files), stored content-addressed in a bucket under
-- <mi_id>/<sha256>; and resumable uploads of them, in parts.

-- cloud_accounts holds each account's change counter. Every cloud write
-- takes its row first: a change takes the next number under the row's
-- lock, so one account's changes commit in the order of their numbers and
-- a reader that saw number N has seen every change before it.
CREATE TABLE cloud_accounts (
	mi_id text PRIMARY KEY REFERENCES accounts (mi_id) ON DELETE CASCADE,
	seq   bigint NOT NULL DEFAULT 0 CHECK (seq >= 0)
);

-- An item of a small category keeps its data; one of a file category names
-- a blob. A deleted item stays as a tombstone (deleted, no data, size 0).
CREATE TABLE cloud_items (
	mi_id        text NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	category     text NOT NULL CHECK (category <> ''),
	id           text NOT NULL CHECK (id <> ''),
	name         text NOT NULL DEFAULT '',
	data         bytea,
	blob         text NOT NULL DEFAULT '',
	content_type text NOT NULL DEFAULT '',
	size         bigint NOT NULL CHECK (size >= 0),
	sha256       text NOT NULL DEFAULT '',
	version      bigint NOT NULL CHECK (version > 0),
	seq          bigint NOT NULL CHECK (seq > 0),
	deleted      boolean NOT NULL DEFAULT false,
	device_id    text NOT NULL DEFAULT '',
	updated_at   timestamptz NOT NULL,
	PRIMARY KEY (mi_id, category, id)
);
CREATE INDEX cloud_items_by_change ON cloud_items (mi_id, category, seq);

-- A blob of an account: refs counts the live items naming it. One that no
-- item names since released_at is deleted a day later: its state becomes
-- deleting while its object is removed, then the row goes.
CREATE TABLE cloud_blobs (
	mi_id       text NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	sha256      text NOT NULL CHECK (sha256 <> ''),
	size        bigint NOT NULL CHECK (size >= 0),
	refs        bigint NOT NULL DEFAULT 0 CHECK (refs >= 0),
	state       text NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'deleting')),
	created_at  timestamptz NOT NULL,
	released_at timestamptz, -- NULL while an item names it
	PRIMARY KEY (mi_id, sha256)
);
CREATE INDEX cloud_blobs_unreferenced ON cloud_blobs (mi_id, refs, released_at);

-- An upload in progress: received bytes of size so far, kept as parts (one
-- object each) until the last byte arrives.
CREATE TABLE cloud_uploads (
	id         text PRIMARY KEY CHECK (id <> ''),
	mi_id      text NOT NULL REFERENCES accounts (mi_id) ON DELETE CASCADE,
	sha256     text NOT NULL CHECK (sha256 <> ''),
	size       bigint NOT NULL CHECK (size >= 0),
	received   bigint NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= size),
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX cloud_uploads_by_blob ON cloud_uploads (mi_id, sha256, size);
CREATE INDEX cloud_uploads_by_expiry ON cloud_uploads (mi_id, expires_at);

CREATE TABLE cloud_upload_parts (
	upload_id text NOT NULL REFERENCES cloud_uploads (id) ON DELETE CASCADE,
	pos       bigint NOT NULL CHECK (pos >= 0),
	size      bigint NOT NULL CHECK (size > 0),
	key       text NOT NULL CHECK (key <> ''),
	PRIMARY KEY (upload_id, pos)
);
