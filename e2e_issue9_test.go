package main

// End-to-end journeys of issue 9, each with the real binary in tmux on a
// fresh machine: what a person sees when a session is interrupted, the
// service drops, or the terminal is not what the wizard expects. Run from
// TestEndToEndInTmux, which builds the binary once.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"misetup/flows"
	"misetup/server/store"
)

// resize gives the wizard's window another size.
func (tm *tmuxTerm) resize(w, h int) {
	tm.t.Helper()
	tm.tmux("resize-window", "-t", "e2e", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h))
}

// flatScreen is the screen with its wrapped lines joined.
func (tm *tmuxTerm) flatScreen() string { return strings.Join(strings.Fields(tm.screen()), " ") }

// inHistory checks that the pane's whole output, scrolled off lines
// included, shows want (a plain run prints more than a window holds).
func (tm *tmuxTerm) inHistory(want string) {
	tm.t.Helper()
	all := tm.tmux("capture-pane", "-p", "-S", "-", "-t", "e2e")
	if !strings.Contains(strings.Join(strings.Fields(all), " "), want) {
		tm.t.Errorf("%q not in the output:\n%s", want, all)
	}
}

// waitFlat waits until the screen, its lines joined, shows want.
func (tm *tmuxTerm) waitFlat(want string) string {
	tm.t.Helper()
	var s string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s = tm.flatScreen(); strings.Contains(s, want) {
			return s
		}
	}
	tm.t.Fatalf("%q not on screen:\n%s", want, tm.screen())
	return ""
}

// createByEmail fills the create-account form, from its first field, with
// an email address and a password, and sends it (in any language).
func (tm *tmuxTerm) createByEmail(email, password string) {
	tm.t.Helper()
	tm.keys("BTab", "BTab", "Right", "Tab")
	tm.typeText(email)
	for range 2 { // the password and its confirmation
		tm.keys("Tab")
		tm.typeText(password)
	}
	tm.keys("Enter")
}

// quitMidFlow quits with ctrl+c, y and waits for the wizard to end.
func (tm *tmuxTerm) quitMidFlow() {
	tm.t.Helper()
	tm.keys("C-c")
	tm.waitAny("y quit • n stay", "y 退出 • n 留下")
	tm.keys("y")
	tm.wait("EXIT=0")
	tm.kill()
}

// e2eResumeInChineseAtTheCode chooses Chinese on the first screen (the
// locale says English), quits at the code step, and runs the wizard again:
// it resumes in Chinese, says the code sent earlier still works and until
// when, and that code (from misetup outbox) creates the account.
func e2eResumeInChineseAtTheCode(t *testing.T, bin string) {
	tm, xdg := e2eMachine(t)
	outbox := filepath.Join(xdg("state"), "misetup", "outbox.jsonl")
	const email, password = "zh@example.com", "Tr1cky#Pass"

	tm.start(bin)
	tm.wait("Step 1 of 8 · Welcome")
	tm.keys("Right") // 简体中文
	tm.wait("第 1 步，共 8 步")
	tm.keys("Enter")
	tm.waitFlat("按 enter 继续")
	tm.keys("Enter")
	tm.wait("第 3 步，共 8 步")
	tm.keys("Enter")
	tm.wait("您已经有小米账号了吗？")
	tm.keys("c")
	tm.wait("第 5 步，共 8 步")
	tm.createByEmail(email, password)
	tm.waitFlat("z***@example.com")
	tm.quitMidFlow()

	tm.start(bin) // LANG=en_US.UTF-8, as before
	tm.waitFlat("欢迎回来")
	if s := tm.screen(); strings.Contains(s, "Welcome back") {
		t.Fatalf("resumed in the locale's English, not the Chinese chosen:\n%s", s)
	}
	tm.keys("Enter")
	s := tm.waitFlat("仍然有效")
	if !strings.Contains(s, "有效期至") {
		t.Errorf("the resumed code screen does not say until when the code works:\n%s", tm.screen())
	}
	tm.typeText(lastCode(t, outbox, email))
	tm.waitFlat("账号已创建")
	tm.keys("Enter")
	tm.waitFlat("小米云服务")
	tm.quitMidFlow()
}

