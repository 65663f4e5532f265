package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"misetup/server/courier"
)

// runRoot runs the misetup command line with args and returns what it printed.
func runRoot(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestOutboxCommand(t *testing.T) {
	isolateXDG(t)
	_, stderr, err := runRoot(t, "outbox")
	if err != nil || !strings.Contains(stderr, "The outbox is empty") {
		t.Fatalf("empty outbox: err %v, stderr %q", err, stderr)
	}

	cfg, err := serveFor(t)
	if err != nil {
		t.Fatal(err)
	}
	box := courier.NewOutbox(cfg.outboxPath())
	at := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	for i, to := range []string{"ann@example.com", "+8613800138000", "bob@example.com"} {
		ch := courier.ChannelEmail
		if strings.HasPrefix(to, "+") {
			ch = courier.ChannelSMS
		}
		m := courier.Message{Time: at.Add(time.Duration(i) * time.Minute), Channel: ch, To: to,
			Subject: "Your Mi Account verification code", Body: "Your code is 12345" + string(rune('0'+i)) + "."}
		if err := box.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}

	out, _, err := runRoot(t, "outbox")
	if err != nil {
		t.Fatal(err)
	}
	ann, bob := strings.Index(out, "ann@example.com"), strings.Index(out, "bob@example.com")
	if ann < 0 || bob < 0 || ann > bob || !strings.Contains(out, "Your code is 123450.") {
		t.Errorf("outbox must list every message, newest last:\n%s", out)
	}

	out, _, err = runRoot(t, "outbox", "--json", "--last", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("--last 2 printed %d lines:\n%s", len(lines), out)
	}
	var m courier.Message
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil || m.To != "bob@example.com" || m.Channel != "email" {
		t.Errorf("last JSON line = %+v, %v", m, err)
	}
}
