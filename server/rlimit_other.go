//go:build !unix

package server

// fdLimit is the process's limit of open files, or 0 when unknown.
func fdLimit() int { return 0 }
