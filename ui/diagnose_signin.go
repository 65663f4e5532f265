package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// Focusable parts of the sign-in diagnosis: the identifier, the password,
// "Check sign-in", then the diagnosis's actions.
const (
	sdID = iota
	sdPassword
	sdCheck
	sdActions
)

// signInDiagnosis is "Can't sign in or account locked": from a sign-in
// attempt's answer it tells a lock (counting down) from wrong credentials,
// checks the identifier's shape with the corrected one, and offers
// "Forgot password?" (a completed reset unlocks). The identifier and
// password fields check a sign-in in place.
type signInDiagnosis struct {
	sh    *shared
	entry diagnoseEntry

	id, pw textinput.Model
	focus  int
	acts   actionList
	d      flows.SignInDiagnosis
	busy   bool
	run    int
	tick   int
	spin   spinner.Model
}

func newSignInDiagnosis(sh *shared, entry diagnoseEntry) *signInDiagnosis {
	s := &signInDiagnosis{sh: sh, entry: entry, spin: newSpinner(sh)}
	s.id = newInput(sh, "", 254, false)
	s.pw = newInput(sh, "", flows.PasswordMaxLen, true)
	s.restyle()
	return s
}

func (s *signInDiagnosis) labelWidth() int {
	return labelWidth(s.sh.T("signin.id"), s.sh.T("signin.password"))
}

func (s *signInDiagnosis) restyle() {
	sh := s.sh
	sh.styleInputs(s.labelWidth(), &s.id, &s.pw)
	s.id.Placeholder = sh.T("signin.id_placeholder")
	s.spin.Style = sh.st.Spinner
}

func (s *signInDiagnosis) init() tea.Cmd {
	sh := s.sh
	a := flows.SignInAttempt{Identifier: sh.wiz.Identifier, Region: sh.wiz.Region}
	if s.entry.SignIn != nil {
		a = *s.entry.SignIn
	}
	s.id.SetValue(a.Identifier)
	s.show(flows.DiagnoseSignIn(a, sh.now()))
	switch {
	case s.d.Cause == flows.SignInNoAttempt && s.id.Value() == "":
		s.focus = sdID
	case s.d.Cause == flows.SignInNoAttempt:
		s.focus = sdPassword
	default:
		s.focus = sdActions
	}
	return tea.Batch(s.focusCmd(), s.startTick())
}

// show takes a diagnosis; the actions that send the person elsewhere are
// buttons, "check" is the form's own button.
func (s *signInDiagnosis) show(d flows.SignInDiagnosis) {
	s.d = d
	var acts []flows.Action
	for _, a := range d.Actions {
		// "Sign in" is the form's own button, but a second factor needs
		// the sign-in screen's code field.
		if a != flows.ActionSignIn || d.Cause == flows.SignInSecondFactor {
			acts = append(acts, a)
		}
	}
	if d.Cause == flows.SignInOK {
		acts = []flows.Action{flows.ActionSignIn} // "continue": on to Mi Cloud
	}
	s.acts.set(acts, nil)
	if s.focus == sdActions && len(acts) == 0 {
		s.focus = sdPassword
	}
}

func (s *signInDiagnosis) startTick() tea.Cmd {
	if s.d.LockedUntil.IsZero() {
		return nil
	}
	s.tick++
	return diagTickCmd(s.tick)
}

// inputs are the fields that take text.
func (s *signInDiagnosis) inputs() map[int]*textinput.Model {
	return map[int]*textinput.Model{sdID: &s.id, sdPassword: &s.pw}
}

func (s *signInDiagnosis) focusCmd() tea.Cmd { return focusInput(s.focus, s.inputs()) }

func (s *signInDiagnosis) capturesText() bool {
	_, ok := s.inputs()[s.focus]
	return ok
}

func (s *signInDiagnosis) update(msg tea.Msg) tea.Cmd {
	sh := s.sh
	switch msg := msg.(type) {
	case tea.WindowSizeMsg, languageChangedMsg, stylesChangedMsg:
		s.restyle()
	case signInDiagnosedMsg:
		if msg.run != s.run {
			return nil
		}
		s.busy = false
		s.show(msg.d)
		s.pw.SetValue("")
		if msg.session != nil {
			acc := msg.session.Account
			sh.wiz.Account, sh.wiz.LastSignIn = &acc, nil
		}
		if len(s.acts.actions) > 0 {
			s.focus, s.acts.focus = sdActions, 0
		}
		return tea.Batch(s.focusCmd(), s.startTick())
	case diagTickMsg:
		if msg.tag == s.tick && s.d.LockedUntil.After(sh.now()) {
			return diagTickCmd(s.tick)
		}
	case tea.KeyPressMsg:
		if s.busy {
			return nil
		}
		return s.key(msg)
	case tea.PasteMsg:
		return s.typeInto(msg)
	}
	return spin(&s.spin, s.busy, msg)
}

func (s *signInDiagnosis) fields() int { return sdActions + min(len(s.acts.actions), 1) }

func (s *signInDiagnosis) key(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case s.focus == sdActions && isKey(k, kDown, kTab) && s.acts.focus < len(s.acts.actions)-1,
		s.focus == sdActions && isKey(k, kUp, kShiftTab) && s.acts.focus > 0:
		s.acts.key(k)
		return nil
	case isKey(k, kDown, kTab):
		s.focus = (s.focus + 1) % s.fields()
		s.acts.focus = 0
		return s.focusCmd()
	case isKey(k, kUp, kShiftTab):
		s.focus = (s.focus - 1 + s.fields()) % s.fields()
		if s.focus == sdActions {
			s.acts.focus = len(s.acts.actions) - 1
		}
		return s.focusCmd()
	case isKey(k, kEnter):
		switch s.focus {
		case sdID:
			s.focus = sdPassword
			return s.focusCmd()
		case sdPassword, sdCheck:
			return s.check()
		case sdActions:
			if a, ok := s.acts.current(); ok {
				return s.do(a)
			}
		}
		return nil
	}
	return s.typeInto(k)
}

