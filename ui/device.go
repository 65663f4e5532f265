package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// deviceScreen is step 3: this device's name, model and OS, read from the
// system and editable. They are sent with the sign-in, which links the
// device to the account.
type deviceScreen struct {
	sh     *shared
	inputs [3]textinput.Model // name, model, OS
	focus  focusRing          // 0-2 inputs, 3 the button
	filled bool               // the defaults were put in
	err    error
	busy   bool // renaming (already signed in)
	cap    inputCap
	spin   spinner.Model
}

func newDeviceScreen(sh *shared) *deviceScreen {
	s := &deviceScreen{sh: sh, focus: focusRing{n: 4}, spin: newSpinner(sh)}
	s.inputs[0] = newInput(sh, sh.T("device.name_placeholder"), 64, false)
	s.inputs[1] = newInput(sh, sh.T("device.model_placeholder"), 64, false)
	s.inputs[2] = newInput(sh, sh.T("device.os_placeholder"), 64, false)
	s.fill()
	return s
}

// fill puts the system's answers in the empty fields.
func (s *deviceScreen) fill() {
	d := s.sh.wiz.Device
	if s.filled || d == (flows.DeviceInfo{}) {
		return
	}
	for i, v := range []string{d.Name, d.Model, d.OS} {
		if s.inputs[i].Value() == "" {
			s.inputs[i].SetValue(v)
		}
	}
	s.filled = true
}

// Init implements Screen.
func (s *deviceScreen) Init() tea.Cmd {
	s.fill()
	return s.focusCmd()
}

func (s *deviceScreen) focusCmd() tea.Cmd {
	var cmd tea.Cmd
	for i := range s.inputs {
		if i == s.focus.i {
			cmd = s.inputs[i].Focus()
		} else {
			s.inputs[i].Blur()
		}
	}
	return cmd
}

func (s *deviceScreen) answers() flows.DeviceInfo {
	return flows.DeviceInfo{Name: s.inputs[0].Value(), Model: s.inputs[1].Value(), OS: s.inputs[2].Value()}
}

// CapturesText implements textCapturer.
func (s *deviceScreen) CapturesText() bool { return s.focus.i < 3 }

// Update implements Screen.
func (s *deviceScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case deviceReadMsg:
		s.fill()
		return s, nil
	case tea.WindowSizeMsg, languageChangedMsg, stylesChangedMsg:
		s.restyle()
		return s, nil
	case deviceRenamedMsg:
		s.busy = false
		if s.err = msg.err; s.err == nil {
			return s, navigateCmd(flows.StepDevice, flows.StepSync)
		}
		return s, nil
	case tea.KeyPressMsg:
		if s.busy {
			return s, nil
		}
		switch {
		case isKey(msg, kTab, kDown):
			s.focus.next()
			return s, s.focusCmd()
		case isKey(msg, kShiftTab, kUp):
			s.focus.prev()
			return s, s.focusCmd()
		case isKey(msg, kEnter):
			return s, s.submit()
		}
	}
	if s.focus.i < 3 {
		cmd := s.cap.update(&s.inputs[s.focus.i], msg)
		if _, ok := msg.(tea.KeyPressMsg); ok {
			s.err = nil
		}
		return s, tea.Batch(cmd, spin(&s.spin, s.busy, msg))
	}
	return s, spin(&s.spin, s.busy, msg)
}

func (s *deviceScreen) restyle() {
	lw := s.labelWidth()
	for i := range s.inputs {
		s.sh.styleInputs(lw, &s.inputs[i])
	}
	s.inputs[0].Placeholder = s.sh.T("device.name_placeholder")
	s.inputs[1].Placeholder = s.sh.T("device.model_placeholder")
	s.inputs[2].Placeholder = s.sh.T("device.os_placeholder")
	s.spin.Style = s.sh.st.Spinner
}

func (s *deviceScreen) submit() tea.Cmd {
	d, err := flows.ValidateDevice(s.answers())
	if err != nil {
		s.err = err
		s.focus.i = 0
		return s.focusCmd()
	}
	renamed := s.sh.wiz.Account != nil && d.Name != s.sh.wiz.Device.Name
	s.sh.wiz.Device = d
	if !renamed {
		next := flows.StepAccount
		if s.sh.wiz.Account != nil {
			next = flows.StepSync
		}
		return navigateCmd(flows.StepDevice, next)
	}
	// Already signed in: the device is linked, so rename it there too.
	s.busy, s.err = true, nil
	ctx, cancel := s.sh.callCtx()
	cloud, id, name := s.sh.deps.Cloud, s.sh.wiz.DeviceID, d.Name
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		dev, err := flows.RenameDevice(ctx, cloud, id, name)
		return deviceRenamedMsg{device: dev, err: err}
	})
}

func (s *deviceScreen) labelWidth() int {
	return labelWidth(s.sh.T("device.name"), s.sh.T("device.model"), s.sh.T("device.os"))
}

// Keys implements Screen.
func (s *deviceScreen) Keys() []key.Binding {
	return []key.Binding{s.sh.keyContinue(), s.sh.keyNextField()}
}

// View implements Screen.
func (s *deviceScreen) View() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.paragraph(sh.st.Text, sh.T("device.intro"), 0) + "\n\n")
	lw := s.labelWidth()
	labels := []string{sh.T("device.name"), sh.T("device.model"), sh.T("device.os")}
	for i, l := range labels {
		b.WriteString(sh.fieldLine(l, lw, s.focus.i == i, s.inputs[i].View()) + "\n")
	}
	b.WriteString("\n" + sh.buttonView(sh.T("device.continue"), s.focus.i == 3, !s.busy) + "\n\n")
	b.WriteString(sh.paragraph(sh.st.Muted, sh.T("device.note"), 0))
	switch {
	case s.busy:
		b.WriteString("\n\n" + sh.busyLine(s.spin, sh.T("device.renaming")))
	case s.err != nil:
		b.WriteString("\n\n" + errorView(sh, s.err))
	case s.cap.hit > 0:
		b.WriteString("\n\n" + sh.paragraph(sh.st.Warn, s.cap.note(sh), 0))
	}
	return b.String()
}
