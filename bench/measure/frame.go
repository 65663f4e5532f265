package main

import (
	"fmt"
	"os"
	"time"

	"misetup/bench/baretea"
	"misetup/bench/internal/term"
)

// welcomeDone is on the last line of the wizard's first screen: the footer.
var welcomeDone = []string{"Step 1 of 8 · Welcome", "ctrl+c quit"}

// frame: process start to the first complete screen, in an 80x24 pty.
func frame(n int, bin, ref string, show bool) error {
	wizard := func() (time.Duration, error) {
		env, root, err := freshEnv()
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(root)
		return firstScreen(env, bin, show, welcomeDone...)
	}
	bare := func() (time.Duration, error) {
		return firstScreen([]string{"TERM=xterm-256color", "LANG=en_US.UTF-8"}, ref, show, baretea.Marker)
	}
	a, b, err := interleave(n, wizard, bare)
	if err != nil {
		return err
	}
	report("frame", a, b)
	return nil
}

func firstScreen(env []string, cmdline string, show bool, want ...string) (time.Duration, error) {
	name, args := fields(cmdline)
	t, err := term.Run(80, 24, env, name, args...)
	if err != nil {
		return 0, err
	}
	defer t.Kill()
	d, s, err := t.WaitFor(10*time.Second, want...)
	if show {
		fmt.Fprintf(os.Stderr, "--- %s after %v\n%s\n", cmdline, d, s)
	}
	return d, err
}
