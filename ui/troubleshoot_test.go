package ui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// How troubleshooting is wired into the wizard: ctrl+t from every screen,
// a fresh diagnosis each time, esc back to the step with its answers, and
// what the steps leave for the diagnoses (the last sign-in, the last
// challenge, the sync cache).

func TestCtrlTOpensTroubleshootingFromATextField(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.createByEmail("ann@example.com")
	h.keys("ctrl+t")
	if h.app.Current() != flows.StepTroubleshoot || !strings.Contains(h.screen(), "What is wrong?") {
		t.Fatalf("ctrl+t in the email field did not open troubleshooting:\n%s", h.screen())
	}
	depth := len(h.app.history)
	h.keys("ctrl+t") // already there: nothing happens
	if h.app.Current() != flows.StepTroubleshoot || len(h.app.history) != depth {
		t.Fatalf("ctrl+t on troubleshooting moved to %v (history %v)", h.app.Current(), h.app.history)
	}
	if footer := lastLine(h.screen()); strings.Contains(footer, "ctrl+t") {
		t.Errorf("troubleshooting offers itself: %q", footer)
	}
	h.keys("esc")
	if s := h.screen(); h.app.Current() != flows.StepCreate || !strings.Contains(s, "ann@example.com") {
		t.Fatalf("esc did not return to the form with its answers (at %v):\n%s", h.app.Current(), s)
	}
}

func TestTroubleshootKeyInEveryFooter(t *testing.T) {
	for _, tc := range screenCases {
		for _, w := range []int{80, 60} {
			h := newHarness(t, w, 24, tc.lang)
			tc.setup(h)
			footer := lastLine(h.screen())
			switch {
			case tc.name == "troubleshoot", tc.name == "help", tc.name == "quit_confirm":
				continue // troubleshooting itself, and the overlays with their own keys
			case w == 60 && strings.HasPrefix(tc.name, "code"):
				continue // the code screen's keys are long; "Didn't get the code?" is on screen
			case w == 60 && (tc.name == "account" || tc.name == "requirements_warn"):
				// The keys the text asks for (s and c; enter and r) take
				// the room, and they come first (TestFooterKeepsTheKeysTheTextNames); ? lists ctrl+t.
				continue
			}
			if !strings.Contains(footer, "ctrl+t") || !strings.Contains(footer, "ctrl+c") {
				t.Errorf("%s at %d columns: footer %q lacks ctrl+t or ctrl+c", tc.name, w, footer)
			}
		}
	}
}

func TestTroubleshootingIsBuiltForTheStepItIsOpenedFrom(t *testing.T) {
	fake := signedInFake()
	fake.challenge = smsFailed()
	dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
	ch := fake.challenge
	dh.app.sh.wiz.Challenge = &ch
	dh.open(diagnoseEntry{From: flows.StepCode})
	first := dh.screen()
	if _, ok := first.open.(*codeDiagnosis); !ok || !strings.Contains(dh.frame(), "could not send the code") {
		t.Fatalf("from the code screen: %T\n%s", first.open, dh.frame())
	}
	dh.key("esc")
	if dh.app.Current() != flows.StepCode {
		t.Fatalf("esc went to %v, want the code screen", dh.app.Current())
	}
	dh.open(diagnoseEntry{From: flows.StepFindDevice})
	if s := dh.screen(); s == first || s.open != nil {
		t.Fatalf("opened again from Find Device: the same screen or not the list (open %T)", s.open)
	}
}

func TestFailedSignInIsWhereTroubleshootingStarts(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.goTo(flows.StepAccount)
	h.goTo(flows.StepSignIn)
	h.typeText("ann@example.com")
	h.send(h.result(outcome{}, flows.Explain(&api.Error{Status: 423, Code: api.CodeAccountLocked, RetryAfterS: 900})))
	if a := h.app.sh.wiz.LastSignIn; a == nil || a.Identifier != "ann@example.com" || a.Err == nil {
		t.Fatalf("last sign-in %+v", a)
	}
	h.keys("ctrl+t")
	if s := h.screen(); !strings.Contains(s, "Sign-in for ann@example.com is locked") || !strings.Contains(s, "15:00") {
		t.Fatalf("troubleshooting does not start from the lock:\n%s", s)
	}
	h.keys("esc")
	h.send(h.result(signedInOutcome("ann@example.com", api.Session{Token: "tok", Account: api.Account{MiID: "1234567890"}}), nil))
	if h.app.sh.wiz.LastSignIn != nil {
		t.Fatalf("signed in, the old failure is kept: %+v", h.app.sh.wiz.LastSignIn)
	}
}

func TestChallengesAreRememberedForTheDoctor(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	dir := t.TempDir()
	h.app.sh.deps.StateDir = dir
	ch := h.svc.challenge(api.PurposeRegistration)
	steps := []struct {
		msg  tea.Msg
		want string // the id remembered after msg
	}{
		{registeredMsg{challenge: ch}, "ch-1"},
		{registeredMsg{challenge: api.Challenge{ID: "ch-2", Purpose: api.PurposeRegistration}}, "ch-2"}, // a resend says it so
		{resetRequestedMsg{challenge: api.Challenge{ID: "ch-3", Purpose: api.PurposePasswordReset}}, "ch-3"},
		{registeredMsg{err: apiErr(api.CodeRateLimited)}, "ch-3"},
	}
	for _, st := range steps {
		_, cmd := h.app.Update(st.msg)
		runAll(cmd)
		if r, ok, err := flows.LastChallenge(dir, nil); !ok || err != nil || r.ID != st.want {
			t.Fatalf("after %T: last challenge %+v %v %v, want %s", st.msg, r, ok, err, st.want)
		}
	}
}

