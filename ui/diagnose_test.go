package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"misetup/api"
	"misetup/flows"
)

// diagT0 is the pinned clock of the troubleshooting tests.
var diagT0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.Local)

// diagFake is the account service as troubleshooting sees it: answers set
// per test, and a record of what was asked.
type diagFake struct {
	callLog
	mu sync.Mutex

	token      string
	account    api.Account
	challenge  api.Challenge
	resend     func() (api.Challenge, error)
	signIn     error
	reset      api.Challenge
	resets     []api.PasswordResetRequest
	sync       api.SyncSettings
	syncErr    error
	setSyncs   []api.SyncSettings
	storage    api.Storage
	serverTime time.Time
	devices    []api.Device
	down       bool // the service does not answer
}

func newDiagFake() *diagFake {
	return &diagFake{
		account:    api.Account{MiID: "1234567890", Email: "ann@example.com"},
		serverTime: diagT0,
		storage:    api.Storage{QuotaBytes: 5 << 30, UsedBytes: 1 << 30},
	}
}

func (f *diagFake) Status(context.Context) (api.Status, error) {
	f.rec("Status")
	return api.Status{ServerTime: f.serverTime, Version: api.Version, MinClientVersion: "1.0.0", LatestClientVersion: api.Version}, nil
}
func (f *diagFake) Register(context.Context, api.RegistrationRequest) (api.Challenge, error) {
	f.rec("Register")
	return f.challenge, nil
}
func (f *diagFake) Challenge(context.Context, string) (api.Challenge, error) {
	f.rec("Challenge")
	return f.challenge, nil
}
func (f *diagFake) Resend(context.Context, string) (api.Challenge, error) {
	f.rec("Resend")
	return f.resend()
}
func (f *diagFake) Verify(context.Context, string, api.VerifyRequest) (api.VerifyResponse, error) {
	f.rec("Verify")
	return api.VerifyResponse{}, &api.Error{Code: api.CodeInvalidCode}
}
func (f *diagFake) SignIn(_ context.Context, req api.SessionRequest) (api.Session, error) {
	f.rec("SignIn")
	if f.signIn != nil {
		return api.Session{}, f.signIn
	}
	f.SetToken("tok-diag")
	return api.Session{Token: "tok-diag", Account: f.account, Device: req.Device}, nil
}
func (f *diagFake) RequestPasswordReset(_ context.Context, req api.PasswordResetRequest) (api.Challenge, error) {
	f.rec("RequestPasswordReset")
	f.mu.Lock()
	f.resets = append(f.resets, req)
	f.mu.Unlock()
	return f.reset, nil
}
func (f *diagFake) Token() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.token
}
func (f *diagFake) SetToken(t string) {
	f.mu.Lock()
	f.token = t
	f.mu.Unlock()
}
func (f *diagFake) Account(context.Context) (api.Account, error) {
	f.rec("Account")
	if f.down {
		return api.Account{}, &api.Error{Code: api.CodeUnavailable, Message: "connection refused"}
	}
	if f.Token() == "" {
		return api.Account{}, &api.Error{Status: 401, Code: api.CodeUnauthorized}
	}
	return f.account, nil
}
func (f *diagFake) Devices(context.Context) ([]api.Device, error) { return f.devices, nil }
func (f *diagFake) Sync(context.Context, string) (api.SyncSettings, error) {
	f.rec("Sync")
	return f.sync, f.syncErr
}
func (f *diagFake) SetSync(_ context.Context, _ string, s api.SyncSettings) (api.SyncSettings, error) {
	f.rec("SetSync")
	at := diagT0
	s.UpdatedAt = &at
	f.mu.Lock()
	f.setSyncs = append(f.setSyncs, s)
	f.sync = s
	f.mu.Unlock()
	return s, nil
}
func (f *diagFake) Storage(context.Context) (api.Storage, error) {
	f.rec("Storage")
	return f.storage, nil
}
func (f *diagFake) FindDevice(context.Context, string) (api.FindDevice, error) {
	return api.FindDevice{}, nil
}
func (f *diagFake) SetFindDevice(context.Context, string, bool) (api.FindDevice, error) {
	return api.FindDevice{}, nil
}
func (f *diagFake) RenameDevice(context.Context, string, string) (api.Device, error) {
	return api.Device{}, nil
}

// diagSessions keeps a token in memory.
type diagSessions struct{ token string }

