// Package bucket keeps Mi Cloud's blobs: objects named by keys, each
// written whole and read by ranges. A bucket is a URL: file:///a/folder (a
// folder of this machine), mem:// (kept in memory, gone with the process),
// and, in a build with -tags s3, s3://bucket?region=...&endpoint=... (S3,
// MinIO: what a fleet of serve processes shares) through gocloud.dev/blob.
//
// The folder is written with the standard library alone: gocloud.dev/blob
// brings gRPC, protocol buffers and OpenTelemetry, whose initialisation and
// pages every start of the binary paid, wizard included (0.7 ms and 4.5 MB
// of a 2.5 ms start and 25 MB), for buckets only a fleet uses.
package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
)

// ErrNotFound is the error of a read or a deletion of a missing object.
var ErrNotFound = errors.New("bucket: no such object")

// Bucket is where objects are kept. Keys are slash-separated paths of
// clean, non-empty elements, none starting with a dot.
type Bucket interface {
	// NewWriter starts writing the object key. The object, whole, replaces
	// any earlier one when Close returns nil, never before: a writer
	// whose ctx ends before Close leaves nothing (and Close says so).
	NewWriter(ctx context.Context, key string) (io.WriteCloser, error)
	// NewRangeReader reads length bytes of key from offset (length < 0:
	// to its end). A missing object is ErrNotFound.
	NewRangeReader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Delete removes key. A missing object is ErrNotFound.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, in order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Close lets the bucket go.
	Close() error
}

// Linker is a Bucket that can give an object a second key without its
// bytes going through this process (a folder's hard link, S3's copy on
// its side): to, replaced if it exists, reads as from; from stays; either
// can be deleted apart. A missing from is ErrNotFound.
type Linker interface {
	Link(ctx context.Context, from, to string) error
}

// opener opens the bucket of a URL of its scheme.
type opener func(ctx context.Context, u *url.URL) (Bucket, error)

// openers are the schemes a build understands (gocloud.go adds its own).
var openers = map[string]opener{
	"file": openFolder,
	"mem":  func(context.Context, *url.URL) (Bucket, error) { return NewMemory(), nil },
}

// Open opens the bucket of rawURL ("" is mem://).
func Open(ctx context.Context, rawURL string) (Bucket, error) {
	if rawURL == "" {
		rawURL = "mem://"
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bucket: %q is not a URL: %w", rawURL, err)
	}
	open, ok := openers[u.Scheme]
	if !ok {
		return nil, fmt.Errorf("bucket: %q: this build keeps blobs in file:// folders and mem:// (%s)", rawURL, schemeHint(u.Scheme))
	}
	return open(ctx, u)
}

// schemeHint says how to get a scheme this build lacks.
func schemeHint(scheme string) string {
	if scheme == "s3" {
		return "s3:// buckets need a build with -tags s3"
	}
	return "no bucket of scheme " + fmt.Sprintf("%q", scheme)
}

// checkKey reports whether key is a key objects can have.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key {
		return fmt.Errorf("bucket: key %q is not a clean relative path", key)
	}
	for _, e := range strings.Split(key, "/") {
		if strings.HasPrefix(e, ".") {
			return fmt.Errorf("bucket: key %q has an element starting with a dot", key)
		}
	}
	return nil
}

// limit returns r limited to length bytes (length < 0: all of it).
func limit(r io.Reader, length int64) io.Reader {
	if length < 0 {
		return r
	}
	return io.LimitReader(r, length)
}

// readCloser is a reader and what closes it.
type readCloser struct {
	io.Reader
	io.Closer
}
