// Package ui is the wizard's terminal interface on Bubble Tea v2: App, the
// only tea.Model (window size, global keys, navigation, the tea.View), and one
// small Screen per step. It presents package flows and never imports the
// client or the server: main wires *client.Client in through Deps.
//
// Nothing here touches os.Stdin, os.Stdout or the process environment:
// input, output, size and environment come in through the tea.Program that
// runs App, so many can run at once (kiosks, SSH sessions).
package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
)

// App is the wizard: the root tea.Model.
type App struct {
	sh      *shared
	screens map[flows.Step]Screen
	history []flows.Step // the shown step is last

	help        help.Model
	showHelp    bool
	confirmQuit bool
	finished    bool // the person finished the summary
	quitting    bool

	progressLoaded bool
	saveErr        error

	footerMemo [2]string // the last footer's inputs and view (footer)

	kiosk kioskState // kiosk mode's clocks and PIN (Options.Kiosk)
}

// stylesChangedMsg tells screens to re-apply styles (background detected).
type stylesChangedMsg struct{}

// New builds the wizard. ctx bounds every call the wizard makes.
func New(ctx context.Context, deps Deps, opts Options) *App {
	tr := assets.MustLoad(language(opts, ""))
	sh := &shared{ctx: ctx, deps: deps, opts: opts, tr: tr, st: NewStyles(true)}
	sh.wiz.Region = sh.defaultRegion()
	sh.wiz.Method = "phone"
	a := &App{sh: sh, screens: map[flows.Step]Screen{}, help: help.New()}
	a.help.Styles = sh.st.Help
	first := flows.StepWelcome
	if opts.Hub {
		first = flows.StepHub
	}
	a.history = []flows.Step{first}
	a.screens[first] = a.newScreen(first)
	return a
}

// Finished reports whether the person went through to the end.
func (a *App) Finished() bool { return a.finished }

// Lang is the language the person chose.
func (a *App) Lang() string { return a.sh.tr.Lang() }

// Current is the step shown.
func (a *App) Current() flows.Step { return a.history[len(a.history)-1] }

func (a *App) current() Screen { return a.screens[a.Current()] }

// Init implements tea.Model. What the welcome screen shows starts here
// (the saved progress decides whether it offers to resume), and the
// device's few small reads, whose id every call to the service needs;
// opening the service waits until the first frame is out
// (firstFrameShownMsg).
func (a *App) Init() tea.Cmd {
	var kiosk tea.Cmd
	if a.sh.opts.Kiosk != nil {
		a.kiosk.lastKey = a.sh.now()
		kiosk = kioskTick()
	}
	return tea.Batch(
		kiosk,
		a.current().Init(),
		tea.RequestBackgroundColor,
		loadProgressCmd(a.sh.deps.Progress),
		readLockCmd(a.sh.deps.Sessions),
		readDeviceCmd(a.sh.deps.System, a.sh.deps.DeviceID),
		tea.Tick(afterFirstFrame, func(time.Time) tea.Msg { return firstFrameShownMsg{} }),
	)
}

// afterFirstFrame is when the service opens (SQLite, migrations). Bubble
// Tea draws the first frame at its renderer's first tick (1/60 s after the
// start); begun at once, opening the service competed with the first frame
// for the CPU. Calls to the service made earlier wait for it
// (lazyHandler).
const afterFirstFrame = 40 * time.Millisecond