func (m *diagSessions) LoadToken() (string, error) { return m.token, nil }
func (m *diagSessions) SaveToken(t string) error   { m.token = t; return nil }
func (m *diagSessions) ClearToken() error          { m.token = ""; return nil }

// netRoot is a filesystem root whose default route goes through iface.
func netRoot(t *testing.T, iface string, wireless bool) flows.System {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"proc/net/route": "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n" +
			iface + "\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
		"sys/class/net/" + iface + "/uevent": "INTERFACE=" + iface + "\n",
	}
	if wireless {
		files["sys/class/net/"+iface+"/wireless/.keep"] = ""
	}
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return flows.System{Root: root}
}

// diagHarness is App with the troubleshooting screen installed, driven by
// running the Cmds it returns (ticks and spinner frames are dropped).
type diagHarness struct {
	t    *testing.T
	app  *App
	fake *diagFake
	nav  []flows.Step // navigations asked for
	msgs []tea.Msg    // every message the Cmds produced
}

func newDiagHarness(t *testing.T, w, h int, lang string, fake *diagFake, sys flows.System) *diagHarness {
	t.Helper()
	deps := Deps{
		Accounts: fake, Cloud: fake, Sessions: &diagSessions{},
		Checker: flows.Checker{Status: fake, System: sys, ClientVersion: api.Version},
		System:  sys,
		Now:     func() time.Time { return diagT0 },
	}
	a := New(context.Background(), deps, Options{Lang: lang, Locale: "en_US.UTF-8"})
	dh := &diagHarness{t: t, app: a, fake: fake}
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	a.sh.wiz.DeviceID, a.sh.wiz.Region = "dev-1", "CN"
	a.sh.wiz.Device = flows.DeviceInfo{Name: "ann-laptop"}
	return dh
}

// open shows troubleshooting as the person would: the wizard stands on
// entry.From (the screens on the way built, as a resumed wizard builds
// them), with entry's last sign-in and dirs, and ctrl+t opens it.
func (dh *diagHarness) open(entry diagnoseEntry) {
	a := dh.app
	a.sh.deps.CacheDir, a.sh.deps.StateDir = entry.CacheDir, entry.StateDir
	a.sh.wiz.LastSignIn = entry.SignIn
	if entry.From != a.Current() {
		a.history = flows.PathTo(entry.From)
		for _, s := range a.history {
			if _, ok := a.screens[s]; !ok {
				a.screens[s] = a.newScreen(s)
			}
		}
	}
	_, cmd := a.Update(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	dh.run(cmd)
	if got := dh.screen().entry; got != entry {
		dh.t.Fatalf("troubleshooting opened with %+v, want %+v", got, entry)
	}
}

func (dh *diagHarness) key(keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "up":
			msg = tea.KeyPressMsg{Code: tea.KeyUp}
		case "tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab}
		default:
			r := []rune(k)[0]
			msg = tea.KeyPressMsg{Code: r, Text: k}
		}
		_, cmd := dh.app.Update(msg)
		dh.run(cmd)
	}
}

func (dh *diagHarness) typeText(s string) {
	for _, r := range s {
		dh.key(string(r))
	}
}

// settleQuiet is how long run waits for the next answer before it takes
// what is left for ticks. A loaded machine (CI runs packages side by side)
// can take a few hundred milliseconds to write a file, so it is generous;
// a key whose Cmds all answer returns as soon as they have.
const settleQuiet = 1500 * time.Millisecond

// run runs cmd and every Cmd its messages lead to, concurrently as
// Bubble Tea does; it returns once nothing has answered for settleQuiet
// (what is left are ticks, which are not followed).
func (dh *diagHarness) run(cmd tea.Cmd) {
	msgs := make(chan tea.Msg, 256)
	pending := 0
	launch := func(c tea.Cmd) {
		if c != nil {
			pending++
			go func() { msgs <- c() }()
		}
	}
	launch(cmd)
	for pending > 0 {
		var msg tea.Msg
		select {
		case msg = <-msgs:
			pending--
		case <-time.After(settleQuiet):
			return
		}
		if msg == nil {
			continue
		}
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				launch(c)
			}
			continue
		}
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := range v.Len() { // tea.Sequence's message: one after another
				dh.run(v.Index(i).Interface().(tea.Cmd))
			}
			continue
		}
		switch m := msg.(type) {
		case spinner.TickMsg, diagTickMsg, recheckMsg, stepTickMsg:
			continue
		case navigateMsg:
			dh.nav = append(dh.nav, m.to)
		}
		dh.msgs = append(dh.msgs, msg)
		_, next := dh.app.Update(msg)
		launch(next)
	}
}

