package ui

import (
	"context"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// Focus positions of the sync screen: auto sync, the categories, Wi-Fi only,
// the button.
const (
	syAuto     = 0
	syCatFirst = 1
)

// syncScreen is step 6 (GUIDE section 5): "Sync automatically", what to
// sync, "Sync over Wi-Fi only", storage used of quota; saved for this
// device.
type syncScreen struct {
	sh       *shared
	choice   *flows.SyncChoice // nil while loading
	settings api.SyncSettings
	focus    int
	loading  bool
	saving   bool
	askWifi  bool // saving Wi-Fi only where nothing would sync: keep it?
	retry    retrier
	keepWifi bool // the person said to keep it
	// prefilled: the device had no settings saved, so the store's
	// defaults (Options.Defaults) filled the choice in.
	prefilled bool
	err       error
	spin      spinner.Model
}

func newSyncScreen(sh *shared) *syncScreen { return &syncScreen{sh: sh, spin: newSpinner(sh)} }

func (s *syncScreen) nCats() int   { return len(api.Categories) }
func (s *syncScreen) wifiPos() int { return syCatFirst + s.nCats() }
func (s *syncScreen) buttonPos() int {
	return s.wifiPos() + 1
}

// Init implements Screen: reads the settings the first time, and again
// when they changed meanwhile (a fix in troubleshooting saved them).
func (s *syncScreen) Init() tea.Cmd {
	if s.loading || s.saving || (s.choice != nil && !s.changedElsewhere()) {
		return nil
	}
	return s.load()
}

// changedElsewhere reports whether the service's settings for this device
// are no longer the ones the screen read: troubleshooting puts what it
// read or saved in wizardState.Sync.
func (s *syncScreen) changedElsewhere() bool {
	w := s.sh.wiz.Sync
	switch {
	case w == nil || s.choice == nil:
		return false
	case !s.choice.Saved:
		return w.UpdatedAt != nil // saved since: the defaults shown are stale
	}
	return !sameSync(*w, s.choice.Settings)
}

// sameSync compares two saved sync settings: the choices and when they
// were saved.
func sameSync(a, b api.SyncSettings) bool {
	if a.AutoSync != b.AutoSync || a.WifiOnly != b.WifiOnly {
		return false
	}
	if (a.UpdatedAt == nil) != (b.UpdatedAt == nil) || (a.UpdatedAt != nil && !a.UpdatedAt.Equal(*b.UpdatedAt)) {
		return false
	}
	ca, cb := slices.Clone(a.Categories), slices.Clone(b.Categories)
	slices.Sort(ca)
	slices.Sort(cb)
	return slices.Equal(ca, cb)
}

func (s *syncScreen) load() tea.Cmd {
	sh := s.sh
	s.loading, s.err = true, nil
	ctx, cancel := sh.callCtx()
	cloud, id, net := sh.deps.Cloud, sh.wiz.DeviceID, sh.wiz.Network
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		c, err := flows.LoadSync(ctx, cloud, id, net)
		return syncLoadedMsg{choice: c, err: err}
	})
}

