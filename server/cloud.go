package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// Limits of Mi Cloud items.
const (
	// maxItemID is the longest item id, in bytes: a path of a few
	// folders and a file name, in any script.
	maxItemID = 1024
	// maxItemName is the longest item name, in characters.
	maxItemName = 200
	// maxContentType is the longest content type, in bytes.
	maxContentType = 255
	// defaultChangesLimit and maxChangesLimit are the items a page of
	// changes has when the request names no limit, and at most.
	defaultChangesLimit = 100
	maxChangesLimit     = 200
	// changesPageBytes is the most data and texts a page of changes
	// carries (one item at least): in base64 and JSON, with the fields of
	// maxChangesLimit items, the page stays under 1 MiB, the answer limit
	// of the client (and of its in-process transport).
	changesPageBytes = 512 << 10
)

// sha256Re is a SHA-256 in lower-case hex.
var sha256Re = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) })

// checkItemID says what is wrong with an item id, naming the field id.
// An id is a path a device keeps the item at, such as
// "DCIM/Camera/IMG_0001.jpg" or "笔记/购物 (2).md": segments of any
// printable text joined by single slashes, with no segment "." or "..",
// no control, escape or bidi-override characters, and no backslash.
func checkItemID(id string) error {
	const rule = "The item id must be a path of 1 to 1024 bytes: names joined by single slashes, none of them . or .., without control characters or backslashes."
	if id == "" || len(id) > maxItemID || !utf8.ValidString(id) || policy.Sanitize(id) != id || strings.ContainsAny(id, "\\\x00") {
		return errInput("id", rule)
	}
	for seg := range strings.SplitSeq(id, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return errInput("id", rule)
		}
		for _, r := range seg {
			if !unicode.IsPrint(r) && r != ' ' {
				return errInput("id", rule)
			}
		}
	}
	return nil
}

// isFileCategory reports whether items of category name blobs.
func isFileCategory(category string) bool { return slices.Contains(api.FileCategories, category) }

// categoryEndpoint is an endpoint of one category's items; inCategory
// binds it to its category, so that each category has routes of its own
// (a {category} wildcard would clash with /v1/cloud/uploads/{id}).
type categoryEndpoint func(r *http.Request, who *caller, category string) (int, any, error)

func inCategory(category string, h categoryEndpoint) func(r *http.Request, who *caller) (int, any, error) {
	return func(r *http.Request, who *caller) (int, any, error) { return h(r, who, category) }
}

// itemID reads the request's {id...}.
func itemID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := checkItemID(id); err != nil {
		return "", err
	}
	return id, nil
}

// itemView is an item on the wire.
func itemView(it *store.CloudItem) api.Item {
	return api.Item{
		Category:    it.Category,
		ID:          it.ID,
		Name:        policy.Sanitize(it.Name),
		Data:        it.Data,
		Blob:        it.Blob,
		ContentType: it.ContentType,
		Size:        it.Size,
		SHA256:      it.SHA256,
		Version:     it.Version,
		Change:      it.Seq,
		Deleted:     it.Deleted,
		DeviceID:    it.DeviceID,
		UpdatedAt:   it.UpdatedAt.UTC(),
	}
}

// parseItemVersion reads a version header value: a positive decimal number,
// bare or as a quoted entity tag ("3"); ok false otherwise.
func parseItemVersion(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > 18 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0
}

// itemCondition reads If-Match (a version: change the item at that
// version) or If-None-Match: * (create it); exactly one is required.
// create false means only If-Match is allowed (a deletion).
func itemCondition(r *http.Request, create bool) (version int64, absent bool, err error) {
	match, noneMatch := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	switch {
	case match != "" && noneMatch != "":
		return 0, false, errInput("If-Match", "Send either If-Match (to change an item) or If-None-Match: * (to create one), not both.")
	case match != "":
		v, ok := parseItemVersion(match)
		if !ok {
			return 0, false, errInput("If-Match", "If-Match must be the item's version, a whole number from 1.")
		}
		return v, false, nil
	case noneMatch != "" && create:
		if strings.TrimSpace(noneMatch) != "*" {
			return 0, false, errInput("If-None-Match", "If-None-Match must be * (create the item only if it does not exist).")
		}
		return 0, true, nil
	case create:
		return 0, false, errInput("If-Match", "Send If-Match with the item's version to change it, or If-None-Match: * to create it.")
	}
	return 0, false, errInput("If-Match", "Send If-Match with the item's version to delete it.")
}

