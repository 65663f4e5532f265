// Package api is the wire contract of the misetup account service (v1): the
// request and answer types, the error codes and the sentinel errors shared by
// the server and the client. Field names are a public contract: add to them,
// never rename.
package api

import "time"

// Version is the version of this build, reported by GET /v1/status and sent
// by clients in the User-Agent and X-Misetup-Client headers.
const Version = "1.0.0"

// Header names kiosks and clients attach to requests.
const (
	HeaderKiosk         = "X-Misetup-Kiosk"
	HeaderStore         = "X-Misetup-Store"
	HeaderClientVersion = "X-Misetup-Client"
)

// Methods of registration and channels of delivery.
const (
	MethodEmail = "email"
	MethodPhone = "phone"

	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Challenge purposes.
const (
	PurposeRegistration  = "registration"
	PurposePasswordReset = "password_reset"
	PurposeRecovery      = "recovery"
	PurposeSignIn        = "sign_in"
)

// Challenge states.
const (
	ChallengePending  = "pending"
	ChallengeVerified = "verified"
	ChallengeExpired  = "expired"
	ChallengeDead     = "dead"
)

// Delivery states.
const (
	DeliveryQueued = "queued"
	DeliverySent   = "sent"
	DeliveryFailed = "failed"
)

// Command types and states.
const (
	CommandLocate = "locate"
	CommandRing   = "ring"
	CommandLock   = "lock"
	CommandErase  = "erase"

	CommandPending   = "pending"
	CommandDelivered = "delivered"
	CommandDone      = "done"
	CommandFailed    = "failed"
)

// Sync categories, in the order the guide lists them.
var Categories = []string{"contacts", "messages", "gallery", "notes", "calendar", "call_history", "recorder", "browser"}

// Status is the answer of GET /v1/status.
type Status struct {
	ServerTime          time.Time `json:"server_time"`
	Version             string    `json:"version"`
	MinClientVersion    string    `json:"min_client_version"`
	LatestClientVersion string    `json:"latest_client_version"`
	// PublicURL is the service's public base URL (https://store.example.com),
	// the one a phone reaches it at; empty when none is configured, and then
	// there are no hand-offs.
	PublicURL string `json:"public_url,omitempty"`
}

// RegistrationRequest is the body of POST /v1/registrations.
type RegistrationRequest struct {
	Method     string `json:"method"` // email or phone
	Identifier string `json:"identifier"`
	Password   string `json:"password"`
	Region     string `json:"region,omitempty"`   // ISO 3166 alpha-2, the default country of a phone number
	Language   string `json:"language,omitempty"` // BCP 47, e.g. en or zh-CN
}

// Delivery is what the courier did with a challenge's code.
type Delivery struct {
	State string     `json:"state"` // queued, sent or failed
	At    *time.Time `json:"at,omitempty"`
	Error string     `json:"error,omitempty"`
}

// Challenge is a verification code sent to an email address or a phone.
type Challenge struct {
	ID           string    `json:"id"`
	Purpose      string    `json:"purpose"`
	Channel      string    `json:"channel"`     // email or sms
	Destination  string    `json:"destination"` // masked
	State        string    `json:"state"`
	Delivery     Delivery  `json:"delivery"`
	AttemptsLeft int       `json:"attempts_left"`
	ExpiresAt    time.Time `json:"expires_at"`
	ResendAfter  time.Time `json:"resend_after"`
	CreatedAt    time.Time `json:"created_at"`
}

// VerifyRequest is the body of POST /v1/challenges/{id}/verify.
type VerifyRequest struct {
	Code        string  `json:"code"`
	NewPassword string  `json:"new_password,omitempty"` // password_reset only
	Device      *Device `json:"device,omitempty"`       // links this device when the answer signs in
}

// VerifyResponse is the answer of a successful verify.
type VerifyResponse struct {
	Account Account  `json:"account"`
	Session *Session `json:"session,omitempty"`
}

// Device describes a device linked to an account.
type Device struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Model      string     `json:"model,omitempty"`
	OS         string     `json:"os,omitempty"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	FindDevice bool       `json:"find_device"`
	Current    bool       `json:"current"`
}

// SessionRequest is the body of POST /v1/sessions.
type SessionRequest struct {
	Identifier string `json:"identifier"` // email, phone or numeric Mi ID
	Password   string `json:"password"`
	Device     Device `json:"device"`
	TOTP       string `json:"totp,omitempty"` // a TOTP code or a recovery code
	Region     string `json:"region,omitempty"`
}

// Session is a signed-in session.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Account   Account   `json:"account"`
	Device    Device    `json:"device"`
}

// Account is the answer of GET /v1/account.
type Account struct {
	MiID          string    `json:"mi_id"`
	Email         string    `json:"email,omitempty"`
	Phone         string    `json:"phone,omitempty"`
	DisplayName   string    `json:"display_name,omitempty"`
	Region        string    `json:"region,omitempty"`
	Language      string    `json:"language,omitempty"`
	RecoveryEmail string    `json:"recovery_email,omitempty"` // masked
	RecoveryPhone string    `json:"recovery_phone,omitempty"` // masked
	TOTPEnabled   bool      `json:"totp_enabled"`
	CreatedAt     time.Time `json:"created_at"`
}

// AccountPatch is the body of PATCH /v1/account; nil fields are left alone.
type AccountPatch struct {
	DisplayName *string `json:"display_name,omitempty"`
	Region      *string `json:"region,omitempty"`
	Language    *string `json:"language,omitempty"`
}

// PasswordChanged is the answer of POST /v1/account/password.
type PasswordChanged struct {
	// OtherSessionsSignedOut is how many of the account's other sessions
	// the change signed out.
	OtherSessionsSignedOut int `json:"other_sessions_signed_out"`
}

// PasswordChange is the body of POST /v1/account/password.
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// PasswordResetRequest is the body of POST /v1/password-resets.
type PasswordResetRequest struct {
	Identifier string `json:"identifier"`
	Region     string `json:"region,omitempty"`
	// Via picks the recovery contact instead of the identifier itself:
	// "recovery_email" or "recovery_phone" (the guide's problem 4).
	Via string `json:"via,omitempty"`
}

// RecoveryRequest is the body of PUT /v1/account/recovery: one of the two.
type RecoveryRequest struct {
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Region string `json:"region,omitempty"`
}

// TOTPSetup is the answer of POST /v1/account/totp.
type TOTPSetup struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
}

// TOTPConfirm is the body of POST /v1/account/totp/confirm.
type TOTPConfirm struct {
	Code string `json:"code"`
}

// RecoveryCodes is the answer of POST /v1/account/totp/confirm.
type RecoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// PasswordConfirm is the body of requests that need the password again
// (DELETE /v1/account/totp, DELETE /v1/account).
type PasswordConfirm struct {
	Password string `json:"password"`
}

// DeviceList is the answer of GET /v1/devices.
type DeviceList struct {
	Devices []Device `json:"devices"`
}

// DevicePatch is the body of PATCH /v1/devices/{id}.
type DevicePatch struct {
	Name string `json:"name"`
}

// SyncSettings is the body and answer of GET/PUT /v1/devices/{id}/sync.
type SyncSettings struct {
	AutoSync   bool       `json:"auto_sync"`
	WifiOnly   bool       `json:"wifi_only"`
	Categories []string   `json:"categories"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
}

