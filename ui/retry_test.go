package ui

import (
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/flows"
)

// TestServiceDownRetriesByItself: a sign-in the service did not answer
// names the address it tried, counts down and tries again by itself (and
// at once on r), and the error goes when it works. Nothing typed is lost.
func TestServiceDownRetriesByItself(t *testing.T) {
	h := newHarness(t, 60, 24, "en")
	h.app.sh.opts.Server = "http://127.0.0.1:8417"
	now := t0
	h.app.sh.deps.Now = func() time.Time { return now }
	h.goTo(flows.StepSignIn)
	h.typeText("ann@example.com")
	h.keys("tab")
	h.typeText("Tr1cky#Pass")
	h.keys("enter")
	down := flows.Explain(&api.Error{Code: api.CodeUnavailable, Message: "connection refused"})
	h.send(h.result(outcome{}, down))
	s := h.screen()
	flat := strings.Join(strings.Fields(s), " ")
	if !strings.Contains(flat, "The account service (http://127.0.0.1:8417) cannot be reached.") ||
		!strings.Contains(flat, "Trying again in 0:05. Press r to try now.") || !strings.Contains(lastLine(s), "r try now") ||
		!strings.Contains(s, "› [ Sign in ]") {
		t.Fatalf("a sign-in the service did not answer:\n%s", s)
	}
	sc := h.app.screens[flows.StepSignIn].(*stepScreen).v
	now = t0.Add(3 * time.Second)
	h.send(retryTickMsg{tag: sc.retry.tag})
	if !strings.Contains(h.screen(), "Trying again in 0:02") || sc.running {
		t.Fatalf("the countdown does not count:\n%s", h.screen())
	}
	now = t0.Add(5 * time.Second)
	h.send(retryTickMsg{tag: sc.retry.tag})
	if !sc.running {
		t.Fatalf("no try when the countdown ended:\n%s", h.screen())
	}
	h.send(h.result(outcome{}, down)) // still down: the next wait is longer
	if !strings.Contains(h.screen(), "Trying again in 0:10") {
		t.Fatalf("the second wait:\n%s", h.screen())
	}
	h.keys("r")
	if !sc.running || sc.inputs[0].Value() != "ann@example.com" || sc.inputs[1].Value() != "Tr1cky#Pass" {
		t.Fatalf("r did not try at once with the answers kept: running=%v id=%q", sc.running, sc.inputs[0].Value())
	}
	h.send(h.result(signedInOutcome("ann@example.com", api.Session{Token: "t", Account: api.Account{MiID: "1"}}), nil))
	h.send(navigateMsg{from: flows.StepSignIn, to: flows.StepSync, reset: true})
	if s := h.screen(); h.app.Current() != flows.StepSync || strings.Contains(s, "cannot be reached") {
		t.Fatalf("the error outlived the service's return:\n%s", s)
	}
}
