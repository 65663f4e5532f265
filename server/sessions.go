package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// caller is who sent an authenticated request.
type caller struct {
	session   *store.Session
	tokenHash string
	account   *store.Account
}

// authed wraps an endpoint that needs a session.
func (s *Server) authed(h func(r *http.Request, who *caller) (int, any, error)) handler {
	return func(r *http.Request) (int, any, error) {
		who, err := s.optionalCaller(r)
		if err != nil {
			return 0, nil, err
		}
		if who == nil {
			return 0, nil, errUnauthorized()
		}
		return h(r, who)
	}
}

// optionalCaller returns the caller of a request with a live session, nil
// for a request without one (no header, unknown token, ended session), and
// an error only when the store fails. It marks the session used.
func (s *Server) optionalCaller(r *http.Request) (*caller, error) {
	ctx := r.Context()
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" || len(token) > 256 {
		return nil, nil
	}
	hash := policy.HashToken(token)
	sess, err := s.st.Session(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	now := s.now()
	idle := sess.IdleTimeout > 0 && !now.Before(sess.LastUsedAt.Add(sess.IdleTimeout))
	if !now.Before(sess.ExpiresAt) || idle {
		if err := s.st.DeleteSession(ctx, hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("delete ended session: %w", err)
		}
		return nil, nil
	}
	a, err := s.st.AccountByMiID(ctx, sess.MiID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	if err := s.st.TouchSession(ctx, hash, now); err != nil {
		return nil, fmt.Errorf("touch session: %w", err)
	}
	sess.LastUsedAt = now
	return &caller{session: sess, tokenHash: hash, account: a}, nil
}

// signIn answers POST /v1/sessions. An unknown identifier and a wrong
// password get the same 401 after the same work; failures lock the
// identifier whether or not it has an account.
func (s *Server) signIn(r *http.Request) (int, any, error) {
	ctx := r.Context()
	var req api.SessionRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(req.Identifier) == "" {
		return 0, nil, errInput("identifier", "Enter your email, phone number or Mi ID.")
	}
	if req.Password == "" {
		return 0, nil, errInput("password", "Enter your password.")
	}
	if err := checkDevice(&req.Device, "device"); err != nil {
		return 0, nil, err
	}
	region, err := s.region("region", req.Region)
	if err != nil {
		return 0, nil, err
	}
	kind, identifier, a, err := s.resolveIdentifier(ctx, req.Identifier, region)
	if err != nil {
		return 0, nil, err
	}

	now := s.now()
	addrKey := "addr:" + clientAddr(r)
	n, err := s.st.Failures(ctx, addrKey, windowStart(now, s.cfg.AddressWindow))
	if err != nil {
		return 0, nil, fmt.Errorf("count address failures: %w", err)
	}
	if n >= s.cfg.AddressFailures {
		return 0, nil, errRateLimited("Too many failed sign-ins from this network; try again later.", s.cfg.AddressWindow)
	}
	if err := s.checkLock(ctx, identifier, now); err != nil {
		return 0, nil, err
	}

	hash := ""
	if a != nil {
		hash = a.PasswordHash
	}
	ok, err := s.verifyPassword(ctx, req.Password, hash)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, s.signInFailed(r, a, identifier, addrKey, errInvalidCredentials())
	}
	if a.TOTPEnabled {
		if strings.TrimSpace(req.TOTP) == "" {
			return 0, nil, &api.Error{
				Code:    api.CodeSecondFactorRequired,
				Field:   "totp",
				Message: "This account has two-step verification: enter the code of your authenticator app, or a recovery code.",
			}
		}
		ok, err := s.checkSecondFactor(ctx, a, req.TOTP)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			return 0, nil, s.signInFailed(r, a, identifier, addrKey, &api.Error{
				Code:    api.CodeSecondFactorRequired,
				Field:   "totp",
				Message: "The two-step verification code is wrong or was already used.",
			})
		}
	}
	if err := s.st.ClearFailures(ctx, identifier); err != nil {
		return 0, nil, fmt.Errorf("clear failures: %w", err)
	}
	s.upgradeHash(ctx, a, req.Password)
	sess, err := s.startSession(r, a, req.Device)
	if err != nil {
		return 0, nil, err
	}
	s.audit(r, a.MiID, sess.Device.ID, "sign_in", string(kind))
	return http.StatusCreated, sess, nil
}

