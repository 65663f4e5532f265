package micloud

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"misetup/api"
)

// Remote is Mi Cloud on the service; *client.Client satisfies it.
type Remote interface {
	Changes(ctx context.Context, category string, cursor int64, limit int) (api.Changes, error)
	// ChangesWithoutData is Changes without the items' data.
	ChangesWithoutData(ctx context.Context, category string, cursor int64, limit int) (api.Changes, error)
	// PutItem writes an item based on its version (0: a new item).
	PutItem(ctx context.Context, category, id string, version int64, w api.ItemWrite) (api.Item, error)
	// DeleteItem deletes the item at its version (a tombstone stays).
	DeleteItem(ctx context.Context, category, id string, version int64) (api.Item, error)
	// WriteItems makes writes of small items in one request, each under
	// its version; the results are in their order.
	WriteItems(ctx context.Context, category string, writes []api.BatchWrite) ([]api.BatchResult, error)
	// UploadBlob sends size bytes of r, whose SHA-256 is sum, resuming an
	// upload begun earlier.
	UploadBlob(ctx context.Context, r io.ReaderAt, size int64, sum string) error
	// DownloadBlob writes the blob sum to w from byte from on.
	DownloadBlob(ctx context.Context, sum string, w io.Writer, from int64) (int64, error)
}

// partialSuffix marks a file being written: it is not an item, and it
// becomes the file only once whole.
const partialSuffix = ".misetup-partial"

// changesPage is how many changes one request reads.
const changesPage = 200

// Progress is where a sync is, for a progress bar.
type Progress struct {
	Category    string
	Item        string // the item moving now
	Done, Total int64  // bytes of the items to move in this pass
	Items, Of   int    // items moved, of
}

// Report is what one sync of a category did.
type Report struct {
	Category                  string
	Downloaded, Uploaded      int
	DeletedHere, DeletedThere int
	// Conflicts are the copies made of items changed on both sides.
	Conflicts []string
	Bytes     int64 // moved either way
	Took      time.Duration
}

