package micloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// state is what this computer last agreed on with the service, for one
// category: the cursor of the changes read, and each item as it was when
// last synced (the base a change on either side is told from).
type state struct {
	Cursor   int64            `json:"cursor"`
	Items    map[string]entry `json:"items"`
	LastSync time.Time        `json:"last_sync,omitzero"`
	// LastError is what stopped the last sync ("" when it finished).
	LastError string `json:"last_error,omitempty"`
}

// entry is one item as last synced: its version on the service and its
// content, and the file's size and time then (a file whose size and time
// are unchanged is not read again).
type entry struct {
	Version int64     `json:"version"`
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// statePath is the state file of category under dir.
func statePath(dir, category string) string {
	return filepath.Join(dir, "cloud", category+".json")
}

// loadState reads the state of category; none yet is an empty one.
func loadState(dir, category string) (*state, error) {
	st := &state{Items: map[string]entry{}}
	b, err := os.ReadFile(statePath(dir, category))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("sync state %s is damaged: %w", statePath(dir, category), err)
	}
	if st.Items == nil {
		st.Items = map[string]entry{}
	}
	return st, nil
}

// save writes the state atomically (a temporary file renamed over it), so
// that a sync stopped at any point leaves the last whole state.
func (st *state) save(dir, category string) error {
	p := statePath(dir, category)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := p + partialSuffix
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	return nil
}
