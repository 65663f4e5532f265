package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// CloudItem is one item of an account's Mi Cloud sync category. A deleted
// item stays as a tombstone: Deleted, no data, no blob, size 0.
type CloudItem struct {
	MiID     string
	Category string
	ID       string
	Name     string
	// Data is a small category's content; Blob a file category's (the
	// hex SHA-256 of a blob of the account).
	Data        []byte
	Blob        string
	ContentType string
	// Size is what the item counts against the quota: len(Data) or the
	// blob's size.
	Size   int64
	SHA256 string
	// Version grows by one with each change of the item, deletion included;
	// Seq is the account's change number of its last change.
	Version   int64
	Seq       int64
	Deleted   bool
	DeviceID  string
	UpdatedAt time.Time
}

// ItemWrite is a change of one item: its new content, and the condition
// it is made under (exactly one of IfVersion and IfAbsent).
type ItemWrite struct {
	// Item is the new content: MiID, Category, ID, Name, Data or Blob,
	// ContentType, Size, SHA256, DeviceID, UpdatedAt (now when zero).
	// Version and Seq are set by the store.
	Item CloudItem
	// IfVersion, when not 0, is the version the item must have now
	// (a tombstone's included: writing over it brings the item back).
	IfVersion int64
	// IfAbsent asks that no live item exist (a tombstone may).
	IfAbsent bool
	// DefaultQuota is the quota of an account whose quota_bytes is 0.
	DefaultQuota int64
}

// VersionConflict is the error of an item write whose condition no longer
// holds; Current is the item as it is. errors.Is(err, ErrStale) holds.
type VersionConflict struct {
	Current *CloudItem
}

// Error implements error.
func (e *VersionConflict) Error() string {
	return fmt.Sprintf("store: item %s/%s is at version %d", e.Current.Category, e.Current.ID, e.Current.Version)
}

// Unwrap makes errors.Is(err, ErrStale) hold.
func (e *VersionConflict) Unwrap() error { return ErrStale }

// QuotaExceeded is the error of a write that would take an account's Mi
// Cloud use over its quota. Nothing was written.
type QuotaExceeded struct {
	Quota int64
	// Used are the bytes items use, split in ByCategory.
	Used       int64
	ByCategory map[string]int64
	// Pending are the bytes of uploads in progress and of blobs no item
	// names (only for a refused upload).
	Pending int64
	// Need is what the write asked for.
	Need int64
}

// Error implements error.
func (e *QuotaExceeded) Error() string {
	return fmt.Sprintf("store: quota exceeded: %d used, %d pending, %d more asked, quota %d", e.Used, e.Pending, e.Need, e.Quota)
}

// ErrNoBlob is returned by an item write that names a blob the account
// does not have (or with another size).
var ErrNoBlob = errors.New("store: no such blob")

// ErrBlobExists is returned by StartUpload when the account has the blob
// already.
var ErrBlobExists = errors.New("store: the blob exists")

// CloudBlob is a blob of an account.
type CloudBlob struct {
	MiID   string
	SHA256 string
	Size   int64
	// Refs is how many live items name it.
	Refs      int64
	CreatedAt time.Time
}

