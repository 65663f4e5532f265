package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"misetup/api"
	"misetup/flows"
	"misetup/flows/micloud"
)

// harness drives App by feeding it messages, as the Cmds would produce them;
// no Cmd runs, so every frame is deterministic.
type harness struct {
	t     testing.TB
	app   *App
	svc   *fakeService
	files *memFiles
}

func newHarness(t testing.TB, w, h int, lang string) *harness {
	t.Helper()
	hs := newHarnessWith(t, w, h, Options{Lang: lang, Locale: "en_US.UTF-8"})
	hs.send(progressLoadedMsg{})
	hs.send(sessionRestoredMsg{})
	return hs
}

// newHarnessWith is newHarness with the options given, before the saved
// progress and session are read (send progressLoadedMsg and
// sessionRestoredMsg next).
func newHarnessWith(t testing.TB, w, h int, opts Options) *harness {
	t.Helper()
	svc := newFakeService()
	files := &memFiles{}
	deps := Deps{
		Accounts: svc, Cloud: svc, Progress: files, Sessions: files,
		Checker:  flows.Checker{Status: svc, ClientVersion: api.Version},
		DeviceID: func() (string, error) { return "dev-1", nil },
		Now:      func() time.Time { return t0 },
	}
	a := New(context.Background(), deps, opts)
	hs := &harness{t: t, app: a, svc: svc, files: files}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.send(deviceReadMsg{info: flows.DeviceInfo{Name: "ann-laptop", Model: "ThinkPad X1", OS: "Debian GNU/Linux 12 (bookworm)"}, id: "dev-1"})
	return hs
}

// send feeds messages to App and drops the Cmds it returns.
func (h *harness) send(msgs ...tea.Msg) {
	for _, m := range msgs {
		h.app.Update(m)
	}
}

func (h *harness) goTo(s flows.Step) { h.send(navigateMsg{from: h.app.Current(), to: s}) }

