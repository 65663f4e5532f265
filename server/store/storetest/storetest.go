// Package storetest is the test suite every store.Store implementation
// passes. An implementation's test calls Run with a function that opens a
// new, empty store:
//
//	func TestSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "misetup.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks what the account service relies on: rows read back as
// written (times in UTC, rounded to the microsecond), ErrNotFound and
// ErrConflict where the interface promises them, and the atomic steps
// (consume a challenge, spend an attempt, use a TOTP step or a recovery
// code, deliver commands, claim and collect a hand-off, change a Mi Cloud
// item at a version, record an upload's part) deciding one winner when
// goroutines race, Mi Cloud's quota never passed by writes arriving
// together, and its change numbers never skipped by a reader.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"misetup/server/store"
)

// Open returns a new, empty store for the test t and arranges (with
// t.Cleanup) for it to be closed and removed when t ends.
type Open func(t *testing.T) store.Store

// Run runs the whole suite against the stores open returns, one new store
// for each subtest.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"Accounts", testAccounts},
		{"AccountConflicts", testAccountConflicts},
		{"PatchAccount", testPatchAccount},
		{"PatchAccountRace", testPatchAccountRace},
		{"LockAccountRace", testLockAccountRace},
		{"InTx", testInTx},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"Challenges", testChallenges},
		{"RenewChallengeCode", testRenewChallengeCode},
		{"SetDelivery", testSetDelivery},
		{"SpendAttempt", testSpendAttempt},
		{"SpendAttemptRace", testSpendAttemptRace},
		{"ConsumeChallenge", testConsumeChallenge},
		{"ConsumeChallengeRace", testConsumeChallengeRace},
		{"LastChallenge", testLastChallenge},
		{"ReserveAttempt", testReserveAttempt},
		{"ReserveAttemptRace", testReserveAttemptRace},
		{"ReserveSend", testReserveSend},
		{"ReserveSendRace", testReserveSendRace},
		{"LockChallengeRace", testLockChallengeRace},
		{"Sessions", testSessions},
		{"DeleteSessions", testDeleteSessions},
		{"Devices", testDevices},
		{"PatchDevice", testPatchDevice},
		{"DeleteDevice", testDeleteDevice},
		{"Commands", testCommands},
		{"DeliverCommandsRace", testDeliverCommandsRace},
		{"Usage", testUsage},
		{"RecoveryCodes", testRecoveryCodes},
		{"RecoveryCodeRace", testRecoveryCodeRace},
		{"TOTPSteps", testTOTPSteps},
		{"TOTPStepRace", testTOTPStepRace},
		{"Audit", testAudit},
		{"Handoffs", testHandoffs},
		{"HandoffExpiry", testHandoffExpiry},
		{"HandoffClaimRace", testHandoffClaimRace},
		{"HandoffCollectRace", testHandoffCollectRace},
		{"CloudItems", testCloudItems},
		{"CloudChanges", testCloudChanges},
		{"CloudChangesRace", testCloudChangesRace},
		{"CloudQuota", testCloudQuota},
		{"CloudQuotaRace", testCloudQuotaRace},
		{"CloudVersionRace", testCloudVersionRace},
		{"CloudUploads", testCloudUploads},
		{"UploadPartRace", testUploadPartRace},
		{"DeleteAccount", testDeleteAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

// t0 is the base time of the suite: not UTC, and with nanoseconds, so that
// every round trip shows the store's UTC and microsecond rounding.
var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 535_897_932, time.FixedZone("CST", 8*60*60))

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// race starts n goroutines running fn(i) as close together as it can and
// waits for them all.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// wantErr fails t unless err is target (errors.Is).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// check fails t now when err is not nil.
func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantEqual fails t unless got and want are equal once the times in both are
// rounded to the microsecond and in UTC, the form the store promises.
func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	got, want = normalize(got), normalize(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, show(got), show(want))
	}
}

// show prints pointers in v's fields as the values they point to.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Sprintf("%+v", v)
	}
	out := "{"
	for i := range rv.NumField() {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		out += fmt.Sprintf("%s:%+v ", rv.Type().Field(i).Name, f.Interface())
	}
	return out + "}"
}

// tm is a time as the store returns it.
func tm(t time.Time) time.Time { return t.Round(time.Microsecond).UTC() }

// tmp is an optional time as the store returns it.
func tmp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(tm(*t))
}

