// Package server is the misetup account service: the HTTP handlers of the
// account API (v1) and the rules behind them (verification codes, sign-in
// lockout, sessions, two-factor sign-in, devices and their commands). It
// keeps its data in a store.Store and sends codes through a courier.Courier.
//
// A Server is an http.Handler, so it runs in-process (the wizard's embedded
// default) as well as behind ListenAndServe. API.md beside this file shows
// every endpoint with an example.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"misetup/api"
	"misetup/server/bucket"
	"misetup/server/courier"
	"misetup/server/policy"
	"misetup/server/store"
)

// Config holds every number the rules use. DefaultConfig gives the defaults
// of DESIGN.md; change fields of it rather than building one from scratch.
type Config struct {
	// Version is reported by GET /v1/status.
	Version string
	// MinClientVersion is the lowest X-Misetup-Client version served ("" for
	// no minimum); older clients get 426 client_too_old.
	MinClientVersion string
	// LatestClientVersion is reported by GET /v1/status.
	LatestClientVersion string
	// DefaultRegion is the country of phone numbers written without a
	// country code when a request names no region (ISO 3166 alpha-2).
	DefaultRegion string

	// Password is the password policy.
	Password policy.PasswordRules
	// Argon2 are the parameters of new password hashes.
	Argon2 policy.Argon2Params
	// MaxConcurrentHashes bounds how many argon2 hashes run at once (each
	// takes Argon2.Memory KiB); further requests wait their turn.
	MaxConcurrentHashes int

	// CodeDigits is the length of verification codes.
	CodeDigits int
	// CodeTTL is how long a code is valid.
	CodeTTL time.Duration
	// CodeAttempts is how many wrong codes a challenge takes before it dies.
	CodeAttempts int
	// ResendCooldown is how long after a send a resend is refused.
	ResendCooldown time.Duration
	// SendsPerWindow codes at most go to one destination within SendWindow.
	SendsPerWindow int
	// SendWindow is the window of SendsPerWindow.
	SendWindow time.Duration
	// Keys are the server's secrets: they key the hashes of codes and
	// encrypt TOTP secrets. Required: every process of one service must use
	// the same, and keep them across restarts, or codes already sent stop
	// working.
	Keys Keys
	// DeliveryTimeout bounds one courier send.
	DeliveryTimeout time.Duration

	// SignInFailures failures of one identifier within FailureWindow lock
	// it for LockDuration.
	SignInFailures int
	// FailureWindow is the window of SignInFailures.
	FailureWindow time.Duration
	// LockDuration is how long a lock lasts.
	LockDuration time.Duration
	// AddressFailures failed sign-ins from one client address within
	// AddressWindow refuse further sign-ins from it (a ceiling against floods
	// only: a store's kiosks share one address).
	AddressFailures int
	// AddressWindow is the window of AddressFailures.
	AddressWindow time.Duration

	// SessionTTL is the life of a session on a personal device.
	SessionTTL time.Duration
	// KioskIdle ends a kiosk session (X-Misetup-Kiosk set) this long after
	// its last use.
	KioskIdle time.Duration
	// KioskSessionTTL is the absolute life of a kiosk session.
	KioskSessionTTL time.Duration

	// TOTPIssuer names the product in authenticator apps.
	TOTPIssuer string
	// TOTPSkew is how many 30-second steps of clock drift are accepted
	// either side.
	TOTPSkew uint
	// RecoveryCodes is how many one-time recovery codes 2FA hands out.
	RecoveryCodes int

	// DefaultQuotaBytes is the Mi Cloud quota of a new account.
	DefaultQuotaBytes int64
	// MaxBodyBytes is the largest request body accepted (413 above), but
	// for an item's PUT (MaxItemBytes of data in base64) and an upload's
	// chunk (MaxChunkBytes).
	MaxBodyBytes int64

	// BlobURL is the bucket Mi Cloud's blobs (photos, recordings) are kept
	// in (package bucket): file:///a/folder (see bucket.FolderURL),
	// s3://bucket?region=...&endpoint=... (S3, MinIO: what several serve
	// processes share; a build with -tags s3), or mem:// (kept in memory,
	// gone when the process ends). "" is mem://: set it for anything but
	// tests.
	BlobURL string
	// MaxItemBytes is the most data an item of a small category (contacts,
	// messages, notes, calendar, call history, browser) carries.
	MaxItemBytes int64
	// MaxBlobBytes is the largest blob an upload may announce.
	MaxBlobBytes int64
	// MaxChunkBytes is the largest chunk one PATCH of an upload sends.
	MaxChunkBytes int64
	// UploadTTL is how long an upload stays open after its last chunk.
	UploadTTL time.Duration
	// BlobGrace is how long a blob no item names is kept (an upload's
	// blob waiting for its item, one an item stopped naming) before it is
	// deleted; meanwhile it counts against new uploads.
	BlobGrace time.Duration
	// BlobTimeout bounds reading one chunk of an upload and writing one
	// download (instead of ReadTimeout and WriteTimeout).
	BlobTimeout time.Duration

	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are those
	// of the http.Server of ListenAndServe: slow clients time out.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown of ListenAndServe.
	ShutdownTimeout time.Duration

	// CommandWaitMax is the longest wait a device may ask for when it
	// long-polls its commands (wait=N seconds).
	CommandWaitMax time.Duration
	// CommandPollEvery is how often a long poll looks at the store for a
	// command queued by another process on it (commands queued in this
	// process wake it at once); a kiosk's long poll of its hand-off too.
	CommandPollEvery time.Duration

	// PublicURL is the service's public base URL, the one a customer's
	// phone reaches it at (https://store.example.com; a trailing slash is
	// dropped). Hand-off links are PublicURL/h/TOKEN. "" when none is
	// configured: then there are no hand-offs (404 handoff_unavailable).
	PublicURL string
	// HandoffTTL is how long a hand-off's link stays usable, and how long
	// the kiosk has to collect a done one.
	HandoffTTL time.Duration
	// HandoffClaim is how long one submission of a hand-off's link holds
	// it: a process that dies meanwhile does not hold it for longer.
	HandoffClaim time.Duration
	// HandoffsPerAddress hand-offs at most are made for one client address
	// within an hour (a ceiling against floods only: a store's kiosks share
	// one address).
	HandoffsPerAddress int

	// TLSCert and TLSKey are PEM files: when both are set, ListenAndServe
	// and Serve answer HTTPS instead of HTTP.
	TLSCert, TLSKey string

	// Now is the clock; time.Now when nil. Tests move it.
	Now func() time.Time
	// Logger receives what the server cannot tell a client (store and
	// courier failures); slog.Default() when nil.
	Logger *slog.Logger

	// MaxConns bounds the connections ListenAndServe keeps open in all,
	// and MaxConnsPerAddr those of one client address (a store's kiosks
	// share one, so it is generous). At a bound, the connection idle the
	// longest is closed to make room; with none idle the new one is
	// answered 503 and closed.
	MaxConns, MaxConnsPerAddr int

	// Metrics counts requests, sign-ins and codes (see metrics.go); New
	// makes a set of its own when nil.
	Metrics *Metrics
}

