// Command measure makes the timing and memory figures of bench/run, each
// against its reference in the same run, the runs of the two interleaved so
// that the machine's load falls on both alike. It prints one line of
// key=value pairs per figure; bench/run tabulates them.
//
//	measure frame   -n 20 -bin misetup -ref bench-bare   first complete screen in an 80x24 pty
//	measure exec    -n 20 -bin "misetup --version" -ref hello   process start to exit
//	measure serve   -n 20 -bin misetup -ref barehttp     start to the first 200 of GET /v1/status
//	measure rss     -bin misetup -ref bench-bare         resident memory: welcome screen, after a whole create flow
//	measure servemem -bin misetup                        resident memory of misetup serve, idle
//	measure account -url URL -outbox FILE -dump FILE     an account and its token, for the wrk rows
//	measure hostile -bin misetup                         a whole create flow under a hostile terminal
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"misetup/bench/internal/svc"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: measure frame|exec|serve|rss|servemem [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fs.Int("n", 20, "runs of each program")
	bin := fs.String("bin", "misetup", "the misetup binary (exec: the command line)")
	ref := fs.String("ref", "", "the reference program (exec: the command line)")
	show := fs.Bool("show", false, "print the screens reached (frame, rss)")
	url := fs.String("url", "", "account: the service's URL")
	outbox := fs.String("outbox", "", "account: the service's outbox.jsonl")
	dump := fs.String("dump", "", "account: where to write the answer of GET /v1/account")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "frame":
		err = frame(*n, *bin, *ref, *show)
	case "exec":
		err = execTimes(*n, *bin, *ref)
	case "serve":
		err = serveTimes(*n, *bin, *ref)
	case "rss":
		err = wizardRSS(*bin, *ref, *show)
	case "servemem":
		err = serveRSS(*bin)
	case "account":
		err = account(*url, *outbox, *dump)
	case "hostile":
		err = hostile(*bin, *show)
	default:
		err = fmt.Errorf("unknown figure %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
}

// median of ds, in milliseconds.
func median(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return float64(m) / float64(time.Millisecond)
}

// interleave runs a then b, n times, and returns their durations.
func interleave(n int, a, b func() (time.Duration, error)) (as, bs []time.Duration, err error) {
	for range n {
		da, err := a()
		if err != nil {
			return nil, nil, err
		}
		db, err := b()
		if err != nil {
			return nil, nil, err
		}
		as, bs = append(as, da), append(bs, db)
	}
	return as, bs, nil
}

// report prints a figure against its reference.
func report(what string, a, ref []time.Duration) {
	ma, mr := median(a), median(ref)
	fmt.Printf("%s misetup_ms=%.1f ref_ms=%.1f ratio=%.2f n=%d\n", what, ma, mr, ma/mr, len(a))
}

// freshEnv is an environment of a first run on a new machine: XDG dirs of
// its own under a new temporary folder, an 80x24 xterm, English.
func freshEnv() (env []string, root string, err error) {
	root, err = os.MkdirTemp("", "misetup-bench-")
	if err != nil {
		return nil, "", err
	}
	env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + root + "/home", "TERM=xterm-256color",
		"LANG=en_US.UTF-8", "XDG_DATA_HOME=" + root + "/data", "XDG_STATE_HOME=" + root + "/state",
		"XDG_CACHE_HOME=" + root + "/cache", "XDG_CONFIG_HOME=" + root + "/config"}
	return env, root, nil
}

func fields(cmdline string) (string, []string) {
	f := strings.Fields(cmdline)
	return f[0], f[1:]
}

func newClient(url string) *svc.Client { return svc.NewClient(url) }

func device(id string) svc.Device {
	return svc.Device{ID: id, Name: "bench", Model: "bench", OS: "Linux"}
}