// newScreen builds the screen of a step.
func (a *App) newScreen(s flows.Step) Screen {
	sh := a.sh
	switch s {
	case flows.StepWelcome:
		return newWelcomeScreen(sh)
	case flows.StepRequirements:
		return newStepScreen(sh, flows.StepRequirements, sh.requirementsStep)
	case flows.StepDevice:
		return newStepScreen(sh, flows.StepDevice, sh.deviceStep)
	case flows.StepAccount:
		return newStepScreen(sh, flows.StepAccount, sh.accountStep)
	case flows.StepCreate:
		return newCreateScreen(sh)
	case flows.StepCode:
		return newCodeScreen(sh, flows.StepCode)
	case flows.StepSignIn:
		return newStepScreen(sh, flows.StepSignIn, sh.signInStep)
	case flows.StepReset:
		return newStepScreen(sh, flows.StepReset, sh.resetStep)
	case flows.StepResetCode:
		return newResetCodeScreen(sh)
	case flows.StepSync:
		return newSyncScreen(sh)
	case flows.StepFindDevice:
		return newStepScreen(sh, flows.StepFindDevice, sh.findDeviceStep)
	case flows.StepSummary:
		return newStepScreen(sh, flows.StepSummary, sh.summaryStep)
	case flows.StepHub:
		return newHubScreen(sh)
	case flows.StepHandoff:
		return newStepScreen(sh, flows.StepHandoff, sh.handoffStep)
	case flows.StepRestore:
		return newRestoreScreen(sh)
	}
	// flows.StepTroubleshoot: opened on top of the step it was asked from.
	return newDiagnoseScreen(sh, a.diagnoseEntry())
}

// diagnoseEntry is what troubleshooting starts from: the step under it in
// the history, the last failed sign-in, and misetup's dirs.
func (a *App) diagnoseEntry() diagnoseEntry {
	from := flows.StepWelcome
	if n := len(a.history); n >= 2 && a.history[n-1] == flows.StepTroubleshoot {
		from = a.history[n-2]
	}
	sh := a.sh
	return diagnoseEntry{From: from, SignIn: sh.wiz.LastSignIn, CacheDir: sh.deps.CacheDir, StateDir: sh.deps.StateDir}
}

// Update implements tea.Model.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if a.sh.opts.Kiosk != nil {
		if cmd, ok := a.kioskUpdate(msg); ok {
			return a, cmd
		}
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.sh.width, a.sh.height = msg.Width, msg.Height
		a.help.SetWidth(a.sh.bodyWidth())
		return a, a.broadcast(msg)
	case tea.BackgroundColorMsg:
		a.sh.st = NewStyles(msg.IsDark())
		a.sh.stGen++
		a.help.Styles = a.sh.st.Help
		return a, a.broadcast(stylesChangedMsg{})
	case tea.KeyPressMsg:
		return a, a.key(msg)
	case firstFrameShownMsg:
		return a, startServiceCmd(a.sh.ctx, a.sh.deps.Start)
	case tea.PasteMsg:
		if a.confirmQuit || a.showHelp {
			return a, nil
		}
		return a, a.toCurrent(msg)
	case navigateMsg:
		if msg.from != a.Current() {
			return a, nil // asked by a screen no longer shown
		}
		return a, a.navigate(msg.to, msg.reset)
	case backMsg:
		return a, a.back()
	case registerAgainMsg:
		if msg.from != a.Current() {
			return a, nil
		}
		nav := a.navigate(flows.StepCreate, false)
		return a, tea.Batch(nav, a.toCurrent(msg))
	case quitMsg:
		a.finished, a.quitting = true, true
		a.sh.wiz.Finished = true
		return a, tea.Sequence(a.saveProgress(), tea.Quit)
	case languageChangedMsg:
		a.sh.setLanguage(msg.lang)
		return a, a.broadcast(msg)
	case progressLoadedMsg:
		a.progressLoaded = true
		a.sh.wiz.CheckingSaved = msg.ok && msg.p.Step != flows.StepWelcome.String()
		if msg.ok {
			p := msg.p
			a.sh.wiz.Resume = &p
			if lang := language(a.sh.opts, p.Lang); lang != a.sh.tr.Lang() {
				// Back in the language chosen in the saved run.
				a.sh.setLanguage(lang)
				return a, tea.Batch(restoreSessionCmd(a.sh), a.broadcast(msg), a.broadcast(languageChangedMsg{lang: lang}))
			}
		}
		return a, tea.Batch(restoreSessionCmd(a.sh), a.broadcast(msg))
	case lockReadMsg:
		a.sh.wiz.Locked = msg.info
		return a, nil
	case sessionRestoredMsg:
		a.sh.wiz.CheckingSaved = false
		if msg.ok {
			acc := msg.account
			a.sh.wiz.Account = &acc
		}
		a.offerResume(msg.ok)
		return a, a.broadcast(msg)
	case deviceReadMsg:
		if a.sh.wiz.Device == (flows.DeviceInfo{}) {
			a.sh.wiz.Device = msg.info
			if n := a.sh.defaults().DeviceName; n != "" {
				a.sh.wiz.Device.Name = n
			}
		}
		a.sh.wiz.DeviceID = msg.id
		if a.sh.wiz.Network == "" {
			a.sh.wiz.Network, a.sh.wiz.Iface = msg.network, msg.iface
		}
		return a, a.broadcast(msg)
	case resumeMsg:
		return a, a.resume(msg.to)
	case startOverMsg:
		return a, a.startOver()
	case progressSavedMsg:
		a.saveErr = msg.err
		return a, nil
	case registeredMsg:
		if msg.err == nil { // the code screen asks for this one, afresh
			ch := msg.challenge
			a.sh.wiz.Challenge, a.sh.wiz.Code = &ch, newCodeState()
		}
		return a, tea.Batch(a.rememberChallenge(msg.challenge, msg.err), a.broadcast(msg))
	case resetRequestedMsg:
		if msg.err == nil { // the reset's code screen asks for this one, afresh
			ch := msg.challenge
			a.sh.wiz.ResetChallenge, a.sh.wiz.ResetCode = &ch, newCodeState()
		}
		return a, tea.Batch(a.rememberChallenge(msg.challenge, msg.err), a.broadcast(msg))
	}
	return a, a.broadcast(msg)
}