// Keys are the server's secrets at rest.
type Keys struct {
	// HMAC keys the hashes of verification codes and recovery codes, and
	// what a password reset for no account answers. 32 bytes or more.
	HMAC []byte
	// TOTP encrypts TOTP secrets (AES-256-GCM). The first seals new
	// secrets; every one opens what it sealed, found by its id, so a new
	// key goes first and the old ones stay until nothing uses them.
	TOTP []policy.Key
}

// check says what is wrong with k, or nil.
func (k Keys) check() error {
	if len(k.HMAC) < 32 {
		return fmt.Errorf("server keys: the HMAC key has %d bytes, want at least 32", len(k.HMAC))
	}
	if len(k.TOTP) == 0 {
		return errors.New("server keys: no TOTP key")
	}
	seen := map[string]bool{}
	for _, tk := range k.TOTP {
		if err := policy.CheckKey(tk); err != nil {
			return fmt.Errorf("server keys: TOTP %w", err)
		}
		if seen[tk.ID] {
			return fmt.Errorf("server keys: two TOTP keys have the id %q", tk.ID)
		}
		seen[tk.ID] = true
	}
	return nil
}

// DefaultConfig returns the defaults of DESIGN.md's Rules.
func DefaultConfig() Config {
	return Config{
		Version:             api.Version,
		MinClientVersion:    "1.0.0",
		LatestClientVersion: api.Version,
		DefaultRegion:       "CN",

		Password:            policy.DefaultPasswordRules(),
		Argon2:              policy.DefaultArgon2(),
		MaxConcurrentHashes: max(2, runtime.NumCPU()),

		CodeDigits:      6,
		CodeTTL:         10 * time.Minute,
		CodeAttempts:    5,
		ResendCooldown:  60 * time.Second,
		SendsPerWindow:  5,
		SendWindow:      time.Hour,
		DeliveryTimeout: 30 * time.Second,

		SignInFailures:  5,
		FailureWindow:   15 * time.Minute,
		LockDuration:    15 * time.Minute,
		AddressFailures: 1000,
		AddressWindow:   time.Hour,

		SessionTTL:      30 * 24 * time.Hour,
		KioskIdle:       15 * time.Minute,
		KioskSessionTTL: 12 * time.Hour,

		TOTPIssuer:    "Mi Account",
		TOTPSkew:      1,
		RecoveryCodes: 10,

		DefaultQuotaBytes: 5 << 30,
		MaxBodyBytes:      64 << 10,
		MaxItemBytes:      256 << 10,
		MaxBlobBytes:      4 << 30,
		MaxChunkBytes:     64 << 20,
		UploadTTL:         24 * time.Hour,
		BlobGrace:         24 * time.Hour,
		BlobTimeout:       10 * time.Minute,

		ReadHeaderTimeout:  10 * time.Second,
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       30 * time.Second,
		IdleTimeout:        2 * time.Minute,
		ShutdownTimeout:    10 * time.Second,
		CommandWaitMax:     30 * time.Second,
		CommandPollEvery:   time.Second,
		HandoffTTL:         5 * time.Minute,
		HandoffClaim:       time.Minute,
		HandoffsPerAddress: 1000,
		MaxConns:           4096,
		MaxConnsPerAddr:    512,
	}
}

