package ui

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
)

// The account hub's pages (GUIDE sections 6, 7, 8 and 10). Each reads what
// it shows, then builds its step: one description, drawn full screen by
// stepView and as plain prompts by plain.runPages.

// hubHome is the overview: who is signed in, this device, the security
// checkup with each missing item one key from its fix, and the hub's other
// pages.
func (sh *shared) hubHome() page {
	m, sessions, this, now := sh.deps.Manager, sh.deps.Sessions, sh.wiz.DeviceID, sh.now()
	return func(ctx context.Context) (func() *step, error) {
		if m.Token() == "" && sessions != nil {
			// misetup account: the session this device keeps.
			if _, ok, err := flows.Restore(ctx, m, sessions); err != nil || !ok {
				return nil, cmp.Or(err, error(&flows.UserError{Key: flows.ErrKeyUnauthorized, AttemptsLeft: -1}))
			}
		}
		acc, err := m.Account(ctx)
		if err != nil {
			return nil, flows.Explain(err)
		}
		devs, err := m.Devices(ctx)
		if err != nil {
			return nil, flows.Explain(err)
		}
		check := flows.SecurityCheckup(acc, devs, this, now)
		var dev *api.Device
		if it, ok := check.Item(flows.CheckupFindDevice); ok {
			dev = it.Device
		}
		return func() *step { return sh.hubHomeStep(acc, dev, check) }, nil
	}
}

func (sh *shared) hubHomeStep(acc api.Account, dev *api.Device, check flows.Checkup) *step {
	type entry struct {
		label string
		to    page
	}
	var entries []entry
	for _, it := range check.Items {
		if it.OK {
			continue
		}
		switch it.ID {
		case flows.CheckupTwoStep:
			entries = append(entries, entry{sh.T("hub.fix.two_step"), sh.hubTwoStep()})
		case flows.CheckupRecovery:
			entries = append(entries, entry{sh.T("hub.fix.recovery"), sh.hubRecovery()})
		case flows.CheckupDevices:
			entries = append(entries, entry{sh.T("hub.fix.devices", "n", len(it.Stale)), sh.hubDevices()})
		case flows.CheckupFindDevice:
			if it.Device != nil {
				entries = append(entries, entry{sh.T("hub.fix.find_device"), sh.hubFindDeviceSwitch(*it.Device)})
			}
		}
	}
	entries = append(entries,
		entry{sh.T("hub.profile.title"), sh.hubProfile()},
		entry{sh.T("hub.password.title"), sh.hubPassword()},
		entry{sh.T("hub.devices.title"), sh.hubDevices()},
		entry{sh.T("hub.two_step.title"), sh.hubTwoStep()},
		entry{sh.T("hub.recovery.title"), sh.hubRecovery()},
		entry{sh.T("hub.storage.title"), sh.hubStorage()},
		entry{sh.T("hub.done"), nil},
	)
	labels := make([]string, len(entries))
	for i, e := range entries {
		labels[i] = e.label
	}
	return &step{
		title: sh.T("hub.home.title"),
		body: func(int) string {
			return sh.hubHomeBody(acc, dev, check)
		},
		fields:  []field{{key: "to", kind: fieldMenu, options: labels}},
		instant: true,
		run: func(_ context.Context, v values) (outcome, error) {
			e := entries[v.index("to")]
			if e.to == nil {
				return outcome{quit: true}, nil
			}
			return outcome{next: e.to}, nil
		},
	}
}

