//go:build !linux

package promtext

// addProcess adds nothing: the process's figures are read on Linux only.
func (r *Registry) addProcess() {}
