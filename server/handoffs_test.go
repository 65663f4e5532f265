package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"misetup/api"
	"misetup/server/policy"
)

// testPublicURL is the public address of the services of these tests.
const testPublicURL = "https://store.example.com"

// withPublicURL gives the service a public address: it offers hand-offs.
func withPublicURL(c *Config) { c.PublicURL = testPublicURL }

// kioskHdr are the headers of the store kiosk of these tests.
var kioskHdr = []string{api.HeaderKiosk, "kiosk-7", api.HeaderStore, "store-beijing-1"}

// kioskDevice is the kiosk's own device.
var kioskDevice = api.Device{ID: "kiosk-7", Name: "Store kiosk", Model: "Mi Pad 6"}

// newHandoff asks for a hand-off as the kiosk and returns it with its
// link's token.
func (e *env) newHandoff(req api.HandoffRequest) (api.Handoff, string) {
	e.t.Helper()
	var h api.Handoff
	e.do("POST", "/v1/handoffs", req, kioskHdr...).into(e.t, http.StatusCreated, &h)
	token, ok := strings.CutPrefix(h.URL, testPublicURL+"/h/")
	if !ok || len(token) != 22 || len(h.ID) != 43 {
		e.t.Fatalf("hand-off id %q, url %q: want a 43-character id (256 bits) and a 22-character link (128 bits) under %s/h/", h.ID, h.URL, testPublicURL)
	}
	return h, token
}

// pollHandoff is the kiosk's GET of its hand-off; query is "" or "?wait=N".
func (e *env) pollHandoff(id, query string, hdr ...string) api.Handoff {
	e.t.Helper()
	var h api.Handoff
	e.do("GET", "/v1/handoffs/"+id+query, nil, hdr...).into(e.t, http.StatusOK, &h)
	if h.ID != id || h.URL != "" {
		e.t.Fatalf("poll answered id %q url %q; want the id asked with and no url", h.ID, h.URL)
	}
	return h
}

// link is the phone's GET of the link.
func (e *env) link(token string) resp {
	return e.do("GET", "/v1/handoffs/link/"+token, nil)
}

// linkState is the state the phone's GET of the link shows, failing on
// anything but 200.
func (e *env) linkState(token string) string {
	e.t.Helper()
	var l api.HandoffLink
	e.link(token).into(e.t, http.StatusOK, &l)
	return l.State
}

// submit is the phone's POST of the link.
func (e *env) submit(token string, c api.HandoffCompletion) resp {
	return e.do("POST", "/v1/handoffs/link/"+token, c)
}

func TestHandoffNeedsPublicURL(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/v1/handoffs", api.HandoffRequest{Purpose: api.PurposeRegistration}, kioskHdr...).
		apiErr(t, http.StatusNotFound, api.CodeHandoffUnavailable)
	var st api.Status
	r := e.do("GET", "/v1/status", nil)
	r.into(t, http.StatusOK, &st)
	if st.PublicURL != "" || strings.Contains(string(r.body), "public_url") {
		t.Errorf("status %s: want no public_url", r.body)
	}

	e = newEnv(t, func(c *Config) { c.PublicURL = testPublicURL + "/" })
	e.do("GET", "/v1/status", nil).into(t, http.StatusOK, &st)
	if st.PublicURL != testPublicURL {
		t.Errorf("status public_url %q, want %q (no trailing slash)", st.PublicURL, testPublicURL)
	}
	e.newHandoff(api.HandoffRequest{Purpose: api.PurposeRegistration})

	for _, bad := range []string{"store.example.com", "ftp://store.example.com", "https://", "https://store.example.com/?a=1", "https://u:p@store.example.com"} {
		cfg := DefaultConfig()
		cfg.Keys = testKeys()
		cfg.PublicURL = bad
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "PublicURL") {
			t.Errorf("PublicURL %q: validate = %v, want it refused", bad, err)
		}
	}
}

