// Package servertest is the battery of rule tests every deployment of the
// account service passes: for each rule that counts or allows something
// once, requests arrive together (as a store's kiosks, or an attacker's
// script, send them) and the answers must show the rule held. It speaks
// only HTTP, so the same battery runs against one in-process server on
// SQLite or PostgreSQL and against several `misetup serve` processes on one
// PostgreSQL, requests alternating between them.
package servertest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"misetup/api"
)

// Rules are the numbers the battery expects the service to run with, as
// --rule flags; the in-process tests set the same in server.Config.
// The cooldown is short so that the battery can wait it out on a real
// clock.
var Rules = map[string]string{
	"sign_in_failures": "5",
	"code_attempts":    "5",
	"sends_per_window": "5",
	"resend_cooldown":  "1s",
	"address_failures": "1000",
	// A small Mi Cloud quota, so that writes of small items can fill it.
	"default_quota_bytes": "1048576",
	// Few hand-offs per client address, so that a burst passes the ceiling.
	"handoffs_per_address": "6",
}

// Target is the service under test.
type Target struct {
	// URLs are the base URLs of the service's processes; the requests of a
	// burst go to each in turn.
	URLs []string
	// Code returns the code of the last message sent to an address (an
	// email, or a phone in E.164), waiting for it to arrive.
	Code func(t testing.TB, to string) string
	// Wait lets d pass on the service's clock.
	Wait func(d time.Duration)
	// Now is the service's clock (for TOTP codes).
	Now func() time.Time
	// Audit counts the events of an account in the audit log: a failed
	// sign-in is logged once its password was checked, so the count shows
	// how many attempts reached the argon2 check.
	Audit func(t testing.TB, miID, event string) int
	// Client sends the requests; http.DefaultClient when nil.
	Client *http.Client
}

// Test is one rule of the battery.
type Test struct {
	Name string
	Run  func(t *testing.T, tg *Target)
}

// Tests are the battery.
var Tests = []Test{
	{"LockoutBurstWithRightPassword", testLockoutBurstWithRightPassword},
	{"WrongPasswordBurst", testWrongPasswordBurst},
	{"ReauthBurst", testReauthBurst},
	{"RegistrationSends", testRegistrationSends},
	{"PasswordResetSends", testPasswordResetSends},
	{"RecoverySends", testRecoverySends},
	{"ResendCooldown", testResendCooldown},
	{"CodeAttempts", testCodeAttempts},
	{"CodeSingleUse", testCodeSingleUse},
	{"ProfileBesidePasswordChange", testProfileBesidePasswordChange},
	{"ProfileBesideTOTPConfirm", testProfileBesideTOTPConfirm},
	{"SessionEndsMidRequest", testSessionEndsMidRequest},
	{"TOTPReplay", testTOTPReplay},
	{"RecoveryCodeSingleUse", testRecoveryCodeSingleUse},
	{"CommandAckOnce", testCommandAckOnce},
	{"DeviceSettingsTogether", testDeviceSettingsTogether},
	{"CommandLongPoll", testCommandLongPoll},
	{"HandoffCompletedOnce", testHandoffCompletedOnce},
	{"HandoffCollectedOnce", testHandoffCollectedOnce},
	{"HandoffCeilingTogether", testHandoffCeilingTogether},
	{"CloudItemChangedOnce", testCloudItemChangedOnce},
	{"CloudQuotaTogether", testCloudQuotaTogether},
	{"CloudBatchesTogether", testCloudBatchesTogether},
	{"CloudChangesNeverSkipped", testCloudChangesNeverSkipped},
}

// Run runs the battery, each test against the target newTarget returns
// for it (a fresh service, or the same).
func Run(t *testing.T, newTarget func(t *testing.T) *Target) {
	for _, tt := range Tests {
		t.Run(tt.Name, func(t *testing.T) { tt.Run(t, newTarget(t)) })
	}
}

// Password passes the default password rules.
const Password = "Blue-Kettle-42"

// Answer is what the service answered.
type Answer struct {
	status int
	body   []byte
	err    *api.Error // for a status of 400 and above
}

// code is the error code of the Answer ("" for success).
func (a Answer) code() string {
	if a.err == nil {
		return ""
	}
	return a.err.Code
}

// Into decodes the answer's body into v, failing t unless the status is want.
func (a Answer) Into(t testing.TB, want int, v any) {
	t.Helper()
	if a.status != want {
		t.Fatalf("status %d, want %d: %s", a.status, want, a.body)
	}
	if v != nil {
		if err := json.Unmarshal(a.body, v); err != nil {
			t.Fatalf("decode %s: %v", a.body, err)
		}
	}
}

