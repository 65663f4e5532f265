package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"misetup/api"
	"misetup/server/policy"
)

func TestSignInOneGenericError(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	cases := map[string]resp{
		"wrong password":  e.signIn("ann@example.com", "Wrong-Pass-11", "d"),
		"unknown email":   e.signIn("nobody@example.com", testPassword, "d"),
		"unknown Mi ID":   e.signIn("987654321", testPassword, "d"),
		"unknown phone":   e.signIn("+8613800138000", testPassword, "d"),
		"wrong pw, Mi ID": e.signIn(s.Account.MiID, "Wrong-Pass-11", "d"),
	}
	var first string
	for name, r := range cases {
		ae := r.apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
		if first == "" {
			first = string(r.body)
		}
		if string(r.body) != first || ae.Field != "" {
			t.Errorf("%s: answer %s differs from %s", name, r.body, first)
		}
	}
}

func TestSignInByEachIdentifier(t *testing.T) {
	e := newEnv(t)
	c := func() api.Challenge {
		var c api.Challenge
		e.do("POST", "/v1/registrations", api.RegistrationRequest{Method: "phone", Identifier: "+44 7911 123456", Password: testPassword}).
			into(t, http.StatusAccepted, &c)
		return c
	}()
	var out api.VerifyResponse
	verify(e, c.ID, e.codeFor("+447911123456")).into(t, http.StatusOK, &out)
	for _, id := range []string{"+447911123456", "+44 7911 123456", out.Account.MiID} {
		s := e.session(id, testPassword, "laptop")
		if s.Account.MiID != out.Account.MiID || s.Token == "" {
			t.Errorf("sign in as %q: %+v", id, s)
		}
	}
	// A national number reads with the region given.
	var s api.Session
	e.do("POST", "/v1/sessions", api.SessionRequest{Identifier: "07911 123456", Region: "GB", Password: testPassword, Device: api.Device{ID: "laptop"}}).
		into(t, http.StatusCreated, &s)
}

func TestSignInAnswer(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "phone")
	now := e.clock.Now()
	var s api.Session
	e.do("POST", "/v1/sessions", api.SessionRequest{
		Identifier: "ann@example.com", Password: testPassword,
		Device: api.Device{ID: "mi-13", Name: "\x1b[31mAnn's\u202e phone\x07", Model: "Xiaomi 13", OS: "HyperOS 1.0"},
	}).into(t, http.StatusCreated, &s)
	if len(s.Token) < 40 || !s.ExpiresAt.Equal(now.Add(30*24*time.Hour)) {
		t.Errorf("token %q expires %v, want a long token for 30 days", s.Token, s.ExpiresAt)
	}
	if s.Device.Name != "Ann's phone" || s.Device.Model != "Xiaomi 13" || !s.Device.Current {
		t.Errorf("device %+v: want the name without escapes and bidi characters", s.Device)
	}
	d, err := e.st.Device(context.Background(), s.Account.MiID, "mi-13")
	if err != nil || d.Name != "Ann's phone" {
		t.Errorf("stored device %+v, %v: want the sanitized name stored", d, err)
	}
	stored, err := e.st.Session(context.Background(), policy.HashToken(s.Token))
	if err != nil || stored.DeviceID != "mi-13" {
		t.Errorf("stored session %+v, %v", stored, err)
	}
	if !e.hasAudit(s.Account.MiID, "sign_in") {
		t.Error("no sign_in audit event")
	}
}

func TestSignInLockout(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "phone")
	for range 4 {
		e.signIn("ann@example.com", "Wrong-Pass-11", "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
		e.clock.Advance(time.Minute)
	}
	ae := e.signIn("ann@example.com", "Wrong-Pass-11", "d").apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	if ae.RetryAfterS != 900 {
		t.Errorf("retry_after_s %d, want 900", ae.RetryAfterS)
	}
	// The right password does not get through a lock.
	e.clock.Advance(14 * time.Minute)
	ae = e.signIn("ann@example.com", testPassword, "d").apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	if ae.RetryAfterS != 60 {
		t.Errorf("retry_after_s %d, want 60", ae.RetryAfterS)
	}
	e.clock.Advance(time.Minute)
	e.session("ann@example.com", testPassword, "d")
	if !e.hasAudit("", "account_locked") {
		t.Error("no account_locked audit event")
	}
}

func TestFailuresOutsideTheWindowDoNotLock(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "phone")
	for range 8 {
		e.signIn("ann@example.com", "Wrong-Pass-11", "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
		e.clock.Advance(4 * time.Minute) // 4 failures at most in any 15 minutes
	}
}

