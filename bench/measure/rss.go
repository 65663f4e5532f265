package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"misetup/bench/baretea"
	"misetup/bench/internal/svc"
	"misetup/bench/internal/term"
)

// Keys as a terminal sends them.
const (
	enter    = "\r"
	tab      = "\t"
	shiftTab = "\x1b[Z"
	right    = "\x1b[C"
)

// flowStep is keys to type and the texts the screen then shows.
type flowStep struct {
	keys string
	want []string
}

// toCreateForm goes from the welcome screen to the create form's email
// field, through the requirements, the device and the account choice.
var toCreateForm = []flowStep{
	{enter, []string{"All set. Press enter to continue."}},
	{enter, []string{"Step 3 of 8 · This device"}},
	{enter, []string{"Do you already have a Mi Account?"}},
	{"c", []string{"Step 5 of 8 · Create account"}},
	{shiftTab + shiftTab + right + tab, []string{"you@example.com"}},
}

// walk takes the steps with step (type the keys, wait for the texts).
func walk(step func(keys string, want ...string) error, steps []flowStep) error {
	for _, s := range steps {
		if err := step(s.keys, s.want...); err != nil {
			return err
		}
	}
	return nil
}

// finishFromCode types the code the outbox holds for email and goes on to
// the summary, taking Mi Cloud and Find Device as offered.
func finishFromCode(step func(keys string, want ...string) error, outbox, email string) error {
	code, err := svc.Code(outbox, email)
	if err != nil {
		return err
	}
	return walk(step, []flowStep{
		{code, []string{"Your Mi Account is ready"}},
		{enter, []string{"Sync automatically", "Save and continue"}},
		{enter, []string{"Step 7 of 8 · Find Device"}},
		{enter, []string{"Step 8 of 8 · Summary", email}},
	})
}

// wizardRSS: the wizard's resident memory on the welcome screen and at the
// summary after a whole create flow (a new account by email, the code from
// the outbox, Mi Cloud and Find Device as offered), against the bare
// program's on its first screen.
func wizardRSS(bin, ref string, show bool) error {
	env, root, err := freshEnv()
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	t, err := term.Run(80, 24, env, bin)
	if err != nil {
		return err
	}
	defer t.Kill()
	step := func(keys string, want ...string) error {
		if keys != "" {
			if err := t.Type(keys); err != nil {
				return err
			}
		}
		_, s, err := t.WaitFor(20*time.Second, want...)
		if show && err == nil {
			fmt.Fprintf(os.Stderr, "--- %q\n%s\n", want, s)
		}
		return err
	}
	if err := step("", welcomeDone...); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // the service opens after the first frame
	welcome, err := t.RSS()
	if err != nil {
		return err
	}
	const email, password = "rss@example.com", "Tr1cky#Pass"
	outbox := filepath.Join(root, "state", "misetup", "outbox.jsonl")
	form := []flowStep{
		{email, []string{"looks right"}},
		{tab + password + tab + password, []string{"✓ both passwords match"}},
		{enter, []string{"We sent a 6-digit code by email"}},
	}
	if err := walk(step, append(toCreateForm, form...)); err != nil {
		return err
	}
	if err := finishFromCode(step, outbox, email); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	after, err := t.RSS()
	if err != nil {
		return err
	}
	anon, file, err := term.RSSParts(t.Cmd.Process.Pid)
	if err != nil {
		return err
	}

	b, err := term.Run(80, 24, []string{"TERM=xterm-256color", "LANG=en_US.UTF-8"}, ref)
	if err != nil {
		return err
	}
	defer b.Kill()
	if _, _, err := b.WaitFor(10*time.Second, baretea.Marker); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	bare, err := b.RSS()
	if err != nil {
		return err
	}
	mb := func(n int64) float64 { return float64(n) / (1 << 20) }
	fmt.Printf("rss welcome_mb=%.1f created_mb=%.1f created_anon_mb=%.1f created_file_mb=%.1f bare_mb=%.1f\n",
		mb(welcome), mb(after), mb(anon), mb(file), mb(bare))
	return nil
}
