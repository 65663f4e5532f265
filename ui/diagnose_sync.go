package ui

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// The checks of the sync diagnosis, in the order they run.
var syncSteps = []string{"service", "session", "clock", "settings", "network", "storage", "cache"}

// syncDiagnosis is "Sync not working": the checks in order, each with its
// mark, stopping at the first cause; the fix as a button that does it in
// place; and, when nothing is found, "clear cache and retry".
type syncDiagnosis struct {
	sh    *shared
	entry diagnoseEntry

	diagRun                      // err: a fix that failed
	d       *flows.SyncDiagnosis // nil before the first answer
	action  flows.Action         // in flight
	acts    actionList
	spin    spinner.Model
}

func newSyncDiagnosis(sh *shared, entry diagnoseEntry) *syncDiagnosis {
	return &syncDiagnosis{sh: sh, entry: entry, spin: newSpinner(sh)}
}

func (s *syncDiagnosis) diagnoser() flows.SyncDiagnoser {
	sh := s.sh
	return flows.SyncDiagnoser{
		Session: sh.deps.Accounts, Cloud: sh.deps.Cloud, Status: sh.deps.Checker.Status,
		System: sh.deps.System, DeviceID: sh.wiz.DeviceID, CacheDir: s.entry.CacheDir, Now: sh.deps.Now,
	}
}

func (s *syncDiagnosis) init() tea.Cmd { return s.do(flows.ActionCheckAgain) }

// do runs the diagnosis again, or a fix then the diagnosis.
func (s *syncDiagnosis) do(a flows.Action) tea.Cmd {
	if a == flows.ActionSignIn {
		return navigateCmd(flows.StepTroubleshoot, flows.StepSignIn)
	}
	s.run++
	s.busy, s.err, s.action = true, nil, a
	ctx, cancel := s.sh.callCtx()
	dg, run := s.diagnoser(), s.run
	var cur flows.SyncDiagnosis
	if s.d != nil {
		cur = *s.d
	}
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		if a == flows.ActionCheckAgain {
			return syncDiagnosedMsg{run: run, d: dg.Diagnose(ctx)}
		}
		d, err := dg.Apply(ctx, a, cur)
		return syncDiagnosedMsg{run: run, d: d, err: err}
	})
}

func (s *syncDiagnosis) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case stylesChangedMsg:
		s.spin.Style = s.sh.st.Spinner
	case syncDiagnosedMsg:
		if !s.settle(msg.run, msg.err) {
			return nil
		}
		d := msg.d
		s.d = &d
		acts := append([]flows.Action{}, d.Actions...)
		if !d.Offers(flows.ActionCheckAgain) {
			acts = append(acts, flows.ActionCheckAgain)
		}
		s.acts.set(acts, nil)
		if d.Settings != nil {
			st := *d.Settings
			s.sh.wiz.Sync = &st
		}
		return nil
	case tea.KeyPressMsg:
		if s.busy {
			return nil
		}
		if isKey(msg, "r") {
			return s.do(flows.ActionCheckAgain)
		}
		if s.acts.key(msg) {
			return nil
		}
		if isKey(msg, kEnter, kSpace) {
			if a, ok := s.acts.current(); ok {
				return s.do(a)
			}
		}
		return nil
	}
	return spin(&s.spin, s.busy, msg)
}

func (s *syncDiagnosis) capturesText() bool { return false }

func (s *syncDiagnosis) keys() []key.Binding {
	sh := s.sh
	if s.busy {
		return nil
	}
	return []key.Binding{sh.keyActivate(), sh.keyMove(), sh.bind("r", "ts.key.check_again", "r")}
}

// failedStep is the index in syncSteps of the check that found the cause
// (len(syncSteps) when every check passed and the cache was cleared).
func failedStep(d flows.SyncDiagnosis) int {
	i := slices.Index(syncSteps, stepOfCause(d))
	if i < 0 {
		if d.Cleared != nil && d.Cleared.Fixed {
			return len(syncSteps)
		}
		return len(syncSteps) - 1
	}
	return i
}

