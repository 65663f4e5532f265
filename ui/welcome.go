package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"misetup/assets"
	"misetup/flows"
)

// newWelcomeScreen is step 1: the language, what the wizard will do, the
// keys, and the offer to resume a saved run.
func newWelcomeScreen(sh *shared) *stepScreen {
	return newStepScreen(sh, flows.StepWelcome, sh.welcomeStep)
}

// welcomeStep describes the welcome: the language first (every arrow
// changes it, and the whole wizard speaks it at once), then what the
// wizard does and, in place of its steps, a saved run to resume or the
// owner's lock.
func (sh *shared) welcomeStep() *step {
	langs := assets.Languages()
	names := make([]string, len(langs))
	cur := 0
	for i, l := range langs {
		names[i] = assets.Name(l)
		if l == sh.tr.Lang() {
			cur = i
		}
	}
	resume := func() bool { return sh.wiz.Resume != nil && !sh.wiz.CheckingSaved }
	enterKey := "key.continue"
	if resume() {
		enterKey = resumeOffer(sh).enterKey
	}
	keys := func() string { return sh.paragraph(sh.st.Muted, sh.T("welcome.keys"), 0) }
	st := &step{
		body: func(int) string { return sh.st.Title.Render(sh.T("welcome.heading")) },
		fields: []field{{key: "lang", kind: fieldChoice, label: sh.T("welcome.language"), options: names,
			value: strconv.Itoa(cur), from: sh.langByStore(langs[cur]), keyHelp: "key.language",
			live: func(sh *shared, v string) { sh.setLanguage(langs[values{"lang": v}.index("lang")]) },
			emit: func(v string) tea.Msg { return languageChangedMsg{lang: langs[values{"lang": v}.index("lang")]} },
			hint: func(values) string {
				intro := sh.paragraph(sh.st.Text, sh.T("welcome.intro", "m", flows.StepsTotal), 0) + "\n"
				switch {
				case sh.wiz.Locked != nil && sh.wiz.Resume == nil:
					// The owner's message takes the place of the step list.
					return intro + "\n" + sh.st.Box.Width(sh.bodyWidth()).Render(sh.lockedText(*sh.wiz.Locked))
				case resume():
					// The offer takes the place of the step list and the keys.
					return intro + "\n" + resumeView(sh)
				}
				return intro + stepList(sh)
			}}},
		keepFoot: true, footKeys: true,
		spinning:  func() bool { return sh.wiz.CheckingSaved },
		restate:   true,
		submitKey: enterKey,
		instant:   true,
		run: func(context.Context, values) (outcome, error) {
			if resume() {
				return outcome{msg: resumeMsg{to: sh.wiz.ResumeStep}}, nil
			}
			return outcome{to: flows.StepRequirements, apply: func(sh *shared) { sh.wiz.Resume, sh.wiz.CheckingSaved = nil, false }}, nil
		},
		keys: []stepKey{{key: "n", help: "key.start_over", out: outcome{msg: startOverMsg{}}, when: resume, lead: true}},
	}
	// The keys, and the saved session being checked: not said in plain
	// mode, which has no keys and asks about a saved run itself.
	st.foot = func() string {
		switch {
		case resume():
			return ""
		case sh.wiz.CheckingSaved:
			return keys() + "\n\n" + st.frame() + " " + sh.st.Muted.Render(sh.T("welcome.checking_saved"))
		}
		return keys()
	}
	return st
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
func stepList(sh *shared) string {
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

// resumeView is the offer of a saved run, in a box.
func resumeView(sh *shared) string {
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
