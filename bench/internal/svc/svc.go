// Package svc starts a real `misetup serve` for the bench programs, in XDG
// dirs of its own, and drives its API as a client would: registrations, the
// code from the outbox, verification with a device, sign-in.
package svc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Server is a running misetup serve.
type Server struct {
	Cmd    *exec.Cmd
	URL    string // http://127.0.0.1:PORT
	Addr   string
	Root   string // its XDG dirs are under Root
	Outbox string // $XDG_STATE_HOME/misetup/outbox.jsonl
	Log    string // its standard output and error
	Start  time.Time
}

// Env is the environment of a process whose XDG dirs are under root.
func Env(root string, extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(root, "home"),
		"LANG=en_US.UTF-8", "XDG_DATA_HOME=" + filepath.Join(root, "data"),
		"XDG_STATE_HOME=" + filepath.Join(root, "state"), "XDG_CACHE_HOME=" + filepath.Join(root, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(root, "config")}, extra...)
}

// FreeAddr is a free 127.0.0.1 port's address.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Launch starts bin serve in the XDG dirs under root on addr (a free one
// when ""), with extra arguments (--db …) and environment, without waiting
// for it.
func Launch(bin, root, addr string, args, env []string) (*Server, error) {
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	s := &Server{URL: "http://" + addr, Addr: addr, Root: root,
		Outbox: filepath.Join(root, "state", "misetup", "outbox.jsonl"), Log: filepath.Join(root, "serve.log")}
	log, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	s.Cmd = exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	s.Cmd.Env = Env(root, env...)
	s.Cmd.Stdout, s.Cmd.Stderr = log, log
	s.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.Start = time.Now()
	if err := s.Cmd.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Serve starts bin serve and waits until GET /v1/status answers 200.
func Serve(bin, root string, args, env []string) (*Server, error) {
	s, err := Launch(bin, root, "", args, env)
	if err != nil {
		return nil, err
	}
	if _, err := WaitStatus(s.URL, 20*time.Second); err != nil {
		s.Kill()
		b, _ := os.ReadFile(s.Log)
		return nil, fmt.Errorf("%w; its log:\n%s", err, b)
	}
	return s, nil
}

var quick = &http.Client{Timeout: time.Second}

// WaitStatus polls GET url/v1/status until it answers 200 and returns the
// time that took. It tries again every 100 µs (pause).
func WaitStatus(url string, timeout time.Duration) (time.Duration, error) {
	t0 := time.Now()
	for time.Since(t0) < timeout {
		if resp, err := quick.Get(url + "/v1/status"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0), nil
			}
		}
		pause(100 * time.Microsecond)
	}
	return 0, fmt.Errorf("%s/v1/status did not answer 200 within %v", url, timeout)
}

// pause sleeps d in this thread (nanosleep). A time.Sleep below a
// millisecond lasts a millisecond or more when no other timer is due (the
// runtime's poller waits whole milliseconds), which added up to a
// millisecond, half of one on average, to every start measured by polling,
// a bare server's included: a fifth of what they measure.
func pause(d time.Duration) {
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	_ = syscall.Nanosleep(&ts, nil)
}

// Kill ends the server with SIGKILL and waits for it.
func (s *Server) Kill() {
	_ = syscall.Kill(-s.Cmd.Process.Pid, syscall.SIGKILL)
	_ = s.Cmd.Wait()
}

// Stop ends the server with SIGTERM (a graceful stop) and waits for it.
func (s *Server) Stop() error {
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.Cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		s.Kill()
		return errors.New("serve did not stop within 10 s of SIGTERM")
	}
}

// Client calls the API of a server.
type Client struct {
	URL  string
	HTTP *http.Client
}

// NewClient returns a client of url with its own connections.
func NewClient(url string) *Client {
	return &Client{URL: url, HTTP: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.HTTP.CloseIdleConnections() }

// Do sends a request with a JSON body (nil for none) and a token ("" for
// none), decodes a JSON answer into out (nil to drop it) and returns the
// status.
func (c *Client) Do(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return resp.StatusCode, nil
}

// Device is the device a verification or a sign-in links.
type Device struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Model string `json:"model,omitempty"`
	OS    string `json:"os,omitempty"`
}

// Register asks for a registration of email and returns the challenge id.
func (c *Client) Register(ctx context.Context, email, password string) (string, int, error) {
	var ch struct {
		ID string `json:"id"`
	}
	st, err := c.Do(ctx, "POST", "/v1/registrations", "", map[string]string{
		"method": "email", "identifier": email, "password": password, "language": "en"}, &ch)
	return ch.ID, st, err
}

// Verify verifies a registration's code on a device and returns the
// session token and the Mi ID.
func (c *Client) Verify(ctx context.Context, challenge, code string, dev Device) (token, miID string, err error) {
	var ans struct {
		Account struct {
			MiID string `json:"mi_id"`
		} `json:"account"`
		Session struct {
			Token string `json:"token"`
		} `json:"session"`
	}
	_, err = c.Do(ctx, "POST", "/v1/challenges/"+challenge+"/verify", "", map[string]any{"code": code, "device": dev}, &ans)
	return ans.Session.Token, ans.Account.MiID, err
}

// SignIn signs in on a device and returns the session token.
func (c *Client) SignIn(ctx context.Context, identifier, password string, dev Device) (string, int, error) {
	var ans struct {
		Token string `json:"token"`
	}
	st, err := c.Do(ctx, "POST", "/v1/sessions", "", map[string]any{"identifier": identifier, "password": password, "device": dev}, &ans)
	return ans.Token, st, err
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// Code reads the newest code the outbox holds for to, waiting for it up to
// 10 s.
func Code(outbox, to string) (string, error) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		f, err := os.Open(outbox)
		if err != nil {
			continue
		}
		code := ""
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if !bytes.Contains(sc.Bytes(), []byte(to)) {
				continue
			}
			var m struct{ To, Body string }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.To == to {
				if c := codeRE.FindStringSubmatch(m.Body); c != nil {
					code = c[1]
				}
			}
		}
		f.Close()
		if code != "" {
			return code, nil
		}
	}
	return "", fmt.Errorf("no code for %s in %s", to, outbox)
}

// NewAccount registers email, verifies it with the code from the outbox on
// dev and returns the session token.
func (c *Client) NewAccount(ctx context.Context, outbox, email, password string, dev Device) (string, error) {
	id, _, err := c.Register(ctx, email, password)
	if err != nil {
		return "", err
	}
	code, err := Code(outbox, email)
	if err != nil {
		return "", err
	}
	token, _, err := c.Verify(ctx, id, code, dev)
	return token, err
}

// TempRoot is a new temporary folder for a server's XDG dirs.
func TempRoot(name string) (string, error) {
	return os.MkdirTemp("", "misetup-"+strings.ReplaceAll(name, "/", "-")+"-")
}