func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	case "ctrl+t":
		return tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl}
	case "ctrl+z":
		return tea.KeyPressMsg{Code: 'z', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func (h *harness) keys(ks ...string) {
	for _, k := range ks {
		h.send(press(k))
	}
}

// keyThen presses k and feeds App the message of the Cmd it returns (a
// screen's request: navigate, resume...).
func (h *harness) keyThen(k string) {
	if _, cmd := h.app.Update(press(k)); cmd != nil {
		h.send(cmd())
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screen is what the terminal shows, colours off.
// createByEmail walks from the welcome to account creation, chooses an
// email address and types addr into it.
func (h *harness) createByEmail(addr string) {
	for _, s := range []flows.Step{flows.StepRequirements, flows.StepDevice, flows.StepAccount, flows.StepCreate} {
		h.goTo(s)
	}
	h.keys("shift+tab", "shift+tab", "right", "tab")
	h.typeText(addr)
}

func (h *harness) screen() string { return ansi.Strip(h.app.View().Content) }

func apiErr(code string, mod ...func(*api.Error)) error {
	e := &api.Error{Code: code, Message: "raw server message"}
	for _, m := range mod {
		m(e)
	}
	return e
}

func ok(check string, key string, args ...any) flows.Finding {
	return flows.Finding{Check: check, Level: flows.LevelOK, Msg: flows.T(key, args...)}
}

// loaded is the page of the step on screen read, as if it came back
// described by build.
func (h *harness) loaded(build func() *step) tea.Msg {
	v := h.app.current().(*stepScreen).v
	return stepLoadedMsg{id: v.id, build: build}
}

// ran is the step on screen's action run now with what it holds, against
// the fake service, and coming back.
func (h *harness) ran() tea.Msg {
	v := h.app.current().(*stepScreen).v
	out, err := v.st.run(context.Background(), v.answers())
	return stepRanMsg{id: v.id, out: out, err: err}
}

// refreshed is what the step on screen reads when shown (its refresh)
// read now, against the fake service, and coming back.
func (h *harness) refreshed() tea.Msg {
	v := h.app.current().(*stepScreen).v
	return stepRefreshedMsg{id: v.id, apply: v.st.refresh(context.Background())}
}

// tick is a second of the step on screen passing.
func (h *harness) tick() tea.Msg {
	return stepTickMsg{id: h.app.current().(*stepScreen).v.id}
}

// result is the step on screen's action coming back with out or err, as
// if it ran.
func (h *harness) result(out outcome, err error) tea.Msg {
	v := h.app.current().(*stepScreen).v
	return stepRanMsg{id: v.id, out: out, err: err}
}

// found hands findings to the requirements step on screen, as its checks
// report them.
func (h *harness) found(fs ...flows.Finding) {
	for _, f := range fs {
		h.send(h.finding(f))
	}
}

// finding is one check's finding as the requirements step's task reports
// it, to the view on screen and its round of checks.
func (h *harness) finding(f flows.Finding) tea.Msg {
	v := h.app.current().(*stepScreen).v
	return stepTaskMsg{id: v.id, round: v.round, apply: recordFinding(f)}
}

// screenCases set App up on each screen the wizard has.
var screenCases = []struct {
	name  string
	lang  string
	setup func(h *harness)
}{
	{"welcome", "en", func(h *harness) {}},
	{"welcome_zh", "zh-CN", func(h *harness) {}},
	{"welcome_resume", "en", func(h *harness) {
		h.send(progressLoadedMsg{ok: true, p: flows.Progress{Step: "create", Identifier: "ann@example.com", Method: "email"}})
		h.send(sessionRestoredMsg{})
	}},
	{"requirements_checking", "en", func(h *harness) { h.goTo(flows.StepRequirements) }},
	{"requirements_ok", "en", func(h *harness) {
		h.goTo(flows.StepRequirements)
		h.found(ok(flows.CheckConnection, "check.connection.ok", "n", 5, "ms", 42),
			ok(flows.CheckVersion, "check.version.ok", "version", "1.0.0"),
			ok(flows.CheckClock, "check.clock.ok", "s", 1),
			ok(flows.CheckNetwork, "check.network.wifi", "iface", "wlan0"))
	}},
	{"requirements_warn", "en", func(h *harness) {
		h.goTo(flows.StepRequirements)
		h.found(
			flows.Finding{Check: flows.CheckConnection, Level: flows.LevelWarn,
				Msg: flows.T("check.connection.lossy", "lost", 2, "n", 5, "ms", 180), Fix: flows.T("check.connection.lossy.fix")},
			flows.Finding{Check: flows.CheckVersion, Level: flows.LevelWarn,
				Msg: flows.T("check.version.update", "version", "1.0.0", "latest", "1.2.0"), Fix: flows.T("check.version.update.fix")},
			flows.Finding{Check: flows.CheckClock, Level: flows.LevelWarn,
				Msg: flows.T("check.clock.ahead", "min", 3), Fix: flows.T("check.clock.fix")},
			flows.Finding{Check: flows.CheckNetwork, Level: flows.LevelOK, Network: flows.NetworkMobile,
				Msg: flows.T("check.network.mobile", "iface", "wwan0"), Fix: flows.T("check.network.mobile.fix")})
	}},
	{"requirements_down", "en", func(h *harness) {
		h.goTo(flows.StepRequirements)
		h.svc.fail["Status"] = &api.Error{Code: api.CodeUnavailable, Message: "connection refused"}
		c := flows.Checker{Status: h.svc, Server: "http://10.0.0.5:8417", ClientVersion: api.Version}
		for _, name := range []string{flows.CheckConnection, flows.CheckVersion, flows.CheckClock} {
			h.found(c.Run(context.Background(), name))
		}
		h.found(ok(flows.CheckNetwork, "check.network.wired", "iface", "eth0"))
	}},
	{"device", "en", func(h *harness) { h.goTo(flows.StepDevice) }},
	{"device_empty_name", "en", func(h *harness) {
		h.goTo(flows.StepDevice)
		h.keys("ctrl+u", "enter")
	}},
	{"account", "en", func(h *harness) { h.goTo(flows.StepAccount) }},
	{"create", "en", func(h *harness) { h.goTo(flows.StepCreate) }},
	{"create_phone_typing", "en", func(h *harness) {
		h.goTo(flows.StepCreate)
		h.typeText("2015550123")
		h.keys("tab")
		h.typeText("abc12345")
		h.keys("tab")
		h.typeText("abc1")
	}},
	{"create_email_common", "en", func(h *harness) {
		h.goTo(flows.StepCreate)
		h.keys("shift+tab", "shift+tab", "right", "tab")
		h.typeText("ann@example.com")
		h.keys("tab")
		h.typeText("p@ssw0rd")
		h.keys("tab")
		h.typeText("p@ssw0rd")
		h.keys("enter")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeWeakPassword, func(e *api.Error) {
			e.Field, e.Reasons = "password", []string{"common"}
		}))))
	}},
	{"create_unavailable", "en", func(h *harness) {
		h.goTo(flows.StepCreate)
		v := h.app.current().(*stepScreen).v
		v.start(v.st.run, v.st.busy) // sent (the form as it stands): the service does not answer
		h.send(h.result(outcome{}, flows.Explain(&api.Error{Code: api.CodeUnavailable, Cause: context.DeadlineExceeded})))
	}},
	{"code", "en", codeSetup},
	{"code_wrong", "en", func(h *harness) {
		codeSetup(h)
		h.typeText("111111")
		left := 4
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeInvalidCode, func(e *api.Error) { e.AttemptsLeft = &left }))))
	}},
	{"code_rate_limited", "en", func(h *harness) {
		codeSetup(h)
		h.keys("tab", "enter")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeRateLimited, func(e *api.Error) { e.RetryAfterS = 42 }))))
	}},
	{"code_dead", "en", func(h *harness) {
		codeSetup(h)
		h.typeText("111111")
		left := 1
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeInvalidCode, func(e *api.Error) { e.AttemptsLeft = &left }))))
		h.typeText("222222")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeTooManyAttempts))))
	}},
	{"code_expired", "en", func(h *harness) {
		codeSetup(h)
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeCodeExpired))))
	}},
	{"code_resumed", "en", func(h *harness) {
		resumeAtCode(h, h.svc.challenge(api.PurposeRegistration))
	}},
	{"code_resumed_expired", "en", func(h *harness) {
		ch := h.svc.challenge(api.PurposeRegistration)
		ch.CreatedAt, ch.ExpiresAt, ch.ResendAfter = t0.Add(-time.Hour), t0.Add(-50*time.Minute), t0.Add(-59*time.Minute)
		resumeAtCode(h, ch)
	}},
	{"code_success", "en", func(h *harness) {
		codeSetup(h)
		h.typeText("123456")
		h.send(h.ran())
	}},
	{"signin", "en", func(h *harness) { h.goTo(flows.StepSignIn) }},
	{"signin_locked", "en", func(h *harness) {
		h.goTo(flows.StepSignIn)
		h.typeText("ann@example.com")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeAccountLocked, func(e *api.Error) { e.RetryAfterS = 14*60 + 5 }))))
	}},
	{"signin_totp", "en", func(h *harness) {
		h.goTo(flows.StepSignIn)
		h.typeText("ann@example.com")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeSecondFactorRequired))))
	}},
	{"signin_zh_wrong", "zh-CN", func(h *harness) {
		h.goTo(flows.StepSignIn)
		h.typeText("ann@example.com")
		h.send(h.result(outcome{}, flows.Explain(apiErr(api.CodeInvalidCredentials))))
	}},
	{"reset", "en", func(h *harness) {
		h.goTo(flows.StepSignIn)
		h.typeText("ann@example.com")
		h.goTo(flows.StepReset)
	}},
	{"reset_code", "en", func(h *harness) {
		h.goTo(flows.StepSignIn)
		h.goTo(flows.StepReset)
		ch := h.svc.challenge(api.PurposePasswordReset)
		h.send(resetRequestedMsg{challenge: ch})
		h.goTo(flows.StepResetCode)
		h.typeText("123456")
		h.typeText("N3w#Secret")
	}},
	{"sync", "en", func(h *harness) { syncSetup(h, flows.NetworkWired) }},
	{"sync_mobile_zh", "zh-CN", func(h *harness) { syncSetup(h, flows.NetworkMobile) }},
	{"sync_none", "en", func(h *harness) {
		syncSetup(h, flows.NetworkWired)
		h.keys("down", "a", "a", "enter")
	}},
	{"sync_store", "en", func(h *harness) {
		h.app.sh.opts.Defaults = storeDefaults()
		syncSetup(h, flows.NetworkWiFi)
	}},
	{"sync_store_zh", "zh-CN", func(h *harness) {
		h.app.sh.opts.Defaults = storeDefaults()
		syncSetup(h, flows.NetworkWiFi)
	}},
	{"restore", "en", restoreSetup},
	{"restore_zh", "zh-CN", restoreSetup},
	{"welcome_locked", "en", func(h *harness) {
		h.send(lockReadMsg{info: &flows.LockInfo{Message: "Found it? Please call 138 0000 0000", At: t0.Add(-time.Hour)}})
	}},
	{"find_device", "en", func(h *harness) {
		signedIn(h)
		h.goTo(flows.StepFindDevice)
	}},
	{"find_device_store", "en", func(h *harness) {
		h.app.sh.opts.Defaults = storeDefaults()
		signedIn(h)
		h.goTo(flows.StepFindDevice)
	}},
	{"summary", "en", func(h *harness) {
		signedIn(h)
		on := true
		h.app.sh.wiz.Sync = &api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: []string{"contacts", "gallery", "notes"}}
		h.app.sh.wiz.FindDevice = &on
		h.goTo(flows.StepSummary)
	}},
	{"summary_zh", "zh-CN", func(h *harness) {
		signedIn(h)
		on := true
		h.app.sh.wiz.Sync = &api.SyncSettings{AutoSync: true, Categories: []string{"contacts", "messages", "gallery", "notes", "calendar"}}
		h.app.sh.wiz.FindDevice = &on
		h.goTo(flows.StepSummary)
	}},
	{"troubleshoot", "en", func(h *harness) {
		h.goTo(flows.StepDevice)
		h.keys("ctrl+t") // from a step without a problem of its own: the list
	}},
	{"help", "en", func(h *harness) {
		h.goTo(flows.StepRequirements)
		h.keys("?")
	}},
	{"quit_confirm", "en", func(h *harness) {
		h.goTo(flows.StepDevice)
		h.keys("ctrl+c")
	}},
}

