package ui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// requirementsScreen is step 2 (GUIDE section 2): the checks run at once,
// each with its own spinner and then a mark, a finding and a fix.
type requirementsScreen struct {
	sh       *shared
	run      int                      // the round of checks; 0 before the first
	findings map[string]flows.Finding // by check; missing while it runs
	spin     spinner.Model
}

func newRequirementsScreen(sh *shared) *requirementsScreen {
	return &requirementsScreen{sh: sh, findings: map[string]flows.Finding{}, spin: newSpinner(sh)}
}

// Init implements Screen: the first showing starts the checks.
func (s *requirementsScreen) Init() tea.Cmd {
	if s.run == 0 {
		return s.start()
	}
	return nil
}

// start runs every check at once, each in its own Cmd.
func (s *requirementsScreen) start() tea.Cmd {
	s.run++
	s.findings = map[string]flows.Finding{}
	cmds := []tea.Cmd{s.spin.Tick}
	for _, name := range flows.Checks() {
		cmds = append(cmds, checkCmd(s.sh.ctx, s.sh.deps.Checker, s.run, name))
	}
	return tea.Batch(cmds...)
}

func checkCmd(ctx context.Context, c flows.Checker, run int, name string) tea.Cmd {
	return func() tea.Msg { return checkedMsg{run: run, finding: c.Run(ctx, name)} }
}

func (s *requirementsScreen) done() bool { return len(s.findings) == len(flows.Checks()) }

func (s *requirementsScreen) report() flows.Report {
	var r flows.Report
	for _, name := range flows.Checks() {
		if f, ok := s.findings[name]; ok {
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

// Update implements Screen.
func (s *requirementsScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case checkedMsg:
		if msg.run != s.run {
			return s, nil // a late answer of an earlier round
		}
		s.findings[msg.finding.Check] = msg.finding
		if msg.finding.Check == flows.CheckNetwork {
			s.sh.wiz.Network, s.sh.wiz.Iface = msg.finding.Network, msg.finding.Interface
		}
		return s, nil
	case stylesChangedMsg:
		s.spin.Style = s.sh.st.Spinner
	case tea.KeyPressMsg:
		switch {
		case isKey(msg, "r", "R") && s.done():
			return s, s.start()
		case isKey(msg, kEnter) && s.done() && s.report().OK():
			return s, navigateCmd(flows.StepRequirements, flows.StepDevice)
		}
		return s, nil
	}
	return s, spin(&s.spin, !s.done(), msg)
}

// Keys implements Screen.
func (s *requirementsScreen) Keys() []key.Binding {
	if !s.done() {
		return nil
	}
	keys := []key.Binding{s.sh.keyRerun()}
	if s.report().OK() {
		keys = append([]key.Binding{s.sh.keyContinue()}, keys...)
	}
	return keys
}

// View implements Screen.
func (s *requirementsScreen) View() string {
	sh := s.sh
	rows := s.rowsView()
	var status string
	switch r := s.report(); {
	case !s.done():
		status = sh.st.Muted.Render(sh.T("req.running"))
	case !r.OK():
		status = sh.paragraph(sh.st.Fail, sh.T("req.blocked"), 0)
	case r.Worst() == flows.LevelWarn:
		status = sh.paragraph(sh.st.Warn, sh.T("req.warnings"), 0)
	default:
		status = sh.paragraph(sh.st.OK, sh.T("req.all_ok"), 0)
	}
	intro := sh.paragraph(sh.st.Text, sh.T("req.intro"), 0)
	// The findings matter most; in a short window the introduction goes,
	// then the closing line (the footer still names the keys).
	room := sh.bodyHeight() - lipglossHeight(rows)
	var b strings.Builder
	if lipglossHeight(intro)+1+1+lipglossHeight(status) <= room {
		b.WriteString(intro + "\n\n")
	}
	b.WriteString(rows)
	if 1+lipglossHeight(status) <= room {
		b.WriteString("\n\n" + status)
	}
	return b.String()
}

// rowsView is one row per check: mark, name, finding and fix.
func (s *requirementsScreen) rowsView() string {
	sh := s.sh
	var rows strings.Builder
	labels := make([]string, 0, 4)
	for _, name := range flows.Checks() {
		labels = append(labels, sh.T("req."+name))
	}
	lw := labelWidth(labels...)
	indent := 2 + lw
	for i, name := range flows.Checks() {
		f, ok := s.findings[name]
		var mark, finding string
		switch {
		case !ok:
			mark, finding = s.spin.View(), sh.st.Muted.Render(sh.T("req.checking"))
		default:
			mark = s.levelMark(f.Level)
			finding = sh.paragraph(s.levelStyle(f.Level), sh.Text(f.Msg), indent)
		}
		rows.WriteString(mark + " " + sh.st.Label.Render(padRight(labels[i], lw)) + finding + "\n")
		if ok && !f.Fix.IsZero() {
			rows.WriteString(strings.Repeat(" ", indent) + sh.paragraph(sh.st.Muted, sh.Text(f.Fix), indent) + "\n")
		}
	}
	return strings.TrimRight(rows.String(), "\n")
}

func (s *requirementsScreen) levelMark(l flows.Level) string {
	switch l {
	case flows.LevelWarn:
		return s.sh.st.Warn.Render(markWarn)
	case flows.LevelFail:
		return s.sh.st.Fail.Render(markFail)
	}
	return s.sh.st.OK.Render(markOK)
}

func (s *requirementsScreen) levelStyle(l flows.Level) lipglossStyle {
	switch l {
	case flows.LevelWarn:
		return s.sh.st.Warn
	case flows.LevelFail:
		return s.sh.st.Fail
	}
	return s.sh.st.Text
}
