package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"misetup/api"
	"misetup/server/policy"
)

func startReset(t *testing.T, e *env, req api.PasswordResetRequest) (api.Challenge, resp) {
	t.Helper()
	r := e.do("POST", "/v1/password-resets", req)
	var c api.Challenge
	r.into(t, http.StatusAccepted, &c)
	return c, r
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	other := e.session("ann@example.com", testPassword, "laptop")
	c, _ := startReset(t, e, api.PasswordResetRequest{Identifier: "ann@example.com"})
	if c.Purpose != api.PurposePasswordReset || c.Destination != "a***@example.com" {
		t.Errorf("challenge %+v", c)
	}
	m := e.lastMessageTo("ann@example.com")
	if !strings.Contains(m.Body, "reset the password") {
		t.Errorf("message %q", m.Body)
	}
	code := e.codeFor("ann@example.com")

	// A weak new password is refused without spending the code.
	r := e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code, NewPassword: "password"})
	ae := r.apiErr(t, http.StatusBadRequest, api.CodeWeakPassword)
	if ae.Field != "new_password" || !slices.Contains(ae.Reasons, "common") {
		t.Errorf("weak password answer %+v", ae)
	}
	r = e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code})
	if ae := r.apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != "new_password" {
		t.Errorf("missing new_password: field %q", ae.Field)
	}
	var out api.VerifyResponse
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code, NewPassword: "Green-Teapot-99"}).
		into(t, http.StatusOK, &out)
	if out.Account.MiID != s.Account.MiID || out.Session != nil {
		t.Errorf("answer %+v", out)
	}
	// Every session is signed out; the new password works, the old does not.
	for _, tok := range []string{s.Token, other.Token} {
		e.do("GET", "/v1/account", nil, auth(tok)...).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
	}
	e.signIn("ann@example.com", testPassword, "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
	e.session("ann@example.com", "Green-Teapot-99", "d")
	if !e.hasAudit(s.Account.MiID, "password_reset") {
		t.Error("no password_reset audit event")
	}
}

func TestPasswordResetForNoAccount(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "phone")
	known, kr := startReset(t, e, api.PasswordResetRequest{Identifier: "ann@example.com"})
	unknown, ur := startReset(t, e, api.PasswordResetRequest{Identifier: "nobody@example.com"})
	if kk, uk := jsonKeys(t, kr.body), jsonKeys(t, ur.body); !slices.Equal(kk, uk) {
		t.Errorf("answers differ in shape:\nknown   %v\nunknown %v", kk, uk)
	}
	known.ID, unknown.ID, known.Destination, unknown.Destination = "", "", "", ""
	if known != unknown {
		t.Errorf("answers differ:\nknown   %+v\nunknown %+v", known, unknown)
	}
	// The address learns there is no account; no code is in the message.
	m := e.lastMessageTo("nobody@example.com")
	if !strings.Contains(m.Body, "no Mi Account uses it") || codeRe.MatchString(m.Body) {
		t.Errorf("message %q: want the no-account notice without a code", m.Body)
	}
	// Codes count down and die as for a real reset.
	_, ur = startReset(t, e, api.PasswordResetRequest{Identifier: "nobody2@example.com"})
	var c api.Challenge
	ur.into(t, 202, &c)
	for want := 4; want >= 1; want-- {
		r := e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: "123456", NewPassword: "Green-Teapot-99"})
		if ae := r.apiErr(t, http.StatusBadRequest, api.CodeInvalidCode); ae.Attempts() != want {
			t.Fatalf("attempts_left %d, want %d", ae.Attempts(), want)
		}
	}
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: "123456", NewPassword: "Green-Teapot-99"}).
		apiErr(t, http.StatusTooManyRequests, api.CodeTooManyAttempts)
}