// storeDefaults are a store's: sync contacts and gallery over Wi-Fi
// only, Find Device off (a shared demo device), a China phone number.
func storeDefaults() *Defaults {
	on, off := true, false
	return &Defaults{Region: "CN", Categories: []string{"contacts", "gallery"}, WifiOnly: &on, FindDevice: &off, DeviceName: "Store 7 kiosk 2"}
}

func codeSetup(h *harness) {
	h.goTo(flows.StepCreate)
	h.send(registeredMsg{challenge: h.svc.challenge(api.PurposeRegistration)})
	h.goTo(flows.StepCode)
}

// resumeAtCode resumes a run saved at the code step, the service reading
// the challenge as ch.
func resumeAtCode(h *harness, ch api.Challenge) {
	h.send(progressLoadedMsg{ok: true, p: flows.Progress{Step: "code", ChallengeID: ch.ID, Method: "email", Identifier: "ann@example.com"}})
	h.send(sessionRestoredMsg{})
	h.keyThen("enter")
	h.svc.read = &ch
	h.send(h.refreshed())
}

func signedIn(h *harness) {
	h.app.sh.wiz.Account = &api.Account{MiID: "1234567890", Email: "ann@example.com"}
}

func syncSetup(h *harness, net flows.NetworkKind) {
	signedIn(h)
	h.app.sh.wiz.Network = net
	h.send(navigateMsg{from: h.app.Current(), to: flows.StepSync, reset: true})
	h.syncLoaded(flows.SyncChoice{
		Settings: api.SyncSettings{AutoSync: true, WifiOnly: net == flows.NetworkMobile, Categories: []string{"contacts", "messages", "gallery", "notes", "calendar"}},
		Storage:  api.Storage{QuotaBytes: 5 << 30, UsedBytes: 1288490188}, WifiOnlyRecommended: net == flows.NetworkMobile,
	})
}