// e2eDeadCodeAt60Columns types five wrong codes in a 60-column window: the
// screen says the code no longer works and nothing about attempts left,
// the field takes no sixth code, the footer shows the esc the text leads
// to, and "Send a new code" brings a code that works.
func e2eDeadCodeAt60Columns(t *testing.T, bin string) {
	tm, xdg := e2eMachine(t)
	outbox := filepath.Join(xdg("state"), "misetup", "outbox.jsonl")
	const email, password = "dead@example.com", "Tr1cky#Pass"
	tm.toCreateAccount(bin)
	tm.resize(60, 24)
	tm.createByEmail(email, password)
	tm.waitFlat("We sent a 6-digit code by email to d***@example.com")
	first := lastCode(t, outbox, email)
	wrong := "000000"
	if first == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 4; i++ {
		tm.typeText(wrong)
		tm.waitFlat(fmt.Sprintf("%d attempt", 5-i))
	}
	tm.typeText(wrong)
	s := tm.waitFlat("no longer works")
	for _, bad := range []string{"attempt left", "attempts left", "That code is wrong"} {
		if strings.Contains(s, bad) {
			t.Errorf("the dead code's screen says %q:\n%s", bad, tm.screen())
		}
	}
	lines := strings.Split(strings.TrimRight(tm.screen(), "\n"), "\n")
	if footer := lines[len(lines)-1]; !strings.Contains(footer, "esc back") {
		t.Errorf("the footer at 60 columns lacks esc: %q", footer)
	}
	tm.typeText(first) // a sixth code goes nowhere
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(tm.flatScreen(), "Account created") || strings.Contains(tm.screen(), strings.Join(strings.Split(first, ""), " ")) {
		t.Fatalf("the dead field took a sixth code:\n%s", tm.screen())
	}
	tm.keys("Enter") // Send a new code
	tm.waitFlat("We sent a 6-digit code by email")
	var code string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if code = lastCode(t, outbox, email); code != first {
			break
		}
	}
	if code == first {
		t.Fatal("no new code was sent")
	}
	tm.typeText(code)
	tm.waitFlat("Account created")
	tm.keys("Enter")
	tm.waitFlat("Mi Cloud")
	tm.quitMidFlow()
}

// serveAt starts `misetup serve` on addr with env (the machine's XDG dirs)
// and waits until it answers; stop it with serveProc.stop
// (serve_e2e_test.go).
func serveAt(t *testing.T, bin string, env []string, addr string) *serveProc {
	t.Helper()
	return startServeAt(t, bin, addr, env, "--rule", "argon2_memory_kib=64", "--rule", "argon2_time=1")
}

// waitAny waits until the screen, its lines joined, shows one of wants,
// and returns it.
func (tm *tmuxTerm) waitAny(wants ...string) string {
	tm.t.Helper()
	var s string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s = tm.flatScreen()
		for _, w := range wants {
			if strings.Contains(s, w) {
				return s
			}
		}
	}
	tm.t.Fatalf("none of %q on screen:\n%s", wants, tm.screen())
	return ""
}

// e2eServiceRestartedMidFlow runs the wizard against a real `misetup
// serve`, which is restarted twice in the middle: once while the wizard is
// quit at the code step (resumed, the code sent before the restart still
// works), once while the wizard is on Mi Cloud (the save names the address
// it tried, counts down and tries again by itself; troubleshooting names
// the service, not "Signed in"; the error goes when the service is back,
// and what was chosen is saved).
func e2eServiceRestartedMidFlow(t *testing.T, bin string) {
	tm, xdg := e2eMachine(t)
	addr := freeAddr(t)
	serve := func() *serveProc { return serveAt(t, bin, tm.env, addr) } // the same address and store each time
	srv := serve()
	url := "http://" + addr
	wizard := bin + " --server " + url
	outbox := filepath.Join(xdg("state"), "misetup", "outbox.jsonl")
	const email, password = "srv@example.com", "Tr1cky#Pass"

	tm.toCreateAccount(wizard)
	tm.createByEmail(email, password)
	tm.waitFlat("We sent a 6-digit code by email to s***@example.com")
	if strings.Contains(tm.flatScreen(), "misetup outbox") {
		t.Errorf("a remote service's code screen points at the local outbox:\n%s", tm.screen())
	}
	tm.quitMidFlow()

	srv.stop(t) // the service restarts while the wizard is away
	srv = serve()

	tm.start(wizard)
	tm.waitFlat("Welcome back")
	tm.keys("Enter")
	tm.waitFlat("still works, until")
	tm.typeText(lastCode(t, outbox, email))
	tm.waitFlat("Account created")
	tm.keys("Enter")
	tm.waitFlat("Save and continue")

	srv.stop(t) // the service stops on Mi Cloud
	tm.keys("Enter")
	s := tm.waitFlat("cannot be reached")
	if !strings.Contains(s, "("+url+")") || !strings.Contains(s, "Trying again in") {
		t.Fatalf("the error does not name the address or retry by itself:\n%s", tm.screen())
	}
	tm.keys("C-t")
	s = tm.waitFlat("Sync not working")
	s = tm.waitFlat("Account service")
	if strings.Contains(s, "✗ Signed in") || !strings.Contains(s, "✗ Account service") {
		t.Errorf("troubleshooting names the wrong check:\n%s", tm.screen())
	}
	tm.keys("Escape")
	tm.waitFlat("Save and continue")
	srv = serve() // back: the wizard tries again by itself
	tm.waitFlat("Step 7 of 8 · Find Device")
	if strings.Contains(tm.flatScreen(), "cannot be reached") {
		t.Errorf("the old error stayed:\n%s", tm.screen())
	}

	// The service stops again on Find Device: rather than wait, c keeps the
	// choice on this device and goes on; the next run saves it.
	srv.stop(t)
	tm.keys("Enter")
	tm.waitFlat("cannot be reached")
	tm.waitFlat("press c to go on")
	tm.keys("c")
	s = tm.waitFlat("Step 8 of 8 · Summary")
	if !strings.Contains(s, "on · waiting to be saved") {
		t.Errorf("the summary does not say Find Device waits to be saved:\n%s", tm.screen())
	}
	tm.keys("Enter")
	tm.wait("EXIT=0")
	tm.kill()
	srv = serve()
	tm.start(wizard)
	tm.waitFlat("Already set up")
	tm.keys("Enter")
	tm.waitFlat("Find Device is on for this device") // the hub's checkup: saved by this run
	tm.keys("C-c")
	tm.wait("EXIT=0")
	srv.stop(t)

	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(xdg("data"), "misetup", "misetup.db"))
	if err != nil {
		t.Fatalf("open the service's store: %v", err)
	}
	defer st.Close()
	acc, err := st.AccountByEmail(ctx, email)
	if err != nil {
		t.Fatalf("the account: %v", err)
	}
	devs, err := st.Devices(ctx, acc.MiID)
	if err != nil || len(devs) != 1 || !devs[0].Sync.AutoSync || len(devs[0].Sync.Categories) == 0 {
		t.Fatalf("devices %+v, %v: want this one, with the sync chosen saved after the restart", devs, err)
	}
	if !devs[0].FindDevice {
		t.Errorf("Find Device, chosen while the service was down, was never saved: %+v", devs[0])
	}
	if q, err := flows.QueueIn(filepath.Join(xdg("state"), "misetup")).All(); err != nil || len(q) != 0 {
		t.Errorf("the queue after it was saved: %+v, %v", q, err)
	}
}

