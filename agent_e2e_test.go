package main

// misetup agent as a process: it carries out a ring another client sends,
// and stops cleanly (status 0) on SIGTERM, both against `misetup serve`
// (--server) and on the built-in service's SQLite file, beside another
// process using that file (as the wizard does).

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/internal/testutil"
	"misetup/server/servertest"
)

// linkDevice creates ann's account on the service at url, signed in on the
// device deviceID, and leaves that session and device id in the state dir
// under root, as the wizard would. It turns Find Device on and returns a
// client of ann's laptop, to send commands with.
func linkDevice(t *testing.T, url, root, deviceID string) *client.Client {
	t.Helper()
	const email = "ann@example.com"
	tg := &servertest.Target{URLs: []string{url}}
	ch := tg.Register(t, email)
	code := lastCode(t, filepath.Join(root, "state", "misetup", "outbox.jsonl"), email)
	var res api.VerifyResponse
	tg.Do(t, 0, "POST", "/v1/challenges/"+ch.ID+"/verify", api.VerifyRequest{
		Code: code, Device: &api.Device{ID: deviceID, Name: "Ann's desktop"},
	}, "").Into(t, http.StatusOK, &res)
	if res.Session == nil {
		t.Fatal("no session")
	}
	state := filepath.Join(root, "state", "misetup")
	if err := os.WriteFile(filepath.Join(state, "session"), []byte(res.Session.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "device-id"), []byte(deviceID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tg.Do(t, 0, "PUT", "/v1/devices/"+deviceID+"/find-device", api.FindDevice{Enabled: true}, res.Session.Token).Into(t, http.StatusOK, nil)
	laptop := client.New(url)
	if _, err := laptop.SignIn(context.Background(), api.SessionRequest{
		Identifier: email, Password: servertest.Password, Device: api.Device{ID: "laptop", Name: "laptop"},
	}); err != nil {
		t.Fatal(err)
	}
	return laptop
}

// agentProc is a running `misetup agent`.
type agentProc struct {
	cmd    *exec.Cmd
	logs   *testutil.Buffer
	exited chan struct{} // closed once the process has exited
	err    error         // its exit, once exited is closed
}

func startAgentProc(t *testing.T, bin string, env []string, args ...string) *agentProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"agent"}, args...)...)
	cmd.Env = env
	p := &agentProc{cmd: cmd, logs: &testutil.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited: // stopped already (stopAgent)
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// ringAndWait sends the device a ring from the laptop and waits until the
// service has it done.
func ringAndWait(t *testing.T, laptop *client.Client, deviceID string, p *agentProc) api.Command {
	t.Helper()
	ctx := context.Background()
	sent, err := laptop.SendCommand(ctx, deviceID, api.CommandRequest{Type: api.CommandRing, Message: "where are you?"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, err := laptop.Command(ctx, deviceID, sent.ID)
		if err == nil && (c.State == api.CommandDone || c.State == api.CommandFailed) {
			return c
		}
	}
	t.Fatalf("the agent never carried out the ring:\n%s", p.logs)
	return api.Command{}
}

// stopAgent sends SIGTERM and wants exit status 0, soon.
func stopAgent(t *testing.T, p *agentProc) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if err := p.err; err != nil {
			t.Errorf("agent exited with %v on SIGTERM; want status 0\n%s", err, p.logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("agent did not stop on SIGTERM\n%s", p.logs)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("agent took %v to stop on SIGTERM (it waits on a long poll)", took)
	}
	t.Logf("agent log:\n%s", p.logs)
	if !strings.Contains(p.logs.String(), "agent stopped") {
		t.Errorf("no 'agent stopped' line:\n%s", p.logs)
	}
}

func TestAgentProcess(t *testing.T) {
	bin := buildMisetup(t)

	t.Run("with --server", func(t *testing.T) {
		root := t.TempDir()
		srv := startServe(t, bin, root, nil)
		laptop := linkDevice(t, srv.url, root, "desk-1")
		p := startAgentProc(t, bin, append(xdgEnv(root), "MISETUP_LOCATION=39.9,116.4"), "--server", srv.url)
		c := ringAndWait(t, laptop, "desk-1", p)
		if c.State != api.CommandDone || !strings.HasPrefix(c.Result, "rang") {
			t.Errorf("ring = %+v\n%s", c, p.logs)
		}
		stopAgent(t, p)
		if !strings.Contains(p.logs.String(), "ring done") {
			t.Errorf("the ring is not in the log:\n%s", p.logs)
		}
	})

	t.Run("built-in service beside another process on its SQLite file", func(t *testing.T) {
		root := t.TempDir()
		// serve opens the same file as the agent's built-in service (the
		// default store under XDG_DATA_HOME): the wizard's case.
		srv := startServe(t, bin, root, nil)
		laptop := linkDevice(t, srv.url, root, "desk-2")
		p := startAgentProc(t, bin, xdgEnv(root))
		start := time.Now()
		c := ringAndWait(t, laptop, "desk-2", p)
		if c.State != api.CommandDone {
			t.Errorf("ring = %+v\n%s", c, p.logs)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("a ring through another process took %v", took)
		}
		stopAgent(t, p)
	})

	t.Run("no session", func(t *testing.T) {
		root := t.TempDir()
		cmd := exec.Command(bin, "agent", "--server", "http://127.0.0.1:1")
		cmd.Env = xdgEnv(root)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitSignedOut || !strings.Contains(string(out), "not signed in") {
			t.Errorf("agent with no session: %v\n%s", err, out)
		}
	})
}
