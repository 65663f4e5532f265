package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"misetup/api"
	"misetup/client"
	"misetup/server/courier"
)

// signUp creates an account through c with a session on the device
// "phone" (the client keeps its token).
func signUp(t *testing.T, c *client.Client, msgs <-chan courier.Message, email string) api.Session {
	t.Helper()
	ctx := context.Background()
	ch, err := c.Register(ctx, api.RegistrationRequest{Method: api.MethodEmail, Identifier: email, Password: "Blue-Kettle-42"})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	code := codeRe.FindString(receive(t, msgs).Body)
	v, err := c.Verify(ctx, ch.ID, api.VerifyRequest{Code: code, Device: &api.Device{ID: "phone", Name: "Phone"}})
	if err != nil || v.Session == nil {
		t.Fatalf("Verify: %+v, %v", v, err)
	}
	return *v.Session
}

// randomBlob returns n random bytes and their SHA-256 in hex.
func randomBlob(n int) ([]byte, string) {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

func TestContractCloud(t *testing.T) {
	for _, transport := range []string{"loopback", "in-process"} {
		t.Run(transport, func(t *testing.T) {
			srv, msgs := newService(t)
			c := client.New("", client.WithHandler(srv))
			if transport == "loopback" {
				hs := httptest.NewServer(srv)
				t.Cleanup(hs.Close)
				c = client.New(hs.URL)
			}
			signUp(t, c, msgs, "ana@example.com")
			cloudJourney(t, c)
		})
	}
}

// cloudJourney syncs notes and a photo, then deletes the account.
func cloudJourney(t *testing.T, c *client.Client) {
	ctx := context.Background()
	note, err := c.PutItem(ctx, "notes", "lists/shopping", 0, api.ItemWrite{Name: "Shopping", Data: []byte("milk")})
	if err != nil || note.Version != 1 || note.DeviceID != "phone" {
		t.Fatalf("PutItem create: %+v, %v", note, err)
	}
	if _, err := c.PutItem(ctx, "notes", "lists/shopping", 0, api.ItemWrite{Data: []byte("again")}); !errors.Is(err, api.ErrConflict) {
		t.Errorf("PutItem create over an item: %v, want a conflict", err)
	}
	note, err = c.PutItem(ctx, "notes", "lists/shopping", 1, api.ItemWrite{Name: "Shopping", Data: []byte("milk, eggs")})
	if err != nil || note.Version != 2 {
		t.Fatalf("PutItem change: %+v, %v", note, err)
	}
	_, err = c.PutItem(ctx, "notes", "lists/shopping", 1, api.ItemWrite{Data: []byte("stale")})
	var ae *api.Error
	if !errors.As(err, &ae) || !errors.Is(err, api.ErrConflict) || ae.Status != http.StatusConflict || ae.Current == nil ||
		ae.Current.Version != 2 || string(ae.Current.Data) != "milk, eggs" {
		t.Fatalf("PutItem at a stale version: %v (%+v), want a conflict with the current item", err, ae)
	}
	if got, err := c.Item(ctx, "notes", "lists/shopping"); err != nil || string(got.Data) != "milk, eggs" {
		t.Errorf("Item: %+v, %v", got, err)
	}
	for i := range 3 {
		if _, err := c.PutItem(ctx, "notes", fmt.Sprint("n", i), 0, api.ItemWrite{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	tomb, err := c.DeleteItem(ctx, "notes", "n1", 1)
	if err != nil || !tomb.Deleted || tomb.Version != 2 {
		t.Fatalf("DeleteItem: %+v, %v", tomb, err)
	}
	var seen []string
	for cursor, more := int64(0), true; more; {
		page, err := c.Changes(ctx, "notes", cursor, 2)
		if err != nil {
			t.Fatalf("Changes: %v", err)
		}
		for _, it := range page.Items {
			seen = append(seen, fmt.Sprintf("%s/%v", it.ID, it.Deleted))
		}
		cursor, more = page.Cursor, page.More
	}
	if got := strings.Join(seen, " "); got != "lists/shopping/false n0/false n2/false n1/true" {
		t.Errorf("changes: %s", got)
	}

	photo, sha := randomBlob(3<<20 + 17)
	if err := c.UploadBlob(ctx, bytes.NewReader(photo), int64(len(photo)), sha); err != nil {
		t.Fatalf("UploadBlob: %v", err)
	}
	if err := c.UploadBlob(ctx, failingReaderAt{}, int64(len(photo)), sha); err != nil {
		t.Errorf("UploadBlob of a blob the account has (no byte read): %v", err)
	}
	var buf bytes.Buffer
	if n, err := c.DownloadBlob(ctx, sha, &buf, 0); err != nil || n != int64(len(photo)) || !bytes.Equal(buf.Bytes(), photo) {
		t.Fatalf("DownloadBlob: %d bytes, %v", n, err)
	}
	buf.Reset()
	if n, err := c.DownloadBlob(ctx, sha, &buf, 1<<20+5); err != nil || !bytes.Equal(buf.Bytes(), photo[1<<20+5:]) {
		t.Fatalf("DownloadBlob from 1 MiB and 5: %d bytes, %v", n, err)
	}
	if _, err := c.DownloadBlob(ctx, sha, io.Discard, int64(len(photo))); !errors.Is(err, api.ErrRangeNotSatisfiable) {
		t.Errorf("DownloadBlob from the end: %v", err)
	}
	if _, err := c.DownloadBlob(ctx, strings.Repeat("0", 64), io.Discard, 0); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("DownloadBlob of no blob: %v", err)
	}
	empty, emptySHA := randomBlob(0)
	if err := c.UploadBlob(ctx, bytes.NewReader(empty), 0, emptySHA); err != nil {
		t.Fatalf("UploadBlob of nothing: %v", err)
	}
	if n, err := c.DownloadBlob(ctx, emptySHA, io.Discard, 0); err != nil || n != 0 {
		t.Errorf("DownloadBlob of nothing: %d, %v", n, err)
	}
	item, err := c.PutItem(ctx, "gallery", "DCIM/IMG_1.jpg", 0, api.ItemWrite{Blob: sha, Size: int64(len(photo)), ContentType: "image/jpeg"})
	if err != nil || item.Size != int64(len(photo)) {
		t.Fatalf("PutItem of a photo: %+v, %v", item, err)
	}
	st, err := c.Storage(ctx)
	if err != nil || st.ByCategory["gallery"] != int64(len(photo)) {
		t.Errorf("Storage: %+v, %v", st, err)
	}

	// A wrong SHA-256 is refused, naming it.
	_, other := randomBlob(10)
	err = c.UploadBlob(ctx, bytes.NewReader(make([]byte, 10)), 10, other)
	if !errors.As(err, &ae) || !errors.Is(err, api.ErrInvalidInput) || ae.Field != "sha256" {
		t.Errorf("UploadBlob with the wrong SHA-256: %v", err)
	}

	if err := c.DeleteAccount(ctx, "Wrong-Kettle-1"); !errors.Is(err, api.ErrReauthRequired) {
		t.Errorf("DeleteAccount with a wrong password: %v", err)
	}
	if err := c.DeleteAccount(ctx, "Blue-Kettle-42"); err != nil || c.Token() != "" {
		t.Fatalf("DeleteAccount: %v, token %q", err, c.Token())
	}
}

// failingReaderAt fails every read: a blob the service has is never read.
type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("read") }

// faults wraps the real service and breaks the first request that match
// says: the service serves it, its answer never arrives (the connection
// is dropped). first, when set, serves only the first bytes of its body
// to the service.
type faults struct {
	h     http.Handler
	match func(r *http.Request) bool
	first int64 // of the request body; 0: all of it
	keep  int   // of the answer's body, for a download; 0: none

	mu   sync.Mutex
	done bool
	seen []string // method, path and the headers that matter, of every request
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	seen := []string{r.Method, r.URL.Path}
	for _, h := range []string{r.Header.Get("Range"), r.Header.Get(api.HeaderUploadOffset)} {
		if h != "" {
			seen = append(seen, h)
		}
	}
	f.seen = append(f.seen, strings.Join(seen, " "))
	hit := !f.done && f.match(r)
	if hit {
		f.done = true
	}
	f.mu.Unlock()
	if !hit {
		f.h.ServeHTTP(w, r)
		return
	}
	if f.first > 0 {
		r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, f.first), errReader{}))
	}
	if f.keep > 0 {
		f.h.ServeHTTP(&cutWriter{ResponseWriter: w, left: f.keep}, r)
	} else {
		f.h.ServeHTTP(httptest.NewRecorder(), r)
	}
	panic(http.ErrAbortHandler) // the connection drops
}

