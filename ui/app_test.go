package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

func TestEscGoesBackWithAnswersKept(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.createByEmail("ann@example.com")
	h.keys("esc")
	if h.app.Current() != flows.StepAccount {
		t.Fatalf("esc went to %v, want the account choice", h.app.Current())
	}
	h.keys("c")
	_, cmd := h.app.Update(press("c"))
	h.send(cmd())
	if h.app.Current() != flows.StepCreate {
		t.Fatalf("c went to %v, want create account", h.app.Current())
	}
	if s := h.screen(); !strings.Contains(s, "ann@example.com") || !strings.Contains(s, "(•) Email address") {
		t.Fatalf("answers lost after esc and back:\n%s", s)
	}
	for range 10 {
		h.keys("esc")
	}
	if h.app.Current() != flows.StepWelcome {
		t.Fatalf("esc all the way back ended at %v", h.app.Current())
	}
}

func TestQuitAsksInTheMiddleOfAFlow(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.keys("ctrl+c")
	if !h.app.quitting || h.app.confirmQuit {
		t.Fatalf("ctrl+c on the welcome screen: quitting=%v asking=%v, want quit at once", h.app.quitting, h.app.confirmQuit)
	}

	h = newHarness(t, 80, 24, "en")
	h.goTo(flows.StepDevice)
	h.keys("ctrl+c")
	if h.app.quitting || !strings.Contains(h.screen(), "Quit the setup?") {
		t.Fatalf("ctrl+c mid-flow did not ask:\n%s", h.screen())
	}
	h.keys("n")
	if h.app.quitting || h.app.confirmQuit || !strings.Contains(h.screen(), "This device") {
		t.Fatalf("n did not return to the step:\n%s", h.screen())
	}
	h.keys("ctrl+c", "y")
	if !h.app.quitting {
		t.Fatal("y did not quit")
	}
	if got := h.app.ExitMessage(); !strings.Contains(got, "progress is saved") {
		t.Fatalf("exit message %q", got)
	}
}

func TestQuestionMarkIsTextInAFieldAndHelpElsewhere(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.goTo(flows.StepCreate)
	h.keys("tab")       // password
	h.typeText("Why?1") // a symbol a password may well have
	if h.app.showHelp {
		t.Fatal("? in the password field opened the help")
	}
	if !strings.Contains(h.screen(), "•••••") {
		t.Fatalf("the ? was not typed:\n%s", h.screen())
	}
	h.goTo(flows.StepAccount)
	h.keys("?")
	if !h.app.showHelp || !strings.Contains(h.screen(), "Everywhere") {
		t.Fatalf("? outside a text field did not show the help:\n%s", h.screen())
	}
	h.keys("esc")
	if h.app.showHelp || h.app.Current() != flows.StepAccount {
		t.Fatalf("esc should close the help and stay: help=%v step=%v", h.app.showHelp, h.app.Current())
	}
}

func TestStaleNavigationIsIgnored(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.goTo(flows.StepSignIn)
	late := h.result(signedInOutcome("ann@example.com", api.Session{Account: api.Account{MiID: "1"}}), nil)
	h.keys("esc") // back to the welcome while a sign-in was in flight
	h.send(late)
	// The sign-in screen asks App to move on; it is no longer shown.
	h.send(navigateMsg{from: flows.StepSignIn, to: flows.StepSync, reset: true})
	if h.app.Current() != flows.StepWelcome {
		t.Fatalf("a late answer moved the wizard to %v", h.app.Current())
	}
}

func TestLanguageSwitchOnWelcome(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	_, cmd := h.app.Update(press("right"))
	if cmd == nil {
		t.Fatal("no language change")
	}
	h.send(cmd())
	if s := h.screen(); !strings.Contains(s, "设置您的小米账号") || !strings.Contains(s, "第 1 步，共 8 步") {
		t.Fatalf("screen not in Chinese:\n%s", s)
	}
	if h.app.Lang() != "zh-CN" {
		t.Fatalf("lang %q", h.app.Lang())
	}
}

func TestRequirementsFailureBlocks(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.goTo(flows.StepRequirements)
	h.keys("enter")
	if h.app.Current() != flows.StepRequirements {
		t.Fatal("enter continued while the checks ran")
	}
	for _, c := range flows.Checks() {
		f := flows.Finding{Check: c, Level: flows.LevelOK, Msg: flows.T("check.version.ok", "version", "1")}
		if c == flows.CheckClock {
			f.Level, f.Msg = flows.LevelFail, flows.T("check.clock.behind", "min", 9)
		}
		h.found(f)
	}
	h.keys("enter")
	if h.app.Current() != flows.StepRequirements {
		t.Fatal("enter continued past a failed check")
	}
	// r runs them again: a new round; a late answer of the old round is dropped.
	late := h.finding(flows.Finding{Check: flows.CheckClock, Level: flows.LevelOK})
	h.keys("r")
	h.send(late)
	if s := h.screen(); !strings.Contains(s, "checking…") {
		t.Fatalf("after r the checks should be running:\n%s", s)
	}
	for _, c := range flows.Checks() {
		h.found(flows.Finding{Check: c, Level: flows.LevelWarn, Msg: flows.T("check.network.unknown")})
	}
	h.do("enter")
	if h.app.Current() != flows.StepDevice {
		t.Fatalf("warnings should not block; at %v", h.app.Current())
	}
}

