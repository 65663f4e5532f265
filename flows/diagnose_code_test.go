package flows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/flows"
)

func TestDiagnoseCodeFailedDelivery(t *testing.T) {
	e := newTSEnv(t, failingGateway(t)) // SMS through a gateway answering 500
	ctx := context.Background()
	const phone = "+86 138 0013 8000"
	ch := e.register(t, phone)
	e.delivered(t, ch.ID)

	d, err := flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: ch.ID, Typed: phone, Now: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if d.Cause != flows.CodeDeliveryFailed || d.Level != flows.LevelFail {
		t.Fatalf("cause %q level %v, want delivery_failed/fail", d.Cause, d.Level)
	}
	if !strings.Contains(d.Reason, "500") {
		t.Errorf("reason %q does not carry the gateway's answer", d.Reason)
	}
	if d.Address != phone {
		t.Errorf("address %q, want the number as typed", d.Address)
	}
	// Resending would go through the same broken gateway: not offered.
	if d.Offers(flows.ActionResend) || !d.Offers(flows.ActionChangeAddress) {
		t.Errorf("actions %v: want change address, no resend", d.Actions)
	}
	words := renderAll(d.Diagnosis)
	for _, want := range []string{"could not send", "500", "Resending will not help"} {
		if !strings.Contains(words, want) {
			t.Errorf("%q missing from:\n%s", want, words)
		}
	}

	// The offered action: change the address (email goes through a
	// working courier) and the new code is sent.
	ch2 := e.register(t, "ann@example.com")
	e.delivered(t, ch2.ID)
	d2, err := flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: ch2.ID, Typed: "ann@example.com", Now: e.clock.Now()})
	if err != nil || d2.Cause != flows.CodeSent {
		t.Fatalf("after changing the address: cause %q err %v", d2.Cause, err)
	}
	if !strings.Contains(render(d2.Fix), "spam") {
		t.Errorf("email fix %q does not mention the spam folder", render(d2.Fix))
	}
}