func TestUnknownIdentifierLocksToo(t *testing.T) {
	e := newEnv(t)
	for range 4 {
		e.signIn("nobody@example.com", testPassword, "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
	}
	e.signIn("nobody@example.com", testPassword, "d").apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	// The lock is the identifier's, whoever registers it meanwhile.
	e.signIn("NOBODY@EXAMPLE.COM", testPassword, "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
}

func TestPasswordResetLiftsTheLock(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "phone")
	for range 5 {
		e.signIn("ann@example.com", "Wrong-Pass-11", "d")
	}
	e.signIn("ann@example.com", testPassword, "d").apiErr(t, http.StatusLocked, api.CodeAccountLocked)
	var c api.Challenge
	e.do("POST", "/v1/password-resets", api.PasswordResetRequest{Identifier: "ann@example.com"}).into(t, http.StatusAccepted, &c)
	e.do("POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: e.codeFor("ann@example.com"), NewPassword: "Green-Teapot-99"}).
		into(t, http.StatusOK, nil)
	e.session("ann@example.com", "Green-Teapot-99", "d")
}

func TestAddressCeiling(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AddressFailures = 3 })
	for _, id := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		e.signIn(id, testPassword, "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
	}
	ae := e.signIn("d@example.com", testPassword, "d").apiErr(t, http.StatusTooManyRequests, api.CodeRateLimited)
	if ae.RetryAfterS <= 0 {
		t.Errorf("retry_after_s %d", ae.RetryAfterS)
	}
	e.clock.Advance(time.Hour)
	e.signIn("d@example.com", testPassword, "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
}

func TestSessionLifetime(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	e.clock.Advance(30*24*time.Hour - time.Second)
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, nil)
	e.clock.Advance(time.Second)
	e.do("GET", "/v1/account", nil, auth(s.Token)...).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
}

func TestKioskSessionIdles(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "phone")
	kiosk := []string{api.HeaderKiosk, "kiosk-7", api.HeaderStore, "store-beijing-1"}
	s := e.session("ann@example.com", testPassword, "kiosk-7", kiosk...)

	stored, err := e.st.Session(context.Background(), policy.HashToken(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	if stored.Kiosk != "kiosk-7" || stored.StoreID != "store-beijing-1" || stored.IdleTimeout != 15*time.Minute {
		t.Errorf("stored session %+v: want kiosk, store and 15m idle", stored)
	}
	found := false
	for _, ev := range e.audits() {
		if ev.Event == "sign_in" && ev.Kiosk == "kiosk-7" && ev.StoreID == "store-beijing-1" && ev.Address != "" {
			found = true
		}
	}
	if !found {
		t.Error("no sign_in audit event with the kiosk, store and address")
	}

	e.clock.Advance(14 * time.Minute)
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, nil) // use restarts the idle time
	e.clock.Advance(14 * time.Minute)
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, nil)
	e.clock.Advance(15 * time.Minute)
	e.do("GET", "/v1/account", nil, auth(s.Token)...).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
}

func TestSignOut(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	r := e.do("DELETE", "/v1/sessions/current", nil, auth(s.Token)...)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("sign out: %d %q", r.status, r.body)
	}
	e.do("GET", "/v1/account", nil, auth(s.Token)...).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
	e.do("GET", "/v1/account", nil).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
	e.do("GET", "/v1/account", nil, "Authorization", "Basic abc").apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
}

