package server

import (
	"context"
	"fmt"
	"net/http"
	"unicode/utf8"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// hashPassword hashes with the configured argon2id parameters, waiting for
// a hash slot so that a flood of requests cannot exhaust memory.
func (s *Server) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSlots }()
	h, err := policy.HashPassword(password, s.cfg.Argon2)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// verifyPassword checks password against encoded, or against the dummy hash
// when encoded is "" (an unknown account), so both cost the same.
func (s *Server) verifyPassword(ctx context.Context, password, encoded string) (bool, error) {
	s.dummyOnce.Do(func() {
		go func() {
			defer close(s.dummyReady)
			h, err := s.hashPassword(context.Background(), s.dummySecret)
			if err != nil { // only for parameters validate refused already
				s.log.Error("dummy password hash", "err", err)
			}
			s.dummyHash = h
		}()
	})
	select {
	case <-s.dummyReady:
	case <-ctx.Done():
		return false, fmt.Errorf("wait for the dummy hash: %w", ctx.Err())
	}
	dummy := encoded == ""
	if dummy {
		encoded = s.dummyHash
	}
	if err := s.acquireHashSlot(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashSlots }()
	ok, err := policy.VerifyPassword(password, encoded)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok && !dummy, nil
}

// acquireHashSlot waits for a free argon2 slot or the end of ctx.
func (s *Server) acquireHashSlot(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a hash slot: %w", ctx.Err())
	}
}

// checkNewPassword applies the password policy to a new password for an
// account known by identifiers (each of which it must not be), answering 400
// weak_password with the rules broken.
func (s *Server) checkNewPassword(field, password string, identifiers ...string) error {
	if password == "" {
		return errInput(field, "Choose a password.")
	}
	seen := map[string]bool{}
	var reasons []string
	add := func(rs []string) {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				reasons = append(reasons, r)
			}
		}
	}
	if len(identifiers) == 0 {
		identifiers = []string{""}
	}
	for _, id := range identifiers {
		add(s.cfg.Password.Check(password, id))
	}
	if len(reasons) == 0 {
		return nil
	}
	return &api.Error{
		Code:    api.CodeWeakPassword,
		Field:   field,
		Reasons: reasons,
		Message: fmt.Sprintf("The password breaks the rules: %d to %d characters with letters, digits and symbols, not a common password and not your email, phone or Mi ID.",
			s.cfg.Password.MinLen, s.cfg.Password.MaxLen),
	}
}

// accountIdentifiers are the ways to name a, which a password must not be.
func accountIdentifiers(a *store.Account) []string {
	ids := []string{a.MiID}
	if a.Email != "" {
		ids = append(ids, a.Email)
	}
	if a.Phone != "" {
		ids = append(ids, a.Phone)
	}
	return ids
}

// reauth checks the password the caller gave again for a sensitive action.
// A missing or wrong one is 403 reauth_required (not 401: the session is
// fine, so clients must not sign out). Wrong ones count towards a lock of
// the account's re-authentication, so that a stolen session cannot guess the
// password without bound; like a sign-in, the attempt is counted before the
// password is checked and given back when it is right.
func (s *Server) reauth(r *http.Request, who *caller, field, password string) error {
	ctx := r.Context()
	key := "reauth:" + who.account.MiID
	if password == "" || utf8.RuneCountInString(password) > s.cfg.Password.MaxLen {
		until, err := s.st.LockedUntil(ctx, key)
		if err != nil {
			return fmt.Errorf("read lock: %w", err)
		}
		if now := s.now(); now.Before(until) {
			return errLocked(until.Sub(now))
		}
		return errReauth(field)
	}
	att, err := s.reserveAttempt(ctx, s.signInLimit(key))
	if err != nil {
		return err
	}
	ok, err := s.verifyPassword(ctx, password, who.account.PasswordHash)
	if err != nil || ok {
		att.release(s)
		return err
	}
	s.audit(r, who.account.MiID, who.session.DeviceID, "reauth_failed", "")
	if att.lockedKey(key) {
		return errLocked(s.cfg.LockDuration)
	}
	return errReauth(field)
}

// setPassword stores a new password hash for a and revokes its sessions but
// the one with keepTokenHash ("" revokes all), in st; it returns how many
// went. The hash is made by the caller, before the transaction (it is slow).
func setPassword(ctx context.Context, st store.Store, miID, hash, keepTokenHash string) (int, error) {
	if err := st.PatchAccount(ctx, miID, store.AccountPatch{PasswordHash: &hash}); err != nil {
		return 0, fmt.Errorf("store password: %w", err)
	}
	n, err := st.DeleteSessions(ctx, miID, keepTokenHash)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return n, nil
}
