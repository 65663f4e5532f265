package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// accountScreen is step 4 (GUIDE section 3, "Select Sign in or Create
// account").
type accountScreen struct {
	sh     *shared
	choice int // 0 sign in, 1 create account
}

func newAccountScreen(sh *shared) *accountScreen { return &accountScreen{sh: sh} }

// Init implements Screen.
func (s *accountScreen) Init() tea.Cmd { return nil }

// Update implements Screen.
func (s *accountScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	switch {
	case isKey(k, kUp, kDown, kTab, kShiftTab, kLeft, kRight):
		s.choice = 1 - s.choice
	case isKey(k, "s", "S"):
		s.choice = 0
		return s, navigateCmd(flows.StepAccount, flows.StepSignIn)
	case isKey(k, "c", "C"):
		s.choice = 1
		return s, navigateCmd(flows.StepAccount, flows.StepCreate)
	case isKey(k, kEnter):
		to := flows.StepSignIn
		if s.choice == 1 {
			to = flows.StepCreate
		}
		return s, navigateCmd(flows.StepAccount, to)
	}
	return s, nil
}

// Keys implements Screen.
func (s *accountScreen) Keys() []key.Binding {
	sh := s.sh
	// s and c first: the text asks for them. enter on the highlighted
	// choice works too, as the text says; ↑/↓ moves the highlight.
	return []key.Binding{sh.bind("s", "key.sign_in", "s", "S"), sh.bind("c", "key.create", "c", "C"), sh.keyMove()}
}

// View implements Screen.
func (s *accountScreen) View() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.paragraph(sh.st.Text, sh.T("account.intro"), 0) + "\n\n")
	opts := []struct{ title, desc, key string }{
		{sh.T("account.sign_in"), sh.T("account.sign_in_desc"), "s"},
		{sh.T("account.create"), sh.T("account.create_desc"), "c"},
	}
	lw := labelWidth(opts[0].title, opts[1].title)
	for i, o := range opts {
		p, st := "  ", sh.st.Text
		if i == s.choice {
			p, st = sh.st.LabelOn.Render(pointer)+" ", sh.st.Selected
		}
		b.WriteString(p + st.Render(padRight(o.title, lw)) + sh.paragraph(sh.st.Muted, o.desc, 2+lw) + "\n\n")
	}
	b.WriteString(sh.paragraph(sh.st.Muted, sh.T("account.keys_hint"), 0))
	return b.String()
}