// TestHandoffRegistration: the kiosk asks, the phone creates the account
// (a weak password first), the kiosk goes on to the code step with the
// registration's challenge, and the code sent verifies it; the link then
// works no more.
func TestHandoffRegistration(t *testing.T) {
	e := newEnv(t, withPublicURL)
	created := e.clock.Now()
	h, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeRegistration, Region: "gb", Language: "en", Device: api.Device{Name: "ignored"}})
	if h.State != api.HandoffOpen || h.Purpose != api.PurposeRegistration || !h.ExpiresAt.Equal(created.Add(5*time.Minute)) {
		t.Fatalf("created %+v; want open, registration, expiring in 5 minutes", h)
	}

	var l api.HandoffLink
	e.link(token).into(t, http.StatusOK, &l)
	want := api.HandoffLink{Purpose: api.PurposeRegistration, State: api.HandoffOpen, ExpiresAt: h.ExpiresAt, Region: "GB", Language: "en"}
	if l != want {
		t.Errorf("link %+v, want %+v", l, want)
	}
	if p := e.pollHandoff(h.ID, ""); p.State != api.HandoffOpen || p.Challenge != nil || p.Session != nil {
		t.Errorf("poll before the phone: %+v", p)
	}

	// Mistakes the customer can correct give the link back.
	e.submit(token, api.HandoffCompletion{Method: "email", Identifier: "ann@example.com", Password: "password1"}).
		apiErr(t, http.StatusBadRequest, api.CodeWeakPassword)
	e.submit(token, api.HandoffCompletion{Method: "fax", Identifier: "ann@example.com", Password: testPassword}).
		apiErr(t, http.StatusBadRequest, api.CodeInvalidInput)
	if ae := e.submit(token, api.HandoffCompletion{Method: "email", Identifier: "ann@example.com", Password: testPassword, TOTP: "123456"}).
		apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != "totp" {
		t.Errorf("totp on a registration: field %q, want totp", ae.Field)
	}
	if st := e.linkState(token); st != api.HandoffOpen {
		t.Fatalf("after refused submissions the link is %s, want open", st)
	}

	e.clock.Advance(time.Minute)
	e.submit(token, api.HandoffCompletion{Method: "email", Identifier: "ann@example.com", Password: testPassword}).
		into(t, http.StatusOK, &l)
	if l.State != api.HandoffDone || !l.ExpiresAt.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Errorf("submission answered %+v; want done, the kiosk's 5 minutes from now", l)
	}

	p := e.pollHandoff(h.ID, "", kioskHdr...)
	if p.State != api.HandoffDone || p.Challenge == nil || p.Session != nil {
		t.Fatalf("poll after the phone: %+v; want done with the challenge", p)
	}
	c := *p.Challenge
	if c.Purpose != api.PurposeRegistration || c.State != api.ChallengePending || c.Destination != "a***@example.com" {
		t.Errorf("challenge %+v", c)
	}
	if again := e.pollHandoff(h.ID, ""); again.State != api.HandoffDone || again.Challenge == nil || again.Challenge.ID != c.ID {
		t.Errorf("a second poll of a done registration: %+v; want the same challenge", again)
	}
	if m := e.lastMessageTo("ann@example.com"); !strings.Contains(m.Subject+m.Body, "Mi Account") {
		t.Errorf("message %+v", m)
	}

	var out api.VerifyResponse
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: e.codeFor("ann@example.com"), Device: &kioskDevice}, kioskHdr...).
		into(t, http.StatusOK, &out)
	if out.Account.Email != "ann@example.com" || out.Account.Region != "GB" || out.Account.Language != "en" || out.Session == nil {
		t.Errorf("verified %+v; want ann's account, region GB, language en, signed in", out)
	}

	// Used: the link is refused, a replay included.
	e.submit(token, api.HandoffCompletion{Method: "email", Identifier: "bo@example.com", Password: testPassword}).
		apiErr(t, http.StatusGone, api.CodeHandoffUsed)
	e.link(token).apiErr(t, http.StatusGone, api.CodeHandoffUsed)

	for _, ev := range []string{"handoff_created", "handoff_completed"} {
		found := false
		for _, a := range e.audits() {
			found = found || (a.Event == ev && a.Kiosk == "kiosk-7" && a.StoreID == "store-beijing-1")
		}
		if !found {
			t.Errorf("no %s audit event with the kiosk", ev)
		}
	}
	checkNoSecretsStored(t, e, h.ID, token)
}