// normalize returns a copy of v with its times as the store returns them,
// and empty slices as nil.
func normalize(v any) any {
	switch v := v.(type) {
	case *store.Account:
		if v == nil {
			return v
		}
		a := *v
		a.CreatedAt, a.UpdatedAt = tm(a.CreatedAt), tm(a.UpdatedAt)
		return a
	case *store.Challenge:
		if v == nil {
			return v
		}
		c := *v
		c.ExpiresAt, c.ResendAfter, c.CreatedAt = tm(c.ExpiresAt), tm(c.ResendAfter), tm(c.CreatedAt)
		c.DeliveryAt = tmp(c.DeliveryAt)
		if len(c.CodeHash) == 0 {
			c.CodeHash = nil
		}
		return c
	case *store.Session:
		if v == nil {
			return v
		}
		s := *v
		s.CreatedAt, s.LastUsedAt, s.ExpiresAt = tm(s.CreatedAt), tm(s.LastUsedAt), tm(s.ExpiresAt)
		return s
	case *store.Handoff:
		if v == nil {
			return v
		}
		h := *v
		h.CreatedAt, h.ExpiresAt = tm(h.CreatedAt), tm(h.ExpiresAt)
		h.ClaimedUntil, h.DoneAt, h.CollectedAt = tmp(h.ClaimedUntil), tmp(h.DoneAt), tmp(h.CollectedAt)
		return h
	case *store.Device:
		if v == nil {
			return v
		}
		return normalizeDevice(*v)
	case []store.Device:
		out := make([]store.Device, len(v))
		for i, d := range v {
			out[i] = normalizeDevice(d)
		}
		return out
	case *store.Command:
		if v == nil {
			return v
		}
		return normalizeCommand(*v)
	case []store.Command:
		out := make([]store.Command, len(v))
		for i, c := range v {
			out[i] = normalizeCommand(c)
		}
		return out
	case []store.AuditEvent:
		out := make([]store.AuditEvent, len(v))
		for i, e := range v {
			e.At = tm(e.At)
			out[i] = e
		}
		return out
	case []time.Time:
		out := make([]time.Time, len(v))
		for i, t := range v {
			out[i] = tm(t)
		}
		return out
	case time.Time:
		return tm(v)
	}
	return v
}

func normalizeDevice(d store.Device) store.Device {
	d.LastSeen = tmp(d.LastSeen)
	d.LastLocation = normalizeLocation(d.LastLocation)
	d.Sync.UpdatedAt = tmp(d.Sync.UpdatedAt)
	if len(d.Sync.Categories) == 0 {
		d.Sync.Categories = nil
	}
	d.CreatedAt = tm(d.CreatedAt)
	return d
}

func normalizeCommand(c store.Command) store.Command {
	c.Location = normalizeLocation(c.Location)
	c.CreatedAt = tm(c.CreatedAt)
	c.UpdatedAt = tmp(c.UpdatedAt)
	return c
}

func normalizeLocation(l *store.Location) *store.Location {
	if l == nil {
		return nil
	}
	out := *l
	out.ReportedAt = tm(out.ReportedAt)
	return &out
}

// newAccount stores an account with the given Mi ID, email and phone.
func newAccount(t *testing.T, s store.Store, miID, email, phone string) *store.Account {
	t.Helper()
	a := &store.Account{
		MiID:         miID,
		Email:        email,
		Phone:        phone,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Region:       "CN",
		Language:     "zh-CN",
		QuotaBytes:   5 << 30,
		CreatedAt:    t0,
		UpdatedAt:    t0,
	}
	check(t, "create account "+miID, s.CreateAccount(t.Context(), a))
	return a
}

// newChallenge stores a pending challenge for miID ("" for a registration)
// with attempts attempts, expiring ten minutes after t0.
func newChallenge(t *testing.T, s store.Store, id, miID string, attempts int) *store.Challenge {
	t.Helper()
	c := &store.Challenge{
		ID:            id,
		Purpose:       "registration",
		Channel:       "email",
		Destination:   "ana@example.com",
		MiID:          miID,
		CodeHash:      []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01},
		Payload:       `{"method":"email"}`,
		State:         "pending",
		AttemptsLeft:  attempts,
		Sends:         1,
		ExpiresAt:     at(10 * time.Minute),
		ResendAfter:   at(time.Minute),
		CreatedAt:     t0,
		DeliveryState: "queued",
	}
	if miID != "" {
		c.Purpose = "password_reset"
	}
	check(t, "create challenge "+id, s.CreateChallenge(t.Context(), c))
	return c
}

// newDevice stores a device of miID.
func newDevice(t *testing.T, s store.Store, miID, id string, created time.Time) *store.Device {
	t.Helper()
	d := &store.Device{
		MiID:      miID,
		ID:        id,
		Name:      "Phone " + id,
		Model:     "Xiaomi 14",
		OS:        "HyperOS 2",
		LastSeen:  ptr(created),
		CreatedAt: created,
	}
	check(t, "upsert device "+id, s.UpsertDevice(t.Context(), d))
	return d
}

// newCommand stores a pending command for a device.
func newCommand(t *testing.T, s store.Store, miID, deviceID, id string, created time.Time) *store.Command {
	t.Helper()
	c := &store.Command{
		ID:        id,
		MiID:      miID,
		DeviceID:  deviceID,
		Type:      "ring",
		Message:   "call me",
		State:     "pending",
		CreatedAt: created,
	}
	check(t, "create command "+id, s.CreateCommand(t.Context(), c))
	return c
}

// newSession stores a session of miID on deviceID.
func newSession(t *testing.T, s store.Store, tokenHash, miID, deviceID string) *store.Session {
	t.Helper()
	se := &store.Session{
		TokenHash:  tokenHash,
		MiID:       miID,
		DeviceID:   deviceID,
		CreatedAt:  t0,
		LastUsedAt: t0,
		ExpiresAt:  at(30 * 24 * time.Hour),
	}
	check(t, "create session "+tokenHash, s.CreateSession(t.Context(), se))
	return se
}

func testPing(t *testing.T, s store.Store) {
	check(t, "ping", s.Ping(t.Context()))
}
