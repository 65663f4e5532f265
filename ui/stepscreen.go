package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// stepScreen is a wizard step written as a step description: its stepView
// full screen, and where its outcome leads in the wizard.
type stepScreen struct {
	sh    *shared
	at    flows.Step
	build func() *step
	v     *stepView
	shown bool // Init ran: the view's work (tasks, refresh) is under way
}

func newStepScreen(sh *shared, at flows.Step, build func() *step) *stepScreen {
	s := &stepScreen{sh: sh, at: at, build: build}
	s.v = newStepView(sh, staticPage(build))
	s.v.prepare(build()) // drawn before Init, doing nothing yet
	return s
}

// rebuild describes the step again and shows it: the answers it starts
// from may have changed. It returns the view's work (its tasks on the
// first showing, a refresh) and the focus.
func (s *stepScreen) rebuild() tea.Cmd {
	old := s.v
	s.v = newStepView(s.sh, staticPage(s.build))
	cmd := s.v.show(s.build())
	if old != nil && old.touched {
		s.v.keepTyped(old) // back from troubleshooting, say: what was typed stays
	}
	return cmd
}

// busy reports whether the view has work under way that a new view would
// drop (an action, tasks).
func (s *stepScreen) busy() bool { return s.shown && (s.v.running || s.v.pending > 0) }

// Init implements Screen: the step is described again each time it is
// shown, unless work of its is under way.
func (s *stepScreen) Init() tea.Cmd {
	if s.busy() {
		return nil
	}
	s.shown = true
	return s.rebuild()
}

// Update implements Screen.
func (s *stepScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg.(type) {
	case languageChangedMsg:
		if !s.busy() { // a busy step's texts follow anyway: they are read as it is drawn
			return s, s.rebuild()
		}
	case deviceReadMsg:
		// What the system says came in: the answers start from it, unless
		// the person already typed.
		if !s.v.touched && !s.busy() {
			return s, s.rebuild()
		}
	}
	cmd := s.v.Update(msg)
	out := s.v.done
	if out == nil {
		return s, cmd
	}
	s.v.done = nil
	if out.apply != nil {
		out.apply(s.sh)
	}
	var next tea.Cmd
	switch {
	case out.quit:
		next = func() tea.Msg { return quitMsg{} }
	case out.to != flows.StepWelcome && out.resetTo:
		next = resetToCmd(s.at, out.to)
	case out.to != flows.StepWelcome:
		next = navigateCmd(s.at, out.to)
	}
	if out.sent != nil {
		next = tea.Sequence(sentCmd(*out.sent), next)
	}
	return s, tea.Batch(cmd, next)
}

// sentCmd announces a code the service just sent: App keeps it for the
// code diagnosis, and the code screens start fresh on it.
func sentCmd(ch api.Challenge) tea.Cmd {
	if ch.Purpose == api.PurposeRegistration {
		return func() tea.Msg { return registeredMsg{challenge: ch} }
	}
	return func() tea.Msg { return resetRequestedMsg{challenge: ch} }
}

// CapturesText implements textCapturer.
func (s *stepScreen) CapturesText() bool { return s.v.capturesText() }

// Keys implements Screen.
func (s *stepScreen) Keys() []key.Binding { return s.v.Keys() }

// View implements Screen.
func (s *stepScreen) View() string { return s.v.View() }

// wizardStep asks a wizard step written as a step description in plain
// mode, under the step's heading, and returns the step that comes next.
func (p *plain) wizardStep(at flows.Step, st *step) (flows.Step, error) {
	p.heading(at)
	out, err := p.runStep(st, flows.Text{}, false)
	if err != nil {
		return 0, err
	}
	if out.sent != nil && p.sh.deps.StateDir != "" {
		_ = flows.RememberChallenge(p.sh.deps.StateDir, *out.sent, p.sh.now()) // only for the diagnosis: not worth failing for
	}
	return out.to, nil
}
