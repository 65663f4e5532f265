package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"misetup/server/store"
)

func TestIsPostgresDSN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"postgres://u@localhost/db", true},
		{"postgresql://u@localhost/db", true},
		{"POSTGRES://u@localhost/db", true},
		{"/var/lib/misetup/misetup.db", false},
		{"misetup.db", false},
		{"postgres.db", false},
		{"./postgres://x", false},
	}
	for _, tt := range tests {
		if got := store.IsPostgresDSN(tt.in); got != tt.want {
			t.Errorf("IsPostgresDSN(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "dir with spaces?and#marks", "misetup.db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*store.SQLite); !ok {
		t.Errorf("Open(%q) = %T, want *store.SQLite", path, s)
	}
	if got := s.(*store.SQLite).Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
	// The '?' and '#' are part of the path, not URI syntax: the file is
	// where it was asked to be.
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}

	// A postgres URL goes to PostgreSQL: nothing listens on port 1.
	s, err = store.Open(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreachable postgres URL succeeded")
	}
	if s != nil {
		t.Errorf("Open failed but returned a non-nil Store %T", s)
	}
}