// TestPasswordResetByMiIDTellsNothing asks for resets by Mi ID, as someone
// trying to learn which address a Mi ID has: the answer for a real account
// and for Mi IDs with none look the same, and the resets do not use up the
// real address's send rate, which a registration to it would show.
func TestPasswordResetByMiIDTellsNothing(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	real, _ := startReset(t, e, api.PasswordResetRequest{Identifier: s.Account.MiID})
	view := func(c api.Challenge) api.Challenge {
		c.ID = ""
		return c
	}
	var unknown []api.Challenge
	for i := range 12 {
		c, _ := startReset(t, e, api.PasswordResetRequest{Identifier: fmt.Sprintf("98765432%d", i)})
		unknown = append(unknown, c)
	}
	sameAsReal := 0
	for _, c := range unknown {
		if c.Destination != policy.MaskHidden(c.Channel) {
			t.Errorf("unknown Mi ID: destination %q, want hidden", c.Destination)
		}
		if view(c) == view(real) {
			sameAsReal++
		}
	}
	if real.Destination != policy.MaskHidden(api.ChannelEmail) || sameAsReal == 0 || sameAsReal == len(unknown) {
		t.Errorf("real account: %+v; %d of %d unknown Mi IDs answered the same: want the hidden email, and both channels among unknown Mi IDs",
			real, sameAsReal, len(unknown))
	}
	for range 4 { // 5 in all: the rate of resets by this Mi ID is used up
		startReset(t, e, api.PasswordResetRequest{Identifier: s.Account.MiID})
	}
	e.do("POST", "/v1/password-resets", api.PasswordResetRequest{Identifier: s.Account.MiID}).
		apiErr(t, http.StatusTooManyRequests, api.CodeRateLimited)
	// The address's own rate is untouched: a registration to it is sent.
	e.do("POST", "/v1/registrations", api.RegistrationRequest{Method: "email", Identifier: "ann@example.com", Password: testPassword}).
		into(t, http.StatusAccepted, nil)
}

func TestPasswordResetByUnknownMiIDSendsNothing(t *testing.T) {
	e := newEnv(t)
	c, _ := startReset(t, e, api.PasswordResetRequest{Identifier: "987654321"})
	again, _ := startReset(t, e, api.PasswordResetRequest{Identifier: "987654321"})
	if c.Destination != again.Destination || c.Channel != again.Channel || c.Destination != policy.MaskHidden(c.Channel) {
		t.Errorf("destinations %s %q, %s %q: want the same, hidden, on every request", c.Channel, c.Destination, again.Channel, again.Destination)
	}
	e.settle()
	if n := len(e.courier.messages()); n != 0 {
		t.Errorf("%d messages sent to a decoy, want none", n)
	}
	var got api.Challenge
	e.do("GET", "/v1/challenges/"+c.ID, nil).into(t, http.StatusOK, &got)
	if got.Delivery.State != api.DeliverySent {
		t.Errorf("decoy delivery %q, want it to look sent", got.Delivery.State)
	}
}

// addRecovery sets and verifies a recovery email for the session's account.
func addRecovery(t *testing.T, e *env, token, email string) api.Account {
	t.Helper()
	var c api.Challenge
	e.do("PUT", "/v1/account/recovery", api.RecoveryRequest{Email: email}, auth(token)...).into(t, http.StatusAccepted, &c)
	if c.Purpose != api.PurposeRecovery {
		t.Fatalf("challenge %+v", c)
	}
	var out api.VerifyResponse
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: e.codeFor(email)}, auth(token)...).into(t, http.StatusOK, &out)
	return out.Account
}

func TestRecoveryContact(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	var c api.Challenge
	e.do("PUT", "/v1/account/recovery", api.RecoveryRequest{Email: "ann.backup@example.org"}, auth(s.Token)...).into(t, http.StatusAccepted, &c)

	// Not stored before it is verified.
	var a api.Account
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, &a)
	if a.RecoveryEmail != "" {
		t.Errorf("recovery email %q before verification", a.RecoveryEmail)
	}
	code := e.codeFor("ann.backup@example.org")
	if m := e.lastMessageTo("ann.backup@example.org"); !strings.Contains(m.Body, s.Account.MiID) {
		t.Errorf("message %q does not name the account", m.Body)
	}
	// Another account, or nobody, cannot see or verify it.
	b := e.signUp("bob@example.com", "bobs-phone")
	e.do("GET", "/v1/challenges/"+c.ID, nil, auth(b.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code}, auth(b.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code}).apiErr(t, http.StatusNotFound, api.CodeNotFound)

	var out api.VerifyResponse
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code}, auth(s.Token)...).into(t, http.StatusOK, &out)
	if out.Account.RecoveryEmail != "a***@example.org" {
		t.Errorf("recovery email %q, want it masked", out.Account.RecoveryEmail)
	}
	stored, err := e.st.AccountByMiID(context.Background(), s.Account.MiID)
	if err != nil || stored.RecoveryEmail != "ann.backup@example.org" {
		t.Errorf("stored %+v, %v", stored, err)
	}
}

