// Package term runs a program in a pseudo-terminal whose screen is a
// terminal emulator (x/vt), as a person's terminal would be: it answers the
// program's queries, and the screen can be read and typed into. The bench
// programs measure with it.
package term

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/vt"
	"golang.org/x/sys/unix"
)

// Term is a running program in a pty of its own.
type Term struct {
	Cmd    *exec.Cmd
	Start  time.Time // just before the process started
	master *os.File

	mu      sync.Mutex
	emu     *vt.Emulator
	screen  string        // the emulator's text after the last write
	changed chan struct{} // closed and replaced at every write
	done    chan struct{} // closed when the program's output ends
}

// Run starts name with args in a w×h pty, with env as its whole
// environment.
func Run(w, h int, env []string, name string, args ...string) (*Term, error) {
	master, slave, err := openPTY(w, h)
	if err != nil {
		return nil, err
	}
	defer slave.Close()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	t := &Term{Cmd: cmd, master: master, emu: vt.NewEmulator(w, h),
		changed: make(chan struct{}), done: make(chan struct{})}
	t.Start = time.Now()
	if err := cmd.Start(); err != nil {
		master.Close()
		return nil, err
	}
	go t.read()
	go func() { _, _ = io.Copy(master, t.emu) }() // the terminal's answers to queries
	return t, nil
}

func (t *Term) read() {
	defer close(t.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := t.master.Read(buf)
		if n > 0 {
			t.mu.Lock()
			t.write(buf[:n])
			t.screen = t.emu.String()
			close(t.changed)
			t.changed = make(chan struct{})
			t.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// write feeds the emulator. NOTE: x/vt v0.1.0 can panic on an escape
// sequence right after a resize (reverse index past a shrunk buffer); a
// real terminal would not. The emulator is then made anew at the window's
// size: the program redraws the whole screen after a resize anyway.
func (t *Term) write(b []byte) {
	defer func() {
		if recover() != nil {
			w, h := t.emu.Width(), t.emu.Height()
			t.emu = vt.NewEmulator(w, h)
			go func(e *vt.Emulator) { _, _ = io.Copy(t.master, e) }(t.emu)
		}
	}()
	_, _ = t.emu.Write(b)
}

// Screen is the text on the screen now.
func (t *Term) Screen() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.screen
}

// WaitFor waits until the screen shows every one of want, and returns the
// time since the start and the screen.
func (t *Term) WaitFor(timeout time.Duration, want ...string) (time.Duration, string, error) {
	deadline := time.After(timeout)
	for {
		t.mu.Lock()
		s, ch := t.screen, t.changed
		t.mu.Unlock()
		if containsAll(s, want) {
			return time.Since(t.Start), s, nil
		}
		select {
		case <-ch:
		case <-t.done:
			if s := t.Screen(); containsAll(s, want) {
				return time.Since(t.Start), s, nil
			}
			return 0, t.Screen(), fmt.Errorf("the program ended before the screen showed %q:\n%s", want, t.Screen())
		case <-deadline:
			return 0, s, fmt.Errorf("%q not on the screen after %v:\n%s", want, timeout, s)
		}
	}
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// Type sends s as typed keys (or escape sequences: "\r" is enter, "\t" tab,
// "\x1b[Z" shift+tab, "\x03" ctrl+c).
func (t *Term) Type(s string) error {
	_, err := io.WriteString(t.master, s)
	return err
}

// Resize changes the window's size (the program gets SIGWINCH).
func (t *Term) Resize(w, h int) error {
	t.mu.Lock()
	t.emu.Resize(w, h)
	t.mu.Unlock()
	return unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(w), Row: uint16(h)})
}

// RSS is the program's resident memory in bytes (VmRSS of /proc).
func (t *Term) RSS() (int64, error) { return RSS(t.Cmd.Process.Pid) }

// Kill ends the program (SIGKILL to its session) and waits for it.
func (t *Term) Kill() {
	_ = syscall.Kill(-t.Cmd.Process.Pid, syscall.SIGKILL)
	_ = t.Cmd.Wait()
	t.master.Close()
	_ = t.emu.Close()
}

// Wait waits for the program to end by itself, up to timeout.
func (t *Term) Wait(timeout time.Duration) error {
	ch := make(chan error, 1)
	go func() { ch <- t.Cmd.Wait() }()
	select {
	case err := <-ch:
		t.master.Close()
		_ = t.emu.Close()
		return err
	case <-time.After(timeout):
		_ = syscall.Kill(-t.Cmd.Process.Pid, syscall.SIGKILL)
		<-ch
		return errors.New("the program did not end in time")
	}
}

// RSS is the resident memory of process pid in bytes.
func RSS(pid int) (int64, error) { return status(pid, "VmRSS") }

// RSSParts is the resident memory of process pid in bytes: anonymous (its
// heap, stacks, tables) and file-backed (the pages of its binary it ran).
func RSSParts(pid int) (anon, file int64, err error) {
	if anon, err = status(pid, "RssAnon"); err != nil {
		return 0, 0, err
	}
	file, err = status(pid, "RssFile")
	return anon, file, err
}

// status reads a "kB" field of /proc/pid/status, in bytes.
func status(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no " + field)
}

func openPTY(w, h int) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(w), Row: uint16(h)}); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, err
	}
	return master, slave, nil
}
