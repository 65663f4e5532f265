package flows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"misetup/api"
	"misetup/flows"
)

// fakeTwoStep answers with canned errors and counts the calls.
type fakeTwoStep struct {
	err   error
	calls int
	got   string // the code or password last sent
}

func (f *fakeTwoStep) StartTOTP(context.Context) (api.TOTPSetup, error) {
	f.calls++
	return api.TOTPSetup{Secret: "SECRET", OTPAuthURI: "otpauth://totp/x?secret=SECRET"}, f.err
}

func (f *fakeTwoStep) ConfirmTOTP(_ context.Context, code string) (api.RecoveryCodes, error) {
	f.calls++
	f.got = code
	if f.err != nil {
		return api.RecoveryCodes{}, f.err
	}
	return api.RecoveryCodes{RecoveryCodes: []string{"AAAAA-BBBBB"}}, nil
}

func (f *fakeTwoStep) DisableTOTP(_ context.Context, password string) error {
	f.calls++
	f.got = password
	return f.err
}

func TestValidateTOTPCode(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"123456", "123456"},
		{"123 456", "123456"},
		{" 123456\t", "123456"},
		{"", ""},
		{"12345", ""},
		{"1234567", ""},
		{"12a456", ""},
		{"١٢٣٤٥٦", ""}, // Arabic-Indic digits are not what the service takes
		{"AAAAA-BBBBB", ""},
	}
	for _, tt := range tests {
		got, err := flows.ValidateTOTPCode(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("ValidateTOTPCode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		ue := flows.Explain(err)
		if ue == nil || ue.Key != flows.ErrKeyTOTPFormat || ue.Field != "code" {
			t.Errorf("ValidateTOTPCode(%q) = %q, %+v; want %s on field code", tt.in, got, ue, flows.ErrKeyTOTPFormat)
		}
	}
}

func TestTwoStepErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		call      func(flows.TwoStep) error
		serverErr error
		wantKey   string // "" means success
		wantField string
		wantCalls int
	}{
		{"start", func(s flows.TwoStep) error { _, err := flows.StartTwoStep(ctx, s); return err }, nil, "", "", 1},
		{"start when already on", func(s flows.TwoStep) error { _, err := flows.StartTwoStep(ctx, s); return err },
			&api.Error{Code: api.CodeConflict}, flows.ErrKeyConflict, "", 1},
		{"start with the service down", func(s flows.TwoStep) error { _, err := flows.StartTwoStep(ctx, s); return err },
			&api.Error{Code: api.CodeUnavailable}, flows.ErrKeyUnavailable, "", 1},
		{"confirm", func(s flows.TwoStep) error { _, err := flows.ConfirmTwoStep(ctx, s, "123 456"); return err }, nil, "", "", 1},
		{"confirm a malformed code never calls", func(s flows.TwoStep) error { _, err := flows.ConfirmTwoStep(ctx, s, "12345"); return err },
			nil, flows.ErrKeyTOTPFormat, "code", 0},
		{"confirm a wrong code", func(s flows.TwoStep) error { _, err := flows.ConfirmTwoStep(ctx, s, "123456"); return err },
			&api.Error{Code: api.CodeInvalidCode, Field: "code"}, flows.ErrKeyTOTPInvalid, "code", 1},
		{"confirm without starting", func(s flows.TwoStep) error { _, err := flows.ConfirmTwoStep(ctx, s, "123456"); return err },
			&api.Error{Code: api.CodeConflict}, flows.ErrKeyConflict, "", 1},
		{"disable", func(s flows.TwoStep) error { return flows.DisableTwoStep(ctx, s, "pw") }, nil, "", "", 1},
		{"disable without a password never calls", func(s flows.TwoStep) error { return flows.DisableTwoStep(ctx, s, "") },
			nil, flows.ErrKeyPasswordEmpty, "password", 0},
		{"disable with a wrong password", func(s flows.TwoStep) error { return flows.DisableTwoStep(ctx, s, "pw") },
			&api.Error{Code: api.CodeReauthRequired, Field: "password"}, flows.ErrKeyReauth, "password", 1},
		{"disable locked", func(s flows.TwoStep) error { return flows.DisableTwoStep(ctx, s, "pw") },
			&api.Error{Code: api.CodeAccountLocked, RetryAfterS: 900}, flows.ErrKeyAccountLocked, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTwoStep{err: tt.serverErr}
			err := tt.call(f)
			ue := flows.Explain(err)
			switch {
			case tt.wantKey == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.wantKey != "" && (ue == nil || ue.Key != tt.wantKey || ue.Field != tt.wantField):
				t.Fatalf("error %+v, want key %s field %q", ue, tt.wantKey, tt.wantField)
			case f.calls != tt.wantCalls:
				t.Fatalf("%d calls, want %d", f.calls, tt.wantCalls)
			}
			if tt.serverErr != nil && !errors.Is(err, tt.serverErr) {
				t.Errorf("%v does not wrap the service's error", err)
			}
		})
	}
	t.Run("the code goes without spaces", func(t *testing.T) {
		f := &fakeTwoStep{}
		codes, err := flows.ConfirmTwoStep(ctx, f, " 123 456 ")
		if err != nil || f.got != "123456" || len(codes) != 1 {
			t.Fatalf("sent %q, got %v %v", f.got, codes, err)
		}
	})
}