// Do sends one request to the i-th process (in turn) with token when set,
// and hdr as name, value pairs.
func (tg *Target) Do(t testing.TB, i int, method, path string, body any, token string, hdr ...string) Answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, tg.URLs[i%len(tg.URLs)]+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.HeaderClientVersion, api.Version)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for j := 0; j+1 < len(hdr); j += 2 {
		req.Header.Add(hdr[j], hdr[j+1])
	}
	c := tg.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return Answer{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
	}
	a := Answer{status: resp.StatusCode, body: b}
	if resp.StatusCode >= 400 {
		var eb api.ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error != nil {
			a.err = eb.Error
		}
	}
	return a
}

// burst sends n requests as close together as it can, the i-th made by
// req(i) and sent to process i (in turn), and returns the answers.
func (tg *Target) burst(t testing.TB, n int, req func(i int) Answer) []Answer {
	t.Helper()
	out := make([]Answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = req(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts answers by status and code, e.g. "201", "401 invalid_credentials".
func tally(as []Answer) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		k := fmt.Sprint(a.status)
		if a.err != nil {
			k += " " + a.err.Code
		}
		m[k]++
	}
	return m
}

// unique returns a fresh email address, so that tests sharing a service do
// not meet.
func unique(name string) string {
	return fmt.Sprintf("%s.%s@example.com", name, strings.ToLower(rand.Text()[:10]))
}

// Register starts a registration of email with Password through process 0
// and returns its challenge.
func (tg *Target) Register(t testing.TB, email string) api.Challenge {
	t.Helper()
	var c api.Challenge
	tg.Do(t, 0, "POST", "/v1/registrations", api.RegistrationRequest{Method: "email", Identifier: email, Password: Password}, "").
		Into(t, http.StatusAccepted, &c)
	return c
}

// account creates an account for email through the API and returns a
// session on device "dev-1".
func (tg *Target) account(t testing.TB, email string) api.Session {
	t.Helper()
	c := tg.Register(t, email)
	var out api.VerifyResponse
	tg.Do(t, 1, "POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{
		Code: tg.Code(t, email), Device: &api.Device{ID: "dev-1", Name: "Phone"},
	}, "").Into(t, http.StatusOK, &out)
	if out.Session == nil {
		t.Fatalf("verify with a device answered no session: %+v", out)
	}
	return *out.Session
}

// signIn posts a sign-in to process i.
func (tg *Target) signIn(t testing.TB, i int, identifier, password, totpCode string) Answer {
	return tg.Do(t, i, "POST", "/v1/sessions", api.SessionRequest{
		Identifier: identifier, Password: password, TOTP: totpCode,
		Device: api.Device{ID: fmt.Sprint("dev-b", i), Name: "Laptop"},
	}, "")
}

// testLockoutBurstWithRightPassword: after 4 wrong passwords, a burst of
// sign-ins with the right password among them. The lock counts before the
// check: one attempt (the 5th) reaches the argon2 check, every other is
// refused 423; none is answered 401 (which would mean a check past the
// limit), and a session is given only if the right password was that one.
func testLockoutBurstWithRightPassword(t *testing.T, tg *Target) {
	email := unique("ann")
	tg.account(t, email)
	for i := range 4 {
		if a := tg.signIn(t, i, email, "Wrong-Password-1", ""); a.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d %s", i+1, a.status, a.body)
		}
	}
	const n = 24
	as := tg.burst(t, n, func(i int) Answer {
		pw := "Wrong-Password-1"
		if i == n/2 {
			pw = Password
		}
		return tg.signIn(t, i, email, pw, "")
	})
	got := tally(as)
	wrong, right, locked := got["401 invalid_credentials"], got["201"], got["423 account_locked"]
	switch {
	case right > 1 || wrong+right+locked != n:
		t.Errorf("after 4 wrong passwords, %d sign-ins at once (one right) answered %v; want at most one 201, the rest 401 or 423", n, got)
	case right == 0 && wrong != 0:
		// Without the right password, no wrong one is checked past the 5th attempt.
		t.Errorf("after 4 wrong passwords, %d sign-ins at once answered %v: a 401 means a check past the limit", n, got)
	case right == 1 && wrong > 4:
		// The right password signed in (and its success cleared the count)
		// before the others reached the store, as on a loaded machine: from
		// there a new count of 5 starts, so at most 4 more fail before the
		// lock. More would be a check past the limit.
		t.Errorf("after 4 wrong passwords, %d sign-ins at once (one right) answered %v; after the success at most 4 more 401 before the lock", n, got)
	}
	if got["201"] == 0 {
		// The right password came too late: the account is locked for it.
		if a := tg.signIn(t, 0, email, Password, ""); a.code() != api.CodeAccountLocked {
			t.Errorf("after the burst, the right password answered %d %s; want 423 (locked)", a.status, a.body)
		}
	}
}