// e2ePlainCtrlC runs plain mode in a terminal and presses ctrl+c at a
// prompt: it asks the full screen's question, and y quits with the
// progress saved, said so.
func e2ePlainCtrlC(t *testing.T, bin string) {
	tm, xdg := e2eMachine(t)
	// bash, not sh: after a ctrl+c, dash ends itself once its child exits
	// (whatever the child did with the SIGINT), which would close the pane
	// before it shows the exit status.
	tm.runs++
	tm.sock = filepath.Join(tm.dir, fmt.Sprintf("tmux-%d.sock", tm.runs))
	tm.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "e2e",
		"bash", "-c", bin+` --accessible; echo "EXIT=$?"; sleep 600`)
	tm.waitFlat("Enter a number between 1 and 2")
	tm.keys("1", "Enter")
	tm.waitFlat("Name [")
	tm.keys("C-c")
	tm.waitFlat("Quit the setup?")
	if strings.Contains(tm.flatScreen(), "EXIT=") {
		t.Fatalf("ctrl+c quit at once:\n%s", tm.screen())
	}
	tm.keys("y", "Enter")
	tm.waitFlat("Your progress is saved")
	tm.wait("EXIT=0")
	if _, err := os.Stat(filepath.Join(xdg("state"), "misetup", "progress.json")); err != nil {
		t.Errorf("no progress saved: %v", err)
	}
}

// e2eNoTerminal runs misetup with its input a pipe and with no input at
// all: plain prompts, said in one line, no full-screen UI, and it ends.
func e2eNoTerminal(t *testing.T, bin string) {
	tm, _ := e2eMachine(t)
	tm.start("echo | " + bin)
	tm.wait("EXIT=0")
	tm.inHistory("no terminal here, so plain prompts")
	tm.kill()
	tm.start(bin + " < /dev/null")
	tm.wait("EXIT=0")
	tm.inHistory("no terminal here, so plain prompts")
	if s := tm.screen(); strings.Contains(s, "Step 1 of 8 · Welcome\n  ─") {
		t.Errorf("the full-screen UI was drawn:\n%s", s)
	}
}

// e2eFinishedIsNotAnInterruption runs the wizard again after the summary:
// it says the account is set up, does not offer to resume "Step 8 of 8",
// and enter opens the account hub.
func e2eFinishedIsNotAnInterruption(t *testing.T, tm *tmuxTerm, bin string) {
	tm.start(bin)
	s := tm.waitFlat("Already set up")
	if strings.Contains(s, "You stopped at") {
		t.Errorf("a finished set-up is offered as an interruption:\n%s", tm.screen())
	}
	tm.keys("Enter")
	tm.waitFlat("Security checkup: 2 of 4")
	tm.keys("C-c") // nothing in progress in the hub: it quits without asking
	tm.wait("EXIT=0")
	tm.kill()
}