func TestPasswordResetViaRecoveryEmail(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	addRecovery(t, e, s.Token, "ann.backup@example.org")
	before := len(e.courier.messages())
	c, _ := startReset(t, e, api.PasswordResetRequest{Identifier: "ann@example.com", Via: "recovery_email"})
	if c.Destination != policy.MaskHidden(api.ChannelEmail) {
		t.Errorf("destination %q, want it hidden (the requester did not type it)", c.Destination)
	}
	code := e.codeFor("ann.backup@example.org")
	if n := len(e.courier.messages()); n != before+1 {
		t.Errorf("%d new messages, want 1 (to the recovery email only)", n-before)
	}
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code, NewPassword: "Green-Teapot-99"}).into(t, http.StatusOK, nil)
	e.session("ann@example.com", "Green-Teapot-99", "d")

	// Without a recovery phone, via recovery_phone answers alike and sends nothing.
	before = len(e.courier.messages())
	c, _ = startReset(t, e, api.PasswordResetRequest{Identifier: "ann@example.com", Via: "recovery_phone"})
	e.settle()
	if c.Channel != api.ChannelSMS || len(e.courier.messages()) != before {
		t.Errorf("challenge %+v, %d messages sent; want an sms challenge and nothing sent", c, len(e.courier.messages())-before)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	other := e.session("ann@example.com", testPassword, "laptop")

	r := e.do("POST", "/v1/account/password", api.PasswordChange{CurrentPassword: "Wrong-Pass-11", NewPassword: "Green-Teapot-99"}, auth(s.Token)...)
	if ae := r.apiErr(t, http.StatusForbidden, api.CodeReauthRequired); ae.Field != "current_password" {
		t.Errorf("field %q", ae.Field)
	}
	r = e.do("POST", "/v1/account/password", api.PasswordChange{CurrentPassword: testPassword, NewPassword: "ann@example.com"}, auth(s.Token)...)
	if ae := r.apiErr(t, http.StatusBadRequest, api.CodeWeakPassword); !slices.Contains(ae.Reasons, "same_as_identifier") {
		t.Errorf("reasons %v, want same_as_identifier", ae.Reasons)
	}
	var changed api.PasswordChanged
	e.do("POST", "/v1/account/password", api.PasswordChange{CurrentPassword: testPassword, NewPassword: "Green-Teapot-99"}, auth(s.Token)...).
		into(t, http.StatusOK, &changed)
	if changed.OtherSessionsSignedOut != 1 {
		t.Errorf("other sessions signed out: %d, want 1 (the laptop)", changed.OtherSessionsSignedOut)
	}
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, nil)
	e.do("GET", "/v1/account", nil, auth(other.Token)...).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
	e.session("ann@example.com", "Green-Teapot-99", "d")
	if !e.hasAudit(s.Account.MiID, "password_changed") {
		t.Error("no password_changed audit event")
	}
}

func TestReauthFailuresLock(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	body := api.PasswordChange{CurrentPassword: "Wrong-Pass-11", NewPassword: "Green-Teapot-99"}
	for range 4 {
		e.do("POST", "/v1/account/password", body, auth(s.Token)...).apiErr(t, http.StatusForbidden, api.CodeReauthRequired)
	}
	e.do("POST", "/v1/account/password", body, auth(s.Token)...).apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	body.CurrentPassword = testPassword
	e.do("POST", "/v1/account/password", body, auth(s.Token)...).apiErr(t, http.StatusLocked, api.CodeAccountLocked)
}

func TestPatchAccount(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	var a api.Account
	e.do("PATCH", "/v1/account", `{"display_name":"\u001b]0;pwned\u0007Ann \u202eLee","region":"gb","language":"zh-CN"}`, auth(s.Token)...).
		into(t, http.StatusOK, &a)
	if a.DisplayName != "Ann Lee" || a.Region != "GB" || a.Language != "zh-CN" {
		t.Errorf("account %+v", a)
	}
	// Fields not given stay.
	e.do("PATCH", "/v1/account", `{"language":"en"}`, auth(s.Token)...).into(t, http.StatusOK, &a)
	if a.DisplayName != "Ann Lee" || a.Region != "GB" || a.Language != "en" {
		t.Errorf("account %+v", a)
	}
}

func TestAuditHoldsNoSecret(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	e.signIn("ann@example.com", "Wrong-Pass-11", "d")
	e.session("ann@example.com", testPassword, "d")
	c, _ := startReset(t, e, api.PasswordResetRequest{Identifier: "ann@example.com"})
	code := e.codeFor("ann@example.com")
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code, NewPassword: "Green-Teapot-99"}).into(t, 200, nil)
	evs := e.audits()
	if len(evs) < 4 {
		t.Fatalf("%d audit events, want several", len(evs))
	}
	for _, ev := range evs {
		for _, secret := range []string{testPassword, "Wrong-Pass-11", "Green-Teapot-99", code, s.Token, "ann@example.com"} {
			if strings.Contains(ev.Detail, secret) {
				t.Errorf("audit %s detail %q holds %q", ev.Event, ev.Detail, secret)
			}
		}
	}
}
