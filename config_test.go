package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"
	"github.com/spf13/cobra"

	"misetup/flows"
	"misetup/server"
	"misetup/server/courier"
)

// isolateXDG points every XDG directory into a temporary folder.
func isolateXDG(t *testing.T) string {
	t.Helper()
	t.Cleanup(xdg.Reload) // registered first: runs after the Setenv restores
	root := t.TempDir()
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"} {
		t.Setenv(v, filepath.Join(root, strings.ToLower(v)))
	}
	for _, v := range []string{"MISETUP_SERVER", "MISETUP_LANG", "MISETUP_ADDR", "MISETUP_DB", "MISETUP_COURIER"} {
		t.Setenv(v, "")
	}
	xdg.Reload()
	return root
}

func writeConfig(t *testing.T, root, text string) {
	t.Helper()
	dir := filepath.Join(root, "xdg_config_home", "misetup")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveFor parses args with the serve command's flags and loads the config
// the way serve does, without running it.
func serveFor(t *testing.T, args ...string) (*config, error) {
	t.Helper()
	cmd := newServeCmd()
	cmd.PersistentFlags().String("config", "", "")
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	var f serveFlags
	for name, dst := range map[string]*string{"addr": &f.addr, "db": &f.db, "courier": &f.courier,
		"public-url": &f.publicURL, "tls-cert": &f.tlsCert, "tls-key": &f.tlsKey} {
		*dst, _ = cmd.Flags().GetString(name)
	}
	return loadServeConfig(cmd, f)
}

func TestConfigDefaultsNeedNoFile(t *testing.T) {
	root := isolateXDG(t)
	cfg, err := serveFor(t)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Serve.Addr != "127.0.0.1:8417" || cfg.Serve.Courier != "outbox" {
		t.Errorf("defaults: addr %q courier %q", cfg.Serve.Addr, cfg.Serve.Courier)
	}
	if want := filepath.Join(root, "xdg_data_home", "misetup", "misetup.db"); cfg.Serve.DB != want {
		t.Errorf("db = %q, want %q", cfg.Serve.DB, want)
	}
	if want := filepath.Join(root, "xdg_state_home", "misetup", "outbox.jsonl"); cfg.outboxPath() != want {
		t.Errorf("outbox = %q, want %q", cfg.outboxPath(), want)
	}
	// serve reads its configuration making nothing (its first answer does
	// not wait for folders), and makes its folders as its store opens.
	for _, dir := range []string{cfg.dataDir, cfg.stateDir, cfg.cacheDir} {
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s before the store opens: %v; want nothing made yet", dir, err)
		}
	}
	_, closeFn, err := openServe(context.Background(), cfg, server.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	for _, dir := range []string{cfg.dataDir, cfg.stateDir, cfg.cacheDir} {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v; want a 0700 dir", dir, err)
		}
	}
	c, err := cfg.courier()
	if _, ok := c.(*courier.Outbox); err != nil || !ok {
		t.Errorf("courier = %T, %v; want the outbox", c, err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	root := isolateXDG(t)
	writeConfig(t, root, `
server = "http://file.example:1"
[serve]
addr = "127.0.0.1:1111"
db = "/file/db"
[rules]
code_ttl = "5m"
sign_in_failures = 3
`)
	t.Setenv("MISETUP_ADDR", "127.0.0.1:2222")
	cfg, err := serveFor(t, "--db", "/flag/db", "--rule", "sign_in_failures=7")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != "http://file.example:1" {
		t.Errorf("server from the file = %q", cfg.Server)
	}
	if cfg.Serve.Addr != "127.0.0.1:2222" {
		t.Errorf("env must beat the file: addr = %q", cfg.Serve.Addr)
	}
	if cfg.Serve.DB != "/flag/db" {
		t.Errorf("a flag must beat the file: db = %q", cfg.Serve.DB)
	}
	sc, err := cfg.Rules.apply(server.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if sc.CodeTTL != 5*time.Minute {
		t.Errorf("code_ttl from the file = %v", sc.CodeTTL)
	}
	if sc.SignInFailures != 7 {
		t.Errorf("--rule must beat the file: sign_in_failures = %d", sc.SignInFailures)
	}
	if sc.CodeAttempts != 5 {
		t.Errorf("unset rules keep their default: code_attempts = %d", sc.CodeAttempts)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		name, file string
		args       []string
		want       string
	}{
		{"unknown file setting", "[serve]\nadress = \"x\"\n", nil, `unknown setting "serve.adress"`},
		{"broken toml", "[serve\n", nil, "config file"},
		{"unknown rule", "", []string{"--rule", "bogus=1"}, `rule "bogus": unknown`},
		{"bad duration", "", []string{"--rule", "code_ttl=soon"}, "rule code_ttl"},
		{"bad number", "[rules]\ncode_attempts = \"many\"\n", nil, "rule code_attempts"},
		{"no equals", "", []string{"--rule", "code_ttl"}, "want key=value"},
		{"public url not an address", "", []string{"--public-url", "store.example.com"}, "public_url (--public-url, MISETUP_PUBLIC_URL)"},
		{"public url with a path", "[serve]\npublic_url = \"https://store.example.com/portal?x=1\"\n", nil, "public_url"},
		{"tls cert without key", "", []string{"--tls-cert", "/nonexistent.pem"}, "give both files"},
		{"tls files missing", "", []string{"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"}, "tls_cert, tls_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := isolateXDG(t)
			if tt.file != "" {
				writeConfig(t, root, tt.file)
			}
			cfg, err := serveFor(t, tt.args...)
			if err == nil {
				_, err = cfg.Rules.apply(server.DefaultConfig())
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestCourierChoice(t *testing.T) {
	isolateXDG(t)
	cfg, err := serveFor(t)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Serve.Courier = "webhook"
	if _, err := cfg.courier(); err == nil {
		t.Error("webhook courier with no URL must be refused")
	}
	cfg.Serve.Webhook.URL = "http://127.0.0.1:9/send"
	c, err := cfg.courier()
	if r, ok := c.(courier.Router); err != nil || !ok || r.SMS == nil || r.Email != nil {
		t.Errorf("courier = %#v, %v; want a router with SMS only", c, err)
	}
	cfg.Serve.Courier = "pigeon"
	if _, err := cfg.courier(); err == nil || !strings.Contains(err.Error(), "pigeon") {
		t.Errorf("unknown courier: %v", err)
	}
}

func TestRedactDSN(t *testing.T) {
	got := redactDSN("postgres://misetup:s3cret@db:5432/misetup?sslmode=disable")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "misetup:xxxxx@db") {
		t.Errorf("redactDSN = %q", got)
	}
	if got := redactDSN("/var/lib/misetup.db"); got != "/var/lib/misetup.db" {
		t.Errorf("a path must stay: %q", got)
	}
}

// TestSignedInServiceIsKept: a device signed in to a service through the
// wizard (its --server) uses that service in the commands that follow
// (misetup cloud sync, account, agent) without --server; the environment
// and the config file come first.
func TestSignedInServiceIsKept(t *testing.T) {
	root := isolateXDG(t)
	load := func() *config {
		t.Helper()
		cmd := &cobra.Command{}
		cmd.Flags().String("config", "", "")
		cfg, err := loadConfig(cmd)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if cfg := load(); cfg.Server != "" {
		t.Fatalf("no session, no setting: server %q, want the built-in service", cfg.Server)
	}
	if err := (flows.Files{Dir: load().stateDir, Service: "http://store.example:8417"}).SaveToken("tok"); err != nil {
		t.Fatal(err)
	}
	if cfg := load(); cfg.Server != "http://store.example:8417" {
		t.Errorf("signed in to http://store.example:8417: server %q", cfg.Server)
	}
	t.Setenv("MISETUP_SERVER", "http://env.example:1")
	if cfg := load(); cfg.Server != "http://env.example:1" {
		t.Errorf("with MISETUP_SERVER: server %q, want the environment's", cfg.Server)
	}
	t.Setenv("MISETUP_SERVER", "")
	writeConfig(t, root, "server = \"http://file.example:1\"\n")
	if cfg := load(); cfg.Server != "http://file.example:1" {
		t.Errorf("with the config file's server: %q", cfg.Server)
	}
}

// TestErrorEndsWithOnePeriod: an error whose message (the service's) ends
// with a period is printed with one, not two.
func TestErrorEndsWithOnePeriod(t *testing.T) {
	isolateXDG(t)
	cfg, err := loadConfig(func() *cobra.Command { c := &cobra.Command{}; c.Flags().String("config", "", ""); return c }())
	if err != nil {
		t.Fatal(err)
	}
	if err := (flows.Files{Dir: cfg.stateDir}).SaveToken("not-a-session"); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"cloud", "sync", "--once"}, strings.NewReader(""), &out, &errOut); code == 0 {
		t.Fatalf("sync with an unknown session exited 0:\n%s", errOut.String())
	}
	msg := errOut.String()
	if !strings.Contains(msg, "unknown.") || strings.Contains(msg, "..") {
		t.Errorf("the error, want one period at its end:\n%s", msg)
	}
}
