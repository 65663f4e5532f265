package storetest

import (
	"fmt"
	"testing"
	"time"

	"misetup/server/store"
)

// newHandoff stores an open hand-off whose hashes are "id-"+name and
// "link-"+name, expiring five minutes after t0.
func newHandoff(t *testing.T, s store.Store, name, purpose string) *store.Handoff {
	t.Helper()
	h := &store.Handoff{
		IDHash:    "id-" + name,
		LinkHash:  "link-" + name,
		Purpose:   purpose,
		State:     "open",
		CreatedAt: t0,
		ExpiresAt: at(5 * time.Minute),
	}
	if purpose == "sign_in" {
		h.DeviceID, h.DeviceName, h.DeviceModel, h.DeviceOS = "kiosk-7", "Kiosk 7", "Mi Pad 6", "HyperOS 2"
		h.Kiosk, h.StoreID = "k7", "shanghai-01"
	}
	check(t, "create handoff "+name, s.CreateHandoff(t.Context(), h))
	return h
}

// readHandoff reads the hand-off of idHash, failing t when it cannot.
func readHandoff(t *testing.T, s store.Store, idHash string) *store.Handoff {
	t.Helper()
	h, err := s.Handoff(t.Context(), idHash)
	check(t, "read handoff "+idHash, err)
	return h
}

