package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"misetup/assets"
)

// Styles are the wizard's lipgloss styles, built once per background from
// the palette in assets. Screens use them; they never build styles in View.
type Styles struct {
	Dark bool

	Header    lipgloss.Style // "Step N of M · title"
	Rule      lipgloss.Style // the line under the header
	Title     lipgloss.Style // a heading inside a screen
	Text      lipgloss.Style
	Muted     lipgloss.Style
	Label     lipgloss.Style // a field's label
	LabelOn   lipgloss.Style // the focused field's label
	Value     lipgloss.Style // a value on the summary
	Selected  lipgloss.Style // the chosen option
	OK        lipgloss.Style
	Warn      lipgloss.Style
	Fail      lipgloss.Style
	Button    lipgloss.Style
	ButtonOn  lipgloss.Style
	ButtonOff lipgloss.Style // a disabled button
	Key       lipgloss.Style // a key named in running text
	Box       lipgloss.Style // a framed panel (resume offer, quit dialog)
	Spinner   lipgloss.Style

	Help  help.Styles
	Input textinput.Styles
}

// NewStyles builds the styles for a dark (true) or light background.
func NewStyles(dark bool) Styles {
	p := assets.PaletteFor(dark)
	c := lipgloss.Color
	accent, text, muted, subtle := c(p.Accent), c(p.Text), c(p.Muted), c(p.Subtle)
	s := Styles{
		Dark:      dark,
		Header:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		Rule:      lipgloss.NewStyle().Foreground(subtle),
		Title:     lipgloss.NewStyle().Bold(true).Foreground(text),
		Text:      lipgloss.NewStyle().Foreground(text),
		Muted:     lipgloss.NewStyle().Foreground(muted),
		Label:     lipgloss.NewStyle().Foreground(muted),
		LabelOn:   lipgloss.NewStyle().Bold(true).Foreground(accent),
		Value:     lipgloss.NewStyle().Foreground(text).Bold(true),
		Selected:  lipgloss.NewStyle().Bold(true).Foreground(accent),
		OK:        lipgloss.NewStyle().Foreground(c(p.OK)),
		Warn:      lipgloss.NewStyle().Foreground(c(p.Warn)),
		Fail:      lipgloss.NewStyle().Foreground(c(p.Fail)),
		Button:    lipgloss.NewStyle().Foreground(text),
		ButtonOn:  lipgloss.NewStyle().Bold(true).Foreground(c(p.Inverse)).Background(accent),
		ButtonOff: lipgloss.NewStyle().Foreground(muted).Faint(true),
		Key:       lipgloss.NewStyle().Bold(true).Foreground(text),
		Box:       lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		Spinner:   lipgloss.NewStyle().Foreground(accent),
	}
	s.Help = help.DefaultStyles(dark)
	s.Help.ShortKey = lipgloss.NewStyle().Foreground(text).Bold(true)
	s.Help.FullKey = s.Help.ShortKey
	s.Help.ShortDesc = lipgloss.NewStyle().Foreground(muted)
	s.Help.FullDesc = s.Help.ShortDesc
	s.Input = textinput.DefaultStyles(dark)
	s.Input.Focused.Text = lipgloss.NewStyle().Foreground(text)
	s.Input.Blurred.Text = lipgloss.NewStyle().Foreground(text)
	s.Input.Focused.Placeholder = lipgloss.NewStyle().Foreground(muted)
	s.Input.Blurred.Placeholder = lipgloss.NewStyle().Foreground(muted)
	s.Input.Cursor.Color = c(p.Cursor)
	s.Input.Cursor.Blink = false // a steady cursor: no redraw twice a second (SSH, kiosks)
	return s
}