// signInFailed counts a failed sign-in for the identifier and the client
// address, locks the identifier at the limit (answering 423 then) and
// otherwise answers fail.
func (s *Server) signInFailed(r *http.Request, a *store.Account, identifier, addrKey string, fail *api.Error) error {
	ctx := r.Context()
	now := s.now()
	if err := s.st.RecordFailure(ctx, addrKey, now); err != nil {
		return fmt.Errorf("record address failure: %w", err)
	}
	locked, err := s.recordFailure(ctx, identifier, now)
	if err != nil {
		return err
	}
	miID := ""
	if a != nil {
		miID = a.MiID
	}
	detail := maskIdentifier(identifier)
	s.audit(r, miID, "", "sign_in_failed", detail)
	if locked {
		s.audit(r, miID, "", "account_locked", detail)
		return errLocked(s.cfg.LockDuration)
	}
	return fail
}

// recordFailure counts a failure of key and locks key when it reaches
// SignInFailures within FailureWindow; it reports whether it locked.
func (s *Server) recordFailure(ctx context.Context, key string, now time.Time) (bool, error) {
	if err := s.st.RecordFailure(ctx, key, now); err != nil {
		return false, fmt.Errorf("record failure: %w", err)
	}
	n, err := s.st.Failures(ctx, key, windowStart(now, s.cfg.FailureWindow))
	if err != nil {
		return false, fmt.Errorf("count failures: %w", err)
	}
	if n < s.cfg.SignInFailures {
		return false, nil
	}
	if err := s.st.SetLock(ctx, key, now.Add(s.cfg.LockDuration)); err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	return true, nil
}

// checkLock answers 423 account_locked while key is locked.
func (s *Server) checkLock(ctx context.Context, key string, now time.Time) error {
	until, err := s.st.LockedUntil(ctx, key)
	if err != nil {
		return fmt.Errorf("read lock: %w", err)
	}
	if now.Before(until) {
		return errLocked(until.Sub(now))
	}
	return nil
}

// unlock clears the failures and locks of every identifier of a (after a
// completed password reset).
func (s *Server) unlock(ctx context.Context, a *store.Account) error {
	for _, key := range append(accountIdentifiers(a), "reauth:"+a.MiID) {
		if err := s.st.ClearFailures(ctx, key); err != nil {
			return fmt.Errorf("clear failures: %w", err)
		}
	}
	return nil
}

// resolveIdentifier parses what a person typed to name an account and looks
// the account up (nil when there is none). policy.ParseIdentifier reads 9 or
// 10 digits that are also a phone number of the region as a phone; when no
// account has that phone, they are tried as a Mi ID. The identifier returned
// is the key of the sign-in lock.
func (s *Server) resolveIdentifier(ctx context.Context, raw, region string) (policy.IdentifierKind, string, *store.Account, error) {
	kind, id, err := policy.ParseIdentifier(raw, region)
	if err != nil {
		return "", "", nil, identifierError("identifier", err)
	}
	a, err := s.accountByIdentifier(ctx, kind, id)
	if err != nil || a != nil || kind != policy.KindPhone {
		return kind, id, a, err
	}
	miID, err := policy.ParseMiID(raw)
	if err != nil {
		return kind, id, nil, nil // not digits that could be a Mi ID
	}
	if a, err = s.accountByIdentifier(ctx, policy.KindMiID, miID); err != nil || a == nil {
		return kind, id, nil, err
	}
	return policy.KindMiID, miID, a, nil
}

