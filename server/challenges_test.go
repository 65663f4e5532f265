package server

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"misetup/api"
)

func verify(e *env, id, code string, hdr ...string) resp {
	return e.do("POST", "/v1/challenges/"+id+"/verify", api.VerifyRequest{Code: code}, hdr...)
}

func TestWrongCodesKillTheChallenge(t *testing.T) {
	e := newEnv(t)
	c := e.register("ann@example.com", testPassword)
	code := e.codeFor("ann@example.com")
	for want := 4; want >= 1; want-- {
		ae := verify(e, c.ID, wrongCode(code)).apiErr(t, http.StatusBadRequest, api.CodeInvalidCode)
		if ae.Attempts() != want || ae.Field != "code" {
			t.Fatalf("attempts_left %d field %q, want %d, code", ae.Attempts(), ae.Field, want)
		}
	}
	verify(e, c.ID, wrongCode(code)).apiErr(t, http.StatusTooManyRequests, api.CodeTooManyAttempts)
	// Dead: even the right code is refused now, and no account exists.
	verify(e, c.ID, code).apiErr(t, http.StatusTooManyRequests, api.CodeTooManyAttempts)
	var got api.Challenge
	e.do("GET", "/v1/challenges/"+c.ID, nil).into(t, http.StatusOK, &got)
	if got.State != api.ChallengeDead || got.AttemptsLeft != 0 {
		t.Errorf("challenge %s with %d attempts, want dead with 0", got.State, got.AttemptsLeft)
	}
	e.signIn("ann@example.com", testPassword, "d").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
}

func TestCodeExpires(t *testing.T) {
	e := newEnv(t)
	c := e.register("ann@example.com", testPassword)
	code := e.codeFor("ann@example.com")
	e.clock.Advance(10 * time.Minute)
	verify(e, c.ID, code).apiErr(t, http.StatusGone, api.CodeCodeExpired)
	var got api.Challenge
	e.do("GET", "/v1/challenges/"+c.ID, nil).into(t, http.StatusOK, &got)
	if got.State != api.ChallengeExpired {
		t.Errorf("state %s, want expired", got.State)
	}
	// A resend revives it with a new code.
	e.do("POST", "/v1/challenges/"+c.ID+"/resend", nil).into(t, http.StatusAccepted, &got)
	if got.State != api.ChallengePending {
		t.Errorf("after resend: state %s, want pending", got.State)
	}
	verify(e, c.ID, e.codeFor("ann@example.com")).into(t, http.StatusOK, nil)
}

func TestCodeJustBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	c := e.register("ann@example.com", testPassword)
	e.clock.Advance(10*time.Minute - time.Second)
	verify(e, c.ID, e.codeFor("ann@example.com")).into(t, http.StatusOK, nil)
}

func TestCodeIsSingleUse(t *testing.T) {
	e := newEnv(t)
	c := e.register("ann@example.com", testPassword)
	code := e.codeFor("ann@example.com")
	verify(e, c.ID, code).into(t, http.StatusOK, nil)
	verify(e, c.ID, code).apiErr(t, http.StatusGone, api.CodeCodeExpired)
}

func TestConcurrentVerifiesOneWins(t *testing.T) {
	e := newEnv(t)
	const racers = 8
	c := e.register("ann@example.com", testPassword)
	code := e.codeFor("ann@example.com")
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			statuses[i] = verify(e, c.ID, code).status
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusGone:
		default:
			t.Errorf("a racing verify answered %d", s)
		}
	}
	if ok != 1 {
		t.Errorf("%d verifies succeeded (statuses %v), want exactly 1", ok, statuses)
	}
}

