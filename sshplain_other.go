//go:build !linux

package main

import (
	"errors"

	"misetup/ui"
)

// runPlain needs Linux's pseudo-terminals (see sshplain_linux.go).
func (ws *wizardSession) runPlain(ui.Deps, ui.Options) error {
	_, _ = ws.s.Stderr().Write([]byte("misetup: plain prompts over SSH need a Linux server.\r\n"))
	return errors.New("plain prompts over SSH need a Linux server")
}