// accountByIdentifier looks an account up by a parsed identifier; nil when
// there is none.
func (s *Server) accountByIdentifier(ctx context.Context, kind policy.IdentifierKind, id string) (*store.Account, error) {
	var a *store.Account
	var err error
	switch kind {
	case policy.KindEmail:
		a, err = s.st.AccountByEmail(ctx, id)
	case policy.KindPhone:
		a, err = s.st.AccountByPhone(ctx, id)
	case policy.KindMiID:
		a, err = s.st.AccountByMiID(ctx, id)
	default:
		return nil, fmt.Errorf("identifier of unknown kind %q", kind)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up account: %w", err)
	}
	return a, nil
}

// upgradeHash rehashes the password of a with the configured parameters
// when its hash was made with others. A failure only delays the upgrade.
func (s *Server) upgradeHash(ctx context.Context, a *store.Account, password string) {
	p, err := policy.ParseArgon2(a.PasswordHash)
	if err == nil && p == s.cfg.Argon2 {
		return
	}
	h, err := s.hashPassword(ctx, password)
	if err == nil {
		a.PasswordHash = h
		err = s.st.UpdateAccount(ctx, a)
	}
	if err != nil {
		s.log.Warn("upgrade password hash", "mi_id", a.MiID, "err", err)
	}
}

// startSession links the device to a and opens a session on it: 30 days on
// a personal device, KioskIdle idle on a kiosk (X-Misetup-Kiosk present).
func (s *Server) startSession(r *http.Request, a *store.Account, d api.Device) (api.Session, error) {
	ctx := r.Context()
	now := s.now()
	dev := &store.Device{
		MiID:     a.MiID,
		ID:       d.ID,
		Name:     d.Name,
		Model:    d.Model,
		OS:       d.OS,
		LastSeen: &now,
	}
	if err := s.st.UpsertDevice(ctx, dev); err != nil {
		return api.Session{}, fmt.Errorf("link device: %w", err)
	}
	stored, err := s.st.Device(ctx, a.MiID, d.ID)
	if err != nil {
		return api.Session{}, fmt.Errorf("reload device: %w", err)
	}
	token, hash, err := policy.NewToken()
	if err != nil {
		return api.Session{}, fmt.Errorf("new token: %w", err)
	}
	sess := &store.Session{
		TokenHash:  hash,
		MiID:       a.MiID,
		DeviceID:   d.ID,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(s.cfg.SessionTTL),
	}
	if len(r.Header.Values(api.HeaderKiosk)) > 0 {
		sess.Kiosk, sess.StoreID = kioskHeaders(r)
		if sess.Kiosk == "" {
			sess.Kiosk = "unnamed"
		}
		sess.IdleTimeout = s.cfg.KioskIdle
		sess.ExpiresAt = now.Add(s.cfg.KioskSessionTTL)
	}
	if err := s.st.CreateSession(ctx, sess); err != nil {
		return api.Session{}, fmt.Errorf("create session: %w", err)
	}
	return api.Session{
		Token:     token,
		ExpiresAt: sess.ExpiresAt,
		Account:   s.accountView(a),
		Device:    deviceView(stored, d.ID),
	}, nil
}

// signOut answers DELETE /v1/sessions/current.
func (s *Server) signOut(r *http.Request, who *caller) (int, any, error) {
	if err := s.st.DeleteSession(r.Context(), who.tokenHash); err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, nil, fmt.Errorf("delete session: %w", err)
	}
	s.audit(r, who.account.MiID, who.session.DeviceID, "sign_out", "")
	return http.StatusNoContent, nil, nil
}

// maskIdentifier masks an identifier for the audit log.
func maskIdentifier(id string) string {
	switch {
	case strings.Contains(id, "@"):
		return policy.MaskEmail(id)
	case strings.HasPrefix(id, "+"):
		return policy.MaskPhone(id)
	}
	return id // a Mi ID is not personal contact data
}