// validate refuses a config whose numbers cannot work.
func (c *Config) validate() error {
	var bad []string
	need := func(name string, ok bool) {
		if !ok {
			bad = append(bad, name)
		}
	}
	need("CodeDigits (4 to 10)", c.CodeDigits >= 4 && c.CodeDigits <= 10)
	need("CodeTTL", c.CodeTTL > 0)
	need("CodeAttempts", c.CodeAttempts > 0)
	need("ResendCooldown", c.ResendCooldown >= 0)
	need("SendsPerWindow", c.SendsPerWindow > 0)
	need("SendWindow", c.SendWindow > 0)
	need("DeliveryTimeout", c.DeliveryTimeout > 0)
	need("SignInFailures", c.SignInFailures > 0)
	need("FailureWindow", c.FailureWindow > 0)
	need("LockDuration", c.LockDuration > 0)
	need("AddressFailures", c.AddressFailures > 0)
	need("AddressWindow", c.AddressWindow > 0)
	need("SessionTTL", c.SessionTTL > 0)
	need("KioskIdle", c.KioskIdle > 0)
	need("KioskSessionTTL", c.KioskSessionTTL > 0)
	need("TOTPIssuer", c.TOTPIssuer != "")
	need("RecoveryCodes", c.RecoveryCodes > 0)
	need("DefaultQuotaBytes", c.DefaultQuotaBytes >= 0)
	need("MaxBodyBytes", c.MaxBodyBytes > 0)
	need("MaxItemBytes", c.MaxItemBytes > 0)
	need("MaxBlobBytes", c.MaxBlobBytes >= 0)
	need("MaxChunkBytes", c.MaxChunkBytes > 0)
	need("UploadTTL", c.UploadTTL > 0)
	need("BlobGrace", c.BlobGrace > 0)
	need("BlobTimeout", c.BlobTimeout > 0)
	need("MaxConcurrentHashes", c.MaxConcurrentHashes > 0)
	need("MaxConns", c.MaxConns > 0)
	need("MaxConnsPerAddr", c.MaxConnsPerAddr > 0)
	need("CommandWaitMax (1s or more)", c.CommandWaitMax >= time.Second)
	need("CommandPollEvery", c.CommandPollEvery > 0)
	need("HandoffTTL", c.HandoffTTL > 0)
	need("HandoffClaim", c.HandoffClaim > 0)
	need("HandoffsPerAddress", c.HandoffsPerAddress > 0)
	need("PublicURL (an http or https URL with a host, no query or fragment)", checkPublicURL(c.PublicURL))
	need("Password.MinLen/MaxLen", c.Password.MinLen > 0 && c.Password.MaxLen >= c.Password.MinLen)
	need("Argon2", c.Argon2.Memory > 0 && c.Argon2.Time > 0 && c.Argon2.Threads > 0 && c.Argon2.SaltLen >= 8 && c.Argon2.KeyLen >= 16)
	if c.MinClientVersion != "" {
		_, ok := parseVersion(c.MinClientVersion)
		need("MinClientVersion", ok)
	}
	if len(bad) > 0 {
		return fmt.Errorf("server config: invalid %s", strings.Join(bad, ", "))
	}
	return c.Keys.check()
}

