package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"misetup/api"
	"misetup/flows"
)

// TestResumeInTheChosenLanguage: Chinese was chosen on the first screen of
// a run that stopped; the environment's locale says English. The person's
// choice wins, in both renderings; an explicit --lang still beats it.
func TestResumeInTheChosenLanguage(t *testing.T) {
	saved := flows.Progress{Step: "create", Lang: "zh-CN", Method: "email", Identifier: "ann@example.com"}

	h := newHarnessWith(t, 80, 24, Options{Locale: "en_US.UTF-8"})
	h.send(progressLoadedMsg{ok: true, p: saved}, sessionRestoredMsg{})
	if s := h.screen(); !strings.Contains(s, "欢迎回来") || !strings.Contains(s, "第 5 步，共 8 步") {
		t.Fatalf("resume offer not in the chosen Chinese:\n%s", s)
	}
	h.keyThen("enter")
	if s := h.screen(); h.app.Current() != flows.StepCreate || !strings.Contains(s, "创建账号") {
		t.Fatalf("resumed step not in Chinese:\n%s", s)
	}

	h = newHarnessWith(t, 80, 24, Options{Lang: "en", Locale: "zh_CN.UTF-8"})
	h.send(progressLoadedMsg{ok: true, p: saved}, sessionRestoredMsg{})
	if s := h.screen(); !strings.Contains(s, "Welcome back") {
		t.Fatalf("--lang en did not beat the saved choice:\n%s", s)
	}

	deps, _, files := journeyDeps(t)
	files.progress = &saved
	var out bytes.Buffer
	in := strings.NewReader("\n") // the language: keep the one offered
	if err := RunAccessible(context.Background(), deps, Options{Locale: "en_US.UTF-8"}, in, &out, nil); err != nil {
		t.Fatalf("RunAccessible: %v", err)
	}
	if got := out.String(); !strings.Contains(got, "设置您的小米账号") || strings.Contains(got, "Set up your Mi Account") {
		t.Fatalf("plain mode did not resume in Chinese:\n%s", got)
	}
}

// TestFinishedSetUpIsNotAnInterruption: after the summary, a new run does
// not say "You stopped at Step 8 of 8"; it says the account is set up and
// offers to review it, in both renderings.
func TestFinishedSetUpIsNotAnInterruption(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	signedIn(h)
	h.goTo(flows.StepSummary)
	h.send(quitMsg{})
	h.send(h.app.saveProgress()())
	p, ok, _ := h.files.LoadProgress()
	if !ok || !p.Finished || p.Step != "summary" {
		t.Fatalf("progress after finishing: %+v", p)
	}

	acc := api.Account{MiID: "1234567890", Email: "ann@example.com"}
	h = newHarnessWith(t, 80, 24, Options{Lang: "en"})
	h.send(progressLoadedMsg{ok: true, p: p}, sessionRestoredMsg{ok: true, account: acc})
	s := h.screen()
	if strings.Contains(s, "You stopped at") || !strings.Contains(s, "Already set up") ||
		!strings.Contains(s, "ann@example.com is set up on this device") || !strings.Contains(s, "enter review") {
		t.Fatalf("a finished set-up is offered as an interruption:\n%s", s)
	}
	h.keyThen("enter")
	if h.app.Current() != flows.StepSummary {
		t.Fatalf("review went to %v", h.app.Current())
	}

	deps, svc, files := journeyDeps(t)
	files.progress, files.token = &p, "tok-1"
	svc.SetToken("tok-1")
	var out bytes.Buffer
	in := strings.NewReader("\ny\n") // English; review it
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, nil); err != nil {
		t.Fatalf("RunAccessible: %v", err)
	}
	if got := out.String(); strings.Contains(got, "You stopped at") || !strings.Contains(got, "is set up on this device") ||
		!strings.Contains(got, "Step 8 of 8 · Summary") {
		t.Fatalf("plain mode:\n%s", got)
	}
}

// TestResumedSummaryReadsSavedChoices: a summary reached without this
// run's choices (a resumed, signed-in run) reads them from the service
// when it is shown, full screen and in plain mode.
func TestResumedSummaryReadsSavedChoices(t *testing.T) {
	at := t0
	saved := api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: []string{"contacts", "notes"}, UpdatedAt: &at}

	h := newHarness(t, 80, 24, "en")
	signedIn(h)
	h.svc.sync["dev-1"], h.svc.findDevice["dev-1"] = saved, true
	_, cmd := h.app.Update(navigateMsg{from: h.app.Current(), to: flows.StepSummary})
	h.pump(cmd, 0)
	if s := h.screen(); !strings.Contains(s, "Sync on · Contacts, Notes · Wi-Fi only") || !strings.Contains(s, "Find Device  on") {
		t.Errorf("the summary did not read the saved choices:\n%s", s)
	}

	deps, svc, files := journeyDeps(t)
	svc.sync["dev-1"], svc.findDevice["dev-1"] = saved, true
	files.token = "tok-1"
	svc.SetToken("tok-1")
	p := flows.Progress{Step: "summary", Lang: "en"}
	files.progress = &p
	var out bytes.Buffer
	in := strings.NewReader("\n\n") // English; resume at the summary
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, nil); err != nil {
		t.Fatalf("RunAccessible: %v", err)
	}
	if got := out.String(); !strings.Contains(got, "Sync on · Contacts, Notes · Wi-Fi only") {
		t.Errorf("plain mode's summary did not read the saved choices:\n%s", got)
	}
}
