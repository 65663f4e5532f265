package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"misetup/server"
	"misetup/server/policy"
	"misetup/server/store"
)

// keysConfig is the [keys] table of config.toml (and of a keys file): the
// account service's secrets. Never a flag: a command line is seen by every
// user of the machine (ps) and kept in shell histories.
type keysConfig struct {
	// HMAC keys the hashes of verification and recovery codes: 64 hex
	// digits (32 bytes) or more.
	HMAC string `toml:"hmac"`
	// TOTP seals new TOTP secrets: "id:64 hex digits".
	TOTP string `toml:"totp"`
	// TOTPOld are earlier TOTP keys, still read: "id:hex" each. To rotate,
	// move totp here and set a new one with another id.
	TOTPOld []string `toml:"totp_old"`
}

// keysEnv are the environment variables of keysConfig.
const (
	envKeyHMAC    = "MISETUP_KEY_HMAC"
	envKeyTOTP    = "MISETUP_KEY_TOTP"
	envKeyTOTPOld = "MISETUP_KEY_TOTP_OLD" // comma-separated
)

// fromEnv sets the keys given in the environment over those of the file.
func (k *keysConfig) fromEnv() {
	if v := os.Getenv(envKeyHMAC); v != "" {
		k.HMAC = v
	}
	if v := os.Getenv(envKeyTOTP); v != "" {
		k.TOTP = v
	}
	if v := os.Getenv(envKeyTOTPOld); v != "" {
		k.TOTPOld = strings.Split(v, ",")
	}
}

// set reports whether any key is configured.
func (k keysConfig) set() bool { return k.HMAC != "" || k.TOTP != "" || len(k.TOTPOld) > 0 }

// parse turns the configured keys into the server's, naming the setting
// that is wrong.
func (k keysConfig) parse(where string) (server.Keys, error) {
	var out server.Keys
	var err error
	if k.HMAC == "" {
		return out, fmt.Errorf("%s: keys.hmac is missing", where)
	}
	if out.HMAC, err = hex.DecodeString(strings.TrimSpace(k.HMAC)); err != nil || len(out.HMAC) < 32 {
		return out, fmt.Errorf("%s: keys.hmac must be 64 hex digits or more", where)
	}
	if k.TOTP == "" {
		return out, fmt.Errorf("%s: keys.totp is missing", where)
	}
	for i, spec := range append([]string{k.TOTP}, k.TOTPOld...) {
		name := "keys.totp"
		if i > 0 {
			name = fmt.Sprintf("keys.totp_old[%d]", i-1)
		}
		id, hexKey, ok := strings.Cut(strings.TrimSpace(spec), ":")
		secret, err := hex.DecodeString(hexKey)
		key := policy.Key{ID: id, Secret: secret}
		if !ok || err != nil || policy.CheckKey(key) != nil {
			return out, fmt.Errorf(`%s: %s must be "id:64 hex digits" (id of letters, digits, '-', '_')`, where, name)
		}
		out.TOTP = append(out.TOTP, key)
	}
	return out, nil
}

// newKeys draws a fresh set of keys.
func newKeys() (keysConfig, error) {
	hmacKey := make([]byte, 32)
	totpKey := make([]byte, 32)
	if _, err := rand.Read(hmacKey); err != nil {
		return keysConfig{}, err
	}
	if _, err := rand.Read(totpKey); err != nil {
		return keysConfig{}, err
	}
	return keysConfig{
		HMAC: hex.EncodeToString(hmacKey),
		TOTP: "k" + time.Now().UTC().Format("20060102") + ":" + hex.EncodeToString(totpKey),
	}, nil
}

// keysFileHeader starts a keys file.
const keysFileHeader = `# The secrets of misetup's account service on the database beside this file.
# Keep this file private (mode 0600) and with the database: without it the
# codes already sent and the TOTP secrets stored can no longer be checked.
`

// serverKeys returns the keys of the account service: those of the config
// file or the environment; with none, a SQLite service keeps its own in a
// 0600 file beside its database, made on first start; a PostgreSQL service
// refuses to start, since every server of a fleet must use the same keys.
func (c *config) serverKeys() (server.Keys, error) {
	if c.Keys.set() {
		return c.Keys.parse("server keys")
	}
	if store.IsPostgresDSN(c.Serve.DB) {
		return server.Keys{}, errors.New(`no server keys: a service on PostgreSQL needs them configured, ` +
			`the same on every server that shares the database. Run "misetup serve keygen" and put its [keys] table ` +
			`in config.toml, or set ` + envKeyHMAC + ` and ` + envKeyTOTP)
	}
	return keysFile(c.Serve.DB + ".keys")
}

// keysFile reads the keys file at path, creating it with fresh keys when
// it is missing. Two processes starting at once agree: the file appears
// whole (written aside, then linked into place), and the one that loses the
// race reads the winner's.
func keysFile(path string) (server.Keys, error) {
	for range 2 {
		b, err := os.ReadFile(path)
		if err == nil {
			return parseKeysFile(path, b)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return server.Keys{}, fmt.Errorf("keys file: %w", err)
		}
		if err := createKeysFile(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return server.Keys{}, err
		}
	}
	return server.Keys{}, fmt.Errorf("keys file %s: could not be read after it was made", path)
}

// parseKeysFile checks a keys file's mode and reads its keys.
func parseKeysFile(path string, b []byte) (server.Keys, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return server.Keys{}, fmt.Errorf("keys file %s can be read by others (mode %04o): chmod 600 it", path, fi.Mode().Perm())
	}
	var k keysConfig
	md, err := toml.Decode(string(b), &k)
	if err != nil {
		return server.Keys{}, fmt.Errorf("keys file %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return server.Keys{}, fmt.Errorf("keys file %s: unknown setting %q", path, undecoded[0].String())
	}
	return k.parse("keys file " + path)
}

// createKeysFile writes fresh keys to path; fs.ErrExist when it exists.
func createKeysFile(path string) error {
	k, err := newKeys()
	if err != nil {
		return fmt.Errorf("new keys: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(keysFileHeader)
	if err := toml.NewEncoder(&buf).Encode(k); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("keys file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keys file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	// CreateTemp made it 0600. Link fails when path exists: no overwrite.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("keys file: %w", err)
	}
	return nil
}

// newKeygenCmd is `misetup serve keygen`.
func newKeygenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "keygen",
		Short: "Print fresh server keys as a [keys] table for config.toml",
		Long: `keygen prints a new set of server keys as the [keys] table of config.toml.

The account service keys the hashes of verification and recovery codes and
encrypts TOTP secrets with them. A service on SQLite makes its own on first
start, in a 0600 file beside its database. A service on PostgreSQL needs them
configured, and every server that shares the database must use the same: put
this table in each server's config.toml (or set MISETUP_KEY_HMAC and
MISETUP_KEY_TOTP). Keys are never taken from the command line.

To rotate the TOTP key, move the current "totp" value into "totp_old" and set
the new one: secrets sealed with the old key still open, and are sealed again
with the new one when next used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := newKeys()
			if err != nil {
				return err
			}
			return writeKeysTable(cmd.OutOrStdout(), k)
		},
	}
}

// writeKeysTable writes k as the [keys] table of a config file.
func writeKeysTable(w io.Writer, k keysConfig) error {
	return toml.NewEncoder(w).Encode(struct {
		Keys keysConfig `toml:"keys"`
	}{k})
}
