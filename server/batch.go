package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"misetup/api"
	"misetup/server/store"
)

// A batch's limits: at most api.MaxBatchWrites writes, and data of
// maxBatchData bytes in all (or one item's largest, if that is more), so
// that the body stays about 2 MiB and one transaction short.
const maxBatchData = 1 << 20

// batchData is the most data a batch carries.
func (s *Server) batchData() int64 { return max(maxBatchData, s.cfg.MaxItemBytes) }

// batchBodyLimit is the largest body of a batch: its data in base64, and
// for each write room for its other fields (an id of maxItemID bytes
// escaped in JSON, a name, a content type).
func batchBodyLimit(maxData int64) int64 {
	return int64(base64.StdEncoding.EncodedLen(int(maxData))) + api.MaxBatchWrites*(8*maxItemID)
}

// writeBatch answers POST /v1/cloud/{category}/batch: writes of small
// items, each under its own condition (version 0 creates, N changes or
// deletes version N), in one transaction: a first backup of ten thousand
// notes waits for the disk a hundred times, not ten thousand. Input that
// is wrong anywhere refuses the whole batch (400 naming writes[i].field);
// a condition or the quota refuses one write, whose result says so, and
// the others are made.
func (s *Server) writeBatch(r *http.Request, who *caller, category string) (int, any, error) {
	if isFileCategory(category) {
		return 0, nil, errInput("", "%s items name blobs: write them one at a time (PUT /v1/cloud/%s/items/{id}).", category, category)
	}
	var req api.Batch
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if n := len(req.Writes); n == 0 || n > api.MaxBatchWrites {
		return 0, nil, errInput("writes", "writes must hold 1 to %d writes; it holds %d.", api.MaxBatchWrites, n)
	}
	ws := make([]store.ItemWrite, len(req.Writes))
	seen := make(map[string]bool, len(req.Writes))
	var data int64
	now := s.now()
	for i := range req.Writes {
		w, err := s.batchWrite(r, who, category, &req.Writes[i], now)
		if err != nil {
			return 0, nil, inWrite(i, err)
		}
		if seen[w.Item.ID] {
			return 0, nil, inWrite(i, errInput("id", "The batch writes this item twice: send one write for it."))
		}
		seen[w.Item.ID] = true
		if data += w.Item.Size; data > s.batchData() {
			return 0, nil, errInput("writes", "A batch carries at most %d bytes of data: send the rest in another.", s.batchData())
		}
		ws[i] = w
	}
	outs, err := s.st.WriteItems(r.Context(), ws)
	if err != nil {
		return 0, nil, fmt.Errorf("write items: %w", err)
	}
	res := api.BatchResults{Results: make([]api.BatchResult, len(outs))}
	for i, o := range outs {
		if o.Refused != nil {
			var ae *api.Error
			if !errors.As(itemRefusal("write items", o.Refused), &ae) {
				return 0, nil, fmt.Errorf("write items: %w", o.Refused)
			}
			if ae.Current != nil {
				cur := *ae.Current
				cur.Data = nil // the answer stays small: GET the item for it
				ae.Current = &cur
			}
			res.Results[i] = api.BatchResult{Status: httpStatus(ae), Error: ae}
			continue
		}
		v := itemView(o.Item)
		v.Data = nil // the client sent it
		status := http.StatusOK
		if ws[i].IfAbsent {
			status = http.StatusCreated
		}
		res.Results[i] = api.BatchResult{Status: status, Item: &v}
	}
	return http.StatusOK, res, nil
}

// batchWrite checks one write of a batch as its PUT or DELETE would be.
func (s *Server) batchWrite(r *http.Request, who *caller, category string, bw *api.BatchWrite, now time.Time) (store.ItemWrite, error) {
	if err := checkBatchWrite(bw); err != nil {
		return store.ItemWrite{}, err
	}
	it := store.CloudItem{MiID: who.account.MiID, Category: category, ID: bw.ID, DeviceID: who.session.DeviceID, UpdatedAt: now, Deleted: bw.Delete}
	if !bw.Delete {
		if err := s.checkItemWrite(r, &bw.ItemWrite, &it); err != nil {
			return store.ItemWrite{}, err
		}
	}
	return store.ItemWrite{Item: it, IfVersion: bw.Version, IfAbsent: bw.Version == 0, DefaultQuota: s.cfg.DefaultQuotaBytes}, nil
}

// checkBatchWrite checks a write's id and condition, and that a deletion
// carries nothing else.
func checkBatchWrite(bw *api.BatchWrite) error {
	if err := checkItemID(bw.ID); err != nil {
		return err
	}
	switch {
	case bw.Version < 0:
		return errInput("version", "version must be the item's version, or 0 to create it.")
	case bw.Delete && bw.Version == 0:
		return errInput("version", "A deletion names the version of the item it deletes.")
	case bw.Delete && (bw.Name != "" || len(bw.Data) > 0 || bw.Blob != "" || bw.Size != 0 || bw.ContentType != ""):
		return errInput("delete", "A deletion carries no content.")
	}
	return nil
}

// inWrite names, in an input error, the write of the batch it is about:
// writes[i].field.
func inWrite(i int, err error) error {
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeInvalidInput {
		e := *ae
		e.Field = fmt.Sprintf("writes[%d]", i)
		if ae.Field != "" {
			e.Field += "." + ae.Field
		}
		e.Message = fmt.Sprintf("Write %d of the batch: %s", i+1, ae.Message)
		return &e
	}
	return err
}
