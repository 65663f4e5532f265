package main

// The wizard over SSH, end to end: the real binary (misetup serve --ssh),
// real OpenSSH clients with throw-away keys, in tmux.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"misetup/internal/testutil"
	"misetup/server/store"
)

// waitLog waits until the log has a line with every one of parts.
func waitLog(t *testing.T, l *testutil.Buffer, parts ...string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for line := range strings.SplitSeq(l.String(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return line
			}
		}
	}
	t.Fatalf("no log line with %q:\n%s", parts, l)
	return ""
}

// keygen makes a throw-away ed25519 key named name with comment.
func keygen(t *testing.T, dir, name, comment string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

// sshOpts are the options of every ssh client of the test.
func sshOpts(key, port string) []string {
	return []string{"-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-F", "/dev/null", "-p", port}
}

// runSSH runs ssh with args to the end and returns its output and status.
func runSSH(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("ssh %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func scrapeMetrics(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String()
}

// TestSSHWizardEndToEnd: two real OpenSSH clients at once on one misetup
// serve --ssh, each creating an account through the wizard; what the
// server refuses; a client killed mid-flow; SIGTERM's drain; what the
// store holds after, and that nothing of either customer is in a file
// under the XDG dirs but the service's own store and outbox.
func TestSSHWizardEndToEnd(t *testing.T) {
	endToEnd(t, "tmux", "ssh", "ssh-keygen")
	bin := buildMisetup(t)
	root := t.TempDir()
	xdg := func(name string) string { return filepath.Join(root, name) }
	keys := t.TempDir() // the terminals' side: not the server's XDG dirs
	home := t.TempDir()
	k1 := keygen(t, keys, "k1", "terminal-1")
	k2 := keygen(t, keys, "k2", "terminal-2")
	stranger := keygen(t, keys, "k3", "stranger")
	authorized := filepath.Join(keys, "terminals")
	var list []byte
	for _, k := range []string{k1, k2} {
		pub, err := os.ReadFile(k + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, pub...)
	}
	if err := os.WriteFile(authorized, list, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(xdg("config/misetup"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := "[kiosk]\nstore = \"store-42\"\nidle = \"15s\"\ncountdown = \"2s\"\n\n[serve.ssh]\nmax_sessions = 2\ndrain = \"4s\"\n"
	if err := os.WriteFile(xdg("config/misetup/config.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	// The server.
	httpAddr, sshAddr := freeAddr(t), freeAddr(t)
	_, port, _ := net.SplitHostPort(sshAddr)
	cmd := exec.Command(bin, "serve", "--addr", httpAddr, "--ssh", sshAddr, "--ssh-authorized-keys", authorized)
	cmd.Env = xdgEnv(root)
	logs := &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	gone := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(gone) }()
	t.Cleanup(func() {
		select {
		case <-gone:
		default:
			_ = cmd.Process.Kill()
			<-gone
		}
	})
	base := "http://" + httpAddr
	line := waitLog(t, logs, "misetup wizard over SSH on "+sshAddr, "host_key=SHA256:", "store_id=store-42", "max_sessions=2")
	t.Logf("start: %s", line)
	if fi, err := os.Stat(xdg("data/misetup/ssh/host_ed25519")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key: %v %v, want a 0600 file", fi, err)
	}
	// Up at once; ready once its store is open (serve listens before it
	// opens the store, so a loaded machine may see a 503 first).
	for _, path := range []string{"/healthz", "/readyz"} {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			resp, err := http.Get(base + path)
			if err == nil {
				resp.Body.Close()
			}
			if err == nil && resp.StatusCode == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v %v", path, resp, err)
			}
		}
	}

	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm-256color", "LANG=en_US.UTF-8"}
	host := "customer@127.0.0.1"

	// What is refused, each with one line.
	if out, code := runSSH(t, env, append(sshOpts(k1, port), host, "ls")...); code != 1 || strings.TrimSpace(out) != lineCommand("ls") {
		t.Errorf("ssh HOST ls: status %d, %q", code, out)
	}
	if out, code := runSSH(t, env, append(sshOpts(k1, port), "-T", host)...); code != 1 || strings.TrimSpace(out) != lineNoPTY {
		t.Errorf("ssh -T HOST: status %d, %q", code, out)
	}
	if out, code := runSSH(t, env, append(sshOpts(stranger, port), "-tt", host)...); code != 255 || !strings.Contains(out, "Permission denied (publickey)") {
		t.Errorf("a key not in the list: status %d, %q", code, out)
	}

	// Two terminals at once.
	term := func(key string) *tmuxTerm {
		tm := &tmuxTerm{t: t, dir: t.TempDir(), env: env}
		t.Cleanup(tm.kill)
		tm.start("ssh " + strings.Join(append(sshOpts(key, port), "-tt", host), " "))
		return tm
	}
	a, b := term(k1), term(k2)
	a.wait("Step 1 of 8 · Welcome")
	b.wait("Step 1 of 8 · Welcome")
	if m := scrapeMetrics(t, base); !strings.Contains(m, "misetup_ssh_sessions 2\n") {
		t.Errorf("two sessions open, /metrics says:\n%s", grepLines(m, "misetup_ssh"))
	}
	if out, code := runSSH(t, env, append(sshOpts(k1, port), "-tt", host)...); code != 1 ||
		!strings.Contains(out, "All terminals are busy") || !strings.Contains(out, "所有终端都在使用中，请稍后再试。") {
		t.Errorf("a third terminal with max_sessions = 2: status %d, %q", code, out)
	}

	const password = "Tr1cky#Pass"
	emails := map[*tmuxTerm]string{a: "ssh-a@example.com", b: "ssh-b@example.com"}
	both := func(f func(tm *tmuxTerm)) { f(a); f(b) }
	both(func(tm *tmuxTerm) { tm.keys("Enter") })
	both(func(tm *tmuxTerm) { tm.wait("All set. Press enter to continue.") })
	both(func(tm *tmuxTerm) { tm.keys("Enter") })
	if s := a.wait("Step 3 of 8 · This device"); !strings.Contains(s, "terminal-1") {
		t.Errorf("the device's name is not the terminal's:\n%s", s)
	}
	b.wait("Step 3 of 8 · This device")
	both(func(tm *tmuxTerm) { tm.keys("Enter") })
	both(func(tm *tmuxTerm) { tm.wait("Do you already have a Mi Account?") })
	both(func(tm *tmuxTerm) { tm.keys("c") })
	both(func(tm *tmuxTerm) { tm.wait("Step 5 of 8 · Create account") })
	both(func(tm *tmuxTerm) { tm.keys("BTab", "BTab", "Right", "Tab") })
	both(func(tm *tmuxTerm) { tm.wait("you@example.com") })
	both(func(tm *tmuxTerm) { tm.typeText(emails[tm]) })
	both(func(tm *tmuxTerm) { tm.wait("looks right") })
	both(func(tm *tmuxTerm) { tm.sendPassword(password) })
	both(func(tm *tmuxTerm) { tm.wait("We sent a 6-digit code by email to") })
	outbox := xdg("state/misetup/outbox.jsonl")
	codes := map[string]string{}
	both(func(tm *tmuxTerm) {
		codes[emails[tm]] = lastCode(t, outbox, emails[tm])
		tm.typeText(codes[emails[tm]])
	})
	both(func(tm *tmuxTerm) { tm.wait("Your Mi Account is ready") })

	db, err := sql.Open("sqlite", "file:"+xdg("data/misetup/misetup.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sessionsOf := func(kiosk string) int {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM sessions WHERE kiosk = ? AND store_id = 'store-42'`, kiosk).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, b := sessionsOf("terminal-1"), sessionsOf("terminal-2"); a != 1 || b != 1 {
		t.Fatalf("service sessions of the terminals: %d and %d, want 1 each (kiosk and store ids on each)", a, b)
	}

	// Terminal 2 is unplugged mid-flow: its ssh client dies.
	b.keys("Enter")
	b.wait("Sync automatically")
	b.kill()
	waitLog(t, logs, "ssh session ended", "kiosk=terminal-2", "how=disconnected", "signed_out=true")
	if n := sessionsOf("terminal-2"); n != 0 {
		t.Errorf("terminal 2's service session is still there after it dropped (%d)", n)
	}
	if n := sessionsOf("terminal-1"); n != 1 {
		t.Errorf("terminal 1's service session: %d, want 1 (still signed in)", n)
	}

	// Terminal 1's customer walks away: "Still there?" counts down, and the
	// terminal starts over for the next one: signed out, nothing of theirs
	// on the screen or in the terminal's scrollback.
	a.waitLong("Still there?")
	a.waitLong("Set up your Mi Account")
	if all := a.tmux("capture-pane", "-p", "-S", "-", "-t", "e2e"); strings.Contains(all, emails[a]) ||
		strings.Contains(all, codes[emails[a]]) || strings.Contains(all, "Mi ID") {
		t.Errorf("the next customer can read the last one's (screen and scrollback):\n%s", all)
	}
	if n := sessionsOf("terminal-1"); n != 0 {
		t.Errorf("terminal 1's service session after the reset: %d, want 0 (signed out)", n)
	}

	// SIGTERM: terminal 1 is told, has 4 s, then is signed out and closed.
	m := scrapeMetrics(t, base)
	for _, want := range []string{
		`misetup_http_requests_total{code="202",route="POST /v1/registrations"} 2`,
		`misetup_codes_sent_total{channel="email",state="sent"} 2`,
		`misetup_ssh_sessions 1`,
		`misetup_kiosk_resets_total{cause="idle"} 1`,
		`misetup_ssh_sessions_refused_total{reason="busy"} 1`,
		`misetup_ssh_sessions_refused_total{reason="exec"} 1`,
		`misetup_ssh_sessions_refused_total{reason="no_pty"} 1`,
		`misetup_ssh_sessions_refused_total{reason="key"} `,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(m, "misetup_"))
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.wait("This terminal's server is restarting")
	// While its sessions drain, the server still answers them but is no
	// longer ready: a load balancer sends the next customer elsewhere.
	if resp, err := http.Get(base + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %v %v, want 503", resp, err)
	} else {
		resp.Body.Close()
	}
	a.wait("EXIT=")
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("terminal 1 was closed %v after SIGTERM, before its 4 s", d)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop\n%s", logs)
	}
	// Its customer was signed out at the reset: nobody to sign out now.
	waitLog(t, logs, "ssh session ended", "kiosk=terminal-1", "how=drained", "signed_out=false")
	waitLog(t, logs, "ssh stopped")
	db.Close()

	// What the store holds: both accounts, no session left.
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, xdg("data/misetup/misetup.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range emails {
		if _, err := st.AccountByEmail(ctx, email); err != nil {
			t.Errorf("account %s: %v", email, err)
		}
	}
	st.Close()
	db2, err := sql.Open("sqlite", xdg("data/misetup/misetup.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var left, audited int
	if err := db2.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&left); err != nil || left != 0 {
		t.Errorf("sessions left in the store: %d %v", left, err)
	}
	if err := db2.QueryRow(`SELECT COUNT(*) FROM audit WHERE kiosk IN ('terminal-1', 'terminal-2') AND store_id = 'store-42'`).Scan(&audited); err != nil || audited == 0 {
		t.Errorf("audit events with the kiosk and store ids: %d %v", audited, err)
	}

	// Nothing of either customer in a file under the XDG dirs, but the
	// service's own: its store (the accounts are its job) and the outbox
	// (the courier's delivery of the codes, to the address).
	secrets := []string{}
	for email, code := range codes {
		secrets = append(secrets, email, code)
	}
	excluded := map[string]bool{
		"data/misetup/misetup.db": true, "data/misetup/misetup.db-wal": true, "data/misetup/misetup.db-shm": true,
		"state/misetup/outbox.jsonl": true,
	}
	var seen []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "tmux-") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		seen = append(seen, rel)
		if excluded[rel] {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", rel, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("files under the XDG dirs: %v (not read: %v)", seen, excluded)
	for _, f := range seen {
		if base := filepath.Base(f); base == "session" || base == "progress.json" {
			t.Errorf("a wizard's state file under the XDG dirs: %s", f)
		}
	}
}

// grepLines is the lines of s that hold sub.
func grepLines(s, sub string) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) && !strings.HasPrefix(sc.Text(), "#") {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}
