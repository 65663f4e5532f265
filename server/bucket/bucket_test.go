package bucket

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testBucket is what every kind of bucket must do, as the server uses it:
// objects written whole or not at all, read by ranges, listed by prefix,
// deleted, a missing one ErrNotFound.
func testBucket(t *testing.T, b Bucket) {
	ctx := context.Background()
	put := func(key string, data []byte) {
		t.Helper()
		w, err := b.NewWriter(ctx, key)
		if err != nil {
			t.Fatalf("new writer %s: %v", key, err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatalf("write %s: %v", key, err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("close %s: %v", key, err)
		}
	}
	read := func(key string, off, n int64) ([]byte, error) {
		t.Helper()
		r, err := b.NewRangeReader(ctx, key, off, n)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	}
	list := func(prefix string) []string {
		t.Helper()
		keys, err := b.List(ctx, prefix)
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		return keys
	}

	data := make([]byte, 300_000)
	rand.Read(data)
	put("1001/aa", data)
	put("1001/uploads/u1.00000000000000000000.x", []byte("part one"))
	put("1001/uploads/u1.00000000000000000008.y", []byte("part two"))
	put("1001/uploads/u10.00000000000000000000.z", []byte("another upload"))
	put("1002/aa", []byte("someone else"))

	t.Run("ranges", func(t *testing.T) {
		for _, c := range []struct{ off, n int64 }{{0, -1}, {0, 10}, {1000, 5000}, {299_990, -1}, {299_990, 10}, {299_999, 1}} {
			got, err := read("1001/aa", c.off, c.n)
			if err != nil {
				t.Fatalf("read %d+%d: %v", c.off, c.n, err)
			}
			end := int64(len(data))
			if c.n >= 0 {
				end = c.off + c.n
			}
			if !bytes.Equal(got, data[c.off:end]) {
				t.Errorf("read %d+%d: %d bytes, not the object's", c.off, c.n, len(got))
			}
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := read("1001/bb", 0, -1); !errors.Is(err, ErrNotFound) {
			t.Errorf("read of a missing object: %v, want ErrNotFound", err)
		}
		if err := b.Delete(ctx, "1001/bb"); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete of a missing object: %v, want ErrNotFound", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		if got, want := list("1001/uploads/u1."), []string{"1001/uploads/u1.00000000000000000000.x", "1001/uploads/u1.00000000000000000008.y"}; !slices.Equal(got, want) {
			t.Errorf("an upload's parts: %q, want %q", got, want)
		}
		if got := list("1001/"); len(got) != 4 || got[0] != "1001/aa" {
			t.Errorf("an account's objects: %q", got)
		}
		if got := list("1003/"); len(got) != 0 {
			t.Errorf("nobody's objects: %q", got)
		}
		if got := list(""); len(got) != 5 {
			t.Errorf("every object: %q", got)
		}
	})
	t.Run("replace", func(t *testing.T) {
		put("1002/aa", []byte("replaced"))
		if got, _ := read("1002/aa", 0, -1); string(got) != "replaced" {
			t.Errorf("replaced object reads %q", got)
		}
	})
	t.Run("abandoned", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		w, err := b.NewWriter(cctx, "1002/aa")
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("half of somethi"))
		cancel()
		if err := w.Close(); err == nil {
			t.Error("a writer whose context ended closed without an error")
		}
		if got, _ := read("1002/aa", 0, -1); string(got) != "replaced" {
			t.Errorf("after an abandoned write the object reads %q", got)
		}
		if got := list("1002/"); !slices.Equal(got, []string{"1002/aa"}) {
			t.Errorf("after an abandoned write: %q", got)
		}
	})
	t.Run("together", func(t *testing.T) {
		// Writers and deleters of one folder at once: every write that
		// returned is there whole.
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 20 {
			key := "1004/uploads/v." + strings.Repeat("0", 19) + string(rune('a'+i))
			wg.Go(func() {
				w, err := b.NewWriter(ctx, key)
				if err == nil {
					_, err = w.Write([]byte(key))
				}
				if err == nil {
					err = w.Close()
				}
				errs <- err
			})
			wg.Go(func() { _ = b.Delete(ctx, "1004/uploads/gone") })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if got := list("1004/"); len(got) != 20 {
			t.Errorf("%d of 20 objects written together", len(got))
		}
	})
	if l, ok := b.(Linker); ok {
		t.Run("link", func(t *testing.T) {
			put("1005/uploads/w.00000000000000000000.p", []byte("the part"))
			put("1005/bb", []byte("an older copy"))
			if err := l.Link(ctx, "1005/uploads/w.00000000000000000000.p", "1005/bb"); err != nil {
				t.Fatal(err)
			}
			if got, _ := read("1005/bb", 0, -1); string(got) != "the part" {
				t.Errorf("linked object reads %q", got)
			}
			// Each key can go apart; the other stays.
			if err := b.Delete(ctx, "1005/uploads/w.00000000000000000000.p"); err != nil {
				t.Fatal(err)
			}
			if got, _ := read("1005/bb", 0, -1); string(got) != "the part" {
				t.Errorf("after the first key went, the second reads %q", got)
			}
			if got := list("1005/"); !slices.Equal(got, []string{"1005/bb"}) {
				t.Errorf("after a link and a deletion: %q", got)
			}
			if err := l.Link(ctx, "1005/uploads/gone", "1005/cc"); !errors.Is(err, ErrNotFound) {
				t.Errorf("link of a missing object: %v", err)
			}
			if err := b.Delete(ctx, "1005/bb"); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		for _, k := range list("1001/") {
			if err := b.Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if got := list("1001/"); len(got) != 0 {
			t.Errorf("after deleting an account's objects: %q", got)
		}
		if _, err := read("1001/aa", 0, -1); !errors.Is(err, ErrNotFound) {
			t.Errorf("a deleted object reads: %v", err)
		}
	})
	t.Run("keys", func(t *testing.T) {
		for _, k := range []string{"", "/abs", "a/../b", "a//b", ".hidden", "a/.tmp", "a/"} {
			if _, err := b.NewWriter(ctx, k); err == nil {
				t.Errorf("key %q was taken", k)
			}
		}
	})
}

func TestMemory(t *testing.T) { testBucket(t, NewMemory()) }

func TestFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	b, err := Open(context.Background(), FolderURL(dir))
	if err != nil {
		t.Fatal(err)
	}
	testBucket(t, b)
	// What is left on the disk: no temporary file, no folder emptied by
	// the deletions, nothing anyone else can read.
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v", p, perm)
		}
		rel, _ := filepath.Rel(dir, p)
		left = append(left, filepath.ToSlash(rel))
		return nil
	})
	if want := []string{".", "1002", "1002/aa", "1004", "1004/uploads"}; !slices.Equal(left[:5], want) || len(left) != 25 {
		t.Errorf("the folder holds %q", left)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, u := range []string{"", "mem://", FolderURL(dir), "file://" + dir + "?create_dir=1&no_tmp_dir=1&dir_file_mode=0700&metadata=skip"} {
		if b, err := Open(ctx, u); err != nil {
			t.Errorf("Open(%q): %v", u, err)
		} else {
			b.Close()
		}
	}
	for u, want := range map[string]string{
		"file:///x?colour=blue": `no parameter "colour"`,
		"file://host/x":         "on this machine",
		"gs://bucket":           `"gs"`,
		"::":                    "not a URL",
	} {
		if _, err := Open(ctx, u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q): %v, want an error saying %s", u, err, want)
		}
	}
}