func testHandoffs(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "800000001", "ana@example.com", "")
	newChallenge(t, s, "ch-reg", "", 5)

	want := newHandoff(t, s, "a", "sign_in")
	got := readHandoff(t, s, "id-a")
	wantEqual(t, "handoff", got, want)
	byLink, err := s.HandoffByLink(ctx, "link-a")
	check(t, "read by link", err)
	wantEqual(t, "handoff by link", byLink, want)

	bare := &store.Handoff{IDHash: "id-bare", LinkHash: "link-bare", Purpose: "registration", ExpiresAt: at(time.Minute),
		Region: "GB", Language: "en"}
	check(t, "create with zero state", s.CreateHandoff(ctx, bare))
	if got := readHandoff(t, s, "id-bare"); got.State != "open" || got.CreatedAt.IsZero() || got.Region != "GB" || got.Language != "en" {
		t.Errorf("zero state stored as %q created %v region %q language %q, want open, now, GB, en", got.State, got.CreatedAt, got.Region, got.Language)
	}

	dupID := *want
	dupID.LinkHash = "link-other"
	wantErr(t, "duplicate id hash", s.CreateHandoff(ctx, &dupID), store.ErrConflict)
	dupLink := *want
	dupLink.IDHash = "id-other"
	wantErr(t, "duplicate link hash", s.CreateHandoff(ctx, &dupLink), store.ErrConflict)
	orphan := *want
	orphan.IDHash, orphan.LinkHash, orphan.MiID = "id-orphan", "link-orphan", "899999999"
	wantErr(t, "handoff of an unknown account", s.CreateHandoff(ctx, &orphan), store.ErrNotFound)
	_, err = s.Handoff(ctx, "id-missing")
	wantErr(t, "unknown id", err, store.ErrNotFound)
	_, err = s.HandoffByLink(ctx, "link-missing")
	wantErr(t, "unknown link", err, store.ErrNotFound)

	// Claim, release, claim again, finish, collect: the life of a sign-in.
	claim := func(ref string, when time.Time) bool {
		t.Helper()
		ok, err := s.ClaimHandoff(ctx, "link-a", ref, when, when.Add(time.Minute))
		check(t, "claim "+ref, err)
		return ok
	}
	if !claim("r1", at(time.Second)) {
		t.Fatal("claim of an open hand-off: false")
	}
	got = readHandoff(t, s, "id-a")
	if got.State != "claimed" || got.ClaimRef != "r1" || got.ClaimedUntil == nil || !got.ClaimedUntil.Equal(tm(at(time.Minute+time.Second))) {
		t.Errorf("claimed: state %q ref %q until %v", got.State, got.ClaimRef, got.ClaimedUntil)
	}
	if claim("r2", at(2*time.Second)) {
		t.Error("a second claim while the first holds: true")
	}
	wantErr(t, "release under another ref", s.ReleaseHandoff(ctx, "link-a", "r2"), store.ErrStale)
	check(t, "release", s.ReleaseHandoff(ctx, "link-a", "r1"))
	if got := readHandoff(t, s, "id-a"); got.State != "open" || got.ClaimRef != "" || got.ClaimedUntil != nil {
		t.Errorf("released: state %q ref %q until %v, want open and no claim", got.State, got.ClaimRef, got.ClaimedUntil)
	}
	wantErr(t, "release again", s.ReleaseHandoff(ctx, "link-a", "r1"), store.ErrStale)

	// A claim whose deadline passed (its process died) is taken over.
	if !claim("r3", at(3*time.Second)) {
		t.Fatal("claim after a release: false")
	}
	if claim("r4", at(time.Minute+3*time.Second-time.Microsecond)) {
		t.Error("a claim a microsecond before the first one's deadline: true")
	}
	if !claim("r4", at(time.Minute+3*time.Second)) {
		t.Fatal("a claim at the first one's deadline: false")
	}
	res := store.HandoffResult{MiID: "800000001", Method: "email"}
	wantErr(t, "finish under the lost claim", s.FinishHandoff(ctx, "link-a", "r3", res, at(time.Minute), at(10*time.Minute)), store.ErrStale)
	check(t, "finish", s.FinishHandoff(ctx, "link-a", "r4", res, at(2*time.Minute), at(7*time.Minute)))
	got = readHandoff(t, s, "id-a")
	done := *want
	done.State, done.MiID, done.Method = "done", "800000001", "email"
	done.DoneAt, done.ExpiresAt = ptr(at(2*time.Minute)), at(7*time.Minute)
	wantEqual(t, "done", got, &done)
	if claim("r5", at(2*time.Minute)) {
		t.Error("claim of a done hand-off: true")
	}
	wantErr(t, "finish twice", s.FinishHandoff(ctx, "link-a", "r4", res, at(2*time.Minute), at(7*time.Minute)), store.ErrStale)

	ok, err := s.CollectHandoff(ctx, "id-a", at(7*time.Minute))
	check(t, "collect at expiry", err)
	if ok {
		t.Error("collect at the hand-off's expiry: true")
	}
	ok, err = s.CollectHandoff(ctx, "id-a", at(3*time.Minute))
	check(t, "collect", err)
	if !ok {
		t.Fatal("collect of a done hand-off: false")
	}
	got = readHandoff(t, s, "id-a")
	if got.State != "collected" || got.CollectedAt == nil || !got.CollectedAt.Equal(tm(at(3*time.Minute))) || got.MiID != "800000001" {
		t.Errorf("collected: state %q at %v account %q", got.State, got.CollectedAt, got.MiID)
	}
	ok, err = s.CollectHandoff(ctx, "id-a", at(3*time.Minute))
	check(t, "collect again", err)
	if ok {
		t.Error("a second collection: true")
	}
	_, err = s.CollectHandoff(ctx, "id-missing", t0)
	wantErr(t, "collect unknown", err, store.ErrNotFound)
	_, err = s.ClaimHandoff(ctx, "link-missing", "r", t0, at(time.Minute))
	wantErr(t, "claim unknown", err, store.ErrNotFound)

	// A registration records its challenge.
	newHandoff(t, s, "b", "registration")
	if !claimOf(t, s, "link-b", "r1", at(time.Second)) {
		t.Fatal("claim of a registration: false")
	}
	check(t, "finish registration", s.FinishHandoff(ctx, "link-b", "r1",
		store.HandoffResult{ChallengeID: "ch-reg", Method: "email"}, at(time.Second), at(6*time.Minute)))
	if got := readHandoff(t, s, "id-b"); got.State != "done" || got.ChallengeID != "ch-reg" || got.MiID != "" {
		t.Errorf("done registration: state %q challenge %q account %q", got.State, got.ChallengeID, got.MiID)
	}
	newHandoff(t, s, "c", "registration")
	claimOf(t, s, "link-c", "r1", at(time.Second))
	wantErr(t, "finish with an unknown challenge", s.FinishHandoff(ctx, "link-c", "r1",
		store.HandoffResult{ChallengeID: "ch-missing"}, at(time.Second), at(6*time.Minute)), store.ErrNotFound)
}

