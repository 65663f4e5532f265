package ui

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"misetup/api"
	"misetup/flows"
)

// fakeManager is the account hub's calls with canned answers, so that its
// pages draw the same every time (the real service is tried by the e2e
// test in the main package).
type fakeManager struct {
	mu       sync.Mutex
	token    string
	account  api.Account
	devices  []api.Device
	find     map[string]bool
	commands []api.Command
	password string // the current password
	totpOn   bool
	calls    []string
}

func newFakeManager() *fakeManager {
	seen := func(d time.Duration) *time.Time { t := t0.Add(-d); return &t }
	return &fakeManager{
		token:    "tok-1",
		password: "Blue-Kettle-42",
		account:  api.Account{MiID: "1234567890", Email: "ann@example.com", DisplayName: "Ann Lee", Region: "CN", Language: "en"},
		devices: []api.Device{
			{ID: "dev-1", Name: "ann-laptop", Model: "ThinkPad X1", OS: "Debian GNU/Linux 12", LastSeen: seen(0), FindDevice: true, Current: true},
			{ID: "dev-2", Name: "Redmi Note 13", Model: "23124RA7EO", OS: "HyperOS 1.0", LastSeen: seen(50 * time.Hour)},
			{ID: "dev-3", Name: "old-tablet", Model: "Mi Pad 5", OS: "MIUI 14", LastSeen: seen(120 * 24 * time.Hour)},
		},
		find: map[string]bool{"dev-1": true},
	}
}

func (f *fakeManager) log(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeManager) Token() string         { f.mu.Lock(); defer f.mu.Unlock(); return f.token }
func (f *fakeManager) SetToken(token string) { f.mu.Lock(); defer f.mu.Unlock(); f.token = token }
func (f *fakeManager) Account(context.Context) (api.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.account
	a.TOTPEnabled = f.totpOn
	return a, nil
}
func (f *fakeManager) Challenge(context.Context, string) (api.Challenge, error) {
	return api.Challenge{}, nil
}
func (f *fakeManager) Resend(context.Context, string) (api.Challenge, error) {
	return api.Challenge{}, nil
}
func (f *fakeManager) Verify(_ context.Context, id string, req api.VerifyRequest) (api.VerifyResponse, error) {
	f.log("verify " + id + " " + req.Code)
	if req.Code != "123456" {
		return api.VerifyResponse{}, &api.Error{Status: 400, Code: api.CodeInvalidCode, AttemptsLeft: intPtr(4)}
	}
	f.mu.Lock()
	f.account.RecoveryEmail = "a***@example.org"
	f.mu.Unlock()
	return api.VerifyResponse{}, nil
}
func (f *fakeManager) UpdateAccount(_ context.Context, p api.AccountPatch) (api.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.account.DisplayName, f.account.Region, f.account.Language = *p.DisplayName, *p.Region, *p.Language
	f.calls = append(f.calls, "profile "+*p.DisplayName+" "+*p.Region+" "+*p.Language)
	return f.account, nil
}
func (f *fakeManager) ChangePassword(_ context.Context, req api.PasswordChange) (api.PasswordChanged, error) {
	f.log("password")
	if req.CurrentPassword != f.password {
		return api.PasswordChanged{}, &api.Error{Status: 403, Code: api.CodeReauthRequired, Field: "current_password"}
	}
	return api.PasswordChanged{OtherSessionsSignedOut: 2}, nil
}
func (f *fakeManager) SetRecovery(_ context.Context, req api.RecoveryRequest) (api.Challenge, error) {
	f.log("recovery " + req.Email + req.Phone)
	return api.Challenge{ID: "ch-r", Purpose: "recovery", Channel: "email", Destination: "a***@example.org", State: "pending"}, nil
}
func (f *fakeManager) Devices(context.Context) ([]api.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Device(nil), f.devices...), nil
}
func (f *fakeManager) RenameDevice(_ context.Context, id, name string) (api.Device, error) {
	f.log("rename " + id + " " + name)
	return api.Device{ID: id, Name: name}, nil
}
func (f *fakeManager) RemoveDevice(_ context.Context, id string) error {
	f.log("remove " + id)
	return nil
}
func (f *fakeManager) FindDevice(_ context.Context, id string) (api.FindDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fd := api.FindDevice{Enabled: f.find[id]}
	if id == "dev-2" {
		fd.LastLocation = &api.Location{Lat: 39.9042, Lon: 116.4074, ReportedAt: t0.Add(-25 * time.Minute)}
	}
	return fd, nil
}
func (f *fakeManager) SetFindDevice(_ context.Context, id string, on bool) (api.FindDevice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.find[id] = on
	return api.FindDevice{Enabled: on}, nil
}
func (f *fakeManager) SendCommand(_ context.Context, id string, req api.CommandRequest) (api.Command, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if (req.Type == "lock" || req.Type == "erase") && req.Password != f.password {
		return api.Command{}, &api.Error{Status: 403, Code: api.CodeReauthRequired, Field: "password"}
	}
	c := api.Command{ID: fmt.Sprintf("cmd-%d", len(f.commands)+1), DeviceID: id, Type: req.Type, Message: req.Message, State: "pending", CreatedAt: t0}
	f.commands = append(f.commands, c)
	f.calls = append(f.calls, "command "+id+" "+req.Type+" "+req.Message)
	return c, nil
}

