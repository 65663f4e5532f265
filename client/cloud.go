package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"misetup/api"
)

// Mi Cloud: items of the sync categories with their versions and change
// cursor, and blobs (the files of gallery and recorder) moved in
// resumable uploads and resumable downloads.

const (
	// UploadChunkBytes is the size of the chunks UploadBlob sends: a photo
	// of up to 16 MB goes in one, which the service's blob folder keeps
	// as the blob without copying it (a chunk cut short keeps what
	// arrived, so a large one loses nothing to a dropped connection).
	UploadChunkBytes = 16 << 20
	// streamStall ends a chunk's upload or a download when no byte has
	// moved for this long (or the client's timeout, when longer): a
	// transfer takes as long as it takes, a stalled one does not.
	streamStall = 2 * time.Minute
	// maxChangesAnswer bounds an answer of the changes: a page carries
	// items' data, up to 512 KiB, in base64 (the service keeps a page
	// under 1 MiB; this leaves room).
	maxChangesAnswer = 4 << 20
	// inProcessWindow is the most of a blob one download request asks for
	// from an in-process service, whose answers are kept in memory up to
	// maxAnswerBytes.
	inProcessWindow = maxAnswerBytes
	// streamTries bounds the tries of UploadBlob and DownloadBlob that move
	// no byte in a row.
	streamTries = 8
)

// itemPath is the path of an item; its id's slashes stay slashes.
func itemPath(category, id string) string {
	segs := strings.Split(id, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/v1/cloud/" + url.PathEscape(category) + "/items/" + strings.Join(segs, "/")
}

// uploadPath is the path of an upload.
func uploadPath(id string) string { return "/v1/cloud/uploads/" + url.PathEscape(id) }

// rawCall is a request the JSON path of call does not fit: headers of
// its own, a body streamed from a reader, an answer the caller reads.
type rawCall struct {
	method, path string
	header       http.Header
	// body returns the body of each try (nil: none); length is its size
	// (-1 when unknown).
	body   func() io.Reader
	length int64
	// retries is how many times a failure worth it (a network error, 502,
	// 503 or 504) is tried again: only for a body that body can give again.
	retries int
	// timeout bounds the call, tries included; stall instead bounds the
	// time no byte moves (a stream).
	timeout, stall time.Duration
	// maxAnswer bounds an error's body and, when read is nil, an answer
	// decoded into out.
	maxAnswer int64
}

// errStalled is the cause of a stream that stopped moving.
var errStalled = errors.New("no bytes moved for too long")

// stallGuard cancels its context when touch has not been called for d.
type stallGuard struct {
	d time.Duration
	t *time.Timer
}

// withStallGuard returns ctx, cancelled (with a cause that is
// context.DeadlineExceeded) when the guard is not touched for d, and the
// function that stops the guard.
func withStallGuard(ctx context.Context, d time.Duration) (context.Context, *stallGuard, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	g := &stallGuard{d: d}
	g.t = time.AfterFunc(d, func() {
		cancel(fmt.Errorf("%w (%s): %w", errStalled, d, context.DeadlineExceeded))
	})
	return ctx, g, func() {
		g.t.Stop()
		cancel(nil)
	}
}

func (g *stallGuard) touch() {
	if g != nil {
		g.t.Reset(g.d)
	}
}

// progressReader touches its guard on every read that moves bytes.
type progressReader struct {
	r io.Reader
	g *stallGuard
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.g.touch()
	}
	return n, err
}

