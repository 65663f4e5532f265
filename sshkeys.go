package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// maxAuthorizedKeysBytes bounds the authorized-keys file read.
const maxAuthorizedKeysBytes = 1 << 20

// authorizedKey is one line of an authorized_keys file.
type authorizedKey struct {
	key     gossh.PublicKey
	comment string // the terminal's name: its kiosk id
}

// loadAuthorizedKeys reads an authorized_keys file (OpenSSH's format; the
// options of a line are ignored, since the wizard is all a key gets).
func loadAuthorizedKeys(path string) ([]authorizedKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ssh authorized keys: %w", err)
	}
	if len(b) > maxAuthorizedKeysBytes {
		return nil, fmt.Errorf("ssh authorized keys %s: larger than 1 MiB", path)
	}
	var keys []authorizedKey
	for line := 1; len(bytes.TrimSpace(b)) > 0; line++ {
		var rest []byte
		rest, b, _ = bytes.Cut(b, []byte("\n"))
		rest = bytes.TrimSpace(rest)
		if len(rest) == 0 || rest[0] == '#' {
			continue
		}
		k, comment, _, _, err := gossh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil, fmt.Errorf("ssh authorized keys %s, line %d: %w", path, line, err)
		}
		keys = append(keys, authorizedKey{key: k, comment: strings.TrimSpace(comment)})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("ssh authorized keys %s: no key in it (every terminal would be refused)", path)
	}
	return keys, nil
}

// hostKey loads the SSH host key at path, or makes one there (ed25519,
// mode 0600, its folder 0700) when there is none yet; made reports which.
func hostKey(path string) (signer gossh.Signer, made bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if b, err = newHostKey(path); err != nil {
			return nil, false, err
		}
		made = true
	case err != nil:
		return nil, false, fmt.Errorf("ssh host key: %w", err)
	}
	signer, err = gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, false, fmt.Errorf("ssh host key %s: %w", path, err)
	}
	return signer, made, nil
}

// newHostKey writes a new ed25519 key in OpenSSH's format at path, which
// must not exist, and returns it.
func newHostKey(path string) ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "misetup host key")
	if err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	b := pem.EncodeToMemory(block)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	// O_EXCL: two servers starting at once on one data dir keep one key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	return b, nil
}
