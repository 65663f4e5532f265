package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"misetup/server/store"
)

// signInLimit is the sign-in lock of DESIGN.md: 5 failures within 15
// minutes lock for 15 minutes.
func signInLimit(key string) store.Limit {
	return store.Limit{Key: key, Max: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute}
}

// refusal returns the *store.Refusal in err, failing t when there is none.
func refusal(t *testing.T, what string, err error) *store.Refusal {
	t.Helper()
	var r *store.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("%s: err = %v, want a *store.Refusal", what, err)
	}
	return r
}

func testReserveAttempt(t *testing.T, s store.Store) {
	ctx := t.Context()
	const key, addr = "ana@example.com", "addr:192.0.2.1"
	addrLimit := store.Limit{Key: addr, Max: 7, Window: time.Hour}
	for i := range 4 {
		locked, err := s.ReserveAttempt(ctx, fmt.Sprint("r", i), at(time.Duration(i)*time.Minute), signInLimit(key), addrLimit)
		check(t, "reserve", err)
		if len(locked) != 0 {
			t.Fatalf("attempt %d locked %v", i+1, locked)
		}
	}
	// The 5th locks the identifier, and says so.
	locked, err := s.ReserveAttempt(ctx, "r4", at(4*time.Minute), signInLimit(key), addrLimit)
	check(t, "reserve 5th", err)
	wantEqual(t, "keys the 5th attempt locked", locked, []string{key})
	until, err := s.LockedUntil(ctx, key)
	check(t, "locked until", err)
	if !until.Equal(tm(at(19 * time.Minute))) {
		t.Errorf("locked until %v, want %v", until, tm(at(19*time.Minute)))
	}
	// Locked: refused, and nothing is recorded against the address either.
	r := refusal(t, "6th attempt", func() error {
		_, err := s.ReserveAttempt(ctx, "r5", at(5*time.Minute), signInLimit(key), addrLimit)
		return err
	}())
	if r.Key != key || !r.Locked || !r.Until.Equal(until) {
		t.Errorf("refusal = %+v, want %s locked until %v", r, key, until)
	}
	_, err = s.ReserveAttempt(ctx, "a1", at(5*time.Minute), signInLimit("bo@example.com"), addrLimit)
	check(t, "another identifier from the address", err)
	_, err = s.ReserveAttempt(ctx, "a2", at(5*time.Minute), signInLimit("cy@example.com"), addrLimit)
	check(t, "another identifier from the address", err)
	// 7 attempts from the address within the hour (5 + 2): a rate, refused
	// until the oldest leaves the hour.
	r = refusal(t, "8th from the address", func() error {
		_, err := s.ReserveAttempt(ctx, "a3", at(6*time.Minute), signInLimit("dee@example.com"), addrLimit)
		return err
	}())
	if r.Key != addr || r.Locked || !r.Until.Equal(tm(at(time.Hour))) {
		t.Errorf("refusal = %+v, want %s rate-limited until %v", r, addr, tm(at(time.Hour)))
	}

	// Releasing the reservation that locked lifts the lock and its count.
	check(t, "release", s.ReleaseAttempt(ctx, key, "r4"))
	until, err = s.LockedUntil(ctx, key)
	check(t, "locked until after release", err)
	if !until.IsZero() {
		t.Errorf("the lock outlived the release of the attempt that set it: until %v", until)
	}
	// Releasing one that did not lock leaves the lock alone.
	_, err = s.ReserveAttempt(ctx, "r6", at(7*time.Minute), signInLimit(key))
	check(t, "reserve after release", err)
	check(t, "release an earlier one", s.ReleaseAttempt(ctx, key, "r0"))
	if until, _ = s.LockedUntil(ctx, key); until.IsZero() {
		t.Error("releasing an attempt that did not lock lifted the lock")
	}

	// Once the lock has passed, one more attempt is allowed and locks again.
	locked, err = s.ReserveAttempt(ctx, "r7", at(30*time.Minute), signInLimit(key))
	check(t, "reserve after the lock", err)
	if len(locked) != 0 {
		t.Errorf("the failures left the window, yet the attempt locked %v", locked)
	}

	check(t, "clear", s.ClearFailures(ctx, key))
	for i := range 4 {
		locked, err := s.ReserveAttempt(ctx, fmt.Sprint("c", i), at(31*time.Minute), signInLimit(key))
		check(t, "reserve after clear", err)
		if len(locked) != 0 {
			t.Fatalf("after clearing, attempt %d locked", i+1)
		}
	}
}