// errReader fails: a connection lost midway.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// cutWriter passes the first left bytes of an answer on, then drops the
// connection.
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) >= c.left {
		_, _ = c.ResponseWriter.Write(p[:c.left])
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	c.left -= len(p)
	return c.ResponseWriter.Write(p)
}

// TestUploadBlobResumes: a chunk whose connection drops midway is kept as
// far as it arrived; UploadBlob asks the offset and sends the rest.
func TestUploadBlobResumes(t *testing.T) {
	srv, msgs := newService(t)
	f := &faults{h: srv, match: func(r *http.Request) bool { return r.Method == http.MethodPatch }, first: 1 << 20}
	c, _ := serve(t, f)
	signUp(t, c, msgs, "ana@example.com")
	ctx := context.Background()
	data, sha := randomBlob(3 << 20)
	if err := c.UploadBlob(ctx, bytes.NewReader(data), int64(len(data)), sha); err != nil {
		t.Fatalf("UploadBlob: %v", err)
	}
	var buf bytes.Buffer
	if _, err := c.DownloadBlob(ctx, sha, &buf, 0); err != nil || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("DownloadBlob after a resumed upload: %v", err)
	}
	want := []string{"POST /v1/cloud/uploads", "PATCH /v1/cloud/uploads/%s 0", "HEAD /v1/cloud/uploads/%s", "PATCH /v1/cloud/uploads/%s 1048576"}
	got := f.seen[len(f.seen)-len(want)-1 : len(f.seen)-1]
	for i := range want {
		w := want[i]
		if strings.Contains(w, "%s") {
			w = fmt.Sprintf(w, strings.Split(got[1], "/")[4][:32])
		}
		if got[i] != w {
			t.Errorf("requests %q, want %q", got, want)
			break
		}
	}
}