// restoreSetup is "Restore from Mi Cloud" for an account with backups of
// contacts, photos and notes.
func restoreSetup(h *harness) {
	signedIn(h)
	h.app.sh.wiz.Backups = testBackups
	h.goTo(flows.StepRestore)
	h.restoreLoaded()
}

// testBackups are an account's backups of contacts, photos and notes.
var testBackups = []micloud.Backup{
	{Category: "contacts", Items: 40, Bytes: 1433},
	{Category: "gallery", Items: 3, Bytes: 89_960_448},
	{Category: "notes", Items: 231, Bytes: 4301},
}

// restoreLoaded is the restore step on screen having read its page.
func (h *harness) restoreLoaded() {
	h.t.Helper()
	build, err := h.app.sh.restorePage()(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	h.send(h.loaded(build))
}

// backupsOnly is a Restorer that has backups and restores nothing.
type backupsOnly []micloud.Backup

func (b backupsOnly) Backups(context.Context) ([]micloud.Backup, error) { return b, nil }
func (b backupsOnly) Restore(context.Context, []string, func(micloud.Progress)) error {
	return nil
}

// TestRestoreResumedReadsBackups: a wizard resumed at "Restore from Mi
// Cloud" (quit in the middle of a restore) knows no backups yet: the step
// reads them from the service and offers them again; with none left it
// says so and goes on.
func TestRestoreResumedReadsBackups(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	signedIn(h)
	h.app.sh.deps.Restore = backupsOnly(testBackups)
	h.goTo(flows.StepRestore)
	h.restoreLoaded()
	if screen := h.screen(); !strings.Contains(screen, "Gallery: 3 items, 85.8 MB") || !strings.Contains(screen, "Notes: 231 items") {
		t.Errorf("a resumed restore step does not offer the backups:\n%s", screen)
	}
	h.app.sh.deps.Restore = backupsOnly(nil)
	h.goTo(flows.StepRestore)
	h.restoreLoaded()
	if screen := h.screen(); !strings.Contains(screen, h.app.sh.T("restore.nothing")) {
		t.Errorf("with nothing left to restore:\n%s", screen)
	}
	if out, err := h.app.current().(*stepScreen).v.st.run(context.Background(), nil); err != nil || out.to != flows.StepFindDevice {
		t.Errorf("with nothing left, the step goes to %v (%v), want Find Device", out.to, err)
	}
}

// TestRestoreOptionsWhole: every line of what to restore is on screen
// whole and within the window, in both languages, at 80 and at 60 columns
// (two columns when they fit, one when they do not: "相册：3 项，85.8 MB"
// ran past a 60-column terminal, which cut its unit off).
func TestRestoreOptionsWhole(t *testing.T) {
	for _, lang := range []string{"en", "zh-CN"} {
		for _, w := range []int{80, 60} {
			h := newHarness(t, w, 24, lang)
			restoreSetup(h)
			screen := h.screen()
			for _, l := range strings.Split(screen, "\n") {
				if ansi.StringWidth(l) > w {
					t.Errorf("%s at %d columns: a line of %d columns: %q", lang, w, ansi.StringWidth(l), l)
				}
			}
			for _, b := range h.app.sh.wiz.Backups {
				line := h.app.sh.T("restore.line", "what", h.app.sh.T("sync.cat."+b.Category), "n", b.Items, "size", flows.FormatBytes(b.Bytes))
				if !strings.Contains(screen, line) {
					t.Errorf("%s at %d columns lacks %q:\n%s", lang, w, line, screen)
				}
			}
		}
	}
}

// syncLoaded is the Mi Cloud step on screen reading c from the service.
func (h *harness) syncLoaded(c flows.SyncChoice) {
	h.send(h.loaded(func() *step { return h.app.sh.syncStep(c) }))
}

// syncChosen is what the Mi Cloud step on screen would save now.
func (h *harness) syncChosen() api.SyncSettings {
	return syncSettings(h.app.current().(*stepScreen).v.answers())
}

// TestScreens renders every screen at the design size (80x24) and at the
// narrow width (60 columns), colours off, against golden files. Refresh
// them with go test ./ui -run TestScreens -update.
func TestScreens(t *testing.T) {
	for _, tc := range screenCases {
		for _, size := range [][2]int{{80, 24}, {60, 24}} {
			t.Run(fmt.Sprintf("%s/%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				h := newHarness(t, size[0], size[1], tc.lang)
				tc.setup(h)
				s := h.screen()
				checkFrame(t, s, size[0], size[1])
				golden.RequireEqual(t, s)
			})
		}
	}
}

// checkFrame checks what every frame must be: exactly the window's height,
// no line wider than the window, and no raw error text.
func checkFrame(t *testing.T, s string, w, h int) {
	t.Helper()
	checkSize(t, s, w, h)
	for _, raw := range []string{"raw server message", "context deadline exceeded", "EOF", "invalid_code", "unavailable:"} {
		if strings.Contains(s, raw) {
			t.Errorf("frame shows the raw error text %q", raw)
		}
	}
}

// checkSize checks that frame s is exactly h lines and none is wider than
// w; it returns the lines.
func checkSize(t *testing.T, s string, w, h int) []string {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			t.Errorf("line %d is %d wide (> %d): %q", i+1, ansi.StringWidth(l), w, l)
		}
	}
	return lines
}

