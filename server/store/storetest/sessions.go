package storetest

import (
	"testing"
	"time"

	"misetup/server/store"
)

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "700000001", "ana@example.com", "")
	want := &store.Session{
		TokenHash:   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		MiID:        "700000001",
		DeviceID:    "kiosk-7",
		Kiosk:       "k7",
		StoreID:     "shanghai-01",
		CreatedAt:   t0,
		LastUsedAt:  at(time.Second),
		ExpiresAt:   at(24 * time.Hour),
		IdleTimeout: 15 * time.Minute,
	}
	check(t, "create", s.CreateSession(ctx, want))
	got, err := s.Session(ctx, want.TokenHash)
	check(t, "read", err)
	wantEqual(t, "session", got, want)

	dup := *want
	dup.MiID = "700000001"
	wantErr(t, "duplicate token", s.CreateSession(ctx, &dup), store.ErrConflict)
	orphan := *want
	orphan.TokenHash, orphan.MiID = "orphan", "799999999"
	wantErr(t, "session of an unknown account", s.CreateSession(ctx, &orphan), store.ErrNotFound)
	_, err = s.Session(ctx, "missing")
	wantErr(t, "unknown token", err, store.ErrNotFound)

	gotS, gotA, err := s.SessionAccount(ctx, want.TokenHash)
	check(t, "session and account", err)
	wantEqual(t, "session with its account", gotS, want)
	a, err := s.AccountByMiID(ctx, want.MiID)
	check(t, "account", err)
	wantEqual(t, "account with its session", gotA, a)
	_, _, err = s.SessionAccount(ctx, "missing")
	wantErr(t, "session and account of an unknown token", err, store.ErrNotFound)

	// A touch writes only when the last one is older than asked.
	touched, err := s.TouchSession(ctx, want.TokenHash, at(time.Minute), at(-time.Minute))
	check(t, "touch too soon", err)
	if touched {
		t.Error("touch wrote although the session was used after olderThan")
	}
	touched, err = s.TouchSession(ctx, want.TokenHash, at(time.Hour), at(time.Hour-time.Minute))
	check(t, "touch", err)
	if !touched {
		t.Error("touch did not write")
	}
	got, err = s.Session(ctx, want.TokenHash)
	check(t, "read after touch", err)
	if !got.LastUsedAt.Equal(tm(at(time.Hour))) || !got.CreatedAt.Equal(tm(t0)) {
		t.Errorf("after touch: last used %v, created %v", got.LastUsedAt, got.CreatedAt)
	}
	touched, err = s.TouchSession(ctx, "missing", t0, at(time.Hour))
	if err != nil || touched {
		t.Errorf("touch of a session that is gone = %v, %v; want false, nil (it was signed out meanwhile)", touched, err)
	}

	check(t, "delete", s.DeleteSession(ctx, want.TokenHash))
	_, err = s.Session(ctx, want.TokenHash)
	wantErr(t, "read deleted", err, store.ErrNotFound)
	wantErr(t, "delete again", s.DeleteSession(ctx, want.TokenHash), store.ErrNotFound)
}

func testDeleteSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "700000001", "ana@example.com", "")
	newAccount(t, s, "700000002", "bo@example.com", "")
	for _, h := range []string{"a1", "a2", "a3"} {
		newSession(t, s, h, "700000001", "dev-"+h)
	}
	newSession(t, s, "b1", "700000002", "dev-b1")

	n, err := s.DeleteSessions(ctx, "700000001", "a2")
	check(t, "delete others", err)
	if n != 2 {
		t.Errorf("deleted %d sessions, want 2", n)
	}
	alive := map[string]bool{"a1": false, "a2": true, "a3": false, "b1": true}
	for h, want := range alive {
		_, err := s.Session(ctx, h)
		if got := err == nil; got != want {
			t.Errorf("session %s alive = %v (err %v), want %v", h, got, err, want)
		}
	}

	n, err = s.DeleteSessions(ctx, "700000001", "")
	check(t, "delete all", err)
	if n != 1 {
		t.Errorf("deleted %d sessions, want 1", n)
	}
	_, err = s.Session(ctx, "a2")
	wantErr(t, "the kept session after deleting all", err, store.ErrNotFound)
	_, err = s.Session(ctx, "b1")
	check(t, "another account's session", err)
}
