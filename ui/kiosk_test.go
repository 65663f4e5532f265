package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
)

// kioskHarness is the wizard in kiosk mode with a clock the test moves.
type kioskHarness struct {
	*harness
	mu       sync.Mutex
	now      time.Time
	signOuts int
	resets   []string
}

func (k *kioskHarness) clock() time.Time { k.mu.Lock(); defer k.mu.Unlock(); return k.now }

// wait moves the clock on by d and lets kiosk mode's clock tick.
func (k *kioskHarness) wait(d time.Duration) {
	k.mu.Lock()
	k.now = k.now.Add(d)
	k.mu.Unlock()
	_, cmd := k.app.Update(kioskTickMsg{})
	k.pump(cmd, 0)
}

func newKioskHarness(t *testing.T, w, h int, lang string) *kioskHarness {
	t.Helper()
	k := &kioskHarness{now: t0}
	svc := newFakeService()
	deps := Deps{
		Accounts: svc, Cloud: svc, Sessions: &memFiles{},
		Checker:  flows.Checker{Status: svc, ClientVersion: api.Version},
		DeviceID: func() (string, error) { return "kiosk-1", nil },
		Now:      k.clock,
	}
	opts := Options{Lang: lang, Locale: "en_US.UTF-8", Kiosk: &Kiosk{
		IdleAfter: 120 * time.Second, Countdown: 20 * time.Second, HandBack: 30 * time.Second,
		CheckPIN: func(pin string) bool { return pin == "2468" },
		SignOut: func(_ context.Context, token string) error {
			k.mu.Lock()
			defer k.mu.Unlock()
			if token == "tok-1" {
				k.signOuts++
			}
			return nil
		},
		Reset: func(cause string) { k.resets = append(k.resets, cause) },
	}}
	a := New(context.Background(), deps, opts)
	a.Init()
	k.harness = &harness{t: t, app: a, svc: svc}
	k.send(tea.WindowSizeMsg{Width: w, Height: h})
	k.send(deviceReadMsg{info: flows.DeviceInfo{Name: "store-kiosk-3"}, id: "kiosk-1"})
	return k
}

// TestKioskIdleResets: a customer who walks away mid-flow is asked
// "Still there?"; a key brings them back where they were; the countdown's
// end starts over with nothing of theirs left.
func TestKioskIdleResets(t *testing.T) {
	k := newKioskHarness(t, 80, 24, "en")
	k.goTo(flows.StepRequirements)
	k.goTo(flows.StepDevice)
	k.goTo(flows.StepAccount)
	k.goTo(flows.StepSignIn)
	k.typeText("ann@example.com")
	k.app.sh.deps.Accounts.SetToken("tok-1") // as if signed in

	k.wait(119 * time.Second)
	if strings.Contains(k.screen(), "Still there?") {
		t.Fatalf("asked before 120 s:\n%s", k.screen())
	}
	k.wait(time.Second)
	if s := k.screen(); !strings.Contains(s, "Still there?") || !strings.Contains(s, "In 20 s") {
		t.Fatalf("no countdown after 120 s idle:\n%s", s)
	}
	k.do("x") // any key: back, and the key is not typed
	if s := k.screen(); !strings.Contains(s, "ann@example.com") || strings.Contains(s, "ann@example.comx") ||
		k.app.Current() != flows.StepSignIn {
		t.Fatalf("a key did not bring the customer back where they were:\n%s", s)
	}

	k.wait(120 * time.Second)
	k.wait(19 * time.Second)
	if k.app.Current() != flows.StepSignIn {
		t.Fatalf("reset before the countdown ended")
	}
	k.wait(time.Second)
	if k.app.Current() != flows.StepWelcome || len(k.app.history) != 1 {
		t.Fatalf("after the countdown: at %v, history %v", k.app.Current(), k.app.history)
	}
	if k.app.sh.wiz.Identifier != "" || k.app.sh.deps.Accounts.Token() != "" || k.signOuts != 1 {
		t.Errorf("the customer's answers or session outlived the reset: id %q, token %q, sign-outs %d",
			k.app.sh.wiz.Identifier, k.app.sh.deps.Accounts.Token(), k.signOuts)
	}
	k.goTo(flows.StepRequirements)
	k.goTo(flows.StepDevice)
	k.goTo(flows.StepAccount)
	k.goTo(flows.StepSignIn)
	if strings.Contains(k.screen(), "ann@example.com") {
		t.Errorf("the next customer sees the last one's Mi ID:\n%s", k.screen())
	}
	if fmt.Sprint(k.resets) != "[idle]" {
		t.Errorf("resets %v", k.resets)
	}
}

