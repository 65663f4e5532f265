package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"misetup/server/store"
)

// note is the write that creates or changes the note id of miID to data,
// under the condition ifVersion (0: create).
func note(miID, id, data string, ifVersion int64) *store.ItemWrite {
	w := &store.ItemWrite{
		Item: store.CloudItem{MiID: miID, Category: "notes", ID: id, Name: "Note " + id,
			Data: []byte(data), Size: int64(len(data)), SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(data))), DeviceID: "phone", UpdatedAt: at(time.Minute)},
		IfVersion:    ifVersion,
		IfAbsent:     ifVersion == 0,
		DefaultQuota: 1 << 20,
	}
	return w
}

// wantConflict fails t unless err is a *store.VersionConflict with the item
// at version.
func wantConflict(t *testing.T, what string, err error, version int64) {
	t.Helper()
	var vc *store.VersionConflict
	if !errors.As(err, &vc) || !errors.Is(err, store.ErrStale) {
		t.Fatalf("%s: err = %v, want a *store.VersionConflict", what, err)
	}
	if vc.Current == nil || vc.Current.Version != version {
		t.Fatalf("%s: conflict carries %+v, want the item at version %d", what, vc.Current, version)
	}
}

// wantUsage fails t unless the account's use is want (by category).
func wantUsage(t *testing.T, s store.Store, miID string, want map[string]int64) {
	t.Helper()
	got, err := s.Usage(t.Context(), miID)
	check(t, "usage", err)
	for c, n := range got {
		if n == 0 {
			delete(got, c)
		}
	}
	wantEqual(t, "usage of "+miID, got, want)
}

func testCloudItems(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "910000001", "ana@example.com", "")

	created, err := s.PutItem(ctx, note("910000001", "n1", "hello", 0))
	check(t, "create", err)
	if created.Version != 1 || created.Seq != 1 || created.Deleted || string(created.Data) != "hello" {
		t.Fatalf("created %+v, want version 1, change 1", created)
	}
	got, err := s.Item(ctx, "910000001", "notes", "n1")
	check(t, "read", err)
	want := *created
	want.UpdatedAt = tm(want.UpdatedAt)
	got.UpdatedAt = tm(got.UpdatedAt)
	wantEqual(t, "item read back", *got, want)

	_, err = s.PutItem(ctx, note("910000001", "n1", "again", 0))
	wantConflict(t, "create over a live item", err, 1)
	_, err = s.PutItem(ctx, note("910000001", "missing", "x", 3))
	wantErr(t, "change of no item", err, store.ErrNotFound)

	changed, err := s.PutItem(ctx, note("910000001", "n1", "hello, world", 1))
	check(t, "change at version 1", err)
	if changed.Version != 2 || changed.Seq != 2 {
		t.Fatalf("changed %+v, want version 2, change 2", changed)
	}
	_, err = s.PutItem(ctx, note("910000001", "n1", "stale", 1))
	wantConflict(t, "change at a stale version", err, 2)
	if got, _ := s.Item(ctx, "910000001", "notes", "n1"); string(got.Data) != "hello, world" {
		t.Fatalf("a refused write changed the item: %q", got.Data)
	}
	wantUsage(t, s, "910000001", map[string]int64{"notes": 12})

	// Empty data is stored as none.
	empty, err := s.PutItem(ctx, note("910000001", "n2", "", 0))
	check(t, "empty item", err)
	if got, _ := s.Item(ctx, "910000001", "notes", "n2"); got.Data != nil || got.Size != 0 || empty.Seq != 3 {
		t.Errorf("empty item read back %+v (change %d)", got, empty.Seq)
	}

	_, err = s.DeleteItem(ctx, "910000001", "notes", "n1", 1, "laptop", at(2*time.Minute))
	wantConflict(t, "delete at a stale version", err, 2)
	tomb, err := s.DeleteItem(ctx, "910000001", "notes", "n1", 2, "laptop", at(2*time.Minute))
	check(t, "delete", err)
	if !tomb.Deleted || tomb.Version != 3 || tomb.Seq != 4 || tomb.Data != nil || tomb.Size != 0 || tomb.DeviceID != "laptop" {
		t.Fatalf("tombstone %+v, want deleted at version 3, change 4, no data", tomb)
	}
	wantUsage(t, s, "910000001", map[string]int64{})
	again, err := s.DeleteItem(ctx, "910000001", "notes", "n1", 3, "laptop", at(3*time.Minute))
	check(t, "delete a tombstone again", err)
	if again.Version != 3 || again.Seq != 4 {
		t.Errorf("deleting a tombstone again changed it: %+v", again)
	}
	_, err = s.DeleteItem(ctx, "910000001", "notes", "missing", 1, "laptop", at(3*time.Minute))
	wantErr(t, "delete of no item", err, store.ErrNotFound)

	// A tombstone may be created over, and its version goes on.
	back, err := s.PutItem(ctx, note("910000001", "n1", "back", 0))
	check(t, "create over a tombstone", err)
	if back.Version != 4 || back.Seq != 5 || back.Deleted {
		t.Errorf("item created over its tombstone %+v, want version 4, change 5", back)
	}
	// Another account's items are its own: same id, own versions and changes.
	newAccount(t, s, "910000002", "bo@example.com", "")
	other, err := s.PutItem(ctx, note("910000002", "n1", "bo", 0))
	check(t, "other account", err)
	if other.Version != 1 || other.Seq != 1 {
		t.Errorf("other account's item %+v, want version 1, change 1", other)
	}
	_, err = s.PutItem(ctx, note("999999999", "n1", "nobody", 0))
	wantErr(t, "item of no account", err, store.ErrNotFound)
	_, err = s.Item(ctx, "910000002", "notes", "n2")
	wantErr(t, "item of another account", err, store.ErrNotFound)
}

func testCloudChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "910000011", "ana@example.com", "")
	for i := range 5 {
		_, err := s.PutItem(ctx, note("910000011", fmt.Sprint("n", i), fmt.Sprintf("note %d", i), 0))
		check(t, "create", err)
	}
	contact := note("910000011", "c1", "BEGIN:VCARD", 0)
	contact.Item.Category = "contacts"
	_, err := s.PutItem(ctx, contact)
	check(t, "contact", err)
	_, err = s.PutItem(ctx, note("910000011", "n1", "note 1, changed", 1))
	check(t, "change n1", err)
	_, err = s.DeleteItem(ctx, "910000011", "notes", "n3", 1, "phone", at(time.Hour))
	check(t, "delete n3", err)

	page := func(after int64, limit int, maxBytes int64) ([]string, []int64, bool) {
		t.Helper()
		items, more, err := s.ItemChanges(ctx, "910000011", "notes", after, limit, maxBytes, true)
		check(t, "changes", err)
		var ids []string
		var seqs []int64
		for _, it := range items {
			ids = append(ids, it.ID)
			seqs = append(seqs, it.Seq)
		}
		return ids, seqs, more
	}
	ids, seqs, more := page(0, 100, 1<<20)
	wantEqual(t, "all changes", ids, []string{"n0", "n2", "n4", "n1", "n3"})
	wantEqual(t, "their change numbers", seqs, []int64{1, 3, 5, 7, 8})
	if more {
		t.Error("all changes: more = true")
	}
	ids, seqs, more = page(0, 2, 1<<20)
	if !slices.Equal(ids, []string{"n0", "n2"}) || !more {
		t.Errorf("first page of 2: %v more=%v", ids, more)
	}
	ids, _, more = page(seqs[1], 2, 1<<20)
	if !slices.Equal(ids, []string{"n4", "n1"}) || !more {
		t.Errorf("second page of 2: %v more=%v", ids, more)
	}
	ids, _, more = page(7, 2, 1<<20)
	if !slices.Equal(ids, []string{"n3"}) || more {
		t.Errorf("last page: %v more=%v", ids, more)
	}
	ids, _, more = page(8, 2, 1<<20)
	if len(ids) != 0 || more {
		t.Errorf("after the last change: %v more=%v", ids, more)
	}
	// A byte budget ends a page early, but never before its first item.
	ids, _, more = page(0, 100, 1)
	if !slices.Equal(ids, []string{"n0"}) || !more {
		t.Errorf("page of 1 byte: %v more=%v", ids, more)
	}
	items, _, err := s.ItemChanges(ctx, "910000011", "notes", 7, 10, 1<<20, true)
	check(t, "tombstone", err)
	if len(items) != 1 || !items[0].Deleted || items[0].Data != nil {
		t.Errorf("the tombstone in the changes: %+v", items)
	}
	// Without data: the same items, sizes and versions, no bytes.
	items, _, err = s.ItemChanges(ctx, "910000011", "notes", 0, 100, 1<<20, false)
	check(t, "changes without data", err)
	if len(items) != 5 || items[3].ID != "n1" || items[3].Size != int64(len("note 1, changed")) || items[3].Version != 2 || items[3].SHA256 == "" {
		t.Errorf("changes without data: %+v", items)
	}
	for _, it := range items {
		if it.Data != nil {
			t.Errorf("%s has its data: %q", it.ID, it.Data)
		}
	}
}