// checkPublicURL reports whether v is "" or an absolute http or https URL
// with a host and no query, fragment or user.
func checkPublicURL(v string) bool {
	if v == "" {
		return true
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}

// Server is the account service. Create it with New; it is safe for
// concurrent use.
type Server struct {
	st      store.Store
	courier courier.Courier
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	// bucket keeps Mi Cloud's blobs and uploads' parts (Config.BlobURL).
	bucket bucket.Bucket

	// dummyHash is verified against for unknown identifiers, so that a
	// sign-in for no account costs what one for an account does. It is
	// made when the first password is to be checked, not at start (an
	// argon2 hash is slow, and a starting server should answer at once);
	// dummyReady is closed then, and every check waits for it, so that the
	// first sign-in after a start costs the same with or without an account.
	dummyHash   string
	dummySecret string
	dummyOnce   sync.Once
	dummyReady  chan struct{}
	// hashSlots bounds concurrent argon2 work (see MaxConcurrentHashes).
	hashSlots chan struct{}

	// commandBells wakes long polls for a device's commands, and
	// handoffBells those for a hand-off; quit, closed by Close or when
	// ListenAndServe shuts down, ends them.
	commandBells bells
	handoffBells bells
	quit         chan struct{}
	quitOnce     sync.Once

	mu         sync.Mutex // guards closed and the Add of deliveries
	closed     bool
	deliveries sync.WaitGroup
}

// New returns a Server on st that sends codes with c, keeping Mi Cloud's
// blobs in the bucket of cfg.BlobURL, which it opens. It does not own st:
// the caller closes it after Close.
func New(st store.Store, c courier.Courier, cfg Config) (*Server, error) {
	if st == nil {
		return nil, errors.New("server: a store is required")
	}
	if c == nil {
		return nil, errors.New("server: a courier is required")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "CN"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	c = countingCourier{c: c, m: cfg.Metrics}
	cfg.Keys.HMAC = bytes.Clone(cfg.Keys.HMAC)
	cfg.Keys.TOTP = slices.Clone(cfg.Keys.TOTP)
	s := &Server{
		st:         st,
		courier:    c,
		cfg:        cfg,
		log:        cfg.Logger,
		hashSlots:  make(chan struct{}, cfg.MaxConcurrentHashes),
		dummyReady: make(chan struct{}),
		quit:       make(chan struct{}),
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("server: dummy password: %w", err)
	}
	s.dummySecret = fmt.Sprintf("%x", secret)
	b, err := bucket.Open(context.Background(), cfg.BlobURL)
	if err != nil {
		return nil, fmt.Errorf("server: Mi Cloud's blobs: %w", err)
	}
	s.bucket = b
	s.routes()
	return s, nil
}

// handler is an endpoint: it answers a status and a body to encode as JSON
// (nil for none), or an error (an *api.Error for the client, anything else
// becomes a 500).
type handler func(r *http.Request) (int, any, error)

// routes registers every endpoint of the API.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.handle("GET /v1/status", s.status)

	s.handle("POST /v1/registrations", s.register)
	s.handle("GET /v1/challenges/{id}", s.getChallenge)
	s.handle("POST /v1/challenges/{id}/resend", s.resendChallenge)
	s.handle("POST /v1/challenges/{id}/verify", s.verifyChallenge)

	s.handle("POST /v1/sessions", s.signIn)
	s.handle("DELETE /v1/sessions/current", s.authed(s.signOut))
	s.handle("POST /v1/password-resets", s.startPasswordReset)

	s.handle("GET /v1/account", s.authed(s.getAccount))
	s.handle("PATCH /v1/account", s.authed(s.patchAccount))
	s.handle("POST /v1/account/password", s.authed(s.changePassword))
	s.handle("PUT /v1/account/recovery", s.authed(s.setRecovery))
	s.handle("POST /v1/account/totp", s.authed(s.startTOTP))
	s.handle("POST /v1/account/totp/confirm", s.authed(s.confirmTOTP))
	s.handle("DELETE /v1/account/totp", s.authed(s.disableTOTP))

	s.handle("GET /v1/devices", s.authed(s.listDevices))
	s.handle("PATCH /v1/devices/{id}", s.authed(s.renameDevice))
	s.handle("DELETE /v1/devices/{id}", s.authed(s.removeDevice))
	s.handle("GET /v1/devices/{id}/sync", s.authed(s.getSync))
	s.handle("PUT /v1/devices/{id}/sync", s.authed(s.putSync))
	s.handle("GET /v1/devices/{id}/find-device", s.authed(s.getFindDevice))
	s.handle("PUT /v1/devices/{id}/find-device", s.authed(s.putFindDevice))
	s.handle("POST /v1/devices/{id}/commands", s.authed(s.sendCommand))
	s.handleLong("GET /v1/devices/{id}/commands", s.authed(s.listCommands))
	s.handle("GET /v1/devices/{id}/commands/{cid}", s.authed(s.getCommand))
	s.handle("POST /v1/devices/{id}/commands/{cid}/ack", s.authed(s.ackCommand))

	s.handle("GET /v1/storage", s.authed(s.storage))
	s.handle("DELETE /v1/account", s.authed(s.deleteAccount))

	for _, c := range api.Categories {
		base := "/v1/cloud/" + c
		s.handle("GET "+base+"/changes", s.authed(inCategory(c, s.itemChanges)))
		s.handle("GET "+base+"/items/{id...}", s.authed(inCategory(c, s.getItem)))
		s.handle("PUT "+base+"/items/{id...}", s.authed(inCategory(c, s.putItem)))
		s.handle("DELETE "+base+"/items/{id...}", s.authed(inCategory(c, s.deleteItem)))
		s.handle("POST "+base+"/batch", s.authed(inCategory(c, s.writeBatch)))
	}
	s.handle("POST /v1/cloud/uploads", s.authed(s.startUpload))
	s.handleRaw("GET /v1/cloud/uploads/{id}", s.getUpload) // and HEAD
	s.handleRaw(chunkPattern, s.uploadChunk)
	s.handle("DELETE /v1/cloud/uploads/{id}", s.authed(s.cancelUpload))
	s.handleRaw("GET /v1/cloud/blobs/{sha256}", s.downloadBlob)

	s.handle("POST /v1/handoffs", s.createHandoff)
	s.handleLong("GET /v1/handoffs/{id}", s.getHandoff)
	s.handle("GET /v1/handoffs/link/{token}", s.getHandoffLink)
	s.handle("POST /v1/handoffs/link/{token}", s.completeHandoff)
}

// handle registers h for pattern, answering its result as JSON.
func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, status, body)
	})
}

