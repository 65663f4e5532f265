package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"misetup/api"
	"misetup/server/bucket"
)

// twin is a second server on e's store, clock and courier (another
// process of the same service), with mods applied to its config.
func (e *env) twin(mods ...func(*Config)) *env {
	e.t.Helper()
	cfg := DefaultConfig()
	cfg.Argon2 = cheapArgon2
	cfg.Now = e.clock.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Keys = testKeys()
	for _, m := range mods {
		m(&cfg)
	}
	srv, err := New(e.st, e.courier, cfg)
	if err != nil {
		e.t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv)
	e.t.Cleanup(hs.Close)
	return &env{t: e.t, srv: srv, hs: hs, st: e.st, clock: e.clock, courier: e.courier}
}

// startUpload posts the start of an upload of data and returns it.
func (e *env) startUpload(token string, data []byte, want int) api.Upload {
	e.t.Helper()
	var u api.Upload
	e.do("POST", "/v1/cloud/uploads", api.UploadRequest{SHA256: shaOf(data), Size: int64(len(data))}, auth(token)...).into(e.t, want, &u)
	return u
}

// patch sends one chunk of an upload from offset.
func (e *env) patch(token, id string, offset int, chunk []byte) resp {
	e.t.Helper()
	return e.do("PATCH", "/v1/cloud/uploads/"+id, chunk, append(auth(token), api.HeaderUploadOffset, strconv.Itoa(offset))...)
}

// uploadAll uploads data in chunks of chunk bytes and returns its SHA-256.
func (e *env) uploadAll(token string, data []byte, chunk int) string {
	e.t.Helper()
	u := e.startUpload(token, data, http.StatusCreated)
	for off := 0; off < len(data); off += chunk {
		r := e.patch(token, u.ID, off, data[off:min(off+chunk, len(data))])
		r.into(e.t, http.StatusNoContent, nil)
		if got := r.header.Get(api.HeaderUploadOffset); got != strconv.Itoa(min(off+chunk, len(data))) {
			e.t.Fatalf("Upload-Offset %q after the chunk at %d", got, off)
		}
	}
	return shaOf(data)
}

// offset asks the upload's offset with HEAD.
func (e *env) offset(token, id string) (int, int) {
	e.t.Helper()
	r := e.do("HEAD", "/v1/cloud/uploads/"+id, nil, auth(token)...)
	if r.status != http.StatusOK {
		return r.status, -1
	}
	n, err := strconv.Atoi(r.header.Get(api.HeaderUploadOffset))
	if err != nil {
		e.t.Fatalf("Upload-Offset %q", r.header.Get(api.HeaderUploadOffset))
	}
	return r.status, n
}

// objects lists the files of the account miID in the blob folder dir.
func objects(t testing.TB, dir, miID string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, miID), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// cutShort sends a PATCH of an upload whose body promises want bytes but
// stops after sending chunk, as a connection lost midway does.
func cutShort(t *testing.T, url, token, id string, offset int, want int, chunk []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PATCH /v1/cloud/uploads/%s HTTP/1.1\r\nHost: misetup\r\nAuthorization: Bearer %s\r\n%s: %d\r\nContent-Length: %d\r\n\r\n",
		id, token, api.HeaderUploadOffset, offset, want)
	if _, err := conn.Write(chunk); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = http.ReadResponse(bufio.NewReader(conn), nil) // the answer, if the server sends one
}