// raw sends rc and, on a 2xx answer, calls read with it (its body not yet
// read; read may be nil). Any other answer is an *api.Error. It returns
// how many tries it took.
func (c *Client) raw(ctx context.Context, rc rawCall, read func(*http.Response, *stallGuard) error) (int, error) {
	var guard *stallGuard
	switch {
	case rc.stall > 0:
		var stop func()
		ctx, guard, stop = withStallGuard(ctx, max(rc.stall, c.timeout))
		defer stop()
	case rc.timeout > 0:
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rc.timeout)
		defer cancel()
	}
	if rc.maxAnswer == 0 {
		rc.maxAnswer = maxAnswerBytes
	}
	var err error
	for i := range rc.retries + 1 {
		if i > 0 {
			if werr := wait(ctx, backoff(i-1)); werr != nil {
				return i, unavailable(rc.method, rc.path, fmt.Errorf("%w (while retrying after: %v)", cause(ctx, werr), err))
			}
		}
		var retry bool
		retry, err = c.rawAttempt(ctx, rc, guard, read)
		if err == nil || !retry {
			return i + 1, err
		}
	}
	return rc.retries + 1, err
}

// cause is the reason ctx ended (a stall, a deadline), or err.
func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return err
}

// rawAttempt sends rc once; retry reports whether a failure is worth
// another try.
func (c *Client) rawAttempt(ctx context.Context, rc rawCall, guard *stallGuard, read func(*http.Response, *stallGuard) error) (retry bool, err error) {
	var body io.Reader
	if rc.body != nil {
		body = progressReader{r: rc.body(), g: guard}
	}
	req, err := http.NewRequestWithContext(ctx, rc.method, c.base+rc.path, body)
	if err != nil {
		return false, fmt.Errorf("%s %s: build request: %w", rc.method, rc.path, err)
	}
	if body != nil {
		req.ContentLength = rc.length
		if rc.length == 0 {
			req.Body = http.NoBody
		}
	}
	c.setHeaders(req.Header, false)
	for k, vs := range rc.header {
		req.Header[k] = vs
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return ctx.Err() == nil, unavailable(rc.method, rc.path, withContext(ctx, cause(ctx, err)))
	}
	defer resp.Body.Close()
	guard.touch()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, err := io.ReadAll(io.LimitReader(resp.Body, rc.maxAnswer))
		if err != nil {
			return ctx.Err() == nil, unavailable(rc.method, rc.path, withContext(ctx, cause(ctx, err)))
		}
		return retryableStatus(resp.StatusCode), decodeError(resp, data)
	}
	if read == nil {
		return false, nil
	}
	if err := read(resp, guard); err != nil {
		if ctx.Err() != nil {
			return false, unavailable(rc.method, rc.path, withContext(ctx, cause(ctx, err)))
		}
		return false, err
	}
	return false, nil
}

// jsonCall is a rawCall of a JSON request (in, nil for none) whose answer
// is decoded into out; it is tried again as call would be.
func (c *Client) jsonCall(ctx context.Context, method, path string, header http.Header, in, out any, maxAnswer int64) (int, error) {
	rc := rawCall{method: method, path: path, header: header.Clone(), timeout: c.timeout, maxAnswer: maxAnswer}
	if rc.header == nil {
		rc.header = http.Header{}
	}
	rc.header.Set("Accept", "application/json")
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		rc.body, rc.length = func() io.Reader { return bytes.NewReader(b) }, int64(len(b))
		rc.header.Set("Content-Type", "application/json")
	}
	if idempotent(method) {
		rc.retries = c.retries
	}
	if rc.maxAnswer == 0 {
		rc.maxAnswer = maxAnswerBytes
	}
	return c.raw(ctx, rc, func(resp *http.Response, _ *stallGuard) error {
		if out == nil {
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, rc.maxAnswer+1))
		if err != nil {
			return unavailable(method, path, err)
		}
		if int64(len(data)) > rc.maxAnswer {
			return garbled(resp.StatusCode, method, path, fmt.Errorf("answer over %d bytes", rc.maxAnswer))
		}
		if err := json.Unmarshal(data, out); err != nil {
			return garbled(resp.StatusCode, method, path, err)
		}
		return nil
	})
}