func TestTooSmall(t *testing.T) {
	h := newHarness(t, 50, 15, "en")
	s := h.screen()
	if !strings.Contains(strings.Join(strings.Fields(s), " "), "at least 60 columns wide and 20 rows high") {
		t.Fatalf("too-small window does not say the size it needs:\n%s", s)
	}
	golden.RequireEqual(t, s)
	h.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	if s := h.screen(); !strings.Contains(s, "Step 1 of 8") {
		t.Fatalf("resized to 60x20, the wizard does not show:\n%s", s)
	}
}

// TestMinimumSizeKeepsEverything renders every screen at the smallest size
// the wizard accepts: frames stay within the window, and nothing but blank
// lines is dropped from a body.
func TestMinimumSizeKeepsEverything(t *testing.T) {
	for _, tc := range screenCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, minWidth, minHeight, tc.lang)
			tc.setup(h)
			checkFrame(t, h.screen(), minWidth, minHeight)
			body := h.app.current().View()
			switch {
			case h.app.confirmQuit:
				body = h.app.quitView()
			case h.app.showHelp:
				body = h.app.fullHelpView()
			}
			lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
			if n := len(dropBlankLines(lines, len(lines))); n > h.app.sh.bodyHeight() {
				t.Errorf("%d lines of text in a %d-line body at %dx%d:\n%s", n, h.app.sh.bodyHeight(), minWidth, minHeight, body)
			}
		})
	}
}

