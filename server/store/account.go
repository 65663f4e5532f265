package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// ON CONFLICT DO NOTHING: a taken Mi ID, email or phone is told by the
	// count, not by an error, which on PostgreSQL would end the transaction
	// the caller may be in (it draws another Mi ID and tries again).
	res, err := s.w.ExecContext(ctx, `INSERT INTO accounts (mi_id, email, phone, password_hash,
		display_name, region, language, recovery_email, recovery_phone,
		totp_secret, totp_enabled, quota_bytes, created_at, updated_at)
		VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT DO NOTHING`,
		a.MiID, a.Email, a.Phone, a.PasswordHash,
		a.DisplayName, a.Region, a.Language, a.RecoveryEmail, a.RecoveryPhone,
		a.TOTPSecret, a.TOTPEnabled, a.QuotaBytes, s.t(a.CreatedAt), s.t(a.UpdatedAt))
	if err != nil {
		return s.fail("create account", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("create account", err)
	}
	if n == 0 {
		return fmt.Errorf("create account: %w (its Mi ID, email or phone is taken)", ErrConflict)
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

// AccountPatch names the columns PatchAccount changes: each field that is
// not nil. Writing only those, a patch never undoes what another request
// changed meanwhile in another column.
type AccountPatch struct {
	PasswordHash  *string
	DisplayName   *string
	Region        *string
	Language      *string
	RecoveryEmail *string
	RecoveryPhone *string
	TOTPSecret    *string
	TOTPEnabled   *bool
	QuotaBytes    *int64

	// IfPasswordHash, when set, applies the patch only while the stored
	// password hash is this one (an upgrade of the hash must not undo a
	// password changed meanwhile); otherwise PatchAccount is ErrStale.
	IfPasswordHash *string
}

// ErrStale is returned by a write whose condition no longer holds: the row
// changed since it was read.
var ErrStale = errors.New("store: changed meanwhile")

// PatchAccount sets the columns of p that are not nil, and updated_at, in
// one UPDATE. A missing account is ErrNotFound; a condition of p that no
// longer holds is ErrStale.
func (s *db) PatchAccount(ctx context.Context, miID string, p AccountPatch) error {
	sets := []string{"updated_at = $2"}
	args := []any{miID, s.t(now())}
	set := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	str := func(col string, v *string) {
		if v != nil {
			set(col, *v)
		}
	}
	str("password_hash", p.PasswordHash)
	str("display_name", p.DisplayName)
	str("region", p.Region)
	str("language", p.Language)
	str("recovery_email", p.RecoveryEmail)
	str("recovery_phone", p.RecoveryPhone)
	str("totp_secret", p.TOTPSecret)
	if p.TOTPEnabled != nil {
		set("totp_enabled", *p.TOTPEnabled)
	}
	if p.QuotaBytes != nil {
		set("quota_bytes", *p.QuotaBytes)
	}
	where := "mi_id = $1"
	if p.IfPasswordHash != nil {
		args = append(args, *p.IfPasswordHash)
		where += fmt.Sprintf(" AND password_hash = $%d", len(args))
	}
	res, err := s.w.ExecContext(ctx, `UPDATE accounts SET `+strings.Join(sets, ", ")+` WHERE `+where, args...)
	if err != nil {
		return s.fail("patch account", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("patch account", err)
	}
	if n == 1 {
		return nil
	}
	if err := s.accountExists(ctx, "patch account", miID); err != nil {
		return err
	}
	return fmt.Errorf("patch account: %w", ErrStale)
}

// LockAccount reads an account and, inside InTx, keeps other transactions
// from changing it (or locking it) until this one ends.
func (s *db) LockAccount(ctx context.Context, miID string) (*Account, error) {
	a, err := scanAccount(s.w.QueryRowContext(ctx,
		`SELECT `+accountCols+` FROM accounts WHERE mi_id = $1`+s.d.forUpdate, miID))
	if err != nil {
		return nil, s.fail("lock account", err)
	}
	return a, nil
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
	err := s.inTx(ctx, func(tx querier) error {
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

// UseRecoveryCode atomically deletes the code stored as hash, or as legacy
// (the hash of an earlier scheme; "" for none); false when there was none.
// The DELETE decides: of racing calls only one removes the row.
func (s *db) UseRecoveryCode(ctx context.Context, miID, hash, legacy string) (bool, error) {
	if legacy == "" {
		legacy = hash
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM recovery_codes WHERE mi_id = $1 AND hash IN ($2, $3)`, miID, hash, legacy)
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
