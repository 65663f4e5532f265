package ui

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"misetup/api"
	"misetup/flows"
	"misetup/internal/testutil"
)

// TestAccessibleCreateAccount answers the plain prompts of accessible mode
// through a whole account creation, with one wrong code on the way.
func TestAccessibleCreateAccount(t *testing.T) {
	deps, svc, files := journeyDeps(t)
	answers := []string{
		"1",        // language: English
		"", "", "", // device name, model, OS: keep what the system says
		"2",               // create account
		"2",               // by email
		"ann@example.com", // email
		"Tr1cky#Pass", "Tr1cky#Pass",
		"000000",           // a wrong code
		"123456",           // the right one
		"y", "6", "0", "n", // sync on, add call history, done; not Wi-Fi only
		"y", // Find Device on
	}
	var out bytes.Buffer
	in := strings.NewReader(strings.Join(answers, "\n") + "\n")
	err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, []string{"TERM=dumb"})
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"Step 2 of 8 · Requirements check", "Step 5 of 8 · Create account",
		"We sent a 6-digit code by email to a***@example.com.",
		"That code is wrong.", "4 attempts left", "Account created",
		"Step 8 of 8 · Summary", "ann-laptop", "Call history",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(got, "\x1b[") {
		t.Errorf("escape sequences written to a plain output")
	}
	if !strings.Contains(strings.Join(strings.Fields(got), " "), "Mi ID 1234567890") {
		t.Errorf("the new Mi ID is not said:\n%s", got)
	}
	// "8 steps:" is followed by the steps, as on the welcome screen.
	if i := strings.Index(got, "8 steps:"); i < 0 || !strings.Contains(got[i:], "1. Welcome") || !strings.Contains(got[i:], "8. Summary") {
		t.Errorf("the steps are not listed after \"8 steps:\":\n%s", got)
	}
	// The password's rules come before the first password is asked.
	rules, ask := strings.Index(got, "Your password needs:"), strings.Index(got, "Password (at least")
	if rules < 0 || ask < 0 || rules > ask || !strings.Contains(got[rules:ask], "symbols") {
		t.Errorf("the password rules do not come before the password:\n%s", got)
	}
	if svc.count("Verify") != 2 || len(svc.registered) != 1 || svc.registered[0].Identifier != "ann@example.com" {
		t.Errorf("calls %v, registered %+v", svc.calls, svc.registered)
	}
	want := []string{"contacts", "messages", "gallery", "notes", "calendar", "call_history"}
	if s := svc.sync["dev-1"]; !s.AutoSync || s.WifiOnly || !slices.Equal(s.Categories, want) {
		t.Errorf("saved sync %+v", s)
	}
	if !svc.findDevice["dev-1"] || files.token != "tok-1" {
		t.Errorf("find device %v, token %q", svc.findDevice, files.token)
	}
	if p, ok, _ := files.LoadProgress(); !ok || p.Step != "summary" || strings.Contains(files.String(), "Tr1cky") {
		t.Errorf("progress %+v", p)
	}
}

// TestAccessibleEndOfInputSavesProgress stops answering in the middle: the
// wizard ends quietly with the progress saved.
func TestAccessibleEndOfInputSavesProgress(t *testing.T) {
	deps, _, files := journeyDeps(t)
	var out bytes.Buffer
	in := strings.NewReader("1\n\n\n\n2\n")
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, nil); err != nil {
		t.Fatalf("RunAccessible: %v", err)
	}
	if !strings.Contains(out.String(), "Your progress is saved") {
		t.Fatalf("no word about the saved progress:\n%s", out.String())
	}
	if p, ok, _ := files.LoadProgress(); !ok || p.Step != "create" {
		t.Fatalf("progress %+v, want saved at create", p)
	}
}

// TestAccessibleDeadCode types five wrong codes in plain mode: the output
// says "1 attempt left" (not "1 attempts"), then that the code no longer
// works, never "Press esc"; it asks whether to send a new code, and the
// next answer goes to that question, not into a menu.
func TestAccessibleDeadCode(t *testing.T) {
	deps, svc, _ := journeyDeps(t)
	answers := []string{
		"1", "", "", "", "2", "2", "ann@example.com", "Tr1cky#Pass", "Tr1cky#Pass",
		"000001", "000002", "000003", "000004", "000005", // five wrong codes: dead
		"y",      // send a new code: the registration again
		"123456", // the new code
	}
	var out bytes.Buffer
	err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, strings.NewReader(strings.Join(answers, "\n")+"\n"), &out, nil)
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"1 attempt left.", "Too many wrong codes: this code no longer works.", "Send a new code?", "Account created"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, bad := range []string{"1 attempts", "Press esc", "must be a number"} {
		if strings.Contains(got, bad) {
			t.Errorf("output says %q:\n%s", bad, got)
		}
	}
	if n := svc.count("Register"); n != 2 {
		t.Errorf("registered %d times, want 2 (the second for a new code)", n)
	}
	if t.Failed() {
		t.Log(got)
	}
}