// testReserveAttemptRace fires many attempts of one identifier at once, as
// a script would: exactly the limit's number get through, the rest are
// refused as locked.
func testReserveAttemptRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 24
	errs := make([]error, n)
	locked := make([][]string, n)
	race(n, func(i int) {
		locked[i], errs[i] = s.ReserveAttempt(ctx, fmt.Sprint("r", i), t0, signInLimit("ana@example.com"),
			store.Limit{Key: "addr:192.0.2.9", Max: 1000, Window: time.Hour})
	})
	passed, refused, locks := 0, 0, 0
	for i, err := range errs {
		var r *store.Refusal
		switch {
		case err == nil:
			passed++
			if len(locked[i]) > 0 {
				locks++
			}
		case errors.As(err, &r) && r.Locked:
			refused++
		default:
			t.Errorf("attempt %d: %v", i, err)
		}
	}
	if passed != 5 || refused != n-5 || locks != 1 {
		t.Errorf("%d simultaneous attempts: %d passed (want 5), %d refused (want %d), %d locked (want 1)", n, passed, refused, n-5, locks)
	}
}

func testReserveSend(t *testing.T, s store.Store) {
	ctx := t.Context()
	lim := store.Limit{Key: "ana@example.com", Max: 3, Window: time.Hour}
	for i, d := range []time.Duration{-90 * time.Minute, -50 * time.Minute, -30 * time.Minute, -10 * time.Minute} {
		check(t, "send", s.ReserveSend(ctx, fmt.Sprint("s", i), at(d), lim))
	}
	check(t, "send to another", s.ReserveSend(ctx, "o", t0, store.Limit{Key: "bo@example.com", Max: 3, Window: time.Hour}))
	// 3 in the last hour (the one 90 minutes ago has left it): refused
	// until the oldest of them (50 minutes ago) leaves.
	r := refusal(t, "4th send in the hour", s.ReserveSend(ctx, "s4", t0, lim))
	if r.Locked || !r.Until.Equal(tm(at(10*time.Minute))) {
		t.Errorf("refusal = %+v, want rate-limited until %v", r, tm(at(10*time.Minute)))
	}
	// A send that did not happen gives its place back.
	check(t, "release", s.ReleaseSend(ctx, lim.Key, "s3"))
	check(t, "send after release", s.ReserveSend(ctx, "s5", t0, lim))
	refusal(t, "send over the rate again", s.ReserveSend(ctx, "s6", t0, lim))
	// An event exactly a window old has left it.
	check(t, "send a window after", s.ReserveSend(ctx, "s7", at(10*time.Minute), lim))
}

// testReserveSendRace asks for many sends to one destination at once: no
// more than the rate get through.
func testReserveSendRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 24
	errs := make([]error, n)
	lim := store.Limit{Key: "+8613812345678", Max: 5, Window: time.Hour}
	race(n, func(i int) { errs[i] = s.ReserveSend(ctx, fmt.Sprint("s", i), t0, lim) })
	passed := 0
	for i, err := range errs {
		var r *store.Refusal
		switch {
		case err == nil:
			passed++
		case errors.As(err, &r) && !r.Locked:
		default:
			t.Errorf("send %d: %v", i, err)
		}
	}
	if passed != 5 {
		t.Errorf("%d simultaneous sends to one destination: %d passed, want 5", n, passed)
	}
}

// testLockChallengeRace runs the resend rule as the service does, in one
// transaction: read the challenge locked, refuse before its resend time,
// renew. Of many at once, one renews.
func testLockChallengeRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newChallenge(t, s, "ch-lock", "", 5)
	now := at(2 * time.Minute) // after c's resend time
	const n = 12
	renewed := make([]bool, n)
	errs := make([]error, n)
	race(n, func(i int) {
		errs[i] = s.InTx(ctx, func(tx store.Store) error {
			renewed[i] = false
			cur, err := tx.LockChallenge(ctx, c.ID)
			if err != nil {
				return err
			}
			if now.Before(cur.ResendAfter) {
				return nil
			}
			renewed[i] = true
			return tx.RenewChallengeCode(ctx, c.ID, []byte{byte(i)}, 5, now.Add(10*time.Minute), now.Add(time.Minute))
		})
	})
	for _, err := range errs {
		check(t, "transaction", err)
	}
	if got := countTrue(renewed); got != 1 {
		t.Errorf("%d simultaneous resends renewed the code %d times, want once", n, got)
	}
	got, err := s.Challenge(ctx, c.ID)
	check(t, "read", err)
	if got.Sends != 2 {
		t.Errorf("sends = %d, want 2", got.Sends)
	}
	_, err = s.LockChallenge(ctx, "missing")
	wantErr(t, "lock unknown", err, store.ErrNotFound)
}