// checkNoSecretsStored: the store keeps the hand-off's id and link only as
// keyed hashes, and the audit log neither.
func checkNoSecretsStored(t *testing.T, e *env, id, token string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.st.Handoff(ctx, id); err == nil {
		t.Error("the hand-off is found by its plain id")
	}
	if _, err := e.st.HandoffByLink(ctx, token); err == nil {
		t.Error("the hand-off is found by its plain link")
	}
	h, err := e.st.Handoff(ctx, policy.HandoffHash(testKeys().HMAC, "id", id))
	if err != nil {
		t.Fatalf("the hand-off by the keyed hash of its id: %v", err)
	}
	if h.LinkHash != policy.HandoffHash(testKeys().HMAC, "link", token) {
		t.Error("the link is not stored as its keyed hash")
	}
	raw, _ := json.Marshal(e.audits())
	if strings.Contains(string(raw), id) || strings.Contains(string(raw), token) || strings.Contains(string(raw), testPassword) {
		t.Error("the audit log holds a secret")
	}
}

// TestHandoffRegistrationTellsNothing: a taken identifier answers as a free
// one; the code proves the address before 409 account_exists.
func TestHandoffRegistrationTellsNothing(t *testing.T) {
	e := newEnv(t, withPublicURL)
	e.signUp("ann@example.com", "phone")
	h, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeRegistration})
	e.submit(token, api.HandoffCompletion{Method: "email", Identifier: "ann@example.com", Password: testPassword}).into(t, http.StatusOK, nil)
	p := e.pollHandoff(h.ID, "")
	if p.State != api.HandoffDone || p.Challenge == nil {
		t.Fatalf("poll %+v", p)
	}
	e.do("POST", "/v1/challenges/"+p.Challenge.ID+"/verify", api.VerifyRequest{Code: e.codeFor("ann@example.com")}).
		apiErr(t, http.StatusConflict, api.CodeAccountExists)
}

