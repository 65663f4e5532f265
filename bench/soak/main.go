// Command soak runs mixed traffic from many clients against a real misetup
// serve (SQLite) for a while: sign-ins, verifications of new registrations,
// Find Device commands (sent, fetched by the device, acknowledged) and
// reads. It checks that no answer is a 5xx, that the server logs no error,
// and that its resident memory and goroutines stay flat: the second and
// the last window (a minute, or a fifth of a shorter run; the first is
// warm-up) within 10%.
// Goroutines are read from the runtime's scheduler trace
// (GODEBUG=schedtrace,scheddetail), so the server runs unchanged.
//
//	soak -bin misetup -clients 50 -duration 10m
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"misetup/bench/internal/svc"
	"misetup/bench/internal/term"
)

func main() {
	bin := flag.String("bin", "misetup", "the misetup binary")
	clients := flag.Int("clients", 50, "clients at once")
	dur := flag.Duration("duration", 10*time.Minute, "how long")
	flag.Parse()
	if err := run(*bin, *clients, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type stats struct {
	mu     sync.Mutex
	ops    map[string]int
	status map[int]int
	errs   []string
}

func (s *stats) add(op string, st int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[op]++
	s.status[st]++
	if st >= 500 || st == 0 && err != nil {
		if len(s.errs) < 20 {
			s.errs = append(s.errs, fmt.Sprintf("%s: %d %v", op, st, err))
		}
	}
}

func run(bin string, clients int, dur time.Duration) error {
	root, err := svc.TempRoot("soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	traceEvery := min(max(dur/10, 2*time.Second), 10*time.Second)
	s, err := svc.Serve(bin, root, nil, []string{fmt.Sprintf("GODEBUG=schedtrace=%d,scheddetail=1", traceEvery.Milliseconds())})
	if err != nil {
		return err
	}
	defer s.Kill()
	ctx := context.Background()

	// Every client has an account and a device of its own.
	type account struct{ email, token, device string }
	accounts := make([]account, clients)
	const password = "Soak-kite-42"
	var wg sync.WaitGroup
	var setupErr atomic.Value
	for i := range clients {
		wg.Go(func() {
			a := account{email: fmt.Sprintf("soak-%d@example.com", i), device: fmt.Sprintf("soak-dev-%d", i)}
			c := svc.NewClient(s.URL)
			defer c.Close()
			tok, err := c.NewAccount(ctx, s.Outbox, a.email, password, svc.Device{ID: a.device, Name: "soak"})
			if err != nil {
				setupErr.Store(err)
			}
			a.token = tok
			accounts[i] = a
		})
	}
	wg.Wait()
	if err, _ := setupErr.Load().(error); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}

	time.Sleep(traceEvery + traceEvery/2) // a trace of the server idle, before the traffic
	st := &stats{ops: map[string]int{}, status: map[int]int{}}
	var rss []sample
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	t0 := time.Now()
	sampler.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if v, err := term.RSS(s.Cmd.Process.Pid); err == nil {
					rss = append(rss, sample{time.Since(t0), float64(v) / (1 << 20)})
				}
			}
		}
	})
	var seq atomic.Int64
	deadline := t0.Add(dur)
	for i := range clients {
		wg.Go(func() {
			c := svc.NewClient(s.URL)
			defer c.Close() // no idle connection left when the traffic ends
			a := accounts[i]
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for time.Now().Before(deadline) {
				switch p := rng.IntN(100); {
				case p < 45: // reads
					path := []string{"/v1/account", "/v1/devices", "/v1/devices/" + a.device + "/sync", "/v1/storage"}[rng.IntN(4)]
					code, err := c.Do(ctx, "GET", path, a.token, nil, nil)
					st.add("read", code, err)
				case p < 70: // a Find Device command: sent, fetched by the device, acknowledged
					var cmd struct {
						ID string `json:"id"`
					}
					code, err := c.Do(ctx, "POST", "/v1/devices/"+a.device+"/commands", a.token,
						map[string]string{"type": []string{"ring", "locate"}[rng.IntN(2)]}, &cmd)
					st.add("command", code, err)
					if err == nil {
						code, err = c.Do(ctx, "GET", "/v1/devices/"+a.device+"/commands?state=pending", a.token, nil, nil)
						st.add("command", code, err)
						code, err = c.Do(ctx, "POST", "/v1/devices/"+a.device+"/commands/"+cmd.ID+"/ack", a.token,
							map[string]string{"state": "done", "result": "rang"}, nil)
						st.add("command", code, err)
					}
				case p < 85: // a sign-in on the client's device
					_, code, err := c.SignIn(ctx, a.email, password, svc.Device{ID: a.device, Name: "soak"})
					st.add("sign-in", code, err)
				default: // a new registration and its verification
					email := fmt.Sprintf("soak-new-%d@example.com", seq.Add(1))
					id, code, err := c.Register(ctx, email, password)
					st.add("verification", code, err)
					if err == nil {
						if c6, err := svc.Code(s.Outbox, email); err == nil {
							_, _, err := c.Verify(ctx, id, c6, svc.Device{ID: "new-" + email[9:12]})
							code := 200
							if err != nil {
								code = 0
								if m := regexp.MustCompile(`: (\d{3}) `).FindStringSubmatch(err.Error()); m != nil {
									fmt.Sscan(m[1], &code)
								}
							}
							st.add("verification", code, err)
						}
					}
				}
				time.Sleep(time.Duration(20+rng.IntN(80)) * time.Millisecond) // a person's pace, roughly
			}
		})
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	elapsed := time.Since(t0)
	time.Sleep(traceEvery + traceEvery/2) // and one idle after it
	if err := s.Stop(); err != nil {
		return err
	}
	goroutines, logErrors := readLog(s.Log)

	// The first window is warm-up (the service's caches and argon2's
	// memory fill): the window after it is compared with the last.
	window := min(time.Minute, dur/5)
	first, last := mean(rss, window, 2*window), mean(rss, elapsed-window, elapsed)
	// Goroutines: the mean of the traces in the first and the last window
	// of traffic, and the server idle before and after it (a leak shows
	// most plainly there).
	start := t0.Sub(s.Start)
	var during []sample
	idleBefore, idleAfter := -1, -1
	for _, g := range goroutines {
		switch {
		case g.at < start:
			idleBefore = int(g.mb)
		case g.at <= start+elapsed:
			during = append(during, sample{g.at - start, g.mb})
		case idleAfter < 0:
			idleAfter = int(g.mb)
		}
	}
	gFirst, gLast := mean(during, window, 2*window), mean(during, elapsed-window, elapsed)
	n5xx := 0
	total := 0
	for code, n := range st.status {
		total += n
		if code >= 500 {
			n5xx += n
		}
	}
	var ops []string
	for op, n := range st.ops {
		ops = append(ops, fmt.Sprintf("%s:%d", op, n))
	}
	slices.Sort(ops)
	memFlat := last <= first*1.1 && last >= first*0.9
	gFlat := gLast <= gFirst*1.1+5 && idleBefore >= 0 && idleAfter >= 0 && idleAfter <= idleBefore+2
	fmt.Printf("soak clients=%d duration=%s requests=%d (%s) 5xx=%d log_errors=%d rss_first_mb=%.1f rss_last_mb=%.1f mem_flat=%v goroutines_first=%.0f goroutines_last=%.0f goroutines_idle_before=%d goroutines_idle_after=%d goroutines_flat=%v\n",
		clients, elapsed.Round(time.Second), total, strings.Join(ops, " "), n5xx, len(logErrors), first, last, memFlat, gFirst, gLast, idleBefore, idleAfter, gFlat)
	for _, e := range st.errs {
		fmt.Fprintln(os.Stderr, "  ", e)
	}
	for _, e := range logErrors[:min(10, len(logErrors))] {
		fmt.Fprintln(os.Stderr, "  log:", e)
	}
	if n5xx > 0 || len(logErrors) > 0 || !memFlat || !gFlat {
		return fmt.Errorf("the soak found a problem")
	}
	return nil
}

