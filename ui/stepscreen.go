package ui

import (
	"errors"
	"maps"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// stepScreen is a wizard step written as a step description: its stepView
// full screen, and where its outcome leads in the wizard.
type stepScreen struct {
	sh *shared
	at flows.Step
	// build describes the step: the static step's, or the last one its
	// page read.
	build func() *step
	// page, when not nil, makes the page that reads what the step shows
	// from the service, each time it is shown (Mi Cloud's saved
	// settings), on the event loop; loadIntro and loadBusy are drawn
	// meanwhile (see stepView).
	page      func() page
	loadIntro func() string
	loadBusy  string
	v         *stepView
	shown     bool // Init ran: the view's work (tasks, refresh) is under way
}

// pageReadMsg is a page step's page read again while the step was shown
// (see stepScreen.Init), for the view id.
type pageReadMsg struct {
	id    int
	build func() *step
	err   error
}

func newStepScreen(sh *shared, at flows.Step, build func() *step) *stepScreen {
	s := &stepScreen{sh: sh, at: at, build: build}
	s.v = newStepView(sh, staticPage(build))
	s.v.prepare(build()) // drawn before Init, doing nothing yet
	return s
}

// newPageStep is a wizard step that reads what it shows with p when it
// is shown, saying what it reads (busy, a catalog key) under intro.
func newPageStep(sh *shared, at flows.Step, p func() page, intro func() string, busy string) *stepScreen {
	s := &stepScreen{sh: sh, at: at, page: p, loadIntro: intro, loadBusy: busy}
	s.v = s.newView()
	s.v.loading = true // drawn before Init, reading nothing yet
	return s
}

func (s *stepScreen) newView() *stepView {
	p := staticPage(s.build)
	if s.page != nil {
		p = s.page()
	}
	v := newStepView(s.sh, p)
	v.loadIntro, v.loadBusy = s.loadIntro, s.loadBusy
	return v
}

// rebuild describes the step again and shows it: the answers it starts
// from may have changed. It returns the view's work (its tasks on the
// first showing, a refresh, a page's reading) and the focus. A page step
// that has not read its page reads it.
func (s *stepScreen) rebuild() tea.Cmd {
	old := s.v
	s.v = s.newView()
	if s.page != nil && s.build == nil {
		return s.v.load()
	}
	cmd := s.v.show(s.build())
	if old != nil && old.touched && old.st != nil && old.st.about == s.v.st.about {
		s.v.keepTyped(old) // back from troubleshooting, say: what was typed stays
		cmd = tea.Batch(cmd, s.v.focusCmd())
	}
	return cmd
}

// busy reports whether the view has work under way that a new view would
// drop (an action, tasks).
func (s *stepScreen) busy() bool { return s.shown && (s.v.running || s.v.pending > 0) }

// Init implements Screen: the step is described again each time it is
// shown, unless work of its is under way. A page step shown again stays as
// it was (answers, a save trying again) while it reads its page again, in
// the background: only what changed meanwhile (a fix saved by
// troubleshooting) replaces it.
func (s *stepScreen) Init() tea.Cmd {
	if s.busy() {
		return nil
	}
	s.shown = true
	if s.page == nil || s.v.st == nil {
		return s.rebuild()
	}
	ctx, cancel := s.sh.callCtx()
	id, p := s.v.id, s.page()
	return func() tea.Msg {
		defer cancel()
		build, err := p(ctx)
		return pageReadMsg{id: id, build: build, err: err}
	}
}

// reread takes a page read again: shown instead when it starts from other
// answers than the view on screen did, unless that one is at work.
func (s *stepScreen) reread(msg pageReadMsg) tea.Cmd {
	if msg.id != s.v.id || msg.err != nil || s.v.running {
		return nil // unreadable now: what is on screen stands
	}
	s.build = msg.build
	st, nv := msg.build(), s.newView()
	nv.prepare(st)
	if maps.Equal(nv.began, s.v.began) {
		return nil
	}
	s.v = nv
	return nv.show(st)
}

// Update implements Screen.
func (s *stepScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case languageChangedMsg:
		if !s.busy() && !s.v.loading { // a busy step's texts follow anyway: they are read as it is drawn
			return s, s.rebuild()
		}
	case deviceReadMsg:
		// What the system says came in: the answers start from it, unless
		// the person already typed.
		if !s.v.touched && !s.busy() && !s.v.loading {
			return s, s.rebuild()
		}
	case stepLoadedMsg:
		if msg.id == s.v.id && msg.err == nil {
			s.build = msg.build
		}
	case pageReadMsg:
		return s, s.reread(msg)
	case registerAgainMsg:
		// The code screen's "Send a new code": the same answers again, or,
		// when a password must be typed again first, says so.
		return s, s.v.resubmit(s.sh.T("create.again"))
	case progressLoadedMsg, sessionRestoredMsg, lockReadMsg:
		if s.v.st != nil && s.v.st.restate && !s.busy() {
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
	case out.redo:
		// Described again from where it starts (a new code: its field),
		// with what was typed in the open and the note.
		next = tea.Batch(s.rebuild(), s.v.home())
		s.v.note = out.note
	case out.msg != nil:
		m := out.msg
		next = func() tea.Msg { return m }
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

// HandlesBack implements backBlocker: esc closes the step's question;
// from a step that leads nowhere back, it does nothing.
func (s *stepScreen) HandlesBack() bool {
	return s.v.asking != nil || s.v.st != nil && s.v.st.noBack
}

// Title implements titler: a step may stand under another header.
func (s *stepScreen) Title() string {
	if s.v.st == nil {
		return ""
	}
	return s.v.st.header
}

// CapturesText implements textCapturer.
func (s *stepScreen) CapturesText() bool { return s.v.capturesText() }

// Keys implements Screen.
func (s *stepScreen) Keys() []key.Binding { return s.v.Keys() }

// View implements Screen.
func (s *stepScreen) View() string { return s.v.View() }

// wizardStep asks a wizard step written as a step description in plain
// mode, under the step's heading, and returns the step that comes next.
func (p *plain) wizardStep(at flows.Step, build func() *step) (flows.Step, error) {
	return p.wizardPage(at, staticPage(build))
}

// wizardPage is wizardStep for a step that reads what it shows first.
func (p *plain) wizardPage(at flows.Step, pg page) (flows.Step, error) {
	p.heading(at)
	build, err := call(p, pg)
	if err != nil {
		return 0, err
	}
	for {
		out, err := p.runStep(build(), flows.Text{}, false)
		switch {
		case errors.Is(err, errBack):
			return backFrom(at), nil // the way to a new code declined: change what was entered
		case err != nil:
			return 0, err
		}
		if out.sent != nil {
			p.remember(*out.sent)
		}
		if _, ok := out.msg.(registerAgainMsg); ok {
			return p.registerAgain()
		}
		if !out.redo {
			return out.to, nil
		}
		if !out.note.IsZero() {
			p.say(markOK + " " + p.sh.Text(out.note))
		}
	}
}

// remember keeps a challenge the service just sent in the state dir, for
// the code diagnosis and misetup doctor; not worth failing for.
func (p *plain) remember(ch api.Challenge) {
	if p.sh.deps.StateDir != "" {
		_ = flows.RememberChallenge(p.sh.deps.StateDir, ch, p.sh.now())
	}
}

// backFrom is where plain mode goes back to from the step at: from a code,
// to what it was sent for.
func backFrom(at flows.Step) flows.Step {
	switch at {
	case flows.StepCode:
		return flows.StepCreate
	case flows.StepResetCode:
		return flows.StepReset
	}
	return at
}
