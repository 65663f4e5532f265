package store

import (
	"context"
	"fmt"
	"time"
)

// sessionCols are the columns scanSession reads.
const sessionCols = `token_hash, mi_id, device_id, kiosk, store_id,
	created_at, last_used_at, expires_at, idle_timeout_ns`

func scanSession(row scanner) (*Session, error) {
	var (
		se   Session
		idle int64
	)
	err := row.Scan(&se.TokenHash, &se.MiID, &se.DeviceID, &se.Kiosk, &se.StoreID,
		reqTime(&se.CreatedAt), reqTime(&se.LastUsedAt), reqTime(&se.ExpiresAt), &idle)
	if err != nil {
		return nil, err
	}
	se.IdleTimeout = time.Duration(idle)
	return &se, nil
}

// CreateSession inserts a session. A zero CreatedAt is set to now and a zero
// LastUsedAt to CreatedAt, in se as well. A session of no account is
// ErrNotFound, a duplicate token hash ErrConflict.
func (s *db) CreateSession(ctx context.Context, se *Session) error {
	se.CreatedAt = orNow(se.CreatedAt)
	if se.LastUsedAt.IsZero() {
		se.LastUsedAt = se.CreatedAt
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, mi_id, device_id, kiosk, store_id,
		created_at, last_used_at, expires_at, idle_timeout_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		se.TokenHash, se.MiID, se.DeviceID, se.Kiosk, se.StoreID,
		s.t(se.CreatedAt), s.t(se.LastUsedAt), s.t(se.ExpiresAt), int64(se.IdleTimeout))
	if err != nil {
		return s.fail("create session", err)
	}
	return nil
}

// Session reads a session by its token hash.
func (s *db) Session(ctx context.Context, tokenHash string) (*Session, error) {
	se, err := scanSession(s.r.QueryRowContext(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return nil, s.fail("session", err)
	}
	return se, nil
}

// SessionAccount reads a session by its token hash with its account, in
// one query; ErrNotFound when either is missing.
func (s *db) SessionAccount(ctx context.Context, tokenHash string) (*Session, *Account, error) {
	var (
		se   Session
		a    Account
		idle int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT s.token_hash, s.mi_id, s.device_id, s.kiosk, s.store_id,
		s.created_at, s.last_used_at, s.expires_at, s.idle_timeout_ns,
		a.mi_id, COALESCE(a.email, ''), COALESCE(a.phone, ''), a.password_hash,
		a.display_name, a.region, a.language, a.recovery_email, a.recovery_phone,
		a.totp_secret, a.totp_enabled, a.quota_bytes, a.created_at, a.updated_at
		FROM sessions s JOIN accounts a ON a.mi_id = s.mi_id WHERE s.token_hash = $1`, tokenHash).Scan(
		&se.TokenHash, &se.MiID, &se.DeviceID, &se.Kiosk, &se.StoreID,
		reqTime(&se.CreatedAt), reqTime(&se.LastUsedAt), reqTime(&se.ExpiresAt), &idle,
		&a.MiID, &a.Email, &a.Phone, &a.PasswordHash,
		&a.DisplayName, &a.Region, &a.Language, &a.RecoveryEmail, &a.RecoveryPhone,
		&a.TOTPSecret, &a.TOTPEnabled, &a.QuotaBytes, reqTime(&a.CreatedAt), reqTime(&a.UpdatedAt))
	if err != nil {
		return nil, nil, s.fail("session and account", err)
	}
	se.IdleTimeout = time.Duration(idle)
	return &se, &a, nil
}

// TouchSession sets LastUsedAt to at when it is before olderThan, and
// reports whether it did: callers write it at most so often. A session
// that is gone is no error (false): it was signed out meanwhile.
func (s *db) TouchSession(ctx context.Context, tokenHash string, at, olderThan time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_used_at = $2
		WHERE token_hash = $1 AND last_used_at < $3`, tokenHash, s.t(at), s.t(olderThan))
	if err != nil {
		return false, s.fail("touch session", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("touch session", err)
	}
	return n == 1, nil
}

// DeleteSession removes one session; ErrNotFound when there was none.
func (s *db) DeleteSession(ctx context.Context, tokenHash string) error {
	return s.execOne(ctx, "delete session", `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
}

// DeleteSessions removes every session of an account but the one with
// exceptTokenHash ("" removes all) and returns how many went.
func (s *db) DeleteSessions(ctx context.Context, miID, exceptTokenHash string) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE mi_id = $1 AND token_hash <> $2`,
		miID, exceptTokenHash)
	if err != nil {
		return 0, s.fail("delete sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("delete sessions", err)
	}
	return int(n), nil
}

// auditCols are the columns scanAudit reads.
const auditCols = `id, at, mi_id, device_id, kiosk, store_id, address, event, detail`

// Audit appends a security event and sets e.ID; a zero e.At is set to now.
func (s *db) Audit(ctx context.Context, e *AuditEvent) error {
	e.At = orNow(e.At)
	err := s.w.QueryRowContext(ctx, `INSERT INTO audit (at, mi_id, device_id, kiosk, store_id, address, event, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		s.t(e.At), e.MiID, e.DeviceID, e.Kiosk, e.StoreID, e.Address, e.Event, e.Detail).Scan(&e.ID)
	if err == nil {
		err = s.syncLog()
	}
	if err != nil {
		return s.fail("audit", err)
	}
	return nil
}

// AuditEvents lists the newest events of an account ("" for all), newest
// (last appended) first; limit <= 0 lists them all.
func (s *db) AuditEvents(ctx context.Context, miID string, limit int) ([]AuditEvent, error) {
	query := `SELECT ` + auditCols + ` FROM audit`
	var args []any
	if miID != "" {
		query += ` WHERE mi_id = $1`
		args = append(args, miID)
	}
	query += ` ORDER BY id DESC`
	if limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail("audit events", err)
	}
	defer rows.Close()
	var events []AuditEvent
	for rows.Next() {
		var e AuditEvent
		if err := rows.Scan(&e.ID, reqTime(&e.At), &e.MiID, &e.DeviceID, &e.Kiosk, &e.StoreID,
			&e.Address, &e.Event, &e.Detail); err != nil {
			return nil, s.fail("audit events", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("audit events", err)
	}
	return events, nil
}
