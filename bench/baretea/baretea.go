// Package baretea is the reference the wizard's speed is measured against: a
// bare Bubble Tea v2 program with one list (bubbles/list), nothing else. The
// program bench/bare runs it; ui's keystroke benchmark drives the same model.
package baretea

import (
	"charm.land/bubbles/v2/list"
	tea "charm.land/bubbletea/v2"
)

// Marker is on the last line of the first complete frame: the list's help.
const Marker = "? more"

type item string

func (i item) Title() string       { return string(i) }
func (i item) Description() string { return "" }
func (i item) FilterValue() string { return string(i) }

// Model is the bare program: a list of eight entries in the alt screen.
type Model struct{ list list.Model }

// New returns the model at 80x24.
func New() Model {
	var items []list.Item
	for _, s := range []string{"Step 1 of 8", "Step 2 of 8", "Step 3 of 8", "Step 4 of 8",
		"Step 5 of 8", "Step 6 of 8", "Step 7 of 8", "Step 8 of 8"} {
		items = append(items, item(s))
	}
	d := list.NewDefaultDelegate()
	d.ShowDescription = false
	l := list.New(items, d, 80, 24)
	l.Title = "Bare Bubble Tea v2"
	return Model{list: l}
}

// Init implements tea.Model.
func (m Model) Init() tea.Cmd { return nil }

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.list.SetSize(msg.Width, msg.Height)
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return m, tea.Quit
		}
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	return m, cmd
}

// View implements tea.Model.
func (m Model) View() tea.View {
	v := tea.NewView(m.list.View())
	v.AltScreen = true
	return v
}
