package ui

import (
	"runtime"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// lostDiagnosis is "Lost access to linked phone or email": with a verified
// recovery email or phone it sends the reset code there (then the reset's
// code screen finishes it); without one it writes a support case file and
// says what to take to support.
type lostDiagnosis struct {
	sh    *shared
	entry diagnoseEntry

	diagRun
	d    *flows.LostAccessDiagnosis
	id   textinput.Model // the account, when not signed in
	idOn bool            // the identifier field has the focus
	acts actionList
	path string             // the case file written
	sc   *flows.SupportCase // as written
	spin spinner.Model
}

func newLostDiagnosis(sh *shared, entry diagnoseEntry) *lostDiagnosis {
	s := &lostDiagnosis{sh: sh, entry: entry, spin: newSpinner(sh)}
	s.id = newInput(sh, "", 254, false)
	s.restyle()
	return s
}

func (s *lostDiagnosis) restyle() {
	sh := s.sh
	sh.styleInputs(labelWidth(sh.T("signin.id")), &s.id)
	s.id.Placeholder = sh.T("signin.id_placeholder")
	s.spin.Style = sh.st.Spinner
}

// signedIn reports whether the diagnosis read the account (no identifier
// needed).
func (s *lostDiagnosis) signedIn() bool { return s.d != nil && s.d.Account != nil }

func (s *lostDiagnosis) init() tea.Cmd {
	s.run++
	s.busy, s.err = true, nil
	if s.id.Value() == "" {
		s.id.SetValue(s.sh.wiz.Identifier)
	}
	ctx, cancel := s.sh.callCtx()
	k, run := s.sh.deps.Accounts, s.run
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		d, err := flows.DiagnoseLostAccess(ctx, k)
		return lostDiagnosedMsg{run: run, d: d, err: err}
	})
}

func (s *lostDiagnosis) update(msg tea.Msg) tea.Cmd {
	sh := s.sh
	switch msg := msg.(type) {
	case tea.WindowSizeMsg, languageChangedMsg, stylesChangedMsg:
		s.restyle()
	case lostDiagnosedMsg:
		if !s.settle(msg.run, msg.err) {
			return nil
		}
		d := msg.d
		var remember tea.Cmd
		if d.Cause == flows.LostResetSent && d.Challenge != nil {
			if s.d != nil {
				d.Account = s.d.Account // still the same person, signed in or not
			}
			ch := *d.Challenge
			sh.wiz.ResetChallenge = &ch
			if dir, now := s.entry.StateDir, sh.now(); dir != "" {
				remember = func() tea.Msg {
					_ = flows.RememberChallenge(dir, ch, now) // only for the doctor: not worth failing for
					return nil
				}
			}
		}
		s.d = &d
		s.acts.set(d.Actions, nil)
		s.idOn = !s.signedIn() && d.Cause != flows.LostResetSent && strings.TrimSpace(s.id.Value()) == ""
		if s.idOn {
			return tea.Batch(remember, s.id.Focus())
		}
		return remember
	case caseWrittenMsg:
		if !s.settle(msg.run, msg.err) {
			return nil
		}
		c := msg.c
		s.path, s.sc = msg.path, &c
		s.acts.set(nil, nil)
		return nil
	case tea.KeyPressMsg:
		if s.busy {
			return nil
		}
		return s.key(msg)
	case tea.PasteMsg:
		if s.idOn {
			var cmd tea.Cmd
			s.id, cmd = s.id.Update(msg)
			return cmd
		}
	}
	return spin(&s.spin, s.busy, msg)
}

func (s *lostDiagnosis) key(k tea.KeyPressMsg) tea.Cmd {
	if s.d == nil {
		if isKey(k, "r") && s.err != nil {
			return s.init()
		}
		return nil
	}
	hasID := !s.signedIn() && s.path == "" && s.d.Cause != flows.LostResetSent
	switch {
	case s.idOn && isKey(k, kEnter, kDown, kTab):
		s.idOn = false
		s.id.Blur()
		s.acts.focus = 0
		return nil
	case s.idOn:
		var cmd tea.Cmd
		s.id, cmd = s.id.Update(k)
		s.sh.wiz.Identifier = strings.TrimSpace(s.id.Value())
		return cmd
	case hasID && isKey(k, kUp, kShiftTab) && s.acts.focus == 0:
		s.idOn = true
		return s.id.Focus()
	case s.acts.key(k):
		return nil
	case isKey(k, kEnter, kSpace):
		if a, ok := s.acts.current(); ok {
			return s.do(a)
		}
	}
	return nil
}

func (s *lostDiagnosis) identifier() string {
	if s.signedIn() {
		return flows.RecoveryIdentifier(*s.d.Account)
	}
	return strings.TrimSpace(s.id.Value())
}