// TestTwoStepAgainstTheService walks enrolment, a wrong and a replayed
// code, and turning it off, on the real service.
func TestTwoStepAgainstTheService(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createAccount(t, email)

	setup, err := flows.StartTwoStep(ctx, e.c)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	key, err := totpKey(setup)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(key, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flows.ConfirmTwoStep(ctx, e.c, wrongCode(code)); keyOf(err) != flows.ErrKeyTOTPInvalid {
		t.Fatalf("wrong code: %v, want %s", err, flows.ErrKeyTOTPInvalid)
	}
	codes, err := flows.ConfirmTwoStep(ctx, e.c, code[:3]+" "+code[3:])
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	if _, err := flows.ConfirmTwoStep(ctx, e.c, code); keyOf(err) != flows.ErrKeyConflict {
		t.Fatalf("confirm again: %v, want %s (already on)", err, flows.ErrKeyConflict)
	}
	if _, err := flows.StartTwoStep(ctx, e.c); keyOf(err) != flows.ErrKeyConflict {
		t.Fatalf("start while on: %v, want %s", err, flows.ErrKeyConflict)
	}
	if acc, err := e.c.Account(ctx); err != nil || !acc.TOTPEnabled {
		t.Fatalf("account %+v %v, want two-step on", acc, err)
	}

	if err := flows.DisableTwoStep(ctx, e.c, password+"x"); keyOf(err) != flows.ErrKeyReauth {
		t.Fatalf("disable with a wrong password: %v, want %s", err, flows.ErrKeyReauth)
	}
	if err := flows.DisableTwoStep(ctx, e.c, password); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if acc, err := e.c.Account(ctx); err != nil || acc.TOTPEnabled {
		t.Fatalf("account %+v %v, want two-step off", acc, err)
	}
	e.clock.Advance(30 * time.Second)
	in := flows.SignInInput{Identifier: email, Password: password, Device: e.dev}
	if _, err := flows.SignIn(ctx, e.c, e.files, in); err != nil {
		t.Fatalf("sign in without a code after turning it off: %v", err)
	}
}

// totpKey is the secret of setup, checked against its otpauth URI: the
// same secret, and the parameters apps assume (SHA-1, 6 digits, 30 s).
func totpKey(setup api.TOTPSetup) (string, error) {
	k, err := otp.NewKeyFromURL(setup.OTPAuthURI)
	if err != nil {
		return "", fmt.Errorf("otpauth URI %q: %w", setup.OTPAuthURI, err)
	}
	if k.Type() != "totp" || k.Secret() != setup.Secret || setup.Secret == "" ||
		k.Algorithm() != otp.AlgorithmSHA1 || k.Digits() != otp.DigitsSix || k.Period() != 30 {
		return "", fmt.Errorf("otpauth URI %q does not match the secret %q", setup.OTPAuthURI, setup.Secret)
	}
	return setup.Secret, nil
}
