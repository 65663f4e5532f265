package ui

import (
	"context"
	"slices"

	"misetup/api"
	"misetup/flows"
)

// newSyncScreen is step 6 (GUIDE section 5): "Sync automatically", what to
// sync, "Sync over Wi-Fi only", storage used of quota; saved for this
// device. Each time it is shown it reads what the device has saved (the
// store's defaults, said to be the store's, when nothing is), so a fix
// saved by troubleshooting meanwhile shows.
func newSyncScreen(sh *shared) *stepScreen {
	intro := func() string { return sh.paragraph(sh.st.Text, sh.T("sync.intro"), 0) }
	return newPageStep(sh, flows.StepSync, sh.syncPage, intro, "sync.loading")
}

// syncPage reads the device's sync settings and storage, for syncStep.
func (sh *shared) syncPage() page {
	cloud, id, net := sh.deps.Cloud, sh.wiz.DeviceID, sh.wiz.Network
	return func(ctx context.Context) (func() *step, error) {
		c, err := flows.LoadSync(ctx, cloud, id, net)
		if err != nil {
			return nil, err
		}
		return func() *step { return sh.syncStep(c) }, nil
	}
}

// syncStep describes the Mi Cloud step from what the device has saved.
func (sh *shared) syncStep(c flows.SyncChoice) *step {
	prefilled := !c.Saved // the store's defaults fill in what was never saved
	sh.applySyncDefaults(&c)
	storage := c.Storage
	sh.wiz.Storage = &storage
	d := sh.defaults()
	var catsFrom, wifiFrom string
	if prefilled && d.Categories != nil {
		catsFrom = sh.byStore()
	}
	if prefilled && d.WifiOnly != nil {
		wifiFrom = sh.byStore()
	}
	names := make([]string, len(api.Categories))
	for i, cat := range api.Categories {
		names[i] = sh.T("sync.cat." + cat)
		if slices.Contains(flows.PhoneOnly, cat) {
			names[i] += "*" // a phone's: see the note under them
		}
	}
	cloud, id, cacheDir, stateDir := sh.deps.Cloud, sh.wiz.DeviceID, sh.deps.CacheDir, sh.deps.StateDir
	restore, newAccount := sh.deps.Restore, sh.wiz.NewAccount
	saved := func(settings api.SyncSettings, queued bool) outcome {
		return outcome{to: flows.StepFindDevice, apply: func(sh *shared) { sh.wiz.Sync, sh.wiz.SyncQueued = &settings, queued }}
	}
	st := &step{
		body: func(int) string { return sh.paragraph(sh.st.Text, sh.T("sync.intro"), 0) },
		fields: []field{
			{key: "auto", kind: fieldToggle, label: sh.T("sync.auto"), value: onValue(c.Settings.AutoSync)},
			{key: "categories", kind: fieldChecks, label: sh.T("sync.what"), options: names, choices: api.Categories,
				value: checksValue(api.Categories, c.Settings.Categories), from: catsFrom, fromWith: []string{"auto"},
				off: func(v values) bool { return !v.on("auto") }, on: []string{flows.ErrKeyNoCategories},
				note: func(values) string { return sh.paragraph(sh.st.Muted, sh.T("sync.phone_only"), 6) }},
			{key: "wifi", kind: fieldToggle, label: sh.T("sync.wifi_only"), value: onValue(c.Settings.WifiOnly), from: wifiFrom,
				note: func(v values) string {
					switch warn := sh.wifiWarning(syncSettings(v)); {
					case warn != "":
						return sh.paragraph(sh.st.Warn, markWarn+" "+warn, 6)
					case c.WifiOnlyRecommended:
						return sh.st.Warn.Render(sh.T("sync.wifi_recommended_mobile"))
					}
					return sh.st.Muted.Render(sh.T("sync.wifi_tip"))
				},
				hint: func(values) string { return sh.storageLine(storage) }},
		},
		submit: sh.T("sync.submit"), submitKey: "key.save", busy: sh.T("sync.saving"), arrows: true,
		check: func(v values) error {
			if s := syncSettings(v); s.AutoSync && len(s.Categories) == 0 {
				return &flows.UserError{Key: flows.ErrKeyNoCategories, AttemptsLeft: -1}
			}
			return nil
		},
		// Wi-Fi only where nothing would then sync: said before saving,
		// with the choice to keep it.
		ask: func(v values) *question {
			warn := sh.wifiWarning(syncSettings(v))
			if warn == "" {
				return nil
			}
			return &question{title: sh.T("sync.wifi_keep_q"), body: sh.T("sync.wifi_keep_body"), say: warn,
				yes: "key.keep", no: "key.turn_off", about: "wifi", change: func(v values) { v["wifi"] = "" }}
		},
		run: func(ctx context.Context, v values) (outcome, error) {
			out, err := saveSync(ctx, cloud, id, syncSettings(v), cacheDir)
			if err != nil {
				return outcome{}, err
			}
			// Signed in on a device of an account with backups: "Restore
			// from Mi Cloud" comes next (a new account has none). What
			// cannot be read now is not worth stopping for.
			if restore != nil && !newAccount {
				if bs, err := restore.Backups(ctx); err == nil && len(bs) > 0 {
					o := saved(out, false)
					apply := o.apply
					o.to, o.apply = flows.StepRestore, func(sh *shared) { apply(sh); sh.wiz.Backups = bs }
					return o, nil
				}
			}
			return saved(out, false), nil
		},
	}
	if stateDir != "" {
		// Saved by the next run or misetup agent; the wizard goes on.
		st.later = func(v values) (outcome, error) {
			s := syncSettings(v)
			if err := flows.QueueIn(stateDir).QueueSync(id, s); err != nil {
				return outcome{}, err
			}
			return saved(s, true), nil
		}
	}
	return st
}

// syncSettings are the settings the sync step's values choose.
func syncSettings(v values) api.SyncSettings {
	return api.SyncSettings{AutoSync: v.on("auto"), WifiOnly: v.on("wifi"), Categories: v.checked("categories")}
}

// saveSync saves the sync settings of this device, both renderings' way,
// keeping the cached copy beside.
func saveSync(ctx context.Context, cloud flows.Cloud, id string, settings api.SyncSettings, cacheDir string) (api.SyncSettings, error) {
	out, err := flows.SaveSync(ctx, cloud, id, settings)
	if err == nil && cacheDir != "" {
		// The copy troubleshooting's "clear cache and retry" compares
		// with the service's; a cache, not worth failing the save for.
		_ = flows.SaveSyncCache(cacheDir, id, out)
	}
	return out, err
}

// wifiWarning is flows.WifiOnlyWarning for settings on this device, in
// words; "" when there is nothing to say.
func (sh *shared) wifiWarning(settings api.SyncSettings) string {
	t := flows.WifiOnlyWarning(settings, sh.wiz.Network, sh.wiz.Iface)
	if t.IsZero() {
		return ""
	}
	return sh.Text(t)
}

// storageLine is the storage used of the quota, with a bar.
func (sh *shared) storageLine(st api.Storage) string {
	label := sh.st.Label.Render(sh.T("sync.storage") + "  ")
	if st.QuotaBytes <= 0 {
		return "  " + label + sh.st.Text.Render(flows.FormatBytes(st.UsedBytes))
	}
	bar := sh.meter(float64(st.UsedBytes)/float64(st.QuotaBytes), 20, st.UsedBytes > 0)
	return "  " + label + sh.st.Text.Render(sh.T("sync.used_of", "used", flows.FormatBytes(st.UsedBytes), "quota", flows.FormatBytes(st.QuotaBytes))) + "  " + bar
}
