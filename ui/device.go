package ui

import (
	"context"

	"misetup/flows"
)

// deviceStep is step 3: this device's name, model and OS, read from the
// system and editable. They are sent with the sign-in, which links the
// device to the account; once signed in, a new name renames it there. One
// description, drawn full screen by stepView and as plain prompts by
// plain.runStep.
func (sh *shared) deviceStep() *step {
	d := sh.wiz.Device
	cloud, id := sh.deps.Cloud, sh.wiz.DeviceID
	signedIn, linkedName := sh.wiz.Account != nil, d.Name
	var from string
	if n := sh.defaults().DeviceName; n != "" && d.Name == n {
		from = sh.byStore()
	}
	return &step{
		body: func(int) string { return sh.paragraph(sh.st.Text, sh.T("device.intro"), 0) },
		fields: []field{
			{key: "name", kind: fieldText, label: sh.T("device.name"), placeholder: sh.T("device.name_placeholder"), limit: 64, value: d.Name, from: from},
			{key: "model", kind: fieldText, label: sh.T("device.model"), placeholder: sh.T("device.model_placeholder"), limit: 64, value: d.Model},
			{key: "os", kind: fieldText, label: sh.T("device.os"), placeholder: sh.T("device.os_placeholder"), limit: 64, value: d.OS},
		},
		submit:   sh.T("device.continue"),
		busy:     sh.T("device.renaming"),
		foot:     func() string { return sh.paragraph(sh.st.Muted, sh.T("device.note"), 0) },
		keepFoot: true,
		check: func(v values) error {
			_, err := flows.ValidateDevice(deviceOf(v))
			return err
		},
		run: func(ctx context.Context, v values) (outcome, error) {
			d, err := flows.ValidateDevice(deviceOf(v))
			if err != nil {
				return outcome{}, err
			}
			next := outcome{to: flows.StepAccount, apply: func(sh *shared) { sh.wiz.Device = d }}
			if !signedIn {
				return next, nil
			}
			next.to = flows.StepSync
			if d.Name != linkedName {
				// Already signed in: the device is linked, so rename it there too.
				if _, err := flows.RenameDevice(ctx, cloud, id, d.Name); err != nil {
					return outcome{}, err
				}
			}
			return next, nil
		},
	}
}

// deviceOf is the device step's answers.
func deviceOf(v values) flows.DeviceInfo {
	return flows.DeviceInfo{Name: v.text("name"), Model: v.text("model"), OS: v.text("os")}
}