func (dh *diagHarness) screen() *diagnoseScreen {
	return dh.app.screens[flows.StepTroubleshoot].(*diagnoseScreen)
}

var caseIDRE = regexp.MustCompile(`\b[0-9A-F]{4}-[0-9A-F]{4}\b`)

// frame is the whole window as App draws it, colours off.
func (dh *diagHarness) frame() string {
	return caseIDRE.ReplaceAllString(ansi.Strip(dh.app.View().Content), "CASE0001")
}

func smsFailed() api.Challenge {
	at := diagT0.Add(-3 * time.Minute)
	return api.Challenge{
		ID: "ch-sms", Purpose: api.PurposeRegistration, Channel: api.ChannelSMS, Destination: "+86 ••• •••• 8000",
		State: api.ChallengePending, AttemptsLeft: 5, CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute),
		ResendAfter: at.Add(time.Minute),
		Delivery:    api.Delivery{State: api.DeliveryFailed, At: &at, Error: "webhook https://sms.example.net/send: gateway answered 500 Internal Server Error: overloaded"},
	}
}

func emailSent(addr string, resendIn time.Duration) api.Challenge {
	at := diagT0.Add(-18 * time.Second)
	masked := flows.MaskEmail(addr)
	return api.Challenge{
		ID: "ch-mail", Purpose: api.PurposeRegistration, Channel: api.ChannelEmail, Destination: masked,
		State: api.ChallengePending, AttemptsLeft: 5, CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute),
		ResendAfter: diagT0.Add(resendIn),
		Delivery:    api.Delivery{State: api.DeliverySent, At: &at},
	}
}

func signedInFake() *diagFake {
	f := newDiagFake()
	f.token = "tok-1"
	f.sync = api.SyncSettings{AutoSync: true, Categories: []string{"contacts", "messages", "gallery", "notes", "calendar"}}
	at := diagT0
	f.sync.UpdatedAt = &at
	return f
}

