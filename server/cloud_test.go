package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"testing"

	"misetup/api"
	"misetup/server/bucket"
)

// item is a PUT body of a small item.
func item(data string) api.ItemWrite { return api.ItemWrite{Name: "Note", Data: []byte(data)} }

// putItem sends a PUT of an item with its condition: ifMatch > 0 changes
// that version, 0 creates.
func (e *env) putItem(token, path string, body any, ifMatch int64) resp {
	e.t.Helper()
	hdr := auth(token)
	if ifMatch > 0 {
		hdr = append(hdr, "If-Match", fmt.Sprint(ifMatch))
	} else {
		hdr = append(hdr, "If-None-Match", "*")
	}
	return e.do("PUT", path, body, hdr...)
}

func TestCloudItems(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	const p = "/v1/cloud/notes/items/shopping/list-1"

	var created api.Item
	e.putItem(s.Token, p, item("milk"), 0).into(t, http.StatusCreated, &created)
	sum := sha256.Sum256([]byte("milk"))
	if created.Version != 1 || created.Size != 4 || created.SHA256 != hex.EncodeToString(sum[:]) || created.DeviceID != "phone" ||
		created.ID != "shopping/list-1" || created.Category != "notes" || created.Deleted || !created.UpdatedAt.Equal(e.clock.Now()) {
		t.Fatalf("created %+v", created)
	}
	var got api.Item
	e.do("GET", p, nil, auth(s.Token)...).into(t, http.StatusOK, &got)
	if string(got.Data) != "milk" || got.Version != 1 {
		t.Fatalf("read %+v", got)
	}

	var changed api.Item
	e.putItem(s.Token, p, item("milk, eggs"), 1).into(t, http.StatusOK, &changed)
	if changed.Version != 2 || changed.Change != 2 || string(changed.Data) != "milk, eggs" {
		t.Fatalf("changed %+v", changed)
	}
	t.Run("stale version", func(t *testing.T) {
		ae := e.putItem(s.Token, p, item("bread"), 1).apiErr(t, http.StatusConflict, api.CodeConflict)
		if ae.Current == nil || ae.Current.Version != 2 || string(ae.Current.Data) != "milk, eggs" {
			t.Errorf("conflict carries %+v, want the item at version 2", ae.Current)
		}
	})
	t.Run("create over a live item", func(t *testing.T) {
		ae := e.putItem(s.Token, p, item("bread"), 0).apiErr(t, http.StatusConflict, api.CodeConflict)
		if ae.Current == nil || ae.Current.Version != 2 {
			t.Errorf("conflict carries %+v", ae.Current)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		for name, tc := range map[string]struct {
			path   string
			body   any
			hdr    []string
			status int
			code   string
			field  string
		}{
			"no condition":      {p, item("x"), nil, 400, api.CodeInvalidInput, "If-Match"},
			"both conditions":   {p, item("x"), []string{"If-Match", "2", "If-None-Match", "*"}, 400, api.CodeInvalidInput, "If-Match"},
			"bad version":       {p, item("x"), []string{"If-Match", "two"}, 400, api.CodeInvalidInput, "If-Match"},
			"none-match not *":  {p, item("x"), []string{"If-None-Match", `"2"`}, 400, api.CodeInvalidInput, "If-None-Match"},
			"bad id":            {"/v1/cloud/notes/items/a%1Bb", item("x"), []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "id"},
			"bidi in an id":     {"/v1/cloud/notes/items/a%E2%80%AEb", item("x"), []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "id"},
			"dot segment":       {"/v1/cloud/notes/items/a/../b", item("x"), []string{"If-None-Match", "*"}, 404, api.CodeNotFound, ""},
			"id too long":       {"/v1/cloud/notes/items/" + strings.Repeat("a", 1025), item("x"), []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "id"},
			"unknown category":  {"/v1/cloud/photos/items/a", item("x"), []string{"If-None-Match", "*"}, 404, api.CodeNotFound, ""},
			"blob in notes":     {"/v1/cloud/notes/items/b", api.ItemWrite{Blob: strings.Repeat("a", 64)}, []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "blob"},
			"data in gallery":   {"/v1/cloud/gallery/items/b", item("x"), []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "data"},
			"not base64":        {"/v1/cloud/notes/items/b", `{"data":"milk!"}`, []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "data"},
			"unknown field":     {"/v1/cloud/notes/items/b", `{"text":"milk"}`, []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "text"},
			"bad content type":  {"/v1/cloud/notes/items/b", api.ItemWrite{ContentType: "vcard"}, []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "content_type"},
			"size not the data": {"/v1/cloud/notes/items/b", api.ItemWrite{Data: []byte("ab"), Size: 3}, []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "size"},
			"data too large":    {"/v1/cloud/notes/items/b", item(strings.Repeat("x", 256<<10+1)), []string{"If-None-Match", "*"}, 400, api.CodeInvalidInput, "data"},
		} {
			t.Run(name, func(t *testing.T) {
				r := e.do("PUT", tc.path, tc.body, append(auth(s.Token), tc.hdr...)...)
				if tc.status == 0 {
					if r.status < 400 || r.status > 499 {
						t.Errorf("%d %s", r.status, r.body)
					}
					return
				}
				if ae := r.apiErr(t, tc.status, tc.code); ae.Field != tc.field {
					t.Errorf("field %q, want %q (%s)", ae.Field, tc.field, ae.Message)
				}
			})
		}
	})
	t.Run("the item's body may pass the JSON limit; other bodies may not", func(t *testing.T) {
		big := strings.Repeat("x", 200<<10) // 267 KiB in base64
		e.putItem(s.Token, "/v1/cloud/notes/items/big", item(big), 0).into(t, http.StatusCreated, nil)
		name := strings.Repeat("x", 70<<10)
		e.do("PATCH", "/v1/account", api.AccountPatch{DisplayName: &name}, auth(s.Token)...).apiErr(t, http.StatusRequestEntityTooLarge, api.CodeBodyTooLarge)
	})

	e.do("DELETE", p, nil, append(auth(s.Token), "If-Match", "1")...).apiErr(t, http.StatusConflict, api.CodeConflict)
	var tomb api.Item
	e.do("DELETE", p, nil, append(auth(s.Token), "If-Match", "2")...).into(t, http.StatusOK, &tomb)
	if !tomb.Deleted || tomb.Version != 3 || tomb.Data != nil || tomb.Size != 0 {
		t.Fatalf("tombstone %+v", tomb)
	}
	e.do("GET", p, nil, auth(s.Token)...).into(t, http.StatusOK, &got)
	if !got.Deleted || got.Version != 3 {
		t.Errorf("read after delete %+v", got)
	}
	e.do("DELETE", "/v1/cloud/notes/items/none", nil, append(auth(s.Token), "If-Match", "1")...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.do("GET", "/v1/cloud/notes/items/none", nil, auth(s.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)

	// Another account sees none of it.
	other := e.signUp("bo@example.com", "phone")
	e.do("GET", p, nil, auth(other.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.do("GET", p, nil).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
}

func TestCloudChanges(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	for i := range 5 {
		e.putItem(s.Token, fmt.Sprint("/v1/cloud/notes/items/n", i), item(fmt.Sprint("note ", i)), 0).into(t, http.StatusCreated, nil)
	}
	e.putItem(s.Token, "/v1/cloud/contacts/items/c1", item("BEGIN:VCARD"), 0).into(t, http.StatusCreated, nil)
	e.putItem(s.Token, "/v1/cloud/notes/items/n1", item("note 1, again"), 1).into(t, http.StatusOK, nil)
	e.do("DELETE", "/v1/cloud/notes/items/n3", nil, append(auth(s.Token), "If-Match", "1")...).into(t, http.StatusOK, nil)

	var ids []string
	var cursor int64
	pages := 0
	for {
		var c api.Changes
		e.do("GET", fmt.Sprintf("/v1/cloud/notes/changes?cursor=%d&limit=2", cursor), nil, auth(s.Token)...).into(t, http.StatusOK, &c)
		for _, it := range c.Items {
			ids = append(ids, fmt.Sprintf("%s@%d", it.ID, it.Change))
			if it.ID == "n3" && !it.Deleted {
				t.Errorf("n3 is not a tombstone in the changes: %+v", it)
			}
		}
		pages++
		if c.Cursor < cursor {
			t.Fatalf("cursor went back from %d to %d", cursor, c.Cursor)
		}
		cursor = c.Cursor
		if !c.More {
			break
		}
	}
	if got := strings.Join(ids, " "); got != "n0@1 n2@3 n4@5 n1@7 n3@8" || pages != 3 {
		t.Errorf("changes in %d pages: %s", pages, got)
	}
	var c api.Changes
	e.do("GET", fmt.Sprintf("/v1/cloud/notes/changes?cursor=%d", cursor), nil, auth(s.Token)...).into(t, http.StatusOK, &c)
	if len(c.Items) != 0 || c.More || c.Cursor != cursor {
		t.Errorf("after the last change: %+v", c)
	}
	e.do("GET", "/v1/cloud/contacts/changes", nil, auth(s.Token)...).into(t, http.StatusOK, &c)
	if len(c.Items) != 1 || string(c.Items[0].Data) != "BEGIN:VCARD" || c.Cursor != 6 {
		t.Errorf("contacts: %+v", c)
	}
	// Large items: a page stops at its byte budget, under 1 MiB.
	for i := range 3 {
		e.putItem(s.Token, fmt.Sprint("/v1/cloud/browser/items/b", i), item(strings.Repeat("b", 200<<10)), 0).into(t, http.StatusCreated, nil)
	}
	var sizes []int
	for cursor, more := int64(0), true; more; {
		r := e.do("GET", fmt.Sprintf("/v1/cloud/browser/changes?cursor=%d", cursor), nil, auth(s.Token)...)
		r.into(t, http.StatusOK, &c)
		if len(r.body) >= 1<<20 {
			t.Errorf("a page of %d bytes", len(r.body))
		}
		sizes = append(sizes, len(c.Items))
		cursor, more = c.Cursor, c.More
	}
	if fmt.Sprint(sizes) != "[2 1]" {
		t.Errorf("pages of 200 KiB items: %v items, want [2 1]", sizes)
	}
	// data=false: the same items, sizes and versions, no bytes; one page.
	e.do("GET", "/v1/cloud/browser/changes?data=false", nil, auth(s.Token)...).into(t, http.StatusOK, &c)
	if len(c.Items) != 3 || c.More || c.Items[2].Size != 200<<10 || c.Items[2].Data != nil || c.Items[2].SHA256 == "" {
		t.Errorf("changes without data: %d items, more %v", len(c.Items), c.More)
	}
	for _, q := range []string{"cursor=-1", "cursor=x", "limit=0", "limit=201", "data=no"} {
		ae := e.do("GET", "/v1/cloud/notes/changes?"+q, nil, auth(s.Token)...).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput)
		if f, _, _ := strings.Cut(q, "="); ae.Field != f {
			t.Errorf("%s: field %q", q, ae.Field)
		}
	}
}

func TestCloudQuota(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.DefaultQuotaBytes = 1000 })
	s := e.signUp("ann@example.com", "phone")
	e.putItem(s.Token, "/v1/cloud/notes/items/a", item(strings.Repeat("a", 600)), 0).into(t, http.StatusCreated, nil)
	e.putItem(s.Token, "/v1/cloud/contacts/items/b", item(strings.Repeat("b", 300)), 0).into(t, http.StatusCreated, nil)
	ae := e.putItem(s.Token, "/v1/cloud/notes/items/c", item(strings.Repeat("c", 101)), 0).apiErr(t, http.StatusInsufficientStorage, api.CodeQuotaExceeded)
	if ae.UsedBytes == nil || *ae.UsedBytes != 900 || ae.QuotaBytes == nil || *ae.QuotaBytes != 1000 ||
		ae.ByCategory["notes"] != 600 || ae.ByCategory["contacts"] != 300 || len(ae.ByCategory) != len(api.Categories) {
		t.Errorf("refusal %+v", ae)
	}
	e.putItem(s.Token, "/v1/cloud/notes/items/c", item(strings.Repeat("c", 100)), 0).into(t, http.StatusCreated, nil)

	var st api.Storage
	e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
	if st.QuotaBytes != 1000 || st.UsedBytes != 1000 || st.ByCategory["notes"] != 700 || st.ByCategory["contacts"] != 300 {
		t.Errorf("storage %+v", st)
	}
	// Shrinking needs no room; a deletion frees its bytes.
	e.putItem(s.Token, "/v1/cloud/notes/items/a", item("a"), 1).into(t, http.StatusOK, nil)
	e.do("DELETE", "/v1/cloud/contacts/items/b", nil, append(auth(s.Token), "If-Match", "1")...).into(t, http.StatusOK, nil)
	e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
	if st.UsedBytes != 101 || st.ByCategory["notes"] != 101 || st.ByCategory["contacts"] != 0 {
		t.Errorf("storage after shrinking and deleting %+v", st)
	}
}

// burst sends n requests at once, the i-th made by req(i), and counts
// the answers by status.
func burst(n int, req func(i int) resp) map[int]int {
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			r := req(i)
			mu.Lock()
			got[r.status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

// TestCloudTogether: through the real handler on each store, changes of
// one item at one version at once (one wins, the others 409) and writes
// near the quota at once (never past it).
func TestCloudTogether(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnvOn(t, kind, func(c *Config) { c.DefaultQuotaBytes = 10_000 })
			s := e.signUp("ann@example.com", "phone")
			e.putItem(s.Token, "/v1/cloud/notes/items/n", item("first"), 0).into(t, http.StatusCreated, nil)
			const n = 16
			got := burst(n, func(i int) resp {
				return e.putItem(s.Token, "/v1/cloud/notes/items/n", item(fmt.Sprint("writer ", i)), 1)
			})
			if got[http.StatusOK] != 1 || got[http.StatusConflict] != n-1 {
				t.Errorf("%d PUTs at If-Match 1 at once answered %v; want one 200 and %d × 409", n, got, n-1)
			}
			got = burst(n, func(i int) resp {
				return e.putItem(s.Token, fmt.Sprint("/v1/cloud/calendar/items/e", i), item(strings.Repeat("x", 1500)), 0)
			})
			if got[http.StatusCreated] != 6 || got[http.StatusInsufficientStorage] != n-6 {
				t.Errorf("%d writes of 1,500 bytes at once beside 5 used of 10,000 answered %v; want 6 × 201 and %d × 507", n, got, n-6)
			}
			var st api.Storage
			e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
			if winner := st.UsedBytes - 6*1500; st.UsedBytes > st.QuotaBytes || winner != 8 && winner != 9 { // "writer 1", "writer 10"
				t.Errorf("storage %+v after the burst", st)
			}
		})
	}
}

// TestAccountDeletion: with the password again, the account goes with its
// sessions, items, uploads and blobs; another account stays.
func TestAccountDeletion(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *Config) { c.BlobURL = bucket.FolderURL(dir) })
	s := e.signUp("ann@example.com", "phone")
	keep := e.signUp("bo@example.com", "phone")
	for _, tok := range []string{s.Token, keep.Token} {
		e.putItem(tok, "/v1/cloud/notes/items/n", item("hello"), 0).into(t, http.StatusCreated, nil)
		data := []byte("a photo of " + tok[:6])
		sha := e.uploadAll(tok, data, 4)
		e.putItem(tok, "/v1/cloud/gallery/items/p", api.ItemWrite{Blob: sha, Size: int64(len(data))}, 0).into(t, http.StatusCreated, nil)
		var u api.Upload
		e.do("POST", "/v1/cloud/uploads", api.UploadRequest{SHA256: shaOf([]byte("half")), Size: 4}, auth(tok)...).into(t, http.StatusCreated, &u)
		e.do("PATCH", "/v1/cloud/uploads/"+u.ID, []byte("ha"), append(auth(tok), api.HeaderUploadOffset, "0")...).into(t, http.StatusNoContent, nil)
	}
	if n := len(objects(t, dir, s.Account.MiID)); n != 2 {
		t.Fatalf("%d objects of the account before, want a blob and a part", n)
	}

	e.do("DELETE", "/v1/account", api.PasswordConfirm{Password: "Wrong-Password-1"}, auth(s.Token)...).apiErr(t, http.StatusForbidden, api.CodeReauthRequired)
	e.do("DELETE", "/v1/account", api.PasswordConfirm{Password: testPassword}, auth(s.Token)...).into(t, http.StatusNoContent, nil)

	e.do("GET", "/v1/account", nil, auth(s.Token)...).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
	e.signIn("ann@example.com", testPassword, "phone").apiErr(t, http.StatusUnauthorized, api.CodeInvalidCredentials)
	if objs := objects(t, dir, s.Account.MiID); len(objs) != 0 {
		t.Errorf("objects left of the deleted account: %v", objs)
	}
	if _, err := e.st.Item(context.Background(), s.Account.MiID, "notes", "n"); err == nil {
		t.Error("an item of the deleted account is left")
	}
	if !e.hasAudit(s.Account.MiID, "account_deleted") {
		t.Error("no account_deleted event in the audit log")
	}
	e.do("GET", "/v1/cloud/notes/items/n", nil, auth(keep.Token)...).into(t, http.StatusOK, nil)
	if n := len(objects(t, dir, keep.Account.MiID)); n != 2 {
		t.Errorf("the other account has %d objects, want its 2", n)
	}
	// The address is free again.
	e.signUp("ann@example.com", "phone")
}

