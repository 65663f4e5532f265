package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// stepScreen is a wizard step written as a step description: its stepView
// full screen, and where its outcome leads in the wizard.
type stepScreen struct {
	sh    *shared
	at    flows.Step
	build func() *step
	v     *stepView
}

func newStepScreen(sh *shared, at flows.Step, build func() *step) *stepScreen {
	return &stepScreen{sh: sh, at: at, build: build, v: newStepViewNow(sh, build())}
}

// Init implements Screen: the step is described again each time it is
// shown (the answers it starts from may have changed).
func (s *stepScreen) Init() tea.Cmd {
	if s.v.running {
		return nil
	}
	s.v = newStepViewNow(s.sh, s.build())
	return s.v.focusCmd()
}

// Update implements Screen.
func (s *stepScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg.(type) {
	case languageChangedMsg:
		s.v = newStepViewNow(s.sh, s.build())
		return s, nil
	case deviceReadMsg:
		// What the system says came in: the answers start from it, unless
		// the person already typed.
		if !s.v.touched && !s.v.running {
			s.v = newStepViewNow(s.sh, s.build())
			return s, s.v.focusCmd()
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
	switch {
	case out.quit:
		return s, tea.Batch(cmd, func() tea.Msg { return quitMsg{} })
	case out.to != flows.StepWelcome:
		return s, tea.Batch(cmd, navigateCmd(s.at, out.to))
	}
	return s, cmd
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
	return out.to, nil
}