// diagCases are the troubleshooting screens for the goldens; each sets up
// the fake and the wizard's state, opens troubleshooting and may press
// keys.
var diagCases = []struct {
	name  string
	lang  string
	setup func(t *testing.T, dh *diagHarness)
}{
	{"menu", "en", func(t *testing.T, dh *diagHarness) {
		dh.open(diagnoseEntry{From: flows.StepWelcome})
	}},
	{"menu_zh", "zh-CN", func(t *testing.T, dh *diagHarness) {
		dh.open(diagnoseEntry{From: flows.StepWelcome})
	}},
	{"code_failed", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.challenge = smsFailed()
		ch := dh.fake.challenge
		dh.app.sh.wiz.Challenge, dh.app.sh.wiz.Identifier = &ch, "+86 138 0013 8000"
		dh.open(diagnoseEntry{From: flows.StepCode})
	}},
	{"code_failed_zh", "zh-CN", func(t *testing.T, dh *diagHarness) {
		dh.fake.challenge = smsFailed()
		ch := dh.fake.challenge
		dh.app.sh.wiz.Challenge, dh.app.sh.wiz.Identifier = &ch, "+86 138 0013 8000"
		dh.open(diagnoseEntry{From: flows.StepCode})
	}},
	{"code_sent", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.challenge = emailSent("ann@example.com", 42*time.Second)
		ch := dh.fake.challenge
		dh.app.sh.wiz.Challenge, dh.app.sh.wiz.Identifier = &ch, "ann@example.com"
		dh.open(diagnoseEntry{From: flows.StepCode})
	}},
	{"code_typo", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.challenge = emailSent("ann@gmial.com", 0)
		ch := dh.fake.challenge
		dh.app.sh.wiz.Challenge, dh.app.sh.wiz.Identifier = &ch, "ann@gmial.com"
		dh.open(diagnoseEntry{From: flows.StepCode})
	}},
	{"code_rate_limited", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.challenge = emailSent("ann@example.com", 0)
		dh.fake.resend = func() (api.Challenge, error) {
			return api.Challenge{}, &api.Error{Status: 429, Code: api.CodeRateLimited, RetryAfterS: 1500}
		}
		ch := dh.fake.challenge
		dh.app.sh.wiz.Challenge, dh.app.sh.wiz.Identifier = &ch, "ann@example.com"
		dh.open(diagnoseEntry{From: flows.StepCode})
		dh.key("enter") // Resend code
	}},
	{"signin_locked", "en", func(t *testing.T, dh *diagHarness) {
		dh.open(diagnoseEntry{From: flows.StepSignIn, SignIn: &flows.SignInAttempt{
			Identifier: "ann@example.com", Region: "CN", At: diagT0.Add(-time.Minute),
			Err: &api.Error{Status: 423, Code: api.CodeAccountLocked, RetryAfterS: 900},
		}})
	}},
	{"signin_typo", "en", func(t *testing.T, dh *diagHarness) {
		dh.open(diagnoseEntry{From: flows.StepSignIn, SignIn: &flows.SignInAttempt{
			Identifier: "ann@gmial.com", Region: "CN", At: diagT0,
			Err: &api.Error{Status: 401, Code: api.CodeInvalidCredentials},
		}})
	}},
	{"signin_none", "en", func(t *testing.T, dh *diagHarness) {
		dh.app.sh.wiz.Identifier, dh.app.sh.wiz.Region = "13800138000", "US"
		dh.open(diagnoseEntry{From: flows.StepSignIn})
	}},
	{"sync_wifi_only", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.sync.WifiOnly = true
		dh.open(diagnoseEntry{From: flows.StepSync})
	}},
	{"sync_service_down", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.down = true
		dh.app.sh.opts.Server = "http://127.0.0.1:8417"
		dh.open(diagnoseEntry{From: flows.StepSync})
	}},
	{"sync_storage_full", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.storage = api.Storage{QuotaBytes: 5 << 30, UsedBytes: 5 << 30, ByCategory: map[string]int64{"gallery": 4 << 30, "notes": 1 << 30}}
		dh.open(diagnoseEntry{From: flows.StepSync})
	}},
	{"sync_clock", "zh-CN", func(t *testing.T, dh *diagHarness) {
		dh.fake.serverTime = diagT0.Add(-7 * time.Minute)
		dh.open(diagnoseEntry{From: flows.StepSync})
	}},
	{"sync_no_cause", "en", func(t *testing.T, dh *diagHarness) {
		dh.open(diagnoseEntry{From: flows.StepSync})
	}},
	{"sync_cleared", "en", func(t *testing.T, dh *diagHarness) {
		dir := filepath.Join(t.TempDir(), "misetup")
		if err := flows.SaveSyncCache(dir, "dev-1", api.SyncSettings{Categories: []string{"notes"}}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "thumbs.db"), make([]byte, 2048), 0o600); err != nil {
			t.Fatal(err)
		}
		dh.open(diagnoseEntry{From: flows.StepSync, CacheDir: dir})
		dh.key("enter") // Clear cache and retry
	}},
	{"lost_available", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.account.RecoveryEmail = "a***@example.org"
		dh.open(diagnoseEntry{From: flows.StepWelcome})
		dh.key("4")
	}},
	{"lost_reset_sent", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.token = ""
		dh.fake.reset = api.Challenge{ID: "ch-reset", Purpose: api.PurposePasswordReset, Channel: api.ChannelEmail,
			Destination: "a***@example.org", State: api.ChallengePending, ResendAfter: diagT0.Add(time.Minute)}
		dh.app.sh.wiz.Identifier = "ann@example.com"
		dh.open(diagnoseEntry{From: flows.StepWelcome})
		dh.key("4", "enter") // Send a code to my recovery email
	}},
	{"lost_unknown", "en", func(t *testing.T, dh *diagHarness) {
		dh.fake.token = ""
		dh.open(diagnoseEntry{From: flows.StepWelcome})
		dh.key("4")
	}},
	{"lost_case_written", "en", func(t *testing.T, dh *diagHarness) {
		// A relative state dir keeps the path in the golden the same on
		// every machine; the cwd is restored before the golden is read.
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chdir(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := os.Chdir(wd); err != nil {
				t.Fatal(err)
			}
		}()
		dh.fake.devices = []api.Device{{ID: "dev-1", Name: "ann-laptop"}}
		dh.open(diagnoseEntry{From: flows.StepWelcome, StateDir: "state"})
		dh.key("4", "enter") // Write a support case file
	}},
}

