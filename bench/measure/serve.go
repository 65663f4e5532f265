package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	"misetup/bench/internal/svc"
	"misetup/bench/internal/term"
)

// serveTimes: from starting misetup serve (a fresh SQLite in temporary XDG
// dirs) to the first 200 of GET /v1/status, against the same binary's
// --version, interleaved; and the bare net/http server's start to its first
// answer as a reference row.
func serveTimes(n int, bin, ref string) error {
	serve := func(cmdline string, args ...string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			root, err := svc.TempRoot("serve")
			if err != nil {
				return 0, err
			}
			defer os.RemoveAll(root)
			addr, err := svc.FreeAddr()
			if err != nil {
				return 0, err
			}
			name, rest := fields(cmdline)
			cmd := exec.Command(name, append(append(rest, args...), "--addr", addr)...)
			cmd.Env = svc.Env(root)
			t0 := time.Now()
			if err := cmd.Start(); err != nil {
				return 0, err
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			if _, err := svc.WaitStatus("http://"+addr, 20*time.Second); err != nil {
				return 0, err
			}
			return time.Since(t0), nil
		}
	}
	version := func() (time.Duration, error) {
		t0 := time.Now()
		err := exec.Command(bin, "--version").Run()
		return time.Since(t0), err
	}
	var a, v, b []time.Duration
	for range n {
		da, err := serve(bin, "serve")()
		if err != nil {
			return err
		}
		dv, err := version()
		if err != nil {
			return err
		}
		db, err := serve(ref)()
		if err != nil {
			return err
		}
		a, v, b = append(a, da), append(v, dv), append(b, db)
	}
	report("serve", a, v)
	fmt.Printf("servebare bare_ms=%.1f n=%d\n", median(b), len(b))
	return nil
}

// serveRSS: resident memory of misetup serve (fresh SQLite), idle: 2 s
// after its first answer.
func serveRSS(bin string) error {
	root, err := svc.TempRoot("servemem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	s, err := svc.Serve(bin, root, nil, nil)
	if err != nil {
		return err
	}
	defer s.Kill()
	time.Sleep(2 * time.Second)
	rss, err := term.RSS(s.Cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("servemem idle_mb=%.1f\n", float64(rss)/(1<<20))
	return nil
}