// Location is where a device last reported itself.
type Location struct {
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	AccuracyM  float64   `json:"accuracy_m,omitempty"`
	ReportedAt time.Time `json:"reported_at"`
}

// FindDevice is the body and answer of GET/PUT /v1/devices/{id}/find-device.
type FindDevice struct {
	Enabled      bool      `json:"enabled"`
	LastLocation *Location `json:"last_location,omitempty"`
}

// CommandRequest is the body of POST /v1/devices/{id}/commands.
type CommandRequest struct {
	Type     string `json:"type"` // locate, ring, lock, erase
	Message  string `json:"message,omitempty"`
	Password string `json:"password,omitempty"` // lock and erase
}

// Command is a remote command for a device.
type Command struct {
	ID        string     `json:"id"`
	DeviceID  string     `json:"device_id"`
	Type      string     `json:"type"`
	Message   string     `json:"message,omitempty"`
	State     string     `json:"state"`
	Result    string     `json:"result,omitempty"`
	Location  *Location  `json:"location,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// CommandList is the answer of GET /v1/devices/{id}/commands.
type CommandList struct {
	Commands []Command `json:"commands"`
}

// CommandAck is the body of POST /v1/devices/{id}/commands/{cid}/ack.
type CommandAck struct {
	State    string    `json:"state"` // done or failed
	Result   string    `json:"result,omitempty"`
	Location *Location `json:"location,omitempty"`
}

// Hand-off states. Expired is shown, never stored: an open or done
// hand-off past its expires_at reads as expired.
const (
	HandoffOpen      = "open"      // waiting for the phone
	HandoffClaimed   = "claimed"   // the phone is submitting right now
	HandoffDone      = "done"      // the phone has finished: the kiosk goes on
	HandoffCollected = "collected" // a sign-in's session went to the kiosk
	HandoffExpired   = "expired"
)

// HandoffRequest is the body of POST /v1/handoffs: a kiosk asks for a
// one-time link a customer opens on their own phone, to type the identifier
// and password there instead of on the shared kiosk.
type HandoffRequest struct {
	Purpose string `json:"purpose"` // registration or sign_in
	// Device is the kiosk's own device, which a sign-in's session is opened
	// on (required for sign_in; ignored for registration, whose code step
	// names its device when it verifies).
	Device   Device `json:"device"`
	Region   string `json:"region,omitempty"`   // of phone numbers typed without +; the default region when empty
	Language string `json:"language,omitempty"` // of the phone page and of a registration's messages
}

// Handoff is the answer of POST /v1/handoffs and GET /v1/handoffs/{id}.
type Handoff struct {
	// ID is the secret the kiosk polls with: only the kiosk knows it.
	ID string `json:"id"`
	// URL is the one-time link for the phone (show it as a QR code). Only
	// the answer of POST /v1/handoffs has it: the service keeps no copy.
	URL       string    `json:"url,omitempty"`
	Purpose   string    `json:"purpose"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
	// Challenge is a done registration's challenge: the kiosk goes on to
	// its code step with it.
	Challenge *Challenge `json:"challenge,omitempty"`
	// Session is a done sign-in's session on the kiosk's device, in the one
	// answer that collected it (state collected); never again.
	Session *Session `json:"session,omitempty"`
}

