package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
)

// walSync makes SQLite's transactions durable after they commit instead of
// while they commit. SQLite syncs its write-ahead log inside COMMIT, with
// the database held: every writer waits for the disk behind the one
// syncing, and a sign-in's commit kept the next sign-ins from even
// starting. Transactions therefore commit with synchronous=NORMAL (the log
// is written, not synced: it survives the process being killed, as the
// kernel keeps it) and, the database let go, sync the log file before
// they return: one sync covers every commit made before it began, so
// writers that finish together wait for the disk once (a group commit).
// Checkpoints still sync as NORMAL does (the log before, the database
// after), so a commit whose frames left the log meanwhile is on the disk
// already.
type walSync struct {
	path    string        // the database's -wal file
	commits atomic.Uint64 // commits made, counted after each returns

	mu     sync.Mutex
	f      *os.File // path, open; nil before the first sync
	synced uint64   // commits the last sync covered
	syncs  int      // syncs made (tests read it)
}

func newWALSync(dbPath string) *walSync { return &walSync{path: dbPath + "-wal"} }

// committed counts a commit that returned; its sync is sync(n).
func (w *walSync) committed() uint64 { return w.commits.Add(1) }

// sync returns once commit n is on the disk: at once if a sync that began
// after it has ended, otherwise after a sync of its own (which covers
// every commit before it).
func (w *walSync) sync(n uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.synced >= n {
		return nil
	}
	upTo := w.commits.Load()
	f, err := w.file()
	if err != nil {
		return err
	}
	if f != nil {
		if err := syncData(f); err != nil {
			return fmt.Errorf("sync %s: %w", w.path, err)
		}
	}
	w.synced = upTo
	w.syncs++
	return nil
}

// file returns the log file as it is now, opened again when SQLite
// replaced it (it deletes the log when its last connection closes, after
// a checkpoint, and makes a new one); nil when there is none (all of it
// is in the database, synced).
func (w *walSync) file() (*os.File, error) {
	now, err := os.Stat(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync %s: %w", w.path, err)
	}
	if w.f != nil {
		if was, err := w.f.Stat(); err == nil && os.SameFile(was, now) {
			return w.f, nil
		}
		w.f.Close()
		w.f = nil
	}
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync %s: %w", w.path, err)
	}
	w.f = f
	return f, nil
}

// close lets the file go.
func (w *walSync) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