func (s *lostDiagnosis) do(a flows.Action) tea.Cmd {
	sh := s.sh
	s.run++
	run := s.run
	switch a {
	case flows.ActionEnterCode:
		// On to the reset's code and new password, as after "Forgot
		// password?": the reset screens start fresh on this message.
		if s.d == nil || s.d.Challenge == nil {
			return nil
		}
		ch := *s.d.Challenge
		return tea.Sequence(
			func() tea.Msg { return resetRequestedMsg{challenge: ch} },
			navigateCmd(flows.StepTroubleshoot, flows.StepResetCode),
		)
	case flows.ActionResetViaEmail, flows.ActionResetViaPhone:
		id := s.identifier()
		if id == "" {
			s.idOn = true
			return s.id.Focus()
		}
		s.busy, s.err = true, nil
		ctx, cancel := sh.callCtx()
		auth, region := sh.deps.Accounts, sh.wiz.Region
		return tea.Batch(s.spin.Tick, func() tea.Msg {
			defer cancel()
			d, err := flows.ResetViaRecovery(ctx, auth, id, region, a)
			return lostDiagnosedMsg{run: run, d: d, err: err}
		})
	case flows.ActionSupportCase:
		if s.entry.StateDir == "" {
			s.err = &flows.UserError{Key: "ts.lost.no_state_dir", AttemptsLeft: -1}
			return nil
		}
		s.busy, s.err = true, nil
		ctx, cancel := sh.callCtx()
		k, d, id, dir, now := sh.deps.Accounts, *s.d, s.identifier(), s.entry.StateDir, sh.now()
		lost := s.lostKind()
		tr := sh.tr
		return tea.Batch(s.spin.Tick, func() tea.Msg {
			defer cancel()
			c := flows.LostAccessCase(ctx, k, d, id, lost, now)
			c.Platform = runtime.GOOS + "/" + runtime.GOARCH
			path, c, err := flows.WriteSupportCase(dir, c, func(t flows.Text) string { return t.Render(tr.T) })
			return caseWrittenMsg{run: run, path: path, c: c, err: err}
		})
	}
	return nil
}

// lostKind guesses what was lost from the identifier: "email" or "phone".
func (s *lostDiagnosis) lostKind() string {
	if s.signedIn() {
		if s.d.Account.Email != "" {
			return "email"
		}
		return "phone"
	}
	if id := s.identifier(); id != "" {
		return flows.MethodOf(id)
	}
	return ""
}

func (s *lostDiagnosis) capturesText() bool { return s.idOn }

func (s *lostDiagnosis) keys() []key.Binding {
	sh := s.sh
	switch {
	case s.busy:
		return nil
	case s.idOn:
		return []key.Binding{sh.keyContinue()}
	case len(s.acts.actions) > 0:
		return []key.Binding{sh.keyActivate(), sh.keyMove()}
	}
	return nil
}

func (s *lostDiagnosis) view() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.st.Title.Render(sh.T("ts.problem.lost_access")) + "\n\n")
	switch {
	case s.d == nil && s.err != nil:
		b.WriteString(errorView(sh, s.err) + "\n\n" + sh.st.Muted.Render(sh.T("ts.retry_hint")))
		return b.String()
	case s.d == nil:
		b.WriteString(sh.busyLine(s.spin, sh.T("ts.checking")))
		return b.String()
	case s.sc != nil:
		return b.String() + s.caseView()
	}
	b.WriteString(sh.findingView(s.d.Diagnosis) + "\n\n")
	if !s.signedIn() && s.d.Cause != flows.LostResetSent {
		lw := labelWidth(sh.T("signin.id"))
		b.WriteString(sh.fieldLine(sh.T("signin.id"), lw, s.idOn, s.id.View()) + "\n\n")
	}
	b.WriteString(s.acts.view(sh, !s.idOn, func(a flows.Action) string { return sh.T("ts.action." + string(a)) },
		func(flows.Action) bool { return !s.busy }) + "\n")
	switch {
	case s.busy:
		b.WriteString("\n" + sh.busyLine(s.spin, sh.T("ts.lost.sending")))
	case s.err != nil:
		b.WriteString("\n" + errorView(sh, s.err))
	}
	return strings.TrimRight(b.String(), "\n")
}

// caseView says where the case file went and what to take to support.
func (s *lostDiagnosis) caseView() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.st.OK.Render(markOK+" ") + sh.paragraph(sh.st.Text, sh.T("ts.lost.case_written", "id", s.sc.ID), 2) + "\n")
	b.WriteString("  " + sh.paragraph(sh.st.Value, s.path, 2) + "\n\n")
	b.WriteString(sh.st.Title.Render(sh.T("ts.case.bring")) + "\n")
	for i, t := range flows.SupportCaseBring() {
		n := string(rune('1' + i))
		b.WriteString("  " + n + ". " + sh.paragraph(sh.st.Text, sh.renderText(t), 5) + "\n")
	}
	b.WriteString("\n" + sh.paragraph(sh.st.Muted, sh.T("ts.lost.case_masked"), 0))
	return b.String()
}
