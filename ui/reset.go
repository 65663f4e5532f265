package ui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

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

// Focusable parts of the second reset screen.
const (
	rcCode = iota
	rcPassword
	rcConfirm
	rcButton
	rcResend
	rcHelp
)

// resetCodeScreen is the second half of a reset: the code, the new password
// with the same checklist as a new account, resend and help.
type resetCodeScreen struct {
	sh            *shared
	code          codeInput
	pw, confirm   textinput.Model
	focus         focusRing
	rs            resender
	commonRefused string
	busy          bool
	err           error
	attempts      int
	spin          spinner.Model
	started       bool
}

func newResetCodeScreen(sh *shared) *resetCodeScreen {
	s := &resetCodeScreen{sh: sh, focus: focusRing{n: 6}, attempts: -1, spin: newSpinner(sh)}
	s.pw = newInput(sh, "", flows.PasswordMaxLen, true)
	s.confirm = newInput(sh, "", flows.PasswordMaxLen, true)
	s.restyle()
	return s
}

func (s *resetCodeScreen) labelWidth() int {
	sh := s.sh
	return labelWidth(sh.T("code.label"), sh.T("reset.new_password"), sh.T("create.confirm"))
}

func (s *resetCodeScreen) restyle() {
	sh := s.sh
	sh.styleInputs(s.labelWidth(), &s.pw, &s.confirm)
	s.pw.Placeholder = sh.T("create.password_placeholder", "min", flows.PasswordMinLen)
	s.confirm.Placeholder = sh.T("create.confirm_placeholder")
	s.spin.Style = sh.st.Spinner
}

// inputs are the fields that take text (the code has its own widget).
func (s *resetCodeScreen) inputs() map[int]*textinput.Model {
	return map[int]*textinput.Model{rcPassword: &s.pw, rcConfirm: &s.confirm}
}

func (s *resetCodeScreen) focusCmd() tea.Cmd { return focusInput(s.focus.i, s.inputs()) }

// Init implements Screen.
func (s *resetCodeScreen) Init() tea.Cmd {
	ch := s.sh.wiz.ResetChallenge
	if ch == nil {
		return nil
	}
	return tea.Batch(s.rs.set(*ch), s.focusCmd())
}

// CapturesText implements textCapturer.
func (s *resetCodeScreen) CapturesText() bool {
	_, ok := s.inputs()[s.focus.i]
	return ok
}

// Update implements Screen.
func (s *resetCodeScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	sh := s.sh
	switch msg := msg.(type) {
	case tea.WindowSizeMsg, languageChangedMsg, stylesChangedMsg:
		s.restyle()
		return s, nil
	case resetRequestedMsg:
		if msg.err == nil { // a new reset: start fresh
			s.code, s.err, s.attempts, s.commonRefused = codeInput{}, nil, -1, ""
			s.pw.SetValue("")
			s.confirm.SetValue("")
			s.focus.i = rcCode
		}
		return s, nil
	case tickMsg:
		return s, s.rs.tick(msg, sh.now())
	case verifiedMsg:
		if msg.step != flows.StepResetCode {
			return s, nil
		}
		s.busy = false
		if msg.err != nil {
			s.err = msg.err
			ue := flows.Explain(msg.err)
			switch {
			case ue.Key == flows.ErrKeyInvalidCode:
				s.attempts = ue.AttemptsLeft
				s.code.stale, s.focus.i = true, rcCode
			case flows.IsCommonRefusal(msg.err):
				s.commonRefused, s.focus.i = s.pw.Value(), rcPassword
			}
			return s, s.focusCmd()
		}
		s.pw.SetValue("")
		s.confirm.SetValue("")
		sh.wiz.LastSignIn = nil // a completed reset unlocks: the last failure says nothing now
		if msg.res.Session != nil {
			acc := msg.res.Session.Account
			sh.wiz.Account = &acc
			return s, resetToCmd(flows.StepResetCode, flows.StepSync)
		}
		sh.wiz.ResetDone = true
		sh.wiz.Identifier = firstNonEmpty(sh.wiz.Identifier, accountLabel(msg.res.Account))
		return s, navigateCmd(flows.StepResetCode, flows.StepSignIn)
	case resentMsg:
		if msg.step != flows.StepResetCode {
			return s, nil
		}
		ch, cmd := s.rs.resent(msg, sh.now())
		if s.err = msg.err; ch != nil {
			sh.wiz.ResetChallenge = ch
		}
		return s, cmd
	case tea.PasteMsg:
		switch s.focus.i {
		case rcCode:
			s.code.paste(msg.Content)
		case rcPassword, rcConfirm:
			return s, s.typeInto(msg)
		}
		return s, nil
	case tea.KeyPressMsg:
		if s.busy {
			return s, nil
		}
		return s, s.key(msg)
	}
	return s, spin(&s.spin, s.busy || s.rs.on, msg)
}