// Syncer syncs categories between their folders and the service.
type Syncer struct {
	Remote Remote
	// StateDir keeps what was last synced (misetup's XDG state dir).
	StateDir string
	// Device names this computer in conflict copies ("Ann's laptop").
	Device string
	// Progress, when set, is told where a sync is.
	Progress func(Progress)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Sync syncs one category both ways: the service's changes come down
// first, then this computer's go up; a change made on both sides since the
// last sync keeps both. It can be stopped at any point (ctx): what was
// done is kept, and the next sync goes on from there.
func (s *Syncer) Sync(ctx context.Context, f Folder) (Report, error) {
	return s.run(ctx, f, func(st *state, rep *Report) error {
		// A write the service refused as stale means it changed
		// meanwhile: read its changes again, then send ours (a few rounds
		// at most).
		for round := 0; ; round++ {
			if err := s.pull(ctx, f, st, rep); err != nil {
				return err
			}
			again, err := s.push(ctx, f, st, rep)
			if err != nil || !again || round >= 3 {
				return err
			}
		}
	})
}

// Restore brings the category's items from the service to its folder,
// sending nothing up: a new device's first restore. Stopped, it goes on
// where it stopped (what came down is kept, a file cut off resumes).
func (s *Syncer) Restore(ctx context.Context, f Folder) (Report, error) {
	return s.run(ctx, f, func(st *state, rep *Report) error { return s.pull(ctx, f, st, rep) })
}

// run does work on the category's folder and state, and keeps the state
// with how it ended: the time of a finished sync, or what stopped it.
func (s *Syncer) run(ctx context.Context, f Folder, work func(st *state, rep *Report) error) (Report, error) {
	start := s.now()
	rep := Report{Category: f.Category}
	st, err := loadState(s.StateDir, f.Category)
	if err != nil {
		return rep, err
	}
	if err := os.MkdirAll(f.Root, 0o755); err != nil {
		return rep, fmt.Errorf("%s folder: %w", f.Category, err)
	}
	err = work(st, &rep)
	st.LastError = ""
	if err != nil {
		st.LastError = err.Error()
	} else {
		st.LastSync = s.now()
	}
	if serr := st.save(s.StateDir, f.Category); err == nil {
		err = serr
	}
	rep.Took = s.now().Sub(start)
	return rep, err
}

// pull applies the service's changes since the cursor.
func (s *Syncer) pull(ctx context.Context, f Folder, st *state, rep *Report) error {
	for {
		ch, err := s.Remote.Changes(ctx, f.Category, st.Cursor, changesPage)
		if err != nil {
			return fmt.Errorf("read changes of %s: %w", f.Category, err)
		}
		var total int64
		for _, it := range ch.Items {
			total += it.Size
		}
		p := Progress{Category: f.Category, Total: total, Of: len(ch.Items)}
		for _, it := range ch.Items {
			p.Item = it.ID
			s.report(p)
			if err := s.applyRemote(ctx, f, st, it, rep); err != nil {
				return err
			}
			p.Done += it.Size
			p.Items++
			st.Cursor = max(st.Cursor, it.Change)
		}
		st.Cursor = max(st.Cursor, ch.Cursor)
		if err := st.save(s.StateDir, f.Category); err != nil {
			return err
		}
		if !ch.More || len(ch.Items) == 0 {
			return nil
		}
	}
}

// applyRemote applies one of the service's changes to the folder.
func (s *Syncer) applyRemote(ctx context.Context, f Folder, st *state, it api.Item, rep *Report) error {
	base, known := st.Items[it.ID]
	if known && base.Version >= it.Version {
		return nil // this computer made that change, or has seen it
	}
	if !f.Has(it.ID) || !safeID(it.ID) {
		return nil // not an item this computer keeps (another kind of file)
	}
	p := filepath.Join(f.Root, filepath.FromSlash(it.ID))
	local, exists, err := fileState(p, base, known)
	if err != nil {
		return err
	}
	changedHere := (exists && (!known || local.SHA256 != base.SHA256)) || (!exists && known)
	if it.Deleted {
		switch {
		case !exists:
		case !changedHere:
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("delete %s: %w", it.ID, err)
			}
			rep.DeletedHere++
		}
		// A file changed here since stays, and goes up again as new.
		delete(st.Items, it.ID)
		return nil
	}
	if exists && local.SHA256 == it.SHA256 {
		st.Items[it.ID] = entry{Version: it.Version, SHA256: it.SHA256, Size: local.Size, ModTime: local.ModTime}
		return nil // the same content on both sides
	}
	if exists && changedHere {
		// Changed on both sides: this computer's version is kept as a copy
		// named after it, which goes up as an item of its own.
		c, err := s.conflictCopy(p)
		if err != nil {
			return err
		}
		rep.Conflicts = append(rep.Conflicts, c)
	}
	e, err := s.download(ctx, f, it, p)
	if err != nil {
		return err
	}
	st.Items[it.ID] = e
	rep.Downloaded++
	rep.Bytes += it.Size
	return nil
}

// download writes the item's content to p, whole or not at all (a partial
// file renamed over p once complete; a download cut off resumes).
func (s *Syncer) download(ctx context.Context, f Folder, it api.Item, p string) (entry, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return entry{}, fmt.Errorf("write %s: %w", it.ID, err)
	}
	tmp := p + partialSuffix
	if !f.Files() {
		if err := os.WriteFile(tmp, it.Data, 0o644); err != nil {
			return entry{}, fmt.Errorf("write %s: %w", it.ID, err)
		}
	} else {
		file, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return entry{}, fmt.Errorf("write %s: %w", it.ID, err)
		}
		from, _ := file.Seek(0, io.SeekEnd)
		if from > it.Size {
			from = 0
			if err := file.Truncate(0); err != nil {
				file.Close()
				return entry{}, err
			}
			_, _ = file.Seek(0, io.SeekStart)
		}
		if from < it.Size { // a whole partial file is only checked
			_, err = s.Remote.DownloadBlob(ctx, it.Blob, file, from)
		}
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return entry{}, fmt.Errorf("download %s: %w", it.ID, err)
		}
	}
	sum, size, err := hashFile(tmp)
	if err != nil {
		return entry{}, err
	}
	if sum != it.SHA256 {
		_ = os.Remove(tmp)
		return entry{}, fmt.Errorf("download %s: its content does not match its SHA-256; it will be fetched again", it.ID)
	}
	if err := os.Rename(tmp, p); err != nil {
		return entry{}, fmt.Errorf("write %s: %w", it.ID, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return entry{}, err
	}
	return entry{Version: it.Version, SHA256: sum, Size: size, ModTime: fi.ModTime()}, nil
}