// testCloudChangesRace: writers create items while a reader follows the
// changes with its cursor; once they are done the reader has seen every
// item. A change that committed after a later one was read would be
// skipped for good.
func testCloudChangesRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "910000021", "ana@example.com", "")
	const writers, each = 6, 10
	seen := map[string]bool{}
	var cursor int64
	read := func() {
		for {
			items, more, err := s.ItemChanges(ctx, "910000021", "notes", cursor, 7, 1<<20, true)
			if err != nil {
				t.Errorf("changes: %v", err)
				return
			}
			for _, it := range items {
				if it.Seq <= cursor {
					t.Errorf("change %d after cursor %d", it.Seq, cursor)
				}
				seen[it.ID] = true
				cursor = it.Seq
			}
			if !more {
				return
			}
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.PutItem(ctx, note("910000021", fmt.Sprintf("w%d-%d", w, i), "x", 0)); err != nil {
					t.Errorf("write: %v", err)
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			read()
		}
	}
	read()
	if len(seen) != writers*each {
		t.Errorf("the reader saw %d of %d items: a change was skipped", len(seen), writers*each)
	}
}

func testCloudQuota(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "910000031", "ana@example.com", "")
	check(t, "quota", s.PatchAccount(ctx, a.MiID, store.AccountPatch{QuotaBytes: ptr(int64(100))}))

	put := func(cat, id string, size int, ifVersion int64) (*store.CloudItem, error) {
		w := note(a.MiID, id, string(make([]byte, size)), ifVersion)
		w.Item.Category = cat
		return s.PutItem(ctx, w)
	}
	_, err := put("notes", "a", 60, 0)
	check(t, "60 of 100", err)
	_, err = put("contacts", "b", 40, 0)
	check(t, "100 of 100", err)
	_, err = put("contacts", "c", 1, 0)
	var qe *store.QuotaExceeded
	if !errors.As(err, &qe) {
		t.Fatalf("one byte over the quota: err = %v, want a *store.QuotaExceeded", err)
	}
	wantEqual(t, "refusal", *qe, store.QuotaExceeded{Quota: 100, Used: 100, ByCategory: map[string]int64{"notes": 60, "contacts": 40}, Need: 1})
	if _, err := s.Item(ctx, a.MiID, "contacts", "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused item was stored: %v", err)
	}
	// Shrinking passes, growing into the room it left passes.
	_, err = put("notes", "a", 10, 1)
	check(t, "shrink", err)
	_, err = put("contacts", "b", 90, 1)
	check(t, "grow into the room", err)
	wantUsage(t, s, a.MiID, map[string]int64{"notes": 10, "contacts": 90})
	_, err = s.DeleteItem(ctx, a.MiID, "contacts", "b", 2, "phone", at(time.Hour))
	check(t, "delete", err)
	wantUsage(t, s, a.MiID, map[string]int64{"notes": 10})

	// An account with no quota of its own has the default.
	b := newAccount(t, s, "910000032", "bo@example.com", "")
	check(t, "no quota", s.PatchAccount(ctx, b.MiID, store.AccountPatch{QuotaBytes: ptr(int64(0))}))
	w := note(b.MiID, "big", string(make([]byte, 50)), 0)
	w.DefaultQuota = 49
	_, err = s.PutItem(ctx, w)
	if !errors.As(err, &qe) || qe.Quota != 49 {
		t.Errorf("over the default quota: %v", err)
	}
}

