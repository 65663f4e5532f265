package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// hubScreen is the account hub after set-up (misetup account, the
// summary's a, misetup on a device already set up): a stack of pages, each
// a step drawn by a stepView. esc goes back a page; the page come back to
// is read again.
type hubScreen struct {
	sh    *shared
	stack []*stepView
}

func newHubScreen(sh *shared) *hubScreen {
	return &hubScreen{sh: sh, stack: []*stepView{newStepView(sh, sh.hubHome())}}
}

func (h *hubScreen) top() *stepView { return h.stack[len(h.stack)-1] }

// Init implements Screen: the shown page is read again each time the hub
// is shown.
func (h *hubScreen) Init() tea.Cmd { return h.top().load() }

// Update implements Screen.
func (h *hubScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if isKey(msg, kEsc) && len(h.stack) > 1 {
			return h, h.back(1, flows.Text{})
		}
		if isKey(msg, "s", "S") && h.signedOut() {
			// Not signed in on this device: the wizard's sign-in, which goes
			// on through this device's set-up to the summary and back here.
			return h, navigateCmd(flows.StepHub, flows.StepSignIn)
		}
		cmd := h.top().Update(msg)
		return h, tea.Batch(cmd, h.follow())
	case tea.PasteMsg:
		return h, h.top().Update(msg)
	}
	var cmds []tea.Cmd
	for _, v := range h.stack {
		cmds = append(cmds, v.Update(msg))
	}
	return h, tea.Batch(append(cmds, h.follow())...)
}

// follow takes the shown page's outcome, once its action has run.
func (h *hubScreen) follow() tea.Cmd {
	top := h.top()
	out := top.done
	if out == nil {
		return nil
	}
	top.done = nil
	switch {
	case out.quit:
		return func() tea.Msg { return quitMsg{} }
	case out.next != nil:
		v := newStepView(h.sh, out.next)
		v.note = out.note
		if out.replace {
			h.stack = h.stack[:len(h.stack)-1]
		}
		h.stack = append(h.stack, v)
		return v.load()
	case out.back > 0:
		return h.back(out.back, out.note)
	}
	return nil
}

// back goes back n pages (never past the first), which is read again and
// shows note.
func (h *hubScreen) back(n int, note flows.Text) tea.Cmd {
	h.stack = h.stack[:max(len(h.stack)-n, 1)]
	top := h.top()
	top.note = note
	return top.load()
}

// signedOut reports whether the hub could not open for want of a session.
func (h *hubScreen) signedOut() bool {
	v := h.top()
	if v.st != nil || v.loadErr == nil {
		return false
	}
	ue := flows.Explain(v.loadErr)
	return ue != nil && ue.Key == flows.ErrKeyUnauthorized
}

// HandlesBack implements backBlocker: esc goes back a page inside the hub.
func (h *hubScreen) HandlesBack() bool { return len(h.stack) > 1 }

// CapturesText implements textCapturer.
func (h *hubScreen) CapturesText() bool { return h.top().capturesText() }

// Title implements titler: the page's title.
func (h *hubScreen) Title() string {
	if st := h.top().st; st != nil {
		return st.title
	}
	return h.sh.T("step." + flows.StepHub.String() + ".title")
}

// Keys implements Screen.
func (h *hubScreen) Keys() []key.Binding {
	ks := h.top().Keys()
	if h.signedOut() {
		ks = append(ks, h.sh.bind("s", "key.sign_in", "s"))
	}
	if len(h.stack) > 1 {
		ks = append(ks, h.sh.keyBack())
	}
	return ks
}

// View implements Screen.
func (h *hubScreen) View() string {
	if h.signedOut() {
		return h.top().View() + "\n\n" + h.sh.paragraph(h.sh.st.Text, h.sh.T("hub.sign_in"), 0)
	}
	return h.top().View()
}
