package ui

import (
	"context"
	"strings"

	"misetup/api"
	"misetup/flows"
)

// summaryStep is step 8: the account, the device, the sync choices, Find
// Device, and the guide's security tips as next steps; enter finishes, a
// opens the account hub. One description, drawn full screen by stepView
// and as plain text by plain.runStep (which has no keys to name).
func (sh *shared) summaryStep() *step {
	st := &step{
		body:      func(int) string { return sh.summaryText() },
		submitKey: "key.finish",
		instant:   true,
		footKeys:  true,
		foot: func() string {
			if sh.hubReady() {
				return sh.paragraph(sh.st.Muted, sh.T("summary.finish_hub"), 0)
			}
			return sh.paragraph(sh.st.Muted, sh.T("summary.finish"), 0)
		},
		run: func(context.Context, values) (outcome, error) { return outcome{quit: true}, nil },
	}
	if sh.hubReady() {
		st.keys = []stepKey{{key: "a", help: "key.hub", out: outcome{to: flows.StepHub}}}
	}
	// A summary reached by resuming a signed-in run reads the saved
	// choices, which this run did not make.
	w := sh.wiz
	if w.Account != nil && (w.Sync == nil || w.FindDevice == nil) && sh.deps.Cloud != nil {
		cloud, id := sh.deps.Cloud, w.DeviceID
		st.refresh = func(ctx context.Context) func(*shared) {
			var sync *api.SyncSettings
			var find *bool
			if c, err := flows.LoadSync(ctx, cloud, id, flows.NetworkUnknown); err == nil && c.Saved {
				sync = &c.Settings
			}
			if fd, err := flows.LoadFindDevice(ctx, cloud, id); err == nil {
				find = &fd.Enabled
			}
			return func(sh *shared) {
				if sh.wiz.Sync == nil {
					sh.wiz.Sync = sync
				}
				if sh.wiz.FindDevice == nil {
					sh.wiz.FindDevice = find
				}
			}
		}
	}
	return st
}

// summaryText is what the summary shows: the answers, then the next
// steps.
func (sh *shared) summaryText() string {
	w := sh.wiz
	var b strings.Builder
	b.WriteString(sh.st.OK.Render(markOK+" ") + sh.st.Title.Render(sh.T("summary.heading")) + "\n\n")

	labels := []string{sh.T("summary.account"), sh.T("summary.device"), sh.T("summary.sync"), sh.T("summary.find")}
	lw := labelWidth(append(labels, sh.T("summary.restored"))...)
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
	for i, r := range w.Restored { // a line each: "Notes: 3 items, 42 B" is never cut
		label := ""
		if i == 0 {
			label = sh.T("summary.restored")
		}
		row(label, sh.backupLine(r))
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
	if url := sh.portalURL(); url != "" {
		tips = append(tips, sh.T("summary.portal", "url", url))
	}
	for _, t := range tips {
		b.WriteString("  • " + sh.paragraph(sh.st.Text, t, 4) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