// testCloudQuotaRace: writes that each fit alone but not all together,
// at once: exactly as many as fit are stored, and the use never passes the
// quota.
func testCloudQuotaRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "910000041", "ana@example.com", "")
	check(t, "quota", s.PatchAccount(ctx, a.MiID, store.AccountPatch{QuotaBytes: ptr(int64(1000))}))
	const n, size = 16, 150 // 6 fit
	var mu sync.Mutex
	stored, refused := 0, 0
	race(n, func(i int) {
		_, err := s.PutItem(ctx, note(a.MiID, fmt.Sprint("n", i), string(make([]byte, size)), 0))
		mu.Lock()
		defer mu.Unlock()
		var qe *store.QuotaExceeded
		switch {
		case err == nil:
			stored++
		case errors.As(err, &qe):
			refused++
			if qe.Used+size <= qe.Quota {
				t.Errorf("refused with room left: %+v", qe)
			}
		default:
			t.Errorf("write %d: %v", i, err)
		}
	})
	if stored != 6 || refused != n-6 {
		t.Errorf("%d writes of %d bytes at once under a quota of 1000: %d stored, %d refused; want 6 and %d", n, size, stored, refused, n-6)
	}
	wantUsage(t, s, a.MiID, map[string]int64{"notes": 6 * size})
}

// testCloudVersionRace: changes of one item at one version at once: one
// wins, every other gets the conflict with the winner's version.
func testCloudVersionRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "910000051", "ana@example.com", "")
	_, err := s.PutItem(ctx, note(a.MiID, "n", "first", 0))
	check(t, "create", err)
	const n = 12
	var mu sync.Mutex
	var won []string
	conflicts := 0
	race(n, func(i int) {
		it, err := s.PutItem(ctx, note(a.MiID, "n", fmt.Sprint("writer ", i), 1))
		mu.Lock()
		defer mu.Unlock()
		var vc *store.VersionConflict
		switch {
		case err == nil:
			won = append(won, string(it.Data))
		case errors.As(err, &vc) && vc.Current.Version == 2:
			conflicts++
		default:
			t.Errorf("writer %d: %v", i, err)
		}
	})
	if len(won) != 1 || conflicts != n-1 {
		t.Fatalf("%d changes at version 1 at once: %d won, %d conflicts; want 1 and %d", n, len(won), conflicts, n-1)
	}
	got, err := s.Item(ctx, a.MiID, "notes", "n")
	check(t, "read", err)
	if got.Version != 2 || string(got.Data) != won[0] {
		t.Errorf("item %+v, want the winner's %q at version 2", got, won[0])
	}
}

// upload starts an upload of size bytes of sha for miID.
func upload(t *testing.T, s store.Store, miID, id, sha string, size int64) *store.Upload {
	t.Helper()
	u, err := s.StartUpload(t.Context(), &store.Upload{ID: id, MiID: miID, SHA256: sha, Size: size,
		CreatedAt: t0, ExpiresAt: at(24 * time.Hour)}, 1<<20)
	check(t, "start upload "+id, err)
	return u
}