// TestKioskHandBack: after the summary, the hand-back screen, then a
// reset 30 s later, or at once on enter.
func TestKioskHandBack(t *testing.T) {
	k := newKioskHarness(t, 80, 24, "en")
	signedIn(k.harness)
	k.goTo(flows.StepSummary)
	k.send(quitMsg{})
	if s := k.screen(); !strings.Contains(s, "All done: please hand the device back") {
		t.Fatalf("no hand-back screen:\n%s", s)
	}
	k.wait(29 * time.Second)
	if k.app.Current() != flows.StepSummary {
		t.Fatal("reset before 30 s")
	}
	k.wait(time.Second)
	if k.app.Current() != flows.StepWelcome || k.app.sh.wiz.Account != nil {
		t.Fatalf("after 30 s: at %v, account %v", k.app.Current(), k.app.sh.wiz.Account)
	}

	signedIn(k.harness)
	k.goTo(flows.StepSummary)
	k.send(quitMsg{})
	k.do("enter")
	if k.app.Current() != flows.StepWelcome {
		t.Fatalf("enter on the hand-back screen: at %v", k.app.Current())
	}
	if fmt.Sprint(k.resets) != "[done done]" {
		t.Errorf("resets %v", k.resets)
	}
}

// TestKioskLeavesOnlyWithThePIN: ctrl+c asks for the staff PIN; ctrl+z and
// ctrl+\ do nothing; five wrong PINs lock the way out for 5 minutes.
func TestKioskLeavesOnlyWithThePIN(t *testing.T) {
	k := newKioskHarness(t, 80, 24, "en")
	k.goTo(flows.StepRequirements)
	k.do("ctrl+z")
	if k.app.quitting {
		t.Fatal("ctrl+z left kiosk mode")
	}
	k.do("ctrl+c")
	if s := k.screen(); !strings.Contains(s, "Staff only: leave kiosk mode") {
		t.Fatalf("ctrl+c did not ask for the PIN:\n%s", s)
	}
	for range 5 {
		k.typeText("1111")
		k.do("enter")
	}
	if s := k.screen(); !strings.Contains(s, "Too many wrong PINs: try again in 5 min") || k.app.quitting {
		t.Fatalf("after five wrong PINs:\n%s", s)
	}
	k.typeText("2468")
	k.do("enter")
	if k.app.quitting {
		t.Fatal("the right PIN worked while the way out was locked")
	}
	k.wait(5 * time.Minute)
	k.typeText("2468")
	k.do("enter")
	if !k.app.quitting {
		t.Fatalf("the right PIN did not leave kiosk mode:\n%s", k.screen())
	}
}

// TestKioskScreens draws kiosk mode's screens at 80x24 and 60 columns, in
// both languages.
func TestKioskScreens(t *testing.T) {
	cases := []struct {
		name string
		do   func(k *kioskHarness)
	}{
		{"idle", func(k *kioskHarness) { k.goTo(flows.StepRequirements); k.wait(125 * time.Second) }},
		{"done", func(k *kioskHarness) { signedIn(k.harness); k.goTo(flows.StepSummary); k.send(quitMsg{}) }},
		{"pin", func(k *kioskHarness) { k.do("ctrl+c"); k.typeText("12"); k.do("enter") }},
	}
	for _, tc := range cases {
		for _, lang := range []string{"en", "zh-CN"} {
			for _, size := range [][2]int{{80, 24}, {60, 24}} {
				t.Run(fmt.Sprintf("%s/%s/%dx%d", tc.name, lang, size[0], size[1]), func(t *testing.T) {
					k := newKioskHarness(t, size[0], size[1], lang)
					tc.do(k)
					golden.RequireEqual(t, k.screen())
				})
			}
		}
	}
	// Busy: what a terminal shows, in its locale, when the store server
	// has no terminal free (the SSH session is refused with it).
	for _, locale := range []string{"en_US.UTF-8", "zh_CN.UTF-8"} {
		for _, width := range []int{80, 60} {
			t.Run(fmt.Sprintf("busy/%s/%dx24", assets.MatchLanguage(locale), width), func(t *testing.T) {
				golden.RequireEqual(t, ansi.Strip(Busy(locale, width)))
			})
		}
	}
}