// TestDiagnoseScreens renders each troubleshooting screen in App's frame at
// the design size (80x24) and at 60 columns, colours off, against golden
// files (refresh: go test ./ui -run TestDiagnoseScreens -update).
func TestDiagnoseScreens(t *testing.T) {
	for _, tc := range diagCases {
		for _, size := range [][2]int{{80, 24}, {60, 24}} {
			t.Run(fmt.Sprintf("%s/%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				fake := signedInFake()
				dh := newDiagHarness(t, size[0], size[1], tc.lang, fake, netRoot(t, "eth0", false))
				tc.setup(t, dh)
				if dh.app.Current() != flows.StepTroubleshoot {
					t.Fatalf("left troubleshooting for %v", dh.app.Current())
				}
				s := dh.frame()
				checkDiagFrame(t, s, size[0], size[1])
				golden.RequireEqual(t, s)
			})
		}
	}
}

// checkDiagFrame: the frame fills the window, no line is wider, the body
// was not cut (the footer's line is the last), and no raw key or error
// text shows.
func checkDiagFrame(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := checkSize(t, s, w, h)
	if strings.TrimSpace(lines[h-2]) != "" {
		t.Errorf("the body fills the window to the footer: it may be cut:\n%s", s)
	}
	for _, raw := range []string{"ts.", "doctor.", "err.", "context deadline", "%!"} {
		if strings.Contains(s, raw) {
			t.Errorf("frame shows %q:\n%s", raw, s)
		}
	}
}

func TestDiagnoseCodeActions(t *testing.T) {
	t.Run("resend updates the wizard's challenge and remembers it", func(t *testing.T) {
		fake := signedInFake()
		fake.challenge = emailSent("ann@example.com", 0)
		fake.resend = func() (api.Challenge, error) {
			return emailSent("ann@example.com", 60*time.Second), nil
		}
		dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
		ch := fake.challenge
		dh.app.sh.wiz.Challenge = &ch
		dir := t.TempDir()
		dh.open(diagnoseEntry{From: flows.StepCode, StateDir: dir})
		dh.key("enter")
		if fake.count("Resend") != 1 {
			t.Fatalf("resend calls %d", fake.count("Resend"))
		}
		if got := dh.app.sh.wiz.Challenge.ResendAfter; !got.Equal(diagT0.Add(60 * time.Second)) {
			t.Errorf("wizard's challenge resend_after %v", got)
		}
		if r, ok, _ := flows.LastChallenge(dir, nil); !ok || r.ID != "ch-mail" {
			t.Errorf("last challenge %+v %v", r, ok)
		}
		if !strings.Contains(dh.frame(), "Resend code (1:00)") {
			t.Errorf("no countdown:\n%s", dh.frame())
		}
	})
	for _, tc := range []struct {
		purpose string
		want    flows.Step
	}{{api.PurposeRegistration, flows.StepCreate}, {api.PurposePasswordReset, flows.StepReset}} {
		t.Run("change address of a "+tc.purpose, func(t *testing.T) {
			fake := signedInFake()
			fake.challenge = smsFailed()
			fake.challenge.Purpose = tc.purpose
			dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
			ch := fake.challenge
			dh.app.sh.wiz.ResetChallenge = &ch
			dh.open(diagnoseEntry{From: flows.StepResetCode})
			dh.key("enter") // the first action: change address
			if len(dh.nav) == 0 || dh.nav[len(dh.nav)-1] != tc.want {
				t.Errorf("navigated %v, want %v", dh.nav, tc.want)
			}
		})
	}
}

func TestDiagnoseSignInActions(t *testing.T) {
	t.Run("use the suggestion, then check signs in", func(t *testing.T) {
		fake := signedInFake()
		fake.token = ""
		dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
		dh.open(diagnoseEntry{From: flows.StepSignIn, SignIn: &flows.SignInAttempt{
			Identifier: "ann@gmial.com", At: diagT0, Err: &api.Error{Code: api.CodeInvalidCredentials},
		}})
		dh.key("enter") // Use ann@gmail.com
		if dh.app.sh.wiz.Identifier != "ann@gmail.com" {
			t.Fatalf("identifier %q", dh.app.sh.wiz.Identifier)
		}
		dh.typeText("Tr1cky#Pass")
		dh.key("enter") // check
		if fake.count("SignIn") != 1 || dh.app.sh.wiz.Account == nil {
			t.Fatalf("sign-in calls %d account %v", fake.count("SignIn"), dh.app.sh.wiz.Account)
		}
		if !strings.Contains(dh.frame(), "Signed in: the Mi ID and the password are right.") {
			t.Errorf("frame:\n%s", dh.frame())
		}
		dh.key("enter") // Continue to Mi Cloud
		if dh.app.Current() != flows.StepSync {
			t.Errorf("went to %v", dh.app.Current())
		}
	})
	t.Run("forgot password from a lock", func(t *testing.T) {
		dh := newDiagHarness(t, 80, 24, "en", signedInFake(), netRoot(t, "eth0", false))
		dh.open(diagnoseEntry{From: flows.StepSignIn, SignIn: &flows.SignInAttempt{
			Identifier: "ann@example.com", At: diagT0, Err: &api.Error{Code: api.CodeAccountLocked, RetryAfterS: 900},
		}})
		dh.key("enter")
		if dh.app.Current() != flows.StepReset || dh.app.sh.wiz.Identifier != "ann@example.com" {
			t.Errorf("at %v with %q", dh.app.Current(), dh.app.sh.wiz.Identifier)
		}
	})
}

