package ui

import (
	"context"
	"fmt"
	"strings"

	"misetup/flows"
)

// findDeviceStep is step 7 (GUIDE section 6): what Find Device does, on by
// default with a recommendation, saved for this device; "Test it now"
// rings this device through the service. One description, drawn full
// screen by stepView and as plain prompts by plain.runStep. When the
// service cannot be reached, the choice is kept on disk and saved later
// (by the next run, or misetup agent): nothing chosen is lost.
func (sh *shared) findDeviceStep() *step {
	cloud, id := sh.deps.Cloud, sh.wiz.DeviceID
	on, from := true, ""
	switch d := sh.defaults().FindDevice; {
	case sh.wiz.FindDevice != nil:
		on = *sh.wiz.FindDevice // chosen in this run
	case d != nil:
		on, from = *d, sh.byStore()
	}
	st := &step{
		body: func(int) string {
			var b strings.Builder
			b.WriteString(sh.paragraph(sh.st.Text, sh.T("find.intro"), 0) + "\n")
			for _, k := range []string{"locate", "ring", "lock", "erase"} {
				b.WriteString("  • " + sh.paragraph(sh.st.Text, sh.T("find."+k), 4) + "\n")
			}
			if url := sh.portalURL(); url != "" {
				b.WriteString(sh.paragraph(sh.st.Muted, sh.T("find.web_portal", "url", url), 0))
			} else {
				b.WriteString(sh.paragraph(sh.st.Muted, sh.T("find.web"), 0))
			}
			return b.String()
		},
		fields: []field{{key: "on", kind: fieldToggle, label: sh.T("find.toggle"), value: onValue(on),
			note: func(v values) string {
				if v.on("on") {
					return sh.paragraph(sh.st.OK, sh.T("find.recommended"), 6)
				}
				return sh.paragraph(sh.st.Warn, sh.T("find.off_warning"), 6)
			},
			from: from}},
		submit:    sh.T("find.submit"),
		submitKey: "key.save",
		busy:      sh.T("find.saving"),
		foot:      func() string { return sh.paragraph(sh.st.Muted, sh.T("find.security_tip"), 0) },
		run: func(ctx context.Context, v values) (outcome, error) {
			fd, err := flows.SaveFindDevice(ctx, cloud, id, v.on("on"))
			if err != nil {
				return outcome{}, err
			}
			return findDeviceSaved(fd.Enabled, false), nil
		},
	}
	if dir := sh.deps.StateDir; dir != "" {
		st.later = func(v values) (outcome, error) {
			if err := flows.QueueIn(dir).QueueFindDevice(id, v.on("on")); err != nil {
				return outcome{}, err
			}
			return findDeviceSaved(v.on("on"), true), nil
		}
	}
	if drill := sh.deps.Drill; drill != nil {
		st.actions = []action{{label: sh.T("find.test"), busy: sh.T("find.testing"),
			run: func(ctx context.Context, v values) (outcome, error) {
				if !v.on("on") {
					return outcome{}, &flows.UserError{Key: flows.ErrKeyFindDeviceOff, AttemptsLeft: -1}
				}
				if _, err := flows.SaveFindDevice(ctx, cloud, id, true); err != nil {
					return outcome{}, err
				}
				took, err := drill(ctx)
				if err != nil {
					return outcome{}, flows.Explain(err)
				}
				return outcome{note: flows.T("find.tested", "s", fmt.Sprintf("%.1f", took.Seconds()))}, nil
			}}}
	}
	return st
}

// findDeviceSaved goes on to the summary with Find Device on or off, saved
// or queued.
func findDeviceSaved(on, queued bool) outcome {
	return outcome{to: flows.StepSummary, apply: func(sh *shared) {
		sh.wiz.FindDevice, sh.wiz.FindDeviceQueued = &on, queued
	}}
}