// TestUploadResume: an upload interrupted midway keeps what arrived and
// resumes, through another server on the same store and bucket; the blob
// then downloads whole and in ranges.
func TestUploadResume(t *testing.T) {
	dir := t.TempDir()
	blobs := func(c *Config) { c.BlobURL = bucket.FolderURL(dir) }
	a := newEnv(t, blobs)
	b := a.twin(blobs)
	s := a.signUp("ann@example.com", "phone")
	data := randomBytes(200 << 10)
	sha := shaOf(data)

	u := a.startUpload(s.Token, data, http.StatusCreated)
	if u.ID == "" || u.Offset != 0 || u.Complete || u.Size != int64(len(data)) {
		t.Fatalf("upload %+v", u)
	}
	a.patch(s.Token, u.ID, 0, data[:50<<10]).into(t, http.StatusNoContent, nil)

	// The next chunk is cut short, on the other server.
	cutShort(t, b.hs.URL, s.Token, u.ID, 50<<10, 100<<10, data[50<<10:110<<10])
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, off := a.offset(s.Token, u.ID); off == 110<<10 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("offset %d after a chunk cut short at %d bytes, want %d", off, 110<<10, 110<<10)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A chunk at a stale offset is told the offset.
	r := b.patch(s.Token, u.ID, 50<<10, data[50<<10:60<<10])
	ae := r.apiErr(t, http.StatusConflict, api.CodeConflict)
	if ae.UploadOffset == nil || *ae.UploadOffset != 110<<10 || r.header.Get(api.HeaderUploadOffset) != strconv.Itoa(110<<10) {
		t.Errorf("stale offset: %+v, header %q", ae, r.header.Get(api.HeaderUploadOffset))
	}
	// A client that lost the id finds its upload again.
	again := b.startUpload(s.Token, data, http.StatusOK)
	if again.ID != u.ID || again.Offset != 110<<10 {
		t.Errorf("the upload started again: %+v, want %s at %d", again, u.ID, 110<<10)
	}
	b.patch(s.Token, u.ID, 110<<10, data[110<<10:150<<10]).into(t, http.StatusNoContent, nil)
	r = a.patch(s.Token, u.ID, 150<<10, data[150<<10:])
	r.into(t, http.StatusNoContent, nil)
	if r.header.Get(api.HeaderUploadOffset) != strconv.Itoa(len(data)) {
		t.Errorf("Upload-Offset %q after the last chunk", r.header.Get(api.HeaderUploadOffset))
	}
	if status, _ := a.offset(s.Token, u.ID); status != http.StatusNotFound {
		t.Errorf("HEAD of a finished upload: %d", status)
	}
	done := a.startUpload(s.Token, data, http.StatusOK)
	if !done.Complete || done.Size != int64(len(data)) || done.ID != "" {
		t.Errorf("an upload of a blob the account has: %+v", done)
	}
	if objs := objects(t, dir, s.Account.MiID); len(objs) != 1 || objs[0] != s.Account.MiID+"/"+sha {
		t.Errorf("objects %v, want the blob alone (its parts gone)", objs)
	}

	get := func(e *env, rng string) resp {
		hdr := auth(s.Token)
		if rng != "" {
			hdr = append(hdr, "Range", rng)
		}
		return e.do("GET", "/v1/cloud/blobs/"+sha, nil, hdr...)
	}
	whole := get(b, "")
	if whole.status != http.StatusOK || !bytes.Equal(whole.body, data) || whole.header.Get("Content-Length") != strconv.Itoa(len(data)) ||
		whole.header.Get("Content-Type") != octetStream || whole.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("download: %d, %d bytes, headers %v", whole.status, len(whole.body), whole.header)
	}
	n := len(data)
	for _, tc := range []struct {
		rng        string
		status     int
		from, to   int // the bytes, to exclusive
		contentRng string
	}{
		{"bytes=100000-", 206, 100000, n, fmt.Sprintf("bytes 100000-%d/%d", n-1, n)},
		{"bytes=10-19", 206, 10, 20, fmt.Sprintf("bytes 10-19/%d", n)},
		{"bytes=-10", 206, n - 10, n, fmt.Sprintf("bytes %d-%d/%d", n-10, n-1, n)},
		{"bytes=5-999999999", 206, 5, n, fmt.Sprintf("bytes 5-%d/%d", n-1, n)},
		{"bytes=0-1,5-6", 200, 0, n, ""},
		{"lines=1-2", 200, 0, n, ""},
	} {
		r := get(a, tc.rng)
		if r.status != tc.status || !bytes.Equal(r.body, data[tc.from:tc.to]) || r.header.Get("Content-Range") != tc.contentRng ||
			r.header.Get("Content-Length") != strconv.Itoa(tc.to-tc.from) {
			t.Errorf("Range %q: %d, %d bytes, Content-Range %q", tc.rng, r.status, len(r.body), r.header.Get("Content-Range"))
		}
	}
	r = get(a, fmt.Sprintf("bytes=%d-", n))
	if r.apiErr(t, http.StatusRequestedRangeNotSatisfiable, api.CodeRangeNotSatisfiable); r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
		t.Errorf("Content-Range %q of a range past the end", r.header.Get("Content-Range"))
	}
	other := a.signUp("bo@example.com", "phone")
	a.do("GET", "/v1/cloud/blobs/"+sha, nil, auth(other.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	a.do("GET", "/v1/cloud/blobs/"+strings.ToUpper(sha), nil, auth(s.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
}

// TestUploadMismatch: bytes without the announced SHA-256 are refused,
// naming sha256; the upload and its parts go, and no blob is made.
func TestUploadMismatch(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *Config) { c.BlobURL = bucket.FolderURL(dir) })
	s := e.signUp("ann@example.com", "phone")
	want := []byte("hello, world")
	u := e.startUpload(s.Token, want, http.StatusCreated)
	e.patch(s.Token, u.ID, 0, []byte("hello, ")).into(t, http.StatusNoContent, nil)
	ae := e.patch(s.Token, u.ID, 7, []byte("World")).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput)
	if ae.Field != "sha256" {
		t.Errorf("mismatch names %q", ae.Field)
	}
	if status, _ := e.offset(s.Token, u.ID); status != http.StatusNotFound {
		t.Errorf("HEAD of a refused upload: %d", status)
	}
	e.do("GET", "/v1/cloud/blobs/"+shaOf(want), nil, auth(s.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	if objs := objects(t, dir, s.Account.MiID); len(objs) != 0 {
		t.Errorf("objects left: %v", objs)
	}
	// Started again with the right bytes, it works.
	e.uploadAll(s.Token, want, 5)
}

func TestUploadLimits(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.MaxChunkBytes = 1000
		c.MaxBlobBytes = 20_000
		c.DefaultQuotaBytes = 10_000
	})
	s := e.signUp("ann@example.com", "phone")
	data := randomBytes(2500)
	u := e.startUpload(s.Token, data, http.StatusCreated)
	e.patch(s.Token, u.ID, 0, data[:1500]).apiErr(t, http.StatusRequestEntityTooLarge, api.CodeBodyTooLarge)
	if _, off := e.offset(s.Token, u.ID); off != 0 {
		t.Errorf("offset %d after a chunk over the cap", off)
	}
	e.patch(s.Token, u.ID, 0, data[:1000]).into(t, http.StatusNoContent, nil)
	e.patch(s.Token, u.ID, 1000, data[1000:2000]).into(t, http.StatusNoContent, nil)
	e.patch(s.Token, u.ID, 2000, append(data[2000:], 'x')).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput)
	e.patch(s.Token, u.ID, 2000, nil).into(t, http.StatusNoContent, nil) // an empty chunk changes nothing
	for name, tc := range map[string]struct {
		hdr   string
		field string
	}{"negative": {"-1", api.HeaderUploadOffset}, "missing": {"", api.HeaderUploadOffset}, "not a number": {"1e3", api.HeaderUploadOffset}} {
		r := e.do("PATCH", "/v1/cloud/uploads/"+u.ID, []byte("x"), append(auth(s.Token), api.HeaderUploadOffset, tc.hdr)...)
		if ae := r.apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != tc.field {
			t.Errorf("%s: field %q", name, ae.Field)
		}
	}
	e.patch(s.Token, "0123456789abcdef0123456789abcdef", 0, []byte("x")).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.patch(s.Token, "../x", 0, []byte("x")).apiErr(t, http.StatusNotFound, api.CodeNotFound)

	for name, tc := range map[string]struct {
		req   api.UploadRequest
		field string
	}{
		"bad sha":       {api.UploadRequest{SHA256: "abc", Size: 1}, "sha256"},
		"negative size": {api.UploadRequest{SHA256: shaOf(nil), Size: -1}, "size"},
		"too large":     {api.UploadRequest{SHA256: shaOf(nil), Size: 20_001}, "size"},
	} {
		if ae := e.do("POST", "/v1/cloud/uploads", tc.req, auth(s.Token)...).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != tc.field {
			t.Errorf("%s: field %q", name, ae.Field)
		}
	}
	// Uploads in progress count against the room of new ones: 2,500
	// pending of 10,000.
	ae := e.do("POST", "/v1/cloud/uploads", api.UploadRequest{SHA256: shaOf([]byte("big")), Size: 7501}, auth(s.Token)...).
		apiErr(t, http.StatusInsufficientStorage, api.CodeQuotaExceeded)
	if ae.PendingBytes == nil || *ae.PendingBytes != 2500 || *ae.QuotaBytes != 10_000 || *ae.UsedBytes != 0 {
		t.Errorf("refusal %+v", ae)
	}
	e.do("DELETE", "/v1/cloud/uploads/"+u.ID, nil, auth(s.Token)...).into(t, http.StatusNoContent, nil)
	if status, _ := e.offset(s.Token, u.ID); status != http.StatusNotFound {
		t.Errorf("HEAD of a cancelled upload: %d", status)
	}
	e.do("POST", "/v1/cloud/uploads", api.UploadRequest{SHA256: shaOf([]byte("big")), Size: 7501}, auth(s.Token)...).into(t, http.StatusCreated, nil)
	// An empty blob is whole at once.
	var empty api.Upload
	e.do("POST", "/v1/cloud/uploads", api.UploadRequest{SHA256: shaOf(nil), Size: 0}, auth(s.Token)...).into(t, http.StatusOK, &empty)
	if !empty.Complete {
		t.Errorf("empty blob: %+v", empty)
	}
	if r := e.do("GET", "/v1/cloud/blobs/"+shaOf(nil), nil, auth(s.Token)...); r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("empty blob download: %d %q", r.status, r.body)
	}
}