// TestSyncSwitchesLineUp checks that the on/off words of "Sync
// automatically" and "Sync over Wi-Fi only" stand in one column, in every
// language and at both widths.
func TestSyncSwitchesLineUp(t *testing.T) {
	for _, lang := range []string{"en", "zh-CN"} {
		for _, w := range []int{80, 60} {
			h := newHarness(t, w, 24, lang)
			syncSetup(h, flows.NetworkWired)
			tr := h.app.sh.tr
			var cols []int
			for _, l := range strings.Split(h.screen(), "\n") {
				for _, label := range []string{tr.T("sync.auto"), tr.T("sync.wifi_only")} {
					if i := strings.Index(l, "] "+label); i >= 0 {
						rest := strings.TrimLeft(l[i+len("] "+label):], " ")
						cols = append(cols, ansi.StringWidth(l)-ansi.StringWidth(rest))
					}
				}
			}
			if len(cols) != 2 || cols[0] != cols[1] {
				t.Errorf("%s at %d columns: on/off at columns %v:\n%s", lang, w, cols, h.screen())
			}
		}
	}
}

// TestFooterKeepsTheKeysTheTextNames renders every screen at 80 and at 60
// columns: a key that works on the screen and that its text names ("press
// r to check again", "or press esc") is in the footer.
func TestFooterKeepsTheKeysTheTextNames(t *testing.T) {
	for _, tc := range screenCases {
		for _, w := range []int{80, 60} {
			h := newHarness(t, w, 24, tc.lang)
			tc.setup(h)
			frame := h.screen()
			lines := strings.Split(frame, "\n")
			body, footer := strings.Join(lines[2:len(lines)-1], "\n"), lines[len(lines)-1]
			for _, k := range h.app.footerKeys() {
				name := k.b.Help().Key
				if mentionsKey(body, name) && !strings.Contains(footer, name+" ") {
					t.Errorf("%s at %d columns: the text names %q but the footer lacks it: %q", tc.name, w, name, footer)
				}
			}
		}
	}
	if !mentionsKey("Press r to check again.", "r") || mentionsKey("a code", "a") || !mentionsKey("or press esc to", "esc") ||
		mentionsKey("the escape", "esc") || !mentionsKey("按 r 重试", "r") {
		t.Error("mentionsKey misreads a text")
	}
}