// TestHandoffSignIn: an account with two-step verification signs in on
// the phone (a wrong password, then no code, then the code, all on one
// link); the kiosk's poll gets the session on its device, once.
func TestHandoffSignIn(t *testing.T) {
	e := newEnv(t, withPublicURL)
	ann := e.signUp("ann@example.com", "phone")
	secret, _ := enableTOTP(t, e, ann.Token)
	e.clock.Advance(time.Minute) // past the step used to confirm

	h, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeSignIn, Device: kioskDevice})
	if h.Purpose != api.PurposeSignIn || h.State != api.HandoffOpen {
		t.Fatalf("created %+v", h)
	}
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: "Wrong-Kettle-1"}).
		apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword}).
		apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)
	if ae := e.submit(token, api.HandoffCompletion{Method: "email", Identifier: "ann@example.com", Password: testPassword}).
		apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != "method" {
		t.Errorf("method on a sign-in: field %q, want method", ae.Field)
	}
	if p := e.pollHandoff(h.ID, "", kioskHdr...); p.State != api.HandoffOpen || p.Session != nil {
		t.Fatalf("poll after refused submissions: %+v; want open", p)
	}

	code, err := totp.GenerateCode(secret, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var l api.HandoffLink
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword, TOTP: code}).into(t, http.StatusOK, &l)
	if l.State != api.HandoffDone {
		t.Fatalf("submission answered %+v; want done", l)
	}
	if got := e.devicesOf(ann.Account.MiID); len(got) != 1 {
		t.Errorf("after the phone's submission ann has the devices %q; want her phone only (the kiosk's comes with the session)", got)
	}

	// The first poll collects the session, on the kiosk's device and by
	// the kiosk's rules (the hand-off was asked for by the kiosk, though
	// this poll names none).
	p := e.pollHandoff(h.ID, "")
	if p.State != api.HandoffCollected || p.Session == nil || p.Session.Token == "" {
		t.Fatalf("first poll after the phone: %+v; want collected with a session", p)
	}
	s := *p.Session
	if s.Account.MiID != ann.Account.MiID || s.Device.ID != kioskDevice.ID || s.Device.Name != kioskDevice.Name || !s.Device.Current {
		t.Errorf("session %+v; want ann's, on the kiosk", s)
	}
	stored, err := e.st.Session(context.Background(), policy.HashToken(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	if stored.Kiosk != "kiosk-7" || stored.StoreID != "store-beijing-1" || stored.IdleTimeout != 15*time.Minute {
		t.Errorf("stored session kiosk %q store %q idle %v; want a kiosk session", stored.Kiosk, stored.StoreID, stored.IdleTimeout)
	}
	var a api.Account
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, &a)

	// Once only.
	if again := e.pollHandoff(h.ID, "", kioskHdr...); again.State != api.HandoffCollected || again.Session != nil {
		t.Errorf("second poll: %+v; want collected without a session", again)
	}
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword, TOTP: code}).
		apiErr(t, http.StatusGone, api.CodeHandoffUsed)
	e.link(token).apiErr(t, http.StatusGone, api.CodeHandoffUsed)

	if n := countAudit(e, ann.Account.MiID, "sign_in_failed"); n != 1 {
		t.Errorf("%d sign_in_failed events, want 1 (the wrong password; a missing code is no failure)", n)
	}
	for _, ev := range []string{"handoff_completed", "handoff_collected"} {
		if countAudit(e, ann.Account.MiID, ev) != 1 {
			t.Errorf("want one %s event of ann", ev)
		}
	}
	checkNoSecretsStored(t, e, h.ID, token)
}

// devicesOf lists the ids of an account's devices.
func (e *env) devicesOf(miID string) []string {
	e.t.Helper()
	devs, err := e.st.Devices(context.Background(), miID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range devs {
		out = append(out, d.ID)
	}
	return out
}

// countAudit counts an account's events of one name.
func countAudit(e *env, miID, event string) int {
	n := 0
	for _, a := range e.audits() {
		if a.MiID == miID && a.Event == event {
			n++
		}
	}
	return n
}

// TestHandoffSignInLock: failures on the phone count against the same lock
// as POST /v1/sessions, and a lock is answered 423 there too.
func TestHandoffSignInLock(t *testing.T) {
	e := newEnv(t, withPublicURL)
	e.signUp("ann@example.com", "phone")
	for range 4 {
		e.signIn("ann@example.com", "Wrong-Kettle-1", "laptop").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
	}
	_, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeSignIn, Device: kioskDevice})
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: "Wrong-Kettle-1"}).
		apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword}).
		apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	e.signIn("ann@example.com", testPassword, "laptop").apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	if st := e.linkState(token); st != api.HandoffOpen {
		t.Errorf("after a lock the link is %s, want open (it expires on its own)", st)
	}
}

func TestHandoffExpires(t *testing.T) {
	e := newEnv(t, withPublicURL)
	e.signUp("ann@example.com", "phone")
	h, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeSignIn, Device: kioskDevice})
	e.clock.Advance(5*time.Minute - time.Second)
	if st := e.linkState(token); st != api.HandoffOpen {
		t.Fatalf("a second before expiry the link is %s", st)
	}
	e.clock.Advance(time.Second)
	e.link(token).apiErr(t, http.StatusGone, api.CodeLinkExpired)
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword}).
		apiErr(t, http.StatusGone, api.CodeLinkExpired)
	if p := e.pollHandoff(h.ID, ""); p.State != api.HandoffExpired {
		t.Errorf("poll after expiry: %+v", p)
	}

	// A done sign-in the kiosk does not collect in time is gone too.
	h, token = e.newHandoff(api.HandoffRequest{Purpose: api.PurposeSignIn, Device: kioskDevice})
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword}).into(t, http.StatusOK, nil)
	e.clock.Advance(5 * time.Minute)
	if p := e.pollHandoff(h.ID, ""); p.State != api.HandoffExpired || p.Session != nil {
		t.Errorf("poll of a done sign-in after its time: %+v; want expired, no session", p)
	}
	e.link(token).apiErr(t, http.StatusGone, api.CodeLinkExpired)
}