// HandoffLink is the answer of GET and POST /v1/handoffs/link/{token}: what
// the phone page needs to draw its form.
type HandoffLink struct {
	Purpose   string    `json:"purpose"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
	Region    string    `json:"region,omitempty"`
	Language  string    `json:"language,omitempty"`
}

// HandoffCompletion is the body of POST /v1/handoffs/link/{token}: what the
// customer typed on their phone.
type HandoffCompletion struct {
	Method     string `json:"method,omitempty"` // registration: email or phone
	Identifier string `json:"identifier"`
	Password   string `json:"password"`
	TOTP       string `json:"totp,omitempty"` // sign_in: a TOTP code or a recovery code
}

// Storage is the answer of GET /v1/storage.
type Storage struct {
	QuotaBytes int64            `json:"quota_bytes"`
	UsedBytes  int64            `json:"used_bytes"`
	ByCategory map[string]int64 `json:"by_category"`
	// PendingBytes are uploads in progress and blobs no item refers to
	// (kept a day): not used, but new uploads must fit beside them.
	PendingBytes int64 `json:"pending_bytes"`
}

// Mi Cloud item categories by kind: a small category's items carry their
// data inline (data, up to 256 KiB); a file category's items name a blob
// uploaded first (blob, size, content_type).
var (
	SmallCategories = []string{"contacts", "messages", "notes", "calendar", "call_history", "browser"}
	FileCategories  = []string{"gallery", "recorder"}
)

// Item is one item of a Mi Cloud sync category: a contact, a note, a photo.
// A deleted item stays as a tombstone (Deleted, no data) so that other
// devices learn of the deletion from the changes.
type Item struct {
	Category string `json:"category"`
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	// Data is a small item's content (base64 on the wire).
	Data []byte `json:"data,omitempty"`
	// Blob is a file item's content: the SHA-256 (hex) of a blob of the
	// account (GET /v1/cloud/blobs/{sha256}).
	Blob        string `json:"blob,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// Size is the bytes the item counts against the quota: its data's, or
	// its blob's; 0 for a tombstone.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of the data or of the blob.
	SHA256 string `json:"sha256,omitempty"`
	// Version grows by one with every change (deletion included): send it
	// as If-Match to change the item.
	Version int64 `json:"version"`
	// Change is the account's change number of the item's last change, the
	// cursor that follows it.
	Change    int64     `json:"change"`
	Deleted   bool      `json:"deleted"`
	DeviceID  string    `json:"device_id,omitempty"` // the device whose session made the last change
	UpdatedAt time.Time `json:"updated_at"`
}