// testWrongPasswordBurst: a burst of wrong passwords for one identifier
// (with an account, and without one) lets exactly 4 through to a 401, locks
// with the 5th, and refuses the rest.
func testWrongPasswordBurst(t *testing.T, tg *Target) {
	email := unique("bo")
	s := tg.account(t, email)
	const n = 30
	for _, id := range []string{email, unique("nobody")} {
		got := tally(tg.burst(t, n, func(i int) Answer { return tg.signIn(t, i, id, fmt.Sprint("Wrong-Guess-", i), "") }))
		if got["401 invalid_credentials"] != 4 || got["423 account_locked"] != n-4 {
			t.Errorf("%d wrong passwords at once answered %v; want 4 × 401 and %d × 423", n, got, n-4)
		}
	}
	if checked := tg.Audit(t, s.Account.MiID, "sign_in_failed"); checked != 5 {
		t.Errorf("%d wrong passwords at once: %d reached the password check, want 5", n, checked)
	}
}

// testReauthBurst: a stolen session guessing the password to change it,
// many at once: 4 guesses are checked (403), the 5th locks, the rest are
// refused before any check.
func testReauthBurst(t *testing.T, tg *Target) {
	s := tg.account(t, unique("cy"))
	const n = 20
	got := tally(tg.burst(t, n, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/account/password", api.PasswordChange{
			CurrentPassword: fmt.Sprint("Wrong-Guess-", i), NewPassword: "Green-Teapot-99",
		}, s.Token)
	}))
	if got["403 reauth_required"] != 4 || got["423 account_locked"] != n-4 {
		t.Errorf("%d password changes with wrong passwords at once answered %v; want 4 × 403 and %d × 423", n, got, n-4)
	}
	if checked := tg.Audit(t, s.Account.MiID, "reauth_failed"); checked != 5 {
		t.Errorf("%d wrong passwords at once: %d reached the password check, want 5", n, checked)
	}
}

// sendBurst fires n requests that each send a code to one address and
// checks that exactly the rest of its rate (left of 5) are sent.
func sendBurst(t *testing.T, tg *Target, what string, n, left int, req func(i int) Answer) {
	t.Helper()
	got := tally(tg.burst(t, n, req))
	if got["202"] != left || got["429 rate_limited"] != n-left {
		t.Errorf("%d %s to one address at once answered %v; want %d × 202 and %d × 429", n, what, got, left, n-left)
	}
}

// testRegistrationSends: a stranger's inbox flooded with registrations.
func testRegistrationSends(t *testing.T, tg *Target) {
	email := unique("dee")
	sendBurst(t, tg, "registrations", 20, 5, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/registrations", api.RegistrationRequest{Method: "email", Identifier: email, Password: Password}, "")
	})
}

// testPasswordResetSends: the same with password resets.
func testPasswordResetSends(t *testing.T, tg *Target) {
	email := unique("eve")
	tg.account(t, email) // its registration was one send
	sendBurst(t, tg, "password resets", 20, 4, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/password-resets", api.PasswordResetRequest{Identifier: email}, "")
	})
}

// testRecoverySends: the same with recovery contacts added.
func testRecoverySends(t *testing.T, tg *Target) {
	s := tg.account(t, unique("fay"))
	target := unique("victim")
	sendBurst(t, tg, "recovery contacts", 20, 5, func(i int) Answer {
		return tg.Do(t, i, "PUT", "/v1/account/recovery", api.RecoveryRequest{Email: target}, s.Token)
	})
}

// testResendCooldown: once the cooldown has passed, many resends of one
// challenge at once send one code.
func testResendCooldown(t *testing.T, tg *Target) {
	email := unique("gus")
	c := tg.Register(t, email)
	tg.Wait(1100 * time.Millisecond)
	const n = 16
	got := tally(tg.burst(t, n, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/challenges/"+c.ID+"/resend", nil, "")
	}))
	if got["202"] != 1 || got["429 rate_limited"] != n-1 {
		t.Errorf("%d resends at once after the cooldown answered %v; want 1 × 202 and %d × 429", n, got, n-1)
	}
}

// testCodeAttempts: many wrong codes at once for one challenge: 4 are
// answered wrong with attempts left, every other finds it dead; the right
// code afterwards no longer works.
func testCodeAttempts(t *testing.T, tg *Target) {
	email := unique("hal")
	c := tg.Register(t, email)
	right := tg.Code(t, email)
	const n = 30
	got := tally(tg.burst(t, n, func(i int) Answer {
		wrong := fmt.Sprintf("%06d", (i*7919+1)%1000000)
		if wrong == right {
			wrong = fmt.Sprintf("%06d", (i*7919+2)%1000000)
		}
		return tg.Do(t, i, "POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: wrong}, "")
	}))
	if got["400 invalid_code"] != 4 || got["429 too_many_attempts"] != n-4 {
		t.Errorf("%d wrong codes at once answered %v; want 4 × 400 and %d × 429", n, got, n-4)
	}
	if a := tg.Do(t, 1, "POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: right}, ""); a.status == http.StatusOK {
		t.Error("the right code worked after five wrong ones")
	}
}

// testCodeSingleUse: the right code sent many times at once creates one
// account.
func testCodeSingleUse(t *testing.T, tg *Target) {
	email := unique("ida")
	c := tg.Register(t, email)
	code := tg.Code(t, email)
	const n = 12
	got := tally(tg.burst(t, n, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code}, "")
	}))
	if got["200"] != 1 || got["410 code_expired"] != n-1 {
		t.Errorf("the right code %d times at once answered %v; want 1 × 200 and %d × 410", n, got, n-1)
	}
}

