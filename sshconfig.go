package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// sshServeConfig is the [serve.ssh] table: the wizard served over SSH to a
// store's terminals by `misetup serve --ssh ADDR`.
type sshServeConfig struct {
	// Addr is where SSH is served, such as "127.0.0.1:2222"; "" is off.
	Addr string `toml:"addr"`
	// AuthorizedKeys is an authorized_keys file: with it, only its keys
	// connect, and a key's comment is its terminal's kiosk id. Without it,
	// any client connects and the SSH user name is the kiosk id.
	AuthorizedKeys string `toml:"authorized_keys"`
	// HostKey is the server's ed25519 key (made there on first start);
	// default $XDG_DATA_HOME/misetup/ssh/host_ed25519.
	HostKey string `toml:"host_key"`
	// MaxSessions is how many wizards run at once (default 64); the next
	// terminal is told they are all busy.
	MaxSessions int `toml:"max_sessions"`
	// Drain is how long SSH sessions have to finish after SIGTERM
	// (default "30s"), told so in one line, before they are signed out and
	// closed.
	Drain string `toml:"drain"`
}

// kioskConfig is the [kiosk] table. Store is the store id sent with every
// request of a kiosk (X-Misetup-Store): the SSH wizard's sessions, and
// later misetup --kiosk.
type kioskConfig struct {
	Store string `toml:"store"`
	// kioskTerminal are the keys of misetup --kiosk (kiosk.go).
	kioskTerminal
}

const (
	defaultSSHMaxSessions = 64
	defaultSSHDrain       = 30 * time.Second
)

// sshFlags are serve's flags of the SSH wizard and of its logs.
type sshFlags struct {
	addr, authorizedKeys, hostKey, drain, logFormat, store string
	maxSessions                                            int
}

// addSSHFlags defines them on fs.
func addSSHFlags(fs *pflag.FlagSet) *sshFlags {
	f := &sshFlags{}
	fs.StringVar(&f.addr, "ssh", "", "also serve the wizard over SSH on this address, such as 127.0.0.1:2222 (env MISETUP_SSH_ADDR; default off)")
	fs.StringVar(&f.authorizedKeys, "ssh-authorized-keys", "", "only these keys may connect over SSH; a key's comment names its terminal (env MISETUP_SSH_AUTHORIZED_KEYS)")
	fs.StringVar(&f.hostKey, "ssh-host-key", "", "the SSH host key, made on first start (default $XDG_DATA_HOME/misetup/ssh/host_ed25519)")
	fs.IntVar(&f.maxSessions, "ssh-max-sessions", defaultSSHMaxSessions, "wizards served over SSH at once; the next terminal is told all are busy")
	fs.StringVar(&f.drain, "ssh-drain", defaultSSHDrain.String(), "on SIGTERM, how long SSH sessions have to finish before they are signed out")
	fs.StringVar(&f.store, "store-id", "", "this store's id, sent with every request of an SSH session (env MISETUP_STORE; config [kiosk] store)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log lines as text or json (env MISETUP_LOG_FORMAT)")
	return f
}

// sshSettings are the SSH wizard's settings, resolved.
type sshSettings struct {
	Addr, AuthorizedKeys, HostKey, Store string
	MaxSessions                          int
	Drain                                time.Duration
	// Kiosk is kiosk mode's clocks and staff PIN for every session.
	Kiosk kioskTerminal
	// Defaults are the store's answers ([defaults]) for every session.
	Defaults defaultsConfig
	// PublicURL is the service's public address ([serve] public_url): a
	// customer's phone opens a kiosk's hand-off link there. "" when none.
	PublicURL string
}

// apply resolves the settings: the config file, then the environment, then
// the flags. It also returns the log format.
func (f *sshFlags) apply(fs *pflag.FlagSet, cfg *config) (sshSettings, string, error) {
	c := cfg.Serve.SSH
	s := sshSettings{Addr: c.Addr, AuthorizedKeys: c.AuthorizedKeys, HostKey: c.HostKey, Store: cfg.Kiosk.Store, MaxSessions: c.MaxSessions,
		Kiosk: cfg.Kiosk.kioskTerminal, Defaults: cfg.Defaults, PublicURL: cfg.Serve.PublicURL}
	if _, err := s.Kiosk.uiKiosk(nil, nil); err != nil {
		return s, "", err // a wrong clock is said at start, not at the first customer
	}
	logFormat := cfg.Serve.LogFormat
	drain := c.Drain
	for name, dst := range map[string]*string{
		"MISETUP_SSH_ADDR":            &s.Addr,
		"MISETUP_SSH_AUTHORIZED_KEYS": &s.AuthorizedKeys,
		"MISETUP_STORE":               &s.Store,
		"MISETUP_LOG_FORMAT":          &logFormat,
	} {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			*dst = v
		}
	}
	set := func(name string, dst *string, v string) {
		if fs.Changed(name) {
			*dst = v
		}
	}
	set("ssh", &s.Addr, f.addr)
	set("ssh-authorized-keys", &s.AuthorizedKeys, f.authorizedKeys)
	set("ssh-host-key", &s.HostKey, f.hostKey)
	set("ssh-drain", &drain, f.drain)
	set("store-id", &s.Store, f.store)
	set("log-format", &logFormat, f.logFormat)
	if fs.Changed("ssh-max-sessions") {
		s.MaxSessions = f.maxSessions
	}

	if s.MaxSessions == 0 {
		s.MaxSessions = defaultSSHMaxSessions
	}
	if s.MaxSessions < 0 {
		return s, "", fmt.Errorf("ssh max sessions %d: want 1 or more", s.MaxSessions)
	}
	s.Drain = defaultSSHDrain
	if drain != "" {
		d, err := time.ParseDuration(drain)
		if err != nil || d < 0 {
			return s, "", fmt.Errorf("ssh drain %q: want a duration such as 30s", drain)
		}
		s.Drain = d
	}
	if s.HostKey == "" {
		s.HostKey = filepath.Join(cfg.dataDir, "ssh", "host_ed25519")
	}
	if s.AuthorizedKeys != "" {
		if _, err := loadAuthorizedKeys(s.AuthorizedKeys); err != nil {
			return s, "", err
		}
	}
	if strings.ContainsAny(s.Store, "\r\n") || len(s.Store) > 64 {
		return s, "", fmt.Errorf("store id %q: one line of at most 64 bytes", s.Store)
	}
	switch logFormat {
	case "", "text", "json":
	default:
		return s, "", fmt.Errorf("log format %q: want text or json", logFormat)
	}
	return s, logFormat, nil
}

// newLogger is serve's logger on w: text (logfmt) or JSON lines.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