// Command answers a command delivered, then done (the device's side).
func (f *fakeManager) Command(_ context.Context, _, cid string) (api.Command, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.commands {
		if c.ID != cid {
			continue
		}
		switch c.State {
		case "pending":
			f.commands[i].State = "delivered"
		case "delivered":
			f.commands[i].State = "done"
			if c.Type == "ring" {
				f.commands[i].Result = "rang"
			}
		}
		return c, nil
	}
	return api.Command{}, api.ErrNotFound
}
func (f *fakeManager) Storage(context.Context) (api.Storage, error) {
	return api.Storage{QuotaBytes: 5 << 30, UsedBytes: 1288 << 20, ByCategory: map[string]int64{
		"gallery": 900 << 20, "contacts": 2 << 20, "notes": 30 << 20, "messages": 356 << 20}}, nil
}
func (f *fakeManager) StartTOTP(context.Context) (api.TOTPSetup, error) {
	return api.TOTPSetup{Secret: "VADETH3ENPLBVW27V6OBBPTJWETI6IWK",
		OTPAuthURI: "otpauth://totp/Mi%20Account:1234567890?secret=VADETH3ENPLBVW27V6OBBPTJWETI6IWK"}, nil
}
func (f *fakeManager) ConfirmTOTP(_ context.Context, code string) (api.RecoveryCodes, error) {
	if code != "654321" {
		return api.RecoveryCodes{}, &api.Error{Status: 400, Code: api.CodeInvalidCode}
	}
	f.mu.Lock()
	f.totpOn = true
	f.mu.Unlock()
	codes := make([]string, 10)
	for i := range codes {
		codes[i] = fmt.Sprintf("k7%d3-9x%d2", i, i)
	}
	return api.RecoveryCodes{RecoveryCodes: codes}, nil
}
func (f *fakeManager) DisableTOTP(_ context.Context, password string) error {
	if password != f.password {
		return &api.Error{Status: 403, Code: api.CodeReauthRequired, Field: "password"}
	}
	f.mu.Lock()
	f.totpOn = false
	f.mu.Unlock()
	return nil
}

func intPtr(n int) *int { return &n }

// newHubHarness opens misetup account on the fake manager.
func newHubHarness(t *testing.T, w, h int, lang string) (*harness, *fakeManager) {
	t.Helper()
	return newHubHarnessSized(t, newFakeManager(), w, h, lang)
}

// newHubHarnessWith opens misetup account on m at 80x24 in English.
func newHubHarnessWith(t *testing.T, m *fakeManager) (*harness, *fakeManager) {
	t.Helper()
	return newHubHarnessSized(t, m, 80, 24, "en")
}

func newHubHarnessSized(t *testing.T, m *fakeManager, w, h int, lang string) (*harness, *fakeManager) {
	t.Helper()
	svc := newFakeService()
	files := &memFiles{}
	deps := Deps{
		Accounts: svc, Cloud: svc, Manager: m, Progress: files, Sessions: files,
		Checker:  flows.Checker{Status: svc, ClientVersion: api.Version},
		DeviceID: func() (string, error) { return "dev-1", nil },
		Now:      func() time.Time { return t0 },
	}
	a := New(context.Background(), deps, Options{Lang: lang, Locale: "en_US.UTF-8", Hub: true})
	hs := &harness{t: t, app: a, svc: svc, files: files}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.send(deviceReadMsg{info: flows.DeviceInfo{Name: "ann-laptop"}, id: "dev-1"})
	hs.pump(a.current().Init(), 0)
	return hs, m
}

