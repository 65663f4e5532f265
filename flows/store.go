package flows

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Progress is what a restarted wizard needs to resume: where it was and the
// answers given so far. It never holds a password, a code or a token.
type Progress struct {
	Step        string     `json:"step"`
	Lang        string     `json:"lang,omitempty"`
	Method      string     `json:"method,omitempty"` // api.MethodEmail or api.MethodPhone
	Identifier  string     `json:"identifier,omitempty"`
	Region      string     `json:"region,omitempty"`
	ChallengeID string     `json:"challenge_id,omitempty"` // a pending registration's challenge id (not its code)
	Device      DeviceInfo `json:"device"`
	SavedAt     time.Time  `json:"saved_at"`
	// Finished is true once the person went through to the summary's end:
	// a finished set-up, not an interruption.
	Finished bool `json:"finished,omitempty"`
}

// ProgressStore loads and saves Progress.
type ProgressStore interface {
	LoadProgress() (Progress, bool, error)
	SaveProgress(Progress) error
	ClearProgress() error
}

// SessionStore keeps the session token between runs.
type SessionStore interface {
	LoadToken() (string, error) // "" when there is none
	SaveToken(token string) error
	ClearToken() error
}

// Files keeps the wizard's state in a directory (the XDG state dir):
// progress.json, session (the token, mode 0600, and the service it was
// given by) and device-id. It implements ProgressStore and SessionStore.
type Files struct {
	Dir string
	// Service is the address of the service the wizard talks to ("": the
	// built-in one), written beside a token saved (SessionService).
	Service string
}

const (
	progressFile = "progress.json"
	sessionFile  = "session"
	deviceIDFile = "device-id"
)

// LoadProgress reads the saved progress; ok is false when there is none.
func (f Files) LoadProgress() (Progress, bool, error) {
	var p Progress
	b, err := os.ReadFile(filepath.Join(f.Dir, progressFile))
	if errors.Is(err, fs.ErrNotExist) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("read progress: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		// A damaged file is not worth stopping for: start over.
		return Progress{}, false, nil
	}
	return p, p.Step != "", nil
}

// SaveProgress writes p atomically (mode 0600).
func (f Files) SaveProgress(p Progress) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	return writeFileAtomic(filepath.Join(f.Dir, progressFile), append(b, '\n'))
}

// ClearProgress removes the saved progress.
func (f Files) ClearProgress() error { return removeIfExists(filepath.Join(f.Dir, progressFile)) }

// LoadToken reads the session token, "" when there is none.
func (f Files) LoadToken() (string, error) {
	token, _, err := f.loadSession()
	return token, err
}

// SessionService is the address of the service that gave the saved
// session ("" when it was the built-in one, or there is no session): a
// device signed in to a service keeps using it without --server.
func (f Files) SessionService() (string, error) {
	_, service, err := f.loadSession()
	return service, err
}

// loadSession reads the session file: the token, then the service's
// address on a second line (none in files written before it was kept).
func (f Files) loadSession() (token, service string, err error) {
	b, err := os.ReadFile(filepath.Join(f.Dir, sessionFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read session: %w", err)
	}
	token, service, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(token), strings.TrimSpace(service), nil
}

// SaveToken writes the session token, and the service it came from, in a
// file only the user can read.
func (f Files) SaveToken(token string) error {
	return writeFileAtomic(filepath.Join(f.Dir, sessionFile), []byte(token+"\n"+f.Service+"\n"))
}

// ClearToken removes the session token.
func (f Files) ClearToken() error { return removeIfExists(filepath.Join(f.Dir, sessionFile)) }

// DeviceID returns this machine's stable device id, creating it (random, 128
// bits) on first use.
func (f Files) DeviceID() (string, error) {
	path := filepath.Join(f.Dir, deviceIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read device id: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("device id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(path, []byte(id+"\n")); err != nil {
		return "", err
	}
	return id, nil
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", filepath.Base(path), err)
	}
	return nil
}
