package store

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestWALSyncGroupsCommits: commits that finish together share syncs
// (never more syncs than commits), every commit is covered, one that a
// later commit's sync covered needs none of its own, and a log SQLite
// made anew is the one synced.
func TestWALSyncGroupsCommits(t *testing.T) {
	db := filepath.Join(t.TempDir(), "misetup.db")
	w := newWALSync(db)
	t.Cleanup(func() { w.close() })
	if err := w.sync(w.committed()); err != nil || w.syncs != 1 {
		t.Fatalf("no log yet: %v, %d syncs (nothing to sync is a sync done)", err, w.syncs)
	}
	if err := os.WriteFile(db+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if err := w.sync(w.committed()); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if w.syncs < 2 || w.syncs > n+1 {
		t.Errorf("%d commits at once: %d syncs", n, w.syncs)
	}
	if w.synced != w.commits.Load() {
		t.Errorf("synced up to %d of %d commits", w.synced, w.commits.Load())
	}
	// One that a later sync covered returns without one of its own.
	n1 := w.committed()
	n2 := w.committed()
	before := w.syncs
	if err := w.sync(n2); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(n1); err != nil || w.syncs != before+1 {
		t.Errorf("a commit covered by a later sync: %v, %d syncs, want %d", err, w.syncs, before+1)
	}
	// SQLite deletes the log when its last connection closes and makes a
	// new one: the new file is synced, not the old one's.
	old := w.f
	if err := os.Remove(db + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+"-wal", []byte("new frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(w.committed()); err != nil {
		t.Fatal(err)
	}
	now, _ := os.Stat(db + "-wal")
	if was, _ := w.f.Stat(); w.f == old || !os.SameFile(was, now) {
		t.Error("the log made anew was not opened")
	}
}

// TestOpenCurrentSchemaWritesNothing: opening a database whose schema is
// current (every start of the wizard but the first) neither writes nor
// waits for the disk; a transaction that writes syncs the log once.
func TestOpenCurrentSchemaWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "misetup.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if s.wal.syncs == 0 {
		t.Error("creating the schema synced nothing")
	}
	s.Close()
	s, err = OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.wal.syncs != 0 {
		t.Errorf("opening a current database synced the log %d times", s.wal.syncs)
	}
	if _, err := s.ReserveAttempt(t.Context(), "r1", time.Now(), Limit{Key: "k", Max: 5, Window: time.Minute}); err != nil || s.wal.syncs != 0 {
		t.Errorf("a reservation: %v, %d syncs, want none (its request's next commit syncs it)", err, s.wal.syncs)
	}
	if err := s.ClearFailures(t.Context(), "k"); err != nil || s.wal.syncs != 1 {
		t.Errorf("a transaction that wrote: %v, %d syncs, want 1", err, s.wal.syncs)
	}
}