// Changes returns the items of a category changed after cursor, with
// their data, in the order of their changes
// (GET /v1/cloud/{category}/changes): deleted ones as tombstones. Ask
// again from Changes.Cursor while Changes.More; keep the last cursor to
// sync from next time (0 is the beginning). limit <= 0 is the service's
// default (100); it caps a page at 200 items and 512 KiB of data.
func (c *Client) Changes(ctx context.Context, category string, cursor int64, limit int) (api.Changes, error) {
	return c.changes(ctx, category, cursor, limit, true)
}

// ChangesWithoutData is Changes without the items' data (their sizes,
// versions and hashes are there): what counting a backup needs.
func (c *Client) ChangesWithoutData(ctx context.Context, category string, cursor int64, limit int) (api.Changes, error) {
	return c.changes(ctx, category, cursor, limit, false)
}

func (c *Client) changes(ctx context.Context, category string, cursor int64, limit int, withData bool) (api.Changes, error) {
	q := url.Values{}
	q.Set("cursor", strconv.FormatInt(cursor, 10))
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if !withData {
		q.Set("data", "false")
	}
	var out api.Changes
	_, err := c.jsonCall(ctx, http.MethodGet, "/v1/cloud/"+url.PathEscape(category)+"/changes?"+q.Encode(), nil, nil, &out, maxChangesAnswer)
	return out, err
}

// Item returns one item, a tombstone included
// (GET /v1/cloud/{category}/items/{id}).
func (c *Client) Item(ctx context.Context, category, id string) (api.Item, error) {
	var it api.Item
	_, err := c.jsonCall(ctx, http.MethodGet, itemPath(category, id), nil, nil, &it, 0)
	return it, err
}

// PutItem writes an item (PUT /v1/cloud/{category}/items/{id}): version 0
// creates it (If-None-Match: *), any other changes the item at that
// version (If-Match). It returns the item with its new version. When the
// item is at another version (or exists, for a creation) the error is an
// *api.Error with Code api.CodeConflict (errors.Is api.ErrConflict) whose
// Current is the item as it is: merge and try again with its version. A
// write over the quota fails with api.ErrQuotaExceeded (UsedBytes,
// QuotaBytes and ByCategory say where the account stands). A retried
// write that the service had made before the retry answers the item, not
// a conflict with itself.
func (c *Client) PutItem(ctx context.Context, category, id string, version int64, w api.ItemWrite) (api.Item, error) {
	h := http.Header{}
	if version > 0 {
		h.Set("If-Match", strconv.FormatInt(version, 10))
	} else {
		h.Set("If-None-Match", "*")
	}
	var it api.Item
	tries, err := c.jsonCall(ctx, http.MethodPut, itemPath(category, id), h, w, &it, 0)
	var ae *api.Error
	if tries > 1 && errors.As(err, &ae) && ae.Code == api.CodeConflict && ae.Current != nil && sameWrite(ae.Current, w, version) {
		return *ae.Current, nil
	}
	return it, err
}

// WriteItems makes writes of small items of category in one request (POST
// /v1/cloud/{category}/batch): at most api.MaxBatchWrites, about 1 MiB of
// data in all. The results are in the order of the writes: each its item
// as stored (without data), or the error the write alone would have had,
// as PutItem and DeleteItem report them. A retried batch that the service
// had made before the retry answers the items, not conflicts with
// themselves.
func (c *Client) WriteItems(ctx context.Context, category string, writes []api.BatchWrite) ([]api.BatchResult, error) {
	var out api.BatchResults
	tries, err := c.jsonCall(ctx, http.MethodPost, "/v1/cloud/"+url.PathEscape(category)+"/batch", nil, api.Batch{Writes: writes}, &out, 0)
	if err != nil {
		return nil, err
	}
	if len(out.Results) != len(writes) {
		return nil, fmt.Errorf("POST batch: %d results for %d writes", len(out.Results), len(writes))
	}
	for i, r := range out.Results {
		if e := r.Error; tries > 1 && e != nil && e.Code == api.CodeConflict && e.Current != nil {
			w := writes[i]
			if (w.Delete && sameDelete(e.Current, w.Version)) || (!w.Delete && sameWrite(e.Current, w.ItemWrite, w.Version)) {
				cur := *e.Current
				cur.Data = nil
				out.Results[i] = api.BatchResult{Status: http.StatusOK, Item: &cur}
			}
		}
	}
	return out.Results, nil
}

