package ui

import (
	"context"
	"strings"

	"misetup/api"
	"misetup/flows"
)

// signInStep is step 5 when signing in (GUIDE section 4): Mi ID and
// password, the two-step code once the service asks for it, "Forgot
// password?" (also ctrl+r), and how long a locked account stays locked.
// One description, drawn full screen by stepView and as plain prompts by
// plain.runStep (which offers "Forgot password?" after a refusal).
func (sh *shared) signInStep() *step {
	acc, sess := sh.deps.Accounts, sh.deps.Sessions
	region, device := sh.wiz.Region, sh.wiz.Device.APIDevice(sh.wiz.DeviceID)
	st := &step{
		body: func(int) string {
			switch {
			case sh.wiz.ResetDone:
				return sh.st.OK.Render(markOK+" ") + sh.paragraph(sh.st.OK, sh.T("signin.reset_done"), 2)
			case sh.wiz.NewAccount:
				return sh.paragraph(sh.st.Text, sh.T("signin.after_create"), 0)
			}
			return sh.paragraph(sh.st.Text, sh.T("signin.intro"), 0)
		},
		fields: []field{
			{key: "identifier", kind: fieldText, label: sh.T("signin.id"), placeholder: sh.T("signin.id_placeholder"),
				limit: 254, value: sh.wiz.Identifier, live: func(sh *shared, id string) { sh.wiz.Identifier = id }},
			{key: "password", kind: fieldSecret, label: sh.T("signin.password"), limit: flows.PasswordMaxLen,
				on: []string{flows.ErrKeyInvalidCreds, flows.ErrKeyAccountLocked}, retype: true},
			{key: "totp", kind: fieldText, label: sh.T("signin.totp"), placeholder: sh.T("signin.totp_placeholder"),
				limit: 32, aside: sh.T("signin.totp_note"), hidden: true, retype: true,
				on: []string{flows.ErrKeySecondFactor, flows.ErrKeyTOTPInvalid, flows.ErrKeyTOTPFormat}},
		},
		submit: sh.T("signin.submit"),
		stack:  true,
		busy:   sh.T("signin.signing_in"),
		foot:   func() string { return sh.paragraph(sh.st.Muted, sh.T("signin.sync_note"), 0) },
		actions: append([]action{{label: sh.T("signin.forgot"), after: true, on: []string{flows.ErrKeyAccountLocked},
			run: func(_ context.Context, v values) (outcome, error) {
				id := strings.TrimSpace(v.text("identifier"))
				return outcome{to: flows.StepReset, apply: func(sh *shared) { sh.wiz.Identifier = id }}, nil
			}}}, sh.handOffAction(api.PurposeSignIn)...),
		keys: []stepKey{{key: "ctrl+r", help: "key.forgot", action: 1}},
		check: func(v values) error {
			if totp, asked := v["totp"]; asked && strings.TrimSpace(totp) == "" {
				return &flows.UserError{Key: flows.ErrKeyTOTPFormat, AttemptsLeft: -1}
			}
			if _, err := flows.ValidateSignInID(v.text("identifier")); err != nil {
				return err
			}
			if v.text("password") == "" {
				return &flows.UserError{Key: flows.ErrKeyPasswordEmpty, AttemptsLeft: -1, Field: "password"}
			}
			return nil
		},
		failed: func(sh *shared, v values, err error) {
			sh.wiz.LastSignIn = signInFailed(sh, v.text("identifier"), err) // troubleshooting starts from it
		},
		run: func(ctx context.Context, v values) (outcome, error) {
			in := flows.SignInInput{Identifier: v.text("identifier"), Password: v.text("password"), TOTP: v.text("totp"),
				Region: region, Device: device}
			session, err := flows.SignIn(ctx, acc, sess, in)
			if err != nil {
				return outcome{}, err
			}
			return signedInOutcome(strings.TrimSpace(in.Identifier), session), nil
		},
	}
	if sh.wiz.Identifier != "" {
		st.start = "password"
	}
	return st
}

// signedInOutcome goes on to Mi Cloud signed in, with no way back into
// the sign-in.
func signedInOutcome(identifier string, session api.Session) outcome {
	acc := session.Account
	return outcome{to: flows.StepSync, resetTo: true, apply: func(sh *shared) {
		sh.wiz.Identifier, sh.wiz.Account = identifier, &acc
		sh.wiz.ResetDone, sh.wiz.LastSignIn = false, nil
	}}
}