func (s *resetCodeScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	sh := s.sh
	switch {
	case isKey(msg, kTab, kDown):
		s.focus.next()
		return s.focusCmd()
	case isKey(msg, kShiftTab, kUp):
		s.focus.prev()
		return s.focusCmd()
	}
	switch s.focus.i {
	case rcResend:
		if isKey(msg, kEnter, kSpace) && s.rs.ready(sh.now()) {
			return s.resend()
		}
		return nil
	case rcHelp:
		if isKey(msg, kEnter, kSpace) {
			return navigateCmd(flows.StepResetCode, flows.StepTroubleshoot)
		}
		return nil
	}
	if isKey(msg, kEnter) {
		if s.focus.i == rcButton || s.complete() {
			return s.submit()
		}
		s.focus.next()
		return s.focusCmd()
	}
	if s.focus.i == rcCode {
		if s.code.key(msg) {
			s.err, s.rs.sent = nil, false
			if s.code.full() {
				s.focus.i = rcPassword
				return s.focusCmd()
			}
		}
		return nil
	}
	return s.typeInto(msg)
}

func (s *resetCodeScreen) typeInto(msg tea.Msg) tea.Cmd {
	cmd, _ := updateInput(s.focus.i, s.inputs(), msg)
	return cmd
}

func (s *resetCodeScreen) complete() bool {
	return s.code.full() && !s.code.stale &&
		flows.ValidateNewPassword(s.pw.Value(), s.confirm.Value(), s.commonRefused) == nil
}

func (s *resetCodeScreen) submit() tea.Cmd {
	sh := s.sh
	ch := sh.wiz.ResetChallenge
	if ch == nil {
		return nil
	}
	if err := flows.ValidateCode(s.code.digits); err != nil {
		s.err, s.focus.i = err, rcCode
		return s.focusCmd()
	}
	if err := flows.ValidateNewPassword(s.pw.Value(), s.confirm.Value(), s.commonRefused); err != nil {
		s.err, s.focus.i = err, rcPassword
		return s.focusCmd()
	}
	in := flows.ResetInput{ChallengeID: ch.ID, Code: s.code.digits, Password: s.pw.Value(),
		Confirm: s.confirm.Value(), CommonRefused: s.commonRefused}
	s.busy, s.err = true, nil
	ctx, cancel := sh.callCtx()
	acc, sess := sh.deps.Accounts, sh.deps.Sessions
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		res, err := flows.FinishReset(ctx, acc, sess, in)
		return verifiedMsg{step: flows.StepResetCode, res: res, err: err}
	})
}

func (s *resetCodeScreen) resend() tea.Cmd {
	ch := s.sh.wiz.ResetChallenge
	if ch == nil {
		return nil
	}
	s.rs.on = true
	return tea.Batch(s.spin.Tick, resendCmd(s.sh, ch.ID, flows.StepResetCode))
}

// Keys implements Screen.
func (s *resetCodeScreen) Keys() []key.Binding {
	sh := s.sh
	switch s.focus.i {
	case rcResend, rcHelp, rcButton:
		return []key.Binding{sh.keyActivate(), sh.keyNextField()}
	}
	return []key.Binding{sh.keyContinue(), sh.keyNextField()}
}

// View implements Screen.
func (s *resetCodeScreen) View() string {
	sh := s.sh
	lw := s.labelWidth()
	var b strings.Builder
	if ch := sh.wiz.ResetChallenge; ch != nil {
		b.WriteString(sh.paragraph(sh.st.Text, sentTo(sh, *ch), 0) + "\n")
		if ch.Delivery.State == api.DeliveryFailed {
			b.WriteString(sh.paragraph(sh.st.Fail, sh.T("code.delivery_failed"), 0) + "\n")
		}
	}
	b.WriteString("\n")
	b.WriteString(sh.fieldLine(sh.T("code.label"), lw, s.focus.i == rcCode, s.code.view(sh, s.focus.i == rcCode)) + "\n")
	if s.attempts >= 0 && s.err != nil && flows.Explain(s.err).Key == flows.ErrKeyInvalidCode {
		b.WriteString(sh.noteLine(lw, sh.st.Warn, sh.T("code.attempts_left", "n", s.attempts)) + "\n")
	}
	b.WriteString(sh.fieldLine(sh.T("reset.new_password"), lw, s.focus.i == rcPassword, s.pw.View()) + "\n")
	b.WriteString(sh.fieldLine(sh.T("create.confirm"), lw, s.focus.i == rcConfirm, s.confirm.View()) + "\n")
	b.WriteString(sh.passwordChecklist(s.pw.Value(), s.confirm.Value(), s.commonRefused) + "\n\n")
	b.WriteString(sh.buttonView(sh.T("reset.submit"), s.focus.i == rcButton, !s.busy) + "\n")
	b.WriteString(s.rs.buttons(sh, s.focus.i == rcResend, s.focus.i == rcHelp))
	b.WriteString(s.rs.status(sh, s.spin, s.busy, sh.T("reset.saving"), s.err))
	return b.String()
}