// waitOutput waits until out holds want (n times, when n is given).
func waitOutput(t *testing.T, out *testutil.Buffer, want string, n ...int) {
	t.Helper()
	times := 1
	if len(n) > 0 {
		times = n[0]
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(out.String(), want) >= times {
			return
		}
	}
	t.Fatalf("%q never came (%d times):\n%s", want, times, out.String())
}

// TestAccessibleCtrlCAsksFirst presses ctrl+c (SIGINT in a terminal) at a
// plain prompt in the middle of the set-up: the wizard asks the full
// screen's question; n asks the same field again, and a second ctrl+c then
// y quits with the progress saved and said so.
func TestAccessibleCtrlCAsksFirst(t *testing.T) {
	deps, _, files := journeyDeps(t)
	intr := make(chan struct{}, 1)
	deps.Interrupt = intr
	inR, inW := io.Pipe()
	out := &testutil.Buffer{}
	done := make(chan error, 1)
	go func() { done <- RunAccessible(context.Background(), deps, Options{Lang: "en"}, inR, out, nil) }()
	write := func(s string) {
		if _, err := io.WriteString(inW, s+"\n"); err != nil {
			t.Error(err)
		}
	}

	waitOutput(t, out, "Language")
	write("1")
	waitOutput(t, out, "Name [ann-laptop]")
	intr <- struct{}{}
	waitOutput(t, out, "Quit the setup?")
	if strings.Contains(out.String(), "progress is saved") {
		t.Fatalf("quit at once:\n%s", out.String())
	}
	write("n")
	waitOutput(t, out, "Name [ann-laptop]", 2) // asked again
	intr <- struct{}{}
	write("y")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunAccessible: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("did not quit:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Your progress is saved") {
		t.Fatalf("no word of the saved progress:\n%s", out.String())
	}
	if p, ok, _ := files.LoadProgress(); !ok || p.Step != "device" {
		t.Fatalf("progress %+v, want saved at the device step", p)
	}
}

// TestAccessibleWifiOnlyOnAWiredDevice answers yes to "Sync over Wi-Fi
// only" on a wired device in plain mode: it says nothing will sync and
// asks whether to keep it, as the screen does; no turns it off.
func TestAccessibleWifiOnlyOnAWiredDevice(t *testing.T) {
	deps, svc, _ := journeyDeps(t)
	sys := netRoot(t, "eth0", false)
	sys.Hostname = deps.System.Hostname
	deps.System, deps.Checker.System = sys, sys
	answers := []string{
		"1", "", "", "", "2", "2", "ann@example.com", "Tr1cky#Pass", "Tr1cky#Pass", "123456",
		"y", "0", "y", // sync on, the default categories, Wi-Fi only
		"n", // do not keep it
		"y", // Find Device on
	}
	var out bytes.Buffer
	err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, strings.NewReader(strings.Join(answers, "\n")+"\n"), &out, nil)
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := strings.Join(strings.Fields(out.String()), " ")
	if !strings.Contains(got, "uses a wired connection (eth0), so nothing syncs.") || !strings.Contains(got, "Keep \"Sync over Wi-Fi only\"?") {
		t.Fatalf("no warning:\n%s", out.String())
	}
	if s := svc.sync["dev-1"]; !s.AutoSync || s.WifiOnly {
		t.Fatalf("saved %+v, want sync on, not Wi-Fi only", s)
	}
}

// TestAccessibleResumeAtTheCode resumes a plain run saved at the code
// step: it reads the challenge and says the code sent earlier still works,
// until when, as the screen does, and that code is taken.
func TestAccessibleResumeAtTheCode(t *testing.T) {
	deps, svc, files := journeyDeps(t)
	files.progress = &flows.Progress{Step: "code", ChallengeID: "ch-1", Method: "email", Identifier: "ann@example.com", Lang: "en"}
	var out bytes.Buffer
	in := strings.NewReader(strings.Join([]string{"", "y", "123456"}, "\n") + "\n") // language, resume, the code
	if err := RunAccessible(context.Background(), deps, Options{}, in, &out, nil); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := out.String()
	if !strings.Contains(got, "The code sent at 09:30 still works, until 09:40") || !strings.Contains(got, "Account created") {
		t.Fatalf("plain resume at the code:\n%s", got)
	}
	if svc.count("Challenge") != 1 {
		t.Fatalf("the challenge was read %d times, want once", svc.count("Challenge"))
	}
}