// Update implements Screen.
func (s *syncScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case stylesChangedMsg:
		s.spin.Style = s.sh.st.Spinner
	case syncLoadedMsg:
		s.loading = false
		if msg.err != nil {
			s.err = msg.err
			return s, s.retry.failed(msg.err, s.sh.now(), s.load)
		}
		s.retry.stop()
		if s.err = msg.err; s.err == nil {
			c := msg.choice
			s.sh.applySyncDefaults(&c)
			s.choice, s.settings, s.prefilled = &c, c.Settings, !c.Saved
			st := c.Storage
			s.sh.wiz.Storage = &st
		}
		return s, nil
	case syncSavedMsg:
		s.saving = false
		if s.err = msg.err; s.err != nil {
			return s, s.retry.failed(msg.err, s.sh.now(), s.save)
		}
		s.retry.stop()
		saved := msg.settings
		s.sh.wiz.Sync, s.sh.wiz.SyncQueued = &saved, msg.queued
		if s.choice != nil { // what the service holds now: back here is not a change
			s.choice.Settings, s.choice.Saved = saved, true
		}
		s.prefilled = false // the person's answer now, saved
		return s, navigateCmd(flows.StepSync, flows.StepFindDevice)
	case retryTickMsg:
		return s, s.retry.tick(msg, s.sh.now())
	case tea.KeyPressMsg:
		if isKey(msg, "r", "R") && s.retry.pending() && !s.loading && !s.saving {
			return s, s.retry.now()
		}
		if isKey(msg, "c", "C") && s.retry.pending() && s.sh.deps.StateDir != "" && !s.loading && !s.saving && s.choice != nil {
			return s, s.saveLater()
		}
		return s, s.key(msg)
	}
	return s, spin(&s.spin, s.loading || s.saving, msg)
}

func (s *syncScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.loading || s.saving {
		return nil
	}
	if s.askWifi {
		switch {
		case isKey(msg, "y", "Y", kEnter):
			s.askWifi, s.keepWifi = false, true
			return s.save()
		case isKey(msg, "n", "N"):
			s.askWifi, s.settings.WifiOnly = false, false
			return s.save()
		case isKey(msg, kEsc):
			s.askWifi = false
		}
		return nil
	}
	if s.choice == nil {
		if isKey(msg, "r", "R", kEnter) {
			return s.load()
		}
		return nil
	}
	n := s.buttonPos() + 1
	switch {
	case isKey(msg, kTab, kDown):
		s.focus = (s.focus + 1) % n
		if !s.settings.AutoSync && s.isCat(s.focus) {
			s.focus = s.wifiPos()
		}
	case isKey(msg, kShiftTab, kUp):
		s.focus = (s.focus - 1 + n) % n
		if !s.settings.AutoSync && s.isCat(s.focus) {
			s.focus = syAuto
		}
	case isKey(msg, kLeft, kRight) && s.isCat(s.focus):
		// Two columns: left and right jump between them.
		half := (s.nCats() + 1) / 2
		i := s.focus - syCatFirst
		if i < half {
			i = min(i+half, s.nCats()-1)
		} else {
			i -= half
		}
		s.focus = syCatFirst + i
	case isKey(msg, kSpace, "x"):
		s.toggle()
	case isKey(msg, kEnter):
		return s.save()
	case isKey(msg, "a", "A") && s.settings.AutoSync:
		if len(s.settings.Categories) == s.nCats() {
			s.settings.Categories = nil
		} else {
			s.settings.Categories = slices.Clone(api.Categories)
		}
		s.err = nil
	}
	return nil
}

func (s *syncScreen) isCat(i int) bool { return i >= syCatFirst && i < syCatFirst+s.nCats() }

func (s *syncScreen) toggle() {
	s.err = nil
	switch {
	case s.focus == syAuto:
		s.settings.AutoSync = !s.settings.AutoSync
	case s.focus == s.wifiPos():
		s.settings.WifiOnly = !s.settings.WifiOnly
		s.keepWifi = false
	case s.isCat(s.focus):
		c := api.Categories[s.focus-syCatFirst]
		if i := slices.Index(s.settings.Categories, c); i >= 0 {
			s.settings.Categories = slices.Delete(slices.Clone(s.settings.Categories), i, i+1)
		} else {
			s.settings.Categories = append(slices.Clone(s.settings.Categories), c)
		}
	}
}

