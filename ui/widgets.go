package ui

import (
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"misetup/api"
)

// Marks drawn before findings and checklist lines. They are text, so they
// read the same with colours off.
const (
	markOK      = "✓"
	markWarn    = "!"
	markFail    = "✗"
	markPending = "·"
	pointer     = "›"
)

// newInput builds a text input in the wizard's style: no prompt (the label
// is drawn beside it), a steady cursor.
func newInput(sh *shared, placeholder string, limit int, secret bool) textinput.Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	if secret {
		ti.EchoMode = textinput.EchoPassword
		ti.EchoCharacter = '•'
	}
	ti.SetStyles(sh.st.Input)
	return ti
}

// focusInput blurs every input in inputs, then focuses the one of the
// focused field, if it has one.
func focusInput[F comparable](focus F, inputs map[F]*textinput.Model) tea.Cmd {
	for _, ti := range inputs {
		ti.Blur()
	}
	if ti, ok := inputs[focus]; ok {
		return ti.Focus()
	}
	return nil
}

// updateInput hands msg to the input of the focused field; ok is false
// when the field has no input.
func updateInput[F comparable](focus F, inputs map[F]*textinput.Model, msg tea.Msg) (cmd tea.Cmd, ok bool) {
	ti, ok := inputs[focus]
	if !ok {
		return nil, false
	}
	*ti, cmd = ti.Update(msg)
	return cmd, true
}

// inputCap is a field's limit and whether typing just ran into it: a text
// input drops what goes past its CharLimit without a word, so the form
// says so (capNote) instead of seeming to ignore the keys.
type inputCap struct{ hit int } // the limit hit by the last key or paste; 0 when none

// update hands msg to ti and notes whether text typed or pasted was
// dropped at its limit.
func (c *inputCap) update(ti *textinput.Model, msg tea.Msg) tea.Cmd {
	var typed string
	switch m := msg.(type) {
	case tea.KeyPressMsg:
		typed = m.Text
	case tea.PasteMsg:
		typed = m.Content
	}
	before := utf8.RuneCountInString(ti.Value())
	var cmd tea.Cmd
	*ti, cmd = ti.Update(msg)
	switch after := utf8.RuneCountInString(ti.Value()); {
	case typed == "":
		if _, ok := msg.(tea.KeyPressMsg); ok {
			c.hit = 0 // moving, deleting: the note goes
		}
	case ti.CharLimit > 0 && after == ti.CharLimit && before+utf8.RuneCountInString(typed) > ti.CharLimit:
		c.hit = ti.CharLimit
	default:
		c.hit = 0
	}
	return cmd
}

// note is the line the form shows while the limit was just hit; "".
func (c inputCap) note(sh *shared) string {
	if c.hit == 0 {
		return ""
	}
	return markWarn + " " + sh.T("field.capped", "n", c.hit)
}

// styleInputs gives inputs the wizard's style and the width left beside
// labels lw wide.
func (sh *shared) styleInputs(lw int, inputs ...*textinput.Model) {
	w := max(sh.bodyWidth()-2-lw-1, 10)
	for _, ti := range inputs {
		ti.SetStyles(sh.st.Input)
		ti.SetWidth(w)
	}
}

// labelWidth is the width of the widest label, plus a gap.
func labelWidth(labels ...string) int {
	w := 0
	for _, l := range labels {
		w = max(w, lipgloss.Width(l))
	}
	return w + 2
}

// fieldLine renders "› Label   value" with the label padded to lw.
func (sh *shared) fieldLine(label string, lw int, focused bool, value string) string {
	p, st := "  ", sh.st.Label
	if focused {
		p, st = sh.st.LabelOn.Render(pointer)+" ", sh.st.LabelOn
	}
	return p + st.Render(padRight(label, lw)) + value
}

// noteLine renders a line under a field, aligned with its value: text in
// style st, wrapped under the value.
func (sh *shared) noteLine(lw int, st lipgloss.Style, text string) string {
	if text == "" {
		return ""
	}
	return strings.Repeat(" ", 2+lw) + sh.paragraph(st, text, 2+lw)
}