// Upload is a resumable upload of a blob: Received of Size bytes so far,
// kept as parts.
type Upload struct {
	ID        string
	MiID      string
	SHA256    string
	Size      int64
	Received  int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// UploadPart is one received piece of an upload: Size bytes from Pos, in
// the object Key of the bucket.
type UploadPart struct {
	Pos  int64
	Size int64
	Key  string
}

// UploadConflict is the error of a part sent at another offset than the
// upload's received bytes; Current is the upload as it is. errors.Is(err,
// ErrStale) holds.
type UploadConflict struct {
	Current *Upload
}

// Error implements error.
func (e *UploadConflict) Error() string {
	return fmt.Sprintf("store: upload %s has received %d bytes", e.Current.ID, e.Current.Received)
}

// Unwrap makes errors.Is(err, ErrStale) hold.
func (e *UploadConflict) Unwrap() error { return ErrStale }

// itemCols are the columns scanItem reads.
const itemCols = `mi_id, category, id, name, data, blob, content_type, size, sha256,
	version, seq, deleted, device_id, updated_at`

// itemColsNoData is itemCols with no data (NULL in its place).
const itemColsNoData = `mi_id, category, id, name, NULL, blob, content_type, size, sha256,
	version, seq, deleted, device_id, updated_at`

func scanItem(row scanner) (*CloudItem, error) {
	var it CloudItem
	err := row.Scan(&it.MiID, &it.Category, &it.ID, &it.Name, &it.Data, &it.Blob, &it.ContentType, &it.Size, &it.SHA256,
		&it.Version, &it.Seq, &it.Deleted, &it.DeviceID, reqTime(&it.UpdatedAt))
	if err != nil {
		return nil, err
	}
	if len(it.Data) == 0 {
		it.Data = nil // NULL and empty read the same
	}
	return &it, nil
}

// uploadCols are the columns scanUpload reads.
const uploadCols = `id, mi_id, sha256, size, received, created_at, expires_at`

func scanUpload(row scanner) (*Upload, error) {
	var u Upload
	err := row.Scan(&u.ID, &u.MiID, &u.SHA256, &u.Size, &u.Received, reqTime(&u.CreatedAt), reqTime(&u.ExpiresAt))
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// retryTx is inTx run again, a few times, when PostgreSQL refused it for
// running beside another (a deadlock with an account's deletion, say).
// fn must not keep state between runs.
func (s *db) retryTx(ctx context.Context, fn func(q querier) error) error {
	var err error
	for range txTries {
		err = s.inTx(ctx, fn)
		if err == nil || s.tx != nil || !s.d.retryable(err) {
			break
		}
	}
	return err
}

// cloudLock takes the account's cloud row until the end of the
// transaction q is in, adding bump to its change counter, and returns the
// counter. Every cloud write of an account takes it first, so they run one
// after the other (on SQLite the transaction holds the database anyway),
// and changes commit in the order of their numbers. A missing account is
// ErrNotFound.
func (s *db) cloudLock(ctx context.Context, q querier, miID string, bump int64) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `INSERT INTO cloud_accounts (mi_id, seq) VALUES ($1, $2)
		ON CONFLICT (mi_id) DO UPDATE SET seq = cloud_accounts.seq + excluded.seq
		RETURNING seq`, miID, bump).Scan(&seq)
	return seq, err
}

// cloudUse reads, in q, an account's quota (defaultQuota when it has none
// of its own), the bytes its items use and their split by category.
func (s *db) cloudUse(ctx context.Context, q querier, miID string, defaultQuota int64) (quota, used int64, by map[string]int64, err error) {
	if err := q.QueryRowContext(ctx, `SELECT quota_bytes FROM accounts WHERE mi_id = $1`, miID).Scan(&quota); err != nil {
		return 0, 0, nil, err
	}
	if quota == 0 {
		quota = defaultQuota
	}
	rows, err := q.QueryContext(ctx, `SELECT category, bytes FROM usage WHERE mi_id = $1`, miID)
	if err != nil {
		return 0, 0, nil, err
	}
	defer rows.Close()
	by = map[string]int64{}
	for rows.Next() {
		var (
			c string
			n int64
		)
		if err := rows.Scan(&c, &n); err != nil {
			return 0, 0, nil, err
		}
		by[c] = n
		used += n
	}
	return quota, used, by, rows.Err()
}

// pending reads, in q, the bytes of an account's uploads open at at and
// of its blobs no item names.
func (s *db) pending(ctx context.Context, q querier, miID string, at time.Time) (int64, error) {
	var uploads, blobs int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM cloud_uploads WHERE mi_id = $1 AND expires_at > $2`,
		miID, s.t(at)).Scan(&uploads)
	if err != nil {
		return 0, err
	}
	err = q.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM cloud_blobs WHERE mi_id = $1 AND refs = 0`, miID).Scan(&blobs)
	return uploads + blobs, err
}

// errUnchanged ends a transaction that found nothing to write (a deletion
// of an item deleted already): it rolls back, and the caller answers the
// item as it is.
var errUnchanged = errors.New("store: unchanged")