func (sh *shared) hubHomeBody(acc api.Account, dev *api.Device, check flows.Checkup) string {
	var b strings.Builder
	lw := labelWidth(sh.T("hub.signed_in"), sh.T("hub.this_device"))
	b.WriteString(sh.valueLine(sh.T("hub.signed_in"), lw, accountLabel(acc)) + "\n")
	name := sh.T("hub.not_linked")
	if dev != nil {
		name = flows.CleanText(dev.Name)
	}
	b.WriteString(sh.valueLine(sh.T("hub.this_device"), lw, name) + "\n\n")
	passed, total := check.Score()
	b.WriteString(sh.st.Title.Render(sh.T("hub.checkup", "n", passed, "m", total)) + "\n")
	for _, it := range check.Items {
		b.WriteString("  " + sh.mark(it.OK) + " " + sh.paragraph(sh.st.Text, sh.checkupText(it), 4) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// checkupText says what a checkup item found.
func (sh *shared) checkupText(it flows.CheckupItem) string {
	state := "off"
	if it.OK {
		state = "on"
	}
	switch it.ID {
	case flows.CheckupRecovery:
		if it.OK {
			return sh.T("hub.check.recovery.on", "contact", firstNonEmpty(it.RecoveryEmail, it.RecoveryPhone))
		}
	case flows.CheckupDevices:
		if !it.OK {
			names := make([]string, len(it.Stale))
			for i, d := range it.Stale {
				names[i] = flows.CleanText(d.Name)
			}
			return sh.T("hub.check.devices.off", "n", len(it.Stale), "names", strings.Join(names, sh.T("common.list_sep")))
		}
	}
	return sh.T("hub.check." + it.ID + "." + state)
}

// reading is a page that reads one thing from the service, then makes its
// step from it.
func reading[T any](read func(ctx context.Context) (T, error), build func(T) *step) page {
	return func(ctx context.Context) (func() *step, error) {
		v, err := read(ctx)
		if err != nil {
			return nil, flows.Explain(err)
		}
		return func() *step { return build(v) }, nil
	}
}

// valueLine is "Label   value" for a page's facts.
func (sh *shared) valueLine(label string, lw int, value string) string {
	return "  " + sh.st.Label.Render(padRight(label, lw)) + sh.st.Value.Render(value)
}

// hubProfile edits the display name, region and language.
func (sh *shared) hubProfile() page {
	m := sh.deps.Manager
	return reading(m.Account, func(acc api.Account) *step {
		langs := assets.Languages()
		names := make([]string, len(langs))
		cur := 0
		for i, l := range langs {
			names[i] = assets.Name(l)
			if l == acc.Language {
				cur = i
			}
		}
		return &step{
			title: sh.T("hub.profile.title"),
			body: func(int) string {
				return sh.paragraph(sh.st.Muted, sh.T("hub.profile.intro", "id", acc.MiID), 0)
			},
			fields: []field{
				{key: "name", kind: fieldText, label: sh.T("hub.profile.name"), value: acc.DisplayName, limit: 64,
					placeholder: sh.T("hub.profile.name_placeholder")},
				{key: "region", kind: fieldText, label: sh.T("hub.profile.region"), value: acc.Region, limit: 2,
					placeholder: "CN"},
				{key: "lang", kind: fieldChoice, label: sh.T("hub.profile.language"), options: names, value: fmt.Sprint(cur)},
			},
			submit: sh.T("hub.save"),
			busy:   sh.T("find.saving"),
			run: func(ctx context.Context, v values) (outcome, error) {
				lang := langs[max(v.index("lang"), 0)]
				if _, err := flows.SaveProfile(ctx, m, v.text("name"), strings.ToUpper(v.text("region")), lang); err != nil {
					return outcome{}, err
				}
				return outcome{back: 1, note: flows.T("hub.profile.saved")}, nil
			},
		}
	})
}

// hubPassword changes the password, with the create form's live checklist.
func (sh *shared) hubPassword() page {
	m := sh.deps.Manager
	return staticPage(func() *step {
		return &step{
			title: sh.T("hub.password.title"),
			body: func(int) string {
				return sh.paragraph(sh.st.Muted, sh.T("hub.password.intro"), 0)
			},
			fields: []field{
				{key: "current_password", kind: fieldSecret, label: sh.T("hub.password.current")},
				{key: "new_password", kind: fieldSecret, label: sh.T("hub.password.new"),
					placeholder: sh.T("create.password_placeholder", "min", flows.PasswordMinLen),
					hint:        func(v values) string { return sh.passwordChecklist(v.text("new_password"), v.text("confirm"), "") }},
				{key: "confirm", kind: fieldSecret, label: sh.T("create.confirm")},
			},
			submit: sh.T("hub.password.submit"),
			busy:   sh.T("hub.password.busy"),
			check: func(v values) error {
				return flows.CheckPasswordChange(v.text("current_password"), v.text("new_password"), v.text("confirm"))
			},
			run: func(ctx context.Context, v values) (outcome, error) {
				n, err := flows.ChangePassword(ctx, m, v.text("current_password"), v.text("new_password"), v.text("confirm"))
				if err != nil {
					return outcome{}, err
				}
				return outcome{back: 1, note: flows.T("hub.password.changed", "n", n)}, nil
			},
		}
	})
}

// hubDevices lists the linked devices; choosing one opens its page.
func (sh *shared) hubDevices() page {
	m, now := sh.deps.Manager, sh.now()
	return reading(m.Devices, func(devs []api.Device) *step {
		labels := make([]string, len(devs))
		for i, d := range devs {
			labels[i] = sh.deviceLine(d, now)
		}
		return &step{
			title: sh.T("hub.devices.title"),
			body: func(int) string {
				return sh.paragraph(sh.st.Muted, sh.T("hub.devices.intro", "n", len(devs)), 0)
			},
			fields:  []field{{key: "dev", kind: fieldMenu, options: labels}},
			instant: true,
			run: func(_ context.Context, v values) (outcome, error) {
				return outcome{next: sh.hubDevice(devs[v.index("dev")].ID)}, nil
			},
		}
	})
}

// deviceLine is a device in a list: name, this device marked, last seen,
// Find Device.
func (sh *shared) deviceLine(d api.Device, now time.Time) string {
	parts := []string{flows.CleanText(d.Name)}
	if d.Current {
		parts[0] += " (" + sh.T("hub.this_device_short") + ")"
	}
	parts = append(parts, sh.seen(d, now))
	if d.FindDevice {
		parts = append(parts, sh.T("hub.find_on"))
	}
	return strings.Join(parts, " · ")
}

// seen says when a device was last seen, in days.
func (sh *shared) seen(d api.Device, now time.Time) string {
	switch {
	case d.Current:
		return sh.T("hub.seen.now")
	case d.LastSeen == nil:
		return sh.T("hub.seen.never")
	}
	days := int(now.Sub(*d.LastSeen) / (24 * time.Hour))
	if days < 1 {
		return sh.T("hub.seen.today")
	}
	return sh.T("hub.seen.days", "n", days)
}

// findDevice reads a device from the list (the service has no read of one).
func findDevice(ctx context.Context, m flows.Manager, id string) (api.Device, api.FindDevice, error) {
	devs, err := m.Devices(ctx)
	if err != nil {
		return api.Device{}, api.FindDevice{}, flows.Explain(err)
	}
	for _, d := range devs {
		if d.ID == id {
			fd, err := m.FindDevice(ctx, id)
			if err != nil {
				return d, api.FindDevice{}, flows.Explain(err)
			}
			return d, fd, nil
		}
	}
	return api.Device{}, api.FindDevice{}, &flows.UserError{Key: flows.ErrKeyNotFound, AttemptsLeft: -1}
}

// hubDevice is one linked device: its facts and what can be done to it.
func (sh *shared) hubDevice(id string) page {
	m, now := sh.deps.Manager, sh.now()
	return func(ctx context.Context) (func() *step, error) {
		d, fd, err := findDevice(ctx, m, id)
		if err != nil {
			return nil, err
		}
		return func() *step {
			type action struct {
				label string
				to    page
			}
			actions := []action{
				{sh.T("hub.action.locate"), sh.hubSend(d, flows.CommandLocate)},
				{sh.T("hub.action.ring"), sh.hubSend(d, flows.CommandRing)},
				{sh.T("hub.action.lock"), sh.hubLock(d)},
				{sh.T("hub.action.erase"), sh.hubErase(d)},
				{sh.T("hub.action.find_device"), sh.hubFindDeviceSwitch(d)},
				{sh.T("hub.action.rename"), sh.hubRename(d)},
				{sh.T("hub.action.remove"), sh.hubRemove(d)},
			}
			labels := make([]string, len(actions))
			for i, a := range actions {
				labels[i] = a.label
			}
			return &step{
				title:   flows.CleanText(d.Name),
				body:    func(int) string { return sh.deviceFacts(d, fd, now) },
				fields:  []field{{key: "do", kind: fieldMenu, options: labels}},
				instant: true,
				run: func(_ context.Context, v values) (outcome, error) {
					return outcome{next: actions[v.index("do")].to}, nil
				},
			}
		}, nil
	}
}

func (sh *shared) deviceFacts(d api.Device, fd api.FindDevice, now time.Time) string {
	labels := []string{sh.T("hub.device.model"), sh.T("hub.device.os"), sh.T("hub.device.seen"),
		sh.T("find.toggle"), sh.T("hub.device.location")}
	lw := labelWidth(labels...)
	onOff := sh.T("common.off")
	if fd.Enabled {
		onOff = sh.T("common.on")
	}
	loc := sh.T("hub.location.none")
	if l := fd.LastLocation; l != nil {
		loc = sh.locationText(*l, now)
	}
	lines := []string{
		sh.valueLine(labels[0], lw, firstNonEmpty(flows.CleanText(d.Model), "—")),
		sh.valueLine(labels[1], lw, firstNonEmpty(flows.CleanText(d.OS), "—")),
		sh.valueLine(labels[2], lw, sh.seen(d, now)),
		sh.valueLine(labels[3], lw, onOff),
		sh.valueLine(labels[4], lw, loc),
	}
	if d.Current {
		lines = append(lines, "", sh.paragraph(sh.st.Muted, sh.T("hub.device.is_this"), 0))
	}
	return strings.Join(lines, "\n")
}

// locationText is a reported location and when it was reported.
func (sh *shared) locationText(l api.Location, now time.Time) string {
	ago := max(int(now.Sub(l.ReportedAt)/time.Minute), 0)
	return sh.T("hub.location", "lat", fmt.Sprintf("%.4f", l.Lat), "lon", fmt.Sprintf("%.4f", l.Lon), "min", ago)
}

// hubRename gives a device a new name.
func (sh *shared) hubRename(d api.Device) page {
	m := sh.deps.Manager
	return staticPage(func() *step {
		return &step{
			title:  sh.T("hub.rename.title", "name", flows.CleanText(d.Name)),
			fields: []field{{key: "name", kind: fieldText, label: sh.T("device.name"), value: flows.CleanText(d.Name), limit: 64}},
			submit: sh.T("hub.save"),
			busy:   sh.T("find.saving"),
			run: func(ctx context.Context, v values) (outcome, error) {
				if _, err := flows.RenameDevice(ctx, m, d.ID, v.text("name")); err != nil {
					return outcome{}, err
				}
				return outcome{back: 1, note: flows.T("hub.rename.done")}, nil
			},
		}
	})
}

// hubRemove unlinks a device after asking; its session ends.
func (sh *shared) hubRemove(d api.Device) page {
	m := sh.deps.Manager
	return staticPage(func() *step {
		key := "hub.remove.body"
		if d.Current {
			key = "hub.remove.body_this"
		}
		return &step{
			title: sh.T("hub.remove.title", "name", flows.CleanText(d.Name)),
			body:  func(int) string { return sh.paragraph(sh.st.Warn, sh.T(key, "name", flows.CleanText(d.Name)), 0) },
			fields: []field{{key: "sure", kind: fieldMenu, options: []string{
				sh.T("hub.remove.keep"), sh.T("hub.remove.confirm", "name", flows.CleanText(d.Name))}}},
			run: func(ctx context.Context, v values) (outcome, error) {
				if v.index("sure") != 1 {
					return outcome{back: 1}, nil
				}
				if err := flows.RemoveDevice(ctx, m, d.ID); err != nil {
					return outcome{}, err
				}
				if d.Current {
					return outcome{quit: true}, nil
				}
				return outcome{back: 2, note: flows.T("hub.remove.done", "name", flows.CleanText(d.Name))}, nil
			},
		}
	})
}

// hubFindDeviceSwitch turns Find Device on or off for a device.
func (sh *shared) hubFindDeviceSwitch(d api.Device) page {
	m := sh.deps.Manager
	return reading(func(ctx context.Context) (api.FindDevice, error) { return m.FindDevice(ctx, d.ID) }, func(fd api.FindDevice) *step {
		return &step{
			title: sh.T("hub.find.title", "name", flows.CleanText(d.Name)),
			body: func(int) string {
				return sh.paragraph(sh.st.Muted, sh.T("find.security_tip"), 0)
			},
			fields: []field{{key: "on", kind: fieldToggle, label: sh.T("find.toggle"), value: onValue(fd.Enabled)}},
			submit: sh.T("hub.save"),
			busy:   sh.T("find.saving"),
			run: func(ctx context.Context, v values) (outcome, error) {
				if _, err := flows.SaveFindDevice(ctx, m, d.ID, v.on("on")); err != nil {
					return outcome{}, err
				}
				return outcome{back: 1, note: flows.T("hub.find.saved")}, nil
			},
		}
	})
}

// hubSend sends locate or ring at once and follows it.
func (sh *shared) hubSend(d api.Device, kind string) page {
	m := sh.deps.Manager
	return func(ctx context.Context) (func() *step, error) {
		c, err := flows.SendCommand(ctx, m, d, kind, "", "", "")
		if err != nil {
			return nil, err
		}
		return sh.hubCommand(d, c), nil
	}
}

// hubLock asks for a message and the password, then locks.
func (sh *shared) hubLock(d api.Device) page {
	m := sh.deps.Manager
	return staticPage(func() *step {
		return &step{
			title: sh.T("hub.lock.title", "name", flows.CleanText(d.Name)),
			body:  func(int) string { return sh.paragraph(sh.st.Muted, sh.T("hub.lock.intro"), 0) },
			fields: []field{
				{key: "message", kind: fieldText, label: sh.T("hub.lock.message"), placeholder: sh.T("hub.lock.placeholder"), limit: 200},
				{key: "password", kind: fieldSecret, label: sh.T("hub.password.current")},
			},
			submit: sh.T("hub.lock.submit"),
			busy:   sh.T("hub.sending"),
			check: func(v values) error {
				return flows.CheckCommand(d, flows.CommandLock, v.text("password"), "")
			},
			run: func(ctx context.Context, v values) (outcome, error) {
				c, err := flows.SendCommand(ctx, m, d, flows.CommandLock, v.text("message"), v.text("password"), "")
				if err != nil {
					return outcome{}, err
				}
				return outcome{next: staticPage(sh.hubCommand(d, c)), replace: true}, nil
			},
		}
	})
}

// hubErase asks for the device's name typed and the password, then erases.
func (sh *shared) hubErase(d api.Device) page {
	m := sh.deps.Manager
	return staticPage(func() *step {
		name := flows.CleanText(d.Name)
		return &step{
			title: sh.T("hub.erase.title", "name", name),
			body:  func(int) string { return sh.paragraph(sh.st.Warn, sh.T("hub.erase.intro", "name", name), 0) },
			fields: []field{
				{key: "name", kind: fieldText, label: sh.T("hub.erase.type_name"), placeholder: name, limit: 64},
				{key: "password", kind: fieldSecret, label: sh.T("hub.password.current")},
			},
			submit: sh.T("hub.erase.submit"),
			busy:   sh.T("hub.sending"),
			check: func(v values) error {
				return flows.CheckCommand(d, flows.CommandErase, v.text("password"), v.text("name"))
			},
			run: func(ctx context.Context, v values) (outcome, error) {
				c, err := flows.SendCommand(ctx, m, d, flows.CommandErase, "", v.text("password"), v.text("name"))
				if err != nil {
					return outcome{}, err
				}
				return outcome{next: staticPage(sh.hubCommand(d, c)), replace: true}, nil
			},
		}
	})
}

// hubCommand follows a command live until it is done or failed.
func (sh *shared) hubCommand(d api.Device, c api.Command) func() *step {
	m := sh.deps.Manager
	return func() *step {
		start := c
		return &step{
			title: sh.T("hub.command.title", "action", sh.T("hub.action."+start.Type), "name", flows.CleanText(d.Name)),
			body: func(int) string {
				return sh.paragraph(sh.st.Muted, sh.T("hub.command.intro"), 0)
			},
			watch: func(ctx context.Context) (func() string, bool, error) {
				cur, err := flows.FollowCommand(ctx, m, d.ID, start.ID)
				if err != nil {
					return nil, false, err
				}
				return func() string { return sh.commandStatus(cur, flows.CleanText(d.Name)) }, flows.CommandEnded(cur), nil
			},
		}
	}
}

// commandStatus says where a command is.
func (sh *shared) commandStatus(c api.Command, name string) string {
	switch c.State {
	case flows.CommandDone:
		if c.Location != nil {
			return markOK + " " + sh.T("hub.command.located", "where", sh.locationText(*c.Location, c.Location.ReportedAt))
		}
		return markOK + " " + sh.T("hub.command.done."+c.Type, "name", name, "result", flows.CleanText(c.Result))
	case flows.CommandFailed:
		return markFail + " " + sh.T("hub.command.failed", "reason", firstNonEmpty(flows.CleanText(c.Result), "—"))
	case flows.CommandDelivered:
		return sh.T("hub.command.delivered", "name", name)
	}
	return sh.T("hub.command.pending", "name", name)
}

// hubRecovery shows the recovery contacts and adds one.
func (sh *shared) hubRecovery() page {
	m := sh.deps.Manager
	return reading(m.Account, func(acc api.Account) *step {
		return &step{
			title: sh.T("hub.recovery.title"),
			body: func(int) string {
				lw := labelWidth(sh.T("hub.recovery.email"), sh.T("hub.recovery.phone"))
				none := sh.T("hub.recovery.none")
				return sh.paragraph(sh.st.Muted, sh.T("hub.recovery.intro"), 0) + "\n\n" +
					sh.valueLine(sh.T("hub.recovery.email"), lw, firstNonEmpty(acc.RecoveryEmail, none)) + "\n" +
					sh.valueLine(sh.T("hub.recovery.phone"), lw, firstNonEmpty(acc.RecoveryPhone, none))
			},
			fields:  []field{{key: "how", kind: fieldMenu, options: []string{sh.T("hub.recovery.add_email"), sh.T("hub.recovery.add_phone")}}},
			instant: true,
			run: func(_ context.Context, v values) (outcome, error) {
				method := api.MethodEmail
				if v.index("how") == 1 {
					method = api.MethodPhone
				}
				return outcome{next: sh.hubRecoveryAdd(method, acc.Region)}, nil
			},
		}
	})
}

// hubRecoveryAdd asks for the new contact, then its code.
func (sh *shared) hubRecoveryAdd(method, region string) page {
	m := sh.deps.Manager
	region = firstNonEmpty(region, sh.wiz.Region)
	return staticPage(func() *step {
		label := sh.T("hub.recovery.email")
		if method == api.MethodPhone {
			label = sh.T("hub.recovery.phone")
		}
		return &step{
			title:  sh.T("hub.recovery.add_" + method),
			fields: []field{{key: "to", kind: fieldText, label: label, limit: 254}},
			submit: sh.T("hub.recovery.send"),
			busy:   sh.T("hub.sending"),
			check: func(v values) error {
				_, err := flows.ValidateIdentifier(method, v.text("to"), region)
				return err
			},
			run: func(ctx context.Context, v values) (outcome, error) {
				ch, err := flows.AddRecovery(ctx, m, method, v.text("to"), region)
				if err != nil {
					return outcome{}, err
				}
				return outcome{next: sh.hubRecoveryCode(ch)}, nil
			},
		}
	})
}

// hubRecoveryCode asks for the code sent to the new contact.
func (sh *shared) hubRecoveryCode(ch api.Challenge) page {
	m := sh.deps.Manager
	return staticPage(func() *step {
		return &step{
			title: sh.T("hub.recovery.code_title"),
			body: func(int) string {
				return sh.paragraph(sh.st.Text, sh.T("hub.recovery.code_sent", "to", ch.Destination), 0)
			},
			fields: []field{{key: "code", kind: fieldText, label: sh.T("hub.code"), limit: flows.CodeLength, placeholder: "123456"}},
			submit: sh.T("hub.verify"),
			busy:   sh.T("hub.verifying"),
			run: func(ctx context.Context, v values) (outcome, error) {
				if err := flows.VerifyRecovery(ctx, m, ch.ID, v.text("code")); err != nil {
					return outcome{}, err
				}
				return outcome{back: 2, note: flows.T("hub.recovery.verified", "to", ch.Destination)}, nil
			},
		}
	})
}

// hubStorage shows the quota and the use by category as bars.
func (sh *shared) hubStorage() page {
	m := sh.deps.Manager
	return reading(m.Storage, func(st api.Storage) *step {
		return &step{
			title: sh.T("hub.storage.title"),
			body:  func(int) string { return sh.storageBars(st) },
		}
	})
}

// storageBars is the quota as a bar, then each category's use.
func (sh *shared) storageBars(st api.Storage) string {
	cats := make([]string, 0, len(st.ByCategory))
	labels := []string{sh.T("sync.storage")}
	for _, c := range api.Categories {
		if _, ok := st.ByCategory[c]; ok {
			cats = append(cats, c)
			labels = append(labels, sh.T("sync.cat."+c))
		}
	}
	lw := labelWidth(labels...)
	var b strings.Builder
	b.WriteString("  " + sh.st.Label.Render(padRight(labels[0], lw)) + sh.bar(st.UsedBytes, st.QuotaBytes, 20) + "  " +
		sh.st.Text.Render(sh.T("sync.used_of", "used", flows.FormatBytes(st.UsedBytes), "quota", flows.FormatBytes(st.QuotaBytes))) + "\n\n")
	for i, c := range cats {
		n := st.ByCategory[c]
		b.WriteString("  " + sh.st.Label.Render(padRight(labels[i+1], lw)) + sh.bar(n, max(st.UsedBytes, 1), 20) + "  " +
			sh.st.Text.Render(flows.FormatBytes(n)) + "\n")
	}
	if len(cats) == 0 {
		b.WriteString(sh.paragraph(sh.st.Muted, sh.T("hub.storage.empty"), 0))
	}
	return strings.TrimRight(b.String(), "\n")
}

// bar is part of whole as a bar w cells wide; anything above nothing shows
// at least one cell.
func (sh *shared) bar(part, whole int64, w int) string {
	filled := 0
	if whole > 0 {
		filled = min(int(float64(part)/float64(whole)*float64(w)+0.5), w)
	}
	if part > 0 {
		filled = max(filled, 1)
	}
	return sh.st.Selected.Render(strings.Repeat("█", filled)) + sh.st.Rule.Render(strings.Repeat("░", w-filled))
}