func (s *signInDiagnosis) typeInto(msg tea.Msg) tea.Cmd {
	cmd, _ := updateInput(s.focus, s.inputs(), msg)
	if s.focus == sdID {
		s.sh.wiz.Identifier = strings.TrimSpace(s.id.Value())
	}
	return cmd
}

// check signs in with the fields and diagnoses the answer.
func (s *signInDiagnosis) check() tea.Cmd {
	sh := s.sh
	in := flows.SignInInput{
		Identifier: s.id.Value(), Password: s.pw.Value(), Region: sh.wiz.Region,
		Device: sh.wiz.Device.APIDevice(sh.wiz.DeviceID),
	}
	if strings.TrimSpace(in.Identifier) == "" {
		s.focus = sdID
		return s.focusCmd()
	}
	if in.Password == "" {
		s.focus = sdPassword
		return s.focusCmd()
	}
	sh.wiz.Identifier = strings.TrimSpace(in.Identifier)
	s.run++
	s.busy = true
	ctx, cancel := sh.callCtx()
	auth, sess, run, now := sh.deps.Accounts, sh.deps.Sessions, s.run, sh.deps.Now
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		session, d := flows.TrySignIn(ctx, auth, sess, in, now)
		m := signInDiagnosedMsg{run: run, d: d}
		if d.Cause == flows.SignInOK {
			m.session = &session
		}
		return m
	})
}

// do carries out an action.
func (s *signInDiagnosis) do(a flows.Action) tea.Cmd {
	sh := s.sh
	switch a {
	case flows.ActionUseSuggestion:
		sg := s.d.Suggestion()
		s.id.SetValue(sg)
		sh.wiz.Identifier = sg
		s.show(flows.DiagnoseSignIn(flows.SignInAttempt{Identifier: sg, Region: sh.wiz.Region}, sh.now()))
		s.focus = sdPassword
		return s.focusCmd()
	case flows.ActionForgotPassword:
		sh.wiz.Identifier = strings.TrimSpace(s.id.Value())
		return navigateCmd(flows.StepTroubleshoot, flows.StepReset)
	case flows.ActionSignIn:
		if s.d.Cause == flows.SignInOK { // signed in by the check: on to Mi Cloud
			return resetToCmd(flows.StepTroubleshoot, flows.StepSync)
		}
		sh.wiz.Identifier = strings.TrimSpace(s.id.Value())
		return navigateCmd(flows.StepTroubleshoot, flows.StepSignIn)
	}
	return nil
}

func (s *signInDiagnosis) label(a flows.Action) string {
	sh := s.sh
	switch a {
	case flows.ActionUseSuggestion:
		return sh.T("ts.action.use_suggestion", "id", s.d.Suggestion())
	case flows.ActionSignIn:
		if s.d.Cause == flows.SignInOK {
			return sh.T("ts.action.continue")
		}
	}
	return sh.T("ts.action." + string(a))
}

func (s *signInDiagnosis) keys() []key.Binding {
	sh := s.sh
	if s.busy {
		return nil
	}
	if s.focus == sdActions {
		return []key.Binding{sh.keyActivate(), sh.keyNextField()}
	}
	return []key.Binding{sh.bind("enter", "ts.key.check_sign_in", kEnter), sh.keyNextField()}
}

func (s *signInDiagnosis) view() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.st.Title.Render(sh.T("ts.problem.sign_in")) + "\n\n")
	var extra []string
	if left := s.d.LockedUntil.Sub(sh.now()); !s.d.LockedUntil.IsZero() {
		if left > 0 {
			extra = append(extra, sh.st.Warn.Render(sh.T("ts.signin.unlocks_in", "time", countdown(left))))
		} else {
			extra = append(extra, sh.st.OK.Render(sh.T("ts.signin.unlocked")))
		}
	}
	b.WriteString(sh.findingView(s.d.Diagnosis, extra...) + "\n")
	b.WriteString("\n")
	if len(s.acts.actions) > 0 {
		b.WriteString(s.acts.view(sh, s.focus == sdActions, s.label, func(flows.Action) bool { return !s.busy }) + "\n\n")
	}
	if s.d.Cause != flows.SignInOK {
		lw := s.labelWidth()
		b.WriteString(sh.fieldLine(sh.T("signin.id"), lw, s.focus == sdID, s.id.View()) + "\n")
		b.WriteString(sh.fieldLine(sh.T("signin.password"), lw, s.focus == sdPassword, s.pw.View()) + "\n")
		b.WriteString(sh.buttonView(sh.T("ts.action.check_sign_in"), s.focus == sdCheck, !s.busy) + "\n")
	}
	if s.busy {
		b.WriteString("\n" + sh.busyLine(s.spin, sh.T("signin.signing_in")))
	}
	return strings.TrimRight(b.String(), "\n")
}

// signInFailed is what the wizard keeps of a failed sign-in for
// troubleshooting (wizardState.LastSignIn).
func signInFailed(sh *shared, identifier string, err error) *flows.SignInAttempt {
	return &flows.SignInAttempt{Identifier: identifier, Region: sh.wiz.Region, Err: err, At: sh.now()}
}