// setLanguage speaks lang from now on; the phone's country follows it
// unless the store set one.
func (sh *shared) setLanguage(lang string) {
	sh.tr = assets.MustLoad(lang)
	sh.wiz.Region = sh.defaultRegion()
}

// rememberChallenge keeps the id of a challenge the service just sent in
// the state dir, so the code diagnosis and `misetup doctor` find it after a
// restart. It is only for them: a failed write is not worth an error.
func (a *App) rememberChallenge(ch api.Challenge, err error) tea.Cmd {
	dir := a.sh.deps.StateDir
	if err != nil || dir == "" || ch.ID == "" {
		return nil
	}
	now := a.sh.now()
	return func() tea.Msg {
		_ = flows.RememberChallenge(dir, ch, now)
		return nil
	}
}

// offerResume decides, once the saved progress and session are known,
// whether the welcome screen offers to resume, and where to.
func (a *App) offerResume(signedIn bool) {
	w := &a.sh.wiz
	if a.Current() != flows.StepWelcome || (w.Resume == nil && !signedIn) {
		w.Resume = nil // moved on already, or nothing saved
		return
	}
	var p flows.Progress
	if w.Resume != nil {
		p = *w.Resume
	}
	w.ResumeStep = flows.ResumeStep(p, signedIn)
	if w.ResumeStep == flows.StepRequirements {
		w.Resume = nil // the same as starting: nothing worth offering
		return
	}
	w.Resume = &p
}

// key handles the global keys, then hands the key to the shown screen.
func (a *App) key(msg tea.KeyPressMsg) tea.Cmd {
	if a.confirmQuit {
		switch {
		case isKey(msg, "y", "Y", kEnter, kCtrlC):
			a.quitting = true
			return tea.Sequence(a.saveProgress(), tea.Quit)
		case isKey(msg, "n", "N", kEsc):
			a.confirmQuit = false
		}
		return nil
	}
	if isKey(msg, kCtrlC) {
		if a.Current().InFlow() {
			a.confirmQuit, a.showHelp = true, false
			return nil
		}
		a.quitting = true
		return tea.Sequence(a.saveProgress(), tea.Quit)
	}
	if isKey(msg, kCtrlT) {
		// Troubleshooting is one key away from every screen, text fields
		// included (a ctrl key is never typed text).
		if a.Current() == flows.StepTroubleshoot {
			return nil
		}
		return a.navigate(flows.StepTroubleshoot, false)
	}
	if a.showHelp {
		if isKey(msg, "?", kEsc, "q") {
			a.showHelp = false
		}
		return nil
	}
	tc, captures := a.current().(textCapturer)
	if isKey(msg, "?") && (!captures || !tc.CapturesText()) {
		a.showHelp = true
		return nil
	}
	if isKey(msg, kEsc) {
		if bb, ok := a.current().(backBlocker); !ok || !bb.HandlesBack() {
			return a.back()
		}
	}
	return a.toCurrent(msg)
}