// testProfileBesidePasswordChange: a profile change running beside a
// password change never undoes it: afterwards the new password signs in
// and the old does not, round after round.
func testProfileBesidePasswordChange(t *testing.T, tg *Target) {
	email := unique("jo")
	s := tg.account(t, email)
	pw := Password
	for round := range 6 {
		next := fmt.Sprintf("Green-Teapot-%02d", round)
		as := tg.burst(t, 4, func(i int) Answer {
			if i == 0 {
				return tg.Do(t, i, "POST", "/v1/account/password", api.PasswordChange{CurrentPassword: pw, NewPassword: next}, s.Token)
			}
			name := fmt.Sprintf("Jo %d.%d", round, i)
			return tg.Do(t, i, "PATCH", "/v1/account", api.AccountPatch{DisplayName: &name}, s.Token)
		})
		for i, a := range as {
			if a.status >= 300 {
				t.Fatalf("round %d request %d: %d %s", round, i, a.status, a.body)
			}
		}
		if a := tg.signIn(t, round, email, pw, ""); a.status != http.StatusUnauthorized {
			t.Fatalf("round %d: the old password answered %d after it was changed: a profile change undid the password change", round, a.status)
		}
		if a := tg.signIn(t, round+1, email, next, ""); a.status != http.StatusCreated {
			t.Fatalf("round %d: the new password answered %d %s", round, a.status, a.body)
		}
		pw = next
	}
}

// totpCode is the TOTP code of secret now.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolTOTP turns 2FA on for the session's account and returns the secret
// and the recovery codes.
func (tg *Target) enrolTOTP(t testing.TB, token string, also func(i int) Answer) (string, []string) {
	t.Helper()
	var setup api.TOTPSetup
	tg.Do(t, 0, "POST", "/v1/account/totp", nil, token).Into(t, http.StatusOK, &setup)
	as := tg.burst(t, 4, func(i int) Answer {
		if i == 0 {
			return tg.Do(t, i, "POST", "/v1/account/totp/confirm", api.TOTPConfirm{Code: totpCode(t, setup.Secret, tg.Now())}, token)
		}
		return also(i)
	})
	var rc api.RecoveryCodes
	as[0].Into(t, http.StatusOK, &rc)
	for i, a := range as[1:] {
		if a.status >= 300 {
			t.Fatalf("request %d beside the confirmation: %d %s", i+1, a.status, a.body)
		}
	}
	return setup.Secret, rc.RecoveryCodes
}

// testProfileBesideTOTPConfirm: profile changes beside the confirmation of
// two-step verification leave it on.
func testProfileBesideTOTPConfirm(t *testing.T, tg *Target) {
	s := tg.account(t, unique("kai"))
	tg.enrolTOTP(t, s.Token, func(i int) Answer {
		name := fmt.Sprint("Kai ", i)
		return tg.Do(t, i, "PATCH", "/v1/account", api.AccountPatch{DisplayName: &name}, s.Token)
	})
	var a api.Account
	tg.Do(t, 1, "GET", "/v1/account", nil, s.Token).Into(t, http.StatusOK, &a)
	if !a.TOTPEnabled {
		t.Error("two-step verification is off after profile changes ran beside its confirmation")
	}
}

// testSessionEndsMidRequest: requests on a session that is signed out
// while they run are answered 401 (or served), never 500.
func testSessionEndsMidRequest(t *testing.T, tg *Target) {
	email := unique("lu")
	tg.account(t, email)
	for round := range 8 {
		var s api.Session
		tg.signIn(t, round, email, Password, "").Into(t, http.StatusCreated, &s)
		got := tally(tg.burst(t, 24, func(i int) Answer {
			if i == 12 {
				return tg.Do(t, i, "DELETE", "/v1/sessions/current", nil, s.Token)
			}
			if i%2 == 0 {
				name := fmt.Sprint("Lu ", i)
				return tg.Do(t, i, "PATCH", "/v1/account", api.AccountPatch{DisplayName: &name}, s.Token)
			}
			return tg.Do(t, i, "GET", "/v1/account", nil, s.Token)
		}))
		for k, n := range got {
			if k != "200" && k != "204" && k != "401 unauthorized" {
				t.Errorf("round %d: requests beside a sign-out answered %v; want only 200, 204 and 401", round, got)
				_ = n
				break
			}
		}
	}
}

