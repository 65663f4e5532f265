//go:build unix

package ui

import (
	"bytes"
	"testing"

	"github.com/creack/pty"
)

// TestPlainWrapsAtTheTerminal: plain mode wraps its text at a narrower
// terminal's width (at 60 columns the terminal wrapped 80-column lines
// again), at 80 columns on a wider one, and at 80 when out is no terminal
// (a pipe, a file, a screen reader's capture).
func TestPlainWrapsAtTheTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skip("no pseudo-terminal here:", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	for _, tt := range []struct{ cols, want int }{{60, 60}, {45, 45}, {80, 80}, {132, 80}} {
		if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(tt.cols), Rows: 24}); err != nil {
			t.Fatal(err)
		}
		if got := plainWidth(tty); got != tt.want {
			t.Errorf("a terminal of %d columns: plain text wrapped at %d, want %d", tt.cols, got, tt.want)
		}
	}
	if got := plainWidth(&bytes.Buffer{}); got != designWidth {
		t.Errorf("no terminal: wrapped at %d, want %d", got, designWidth)
	}
}