func TestDiagnoseSyncActions(t *testing.T) {
	fake := signedInFake()
	fake.sync.WifiOnly = true
	dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
	dh.open(diagnoseEntry{From: flows.StepSync})
	dh.key("enter") // Sync on any network
	if len(fake.setSyncs) != 1 || fake.setSyncs[0].WifiOnly || !fake.setSyncs[0].AutoSync {
		t.Fatalf("saved %+v", fake.setSyncs)
	}
	if s := dh.app.sh.wiz.Sync; s == nil || s.WifiOnly {
		t.Errorf("wizard's sync %+v", s)
	}
	if !strings.Contains(dh.frame(), "Everything sync needs checks out") {
		t.Errorf("after the fix:\n%s", dh.frame())
	}
}

func TestDiagnoseLostActions(t *testing.T) {
	fake := signedInFake()
	fake.account.RecoveryPhone = "+86 ••• •••• 9000"
	fake.reset = api.Challenge{ID: "ch-reset", Purpose: api.PurposePasswordReset, Channel: api.ChannelSMS,
		Destination: "+86 ••• •••• 9000", State: api.ChallengePending, ResendAfter: diagT0.Add(time.Minute)}
	dh := newDiagHarness(t, 80, 24, "en", fake, netRoot(t, "eth0", false))
	dh.open(diagnoseEntry{From: flows.StepWelcome})
	dh.key("4", "enter") // Send a code to my recovery phone
	if f := dh.frame(); !strings.Contains(f, "+86 ••• •••• 9000") || !strings.Contains(f, "Not your recovery address?") {
		t.Errorf("after sending:\n%s", f)
	}
	dh.key("enter") // Enter the code
	if len(fake.resets) != 1 || fake.resets[0].Via != flows.ViaRecoveryPhone || fake.resets[0].Identifier != "ann@example.com" {
		t.Fatalf("resets %+v", fake.resets)
	}
	if dh.app.Current() != flows.StepResetCode || dh.app.sh.wiz.ResetChallenge == nil || dh.app.sh.wiz.ResetChallenge.ID != "ch-reset" {
		t.Errorf("at %v, reset challenge %+v", dh.app.Current(), dh.app.sh.wiz.ResetChallenge)
	}
}

func TestDiagnoseMenu(t *testing.T) {
	dh := newDiagHarness(t, 80, 24, "en", signedInFake(), netRoot(t, "eth0", false))
	dh.open(diagnoseEntry{From: flows.StepFindDevice})
	s := dh.screen()
	if s.open != nil || s.HandlesBack() {
		t.Fatal("opened from Find Device: the list first")
	}
	dh.key("down", "down", "enter")
	if _, ok := s.open.(*syncDiagnosis); !ok || !s.HandlesBack() {
		t.Fatalf("open %T", s.open)
	}
	dh.key("esc")
	if s.open != nil || dh.app.Current() != flows.StepTroubleshoot {
		t.Error("esc in a diagnosis goes back to the list")
	}
	// Opened from the code screen: the code diagnosis, and esc leaves.
	direct := newDiagnoseScreen(dh.app.sh, diagnoseEntry{From: flows.StepCode})
	if direct.HandlesBack() {
		t.Error("direct entry handles esc")
	}
	if k := dh.app.sh.keyTroubleshoot(); k.Help().Key != "ctrl+t" || k.Keys()[0] != "ctrl+t" {
		t.Errorf("troubleshoot key %+v", k.Help())
	}
}