// hubPages are the hub's pages, each reached from the overview by keys.
var hubPages = []struct {
	name string
	keys []string
}{
	{"home", nil},
	{"profile", []string{"4"}},
	{"password", []string{"5", "tab", "N", "e", "w", "-", "p", "w", "9"}},
	{"devices", []string{"6"}},
	{"device", []string{"6", "2"}},
	{"lock", []string{"6", "2", "3"}},
	{"erase", []string{"6", "2", "4"}},
	{"ring", []string{"6", "2", "2"}},
	{"remove", []string{"6", "3", "7"}},
	{"two_step", []string{"7"}},
	{"two_step_scan", []string{"7", "1"}},
	{"two_step_code", []string{"7", "1", "enter"}},
	{"recovery", []string{"8"}},
	{"storage", []string{"down", "down", "down", "down", "down", "down", "down", "down", "enter"}},
}

// TestHubScreens draws every hub page at 80x24 and 60 columns, in both
// languages.
func TestHubScreens(t *testing.T) {
	for _, p := range hubPages {
		for _, lang := range []string{"en", "zh-CN"} {
			for _, size := range [][2]int{{80, 24}, {60, 24}} {
				t.Run(fmt.Sprintf("%s/%s/%dx%d", p.name, lang, size[0], size[1]), func(t *testing.T) {
					h, _ := newHubHarness(t, size[0], size[1], lang)
					h.do(p.keys...)
					s := h.screen()
					for i, line := range strings.Split(s, "\n") {
						if w := ansi.StringWidth(line); w > size[0] {
							t.Errorf("line %d is %d wide, more than %d:\n%s", i, w, size[0], s)
						}
					}
					golden.RequireEqual(t, s)
				})
			}
		}
	}
}

// TestHubActions goes through the hub as a person would and checks what
// reached the service and what the screen said.
func TestHubActions(t *testing.T) {
	h, m := newHubHarness(t, 80, 24, "en")
	if s := h.screen(); !strings.Contains(s, "Security checkup: 1 of 4") || !strings.Contains(s, "old-tablet") {
		t.Fatalf("overview:\n%s", s)
	}

	// Password: a wrong current one is refused, naming it; the right one
	// says how many sessions ended.
	h.do("5")
	h.typeText("Wrong-pass-1")
	h.do("tab")
	h.typeText("Green-Teapot-99")
	h.do("tab")
	h.typeText("Green-Teapot-99")
	h.do("enter")
	if s := h.screen(); !strings.Contains(s, "password") || strings.Contains(s, "Password changed") {
		t.Fatalf("a wrong current password:\n%s", s)
	}
	// The error names the current password: the focus is on it, to be
	// typed again.
	if s := h.screen(); !strings.Contains(s, "› Password") {
		t.Fatalf("the focus is not on the current password after it was refused:\n%s", s)
	}
	for range len("Wrong-pass-1") {
		h.do("backspace")
	}
	h.typeText("Blue-Kettle-42")
	h.do("enter") // sends the form from any field
	if s := h.screen(); !strings.Contains(s, "Password changed. Other sessions signed out: 2.") || !strings.Contains(s, "Security checkup") {
		t.Fatalf("after the change:\n%s", s)
	}

	// Erase: the name must be typed; then the command is followed to done.
	h.do("6", "2", "4")
	h.typeText("Redmi")
	h.do("tab")
	h.typeText("Blue-Kettle-42")
	h.do("enter")
	if s := h.screen(); !strings.Contains(s, "Type the device's name, Redmi Note 13") {
		t.Fatalf("a wrong name:\n%s", s)
	}
	h.typeText(" Note 13") // the error put the focus back on the name
	h.do("enter", "enter")
	for range 3 { // the ticks of a second each, without the wait
		h.pump(h.app.current().(*hubScreen).top().poll(), 0)
	}
	if s := h.screen(); !strings.Contains(s, "Redmi Note 13 was erased and signed out.") {
		t.Fatalf("erase followed to its end:\n%s", s)
	}
	if !strings.Contains(strings.Join(m.calls, "\n"), "command dev-2 erase") {
		t.Errorf("calls: %q", m.calls)
	}

	// Two-step verification: scan, a code, the recovery codes once, then
	// the checkup counts it.
	h.do("esc", "esc", "esc", "esc")
	h.do("1", "1", "enter")
	h.typeText("654321")
	h.do("enter")
	if s := h.screen(); !strings.Contains(s, "k703-9x02") || !strings.Contains(s, "I have saved them") {
		t.Fatalf("recovery codes:\n%s", s)
	}
	h.do("enter")
	if s := h.screen(); !strings.Contains(s, "Two-step verification is on.") || !strings.Contains(s, "Security checkup: 2 of 4") {
		t.Fatalf("after enrolment:\n%s", s)
	}
}