func (a *App) toCurrent(msg tea.Msg) tea.Cmd {
	s, cmd := a.current().Update(msg)
	a.screens[a.Current()] = s
	return cmd
}

// broadcast hands a message to every live screen.
func (a *App) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for step, s := range a.screens {
		s, cmd := s.Update(msg)
		a.screens[step] = s
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// navigate shows step to, keeping the screens already built (with their
// answers). Going to a step already in the history goes back to it.
// Troubleshooting is the exception: it opens on top of the step it is asked
// from (esc goes back there), built afresh each time, since it diagnoses
// the state of now.
func (a *App) navigate(to flows.Step, reset bool) tea.Cmd {
	switch {
	case reset:
		a.history = []flows.Step{to}
	case to == flows.StepTroubleshoot:
		a.history = append(slices.DeleteFunc(a.history, func(s flows.Step) bool { return s == to }), to)
	default:
		if i := indexOf(a.history, to); i >= 0 {
			a.history = a.history[:i+1]
		} else {
			a.history = append(a.history, to)
		}
	}
	if to == flows.StepTroubleshoot {
		delete(a.screens, to)
	}
	s, ok := a.screens[to]
	if !ok {
		s = a.newScreen(to)
		a.screens[to] = s
	}
	a.showHelp = false
	var cmds []tea.Cmd
	if a.sh.width > 0 {
		s, _ = s.Update(tea.WindowSizeMsg{Width: a.sh.width, Height: a.sh.height})
	}
	s, _ = s.Update(stylesChangedMsg{})
	a.screens[to] = s
	cmds = append(cmds, s.Init(), a.saveProgress())
	return tea.Batch(cmds...)
}

// back shows the previous step, as it was left.
func (a *App) back() tea.Cmd {
	if len(a.history) < 2 {
		return nil
	}
	a.history = a.history[:len(a.history)-1]
	return tea.Batch(a.current().Init(), a.saveProgress())
}

// resume jumps to a saved step with the saved answers; the steps before it
// are built too, so esc walks back as if the person had come that way.
func (a *App) resume(to flows.Step) tea.Cmd {
	w := &a.sh.wiz
	if p := w.Resume; p != nil {
		w.Finished = p.Finished
		if p.Method != "" {
			w.Method = p.Method
		}
		w.Identifier = p.Identifier
		if p.Region != "" {
			w.Region = p.Region
		}
		if p.Device.Name != "" {
			w.Device = p.Device
		}
		if p.ChallengeID != "" && to == flows.StepCode {
			// The code screen reads the challenge again when it starts.
			w.Challenge = &api.Challenge{ID: p.ChallengeID, State: api.ChallengePending}
		}
	}
	w.Resume = nil
	if to == flows.StepSummary && w.Finished && a.sh.hubReady() {
		// Set up already: what there is to do now is in the hub.
		return a.navigate(flows.StepHub, true)
	}
	path := flows.PathTo(to)
	if w.Account != nil {
		path = signedInPath(to)
	}
	a.history = path[:len(path)-1]
	if len(a.history) == 0 {
		return a.navigate(to, true)
	}
	for _, s := range a.history {
		if _, ok := a.screens[s]; !ok {
			a.screens[s] = a.newScreen(s)
		}
	}
	return a.navigate(to, false)
}

// hubReady reports whether the account hub can open: signed in, with its
// calls wired.
func (sh *shared) hubReady() bool { return sh.wiz.Account != nil && sh.deps.Manager != nil }

// signedInPath is the history after signing in: no way back into the
// sign-in screens.
func signedInPath(to flows.Step) []flows.Step {
	switch to {
	case flows.StepRestore:
		return []flows.Step{flows.StepSync, flows.StepRestore}
	case flows.StepFindDevice:
		return []flows.Step{flows.StepSync, flows.StepFindDevice}
	case flows.StepSummary:
		return []flows.Step{flows.StepSync, flows.StepFindDevice, flows.StepSummary}
	}
	return []flows.Step{flows.StepSync}
}

// startOver forgets the saved progress and session.
func (a *App) startOver() tea.Cmd {
	a.sh.wiz.Resume = nil
	a.sh.wiz.Account = nil
	if a.sh.deps.Accounts != nil {
		a.sh.deps.Accounts.SetToken("")
	}
	ps, ss := a.sh.deps.Progress, a.sh.deps.Sessions
	return func() tea.Msg {
		if ps != nil {
			_ = ps.ClearProgress()
		}
		if ss != nil {
			_ = ss.ClearToken()
		}
		return nil
	}
}

// saveProgress saves where the wizard is and the answers so far: never a
// password, a code or a token.
func (a *App) saveProgress() tea.Cmd {
	if !a.progressLoaded && a.Current() == flows.StepWelcome {
		return nil // do not overwrite a saved progress not read yet
	}
	if a.sh.wiz.Resume != nil && a.Current() == flows.StepWelcome {
		return nil // the offer to resume is still open
	}
	w := a.sh.wiz
	p := flows.Progress{
		Step: a.Current().String(), Lang: a.sh.tr.Lang(), Method: w.Method,
		Identifier: w.Identifier, Region: w.Region, Device: w.Device, SavedAt: a.sh.now(),
		Finished: w.Finished,
	}
	if a.Current() == flows.StepTroubleshoot && len(a.history) > 1 {
		p.Step = a.history[len(a.history)-2].String()
	}
	if w.Challenge != nil && w.Challenge.State != "verified" {
		p.ChallengeID = w.Challenge.ID
	}
	return saveProgressCmd(a.sh.deps.Progress, p)
}

// View implements tea.Model.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.WindowTitle = "misetup"
	return v
}

