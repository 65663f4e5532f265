package main

// misetup cloud as processes: two computers of one account (each its own
// home, XDG dirs and folders) back up and sync through a real misetup
// serve; the photo arrives byte for byte, a note edited on both sides keeps
// both, and a write past the quota is refused and said, with exit status 1.

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/server/servertest"
)

// cloudComputer is a computer with its own home and XDG dirs.
type cloudComputer struct {
	t    *testing.T
	bin  string
	home string
	url  string
}

func (c *cloudComputer) env() []string {
	return append(os.Environ(), "HOME="+c.home,
		"XDG_CONFIG_HOME="+filepath.Join(c.home, ".config"), "XDG_DATA_HOME="+filepath.Join(c.home, ".local/share"),
		"XDG_STATE_HOME="+filepath.Join(c.home, ".local/state"), "XDG_CACHE_HOME="+filepath.Join(c.home, ".cache"))
}

// signIn leaves a session of the account on this computer as the wizard
// does, and its Mi Cloud choice: contacts, notes, gallery and messages.
func (c *cloudComputer) signIn(tg *servertest.Target, email, deviceID string) {
	c.t.Helper()
	var s api.Session
	tg.Do(c.t, 0, "POST", "/v1/sessions", api.SessionRequest{Identifier: email, Password: servertest.Password,
		Device: api.Device{ID: deviceID, Name: "Computer " + deviceID}}, "").Into(c.t, http.StatusCreated, &s)
	state := filepath.Join(c.home, ".local/state/misetup")
	if err := os.MkdirAll(state, 0o700); err != nil {
		c.t.Fatal(err)
	}
	for name, v := range map[string]string{"session": s.Token, "device-id": deviceID} {
		if err := os.WriteFile(filepath.Join(state, name), []byte(v+"\n"), 0o600); err != nil {
			c.t.Fatal(err)
		}
	}
	tg.Do(c.t, 0, "PUT", "/v1/devices/"+deviceID+"/sync", api.SyncSettings{AutoSync: true,
		Categories: []string{"contacts", "notes", "gallery", "messages", "browser"}}, s.Token).Into(c.t, http.StatusOK, nil)
}

func (c *cloudComputer) write(rel string, data []byte) {
	c.t.Helper()
	p := filepath.Join(c.home, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cloudComputer) read(rel string) []byte {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.home, rel))
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// firefox leaves a Firefox profile with one bookmark in the home, as a
// running Firefox keeps it (SQLite in WAL mode).
func (c *cloudComputer) firefox(url, title string) {
	c.t.Helper()
	dir := filepath.Join(c.home, ".mozilla", "firefox", "x1y2z3.default-release")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "places.sqlite"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`PRAGMA journal_mode=WAL`,
		`CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)`,
		`CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, type INTEGER, fk INTEGER, title TEXT, dateAdded INTEGER)`,
		`INSERT INTO moz_places VALUES (1, '` + url + `')`,
		`INSERT INTO moz_bookmarks VALUES (1, 1, 1, '` + title + `', 1700000000000000)`} {
		if _, err := db.Exec(q); err != nil {
			c.t.Fatal(err)
		}
	}
}

// run runs misetup cloud with args and returns its output and status.
func (c *cloudComputer) run(args ...string) (string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(append([]string{"cloud"}, args...), "--server", c.url)...)
	cmd.Env = c.env()
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return string(out), code
}