// TestHubPlain walks the same pages as plain prompts: the same steps,
// asked one field after another.
func TestHubPlain(t *testing.T) {
	m := newFakeManager()
	svc := newFakeService()
	files := &memFiles{token: "tok-1"}
	deps := Deps{Accounts: svc, Cloud: svc, Manager: m, Progress: files, Sessions: files, System: flows.System{Root: t.TempDir()},
		DeviceID: func() (string, error) { return "dev-1", nil }, Now: func() time.Time { return t0 }}
	// The overview; profile (4): name, region, language; then Done.
	in := strings.NewReader("4\nAnn L\n\n2\n10\n")
	var out bytes.Buffer
	deps.Start = func(context.Context) error { return nil } // a remote service: nothing to open
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en", Hub: true, Server: "http://127.0.0.1:8417"}, in, &out, nil); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"Security checkup: 1 of 4", "Two-step verification is off", "Display name", "Profile saved."} {
		if !strings.Contains(s, want) {
			t.Errorf("plain hub lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "built-in account service") {
		t.Errorf("plain mode on a remote service says it starts the built-in one:\n%s", s)
	}
	if !strings.Contains(strings.Join(m.calls, "\n"), "profile Ann L CN zh-CN") {
		t.Errorf("calls: %q", m.calls)
	}
}

// TestHubPlainRefusesAtOnce: in plain mode a form refused before it is
// sent (an empty password) says so without first saying it is saving.
func TestHubPlainRefusesAtOnce(t *testing.T) {
	m := newFakeManager()
	m.totpOn = true
	svc := newFakeService()
	files := &memFiles{token: "tok-1"}
	deps := Deps{Accounts: svc, Cloud: svc, Manager: m, Progress: files, Sessions: files, System: flows.System{Root: t.TempDir()},
		DeviceID: func() (string, error) { return "dev-1", nil }, Now: func() time.Time { return t0 },
		Start: func(context.Context) error { return nil }}
	// Two-step verification (6), turn it off with an empty password, which
	// is refused and asked again at once, then the right one; the
	// overview's Done.
	in := strings.NewReader("6\n\nBlue-Kettle-42\n9\n")
	var out bytes.Buffer
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en", Hub: true, Server: "http://127.0.0.1:8417"}, in, &out, nil); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	s := out.String()
	empty := strings.Index(s, "Enter your password.")
	if empty < 0 {
		t.Fatalf("no refusal of the empty password:\n%s", s)
	}
	if strings.Count(s[:empty], "Saving…") != 0 {
		t.Errorf("\"Saving…\" before the refusal of an empty password:\n%s", s)
	}
	if m.totpOn {
		t.Errorf("two-step verification still on after the right password:\n%s", s)
	}
}

// TestHubSignedOut: misetup account on a device with no session says so
// and offers the wizard's sign-in.
func TestHubSignedOut(t *testing.T) {
	m := newFakeManager()
	m.SetToken("")
	h, _ := newHubHarnessWith(t, m)
	s := h.screen()
	if !strings.Contains(s, "You are no longer signed in") || !strings.Contains(s, "Press s to sign in") {
		t.Fatalf("signed out:\n%s", s)
	}
	h.do("s")
	if h.app.Current() != flows.StepSignIn {
		t.Fatalf("s went to %v, want sign in", h.app.Current())
	}
}

// TestHubTenthEntryByZero: the overview's tenth entry, Done, has a key
// too: 0, drawn beside it as the others' numbers are.
func TestHubTenthEntryByZero(t *testing.T) {
	h, _ := newHubHarness(t, 80, 24, "en")
	if s := h.screen(); !strings.Contains(s, "0. Done") {
		t.Fatalf("the tenth entry has no number:\n%s", s)
	}
	h.do("0")
	if !h.app.Finished() {
		t.Errorf("0 on the overview did not leave the hub:\n%s", h.screen())
	}
}