// tooSmall is the frame of a window smaller than the wizard needs: what
// size it needs, said as fully as the window holds, never drawn past it.
func (a *App) tooSmall(w, h int) string {
	sh := a.sh
	var msg string
	for _, key := range []string{"app.too_small", "app.too_small_short"} {
		msg = lipgloss.NewStyle().Width(max(w-2, 1)).Align(lipgloss.Center).
			Render(sh.T(key, "w", minWidth, "h", minHeight, "cw", w, "ch", h))
		if lipgloss.Height(msg) <= h {
			break
		}
	}
	lines := strings.Split(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, msg), "\n")
	for i, l := range lines[:min(h, len(lines))] {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines[:min(h, len(lines))], "\n")
}

// render draws the whole frame: header, body, footer.
func (a *App) render() string {
	sh := a.sh
	w, h := sh.width, sh.height
	if w == 0 && h == 0 {
		w, h = designWidth, 24 // before the first size arrives
	}
	if w < minWidth || h < minHeight {
		return a.tooSmall(w, h)
	}
	bw := sh.bodyWidth()
	pad := strings.Repeat(" ", marginX)

	step := a.Current()
	title := sh.T("step." + step.String() + ".title")
	if t, ok := a.current().(titler); ok && t.Title() != "" {
		title = t.Title()
	}
	header := title
	if n := step.Number(); n > 0 {
		header = sh.T("app.step", "n", n, "m", flows.StepsTotal) + " · " + title
	}
	header = sh.st.Header.Render(truncate(header, bw))
	rule := sh.st.Rule.Render(strings.Repeat("─", bw))

	var body string
	kiosk := ""
	if sh.opts.Kiosk != nil {
		kiosk = a.kioskView()
	}
	switch {
	case kiosk != "":
		body = kiosk
	case a.confirmQuit:
		body = a.quitView()
	case a.showHelp:
		body = a.fullHelpView()
	default:
		body = a.current().View()
	}
	footer := a.footer(bw, body)

	bodyH := sh.bodyHeight()
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	if len(lines) > bodyH {
		// A short window: blank lines go first, then the tail is cut.
		lines = dropBlankLines(lines, len(lines)-bodyH)
	}
	if len(lines) > bodyH {
		lines = append(lines[:bodyH-1], sh.st.Muted.Render("…"))
	}
	for len(lines) < bodyH {
		lines = append(lines, "")
	}
	var b strings.Builder
	b.WriteString(pad + header + "\n")
	b.WriteString(pad + rule + "\n")
	for _, l := range lines {
		if l != "" {
			b.WriteString(pad + l)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n" + pad + footer)
	return b.String()
}

// footer is the line of keys that work now: the screen's, then the global
// ones, in that order. When they do not all fit, the line keeps help, quit
// and every key the body's text names ("press esc to…": a key the screen
// asks for is never left out), then as many as fit of, in this order: the
// screen's first key, troubleshooting, back, and the screen's other keys.
func (a *App) footer(width int, body string) string {
	keys := a.footerKeys()
	text := ansi.Strip(body)
	var memo strings.Builder
	fmt.Fprintf(&memo, "%d %d", width, a.sh.stGen)
	for i, k := range keys {
		if mentionsKey(text, k.b.Help().Key) {
			keys[i].rank = rankAlways
		}
		fmt.Fprintf(&memo, "\x00%d %t\x00%s\x00%s", keys[i].rank, k.b.Enabled(), k.b.Help().Key, k.b.Help().Desc)
	}
	// The same keys at the same width make the same footer: most keys
	// (typing in a field) change neither, and fitting it is half the work
	// of a frame.
	if memo.String() == a.footerMemo[0] {
		return a.footerMemo[1]
	}
	view := a.fitFooter(width, keys)
	a.footerMemo = [2]string{memo.String(), view}
	return view
}

// fitFooter lays the footer's keys out in width: the screen's first key
// and those its text names always, then the others by rank while they fit.
func (a *App) fitFooter(width int, keys []footerKey) string {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return keys[i].rank - keys[j].rank })
	h := a.help
	h.SetWidth(0) // measure untruncated
	shown := make([]bool, len(keys))
	line := func() []key.Binding {
		var bs []key.Binding
		for i, k := range keys {
			if shown[i] {
				bs = append(bs, k.b)
			}
		}
		return bs
	}
	for _, i := range order {
		shown[i] = true
		if keys[i].rank == rankAlways || lipgloss.Width(h.ShortHelpView(line())) <= width {
			continue
		}
		shown[i] = false
		if keys[i].rank > rankBack {
			break // the screen's later keys show in order: none after one left out
		}
	}
	h.SetWidth(width)
	return h.ShortHelpView(line())
}

