package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"

	"misetup/api"
	"misetup/flows"
)

// vtScreen replays the program's output into a terminal emulator and
// matches what is visible, since the renderer only redraws changed cells.
type vtScreen struct {
	*teatest.TestModel
	emu *vt.SafeEmulator
}

func startJourney(t *testing.T, deps Deps, opts Options) *vtScreen {
	t.Helper()
	app := New(context.Background(), deps, opts)
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(
			tea.WithColorProfile(colorprofile.ASCII),
			tea.WithEnvironment([]string{"TERM=xterm-256color"}),
		))
	emu := vt.NewSafeEmulator(80, 24)
	go func() { _, _ = io.Copy(io.Discard, emu) }()
	return &vtScreen{tm, emu}
}

// wait waits until want is on the screen.
func (s *vtScreen) wait(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := io.ReadAll(s.Output())
		_, _ = s.emu.Write(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
		if strings.Contains(s.emu.String(), want) {
			return
		}
	}
	t.Fatalf("%q not on screen:\n%s", want, s.emu.String())
}

func (s *vtScreen) press(keys ...string) {
	for _, k := range keys {
		s.Send(press(k))
	}
}

func journeyDeps(t *testing.T) (Deps, *fakeService, *memFiles) {
	svc := newFakeService()
	files := &memFiles{}
	sys := flows.System{Root: t.TempDir(), Hostname: func() (string, error) { return "ann-laptop", nil }}
	return Deps{
		Accounts: svc, Cloud: svc, Progress: files, Sessions: files, System: sys,
		Checker:  flows.Checker{Status: svc, ClientVersion: api.Version, System: sys, Now: func() time.Time { return t0 }},
		DeviceID: func() (string, error) { return "dev-1", nil },
		Now:      func() time.Time { return t0 },
	}, svc, files
}

// TestJourneyCreateAccount walks the whole wizard creating an account, then
// checks what reached the service and what was saved on disk.
func TestJourneyCreateAccount(t *testing.T) {
	deps, svc, files := journeyDeps(t)
	s := startJourney(t, deps, Options{Lang: "en"})
	s.wait(t, "Set up your Mi Account")
	s.press("enter")
	s.wait(t, "You can continue") // the network is unknown in the test's empty /sys: a warning
	s.press("enter")
	s.wait(t, "ann-laptop")
	s.press("enter")
	s.wait(t, "Do you already have a Mi Account?")
	s.press("c")
	s.wait(t, "Phone number")
	s.press("shift+tab", "shift+tab", "right", "tab")
	s.wait(t, "you@example.com")
	s.Type("ann@example.com")
	s.wait(t, "looks right")
	s.press("tab")
	s.Type("Tr1cky#Pass")
	s.press("tab")
	s.Type("Tr1cky#Pass")
	s.wait(t, "✓ both passwords match")
	s.press("enter")
	s.wait(t, "We sent a 6-digit code by email to a***@example.com")
	s.Type("123456")
	s.wait(t, "Your Mi Account is ready")
	s.wait(t, "1234567890")
	s.press("enter")
	s.wait(t, "Sync automatically")
	s.press("down", "down", "down", "down", "down", "down", "space") // call history on
	s.press("enter")
	s.wait(t, "Erase its data")
	s.press("enter")
	s.wait(t, "Your Mi Account is set up on this device")
	s.press("enter")

	app := s.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*App)
	if !app.Finished() {
		t.Fatalf("wizard did not finish; at %v", app.Current())
	}
	if len(svc.registered) != 1 {
		t.Fatalf("%d registrations", len(svc.registered))
	}
	r := svc.registered[0]
	if r.Method != api.MethodEmail || r.Identifier != "ann@example.com" || r.Password != "Tr1cky#Pass" || r.Language != "en" {
		t.Errorf("registration sent %+v", r)
	}
	if len(svc.verifyDevs) != 1 || svc.verifyDevs[0] == nil || svc.verifyDevs[0].ID != "dev-1" || svc.verifyDevs[0].Name != "ann-laptop" {
		t.Errorf("verify linked device %+v, want dev-1 named ann-laptop", svc.verifyDevs)
	}
	want := []string{"contacts", "messages", "gallery", "notes", "calendar", "call_history"}
	if got := svc.sync["dev-1"]; !got.AutoSync || !slices.Equal(got.Categories, want) {
		t.Errorf("saved sync %+v, want on with %v", got, want)
	}
	if !svc.findDevice["dev-1"] {
		t.Errorf("Find Device not turned on")
	}
	if files.token != "tok-1" {
		t.Errorf("session token kept %q, want tok-1", files.token)
	}
	for _, p := range files.saves {
		b, _ := json.Marshal(p)
		if bytes.Contains(b, []byte("Tr1cky#Pass")) || bytes.Contains(b, []byte("123456")) || bytes.Contains(b, []byte("tok-1")) {
			t.Fatalf("progress holds a secret: %s", b)
		}
	}
	if last := files.saves[len(files.saves)-1]; last.Step != "summary" || last.Identifier != "ann@example.com" || last.Device.Name != "ann-laptop" {
		t.Errorf("last progress %+v", last)
	}
}

// TestJourneyResumeSignIn restarts a wizard that stopped at sign-in: it
// offers to resume, keeps the identifier, and signs in with the device.
func TestJourneyResumeSignIn(t *testing.T) {
	deps, svc, files := journeyDeps(t)
	files.progress = &flows.Progress{Step: "sign_in", Lang: "en", Method: "email", Identifier: "ann@example.com",
		Device: flows.DeviceInfo{Name: "kitchen-pc", Model: "NUC", OS: "Debian 12"}}
	s := startJourney(t, deps, Options{})
	s.wait(t, "You stopped at Step 5 of 8 · Sign in")
	s.press("enter")
	s.wait(t, "Forgot password?")
	s.Type("N3w#Secret")
	s.press("enter")
	s.wait(t, "Sync automatically")
	s.press("ctrl+c")
	s.wait(t, "Quit the setup?") // in the middle of the flow, quitting asks first
	s.press("y")

	app := s.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*App)
	if app.Finished() || app.Current() != flows.StepSync {
		t.Fatalf("finished=%v at %v, want quit on the sync step", app.Finished(), app.Current())
	}
	if len(svc.signIns) != 1 {
		t.Fatalf("%d sign-ins", len(svc.signIns))
	}
	in := svc.signIns[0]
	if in.Identifier != "ann@example.com" || in.Password != "N3w#Secret" ||
		in.Device != (api.Device{ID: "dev-1", Name: "kitchen-pc", Model: "NUC", OS: "Debian 12"}) {
		t.Errorf("sign-in sent %+v", in)
	}
	if svc.count("Register") != 0 {
		t.Errorf("a resumed sign-in registered")
	}
}