func TestResendCooldown(t *testing.T) {
	e := newEnv(t)
	c := e.register("ann@example.com", testPassword)
	first := e.codeFor("ann@example.com")
	verify(e, c.ID, wrongCode(first)).apiErr(t, 400, api.CodeInvalidCode)

	ae := e.do("POST", "/v1/challenges/"+c.ID+"/resend", nil).apiErr(t, http.StatusTooManyRequests, api.CodeRateLimited)
	if ae.RetryAfterS != 60 {
		t.Errorf("retry_after_s %d, want 60", ae.RetryAfterS)
	}
	e.clock.Advance(59 * time.Second)
	r := e.do("POST", "/v1/challenges/"+c.ID+"/resend", nil)
	if ae := r.apiErr(t, http.StatusTooManyRequests, api.CodeRateLimited); ae.RetryAfterS != 1 {
		t.Errorf("retry_after_s %d, want 1", ae.RetryAfterS)
	}
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After header %q, want 1", r.header.Get("Retry-After"))
	}
	e.clock.Advance(time.Second)
	var got api.Challenge
	e.do("POST", "/v1/challenges/"+c.ID+"/resend", nil).into(t, http.StatusAccepted, &got)
	if got.AttemptsLeft != 5 || !got.ResendAfter.Equal(e.clock.Now().Add(time.Minute)) {
		t.Errorf("after resend: attempts %d, resend_after %v", got.AttemptsLeft, got.ResendAfter)
	}
	second := e.codeFor("ann@example.com")
	if len(e.courier.messages()) != 2 {
		t.Fatalf("%d messages, want 2", len(e.courier.messages()))
	}
	if second != first {
		verify(e, c.ID, first).apiErr(t, 400, api.CodeInvalidCode) // the old code is void
	}
	verify(e, c.ID, second).into(t, http.StatusOK, nil)
}

func TestSendsPerDestinationPerHour(t *testing.T) {
	e := newEnv(t)
	c := e.register("ann@example.com", testPassword) // send 1 at t0
	for range 4 {                                    // sends 2-5 at t0+60s ... t0+240s
		e.clock.Advance(time.Minute)
		e.do("POST", "/v1/challenges/"+c.ID+"/resend", nil).into(t, http.StatusAccepted, nil)
	}
	e.clock.Advance(time.Minute) // t0+300s
	ae := e.do("POST", "/v1/challenges/"+c.ID+"/resend", nil).apiErr(t, http.StatusTooManyRequests, api.CodeRateLimited)
	if ae.RetryAfterS != 3300 {
		t.Errorf("retry_after_s %d, want 3300 (until the first send leaves the hour)", ae.RetryAfterS)
	}
	// A new registration of the same address is held too, and says the same.
	r := e.do("POST", "/v1/registrations", api.RegistrationRequest{Method: "email", Identifier: "ann@example.com", Password: testPassword})
	if ae := r.apiErr(t, http.StatusTooManyRequests, api.CodeRateLimited); ae.RetryAfterS != 3300 {
		t.Errorf("registration retry_after_s %d, want 3300", ae.RetryAfterS)
	}
	// Another address is not.
	e.register("bob@example.com", testPassword)

	e.clock.Advance(3300 * time.Second)
	e.do("POST", "/v1/challenges/"+c.ID+"/resend", nil).into(t, http.StatusAccepted, nil)
	if n := len(e.courier.messages()); n != 7 {
		t.Errorf("%d messages sent, want 7", n)
	}
}

func TestDeliveryFailureIsStored(t *testing.T) {
	e := newEnv(t)
	e.courier.fail = errors.New("smtp: 550 mailbox unavailable")
	c := e.register("ann@example.com", testPassword)
	e.settle()
	var got api.Challenge
	e.do("GET", "/v1/challenges/"+c.ID, nil).into(t, http.StatusOK, &got)
	if got.Delivery.State != api.DeliveryFailed || got.Delivery.Error != "smtp: 550 mailbox unavailable" || got.Delivery.At == nil {
		t.Errorf("delivery %+v, want failed with the courier's error", got.Delivery)
	}
}

func TestUnknownChallenge(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/v1/challenges/nope", nil).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	verify(e, "nope", "123456").apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.do("POST", "/v1/challenges/nope/resend", nil).apiErr(t, http.StatusNotFound, api.CodeNotFound)
}
