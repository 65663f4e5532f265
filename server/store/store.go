// Package store is the persistence of the account service behind one
// interface, Store, with two implementations: SQLite (the default, through
// modernc.org/sqlite, no cgo) and PostgreSQL (through pgx). One test suite
// (storetest) runs against both.
//
// The store holds data, not rules: it never decides whether a code is right
// or a password strong. It does provide the atomic steps the rules need
// (consume a challenge once, spend an attempt, use a TOTP step once, claim
// and collect a hand-off once), each a
// single conditional UPDATE so that racing requests cannot both win), the
// reservations that count sign-in failures and sends before the work they
// allow, and InTx, in which the rules of one request read and write as one
// transaction.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when the row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write would break a unique constraint (a
// Mi ID, an email or a phone already taken, a duplicate id).
var ErrConflict = errors.New("store: conflict")

// Account is a Mi Account.
type Account struct {
	MiID         string // numeric, 9 to 10 digits, the primary key
	Email        string // normalised (lower-cased domain); "" when none
	Phone        string // E.164; "" when none
	PasswordHash string // PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash
	DisplayName  string
	Region       string
	Language     string

	RecoveryEmail string // verified recovery contacts only; "" when none
	RecoveryPhone string

	TOTPSecret  string // base32; set while pending or enabled
	TOTPEnabled bool

	QuotaBytes int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Challenge is a verification code sent to one destination for one purpose.
type Challenge struct {
	ID          string
	Purpose     string // api.Purpose*
	Channel     string // api.ChannelEmail or api.ChannelSMS
	Destination string // full, normalised address or E.164 number (masked only on the wire)
	MiID        string // the account it is for; "" for a registration
	CodeHash    []byte // keyed hash of the code, bound to id, purpose and destination
	// Payload is what the challenge carries until it is verified, as JSON
	// the server owns (a registration's password hash, method, region...).
	// Never a plain password or code.
	Payload string

	State        string // api.Challenge*
	AttemptsLeft int
	Sends        int // how many times a code was sent for it
	ExpiresAt    time.Time
	ResendAfter  time.Time
	CreatedAt    time.Time

	DeliveryState string // api.Delivery*
	DeliveryAt    *time.Time
	DeliveryError string
}

// Session is a signed-in session. The token itself is never stored.
type Session struct {
	TokenHash   string // hex of SHA-256 of the token
	MiID        string
	DeviceID    string
	Kiosk       string // kiosk id, "" on a personal device
	StoreID     string // store id of the kiosk
	CreatedAt   time.Time
	LastUsedAt  time.Time
	ExpiresAt   time.Time     // absolute end
	IdleTimeout time.Duration // 0: none; a kiosk session ends this long after LastUsedAt
}

// Location is where a device last reported itself.
type Location struct {
	Lat, Lon   float64
	AccuracyM  float64
	ReportedAt time.Time
}

// Sync is a device's Mi Cloud sync settings.
type Sync struct {
	AutoSync   bool
	WifiOnly   bool
	Categories []string
	UpdatedAt  *time.Time // nil until first saved
}

// Device is a device linked to an account.
type Device struct {
	MiID         string
	ID           string // chosen by the client, unique per account
	Name         string
	Model        string
	OS           string
	LastSeen     *time.Time
	FindDevice   bool
	LastLocation *Location
	Sync         Sync
	CreatedAt    time.Time
}

// Command is a remote command (locate, ring, lock, erase) for a device.
type Command struct {
	ID        string
	MiID      string
	DeviceID  string
	Type      string
	Message   string
	State     string // api.Command*
	Result    string
	Location  *Location
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// AuditEvent is one security event. It never holds a secret.
type AuditEvent struct {
	ID       int64
	At       time.Time
	MiID     string
	DeviceID string
	Kiosk    string
	StoreID  string
	Address  string // client address
	Event    string // e.g. "sign_in", "sign_in_failed", "account_locked", "password_changed"
	Detail   string
}

// Handoff is a kiosk's private hand-off: a one-time link the kiosk shows
// as a QR code, on which a customer types the identifier and password on
// their own phone. Neither the kiosk's id nor the link is stored, only their
// keyed hashes; a sign-in records its account and the kiosk's device, and
// its session is opened when the kiosk collects it, so no token is stored
// either.
type Handoff struct {
	IDHash   string // keyed hash of the id the kiosk polls with
	LinkHash string // keyed hash of the link's token
	Purpose  string // registration or sign_in
	State    string // open, claimed, done or collected
	Region   string // of phone numbers typed without +; "" for the default
	Language string

	// The kiosk's device, which a sign-in's session is opened on.
	DeviceID, DeviceName, DeviceModel, DeviceOS string
	// Kiosk and StoreID name the kiosk that asked ("" when not a kiosk).
	Kiosk, StoreID string

	// ClaimRef is the submission that holds a claimed hand-off, until
	// ClaimedUntil; a claim past it is as good as open.
	ClaimRef     string
	ClaimedUntil *time.Time

	// What the submission recorded (HandoffResult).
	MiID        string
	ChallengeID string
	Method      string

	CreatedAt time.Time
	// ExpiresAt ends the link while it is open, and the kiosk's collection
	// once it is done.
	ExpiresAt   time.Time
	DoneAt      *time.Time
	CollectedAt *time.Time
}

// HandoffResult is what a finished hand-off records.
type HandoffResult struct {
	MiID        string // a sign-in's account
	ChallengeID string // a registration's challenge
	Method      string // how the customer named the account: email, phone or mi_id
}

// Store is the persistence of the account service. All methods are safe for
// concurrent use. Methods that look up one row return ErrNotFound when it is
// missing; writes that break a unique constraint return ErrConflict.
type Store interface {
	// Ping checks the connection.
	Ping(ctx context.Context) error
	// Close releases the store; pending writes are done when it returns.
	Close() error
	// InTx runs fn in one write transaction: every call fn makes on the
	// Store it is given is part of it. It commits when fn returns nil and
	// rolls back otherwise, returning fn's error. fn may run more than once
	// (PostgreSQL may refuse a transaction that ran beside another; it is
	// run again), so it must not keep state between runs.
	InTx(ctx context.Context, fn func(Store) error) error

	// CreateAccount inserts a new account; ErrConflict when its Mi ID, email or phone is taken.
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByMiID, AccountByEmail and AccountByPhone look an account up.
	AccountByMiID(ctx context.Context, miID string) (*Account, error)
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	AccountByPhone(ctx context.Context, phone string) (*Account, error)
	// PatchAccount sets the fields of p that are not nil (UpdatedAt is set
	// by the store); ErrStale when a condition of p no longer holds.
	PatchAccount(ctx context.Context, miID string, p AccountPatch) error
	// LockAccount reads an account and, inside InTx, locks it until the
	// transaction ends.
	LockAccount(ctx context.Context, miID string) (*Account, error)

	// CreateChallenge inserts a challenge.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// Challenge reads one challenge.
	Challenge(ctx context.Context, id string) (*Challenge, error)
	// LockChallenge reads one challenge and, inside InTx, locks it until the
	// transaction ends.
	LockChallenge(ctx context.Context, id string) (*Challenge, error)
	// RenewChallengeCode replaces the code of a pending (or expired) challenge for a resend:
	// a new code hash, expiry and resend time, attempts back to attempts,
	// Sends incremented and delivery back to queued.
	RenewChallengeCode(ctx context.Context, id string, codeHash []byte, attempts int, expiresAt, resendAfter time.Time) error
	// SetDelivery records what the courier did: state (queued, sent, failed), when, and its error text.
	SetDelivery(ctx context.Context, id, state string, at time.Time, errText string) error
	// SpendAttempt atomically takes one attempt from a pending challenge and
	// returns how many are left; at 0 the challenge becomes dead. A challenge
	// that is not pending returns its current attempts and state unchanged.
	SpendAttempt(ctx context.Context, id string) (left int, state string, err error)
	// ConsumeChallenge atomically moves a pending challenge that expires after
	// now to verified. Exactly one of several racing calls returns true.
	ConsumeChallenge(ctx context.Context, id string, now time.Time) (bool, error)
	// SetChallengeState sets the state (e.g. to expired).
	SetChallengeState(ctx context.Context, id, state string) error
	// LastChallenge returns the newest challenge for an account (any purpose),
	// or ErrNotFound.
	LastChallenge(ctx context.Context, miID string) (*Challenge, error)

	// ReserveAttempt atomically checks limits and, when none refuses,
	// records one failure under ref against each key, locking the keys
	// whose limit it reaches (returned). A refusal is a *Refusal error.
	ReserveAttempt(ctx context.Context, ref string, at time.Time, limits ...Limit) (locked []string, err error)
	// ReleaseAttempt removes the failure recorded under ref for key, and a
	// lock that reservation set.
	ReleaseAttempt(ctx context.Context, key, ref string) error
	// LockedUntil returns when key's lock ends (zero time when not locked).
	LockedUntil(ctx context.Context, key string) (time.Time, error)
	// ClearFailures removes key's failures and lock.
	ClearFailures(ctx context.Context, key string) error
	// ReserveSend atomically checks the rate of sends to lim.Key and, under
	// it, records one under ref; over it the error is a *Refusal.
	ReserveSend(ctx context.Context, ref string, at time.Time, lim Limit) error
	// ReleaseSend removes the send recorded under ref for key.
	ReleaseSend(ctx context.Context, key, ref string) error

	// CreateSession inserts a session.
	CreateSession(ctx context.Context, s *Session) error
	// Session reads a session by its token hash.
	Session(ctx context.Context, tokenHash string) (*Session, error)
	// SessionAccount reads a session and its account in one query.
	SessionAccount(ctx context.Context, tokenHash string) (*Session, *Account, error)
	// TouchSession sets LastUsedAt to at when it is before olderThan and
	// reports whether it did; a missing session is false, not an error.
	TouchSession(ctx context.Context, tokenHash string, at, olderThan time.Time) (bool, error)
	// DeleteSession removes one session.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteSessions removes every session of an account but the one with
	// exceptTokenHash ("" removes all) and returns how many went.
	DeleteSessions(ctx context.Context, miID, exceptTokenHash string) (int, error)

	// UpsertDevice inserts a device or, if (MiID, ID) exists, updates its
	// name, model, OS and LastSeen (leaving its settings alone).
	UpsertDevice(ctx context.Context, d *Device) error
	// Device reads one device of an account.
	Device(ctx context.Context, miID, id string) (*Device, error)
	// Devices lists an account's devices, oldest first.
	Devices(ctx context.Context, miID string) ([]Device, error)
	// PatchDevice sets the fields of p that are not nil.
	PatchDevice(ctx context.Context, miID, id string, p DevicePatch) error
	// DeleteDevice removes a device with its sessions and commands.
	DeleteDevice(ctx context.Context, miID, id string) error

	// CreateCommand inserts a command.
	CreateCommand(ctx context.Context, c *Command) error
	// Command reads one command of a device.
	Command(ctx context.Context, miID, deviceID, id string) (*Command, error)
	// Commands lists a device's commands in state ("" for all), oldest first.
	Commands(ctx context.Context, miID, deviceID, state string) ([]Command, error)
	// DeliverCommands atomically marks the device's pending commands delivered and returns them.
	DeliverCommands(ctx context.Context, miID, deviceID string, at time.Time) ([]Command, error)
	// UpdateCommand writes State, Result, Location and UpdatedAt of a
	// command still pending or delivered: of racing acknowledgements one
	// wins, the others are ErrStale.
	UpdateCommand(ctx context.Context, c *Command) error

	// SetUsage sets the bytes an account uses in a sync category.
	SetUsage(ctx context.Context, miID, category string, bytes int64) error
	// Usage returns the bytes used per category.
	Usage(ctx context.Context, miID string) (map[string]int64, error)

	// SetRecoveryCodes replaces an account's recovery codes (hashes, hex).
	SetRecoveryCodes(ctx context.Context, miID string, hashes []string) error
	// UseRecoveryCode atomically deletes the code stored as hash or as
	// legacy (an earlier scheme's hash, "" for none); false when there was none.
	UseRecoveryCode(ctx context.Context, miID, hash, legacy string) (bool, error)
	// UseTOTPStep atomically records that step was used; false when step is
	// not newer than the last used step (a replay).
	UseTOTPStep(ctx context.Context, miID string, step int64) (bool, error)

	// CreateHandoff inserts a hand-off; ErrConflict when its id or link hash is taken.
	CreateHandoff(ctx context.Context, h *Handoff) error
	// Handoff reads a hand-off by the hash of its id.
	Handoff(ctx context.Context, idHash string) (*Handoff, error)
	// HandoffByLink reads a hand-off by the hash of its link.
	HandoffByLink(ctx context.Context, linkHash string) (*Handoff, error)
	// ClaimHandoff atomically claims a hand-off expiring after at for one
	// submission of its link, under ref until until: one that is open, or
	// claimed with a claim ended by at. Exactly one of several racing calls
	// returns true.
	ClaimHandoff(ctx context.Context, linkHash, ref string, at, until time.Time) (bool, error)
	// ReleaseHandoff makes a hand-off claimed under ref open again;
	// ErrStale when it is no longer claimed under ref.
	ReleaseHandoff(ctx context.Context, linkHash, ref string) error
	// FinishHandoff moves a hand-off claimed under ref to done with res,
	// its collection ending at expiresAt; ErrStale when it is no longer
	// claimed under ref.
	FinishHandoff(ctx context.Context, linkHash, ref string, res HandoffResult, at, expiresAt time.Time) error
	// CollectHandoff atomically moves a done hand-off expiring after at to
	// collected. Exactly one of several racing calls returns true.
	CollectHandoff(ctx context.Context, idHash string, at time.Time) (bool, error)
	// PurgeHandoffs deletes the hand-offs that expired before before, and
	// says how many.
	PurgeHandoffs(ctx context.Context, before time.Time) (int64, error)

	// PutItem creates or changes a Mi Cloud item under a version condition,
	// taking the account's next change number and checking its quota, in
	// one transaction; a *VersionConflict, *QuotaExceeded, ErrNoBlob or
	// ErrNotFound refuses it.
	PutItem(ctx context.Context, w *ItemWrite) (*CloudItem, error)
	// WriteItems makes writes of small items of one account (deletions
	// included) in one transaction, each under its own condition and the
	// quota, and says what became of each.
	WriteItems(ctx context.Context, ws []ItemWrite) ([]ItemOutcome, error)
	// DeleteItem turns an item at ifVersion into a tombstone.
	DeleteItem(ctx context.Context, miID, category, id string, ifVersion int64, deviceID string, at time.Time) (*CloudItem, error)
	// Item reads one item (a tombstone included).
	Item(ctx context.Context, miID, category, id string) (*CloudItem, error)
	// ItemChanges lists a category's items changed after a change number,
	// in order, at most limit and about maxBytes (with their data when
	// withData); more says whether others follow.
	ItemChanges(ctx context.Context, miID, category string, after int64, limit int, maxBytes int64, withData bool) (items []CloudItem, more bool, err error)
	// Blob reads a live blob of an account.
	Blob(ctx context.Context, miID, sha256 string) (*CloudBlob, error)
	// CloudPending returns the bytes of open uploads and of blobs no item names.
	CloudPending(ctx context.Context, miID string, at time.Time) (int64, error)
	// StartUpload records an upload, or returns the open one of the same
	// blob; ErrBlobExists or a *QuotaExceeded refuses it.
	StartUpload(ctx context.Context, u *Upload, defaultQuota int64) (*Upload, error)
	// Upload reads an open upload of an account.
	Upload(ctx context.Context, miID, id string, at time.Time) (*Upload, error)
	// AddUploadPart records a part at the upload's received offset, or
	// refuses it with an *UploadConflict.
	AddUploadPart(ctx context.Context, miID, id string, p UploadPart, at, until time.Time) (*Upload, error)
	// UploadParts lists an upload's parts in order.
	UploadParts(ctx context.Context, id string) ([]UploadPart, error)
	// FinishUpload turns a whole upload into a blob of the account.
	FinishUpload(ctx context.Context, miID, id string, at time.Time) (*CloudBlob, error)
	// DeleteUpload removes an upload and its parts' records.
	DeleteUpload(ctx context.Context, miID, id string) error
	// PurgeUploads removes an account's ended uploads and returns their ids.
	PurgeUploads(ctx context.Context, miID string, at time.Time) ([]string, error)
	// ReleaseBlobs marks deleting the blobs no item has named since before.
	ReleaseBlobs(ctx context.Context, miID string, before time.Time) ([]string, error)
	// ForgetBlobs removes the records of blobs marked deleting.
	ForgetBlobs(ctx context.Context, miID string, shas []string) error
	// DeleteAccount removes an account and all that is of it but the audit log.
	DeleteAccount(ctx context.Context, miID string) error

	// Audit appends a security event.
	Audit(ctx context.Context, e *AuditEvent) error
	// AuditEvents lists the newest events of an account ("" for all), newest first.
	AuditEvents(ctx context.Context, miID string, limit int) ([]AuditEvent, error)
}
