package courier_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"misetup/server/courier"
)

func msg(to, body string) courier.Message {
	return courier.Message{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Channel: "email", To: to, Subject: "Your code", Body: body}
}

func TestOutboxSendAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "misetup", "outbox.jsonl")
	ob := courier.NewOutbox(path)
	ctx := context.Background()
	want := []courier.Message{
		msg("ann@example.com", "Your code is 123456. <b>&</b>"),
		{Time: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC), Channel: "sms", To: "+8613800138000", Body: "验证码 654321\nsecond line"},
	}
	for _, m := range want {
		if err := ob.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := courier.ReadOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Channel != want[i].Channel || got[i].To != want[i].To ||
			got[i].Subject != want[i].Subject || got[i].Body != want[i].Body {
			t.Errorf("message %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("outbox mode %o, want 600", perm)
	}
	di, _ := os.Stat(filepath.Dir(path))
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("outbox folder mode %o, want 700", perm)
	}
	raw, _ := os.ReadFile(path)
	if n := countLines(raw); n != 2 {
		t.Errorf("file has %d lines, want one per message:\n%s", n, raw)
	}
}

func TestOutboxFillsTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	before := time.Now()
	if err := courier.NewOutbox(path).Send(context.Background(), courier.Message{Channel: "sms", To: "+8613800138000", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	got, _ := courier.ReadOutbox(path)
	if len(got) != 1 || got[0].Time.Before(before.Add(-time.Second)) {
		t.Errorf("got %+v, want one message stamped now", got)
	}
}

func TestReadOutboxMissingFile(t *testing.T) {
	got, err := courier.ReadOutbox(filepath.Join(t.TempDir(), "nope.jsonl"))
	if err != nil || len(got) != 0 {
		t.Errorf("ReadOutbox(missing) = %v, %v; want empty, nil", got, err)
	}
}

func TestReadOutboxSkipsGarbledLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	content := `{"time":"2026-01-02T03:04:05Z","channel":"email","to":"a@example.com","body":"one"}
{"time":"2026-01-02T03:04:0
not json at all

{"time":"2026-01-02T03:04:06Z","channel":"sms","to":"+8613800138000","body":"two"}
{"time":"2026-01-02T03:04:07Z","channel":"email","to":"b@exa`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := courier.ReadOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Body != "one" || got[1].Body != "two" {
		t.Errorf("got %+v, want the two intact messages", got)
	}
}

func TestOutboxConcurrentSends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	ob := courier.NewOutbox(path)
	// Large bodies make an interleaved write show as a garbled line.
	body := func(i int) string { return fmt.Sprintf("%d:%0*d", i, 64<<10, i) }
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() { errs <- ob.Send(context.Background(), msg(fmt.Sprintf("u%d@example.com", i), body(i))) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := os.ReadFile(path)
	if n := countLines(raw); n != 8 {
		t.Errorf("file has %d lines, want 8", n)
	}
	got, err := courier.ReadOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.Body] = true
	}
	for i := range 8 {
		if !seen[body(i)] {
			t.Errorf("message %d is missing or torn", i)
		}
	}
}

func TestOutboxSendCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := courier.NewOutbox(path).Send(ctx, msg("a@example.com", "x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("a cancelled Send wrote the file")
	}
}

