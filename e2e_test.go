package main

// The end-to-end test: the real binary in a real terminal (tmux), on a
// fresh machine (isolated XDG dirs), with the embedded service. One journey
// creates an account reading the code from the outbox, quits, runs the
// wizard again, signs in, chooses sync and Find Device, and checks what the
// service stored. Another sends the code through an SMS gateway that fails
// and asks troubleshooting why it did not come.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"misetup/server/store"
)

// tmuxTerm runs the wizard in tmux servers of the test's own: each start
// gets a new socket, since a server just killed may still hold the old one.
type tmuxTerm struct {
	t    *testing.T
	dir  string
	sock string
	runs int
	env  []string
}

func (tm *tmuxTerm) tmux(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", tm.sock}, args...)...)
	cmd.Env = tm.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// start runs the wizard in a new 80x24 window; the shell keeps the pane
// open after it exits and prints its exit status.
func (tm *tmuxTerm) start(bin string) {
	tm.runs++
	tm.sock = filepath.Join(tm.dir, fmt.Sprintf("tmux-%d.sock", tm.runs))
	tm.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "e2e",
		"sh", "-c", bin+`; echo "EXIT=$?"; sleep 600`)
}

func (tm *tmuxTerm) screen() string { return tm.tmux("capture-pane", "-p", "-t", "e2e") }

// wait waits until the screen shows want, and returns the screen.
func (tm *tmuxTerm) wait(want string) string {
	tm.t.Helper()
	var s string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s = tm.screen(); strings.Contains(s, want) {
			return s
		}
	}
	tm.t.Fatalf("%q not on screen:\n%s", want, s)
	return ""
}

// keys sends tmux key names (Enter, Tab, BTab, Down, Space, C-c...).
func (tm *tmuxTerm) keys(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// typeText sends literal text.
func (tm *tmuxTerm) typeText(s string) {
	tm.t.Helper()
	tm.tmux("send-keys", "-t", "e2e", "-l", s)
}

func (tm *tmuxTerm) kill() {
	if tm.sock != "" {
		_ = exec.Command("tmux", "-S", tm.sock, "kill-server").Run()
	}
}

var outboxCode = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode reads the newest code the outbox holds for to.
func lastCode(t *testing.T, path, to string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		code := ""
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var m struct{ To, Body string }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.To == to {
				if c := outboxCode.FindStringSubmatch(m.Body); c != nil {
					code = c[1]
				}
			}
		}
		f.Close()
		if code != "" {
			return code
		}
	}
	t.Fatalf("no code for %s in %s", to, path)
	return ""
}

// needTools skips (or, with MISETUP_TEST_REQUIRE=1, fails) without them.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MISETUP_TEST_REQUIRE") == "1" {
				t.Fatalf("%s is required (MISETUP_TEST_REQUIRE=1): %v", tool, err)
			}
			t.Skipf("%s is not installed: skipping", tool)
		}
	}
}

// endToEnd is the start of a test that drives the real binary with tools:
// skipped in -short mode, and as needTools says without them.
func endToEnd(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	needTools(t, tools...)
}

func TestEndToEndInTmux(t *testing.T) {
	endToEnd(t, "tmux")
	bin := filepath.Join(t.TempDir(), "misetup")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	t.Run("create an account, then sign in", func(t *testing.T) { e2eSetup(t, bin) })
	t.Run("code not received with a failing courier", func(t *testing.T) { e2eCodeNotDelivered(t, bin) })
	t.Run("resume at the code step in the language chosen", func(t *testing.T) { e2eResumeInChineseAtTheCode(t, bin) })
	t.Run("a dead code at 60 columns", func(t *testing.T) { e2eDeadCodeAt60Columns(t, bin) })
	t.Run("a real serve restarted mid-flow", func(t *testing.T) { e2eServiceRestartedMidFlow(t, bin) })
	t.Run("ctrl-c in plain mode", func(t *testing.T) { e2ePlainCtrlC(t, bin) })
	t.Run("no terminal", func(t *testing.T) { e2eNoTerminal(t, bin) })
}

// e2eMachine is a fresh machine for one journey: XDG dirs of its own under
// root, and a tmux of its own running the wizard there.
func e2eMachine(t *testing.T) (tm *tmuxTerm, xdg func(name string) string) {
	root := t.TempDir()
	xdg = func(name string) string { return filepath.Join(root, name) }
	tm = &tmuxTerm{t: t, dir: root, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + xdg("home"), "TERM=xterm-256color", "LANG=en_US.UTF-8",
		"XDG_DATA_HOME=" + xdg("data"), "XDG_STATE_HOME=" + xdg("state"),
		"XDG_CACHE_HOME=" + xdg("cache"), "XDG_CONFIG_HOME=" + xdg("config"),
	}}
	t.Cleanup(tm.kill)
	return tm, xdg
}