func TestSyncScreenReloadsAfterAFixInTroubleshooting(t *testing.T) {
	fake := signedInFake()
	fake.sync.WifiOnly = true
	dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
	_, cmd := dh.app.Update(navigateMsg{from: dh.app.Current(), to: flows.StepSync, reset: true})
	dh.run(cmd)
	if !strings.Contains(dh.frame(), "[x] Sync over Wi-Fi only") {
		t.Fatalf("sync screen:\n%s", dh.frame())
	}
	dh.key(" ") // an answer not saved yet: auto sync off
	dh.open(diagnoseEntry{From: flows.StepSync})
	dh.key("esc") // looked, fixed nothing
	if f := dh.frame(); dh.app.Current() != flows.StepSync || !strings.Contains(f, "[ ] Sync automatically") {
		t.Fatalf("back without a fix, the answer is lost:\n%s", f)
	}
	dh.open(diagnoseEntry{From: flows.StepSync})
	dh.key("enter") // Sync on any network
	dh.key("esc")
	if f := dh.frame(); !strings.Contains(f, "[ ] Sync over Wi-Fi only") || !strings.Contains(f, "[x] Sync automatically") {
		t.Fatalf("back after the fix, the screen shows the old settings:\n%s", f)
	}
}

func TestSavedSyncIsCachedForClearCache(t *testing.T) {
	fake := signedInFake()
	dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
	cache := filepath.Join(t.TempDir(), "misetup")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	dh.app.sh.deps.CacheDir = cache
	_, cmd := dh.app.Update(navigateMsg{from: dh.app.Current(), to: flows.StepSync, reset: true})
	dh.run(cmd)
	dh.key("enter") // save
	if dh.app.Current() != flows.StepFindDevice || len(fake.setSyncs) != 1 {
		t.Fatalf("at %v after saving %d times", dh.app.Current(), len(fake.setSyncs))
	}
	dh.open(diagnoseEntry{From: flows.StepFindDevice, CacheDir: cache})
	dh.key("3", "enter") // Sync not working; nothing found: clear the cache and retry
	if f := dh.frame(); !strings.Contains(f, "cleared: 1 file,") {
		t.Fatalf("clear cache found no cached settings:\n%s", f)
	}
}

func TestLostAccessResetStartsTheCodeScreenFresh(t *testing.T) {
	fake := signedInFake()
	fake.account.RecoveryPhone = "+86 ••• •••• 9000"
	fake.reset = api.Challenge{ID: "ch-reset", Purpose: api.PurposePasswordReset, Channel: api.ChannelSMS,
		Destination: "+86 ••• •••• 9000", State: api.ChallengePending, ResendAfter: diagT0.Add(time.Minute)}
	dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
	dh.app.sh.wiz.ResetChallenge = &api.Challenge{ID: "ch-old", Purpose: api.PurposePasswordReset, State: api.ChallengePending}
	old := newResetCodeScreen(dh.app.sh) // a reset begun earlier, digits typed
	old.Init()
	old.Update(tea.KeyPressMsg{Code: '1', Text: "1"})
	old.Update(tea.KeyPressMsg{Code: '2', Text: "2"})
	if got := old.v.vals["code"]; got != "12" {
		t.Fatalf("typed 12 into the old code screen, it holds %q", got)
	}
	dh.app.screens[flows.StepResetCode] = old
	dir := t.TempDir()
	dh.open(diagnoseEntry{From: flows.StepWelcome, StateDir: dir})
	dh.key("4", "enter", "enter") // Lost access; send to the recovery phone; enter the code
	rc, ok := dh.app.current().(*stepScreen)
	if !ok || dh.app.Current() != flows.StepResetCode || rc.v.vals["code"] != "" {
		t.Fatalf("at %v: the reset's code screen kept an old code", dh.app.Current())
	}
	if !strings.Contains(dh.frame(), "+86 ••• •••• 9000") {
		t.Errorf("the code screen does not say where the code went:\n%s", dh.frame())
	}
	if r, ok, _ := flows.LastChallenge(dir, nil); !ok || r.ID != "ch-reset" {
		t.Errorf("the reset's challenge was not remembered: %+v %v", r, ok)
	}
}

func TestAccessibleCodeHelpDiagnoses(t *testing.T) {
	deps, _, _ := journeyDeps(t)
	answers := []string{
		"1", "", "", "", "2", "2", "ann@example.com", "Tr1cky#Pass", "Tr1cky#Pass",
		"?", // the code did not come
	}
	var out bytes.Buffer
	in := strings.NewReader(strings.Join(answers, "\n") + "\n")
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, []string{"TERM=dumb"}); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{"The service sent the code to ann@example.com at", "Look in your spam or junk folder"} {
		if !strings.Contains(got, want) {
			t.Errorf("? at the code prompt: output lacks %q:\n%s", want, out.String())
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}