// sameWrite reports whether cur is what w, sent at version, made.
func sameWrite(cur *api.Item, w api.ItemWrite, version int64) bool {
	want := strings.ToLower(w.Blob)
	if want == "" {
		sum := sha256.Sum256(w.Data)
		want = hex.EncodeToString(sum[:])
	}
	return !cur.Deleted && cur.SHA256 == want && cur.Name == w.Name && (version == 0 || cur.Version == version+1)
}

// sameDelete reports whether cur is the tombstone a deletion at version
// made.
func sameDelete(cur *api.Item, version int64) bool {
	return cur.Deleted && cur.Version == version+1
}

// DeleteItem deletes the item at version (DELETE
// /v1/cloud/{category}/items/{id} with If-Match) and returns its
// tombstone, a new version that the changes carry. Another version fails
// as PutItem's does.
func (c *Client) DeleteItem(ctx context.Context, category, id string, version int64) (api.Item, error) {
	h := http.Header{}
	h.Set("If-Match", strconv.FormatInt(version, 10))
	var it api.Item
	tries, err := c.jsonCall(ctx, http.MethodDelete, itemPath(category, id), h, nil, &it, 0)
	var ae *api.Error
	if tries > 1 && errors.As(err, &ae) && ae.Code == api.CodeConflict && ae.Current != nil && sameDelete(ae.Current, version) {
		return *ae.Current, nil // the first try deleted it
	}
	return it, err
}

// StartUpload starts an upload of a blob of size bytes with the SHA-256
// sha (hex) (POST /v1/cloud/uploads). The answer is a new upload, or the
// account's open upload of the same blob (send from its Offset), or
// Complete when the account has the blob already. A blob that does not
// fit beside what is used and pending fails with api.ErrQuotaExceeded.
func (c *Client) StartUpload(ctx context.Context, sha string, size int64) (api.Upload, error) {
	var u api.Upload
	err := c.call(ctx, http.MethodPost, "/v1/cloud/uploads", api.UploadRequest{SHA256: sha, Size: size}, &u)
	return u, err
}

// UploadOffset returns how many bytes an upload has received
// (HEAD /v1/cloud/uploads/{id}): where to send from. A finished, ended
// or cancelled upload fails with api.ErrNotFound.
func (c *Client) UploadOffset(ctx context.Context, id string) (int64, error) {
	var off int64
	_, err := c.raw(ctx, rawCall{method: http.MethodHead, path: uploadPath(id), timeout: c.timeout, retries: c.retries},
		func(resp *http.Response, _ *stallGuard) error {
			var ok bool
			if off, ok = headerInt(resp.Header.Get(api.HeaderUploadOffset)); !ok {
				return garbled(resp.StatusCode, http.MethodHead, uploadPath(id), fmt.Errorf("Upload-Offset %q", resp.Header.Get(api.HeaderUploadOffset)))
			}
			return nil
		})
	return off, err
}

// CancelUpload drops an upload and what it received
// (DELETE /v1/cloud/uploads/{id}).
func (c *Client) CancelUpload(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, uploadPath(id), nil, nil)
}

