package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"misetup/assets"
	"misetup/flows"
)

// welcomeScreen is step 1: the language, what the wizard will do, the keys,
// and the offer to resume a saved run.
type welcomeScreen struct {
	sh    *shared
	langs []string // tags
	names []string // each language in its own words
	lang  int

	waiting bool // saved progress found, session being checked
	spin    spinner.Model
}

func newWelcomeScreen(sh *shared) *welcomeScreen {
	s := &welcomeScreen{sh: sh, langs: assets.Languages(), spin: newSpinner(sh)}
	for i, l := range s.langs {
		s.names = append(s.names, assets.Name(l))
		if l == sh.tr.Lang() {
			s.lang = i
		}
	}
	return s
}

// Init implements Screen.
func (s *welcomeScreen) Init() tea.Cmd { return nil }

// Update implements Screen.
func (s *welcomeScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case progressLoadedMsg:
		if msg.ok && msg.p.Step != flows.StepWelcome.String() {
			s.waiting = true
			s.syncLang()
			return s, s.spin.Tick
		}
		s.syncLang()
	case sessionRestoredMsg:
		s.waiting = false
	case languageChangedMsg, stylesChangedMsg:
		s.spin.Style = s.sh.st.Spinner
	case tea.KeyPressMsg:
		return s, s.key(msg)
	}
	return s, spin(&s.spin, s.waiting, msg)
}

func (s *welcomeScreen) syncLang() {
	for i, l := range s.langs {
		if l == s.sh.tr.Lang() {
			s.lang = i
		}
	}
}

func (s *welcomeScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	resume := s.sh.wiz.Resume != nil && !s.waiting
	switch {
	case isKey(msg, kLeft, kRight, kUp, kDown, kTab, kShiftTab, kSpace):
		d := 1
		if isKey(msg, kLeft, kUp, kShiftTab) {
			d = -1
		}
		s.lang = (s.lang + d + len(s.langs)) % len(s.langs)
		lang := s.langs[s.lang]
		return func() tea.Msg { return languageChangedMsg{lang: lang} }
	case isKey(msg, kEnter):
		if resume {
			to := s.sh.wiz.ResumeStep
			return func() tea.Msg { return resumeMsg{to: to} }
		}
		s.sh.wiz.Resume, s.waiting = nil, false
		return navigateCmd(flows.StepWelcome, flows.StepRequirements)
	case isKey(msg, "n", "N") && resume:
		return func() tea.Msg { return startOverMsg{} }
	}
	return nil
}

// Keys implements Screen.
func (s *welcomeScreen) Keys() []key.Binding {
	sh := s.sh
	// The way on first: a narrow footer keeps the first key.
	lang := sh.bind("←/→", "key.language", kLeft, kRight)
	if sh.wiz.Resume != nil && !s.waiting {
		return []key.Binding{sh.bind("enter", resumeOffer(sh).enterKey, kEnter), sh.bind("n", "key.start_over", "n"), lang}
	}
	return []key.Binding{sh.keyContinue(), lang}
}

// View implements Screen.
func (s *welcomeScreen) View() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.st.Title.Render(sh.T("welcome.heading")) + "\n\n")
	lw := labelWidth(sh.T("welcome.language"))
	b.WriteString(sh.withNote(sh.fieldLine(sh.T("welcome.language"), lw, true, sh.choiceView(s.names, s.lang, true)), sh.langByStore(s.langs[s.lang])) + "\n\n")
	b.WriteString(sh.paragraph(sh.st.Text, sh.T("welcome.intro", "m", flows.StepsTotal), 0) + "\n")
	if l := sh.wiz.Locked; l != nil && sh.wiz.Resume == nil {
		// The owner's message takes the place of the step list.
		b.WriteString("\n" + sh.st.Box.Width(sh.bodyWidth()).Render(sh.lockedText(*l)) + "\n\n")
		b.WriteString(sh.paragraph(sh.st.Muted, sh.T("welcome.keys"), 0))
		return b.String()
	}
	if sh.wiz.Resume != nil && !s.waiting {
		// The offer takes the place of the step list and the keys.
		b.WriteString("\n" + s.resumeView())
		return b.String()
	}
	b.WriteString(s.stepList() + "\n\n")
	b.WriteString(sh.paragraph(sh.st.Muted, sh.T("welcome.keys"), 0))
	if s.waiting {
		b.WriteString("\n\n" + sh.busyLine(s.spin, sh.T("welcome.checking_saved")))
	}
	return b.String()
}

