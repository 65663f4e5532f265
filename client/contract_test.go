package client_test

// The contract test: the client against the real service (server.New on a
// temporary SQLite store), over loopback HTTP and in-process. A test may
// import server; the client package itself never does.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/server"
	"misetup/server/courier"
	"misetup/server/store"
)

// captureCourier hands every message the service sends to the test.
type captureCourier struct {
	msgs chan courier.Message
}

// Send implements courier.Courier.
func (c captureCourier) Send(ctx context.Context, m courier.Message) error {
	select {
	case c.msgs <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newService starts the real service on a fresh SQLite store and returns it
// with the messages it sends.
func newService(t *testing.T) (*server.Server, <-chan courier.Message) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "misetup.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	cc := captureCourier{msgs: make(chan courier.Message, 16)}
	cfg := server.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.Keys, err = server.RandomKeys(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(st, cc, cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return srv, cc.msgs
}

// receive waits for the next message the service sends.
func receive(t *testing.T, msgs <-chan courier.Message) courier.Message {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(watchdog):
		t.Fatalf("no message sent within %v", watchdog)
		return courier.Message{}
	}
}

var codeRe = regexp.MustCompile(`\b\d{6}\b`)

func TestContractRegistration(t *testing.T) {
	tests := []struct {
		name   string
		client func(t *testing.T, h http.Handler) *client.Client
	}{
		{"loopback", func(t *testing.T, h http.Handler) *client.Client {
			hs := httptest.NewServer(h)
			t.Cleanup(hs.Close)
			return client.New(hs.URL)
		}},
		{"in-process", func(t *testing.T, h http.Handler) *client.Client {
			return client.New("", client.WithHandler(h))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, msgs := newService(t)
			c := tt.client(t, srv)
			registerVerifySignInSync(t, c, msgs)
		})
	}
}

// registerVerifySignInSync walks the guide's first run: create an account
// with the code from the message, sign in on a device, save its sync
// settings, list devices, sign out.
func registerVerifySignInSync(t *testing.T, c *client.Client, msgs <-chan courier.Message) {
	ctx := context.Background()
	const email, password = "ana@example.com", "Blue-Kettle-42"

	st, err := c.Status(ctx)
	if err != nil || st.Version == "" || st.ServerTime.IsZero() {
		t.Fatalf("Status = %+v, %v", st, err)
	}

	ch, err := c.Register(ctx, api.RegistrationRequest{Method: api.MethodEmail, Identifier: email, Password: password, Language: "en"})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if ch.ID == "" || ch.Purpose != api.PurposeRegistration || ch.Channel != api.ChannelEmail ||
		ch.State != api.ChallengePending || strings.Contains(ch.Destination, "ana@") {
		t.Fatalf("challenge = %+v, want a pending registration by email with a masked destination", ch)
	}

	m := receive(t, msgs)
	code := codeRe.FindString(m.Body)
	if m.To != email || code == "" {
		t.Fatalf("message to %q with body %q, want a 6-digit code to %s", m.To, m.Body, email)
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = c.Verify(ctx, ch.ID, api.VerifyRequest{Code: wrong})
	var e *api.Error
	if !errors.As(err, &e) || !errors.Is(err, api.ErrInvalidCode) || e.Status != http.StatusBadRequest ||
		e.Attempts() != ch.AttemptsLeft-1 {
		t.Fatalf("Verify with a wrong code: %+v, want invalid_code, 400, %d attempts left", err, ch.AttemptsLeft-1)
	}

	v, err := c.Verify(ctx, ch.ID, api.VerifyRequest{Code: code})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.Account.MiID == "" || v.Account.Email != email {
		t.Fatalf("verified account = %+v, want a Mi ID and %s", v.Account, email)
	}
	if v.Session != nil || c.Token() != "" {
		t.Fatalf("a verify without a device signed in: session %+v, token %q", v.Session, c.Token())
	}
	if got, err := c.Challenge(ctx, ch.ID); err != nil || got.State != api.ChallengeVerified {
		t.Fatalf("Challenge after verify = %+v, %v; want verified", got, err)
	}

	_, err = c.SignIn(ctx, api.SessionRequest{Identifier: email, Password: "Wrong-Kettle-42", Device: api.Device{ID: "phone-1"}})
	if !errors.As(err, &e) || !errors.Is(err, api.ErrInvalidCredentials) || e.Status != http.StatusUnauthorized {
		t.Fatalf("SignIn with a wrong password: %v, want invalid_credentials, 401", err)
	}

	dev := api.Device{ID: "phone-1", Name: "Ana's phone", Model: "Redmi Note 13", OS: "HyperOS 2"}
	s, err := c.SignIn(ctx, api.SessionRequest{Identifier: email, Password: password, Device: dev})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if s.Token == "" || c.Token() != s.Token || s.Account.MiID != v.Account.MiID || s.Device.ID != dev.ID {
		t.Fatalf("session = %+v, client token %q", s, c.Token())
	}

	want := api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: []string{"contacts", "gallery", "notes"}}
	saved, err := c.SetSync(ctx, dev.ID, want)
	if err != nil {
		t.Fatalf("SetSync: %v", err)
	}
	read, err := c.Sync(ctx, dev.ID)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	for _, got := range []api.SyncSettings{saved, read} {
		got.UpdatedAt = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sync settings = %+v, want %+v", got, want)
		}
	}

	devices, err := c.Devices(ctx)
	if err != nil {
		t.Fatalf("Devices: %v", err)
	}
	if len(devices) != 1 || devices[0].ID != dev.ID || devices[0].Name != dev.Name || !devices[0].Current {
		t.Fatalf("devices = %+v, want only the current %s", devices, dev.ID)
	}

	if _, err := c.Sync(ctx, "someone-elses-phone"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("Sync of an unknown device: %v, want not_found", err)
	}

	if err := c.SignOut(ctx); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if c.Token() != "" {
		t.Fatalf("token after sign-out: %q", c.Token())
	}
	// The service revoked the session too: the old token no longer works.
	c.SetToken(s.Token)
	if _, err := c.Devices(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("Devices with the signed-out token: %v, want unauthorized", err)
	}
}