// TestDownloadBlobResumes: a download whose connection drops midway goes
// on with a Range from the last byte written.
func TestDownloadBlobResumes(t *testing.T) {
	srv, msgs := newService(t)
	f := &faults{h: srv, match: func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/cloud/blobs/")
	}, keep: 100_000}
	c, _ := serve(t, f)
	signUp(t, c, msgs, "ana@example.com")
	ctx := context.Background()
	data, sha := randomBlob(1 << 20)
	if err := c.UploadBlob(ctx, bytes.NewReader(data), int64(len(data)), sha); err != nil {
		t.Fatalf("UploadBlob: %v", err)
	}
	var buf bytes.Buffer
	n, err := c.DownloadBlob(ctx, sha, &buf, 0)
	if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("DownloadBlob: %d bytes, %v", n, err)
	}
	last := f.seen[len(f.seen)-1]
	if !strings.HasSuffix(last, "bytes=100000-") {
		t.Errorf("the download went on with %q, want a Range from byte 100000", last)
	}
}

// TestPutItemRetrySeesItsOwnWrite: a PUT the service made but whose answer
// was lost is tried again; the conflict it then meets is its own write,
// answered as the item.
func TestPutItemRetrySeesItsOwnWrite(t *testing.T) {
	srv, msgs := newService(t)
	f := &faults{h: srv, match: func(r *http.Request) bool { return r.Method == http.MethodPut }}
	c, _ := serve(t, f)
	signUp(t, c, msgs, "ana@example.com")
	ctx := context.Background()
	it, err := c.PutItem(ctx, "notes", "n", 0, api.ItemWrite{Name: "N", Data: []byte("hello")})
	if err != nil || it.Version != 1 || string(it.Data) != "hello" {
		t.Fatalf("PutItem whose first answer was lost: %+v, %v", it, err)
	}
	f.mu.Lock()
	f.done = false
	f.mu.Unlock()
	it, err = c.PutItem(ctx, "notes", "n", 1, api.ItemWrite{Name: "N", Data: []byte("hello, world")})
	if err != nil || it.Version != 2 {
		t.Fatalf("PutItem change whose first answer was lost: %+v, %v", it, err)
	}
	// Someone else's change is still a conflict.
	if _, err := c.PutItem(ctx, "notes", "n", 1, api.ItemWrite{Name: "N", Data: []byte("hello, world")}); !errors.Is(err, api.ErrConflict) {
		t.Errorf("a stale PutItem without a retry: %v", err)
	}
}

// TestCloudErrorData: the quota's numbers and a conflict's item reach the
// caller.
func TestCloudErrorData(t *testing.T) {
	used, quota := int64(900), int64(1000)
	c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			writeError(w, http.StatusInsufficientStorage, api.Error{Code: api.CodeQuotaExceeded, Message: "full",
				UsedBytes: &used, QuotaBytes: &quota, ByCategory: map[string]int64{"notes": 900}})
		case http.MethodPatch:
			off := int64(42)
			writeError(w, http.StatusConflict, api.Error{Code: api.CodeConflict, Message: "offset", UploadOffset: &off})
		}
	}))
	ctx := context.Background()
	_, err := c.PutItem(ctx, "notes", "n", 0, api.ItemWrite{Data: []byte("x")})
	e := asAPIError(t, err)
	if !errors.Is(err, api.ErrQuotaExceeded) || e.Status != http.StatusInsufficientStorage || client.IsUnavailable(err) ||
		*e.UsedBytes != 900 || *e.QuotaBytes != 1000 || e.ByCategory["notes"] != 900 {
		t.Errorf("quota error %+v", e)
	}
	_, err = c.UploadChunk(ctx, "u", 0, strings.NewReader("abc"), 3)
	if e := asAPIError(t, err); !errors.Is(err, api.ErrConflict) || e.UploadOffset == nil || *e.UploadOffset != 42 {
		t.Errorf("offset conflict %+v", e)
	}
}