// shaOf is the hex SHA-256 of b.
func shaOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// FuzzItemID feeds any text to checkItemID: it never panics, and an id it
// takes is a clean path of 1 to 200 bytes (so it routes as itself).
func FuzzItemID(f *testing.F) {
	for _, seed := range []string{"n1", "DCIM/Camera/IMG_0001.jpg", "a/../b", "a//b", "/a", "a/", ".", "..", "x:y-z_1.2", "é", "a b", strings.Repeat("a", 201)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if err := checkItemID(id); err != nil {
			if ae, ok := err.(*api.Error); !ok || ae.Field != "id" || httpStatus(ae) != http.StatusBadRequest {
				t.Fatalf("%q: %v", id, err)
			}
			return
		}
		if id == "" || len(id) > maxItemID || strings.HasPrefix(id, "/") || strings.HasSuffix(id, "/") || strings.Contains(id, "//") {
			t.Fatalf("%q was taken", id)
		}
		p := "/v1/cloud/notes/items/" + id
		if cleaned := path.Clean(p); cleaned != p {
			t.Fatalf("%q: its path %q cleans to %q", id, p, cleaned)
		}
	})
}

// FuzzHeaders feeds any text to the parsers of Upload-Offset, Range and
// If-Match: they never panic, and what they take is in bounds.
func FuzzHeaders(f *testing.F) {
	for _, seed := range []string{"0", "123", "-1", "+5", " 5", "99999999999999999999", "bytes=0-", "bytes=5-9", "bytes=-3", "bytes=9-5", "bytes=0-0,2-3", `"3"`, "W/\"3\"", ""} {
		f.Add(seed, int64(10))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 { // the most negative int64
			size = 0
		}
		if n, err := parseUploadOffset(v); err == nil && n < 0 {
			t.Fatalf("offset %q read as %d", v, n)
		}
		if n, ok := parseItemVersion(v); ok && n < 1 {
			t.Fatalf("version %q read as %d", v, n)
		}
		start, length, partial, ok := parseRange(v, size)
		switch {
		case !ok:
		case start < 0 || length < 0 || start+length > size:
			t.Fatalf("range %q of %d: %d+%d", v, size, start, length)
		case !partial && (start != 0 || length != size):
			t.Fatalf("range %q of %d: whole, but %d+%d", v, size, start, length)
		case partial && length == 0:
			t.Fatalf("range %q of %d: an empty part", v, size)
		}
	})
}