func (s *syncScreen) save() tea.Cmd {
	sh := s.sh
	if s.settings.AutoSync && len(s.settings.Categories) == 0 {
		s.err = &flows.UserError{Key: flows.ErrKeyNoCategories, AttemptsLeft: -1}
		return nil
	}
	if sh.wifiWarning(s.settings) != "" && !s.keepWifi {
		s.askWifi = true // say so before saving, with the choice to keep it
		return nil
	}
	s.saving, s.err = true, nil
	ctx, cancel := sh.callCtx()
	cloud, id, settings := sh.deps.Cloud, sh.wiz.DeviceID, s.settings
	cacheDir := sh.deps.CacheDir
	settings.Categories = slices.Clone(settings.Categories)
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		out, err := saveSync(ctx, cloud, id, settings, cacheDir)
		return syncSavedMsg{settings: out, err: err}
	})
}

// saveLater is c while a save retries: the choice is queued on disk, saved
// by the next run or misetup agent, and the wizard goes on.
func (s *syncScreen) saveLater() tea.Cmd {
	s.retry.stop()
	id, settings, dir := s.sh.wiz.DeviceID, s.settings, s.sh.deps.StateDir
	settings.Categories = slices.Clone(settings.Categories)
	return func() tea.Msg {
		if err := flows.QueueIn(dir).QueueSync(id, settings); err != nil {
			return syncSavedMsg{err: err}
		}
		return syncSavedMsg{settings: settings, queued: true}
	}
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

// HandlesBack implements backBlocker: esc closes the Wi-Fi question.
func (s *syncScreen) HandlesBack() bool { return s.askWifi }

// wifiWarning is flows.WifiOnlyWarning for settings on this device, in
// words; "" when there is nothing to say.
func (sh *shared) wifiWarning(settings api.SyncSettings) string {
	t := flows.WifiOnlyWarning(settings, sh.wiz.Network, sh.wiz.Iface)
	if t.IsZero() {
		return ""
	}
	return sh.Text(t)
}

// Keys implements Screen.
func (s *syncScreen) Keys() []key.Binding {
	sh := s.sh
	if s.choice == nil {
		if s.err != nil {
			return []key.Binding{sh.keyRetry()}
		}
		return nil
	}
	if s.askWifi {
		return []key.Binding{sh.bind("y", "key.keep", "y"), sh.bind("n", "key.turn_off", "n")}
	}
	if s.retry.pending() {
		ks := []key.Binding{sh.keyRetryNow(), sh.bind("enter", "key.save", kEnter), sh.keyToggle(), sh.keyMove()}
		if s.choice != nil && sh.deps.StateDir != "" {
			ks = append(ks[:1], append([]key.Binding{sh.bind("c", "key.later", "c")}, ks[1:]...)...)
		}
		return ks
	}
	keys := []key.Binding{sh.bind("enter", "key.save", kEnter), sh.keyToggle(), sh.keyMove()}
	if s.isCat(s.focus) {
		keys = append(keys, sh.bind("a", "key.all_none", "a"))
	}
	return keys
}

// View implements Screen.
func (s *syncScreen) View() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.paragraph(sh.st.Text, sh.T("sync.intro"), 0) + "\n\n")
	switch {
	case s.loading:
		b.WriteString(sh.busyLine(s.spin, sh.T("sync.loading")))
		return b.String()
	case s.choice == nil && s.err != nil && s.retry.pending():
		b.WriteString(errorView(sh, s.err) + "\n\n  " + s.retry.line(sh))
		return b.String()
	case s.choice == nil && s.err != nil:
		b.WriteString(errorView(sh, s.err) + "\n\n" + sh.st.Muted.Render(sh.T("common.press_r_retry")))
		return b.String()
	case s.choice == nil:
		return b.String()
	}
	tw := labelWidth(sh.T("sync.auto"), sh.T("sync.wifi_only"))
	catsNote, wifiNote := sh.syncByStore(s.prefilled, s.settings)
	b.WriteString(sh.toggleView(sh.T("sync.auto"), tw, s.settings.AutoSync, s.focus == syAuto) + "\n")
	b.WriteString(s.categoriesView(catsNote) + "\n")
	b.WriteString(sh.withNote(sh.toggleView(sh.T("sync.wifi_only"), tw, s.settings.WifiOnly, s.focus == s.wifiPos()), wifiNote) + "\n")
	switch warn := sh.wifiWarning(s.settings); {
	case warn != "":
		b.WriteString("      " + sh.paragraph(sh.st.Warn, markWarn+" "+warn, 6) + "\n")
	case s.choice.WifiOnlyRecommended:
		b.WriteString("      " + sh.st.Warn.Render(sh.T("sync.wifi_recommended_mobile")) + "\n")
	default:
		b.WriteString("      " + sh.st.Muted.Render(sh.T("sync.wifi_tip")) + "\n")
	}
	b.WriteString("\n" + s.storageView() + "\n\n")
	if s.askWifi {
		text := sh.st.Title.Render(sh.T("sync.wifi_keep_q")) + "\n" + sh.wrapBox(sh.T("sync.wifi_keep_body")) + "\n" +
			sh.st.Key.Render("y") + " " + sh.T("key.keep") + "   " + sh.st.Key.Render("n") + " " + sh.T("key.turn_off")
		b.WriteString(sh.st.Box.Width(sh.bodyWidth()).Render(text))
		return b.String()
	}
	b.WriteString(sh.buttonView(sh.T("sync.submit"), s.focus == s.buttonPos(), !s.saving))
	switch {
	case s.saving:
		b.WriteString("\n\n" + sh.busyLine(s.spin, sh.T("sync.saving")))
	case s.err != nil:
		b.WriteString("\n\n" + errorView(sh, s.err))
		if s.retry.pending() {
			b.WriteString("\n  " + s.retry.line(sh))
			if sh.deps.StateDir != "" {
				b.WriteString("\n  " + sh.paragraph(sh.st.Muted, sh.T("retry.later"), 2))
			}
		}
	}
	return b.String()
}