// testTOTPReplay: one TOTP code sent with the right password many times at
// once signs in once.
func testTOTPReplay(t *testing.T, tg *Target) {
	email := unique("mo")
	s := tg.account(t, email)
	secret, _ := tg.enrolTOTP(t, s.Token, func(i int) Answer { return tg.Do(t, i, "GET", "/v1/account", nil, s.Token) })
	// The confirmation used the current step; the next is within the
	// accepted drift, and newer.
	code := totpCode(t, secret, tg.Now().Add(30*time.Second))
	const n = 8
	got := tally(tg.burst(t, n, func(i int) Answer { return tg.signIn(t, i, email, Password, code) }))
	if got["201"] != 1 {
		t.Errorf("one TOTP code %d times at once answered %v; want one 201", n, got)
	}
}

// testRecoveryCodeSingleUse: one recovery code sent many times at once
// signs in once.
func testRecoveryCodeSingleUse(t *testing.T, tg *Target) {
	email := unique("ned")
	s := tg.account(t, email)
	_, codes := tg.enrolTOTP(t, s.Token, func(i int) Answer { return tg.Do(t, i, "GET", "/v1/account", nil, s.Token) })
	const n = 4 // under the lock: the others count as failures
	got := tally(tg.burst(t, n, func(i int) Answer { return tg.signIn(t, i, email, Password, codes[0]) }))
	if got["201"] != 1 {
		t.Errorf("one recovery code %d times at once answered %v; want one 201", n, got)
	}
}

// testCommandAckOnce: a device acknowledging one command many times at once
// (a retry beside the first try): one acknowledgement counts, the others
// are 409.
func testCommandAckOnce(t *testing.T, tg *Target) {
	s := tg.account(t, unique("ola"))
	tg.Do(t, 0, "PUT", "/v1/devices/dev-1/find-device", api.FindDevice{Enabled: true}, s.Token).Into(t, http.StatusOK, nil)
	var c api.Command
	tg.Do(t, 1, "POST", "/v1/devices/dev-1/commands", api.CommandRequest{Type: api.CommandRing}, s.Token).Into(t, http.StatusAccepted, &c)
	var pending api.CommandList
	tg.Do(t, 0, "GET", "/v1/devices/dev-1/commands?state=pending", nil, s.Token).Into(t, http.StatusOK, &pending)
	if len(pending.Commands) != 1 {
		t.Fatalf("pending commands: %+v", pending)
	}
	const n = 8
	got := tally(tg.burst(t, n, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/devices/dev-1/commands/"+c.ID+"/ack",
			api.CommandAck{State: api.CommandDone, Result: fmt.Sprint("rang ", i)}, s.Token)
	}))
	if got["200"] != 1 || got["409 conflict"] != n-1 {
		t.Errorf("%d acknowledgements of one command at once answered %v; want one 200 and %d × 409", n, got, n-1)
	}
}

// testDeviceSettingsTogether: Mi Cloud settings, Find Device and a rename
// of one device saved at once, round after round: none undoes another.
func testDeviceSettingsTogether(t *testing.T, tg *Target) {
	s := tg.account(t, unique("pia"))
	for round := range 6 {
		on := round%2 == 0
		name := fmt.Sprint("Phone ", round)
		as := tg.burst(t, 3, func(i int) Answer {
			switch i {
			case 0:
				return tg.Do(t, i, "PUT", "/v1/devices/dev-1/sync", api.SyncSettings{AutoSync: on, Categories: []string{"notes"}}, s.Token)
			case 1:
				return tg.Do(t, i, "PUT", "/v1/devices/dev-1/find-device", api.FindDevice{Enabled: on}, s.Token)
			}
			return tg.Do(t, i, "PATCH", "/v1/devices/dev-1", api.DevicePatch{Name: name}, s.Token)
		})
		for i, a := range as {
			if a.status != http.StatusOK {
				t.Fatalf("round %d request %d: %d %s", round, i, a.status, a.body)
			}
		}
		var list api.DeviceList
		tg.Do(t, round, "GET", "/v1/devices", nil, s.Token).Into(t, http.StatusOK, &list)
		var sync api.SyncSettings
		tg.Do(t, round, "GET", "/v1/devices/dev-1/sync", nil, s.Token).Into(t, http.StatusOK, &sync)
		if len(list.Devices) != 1 || list.Devices[0].Name != name || list.Devices[0].FindDevice != on || sync.AutoSync != on {
			t.Fatalf("round %d: a device setting was undone by another saved beside it: %+v, sync %+v", round, list.Devices, sync)
		}
	}
}

