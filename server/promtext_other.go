//go:build !linux

package server

// addProcess adds nothing: the process's figures are read on Linux only.
func (r *registry) addProcess() {}
