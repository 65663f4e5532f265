package storetest

import (
	"testing"
	"time"

	"misetup/server/store"
)

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := &store.Account{
		MiID:          "1234567890",
		Email:         "ana@example.com",
		Phone:         "+8613812345678",
		PasswordHash:  "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		DisplayName:   "Ana",
		Region:        "CN",
		Language:      "zh-CN",
		RecoveryEmail: "ana.backup@example.com",
		RecoveryPhone: "+8613900000000",
		TOTPSecret:    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		TOTPEnabled:   true,
		QuotaBytes:    5 << 30,
		CreatedAt:     t0,
		UpdatedAt:     at(time.Second),
	}
	check(t, "create", s.CreateAccount(ctx, want))

	lookups := []struct {
		name string
		get  func() (*store.Account, error)
	}{
		{"by mi id", func() (*store.Account, error) { return s.AccountByMiID(ctx, want.MiID) }},
		{"by email", func() (*store.Account, error) { return s.AccountByEmail(ctx, want.Email) }},
		{"by phone", func() (*store.Account, error) { return s.AccountByPhone(ctx, want.Phone) }},
	}
	for _, l := range lookups {
		got, err := l.get()
		check(t, l.name, err)
		wantEqual(t, l.name, got, want)
	}

	missing := []struct {
		name string
		get  func() (*store.Account, error)
	}{
		{"unknown mi id", func() (*store.Account, error) { return s.AccountByMiID(ctx, "999999999") }},
		{"unknown email", func() (*store.Account, error) { return s.AccountByEmail(ctx, "bo@example.com") }},
		{"unknown phone", func() (*store.Account, error) { return s.AccountByPhone(ctx, "+8613800000000") }},
		{"email of another case", func() (*store.Account, error) { return s.AccountByEmail(ctx, "ANA@example.com") }},
		{"empty email", func() (*store.Account, error) { return s.AccountByEmail(ctx, "") }},
	}
	for _, m := range missing {
		a, err := m.get()
		wantErr(t, m.name, err, store.ErrNotFound)
		if a != nil {
			t.Errorf("%s: got account %s with the error", m.name, a.MiID)
		}
	}

	// Accounts without a phone or without an email: the empty ones do not
	// collide, and an empty identifier finds none of them.
	newAccount(t, s, "100000001", "bo@example.com", "")
	newAccount(t, s, "100000002", "cy@example.com", "")
	newAccount(t, s, "100000003", "", "+8613811111111")
	newAccount(t, s, "100000004", "", "+8613822222222")
	if a, err := s.AccountByPhone(ctx, ""); err == nil {
		t.Errorf("AccountByPhone(\"\") found %s, want ErrNotFound", a.MiID)
	}
	got, err := s.AccountByMiID(ctx, "100000001")
	check(t, "account without phone", err)
	if got.Phone != "" || got.Email != "bo@example.com" {
		t.Errorf("account without phone: email %q phone %q", got.Email, got.Phone)
	}

	// Zero times are set by the store.
	before := time.Now().Add(-time.Second)
	zero := &store.Account{MiID: "100000005", PasswordHash: "h"}
	check(t, "create with zero times", s.CreateAccount(ctx, zero))
	got, err = s.AccountByMiID(ctx, zero.MiID)
	check(t, "read with zero times", err)
	if got.CreatedAt.Before(before) || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("zero times stored as created %v updated %v, want now", got.CreatedAt, got.UpdatedAt)
	}
}

func testAccountConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "200000001", "ana@example.com", "+8613812345678")
	tests := []struct {
		name               string
		miID, email, phone string
	}{
		{"same mi id", "200000001", "other@example.com", ""},
		{"same email", "200000002", "ana@example.com", ""},
		{"same phone", "200000003", "", "+8613812345678"},
		{"same email and phone", "200000004", "ana@example.com", "+8613812345678"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreateAccount(ctx, &store.Account{MiID: tt.miID, Email: tt.email, Phone: tt.phone, PasswordHash: "h", CreatedAt: t0})
			wantErr(t, "create", err, store.ErrConflict)
			if tt.miID != "200000001" {
				_, err := s.AccountByMiID(ctx, tt.miID)
				wantErr(t, "the refused account", err, store.ErrNotFound)
			}
		})
	}
	got, err := s.AccountByMiID(ctx, "200000001")
	check(t, "first account", err)
	if got.Email != "ana@example.com" {
		t.Errorf("first account's email became %q", got.Email)
	}
}

func testUpdateAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "300000001", "ana@example.com", "+8613812345678")
	newAccount(t, s, "300000002", "bo@example.com", "")

	want := *a
	want.Email = "ana@example.org"
	want.Phone = ""
	want.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=1$bmV3$bmV3"
	want.DisplayName = "Ana L."
	want.Region = "SG"
	want.Language = "en"
	want.RecoveryEmail = "r@example.com"
	want.RecoveryPhone = "+6591234567"
	want.TOTPSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	want.TOTPEnabled = true
	want.QuotaBytes = 50 << 30
	want.CreatedAt = at(time.Hour) // not written
	before := time.Now().Add(-time.Second)
	check(t, "update", s.UpdateAccount(ctx, &want))
	if want.UpdatedAt.Before(before) {
		t.Errorf("UpdatedAt = %v, want set to now", want.UpdatedAt)
	}

	got, err := s.AccountByMiID(ctx, a.MiID)
	check(t, "read", err)
	want.CreatedAt = a.CreatedAt
	wantEqual(t, "updated account", got, &want)
	if _, err := s.AccountByEmail(ctx, "ana@example.com"); err == nil {
		t.Error("the old email still finds the account")
	}
	if _, err := s.AccountByPhone(ctx, a.Phone); err == nil {
		t.Error("the removed phone still finds the account")
	}

	// The second account also has no phone: no conflict.
	b, err := s.AccountByMiID(ctx, "300000002")
	check(t, "read second", err)
	b.DisplayName = "Bo"
	check(t, "update second without phone", s.UpdateAccount(ctx, b))

	b.Email = "ana@example.org"
	wantErr(t, "taking another account's email", s.UpdateAccount(ctx, b), store.ErrConflict)
	got, err = s.AccountByMiID(ctx, b.MiID)
	check(t, "read second", err)
	if got.Email != "bo@example.com" {
		t.Errorf("refused update wrote email %q", got.Email)
	}

	wantErr(t, "update unknown", s.UpdateAccount(ctx, &store.Account{MiID: "399999999", PasswordHash: "h"}), store.ErrNotFound)
}

// testTimesRoundTrip checks the promise about times: stored in UTC with
// sub-second precision, they read back equal to the time written rounded to
// the microsecond (time.Equal), in UTC.
func testTimesRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	times := []time.Time{
		t0,
		time.Date(2025, 1, 1, 0, 0, 0, 1, time.UTC),           // rounds down
		time.Date(2025, 1, 1, 0, 0, 0, 999_999_500, time.UTC), // rounds up into the next second
		time.Date(2038, 1, 19, 3, 14, 8, 123_456_000, time.FixedZone("X", -7*3600)),
		time.Date(1999, 12, 31, 23, 59, 59, 500_000, time.Local),
		time.Now(), // with a monotonic reading
	}
	for i, want := range times {
		miID := "40000000" + string(rune('0'+i))
		check(t, "create", s.CreateAccount(ctx, &store.Account{MiID: miID, PasswordHash: "h", CreatedAt: want, UpdatedAt: want}))
		a, err := s.AccountByMiID(ctx, miID)
		check(t, "read", err)
		if !a.CreatedAt.Equal(want.Round(time.Microsecond)) {
			t.Errorf("wrote %v, read %v, want %v", want, a.CreatedAt, want.Round(time.Microsecond))
		}
		if a.CreatedAt.Location() != time.UTC {
			t.Errorf("read %v in %v, want UTC", a.CreatedAt, a.CreatedAt.Location())
		}
	}
}
