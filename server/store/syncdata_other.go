//go:build !linux

package store

import "os"

// syncData syncs a file (fsync: fdatasync is Linux's).
func syncData(f *os.File) error { return f.Sync() }
