package flows_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"misetup/api"
	"misetup/flows"
)

// addRecovery verifies a recovery contact for the signed-in account.
func (e *tsEnv) addRecovery(t *testing.T, req api.RecoveryRequest, to string) {
	t.Helper()
	ctx := context.Background()
	ch, err := e.c.SetRecovery(ctx, req)
	if err != nil {
		t.Fatalf("set recovery: %v", err)
	}
	if _, err := flows.Verify(ctx, e.c, nil, ch.ID, e.box.lastCodeTo(t, to, 1), nil); err != nil {
		t.Fatalf("verify recovery: %v", err)
	}
}

func TestDiagnoseLostAccessResetsThroughRecovery(t *testing.T) {
	tests := []struct {
		name     string
		recovery api.RecoveryRequest
		to       string // where the reset code must go
		via      flows.Action
		masked   string
		hidden   string // how the service shows a destination the requester did not type
	}{
		{"recovery email", api.RecoveryRequest{Email: "ann.backup@example.org"}, "ann.backup@example.org",
			flows.ActionResetViaEmail, "a***@example.org", "•••@•••"},
		{"recovery phone", api.RecoveryRequest{Phone: "+86 139 0013 9000"}, "+8613900139000",
			flows.ActionResetViaPhone, "+86 ••• •••• 9000", "+•• ••• •••• ••••"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTSEnv(t, nil)
			ctx := context.Background()
			acc := e.signUp(t, "ann@example.com")
			e.addRecovery(t, tt.recovery, tt.to)

			d, err := flows.DiagnoseLostAccess(ctx, e.c)
			if err != nil {
				t.Fatal(err)
			}
			if d.Cause != flows.LostRecoveryAvailable || !d.Offers(tt.via) {
				t.Fatalf("cause %q actions %v", d.Cause, d.Actions)
			}
			other := flows.ActionResetViaPhone
			if tt.via == flows.ActionResetViaPhone {
				other = flows.ActionResetViaEmail
			}
			if d.Offers(other) {
				t.Errorf("offers %s without such a contact", other)
			}
			if w := render(d.Finding); !strings.Contains(w, tt.masked) {
				t.Errorf("finding %q does not show %q", w, tt.masked)
			}

			// The action: the reset goes to the recovery contact, not to the
			// lost address.
			before := e.box.countTo("ann@example.com")
			r, err := flows.ResetViaRecovery(ctx, e.c, flows.RecoveryIdentifier(*d.Account), "CN", tt.via)
			if err != nil {
				t.Fatal(err)
			}
			if r.Cause != flows.LostResetSent || r.Challenge == nil || r.Challenge.Destination != tt.hidden {
				t.Fatalf("reset: cause %q challenge %+v", r.Cause, r.Challenge)
			}
			code := e.box.lastCodeTo(t, tt.to, 2)
			if e.box.countTo("ann@example.com") != before {
				t.Error("a code went to the lost address")
			}
			files := flows.Files{Dir: t.TempDir()}
			if _, err := flows.FinishReset(ctx, e.c, files, flows.ResetInput{
				ChallengeID: r.Challenge.ID, Code: code, Password: tsNewPass, Confirm: tsNewPass,
			}); err != nil {
				t.Fatalf("finish reset: %v", err)
			}
			s, sd := flows.TrySignIn(ctx, e.newClient(), files, flows.SignInInput{
				Identifier: "ann@example.com", Password: tsNewPass, Region: "CN", Device: e.dev,
			}, e.clock.Now)
			if sd.Cause != flows.SignInOK || s.Account.MiID != acc.MiID {
				t.Errorf("sign in with the new password: %q", sd.Cause)
			}
		})
	}
}

func TestDiagnoseLostAccessNoRecovery(t *testing.T) {
	e := newTSEnv(t, nil)
	ctx := context.Background()
	acc := e.signUp(t, "ann@example.com")
	token := e.c.Token()

	d, err := flows.DiagnoseLostAccess(ctx, e.c)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cause != flows.LostNoRecovery || len(d.Actions) != 1 || d.Actions[0] != flows.ActionSupportCase {
		t.Fatalf("cause %q actions %v", d.Cause, d.Actions)
	}

	// The action: a case file to take to support.
	dir := t.TempDir()
	c := flows.LostAccessCase(ctx, e.c, d, "", "email", e.clock.Now())
	path, written, err := flows.WriteSupportCase(dir, c, render)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("case file %s: %v %v", path, fi, err)
	}
	b, _ := os.ReadFile(path)
	text := string(b)
	for _, want := range []string{written.ID, "a***@example.com", "Mi ID ", "ann-laptop", "proof of purchase", "no recovery email or phone"} {
		if !strings.Contains(text, want) {
			t.Errorf("case file lacks %q:\n%s", want, text)
		}
	}
	for _, secret := range []string{"ann@example.com", acc.MiID, token, tsPassword} {
		if strings.Contains(text, secret) {
			t.Errorf("case file holds %q:\n%s", secret, text)
		}
	}

	// Not signed in, the service does not say whether there is a contact.
	d, err = flows.DiagnoseLostAccess(ctx, e.newClient())
	if err != nil {
		t.Fatal(err)
	}
	if d.Cause != flows.LostRecoveryUnknown || !d.Offers(flows.ActionResetViaEmail) || !d.Offers(flows.ActionSupportCase) {
		t.Errorf("signed out: cause %q actions %v", d.Cause, d.Actions)
	}
	// A reset through a contact the account does not have answers the same,
	// and sends nothing anywhere.
	n := e.box.count()
	r, err := flows.ResetViaRecovery(ctx, e.newClient(), "ann@example.com", "CN", flows.ActionResetViaEmail)
	if err != nil || r.Challenge == nil {
		t.Fatalf("reset via a missing contact: %v", err)
	}
	e.delivered(t, r.Challenge.ID)
	if e.box.count() != n {
		t.Error("a message went out for a recovery contact that does not exist")
	}
}

// TestSupportCaseNumberIsNeverMasked: the case number is read out to
// support, so the file shows it whole, whatever digits it drew (an
// all-digit number used to be masked as if it were a Mi ID).
func TestSupportCaseNumberIsNeverMasked(t *testing.T) {
	dir := t.TempDir()
	for range 200 {
		path, c, err := flows.WriteSupportCase(dir, flows.SupportCase{}, render)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), c.ID) {
			t.Fatalf("case %s is not whole in its file:\n%s", c.ID, b)
		}
		os.Remove(path)
	}
}