func testCloudUploads(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "910000061", "ana@example.com", "")
	check(t, "quota", s.PatchAccount(ctx, a.MiID, store.AccountPatch{QuotaBytes: ptr(int64(1000))}))

	u := upload(t, s, a.MiID, "up1", "sha-a", 300)
	if u.ID != "up1" || u.Received != 0 {
		t.Fatalf("new upload %+v", u)
	}
	// The same blob again: the open upload, to resume.
	if again := upload(t, s, a.MiID, "up2", "sha-a", 300); again.ID != "up1" {
		t.Errorf("a second upload of one blob got %q, want the open up1", again.ID)
	}
	part := func(pos, size int64) (*store.Upload, error) {
		return s.AddUploadPart(ctx, a.MiID, "up1", store.UploadPart{Pos: pos, Size: size, Key: fmt.Sprint("k", pos)}, at(time.Second), at(25*time.Hour))
	}
	got, err := part(0, 100)
	check(t, "first part", err)
	if got.Received != 100 || !got.ExpiresAt.Equal(tm(at(25*time.Hour))) {
		t.Errorf("after the first part %+v", got)
	}
	_, err = part(0, 100)
	var uc *store.UploadConflict
	if !errors.As(err, &uc) || uc.Current.Received != 100 {
		t.Fatalf("a part at a stale offset: %v, want an *store.UploadConflict at 100", err)
	}
	_, err = part(100, 250)
	if !errors.As(err, &uc) {
		t.Errorf("a part past the size: %v, want a conflict", err)
	}
	_, err = s.AddUploadPart(ctx, a.MiID, "nope", store.UploadPart{Pos: 0, Size: 1, Key: "k"}, at(time.Second), at(time.Hour))
	wantErr(t, "part of no upload", err, store.ErrNotFound)
	_, err = s.AddUploadPart(ctx, "910000099", "up1", store.UploadPart{Pos: 100, Size: 1, Key: "k"}, at(time.Second), at(time.Hour))
	wantErr(t, "part of another account's upload", err, store.ErrNotFound)
	_, err = s.FinishUpload(ctx, a.MiID, "up1", at(time.Minute))
	wantErr(t, "finish with bytes missing", err, store.ErrStale)

	// Room: 300 pending of 1000; 701 more does not fit, 700 does.
	_, err = s.StartUpload(ctx, &store.Upload{ID: "big", MiID: a.MiID, SHA256: "sha-big", Size: 701, CreatedAt: t0, ExpiresAt: at(time.Hour)}, 1<<20)
	var qe *store.QuotaExceeded
	if !errors.As(err, &qe) || qe.Pending != 300 || qe.Need != 701 || qe.Quota != 1000 {
		t.Errorf("an upload beside 300 pending bytes: %v, want a refusal", err)
	}
	upload(t, s, a.MiID, "fits", "sha-fits", 700)
	check(t, "drop", s.DeleteUpload(ctx, a.MiID, "fits"))
	wantErr(t, "drop again", s.DeleteUpload(ctx, a.MiID, "fits"), store.ErrNotFound)

	_, err = part(100, 200)
	check(t, "last part", err)
	parts, err := s.UploadParts(ctx, "up1")
	check(t, "parts", err)
	wantEqual(t, "parts", parts, []store.UploadPart{{Pos: 0, Size: 100, Key: "k0"}, {Pos: 100, Size: 200, Key: "k100"}})
	b, err := s.FinishUpload(ctx, a.MiID, "up1", at(time.Minute))
	check(t, "finish", err)
	if b.SHA256 != "sha-a" || b.Size != 300 || b.Refs != 0 {
		t.Errorf("blob %+v", b)
	}
	if _, err := s.Upload(ctx, a.MiID, "up1", at(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a finished upload is still there: %v", err)
	}
	if parts, _ := s.UploadParts(ctx, "up1"); len(parts) != 0 {
		t.Errorf("a finished upload's parts are still there: %v", parts)
	}
	if _, err := s.Blob(ctx, a.MiID, "sha-a"); err != nil {
		t.Errorf("blob: %v", err)
	}
	if _, err := s.Blob(ctx, "910000099", "sha-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another account's blob: %v", err)
	}
	_, err = s.StartUpload(ctx, &store.Upload{ID: "up3", MiID: a.MiID, SHA256: "sha-a", Size: 300, CreatedAt: t0, ExpiresAt: at(time.Hour)}, 1<<20)
	wantErr(t, "upload of a blob the account has", err, store.ErrBlobExists)
	pending, err := s.CloudPending(ctx, a.MiID, at(time.Minute))
	check(t, "pending", err)
	if pending != 300 {
		t.Errorf("pending %d, want the 300 bytes of a blob no item names", pending)
	}

	// Items name blobs: a blob of another size, or none, is refused.
	photo := func(id, sha string, size int64, ifVersion int64) *store.ItemWrite {
		w := note(a.MiID, id, "", ifVersion)
		w.Item.Category, w.Item.Data, w.Item.Blob, w.Item.Size, w.Item.SHA256 = "gallery", nil, sha, size, sha
		return w
	}
	_, err = s.PutItem(ctx, photo("p0", "sha-a", 299, 0))
	wantErr(t, "photo of the wrong size", err, store.ErrNoBlob)
	_, err = s.PutItem(ctx, photo("p0", "sha-none", 10, 0))
	wantErr(t, "photo of no blob", err, store.ErrNoBlob)
	_, err = s.PutItem(ctx, photo("p1", "sha-a", 300, 0))
	check(t, "photo", err)
	_, err = s.PutItem(ctx, photo("p2", "sha-a", 300, 0))
	check(t, "the same photo again", err)
	wantUsage(t, s, a.MiID, map[string]int64{"gallery": 600}) // once per item
	if b, _ := s.Blob(ctx, a.MiID, "sha-a"); b.Refs != 2 {
		t.Errorf("blob refs %d, want 2", b.Refs)
	}
	if pending, _ := s.CloudPending(ctx, a.MiID, at(time.Minute)); pending != 0 {
		t.Errorf("pending %d with the blob named", pending)
	}
	_, err = s.DeleteItem(ctx, a.MiID, "gallery", "p1", 1, "phone", at(time.Hour))
	check(t, "delete p1", err)
	if shas, err := s.ReleaseBlobs(ctx, a.MiID, at(48*time.Hour)); err != nil || len(shas) != 0 {
		t.Errorf("release with p2 naming the blob: %v %v", shas, err)
	}
	_, err = s.DeleteItem(ctx, a.MiID, "gallery", "p2", 1, "phone", at(2*time.Hour))
	check(t, "delete p2", err)
	wantUsage(t, s, a.MiID, map[string]int64{})
	if shas, err := s.ReleaseBlobs(ctx, a.MiID, at(2*time.Hour)); err != nil || len(shas) != 0 {
		t.Errorf("release before the grace ended: %v %v", shas, err)
	}
	shas, err := s.ReleaseBlobs(ctx, a.MiID, at(26*time.Hour))
	check(t, "release", err)
	wantEqual(t, "released", shas, []string{"sha-a"})
	// Being deleted, it is nobody's.
	_, err = s.PutItem(ctx, photo("p3", "sha-a", 300, 0))
	wantErr(t, "photo of a blob being deleted", err, store.ErrNoBlob)
	if _, err := s.Blob(ctx, a.MiID, "sha-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a blob being deleted: %v", err)
	}
	if shas, _ := s.ReleaseBlobs(ctx, a.MiID, at(26*time.Hour)); !slices.Equal(shas, []string{"sha-a"}) {
		t.Errorf("a release left unfinished is listed again: %v", shas)
	}
	re := upload(t, s, a.MiID, "up4", "sha-a", 300)
	_, err = s.AddUploadPart(ctx, a.MiID, re.ID, store.UploadPart{Pos: 0, Size: 300, Key: "k"}, at(time.Second), at(time.Hour))
	check(t, "part", err)
	_, err = s.FinishUpload(ctx, a.MiID, re.ID, at(time.Minute))
	wantErr(t, "finish an upload of a blob being deleted", err, store.ErrStale)
	check(t, "forget", s.ForgetBlobs(ctx, a.MiID, shas))
	_, err = s.FinishUpload(ctx, a.MiID, re.ID, at(time.Minute))
	check(t, "finish once it is gone", err)

	// Uploads end.
	upload(t, s, a.MiID, "old", "sha-old", 10)
	ids, err := s.PurgeUploads(ctx, a.MiID, at(23*time.Hour))
	check(t, "purge early", err)
	if len(ids) != 0 {
		t.Errorf("purged %v before they ended", ids)
	}
	if _, err := s.Upload(ctx, a.MiID, "old", at(25*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an ended upload reads as %v", err)
	}
	ids, err = s.PurgeUploads(ctx, a.MiID, at(25*time.Hour))
	check(t, "purge", err)
	wantEqual(t, "purged", ids, []string{"old"})
}

