package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// challengeCols are the columns scanChallenge reads.
const challengeCols = `id, purpose, channel, destination, COALESCE(mi_id, ''), code_hash, payload,
	state, attempts_left, sends, expires_at, resend_after, created_at,
	delivery_state, delivery_at, delivery_error`

func scanChallenge(row scanner) (*Challenge, error) {
	var c Challenge
	err := row.Scan(&c.ID, &c.Purpose, &c.Channel, &c.Destination, &c.MiID, &c.CodeHash, &c.Payload,
		&c.State, &c.AttemptsLeft, &c.Sends, reqTime(&c.ExpiresAt), reqTime(&c.ResendAfter), reqTime(&c.CreatedAt),
		&c.DeliveryState, optTime(&c.DeliveryAt), &c.DeliveryError)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateChallenge inserts a challenge. Zero values get defaults, written
// back to c: State pending, DeliveryState queued, CreatedAt now. An empty
// MiID (a registration) is stored as NULL; a MiID of no account is
// ErrNotFound, a duplicate ID ErrConflict.
func (s *db) CreateChallenge(ctx context.Context, c *Challenge) error {
	if c.State == "" {
		c.State = "pending"
	}
	if c.DeliveryState == "" {
		c.DeliveryState = "queued"
	}
	c.CreatedAt = orNow(c.CreatedAt)
	codeHash := c.CodeHash
	if codeHash == nil {
		codeHash = []byte{}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO challenges (id, purpose, channel, destination, mi_id,
		code_hash, payload, state, attempts_left, sends, expires_at, resend_after, created_at,
		delivery_state, delivery_at, delivery_error)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.Purpose, c.Channel, c.Destination, c.MiID,
		codeHash, c.Payload, c.State, c.AttemptsLeft, c.Sends,
		s.t(c.ExpiresAt), s.t(c.ResendAfter), s.t(c.CreatedAt),
		c.DeliveryState, s.tp(c.DeliveryAt), c.DeliveryError)
	if err != nil {
		return s.fail("create challenge", err)
	}
	return nil
}

// Challenge reads one challenge.
func (s *db) Challenge(ctx context.Context, id string) (*Challenge, error) {
	c, err := scanChallenge(s.r.QueryRowContext(ctx, `SELECT `+challengeCols+` FROM challenges WHERE id = $1`, id))
	if err != nil {
		return nil, s.fail("challenge", err)
	}
	return c, nil
}

// LockChallenge reads one challenge and, inside InTx, keeps other
// transactions from changing it (or locking it) until this one ends: the
// rules that read it (is the code right, is a resend due) decide on what
// they read.
func (s *db) LockChallenge(ctx context.Context, id string) (*Challenge, error) {
	c, err := scanChallenge(s.w.QueryRowContext(ctx, `SELECT `+challengeCols+` FROM challenges WHERE id = $1`+s.d.forUpdate, id))
	if err != nil {
		return nil, s.fail("lock challenge", err)
	}
	return c, nil
}

// RenewChallengeCode replaces the code of a pending or expired challenge
// for a resend; an expired one is pending again. A challenge that is
// missing, verified or dead is left alone and reported as ErrNotFound: a
// resend cannot revive it.
func (s *db) RenewChallengeCode(ctx context.Context, id string, codeHash []byte, attempts int, expiresAt, resendAfter time.Time) error {
	if codeHash == nil {
		codeHash = []byte{}
	}
	return s.execOne(ctx, "renew challenge code", `UPDATE challenges SET
		code_hash = $2, attempts_left = $3, expires_at = $4, resend_after = $5,
		sends = sends + 1, delivery_state = 'queued', delivery_at = NULL, delivery_error = '',
		state = 'pending'
		WHERE id = $1 AND state IN ('pending', 'expired')`,
		id, codeHash, attempts, s.t(expiresAt), s.t(resendAfter))
}

// SetDelivery records what the courier did.
func (s *db) SetDelivery(ctx context.Context, id, state string, at time.Time, errText string) error {
	return s.execOne(ctx, "set delivery", `UPDATE challenges SET
		delivery_state = $2, delivery_at = $3, delivery_error = $4 WHERE id = $1`,
		id, state, s.t(at), errText)
}

// SpendAttempt atomically takes one attempt from a pending challenge: one
// UPDATE ... RETURNING, so racing calls each take a different attempt and
// the count never goes below 0. The update that takes the last attempt also
// makes the challenge dead.
func (s *db) SpendAttempt(ctx context.Context, id string) (int, string, error) {
	var (
		left  int
		state string
	)
	err := s.w.QueryRowContext(ctx, `UPDATE challenges SET
		attempts_left = CASE WHEN attempts_left > 0 THEN attempts_left - 1 ELSE 0 END,
		state = CASE WHEN attempts_left <= 1 THEN 'dead' ELSE state END
		WHERE id = $1 AND state = 'pending'
		RETURNING attempts_left, state`, id).Scan(&left, &state)
	if err == nil {
		if err := s.syncLog(); err != nil {
			return 0, "", s.fail("spend attempt", err)
		}
		return left, state, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, "", s.fail("spend attempt", err)
	}
	// Not pending (or missing): report it as it is.
	err = s.r.QueryRowContext(ctx, `SELECT attempts_left, state FROM challenges WHERE id = $1`, id).Scan(&left, &state)
	if err != nil {
		return 0, "", s.fail("spend attempt", err)
	}
	return left, state, nil
}

// ConsumeChallenge atomically moves a pending challenge that expires after
// now to verified. The one conditional UPDATE decides: of racing calls,
// exactly one changes the row and returns true. A missing challenge is
// ErrNotFound.
func (s *db) ConsumeChallenge(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE challenges SET state = 'verified'
		WHERE id = $1 AND state = 'pending' AND expires_at > $2`, id, s.t(at))
	if err != nil {
		return false, s.fail("consume challenge", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("consume challenge", err)
	}
	if n == 1 {
		return true, nil
	}
	ok, err := s.exists(ctx, `SELECT 1 FROM challenges WHERE id = $1`, id)
	if err != nil {
		return false, s.fail("consume challenge", err)
	}
	if !ok {
		return false, fmt.Errorf("consume challenge: %w", ErrNotFound)
	}
	return false, nil
}

// SetChallengeState sets the state.
func (s *db) SetChallengeState(ctx context.Context, id, state string) error {
	return s.execOne(ctx, "set challenge state", `UPDATE challenges SET state = $2 WHERE id = $1`, id, state)
}

// LastChallenge returns the newest challenge of an account (by CreatedAt,
// then ID), or ErrNotFound.
func (s *db) LastChallenge(ctx context.Context, miID string) (*Challenge, error) {
	c, err := scanChallenge(s.r.QueryRowContext(ctx, `SELECT `+challengeCols+` FROM challenges
		WHERE mi_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, miID))
	if err != nil {
		return nil, s.fail("last challenge", err)
	}
	return c, nil
}