// TestWifiOnlyOnAWiredDevice: choosing "Sync over Wi-Fi only" on a wired
// device says at once that nothing will sync; saving asks whether to keep
// it (n turns it off, y keeps it), and the summary keeps the warning
// instead of showing all well.
func TestWifiOnlyOnAWiredDevice(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	syncSetup(h, flows.NetworkWired)
	h.app.sh.wiz.Iface = "eth0"
	h.keys("down", "down", "down", "down", "down", "down", "down", "down", "down", "space")
	if s := h.screen(); !strings.Contains(s, "[x] Sync over Wi-Fi only") || !strings.Contains(strings.Join(strings.Fields(s), " "), "wired connection (eth0), so nothing") {
		t.Fatalf("no warning when Wi-Fi only is chosen on a cable:\n%s", s)
	}
	h.keys("enter")
	if s := h.screen(); !strings.Contains(s, "Keep \"Sync over Wi-Fi only\"?") || !strings.Contains(lastLine(s), "y keep it") || h.svc.count("SetSync") != 0 {
		t.Fatalf("saved without asking:\n%s", s)
	}
	_, cmd := h.app.Update(press("y"))
	if cmd == nil || !h.app.current().(*stepScreen).v.running {
		t.Fatal("y did not save")
	}
	h.send(h.ran())
	if s := h.svc.sync["dev-1"]; !s.WifiOnly {
		t.Fatalf("saved %+v, want Wi-Fi only kept", s)
	}
	h.goTo(flows.StepSummary)
	if s := h.screen(); !strings.Contains(strings.Join(strings.Fields(s), " "), "! \"Sync over Wi-Fi only\" is on and this device uses a wired connection (eth0), so nothing syncs.") {
		t.Fatalf("the summary does not keep the warning:\n%s", s)
	}

	h = newHarness(t, 80, 24, "en")
	syncSetup(h, flows.NetworkWired)
	h.keys("down", "down", "down", "down", "down", "down", "down", "down", "down", "space", "enter")
	h.app.Update(press("n"))
	if got, saving := h.syncChosen(), h.app.current().(*stepScreen).v.running; got.WifiOnly || !saving {
		t.Fatalf("n did not turn Wi-Fi only off and save: %+v saving=%v", got, saving)
	}
}

// TestFieldsSayWhatIsWrongWhileTyping: a field that caps its input says
// so when the cap is hit (a password has at most 128 characters), instead
// of ignoring the keys; an email address with a space says what is wrong
// at once, before the field is left.
func TestFieldsSayWhatIsWrongWhileTyping(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.goTo(flows.StepCreate)
	h.keys("tab") // the password
	h.typeText(strings.Repeat("Ab1#", 32))
	if s := h.screen(); strings.Contains(s, "At most") {
		t.Fatalf("the note came before the cap:\n%s", s)
	}
	h.typeText("x")
	if s := h.screen(); !strings.Contains(s, "! At most 128 characters here: the rest was not typed.") {
		t.Fatalf("the 129th character was dropped without a word:\n%s", s)
	}
	h.keys("backspace")
	if s := h.screen(); strings.Contains(s, "At most") {
		t.Fatalf("the note stayed after backspace:\n%s", s)
	}

	h = newHarness(t, 80, 24, "en")
	h.goTo(flows.StepCreate)
	h.keys("shift+tab", "shift+tab", "right", "tab")
	h.typeText("ann @")
	if s := h.screen(); !strings.Contains(s, "✗ An email address has no spaces.") {
		t.Fatalf("a space in the email is not said while typing:\n%s", s)
	}

	h = newHarness(t, 80, 24, "en")
	h.goTo(flows.StepSignIn)
	h.typeText(strings.Repeat("a", 260))
	if s := h.screen(); !strings.Contains(s, "At most 254 characters") {
		t.Fatalf("the sign-in identifier's cap is silent:\n%s", s)
	}
}