// mentionsKey reports whether text names the key k (a footer key such as
// "esc", "r" or "tab/↓") as a word of its own: "press esc to go back",
// "按 r 重试".
func mentionsKey(text, k string) bool {
	for _, name := range strings.Split(k, "/") {
		for i := 0; ; {
			j := strings.Index(text[i:], name)
			if j < 0 || name == "" {
				break
			}
			j += i
			before, _ := utf8.DecodeLastRuneInString(text[:j])
			after, _ := utf8.DecodeRuneInString(text[j+len(name):])
			// A one-letter key counts only after "press" (or 按): "a" and
			// "n" are words too.
			pressed := len(name) > 1 || strings.HasSuffix(strings.ToLower(text[:j]), "press ") || strings.HasSuffix(text[:j], "按 ")
			if pressed && !isWordRune(before) && !isWordRune(after) {
				return true
			}
			i = j + len(name)
		}
	}
	return false
}

// isWordRune reports whether r can be part of a Latin word (utf8.RuneError,
// the start or end of the text, cannot).
func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') && r < unicode.MaxLatin1
}

// footerKey is a key of the footer with its precedence (rank: lower stays
// longer when the line is too long).
type footerKey struct {
	b    key.Binding
	rank int
}

// Ranks of the footer's keys; the screen's keys after the first rank
// after rankBack, in their order.
const (
	rankAlways = iota // help and quit
	rankScreen        // the screen's first key
	rankTroubleshoot
	rankBack
)