// TestAccessibleInputEndsAfterAWrongChoice: the input ends right after an
// answer that is not one of the choices (a script's last line): plain mode
// ends as at any end of input, progress saved, instead of huh's panic.
func TestAccessibleInputEndsAfterAWrongChoice(t *testing.T) {
	deps, _, files := journeyDeps(t)
	in := strings.NewReader("1\n\n\n\ntry@example.com\n") // the account choice gets an email address
	var out bytes.Buffer
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, []string{"TERM=dumb"}); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Your progress is saved") {
		t.Errorf("no word of the saved progress:\n%s", out.String())
	}
	if p, ok, _ := files.LoadProgress(); !ok || p.Step != "account" {
		t.Errorf("progress %+v, want saved at the account choice", p)
	}
}

// downFirst is a service whose status fails its first n calls, then
// answers as svc does.
type downFirst struct {
	svc *fakeService
	mu  sync.Mutex
	n   int
}

func (d *downFirst) Status(ctx context.Context) (api.Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n > 0 {
		d.n--
		return api.Status{}, &api.Error{Code: api.CodeUnavailable, Message: "connection refused"}
	}
	return d.svc.Status(ctx)
}

// TestAccessibleRequirementsCheckAgain: in plain mode a failed check asks
// "Check again?": yes runs the checks again, and once they pass the wizard
// goes on; no ends the wizard at the requirements.
func TestAccessibleRequirementsCheckAgain(t *testing.T) {
	for _, tc := range []struct {
		name, answers string
		next          string // what the output reaches; "" for none
	}{
		{"again", "1\ny\n", "Step 3 of 8 · This device"},
		{"no", "1\nn\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps, svc, files := journeyDeps(t)
			// One round of checks asks the status three times.
			deps.Checker.Status, deps.Checker.Probes = &downFirst{svc: svc, n: 3}, 1
			var out bytes.Buffer
			err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, strings.NewReader(tc.answers), &out, []string{"TERM=dumb"})
			if err != nil {
				t.Fatalf("RunAccessible: %v\n%s", err, out.String())
			}
			got := out.String()
			first := strings.Index(got, "Check again?")
			if first < 0 || !strings.Contains(got[:first], "✗ Service") {
				t.Fatalf("no failed check and question:\n%s", got)
			}
			switch {
			case tc.next != "" && !strings.Contains(got[first:], "✓ Service"):
				t.Errorf("the checks did not run again:\n%s", got)
			case tc.next != "" && !strings.Contains(got, tc.next):
				t.Errorf("the wizard did not go on to %q:\n%s", tc.next, got)
			case tc.next == "" && strings.Contains(got, "Step 3 of 8"):
				t.Errorf("no to \"Check again?\" went on:\n%s", got)
			}
			if p, ok, _ := files.LoadProgress(); tc.next == "" && (!ok || p.Step != "requirements") {
				t.Errorf("progress after no: %+v %v", p, ok)
			}
		})
	}
}

// TestAccessibleForgotPassword: "Forgot password?" in plain mode asks for
// the identifier (the one typed before offered), sends the code, keeps it
// for the code diagnosis, and goes on to the code and the new password.
func TestAccessibleForgotPassword(t *testing.T) {
	deps, svc, files := journeyDeps(t)
	deps.StateDir = t.TempDir()
	files.progress = &flows.Progress{Step: "reset", Lang: "en", Method: "email", Identifier: "ann@example.com"}
	var out bytes.Buffer
	// English; resume there; keep the identifier; the code; end of input.
	in := strings.NewReader("\ny\n\n123456\n")
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, []string{"TERM=dumb"}); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"Step 5 of 8 · Forgot password", "Resetting the password also unlocks", "Mi ID [ann@example.com]",
		"Step 5 of 8 · Set a new password", "We sent a 6-digit code by email to a***@example.com.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if svc.count("RequestPasswordReset") != 1 {
		t.Errorf("calls %v", svc.calls)
	}
	if rec, ok, err := flows.LastChallenge(deps.StateDir, files); err != nil || !ok || rec.ID != "ch-1" {
		t.Errorf("the code sent is not kept for the diagnosis: %+v %v %v", rec, ok, err)
	}
}

// scriptedSignIn answers sign-ins with errs in turn, then as svc does.
type scriptedSignIn struct {
	*fakeService
	errs []error
	reqs []api.SessionRequest
}

func (s *scriptedSignIn) SignIn(ctx context.Context, req api.SessionRequest) (api.Session, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	}
	s.mu.Unlock()
	if err != nil {
		return api.Session{}, err
	}
	return s.fakeService.SignIn(ctx, req)
}

