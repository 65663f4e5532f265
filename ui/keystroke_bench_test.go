package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"misetup/bench/baretea"
	"misetup/flows"
)

// BenchmarkKeystroke is what one key costs: Update with the key, then View,
// which is what Bubble Tea does for every key it reads. Keys alternate
// between a character and backspace, so that the field keeps its length.
// The wizard's create form (the email field) and code screen are measured
// against the bare Bubble Tea program of bench/ (bench/baretea, one list,
// down and up). I/O never happens here: a key that needs the service
// returns a Cmd, which Bubble Tea runs on another goroutine (the Cmds are
// dropped). bench/run tabulates the results.
func BenchmarkKeystroke(b *testing.B) {
	typing := func(r rune) []tea.KeyPressMsg {
		return []tea.KeyPressMsg{{Code: r, Text: string(r)}, press("backspace")}
	}
	b.Run("create", func(b *testing.B) {
		h := newHarness(b, 80, 24, "en")
		h.createByEmail("ann@example.com")
		if h.app.Current() != flows.StepCreate {
			b.Fatalf("at %v", h.app.Current())
		}
		keystrokes(b, h.app, typing('x'))
	})
	b.Run("code", func(b *testing.B) {
		h := newHarness(b, 80, 24, "en")
		codeSetup(h)
		h.typeText("12345")
		if h.app.Current() != flows.StepCode {
			b.Fatalf("at %v", h.app.Current())
		}
		keystrokes(b, h.app, typing('7'))
	})
	b.Run("bare", func(b *testing.B) {
		var m tea.Model = baretea.New()
		m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		keystrokes(b, m, []tea.KeyPressMsg{press("down"), press("up")})
	})
}

// keystrokes sends keys in turn, b.N in all, each followed by View.
func keystrokes(b *testing.B, m tea.Model, keys []tea.KeyPressMsg) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m, _ = m.Update(keys[i%len(keys)])
		_ = m.View()
	}
}