type sample struct {
	at time.Duration
	mb float64
}

func mean(ss []sample, from, to time.Duration) float64 {
	var sum float64
	n := 0
	for _, s := range ss {
		if s.at >= from && s.at <= to {
			sum += s.mb
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

var schedAt = regexp.MustCompile(`^SCHED (\d+)ms:`)

// readLog splits the server's log into the goroutine counts of its
// scheduler traces (live goroutines: all but status 6, dead; the sample's
// mb is the count), at their times since the server started, and the lines
// of its own that report an error.
func readLog(path string) (goroutines []sample, errs []string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []string{err.Error()}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	cur := -1
	var at time.Duration
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "SCHED "):
			if cur >= 0 {
				goroutines = append(goroutines, sample{at, float64(cur)})
			}
			cur = 0
			if m := schedAt.FindStringSubmatch(l); m != nil {
				var ms int64
				fmt.Sscan(m[1], &ms)
				at = time.Duration(ms) * time.Millisecond
			}
		case strings.HasPrefix(l, "  G"):
			if !strings.Contains(l, "status=6") {
				cur++
			}
		case strings.HasPrefix(l, "  P"), strings.HasPrefix(l, "  M"):
		case strings.Contains(l, "level=ERROR"), strings.Contains(l, "panic"), strings.Contains(l, "ERROR"):
			errs = append(errs, l)
		}
	}
	if cur >= 0 {
		goroutines = append(goroutines, sample{at, float64(cur)})
	}
	return goroutines, errs
}
