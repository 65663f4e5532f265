package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Key names as tea.KeyPressMsg.String() gives them.
const (
	kEnter    = "enter"
	kEsc      = "esc"
	kTab      = "tab"
	kShiftTab = "shift+tab"
	kUp       = "up"
	kDown     = "down"
	kLeft     = "left"
	kRight    = "right"
	kSpace    = "space"
	kCtrlC    = "ctrl+c"
	kCtrlT    = "ctrl+t"
)

// bind builds a binding with translated help.
func (sh *shared) bind(helpKey, descKey string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, sh.T(descKey)))
}

// Bindings the screens offer in their footers.
func (sh *shared) keyContinue() key.Binding { return sh.bind("enter", "key.continue", kEnter) }
func (sh *shared) keyNextField() key.Binding {
	return sh.bind("tab/↓", "key.next_field", kTab, kDown)
}
func (sh *shared) keyPrevField() key.Binding {
	return sh.bind("shift+tab/↑", "key.prev_field", kShiftTab, kUp)
}
func (sh *shared) keyToggle() key.Binding { return sh.bind("space", "key.toggle", kSpace) }
func (sh *shared) keyChoose() key.Binding { return sh.bind("←/→", "key.choose", kLeft, kRight) }
func (sh *shared) keyMove() key.Binding   { return sh.bind("↑/↓", "key.move", kUp, kDown) }
func (sh *shared) keyRetry() key.Binding  { return sh.bind("r", "key.retry", "r") }
func (sh *shared) keyRerun() key.Binding  { return sh.bind("r", "key.rerun", "r") }
func (sh *shared) keyBack() key.Binding   { return sh.bind("esc", "key.back", kEsc) }
func (sh *shared) keyQuit() key.Binding   { return sh.bind("ctrl+c", "key.quit", kCtrlC) }
func (sh *shared) keyHelp() key.Binding   { return sh.bind("?", "key.help", "?") }
func (sh *shared) keyFinish() key.Binding { return sh.bind("enter", "key.finish", kEnter) }
func (sh *shared) keyActivate() key.Binding {
	return sh.bind("enter", "key.activate", kEnter)
}

// keyHelpMap adapts a list of bindings to help.KeyMap.
type keyHelpMap struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (k keyHelpMap) ShortHelp() []key.Binding { return k.short }

// FullHelp implements help.KeyMap.
func (k keyHelpMap) FullHelp() [][]key.Binding { return k.full }

// isKey reports whether msg is one of keys.
func isKey(msg tea.KeyPressMsg, keys ...string) bool {
	s := msg.String()
	for _, k := range keys {
		if s == k {
			return true
		}
	}
	return false
}