// handleLong is handle for an endpoint that may wait (the long poll): its
// request carries the ResponseWriter in its context, so that the handler
// can move the connection's deadlines.
func (s *Server) handleLong(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), responseWriterKey{}, w))
		status, body, err := h(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, status, body)
	})
}

// ServeHTTP implements http.Handler: the whole API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec, observe := s.cfg.Metrics.begin(w)
	defer observe(r)
	w = rec
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			buf := make([]byte, 4<<10)
			buf = buf[:runtime.Stack(buf, false)]
			s.writeError(w, r, fmt.Errorf("panic: %v\n%s", v, buf))
		}
	}()
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")

	if r.URL.Path != "/v1/status" {
		if err := s.checkClientVersion(r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	_, pattern := s.mux.Handler(r)
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.bodyLimit(pattern))
	}
	if p := r.URL.Path; p == "" || path.Clean(p) != p {
		s.writeError(w, r, errNotFound("path "+policy.Sanitize(p)))
		return
	}
	if pattern == "" {
		s.unrouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// chunkPattern is the route of an upload's chunks.
const chunkPattern = "PATCH /v1/cloud/uploads/{id}"

// bodyLimit is the largest body the route pattern takes: MaxBodyBytes,
// but for an item's PUT (its data in base64) and an upload's chunk.
func (s *Server) bodyLimit(pattern string) int64 {
	switch {
	case pattern == chunkPattern:
		return s.cfg.MaxChunkBytes
	case strings.HasPrefix(pattern, "PUT /v1/cloud/"):
		return itemBodyLimit(s.cfg.MaxItemBytes, s.cfg.MaxBodyBytes)
	case strings.HasPrefix(pattern, "POST /v1/cloud/") && strings.HasSuffix(pattern, "/batch"):
		return batchBodyLimit(s.batchData())
	}
	return s.cfg.MaxBodyBytes
}

// unrouted answers a request no pattern matches with the mux's status (404,
// or 405 with its Allow header) as a JSON error.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeError(w, r, &api.Error{
			Code:    api.CodeMethodNotAllowed,
			Message: fmt.Sprintf("%s is not allowed on %s; allowed: %s.", policy.Sanitize(r.Method), r.URL.Path, probe.header.Get("Allow")),
		})
		return
	}
	s.writeError(w, r, errNotFound("path "+policy.Sanitize(r.URL.Path)))
}

