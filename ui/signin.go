package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// Focusable parts of the sign-in form.
type signInField int

const (
	sfID signInField = iota
	sfPassword
	sfTOTP
	sfButton
	sfForgot
)

// signInScreen is step 5 when signing in (GUIDE section 4): Mi ID and
// password, the TOTP code when the account has 2FA, "Forgot password?", and
// how long a locked account stays locked.
type signInScreen struct {
	sh           *shared
	id, pw, totp textinput.Model
	needTOTP     bool
	cap          inputCap
	retry        retrier
	focus        signInField
	busy         bool
	err          error
	spin         spinner.Model
}

func newSignInScreen(sh *shared) *signInScreen {
	s := &signInScreen{sh: sh, spin: newSpinner(sh)}
	s.id = newInput(sh, "", 254, false)
	s.pw = newInput(sh, "", flows.PasswordMaxLen, true)
	s.totp = newInput(sh, "", 32, false)
	s.id.SetValue(sh.wiz.Identifier)
	if sh.wiz.Identifier != "" {
		s.focus = sfPassword
	}
	s.restyle()
	return s
}

func (s *signInScreen) fields() []signInField {
	if s.needTOTP {
		return []signInField{sfID, sfPassword, sfTOTP, sfButton, sfForgot}
	}
	return []signInField{sfID, sfPassword, sfButton, sfForgot}
}

// inputs are the fields that take text.
func (s *signInScreen) inputs() map[signInField]*textinput.Model {
	return map[signInField]*textinput.Model{sfID: &s.id, sfPassword: &s.pw, sfTOTP: &s.totp}
}

func (s *signInScreen) move(d int) tea.Cmd {
	s.focus = cycle(s.fields(), s.focus, d)
	return s.focusCmd()
}

func (s *signInScreen) focusCmd() tea.Cmd { return focusInput(s.focus, s.inputs()) }

// Init implements Screen.
func (s *signInScreen) Init() tea.Cmd {
	if s.sh.wiz.ResetDone {
		// Back from a reset: the old error and password are stale.
		s.err = nil
		s.pw.SetValue("")
		s.focus = sfPassword
	}
	if s.id.Value() == "" && s.sh.wiz.Identifier != "" {
		s.id.SetValue(s.sh.wiz.Identifier)
		s.focus = sfPassword
	}
	return s.focusCmd()
}

// CapturesText implements textCapturer.
func (s *signInScreen) CapturesText() bool { return s.focus <= sfTOTP }

func (s *signInScreen) labelWidth() int {
	sh := s.sh
	return labelWidth(sh.T("signin.id"), sh.T("signin.password"), sh.T("signin.totp"))
}

func (s *signInScreen) restyle() {
	sh := s.sh
	sh.styleInputs(s.labelWidth(), &s.id, &s.pw, &s.totp)
	s.id.Placeholder = sh.T("signin.id_placeholder")
	s.pw.Placeholder = ""
	s.totp.Placeholder = sh.T("signin.totp_placeholder")
	s.spin.Style = sh.st.Spinner
}

// Update implements Screen.
func (s *signInScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg, languageChangedMsg, stylesChangedMsg:
		s.restyle()
		return s, nil
	case signedInMsg:
		s.busy = false
		if msg.err != nil {
			cmd := s.failed(msg.err)
			if offline(msg.err) {
				// The service did not answer: try again by itself; the
				// focus leaves the text so r retries at once.
				s.focus = sfButton
				cmd = s.focusCmd()
			}
			return s, tea.Batch(cmd, s.retry.failed(msg.err, s.sh.now(), s.submit))
		}
		s.retry.stop()
		acc := msg.session.Account
		s.sh.wiz.Account = &acc
		s.sh.wiz.ResetDone, s.sh.wiz.LastSignIn = false, nil
		s.pw.SetValue("")
		s.totp.SetValue("")
		return s, resetToCmd(flows.StepSignIn, flows.StepSync)
	case retryTickMsg:
		return s, s.retry.tick(msg, s.sh.now())
	case tea.KeyPressMsg:
		if s.busy {
			return s, nil
		}
		if isKey(msg, "r", "R") && s.retry.pending() && !s.CapturesText() {
			return s, s.retry.now()
		}
		return s, s.key(msg)
	case tea.PasteMsg:
		return s, s.typeInto(msg)
	}
	return s, spin(&s.spin, s.busy, msg)
}

// failed shows a failed sign-in and moves the focus where it helps.
func (s *signInScreen) failed(err error) tea.Cmd {
	s.err = err
	s.sh.wiz.LastSignIn = signInFailed(s.sh, s.id.Value(), err) // troubleshooting starts from it
	switch flows.Explain(err).Key {
	case flows.ErrKeySecondFactor:
		s.needTOTP, s.focus = true, sfTOTP
	case flows.ErrKeyTOTPInvalid:
		s.needTOTP, s.focus = true, sfTOTP
		s.totp.SetValue("")
	case flows.ErrKeyAccountLocked:
		s.pw.SetValue("")
		s.focus = sfForgot
	case flows.ErrKeyInvalidCreds:
		s.pw.SetValue("")
		s.focus = sfPassword
	}
	return s.focusCmd()
}

