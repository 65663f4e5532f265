package ui

import (
	"context"

	"misetup/api"
	"misetup/flows"
)

// resetStep is "Forgot password?" (GUIDE section 4): the identifier to
// send a code to. One description, drawn full screen by stepView and as
// plain prompts by plain.runStep.
func (sh *shared) resetStep() *step {
	acc, region := sh.deps.Accounts, sh.wiz.Region
	return &step{
		body: func(int) string { return sh.paragraph(sh.st.Text, sh.T("reset.intro"), 0) },
		fields: []field{{key: "identifier", kind: fieldText, label: sh.T("signin.id"), placeholder: sh.T("signin.id_placeholder"),
			limit: 254, value: sh.wiz.Identifier,
			hint: func(values) string { return sh.paragraph(sh.st.Muted, sh.T("reset.unlock_note"), 0) }}},
		submitKey: "key.send_code",
		busy:      sh.T("reset.sending"),
		check: func(v values) error {
			_, err := flows.ValidateSignInID(v.text("identifier"))
			return err
		},
		run: func(ctx context.Context, v values) (outcome, error) {
			id := v.text("identifier")
			ch, err := flows.RequestReset(ctx, acc, id, region)
			if err != nil {
				return outcome{}, err
			}
			return outcome{to: flows.StepResetCode, sent: &ch, apply: func(sh *shared) {
				sh.wiz.Identifier, sh.wiz.ResetChallenge = id, &ch
			}}, nil
		},
	}
}

// newResetCodeScreen is the second half of a reset: the code, the new
// password with the same checklist as a new account, resend and help.
func newResetCodeScreen(sh *shared) *stepScreen {
	return newStepScreen(sh, flows.StepResetCode, sh.resetCodeStep)
}

// resetCodeStep describes the second half of a reset. The code is checked
// with the new password, in one call.
func (sh *shared) resetCodeStep() *step {
	const at = flows.StepResetCode
	c := sh.code(at)
	st := sh.codeParts(at, c)
	st.fields = append(st.fields, sh.newPasswordFields("reset.new_password")...)
	st.body = func(int) string {
		ch := c.ch
		if ch == nil {
			return ""
		}
		out := sh.paragraph(sh.st.Text, sentTo(sh, *ch), 0)
		if ch.Delivery.State == api.DeliveryFailed {
			out += "\n" + sh.paragraph(sh.st.Fail, sh.T("code.delivery_failed"), 0)
		}
		return out
	}
	st.submit, st.busy = sh.T("reset.submit"), sh.T("reset.saving")
	st.enterMoves, st.keepSecrets = true, true
	st.check = func(v values) error {
		if err := flows.ValidateCode(v.text("code")); err != nil {
			return err
		}
		return sh.checkNewPassword(v)
	}
	refusal := st.failed
	st.failed = func(sh *shared, v values, err error) {
		refusal(sh, v, err)
		noteCommonRefusal(sh, v, err)
	}
	acc, sess := sh.deps.Accounts, sh.deps.Sessions
	id := ""
	if c.ch != nil {
		id = c.ch.ID
	}
	st.run = func(ctx context.Context, v values) (outcome, error) {
		in := flows.ResetInput{ChallengeID: id, Code: v.text("code"), Password: v.text("password"),
			Confirm: v.text("confirm"), CommonRefused: sh.wiz.CommonRefused}
		res, err := flows.FinishReset(ctx, acc, sess, in)
		if err != nil {
			return outcome{}, err
		}
		if res.Session != nil {
			a := res.Session.Account
			return outcome{to: flows.StepSync, resetTo: true, apply: func(sh *shared) {
				sh.wiz.LastSignIn, sh.wiz.Account = nil, &a // a completed reset unlocks: the last failure says nothing now
			}}, nil
		}
		return outcome{to: flows.StepSignIn, apply: func(sh *shared) {
			sh.wiz.LastSignIn, sh.wiz.ResetDone = nil, true
			sh.wiz.Identifier = firstNonEmpty(sh.wiz.Identifier, accountLabel(res.Account))
		}}, nil
	}
	return st
}
