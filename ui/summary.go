package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// summaryScreen is step 8: the account, the device, the sync choices, Find
// Device, and the guide's security tips as next steps.
type summaryScreen struct {
	sh    *shared
	plain bool // accessible mode: no keys to press
}

func newSummaryScreen(sh *shared) *summaryScreen { return &summaryScreen{sh: sh} }

// summaryLoadedMsg carries the saved choices of a resumed summary.
type summaryLoadedMsg struct {
	sync *api.SyncSettings
	find *bool
}

// Init implements Screen: a summary reached by resuming a signed-in run
// reads the saved choices, which this run did not make.
func (s *summaryScreen) Init() tea.Cmd {
	w := s.sh.wiz
	if w.Account == nil || (w.Sync != nil && w.FindDevice != nil) || s.sh.deps.Cloud == nil {
		return nil
	}
	ctx, cancel := s.sh.callCtx()
	cloud, id := s.sh.deps.Cloud, w.DeviceID
	return func() tea.Msg {
		defer cancel()
		var m summaryLoadedMsg
		if c, err := flows.LoadSync(ctx, cloud, id, flows.NetworkUnknown); err == nil && c.Saved {
			m.sync = &c.Settings
		}
		if fd, err := flows.LoadFindDevice(ctx, cloud, id); err == nil {
			m.find = &fd.Enabled
		}
		return m
	}
}

// Update implements Screen.
func (s *summaryScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case summaryLoadedMsg:
		if s.sh.wiz.Sync == nil {
			s.sh.wiz.Sync = msg.sync
		}
		if s.sh.wiz.FindDevice == nil {
			s.sh.wiz.FindDevice = msg.find
		}
	case tea.KeyPressMsg:
		switch {
		case isKey(msg, kEnter):
			return s, func() tea.Msg { return quitMsg{} }
		case isKey(msg, "a", "A") && s.sh.hubReady():
			return s, navigateCmd(flows.StepSummary, flows.StepHub)
		}
	}
	return s, nil
}

// Keys implements Screen.
func (s *summaryScreen) Keys() []key.Binding {
	if s.sh.hubReady() {
		return []key.Binding{s.sh.keyFinish(), s.sh.bind("a", "key.hub", "a")}
	}
	return []key.Binding{s.sh.keyFinish()}
}

// View implements Screen.
func (s *summaryScreen) View() string {
	sh := s.sh
	w := sh.wiz
	var b strings.Builder
	b.WriteString(sh.st.OK.Render(markOK+" ") + sh.st.Title.Render(sh.T("summary.heading")) + "\n\n")

	labels := []string{sh.T("summary.account"), sh.T("summary.device"), sh.T("summary.sync"), sh.T("summary.find")}
	lw := labelWidth(labels...)
	row := func(label, value string) {
		b.WriteString("  " + sh.st.Label.Render(padRight(label, lw)) + sh.paragraph(sh.st.Text, value, 2+lw) + "\n")
	}

	account := sh.T("summary.not_signed_in")
	if w.Account != nil {
		account = flows.CleanText(w.Account.MiID)
		if l := accountLabel(*w.Account); l != w.Account.MiID {
			account += " · " + flows.CleanText(l)
		}
	}
	row(labels[0], account)

	dev := []string{flows.CleanText(w.Device.Name)}
	for _, x := range []string{w.Device.Model, w.Device.OS} {
		if x != "" {
			dev = append(dev, flows.CleanText(x))
		}
	}
	row(labels[1], strings.Join(dev, " · "))

	syncText := sh.T("summary.not_saved")
	if w.Sync != nil {
		if !w.Sync.AutoSync {
			syncText = sh.T("summary.sync_off")
		} else {
			names := make([]string, 0, len(w.Sync.Categories))
			for _, c := range w.Sync.Categories {
				names = append(names, sh.T("sync.cat."+c))
			}
			syncText = sh.T("summary.sync_on") + " · " + strings.Join(names, sh.T("common.list_sep"))
			if w.Sync.WifiOnly {
				syncText += " · " + sh.T("summary.wifi_only")
			}
		}
		if w.SyncQueued {
			syncText += " · " + sh.T("summary.queued")
		}
	}
	row(labels[2], syncText)
	if w.Sync != nil {
		if warn := sh.wifiWarning(*w.Sync); warn != "" {
			b.WriteString(strings.Repeat(" ", 2+lw) + sh.paragraph(sh.st.Warn, markWarn+" "+warn, 2+lw) + "\n")
		}
	}

	find := sh.T("summary.not_saved")
	if w.FindDevice != nil {
		find = sh.T("common.off")
		if *w.FindDevice {
			find = sh.T("common.on")
		}
		if w.FindDeviceQueued {
			find += " · " + sh.T("summary.queued")
		}
	}
	row(labels[3], find)

	b.WriteString("\n" + sh.st.Title.Render(sh.T("summary.next_steps")) + "\n")
	var tips []string
	if w.Account == nil || !w.Account.TOTPEnabled {
		tips = append(tips, sh.T("summary.tip_2fa"))
	}
	if w.Account == nil || (w.Account.RecoveryEmail == "" && w.Account.RecoveryPhone == "") {
		tips = append(tips, sh.T("summary.tip_recovery"))
	}
	tips = append(tips, sh.T("summary.tip_devices"))
	for _, t := range tips {
		b.WriteString("  • " + sh.paragraph(sh.st.Text, t, 4) + "\n")
	}
	switch {
	case s.plain:
	case sh.hubReady():
		b.WriteString("\n" + sh.paragraph(sh.st.Muted, sh.T("summary.finish_hub"), 0))
	default:
		b.WriteString("\n" + sh.paragraph(sh.st.Muted, sh.T("summary.finish"), 0))
	}
	return strings.TrimRight(b.String(), "\n")
}