// enableTOTP turns 2FA on for the session's account and returns the secret
// and recovery codes.
func enableTOTP(t *testing.T, e *env, token string) (string, []string) {
	t.Helper()
	var setup api.TOTPSetup
	e.do("POST", "/v1/account/totp", nil, auth(token)...).into(t, http.StatusOK, &setup)
	code, err := totp.GenerateCode(setup.Secret, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var rc api.RecoveryCodes
	e.do("POST", "/v1/account/totp/confirm", api.TOTPConfirm{Code: code}, auth(token)...).into(t, http.StatusOK, &rc)
	return setup.Secret, rc.RecoveryCodes
}

func signInTOTP(e *env, code string) resp {
	return e.do("POST", "/v1/sessions", api.SessionRequest{
		Identifier: "ann@example.com", Password: testPassword, Device: api.Device{ID: "d"}, TOTP: code,
	})
}

func TestTOTPSetup(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	var setup api.TOTPSetup
	e.do("POST", "/v1/account/totp", nil, auth(s.Token)...).into(t, http.StatusOK, &setup)
	if len(setup.Secret) != 32 { // 160 bits in base32
		t.Errorf("secret %q: want 160 bits (32 base32 characters)", setup.Secret)
	}
	if want := "otpauth://totp/Mi%20Account:" + s.Account.MiID + "?secret=" + setup.Secret; setup.OTPAuthURI != want {
		t.Errorf("URI %q, want %q", setup.OTPAuthURI, want)
	}
	if len(setup.OTPAuthURI) > 78 {
		t.Errorf("URI is %d bytes: more than a version 4 QR code holds (78)", len(setup.OTPAuthURI))
	}
	// Not on until confirmed: sign-in needs no code yet.
	e.session("ann@example.com", testPassword, "d")
	e.do("POST", "/v1/account/totp/confirm", api.TOTPConfirm{Code: "000000"}, auth(s.Token)...).
		apiErr(t, http.StatusBadRequest, api.CodeInvalidCode)

	code, _ := totp.GenerateCode(setup.Secret, e.clock.Now())
	var rc api.RecoveryCodes
	e.do("POST", "/v1/account/totp/confirm", api.TOTPConfirm{Code: code}, auth(s.Token)...).into(t, http.StatusOK, &rc)
	if len(rc.RecoveryCodes) != 10 {
		t.Errorf("%d recovery codes, want 10", len(rc.RecoveryCodes))
	}
	var a api.Account
	e.do("GET", "/v1/account", nil, auth(s.Token)...).into(t, http.StatusOK, &a)
	if !a.TOTPEnabled {
		t.Error("totp_enabled false after confirm")
	}
	if !e.hasAudit(a.MiID, "totp_enabled") {
		t.Error("no totp_enabled audit event")
	}
}

func TestSignInWithTOTP(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	secret, _ := enableTOTP(t, e, s.Token)
	e.clock.Advance(time.Minute) // past the step used to confirm

	ae := signInTOTP(e, "").apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)
	if ae.Field != "totp" {
		t.Errorf("field %q, want totp", ae.Field)
	}
	signInTOTP(e, wrongTOTP(t, secret, e.clock.Now(), "123456")).apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)

	code, _ := totp.GenerateCode(secret, e.clock.Now())
	signInTOTP(e, code).into(t, http.StatusCreated, nil)
	// The same step again is a replay, refused even within its 30 seconds.
	signInTOTP(e, code).apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)

	// One step of drift either way is accepted; two are not.
	e.clock.Advance(30 * time.Second)
	early, _ := totp.GenerateCode(secret, e.clock.Now().Add(30*time.Second))
	signInTOTP(e, early).into(t, http.StatusCreated, nil)
	e.clock.Advance(5 * time.Minute)
	tooOld, _ := totp.GenerateCode(secret, e.clock.Now().Add(-60*time.Second))
	if tooOld != wrongTOTP(t, secret, e.clock.Now(), tooOld) {
		t.Log("the code of two steps ago equals a current one; skipping that check")
	} else {
		signInTOTP(e, tooOld).apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)
	}
	lateOK, _ := totp.GenerateCode(secret, e.clock.Now().Add(-30*time.Second))
	signInTOTP(e, lateOK).into(t, http.StatusCreated, nil)
}

// wrongTOTP returns candidate, or another code, that is not a code of the
// secret within two steps of now.
func wrongTOTP(t *testing.T, secret string, now time.Time, candidate string) string {
	t.Helper()
	valid := map[string]bool{}
	for i := -1; i <= 1; i++ {
		c, err := totp.GenerateCode(secret, now.Add(time.Duration(i)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		valid[c] = true
	}
	for n := 0; valid[candidate]; n++ {
		candidate = fmt.Sprintf("%06d", n)
	}
	return candidate
}

func TestRecoveryCodesWorkOnce(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	_, codes := enableTOTP(t, e, s.Token)
	signInTOTP(e, strings.ToLower(codes[3])).into(t, http.StatusCreated, nil)
	signInTOTP(e, codes[3]).apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)
	signInTOTP(e, codes[4]).into(t, http.StatusCreated, nil)
}

func TestWrongTOTPCountsTowardsTheLock(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	secret, _ := enableTOTP(t, e, s.Token)
	wrong := wrongTOTP(t, secret, e.clock.Now(), "999999")
	for range 4 {
		signInTOTP(e, wrong).apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)
	}
	signInTOTP(e, wrong).apiErr(t, http.StatusLocked, api.CodeAccountLocked)
}

func TestDisableTOTP(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	secret, _ := enableTOTP(t, e, s.Token)
	e.clock.Advance(time.Minute)
	e.do("DELETE", "/v1/account/totp", api.PasswordConfirm{Password: "Wrong-Pass-11"}, auth(s.Token)...).
		apiErr(t, http.StatusForbidden, api.CodeReauthRequired)
	e.do("DELETE", "/v1/account/totp", api.PasswordConfirm{}, auth(s.Token)...).
		apiErr(t, http.StatusForbidden, api.CodeReauthRequired)
	signInTOTP(e, "").apiErr(t, http.StatusUnauthorized, api.CodeSecondFactorRequired)
	r := e.do("DELETE", "/v1/account/totp", api.PasswordConfirm{Password: testPassword}, auth(s.Token)...)
	if r.status != http.StatusNoContent {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	signInTOTP(e, "").into(t, http.StatusCreated, nil)
	a, err := e.st.AccountByMiID(context.Background(), s.Account.MiID)
	if err != nil || a.TOTPEnabled || a.TOTPSecret == secret {
		t.Errorf("stored after disable: enabled %v, secret kept %v, %v", a.TOTPEnabled, a.TOTPSecret == secret, err)
	}
	if !e.hasAudit(s.Account.MiID, "totp_disabled") {
		t.Error("no totp_disabled audit event")
	}
}
