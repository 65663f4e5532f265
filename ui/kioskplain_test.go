package ui

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"misetup/internal/testutil"
)

// waitFor waits until out holds want n times.
func waitFor(t *testing.T, out *testutil.Buffer, want string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(out.String(), want) >= n {
			return
		}
	}
	t.Fatalf("%q not %d times in:\n%s", want, n, out.String())
}

// TestKioskPlainIdle: kiosk mode's clocks in plain prompts too. A customer
// who answers within the countdown is asked the same question again; one
// who does not is signed out and the next customer starts at the welcome.
func TestKioskPlainIdle(t *testing.T) {
	deps, svc, _ := journeyDeps(t)
	svc.SetToken("tok-1")
	var mu sync.Mutex
	var signedOut []string
	opts := Options{Lang: "en", Kiosk: &Kiosk{IdleAfter: 300 * time.Millisecond, Countdown: 300 * time.Millisecond,
		SignOut: func(_ context.Context, token string) error {
			mu.Lock()
			defer mu.Unlock()
			signedOut = append(signedOut, token)
			return nil
		}}}
	in, w := io.Pipe()
	out := &testutil.Buffer{}
	done := make(chan error, 1)
	go func() { done <- RunAccessible(context.Background(), deps, opts, in, out, []string{"TERM=dumb"}) }()

	// Nobody at the welcome: nobody is asked.
	time.Sleep(700 * time.Millisecond)
	if strings.Contains(out.String(), "Still there?") {
		t.Fatalf("asked before anyone started:\n%s", out.String())
	}
	io.WriteString(w, "1\n") // English
	waitFor(t, out, "Name [", 1)
	waitFor(t, out, "Still there?", 1)
	io.WriteString(w, "\n") // still here: the same question again
	waitFor(t, out, "Name [", 2)
	waitFor(t, out, "Still there?", 2)
	waitFor(t, out, "Set up your Mi Account", 2) // walked away: the next customer
	mu.Lock()
	if len(signedOut) != 1 || signedOut[0] != "tok-1" || svc.Token() != "" {
		t.Errorf("signed out %v, token now %q", signedOut, svc.Token())
	}
	mu.Unlock()
	w.Close()
	if err := <-done; err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
}