// testCommandLongPoll: a device waiting for its commands on one process
// gets a ring queued through another (in turn) within a few seconds, not at
// the end of its wait, exactly once; the owner follows the command's state.
func testCommandLongPoll(t *testing.T, tg *Target) {
	s := tg.account(t, unique("quinn"))
	tg.Do(t, 0, "PUT", "/v1/devices/dev-1/find-device", api.FindDevice{Enabled: true}, s.Token).Into(t, http.StatusOK, nil)
	type polled struct {
		a    Answer
		took time.Duration
	}
	const pollers = 2
	got := make(chan polled, pollers)
	start := time.Now()
	for i := range pollers {
		go func() {
			a := tg.Do(t, i, "GET", "/v1/devices/dev-1/commands?state=pending&wait=6", nil, s.Token)
			got <- polled{a, time.Since(start)}
		}()
	}
	time.Sleep(300 * time.Millisecond) // both are waiting
	var c api.Command
	tg.Do(t, 1, "POST", "/v1/devices/dev-1/commands", api.CommandRequest{Type: api.CommandRing}, s.Token).Into(t, http.StatusAccepted, &c)

	delivered := 0
	for range pollers {
		var p polled
		select {
		case p = <-got:
		case <-time.After(20 * time.Second):
			t.Fatal("a long poll did not answer within its wait")
		}
		var l api.CommandList
		p.a.Into(t, http.StatusOK, &l)
		switch {
		case len(l.Commands) == 1 && l.Commands[0].ID == c.ID && l.Commands[0].State == api.CommandDelivered:
			delivered++
			if p.took > 4*time.Second {
				t.Errorf("the ring reached the waiting device after %v; want within a few seconds", p.took)
			}
		case len(l.Commands) != 0:
			t.Errorf("long poll answered %+v", l.Commands)
		}
	}
	if delivered != 1 {
		t.Errorf("the ring was delivered to %d of %d long polls; want exactly one", delivered, pollers)
	}
	var one api.Command
	tg.Do(t, 0, "GET", "/v1/devices/dev-1/commands/"+c.ID, nil, s.Token).Into(t, http.StatusOK, &one)
	if one.State != api.CommandDelivered {
		t.Errorf("the owner sees the command %+v; want delivered", one)
	}
}

// kiosk are the headers of the store kiosk of the hand-off rules.
var kiosk = []string{api.HeaderKiosk, "kiosk-1", api.HeaderStore, "store-1"}

// handoff asks process 0, as a kiosk, for a sign-in hand-off on its device
// and returns it with its link's token. A service with no public URL
// offers none: the test is skipped.
func (tg *Target) handoff(t *testing.T) (api.Handoff, string) {
	t.Helper()
	a := tg.Do(t, 0, "POST", "/v1/handoffs", api.HandoffRequest{
		Purpose: api.PurposeSignIn, Device: api.Device{ID: "kiosk-1", Name: "Kiosk"},
	}, "", kiosk...)
	if a.code() == api.CodeHandoffUnavailable {
		t.Skip("the service has no public URL, so it offers no hand-offs")
	}
	var h api.Handoff
	a.Into(t, http.StatusCreated, &h)
	i := strings.LastIndex(h.URL, "/h/")
	if i < 0 || h.ID == "" {
		t.Fatalf("hand-off %+v: want an id and a link .../h/TOKEN", h)
	}
	return h, h.URL[i+len("/h/"):]
}

// testHandoffCompletedOnce: the customer's phone submits one link many
// times at once (a double tap, a retry): one submission signs in, every
// other is refused, busy (409) or used (410); no password is checked for
// them, and the kiosk gets one session.
func testHandoffCompletedOnce(t *testing.T, tg *Target) {
	email := unique("rae")
	s := tg.account(t, email)
	h, token := tg.handoff(t)
	const n = 12
	got := tally(tg.burst(t, n, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/handoffs/link/"+token, api.HandoffCompletion{Identifier: email, Password: Password}, "")
	}))
	if got["200"] != 1 || got["200"]+got["409 handoff_busy"]+got["410 handoff_used"] != n {
		t.Errorf("%d submissions of one link at once answered %v; want one 200, the rest 409 handoff_busy or 410 handoff_used", n, got)
	}
	if done := tg.Audit(t, s.Account.MiID, "handoff_completed"); done != 1 {
		t.Errorf("%d submissions of one link at once: %d completed it, want 1", n, done)
	}
	var p api.Handoff
	tg.Do(t, 1, "GET", "/v1/handoffs/"+h.ID, nil, "", kiosk...).Into(t, http.StatusOK, &p)
	if p.State != api.HandoffCollected || p.Session == nil {
		t.Errorf("the kiosk's poll answered %+v; want the session", p)
	}
}

// testHandoffCeilingTogether: kiosks of one address (a store) ask for more
// hand-offs at once than the address's ceiling allows (Rules: 6 an hour):
// exactly the ceiling are made, the rest are refused 429.
func testHandoffCeilingTogether(t *testing.T, tg *Target) {
	tg.handoff(t) // one of the six; skips without a public URL
	const n = 12
	got := tally(tg.burst(t, n, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/handoffs", api.HandoffRequest{Purpose: api.PurposeRegistration}, "", kiosk...)
	}))
	if got["201"] != 5 || got["429 rate_limited"] != n-5 {
		t.Errorf("%d hand-offs asked at once beside one made, under a ceiling of 6: %v; want five 201, the rest 429 rate_limited", n, got)
	}
}

