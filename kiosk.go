package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/adrg/xdg"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"misetup/server/policy"
	"misetup/ui"
)

// kioskTerminal is the [kiosk] table's keys of misetup --kiosk: a store
// terminal where strangers take turns.
type kioskTerminal struct {
	// ID names this terminal (X-Misetup-Kiosk); default the host name.
	ID string `toml:"id"`
	// PINHash is the staff PIN's argon2id hash, set by misetup kiosk pin;
	// never the PIN.
	PINHash string `toml:"pin_hash"`
	// Idle, Countdown and HandBack are kiosk mode's clocks (Go durations:
	// "120s", "20s", "30s" when empty).
	Idle      string `toml:"idle"`
	Countdown string `toml:"countdown"`
	HandBack  string `toml:"hand_back"`
}

// needPIN refuses a kiosk that could not be left: misetup --kiosk on a
// terminal needs the staff PIN (an SSH session ends when its client goes).
func (k kioskTerminal) needPIN() error {
	if k.PINHash == "" {
		return errors.New("kiosk mode needs a staff PIN to leave it: set one with misetup kiosk pin")
	}
	return nil
}

// uiKiosk is kiosk mode as the wizard takes it. signOut ends the
// customer's session at the service; reset hears each reset's cause (the
// metrics), nil when nobody listens. Without a PIN, ctrl+c never leaves.
func (k kioskTerminal) uiKiosk(signOut func(ctx context.Context, token string) error, reset func(cause string)) (*ui.Kiosk, error) {
	out := &ui.Kiosk{SignOut: signOut, Reset: reset}
	if k.PINHash != "" {
		out.CheckPIN = func(pin string) bool {
			ok, err := policy.VerifyPassword(pin, k.PINHash)
			return ok && err == nil
		}
	}
	for _, d := range []struct {
		name, value string
		dst         *time.Duration
	}{{"idle", k.Idle, &out.IdleAfter}, {"countdown", k.Countdown, &out.Countdown}, {"hand_back", k.HandBack, &out.HandBack}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("[kiosk] %s = %q: want a duration such as \"90s\"", d.name, d.value)
		}
		*d.dst = v
	}
	return out, nil
}

// kioskEnv is what misetup --kiosk hands the wizard.
type kioskEnv struct {
	terminal  kioskTerminal
	id, store string // X-Misetup-Kiosk and X-Misetup-Store
}

// kioskID is this terminal's kiosk id: the configured one, else the host
// name.
func (k kioskTerminal) kioskID() string {
	if k.ID != "" {
		return k.ID
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "kiosk"
}

// memSessions keeps a kiosk customer's session in memory only: no token
// file is ever written.
type memSessions struct {
	mu    sync.Mutex
	token string
}

func (m *memSessions) LoadToken() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.token, nil
}

func (m *memSessions) SaveToken(token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token = token
	return nil
}

func (m *memSessions) ClearToken() error { return m.SaveToken("") }

// newKioskCmd is misetup kiosk: the staff's side of kiosk mode.
func newKioskCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kiosk",
		Short: "The staff's settings of kiosk mode, the wizard of a store terminal",
		Args:  cobra.NoArgs,
	}
	pin := &cobra.Command{
		Use:   "pin",
		Short: "Set the staff PIN that leaves kiosk mode (stored as an argon2id hash in the config file)",
		Long: `misetup kiosk pin asks for a new staff PIN twice, without showing it, and writes its argon2id
hash (never the PIN) as pin_hash in the [kiosk] table of the config file. In kiosk mode,
ctrl+c asks for it; five wrong PINs lock the way out for 5 minutes.`,
		Example: "  misetup kiosk pin\n  misetup kiosk pin --config /etc/misetup/config.toml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := cmd.Flags().GetString("config")
			if path == "" {
				path = filepath.Join(xdg.ConfigHome, appName, "config.toml")
			}
			p, err := readPIN(cmd.InOrStdin(), cmd.OutOrStdout())
			if err != nil {
				return err
			}
			hash, err := policy.HashPassword(p, policy.DefaultArgon2())
			if err != nil {
				return err
			}
			if err := setKioskPIN(path, hash); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "The staff PIN is set (its hash is in %s).\n", path)
			return nil
		},
	}
	cmd.AddCommand(pin)
	return cmd
}

// readPIN asks for the PIN twice: from the terminal without echo, or a
// line each from a pipe.
func readPIN(in io.Reader, out io.Writer) (string, error) {
	read := func(prompt string) (string, error) {
		fmt.Fprint(out, prompt)
		if f, ok := in.(*os.File); ok && term.IsTerminal(f.Fd()) {
			b, err := term.ReadPassword(f.Fd())
			fmt.Fprintln(out)
			return string(b), err
		}
		var line []byte
		buf := make([]byte, 1)
		for {
			n, err := in.Read(buf)
			if n == 1 && buf[0] != '\n' {
				line = append(line, buf[0])
			}
			if n == 1 && buf[0] == '\n' || err != nil {
				if err != nil && len(line) == 0 {
					return "", fmt.Errorf("read the PIN: %w", err)
				}
				return strings.TrimRight(string(line), "\r"), nil
			}
		}
	}
	p, err := read("New staff PIN: ")
	if err != nil {
		return "", err
	}
	if n := len([]rune(p)); n < 4 || n > 32 || strings.TrimFunc(p, func(r rune) bool { return r >= '0' && r <= '9' }) != "" {
		return "", errors.New("the staff PIN: 4 to 32 digits")
	}
	again, err := read("The same PIN again: ")
	if err != nil {
		return "", err
	}
	if again != p {
		return "", errors.New("the two PINs differ: nothing was changed")
	}
	return p, nil
}

var (
	pinHashLine = regexp.MustCompile(`(?m)^pin_hash\s*=.*$`)
	kioskTable  = regexp.MustCompile(`(?m)^\[kiosk\][ \t]*$`)
)

// setKioskPIN writes pin_hash into the [kiosk] table of the config file at
// path, keeping everything else in it as it is (comments too); the file is
// replaced atomically and kept private (0600).
func setKioskPIN(path, hash string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	line := fmt.Sprintf("pin_hash = %q", hash)
	var out []byte
	switch {
	case pinHashLine.Match(old):
		out = pinHashLine.ReplaceAllLiteral(old, []byte(line))
	case kioskTable.Match(old):
		loc := kioskTable.FindIndex(old)
		out = append(append(append([]byte{}, old[:loc[1]]...), "\n"+line...), old[loc[1]:]...)
	default:
		out = old
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n')
		}
		out = append(out, "\n[kiosk]\n"+line+"\n"...)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
