package main

// In-process tests of the wizard over SSH: a real SSH server of the wizard
// on a real service (SQLite in a temporary folder), and golang.org/x/crypto
// SSH clients. The real OpenSSH client drives it in e2e_ssh_test.go.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"misetup/api"
	"misetup/client"
	"misetup/internal/testutil"
	"misetup/server"
	"misetup/server/policy"
	"misetup/server/store"
	"misetup/ui"
)

// sshEnv is the wizard over SSH on an in-process service.
type sshEnv struct {
	w       *sshWizard
	addr    string
	srv     *server.Server
	db      *sql.DB // the store's file, for counting sessions
	courier *testutil.Courier
	metrics *server.Metrics
}

func newSSHEnv(t testing.TB, mod func(*sshSettings)) *sshEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "misetup.db")
	st, err := store.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Argon2 = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	if cfg.Keys, err = server.RandomKeys(); err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Metrics = server.NewMetrics()
	cc := &testutil.Courier{}
	srv, err := server.New(st, cc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	set := sshSettings{HostKey: filepath.Join(dir, "ssh", "host_ed25519"), MaxSessions: 1000, Drain: time.Second, Store: "store-7"}
	if mod != nil {
		mod(&set)
	}
	w, err := newSSHWizard(set, srv, cfg.Metrics, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w.Drain(ctx, 0)
		_ = srv.Close(ctx)
		db.Close()
		st.Close()
	})
	return &sshEnv{w: w, addr: ln.Addr().String(), srv: srv, db: db, courier: cc, metrics: cfg.Metrics}
}

// screen is a terminal emulator the session draws on, as a real terminal
// would; it answers the wizard's queries through reply.
type screen struct {
	mu  sync.Mutex
	emu *vt.Emulator
}

func newScreen(w, h int, reply io.Writer) *screen {
	sc := &screen{emu: vt.NewEmulator(w, h)}
	go func() { _, _ = io.Copy(reply, sc.emu) }()
	return sc
}

func (sc *screen) Write(p []byte) (int, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.emu.Write(p)
}

// String is the text on the screen, line by line.
func (sc *screen) String() string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.emu.String()
}

func (sc *screen) Resize(w, h int) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.emu.Resize(w, h)
}

// sshTerm is one SSH client with a terminal on the wizard.
type sshTerm struct {
	t    testing.TB
	c    *gossh.Client
	s    *gossh.Session
	in   io.WriteCloser
	out  *testutil.Buffer // the bytes, without an emulator (benchmarks)
	scr  *screen          // the screen, with one; nil without
	errs *testutil.Buffer
}