// TestHandoffBusy: while one submission holds the link another is 409;
// a claim whose process died holds it only until its deadline.
func TestHandoffBusy(t *testing.T) {
	e := newEnv(t, withPublicURL)
	e.signUp("ann@example.com", "phone")
	h, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeSignIn, Device: kioskDevice})
	now := e.clock.Now()
	ok, err := e.st.ClaimHandoff(context.Background(), policy.HandoffHash(testKeys().HMAC, "link", token), "crashed", now, now.Add(time.Minute))
	if err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword}).
		apiErr(t, http.StatusConflict, api.CodeHandoffBusy)
	if st := e.linkState(token); st != api.HandoffClaimed {
		t.Errorf("link while claimed: %s", st)
	}
	if p := e.pollHandoff(h.ID, ""); p.State != api.HandoffClaimed {
		t.Errorf("poll while claimed: %+v", p)
	}
	e.clock.Advance(time.Minute)
	if st := e.linkState(token); st != api.HandoffOpen {
		t.Errorf("link once the claim ran out: %s, want open", st)
	}
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword}).into(t, http.StatusOK, nil)
	if p := e.pollHandoff(h.ID, ""); p.State != api.HandoffCollected || p.Session == nil {
		t.Errorf("poll after the submission: %+v", p)
	}
}

// TestHandoffLongPoll: a kiosk waiting on its hand-off hears of the phone
// at once, and a wait with no news answers as it is.
func TestHandoffLongPoll(t *testing.T) {
	e := newEnv(t, withPublicURL)
	e.signUp("ann@example.com", "phone")
	h, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeSignIn, Device: kioskDevice})

	start := time.Now()
	if p := e.pollHandoff(h.ID, "?wait=1"); p.State != api.HandoffOpen || time.Since(start) < time.Second {
		t.Errorf("a wait with no news answered %+v after %v; want open after 1 s", p, time.Since(start))
	}

	got := make(chan api.Handoff, 1)
	start = time.Now()
	go func() {
		var p api.Handoff
		r := e.do("GET", "/v1/handoffs/"+h.ID+"?wait=20", nil, kioskHdr...)
		_ = json.Unmarshal(r.body, &p)
		got <- p
	}()
	time.Sleep(200 * time.Millisecond)
	e.submit(token, api.HandoffCompletion{Identifier: "ann@example.com", Password: testPassword}).into(t, http.StatusOK, nil)
	var p api.Handoff
	select {
	case p = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the long poll never answered")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the long poll answered after %v; want at once", took)
	}
	switch p.State {
	case api.HandoffClaimed: // it woke at the claim: the next poll collects
		p = e.pollHandoff(h.ID, "?wait=20", kioskHdr...)
	case api.HandoffCollected:
	default:
		t.Fatalf("long poll answered %+v", p)
	}
	if p.State != api.HandoffCollected || p.Session == nil {
		t.Errorf("long poll answered %+v; want the session", p)
	}
}