// TestAccessibleSignIn: plain mode's sign-in after a wrong password
// offers to try again or "Forgot password?"; when the account has
// two-step verification it asks for the code alone, keeping the rest.
func TestAccessibleSignIn(t *testing.T) {
	deps, svc, _ := journeyDeps(t)
	acc := &scriptedSignIn{fakeService: svc, errs: []error{
		&api.Error{Status: 401, Code: api.CodeInvalidCredentials, Message: "wrong"},
		&api.Error{Status: 401, Code: api.CodeSecondFactorRequired, Field: "totp", Message: "2fa"},
	}}
	deps.Accounts = acc
	answers := []string{
		"1",        // English
		"", "", "", // this device as the system says
		"1", // sign in
		"ann@example.com", "Wrong#Pass1",
		"1",               // try again
		"", "Right#Pass1", // the identifier kept; the password again
		"123456", // the two-step code, asked alone
	}
	var out bytes.Buffer
	err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, strings.NewReader(strings.Join(answers, "\n")+"\n"), &out, []string{"TERM=dumb"})
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"Step 5 of 8 · Sign in", "Forgot password?", "2FA code", "Step 6 of 8 · Mi Cloud sync"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := len(acc.reqs); n != 3 {
		t.Fatalf("%d sign-ins, want 3:\n%s", n, got)
	}
	last := acc.reqs[2]
	if last.Identifier != "ann@example.com" || last.Password != "Right#Pass1" || last.TOTP != "123456" {
		t.Errorf("the last sign-in sent %+v", last)
	}
	if acc.reqs[1].TOTP != "" || acc.reqs[1].Password != "Right#Pass1" {
		t.Errorf("the second sign-in sent %+v", acc.reqs[1])
	}
}

// TestAccessibleSpeaksTheLanguageChosen: in Chinese, the prompts huh has
// built in (a number between, a selection, a yes or no answered wrong)
// are in Chinese too, not English.
func TestAccessibleSpeaksTheLanguageChosen(t *testing.T) {
	deps, svc, _ := journeyDeps(t)
	answers := []string{
		"9", "2", // a language that is not there, then 简体中文
		"", "", "", // device name, model, OS
		"2", "2", // create account, by email
		"ann@example.com", "Tr1cky#Pass", "Tr1cky#Pass",
		"123456",
		"perhaps", "y", // sync on, answered wrong first
		"12", "0", // a category that is not there, then the default ones
		"n", // not Wi-Fi only
		"y", // Find Device on
	}
	var out bytes.Buffer
	in := strings.NewReader(strings.Join(answers, "\n") + "\n")
	if err := RunAccessible(context.Background(), deps, Options{Lang: "zh-CN"}, in, &out, []string{"TERM=dumb"}); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"请输入 1 到 2 之间的数字：", "无效：请输入 1 到 2 之间的数字", "请回答 y（是）或 n（否）。",
		"最多可选 8 项。", "确认选择", "无效：请输入 0 到 8 之间的数字"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, english := range []string{"Enter a number", "Select up to", "Confirm selection", "invalid input", "Invalid:"} {
		if strings.Contains(got, english) {
			t.Errorf("output has huh's English %q:\n%s", english, got)
		}
	}
	if s := svc.sync["dev-1"]; !s.AutoSync || len(s.Categories) == 0 {
		t.Errorf("saved sync %+v, want on with the default categories", s)
	}
}

// TestAccessibleCreateChecksEachAnswer: in plain mode each answer of the
// create form is checked as it is given, and a wrong one asked again at
// once; a password typed wrong is never shown back.
func TestAccessibleCreateChecksEachAnswer(t *testing.T) {
	deps, svc, _ := journeyDeps(t)
	answers := []string{
		"1", "", "", "", // language, device as the system says
		"2", "2", // create account, by email
		"ann@", "ann@example.com", // not an email address, then one
		"short", "Tr1cky#Pass", // breaks the rules, then keeps them
		"Tr1cky#Pasx", "Tr1cky#Pass", // not the same, then the same
		"123456", "y", "0", "n", "y",
	}
	var out bytes.Buffer
	in := strings.NewReader(strings.Join(answers, "\n") + "\n")
	if err := RunAccessible(context.Background(), deps, Options{Lang: "en"}, in, &out, []string{"TERM=dumb"}); err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"This is not an email address", "Email [ann@]", "does not meet every rule", "are not the same", "Account created"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"short", "Pasx", "Tr1cky"} {
		if strings.Contains(got, secret) {
			t.Errorf("a password is shown back (%q):\n%s", secret, got)
		}
	}
	if len(svc.registered) != 1 || svc.registered[0].Identifier != "ann@example.com" {
		t.Errorf("registered %+v, want one registration of ann@example.com", svc.registered)
	}
}
