package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/adrg/xdg"
	"github.com/spf13/cobra"

	"misetup/flows"
	"misetup/server"
	"misetup/server/bucket"
	"misetup/server/courier"
	"misetup/server/store"
)

// config is misetup's configuration: defaults, then the config file, then
// environment variables, then flags, each overriding the one before.
type config struct {
	Server string `toml:"server"` // URL of a remote account service; "" runs it in-process
	Lang   string `toml:"lang"`

	Serve serveConfig `toml:"serve"`
	Agent agentConfig `toml:"agent"`
	Rules rulesConfig `toml:"rules"`
	Keys  keysConfig  `toml:"keys"`
	Kiosk kioskConfig `toml:"kiosk"` // sshconfig.go
	// Cloud are the folders of Mi Cloud's categories on this device, by
	// category ("" turns one off here); cloud.go has the defaults.
	Cloud map[string]string `toml:"cloud"`
	// Defaults are a store's answers, pre-filled in the wizard
	// (defaults.go).
	Defaults defaultsConfig `toml:"defaults"`

	// Resolved directories (not from the file).
	dataDir, stateDir, cacheDir string
}

// serveConfig configures `misetup serve` and the embedded service.
type serveConfig struct {
	Addr    string        `toml:"addr"`
	DB      string        `toml:"db"`      // SQLite path or postgres:// URL
	Courier string        `toml:"courier"` // outbox, smtp or webhook (email by smtp, sms by webhook when both are set)
	SMTP    smtpConfig    `toml:"smtp"`
	Webhook webhookConfig `toml:"webhook"`
	// SSH serves the wizard over SSH; LogFormat is text or json
	// (sshconfig.go).
	SSH       sshServeConfig `toml:"ssh"`
	LogFormat string         `toml:"log_format"`
	// PublicURL is the address people reach this service at (the web
	// portal, a kiosk's hand-off link), such as https://store.example.com.
	PublicURL string `toml:"public_url"`
	// Blobs is where Mi Cloud's files (photos, recordings) are kept: a
	// bucket URL (server/bucket), file:///a/folder or s3://bucket?endpoint=...
	// for a fleet; default a folder beside the SQLite store.
	Blobs string `toml:"blobs"`
	// TLSCert and TLSKey, both set, serve HTTPS instead of HTTP.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
}

// agentConfig configures `misetup agent`.
type agentConfig struct {
	// Location is where this device is, as a locate command reports it:
	// "lat,lon" or "lat,lon,accuracy_m"; "" reports it unknown.
	Location string `toml:"location"`
}

type smtpConfig struct {
	Addr       string `toml:"addr"`
	From       string `toml:"from"`
	Username   string `toml:"username"`
	Password   string `toml:"password"`
	RequireTLS bool   `toml:"require_tls"`
}

type webhookConfig struct {
	URL   string `toml:"url"`
	Token string `toml:"token"`
}

const appName = "misetup"

// loadConfig reads the configuration (readConfig) and makes misetup's
// folders under the XDG dirs.
func loadConfig(cmd *cobra.Command) (*config, error) {
	cfg, err := readConfig(cmd)
	if err != nil {
		return nil, err
	}
	if err := cfg.makeDirs(); err != nil {
		return nil, err
	}
	// A device signed in to a service goes on using it (the config file,
	// the environment and then --server come first): a wizard run with
	// --server, then misetup cloud sync without it, spoke to the built-in
	// service, which did not know the session.
	if cfg.Server == "" {
		if cfg.Server, err = (flows.Files{Dir: cfg.stateDir}).SessionService(); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// readConfig reads the config file (if any) and the environment, making
// nothing. Flags are applied by each command, since they own them.
func readConfig(cmd *cobra.Command) (*config, error) {
	xdg.Reload()
	cfg := &config{
		Serve:    serveConfig{Addr: "127.0.0.1:8417", Courier: "outbox"},
		Rules:    defaultRules(),
		dataDir:  filepath.Join(xdg.DataHome, appName),
		stateDir: filepath.Join(xdg.StateHome, appName),
		cacheDir: filepath.Join(xdg.CacheHome, appName),
	}

	path, _ := cmd.Flags().GetString("config")
	explicit := path != ""
	if !explicit {
		path = filepath.Join(xdg.ConfigHome, appName, "config.toml")
	}
	md, err := toml.DecodeFile(path, cfg)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	case err != nil:
		return nil, fmt.Errorf("config file %s: %w", path, err)
	default:
		if undecoded := md.Undecoded(); len(undecoded) > 0 {
			return nil, fmt.Errorf("config file %s: unknown setting %q", path, undecoded[0].String())
		}
		if err := cfg.Defaults.check(); err != nil {
			return nil, fmt.Errorf("config file %s: [defaults] %w", path, err)
		}
	}

	env := map[string]*string{
		"MISETUP_SERVER":        &cfg.Server,
		"MISETUP_LANG":          &cfg.Lang,
		"MISETUP_ADDR":          &cfg.Serve.Addr,
		"MISETUP_DB":            &cfg.Serve.DB,
		"MISETUP_COURIER":       &cfg.Serve.Courier,
		"MISETUP_SMTP_ADDR":     &cfg.Serve.SMTP.Addr,
		"MISETUP_SMTP_FROM":     &cfg.Serve.SMTP.From,
		"MISETUP_SMTP_USER":     &cfg.Serve.SMTP.Username,
		"MISETUP_SMTP_PASS":     &cfg.Serve.SMTP.Password,
		"MISETUP_WEBHOOK_URL":   &cfg.Serve.Webhook.URL,
		"MISETUP_WEBHOOK_TOKEN": &cfg.Serve.Webhook.Token,
		"MISETUP_PUBLIC_URL":    &cfg.Serve.PublicURL,
		"MISETUP_BLOBS":         &cfg.Serve.Blobs,
		"MISETUP_TLS_CERT":      &cfg.Serve.TLSCert,
		"MISETUP_TLS_KEY":       &cfg.Serve.TLSKey,
		"MISETUP_LOCATION":      &cfg.Agent.Location,
	}
	for name, dst := range env {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			*dst = v
		}
	}
	cfg.Keys.fromEnv()
	if cfg.Serve.DB == "" {
		cfg.Serve.DB = filepath.Join(cfg.dataDir, "misetup.db")
	}
	return cfg, nil
}