// toCreateAccount starts the wizard and walks it to "Create account".
func (tm *tmuxTerm) toCreateAccount(bin string) { tm.toAccount(bin, "c", "Create account") }

// toSignIn starts the wizard and walks it to "Sign in".
func (tm *tmuxTerm) toSignIn(bin string) { tm.toAccount(bin, "s", "Sign in") }

// toAccount starts the wizard and walks it to step 5, the screen key
// chooses at "Do you already have a Mi Account?" (title).
func (tm *tmuxTerm) toAccount(bin, key, title string) {
	tm.start(bin)
	tm.wait("Step 1 of 8 · Welcome")
	tm.keys("Enter")
	tm.wait("All set. Press enter to continue.")
	tm.keys("Enter")
	tm.wait("Step 3 of 8 · This device")
	tm.keys("Enter")
	tm.wait("Do you already have a Mi Account?")
	tm.keys(key)
	tm.wait("Step 5 of 8 · " + title)
}

// sendPassword tabs to the password and its confirmation, types pw into
// both and sends the form.
func (tm *tmuxTerm) sendPassword(pw string) {
	tm.keys("Tab")
	tm.typeText(pw)
	tm.keys("Tab")
	tm.typeText(pw)
	tm.wait("✓ both passwords match")
	tm.keys("Enter")
}

// e2eSetup creates an account reading the code from the outbox, quits,
// runs the wizard again, signs in, chooses sync and Find Device, and checks
// what the service stored.
func e2eSetup(t *testing.T, bin string) {
	tm, xdg := e2eMachine(t)
	const (
		email    = "e2e@example.com"
		password = "Tr1cky#Pass"
	)
	outbox := filepath.Join(xdg("state"), "misetup", "outbox.jsonl")

	// First run: create the account.
	tm.toCreateAccount(bin)
	tm.keys("BTab", "BTab", "Right", "Tab")
	tm.wait("you@example.com")
	tm.typeText(email)
	tm.wait("looks right")
	tm.sendPassword(password)
	tm.wait("We sent a 6-digit code by email to e***@example.com")
	tm.typeText(lastCode(t, outbox, email))
	s := tm.wait("Your Mi Account is ready")
	miID := regexp.MustCompile(`Mi ID\s+(\d{9,10})`).FindStringSubmatch(s)
	if miID == nil {
		t.Fatalf("no Mi ID on the success screen:\n%s", s)
	}
	// Quit in the middle: the wizard asks first.
	tm.keys("Enter")
	tm.wait("Sync automatically")
	tm.keys("C-c")
	tm.wait("Quit the setup?")
	tm.keys("y")
	tm.wait("EXIT=0")
	tm.kill()

	// Second run: start over and sign in, as on a new visit.
	tm.start(bin)
	tm.wait("Welcome back")
	tm.keys("n") // start over: forget the saved progress and session
	tm.wait("1. Welcome")
	tm.keys("Enter")
	tm.wait("All set. Press enter to continue.")
	tm.keys("Enter")
	tm.wait("Step 3 of 8 · This device")
	tm.keys("C-u")
	tm.typeText("e2e-box")
	tm.keys("Enter")
	tm.wait("Do you already have a Mi Account?")
	tm.keys("s")
	tm.wait("Step 5 of 8 · Sign in")
	tm.typeText(email)
	tm.keys("Tab")
	tm.typeText(password)
	tm.keys("Enter")
	tm.wait("Step 6 of 8 · Mi Cloud sync")
	tm.wait("Save and continue")
	// Call history on, then Wi-Fi only on.
	tm.keys("Down", "Down", "Down", "Down", "Down", "Down", "Space")
	tm.keys("Down", "Down", "Down", "Space")
	tm.wait("[x] Sync over Wi-Fi only")
	tm.keys("Enter")
	// Not on Wi-Fi (a cable, as on most test machines), the wizard asks
	// whether to keep Wi-Fi only: keep it.
	if s := tm.waitAny("Step 7 of 8 · Find Device", `Keep "Sync over Wi-Fi only"?`); strings.Contains(s, "Keep") {
		tm.keys("y")
	}
	tm.wait("Step 7 of 8 · Find Device")
	// Test it now: the wizard rings this device through the service (the
	// agent runs in the wizard for the moment) and says how long it took.
	tm.keys("Tab", "Tab")
	tm.wait("enter press")
	tm.keys("Enter")
	if s := tm.wait("Rang this device in"); !regexp.MustCompile(`Rang this device in \d+\.\d s`).MatchString(s) {
		t.Errorf("the drill's round trip:\n%s", s)
	}
	tm.keys("Tab") // back on the switch: enter saves
	tm.keys("Enter")
	s = tm.wait("Step 8 of 8 · Summary")
	flat := strings.Join(strings.Fields(s), " ") // wrapped lines joined
	for _, want := range []string{miID[1], email, "e2e-box", "Call history", "Wi-Fi only", "Find Device on"} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	tm.keys("Enter")
	tm.wait("EXIT=0")
	tm.kill()
	e2eFinishedIsNotAnInterruption(t, tm, bin)

	// What the service holds.
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(xdg("data"), "misetup", "misetup.db"))
	if err != nil {
		t.Fatalf("open the wizard's store: %v", err)
	}
	defer st.Close()
	acc, err := st.AccountByEmail(ctx, email)
	if err != nil || acc.MiID != miID[1] {
		t.Fatalf("account %+v, %v: want Mi ID %s", acc, err, miID[1])
	}
	devs, err := st.Devices(ctx, acc.MiID)
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices %+v, %v: want this one device", devs, err)
	}
	d := devs[0]
	want := []string{"contacts", "messages", "gallery", "notes", "calendar", "call_history"}
	if d.Name != "e2e-box" || !d.FindDevice || !d.Sync.AutoSync || !d.Sync.WifiOnly || !slices.Equal(d.Sync.Categories, want) {
		t.Fatalf("stored device %+v, want e2e-box with Find Device on and sync %v over Wi-Fi only", d, want)
	}
	idFile, _ := os.ReadFile(filepath.Join(xdg("state"), "misetup", "device-id"))
	if strings.TrimSpace(string(idFile)) != d.ID {
		t.Fatalf("device id %q, saved %q", d.ID, idFile)
	}
	if fi, err := os.Stat(filepath.Join(xdg("state"), "misetup", "session")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v %v, want mode 0600", fi, err)
	}
}

