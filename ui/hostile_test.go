package ui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"misetup/api"
	"misetup/flows"
)

// TestHostileTerminal puts every screen under a hostile terminal: the
// window shrinks to 20x5 and comes back, a 5,000-character paste lands in
// each field, then a burst of 1,000 random keys. Nothing may panic, no frame
// may draw past the window, the screen stays where it was with what was
// typed before, and no key calls the service on the spot (a key never waits
// for I/O: what needs the service goes out as a Cmd, dropped here).
func TestHostileTerminal(t *testing.T) {
	paste := strings.Repeat("ab1@Ø中\x1b[31m", 5000/10) // text, digits, wide, an escape
	for _, step := range []flows.Step{flows.StepWelcome, flows.StepRequirements, flows.StepDevice, flows.StepAccount,
		flows.StepCreate, flows.StepCode, flows.StepSignIn, flows.StepReset, flows.StepResetCode, flows.StepSync,
		flows.StepFindDevice, flows.StepSummary, flows.StepTroubleshoot} {
		t.Run(step.String(), func(t *testing.T) {
			h := newHarness(t, 80, 24, "en")
			reachStep(h, step)
			if h.app.Current() != step {
				t.Fatalf("set-up reached %v", h.app.Current())
			}
			calls := len(h.svc.calls)
			typed := fieldValues(h) // what the person typed so far

			// Resizes: down to 20x5 and back, through sizes in between.
			for _, sz := range [][2]int{{20, 5}, {80, 24}, {20, 5}, {59, 19}, {60, 20}, {1, 1}, {100, 40}, {80, 24}} {
				h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				fits(t, h, fmt.Sprintf("at %dx%d", sz[0], sz[1]))
			}
			if got := fieldValues(h); h.app.Current() != step || fmt.Sprint(got) != fmt.Sprint(typed) {
				t.Fatalf("resizing moved the wizard to %v, fields %q (were %q)", h.app.Current(), got, typed)
			}

			// A 5,000-character paste into each field (tab moves on).
			for i := range 6 {
				h.send(tea.PasteMsg{Content: paste})
				fits(t, h, fmt.Sprintf("after the paste in field %d", i))
				h.send(tea.WindowSizeMsg{Width: 20, Height: 5})
				fits(t, h, "at 20x5 after a paste")
				h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
				h.keys("tab")
			}
			if h.app.Current() != step {
				t.Fatalf("pasting moved the wizard to %v", h.app.Current())
			}
			if f := fieldValues(h); len(f) > 0 && fmt.Sprint(f) == fmt.Sprint(typed) {
				t.Fatalf("the pastes reached no field: %q", f)
			}

			// A burst of 1,000 keys: characters, editing and moving keys.
			// enter and esc act (their Cmds are dropped here), so the
			// screen stays.
			rng := rand.New(rand.NewPCG(uint64(step), 7))
			chars := []rune("aZ9@.+-中 ")
			keys := []string{"tab", "shift+tab", "up", "down", "left", "right", "space", "backspace", "ctrl+u", "enter", "esc"}
			for i := range 1000 {
				if rng.IntN(3) == 0 {
					h.keys(keys[rng.IntN(len(keys))])
				} else {
					h.typeText(string(chars[rng.IntN(len(chars))]))
				}
				if i%100 == 0 {
					fits(t, h, fmt.Sprintf("in the key burst, key %d", i))
				}
			}
			fits(t, h, "after the key burst")
			if got := len(h.svc.calls); got != calls {
				t.Errorf("keys called the service on the spot: %v", h.svc.calls[calls:])
			}
			for _, f := range fieldValues(h) {
				if n := len([]rune(f)); n > 254 {
					t.Errorf("a field holds %d characters", n)
				}
				if strings.ContainsRune(f, '\x1b') {
					t.Errorf("a field holds an escape: %q", f)
				}
			}
		})
	}
}

// reachStep walks the harness to step the way a person would get there
// (the messages the Cmds would bring, sent by hand).
func reachStep(h *harness, step flows.Step) {
	switch step {
	case flows.StepCode:
		codeSetup(h)
		return
	case flows.StepResetCode:
		h.goTo(flows.StepReset)
		h.send(resetRequestedMsg{challenge: h.svc.challenge(api.PurposePasswordReset)})
		h.goTo(flows.StepResetCode)
		return
	case flows.StepCreate:
		h.createByEmail("ann@example.com")
		return
	case flows.StepSignIn:
		h.goTo(step)
		h.typeText("ann@example.com")
		return
	case flows.StepSync:
		syncSetup(h, flows.NetworkWiFi)
		return
	case flows.StepWelcome:
		return
	}
	h.goTo(step)
}

// fits fails when the frame is wider or taller than the window.
func fits(t *testing.T, h *harness, when string) {
	t.Helper()
	w, ht := h.app.sh.width, h.app.sh.height
	frame := h.app.View().Content
	lines := strings.Split(frame, "\n")
	if len(lines) > ht {
		t.Fatalf("%s: %d lines in a %dx%d window:\n%s", when, len(lines), w, ht, ansi.Strip(frame))
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Fatalf("%s: line %d is %d wide in a %dx%d window: %q", when, i, lw, w, ht, ansi.Strip(l))
		}
	}
}

// fieldValues are the values of the text fields of the screen shown.
func fieldValues(h *harness) []string {
	switch s := h.app.current().(type) {
	case *stepScreen:
		var vs []string
		if s.v.st == nil { // still reading its page
			return nil
		}
		for i, f := range s.v.st.fields {
			if ti, ok := s.v.inputs[i]; ok && s.v.visible(i) {
				vs = append(vs, ti.Value())
			}
			if f.kind == fieldCode {
				vs = append(vs, s.v.vals[f.key])
			}
		}
		return vs
	}
	return nil
}
