package ui

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"charm.land/lipgloss/v2"

	"misetup/api"
	"misetup/flows"
)

// codeBoxes draws a six-digit code as typed so far, one box a digit, the
// next one marked while the field has the focus.
func codeBoxes(sh *shared, digits string, focused bool) string {
	var b strings.Builder
	for i := range flows.CodeLength {
		ch := "_"
		if i < len(digits) {
			ch = digits[i : i+1]
		}
		switch {
		case focused && i == len(digits):
			b.WriteString(sh.st.ButtonOn.Render(ch))
		case i < len(digits):
			b.WriteString(sh.st.Value.Render(ch))
		default:
			b.WriteString(sh.st.Muted.Render(ch))
		}
		if i < flows.CodeLength-1 {
			b.WriteString(" ")
		}
	}
	return "[ " + b.String() + " ]"
}

// code is what the wizard knows of the code the code step at asks for,
// kept with the challenge it is about: a new challenge starts it again.
func (sh *shared) code(at flows.Step) *codeState {
	c, ch := &sh.wiz.Code, sh.wiz.Challenge
	if at == flows.StepResetCode {
		c, ch = &sh.wiz.ResetCode, sh.wiz.ResetChallenge
	}
	if ch == nil {
		*c = newCodeState()
		return c
	}
	if c.ch == nil || c.ch.ID != ch.ID {
		*c = newCodeState()
		cp := *ch
		c.ch, c.resendAt = &cp, ch.ResendAfter
	}
	return c
}

// setChallenge records the challenge of the code step at, as the service
// answered it last.
func (sh *shared) setChallenge(at flows.Step, ch api.Challenge) {
	if at == flows.StepResetCode {
		sh.wiz.ResetChallenge = &ch
	} else {
		sh.wiz.Challenge = &ch
	}
	sh.code(at).sent(ch)
}

// newCodeScreen is the registration's code (GUIDE section 3, step 7):
// where the code went and until when it works, six digits, "Resend code"
// with its countdown, attempts left after a wrong code, and "Didn't get
// the code?". A code that no longer works says so, stops taking digits and
// offers the way to a new one. Success shows the new Mi ID.
func newCodeScreen(sh *shared, at flows.Step) *stepScreen {
	return newStepScreen(sh, at, sh.codeStep)
}

// codeStep describes the registration's code step (or, once the code was
// right, the new account).
func (sh *shared) codeStep() *step {
	const at = flows.StepCode
	c := sh.code(at)
	if c.done != nil {
		return sh.codeSuccessStep(*c.done)
	}
	st := sh.codeParts(at, c)
	st.fields[0].auto, st.fields[0].statusGap = true, true
	st.body = func(int) string {
		var lines []string
		for _, l := range c.lines(sh) {
			lines = append(lines, sh.renderLine(l))
		}
		return strings.Join(lines, "\n")
	}
	st.busy = sh.T("code.checking")
	st.check = func(v values) error { return flows.ValidateCode(v.text("code")) }
	acc, sess, id := sh.deps.Accounts, sh.deps.Sessions, c.id()
	dev := sh.wiz.Device.APIDevice(sh.wiz.DeviceID)
	st.run = func(ctx context.Context, v values) (outcome, error) {
		res, err := flows.Verify(ctx, acc, sess, id, v.text("code"), &dev)
		if err != nil {
			return outcome{}, err
		}
		return outcome{redo: true, apply: func(sh *shared) {
			c := sh.code(at)
			c.verified(nil)
			c.done = &res
			if sh.wiz.Challenge != nil {
				sh.wiz.Challenge.State = api.ChallengeVerified
			}
			sh.wiz.NewAccount = true
			sh.wiz.Identifier = accountLabel(res.Account)
			if res.Session != nil {
				acc := res.Session.Account
				if acc.MiID == "" {
					acc = res.Account
				}
				sh.wiz.Account, sh.wiz.LastSignIn = &acc, nil
			}
		}}, nil
	}
	if ch := c.ch; ch != nil && ch.ExpiresAt.IsZero() && !c.read {
		// Resumed: only the id was saved; read the challenge again, to say
		// whether the code sent then still works.
		c.resumed = true
		st.refresh = func(ctx context.Context) func(*shared) {
			got, err := acc.Challenge(ctx, id)
			return func(sh *shared) {
				if err == nil {
					sh.setChallenge(at, got)
				} else if ue := flows.Explain(err); ue != nil {
					c.gone, c.err = ue.Key == flows.ErrKeyNotFound, ue
				}
				c.read = true
			}
		}
		st.spinning = func() bool { return !c.read }
		st.foot = func() string {
			if c.read {
				return ""
			}
			return st.frame() + " " + sh.st.Muted.Render(sh.T("code.checking"))
		}
	}
	return st
}