// errItemConflict is a 409 conflict carrying the item as it is.
func errItemConflict(cur *store.CloudItem) *api.Error {
	v := itemView(cur)
	msg := fmt.Sprintf("The item changed meanwhile: it is at version %d now. Merge with current and send that version.", cur.Version)
	if cur.Deleted {
		msg = fmt.Sprintf("The item was deleted meanwhile (version %d).", cur.Version)
	}
	return &api.Error{Code: api.CodeConflict, Message: msg, Current: &v}
}

// errQuota is a 507 quota_exceeded with where the account stands.
func errQuota(qe *store.QuotaExceeded) *api.Error {
	by := map[string]int64{}
	for _, c := range api.Categories {
		by[c] = 0
	}
	for c, n := range qe.ByCategory {
		by[c] = n
	}
	e := &api.Error{
		Code:       api.CodeQuotaExceeded,
		Message:    fmt.Sprintf("Mi Cloud is full: %d of %d bytes are used and this needs %d more. Delete something, or get more storage.", qe.Used, qe.Quota, qe.Need),
		UsedBytes:  &qe.Used,
		QuotaBytes: &qe.Quota,
		ByCategory: by,
	}
	if qe.Pending > 0 {
		e.PendingBytes = &qe.Pending
		e.Message = fmt.Sprintf("Mi Cloud has no room for this upload: %d bytes used and %d pending (uploads and files no item names) of %d, and it needs %d more.", qe.Used, qe.Pending, qe.Quota, qe.Need)
	}
	return e
}

// itemRefusal is the answer to a write of an item the store refused (409
// with the item as it is, 507, 404, 400 for a missing blob), or the
// failure of op.
func itemRefusal(op string, err error) error {
	var (
		vc *store.VersionConflict
		qe *store.QuotaExceeded
	)
	switch {
	case errors.As(err, &vc):
		return errItemConflict(vc.Current)
	case errors.As(err, &qe):
		return errQuota(qe)
	case errors.Is(err, store.ErrNoBlob):
		return errInput("blob", "The blob is not (or no longer) in your Mi Cloud: upload it first (POST /v1/cloud/uploads).")
	case errors.Is(err, store.ErrNotFound):
		return errNotFound("item")
	}
	return fmt.Errorf("%s: %w", op, err)
}

// getItem answers GET /v1/cloud/{category}/items/{id...}: the item, a
// tombstone included.
func (s *Server) getItem(r *http.Request, who *caller, category string) (int, any, error) {
	id, err := itemID(r)
	if err != nil {
		return 0, nil, err
	}
	it, err := s.st.Item(r.Context(), who.account.MiID, category, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errNotFound("item")
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read item: %w", err)
	}
	return http.StatusOK, itemView(it), nil
}

// putItem answers PUT /v1/cloud/{category}/items/{id...} with If-Match:
// <version> (change) or If-None-Match: * (create). The store decides the
// condition, the change number and the quota in one transaction.
func (s *Server) putItem(r *http.Request, who *caller, category string) (int, any, error) {
	ctx := r.Context()
	id, err := itemID(r)
	if err != nil {
		return 0, nil, err
	}
	version, absent, err := itemCondition(r, true)
	if err != nil {
		return 0, nil, err
	}
	var req api.ItemWrite
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	it := store.CloudItem{MiID: who.account.MiID, Category: category, ID: id, DeviceID: who.session.DeviceID, UpdatedAt: s.now()}
	if err := s.checkItemWrite(r, &req, &it); err != nil {
		return 0, nil, err
	}
	stored, err := s.st.PutItem(ctx, &store.ItemWrite{Item: it, IfVersion: version, IfAbsent: absent, DefaultQuota: s.cfg.DefaultQuotaBytes})
	if err != nil {
		return 0, nil, itemRefusal("put item", err)
	}
	status := http.StatusOK
	if absent {
		status = http.StatusCreated
	}
	return status, itemView(stored), nil
}

