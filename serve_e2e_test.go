package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"misetup/api"
	"misetup/server/servertest"
	"misetup/server/store"
	"misetup/server/store/storetest"
)

// buildMisetup builds the binary into a temporary folder of t.
func buildMisetup(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "misetup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// serveProc is a running `misetup serve`.
type serveProc struct {
	url  string
	cmd  *exec.Cmd
	logs *strings.Builder
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe starts `misetup serve` with env (added to a clean XDG
// environment under root) and args, and waits until it answers.
func startServe(t *testing.T, bin, root string, env []string, args ...string) *serveProc {
	t.Helper()
	return startServeAt(t, bin, freeAddr(t), append(xdgEnv(root), env...), args...)
}

// xdgEnv is this process's environment with the XDG folders under root.
func xdgEnv(root string) []string {
	return append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"),
		"XDG_DATA_HOME="+filepath.Join(root, "data"),
		"XDG_STATE_HOME="+filepath.Join(root, "state"),
		"XDG_CACHE_HOME="+filepath.Join(root, "cache"),
	)
}

// startServeAt starts `misetup serve` on addr with the environment env and
// args, and waits until it answers; it is stopped when t ends.
func startServeAt(t *testing.T, bin, addr string, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = env
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{url: "http://" + addr, cmd: cmd, logs: logs}
	t.Cleanup(func() { p.stop(t) })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(p.url + "/v1/status")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatalf("serve on %s did not answer: %v\n%s", addr, err, logs)
		}
	}
}

// stop ends the process with SIGTERM and waits for it; a second call does
// nothing.
func (p *serveProc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited: %v\n%s", err, p.logs)
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("serve did not stop on SIGTERM\n%s", p.logs)
	}
}

// ruleArgs are servertest's rules as --rule flags.
func ruleArgs() []string {
	var args []string
	for k, v := range servertest.Rules {
		args = append(args, "--rule", k+"="+v)
	}
	return args
}

// TestCodeSurvivesRestart sends a code, restarts the service (on SQLite,
// with no keys configured), and verifies the code: the keys the service
// made on first start are kept beside its database.
func TestCodeSurvivesRestart(t *testing.T) {
	bin := buildMisetup(t)
	root := t.TempDir()
	p := startServe(t, bin, root, nil)
	tg := &servertest.Target{URLs: []string{p.url}}
	c := tg.Register(t, "ann@example.com")
	code := lastCode(t, filepath.Join(root, "state", "misetup", "outbox.jsonl"), "ann@example.com")
	p.stop(t)

	keys := filepath.Join(root, "data", "misetup", "misetup.db.keys")
	if fi, err := os.Stat(keys); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file %s: %v, %v; want it made, mode 0600", keys, fi, err)
	}
	p = startServe(t, bin, root, nil)
	tg.URLs = []string{p.url}
	tg.Do(t, 0, "POST", "/v1/challenges/"+c.ID+"/verify", api.VerifyRequest{Code: code}, "").Into(t, http.StatusOK, nil)
}

// TestPostgresNeedsKeys: a service on PostgreSQL with no keys configured
// refuses to start, and says how to set them.
func TestPostgresNeedsKeys(t *testing.T) {
	dsn := storetest.FreshSchema(t, storetest.PostgresDSN(t))
	bin := buildMisetup(t)
	root := t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", freeAddr(t), "--db", dsn)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+root, "XDG_DATA_HOME="+root, "XDG_STATE_HOME="+root)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "misetup serve keygen") || !strings.Contains(string(out), envKeyHMAC) {
		t.Errorf("serve on PostgreSQL without keys: %v\n%s", err, out)
	}
}

// TestTwoServersOnePostgres runs the rule battery against two `misetup
// serve` processes on one PostgreSQL database, each burst's requests
// alternating between them: they behave as one service. Each rule gets a
// fresh database (schema) and two fresh processes.
func TestTwoServersOnePostgres(t *testing.T) {
	base := storetest.PostgresDSN(t)
	bin := buildMisetup(t)
	keysOut, err := exec.Command(bin, "serve", "keygen").Output()
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	var env []string
	for _, line := range strings.Split(string(keysOut), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " = ")
		v = strings.Trim(v, `"`)
		switch {
		case ok && k == "hmac":
			env = append(env, envKeyHMAC+"="+v)
		case ok && k == "totp":
			env = append(env, envKeyTOTP+"="+v)
		}
	}
	if len(env) != 2 {
		t.Fatalf("keygen printed no keys:\n%s", keysOut)
	}
	servertest.Run(t, func(t *testing.T) *servertest.Target {
		dsn := storetest.FreshSchema(t, base)
		root := t.TempDir() // one outbox for both
		// A public address, so the hand-off rules run too.
		args := append([]string{"--db", dsn, "--public-url", "https://store.example.com"}, ruleArgs()...)
		a := startServe(t, bin, root, env, args...)
		b := startServe(t, bin, root, env, args...)
		st, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		outbox := filepath.Join(root, "state", "misetup", "outbox.jsonl")
		return &servertest.Target{
			URLs: []string{a.url, b.url},
			Code: func(t testing.TB, to string) string { return lastCode(t.(*testing.T), outbox, to) },
			Wait: time.Sleep,
			Now:  time.Now,
			Audit: func(t testing.TB, miID, event string) int {
				return servertest.CountEvents(t, st, miID, event)
			},
		}
	})
}

// TestServeOverTLS: with --tls-cert and --tls-key the service and its
// portal answer HTTPS only, and the portal says so to browsers (HSTS).
func TestServeOverTLS(t *testing.T) {
	bin := buildMisetup(t)
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Env = xdgEnv(t.TempDir())
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{url: "https://" + addr, cmd: cmd, logs: logs}
	t.Cleanup(func() { p.stop(t) })
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err = hc.Get(p.url + "/signin"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS answer: %v\n%s", err, logs)
		}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET /signin over TLS: %d %v", resp.StatusCode, resp.Header)
	}
	if r, err := http.Get("http://" + addr + "/v1/status"); err == nil {
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Error("plain HTTP is answered too")
		}
	}
	p.stop(t)
	if !strings.Contains(logs.String(), "https://"+addr) {
		t.Errorf("the log does not say https:\n%s", logs)
	}
}