// testUploadPartRace: parts sent at one offset at once: one is recorded.
func testUploadPartRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "910000071", "ana@example.com", "")
	upload(t, s, a.MiID, "up", "sha", 1000)
	const n = 10
	var mu sync.Mutex
	ok, conflicts := 0, 0
	race(n, func(i int) {
		_, err := s.AddUploadPart(ctx, a.MiID, "up", store.UploadPart{Pos: 0, Size: 100, Key: fmt.Sprint("k", i)}, at(time.Second), at(time.Hour))
		mu.Lock()
		defer mu.Unlock()
		var uc *store.UploadConflict
		switch {
		case err == nil:
			ok++
		case errors.As(err, &uc) && uc.Current.Received == 100:
			conflicts++
		default:
			t.Errorf("part %d: %v", i, err)
		}
	})
	if ok != 1 || conflicts != n-1 {
		t.Errorf("%d parts at offset 0 at once: %d recorded, %d conflicts", n, ok, conflicts)
	}
	if parts, _ := s.UploadParts(ctx, "up"); len(parts) != 1 {
		t.Errorf("parts %v, want one", parts)
	}
}

func testDeleteAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s, "910000081", "ana@example.com", "+8613800138000")
	keep := newAccount(t, s, "910000082", "bo@example.com", "")
	for _, miID := range []string{a.MiID, keep.MiID} {
		newDevice(t, s, miID, "phone", t0)
		newSession(t, s, "tok-"+miID, miID, "phone")
		newCommand(t, s, miID, "phone", "cmd-"+miID, t0)
		_, err := s.PutItem(ctx, note(miID, "n", "hello", 0))
		check(t, "item", err)
		upload(t, s, miID, "up-"+miID, "sha", 10)
	}
	check(t, "recovery codes", s.SetRecoveryCodes(ctx, a.MiID, []string{"h1"}))
	check(t, "delete", s.DeleteAccount(ctx, a.MiID))
	wantErr(t, "delete again", s.DeleteAccount(ctx, a.MiID), store.ErrNotFound)

	_, err := s.AccountByMiID(ctx, a.MiID)
	wantErr(t, "account", err, store.ErrNotFound)
	_, err = s.AccountByEmail(ctx, "ana@example.com")
	wantErr(t, "account by email", err, store.ErrNotFound)
	_, err = s.Session(ctx, "tok-"+a.MiID)
	wantErr(t, "session", err, store.ErrNotFound)
	_, err = s.Device(ctx, a.MiID, "phone")
	wantErr(t, "device", err, store.ErrNotFound)
	_, err = s.Item(ctx, a.MiID, "notes", "n")
	wantErr(t, "item", err, store.ErrNotFound)
	_, err = s.Upload(ctx, a.MiID, "up-"+a.MiID, t0)
	wantErr(t, "upload", err, store.ErrNotFound)
	wantUsage(t, s, a.MiID, map[string]int64{})
	// The identifier is free again, and the other account untouched.
	newAccount(t, s, "910000083", "ana@example.com", "+8613800138000")
	if _, err := s.Item(ctx, keep.MiID, "notes", "n"); err != nil {
		t.Errorf("the other account's item: %v", err)
	}
	if _, err := s.Session(ctx, "tok-"+keep.MiID); err != nil {
		t.Errorf("the other account's session: %v", err)
	}
}