// footerKeys are the keys that work now, in the footer's order: the
// screen's, then the global ones.
func (a *App) footerKeys() []footerKey {
	sh := a.sh
	if sh.opts.Kiosk != nil {
		if ks := a.kioskKeys(); ks != nil {
			keys := make([]footerKey, len(ks))
			for i, k := range ks {
				keys[i] = footerKey{k, rankAlways}
			}
			return keys
		}
	}
	if a.confirmQuit {
		return []footerKey{{sh.bind("y", "key.quit_yes", "y"), rankAlways}, {sh.bind("n", "key.quit_no", "n"), rankAlways}}
	}
	if a.showHelp {
		return []footerKey{{sh.bind("?/esc", "key.close_help", "?", kEsc), rankAlways}}
	}
	var keys []footerKey
	for i, b := range a.current().Keys() {
		rank := rankScreen
		if i > 0 {
			rank = rankBack + i
		}
		keys = append(keys, footerKey{b, rank})
	}
	if bb, ok := a.current().(backBlocker); len(a.history) > 1 && (!ok || !bb.HandlesBack()) {
		keys = append(keys, footerKey{sh.keyBack(), rankBack})
	}
	if a.Current() != flows.StepTroubleshoot {
		keys = append(keys, footerKey{sh.keyTroubleshoot(), rankTroubleshoot})
	}
	return append(keys, footerKey{sh.keyHelp(), rankAlways}, footerKey{sh.keyQuit(), rankAlways})
}

func (a *App) fullHelpView() string {
	sh := a.sh
	global := []key.Binding{sh.keyContinue(), sh.keyNextField(), sh.keyPrevField()}
	if len(a.history) > 1 {
		global = append(global, sh.keyBack())
	}
	if a.Current() != flows.StepTroubleshoot {
		global = append(global, sh.keyTroubleshoot())
	}
	global = append(global, sh.keyHelp(), sh.keyQuit())
	h := a.help
	h.ShowAll = true
	var b strings.Builder
	b.WriteString(sh.st.Title.Render(sh.T("help.title")) + "\n\n")
	if keys := a.current().Keys(); len(keys) > 0 {
		b.WriteString(sh.st.Muted.Render(sh.T("help.this_screen")) + "\n")
		b.WriteString(h.FullHelpView([][]key.Binding{keys}) + "\n\n")
	}
	b.WriteString(sh.st.Muted.Render(sh.T("help.everywhere")) + "\n")
	b.WriteString(h.FullHelpView([][]key.Binding{global}) + "\n\n")
	b.WriteString(sh.paragraph(sh.st.Muted, sh.T("help.text_fields"), 0))
	return b.String()
}

func (a *App) quitView() string {
	sh := a.sh
	text := sh.st.Title.Render(sh.T("quit.title")) + "\n\n" +
		sh.wrapBox(sh.T("quit.body")) + "\n\n" +
		sh.st.Key.Render("y") + " " + sh.T("key.quit_yes") + "   " + sh.st.Key.Render("n") + " " + sh.T("key.quit_no")
	return sh.st.Box.Width(sh.bodyWidth()).Render(text)
}

// dropBlankLines removes up to n blank lines, the last ones first.
func dropBlankLines(lines []string, n int) []string {
	out := append([]string{}, lines...)
	for i := len(out) - 1; i >= 0 && n > 0; i-- {
		if strings.TrimSpace(ansi.Strip(out[i])) == "" {
			out = append(out[:i], out[i+1:]...)
			n--
		}
	}
	return out
}

func indexOf(h []flows.Step, s flows.Step) int {
	for i, x := range h {
		if x == s {
			return i
		}
	}
	return -1
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func truncate(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r))+1 > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// ExitMessage is the line printed after the wizard ends: done, or where the
// progress was saved. "" when nothing needs saying.
func (a *App) ExitMessage() string {
	switch {
	case a.finished:
		return a.sh.T("exit.done")
	case a.quitting && a.Current().InFlow():
		return a.sh.T("exit.saved")
	}
	return ""
}
