package ui

import (
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/flows"
)

// TestDeadCodeTakesNoMoreDigits: after the 5th wrong code the screen says
// the code is dead, and only that: no "1 attempt left" under the field,
// the field takes no 6th code, the footer shows the esc the text asks for
// (also at 60 columns), and enter sends the registration again for a new
// code.
func TestDeadCodeTakesNoMoreDigits(t *testing.T) {
	for _, w := range []int{80, 60} {
		h := newHarness(t, w, 24, "en")
		h.createByEmail("ann@example.com")
		h.keys("tab")
		h.typeText("Tr1cky#Pass")
		h.keys("tab")
		h.typeText("Tr1cky#Pass")
		h.send(registeredMsg{challenge: h.svc.challenge(api.PurposeRegistration)})
		h.goTo(flows.StepCode)
		left := 1
		h.typeText("111111")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeInvalidCode, func(e *api.Error) { e.AttemptsLeft = &left }))))
		if s := h.screen(); !strings.Contains(s, "1 attempt left") {
			t.Fatalf("after the 4th wrong code:\n%s", s)
		}
		h.typeText("222222")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeTooManyAttempts))))
		s := h.screen()
		for _, bad := range []string{"attempt left", "attempts left", "That code is wrong"} {
			if strings.Contains(s, bad) {
				t.Errorf("%d columns: a dead code's screen says %q:\n%s", w, bad, s)
			}
		}
		if !strings.Contains(s, "no longer works") || !strings.Contains(lastLine(s), "esc back") ||
			!strings.Contains(s, "› [ Send a new code ]") {
			t.Errorf("%d columns: the dead code's screen:\n%s", w, s)
		}
		v := h.app.current().(*stepScreen).v
		before := v.vals["code"]
		for _, k := range []string{"tab", "shift+tab"} { // the focus skips the dead field
			h.keys(k)
		}
		h.typeText("333333")
		if v.running || v.vals["code"] != before {
			t.Fatalf("%d columns: the dead field took a 6th code (%q)", w, v.vals["code"])
		}
		// enter: back to the form, which sends itself again.
		h.keyThen("enter")
		if h.app.Current() != flows.StepCreate || !h.app.current().(*stepScreen).v.running {
			t.Fatalf("%d columns: Send a new code: at %v, sending %v", w, h.app.Current(), h.app.current().(*stepScreen).v.running)
		}
	}
}

// TestResumedCodeSaysWhetherItWorks: a wizard resumed at the code step
// reads the challenge and says whether the code sent earlier still works,
// and until when; when it does not, "Resend code" has the focus at once.
func TestResumedCodeSaysWhetherItWorks(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	ch := h.svc.challenge(api.PurposeRegistration)
	ch.CreatedAt, ch.ExpiresAt = t0.Add(-4*time.Minute), t0.Add(6*time.Minute)
	resumeAtCode(h, ch)
	if s := h.screen(); !strings.Contains(s, "The code sent at 09:26 still works, until 09:36 (6 min left).") ||
		!strings.Contains(s, "› Code") {
		t.Fatalf("resumed, code still valid:\n%s", s)
	}

	h = newHarness(t, 80, 24, "en")
	ch.CreatedAt, ch.ExpiresAt, ch.ResendAfter = t0.Add(-time.Hour), t0.Add(-50*time.Minute), t0.Add(-59*time.Minute)
	resumeAtCode(h, ch)
	s := h.screen()
	if !strings.Contains(s, "This code expired at 08:40") || !strings.Contains(s, "› [ Resend code ]") {
		t.Fatalf("resumed, code expired:\n%s", s)
	}
	h.keys("enter")
	if v := h.app.current().(*stepScreen).v; !v.running || !strings.Contains(h.screen(), "Sending a new code") {
		t.Fatalf("enter on the resumed expired code did not resend:\n%s", h.screen())
	}
}

// TestPartialCodeSaysWhatIsMissing: enter on a code not yet whole says so
// under the buttons and keeps the digits, which the next one continues.
func TestPartialCodeSaysWhatIsMissing(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	codeSetup(h)
	h.typeText("12")
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "Type all 6 digits of the code.") || !strings.Contains(s, "[ 1 2 _ _ _ _ ]") || h.svc.count("Verify") != 0 {
		t.Fatalf("enter on 2 digits:\n%s", s)
	}
	h.typeText("3")
	if s := h.screen(); !strings.Contains(s, "[ 1 2 3 _ _ _ ]") {
		t.Fatalf("the next digit did not continue the code:\n%s", s)
	}
}
