package storetest

import (
	"maps"
	"testing"
	"time"

	"misetup/server/store"
)

func testChallenges(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "500000001", "ana@example.com", "")

	reg := newChallenge(t, s, "ch-reg", "", 5)
	got, err := s.Challenge(ctx, reg.ID)
	check(t, "read registration challenge", err)
	wantEqual(t, "registration challenge", got, reg)

	reset := &store.Challenge{
		ID:            "ch-reset",
		Purpose:       "password_reset",
		Channel:       "sms",
		Destination:   "+8613812345678",
		MiID:          "500000001",
		CodeHash:      []byte("0123456789abcdef0123456789abcdef"),
		State:         "pending",
		AttemptsLeft:  5,
		Sends:         1,
		ExpiresAt:     at(10 * time.Minute),
		ResendAfter:   at(time.Minute),
		CreatedAt:     t0,
		DeliveryState: "sent",
		DeliveryAt:    ptr(at(2 * time.Second)),
		DeliveryError: "",
	}
	check(t, "create reset challenge", s.CreateChallenge(ctx, reset))
	got, err = s.Challenge(ctx, reset.ID)
	check(t, "read reset challenge", err)
	wantEqual(t, "reset challenge", got, reset)

	// Zero State and DeliveryState get their starting values.
	bare := &store.Challenge{ID: "ch-bare", Purpose: "registration", Channel: "email", Destination: "x@example.com",
		CodeHash: []byte{1}, AttemptsLeft: 5, ExpiresAt: at(time.Minute), ResendAfter: t0}
	check(t, "create with zero states", s.CreateChallenge(ctx, bare))
	got, err = s.Challenge(ctx, bare.ID)
	check(t, "read with zero states", err)
	if got.State != "pending" || got.DeliveryState != "queued" || got.CreatedAt.IsZero() {
		t.Errorf("zero states stored as state %q delivery %q created %v, want pending, queued, now",
			got.State, got.DeliveryState, got.CreatedAt)
	}

	dup := *reg
	dup.Destination = "other@example.com"
	wantErr(t, "duplicate id", s.CreateChallenge(ctx, &dup), store.ErrConflict)
	noAccount := *reset
	noAccount.ID, noAccount.MiID = "ch-orphan", "599999999"
	wantErr(t, "challenge of an unknown account", s.CreateChallenge(ctx, &noAccount), store.ErrNotFound)
	_, err = s.Challenge(ctx, "ch-missing")
	wantErr(t, "unknown challenge", err, store.ErrNotFound)

	check(t, "set state", s.SetChallengeState(ctx, reg.ID, "expired"))
	got, err = s.Challenge(ctx, reg.ID)
	check(t, "read after set state", err)
	if got.State != "expired" {
		t.Errorf("state = %q, want expired", got.State)
	}
	wantErr(t, "set state of unknown", s.SetChallengeState(ctx, "ch-missing", "expired"), store.ErrNotFound)
}

func testRenewChallengeCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newChallenge(t, s, "ch-1", "", 5)
	_, _, err := s.SpendAttempt(ctx, c.ID)
	check(t, "spend", err)
	check(t, "set delivery", s.SetDelivery(ctx, c.ID, "failed", at(time.Second), "smtp: 451"))

	newHash := []byte{9, 8, 7, 6}
	check(t, "renew", s.RenewChallengeCode(ctx, c.ID, newHash, 5, at(20*time.Minute), at(11*time.Minute)))
	got, err := s.Challenge(ctx, c.ID)
	check(t, "read", err)
	want := *c
	want.CodeHash = newHash
	want.AttemptsLeft = 5
	want.ExpiresAt = at(20 * time.Minute)
	want.ResendAfter = at(11 * time.Minute)
	want.Sends = c.Sends + 1
	want.DeliveryState, want.DeliveryAt, want.DeliveryError = "queued", nil, ""
	wantEqual(t, "renewed", got, &want)

	// A challenge that is no longer pending cannot be revived by a resend.
	for range 5 {
		_, _, err := s.SpendAttempt(ctx, c.ID)
		check(t, "spend", err)
	}
	wantErr(t, "renew dead", s.RenewChallengeCode(ctx, c.ID, []byte{1}, 5, at(30*time.Minute), at(21*time.Minute)), store.ErrNotFound)
	got, err = s.Challenge(ctx, c.ID)
	check(t, "read dead", err)
	if got.State != "dead" || got.AttemptsLeft != 0 || got.Sends != want.Sends {
		t.Errorf("renewing a dead challenge changed it: state %q attempts %d sends %d", got.State, got.AttemptsLeft, got.Sends)
	}
	wantErr(t, "renew unknown", s.RenewChallengeCode(ctx, "ch-missing", []byte{1}, 5, t0, t0), store.ErrNotFound)
}