// TestCountryJumpsByLetter: on the country, a letter goes to the next
// country whose code starts with it, as the person sees it named.
func TestCountryJumpsByLetter(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	h.goTo(flows.StepCreate)
	h.keys("shift+tab") // the country
	var seen []string
	for range 3 { // Mexico, Macao, Malaysia
		h.keys("m")
		r := h.app.sh.wiz.Region
		if !strings.HasPrefix(r, "M") || slices.Contains(seen, r) {
			t.Fatalf("m went to %q (before: %v)", r, seen)
		}
		seen = append(seen, r)
		if name := h.app.sh.tr.TOr("country."+r, r); !strings.Contains(h.screen(), "‹ "+name) {
			t.Fatalf("the country shown is not %s:\n%s", name, h.screen())
		}
	}
	h.keys("tab")
	h.typeText("55 1234 5678")
	if s := h.screen(); h.app.sh.wiz.Identifier != "55 1234 5678" {
		t.Fatalf("typing after the country: identifier %q\n%s", h.app.sh.wiz.Identifier, s)
	}
}

// TestWifiQuestionClosesWithEsc: esc closes the question about Wi-Fi only
// without saving or leaving the step; saving again asks again.
func TestWifiQuestionClosesWithEsc(t *testing.T) {
	h := newHarness(t, 80, 24, "en")
	syncSetup(h, flows.NetworkWired)
	for range 1 + len(api.Categories) { // from "Sync automatically" down to Wi-Fi only
		h.keys("down")
	}
	h.keys("space", "enter")
	if !strings.Contains(h.screen(), `Keep "Sync over Wi-Fi only"?`) {
		t.Fatalf("not asked:\n%s", h.screen())
	}
	h.keys("esc")
	if s := h.screen(); strings.Contains(s, `Keep "Sync over Wi-Fi only"?`) || h.app.Current() != flows.StepSync || h.svc.count("SetSync") != 0 {
		t.Fatalf("esc: at %v, %d saves\n%s", h.app.Current(), h.svc.count("SetSync"), s)
	}
	h.keys("enter")
	if !strings.Contains(h.screen(), `Keep "Sync over Wi-Fi only"?`) {
		t.Fatalf("saving again does not ask again:\n%s", h.screen())
	}
}

// TestSummarySaysWhatWasRestored: after a restore, the summary names what
// came to the device, a line each ("Restored  Notes: 231 items, 4.2 KB"),
// whole within 60 columns, in both languages; without one it has no such
// line.
func TestSummarySaysWhatWasRestored(t *testing.T) {
	for _, lang := range []string{"en", "zh-CN"} {
		h := newHarness(t, 60, 24, lang)
		signedIn(h)
		sh := h.app.sh
		if text := sh.summaryText(); strings.Contains(text, sh.T("summary.restored")) {
			t.Errorf("%s: a summary with nothing restored says %q:\n%s", lang, sh.T("summary.restored"), text)
		}
		sh.deps.Restore = backupsOnly(testBackups)
		h.goTo(flows.StepRestore)
		h.restoreLoaded()
		sc := h.app.current().(*stepScreen)
		out, err := sc.v.st.run(context.Background(), sc.v.answers())
		if err != nil || out.apply == nil {
			t.Fatalf("%s: restore: %v, apply %v", lang, err, out.apply != nil)
		}
		out.apply(sh)
		text := sh.summaryText()
		if !strings.Contains(text, sh.T("summary.restored")) {
			t.Errorf("%s: the summary does not say what was restored:\n%s", lang, text)
		}
		for _, b := range testBackups {
			line := sh.T("restore.line", "what", sh.T("sync.cat."+b.Category), "n", b.Items, "size", flows.FormatBytes(b.Bytes))
			if !strings.Contains(ansi.Strip(text), line) {
				t.Errorf("%s: the summary lacks %q:\n%s", lang, line, text)
			}
		}
		for _, l := range strings.Split(text, "\n") {
			if ansi.StringWidth(l) > 60 {
				t.Errorf("%s: a summary line of %d columns at 60: %q", lang, ansi.StringWidth(l), ansi.Strip(l))
			}
		}
	}
}
