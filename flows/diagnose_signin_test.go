package flows_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"misetup/client"
	"misetup/flows"
)

// newDownClient is a client of a port nobody listens on.
func newDownClient(t *testing.T) *client.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	return client.New(url, client.WithRetries(0), client.WithTimeout(2*time.Second))
}

func TestDiagnoseSignInLock(t *testing.T) {
	e := newTSEnv(t, nil)
	ctx := context.Background()
	acc := e.signUp(t, "ann@example.com")
	c := e.newClient()
	files := flows.Files{Dir: t.TempDir()}
	in := flows.SignInInput{Identifier: "ann@example.com", Password: "not-the-password", Region: "CN", Device: e.dev}

	// Four wrong passwords: wrong credentials, not locked.
	var d flows.SignInDiagnosis
	for i := 1; i <= 4; i++ {
		_, d = flows.TrySignIn(ctx, c, files, in, e.clock.Now)
		if d.Cause != flows.SignInWrong {
			t.Fatalf("wrong password %d: cause %q", i, d.Cause)
		}
	}
	if !d.Offers(flows.ActionForgotPassword) || !d.LockedUntil.IsZero() || len(d.Issues) != 0 {
		t.Errorf("wrong credentials: actions %v lockedUntil %v issues %v", d.Actions, d.LockedUntil, d.Issues)
	}
	// The fifth locks it, for 15 minutes.
	_, d = flows.TrySignIn(ctx, c, files, in, e.clock.Now)
	if d.Cause != flows.SignInLocked || d.Level != flows.LevelFail {
		t.Fatalf("fifth wrong password: cause %q", d.Cause)
	}
	if got := d.LockedUntil.Sub(e.clock.Now()); got != 15*time.Minute {
		t.Errorf("locked for %v, want 15m", got)
	}
	words := renderAll(d.Diagnosis)
	if !strings.Contains(words, "ann@example.com") || !strings.Contains(words, "unlocks") {
		t.Errorf("locked finding:\n%s", words)
	}
	if d.Actions[0] != flows.ActionForgotPassword {
		t.Errorf("actions %v: forgot password first", d.Actions)
	}
	// Even the right password is refused while locked, and the answer
	// counts down.
	e.clock.Advance(5 * time.Minute)
	in.Password = tsPassword
	_, d = flows.TrySignIn(ctx, c, files, in, e.clock.Now)
	if d.Cause != flows.SignInLocked || d.LockedUntil.Sub(e.clock.Now()) != 10*time.Minute {
		t.Fatalf("right password while locked: cause %q, %v left", d.Cause, d.LockedUntil.Sub(e.clock.Now()))
	}

	// The offered action: "Forgot password?". A completed reset unlocks.
	ch, err := flows.RequestReset(ctx, c, "ann@example.com", "CN")
	if err != nil {
		t.Fatal(err)
	}
	code := e.box.lastCodeTo(t, "ann@example.com", 2)
	if _, err := flows.FinishReset(ctx, c, files, flows.ResetInput{ChallengeID: ch.ID, Code: code, Password: tsNewPass, Confirm: tsNewPass}); err != nil {
		t.Fatalf("reset: %v", err)
	}
	in.Password = tsNewPass
	s, d := flows.TrySignIn(ctx, c, files, in, e.clock.Now)
	if d.Cause != flows.SignInOK || s.Account.MiID != acc.MiID {
		t.Fatalf("after the reset: cause %q (%s)", d.Cause, render(d.Finding))
	}
	if tok, _ := files.LoadToken(); tok == "" {
		t.Error("the session of the check was not saved")
	}
}

