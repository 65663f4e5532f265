package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"misetup/api"
	"misetup/internal/testutil"
	"misetup/server/courier"
	"misetup/server/policy"
	"misetup/server/store"
	"misetup/server/store/storetest"
)

// cheapArgon2 keeps tests fast; TestDefaultArgon2Stored checks the defaults.
var cheapArgon2 = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testKeys are fixed server keys for tests.
func testKeys() Keys {
	return Keys{
		HMAC: bytes.Repeat([]byte("k"), 32),
		TOTP: []policy.Key{{ID: "t1", Secret: bytes.Repeat([]byte("t"), 32)}},
	}
}

// testPassword passes the default password rules.
const testPassword = "Blue-Kettle-42"

// memCourier records messages; fail makes Send fail, gate makes it wait.
type memCourier struct {
	mu   sync.Mutex
	msgs []courier.Message
	fail error
	gate chan struct{}
}

func (c *memCourier) Send(ctx context.Context, m courier.Message) error {
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.msgs = append(c.msgs, m)
	return nil
}

func (c *memCourier) messages() []courier.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]courier.Message(nil), c.msgs...)
}

// env is a server on a real SQLite store behind httptest.
type env struct {
	t       testing.TB
	srv     *Server
	hs      *httptest.Server
	st      store.Store
	clock   *testutil.Clock
	courier *memCourier
}

// newEnv starts a server with cheap argon2 and a fixed clock; mods change
// the config.
func newEnv(t testing.TB, mods ...func(*Config)) *env {
	t.Helper()
	return newEnvOn(t, "sqlite", mods...)
}

// newEnvOn is newEnv on a store of kind "sqlite" (a temporary file) or
// "postgres" (a fresh schema of MISETUP_TEST_POSTGRES; skipped without it).
func newEnvOn(t testing.TB, kind string, mods ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	switch kind {
	case "sqlite":
		st, err = store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "misetup.db"))
	case "postgres":
		st, err = store.OpenPostgres(ctx, storetest.FreshSchema(t, storetest.PostgresDSN(t)))
	default:
		t.Fatalf("no store kind %q", kind)
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	clk := testutil.New(time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC))
	cfg := DefaultConfig()
	cfg.Argon2 = cheapArgon2
	cfg.Now = clk.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Keys = testKeys()
	for _, m := range mods {
		m(&cfg)
	}
	mc := &memCourier{}
	srv, err := New(st, mc, cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{t: t, srv: srv, hs: hs, st: st, clock: clk, courier: mc}
}

// resp is an answer as the test reads it.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; body is a string (sent as is), nil (none) or a value
// to marshal. hdr are name, value pairs.
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.hs.URL+path, rd)
	if err != nil {
		e.t.Fatalf("request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := e.hs.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read answer: %v", err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: raw}
}

// auth is the header pair of a bearer token.
func auth(token string) []string { return []string{"Authorization", "Bearer " + token} }

// into decodes the answer into v, failing the test on a status other than want.
func (r resp) into(t testing.TB, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiErr decodes an error answer and checks its status and code.
func (r resp) apiErr(t testing.TB, status int, code string) *api.Error {
	t.Helper()
	var b api.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error == nil {
		t.Fatalf("status %d, body %q is not an error object (%v)", r.status, r.body, err)
	}
	if r.status != status || b.Error.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", r.status, b.Error.Code, b.Error.Message, status, code)
	}
	return b.Error
}

// settle waits for deliveries in flight, so the courier and the store show
// their outcome.
func (e *env) settle() { e.srv.deliveries.Wait() }

var codeRe = regexp.MustCompile(`\b\d{6}\b`)

// lastMessageTo returns the newest message to a destination.
func (e *env) lastMessageTo(to string) courier.Message {
	e.t.Helper()
	e.settle()
	msgs := e.courier.messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to {
			return msgs[i]
		}
	}
	e.t.Fatalf("no message to %s among %d", to, len(msgs))
	return courier.Message{}
}

// codeFor returns the code in the newest message to a destination.
func (e *env) codeFor(to string) string {
	e.t.Helper()
	m := e.lastMessageTo(to)
	code := codeRe.FindString(m.Body)
	if code == "" {
		e.t.Fatalf("no code in %q", m.Body)
	}
	return code
}

// wrongCode is a code that differs from code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// register starts a registration by email and returns the challenge.
func (e *env) register(email, password string, hdr ...string) api.Challenge {
	e.t.Helper()
	var c api.Challenge
	e.do("POST", "/v1/registrations", api.RegistrationRequest{Method: "email", Identifier: email, Password: password}, hdr...).
		into(e.t, http.StatusAccepted, &c)
	return c
}

// signUp registers email and signs in on deviceID; it returns the session.
func (e *env) signUp(email, deviceID string) api.Session {
	e.t.Helper()
	c := e.register(email, testPassword)
	var out api.VerifyResponse
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{
		Code:   e.codeFor(email),
		Device: &api.Device{ID: deviceID, Name: "Phone of " + email},
	}).into(e.t, http.StatusOK, &out)
	if out.Session == nil || out.Session.Token == "" {
		e.t.Fatalf("verify with a device answered no session: %+v", out)
	}
	return *out.Session
}

// signIn posts a sign-in and returns the raw answer.
func (e *env) signIn(identifier, password, deviceID string, hdr ...string) resp {
	e.t.Helper()
	return e.do("POST", "/v1/sessions", api.SessionRequest{
		Identifier: identifier, Password: password, Device: api.Device{ID: deviceID, Name: deviceID},
	}, hdr...)
}

// session signs in and returns the session, failing on anything but 201.
func (e *env) session(identifier, password, deviceID string, hdr ...string) api.Session {
	e.t.Helper()
	var s api.Session
	e.signIn(identifier, password, deviceID, hdr...).into(e.t, http.StatusCreated, &s)
	return s
}

// audits returns the audit events of the whole store, newest first.
func (e *env) audits() []store.AuditEvent {
	e.t.Helper()
	evs, err := e.st.AuditEvents(context.Background(), "", 1000)
	if err != nil {
		e.t.Fatalf("audit events: %v", err)
	}
	return evs
}

// hasAudit reports whether an event of that name was logged for miID.
func (e *env) hasAudit(miID, event string) bool {
	for _, ev := range e.audits() {
		if ev.Event == event && (miID == "" || ev.MiID == miID) {
			return true
		}
	}
	return false
}
