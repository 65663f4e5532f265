package client_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/server"
	"misetup/server/courier"
	"misetup/server/store"
)

// newPublicService is newService with a public address, so that it offers
// hand-offs, served over loopback HTTP.
func newPublicService(t *testing.T, publicURL string) (string, <-chan courier.Message) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "misetup.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	cc := captureCourier{msgs: make(chan courier.Message, 16)}
	cfg := server.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.PublicURL = publicURL
	if cfg.Keys, err = server.RandomKeys(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(st, cc, cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return hs.URL, cc.msgs
}

// TestContractHandoff: a kiosk client creates a sign-in hand-off, a phone
// client completes it, the kiosk's long poll collects the session.
func TestContractHandoff(t *testing.T) {
	ctx := context.Background()
	const public = "https://store.example.com"
	base, messages := newPublicService(t, public)
	const email, password = "ana@example.com", "Blue-Kettle-42"

	// Ana's account, made from her phone.
	phone := client.New(base)
	ch, err := phone.Register(ctx, api.RegistrationRequest{Method: api.MethodEmail, Identifier: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	code := codeRe.FindString(receive(t, messages).Body)
	if _, err := phone.Verify(ctx, ch.ID, api.VerifyRequest{Code: code}); err != nil {
		t.Fatal(err)
	}

	kiosk := client.New(base, client.WithKiosk("kiosk-7", "store-1"))
	if st, err := kiosk.Status(ctx); err != nil || st.PublicURL != public {
		t.Fatalf("Status = %+v, %v; want public_url %s", st, err, public)
	}
	dev := api.Device{ID: "kiosk-7", Name: "Store kiosk"}
	h, err := kiosk.CreateHandoff(ctx, api.HandoffRequest{Purpose: api.PurposeSignIn, Device: dev})
	if err != nil {
		t.Fatalf("CreateHandoff: %v", err)
	}
	token, ok := strings.CutPrefix(h.URL, public+"/h/")
	if !ok || h.State != api.HandoffOpen {
		t.Fatalf("hand-off %+v", h)
	}

	polled := make(chan api.Handoff, 1)
	pollErr := make(chan error, 1)
	go func() {
		p, err := kiosk.WaitHandoff(ctx, h.ID, 20*time.Second)
		// It wakes at each change: the phone's claims, the link given back
		// after the wrong password, done (collected by this answer).
		for err == nil && (p.State == api.HandoffOpen || p.State == api.HandoffClaimed) {
			p, err = kiosk.WaitHandoff(ctx, h.ID, 20*time.Second)
		}
		polled <- p
		pollErr <- err
	}()

	l, err := phone.HandoffLink(ctx, token)
	if err != nil || l.Purpose != api.PurposeSignIn || l.State != api.HandoffOpen {
		t.Fatalf("HandoffLink = %+v, %v", l, err)
	}
	_, err = phone.CompleteHandoff(ctx, token, api.HandoffCompletion{Identifier: email, Password: "Wrong-Kettle-42"})
	var e *api.Error
	if !errors.As(err, &e) || !errors.Is(err, api.ErrInvalidCredentials) || e.Status != http.StatusUnauthorized {
		t.Fatalf("CompleteHandoff with a wrong password: %v, want invalid_credentials, 401", err)
	}
	if l, err = phone.CompleteHandoff(ctx, token, api.HandoffCompletion{Identifier: email, Password: password}); err != nil || l.State != api.HandoffDone {
		t.Fatalf("CompleteHandoff = %+v, %v", l, err)
	}

	var p api.Handoff
	select {
	case p = <-polled:
		if err := <-pollErr; err != nil {
			t.Fatalf("WaitHandoff: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WaitHandoff never answered")
	}
	if p.State != api.HandoffCollected || p.Session == nil || p.Session.Device.ID != dev.ID {
		t.Fatalf("WaitHandoff = %+v; want collected with a session on the kiosk", p)
	}
	if kiosk.Token() != "" {
		t.Error("the client kept the hand-off's token itself; the caller does (SetToken)")
	}
	kiosk.SetToken(p.Session.Token)
	if a, err := kiosk.Account(ctx); err != nil || a.Email != email {
		t.Fatalf("Account on the hand-off's session = %+v, %v", a, err)
	}
	if again, err := kiosk.Handoff(ctx, h.ID); err != nil || again.State != api.HandoffCollected || again.Session != nil {
		t.Errorf("Handoff again = %+v, %v; want collected, no session", again, err)
	}

	if _, err := phone.CompleteHandoff(ctx, token, api.HandoffCompletion{Identifier: email, Password: password}); !errors.Is(err, api.ErrHandoffUsed) {
		t.Errorf("CompleteHandoff of a used link: %v, want handoff_used", err)
	}
	if _, err := phone.HandoffLink(ctx, token); !errors.Is(err, api.ErrHandoffUsed) {
		t.Errorf("HandoffLink of a used link: %v, want handoff_used", err)
	}
	if _, err := kiosk.Handoff(ctx, "no-such-handoff"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("Handoff of an unknown id: %v, want not_found", err)
	}
}

func TestContractHandoffUnavailable(t *testing.T) {
	base, _ := newPublicService(t, "")
	c := client.New(base, client.WithKiosk("kiosk-7", ""))
	_, err := c.CreateHandoff(context.Background(), api.HandoffRequest{Purpose: api.PurposeRegistration})
	var e *api.Error
	if !errors.Is(err, api.ErrHandoffUnavailable) || !errors.As(err, &e) || e.Status != http.StatusNotFound {
		t.Errorf("CreateHandoff without a public URL: %v, want handoff_unavailable, 404", err)
	}
}