// choiceView renders options side by side, the chosen one marked.
func (sh *shared) choiceView(options []string, chosen int, focused bool) string {
	parts := make([]string, len(options))
	for i, o := range options {
		switch {
		case i == chosen && focused:
			parts[i] = sh.st.Selected.Render("(•) " + o)
		case i == chosen:
			parts[i] = sh.st.Text.Render("(•) " + o)
		default:
			parts[i] = sh.st.Muted.Render("( ) " + o)
		}
	}
	return strings.Join(parts, "  ")
}

// toggleView renders an on/off switch, its label padded to lw so the
// on/off words of a screen's switches line up (labelWidth of them all).
func (sh *shared) toggleView(label string, lw int, on, focused bool) string {
	box := "[ ]"
	if on {
		box = "[x]"
	}
	p := "  "
	st := sh.st.Text
	if focused {
		p = sh.st.LabelOn.Render(pointer) + " "
		st = sh.st.Selected
	}
	state := sh.T("common.off")
	if on {
		state = sh.T("common.on")
	}
	return p + st.Render(box+" "+padRight(label, lw-2)) + sh.st.Muted.Render("  "+state)
}

// buttonView renders a button; a disabled one is dimmed.
func (sh *shared) buttonView(label string, focused, enabled bool) string {
	txt := "[ " + label + " ]"
	switch {
	case !enabled && focused:
		return sh.st.LabelOn.Render(pointer) + " " + sh.st.ButtonOff.Render(txt)
	case !enabled:
		return "  " + sh.st.ButtonOff.Render(txt)
	case focused:
		return sh.st.LabelOn.Render(pointer) + " " + sh.st.ButtonOn.Render(txt)
	}
	return "  " + sh.st.Button.Render(txt)
}

// mark renders a checklist or finding mark.
func (sh *shared) mark(ok bool) string {
	if ok {
		return sh.st.OK.Render(markOK)
	}
	return sh.st.Fail.Render(markFail)
}

// wrap wraps plain text to the body width, indenting the lines after the
// first by indent.
func (sh *shared) wrap(text string, indent int) string {
	lines := wrapText(text, sh.bodyWidth()-indent)
	pad := strings.Repeat(" ", indent)
	for i := range lines {
		if i > 0 {
			lines[i] = pad + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// paragraph renders wrapped text in a style, each line styled.
func (sh *shared) paragraph(st lipgloss.Style, text string, indent int) string {
	lines := strings.Split(sh.wrap(text, indent), "\n")
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return strings.Join(lines, "\n")
}

// busyLine is a spinner and what is happening.
func (sh *shared) busyLine(sp spinner.Model, text string) string {
	return sp.View() + " " + sh.st.Muted.Render(text)
}

// newSpinner builds the wizard's spinner.
func newSpinner(sh *shared) spinner.Model {
	return spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(sh.st.Spinner))
}

// spin forwards spinner ticks to sp while busy; it returns the next tick.
func spin(sp *spinner.Model, busy bool, msg tea.Msg) tea.Cmd {
	t, ok := msg.(spinner.TickMsg)
	if !ok || !busy {
		return nil
	}
	var cmd tea.Cmd
	*sp, cmd = sp.Update(t)
	return cmd
}

func padRight(s string, w int) string {
	if d := w - lipgloss.Width(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

// joinLines joins the non-nil parts of a body, keeping deliberate blank
// lines ("").
func joinLines(lines ...string) string { return strings.Join(lines, "\n") }

type lipglossStyle = lipgloss.Style

// wordwrap wraps plain text to w (see wrapText).
func wordwrap(s string, w int) string { return strings.Join(wrapText(s, w), "\n") }

// accountLabel names an account the way the person knows it.
func accountLabel(a api.Account) string {
	switch {
	case a.Email != "":
		return a.Email
	case a.Phone != "":
		return a.Phone
	}
	return a.MiID
}

// lipglossHeight is the number of lines of s.
func lipglossHeight(s string) int { return lipgloss.Height(strings.TrimRight(s, "\n")) }