// conflictCopy renames the file at p to a copy named after this device
// ("note (conflict from Ann's laptop 2026-12-02).md") and returns the
// copy's name.
func (s *Syncer) conflictCopy(p string) (string, error) {
	ext := filepath.Ext(p)
	stem := strings.TrimSuffix(p, ext)
	dev := strings.NewReplacer("/", "-", "\\", "-").Replace(cmp.Or(s.Device, "this computer"))
	name := fmt.Sprintf("%s (conflict from %s %s)%s", stem, dev, s.now().Format("2006-01-02"), ext)
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s (conflict from %s %s %d)%s", stem, dev, s.now().Format("2006-01-02"), i, ext)
	}
	if err := os.Rename(p, name); err != nil {
		return "", fmt.Errorf("keep the local version of %s: %w", filepath.Base(p), err)
	}
	return filepath.Base(name), nil
}

// push sends this computer's changes: new and changed files, and files
// deleted here. It reports whether the service refused one as stale (it
// changed there meanwhile: read its changes again, then try again).
func (s *Syncer) push(ctx context.Context, f Folder, st *state, rep *Report) (bool, error) {
	local, err := scan(f, st, true)
	if err != nil {
		return false, err
	}
	var work []localFile
	var total int64
	for _, lf := range local {
		if base, ok := st.Items[lf.id]; !ok || base.SHA256 != lf.SHA256 {
			work = append(work, lf)
			total += lf.Size
		}
	}
	if !f.Files() {
		return s.pushItems(ctx, f, st, rep, local, work, total)
	}
	stale, saveSoon := false, s.stateSaver(st, f)
	p := Progress{Category: f.Category, Total: total, Of: len(work)}
	for _, lf := range work {
		p.Item = lf.id
		s.report(p)
		done := p.Done
		it, err := s.upload(ctx, f, st, lf, func(n int64) { p.Done = done + n; s.report(p) })
		switch {
		case errors.Is(err, api.ErrConflict):
			stale = true
		case err != nil:
			return false, err
		default:
			st.Items[lf.id] = entry{Version: it.Version, SHA256: lf.SHA256, Size: lf.Size, ModTime: lf.ModTime}
			rep.Uploaded++
			rep.Bytes += lf.Size
		}
		p.Done, p.Items = done+lf.Size, p.Items+1
		if err := saveSoon(); err != nil {
			return false, err
		}
	}
	// Deleted here: deleted there, unless it changed there meanwhile.
	for _, id := range deletedHere(f, st, local) {
		_, err := s.Remote.DeleteItem(ctx, f.Category, id, st.Items[id].Version)
		switch {
		case errors.Is(err, api.ErrConflict):
			stale = true
			delete(st.Items, id) // it comes back down with its new version
		case errors.Is(err, api.ErrNotFound):
			delete(st.Items, id)
		case err != nil:
			return false, fmt.Errorf("delete %s on the service: %w", id, err)
		default:
			delete(st.Items, id)
			rep.DeletedThere++
		}
	}
	return stale, st.save(s.StateDir, f.Category)
}

// stateSaver returns what keeps st while items are sent: about once a
// second, not after each item (the state holds every item: saved each
// time, a first backup of many small items would write it over and over).
// An item sent but not yet kept is found again at the next sync: the
// service has it, with the same content, and nothing is sent twice.
func (s *Syncer) stateSaver(st *state, f Folder) func() error {
	saved := time.Now()
	return func() error {
		if time.Since(saved) < time.Second {
			return nil
		}
		saved = time.Now()
		return st.save(s.StateDir, f.Category)
	}
}