// e2eCodeNotDelivered starts creating an account with a phone number while
// the SMS gateway answers 500, opens "Didn't get the code?" and checks the
// diagnosis: delivery failed with the gateway's reason, change the address,
// no resend. Then `misetup doctor` finds the same failure after the wizard
// quit.
func e2eCodeNotDelivered(t *testing.T, bin string) {
	var posts atomic.Int32
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		http.Error(w, "gateway overloaded", http.StatusInternalServerError)
	}))
	defer gateway.Close()
	tm, xdg := e2eMachine(t)
	// The embedded service reads the config `misetup serve` reads.
	cfg := fmt.Sprintf("[serve]\ncourier = \"webhook\"\n\n[serve.webhook]\nurl = %q\n", gateway.URL+"/send")
	if err := os.MkdirAll(filepath.Join(xdg("config"), "misetup"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(xdg("config"), "misetup", "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "Tr1cky#Pass"

	tm.toCreateAccount(bin)
	tm.keys("BTab", "C", "C") // the country: from the locale's United States to Canada, then China
	tm.wait("China (+86)")
	tm.keys("Tab")
	tm.typeText("13800138000")
	tm.wait("✓ +86 138 0013 8000")
	tm.sendPassword(password)
	tm.wait("We sent a 6-digit code by SMS to +86")
	tm.keys("Tab", "Tab") // past "Resend code" to "Didn't get the code?"
	tm.wait("› [ Didn't get the code? ]")
	tm.keys("Enter")
	s := tm.wait("could not send the code")
	flat := strings.Join(strings.Fields(s), " ") // wrapped lines joined
	for _, want := range []string{"Troubleshooting", "Verification code not received", "Text message (SMS)",
		"failed at", "gateway answered 500", "Resending will not help", "[ Change address ]"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the diagnosis lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(flat, "[ Resend") || strings.Contains(flat, "Resend code") {
		t.Errorf("a failed delivery offers a resend:\n%s", s)
	}
	if posts.Load() == 0 {
		t.Error("the gateway was never asked to send the code")
	}
	// esc goes back to the code screen; quit there.
	tm.keys("Escape")
	tm.wait("We sent a 6-digit code by SMS to +86")
	tm.keys("C-c")
	tm.wait("Quit the setup?")
	tm.keys("y")
	tm.wait("EXIT=0")
	tm.kill()

	// The wizard left the challenge for the doctor, which finds the failure.
	if _, err := os.Stat(filepath.Join(xdg("state"), "misetup", "last-challenge.json")); err != nil {
		t.Errorf("the wizard did not remember the challenge: %v", err)
	}
	doctor := exec.Command(bin, "doctor", "--json")
	doctor.Env = tm.env
	out, err := doctor.Output()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("doctor: %v, want exit status 2 (a failure)\n%s", err, out)
	}
	var findings []struct{ ID, Status, Finding string }
	if err := json.Unmarshal(out, &findings); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	i := slices.IndexFunc(findings, func(f struct{ ID, Status, Finding string }) bool { return f.ID == "last_code" })
	if i < 0 || findings[i].Status != "fail" || !strings.Contains(findings[i].Finding, "500") {
		t.Errorf("doctor's last code finding: %+v", findings)
	}
}
