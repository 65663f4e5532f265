package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/server/servertest"
)

// TestHubCommandsReachAnAgent: from device A's account hub (the real
// binary in tmux, misetup account), ring, lock and erase device B; B's
// agent (a real misetup agent process, another machine's XDG dirs) carries
// each out, and A's screen follows each to done. One real serve is the
// account service of both.
func TestHubCommandsReachAnAgent(t *testing.T) {
	endToEnd(t, "tmux")
	bin := buildMisetup(t)
	serveRoot, rootB := t.TempDir(), t.TempDir()
	srv := startServe(t, bin, serveRoot, nil)

	// B: ann's desktop, linked, its session kept as the wizard keeps it.
	// linkDevice reads the code from the outbox of the serve under its
	// root: B's state dir is given the serve's outbox to read.
	for _, d := range []string{"state/misetup", "data", "cache", "config"} {
		if err := os.MkdirAll(filepath.Join(rootB, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	linkDeviceVia(t, srv.url, serveRoot, rootB, "desk-b")

	// A: ann's laptop, signed in, running misetup account in tmux.
	tm, xdg := e2eMachine(t)
	stateA := filepath.Join(xdg("state"), "misetup")
	if err := os.MkdirAll(stateA, 0o700); err != nil {
		t.Fatal(err)
	}
	tg := &servertest.Target{URLs: []string{srv.url}}
	var s api.Session
	tg.Do(t, 0, "POST", "/v1/sessions", api.SessionRequest{Identifier: "ann@example.com", Password: servertest.Password,
		Device: api.Device{ID: "lap-a", Name: "Ann's laptop"}}, "").Into(t, 201, &s)
	for name, v := range map[string]string{"session": s.Token, "device-id": "lap-a"} {
		if err := os.WriteFile(filepath.Join(stateA, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	agent := startAgentProc(t, bin, xdgEnv(rootB), "--server", srv.url)

	tm.start(bin + " account --server " + srv.url)
	home := tm.wait("Security checkup")
	tm.keys(menuNumber(t, home, "Linked devices"))
	list := tm.wait("devices are linked")
	tm.keys(menuNumber(t, list, "Ann's desktop"))
	tm.wait("Last seen")

	// Ring.
	tm.keys("2")
	tm.waitLong("Ann's desktop rang.")
	tm.keys("Escape")
	tm.wait("Last seen")

	// Lock, with a message and the password.
	tm.keys("3")
	tm.wait("Lock Ann's desktop")
	tm.typeText("Please call me")
	tm.keys("Tab")
	tm.typeText(servertest.Password)
	tm.keys("Enter")
	tm.waitLong("Ann's desktop is locked.")
	if _, err := os.Stat(filepath.Join(rootB, "state", "misetup", "session")); !os.IsNotExist(err) {
		t.Errorf("B's saved session survived the lock: %v", err)
	}
	// Whoever runs misetup on B now reads the owner's message, and must
	// sign in again.
	run := exec.Command(bin, "--server", srv.url, "--lang", "en")
	run.Env, run.Stdin = xdgEnv(rootB), strings.NewReader("\n")
	out, _ := run.CombinedOutput()
	if flat := strings.Join(strings.Fields(string(out)), " "); !strings.Contains(flat, "This device was locked by its owner") ||
		!strings.Contains(flat, "Please call me") || strings.Contains(flat, "Welcome back") {
		t.Errorf("misetup on the locked device:\n%s", out)
	}
	tm.keys("Escape")
	tm.wait("Last seen")

	// Erase: the name typed, then the password.
	tm.keys("4")
	tm.wait("Type its name")
	tm.typeText("Ann's desktop")
	tm.keys("Tab")
	tm.typeText(servertest.Password)
	tm.keys("Enter")
	tm.waitLong("Ann's desktop was erased and signed out.")

	select {
	case <-agent.exited:
		if err := agent.err; err != nil {
			t.Errorf("B's agent after the erase: %v\n%s", err, agent.logs)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("B's agent still runs after the erase:\n%s", agent.logs)
	}
	for _, w := range []string{"ring done", "lock done", "erase"} {
		if !strings.Contains(agent.logs.String(), w) {
			t.Errorf("B's log lacks %q:\n%s", w, agent.logs)
		}
	}
	// The erase deleted misetup's own files for the account on B.
	if _, err := os.Stat(filepath.Join(rootB, "state", "misetup", "session")); !os.IsNotExist(err) {
		t.Errorf("B's session file after the erase: %v", err)
	}
	tm.keys("C-c")
	tm.wait("EXIT=0")
}

// linkDeviceVia is linkDevice for a service whose outbox is under
// serveRoot, with the device's files under root.
func linkDeviceVia(t *testing.T, url, serveRoot, root, deviceID string) {
	t.Helper()
	// linkDevice reads the outbox under its root and writes the session
	// there: give it the serve's root, then copy the device's files.
	linkDevice(t, url, serveRoot, deviceID)
	for _, name := range []string{"session", "device-id"} {
		b, err := os.ReadFile(filepath.Join(serveRoot, "state", "misetup", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "state", "misetup", name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// menuNumber is the key of a menu entry on screen: its number.
func menuNumber(t *testing.T, screen, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(\d)\. ` + regexp.QuoteMeta(label)).FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("no menu entry %q:\n%s", label, screen)
	}
	return m[1]
}

// waitLong is wait for what a device on the other end does (a long poll
// away).
func (tm *tmuxTerm) waitLong(want string) string {
	tm.t.Helper()
	var s string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if s = tm.screen(); strings.Contains(s, want) {
			return s
		}
	}
	tm.t.Fatalf("%q not on screen:\n%s", want, s)
	return ""
}