// UploadChunk sends n bytes of chunk as the part of an upload from offset
// (PATCH /v1/cloud/uploads/{id}, streamed) and returns the upload's new
// offset. The last chunk makes the blob: bytes without the upload's
// SHA-256 fail with api.ErrInvalidInput naming sha256. An offset that is
// not the upload's fails with api.ErrConflict and the upload's offset in
// UploadOffset. It is not retried: a chunk cut short is kept as far as it
// arrived, and UploadOffset tells from where to go on.
func (c *Client) UploadChunk(ctx context.Context, id string, offset int64, chunk io.Reader, n int64) (int64, error) {
	h := http.Header{}
	h.Set(api.HeaderUploadOffset, strconv.FormatInt(offset, 10))
	h.Set("Content-Type", "application/offset+octet-stream")
	var next int64
	_, err := c.raw(ctx, rawCall{method: http.MethodPatch, path: uploadPath(id), header: h,
		body: func() io.Reader { return io.LimitReader(chunk, n) }, length: n, stall: streamStall},
		func(resp *http.Response, _ *stallGuard) error {
			var ok bool
			if next, ok = headerInt(resp.Header.Get(api.HeaderUploadOffset)); !ok {
				return garbled(resp.StatusCode, http.MethodPatch, uploadPath(id), fmt.Errorf("Upload-Offset %q", resp.Header.Get(api.HeaderUploadOffset)))
			}
			return nil
		})
	return next, err
}

// UploadBlob uploads the size bytes of r, whose SHA-256 is sha (hex), in
// chunks of UploadChunkBytes, resuming from the offset the service has
// (so a blob whose upload a crash or another device started goes on from
// there, and one the account has is not sent again). Connection failures
// are tried again from the service's offset; a refusal (the quota, bytes
// without that SHA-256) is returned.
func (c *Client) UploadBlob(ctx context.Context, r io.ReaderAt, size int64, sha string) error {
	u, err := c.StartUpload(ctx, sha, size)
	if err != nil {
		return err
	}
	stuck, chunk := 0, int64(UploadChunkBytes)
	for !u.Complete {
		if stuck++; stuck > streamTries {
			if err == nil {
				err = fmt.Errorf("upload %s: the service takes no more bytes at %d of %d", u.ID, u.Offset, size)
			}
			return err
		}
		if stuck > 1 {
			if werr := wait(ctx, backoff(stuck-2)); werr != nil {
				return errors.Join(err, werr)
			}
		}
		n := min(chunk, size-u.Offset)
		var next int64
		next, err = c.UploadChunk(ctx, u.ID, u.Offset, io.NewSectionReader(r, u.Offset, n), n)
		var ae *api.Error
		switch {
		case err == nil:
			if next > u.Offset {
				stuck = 0
			}
			u.Offset, u.Complete = next, next == size
		case errors.As(err, &ae) && ae.Code == api.CodeConflict && ae.UploadOffset != nil:
			u.Offset = *ae.UploadOffset
		case errors.Is(err, api.ErrBodyTooLarge) && chunk > 64<<10:
			chunk /= 2 // the service takes smaller chunks
		case errors.Is(err, api.ErrNotFound):
			// Finished by another device, or ended: ask again.
			if u, err = c.StartUpload(ctx, sha, size); err != nil {
				return err
			}
		case IsUnavailable(err) && ctx.Err() == nil:
			off, oerr := c.UploadOffset(ctx, u.ID)
			switch {
			case oerr == nil:
				if off > u.Offset {
					stuck = 0
				}
				u.Offset = off
			case errors.Is(oerr, api.ErrNotFound):
				if u, err = c.StartUpload(ctx, sha, size); err != nil {
					return err
				}
			}
		default:
			return err
		}
	}
	return nil
}

