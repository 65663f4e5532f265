package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"misetup/bench/internal/term"
)

// hostile drives the real binary in a pty through a whole create flow under
// a hostile terminal: on every screen the window shrinks to 20x5 and comes
// back, a 5,000-character bracketed paste lands in each field of the form
// (then the field is cleared and typed properly), and a burst of 1,000 keys
// hits the email field. The wizard must stay up, say it needs a bigger
// window at 20x5, come back to the same screen, and finish the flow with
// what was typed last (the account made, the summary shown). The ui test
// TestHostileTerminal checks every frame against the window.
func hostile(bin string, show bool) error {
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
	wait := func(want ...string) error {
		_, s, err := t.WaitFor(20*time.Second, want...)
		if show && err == nil {
			fmt.Fprintf(os.Stderr, "--- %q\n%s\n", want, s)
		}
		return err
	}
	resizes := 0
	// squeeze shrinks the window to 20x5 and back, and checks the screen
	// comes back to want.
	squeeze := func(want ...string) error {
		for _, sz := range [][2]int{{20, 5}, {80, 24}, {20, 5}, {59, 19}, {80, 24}} {
			if err := t.Resize(sz[0], sz[1]); err != nil {
				return err
			}
			small := sz[0] < 60 || sz[1] < 20
			var err error
			if small {
				err = wait("60×20")
			} else {
				err = wait(want...)
			}
			if err != nil {
				return fmt.Errorf("at %dx%d: %w", sz[0], sz[1], err)
			}
			resizes++
		}
		return nil
	}
	step := func(keys string, want ...string) error {
		if keys != "" {
			if err := t.Type(keys); err != nil {
				return err
			}
		}
		if err := wait(want...); err != nil {
			return err
		}
		return squeeze(want...)
	}
	paste := func() error {
		return t.Type("\x1b[200~" + strings.Repeat("ab1@Ø中 ", 5000/8) + "\x1b[201~")
	}
	const clear = "\x05\x15" // ctrl+e (to the end), ctrl+u (delete to the start)
	const email, password = "hostile@example.com", "Tr1cky#Pass"
	outbox := filepath.Join(root, "state", "misetup", "outbox.jsonl")

	if err := step("", welcomeDone...); err != nil {
		return err
	}
	if err := walk(step, toCreateForm); err != nil {
		return err
	}
	// The email field: a paste, a burst of 1,000 keys, then the address.
	if err := paste(); err != nil {
		return err
	}
	if err := wait("At most 254 characters"); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Keys that keep the focus in the field: characters, backspace, ← →.
	keys := []string{"a", "Z", "9", "@", ".", "中", "\x7f", "\x1b[C", "\x1b[D", " "}
	var burst strings.Builder
	for range 1000 {
		burst.WriteString(keys[rng.IntN(len(keys))])
	}
	if err := t.Type(burst.String()); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	if err := step("", "Step 5 of 8 · Create account"); err != nil {
		return err
	}
	if err := t.Type(clear + email); err != nil {
		return err
	}
	if err := wait("looks right"); err != nil {
		return fmt.Errorf("the email after the burst: %w", err)
	}
	for range 2 { // the password and its confirmation: a paste, cleared, typed
		if err := t.Type(tab); err != nil {
			return err
		}
		if err := paste(); err != nil {
			return err
		}
		if err := t.Type(clear + password); err != nil {
			return err
		}
	}
	if err := step("", "✓ both passwords match"); err != nil {
		return err
	}
	if err := step(enter, "We sent a 6-digit code by email"); err != nil {
		return err
	}
	if err := finishFromCode(step, outbox, email); err != nil {
		return err
	}
	if err := t.Type(enter); err != nil {
		return err
	}
	if err := t.Wait(10 * time.Second); err != nil {
		return fmt.Errorf("the wizard did not end well: %w", err)
	}
	fmt.Printf("hostile resizes=%d pastes=3 burst=1000 result=ok\n", resizes)
	return nil
}