// stepOfCause is the check that found d's cause: a service that did not
// answer is the service's, whichever check was asking it (not "Signed in",
// which was never checked); "" when no check found one.
func stepOfCause(d flows.SyncDiagnosis) string {
	switch d.Cause {
	case flows.SyncUnavailable:
		return "service"
	case flows.SyncNotSignedIn, flows.SyncSessionExpired:
		return "session"
	case flows.SyncClockSkew:
		return "clock"
	case flows.SyncDeviceNotLinked, flows.SyncNotSetUp, flows.SyncAutoSyncOff, flows.SyncNoCategories:
		return "settings"
	case flows.SyncWifiOnly:
		return "network"
	case flows.SyncStorageFull:
		return "storage"
	}
	return ""
}

// stepDetail is what a passed check found.
func (s *syncDiagnosis) stepDetail(step string, d flows.SyncDiagnosis) string {
	sh := s.sh
	switch step {
	case "service":
		return sh.serviceName()
	case "session":
		if a := d.Account; a != nil {
			switch {
			case a.Email != "":
				return flows.MaskEmail(a.Email)
			case a.Phone != "":
				return flows.MaskPhone(a.Phone)
			}
			return flows.MaskDigits(a.MiID)
		}
	case "clock":
		off := d.ClockOffset
		if off < 0 {
			off = -off
		}
		return sh.T("ts.sync.detail.clock", "s", int(off.Round(time.Second)/time.Second))
	case "settings":
		if st := d.Settings; st != nil {
			if st.WifiOnly {
				return sh.T("ts.sync.detail.settings_wifi", "n", len(st.Categories))
			}
			return sh.T("ts.sync.detail.settings", "n", len(st.Categories))
		}
	case "network":
		if d.Network != "" {
			return sh.T("ts.sync.detail.network."+string(d.Network), "iface", d.Interface)
		}
	case "storage":
		if st := d.Storage; st != nil {
			return sh.T("sync.used_of", "used", flows.FormatBytes(st.UsedBytes), "quota", flows.FormatBytes(st.QuotaBytes))
		}
	case "cache":
		if c := d.Cleared; c != nil {
			return sh.T("ts.sync.detail.cache", "n", c.Files, "size", flows.FormatBytes(c.Bytes))
		}
	}
	return ""
}

func (s *syncDiagnosis) view() string {
	sh := s.sh
	var b strings.Builder
	b.WriteString(sh.st.Title.Render(sh.T("ts.problem.sync")) + "\n\n")
	if s.d == nil {
		if s.err != nil {
			b.WriteString(errorView(sh, s.err))
		} else {
			b.WriteString(sh.busyLine(s.spin, sh.T("ts.sync.checking")))
		}
		return b.String()
	}
	d := *s.d
	labels := make([]string, len(syncSteps))
	for i, st := range syncSteps {
		labels[i] = sh.T("ts.sync.step." + st)
	}
	lw := labelWidth(labels...)
	failed := failedStep(d)
	for i, st := range syncSteps {
		var mark, detail string
		switch {
		case i < failed:
			mark, detail = sh.st.OK.Render(markOK), sh.st.Muted.Render(s.stepDetail(st, d))
		case i == failed && d.Cause == flows.SyncNoCause:
			mark, detail = sh.st.Muted.Render(markPending), sh.st.Muted.Render(sh.T("ts.sync.detail.try"))
		case i == failed:
			mark, detail = sh.levelMark(d.Level), sh.levelStyle(d.Level).Render(sh.T("ts.sync.detail.found"))
		default:
			mark, detail = sh.st.Muted.Render(markPending), sh.st.Muted.Render(sh.T("ts.sync.detail.not_checked"))
		}
		b.WriteString("  " + mark + " " + sh.st.Label.Render(padRight(labels[i], lw)) + detail + "\n")
	}
	b.WriteString("\n" + sh.findingView(d.Diagnosis) + "\n")
	b.WriteString("\n" + s.acts.view(sh, true, func(a flows.Action) string { return sh.T("ts.action." + string(a)) },
		func(flows.Action) bool { return !s.busy }) + "\n")
	switch {
	case s.busy && s.action == flows.ActionClearCache:
		b.WriteString("\n" + sh.busyLine(s.spin, sh.T("ts.sync.clearing")))
	case s.busy:
		b.WriteString("\n" + sh.busyLine(s.spin, sh.T("ts.checking")))
	case s.err != nil:
		b.WriteString("\n" + errorView(sh, s.err))
	}
	return strings.TrimRight(b.String(), "\n")
}
