package store

import (
	"context"
	"fmt"
	"time"
)

// handoffCols are the columns scanHandoff reads.
const handoffCols = `id_hash, link_hash, purpose, state, region, language,
	device_id, device_name, device_model, device_os, kiosk, store_id,
	claim_ref, claimed_until, COALESCE(mi_id, ''), COALESCE(challenge_id, ''), method,
	created_at, expires_at, done_at, collected_at`

func scanHandoff(row scanner) (*Handoff, error) {
	var h Handoff
	err := row.Scan(&h.IDHash, &h.LinkHash, &h.Purpose, &h.State, &h.Region, &h.Language,
		&h.DeviceID, &h.DeviceName, &h.DeviceModel, &h.DeviceOS, &h.Kiosk, &h.StoreID,
		&h.ClaimRef, optTime(&h.ClaimedUntil), &h.MiID, &h.ChallengeID, &h.Method,
		reqTime(&h.CreatedAt), reqTime(&h.ExpiresAt), optTime(&h.DoneAt), optTime(&h.CollectedAt))
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// CreateHandoff inserts a hand-off. A zero State is open and a zero
// CreatedAt now, written back to h. An empty MiID or ChallengeID is stored
// as NULL; one that names no account or challenge is ErrNotFound, a taken
// id or link hash ErrConflict.
func (s *db) CreateHandoff(ctx context.Context, h *Handoff) error {
	if h.State == "" {
		h.State = "open"
	}
	h.CreatedAt = orNow(h.CreatedAt)
	_, err := s.w.ExecContext(ctx, `INSERT INTO handoffs (id_hash, link_hash, purpose, state, region, language,
		device_id, device_name, device_model, device_os, kiosk, store_id,
		claim_ref, claimed_until, mi_id, challenge_id, method,
		created_at, expires_at, done_at, collected_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
		NULLIF($15, ''), NULLIF($16, ''), $17, $18, $19, $20, $21)`,
		h.IDHash, h.LinkHash, h.Purpose, h.State, h.Region, h.Language,
		h.DeviceID, h.DeviceName, h.DeviceModel, h.DeviceOS, h.Kiosk, h.StoreID,
		h.ClaimRef, s.tp(h.ClaimedUntil), h.MiID, h.ChallengeID, h.Method,
		s.t(h.CreatedAt), s.t(h.ExpiresAt), s.tp(h.DoneAt), s.tp(h.CollectedAt))
	if err != nil {
		return s.fail("create handoff", err)
	}
	return nil
}

// PurgeHandoffs deletes the hand-offs that expired before before.
func (s *db) PurgeHandoffs(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM handoffs WHERE expires_at < $1`, s.t(before))
	if err != nil {
		return 0, s.fail("purge handoffs", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("purge handoffs", err)
	}
	return n, nil
}

// Handoff reads a hand-off by the hash of its id.
func (s *db) Handoff(ctx context.Context, idHash string) (*Handoff, error) {
	h, err := scanHandoff(s.r.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE id_hash = $1`, idHash))
	if err != nil {
		return nil, s.fail("handoff", err)
	}
	return h, nil
}

// HandoffByLink reads a hand-off by the hash of its link.
func (s *db) HandoffByLink(ctx context.Context, linkHash string) (*Handoff, error) {
	h, err := scanHandoff(s.r.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE link_hash = $1`, linkHash))
	if err != nil {
		return nil, s.fail("handoff by link", err)
	}
	return h, nil
}

// ClaimHandoff atomically claims the hand-off of a link for one submission,
// under ref, until until: an open one, or one whose claim ended at or
// before at (its process died), either expiring after at. The one
// conditional UPDATE decides: of racing calls, exactly one changes the row
// and returns true. A missing hand-off is ErrNotFound.
func (s *db) ClaimHandoff(ctx context.Context, linkHash, ref string, at, until time.Time) (bool, error) {
	ok, err := s.changed(ctx, `UPDATE handoffs SET state = 'claimed', claim_ref = $2, claimed_until = $4
		WHERE link_hash = $1 AND expires_at > $3
		AND (state = 'open' OR (state = 'claimed' AND claimed_until <= $3))`,
		linkHash, ref, s.t(at), s.t(until))
	if err != nil || ok {
		return ok, s.handoffErr("claim handoff", err)
	}
	return false, s.handoffMissing(ctx, "claim handoff", `link_hash`, linkHash)
}

// ReleaseHandoff makes a hand-off claimed under ref open again (the
// submission failed and the customer may try again). One that is no
// longer claimed under ref (another submission took it over when the
// claim ran out) is left alone: ErrStale.
func (s *db) ReleaseHandoff(ctx context.Context, linkHash, ref string) error {
	ok, err := s.changed(ctx, `UPDATE handoffs SET state = 'open', claim_ref = '', claimed_until = NULL
		WHERE link_hash = $1 AND state = 'claimed' AND claim_ref = $2`, linkHash, ref)
	if err != nil {
		return s.handoffErr("release handoff", err)
	}
	if !ok {
		return fmt.Errorf("release handoff: %w (not claimed under this reference)", ErrStale)
	}
	return nil
}

// FinishHandoff moves a hand-off claimed under ref to done at the time at,
// recording res, with expiresAt as the end of its collection. One that is
// no longer claimed under ref is left alone: ErrStale.
func (s *db) FinishHandoff(ctx context.Context, linkHash, ref string, res HandoffResult, at, expiresAt time.Time) error {
	ok, err := s.changed(ctx, `UPDATE handoffs SET state = 'done', claim_ref = '', claimed_until = NULL,
		mi_id = NULLIF($3, ''), challenge_id = NULLIF($4, ''), method = $5, done_at = $6, expires_at = $7
		WHERE link_hash = $1 AND state = 'claimed' AND claim_ref = $2`,
		linkHash, ref, res.MiID, res.ChallengeID, res.Method, s.t(at), s.t(expiresAt))
	if err != nil {
		return s.handoffErr("finish handoff", err)
	}
	if !ok {
		return fmt.Errorf("finish handoff: %w (not claimed under this reference)", ErrStale)
	}
	return nil
}

// CollectHandoff atomically moves a done hand-off that expires after at to
// collected. The one conditional UPDATE decides: of racing calls, exactly
// one returns true. A missing hand-off is ErrNotFound.
func (s *db) CollectHandoff(ctx context.Context, idHash string, at time.Time) (bool, error) {
	ok, err := s.changed(ctx, `UPDATE handoffs SET state = 'collected', collected_at = $2
		WHERE id_hash = $1 AND state = 'done' AND expires_at > $2`, idHash, s.t(at))
	if err != nil || ok {
		return ok, s.handoffErr("collect handoff", err)
	}
	return false, s.handoffMissing(ctx, "collect handoff", `id_hash`, idHash)
}

// changed runs a write and reports whether it changed a row.
func (s *db) changed(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// handoffErr wraps the error of a hand-off write with op (nil stays nil).
func (s *db) handoffErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return s.fail(op, err)
}

// handoffMissing is ErrNotFound when no hand-off has value in col, nil
// when one has: a write that changed nothing tells a missing row from one
// whose state refused it.
func (s *db) handoffMissing(ctx context.Context, op, col, value string) error {
	ok, err := s.exists(ctx, `SELECT 1 FROM handoffs WHERE `+col+` = $1`, value)
	if err != nil {
		return s.fail(op, err)
	}
	if !ok {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}