// PutItem creates or changes an item under w's condition, in one
// transaction that also takes the account's next change number, moves the
// references of the blobs it stops and starts naming, and, when the item
// grows, checks the account's use against its quota and records the new
// use. It returns the item as stored. A condition that no longer holds is
// a *VersionConflict with the item as it is (IfVersion on no item at all
// is ErrNotFound), an item over the quota a *QuotaExceeded, a blob the
// account does not have ErrNoBlob; then nothing was written.
func (s *db) PutItem(ctx context.Context, w *ItemWrite) (*CloudItem, error) {
	if w.IfVersion == 0 && !w.IfAbsent {
		return nil, errors.New("put item: no condition (IfVersion or IfAbsent)")
	}
	it, err := s.writeItem(ctx, "put item", w)
	if err != nil {
		return nil, err
	}
	return it, nil
}

// DeleteItem turns the item at version ifVersion into a tombstone (a new
// version and change number, no data, its bytes and blob reference
// released) and returns it. A tombstone at ifVersion is returned as it is;
// another version is a *VersionConflict, no item ErrNotFound.
func (s *db) DeleteItem(ctx context.Context, miID, category, id string, ifVersion int64, deviceID string, at time.Time) (*CloudItem, error) {
	if ifVersion <= 0 {
		return nil, errors.New("delete item: no version to match")
	}
	return s.writeItem(ctx, "delete item", &ItemWrite{
		Item:      CloudItem{MiID: miID, Category: category, ID: id, Deleted: true, DeviceID: deviceID, UpdatedAt: at},
		IfVersion: ifVersion,
	})
}

// writeItem is PutItem and DeleteItem (w.Item.Deleted).
func (s *db) writeItem(ctx context.Context, op string, w *ItemWrite) (*CloudItem, error) {
	var (
		out     *CloudItem
		refused error // an answer about the item, not a failure
	)
	err := s.retryTx(ctx, func(q querier) error {
		seq, err := s.cloudLock(ctx, q, w.Item.MiID, 1)
		if err != nil {
			return err
		}
		use := &useTally{}
		out, refused, err = s.applyItemWrite(ctx, q, op, w, seq, use)
		switch {
		case err != nil:
			return err
		case refused != nil:
			return refused // nothing of it may stay
		case out.Seq != seq:
			return errUnchanged
		}
		return s.recordUse(ctx, q, w.Item.MiID, use)
	})
	switch {
	case errors.Is(err, errUnchanged):
		return out, nil
	case refused != nil && errors.Is(err, refused):
		return nil, refused
	case err != nil:
		return nil, s.fail(op, err)
	}
	return out, nil
}

// ItemOutcome is what became of one write of WriteItems: the item as
// stored, or why it was refused (a *VersionConflict, a *QuotaExceeded,
// ErrNotFound), as PutItem and DeleteItem answer them.
type ItemOutcome struct {
	Item    *CloudItem
	Refused error
}

// WriteItems makes writes of small items (data, no blob) of one account in
// one transaction, one wait for the disk: each under its own condition and
// the quota as the writes before it left it, in their order. A refused
// write changes nothing and the others go on; the outcomes are in the
// order of the writes. A deletion is a write with Item.Deleted.
func (s *db) WriteItems(ctx context.Context, ws []ItemWrite) ([]ItemOutcome, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	miID := ws[0].Item.MiID
	for _, w := range ws {
		switch {
		case w.Item.MiID != miID:
			return nil, errors.New("write items: writes of more than one account")
		case w.Item.Blob != "":
			return nil, errors.New("write items: an item with a blob (they are written one by one)")
		case w.IfVersion == 0 && (!w.IfAbsent || w.Item.Deleted):
			return nil, errors.New("write items: a write with no condition")
		}
	}
	var out []ItemOutcome
	err := s.retryTx(ctx, func(q querier) error {
		out = make([]ItemOutcome, len(ws))
		last, err := s.cloudLock(ctx, q, miID, int64(len(ws)))
		if err != nil {
			return err
		}
		use := &useTally{}
		for i := range ws {
			it, refused, err := s.applyItemWrite(ctx, q, "write items", &ws[i], last-int64(len(ws)-1-i), use)
			if err != nil {
				return err
			}
			out[i] = ItemOutcome{Item: it, Refused: refused}
		}
		return s.recordUse(ctx, q, miID, use)
	})
	if err != nil {
		return nil, s.fail("write items", err)
	}
	return out, nil
}

