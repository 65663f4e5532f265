package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lockFile marks this device locked by a Find Device lock command: it
// holds the owner's message, and stays until the password is given again
// (a sign-in).
const lockFile = "locked.json"

// LockInfo is what the lock marker holds.
type LockInfo struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// LockDevice carries out a lock command in the state dir: it writes the
// lock marker with the owner's message (cleaned) and ends misetup's saved
// session, so the next run must sign in with the password again. The
// wizard shows the message (LockedMessage) until then, and clears the lock
// (ClearLock) after a sign-in.
func LockDevice(dir, message string, now time.Time) error {
	b, err := json.Marshal(LockInfo{Message: cleanText(message, 200), At: now.UTC()})
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, lockFile), append(b, '\n')); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := (Files{Dir: dir}).ClearToken(); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// LockedMessage reports whether this device is locked (a lock command
// reached it and no one has signed in since), with the owner's message
// ("" when the owner left none) and when it was locked. A damaged marker
// still counts as locked.
func LockedMessage(dir string) (info LockInfo, locked bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, lockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return LockInfo{}, false, nil
	}
	if err != nil {
		return LockInfo{}, true, fmt.Errorf("read lock: %w", err)
	}
	if json.Unmarshal(b, &info) != nil {
		return LockInfo{}, true, nil
	}
	info.Message = cleanText(info.Message, 200)
	return info, true, nil
}

// ClearLock removes the lock marker: call it once the password was given
// again (a successful sign-in on this device).
func ClearLock(dir string) error { return removeIfExists(filepath.Join(dir, lockFile)) }

// Locked is LockedMessage of the files' dir.
func (f Files) Locked() (LockInfo, bool, error) { return LockedMessage(f.Dir) }

// ClearLock is ClearLock of the files' dir: a session saved there means
// the password was given again.
func (f Files) ClearLock() error { return ClearLock(f.Dir) }

// EraseLocalData deletes misetup's own data for the account on this
// device, as an erase command asks: in the state dir the session, the
// saved progress, the last challenge, the lock marker and the queue of
// settings waiting to be saved; everything in the cache dir (which must be
// misetup's own: its base name "misetup"). It keeps the device id (the
// machine's, not the account's) and never touches anything outside those
// two dirs. It returns the paths it removed.
func EraseLocalData(stateDir, cacheDir string) ([]string, error) {
	if stateDir == "" {
		return nil, errors.New("erase: no state dir")
	}
	var removed []string
	var errs []error
	for _, name := range []string{sessionFile, progressFile, lastChallengeFile, lockFile} {
		p := filepath.Join(stateDir, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := removeIfExists(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	q := QueueIn(stateDir)
	if _, err := os.Lstat(q.Dir); err == nil {
		if err := os.RemoveAll(q.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove queue: %w", err))
		} else {
			removed = append(removed, q.Dir)
		}
	}
	if cacheDir != "" {
		if err := checkCacheDir(cacheDir); err != nil {
			errs = append(errs, err)
		} else if entries, err := os.ReadDir(cacheDir); err == nil {
			for _, e := range entries {
				p := filepath.Join(cacheDir, e.Name())
				if err := os.RemoveAll(p); err != nil {
					errs = append(errs, fmt.Errorf("remove %s: %w", e.Name(), err))
					continue
				}
				removed = append(removed, p)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("erase: %w", err)
	}
	return removed, nil
}
