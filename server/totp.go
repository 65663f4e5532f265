package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// TOTP per RFC 6238 as authenticator apps expect it: a 160-bit secret,
// HMAC-SHA1, 6 digits, 30-second steps.
const (
	totpPeriod     = 30
	totpSecretSize = 20
	totpDigits     = otp.DigitsSix
)

// recoveryAlphabet has no 0/O or 1/I, so codes read back without doubt.
const recoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// recoveryCodeLen is the length of a recovery code (50 bits), shown as two
// groups of five.
const recoveryCodeLen = 10

// totpOpts are the options of code generation.
func totpOpts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
}

// matchTOTP finds the step within ±skew of now whose code is code.
// NOTE: totp.ValidateCustom would accept a replayed code; we need the step
// to refuse one (store.UseTOTPStep), so we compare each step ourselves.
func matchTOTP(secret, code string, now time.Time, skew uint) (step int64, ok bool) {
	for i := -int(skew); i <= int(skew); i++ {
		t := now.Add(time.Duration(i) * totpPeriod * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts())
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// totpSecret opens the sealed TOTP secret of a. A secret stored before
// secrets were sealed, or sealed with a key that is no longer the first,
// is sealed again with the current key (a failure only delays that).
func (s *Server) totpSecret(ctx context.Context, a *store.Account) (string, error) {
	secret, keyID, err := policy.Open(s.cfg.Keys.TOTP, a.TOTPSecret, a.MiID)
	if err != nil {
		return "", fmt.Errorf("open TOTP secret of %s: %w", a.MiID, err)
	}
	if current := s.cfg.Keys.TOTP[0]; secret != "" && keyID != current.ID {
		if sealed, err := policy.Seal(current, secret, a.MiID); err == nil {
			err = s.st.PatchAccount(ctx, a.MiID, store.AccountPatch{TOTPSecret: &sealed})
			if err != nil {
				s.log.Warn("reseal TOTP secret", "mi_id", a.MiID, "err", err)
			}
		}
	}
	return secret, nil
}

// useTOTP accepts a TOTP code of a's secret once, in st: a step already
// used (or older than the last used) is refused.
func (s *Server) useTOTP(ctx context.Context, st store.Store, a *store.Account, code string) (bool, error) {
	secret, err := s.totpSecret(ctx, a)
	if err != nil {
		return false, err
	}
	step, ok := matchTOTP(secret, code, s.now(), s.cfg.TOTPSkew)
	if !ok {
		return false, nil
	}
	fresh, err := st.UseTOTPStep(ctx, a.MiID, step)
	if err != nil {
		return false, fmt.Errorf("use TOTP step: %w", err)
	}
	return fresh, nil
}

// checkSecondFactor accepts a TOTP code or an unused recovery code.
func (s *Server) checkSecondFactor(ctx context.Context, a *store.Account, code string) (bool, error) {
	code = strings.TrimSpace(code)
	if len(code) == int(totpDigits) && strings.Trim(code, "0123456789") == "" {
		return s.useTOTP(ctx, s.st, a, code)
	}
	norm, ok := normalizeRecoveryCode(code)
	if !ok {
		return false, nil
	}
	// Codes handed out before they were keyed are stored as plain SHA-256.
	used, err := s.st.UseRecoveryCode(ctx, a.MiID, policy.RecoveryCodeHash(s.cfg.Keys.HMAC, a.MiID, norm), policy.HashToken(norm))
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	return used, nil
}

// normalizeRecoveryCode upper-cases a recovery code and drops spaces and
// dashes; false when it cannot be one.
func normalizeRecoveryCode(code string) (string, bool) {
	code = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(code))
	if len(code) != recoveryCodeLen || strings.Trim(code, recoveryAlphabet) != "" {
		return "", false
	}
	return code, true
}

// newRecoveryCodes draws n recovery codes of the account miID (shown as
// XXXXX-XXXXX) and their keyed hashes.
func (s *Server) newRecoveryCodes(miID string, n int) (codes, hashes []string, err error) {
	for range n {
		b := make([]byte, recoveryCodeLen)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("recovery code: %w", err)
		}
		for i := range b {
			b[i] = recoveryAlphabet[int(b[i])%len(recoveryAlphabet)] // 256 % 32 == 0: unbiased
		}
		code := string(b)
		codes = append(codes, code[:5]+"-"+code[5:])
		hashes = append(hashes, policy.RecoveryCodeHash(s.cfg.Keys.HMAC, miID, code))
	}
	return codes, hashes, nil
}

