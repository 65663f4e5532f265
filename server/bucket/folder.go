package bucket

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// folder keeps each object as the file root/key (mode 0600, folders 0700).
// A writer writes a hidden temporary file beside it, syncs it and renames
// it over the key, then syncs the folder: an object Close accepted is
// whole on the disk, and a reader never sees half of one.
type folder struct {
	root string
}

// folderParams are the query parameters a file:// URL may carry: those of
// gocloud.dev/blob's fileblob, which earlier versions wrote into the
// configuration; the folder behaves as they asked either way.
var folderParams = map[string]bool{"create_dir": true, "no_tmp_dir": true, "dir_file_mode": true, "metadata": true, "base_url": true, "secret_key_path": true}

// FolderURL is the URL of a folder of this machine (an absolute path).
func FolderURL(dir string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
}

// openFolder opens the folder of a file:// URL, creating it if missing.
func openFolder(_ context.Context, u *url.URL) (Bucket, error) {
	for k := range u.Query() {
		if !folderParams[k] {
			return nil, fmt.Errorf("bucket: %s: a file:// folder takes no parameter %q", u.Redacted(), k)
		}
	}
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("bucket: %s: a file:// folder is on this machine (file:///a/folder)", u.Redacted())
	}
	root := filepath.FromSlash(u.Path)
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("bucket: %s: the folder must be an absolute path (file:///a/folder)", u.Redacted())
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("bucket: create the folder: %w", err)
	}
	return &folder{root: root}, nil
}

func (f *folder) file(key string) string { return filepath.Join(f.root, filepath.FromSlash(key)) }

func (f *folder) NewWriter(ctx context.Context, key string) (io.WriteCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	name := f.file(key)
	var tmp *os.File
	err := inFolder(filepath.Dir(name), func() (err error) {
		tmp, err = os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bucket: new object %s: %w", key, err)
	}
	return &folderWriter{ctx: ctx, tmp: tmp, name: name, key: key}, nil
}

// inFolder makes dir (mode 0700) and runs create in it. A deletion beside
// this may remove dir again before create runs (it removes the folders it
// empties): create is tried again, in dir made again, when it finds no such
// file or folder.
func inFolder(dir string, create func() error) error {
	var err error
	for range 3 {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err = create(); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// folderWriter writes an object into its temporary file.
type folderWriter struct {
	ctx  context.Context
	tmp  *os.File
	name string
	key  string
	err  error
}

func (w *folderWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = err
		return 0, err
	}
	n, err := w.tmp.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *folderWriter) Close() error {
	if w.tmp == nil {
		return errors.New("bucket: writer closed twice")
	}
	tmp := w.tmp
	w.tmp = nil
	err := w.err
	if err == nil {
		err = w.ctx.Err()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), w.name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("bucket: write %s: %w", w.key, err)
	}
	return syncDir(filepath.Dir(w.name))
}

// syncDir syncs a folder, so that a rename in it is on the disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bucket: sync folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("bucket: sync folder: %w", err)
	}
	return nil
}

func (f *folder) NewRangeReader(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	file, err := os.Open(f.file(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("bucket: read %s: %w", key, err)
	}
	if offset > 0 {
		if _, err := file.Seek(offset, io.SeekStart); err != nil {
			file.Close()
			return nil, fmt.Errorf("bucket: read %s: %w", key, err)
		}
	}
	return readCloser{limit(file, length), file}, nil
}

func (f *folder) Link(_ context.Context, from, to string) error {
	if err := checkKey(from); err != nil {
		return err
	}
	if err := checkKey(to); err != nil {
		return err
	}
	src, dst := f.file(from), f.file(to)
	// A temporary name first, renamed over to: to is replaced whole, and
	// a crash leaves either the old object or the new one.
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+"."+randomSuffix()+".tmp")
	err := inFolder(filepath.Dir(dst), func() error {
		if err := os.Link(src, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			_ = os.Remove(tmp)
			return err
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, from)
	}
	if err != nil {
		return fmt.Errorf("bucket: link %s to %s: %w", from, to, err)
	}
	return syncDir(filepath.Dir(dst))
}

// randomSuffix is a few random hex digits, for a temporary name.
func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (f *folder) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	name := f.file(key)
	err := os.Remove(name)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return fmt.Errorf("bucket: delete %s: %w", key, err)
	}
	f.prune(filepath.Dir(name))
	return nil
}

// prune removes dir and the folders above it that are empty, up to the
// root: those a deletion emptied (an account's folder, an upload's); one
// that is not empty stays.
func (f *folder) prune(dir string) {
	for ; dir != f.root && strings.HasPrefix(dir, f.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return
		}
	}
}

func (f *folder) List(ctx context.Context, prefix string) ([]string, error) {
	// Only the folder the prefix names is walked.
	start := f.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		dir := prefix[:i]
		if checkKey(dir) != nil {
			return nil, nil // no key is under it
		}
		start = f.file(dir)
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone meanwhile, or never there
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != start {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a writer's temporary file
		}
		rel, err := filepath.Rel(f.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip a folder no key under which can start with prefix.
			if p != start && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bucket: list %s: %w", prefix, err)
	}
	slices.Sort(keys) // the walk's order is by element, not by key
	return keys, nil
}

func (f *folder) Close() error { return nil }
