package storetest

import (
	"testing"
	"time"

	"misetup/server/store"
)

func testSends(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, d := range []time.Duration{-90 * time.Minute, -30 * time.Minute, -10 * time.Minute} {
		check(t, "record", s.RecordSend(ctx, "ana@example.com", at(d)))
	}
	check(t, "record other", s.RecordSend(ctx, "bo@example.com", at(-5*time.Minute)))

	got, err := s.Sends(ctx, "ana@example.com", at(-time.Hour))
	check(t, "sends", err)
	wantEqual(t, "sends in the last hour, oldest first", got, []time.Time{at(-30 * time.Minute), at(-10 * time.Minute)})

	got, err = s.Sends(ctx, "ana@example.com", at(-30*time.Minute))
	check(t, "sends since one", err)
	if len(got) != 2 {
		t.Errorf("sends since the time of one: %d, want 2 (since includes it)", len(got))
	}
	got, err = s.Sends(ctx, "cy@example.com", at(-time.Hour))
	check(t, "sends to none", err)
	if len(got) != 0 {
		t.Errorf("sends to an address never sent to: %v", got)
	}
}

func testFailuresAndLocks(t *testing.T, s store.Store) {
	ctx := t.Context()
	const key, other = "ana@example.com", "addr:192.0.2.1"
	for _, d := range []time.Duration{-20 * time.Minute, -10 * time.Minute, -5 * time.Minute, -time.Minute} {
		check(t, "record", s.RecordFailure(ctx, key, at(d)))
	}
	check(t, "record other", s.RecordFailure(ctx, other, at(-time.Minute)))

	counts := []struct {
		key   string
		since time.Time
		want  int
	}{
		{key, at(-15 * time.Minute), 3},
		{key, at(-time.Hour), 4},
		{key, at(-5 * time.Minute), 2},
		{key, t0, 0},
		{other, at(-time.Hour), 1},
		{"nobody", at(-time.Hour), 0},
	}
	for _, c := range counts {
		n, err := s.Failures(ctx, c.key, c.since)
		check(t, "failures", err)
		if n != c.want {
			t.Errorf("Failures(%s, since %v) = %d, want %d", c.key, c.since.Sub(t0), n, c.want)
		}
	}

	until, err := s.LockedUntil(ctx, key)
	check(t, "locked until", err)
	if !until.IsZero() {
		t.Errorf("not locked: LockedUntil = %v, want zero", until)
	}
	check(t, "lock", s.SetLock(ctx, key, at(15*time.Minute)))
	check(t, "lock again", s.SetLock(ctx, key, at(20*time.Minute)))
	check(t, "lock other", s.SetLock(ctx, other, at(time.Hour)))
	until, err = s.LockedUntil(ctx, key)
	check(t, "locked until", err)
	if !until.Equal(tm(at(20 * time.Minute))) {
		t.Errorf("LockedUntil = %v, want %v (the later lock replaces the first)", until, tm(at(20*time.Minute)))
	}

	check(t, "clear", s.ClearFailures(ctx, key))
	n, err := s.Failures(ctx, key, at(-time.Hour))
	check(t, "failures after clear", err)
	until, err = s.LockedUntil(ctx, key)
	check(t, "locked until after clear", err)
	if n != 0 || !until.IsZero() {
		t.Errorf("after clear: %d failures, locked until %v; want 0 and zero", n, until)
	}
	n, err = s.Failures(ctx, other, at(-time.Hour))
	check(t, "other failures", err)
	until, err = s.LockedUntil(ctx, other)
	check(t, "other locked until", err)
	if n != 1 || until.IsZero() {
		t.Errorf("clearing one key cleared another: %d failures, locked until %v", n, until)
	}
}

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

	check(t, "touch", s.TouchSession(ctx, want.TokenHash, at(time.Hour)))
	got, err = s.Session(ctx, want.TokenHash)
	check(t, "read after touch", err)
	if !got.LastUsedAt.Equal(tm(at(time.Hour))) || !got.CreatedAt.Equal(tm(t0)) {
		t.Errorf("after touch: last used %v, created %v", got.LastUsedAt, got.CreatedAt)
	}
	wantErr(t, "touch unknown", s.TouchSession(ctx, "missing", t0), store.ErrNotFound)

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
