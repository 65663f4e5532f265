package storetest

import (
	"maps"
	"testing"
	"time"

	"misetup/server/store"
)

func testUsage(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "900000001", "ana@example.com", "")
	newAccount(t, s, "900000002", "bo@example.com", "")
	got, err := s.Usage(ctx, "900000001")
	check(t, "usage of none", err)
	if len(got) != 0 {
		t.Errorf("usage before any: %v", got)
	}
	check(t, "set", s.SetUsage(ctx, "900000001", "gallery", 3<<30))
	check(t, "set", s.SetUsage(ctx, "900000001", "contacts", 12_345))
	check(t, "set again", s.SetUsage(ctx, "900000001", "gallery", 4<<30))
	check(t, "set other account", s.SetUsage(ctx, "900000002", "notes", 1))
	got, err = s.Usage(ctx, "900000001")
	check(t, "usage", err)
	if want := map[string]int64{"gallery": 4 << 30, "contacts": 12_345}; !maps.Equal(got, want) {
		t.Errorf("usage = %v, want %v", got, want)
	}
}

func testRecoveryCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	const ana, bo = "910000001", "910000002"
	newAccount(t, s, ana, "ana@example.com", "")
	newAccount(t, s, bo, "bo@example.com", "")
	check(t, "set", s.SetRecoveryCodes(ctx, ana, []string{"h1", "h2", "h3"}))
	check(t, "set other account", s.SetRecoveryCodes(ctx, bo, []string{"h1"}))

	uses := []struct {
		miID, hash string
		want       bool
	}{
		{ana, "h2", true},
		{ana, "h2", false}, // single use
		{ana, "h9", false}, // never issued
		{bo, "h2", false},  // another account's
		{ana, "h1", true},
		{bo, "h1", true}, // the same hash in two accounts is two codes
	}
	for _, u := range uses {
		ok, err := s.UseRecoveryCode(ctx, u.miID, u.hash, "")
		check(t, "use", err)
		if ok != u.want {
			t.Errorf("UseRecoveryCode(%s, %s) = %v, want %v", u.miID, u.hash, ok, u.want)
		}
	}

	// New codes replace the old ones.
	check(t, "replace", s.SetRecoveryCodes(ctx, ana, []string{"n1", "n2"}))
	for hash, want := range map[string]bool{"h3": false, "n1": true} {
		ok, err := s.UseRecoveryCode(ctx, ana, hash, "")
		check(t, "use after replace", err)
		if ok != want {
			t.Errorf("after replacing, UseRecoveryCode(%s) = %v, want %v", hash, ok, want)
		}
	}
	check(t, "remove all", s.SetRecoveryCodes(ctx, ana, nil))
	ok, err := s.UseRecoveryCode(ctx, ana, "n2", "")
	check(t, "use after removing all", err)
	if ok {
		t.Error("a code works after all were removed")
	}
}

func testRecoveryCodeRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "920000001", "ana@example.com", "")
	check(t, "set", s.SetRecoveryCodes(ctx, "920000001", []string{"h1"}))
	const n = 8
	won := make([]bool, n)
	errs := make([]error, n)
	race(n, func(i int) { won[i], errs[i] = s.UseRecoveryCode(ctx, "920000001", "h1", "") })
	for _, err := range errs {
		check(t, "use", err)
	}
	if winners := countTrue(won); winners != 1 {
		t.Errorf("%d of %d racing uses of one recovery code succeeded, want 1", winners, n)
	}
}

func testTOTPSteps(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "930000001", "ana@example.com", "")
	newAccount(t, s, "930000002", "bo@example.com", "")
	steps := []struct {
		miID string
		step int64
		want bool
	}{
		{"930000001", 58_000_000, true},
		{"930000001", 58_000_000, false}, // replay
		{"930000001", 57_999_999, false}, // older
		{"930000002", 58_000_000, true},  // another account has its own last step
		{"930000001", 58_000_001, true},
		{"930000001", 58_000_003, true},
		{"930000001", 58_000_002, false}, // older than the last used
	}
	for _, st := range steps {
		ok, err := s.UseTOTPStep(ctx, st.miID, st.step)
		check(t, "use step", err)
		if ok != st.want {
			t.Errorf("UseTOTPStep(%s, %d) = %v, want %v", st.miID, st.step, ok, st.want)
		}
	}
	_, err := s.UseTOTPStep(ctx, "939999999", 1)
	wantErr(t, "unknown account", err, store.ErrNotFound)
}

func testTOTPStepRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "940000001", "ana@example.com", "")
	const n = 8
	won := make([]bool, n)
	errs := make([]error, n)
	race(n, func(i int) { won[i], errs[i] = s.UseTOTPStep(ctx, "940000001", 60_000_000) })
	for _, err := range errs {
		check(t, "use step", err)
	}
	if winners := countTrue(won); winners != 1 {
		t.Errorf("%d of %d racing uses of one TOTP step succeeded, want 1", winners, n)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	events := []*store.AuditEvent{
		{At: t0, MiID: "950000001", DeviceID: "dev-1", Address: "192.0.2.1", Event: "sign_in"},
		{At: at(time.Second), MiID: "", Kiosk: "k7", StoreID: "shanghai-01", Address: "192.0.2.9", Event: "sign_in_failed", Detail: "unknown identifier"},
		{At: at(2 * time.Second), MiID: "950000001", Event: "password_changed"},
		{At: at(3 * time.Second), MiID: "950000002", Event: "sign_in"},
		{At: at(4 * time.Second), MiID: "950000001", DeviceID: "dev-1", Event: "totp_enabled"},
	}
	var last int64
	for _, e := range events {
		check(t, "audit", s.Audit(ctx, e))
		if e.ID <= last {
			t.Errorf("event %s got id %d after %d, want increasing ids", e.Event, e.ID, last)
		}
		last = e.ID
	}
	deref := func(es ...*store.AuditEvent) []store.AuditEvent {
		out := make([]store.AuditEvent, len(es))
		for i, e := range es {
			out[i] = *e
		}
		return out
	}
	lists := []struct {
		name  string
		miID  string
		limit int
		want  []store.AuditEvent
	}{
		{"an account's, newest first", "950000001", 0, deref(events[4], events[2], events[0])},
		{"an account's newest two", "950000001", 2, deref(events[4], events[2])},
		{"all", "", 0, deref(events[4], events[3], events[2], events[1], events[0])},
		{"newest of all", "", 1, deref(events[4])},
		{"an account without events", "959999999", 10, deref()},
	}
	for _, l := range lists {
		got, err := s.AuditEvents(ctx, l.miID, l.limit)
		check(t, l.name, err)
		if got == nil {
			got = []store.AuditEvent{}
		}
		wantEqual(t, l.name, got, l.want)
	}
}
