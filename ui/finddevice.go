package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// findDeviceScreen is step 7 (GUIDE section 6): what Find Device does, on
// by default with a recommendation, saved for this device.
type findDeviceScreen struct {
	sh      *shared
	enabled bool
	loaded  bool
	loading bool
	saving  bool
	focus   int // 0 the switch, 1 the button
	err     error
	retry   retrier
	spin    spinner.Model
}

func newFindDeviceScreen(sh *shared) *findDeviceScreen {
	return &findDeviceScreen{sh: sh, enabled: true, focus: 0, spin: newSpinner(sh)}
}

// Init implements Screen: reads the current setting the first time. A
// device that never turned it on gets the recommended "on".
func (s *findDeviceScreen) Init() tea.Cmd {
	if s.loaded || s.loading {
		return nil
	}
	sh := s.sh
	s.loading = true
	ctx, cancel := sh.callCtx()
	cloud, id := sh.deps.Cloud, sh.wiz.DeviceID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		fd, err := flows.LoadFindDevice(ctx, cloud, id)
		return findDeviceLoadedMsg{fd: fd, err: err}
	})
}

// Update implements Screen.
func (s *findDeviceScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case stylesChangedMsg:
		s.spin.Style = s.sh.st.Spinner
	case findDeviceLoadedMsg:
		s.loading, s.loaded = false, true
		// Reading is only a courtesy: on failure keep the default and let the
		// save report a real problem.
		if msg.err == nil && msg.fd.Enabled {
			s.enabled = true
		}
		return s, nil
	case findDeviceSavedMsg:
		s.saving = false
		if s.err = msg.err; s.err != nil {
			return s, s.retry.failed(msg.err, s.sh.now(), s.save)
		}
		s.retry.stop()
		on := msg.fd.Enabled
		s.sh.wiz.FindDevice = &on
		return s, navigateCmd(flows.StepFindDevice, flows.StepSummary)
	case retryTickMsg:
		return s, s.retry.tick(msg, s.sh.now())
	case tea.KeyPressMsg:
		if s.saving {
			return s, nil
		}
		switch {
		case isKey(msg, "r", "R") && s.retry.pending():
			return s, s.retry.now()
		case isKey(msg, kTab, kDown, kShiftTab, kUp):
			s.focus = 1 - s.focus
		case isKey(msg, kSpace, "x", kLeft, kRight):
			s.enabled = !s.enabled
			s.err = nil
		case isKey(msg, kEnter):
			return s, s.save()
		}
		return s, nil
	}
	return s, spin(&s.spin, s.loading || s.saving, msg)
}

func (s *findDeviceScreen) save() tea.Cmd {
	sh := s.sh
	s.saving, s.err = true, nil
	ctx, cancel := sh.callCtx()
	cloud, id, on := sh.deps.Cloud, sh.wiz.DeviceID, s.enabled
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		fd, err := flows.SaveFindDevice(ctx, cloud, id, on)
		return findDeviceSavedMsg{fd: fd, err: err}
	})
}

// Keys implements Screen.
func (s *findDeviceScreen) Keys() []key.Binding {
	if s.retry.pending() {
		return []key.Binding{s.sh.keyRetryNow(), s.sh.bind("enter", "key.save", kEnter), s.sh.keyToggle()}
	}
	return []key.Binding{s.sh.bind("enter", "key.save", kEnter), s.sh.keyToggle()}
}

// View implements Screen.
func (s *findDeviceScreen) View() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.paragraph(sh.st.Text, sh.T("find.intro"), 0) + "\n")
	for _, k := range []string{"locate", "ring", "lock", "erase"} {
		b.WriteString("  • " + sh.paragraph(sh.st.Text, sh.T("find."+k), 4) + "\n")
	}
	b.WriteString(sh.paragraph(sh.st.Muted, sh.T("find.web"), 0) + "\n\n")
	b.WriteString(sh.toggleView(sh.T("find.toggle"), labelWidth(sh.T("find.toggle")), s.enabled, s.focus == 0) + "\n")
	if s.enabled {
		b.WriteString("      " + sh.paragraph(sh.st.OK, sh.T("find.recommended"), 6) + "\n")
	} else {
		b.WriteString("      " + sh.paragraph(sh.st.Warn, sh.T("find.off_warning"), 6) + "\n")
	}
	b.WriteString("\n" + sh.buttonView(sh.T("find.submit"), s.focus == 1, !s.saving) + "\n\n")
	switch {
	case s.saving:
		b.WriteString(sh.busyLine(s.spin, sh.T("find.saving")))
	case s.err != nil:
		b.WriteString(errorView(sh, s.err))
		if s.retry.pending() {
			b.WriteString("\n  " + s.retry.line(sh))
		}
	default:
		b.WriteString(sh.paragraph(sh.st.Muted, sh.T("find.security_tip"), 0))
	}
	return b.String()
}
