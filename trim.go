package main

import (
	"bytes"
	"io"
	"os"
	"sync"
)

// trimWriter writes lines without their trailing spaces (fang pads help
// lines to the terminal's width, up to 120 columns): a line waits for its
// newline; Flush writes what is left. Trailing escape sequences (a colour
// reset) are kept, the spaces before them dropped.
type trimWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// trimFile is a trimWriter over a file, still a file to whoever asks
// (colorprofile and fang look for a terminal through Fd).
type trimFile struct {
	*trimWriter
	f *os.File
}

// newTrimWriter wraps w; a file stays one (see trimFile).
func newTrimWriter(w io.Writer) interface {
	io.Writer
	Flush() error
	Unwrap() io.Writer
} {
	t := &trimWriter{w: w}
	if f, ok := w.(*os.File); ok {
		return trimFile{t, f}
	}
	return t
}

// Write implements io.Writer.
func (t *trimWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, err := t.w.Write(append(trimLine(t.buf[:i]), '\n')); err != nil {
			return 0, err
		}
		t.buf = t.buf[i+1:]
	}
}

// Flush writes a last line without a newline.
func (t *trimWriter) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return nil
	}
	_, err := t.w.Write(trimLine(t.buf))
	t.buf = nil
	return err
}

// Unwrap is the writer under t: the wizard draws there itself.
func (t *trimWriter) Unwrap() io.Writer { return t.w }

// trimLine drops the spaces at the end of line, looking through escape
// sequences (kept) that follow them.
func trimLine(line []byte) []byte {
	var tail []byte // escape sequences after the text, kept
	for {
		line = bytes.TrimRight(line, " \t")
		i := bytes.LastIndex(line, []byte("\x1b["))
		if i < 0 || !isCSI(line[i:]) {
			break
		}
		tail = append(append([]byte{}, line[i:]...), tail...)
		line = line[:i]
	}
	return append(append([]byte{}, line...), tail...)
}

// isCSI reports whether b is exactly one CSI escape sequence (ESC [ params
// final byte).
func isCSI(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	for i := 2; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= 0x40 && c <= 0x7e:
			return i == len(b)-1
		case c < 0x20 || c > 0x3f:
			return false
		}
	}
	return false
}

// Read, Close and Fd make a trimFile a term.File.
func (t trimFile) Read(p []byte) (int, error) { return t.f.Read(p) }
func (t trimFile) Close() error               { return t.f.Close() }
func (t trimFile) Fd() uintptr                { return t.f.Fd() }