// TestCloudFileItems: gallery items name uploaded blobs; a blob counts once
// per item; one no item names goes a day after, at the next upload.
func TestCloudFileItems(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *Config) { c.BlobURL = bucket.FolderURL(dir) })
	s := e.signUp("ann@example.com", "phone")
	photo := randomBytes(3000)
	sha := e.uploadAll(s.Token, photo, 1000)
	put := func(id string, w api.ItemWrite, ifMatch int64) resp {
		return e.putItem(s.Token, "/v1/cloud/gallery/items/"+id, w, ifMatch)
	}
	for name, tc := range map[string]struct {
		w     api.ItemWrite
		field string
	}{
		"no blob":      {api.ItemWrite{Size: 3000}, "blob"},
		"unknown blob": {api.ItemWrite{Blob: shaOf([]byte("x")), Size: 1}, "blob"},
		"wrong size":   {api.ItemWrite{Blob: sha, Size: 2999}, "size"},
	} {
		if ae := put("p", tc.w, 0).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != tc.field {
			t.Errorf("%s: field %q", name, ae.Field)
		}
	}
	var it api.Item
	put("DCIM/p1.jpg", api.ItemWrite{Name: "Beach", Blob: strings.ToUpper(sha), Size: 3000, ContentType: "image/JPEG"}, 0).into(t, http.StatusCreated, &it)
	if it.Blob != sha || it.SHA256 != sha || it.Size != 3000 || it.ContentType != "image/jpeg" || it.Data != nil {
		t.Errorf("photo item %+v", it)
	}
	put("DCIM/p2.jpg", api.ItemWrite{Blob: sha, Size: 3000}, 0).into(t, http.StatusCreated, nil)
	var st api.Storage
	e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
	if st.ByCategory["gallery"] != 6000 || st.UsedBytes != 6000 || st.PendingBytes != 0 {
		t.Errorf("storage with one blob in two items: %+v", st)
	}
	for _, id := range []string{"DCIM/p1.jpg", "DCIM/p2.jpg"} {
		e.do("DELETE", "/v1/cloud/gallery/items/"+id, nil, append(auth(s.Token), "If-Match", "1")...).into(t, http.StatusOK, nil)
	}
	e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
	if st.UsedBytes != 0 || st.PendingBytes != 3000 {
		t.Errorf("storage with the blob named by no item: %+v", st)
	}
	// Within the day it is still there; after it, the next upload takes it away.
	e.clock.Advance(23 * time.Hour)
	e.startUpload(s.Token, []byte("next"), http.StatusCreated)
	e.do("GET", "/v1/cloud/blobs/"+sha, nil, auth(s.Token)...).into(t, http.StatusOK, nil)
	e.clock.Advance(2 * time.Hour)
	e.startUpload(s.Token, []byte("next"), http.StatusOK) // resumed: its own end moved on
	e.do("GET", "/v1/cloud/blobs/"+sha, nil, auth(s.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	if _, err := os.Stat(filepath.Join(dir, s.Account.MiID, sha)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the blob's object: %v", err)
	}
	put("p3", api.ItemWrite{Blob: sha, Size: 3000}, 0).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput)
}