func testSetDelivery(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newChallenge(t, s, "ch-1", "", 5)
	steps := []struct {
		state, errText string
		at             time.Time
	}{
		{"failed", "dial tcp: connection refused", at(time.Second)},
		{"sent", "", at(3 * time.Second)},
	}
	for _, st := range steps {
		check(t, "set delivery "+st.state, s.SetDelivery(ctx, c.ID, st.state, st.at, st.errText))
		got, err := s.Challenge(ctx, c.ID)
		check(t, "read", err)
		if got.DeliveryState != st.state || got.DeliveryError != st.errText || got.DeliveryAt == nil || !got.DeliveryAt.Equal(tm(st.at)) {
			t.Errorf("delivery = %q %q %v, want %q %q %v", got.DeliveryState, got.DeliveryError, got.DeliveryAt, st.state, st.errText, tm(st.at))
		}
	}
	wantErr(t, "unknown", s.SetDelivery(ctx, "ch-missing", "sent", t0, ""), store.ErrNotFound)
}

func testSpendAttempt(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newChallenge(t, s, "ch-1", "", 3)
	steps := []struct {
		left  int
		state string
	}{
		{2, "pending"},
		{1, "pending"},
		{0, "dead"},
		{0, "dead"}, // not pending: unchanged
		{0, "dead"},
	}
	for i, want := range steps {
		left, state, err := s.SpendAttempt(ctx, c.ID)
		check(t, "spend", err)
		if left != want.left || state != want.state {
			t.Errorf("spend %d: %d %q, want %d %q", i+1, left, state, want.left, want.state)
		}
	}

	verified := newChallenge(t, s, "ch-2", "", 5)
	ok, err := s.ConsumeChallenge(ctx, verified.ID, t0)
	check(t, "consume", err)
	if !ok {
		t.Fatal("consume a fresh challenge: false")
	}
	left, state, err := s.SpendAttempt(ctx, verified.ID)
	check(t, "spend verified", err)
	if left != 5 || state != "verified" {
		t.Errorf("spend on verified: %d %q, want 5 verified", left, state)
	}

	_, _, err = s.SpendAttempt(ctx, "ch-missing")
	wantErr(t, "spend unknown", err, store.ErrNotFound)
}

// testSpendAttemptRace: 20 wrong codes at once against 5 attempts take each
// attempt once; the count never goes below 0.
func testSpendAttemptRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newChallenge(t, s, "ch-1", "", 5)
	const n = 20
	lefts := make([]int, n)
	states := make([]string, n)
	errs := make([]error, n)
	race(n, func(i int) {
		lefts[i], states[i], errs[i] = s.SpendAttempt(ctx, c.ID)
	})
	for _, err := range errs {
		check(t, "spend", err)
	}
	// The calls that took attempts saw 4, 3, 2, 1 and 0 left; the 0 is
	// indistinguishable from the calls that found the challenge dead.
	count := map[int]int{}
	for i, left := range lefts {
		if left < 0 {
			t.Errorf("a spend returned %d attempts left", left)
		}
		if (left == 0) != (states[i] == "dead") {
			t.Errorf("a spend returned %d left with state %q", left, states[i])
		}
		count[left]++
	}
	want := map[int]int{4: 1, 3: 1, 2: 1, 1: 1, 0: n - 4}
	if !maps.Equal(count, want) {
		t.Errorf("attempts left returned (value: times) %v, want %v", count, want)
	}
	got, err := s.Challenge(ctx, c.ID)
	check(t, "read", err)
	if got.AttemptsLeft != 0 || got.State != "dead" {
		t.Errorf("after the race: %d left, %q; want 0, dead", got.AttemptsLeft, got.State)
	}
}

func testConsumeChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name  string
		setup func(id string)
		now   time.Time
		want  bool
		state string // state after
	}{
		{"pending, in time", nil, at(5 * time.Minute), true, "verified"},
		{"pending, a microsecond before expiry", nil, at(10*time.Minute - time.Microsecond), true, "verified"},
		{"pending, at expiry", nil, at(10 * time.Minute), false, "pending"},
		{"pending, after expiry", nil, at(11 * time.Minute), false, "pending"},
		{"dead", func(id string) { check(t, "kill", s.SetChallengeState(ctx, id, "dead")) }, t0, false, "dead"},
		{"expired", func(id string) { check(t, "expire", s.SetChallengeState(ctx, id, "expired")) }, t0, false, "expired"},
		{"already verified", func(id string) {
			ok, err := s.ConsumeChallenge(ctx, id, t0)
			check(t, "first consume", err)
			if !ok {
				t.Fatal("first consume: false")
			}
		}, t0, false, "verified"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "ch-" + string(rune('a'+i))
			newChallenge(t, s, id, "", 5)
			if tt.setup != nil {
				tt.setup(id)
			}
			ok, err := s.ConsumeChallenge(ctx, id, tt.now)
			check(t, "consume", err)
			if ok != tt.want {
				t.Errorf("consume = %v, want %v", ok, tt.want)
			}
			got, err := s.Challenge(ctx, id)
			check(t, "read", err)
			if got.State != tt.state {
				t.Errorf("state after = %q, want %q", got.State, tt.state)
			}
		})
	}
	_, err := s.ConsumeChallenge(ctx, "ch-missing", t0)
	wantErr(t, "consume unknown", err, store.ErrNotFound)
}

// testConsumeChallengeRace: verifies of one code racing; exactly one wins,
// round after round.
func testConsumeChallengeRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	const rounds, n = 10, 8
	for r := range rounds {
		id := "ch-" + string(rune('a'+r))
		newChallenge(t, s, id, "", 5)
		won := make([]bool, n)
		errs := make([]error, n)
		race(n, func(i int) {
			won[i], errs[i] = s.ConsumeChallenge(ctx, id, at(time.Minute))
		})
		for _, err := range errs {
			check(t, "consume", err)
		}
		if winners := countTrue(won); winners != 1 {
			t.Errorf("round %d: %d of %d racing consumes won, want exactly 1", r, winners, n)
		}
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func testLastChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "600000001", "ana@example.com", "")
	newAccount(t, s, "600000002", "bo@example.com", "")
	_, err := s.LastChallenge(ctx, "600000001")
	wantErr(t, "no challenge yet", err, store.ErrNotFound)

	for i, created := range []time.Time{at(2 * time.Minute), at(5 * time.Minute), at(time.Minute)} {
		c := &store.Challenge{ID: "ch-" + string(rune('a'+i)), Purpose: "recovery", Channel: "email",
			Destination: "ana@example.com", MiID: "600000001", CodeHash: []byte{1}, AttemptsLeft: 5,
			ExpiresAt: created.Add(10 * time.Minute), ResendAfter: created.Add(time.Minute), CreatedAt: created}
		check(t, "create", s.CreateChallenge(ctx, c))
	}
	newChallenge(t, s, "ch-other", "600000002", 5) // another account's, older
	newChallenge(t, s, "ch-reg", "", 5)

	got, err := s.LastChallenge(ctx, "600000001")
	check(t, "last", err)
	if got.ID != "ch-b" {
		t.Errorf("last challenge = %s, want ch-b (the newest)", got.ID)
	}
	got, err = s.LastChallenge(ctx, "600000002")
	check(t, "last of other", err)
	if got.ID != "ch-other" {
		t.Errorf("last challenge of the other account = %s, want ch-other", got.ID)
	}
}
