package store

import (
	"context"
	"database/sql"
	"fmt"
)

// accountCols are the columns scanAccount reads. An empty email or phone is
// stored as NULL, so that many accounts can have none under the UNIQUE
// constraint.
const accountCols = `mi_id, COALESCE(email, ''), COALESCE(phone, ''), password_hash,
	display_name, region, language, recovery_email, recovery_phone,
	totp_secret, totp_enabled, quota_bytes, created_at, updated_at`

func scanAccount(row scanner) (*Account, error) {
	var a Account
	err := row.Scan(&a.MiID, &a.Email, &a.Phone, &a.PasswordHash,
		&a.DisplayName, &a.Region, &a.Language, &a.RecoveryEmail, &a.RecoveryPhone,
		&a.TOTPSecret, &a.TOTPEnabled, &a.QuotaBytes, reqTime(&a.CreatedAt), reqTime(&a.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateAccount inserts a new account; ErrConflict when its Mi ID, email or
// phone is taken. A zero CreatedAt is set to now and a zero UpdatedAt to
// CreatedAt, in a as well.
func (s *db) CreateAccount(ctx context.Context, a *Account) error {
	a.CreatedAt = orNow(a.CreatedAt)
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO accounts (mi_id, email, phone, password_hash,
		display_name, region, language, recovery_email, recovery_phone,
		totp_secret, totp_enabled, quota_bytes, created_at, updated_at)
		VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		a.MiID, a.Email, a.Phone, a.PasswordHash,
		a.DisplayName, a.Region, a.Language, a.RecoveryEmail, a.RecoveryPhone,
		a.TOTPSecret, a.TOTPEnabled, a.QuotaBytes, s.t(a.CreatedAt), s.t(a.UpdatedAt))
	if err != nil {
		return s.fail("create account", err)
	}
	return nil
}

// AccountByMiID looks an account up by its Mi ID.
func (s *db) AccountByMiID(ctx context.Context, miID string) (*Account, error) {
	return s.accountBy(ctx, "account by mi id", "mi_id", miID)
}

// AccountByEmail looks an account up by its email.
func (s *db) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	return s.accountBy(ctx, "account by email", "email", email)
}

// AccountByPhone looks an account up by its phone.
func (s *db) AccountByPhone(ctx context.Context, phone string) (*Account, error) {
	return s.accountBy(ctx, "account by phone", "phone", phone)
}

// accountBy reads the account whose column col (a constant, never input)
// equals value.
func (s *db) accountBy(ctx context.Context, op, col, value string) (*Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx,
		`SELECT `+accountCols+` FROM accounts WHERE `+col+` = $1`, value))
	if err != nil {
		return nil, s.fail(op, err)
	}
	return a, nil
}

// UpdateAccount writes every field of a but MiID and CreatedAt, and sets
// a.UpdatedAt to now.
func (s *db) UpdateAccount(ctx context.Context, a *Account) error {
	at := now()
	err := s.execOne(ctx, "update account", `UPDATE accounts SET
		email = NULLIF($2, ''), phone = NULLIF($3, ''), password_hash = $4,
		display_name = $5, region = $6, language = $7,
		recovery_email = $8, recovery_phone = $9,
		totp_secret = $10, totp_enabled = $11, quota_bytes = $12, updated_at = $13
		WHERE mi_id = $1`,
		a.MiID, a.Email, a.Phone, a.PasswordHash,
		a.DisplayName, a.Region, a.Language, a.RecoveryEmail, a.RecoveryPhone,
		a.TOTPSecret, a.TOTPEnabled, a.QuotaBytes, s.t(at))
	if err != nil {
		return err
	}
	a.UpdatedAt = at
	return nil
}

// UseTOTPStep atomically records that step was used: one conditional UPDATE
// that only succeeds when step is newer than the last used step.
func (s *db) UseTOTPStep(ctx context.Context, miID string, step int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE accounts SET totp_last_step = $2
		WHERE mi_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`, miID, step)
	if err != nil {
		return false, s.fail("use totp step", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("use totp step", err)
	}
	if n == 1 {
		return true, nil
	}
	if err := s.accountExists(ctx, "use totp step", miID); err != nil {
		return false, err
	}
	return false, nil
}

// accountExists returns nil when the account exists, and ErrNotFound
// (wrapped with op) when it does not.
func (s *db) accountExists(ctx context.Context, op, miID string) error {
	ok, err := s.exists(ctx, `SELECT 1 FROM accounts WHERE mi_id = $1`, miID)
	if err != nil {
		return s.fail(op, err)
	}
	if !ok {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// SetRecoveryCodes replaces an account's recovery codes (hashes, hex).
func (s *db) SetRecoveryCodes(ctx context.Context, miID string, hashes []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE mi_id = $1`, miID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (mi_id, hash) VALUES ($1, $2)`, miID, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.fail("set recovery codes", err)
	}
	return nil
}

// UseRecoveryCode atomically deletes the code with hash; false when there
// was none. The DELETE decides: of racing calls only one removes the row.
func (s *db) UseRecoveryCode(ctx context.Context, miID, hash string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM recovery_codes WHERE mi_id = $1 AND hash = $2`, miID, hash)
	if err != nil {
		return false, s.fail("use recovery code", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("use recovery code", err)
	}
	return n == 1, nil
}

// SetUsage sets the bytes an account uses in a sync category.
func (s *db) SetUsage(ctx context.Context, miID, category string, bytes int64) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO usage (mi_id, category, bytes) VALUES ($1, $2, $3)
		ON CONFLICT (mi_id, category) DO UPDATE SET bytes = excluded.bytes`, miID, category, bytes)
	if err != nil {
		return s.fail("set usage", err)
	}
	return nil
}

// Usage returns the bytes used per category (an empty map when none).
func (s *db) Usage(ctx context.Context, miID string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT category, bytes FROM usage WHERE mi_id = $1`, miID)
	if err != nil {
		return nil, s.fail("usage", err)
	}
	defer rows.Close()
	usage := make(map[string]int64)
	for rows.Next() {
		var (
			category string
			bytes    int64
		)
		if err := rows.Scan(&category, &bytes); err != nil {
			return nil, s.fail("usage", err)
		}
		usage[category] = bytes
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("usage", err)
	}
	return usage, nil
}