// checkItemWrite checks a PUT's body against its category and fills it:
// a small category takes data (up to MaxItemBytes), a file category a
// blob of the account with its size.
func (s *Server) checkItemWrite(r *http.Request, req *api.ItemWrite, it *store.CloudItem) error {
	var err error
	if it.Name, err = cleanText("name", req.Name, maxItemName); err != nil {
		return err
	}
	if req.ContentType != "" {
		if it.ContentType, err = checkContentType(req.ContentType); err != nil {
			return err
		}
	}
	if !isFileCategory(it.Category) {
		switch {
		case req.Blob != "":
			return errInput("blob", "Only %s items name a blob; %s items carry their data.", strings.Join(api.FileCategories, " and "), it.Category)
		case int64(len(req.Data)) > s.cfg.MaxItemBytes:
			return errInput("data", "data is too large (at most %d bytes); large files go to gallery or recorder as blobs.", s.cfg.MaxItemBytes)
		case req.Size != 0 && req.Size != int64(len(req.Data)):
			return errInput("size", "size must be the length of data (%d), or left out.", len(req.Data))
		}
		sum := sha256.Sum256(req.Data)
		it.Data, it.Size, it.SHA256 = req.Data, int64(len(req.Data)), hex.EncodeToString(sum[:])
		return nil
	}
	if len(req.Data) > 0 {
		return errInput("data", "%s items name a blob uploaded first (blob, size), not data.", it.Category)
	}
	sha := strings.ToLower(req.Blob)
	if !sha256Re().MatchString(sha) {
		return errInput("blob", "blob must be the SHA-256 of an uploaded blob, 64 hex digits.")
	}
	b, err := s.st.Blob(r.Context(), it.MiID, sha)
	if errors.Is(err, store.ErrNotFound) {
		return errInput("blob", "The blob is not in your Mi Cloud: upload it first (POST /v1/cloud/uploads).")
	}
	if err != nil {
		return fmt.Errorf("read blob: %w", err)
	}
	if req.Size != b.Size {
		return errInput("size", "size must be the blob's size, %d bytes.", b.Size)
	}
	it.Blob, it.Size, it.SHA256 = sha, b.Size, sha
	return nil
}

// checkContentType checks a MIME type (type/subtype, parameters allowed)
// and returns it in its canonical form.
func checkContentType(v string) (string, error) {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || len(v) > maxContentType || !strings.Contains(mt, "/") {
		return "", errInput("content_type", "content_type must be a MIME type such as image/jpeg (at most %d bytes).", maxContentType)
	}
	out := mime.FormatMediaType(mt, params)
	if out == "" || len(out) > maxContentType {
		return "", errInput("content_type", "content_type must be a MIME type such as image/jpeg (at most %d bytes).", maxContentType)
	}
	return out, nil
}

// deleteItem answers DELETE /v1/cloud/{category}/items/{id...} with
// If-Match: the item becomes a tombstone (a new version, in the changes)
// and its bytes are freed.
func (s *Server) deleteItem(r *http.Request, who *caller, category string) (int, any, error) {
	id, err := itemID(r)
	if err != nil {
		return 0, nil, err
	}
	version, _, err := itemCondition(r, false)
	if err != nil {
		return 0, nil, err
	}
	tomb, err := s.st.DeleteItem(r.Context(), who.account.MiID, category, id, version, who.session.DeviceID, s.now())
	if err != nil {
		return 0, nil, itemRefusal("delete item", err)
	}
	return http.StatusOK, itemView(tomb), nil
}

// queryInt reads the query parameter name as a whole number from lo to
// hi; def when absent.
func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, errInput(name, "%s must be a whole number from %d to %d.", name, lo, hi)
	}
	return n, nil
}

// itemChanges answers GET /v1/cloud/{category}/changes?cursor=N&limit=M
// (&data=false): the items changed after change number N, in the order of
// their changes (with their data, unless data=false), and the cursor to
// ask from next.
func (s *Server) itemChanges(r *http.Request, who *caller, category string) (int, any, error) {
	cursor, err := queryInt(r, "cursor", 0, 0, 1<<62)
	if err != nil {
		return 0, nil, err
	}
	limit, err := queryInt(r, "limit", defaultChangesLimit, 1, maxChangesLimit)
	if err != nil {
		return 0, nil, err
	}
	withData := true
	switch v := r.URL.Query().Get("data"); v {
	case "", "true":
	case "false":
		withData = false
	default:
		return 0, nil, errInput("data", "data must be true (the items with their data, the default) or false (without: sizes and versions only).")
	}
	items, more, err := s.st.ItemChanges(r.Context(), who.account.MiID, category, cursor, int(limit), changesPageBytes, withData)
	if err != nil {
		return 0, nil, fmt.Errorf("item changes: %w", err)
	}
	out := api.Changes{Items: make([]api.Item, 0, len(items)), Cursor: cursor, More: more}
	for i := range items {
		out.Items = append(out.Items, itemView(&items[i]))
		out.Cursor = items[i].Seq
	}
	return http.StatusOK, out, nil
}

// itemBodyLimit is the largest body of an item's PUT: data of maxData
// bytes in base64, and room for the other fields.
func itemBodyLimit(maxData, maxBody int64) int64 {
	return max(int64(base64.StdEncoding.EncodedLen(int(maxData)))+16<<10, maxBody)
}
