package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"misetup/api"
	"misetup/server/bucket"
	"misetup/server/store"
)

// Blobs are kept in the bucket of Config.BlobURL, content-addressed: the
// blob of SHA-256 S of account M is the object M/S. An upload's parts are
// the objects M/uploads/ID.POS.NONCE, one for each chunk a PATCH brought
// (NONCE tells apart the parts that requests sending the same offset
// together wrote: the store records one of them). Every object of an
// account is under M/, so its deletion removes everything of it.

// octetStream is the content type of blobs and parts.
const octetStream = "application/octet-stream"

// uploadIDRe is an upload's id (newID's form).
var uploadIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{32}$`) })

// blobKey is the object of an account's blob.
func blobKey(miID, sha string) string { return miID + "/" + sha }

// accountPrefix is the prefix of every object of an account.
func accountPrefix(miID string) string { return miID + "/" }

// uploadPrefix is the prefix of an upload's parts.
func uploadPrefix(miID, id string) string { return miID + "/uploads/" + id + "." }

// partKey is a fresh object for the part of an upload from pos.
func partKey(miID, id string, pos int64) (string, error) {
	nonce := make([]byte, 6)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("random part name: %w", err)
	}
	return fmt.Sprintf("%s%020d.%s", uploadPrefix(miID, id), pos, hex.EncodeToString(nonce)), nil
}

// parseDigits reads a whole number written as 1 to 18 decimal digits
// (nothing else: no sign, no space), so that it always fits an int64.
func parseDigits(v string) (int64, bool) {
	if v == "" || len(v) > 18 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// parseUploadOffset reads an Upload-Offset header.
func parseUploadOffset(v string) (int64, error) {
	n, ok := parseDigits(v)
	if !ok {
		return 0, errInput(api.HeaderUploadOffset, "Upload-Offset must be the upload's offset, a whole number of bytes from 0.")
	}
	return n, nil
}

// parseRange reads a Range header for a blob of size bytes: the bytes to
// send (from start, length of them) and whether that is a part. One range
// of bytes is understood (N-, N-M or -S); anything else is ignored, as
// HTTP allows, and the whole blob is sent. ok is false for a range that
// starts at or after the end (416).
func parseRange(h string, size int64) (start, length int64, partial, ok bool) {
	whole := func() (int64, int64, bool, bool) { return 0, size, false, true }
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return whole()
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return whole()
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, ok := parseDigits(last)
		switch {
		case !ok:
			return whole()
		case n == 0 || size == 0:
			return 0, 0, false, false
		}
		n = min(n, size)
		return size - n, n, true, true
	}
	a, ok := parseDigits(first)
	if !ok {
		return whole()
	}
	if a >= size {
		return 0, 0, false, false
	}
	end := size - 1
	if last != "" {
		b, ok := parseDigits(last)
		if !ok || b < a {
			return whole()
		}
		end = min(b, end)
	}
	return a, end - a + 1, true, true
}

// rawEndpoint is an endpoint that writes its own answer (a stream, headers
// of its own). It returns an error only before it has written anything:
// the error is then the answer.
type rawEndpoint func(w http.ResponseWriter, r *http.Request, who *caller) error

// handleRaw registers h for pattern, for a signed-in caller.
func (s *Server) handleRaw(pattern string, h rawEndpoint) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		who, err := s.optionalCaller(r)
		if err == nil && who == nil {
			err = errUnauthorized()
		}
		if err == nil {
			err = h(w, r, who)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// extendBlobDeadlines gives a request that moves a blob's bytes
// BlobTimeout to read its body (read) and to write its answer, instead of
// the server's ReadTimeout and WriteTimeout. In-process requests have no
// deadlines to move.
func (s *Server) extendBlobDeadlines(w http.ResponseWriter, read bool) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(s.cfg.BlobTimeout)
	if read {
		_ = rc.SetReadDeadline(deadline)
	}
	_ = rc.SetWriteDeadline(deadline)
}

// uploadView is an upload on the wire.
func uploadView(u *store.Upload) api.Upload {
	exp := u.ExpiresAt.UTC()
	return api.Upload{ID: u.ID, SHA256: u.SHA256, Size: u.Size, Offset: u.Received, Complete: u.Received == u.Size, ExpiresAt: &exp}
}

// startUpload answers POST /v1/cloud/uploads: 201 with a new upload, 200
// with the account's open upload of the same blob (to resume from its
// offset), or 200 complete when the account has the blob already. The
// upload must fit the quota beside the bytes used and pending (507).
func (s *Server) startUpload(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	var req api.UploadRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	sha, err := checkUploadRequest(&req, s.cfg.MaxBlobBytes)
	if err != nil {
		return 0, nil, err
	}
	miID := who.account.MiID
	s.collectGarbage(ctx, miID)
	id, err := newID()
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	u, err := s.st.StartUpload(ctx, &store.Upload{ID: id, MiID: miID, SHA256: sha, Size: req.Size,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.UploadTTL)}, s.cfg.DefaultQuotaBytes)
	var qe *store.QuotaExceeded
	switch {
	case errors.Is(err, store.ErrBlobExists):
		size := req.Size
		if b, err := s.st.Blob(ctx, miID, sha); err == nil {
			size = b.Size
		}
		return http.StatusOK, api.Upload{SHA256: sha, Size: size, Offset: size, Complete: true}, nil
	case errors.As(err, &qe):
		return 0, nil, errQuota(qe)
	case err != nil:
		return 0, nil, fmt.Errorf("start upload: %w", err)
	}
	if u.Size == 0 { // nothing to send: it is whole at once
		if err := s.finishUpload(ctx, u); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, api.Upload{SHA256: sha, Complete: true}, nil
	}
	status := http.StatusOK
	if u.ID == id {
		status = http.StatusCreated
	}
	return status, uploadView(u), nil
}

// checkUploadRequest checks the start of an upload and returns its
// SHA-256 in lower case.
func checkUploadRequest(req *api.UploadRequest, maxSize int64) (string, error) {
	sha := strings.ToLower(req.SHA256)
	if !sha256Re().MatchString(sha) {
		return "", errInput("sha256", "sha256 must be the blob's SHA-256, 64 hex digits.")
	}
	if req.Size < 0 || req.Size > maxSize {
		return "", errInput("size", "size must be the blob's size, from 0 to %d bytes.", maxSize)
	}
	return sha, nil
}

// upload loads the request's {id} of the caller's account, open now.
func (s *Server) upload(r *http.Request, who *caller) (*store.Upload, error) {
	id := r.PathValue("id")
	if !uploadIDRe().MatchString(id) {
		return nil, errNotFound("upload")
	}
	u, err := s.st.Upload(r.Context(), who.account.MiID, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("upload")
	}
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	return u, nil
}

// setOffset sets the Upload-Offset and Upload-Length headers of u.
func setOffset(w http.ResponseWriter, received, size int64) {
	w.Header().Set(api.HeaderUploadOffset, strconv.FormatInt(received, 10))
	w.Header().Set(api.HeaderUploadLength, strconv.FormatInt(size, 10))
}

// errOffset is a 409 for a chunk sent at another offset than received.
func errOffset(received int64) *api.Error {
	return &api.Error{
		Code:         api.CodeConflict,
		Field:        api.HeaderUploadOffset,
		Message:      fmt.Sprintf("The upload has received %d bytes: send the next chunk from there.", received),
		UploadOffset: &received,
	}
}

// getUpload answers GET and HEAD /v1/cloud/uploads/{id}: the upload, and
// its offset in the Upload-Offset header (all HEAD tells).
func (s *Server) getUpload(w http.ResponseWriter, r *http.Request, who *caller) error {
	u, err := s.upload(r, who)
	if err != nil {
		return err
	}
	setOffset(w, u.Received, u.Size)
	writeJSON(w, http.StatusOK, uploadView(u))
	return nil
}

// cancelUpload answers DELETE /v1/cloud/uploads/{id}: the upload and its
// parts go.
func (s *Server) cancelUpload(r *http.Request, who *caller) (int, any, error) {
	u, err := s.upload(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := s.dropUpload(r.Context(), u.MiID, u.ID); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// dropUpload removes an upload and its parts.
func (s *Server) dropUpload(ctx context.Context, miID, id string) error {
	ctx = context.WithoutCancel(ctx)
	if err := s.st.DeleteUpload(ctx, miID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete upload: %w", err)
	}
	s.deletePrefix(ctx, uploadPrefix(miID, id))
	return nil
}

// uploadChunk answers PATCH /v1/cloud/uploads/{id}: the body, streamed, is
// the chunk of the upload from Upload-Offset, which must be what it has
// received (409 with the upload's offset otherwise). The chunk is kept as
// a part of its own, so any process on the store and the bucket can take
// the upload on; what arrived of a body cut short is kept too, and the
// client resumes from the offset HEAD tells. When the last byte has
// arrived, the parts become the blob, checked against its SHA-256. The
// answer is 204 with the new Upload-Offset.
func (s *Server) uploadChunk(w http.ResponseWriter, r *http.Request, who *caller) error {
	offset, err := parseUploadOffset(r.Header.Get(api.HeaderUploadOffset))
	if err != nil {
		return err
	}
	u, err := s.upload(r, who)
	if err != nil {
		return err
	}
	if offset != u.Received {
		setOffset(w, u.Received, u.Size)
		return errOffset(u.Received)
	}
	s.extendBlobDeadlines(w, true)
	if u.Received < u.Size {
		next, err := s.receivePart(r, u)
		var uc *store.UploadConflict
		switch {
		case errors.As(err, &uc):
			setOffset(w, uc.Current.Received, uc.Current.Size)
			return errOffset(uc.Current.Received)
		case err != nil:
			return err
		}
		u = next
	} else if n, _ := io.ReadFull(r.Body, make([]byte, 1)); n > 0 {
		return errInput("", "The upload has all its %d bytes: send no more.", u.Size)
	}
	if u.Received == u.Size {
		if err := s.finishUpload(r.Context(), u); err != nil {
			return err
		}
	}
	setOffset(w, u.Received, u.Size)
	w.Header().Del("Content-Type")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bodyReader passes a request body on and keeps the error it read (io.Copy
// reports a read and a write error alike).
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// receivePart streams the request's body into a new part of u (at most
// what is left of it, and MaxChunkBytes) and records it.
func (s *Server) receivePart(r *http.Request, u *store.Upload) (*store.Upload, error) {
	// The part is written and recorded even when the client goes away
	// mid-body: what arrived is kept.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.BlobTimeout)
	defer cancel()
	room := u.Size - u.Received
	limit := min(room, s.cfg.MaxChunkBytes)
	key, err := partKey(u.MiID, u.ID, u.Received)
	if err != nil {
		return nil, err
	}
	bw, err := s.bucket.NewWriter(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("new part: %w", err)
	}
	abort := func() {
		cancel() // a cancelled write leaves no object
		_ = bw.Close()
	}
	body := &bodyReader{r: io.LimitReader(r.Body, limit)}
	n, err := io.Copy(bw, body)
	switch {
	case err != nil && body.err == nil:
		abort()
		return nil, fmt.Errorf("write part: %w", err)
	case body.err != nil && n == 0:
		abort()
		return nil, readError(body.err)
	case body.err == nil && n == limit:
		// Anything more runs past the upload's size, or the chunk cap.
		// (A read error other than the cap's here keeps what arrived.)
		m, err := io.ReadFull(r.Body, make([]byte, 1))
		var tooBig *http.MaxBytesError
		if over := errors.As(err, &tooBig); m > 0 || over {
			abort()
			if over || limit < room {
				return nil, &api.Error{Code: api.CodeBodyTooLarge, Message: fmt.Sprintf("A chunk is at most %d bytes: send the rest in further chunks.", s.cfg.MaxChunkBytes)}
			}
			return nil, errInput("", "The chunk runs past the upload's size: %d bytes were left from offset %d.", room, u.Received)
		}
	}
	if n == 0 {
		abort()
		return u, nil
	}
	if err := bw.Close(); err != nil {
		return nil, fmt.Errorf("write part: %w", err)
	}
	now := s.now()
	next, err := s.st.AddUploadPart(ctx, u.MiID, u.ID, store.UploadPart{Pos: u.Received, Size: n, Key: key}, now, now.Add(s.cfg.UploadTTL))
	if err != nil {
		s.deleteObject(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNotFound("upload")
		}
		var uc *store.UploadConflict
		if errors.As(err, &uc) {
			return nil, err
		}
		return nil, fmt.Errorf("record part: %w", err)
	}
	return next, nil
}

// readError is the answer to a body that could not be read.
func readError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &api.Error{Code: api.CodeBodyTooLarge, Message: fmt.Sprintf("The request body is over %d bytes.", tooBig.Limit)}
	}
	return &api.Error{Code: api.CodeUnavailable, Message: "The request body could not be read (the connection ended or timed out): resume from Upload-Offset.", Cause: err}
}

// finishUpload makes the blob of an upload that has all its bytes: its
// parts, in order, streamed into the blob's object while hashed. Bytes
// without the SHA-256 the upload announced are refused (400 naming
// sha256): the object is not written and the upload is dropped. Then the
// store records the blob and the parts go.
func (s *Server) finishUpload(ctx context.Context, u *store.Upload) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.BlobTimeout)
	defer cancel()
	parts, err := s.st.UploadParts(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("list parts: %w", err)
	}
	if l, ok := s.bucket.(bucket.Linker); ok && len(parts) == 1 && parts[0].Size == u.Size {
		return s.finishByLink(ctx, l, u, parts[0])
	}
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	bw, err := s.bucket.NewWriter(wctx, blobKey(u.MiID, u.SHA256))
	if err != nil {
		return fmt.Errorf("new blob: %w", err)
	}
	h := sha256.New()
	var total int64
	err = func() error {
		for _, p := range parts {
			if p.Pos != total {
				return fmt.Errorf("upload %s: a part at %d, want one at %d", u.ID, p.Pos, total)
			}
			rd, err := s.bucket.NewRangeReader(ctx, p.Key, 0, -1)
			if err != nil {
				return err
			}
			n, err := io.Copy(io.MultiWriter(bw, h), rd)
			rd.Close()
			total += n
			if err != nil {
				return err
			}
			if n != p.Size {
				return fmt.Errorf("upload %s: part %s has %d bytes, want %d", u.ID, p.Key, n, p.Size)
			}
		}
		return nil
	}()
	if err == nil && (total != u.Size || hex.EncodeToString(h.Sum(nil)) != u.SHA256) {
		abort()
		_ = bw.Close()
		return s.refuseMismatch(ctx, u)
	}
	if err != nil {
		abort()
		_ = bw.Close()
		if s.blobRecorded(ctx, u) {
			return nil
		}
		return fmt.Errorf("assemble upload: %w", err)
	}
	if err := bw.Close(); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	return s.recordBlob(ctx, u)
}

// finishByLink is finishUpload for an upload that came in one part, on a
// bucket that links (a folder): the part, read once to check its SHA-256,
// becomes the blob by a second name, not by a copy of its bytes (a 10 MB
// photo was written and synced twice). The part stays until the blob is
// recorded, so a finish the store turns back can be tried again.
func (s *Server) finishByLink(ctx context.Context, l bucket.Linker, u *store.Upload, p store.UploadPart) error {
	rd, err := s.bucket.NewRangeReader(ctx, p.Key, 0, -1)
	if errors.Is(err, bucket.ErrNotFound) {
		return s.finishedElsewhere(ctx, u)
	}
	if err != nil {
		return fmt.Errorf("read part: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, rd)
	rd.Close()
	if err != nil {
		return fmt.Errorf("read part: %w", err)
	}
	if n != u.Size || hex.EncodeToString(h.Sum(nil)) != u.SHA256 {
		return s.refuseMismatch(ctx, u)
	}
	err = l.Link(ctx, p.Key, blobKey(u.MiID, u.SHA256))
	if errors.Is(err, bucket.ErrNotFound) {
		return s.finishedElsewhere(ctx, u)
	}
	if err != nil {
		return fmt.Errorf("link part to blob: %w", err)
	}
	return s.recordBlob(ctx, u)
}

// recordBlob records the blob of an upload whose object is written, and
// lets the upload's parts go.
func (s *Server) recordBlob(ctx context.Context, u *store.Upload) error {
	_, err := s.st.FinishUpload(ctx, u.MiID, u.ID, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.finishedElsewhere(ctx, u)
	case errors.Is(err, store.ErrStale):
		// The account's earlier copy of the blob is being deleted, and its
		// object with it: write it again once that is done.
		return &api.Error{Code: api.CodeUnavailable, Message: "An earlier copy of this blob is being deleted: send the last chunk again (PATCH at the upload's size, no body) in a moment.", RetryAfterS: 1}
	case err != nil:
		return fmt.Errorf("finish upload: %w", err)
	}
	s.deletePrefix(ctx, uploadPrefix(u.MiID, u.ID))
	return nil
}

// refuseMismatch drops an upload whose bytes lack the SHA-256 it began
// with, and says so (400 naming sha256).
func (s *Server) refuseMismatch(ctx context.Context, u *store.Upload) error {
	if err := s.dropUpload(ctx, u.MiID, u.ID); err != nil {
		s.log.Warn("drop upload", "mi_id", u.MiID, "upload", u.ID, "err", err)
	}
	return errInput("sha256", "The bytes received do not have the SHA-256 the upload started with: the upload is dropped. Check the file and upload it again.")
}

// blobRecorded reports whether the account has the blob of u: another
// request finished the upload meanwhile (and let its parts go).
func (s *Server) blobRecorded(ctx context.Context, u *store.Upload) bool {
	_, err := s.st.Blob(ctx, u.MiID, u.SHA256)
	return err == nil
}

// finishedElsewhere answers a finish that found the upload gone: done, if
// another request made the blob meanwhile; 404 otherwise.
func (s *Server) finishedElsewhere(ctx context.Context, u *store.Upload) error {
	if s.blobRecorded(ctx, u) {
		return nil
	}
	return errNotFound("upload")
}

// downloadBlob answers GET /v1/cloud/blobs/{sha256}: the caller's blob,
// streamed with its Content-Length; a Range of bytes (N-, N-M, -S) is
// answered 206 with Content-Range, so a download can resume.
func (s *Server) downloadBlob(w http.ResponseWriter, r *http.Request, who *caller) error {
	ctx := r.Context()
	sha := r.PathValue("sha256")
	if !sha256Re().MatchString(sha) {
		return errNotFound("blob")
	}
	b, err := s.st.Blob(ctx, who.account.MiID, sha)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("blob")
	}
	if err != nil {
		return fmt.Errorf("read blob: %w", err)
	}
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", `"`+sha+`"`)
	start, length, partial, ok := parseRange(r.Header.Get("Range"), b.Size)
	if !ok {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", b.Size))
		return &api.Error{Code: api.CodeRangeNotSatisfiable, Field: "Range",
			Message: fmt.Sprintf("The blob has %d bytes: a range must start before its end.", b.Size)}
	}
	var rd io.ReadCloser = http.NoBody
	if length > 0 && r.Method != http.MethodHead {
		rd, err = s.bucket.NewRangeReader(ctx, blobKey(who.account.MiID, sha), start, length)
		if err != nil {
			return fmt.Errorf("open blob %s of %s: %w", sha, who.account.MiID, err)
		}
	}
	defer rd.Close()
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, b.Size))
	}
	h.Set("Content-Type", octetStream)
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	s.extendBlobDeadlines(w, false)
	w.WriteHeader(status)
	if _, err := io.Copy(w, rd); err != nil && ctx.Err() == nil {
		s.log.Warn("download blob", "mi_id", who.account.MiID, "sha256", sha, "err", err)
	}
	return nil
}

// collectGarbage removes an account's uploads that ended, with their
// parts, and its blobs no item has named for BlobGrace. Failures are
// logged: what is left is collected next time.
func (s *Server) collectGarbage(ctx context.Context, miID string) {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	ids, err := s.st.PurgeUploads(ctx, miID, now)
	if err != nil {
		s.log.Warn("purge uploads", "mi_id", miID, "err", err)
	}
	for _, id := range ids {
		s.deletePrefix(ctx, uploadPrefix(miID, id))
	}
	shas, err := s.st.ReleaseBlobs(ctx, miID, now.Add(-s.cfg.BlobGrace))
	if err != nil {
		s.log.Warn("release blobs", "mi_id", miID, "err", err)
		return
	}
	var gone []string
	for _, sha := range shas {
		if s.deleteObject(ctx, blobKey(miID, sha)) {
			gone = append(gone, sha)
		}
	}
	if len(gone) > 0 {
		if err := s.st.ForgetBlobs(ctx, miID, gone); err != nil {
			s.log.Warn("forget blobs", "mi_id", miID, "err", err)
		}
	}
}

// deleteObject deletes an object of the bucket and reports whether it is
// gone (a missing one is).
func (s *Server) deleteObject(ctx context.Context, key string) bool {
	err := s.bucket.Delete(ctx, key)
	if err != nil && !errors.Is(err, bucket.ErrNotFound) {
		s.log.Warn("delete blob object", "key", key, "err", err)
		return false
	}
	return true
}

// deletePrefix deletes every object whose key starts with prefix and
// reports whether all went.
func (s *Server) deletePrefix(ctx context.Context, prefix string) bool {
	keys, err := s.bucket.List(ctx, prefix)
	if err != nil {
		s.log.Warn("list blob objects", "prefix", prefix, "err", err)
		return false
	}
	all := true
	for _, k := range keys {
		if !s.deleteObject(ctx, k) {
			all = false
		}
	}
	return all
}
