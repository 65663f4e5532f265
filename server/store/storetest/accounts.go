package storetest

import (
	"errors"
	"fmt"
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

func testPatchAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "300000001", "ana@example.com", "+6591234567")

	before := time.Now().Add(-time.Second)
	check(t, "patch", s.PatchAccount(ctx, a.MiID, store.AccountPatch{
		PasswordHash:  ptr("$argon2id$v=19$m=65536,t=3,p=1$bmV3$bmV3"),
		DisplayName:   ptr("Ana L."),
		Region:        ptr("SG"),
		Language:      ptr("en"),
		RecoveryEmail: ptr("r@example.com"),
		RecoveryPhone: ptr("+6598765432"),
		TOTPSecret:    ptr("enc:v1:k1:c2VjcmV0"),
		TOTPEnabled:   ptr(true),
	}))
	got, err := s.AccountByMiID(ctx, a.MiID)
	check(t, "read", err)
	want := *a
	want.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=1$bmV3$bmV3"
	want.DisplayName, want.Region, want.Language = "Ana L.", "SG", "en"
	want.RecoveryEmail, want.RecoveryPhone = "r@example.com", "+6598765432"
	want.TOTPSecret, want.TOTPEnabled = "enc:v1:k1:c2VjcmV0", true
	if got.UpdatedAt.Before(before) {
		t.Errorf("UpdatedAt = %v, want set to now", got.UpdatedAt)
	}
	want.UpdatedAt = got.UpdatedAt
	wantEqual(t, "patched account", got, &want)

	// A patch writes only its columns: what another request wrote stays.
	check(t, "patch name", s.PatchAccount(ctx, a.MiID, store.AccountPatch{DisplayName: ptr("Ana")}))
	got, err = s.AccountByMiID(ctx, a.MiID)
	check(t, "read", err)
	if got.DisplayName != "Ana" || got.PasswordHash != want.PasswordHash || !got.TOTPEnabled || got.Region != "SG" {
		t.Errorf("a display-name patch changed other columns: %+v", got)
	}

	// A condition that no longer holds writes nothing.
	err = s.PatchAccount(ctx, a.MiID, store.AccountPatch{PasswordHash: ptr("upgraded"), IfPasswordHash: ptr("old")})
	wantErr(t, "patch on a stale password hash", err, store.ErrStale)
	check(t, "patch on the current hash", s.PatchAccount(ctx, a.MiID, store.AccountPatch{PasswordHash: ptr("upgraded"), IfPasswordHash: ptr(want.PasswordHash)}))
	got, err = s.AccountByMiID(ctx, a.MiID)
	check(t, "read", err)
	if got.PasswordHash != "upgraded" {
		t.Errorf("password hash = %q, want upgraded", got.PasswordHash)
	}

	wantErr(t, "patch unknown", s.PatchAccount(ctx, "399999999", store.AccountPatch{DisplayName: ptr("x")}), store.ErrNotFound)
	wantErr(t, "conditional patch unknown", s.PatchAccount(ctx, "399999999", store.AccountPatch{PasswordHash: ptr("x"), IfPasswordHash: ptr("y")}), store.ErrNotFound)
}

// testPatchAccountRace runs patches of different columns at once, as a
// profile change beside a password change and a 2FA confirmation: each
// lands, none undoes another.
func testPatchAccountRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "300000003", "ana@example.com", "")
	const rounds = 10
	for r := range rounds {
		patches := []store.AccountPatch{
			{DisplayName: ptr(fmt.Sprintf("name %d", r))},
			{PasswordHash: ptr(fmt.Sprintf("hash %d", r))},
			{TOTPEnabled: ptr(r%2 == 0)},
			{RecoveryEmail: ptr(fmt.Sprintf("r%d@example.com", r))},
		}
		errs := make([]error, len(patches))
		race(len(patches), func(i int) { errs[i] = s.PatchAccount(ctx, a.MiID, patches[i]) })
		for _, err := range errs {
			check(t, "patch", err)
		}
		got, err := s.AccountByMiID(ctx, a.MiID)
		check(t, "read", err)
		if got.DisplayName != fmt.Sprintf("name %d", r) || got.PasswordHash != fmt.Sprintf("hash %d", r) ||
			got.TOTPEnabled != (r%2 == 0) || got.RecoveryEmail != fmt.Sprintf("r%d@example.com", r) {
			t.Fatalf("round %d: a patch was undone by another: %+v", r, got)
		}
	}
}

// testLockAccountRace runs read-modify-write transactions on one account
// at once: LockAccount makes each see the last one's write, so none is
// lost.
func testLockAccountRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "300000004", "ana@example.com", "")
	const n = 12
	errs := make([]error, n)
	race(n, func(i int) {
		errs[i] = s.InTx(ctx, func(tx store.Store) error {
			cur, err := tx.LockAccount(ctx, a.MiID)
			if err != nil {
				return err
			}
			return tx.PatchAccount(ctx, a.MiID, store.AccountPatch{DisplayName: ptr(cur.DisplayName + "x")})
		})
	})
	for _, err := range errs {
		check(t, "transaction", err)
	}
	got, err := s.AccountByMiID(ctx, a.MiID)
	check(t, "read", err)
	if len(got.DisplayName) != n {
		t.Errorf("%d read-modify-write transactions left %d writes (%q): some were lost", n, len(got.DisplayName), got.DisplayName)
	}
	_, err = s.LockAccount(ctx, "399999999")
	wantErr(t, "lock unknown", err, store.ErrNotFound)
}

// testInTx checks that a transaction commits as a whole, rolls back as a
// whole, reads its own writes, and nests.
func testInTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "300000005", "ana@example.com", "")
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Store) error {
		check(t, "patch in tx", tx.PatchAccount(ctx, a.MiID, store.AccountPatch{DisplayName: ptr("in tx")}))
		got, err := tx.AccountByMiID(ctx, a.MiID)
		check(t, "read in tx", err)
		if got.DisplayName != "in tx" {
			t.Errorf("the transaction does not read its own write: %q", got.DisplayName)
		}
		check(t, "account in tx", tx.CreateAccount(ctx, &store.Account{MiID: "300000006", PasswordHash: "h"}))
		return boom
	})
	wantErr(t, "failed transaction", err, boom)
	got, err := s.AccountByMiID(ctx, a.MiID)
	check(t, "read", err)
	if got.DisplayName != "" {
		t.Errorf("a rolled-back patch was kept: %q", got.DisplayName)
	}
	_, err = s.AccountByMiID(ctx, "300000006")
	wantErr(t, "account of a rolled-back transaction", err, store.ErrNotFound)

	err = s.InTx(ctx, func(tx store.Store) error {
		if err := tx.PatchAccount(ctx, a.MiID, store.AccountPatch{DisplayName: ptr("outer")}); err != nil {
			return err
		}
		return tx.InTx(ctx, func(inner store.Store) error {
			return inner.PatchAccount(ctx, a.MiID, store.AccountPatch{Region: ptr("SG")})
		})
	})
	check(t, "nested transaction", err)
	got, err = s.AccountByMiID(ctx, a.MiID)
	check(t, "read", err)
	if got.DisplayName != "outer" || got.Region != "SG" {
		t.Errorf("after a nested transaction: name %q region %q", got.DisplayName, got.Region)
	}
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