func (s *signInScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case isKey(msg, kTab, kDown):
		return s.move(1)
	case isKey(msg, kShiftTab, kUp):
		return s.move(-1)
	case isKey(msg, kEnter):
		switch {
		case s.focus == sfForgot:
			return s.forgot()
		case s.focus == sfButton || s.complete():
			return s.submit()
		}
		return s.move(1)
	case isKey(msg, "ctrl+r"):
		return s.forgot()
	}
	return s.typeInto(msg)
}

func (s *signInScreen) typeInto(msg tea.Msg) tea.Cmd {
	ti, ok := s.inputs()[s.focus]
	if !ok {
		return nil
	}
	cmd := s.cap.update(ti, msg)
	if s.focus == sfID {
		s.sh.wiz.Identifier = strings.TrimSpace(s.id.Value())
	}
	if _, ok := msg.(tea.KeyPressMsg); ok && flows.Explain(s.err) != nil &&
		flows.Explain(s.err).Key != flows.ErrKeyAccountLocked {
		s.err = nil
	}
	return cmd
}

func (s *signInScreen) complete() bool {
	return strings.TrimSpace(s.id.Value()) != "" && s.pw.Value() != "" &&
		(!s.needTOTP || strings.TrimSpace(s.totp.Value()) != "")
}

func (s *signInScreen) forgot() tea.Cmd {
	s.sh.wiz.Identifier = strings.TrimSpace(s.id.Value())
	return navigateCmd(flows.StepSignIn, flows.StepReset)
}

func (s *signInScreen) submit() tea.Cmd {
	sh := s.sh
	in := flows.SignInInput{
		Identifier: s.id.Value(), Password: s.pw.Value(), Region: sh.wiz.Region,
		Device: sh.wiz.Device.APIDevice(sh.wiz.DeviceID),
	}
	if s.needTOTP {
		in.TOTP = s.totp.Value()
		if strings.TrimSpace(in.TOTP) == "" {
			s.err, s.focus = &flows.UserError{Key: flows.ErrKeyTOTPFormat, AttemptsLeft: -1}, sfTOTP
			return s.focusCmd()
		}
	}
	if _, err := flows.ValidateSignInID(in.Identifier); err != nil {
		s.err, s.focus = err, sfID
		return s.focusCmd()
	}
	if in.Password == "" {
		s.err, s.focus = &flows.UserError{Key: flows.ErrKeyPasswordEmpty, AttemptsLeft: -1}, sfPassword
		return s.focusCmd()
	}
	sh.wiz.Identifier = strings.TrimSpace(in.Identifier)
	s.busy, s.err = true, nil
	ctx, cancel := sh.callCtx()
	acc, sess := sh.deps.Accounts, sh.deps.Sessions
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		session, err := flows.SignIn(ctx, acc, sess, in)
		return signedInMsg{session: session, err: err}
	})
}

// Keys implements Screen.
func (s *signInScreen) Keys() []key.Binding {
	sh := s.sh
	if s.retry.pending() && !s.CapturesText() {
		return []key.Binding{sh.keyRetryNow(), sh.keyActivate(), sh.keyNextField()}
	}
	if s.focus == sfForgot {
		return []key.Binding{sh.keyActivate(), sh.keyNextField()}
	}
	return []key.Binding{sh.keyContinue(), sh.keyNextField(), sh.bind("ctrl+r", "key.forgot", "ctrl+r")}
}

// View implements Screen.
func (s *signInScreen) View() string {
	sh := s.sh
	lw := s.labelWidth()
	var b strings.Builder
	switch {
	case sh.wiz.ResetDone:
		b.WriteString(sh.st.OK.Render(markOK+" ") + sh.paragraph(sh.st.OK, sh.T("signin.reset_done"), 2) + "\n\n")
	case sh.wiz.NewAccount:
		b.WriteString(sh.paragraph(sh.st.Text, sh.T("signin.after_create"), 0) + "\n\n")
	default:
		b.WriteString(sh.paragraph(sh.st.Text, sh.T("signin.intro"), 0) + "\n\n")
	}
	b.WriteString(sh.fieldLine(sh.T("signin.id"), lw, s.focus == sfID, s.id.View()) + "\n")
	b.WriteString(sh.fieldLine(sh.T("signin.password"), lw, s.focus == sfPassword, s.pw.View()) + "\n")
	if s.needTOTP {
		b.WriteString(sh.fieldLine(sh.T("signin.totp"), lw, s.focus == sfTOTP, s.totp.View()) + "\n")
		b.WriteString(sh.noteLine(lw, sh.st.Muted, sh.T("signin.totp_note")) + "\n")
	}
	b.WriteString("\n" + sh.buttonView(sh.T("signin.submit"), s.focus == sfButton, !s.busy) + "\n")
	b.WriteString(sh.buttonView(sh.T("signin.forgot"), s.focus == sfForgot, !s.busy) + "\n")
	switch {
	case s.busy:
		b.WriteString("\n" + sh.busyLine(s.spin, sh.T("signin.signing_in")))
	case s.err != nil:
		b.WriteString("\n" + errorView(sh, s.err))
		if s.retry.pending() {
			b.WriteString("\n  " + s.retry.line(sh))
		}
	case s.cap.hit > 0:
		b.WriteString("\n" + sh.paragraph(sh.st.Warn, s.cap.note(sh), 0))
	default:
		b.WriteString("\n" + sh.paragraph(sh.st.Muted, sh.T("signin.sync_note"), 0))
	}
	return b.String()
}