// lockedText says that the owner locked this device, with their message:
// signing in again unlocks it.
func (sh *shared) lockedText(l flows.LockInfo) string {
	text := sh.st.Warn.Render(sh.T("lock.title")) + "\n"
	if l.Message != "" {
		text += sh.st.Value.Render("“"+flows.CleanText(l.Message)+"”") + "\n"
	}
	return text + sh.wrapBox(sh.T("lock.body", "time", l.At.In(sh.now().Location()).Format("2006-01-02 15:04")))
}

// stepList lists the steps in two columns.
func (s *welcomeScreen) stepList() string {
	sh := s.sh
	steps := []flows.Step{flows.StepWelcome, flows.StepRequirements, flows.StepDevice, flows.StepAccount,
		flows.StepCreate, flows.StepSync, flows.StepFindDevice, flows.StepSummary}
	names := make([]string, len(steps))
	for i, st := range steps {
		key := "step." + st.String() + ".title"
		if st == flows.StepCreate {
			key = "welcome.step_account"
		}
		names[i] = fmt.Sprintf("%d. %s", i+1, sh.T(key))
	}
	half := (len(names) + 1) / 2
	colW := labelWidth(names[:half]...) + 1
	if 2+colW+labelWidth(names[half:]...) > sh.bodyWidth() {
		return "  " + strings.Join(names, "\n  ")
	}
	var b strings.Builder
	for i := range half {
		b.WriteString("  " + sh.st.Text.Render(padRight(names[i], colW)))
		if i+half < len(names) {
			b.WriteString(sh.st.Text.Render(names[i+half]))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *welcomeScreen) resumeView() string {
	sh := s.sh
	o := resumeOffer(sh)
	text := sh.st.Title.Render(o.title) + "\n" +
		sh.wrapBox(strings.Join(o.lines, "\n")) + "\n" +
		sh.st.Key.Render("enter") + " " + sh.T(o.enterKey) + "   " + sh.st.Key.Render("n") + " " + sh.T("key.start_over")
	return sh.st.Box.Width(sh.bodyWidth()).Render(text)
}

// offer is what the welcome says about a saved run, in both renderings:
// a title, its lines, and what going on does (enterKey, a key.* text; the
// question of plain mode is question).
type offer struct {
	title    string
	lines    []string
	enterKey string
	question string
}

// resumeOffer describes the saved run of sh.wiz.Resume: an interrupted
// one (where it stopped, as whom), or a finished set-up, which is not an
// interruption: it is offered for review.
func resumeOffer(sh *shared) offer {
	p := sh.wiz.Resume
	to := sh.wiz.ResumeStep
	var who string
	switch {
	case sh.wiz.Account != nil:
		who = flows.CleanText(accountLabel(*sh.wiz.Account))
	case p != nil:
		who = flows.CleanText(p.Identifier)
	}
	if p != nil && p.Finished && sh.hubReady() {
		return offer{
			title:    sh.T("welcome.done_title"),
			lines:    []string{sh.T("welcome.done", "id", who)},
			enterKey: "key.hub", question: sh.T("welcome.done_hub_q"),
		}
	}
	if p != nil && p.Finished && sh.wiz.Account != nil {
		return offer{
			title:    sh.T("welcome.done_title"),
			lines:    []string{sh.T("welcome.done", "id", who)},
			enterKey: "key.review", question: sh.T("welcome.done_q"),
		}
	}
	where := sh.T("app.step", "n", to.Number(), "m", flows.StepsTotal) + " · " + sh.T("step."+to.String()+".title")
	var lines []string
	switch {
	case sh.wiz.Account != nil:
		lines = append(lines, sh.T("welcome.resume_signed_in", "id", who))
	case who != "":
		lines = append(lines, sh.T("welcome.resume_as", "id", who))
	}
	lines = append(lines, sh.T("welcome.resume", "where", where))
	return offer{title: sh.T("welcome.resume_title"), lines: lines, enterKey: "key.resume", question: sh.T("acc.resume_q")}
}

// wrapBox wraps text for the inside of a Box.
func (sh *shared) wrapBox(text string) string {
	w := sh.bodyWidth() - sh.st.Box.GetHorizontalFrameSize()
	var out []string
	for _, l := range strings.Split(text, "\n") {
		out = append(out, sh.st.Text.Render(wordwrap(l, w)))
	}
	return strings.Join(out, "\n")
}
