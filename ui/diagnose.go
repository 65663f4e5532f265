package ui

import (
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// Troubleshooting that diagnoses (GUIDE section 9): the four problems as
// guided checks that look at the real state, say what they found in one
// sentence and offer the fix, done in place. diagnoseScreen is the entry:
// the list of problems, or, opened from a step that names one (the code
// screens, sign-in, Mi Cloud), that problem's diagnosis at once.

// diagnoseEntry is where troubleshooting was opened from and what the
// wizard knew there. App fills it each time troubleshooting opens.
type diagnoseEntry struct {
	From     flows.Step           // the step troubleshooting was opened from
	SignIn   *flows.SignInAttempt // the last sign-in attempt of this run and its answer; nil when none
	CacheDir string               // misetup's cache dir, emptied by "clear cache and retry"
	StateDir string               // where last-challenge.json and support case files go
}

// diagnosis is one problem's view inside the troubleshooting screen.
type diagnosis interface {
	// init starts the diagnosis (it reads the real state).
	init() tea.Cmd
	// update handles a message; keys only when the view is shown.
	update(tea.Msg) tea.Cmd
	// view renders the diagnosis.
	view() string
	// keys are the keys that work now.
	keys() []key.Binding
	// capturesText reports whether a text field has the focus.
	capturesText() bool
}

// diagnoseScreen is the troubleshooting step.
type diagnoseScreen struct {
	sh     *shared
	entry  diagnoseEntry
	menu   int       // the highlighted problem in the list
	open   diagnosis // the shown diagnosis; nil shows the list
	direct bool      // opened straight into a diagnosis: esc leaves troubleshooting
}

// newDiagnoseScreen builds the troubleshooting screen. Opened from a step
// that names a problem (flows.ProblemFor) it shows that diagnosis at once;
// otherwise the list of the four problems.
func newDiagnoseScreen(sh *shared, entry diagnoseEntry) *diagnoseScreen {
	s := &diagnoseScreen{sh: sh, entry: entry}
	if p, ok := flows.ProblemFor(entry.From); ok {
		s.menu, s.direct = int(p), true
	}
	return s
}

// newDiagnosis builds the view of problem p.
func (s *diagnoseScreen) newDiagnosis(p flows.Problem) diagnosis {
	switch p {
	case flows.ProblemCode:
		return newCodeDiagnosis(s.sh, s.entry)
	case flows.ProblemSignIn:
		return newSignInDiagnosis(s.sh, s.entry)
	case flows.ProblemSync:
		return newSyncDiagnosis(s.sh, s.entry)
	}
	return newLostDiagnosis(s.sh, s.entry)
}

// Init implements Screen: a direct entry starts its diagnosis; a shown
// diagnosis looks again (the state may have changed meanwhile).
func (s *diagnoseScreen) Init() tea.Cmd {
	if s.open == nil && s.direct {
		s.open = s.newDiagnosis(flows.Problem(s.menu))
	}
	if s.open != nil {
		return s.open.init()
	}
	return nil
}

// Update implements Screen.
func (s *diagnoseScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && s.open == nil {
		return s, s.menuKey(k)
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && isKey(k, kEsc) && !s.direct {
		s.open = nil // back to the list
		return s, nil
	}
	if s.open != nil {
		return s, s.open.update(msg)
	}
	return s, nil
}

func (s *diagnoseScreen) menuKey(k tea.KeyPressMsg) tea.Cmd {
	n := len(flows.Problems())
	switch {
	case isKey(k, kUp, kShiftTab):
		s.menu = (s.menu - 1 + n) % n
	case isKey(k, kDown, kTab):
		s.menu = (s.menu + 1) % n
	case isKey(k, kEnter, kSpace):
		s.open = s.newDiagnosis(flows.Problem(s.menu))
		return s.open.init()
	case len(k.Text) == 1 && k.Text[0] >= '1' && int(k.Text[0]-'0') <= n:
		s.menu = int(k.Text[0] - '1')
		s.open = s.newDiagnosis(flows.Problem(s.menu))
		return s.open.init()
	}
	return nil
}

// HandlesBack implements backBlocker: esc in a diagnosis opened from the
// list goes back to the list.
func (s *diagnoseScreen) HandlesBack() bool { return s.open != nil && !s.direct }

// CapturesText implements textCapturer.
func (s *diagnoseScreen) CapturesText() bool { return s.open != nil && s.open.capturesText() }

// Keys implements Screen.
func (s *diagnoseScreen) Keys() []key.Binding {
	if s.open == nil {
		return []key.Binding{s.sh.bind("enter", "ts.key.open", kEnter), s.sh.keyMove(), s.sh.bind("1-4", "ts.key.pick", "1")}
	}
	keys := s.open.keys()
	if !s.direct {
		keys = append(keys, s.sh.bind("esc", "ts.key.problems", kEsc))
	}
	return keys
}

// View implements Screen.
func (s *diagnoseScreen) View() string {
	if s.open != nil {
		return s.open.view()
	}
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.paragraph(sh.st.Text, sh.T("ts.menu.intro"), 0) + "\n\n")
	for i, p := range flows.Problems() {
		num := strconv.Itoa(i+1) + "  "
		title := sh.T("ts.problem." + p.String())
		if i == s.menu {
			b.WriteString(sh.st.LabelOn.Render(pointer) + " " + sh.st.Selected.Render(num+title) + "\n")
		} else {
			b.WriteString("  " + sh.st.Text.Render(num+title) + "\n")
		}
		b.WriteString("     " + sh.paragraph(sh.st.Muted, sh.T("ts.problem."+p.String()+".desc"), 5) + "\n")
	}
	// The note on `misetup doctor` is the first to go in a short window.
	note := sh.paragraph(sh.st.Muted, sh.T("ts.menu.doctor"), 0)
	if strings.Count(b.String(), "\n")+1+strings.Count(note, "\n")+1 <= sh.bodyHeight() {
		b.WriteString("\n" + note)
	}
	return b.String()
}

// keyTroubleshoot is the global key that opens troubleshooting from every
// screen (App shows it in the footer). A ctrl key, because most screens
// have a text field that takes printable keys.
func (sh *shared) keyTroubleshoot() key.Binding {
	return sh.bind("ctrl+t", "ts.key.troubleshoot", kCtrlT)
}

// diagRun is the round a diagnosis has in flight: its number, whether it
// runs, and the error of the last answer.
type diagRun struct {
	run  int
	busy bool
	err  error
}

// settle takes the answer of round run: it reports whether the answer is
// a result to show, false when it is late (an earlier round) or failed
// (kept in err).
func (r *diagRun) settle(run int, err error) bool {
	if run != r.run {
		return false
	}
	r.busy = false
	if err != nil {
		r.err = err
		return false
	}
	return true
}

// Messages of the diagnoses. run tells the rounds of one view apart, so a
// late answer of an earlier round is dropped.

// codeDiagnosedMsg carries the code diagnosis.
type codeDiagnosedMsg struct {
	run int
	d   flows.CodeDiagnosis
	err error
}

// signInDiagnosedMsg carries the sign-in diagnosis; session is set when
// the check signed in.
type signInDiagnosedMsg struct {
	run     int
	d       flows.SignInDiagnosis
	session *api.Session
}

// syncDiagnosedMsg carries the sync diagnosis.
type syncDiagnosedMsg struct {
	run int
	d   flows.SyncDiagnosis
	err error
}

// lostDiagnosedMsg carries the lost-access diagnosis.
type lostDiagnosedMsg struct {
	run int
	d   flows.LostAccessDiagnosis
	err error
}

// caseWrittenMsg says where the support case file went.
type caseWrittenMsg struct {
	run  int
	path string
	c    flows.SupportCase
	err  error
}

// diagTickMsg drives the countdowns of the diagnoses (resend, lock); tag
// tells loops apart so only the newest runs.
type diagTickMsg struct{ tag int }

func diagTickCmd(tag int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return diagTickMsg{tag: tag} })
}

