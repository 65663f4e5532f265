package testutil

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"misetup/server/courier"
)

// Courier keeps what the service sends, for a test to read the codes
// from (it implements courier.Courier).
type Courier struct {
	mu   sync.Mutex
	msgs []courier.Message
}

// Send implements courier.Courier.
func (c *Courier) Send(_ context.Context, m courier.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return nil
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// Code is the 6-digit code of the last message sent to `to` (any
// destination when ""), waiting up to 5 s for one; the test fails
// without.
func (c *Courier) Code(t testing.TB, to string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		for i := len(c.msgs) - 1; i >= 0; i-- {
			if m := sixDigits.FindStringSubmatch(c.msgs[i].Body); m != nil && (to == "" || c.msgs[i].To == to) {
				c.mu.Unlock()
				return m[1]
			}
		}
		c.mu.Unlock()
	}
	t.Fatalf("no code was sent to %q", to)
	return ""
}