// statusProbe records the status and headers a fallback handler writes.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int)      { p.status = status }

// writeJSON answers status with body as JSON (no body when body is nil).
func writeJSON(w http.ResponseWriter, status int, body any) {
	if body == nil {
		w.Header().Del("Content-Type")
		w.WriteHeader(status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep & in otpauth URIs readable
	if err := enc.Encode(body); err != nil {
		// Our own answer types always encode; this is a bug, not bad input.
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error":{"code":"internal","message":"could not encode the answer"}}`)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ListenAndServe serves the API on addr until ctx is done, then shuts down
// gracefully: in-flight requests finish (up to ShutdownTimeout) and pending
// deliveries are waited for.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener the caller opened (tests listen on
// port 0). It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, s, s.cfg, s.log, s.stopWaiting, s.Close)
}

// stopWaiting ends the long polls in flight (they answer what they have:
// nothing) and makes new ones answer at once: a shutdown does not wait
// for them.
func (s *Server) stopWaiting() {
	s.quitOnce.Do(func() { close(s.quit) })
}

// serve serves h on ln with cfg's timeouts and connection bounds until ctx
// is done, then shuts down gracefully: onShutdown runs (long polls end),
// requests in flight finish (up to ShutdownTimeout), then closeFn runs
// (deliveries in flight) within the same time.
func serve(ctx context.Context, ln net.Listener, h http.Handler, cfg Config, log *slog.Logger, onShutdown func(), closeFn func(context.Context) error) error {
	lim := newConnLimiter(maxConns(cfg.MaxConns), cfg.MaxConnsPerAddr)
	hs := &http.Server{
		Handler:           h,
		ConnState:         lim.connState,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(onShutdown)
	served := make(chan error, 1)
	go func() {
		lln := &limitListener{Listener: ln, l: lim}
		if cfg.TLSCert != "" && cfg.TLSKey != "" {
			served <- hs.ServeTLS(lln, cfg.TLSCert, cfg.TLSKey)
			return
		}
		served <- hs.Serve(lln)
	}()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	shutErr := hs.Shutdown(sctx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		shutErr = errors.Join(shutErr, err)
	}
	if err := closeFn(sctx); err != nil {
		shutErr = errors.Join(shutErr, err)
	}
	if shutErr != nil {
		return fmt.Errorf("shut down: %w", shutErr)
	}
	return nil
}

// maxConns is n (MaxConns), lowered to three quarters of the process's limit
// of open files when that is lower: the store, the logs and the courier
// need descriptors too.
func maxConns(n int) int {
	if fds := fdLimit(); fds > 0 && fds*3/4 < n {
		n = max(1, fds*3/4)
	}
	return n
}

// Close waits for deliveries in flight (until ctx is done). Deliveries
// started after Close run before their request answers. It does not close
// the store: the caller owns it.
func (s *Server) Close(ctx context.Context) error {
	s.stopWaiting()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.deliveries.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for deliveries: %w", ctx.Err())
	}
}

// now is the server's clock.
func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// windowStart is the first instant of the window of length d that ends at
// now: an event exactly d old has left it (the store counts events at or
// after the instant it is given, to the microsecond). So a client told to
// retry after the oldest event leaves the window is served when it does.
func windowStart(now time.Time, d time.Duration) time.Time {
	return now.Add(-d + time.Microsecond)
}

// clientAddr is the client's IP address (without the port).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// kioskHeaders returns the kiosk and store ids a kiosk attached, sanitized.
func kioskHeaders(r *http.Request) (kiosk, storeID string) {
	return cleanHeader(r.Header.Get(api.HeaderKiosk)), cleanHeader(r.Header.Get(api.HeaderStore))
}

// cleanHeader sanitizes a header value and caps it at 64 bytes.
func cleanHeader(v string) string {
	v = strings.TrimSpace(policy.Sanitize(v))
	if len(v) > 64 {
		v = strings.ToValidUTF8(v[:64], "")
	}
	return v
}

// RandomKeys returns fresh random keys: for a service whose codes and TOTP
// secrets need not outlive the process (tests, a throw-away store).
func RandomKeys() (Keys, error) {
	k := Keys{HMAC: make([]byte, 32), TOTP: []policy.Key{{ID: "r1", Secret: make([]byte, 32)}}}
	if _, err := rand.Read(k.HMAC); err != nil {
		return Keys{}, fmt.Errorf("random keys: %w", err)
	}
	if _, err := rand.Read(k.TOTP[0].Secret); err != nil {
		return Keys{}, fmt.Errorf("random keys: %w", err)
	}
	return k, nil
}