func TestDiagnoseCodeSentAndResend(t *testing.T) {
	e := newTSEnv(t, nil)
	ctx := context.Background()
	ch := e.register(t, "ann@example.com")
	e.delivered(t, ch.ID)
	in := flows.CodeInput{ChallengeID: ch.ID, Typed: "ann@example.com", Now: e.clock.Now()}

	d, err := flows.DiagnoseCode(ctx, e.c, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cause != flows.CodeSent || d.Address != "ann@example.com" || d.Suggestion != "" {
		t.Fatalf("cause %q address %q suggestion %q", d.Cause, d.Address, d.Suggestion)
	}
	if !d.ResendAt.Equal(ch.ResendAfter) || d.ResendAt.Sub(e.clock.Now()) != 60*time.Second {
		t.Errorf("resend at %v, want the challenge's resend_after (60 s from now)", d.ResendAt)
	}
	// Someone who typed another address sees the masked destination.
	other, _ := flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: ch.ID, Typed: "bob@example.com"})
	if other.Address != "a***@example.com" {
		t.Errorf("address for another typed address: %q", other.Address)
	}

	// Resend too early: refused, with when the next send is allowed.
	d, err = flows.ResendCode(ctx, e.c, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cause != flows.CodeRateLimited || d.ResendAt.Sub(e.clock.Now()) != 60*time.Second {
		t.Fatalf("early resend: cause %q resend at +%v", d.Cause, d.ResendAt.Sub(e.clock.Now()))
	}
	if !strings.Contains(render(d.Finding), "in 1 min") {
		t.Errorf("finding %q does not say when", render(d.Finding))
	}
	if e.box.countTo("ann@example.com") != 1 {
		t.Errorf("an early resend sent a code")
	}

	// After the countdown the resend works: a new code goes out.
	e.clock.Advance(61 * time.Second)
	in.Now = e.clock.Now()
	d, err = flows.ResendCode(ctx, e.c, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cause != flows.CodeQueued && d.Cause != flows.CodeSent {
		t.Fatalf("after resend: cause %q", d.Cause)
	}
	first := e.box.lastCodeTo(t, "ann@example.com", 1)
	second := e.box.lastCodeTo(t, "ann@example.com", 2)
	e.delivered(t, ch.ID)
	if d, _ = flows.DiagnoseCode(ctx, e.c, in); d.Cause != flows.CodeSent {
		t.Errorf("after delivery: cause %q", d.Cause)
	}
	// The new code verifies the account (the old one was replaced).
	if first != second {
		if _, err := flows.Verify(ctx, e.c, e.files, ch.ID, first, nil); err == nil {
			t.Error("the replaced code still verifies")
		}
	}
	if _, err := flows.Verify(ctx, e.c, e.files, ch.ID, second, nil); err != nil {
		t.Fatalf("the resent code: %v", err)
	}
	if d, _ = flows.DiagnoseCode(ctx, e.c, in); d.Cause != flows.CodeVerified || d.Level != flows.LevelOK {
		t.Errorf("after verifying: cause %q level %v", d.Cause, d.Level)
	}
}

func TestDiagnoseCodeHourlyCap(t *testing.T) {
	e := newTSEnv(t, nil)
	ctx := context.Background()
	ch := e.register(t, "ann@example.com")
	start := e.clock.Now()
	in := flows.CodeInput{ChallengeID: ch.ID, Typed: "ann@example.com"}
	for i := 2; i <= 5; i++ { // the 2nd to 5th send of the hour
		e.clock.Advance(61 * time.Second)
		in.Now = e.clock.Now()
		if d, err := flows.ResendCode(ctx, e.c, in); err != nil || d.Cause == flows.CodeRateLimited {
			t.Fatalf("send %d: cause %q err %v", i, d.Cause, err)
		}
	}
	e.clock.Advance(61 * time.Second)
	in.Now = e.clock.Now()
	d, err := flows.ResendCode(ctx, e.c, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cause != flows.CodeRateLimited {
		t.Fatalf("6th send of the hour: cause %q", d.Cause)
	}
	// The next send is allowed when the first send leaves the hour.
	if want := start.Add(time.Hour); d.ResendAt.Sub(want).Abs() > 2*time.Second {
		t.Errorf("next send at %v, want %v", d.ResendAt, want)
	}
	if !strings.Contains(render(d.Finding), d.ResendAt.Local().Format("15:04")) {
		t.Errorf("finding %q does not name the time", render(d.Finding))
	}
}

func TestDiagnoseCodeStates(t *testing.T) {
	e := newTSEnv(t, nil)
	ctx := context.Background()

	t.Run("nothing asked for", func(t *testing.T) {
		d, err := flows.DiagnoseCode(ctx, e.c, flows.CodeInput{})
		if err != nil || d.Cause != flows.CodeNoChallenge {
			t.Errorf("cause %q err %v", d.Cause, err)
		}
	})
	t.Run("unknown to the service", func(t *testing.T) {
		d, err := flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: "0123456789abcdef0123456789abcdef"})
		if err != nil || d.Cause != flows.CodeUnknown || !d.Offers(flows.ActionChangeAddress) {
			t.Errorf("cause %q actions %v err %v", d.Cause, d.Actions, err)
		}
	})
	t.Run("mistyped domain", func(t *testing.T) {
		ch := e.register(t, "ann@gmial.com")
		e.delivered(t, ch.ID)
		d, err := flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: ch.ID, Typed: "ann@gmial.com", Now: e.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if d.Cause != flows.CodeAddressTypo || d.Suggestion != "ann@gmail.com" || d.Address != "ann@gmial.com" {
			t.Fatalf("cause %q suggestion %q address %q", d.Cause, d.Suggestion, d.Address)
		}
		if d.Actions[0] != flows.ActionChangeAddress {
			t.Errorf("actions %v: change address first", d.Actions)
		}
		// Even without what was typed, the masked domain shows the typo.
		d, _ = flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: ch.ID})
		if d.Cause != flows.CodeAddressTypo || d.Suggestion != "a***@gmail.com" {
			t.Errorf("masked: cause %q suggestion %q", d.Cause, d.Suggestion)
		}
		// The action: a new registration with the corrected address.
		ch2 := e.register(t, "ann@gmail.com")
		e.delivered(t, ch2.ID)
		d, _ = flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: ch2.ID, Typed: "ann@gmail.com", Now: e.clock.Now()})
		if d.Cause != flows.CodeSent {
			t.Errorf("corrected address: cause %q", d.Cause)
		}
	})
	t.Run("expired, then resent", func(t *testing.T) {
		ch := e.register(t, "exp@example.com")
		e.delivered(t, ch.ID)
		e.clock.Advance(11 * time.Minute)
		in := flows.CodeInput{ChallengeID: ch.ID, Typed: "exp@example.com", Now: e.clock.Now()}
		d, err := flows.DiagnoseCode(ctx, e.c, in)
		if err != nil || d.Cause != flows.CodeExpired || !d.Offers(flows.ActionResend) {
			t.Fatalf("cause %q actions %v err %v", d.Cause, d.Actions, err)
		}
		if !strings.Contains(renderAll(d.Diagnosis), "spam") {
			t.Errorf("no spam reminder for email:\n%s", renderAll(d.Diagnosis))
		}
		if d, err = flows.ResendCode(ctx, e.c, in); err != nil || d.Challenge.State != api.ChallengePending {
			t.Fatalf("resend of an expired code: state %q err %v", d.Challenge.State, err)
		}
		code := e.box.lastCodeTo(t, "exp@example.com", 2)
		if _, err := flows.Verify(ctx, e.c, e.files, ch.ID, code, nil); err != nil {
			t.Errorf("the new code: %v", err)
		}
	})
	t.Run("too many wrong codes", func(t *testing.T) {
		ch := e.register(t, "dead@example.com")
		right := e.box.lastCodeTo(t, "dead@example.com", 1)
		wrong := wrongCode(right)
		for range 5 {
			_, _ = flows.Verify(ctx, e.c, e.files, ch.ID, wrong, nil)
		}
		d, err := flows.DiagnoseCode(ctx, e.c, flows.CodeInput{ChallengeID: ch.ID, Now: e.clock.Now()})
		if err != nil || d.Cause != flows.CodeDead || d.Offers(flows.ActionResend) {
			t.Errorf("cause %q actions %v err %v", d.Cause, d.Actions, err)
		}
	})
	t.Run("service down", func(t *testing.T) {
		down := newDownClient(t)
		_, err := flows.DiagnoseCode(ctx, down, flows.CodeInput{ChallengeID: "abc"})
		if ue := flows.Explain(err); ue == nil || ue.Key != flows.ErrKeyUnavailable {
			t.Errorf("err %v, want %s", err, flows.ErrKeyUnavailable)
		}
	})
}