// claimOf claims the hand-off of linkHash under ref at when, for a minute.
func claimOf(t *testing.T, s store.Store, linkHash, ref string, when time.Time) bool {
	t.Helper()
	ok, err := s.ClaimHandoff(t.Context(), linkHash, ref, when, when.Add(time.Minute))
	check(t, "claim "+linkHash, err)
	return ok
}

// testHandoffExpiry: an open hand-off cannot be claimed at or after its
// expiry, and a done one cannot be collected then.
func testHandoffExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "800000002", "bo@example.com", "")
	newHandoff(t, s, "a", "sign_in")
	if claimOf(t, s, "link-a", "r1", at(5*time.Minute)) {
		t.Error("claim at the expiry: true")
	}
	if !claimOf(t, s, "link-a", "r1", at(5*time.Minute-time.Microsecond)) {
		t.Fatal("claim a microsecond before the expiry: false")
	}
	// The claim outlives the link's expiry: the submission finishes.
	check(t, "finish after the link's expiry", s.FinishHandoff(ctx, "link-a", "r1",
		store.HandoffResult{MiID: "800000002", Method: "email"}, at(5*time.Minute+time.Second), at(10*time.Minute)))
	ok, err := s.CollectHandoff(ctx, "id-a", at(10*time.Minute))
	check(t, "collect at expiry", err)
	if ok {
		t.Error("collect at the collection's end: true")
	}
	if got := readHandoff(t, s, "id-a"); got.State != "done" {
		t.Errorf("after a late collection the state is %q, want done", got.State)
	}

	// Expired hand-offs are purged; the others stay.
	newHandoff(t, s, "b", "registration")
	n, err := s.PurgeHandoffs(ctx, at(6*time.Minute))
	check(t, "purge", err)
	if n != 1 {
		t.Errorf("purged %d hand-offs, want 1 (b expired, a lives until its collection's end)", n)
	}
	_, err = s.Handoff(ctx, "id-b")
	wantErr(t, "a purged hand-off", err, store.ErrNotFound)
	readHandoff(t, s, "id-a")
}

// testHandoffClaimRace: many submissions of one link at once: exactly one
// claims it.
func testHandoffClaimRace(t *testing.T, s store.Store) {
	newHandoff(t, s, "a", "registration")
	const n = 16
	wins := make([]bool, n)
	errs := make([]error, n)
	race(n, func(i int) {
		wins[i], errs[i] = s.ClaimHandoff(t.Context(), "link-a", fmt.Sprint("r", i), at(time.Second), at(time.Minute))
	})
	won := 0
	for i := range n {
		check(t, "claim", errs[i])
		if wins[i] {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d racing claims of one link: %d won, want exactly 1", n, won)
	}
}

// testHandoffCollectRace: many collections of one done hand-off at once:
// exactly one collects it, also when each runs in a transaction that goes
// on writing after its collection (as the server's does, opening the
// session).
func testHandoffCollectRace(t *testing.T, s store.Store) {
	newAccount(t, s, "800000003", "cy@example.com", "")
	for _, inTx := range []bool{false, true} {
		name := fmt.Sprint("tx-", inTx)
		newHandoff(t, s, name, "sign_in")
		claimOf(t, s, "link-"+name, "r", at(time.Second))
		check(t, "finish", s.FinishHandoff(t.Context(), "link-"+name, "r",
			store.HandoffResult{MiID: "800000003", Method: "email"}, at(time.Second), at(5*time.Minute)))
		const n = 16
		wins := make([]bool, n)
		errs := make([]error, n)
		race(n, func(i int) {
			collect := func(st store.Store) error {
				var err error
				wins[i], err = st.CollectHandoff(t.Context(), "id-"+name, at(2*time.Second))
				if err != nil || !wins[i] {
					return err
				}
				return st.CreateSession(t.Context(), &store.Session{
					TokenHash: fmt.Sprint(name, "-", i), MiID: "800000003", DeviceID: "kiosk-7",
					CreatedAt: at(2 * time.Second), ExpiresAt: at(time.Hour),
				})
			}
			if inTx {
				errs[i] = s.InTx(t.Context(), collect)
			} else {
				errs[i] = collect(s)
			}
		})
		won := 0
		for i := range n {
			check(t, "collect", errs[i])
			if wins[i] {
				won++
			}
		}
		if won != 1 {
			t.Errorf("%s: %d racing collections of one hand-off: %d won, want exactly 1", name, n, won)
		}
	}
}