// applyItemWrite makes the write w in q as change number seq and returns
// the item as stored; when its condition, its blob or the quota refuses
// it, refused says why and nothing was written. A deletion of a tombstone
// returns the tombstone as it is (its Seq is not seq). The change of the
// account's use is counted in use, for recordUse to write once the
// transaction's writes are made.
func (s *db) applyItemWrite(ctx context.Context, q querier, op string, w *ItemWrite, seq int64, use *useTally) (out *CloudItem, refused, err error) {
	it := w.Item
	it.UpdatedAt = orNow(it.UpdatedAt)
	if it.Deleted {
		it.Name, it.Data, it.Blob, it.ContentType, it.Size, it.SHA256 = "", nil, "", "", 0, ""
	}
	cur, err := scanItem(q.QueryRowContext(ctx, `SELECT `+itemCols+` FROM cloud_items
		WHERE mi_id = $1 AND category = $2 AND id = $3`, it.MiID, it.Category, it.ID))
	missing := errors.Is(err, sql.ErrNoRows)
	if err != nil && !missing {
		return nil, nil, err
	}
	switch {
	case missing && w.IfVersion != 0:
		return nil, fmt.Errorf("%s: %w (no item %s/%s)", op, ErrNotFound, it.Category, it.ID), nil
	case !missing && w.IfVersion != 0 && cur.Version != w.IfVersion:
		return nil, &VersionConflict{Current: cur}, nil
	case !missing && w.IfAbsent && !cur.Deleted:
		return nil, &VersionConflict{Current: cur}, nil
	case !missing && it.Deleted && cur.Deleted:
		return cur, nil, nil
	}
	var oldSize int64
	var oldBlob string
	it.Version, it.Seq = 1, seq
	if !missing {
		it.Version = cur.Version + 1
		if !cur.Deleted {
			oldSize, oldBlob = cur.Size, cur.Blob
		}
	}
	// The quota is checked before anything is written, and a blob's
	// reference taken only when nothing can refuse after it.
	if delta := it.Size - oldSize; delta != 0 {
		if refused, err = s.countUse(ctx, q, use, w, delta); refused != nil || err != nil {
			return nil, refused, err
		}
	}
	if it.Blob != oldBlob {
		if refused, err = s.moveBlobRefs(ctx, q, &it, oldBlob); refused != nil || err != nil {
			return nil, refused, err
		}
	}
	if missing {
		_, err = q.ExecContext(ctx, `INSERT INTO cloud_items (`+itemCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			it.MiID, it.Category, it.ID, it.Name, it.Data, it.Blob, it.ContentType, it.Size, it.SHA256,
			it.Version, it.Seq, it.Deleted, it.DeviceID, s.t(it.UpdatedAt))
	} else {
		_, err = q.ExecContext(ctx, `UPDATE cloud_items SET name = $4, data = $5, blob = $6, content_type = $7,
			size = $8, sha256 = $9, version = $10, seq = $11, deleted = $12, device_id = $13, updated_at = $14
			WHERE mi_id = $1 AND category = $2 AND id = $3 AND version = $15`,
			it.MiID, it.Category, it.ID, it.Name, it.Data, it.Blob, it.ContentType, it.Size, it.SHA256,
			it.Version, it.Seq, it.Deleted, it.DeviceID, s.t(it.UpdatedAt), cur.Version)
	}
	if err != nil {
		return nil, nil, err
	}
	return &it, nil, nil
}