// codeParts are what the two code steps share: the code field, the way to
// a new code with its countdown, "Didn't get the code?", the tick that
// keeps the countdown and the code's expiry in sight, and what a refusal
// does to the code's state.
func (sh *shared) codeParts(at flows.Step, c *codeState) *step {
	now := sh.now
	codeKeys := []string{flows.ErrKeyInvalidCode, flows.ErrKeyCodeFormat, flows.ErrKeyCodeExpired}
	return &step{
		about: c.id(), // another challenge: nothing typed for the old one stays
		fields: []field{{key: "code", kind: fieldCode, label: sh.T("code.label"), on: codeKeys,
			off: func(values) bool { return !c.canType(now()) },
			status: func(values, bool, bool) (lipgloss.Style, string) {
				return sh.st.Warn, c.attemptsText(sh)
			},
			prompt: sh.T("acc.code_prompt"), shortcuts: map[string]int{"r": 1, "?": 2}}},
		actions: []action{
			{live: func() action { return sh.newCodeAction(at, c) }, named: true},
			{label: sh.T("code.no_code"), instant: true, run: func(context.Context, values) (outcome, error) {
				return outcome{to: flows.StepTroubleshoot}, nil
			}},
		},
		stack: true,
		// The countdown, and the code's expiry, which the screen says as
		// it comes.
		tick: func() bool {
			return c.resendIn(now()) > 0 || c.ch != nil && !c.ch.ExpiresAt.IsZero() && c.canType(now())
		},
		// What a refusal says of the code (attempts left, a dead one) is
		// said by the lines above and under the field; a send the service
		// refused for its rate pushes the countdown later.
		failed: func(sh *shared, _ values, err error) {
			c.verified(err)
			if ue := flows.Explain(err); ue != nil && ue.Wait > 0 {
				c.resendAt = now().Add(ue.Wait)
			}
		},
		problem: func(err error) error {
			if c.condition(now()) != codeWorks {
				return nil // the lines above say why the code no longer works
			}
			return err
		},
	}
}

// newCodeAction is what the second button does now: resend the code; or,
// when a resend cannot help (too many wrong codes, a code the service
// forgot), ask for a new one (the registration sent again, a new reset);
// or, the code being used already, sign in.
func (sh *shared) newCodeAction(at flows.Step, c *codeState) action {
	now := sh.now()
	switch c.condition(now) {
	case codeDead, codeGone:
		return action{label: sh.T("code.new_code"), named: true, instant: true, run: func(context.Context, values) (outcome, error) {
			if at == flows.StepResetCode {
				return outcome{to: flows.StepReset}, nil // a new code is a new request
			}
			return outcome{msg: registerAgainMsg{from: at}}, nil
		}}
	case codeUsed:
		return action{label: sh.T("code.sign_in"), named: true, instant: true, run: func(context.Context, values) (outcome, error) {
			return outcome{to: flows.StepSignIn}, nil
		}}
	}
	label := sh.T("code.resend")
	left := c.resendIn(now)
	if left > 0 {
		label = sh.T("code.resend_in", "time", fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60))
	}
	id, acc := c.id(), sh.deps.Accounts
	return action{label: label, named: true, wait: left > 0 || id == "", busy: sh.T("code.resending"),
		run: func(ctx context.Context, _ values) (outcome, error) {
			ch, err := flows.Resend(ctx, acc, id)
			if err != nil {
				return outcome{}, err
			}
			return outcome{redo: true, note: flows.T("code.resent"), sent: &ch,
				apply: func(sh *shared) { sh.setChallenge(at, ch) }}, nil
		}}
}

// codeSuccessStep is the code step once the code was right: the new Mi
// ID, and on to Mi Cloud (signed in) or to signing in.
func (sh *shared) codeSuccessStep(res api.VerifyResponse) *step {
	acc := res.Account
	return &step{
		header: sh.T("code.success_title"),
		noBack: true, // the code is used: back would lead nowhere
		body: func(int) string {
			var b strings.Builder
			b.WriteString(sh.st.OK.Render(markOK+" ") + sh.st.Title.Render(sh.T("code.success")) + "\n\n")
			lw := labelWidth(sh.T("code.mi_id"), sh.T("code.signed_in_as"))
			b.WriteString("  " + sh.st.Label.Render(padRight(sh.T("code.mi_id"), lw)) + sh.st.Value.Render(flows.CleanText(acc.MiID)) + "\n")
			b.WriteString("  " + sh.st.Label.Render(padRight(sh.T("code.signed_in_as"), lw)) + sh.st.Text.Render(flows.CleanText(accountLabel(acc))) + "\n\n")
			b.WriteString(sh.paragraph(sh.st.Muted, sh.T("code.mi_id_note"), 0))
			return b.String()
		},
		// What enter does next: plain mode, which goes on by itself, does
		// not say it.
		foot: func() string {
			if sh.wiz.Account != nil {
				return sh.paragraph(sh.st.Text, sh.T("code.next_sync"), 0)
			}
			return sh.paragraph(sh.st.Text, sh.T("code.next_sign_in"), 0)
		},
		footKeys: true,
		instant:  true,
		run: func(context.Context, values) (outcome, error) {
			if sh.wiz.Account != nil {
				return outcome{to: flows.StepSync, resetTo: true}, nil
			}
			return outcome{to: flows.StepSignIn}, nil
		},
	}
}

// lowerFirst lowers the first letter of a button's label for the footer
// ("Resend code" → "resend code"), as the other keys' words are.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// sentTo says where a code went, masked as the service gave it.
func sentTo(sh *shared, ch api.Challenge) string {
	dest := flows.CleanText(ch.Destination)
	if ch.Channel == api.ChannelSMS {
		return sh.T("code.sent_sms", "to", dest)
	}
	return sh.T("code.sent_email", "to", dest)
}