func TestOutboxUnwritable(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := courier.NewOutbox(filepath.Join(blocker, "outbox.jsonl")).Send(context.Background(), msg("a@example.com", "x"))
	if err == nil {
		t.Fatal("Send under a regular file succeeded")
	}
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// follower runs FollowOutbox in the background and hands over what it sees.
type follower struct {
	got    chan courier.Message
	done   chan error
	cancel context.CancelFunc
}

func follow(t *testing.T, path string, fromStart bool) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{got: make(chan courier.Message, 100), done: make(chan error, 1), cancel: cancel}
	go func() {
		f.done <- courier.FollowOutbox(ctx, path, fromStart, 5*time.Millisecond, func(m courier.Message) error {
			f.got <- m
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-f.done; err != nil {
			t.Errorf("FollowOutbox returned %v after cancel, want nil", err)
		}
	})
	return f
}

// next waits for the next message. The long limit only guards against a
// hang; it is no timing assertion.
func (f *follower) next(t *testing.T) courier.Message {
	t.Helper()
	select {
	case m := <-f.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message from FollowOutbox")
		return courier.Message{}
	}
}

func TestFollowOutbox(t *testing.T) {
	ctx := context.Background()
	t.Run("from start, then new ones", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "outbox.jsonl")
		ob := courier.NewOutbox(path)
		_ = ob.Send(ctx, msg("a@example.com", "old"))
		f := follow(t, path, true)
		if m := f.next(t); m.Body != "old" {
			t.Errorf("first = %q, want old", m.Body)
		}
		_ = ob.Send(ctx, msg("a@example.com", "new"))
		if m := f.next(t); m.Body != "new" {
			t.Errorf("second = %q, want new", m.Body)
		}
	})
	t.Run("from the end skips old ones", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "outbox.jsonl")
		ob := courier.NewOutbox(path)
		_ = ob.Send(ctx, msg("a@example.com", "old"))
		f := follow(t, path, false)
		// The follower may start late and skip some of the new ones too;
		// what must never arrive is the old one.
		for i := 0; ; i++ {
			_ = ob.Send(ctx, msg("a@example.com", fmt.Sprint("new ", i)))
			select {
			case m := <-f.got:
				if m.Body == "old" {
					t.Fatal("a follower from the end got the old message")
				}
				return
			case <-time.After(20 * time.Millisecond):
			}
			if i > 500 {
				t.Fatal("no message from FollowOutbox")
			}
		}
	})
	t.Run("file created later", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "later", "outbox.jsonl")
		f := follow(t, path, false)
		// NOTE: nothing tells when the follower has looked for the file;
		// 100 ms is ample for its first look (it starts with one).
		time.Sleep(100 * time.Millisecond)
		_ = courier.NewOutbox(path).Send(ctx, msg("a@example.com", "first ever"))
		if m := f.next(t); m.Body != "first ever" {
			t.Errorf("got %q", m.Body)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "outbox.jsonl")
		ob := courier.NewOutbox(path)
		_ = ob.Send(ctx, msg("a@example.com", "a long message before truncation"))
		f := follow(t, path, true)
		f.next(t)
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		// Whether or not the follower polls before the next Send, the
		// file is now shorter than what it read: it starts over.
		_ = ob.Send(ctx, msg("a@example.com", "after"))
		if m := f.next(t); m.Body != "after" {
			t.Errorf("got %q, want after", m.Body)
		}
	})
	t.Run("replaced", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "outbox.jsonl")
		ob := courier.NewOutbox(path)
		_ = ob.Send(ctx, msg("a@example.com", "in the old file"))
		f := follow(t, path, true)
		f.next(t)
		other := filepath.Join(dir, "new.jsonl")
		_ = courier.NewOutbox(other).Send(ctx, msg("a@example.com", "in the new file, which is longer than the old"))
		if err := os.Rename(other, path); err != nil {
			t.Fatal(err)
		}
		if m := f.next(t); m.Body != "in the new file, which is longer than the old" {
			t.Errorf("got %q", m.Body)
		}
	})
	t.Run("unfinished line waits for its end", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "outbox.jsonl")
		fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		f := follow(t, path, true)
		_, _ = fh.WriteString(`{"channel":"sms","to":"+1","body":"hal`)
		time.Sleep(30 * time.Millisecond)
		_, _ = fh.WriteString("f\"}\n")
		if m := f.next(t); m.Body != "half" {
			t.Errorf("got %q, want half", m.Body)
		}
	})
}

func TestFollowOutboxStopsOnCallbackError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	_ = courier.NewOutbox(path).Send(context.Background(), msg("a@example.com", "x"))
	stop := errors.New("enough")
	err := courier.FollowOutbox(context.Background(), path, true, time.Millisecond, func(courier.Message) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("FollowOutbox = %v, want the callback's error", err)
	}
}