// testHandoffCollectedOnce: the kiosk polls a done sign-in many times at
// once (two tabs, a retry): exactly one answer carries the session, the
// others show it collected without one.
func testHandoffCollectedOnce(t *testing.T, tg *Target) {
	email := unique("sam")
	s := tg.account(t, email)
	h, token := tg.handoff(t)
	tg.Do(t, 1, "POST", "/v1/handoffs/link/"+token, api.HandoffCompletion{Identifier: email, Password: Password}, "").
		Into(t, http.StatusOK, nil)
	const n = 12
	as := tg.burst(t, n, func(i int) Answer { return tg.Do(t, i, "GET", "/v1/handoffs/"+h.ID, nil, "", kiosk...) })
	var sessions []api.Session
	for i, a := range as {
		var p api.Handoff
		a.Into(t, http.StatusOK, &p)
		if p.State != api.HandoffCollected {
			t.Errorf("poll %d answered %s; want collected", i, a.body)
		}
		if p.Session != nil {
			sessions = append(sessions, *p.Session)
		}
	}
	if len(sessions) != 1 {
		t.Fatalf("%d polls of a done sign-in at once: %d got a session, want exactly 1", n, len(sessions))
	}
	if got := tg.Audit(t, s.Account.MiID, "handoff_collected"); got != 1 {
		t.Errorf("%d polls of a done sign-in at once: %d collected it, want 1", n, got)
	}
	var a api.Account
	tg.Do(t, 0, "GET", "/v1/account", nil, sessions[0].Token).Into(t, http.StatusOK, &a)
	var list api.DeviceList
	tg.Do(t, 1, "GET", "/v1/devices", nil, s.Token).Into(t, http.StatusOK, &list)
	if len(list.Devices) != 2 {
		t.Errorf("after the hand-off the account has the devices %+v; want its own and the kiosk", list.Devices)
	}
}

// putItem sends a PUT of a note with data to process i: a change at
// version ifMatch, or a creation when it is 0.
func (tg *Target) putItem(t testing.TB, i int, token, path string, data []byte, ifMatch int64) Answer {
	cond := []string{"If-None-Match", "*"}
	if ifMatch > 0 {
		cond = []string{"If-Match", fmt.Sprint(ifMatch)}
	}
	return tg.Do(t, i, "PUT", path, api.ItemWrite{Data: data}, token, cond...)
}

// testCloudItemChangedOnce: devices changing one Mi Cloud item at the
// version they read, at once: one change is made, every other is refused
// 409 with the item as the winner left it; nothing is overwritten
// silently.
func testCloudItemChangedOnce(t *testing.T, tg *Target) {
	s := tg.account(t, unique("tia"))
	const p = "/v1/cloud/notes/items/shopping"
	tg.putItem(t, 0, s.Token, p, []byte("milk"), 0).Into(t, http.StatusCreated, nil)
	const n = 12
	as := tg.burst(t, n, func(i int) Answer {
		return tg.putItem(t, i, s.Token, p, []byte(fmt.Sprint("writer ", i)), 1)
	})
	if got := tally(as); got["200"] != 1 || got["409 conflict"] != n-1 {
		t.Fatalf("%d changes of one item at version 1 at once answered %v; want one 200 and %d × 409", n, got, n-1)
	}
	var won api.Item
	for _, a := range as {
		if a.status == http.StatusOK {
			a.Into(t, http.StatusOK, &won)
		}
	}
	for _, a := range as {
		if a.err != nil && (a.err.Current == nil || a.err.Current.Version != 2 || string(a.err.Current.Data) != string(won.Data)) {
			t.Errorf("a refused change carries %+v; want the winner's item at version 2", a.err.Current)
		}
	}
	var cur api.Item
	tg.Do(t, 1, "GET", p, nil, s.Token).Into(t, http.StatusOK, &cur)
	if cur.Version != 2 || string(cur.Data) != string(won.Data) {
		t.Errorf("the item is %+v; want the winner's change at version 2", cur)
	}
}

// smallQuota is a new account and its storage, whose quota the battery
// fills: a test skips when the service's default quota is not about 1 MiB.
func (tg *Target) smallQuota(t *testing.T, email string) (api.Session, api.Storage) {
	s := tg.account(t, email)
	var st api.Storage
	tg.Do(t, 0, "GET", "/v1/storage", nil, s.Token).Into(t, http.StatusOK, &st)
	if st.QuotaBytes > 4<<20 {
		t.Skipf("the quota is %d bytes: the battery expects default_quota_bytes of about 1 MiB", st.QuotaBytes)
	}
	return s, st
}