// startTOTP answers POST /v1/account/totp: a new secret, pending until
// confirmed with a code from it. The secret is stored sealed with the
// server's TOTP key.
func (s *Server) startTOTP(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	a := who.account
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      s.cfg.TOTPIssuer,
		AccountName: a.MiID,
		Period:      totpPeriod,
		SecretSize:  totpSecretSize,
		Digits:      totpDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return 0, nil, fmt.Errorf("generate TOTP key: %w", err)
	}
	sealed, err := policy.Seal(s.cfg.Keys.TOTP[0], key.Secret(), a.MiID)
	if err != nil {
		return 0, nil, err
	}
	err = s.inTx(ctx, func(tx store.Store) error {
		cur, err := tx.LockAccount(ctx, a.MiID)
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		if cur.TOTPEnabled {
			return errConflict("", "Two-step verification is already on; turn it off first to set it up again.")
		}
		return tx.PatchAccount(ctx, a.MiID, store.AccountPatch{TOTPSecret: &sealed})
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.TOTPSetup{Secret: key.Secret(), OTPAuthURI: otpauthURI(s.cfg.TOTPIssuer, a.MiID, key.Secret())}, nil
}

// otpauthURI is the key URI an authenticator app scans: the label
// "issuer:Mi ID" and the secret, nothing else. The algorithm (SHA1), the
// digits (6) and the period (30 s) are the format's defaults, and apps take
// the label's prefix as the issuer, so leaving out those parameters loses
// nothing; it keeps the URI within 78 bytes, the most a version 4 QR code
// holds (33 modules a side), which the wizard draws in 19 lines of an
// 80x24 terminal. The Mi ID, not the email or phone, names the account:
// it is short, never changes, and says nothing about how to reach the
// person.
func otpauthURI(issuer, miID, secret string) string {
	return "otpauth://totp/" + url.PathEscape(issuer+":"+miID) + "?secret=" + secret
}

// confirmTOTP answers POST /v1/account/totp/confirm: a right code of the
// pending secret turns 2FA on and hands out the recovery codes, once. The
// account is locked from the read to the write, so a second confirmation
// or a new secret arriving meanwhile cannot cross it.
func (s *Server) confirmTOTP(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	var req api.TOTPConfirm
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	code := strings.TrimSpace(req.Code)
	if len(code) != int(totpDigits) || strings.Trim(code, "0123456789") != "" {
		return 0, nil, errInput("code", "Enter the 6-digit code your authenticator app shows.")
	}
	var codes []string
	err := s.inTx(ctx, func(tx store.Store) error {
		a, err := tx.LockAccount(ctx, who.account.MiID)
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		if a.TOTPEnabled {
			return errConflict("", "Two-step verification is already on.")
		}
		if a.TOTPSecret == "" {
			return errConflict("", "Start with POST /v1/account/totp to get a secret.")
		}
		ok, err := s.useTOTP(ctx, tx, a, code)
		if err != nil {
			return err
		}
		if !ok {
			return &api.Error{Code: api.CodeInvalidCode, Field: "code", Message: "The code is wrong: check the clock of the device with the authenticator app."}
		}
		var hashes []string
		codes, hashes, err = s.newRecoveryCodes(a.MiID, s.cfg.RecoveryCodes)
		if err != nil {
			return err
		}
		if err := tx.SetRecoveryCodes(ctx, a.MiID, hashes); err != nil {
			return fmt.Errorf("store recovery codes: %w", err)
		}
		if err := tx.PatchAccount(ctx, a.MiID, store.AccountPatch{TOTPEnabled: ptr(true)}); err != nil {
			return fmt.Errorf("enable TOTP: %w", err)
		}
		return tx.Audit(ctx, s.auditEvent(r, a.MiID, who.session.DeviceID, "totp_enabled", ""))
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.RecoveryCodes{RecoveryCodes: codes}, nil
}

// passwordAgain reads a body with the password given again
// (api.PasswordConfirm) and checks it, as a lock, an erase, turning 2FA off
// and deleting the account need.
func (s *Server) passwordAgain(r *http.Request, who *caller) error {
	var req api.PasswordConfirm
	if err := decode(r, &req); err != nil {
		return err
	}
	return s.reauth(r, who, "password", req.Password)
}

// disableTOTP answers DELETE /v1/account/totp; it needs the password.
func (s *Server) disableTOTP(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	if err := s.passwordAgain(r, who); err != nil {
		return 0, nil, err
	}
	a := who.account
	err := s.st.InTx(ctx, func(tx store.Store) error {
		if err := tx.PatchAccount(ctx, a.MiID, store.AccountPatch{TOTPEnabled: ptr(false), TOTPSecret: ptr("")}); err != nil {
			return fmt.Errorf("disable TOTP: %w", err)
		}
		if err := tx.SetRecoveryCodes(ctx, a.MiID, nil); err != nil {
			return fmt.Errorf("drop recovery codes: %w", err)
		}
		return tx.Audit(ctx, s.auditEvent(r, a.MiID, who.session.DeviceID, "totp_disabled", ""))
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