// DownloadBlob writes the account's blob sha to w from byte from (0 for
// all of it; a download cut short resumes where it stopped), with Range
// requests (GET /v1/cloud/blobs/{sha256}), trying again from where the
// bytes stopped when a connection fails. It returns how many bytes it
// wrote. A blob the account does not have fails with api.ErrNotFound,
// from at or past its end with api.ErrRangeNotSatisfiable.
func (c *Client) DownloadBlob(ctx context.Context, sha string, w io.Writer, from int64) (int64, error) {
	path := "/v1/cloud/blobs/" + url.PathEscape(sha)
	pos, size := from, int64(-1)
	var written int64
	var err error
	for stuck := 0; size < 0 || pos < size; {
		if stuck++; stuck > streamTries {
			return written, err
		}
		if stuck > 1 {
			if werr := wait(ctx, backoff(stuck-2)); werr != nil {
				return written, errors.Join(err, werr)
			}
		}
		h := http.Header{}
		switch {
		case c.handler != nil:
			h.Set("Range", fmt.Sprintf("bytes=%d-%d", pos, pos+inProcessWindow-1))
		case pos > 0:
			h.Set("Range", fmt.Sprintf("bytes=%d-", pos))
		}
		var n int64
		_, err = c.raw(ctx, rawCall{method: http.MethodGet, path: path, header: h, stall: streamStall},
			func(resp *http.Response, g *stallGuard) error {
				start, total, ok := contentRange(resp)
				if !ok {
					return garbled(resp.StatusCode, http.MethodGet, path, fmt.Errorf("no usable Content-Range or Content-Length"))
				}
				size = total
				body := io.Reader(progressReader{r: resp.Body, g: g})
				if start < pos { // the whole blob, Range ignored
					if _, err := io.CopyN(io.Discard, body, pos-start); err != nil {
						return unavailable(http.MethodGet, path, err)
					}
				} else if start > pos {
					return garbled(resp.StatusCode, http.MethodGet, path, fmt.Errorf("bytes from %d, asked from %d", start, pos))
				}
				dst := &writeErr{w: w}
				var cerr error
				n, cerr = io.Copy(dst, body)
				switch {
				case dst.err != nil:
					return fmt.Errorf("download blob %s: %w", sha, dst.err) // the caller's writer: not worth a retry
				case cerr != nil:
					return unavailable(http.MethodGet, path, cerr)
				}
				return nil
			})
		pos, written = pos+n, written+n
		if n > 0 {
			stuck = 0
		}
		if c.handler != nil && pos == 0 && errors.Is(err, api.ErrRangeNotSatisfiable) {
			return written, nil // an empty blob: no window of it exists
		}
		if err != nil && !(IsUnavailable(err) && ctx.Err() == nil) {
			return written, err
		}
	}
	return written, nil
}

// writeErr passes writes on and keeps the error of w (io.Copy reports a
// read and a write error alike).
type writeErr struct {
	w   io.Writer
	err error
}

func (d *writeErr) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if err != nil {
		d.err = err
	}
	return n, err
}

// contentRange reads where an answer's bytes start and the blob's size: a
// 206's Content-Range, or a 200's Content-Length.
func contentRange(resp *http.Response) (start, size int64, ok bool) {
	if resp.StatusCode != http.StatusPartialContent {
		n, ok := headerInt(resp.Header.Get("Content-Length"))
		return 0, n, ok
	}
	v, found := strings.CutPrefix(resp.Header.Get("Content-Range"), "bytes ")
	rng, total, found2 := strings.Cut(v, "/")
	first, _, found3 := strings.Cut(rng, "-")
	if !found || !found2 || !found3 {
		return 0, 0, false
	}
	start, ok1 := headerInt(first)
	size, ok2 := headerInt(total)
	return start, size, ok1 && ok2 && start <= size
}

// headerInt reads a header's whole number of bytes.
func headerInt(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil && n >= 0
}

// DeleteAccount deletes the account and everything of it, Mi Cloud's data
// included, for good (DELETE /v1/account); it needs the password again.
// The client forgets its token.
func (c *Client) DeleteAccount(ctx context.Context, password string) error {
	tries, err := c.jsonCall(ctx, http.MethodDelete, "/v1/account", nil, api.PasswordConfirm{Password: password}, nil, 0)
	if err != nil && !(tries > 1 && errors.Is(err, api.ErrUnauthorized)) { // a retry after the deletion finds no session
		return err
	}
	c.SetToken("")
	return nil
}