// renderText turns a flows.Text into words in the chosen language,
// nested texts included.
func (sh *shared) renderText(t flows.Text) string { return t.Render(sh.lookup) }

// lookup is sh.tr.T with the service's name as the argument "server" of
// every text, so "cannot be reached" says which service it tried.
func (sh *shared) lookup(key string, args ...any) string {
	return sh.tr.T(key, append(append([]any{}, args...), "server", sh.serviceName())...)
}

// levelMark is the mark of a level, in its colour; it reads without one.
func (sh *shared) levelMark(l flows.Level) string {
	switch l {
	case flows.LevelWarn:
		return sh.st.Warn.Render(markWarn)
	case flows.LevelFail:
		return sh.st.Fail.Render(markFail)
	}
	return sh.st.OK.Render(markOK)
}

func (sh *shared) levelStyle(l flows.Level) lipglossStyle {
	switch l {
	case flows.LevelWarn:
		return sh.st.Warn
	case flows.LevelFail:
		return sh.st.Fail
	}
	return sh.st.Text
}

// findingView renders a diagnosis: the mark and the finding, extra lines
// (a countdown) under it, the fix, then the notes.
func (sh *shared) findingView(d flows.Diagnosis, extra ...string) string {
	var b strings.Builder
	b.WriteString(sh.levelMark(d.Level) + " " + sh.paragraph(sh.levelStyle(d.Level), sh.renderText(d.Finding), 2) + "\n")
	for _, e := range extra {
		b.WriteString("  " + e + "\n")
	}
	if !d.Fix.IsZero() {
		b.WriteString("  " + sh.paragraph(sh.st.Text, sh.renderText(d.Fix), 2) + "\n")
	}
	for _, n := range d.Notes {
		b.WriteString("  " + sh.paragraph(sh.st.Muted, sh.renderText(n), 2) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// actionList is the buttons of a diagnosis's actions, one focused.
type actionList struct {
	actions []flows.Action
	focus   int
}

// set shows actions, the focus on the first one enabled says can be
// pressed (nil: all can).
func (a *actionList) set(actions []flows.Action, enabled func(flows.Action) bool) {
	a.actions, a.focus = actions, 0
	for i, act := range actions {
		if enabled == nil || enabled(act) {
			a.focus = i
			return
		}
	}
}

func (a *actionList) current() (flows.Action, bool) {
	if len(a.actions) == 0 {
		return "", false
	}
	return a.actions[a.focus], true
}

// key moves the focus; it reports whether the key was used.
func (a *actionList) key(k tea.KeyPressMsg) bool {
	n := len(a.actions)
	if n == 0 {
		return false
	}
	switch {
	case isKey(k, kDown, kTab):
		a.focus = (a.focus + 1) % n
	case isKey(k, kUp, kShiftTab):
		a.focus = (a.focus - 1 + n) % n
	default:
		return false
	}
	return true
}

// view renders the buttons; label names an action, enabled says whether
// it can be pressed now.
func (a *actionList) view(sh *shared, focused bool, label func(flows.Action) string, enabled func(flows.Action) bool) string {
	lines := make([]string, len(a.actions))
	for i, act := range a.actions {
		lines[i] = sh.buttonView(label(act), focused && i == a.focus, enabled(act))
	}
	return strings.Join(lines, "\n")
}

// countdown writes d as m:ss.
func countdown(d time.Duration) string {
	d = max(d.Round(time.Second), 0)
	return strconv.Itoa(int(d.Minutes())) + ":" + pad2(int(d.Seconds())%60)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