// dial connects as user; with cmd "" it asks for the wizard with a
// terminal of w x h, else runs cmd (with a terminal when pty is set).
func (e *sshEnv) dial(t testing.TB, user string, pty bool, cmd string) *sshTerm {
	t.Helper()
	c, err := gossh.Dial("tcp", e.addr, &gossh.ClientConfig{
		User: user, HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Auth: []gossh.AuthMethod{gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	tm := &sshTerm{t: t, c: c, s: s, out: &testutil.Buffer{}, errs: &testutil.Buffer{}}
	s.Stdout, s.Stderr = tm.out, tm.errs
	if tm.in, err = s.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if _, bench := t.(*testing.B); !bench && pty {
		tm.scr = newScreen(80, 24, tm.in)
		s.Stdout = tm.scr
	}
	if pty {
		if err := s.Setenv("LANG", "en_US.UTF-8"); err != nil {
			t.Fatal(err)
		}
		if err := s.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
	}
	if cmd == "" {
		err = s.Shell()
	} else {
		err = s.Start(cmd)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// text is the screen's text, or the bytes received without a screen.
func (tm *sshTerm) text() string {
	if tm.scr != nil {
		return tm.scr.String()
	}
	return tm.out.String()
}

// wait waits until the terminal shows want, and returns the screen.
func (tm *sshTerm) wait(want string) string {
	tm.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s := tm.text(); strings.Contains(s, want) {
			return s
		}
	}
	tm.t.Fatalf("%q never came; screen:\n%s\nstderr: %q", want, tm.text(), tm.errs.String())
	return ""
}

func (tm *sshTerm) send(s string) {
	tm.t.Helper()
	if _, err := tm.in.Write([]byte(s)); err != nil {
		tm.t.Fatal(err)
	}
}

// refusedWith waits for the session to end and checks its one line and
// its exit status 1.
func (tm *sshTerm) refusedWith(t *testing.T, line string) {
	t.Helper()
	err := tm.s.Wait()
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	want := strings.ReplaceAll(strings.TrimSuffix(line, "\n"), "\n", "\r\n") + "\r\n"
	if got := ansi.Strip(tm.errs.String()); got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	tm.c.Close()
}

// TestSSHRefusals: what the server does not offer is refused with one
// line and exit status 1.
func TestSSHRefusals(t *testing.T) {
	e := newSSHEnv(t, func(s *sshSettings) { s.MaxSessions = 1 })
	t.Run("a command", func(t *testing.T) {
		e.dial(t, "kiosk-1", false, "ls -la").refusedWith(t, lineCommand("ls -la"))
	})
	t.Run("a command with a terminal", func(t *testing.T) {
		e.dial(t, "kiosk-1", true, "sh").refusedWith(t, lineCommand("sh"))
	})
	t.Run("no terminal", func(t *testing.T) {
		e.dial(t, "kiosk-1", false, "").refusedWith(t, lineNoPTY)
	})
	t.Run("plain prompts without a terminal", func(t *testing.T) {
		e.dial(t, "kiosk-1", false, "accessible").refusedWith(t, lineNoPTY)
	})
	t.Run("busy", func(t *testing.T) {
		first := e.dial(t, "kiosk-1", true, "")
		first.wait("Welcome")
		// The busy screen, in the terminal's language, the other below.
		e.dial(t, "kiosk-2", true, "").refusedWith(t, ansi.Strip(ui.Busy("", 80)))
		first.c.Close()
	})
	t.Run("port forwarding", func(t *testing.T) {
		c, err := gossh.Dial("tcp", e.addr, &gossh.ClientConfig{User: "k", HostKeyCallback: gossh.InsecureIgnoreHostKey(),
			Auth: []gossh.AuthMethod{gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Dial("tcp", "127.0.0.1:22"); err == nil || !strings.Contains(err.Error(), "port forwarding is not allowed") {
			t.Errorf("local forwarding: %v", err)
		}
		if _, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
			t.Error("remote forwarding was allowed")
		}
	})
}

// sessionsOf counts the service sessions of a kiosk in the store.
func (e *sshEnv) sessionsOf(t testing.TB, kiosk string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT COUNT(*) FROM sessions WHERE kiosk = ?`, kiosk).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// signUp creates an account on the service directly.
func (e *sshEnv) signUp(t testing.TB, email, password string) {
	t.Helper()
	ctx := context.Background()
	c := client.New("", client.WithHandler(e.srv))
	ch, err := c.Register(ctx, api.RegistrationRequest{Method: api.MethodEmail, Identifier: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, ch.ID, api.VerifyRequest{Code: e.courier.Code(t, email)}); err != nil {
		t.Fatal(err)
	}
}

// signInOver walks the wizard on tm to a signed-in session.
func signInOver(tm *sshTerm, email, password string) {
	tm.wait("Step 1 of 8 · Welcome")
	tm.send("\r")
	tm.wait("All set.")
	tm.send("\r")
	tm.wait("Step 3 of 8 · This device")
	tm.send("\r")
	tm.wait("Do you already have a Mi Account?")
	tm.send("s")
	tm.wait("Step 5 of 8 · Sign in")
	tm.send(email)
	tm.send("\t")
	tm.send(password)
	tm.send("\r")
	tm.wait("Step 6 of 8 · Mi Cloud sync")
}

// TestSSHDroppedSessionReleases: a terminal that goes away mid-flow
// (its connection closed under it) ends its wizard: the service session
// it had signed in is signed out, and the goroutines of the session end.
func TestSSHDroppedSessionReleases(t *testing.T) {
	e := newSSHEnv(t, nil)
	const email, password = "drop@example.com", "Tr1cky#Pass"
	e.signUp(t, email, password)
	settle := func() int {
		var n int
		for range 50 {
			runtime.GC()
			n = runtime.NumGoroutine()
			time.Sleep(20 * time.Millisecond)
		}
		return n
	}
	before := settle()

	tm := e.dial(t, "counter-3", true, "")
	signInOver(tm, email, password)
	if n := e.sessionsOf(t, "counter-3"); n != 1 {
		t.Fatalf("signed in over SSH: %d sessions of kiosk counter-3 in the store, want 1", n)
	}
	var storeID string
	if err := e.db.QueryRow(`SELECT store_id FROM sessions WHERE kiosk = 'counter-3'`).Scan(&storeID); err != nil || storeID != "store-7" {
		t.Errorf("the session's store id: %q %v, want store-7", storeID, err)
	}
	if got := e.metrics.SSHSessions.Value(); got != 1 {
		t.Errorf("misetup_ssh_sessions = %v while one is open", got)
	}

	tm.c.Close() // the terminal is unplugged: no goodbye

	for deadline := time.Now().Add(10 * time.Second); e.sessionsOf(t, "counter-3") != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dropped session's service session was not signed out")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); e.metrics.SSHSessions.Value() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("misetup_ssh_sessions did not go back to 0")
		}
	}
	after := settle()
	// NOTE: a little slack for the runtime's own (the SQLite pool may
	// keep one more connection goroutine than before).
	if after > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before the session, %d after it ended\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// TestSSHResizeAndDrain: the wizard is drawn at the client's size and
// follows its resizes; a drain tells the session in one line, then ends
// it after its grace.
func TestSSHResizeAndDrain(t *testing.T) {
	e := newSSHEnv(t, nil)
	tm := e.dial(t, "k", true, "")
	lines := func(s string) []string { return strings.Split(s, "\n") }
	if s := tm.wait("ctrl+c quit"); len(lines(s)) != 24 {
		t.Errorf("at 80x24 the keys are not on line 24:\n%s", s)
	}
	tm.scr.Resize(100, 30)
	if err := tm.s.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s := lines(tm.text())
		if len(s) == 30 && strings.Contains(s[29], "ctrl+c quit") {
			break // drawn again at the new size: the keys on its last line
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drawn again at 100x30:\n%s", tm.text())
		}
	}
	done := make(chan struct{})
	go func() {
		e.w.Drain(context.Background(), 300*time.Millisecond)
		close(done)
	}()
	tm.wait("restarting")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the drain did not end the session")
	}
	if err := tm.s.Wait(); err != nil {
		t.Logf("session ended: %v", err)
	}
}

// TestSSHPlain: ssh -t HOST accessible gets plain prompts, with the
// terminal's echo, in kiosk mode: ctrl+c asks for the staff PIN (there is
// none here: the customer's way out is to close the terminal's ssh).
func TestSSHPlain(t *testing.T) {
	e := newSSHEnv(t, nil)
	tm := e.dial(t, "k", true, "accessible")
	tm.wait("Welcome")
	tm.send("xyz")
	tm.wait("xyz") // echoed by the session's line discipline
	tm.send("\x03")
	tm.wait("Staff only: leave kiosk mode")
	done := make(chan error, 1)
	go func() { done <- tm.s.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("ctrl+c ended a kiosk's plain wizard without the PIN: %v\n%s", err, tm.out.String())
	case <-time.After(500 * time.Millisecond):
	}
	tm.s.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("closing the terminal's ssh did not end the session:\n%s", tm.out.String())
	}
}

// BenchmarkSSHIdleSessions measures the memory of idle wizards over SSH:
// N terminals connected, each at the welcome screen, in-process (the
// clients' side included, so the figure is an upper bound of the
// server's). It reports the heap and stacks in use per session.
func BenchmarkSSHIdleSessions(b *testing.B) {
	for _, n := range []int{50, 200} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				e := newSSHEnv(b, nil)
				inUse := func() uint64 {
					var ms runtime.MemStats
					for range 3 {
						runtime.GC()
					}
					runtime.ReadMemStats(&ms)
					return ms.HeapInuse + ms.StackInuse
				}
				base := inUse()
				terms := make([]*sshTerm, n)
				for i := range terms {
					terms[i] = e.dial(b, fmt.Sprintf("k%d", i), true, "")
				}
				for _, tm := range terms {
					tm.wait("Welcome")
					tm.out.Reset() // the test's copy of the screen is not the server's
				}
				time.Sleep(500 * time.Millisecond) // idle: past the first frames
				per := float64(inUse()-base) / float64(n)
				b.ReportMetric(per, "bytes/session")
				b.ReportMetric(0, "ns/op")
				for _, tm := range terms {
					tm.c.Close()
				}
			}
		})
	}
}
