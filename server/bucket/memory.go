package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// memory keeps objects in memory: tests, a throw-away service.
type memory struct {
	mu      sync.Mutex
	objects map[string][]byte
}

// NewMemory is an empty bucket in memory.
func NewMemory() Bucket { return &memory{objects: map[string][]byte{}} }

func (m *memory) NewWriter(ctx context.Context, key string) (io.WriteCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return &memoryWriter{ctx: ctx, m: m, key: key}, nil
}

// memoryWriter gathers an object and puts it in at Close.
type memoryWriter struct {
	ctx    context.Context
	m      *memory
	key    string
	buf    bytes.Buffer
	closed bool
}

func (w *memoryWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.buf.Write(p)
}

func (w *memoryWriter) Close() error {
	if w.closed {
		return errors.New("bucket: writer closed twice")
	}
	w.closed = true
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("bucket: write %s: %w", w.key, err)
	}
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.m.objects[w.key] = bytes.Clone(w.buf.Bytes())
	return nil
}

func (m *memory) NewRangeReader(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	m.mu.Lock()
	b, ok := m.objects[key]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	r := bytes.NewReader(b) // objects are never changed in place
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("bucket: read %s: %w", key, err)
	}
	return io.NopCloser(limit(r, length)), nil
}

func (m *memory) Link(_ context.Context, from, to string) error {
	if err := checkKey(to); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[from]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, from)
	}
	m.objects[to] = b // objects are never changed in place
	return nil
}

func (m *memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	delete(m.objects, key)
	return nil
}

func (m *memory) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (m *memory) Close() error { return nil }