// ItemWrite is the body of PUT /v1/cloud/{category}/items/{id}: data for a
// small category, or blob and size (and content_type) for a file category.
type ItemWrite struct {
	Name        string `json:"name,omitempty"`
	Data        []byte `json:"data,omitempty"`
	Blob        string `json:"blob,omitempty"`
	Size        int64  `json:"size,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// Batch is the body of POST /v1/cloud/{category}/batch: writes of small
// items (not gallery or recorder), at most MaxBatchWrites, made in one
// transaction, each under its own condition.
type Batch struct {
	Writes []BatchWrite `json:"writes"`
}

// MaxBatchWrites is the most writes a batch carries.
const MaxBatchWrites = 100

// BatchWrite is one write of a batch: the item id, the version it is
// based on (0: create it, as If-None-Match: *; N: change or delete the
// item at version N, as If-Match: N), and its new content, or delete.
type BatchWrite struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Delete  bool   `json:"delete,omitempty"`
	ItemWrite
}

// BatchResults is the answer of a batch: one result for each write, in
// their order.
type BatchResults struct {
	Results []BatchResult `json:"results"`
}

// BatchResult is what became of a write of a batch: its status (200 or
// 201, else the status the write alone would have had: 404, 409, 507) and
// the item as stored (without its data, which the client sent), or the
// error (a conflict's carries the item as it is, without its data).
type BatchResult struct {
	Status int    `json:"status"`
	Item   *Item  `json:"item,omitempty"`
	Error  *Error `json:"error,omitempty"`
}

// Changes is the answer of GET /v1/cloud/{category}/changes: the items
// changed after the cursor asked for, in the order of their changes.
type Changes struct {
	Items []Item `json:"items"`
	// Cursor is the cursor of the next request: the change of the last
	// item, or the one asked for when there is none.
	Cursor int64 `json:"cursor"`
	// More says whether more changes are waiting after Cursor.
	More bool `json:"more"`
}

// UploadRequest is the body of POST /v1/cloud/uploads.
type UploadRequest struct {
	SHA256 string `json:"sha256"` // hex, of the whole blob
	Size   int64  `json:"size"`
}

// Upload is a resumable upload of a blob (the answer of POST
// /v1/cloud/uploads). Complete means the account has the blob already (or
// now): there is nothing (more) to send.
type Upload struct {
	ID        string     `json:"id,omitempty"`
	SHA256    string     `json:"sha256"`
	Size      int64      `json:"size"`
	Offset    int64      `json:"offset"`
	Complete  bool       `json:"complete"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Headers of the upload and download endpoints.
const (
	HeaderUploadOffset = "Upload-Offset"
	HeaderUploadLength = "Upload-Length"
)
