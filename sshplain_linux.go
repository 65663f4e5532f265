package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"misetup/ui"
)

// runPlain runs the wizard as plain prompts (ui.RunAccessible) on the
// session: ssh -t HOST accessible, or a terminal whose TERM is dumb.
//
// The prompts need a terminal's line discipline, which the SSH session's
// emulated PTY does not have (the client's terminal is raw: nothing echoes
// what is typed, enter sends CR): so the session gets a pseudo-terminal
// of its own here, the kernel echoes and edits the line, and huh reads the
// password from it without echo. ctrl+c is taken out of the input and
// given to the wizard, which asks before quitting as it does on a local
// terminal; ctrl+d on an empty line ends it.
func (ws *wizardSession) runPlain(deps ui.Deps, opts ui.Options) error {
	ptm, pts, err := pty.Open()
	if err != nil {
		return fmt.Errorf("plain prompts: %w", err)
	}
	defer ptm.Close()
	defer pts.Close()
	if err := plainTermios(pts); err != nil {
		return fmt.Errorf("plain prompts: %w", err)
	}

	intr := make(chan struct{}, 1)
	go func() { // the customer's keys → the pseudo-terminal
		buf := make([]byte, 512)
		for {
			n, err := ws.s.Read(buf)
			in := buf[:0]
			for _, c := range buf[:n] {
				if c == 0x03 { // ctrl+c
					select {
					case intr <- struct{}{}:
					default:
					}
					continue
				}
				in = append(in, c)
			}
			if len(in) > 0 {
				if _, werr := ptm.Write(in); werr != nil {
					return
				}
			}
			if err != nil {
				// The client is gone: the wizard reads the end of input.
				_, _ = ptm.Write([]byte{4}) // ctrl+d: EOF on an empty line
				return
			}
		}
	}()
	copied := make(chan struct{})
	go func() { // the wizard's output → the customer
		defer close(copied)
		_, _ = io.Copy(ws.s, ptm)
	}()
	ws.setNotify(func(text string) { _, _ = fmt.Fprintf(pts, "\n%s\n", text) })

	deps.Interrupt = intr
	err = ui.RunAccessible(ws.ctx, deps, opts, pts, pts, append(ws.s.Environ(), "TERM=dumb"))
	// A line ends the wizard's read still waiting, if any (its file is in
	// blocking mode: closing it would wait for the read); then closing the
	// terminal's side lets the copy drain what is left of the output, and
	// end.
	_, _ = ptm.Write([]byte("\n"))
	_ = pts.Close()
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	if errors.Is(err, os.ErrClosed) {
		err = nil
	}
	return err
}

// plainTermios sets the pseudo-terminal's line discipline for prompts:
// UTF-8 aware erase, no XON/XOFF (ctrl+s would seem to freeze the
// terminal), the rest as the kernel's defaults (echo, line editing, CR
// read as end of line, LF written as CR LF).
func plainTermios(f *os.File) error {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag |= unix.IUTF8 | unix.ICRNL
	t.Iflag &^= unix.IXON
	t.Lflag |= unix.ICANON | unix.ECHO | unix.ECHOE | unix.ISIG
	t.Oflag |= unix.OPOST | unix.ONLCR
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}