func TestWrongCodeKeepsTheScreen(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	codeSetup(h)
	h.typeText("111111")
	left := 2
	h.send(h.result(outcome{}, flows.Explain(&api.Error{Code: api.CodeInvalidCode, AttemptsLeft: &left})))
	s := h.screen()
	if h.app.Current() != flows.StepCode || !strings.Contains(s, "[ 1 1 1 1 1 1 ]") ||
		!strings.Contains(s, "2 attempts left") || !strings.Contains(s, "a***@example.com") {
		t.Fatalf("after a wrong code:\n%s", s)
	}
	h.typeText("9") // the next digit starts a new code
	if s := h.screen(); !strings.Contains(s, "[ 9 _ _ _ _ _ ]") {
		t.Fatalf("next digit did not start over:\n%s", s)
	}
}

func TestResendCountdown(t *testing.T) {
	now := t0
	h := newHarness(t, 80, 24, "en")
	h.app.sh.deps.Now = func() time.Time { return now }
	codeSetup(h)
	h.keys("tab", "enter") // resend, too early
	if h.svc.count("Resend") != 0 {
		t.Fatal("resend ran during the countdown")
	}
	if s := h.screen(); !strings.Contains(s, "Resend code in 1:00") {
		t.Fatalf("countdown not shown:\n%s", s)
	}
	now = t0.Add(45 * time.Second)
	h.send(h.tick())
	if s := h.screen(); !strings.Contains(s, "Resend code in 0:15") {
		t.Fatalf("countdown did not move:\n%s", s)
	}
	now = t0.Add(61 * time.Second)
	_, cmd := h.app.Update(press("enter"))
	if cmd == nil {
		t.Fatal("resend after the countdown did nothing")
	}
	if s := h.screen(); !strings.Contains(s, "Sending a new code") {
		t.Fatalf("resend shows no progress:\n%s", s)
	}
}

func TestProgressNeverHoldsSecrets(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.createByEmail("ann@example.com")
	h.keys("tab")
	h.typeText("Tr1cky#Pass")
	h.send(registeredMsg{challenge: h.svc.challenge(api.PurposeRegistration)})
	_, cmd := h.app.Update(navigateMsg{from: flows.StepCreate, to: flows.StepCode})
	runAll(cmd)
	p, ok, _ := h.files.LoadProgress()
	if !ok || p.Step != "code" || p.ChallengeID != "ch-1" || p.Identifier != "ann@example.com" || p.Method != "email" {
		t.Fatalf("progress %+v", p)
	}
	if strings.Contains(h.files.String(), "Tr1cky") {
		t.Fatalf("the password reached the progress: %s", h.files)
	}
}

// runAll runs a Cmd and the Cmds of a batch it returns, dropping their
// messages (ticks time out: they only come back after their interval).
func runAll(cmd tea.Cmd) { collect(cmd, func(tea.Msg) {}) }

// collect runs cmd (and batches) and hands each message to f.
func collect(cmd tea.Cmd, f func(tea.Msg)) {
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		switch m := msg.(type) {
		case tea.BatchMsg:
			for _, c := range m {
				collect(c, f)
			}
		case nil, spinner.TickMsg, stepTickMsg:
		default:
			f(m)
		}
	case <-time.After(50 * time.Millisecond):
	}
}

// do presses keys and feeds App the messages of the Cmds they start, as the
// program would (ticks aside).
func (h *harness) do(keys ...string) {
	for _, k := range keys {
		_, cmd := h.app.Update(press(k))
		h.pump(cmd, 0)
	}
}

func (h *harness) pump(cmd tea.Cmd, depth int) {
	if depth > 10 {
		return
	}
	collect(cmd, func(m tea.Msg) {
		if _, ok := m.(tea.QuitMsg); ok {
			return
		}
		_, next := h.app.Update(m)
		h.pump(next, depth+1)
	})
}

