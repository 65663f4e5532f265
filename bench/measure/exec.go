package main

import (
	"os/exec"
	"time"
)

// execTimes: process start to exit, of bin (misetup --version) and ref
// (hello).
func execTimes(n int, bin, ref string) error {
	run := func(cmdline string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			name, args := fields(cmdline)
			t0 := time.Now()
			err := exec.Command(name, args...).Run()
			return time.Since(t0), err
		}
	}
	a, b, err := interleave(n, run(bin), run(ref))
	if err != nil {
		return err
	}
	report("exec", a, b)
	return nil
}
