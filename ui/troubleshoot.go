package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"

	tea "charm.land/bubbletea/v2"
)

// troubleshootScreen is the entry point of troubleshooting, opened by
// "Didn't get the code?". For now it shows the guide's advice for a code
// that did not arrive (GUIDE section 9, problem 1).
// TODO: the troubleshooting issue replaces it with the diagnosing screens.
type troubleshootScreen struct {
	sh *shared
}

func newTroubleshootScreen(sh *shared) *troubleshootScreen { return &troubleshootScreen{sh: sh} }

// Init implements Screen.
func (s *troubleshootScreen) Init() tea.Cmd { return nil }

// Update implements Screen.
func (s *troubleshootScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && isKey(k, kEnter) {
		return s, backCmd
	}
	return s, nil
}

// Keys implements Screen.
func (s *troubleshootScreen) Keys() []key.Binding { return nil } // enter and esc both go back

// View implements Screen.
func (s *troubleshootScreen) View() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.st.Title.Render(sh.T("trouble.code.heading")) + "\n\n")
	for _, k := range []string{"spam", "identifier", "wait", "resend"} {
		b.WriteString("  • " + sh.paragraph(sh.st.Text, sh.T("trouble.code."+k), 4) + "\n")
	}
	if sh.opts.Server == "" {
		b.WriteString("\n" + sh.paragraph(sh.st.Muted, sh.T("trouble.code.outbox"), 0) + "\n")
	}
	return b.String()
}