func TestResumeOffersWhereItStopped(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.send(progressLoadedMsg{ok: true, p: flows.Progress{Step: "code", ChallengeID: "ch-9", Method: "email", Identifier: "ann@example.com"}})
	h.send(sessionRestoredMsg{})
	if s := h.screen(); !strings.Contains(s, "You stopped at Step 5 of 8 · Verification code") {
		t.Fatalf("no resume offer:\n%s", s)
	}
	_, cmd := h.app.Update(press("enter"))
	h.send(cmd())
	if h.app.Current() != flows.StepCode || h.app.sh.wiz.Challenge == nil || h.app.sh.wiz.Challenge.ID != "ch-9" {
		t.Fatalf("resumed at %v with challenge %+v", h.app.Current(), h.app.sh.wiz.Challenge)
	}
	h.keys("esc")
	if h.app.Current() != flows.StepCreate {
		t.Fatalf("esc from a resumed code screen went to %v, want create account", h.app.Current())
	}
	if !strings.Contains(h.screen(), "ann@example.com") {
		t.Fatalf("resumed answers not filled in:\n%s", h.screen())
	}
}

func TestSignedInResumeSkipsSignIn(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.send(progressLoadedMsg{ok: true, p: flows.Progress{Step: "find_device"}})
	h.send(sessionRestoredMsg{ok: true, account: api.Account{MiID: "1234567890", Email: "ann@example.com"}})
	if s := h.screen(); !strings.Contains(s, "still signed in as ann@example.com") {
		t.Fatalf("no signed-in offer:\n%s", s)
	}
	_, cmd := h.app.Update(press("enter"))
	h.send(cmd())
	if h.app.Current() != flows.StepFindDevice {
		t.Fatalf("resumed at %v", h.app.Current())
	}
	h.keys("esc")
	if h.app.Current() != flows.StepSync {
		t.Fatalf("esc went to %v, want Mi Cloud (never back into sign-in)", h.app.Current())
	}
}

func TestEveryErrorHasSentences(t *testing.T) {
	keys := append(flows.ErrorKeys(), flows.InvalidInputKeys()...)
	for _, lang := range []string{"en", "zh-CN"} {
		h := newHarness(t, 80, 24, lang)
		for _, k := range keys {
			if !h.app.sh.tr.Has(k) || !h.app.sh.tr.Has(k+".hint") {
				t.Errorf("%s: %q lacks its sentence or hint", lang, k)
			}
		}
	}
	// Any error a person can meet comes out as sentences, never Go's text.
	h := newHarness(t, 80, 24, "en")
	for _, err := range []error{
		context.DeadlineExceeded, context.Canceled, &api.Error{Code: "brand_new_code", Message: "EOF"},
		&api.Error{Code: api.CodeUnavailable, Cause: context.DeadlineExceeded},
	} {
		s := errorView(h.app.sh, err)
		if strings.Contains(s, "EOF") || strings.Contains(s, "deadline") || strings.Contains(s, "brand_new") {
			t.Errorf("error %v shown as %q", err, s)
		}
	}
}

// BenchmarkFirstFrame measures building the wizard and drawing its first
// frame (what stands between start and the welcome screen, without the
// terminal).
func BenchmarkFirstFrame(b *testing.B) {
	deps := Deps{Progress: &memFiles{}, Sessions: &memFiles{}}
	for b.Loop() {
		a := New(context.Background(), deps, Options{Lang: "en"})
		_ = a.Init()
		a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		_ = a.View()
	}
}

// BenchmarkViewCreate measures one frame of the busiest screen (create
// account, with the live checklist): View runs after every key.
func BenchmarkViewCreate(b *testing.B) {
	h := newHarness(b, 80, 24, "en")
	h.goTo(flows.StepCreate)
	h.typeText("2015550123")
	h.keys("tab")
	h.typeText("abc12345")
	for b.Loop() {
		_ = h.app.View()
	}
}

// TestTypedTextSurvivesADetour: what was typed on a step described once
// (the reset's identifier, the device's name) is still there after a
// detour through troubleshooting and a change of language.
func TestTypedTextSurvivesADetour(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.goTo(flows.StepReset)
	h.typeText("bob@example.com")
	h.keys("ctrl+t")
	if h.app.Current() != flows.StepTroubleshoot {
		t.Fatalf("ctrl+t opened %v", h.app.Current())
	}
	h.keys("esc")
	if s := h.screen(); h.app.Current() != flows.StepReset || !strings.Contains(s, "bob@example.com") {
		t.Fatalf("back from troubleshooting, the identifier typed is gone:\n%s", s)
	}
	h.send(languageChangedMsg{lang: "zh-CN"})
	if s := h.screen(); !strings.Contains(s, "bob@example.com") || !strings.Contains(s, "小米 ID") {
		t.Fatalf("after a change of language, the identifier typed is gone:\n%s", s)
	}
}