func TestHandoffBadInput(t *testing.T) {
	e := newEnv(t, withPublicURL)
	h, token := e.newHandoff(api.HandoffRequest{Purpose: api.PurposeSignIn, Device: kioskDevice})
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		code, field  string
	}{
		{"no purpose", "POST", "/v1/handoffs", `{}`, 400, api.CodeInvalidInput, "purpose"},
		{"unknown purpose", "POST", "/v1/handoffs", `{"purpose":"password_reset"}`, 400, api.CodeInvalidInput, "purpose"},
		{"sign-in without device", "POST", "/v1/handoffs", `{"purpose":"sign_in"}`, 400, api.CodeInvalidInput, "device.id"},
		{"bad region", "POST", "/v1/handoffs", `{"purpose":"registration","region":"China"}`, 400, api.CodeInvalidInput, "region"},
		{"bad language", "POST", "/v1/handoffs", `{"purpose":"registration","language":"english!"}`, 400, api.CodeInvalidInput, "language"},
		{"unknown field", "POST", "/v1/handoffs", `{"purpose":"registration","password":"x"}`, 400, api.CodeInvalidInput, "password"},
		{"unknown hand-off", "GET", "/v1/handoffs/" + strings.Repeat("A", 43), ``, 404, api.CodeNotFound, ""},
		{"overlong id", "GET", "/v1/handoffs/" + strings.Repeat("A", 100), ``, 404, api.CodeNotFound, ""},
		{"wait over 25", "GET", "/v1/handoffs/" + h.ID + "?wait=26", ``, 400, api.CodeInvalidInput, "wait"},
		{"wait not a number", "GET", "/v1/handoffs/" + h.ID + "?wait=soon", ``, 400, api.CodeInvalidInput, "wait"},
		{"unknown link", "GET", "/v1/handoffs/link/" + strings.Repeat("A", 43), ``, 404, api.CodeNotFound, ""},
		{"the id is no link", "GET", "/v1/handoffs/link/" + h.ID, ``, 404, api.CodeNotFound, ""},
		{"the link is no id", "GET", "/v1/handoffs/" + token, ``, 404, api.CodeNotFound, ""},
		{"submit to an unknown link", "POST", "/v1/handoffs/link/" + strings.Repeat("A", 43), `{"identifier":"a","password":"b"}`, 404, api.CodeNotFound, ""},
		{"sign-in without identifier", "POST", "/v1/handoffs/link/" + token, `{"password":"x"}`, 400, api.CodeInvalidInput, "identifier"},
		{"sign-in without password", "POST", "/v1/handoffs/link/" + token, `{"identifier":"ann@example.com"}`, 400, api.CodeInvalidInput, "password"},
		{"submission not JSON", "POST", "/v1/handoffs/link/" + token, `identifier=ann`, 400, api.CodeInvalidInput, ""},
		{"submission with an unknown field", "POST", "/v1/handoffs/link/" + token, `{"identifier":"a","password":"b","device":{}}`, 400, api.CodeInvalidInput, "device"},
		{"delete a hand-off", "DELETE", "/v1/handoffs/" + h.ID, ``, 405, api.CodeMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			ae := e.do(tt.method, tt.path, body).apiErr(t, tt.status, tt.code)
			if ae.Field != tt.field {
				t.Errorf("field %q, want %q", ae.Field, tt.field)
			}
		})
	}
	if st := e.linkState(token); st != api.HandoffOpen {
		t.Errorf("after bad submissions the link is %s, want open", st)
	}
}

// TestHandoffAddressCeiling: one client address makes at most
// HandoffsPerAddress hand-offs an hour (a flood ceiling: a store's kiosks
// share one address); then 429 with when to try again.
func TestHandoffAddressCeiling(t *testing.T) {
	e := newEnv(t, withPublicURL, func(c *Config) { c.HandoffsPerAddress = 2 })
	e.newHandoff(api.HandoffRequest{Purpose: api.PurposeRegistration})
	e.newHandoff(api.HandoffRequest{Purpose: api.PurposeRegistration})
	r := e.do("POST", "/v1/handoffs", api.HandoffRequest{Purpose: api.PurposeRegistration}, kioskHdr...)
	r.apiErr(t, http.StatusTooManyRequests, api.CodeRateLimited)
	e.clock.Advance(time.Hour)
	e.newHandoff(api.HandoffRequest{Purpose: api.PurposeRegistration})
}