// categoriesView is what to sync, in two columns; note is said beside its
// heading ("" when none).
func (s *syncScreen) categoriesView(note string) string {
	sh := s.sh
	names := make([]string, s.nCats())
	for i, c := range api.Categories {
		names[i] = sh.T("sync.cat." + c)
	}
	half := (s.nCats() + 1) / 2
	colW := labelWidth(names...) + 6
	cell := func(i int) string {
		c := api.Categories[i]
		box := "[ ]"
		if slices.Contains(s.settings.Categories, c) {
			box = "[x]"
		}
		focused := s.focus == syCatFirst+i
		p := "  "
		st := sh.st.Text
		switch {
		case !s.settings.AutoSync:
			st = sh.st.Muted
		case focused:
			p, st = sh.st.LabelOn.Render(pointer)+" ", sh.st.Selected
		}
		return p + st.Render(padRight(box+" "+names[i], colW))
	}
	var b strings.Builder
	b.WriteString("    " + sh.withNote(sh.st.Label.Render(sh.T("sync.what")), note) + "\n")
	for r := range half {
		b.WriteString("    " + cell(r))
		if r+half < s.nCats() {
			b.WriteString(cell(r + half))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *syncScreen) storageView() string {
	sh := s.sh
	st := s.choice.Storage
	label := sh.st.Label.Render(sh.T("sync.storage") + "  ")
	if st.QuotaBytes <= 0 {
		return "  " + label + sh.st.Text.Render(flows.FormatBytes(st.UsedBytes))
	}
	frac := float64(st.UsedBytes) / float64(st.QuotaBytes)
	const barW = 20
	filled := min(int(frac*barW+0.5), barW)
	if st.UsedBytes > 0 {
		filled = max(filled, 1)
	}
	bar := sh.st.Selected.Render(strings.Repeat("█", filled)) + sh.st.Rule.Render(strings.Repeat("░", barW-filled))
	return "  " + label + sh.st.Text.Render(sh.T("sync.used_of", "used", flows.FormatBytes(st.UsedBytes), "quota", flows.FormatBytes(st.QuotaBytes))) + "  " + bar
}