func TestCloudBetweenTwoComputers(t *testing.T) {
	bin := buildMisetup(t)
	root := t.TempDir()
	srv := startServe(t, bin, root, nil, "--rule", "argon2_memory_kib=64", "--rule", "argon2_time=1",
		"--rule", "default_quota_bytes=8388608")
	tg := &servertest.Target{URLs: []string{srv.url}}
	const email = "two.computers@example.com"
	ch := tg.Register(t, email)
	tg.Do(t, 0, "POST", "/v1/challenges/"+ch.ID+"/verify", api.VerifyRequest{
		Code: lastCode(t, filepath.Join(root, "state", "misetup", "outbox.jsonl"), email)}, "").Into(t, http.StatusOK, nil)

	a := &cloudComputer{t: t, bin: bin, home: t.TempDir(), url: srv.url}
	b := &cloudComputer{t: t, bin: bin, home: t.TempDir(), url: srv.url}
	a.signIn(tg, email, "desk-a")
	b.signIn(tg, email, "desk-b")

	photo := make([]byte, 3<<20)
	_, _ = rand.Read(photo)
	a.write("Contacts/ann.vcf", []byte("BEGIN:VCARD\nFN:Ann Lee\nEND:VCARD\n"))
	a.write("Documents/Notes/购物 (2).md", []byte("- milk\n"))
	a.write("Pictures/2026/beach.jpg", photo)
	a.firefox("https://www.mi.com/", "Xiaomi")
	out, code := a.run("sync", "--once")
	if code != 0 || !strings.Contains(out, "Gallery: 1 up") || !strings.Contains(out, "Messages: not on this computer") ||
		!strings.Contains(out, "Browser: Firefox's bookmarks exported to ~/bookmarks.html") || !strings.Contains(out, "Browser: 1 up") {
		t.Fatalf("A's first sync (%d):\n%s", code, out)
	}
	out, code = b.run("sync", "--once")
	if code != 0 || !strings.Contains(out, "Gallery: 1 down") {
		t.Fatalf("B's first sync (%d):\n%s", code, out)
	}
	for _, rel := range []string{"Contacts/ann.vcf", "Documents/Notes/购物 (2).md", "Pictures/2026/beach.jpg", "bookmarks.html"} {
		if !bytes.Equal(a.read(rel), b.read(rel)) {
			t.Errorf("%s differs on B", rel)
		}
	}

	// Edited on both before either synced: both kept, on both.
	a.write("Documents/Notes/购物 (2).md", []byte("- milk\n- eggs\n"))
	b.write("Documents/Notes/购物 (2).md", []byte("- tea\n"))
	a.run("sync", "--once")
	out, _ = b.run("sync", "--once")
	if !strings.Contains(out, "changed on both sides, both kept: 购物 (2) (conflict from Computer desk-b ") {
		t.Fatalf("B's sync after edits on both sides:\n%s", out)
	}
	a.run("sync", "--once")
	matches, _ := filepath.Glob(filepath.Join(a.home, "Documents/Notes/购物 (2) (conflict from Computer desk-b *).md"))
	if len(matches) != 1 || string(a.read("Documents/Notes/购物 (2).md")) != "- milk\n- eggs\n" {
		t.Fatalf("A after the conflict: %v", matches)
	}
	if got, _ := os.ReadFile(matches[0]); string(got) != "- tea\n" {
		t.Errorf("the conflict copy on A: %q", got)
	}

	// misetup agent on B syncs by itself ("Sync automatically" is on).
	a.write("Documents/Notes/from-a.md", []byte("written on A"))
	a.run("sync", "--once")
	agentB := startAgentProc(t, bin, b.env(), "--server", srv.url)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got, err := os.ReadFile(filepath.Join(b.home, "Documents/Notes/from-a.md")); err == nil && string(got) == "written on A" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's agent did not bring A's note:\n%s", agentB.logs)
		}
	}
	stopAgent(t, agentB)
	if !strings.Contains(agentB.logs.String(), "Mi Cloud: Notes: 1 down") {
		t.Errorf("the agent's log does not say the sync:\n%s", agentB.logs)
	}

	// Past the quota (8 MiB): refused, said, and status 1.
	big := make([]byte, 6<<20)
	_, _ = rand.Read(big)
	a.write("Pictures/video.mp4", big)
	out, code = a.run("sync", "--once")
	if code != 1 || !strings.Contains(out, "Gallery: stopped: Mi Cloud is full") {
		t.Fatalf("a sync past the quota (%d):\n%s", code, out)
	}
	t.Run("restore on a new computer through the wizard", func(t *testing.T) { restoreInTheWizard(t, bin, srv.url, email, a) })

	out, _ = a.run("status")
	if !strings.Contains(out, "Gallery") || !strings.Contains(out, "3.0 MB") || !strings.Contains(out, "Messages      not on this computer") {
		t.Errorf("status:\n%s", out)
	}
}

// restoreInTheWizard: a third computer signs in through the wizard in tmux
// and restores the account's backups at "Restore from Mi Cloud": the files
// arrive byte for byte in its own folders.
func restoreInTheWizard(t *testing.T, bin, url, email string, from *cloudComputer) {
	needTools(t, "tmux")
	tm, xdg := e2eMachine(t)
	tm.toSignIn(bin + " --lang en --server " + url)
	tm.typeText(email)
	tm.keys("Tab")
	tm.typeText(servertest.Password)
	tm.keys("Enter")
	tm.wait("Step 6 of 8 · Mi Cloud sync")
	tm.keys("Enter")
	screen := tm.waitFlat("Step 6 of 8 · Restore from Mi Cloud")
	for _, want := range []string{"Contacts: 1 item", "Gallery: 1 item, 3.0 MB", "Notes: 3 items"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the restore step lacks %q:\n%s", want, tm.screen())
		}
	}
	tm.keys("Enter")
	tm.wait("Step 7 of 8 · Find Device")
	home := xdg("home")
	for _, rel := range []string{"Contacts/ann.vcf", "Documents/Notes/购物 (2).md", "Documents/Notes/from-a.md", "Pictures/2026/beach.jpg"} {
		got, err := os.ReadFile(filepath.Join(home, rel))
		if err != nil || !bytes.Equal(got, from.read(rel)) {
			t.Errorf("%s after the restore: %v", rel, err)
		}
	}
	tm.keys("Enter")
	screen = tm.waitFlat("Step 8 of 8")
	for _, want := range []string{"Restored", "Contacts: 1 item", "Notes: 3 items"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the summary lacks %q:\n%s", want, tm.screen())
		}
	}
}