// moveBlobRefs makes it name its blob instead of old (either may be ""):
// the new blob, which must be live and of it.Size bytes, gains a
// reference, the old one loses one (and is released when none is left).
// A refusal (ErrNoBlob) is returned as such, a failure as err.
func (s *db) moveBlobRefs(ctx context.Context, q querier, it *CloudItem, old string) (refused, err error) {
	if it.Blob != "" {
		res, err := q.ExecContext(ctx, `UPDATE cloud_blobs SET refs = refs + 1, released_at = NULL
			WHERE mi_id = $1 AND sha256 = $2 AND size = $3 AND state = 'live'`, it.MiID, it.Blob, it.Size)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("put item: %w (%s of %d bytes)", ErrNoBlob, it.Blob, it.Size), err
		}
	}
	if old != "" {
		_, err := q.ExecContext(ctx, `UPDATE cloud_blobs SET refs = refs - 1,
			released_at = CASE WHEN refs = 1 THEN $3 ELSE released_at END
			WHERE mi_id = $1 AND sha256 = $2 AND refs > 0`, it.MiID, old, s.t(it.UpdatedAt))
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// useTally is the change a transaction's writes make to an account's Mi
// Cloud use: counted in memory, written once at the end (recordUse). The
// use itself is read the first time a write grows it, under the account's
// cloud lock, so two transactions cannot both pass on the same room.
type useTally struct {
	loaded      bool
	quota, used int64
	by          map[string]int64
	changed     map[string]int64 // the deltas to write, by category
}

// countUse counts delta bytes of w's category in u: a growth only while
// the use stays within the quota (else the refusal is a *QuotaExceeded);
// a shrink needs no room, and reads nothing.
func (s *db) countUse(ctx context.Context, q querier, u *useTally, w *ItemWrite, delta int64) (refused, err error) {
	if delta > 0 && !u.loaded {
		if u.quota, u.used, u.by, err = s.cloudUse(ctx, q, w.Item.MiID, w.DefaultQuota); err != nil {
			return nil, err
		}
		u.loaded = true
		for c, d := range u.changed {
			u.used += d
			u.by[c] += d
		}
	}
	if delta > 0 && u.used+delta > u.quota {
		return &QuotaExceeded{Quota: u.quota, Used: u.used, ByCategory: maps.Clone(u.by), Need: delta}, nil
	}
	if u.loaded {
		u.used += delta
		u.by[w.Item.Category] += delta
	}
	if u.changed == nil {
		u.changed = map[string]int64{}
	}
	u.changed[w.Item.Category] += delta
	return nil, nil
}

// recordUse writes what a tally counted.
func (s *db) recordUse(ctx context.Context, q querier, miID string, u *useTally) error {
	for _, category := range slices.Sorted(maps.Keys(u.changed)) {
		delta := u.changed[category]
		if delta == 0 {
			continue
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO usage (mi_id, category, bytes) VALUES ($1, $2, $3)
			ON CONFLICT (mi_id, category) DO UPDATE SET bytes = usage.bytes + excluded.bytes`, miID, category, delta); err != nil {
			return err
		}
	}
	return nil
}

// Item reads one item of an account (a tombstone included).
func (s *db) Item(ctx context.Context, miID, category, id string) (*CloudItem, error) {
	it, err := scanItem(s.r.QueryRowContext(ctx, `SELECT `+itemCols+` FROM cloud_items
		WHERE mi_id = $1 AND category = $2 AND id = $3`, miID, category, id))
	if err != nil {
		return nil, s.fail("item", err)
	}
	return it, nil
}

// ItemChanges lists the items of an account's category changed after the
// change number after (tombstones included), in the order of their
// changes: at most limit, and no more than fit in maxBytes of their data
// and texts (at least one); without their data unless withData. more says
// whether others follow. As changes commit in the order of their numbers,
// a reader that continues from the last number it saw never skips one.
func (s *db) ItemChanges(ctx context.Context, miID, category string, after int64, limit int, maxBytes int64, withData bool) (items []CloudItem, more bool, err error) {
	cols := itemCols
	if !withData {
		cols = itemColsNoData
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+cols+` FROM cloud_items
		WHERE mi_id = $1 AND category = $2 AND seq > $3 ORDER BY seq LIMIT $4`, miID, category, after, limit+1)
	if err != nil {
		return nil, false, s.fail("item changes", err)
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		if len(items) == limit {
			more = true
			break
		}
		it, err := scanItem(rows)
		if err != nil {
			return nil, false, s.fail("item changes", err)
		}
		cost := int64(len(it.Data) + len(it.Name) + len(it.ID) + len(it.Blob) + len(it.ContentType) + len(it.SHA256) + len(it.DeviceID))
		if len(items) > 0 && total+cost > maxBytes {
			more = true
			break
		}
		total += cost
		items = append(items, *it)
	}
	if err := rows.Err(); err != nil {
		return nil, false, s.fail("item changes", err)
	}
	return items, more, nil
}

// Blob reads a live blob of an account.
func (s *db) Blob(ctx context.Context, miID, sha256 string) (*CloudBlob, error) {
	b := CloudBlob{MiID: miID, SHA256: sha256}
	err := s.r.QueryRowContext(ctx, `SELECT size, refs, created_at FROM cloud_blobs
		WHERE mi_id = $1 AND sha256 = $2 AND state = 'live'`, miID, sha256).Scan(&b.Size, &b.Refs, reqTime(&b.CreatedAt))
	if err != nil {
		return nil, s.fail("blob", err)
	}
	return &b, nil
}

// CloudPending returns the bytes of an account's uploads open at at and
// of its blobs no item names.
func (s *db) CloudPending(ctx context.Context, miID string, at time.Time) (int64, error) {
	n, err := s.pending(ctx, s.r, miID, at)
	if err != nil {
		return 0, s.fail("cloud pending", err)
	}
	return n, nil
}

// StartUpload records the upload u (ID, MiID, SHA256, Size, CreatedAt,
// ExpiresAt) and returns it, unless the account has the blob already
// (ErrBlobExists) or has an upload of it open at u.CreatedAt with the same
// size: that one is returned instead, its end moved to u.ExpiresAt, so a
// client that lost its upload's id resumes it. A new upload must fit: the
// bytes used, the bytes pending (open uploads, blobs no item names) and
// its size within the quota (defaultQuota for an account with none of its
// own), else a *QuotaExceeded. One transaction under the account's cloud
// lock decides.
func (s *db) StartUpload(ctx context.Context, u *Upload, defaultQuota int64) (*Upload, error) {
	u.CreatedAt = orNow(u.CreatedAt)
	var (
		got     *Upload
		refused error
	)
	err := s.retryTx(ctx, func(q querier) error {
		got, refused = nil, nil
		if _, err := s.cloudLock(ctx, q, u.MiID, 0); err != nil {
			return err
		}
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM cloud_blobs WHERE mi_id = $1 AND sha256 = $2 AND state = 'live'`,
			u.MiID, u.SHA256).Scan(&one)
		if err == nil {
			refused = fmt.Errorf("start upload: %w", ErrBlobExists)
			return refused
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		open, err := scanUpload(q.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM cloud_uploads
			WHERE mi_id = $1 AND sha256 = $2 AND size = $3 AND expires_at > $4
			ORDER BY received DESC, created_at LIMIT 1`, u.MiID, u.SHA256, u.Size, s.t(u.CreatedAt)))
		if err == nil {
			if _, err := q.ExecContext(ctx, `UPDATE cloud_uploads SET expires_at = $2 WHERE id = $1 AND expires_at < $2`,
				open.ID, s.t(u.ExpiresAt)); err != nil {
				return err
			}
			open.ExpiresAt = maxTime(open.ExpiresAt, u.ExpiresAt)
			got = open
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		quota, used, by, err := s.cloudUse(ctx, q, u.MiID, defaultQuota)
		if err != nil {
			return err
		}
		pending, err := s.pending(ctx, q, u.MiID, u.CreatedAt)
		if err != nil {
			return err
		}
		if used+pending+u.Size > quota {
			refused = &QuotaExceeded{Quota: quota, Used: used, ByCategory: by, Pending: pending, Need: u.Size}
			return refused
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO cloud_uploads (`+uploadCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			u.ID, u.MiID, u.SHA256, u.Size, u.Received, s.t(u.CreatedAt), s.t(u.ExpiresAt)); err != nil {
			return err
		}
		got = u
		return nil
	})
	switch {
	case refused != nil && errors.Is(err, refused):
		return nil, refused
	case err != nil:
		return nil, s.fail("start upload", err)
	}
	return got, nil
}

// maxTime returns the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Upload reads an upload of an account open at at.
func (s *db) Upload(ctx context.Context, miID, id string, at time.Time) (*Upload, error) {
	u, err := scanUpload(s.r.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM cloud_uploads
		WHERE id = $1 AND mi_id = $2 AND expires_at > $3`, id, miID, s.t(at)))
	if err != nil {
		return nil, s.fail("upload", err)
	}
	return u, nil
}

// AddUploadPart records p, the bytes from p.Pos that a client sent, as
// received by an upload open at at, and moves the upload's end to until.
// One conditional UPDATE decides: the upload must have received exactly
// p.Pos bytes, and p must not run past its size; of parts sent at one
// offset together, one is recorded and the others get an *UploadConflict
// with the upload as it is. A missing (or ended) upload is ErrNotFound.
func (s *db) AddUploadPart(ctx context.Context, miID, id string, p UploadPart, at, until time.Time) (*Upload, error) {
	var (
		got     *Upload
		refused error
	)
	err := s.retryTx(ctx, func(q querier) error {
		got, refused = nil, nil
		res, err := q.ExecContext(ctx, `UPDATE cloud_uploads SET received = received + $4, expires_at = $6
			WHERE id = $1 AND mi_id = $2 AND received = $3 AND received + $4 <= size AND expires_at > $5`,
			id, miID, p.Pos, p.Size, s.t(at), s.t(until))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		cur, err := scanUpload(q.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM cloud_uploads
			WHERE id = $1 AND mi_id = $2 AND expires_at > $3`, id, miID, s.t(at)))
		if errors.Is(err, sql.ErrNoRows) && n == 0 {
			refused = fmt.Errorf("add upload part: %w", ErrNotFound)
			return refused
		}
		if err != nil {
			return err
		}
		if n == 0 {
			refused = &UploadConflict{Current: cur}
			return refused
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO cloud_upload_parts (upload_id, pos, size, key) VALUES ($1, $2, $3, $4)`,
			id, p.Pos, p.Size, p.Key); err != nil {
			return err
		}
		got = cur
		return nil
	})
	switch {
	case refused != nil && errors.Is(err, refused):
		return nil, refused
	case err != nil:
		return nil, s.fail("add upload part", err)
	}
	return got, nil
}

// UploadParts lists the parts an upload has received, in order.
func (s *db) UploadParts(ctx context.Context, id string) ([]UploadPart, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT pos, size, key FROM cloud_upload_parts WHERE upload_id = $1 ORDER BY pos`, id)
	if err != nil {
		return nil, s.fail("upload parts", err)
	}
	defer rows.Close()
	var parts []UploadPart
	for rows.Next() {
		var p UploadPart
		if err := rows.Scan(&p.Pos, &p.Size, &p.Key); err != nil {
			return nil, s.fail("upload parts", err)
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("upload parts", err)
	}
	return parts, nil
}

// FinishUpload ends an upload that has received all its bytes, once its
// blob is in the bucket: in one transaction under the account's cloud
// lock, the upload and its parts go, and the blob is recorded (as no
// item's yet, released at at) or, if the account had it, kept. An upload
// with bytes missing, or a blob being deleted (its object may be gone:
// write it again, then try again), is ErrStale; a missing upload
// ErrNotFound.
func (s *db) FinishUpload(ctx context.Context, miID, id string, at time.Time) (*CloudBlob, error) {
	var (
		got     *CloudBlob
		refused error
	)
	err := s.retryTx(ctx, func(q querier) error {
		got, refused = nil, nil
		if _, err := s.cloudLock(ctx, q, miID, 0); err != nil {
			return err
		}
		u, err := scanUpload(q.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM cloud_uploads WHERE id = $1 AND mi_id = $2`, id, miID))
		if errors.Is(err, sql.ErrNoRows) {
			refused = fmt.Errorf("finish upload: %w", ErrNotFound)
			return refused
		}
		if err != nil {
			return err
		}
		if u.Received != u.Size {
			refused = fmt.Errorf("finish upload: %w (%d of %d bytes received)", ErrStale, u.Received, u.Size)
			return refused
		}
		b := CloudBlob{MiID: miID, SHA256: u.SHA256, Size: u.Size, CreatedAt: at}
		var state string
		err = q.QueryRowContext(ctx, `SELECT state, refs, created_at FROM cloud_blobs WHERE mi_id = $1 AND sha256 = $2`,
			miID, u.SHA256).Scan(&state, &b.Refs, reqTime(&b.CreatedAt))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = q.ExecContext(ctx, `INSERT INTO cloud_blobs (mi_id, sha256, size, refs, state, created_at, released_at)
				VALUES ($1, $2, $3, 0, 'live', $4, $4)`, miID, u.SHA256, u.Size, s.t(at))
		case err != nil:
		case state != "live":
			refused = fmt.Errorf("finish upload: %w (the blob is being deleted)", ErrStale)
			return refused
		default:
			// Uploaded again: a blob no item names is kept longer.
			_, err = q.ExecContext(ctx, `UPDATE cloud_blobs SET released_at = $3
				WHERE mi_id = $1 AND sha256 = $2 AND refs = 0`, miID, u.SHA256, s.t(at))
		}
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM cloud_uploads WHERE id = $1`, id); err != nil {
			return err
		}
		got = &b
		return nil
	})
	switch {
	case refused != nil && errors.Is(err, refused):
		return nil, refused
	case err != nil:
		return nil, s.fail("finish upload", err)
	}
	return got, nil
}

// DeleteUpload removes an upload of an account and its parts' records
// (their objects are the caller's).
func (s *db) DeleteUpload(ctx context.Context, miID, id string) error {
	return s.execOne(ctx, "delete upload", `DELETE FROM cloud_uploads WHERE id = $1 AND mi_id = $2`, id, miID)
}

// PurgeUploads removes the account's uploads that ended at or before at,
// and returns their ids (their parts' objects are the caller's).
func (s *db) PurgeUploads(ctx context.Context, miID string, at time.Time) ([]string, error) {
	rows, err := s.w.QueryContext(ctx, `DELETE FROM cloud_uploads WHERE mi_id = $1 AND expires_at <= $2 RETURNING id`, miID, s.t(at))
	if err != nil {
		return nil, s.fail("purge uploads", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.fail("purge uploads", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("purge uploads", err)
	}
	rows.Close()
	if err := s.syncLog(); err != nil {
		return nil, s.fail("purge uploads", err)
	}
	return ids, nil
}

// ReleaseBlobs marks deleting the account's blobs that no item has named
// since before before, and returns them with those marked already (by a
// process that died before it finished): the caller deletes their objects,
// then ForgetBlobs. While deleting, a blob is not the account's: no item
// can name it and an upload of it cannot finish.
func (s *db) ReleaseBlobs(ctx context.Context, miID string, before time.Time) ([]string, error) {
	// Most calls find none: a read says so without a write transaction.
	some, err := s.exists(ctx, `SELECT 1 FROM cloud_blobs
		WHERE mi_id = $1 AND refs = 0 AND (state = 'deleting' OR released_at < $2) LIMIT 1`, miID, s.t(before))
	if err != nil {
		return nil, s.fail("release blobs", err)
	}
	if !some {
		return nil, nil
	}
	var shas []string
	err = s.retryTx(ctx, func(q querier) error {
		shas = nil
		if _, err := s.cloudLock(ctx, q, miID, 0); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, `UPDATE cloud_blobs SET state = 'deleting'
			WHERE mi_id = $1 AND refs = 0 AND (state = 'deleting' OR released_at < $2) RETURNING sha256`, miID, s.t(before))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sha string
			if err := rows.Scan(&sha); err != nil {
				return err
			}
			shas = append(shas, sha)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.fail("release blobs", err)
	}
	return shas, nil
}

// ForgetBlobs removes the records of blobs marked deleting by ReleaseBlobs,
// once their objects are gone.
func (s *db) ForgetBlobs(ctx context.Context, miID string, shas []string) error {
	err := s.inTx(ctx, func(q querier) error {
		for _, sha := range shas {
			if _, err := q.ExecContext(ctx, `DELETE FROM cloud_blobs WHERE mi_id = $1 AND sha256 = $2 AND state = 'deleting'`,
				miID, sha); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.fail("forget blobs", err)
	}
	return nil
}

// DeleteAccount removes an account and everything of it: sessions,
// devices and their commands, challenges, recovery codes, hand-offs, Mi
// Cloud items, blobs' records, uploads and use. The audit log stays. It
// takes the account's cloud lock first, so a cloud write running beside it
// finishes before, or finds no account. A missing account is ErrNotFound.
func (s *db) DeleteAccount(ctx context.Context, miID string) error {
	err := s.retryTx(ctx, func(q querier) error {
		if _, err := s.cloudLock(ctx, q, miID, 0); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `DELETE FROM accounts WHERE mi_id = $1`, miID)
		return err
	})
	if err != nil {
		return s.fail("delete account", err)
	}
	return nil
}