// TestUploadInOnePart: an upload that comes in one chunk, on a blob
// folder, becomes the blob by a hard link of its part (the same file, not
// a copy), its part let go after; one without its SHA-256 is refused and
// leaves nothing.
func TestUploadInOnePart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *Config) { c.BlobURL = bucket.FolderURL(dir) })
	s := e.signUp("ann@example.com", "phone")
	photo := randomBytes(300 << 10)
	sha := e.uploadAll(s.Token, photo, len(photo))
	if objs := objects(t, dir, s.Account.MiID); len(objs) != 1 || objs[0] != s.Account.MiID+"/"+sha {
		t.Errorf("after a one-part upload the folder holds %v", objs)
	}
	info, err := os.Stat(filepath.Join(dir, s.Account.MiID, sha))
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink != 1 {
		t.Errorf("the blob has %d names; its part's should be gone", st.Nlink)
	}
	r := e.do("GET", "/v1/cloud/blobs/"+sha, nil, auth(s.Token)...)
	if r.status != http.StatusOK || !bytes.Equal(r.body, photo) {
		t.Errorf("the blob reads %d bytes (status %d)", len(r.body), r.status)
	}

	u := e.startUpload(s.Token, []byte("the right bytes"), http.StatusCreated)
	if ae := e.patch(s.Token, u.ID, 0, []byte("the wrong bytes")).apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != "sha256" {
		t.Errorf("a one-part mismatch names %q", ae.Field)
	}
	if objs := objects(t, dir, s.Account.MiID); len(objs) != 1 {
		t.Errorf("a refused one-part upload left %v", objs)
	}
}
