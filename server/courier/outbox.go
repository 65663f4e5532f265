package courier

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Outbox is the local courier: it appends each message as one JSON object on
// one line to a file (outbox.jsonl), which `misetup outbox` reads.
type Outbox struct {
	path string
	mu   sync.Mutex
}

// NewOutbox returns an outbox writing to path. The file (mode 0600) and its
// parent folders (0700) are created on the first Send.
func NewOutbox(path string) *Outbox { return &Outbox{path: path} }

// Path is the file the outbox writes.
func (o *Outbox) Path() string { return o.path }

// Send implements Courier. Each message is written with a single write to a
// file opened with O_APPEND, so lines from concurrent senders, in this
// process or another, never interleave. A zero Time is set to now.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if m.Time.IsZero() {
		m.Time = time.Now().UTC()
	}
	var line bytes.Buffer
	enc := json.NewEncoder(&line) // Encode ends the line with "\n"
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("outbox: encode message: %w", err)
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(o.path), 0o700); err != nil {
		return fmt.Errorf("outbox: create folder: %w", err)
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: open: %w", err)
	}
	_, werr := f.Write(line.Bytes())
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("outbox: write %s: %w", o.path, err)
	}
	return nil
}

// ReadOutbox returns every message in the outbox at path, oldest first. A
// missing file is an empty outbox; a line that is not a message (torn by a
// crash, edited by hand) is skipped.
func ReadOutbox(path string) ([]Message, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer f.Close()
	var msgs []Message
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if m, ok := parseLine(line); ok {
			msgs = append(msgs, m)
		}
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, fmt.Errorf("read outbox %s: %w", path, err)
		}
	}
}

func parseLine(line []byte) (Message, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Message{}, false
	}
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		return Message{}, false
	}
	return m, true
}

// FollowOutbox calls fn with each message appended to the outbox at path,
// checking every poll (500 ms when poll <= 0), like tail -F: it waits for a
// file that does not exist yet, and starts over from the beginning when the
// file is truncated or replaced. With fromStart it first calls fn with the
// messages already there; otherwise it starts at the current end. It returns
// nil when ctx is done, or the first error from fn.
func FollowOutbox(ctx context.Context, path string, fromStart bool, poll time.Duration, fn func(Message) error) error {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	var (
		offset int64       // bytes already handed to fn (whole lines only)
		cur    os.FileInfo // the file offset belongs to
	)
	if !fromStart {
		if fi, err := os.Stat(path); err == nil {
			offset, cur = fi.Size(), fi
		}
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			offset, cur = 0, nil // a file created later is read from its start
		case err != nil:
			return fmt.Errorf("follow outbox: %w", err)
		default:
			if cur != nil && !os.SameFile(cur, fi) || fi.Size() < offset {
				offset = 0 // replaced or truncated
			}
			cur = fi
			if fi.Size() > offset {
				n, err := readFrom(path, offset, fn)
				offset += n
				if err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// readFrom calls fn for each whole line of path after offset and returns how
// many bytes those lines took. A last line without its newline is left for
// the next call.
func readFrom(path string, offset int64, fn func(Message) error) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("follow outbox: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, fmt.Errorf("follow outbox: %w", err)
	}
	var done int64
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil { // io.EOF: an unfinished line, or nothing
			if errors.Is(err, io.EOF) {
				return done, nil
			}
			return done, fmt.Errorf("follow outbox: %w", err)
		}
		done += int64(len(line))
		if m, ok := parseLine(line); ok {
			if err := fn(m); err != nil {
				return done, fmt.Errorf("follow outbox: %w", err)
			}
		}
	}
}