// makeDirs makes misetup's data, state and cache folders, mode 0700.
func (c *config) makeDirs() error {
	for _, dir := range []string{c.dataDir, c.stateDir, c.cacheDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return nil
}

// outboxPath is where the outbox courier writes codes.
func (c *config) outboxPath() string { return filepath.Join(c.stateDir, "outbox.jsonl") }

// courier builds the courier the config names.
func (c *config) courier() (courier.Courier, error) {
	switch strings.ToLower(c.Serve.Courier) {
	case "", "outbox":
		return courier.NewOutbox(c.outboxPath()), nil
	case "smtp", "webhook":
		var r courier.Router
		if c.Serve.SMTP.Addr != "" {
			r.Email = courier.NewSMTP(courier.SMTPConfig{
				Addr: c.Serve.SMTP.Addr, From: c.Serve.SMTP.From,
				Username: c.Serve.SMTP.Username, Password: c.Serve.SMTP.Password,
				RequireTLS: c.Serve.SMTP.RequireTLS,
			})
		}
		if c.Serve.Webhook.URL != "" {
			r.SMS = courier.NewWebhook(courier.WebhookConfig{URL: c.Serve.Webhook.URL, Token: c.Serve.Webhook.Token})
		}
		if r.Email == nil && r.SMS == nil {
			return nil, fmt.Errorf("courier %q: set [serve.smtp] addr or [serve.webhook] url", c.Serve.Courier)
		}
		return r, nil
	default:
		return nil, fmt.Errorf("courier %q: want outbox, smtp or webhook", c.Serve.Courier)
	}
}

// openService opens the store and builds the account service on it. The
// returned close func stops deliveries and closes the store. With logPath
// set, what the service cannot tell a client (a courier's failure) is
// logged to that file instead of stderr, where it would be drawn over the
// wizard or mixed into doctor's table.
func (c *config) openService(ctx context.Context, logPath string) (*server.Server, func() error, error) {
	scfg, err := c.Rules.apply(server.DefaultConfig())
	if err != nil {
		return nil, nil, err
	}
	return c.openServiceWith(ctx, scfg, logPath)
}

// openServiceWith is openService with the rules applied to scfg; it adds
// the keys (configured, or the keys file beside a SQLite store, made on
// first start).
func (c *config) openServiceWith(ctx context.Context, scfg server.Config, logPath string) (*server.Server, func() error, error) {
	var err error
	if scfg.Keys, err = c.serverKeys(); err != nil {
		return nil, nil, err
	}
	if scfg.BlobURL == "" {
		scfg.BlobURL = c.blobURL()
	}
	cour, err := c.courier()
	if err != nil {
		return nil, nil, err
	}
	closeLog := func() error { return nil }
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("service log: %w", err)
		}
		scfg.Logger = slog.New(slog.NewTextHandler(f, nil))
		closeLog = f.Close
	}
	st, err := store.Open(ctx, c.Serve.DB)
	if err != nil {
		closeLog()
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	srv, err := server.New(st, cour, scfg)
	if err != nil {
		st.Close()
		closeLog()
		return nil, nil, err
	}
	closeFn := func() error {
		return errors.Join(srv.Close(context.Background()), st.Close(), closeLog())
	}
	return srv, closeFn, nil
}

// blobURL is the bucket of Mi Cloud's files: the configured one, else a
// folder in the XDG data dir.
func (c *config) blobURL() string {
	if c.Serve.Blobs != "" {
		return c.Serve.Blobs
	}
	return bucket.FolderURL(filepath.Join(c.dataDir, "blobs"))
}

// serviceLog is where the embedded service (wizard, doctor) logs.
func (c *config) serviceLog() string { return filepath.Join(c.stateDir, "service.log") }

// wizardFlags are the root command's own flags.
type wizardFlags struct {
	server, lang string
	accessible   bool
	answers      string // --answers FILE: the store's defaults (defaults.go)
}

// wizardEnv builds what the wizard needs from the config, the flags and the
// process's terminal.
func (c *config) wizardEnv(cmd *cobra.Command, f wizardFlags) wizardEnv {
	if f.server != "" {
		c.Server = f.server
	}
	if f.lang != "" {
		c.Lang = f.lang
	}
	return wizardEnv{
		ServerURL:  c.Server,
		Lang:       c.Lang,
		DataDir:    c.dataDir,
		StateDir:   c.stateDir,
		Folders:    c.folders(),
		CacheDir:   c.cacheDir,
		Accessible: f.accessible || os.Getenv("ACCESSIBLE") != "",
		In:         cmd.InOrStdin(),
		Out:        cmd.OutOrStdout(),
		Environ:    os.Environ(),
		Embedded: func(ctx context.Context) (http.Handler, func() error, error) {
			srv, closeFn, err := c.openService(ctx, c.serviceLog())
			if err != nil {
				return nil, nil, err
			}
			return srv, closeFn, nil
		},
	}
}

// redactDSN hides the password of a postgres:// URL for printing.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