// deletedHere are the items last synced that this computer no longer has.
func deletedHere(f Folder, st *state, local map[string]localFile) []string {
	var ids []string
	for id := range st.Items {
		if _, ok := local[id]; !ok && f.Has(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Batches of small items: at most api.MaxBatchWrites writes and about
// batchData bytes of data (what the service takes in one batch).
const batchData = 1 << 20

// pushItems is push for a category of small items (notes, contacts, ...):
// the changed and the deleted go in batches, each one request and one
// transaction of the service.
func (s *Syncer) pushItems(ctx context.Context, f Folder, st *state, rep *Report, local map[string]localFile, work []localFile, total int64) (bool, error) {
	deleted := deletedHere(f, st, local)
	p := Progress{Category: f.Category, Total: total, Of: len(work) + len(deleted)}
	stale, saveSoon := false, s.stateSaver(st, f)
	var (
		writes []api.BatchWrite
		files  []localFile // of writes, the file each sends (none: a deletion)
		data   int64
	)
	flush := func() error {
		if len(writes) == 0 {
			return nil
		}
		results, err := s.Remote.WriteItems(ctx, f.Category, writes)
		if err != nil {
			return fmt.Errorf("send %d items: %w", len(writes), err)
		}
		var refused error
		for i, r := range results {
			id, lf := writes[i].ID, files[i]
			switch {
			case r.Error == nil && r.Item != nil && writes[i].Delete:
				delete(st.Items, id)
				rep.DeletedThere++
			case r.Error == nil && r.Item != nil:
				st.Items[id] = entry{Version: r.Item.Version, SHA256: lf.SHA256, Size: lf.Size, ModTime: lf.ModTime}
				rep.Uploaded++
				rep.Bytes += lf.Size
			case errors.Is(r.Error, api.ErrConflict):
				stale = true
				if writes[i].Delete {
					delete(st.Items, id) // it comes back down with its new version
				}
			case errors.Is(r.Error, api.ErrNotFound) && writes[i].Delete:
				delete(st.Items, id)
			case refused == nil:
				refused = fmt.Errorf("send %s: %w", id, r.Error)
			}
			p.Done, p.Items = p.Done+lf.Size, p.Items+1
		}
		writes, files, data = writes[:0], files[:0], 0
		s.report(p)
		if err := saveSoon(); err != nil {
			return err
		}
		return refused
	}
	add := func(w api.BatchWrite, lf localFile) error {
		if len(writes) == api.MaxBatchWrites || data+int64(len(w.Data)) > batchData {
			if err := flush(); err != nil {
				return err
			}
		}
		writes, files, data = append(writes, w), append(files, lf), data+int64(len(w.Data))
		return nil
	}
	s.report(p)
	// Whatever happens, the state keeps what the service made.
	err := func() error {
		for _, lf := range work {
			data, err := os.ReadFile(lf.path)
			if err != nil {
				return fmt.Errorf("read %s: %w", lf.id, err)
			}
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != lf.SHA256 {
				stale = true // changed while it was read: it goes at the next try
				continue
			}
			w := api.BatchWrite{ID: lf.id, ItemWrite: api.ItemWrite{Name: filepath.Base(lf.path), Data: data}}
			if base, ok := st.Items[lf.id]; ok {
				w.Version = base.Version
			}
			if err := add(w, lf); err != nil {
				return err
			}
		}
		for _, id := range deleted {
			if err := add(api.BatchWrite{ID: id, Version: st.Items[id].Version, Delete: true}, localFile{id: id}); err != nil {
				return err
			}
		}
		return flush()
	}()
	if serr := st.save(s.StateDir, f.Category); err == nil {
		err = serr
	}
	return stale, err
}

// upload sends one file of a file category: its blob, then the item based
// on the version last synced (or as new).
func (s *Syncer) upload(ctx context.Context, f Folder, st *state, lf localFile, progress func(int64)) (api.Item, error) {
	name := filepath.Base(lf.path)
	file, err := os.Open(lf.path)
	if err != nil {
		return api.Item{}, fmt.Errorf("read %s: %w", lf.id, err)
	}
	err = s.Remote.UploadBlob(ctx, &readCounter{r: file, seen: progress}, lf.Size, lf.SHA256)
	file.Close()
	if err != nil {
		return api.Item{}, fmt.Errorf("upload %s: %w", lf.id, err)
	}
	w := api.ItemWrite{Name: name, Blob: lf.SHA256, Size: lf.Size, ContentType: mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))}
	var version int64
	if base, ok := st.Items[lf.id]; ok {
		version = base.Version
	}
	it, err := s.Remote.PutItem(ctx, f.Category, lf.id, version, w)
	if err != nil && !errors.Is(err, api.ErrConflict) {
		return api.Item{}, fmt.Errorf("send %s: %w", lf.id, err)
	}
	return it, err
}

// readCounter tells seen how far into a file an upload has read.
type readCounter struct {
	r    io.ReaderAt
	seen func(int64)
	max  int64
}

func (c *readCounter) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	if end := off + int64(n); end > c.max {
		c.max = end
		c.seen(end)
	}
	return n, err
}