// testCloudQuotaTogether: writes that each fit the Mi Cloud quota but not
// all together, at once: as many as fit are stored, the others refused
// 507 quota_exceeded with the numbers, and the use never passes the quota.
func testCloudQuotaTogether(t *testing.T, tg *Target) {
	s, st := tg.smallQuota(t, unique("uma"))
	const size = 100 << 10
	fits := int(st.QuotaBytes / size)
	n := fits + 4
	data := make([]byte, size)
	as := tg.burst(t, n, func(i int) Answer {
		return tg.putItem(t, i, s.Token, fmt.Sprint("/v1/cloud/notes/items/n", i), data, 0)
	})
	if got := tally(as); got["201"] != fits || got["507 quota_exceeded"] != n-fits {
		t.Errorf("%d writes of %d bytes at once under a quota of %d answered %v; want %d × 201 and %d × 507",
			n, size, st.QuotaBytes, got, fits, n-fits)
	}
	for _, a := range as {
		if e := a.err; e != nil && (e.UsedBytes == nil || e.QuotaBytes == nil || *e.QuotaBytes != st.QuotaBytes ||
			*e.UsedBytes+size <= st.QuotaBytes || e.ByCategory["notes"] != *e.UsedBytes) {
			t.Errorf("a refusal says %+v", e)
		}
	}
	tg.Do(t, 1, "GET", "/v1/storage", nil, s.Token).Into(t, http.StatusOK, &st)
	if st.UsedBytes != int64(fits*size) || st.UsedBytes > st.QuotaBytes || st.ByCategory["notes"] != st.UsedBytes {
		t.Errorf("after the burst the storage is %+v; want %d bytes of notes", st, fits*size)
	}
}

// testCloudBatchesTogether: batches of writes at once, each changing one
// shared item at the version read and creating notes of its own near the
// quota: of the shared item's changes one is made; of the notes as many as
// fit, whatever process took which batch; the use never passes the quota
// and every result says what the write alone would have got.
func testCloudBatchesTogether(t *testing.T, tg *Target) {
	s, st := tg.smallQuota(t, unique("vic"))
	const size = 100 << 10
	shared := api.BatchWrite{ID: "shared", ItemWrite: api.ItemWrite{Data: []byte("first")}}
	tg.Do(t, 0, "POST", "/v1/cloud/notes/batch", api.Batch{Writes: []api.BatchWrite{shared}}, s.Token).Into(t, http.StatusOK, nil)
	fits := int((st.QuotaBytes - 5) / size)
	n := fits + 4
	data := make([]byte, size)
	as := tg.burst(t, n, func(i int) Answer {
		return tg.Do(t, i, "POST", "/v1/cloud/notes/batch", api.Batch{Writes: []api.BatchWrite{
			{ID: "shared", Version: 1, ItemWrite: api.ItemWrite{Data: []byte(fmt.Sprint("writer ", i))}},
			{ID: fmt.Sprint("n", i), ItemWrite: api.ItemWrite{Data: data}},
		}}, s.Token)
	})
	got := map[string]int{}
	for _, a := range as {
		var res api.BatchResults
		a.Into(t, http.StatusOK, &res)
		for j, r := range res.Results {
			key := fmt.Sprint(j, ":", r.Status)
			if r.Error != nil {
				key += " " + r.Error.Code
			}
			got[key]++
		}
	}
	// A change of the shared item shrinks it: only the notes need room.
	if got["0:200"] != 1 || got["0:409 conflict"] != n-1 || got["1:201"] != fits || got["1:507 quota_exceeded"] != n-fits {
		t.Errorf("%d batches at once (a shared change, a note of %d bytes each) under a quota of %d answered %v; "+
			"want one 0:200, %d × 0:409, %d × 1:201 and %d × 1:507", n, size, st.QuotaBytes, got, n-1, fits, n-fits)
	}
	tg.Do(t, 1, "GET", "/v1/storage", nil, s.Token).Into(t, http.StatusOK, &st)
	if st.UsedBytes > st.QuotaBytes || st.ByCategory["notes"] != st.UsedBytes || st.UsedBytes < int64(fits*size) {
		t.Errorf("after the batches the storage is %+v", st)
	}
}

// testCloudChangesNeverSkipped: devices write items (through every
// process in turn) while another follows the changes with its cursor:
// once they are done it has seen every item. A change committed after a
// later one was read would be lost to it for good.
func testCloudChangesNeverSkipped(t *testing.T, tg *Target) {
	s := tg.account(t, unique("val"))
	const writers, each = 4, 8
	seen := map[string]bool{}
	var cursor int64
	reads := 0
	follow := func() {
		for {
			var c api.Changes
			tg.Do(t, reads, "GET", fmt.Sprintf("/v1/cloud/calendar/changes?cursor=%d&limit=5", cursor), nil, s.Token).Into(t, http.StatusOK, &c)
			reads++
			for _, it := range c.Items {
				if it.Change <= cursor {
					t.Errorf("change %d after the cursor %d", it.Change, cursor)
				}
				seen[it.ID] = true
			}
			cursor = c.Cursor
			if !c.More {
				return
			}
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				a := tg.putItem(t, w+i, s.Token, fmt.Sprintf("/v1/cloud/calendar/items/w%d-%d", w, i), []byte("BEGIN:VEVENT"), 0)
				if a.status != http.StatusCreated {
					t.Errorf("write %d-%d: %d %s", w, i, a.status, a.body)
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			follow()
		}
	}
	follow()
	if len(seen) != writers*each {
		t.Errorf("the follower saw %d of %d items: a change was skipped", len(seen), writers*each)
	}
}