func TestDiagnoseSignInIdentifierShape(t *testing.T) {
	e := newTSEnv(t, nil)
	ctx := context.Background()

	t.Run("email domain typo", func(t *testing.T) {
		e.signUp(t, "ann@gmail.com")
		c := e.newClient()
		in := flows.SignInInput{Identifier: "ann@gmial.com", Password: tsPassword, Region: "CN", Device: e.dev}
		_, d := flows.TrySignIn(ctx, c, nil, in, e.clock.Now)
		if d.Cause != flows.SignInWrong || d.Suggestion() != "ann@gmail.com" || d.Level != flows.LevelWarn {
			t.Fatalf("cause %q suggestion %q level %v", d.Cause, d.Suggestion(), d.Level)
		}
		if d.Actions[0] != flows.ActionUseSuggestion || !strings.Contains(renderAll(d.Diagnosis), "gmial.com looks like a typo") {
			t.Errorf("actions %v:\n%s", d.Actions, renderAll(d.Diagnosis))
		}
		// The offered fix signs in.
		in.Identifier = d.Suggestion()
		if _, d = flows.TrySignIn(ctx, c, nil, in, e.clock.Now); d.Cause != flows.SignInOK {
			t.Errorf("with the suggestion: cause %q", d.Cause)
		}
	})

	t.Run("phone without country code", func(t *testing.T) {
		ch := e.register(t, "+86 138 0013 8000")
		code := e.box.lastCodeTo(t, "+8613800138000", 1)
		if _, err := flows.Verify(ctx, e.c, nil, ch.ID, code, nil); err != nil {
			t.Fatal(err)
		}
		c := e.newClient()
		// The picker says US (the locale), the number is Chinese.
		in := flows.SignInInput{Identifier: "13800138000", Password: tsPassword, Region: "US", Device: e.dev}
		_, d := flows.TrySignIn(ctx, c, nil, in, e.clock.Now)
		if d.Cause == flows.SignInOK {
			t.Fatal("signed in with a number of the wrong country")
		}
		if len(d.Issues) != 1 || d.Issues[0].Kind != flows.IssuePhoneCountryCode || d.Suggestion() != "+86 138 0013 8000" {
			t.Fatalf("cause %q issues %+v", d.Cause, d.Issues)
		}
		in.Identifier = d.Suggestion()
		if _, d = flows.TrySignIn(ctx, c, nil, in, e.clock.Now); d.Cause != flows.SignInOK {
			t.Errorf("with the country code: cause %q (%s)", d.Cause, render(d.Finding))
		}
	})

	t.Run("service down", func(t *testing.T) {
		_, d := flows.TrySignIn(ctx, newDownClient(t), nil,
			flows.SignInInput{Identifier: "ann@gmail.com", Password: tsPassword, Device: e.dev}, nil)
		if d.Cause != flows.SignInUnavailable {
			t.Errorf("cause %q", d.Cause)
		}
	})

	t.Run("no attempt yet", func(t *testing.T) {
		d := flows.DiagnoseSignIn(flows.SignInAttempt{Identifier: "bob@hotmial.com"}, time.Now())
		if d.Cause != flows.SignInNoAttempt || d.Suggestion() != "bob@hotmail.com" || !d.Offers(flows.ActionSignIn) {
			t.Errorf("cause %q suggestion %q actions %v", d.Cause, d.Suggestion(), d.Actions)
		}
	})
}

func TestSuggestEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ann@gmial.com", "ann@gmail.com"},
		{"ann@gmai.com", "ann@gmail.com"},
		{"ann@gamil.com", "ann@gmail.com"},
		{"ann@gmail.con", "ann@gmail.com"},
		{"ann@gmail.co", "ann@gmail.com"},
		{"ann@hotmial.com", "ann@hotmail.com"},
		{"ann@hotmai.co", "ann@hotmail.com"},
		{"ann@yahooo.com", "ann@yahoo.com"},
		{"ann@outlok.com", "ann@outlook.com"},
		{"ann@qq.con", "ann@qq.com"},
		{"ann@163.cm", "ann@163.com"},
		{"ann@example.cmo", "ann@example.com"},
		{"Ann.Lee@GMIAL.COM", "Ann.Lee@gmail.com"},
		// Fine as they are.
		{"ann@gmail.com", ""},
		{"ann@mail.com", ""},
		{"ann@email.com", ""},
		{"ann@126.com", ""},
		{"ann@live.cn", ""},
		{"ann@company.example", ""},
		{"ann@me.com", ""},
		{"not-an-address", ""},
		{"ann@", ""},
	}
	for _, tt := range tests {
		if got := flows.SuggestEmail(tt.in); got != tt.want {
			t.Errorf("SuggestEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSuggestPhone(t *testing.T) {
	tests := []struct{ in, region, want string }{
		{"13800138000", "US", "+86 138 0013 8000"},   // a Chinese mobile, the picker on US
		{"8613800138000", "US", "+86 138 0013 8000"}, // the country code without +
		{"13800138000", "CN", ""},                    // fine for the region
		{"+86 138 0013 8000", "US", ""},              // has its country code
		{"2025550123", "US", ""},                     // a US number in the US
		{"123456789", "CN", ""},                      // a Mi ID
		{"ann@example.com", "CN", ""},                // not a number
		{"12", "CN", ""},
	}
	for _, tt := range tests {
		if got := flows.SuggestPhone(tt.in, tt.region); got != tt.want {
			t.Errorf("SuggestPhone(%q, %s) = %q, want %q", tt.in, tt.region, got, tt.want)
		}
	}
}