// report tells the progress callback, when there is one.
func (s *Syncer) report(p Progress) {
	if s.Progress != nil {
		s.Progress(p)
	}
}

// localFile is an item of the folder as it is now.
type localFile struct {
	entry
	id, path string
}

// scan lists the folder's items; a file whose size and time match the last
// sync keeps its known SHA-256 (it is not read again). Without hash, a file
// whose size or time changed is not read either: its SHA-256 is left
// empty, which differs from any synced one.
func scan(f Folder, st *state, hash bool) (map[string]localFile, error) {
	out := map[string]localFile{}
	err := filepath.WalkDir(f.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == f.Root {
				return err
			}
			return nil // an unreadable subfolder: its items wait
		}
		if d.IsDir() {
			if p != f.Root && (strings.HasPrefix(d.Name(), ".") || f.Only != "") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(f.Root, p)
		if err != nil {
			return nil
		}
		id := filepath.ToSlash(rel)
		if !d.Type().IsRegular() || !f.Has(id) || !safeID(id) {
			return nil
		}
		base, known := st.Items[id]
		if !hash {
			if fi, err := d.Info(); err == nil && (!known || fi.Size() != base.Size || !fi.ModTime().Equal(base.ModTime)) {
				out[id] = localFile{entry: entry{Size: fi.Size(), ModTime: fi.ModTime()}, id: id, path: p}
				return nil
			}
		}
		e, exists, err := fileState(p, base, known)
		if err != nil || !exists {
			return err
		}
		out[id] = localFile{entry: e, id: id, path: p}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the %s folder: %w", f.Category, err)
	}
	return out, nil
}

// fileState is the file at p now: its SHA-256 is base's when its size and
// time are base's, read otherwise.
func fileState(p string, base entry, known bool) (entry, bool, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return entry{}, false, nil
	}
	if err != nil {
		return entry{}, false, err
	}
	if known && fi.Size() == base.Size && fi.ModTime().Equal(base.ModTime) {
		return entry{SHA256: base.SHA256, Size: base.Size, ModTime: base.ModTime}, true, nil
	}
	sum, size, err := hashFile(p)
	if err != nil {
		return entry{}, false, err
	}
	return entry{SHA256: sum, Size: size, ModTime: fi.ModTime()}, true, nil
}

// hashFile is the hex SHA-256 and size of the file at p.
func hashFile(p string) (string, int64, error) {
	file, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer file.Close()
	h := sha256.New()
	n, err := io.Copy(h, file)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", filepath.Base(p), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// safeID reports whether an item id is a path inside its folder: relative,
// clean, without .. (an item from the service never writes elsewhere).
func safeID(id string) bool {
	return id != "" && !strings.HasPrefix(id, "/") && path.Clean(id) == id && id != ".." &&
		!strings.HasPrefix(id, "../") && !strings.Contains(id, "\\") && !strings.ContainsRune(id, 0)
}
