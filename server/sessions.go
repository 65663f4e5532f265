package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
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

// touchEvery is how often a session's last-used time is written: at most
// once a minute, so that a request on a session costs no write. A kiosk
// session's idle end is therefore known to the minute.
const touchEvery = time.Minute

// optionalCaller returns the caller of a request with a live session, nil
// for a request without one (no header, unknown token, ended session), and
// an error only when the store fails. It marks the session used, at most
// once a minute, and never fails the request for that.
func (s *Server) optionalCaller(r *http.Request) (*caller, error) {
	ctx := r.Context()
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" || len(token) > 256 {
		return nil, nil
	}
	hash := policy.HashToken(token)
	sess, a, err := s.st.SessionAccount(ctx, hash)
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
	if now.Sub(sess.LastUsedAt) >= touchEvery {
		if _, err := s.st.TouchSession(ctx, hash, now, now.Add(-touchEvery+time.Microsecond)); err != nil {
			s.log.Warn("touch session", "mi_id", a.MiID, "err", err)
		} else {
			sess.LastUsedAt = now
		}
	}
	return &caller{session: sess, tokenHash: hash, account: a}, nil
}

// signIn answers POST /v1/sessions. An unknown identifier and a wrong
// password get the same 401 after the same work; failures lock the
// identifier whether or not it has an account (see passwordSignIn).
func (s *Server) signIn(r *http.Request) (int, any, error) {
	var req api.SessionRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := checkSignInFields(req.Identifier, req.Password); err != nil {
		return 0, nil, err
	}
	if err := checkDevice(&req.Device, "device"); err != nil {
		return 0, nil, err
	}
	var sess api.Session
	err := s.passwordSignIn(r, req, func(ctx context.Context, tx store.Store, in signedIn) error {
		var err error
		if sess, err = s.startSession(tx, r, in.account, req.Device); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEvent(r, in.account.MiID, sess.Device.ID, "sign_in", string(in.kind)))
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, sess, nil
}

// checkSignInFields refuses a sign-in without an identifier or a password.
func checkSignInFields(identifier, password string) error {
	if strings.TrimSpace(identifier) == "" {
		return errInput("identifier", "Enter your email, phone number or Mi ID.")
	}
	if password == "" {
		return errInput("password", "Enter your password.")
	}
	return nil
}

// signedIn is who a sign-in's password (and second factor) proved the
// caller to be.
type signedIn struct {
	account *store.Account
	kind    policy.IdentifierKind // how the caller named the account
}

// passwordSignIn is the work of POST /v1/sessions on a decoded request
// whose fields checkSignInFields passed (its device is not used), shared
// with a sign-in hand-off: it checks the identifier's password and second
// factor, and on success runs done in the transaction that clears the
// identifier's failures, where the caller records what the sign-in gives
// (a session, or a hand-off done). Failures are *api.Errors for the client.
//
// The attempt is counted before the password is checked (a reservation in
// the store, decided in the transaction that records it), so that sign-ins
// arriving together can never pass the lock: of a burst, at most the
// attempts left before the lock get to the argon2 check. A right password
// gives its place back.
func (s *Server) passwordSignIn(r *http.Request, req api.SessionRequest, done func(ctx context.Context, tx store.Store, in signedIn) error) error {
	ctx := r.Context()
	region, err := s.region("region", req.Region)
	if err != nil {
		return err
	}
	kind, identifier, a, err := s.resolveIdentifier(ctx, req.Identifier, region)
	if err != nil {
		return err
	}

	addrKey := "addr:" + clientAddr(r)
	att, err := s.reserveAttempt(ctx, s.signInLimit(identifier), store.Limit{
		Key: addrKey, Max: s.cfg.AddressFailures, Window: s.cfg.AddressWindow,
	})
	if err != nil {
		return err
	}
	hash := ""
	if a != nil {
		hash = a.PasswordHash
	}
	ok, err := s.verifyPassword(ctx, req.Password, hash)
	if err != nil {
		att.release(s)
		return err
	}
	if !ok {
		return s.signInFailed(r, a, identifier, att, errInvalidCredentials())
	}
	if a.TOTPEnabled {
		if strings.TrimSpace(req.TOTP) == "" {
			att.release(s) // the password was right: not a failure
			return &api.Error{
				Code:    api.CodeSecondFactorRequired,
				Field:   "totp",
				Message: "This account has two-step verification: enter the code of your authenticator app, or a recovery code.",
			}
		}
		ok, err := s.checkSecondFactor(ctx, a, req.TOTP)
		if err != nil {
			att.release(s)
			return err
		}
		if !ok {
			return s.signInFailed(r, a, identifier, att, &api.Error{
				Code:    api.CodeSecondFactorRequired,
				Field:   "totp",
				Message: "The two-step verification code is wrong or was already used.",
			})
		}
	}
	s.upgradeHash(ctx, a, req.Password)
	return s.st.InTx(ctx, func(tx store.Store) error {
		if err := tx.ClearFailures(ctx, identifier); err != nil {
			return fmt.Errorf("clear failures: %w", err)
		}
		if err := tx.ReleaseAttempt(ctx, addrKey, att.ref); err != nil {
			return fmt.Errorf("release attempt: %w", err)
		}
		return done(ctx, tx, signedIn{account: a, kind: kind})
	})
}

// signInLimit is the lock of an identifier's failed sign-ins.
func (s *Server) signInLimit(key string) store.Limit {
	return store.Limit{Key: key, Max: s.cfg.SignInFailures, Window: s.cfg.FailureWindow, Lock: s.cfg.LockDuration}
}

// attempt is a place taken in the counts of failed attempts (see
// reserveAttempt): a failure unless given back.
type attempt struct {
	ref    string
	keys   []string
	locked []string // keys this attempt locked, were it a failure
}

// reserveAttempt counts an attempt against limits before the work it
// allows, answering 423 account_locked (a lock) or 429 rate_limited (a
// rate) when a limit refuses it.
func (s *Server) reserveAttempt(ctx context.Context, limits ...store.Limit) (*attempt, error) {
	ref, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.now()
	locked, err := s.st.ReserveAttempt(ctx, ref, now, limits...)
	var refused *store.Refusal
	if errors.As(err, &refused) {
		if refused.Locked {
			return nil, errLocked(refused.Until.Sub(now))
		}
		return nil, errRateLimited("Too many failed sign-ins from this network; try again later.", refused.Until.Sub(now))
	}
	if err != nil {
		return nil, fmt.Errorf("reserve attempt: %w", err)
	}
	a := &attempt{ref: ref, locked: locked}
	for _, l := range limits {
		a.keys = append(a.keys, l.Key)
	}
	return a, nil
}

// release gives the attempt's places back (the attempt was no failure).
// It runs even when the request's context is done, and only logs a failure:
// the place then counts as a failure, which errs on the safe side.
func (a *attempt) release(s *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, k := range a.keys {
		if err := s.st.ReleaseAttempt(ctx, k, a.ref); err != nil {
			s.log.Warn("release attempt", "err", err)
		}
	}
}

// lockedKey reports whether the attempt locked key.
func (a *attempt) lockedKey(key string) bool { return slices.Contains(a.locked, key) }

// signInFailed records a failed sign-in in the audit log (the attempt
// itself counted when it was reserved) and answers 423 when that attempt
// locked the identifier, otherwise fail.
func (s *Server) signInFailed(r *http.Request, a *store.Account, identifier string, att *attempt, fail *api.Error) error {
	miID := ""
	if a != nil {
		miID = a.MiID
	}
	detail := maskIdentifier(identifier)
	s.audit(r, miID, "", "sign_in_failed", detail)
	if att.lockedKey(identifier) {
		s.audit(r, miID, "", "account_locked", detail)
		return errLocked(s.cfg.LockDuration)
	}
	return fail
}

// unlock clears the failures and locks of every identifier of a (after a
// completed password reset), in st.
func (s *Server) unlock(ctx context.Context, st store.Store, a *store.Account) error {
	for _, key := range append(accountIdentifiers(a), "reauth:"+a.MiID) {
		if err := st.ClearFailures(ctx, key); err != nil {
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
		// Only over the hash just checked: a password changed meanwhile stays.
		err = s.st.PatchAccount(ctx, a.MiID, store.AccountPatch{PasswordHash: &h, IfPasswordHash: &a.PasswordHash})
	}
	if err == nil {
		a.PasswordHash = h
	} else if !errors.Is(err, store.ErrStale) {
		s.log.Warn("upgrade password hash", "mi_id", a.MiID, "err", err)
	}
}

// startSession links the device to a and opens a session on it, in st: 30
// days on a personal device, KioskIdle idle on a kiosk (X-Misetup-Kiosk
// present).
func (s *Server) startSession(st store.Store, r *http.Request, a *store.Account, d api.Device) (api.Session, error) {
	return s.openSession(r.Context(), st, a, d, kioskOf(r))
}

// kioskIDs name the kiosk a session is opened on; the zero value is a
// personal device.
type kioskIDs struct {
	kiosk, storeID string // kiosk is never "" for a kiosk
}

// kioskOf is the kiosk that sent r (X-Misetup-Kiosk present, "unnamed" when
// empty), or none.
func kioskOf(r *http.Request) kioskIDs {
	if len(r.Header.Values(api.HeaderKiosk)) == 0 {
		return kioskIDs{}
	}
	k, st := kioskHeaders(r)
	if k == "" {
		k = "unnamed"
	}
	return kioskIDs{kiosk: k, storeID: st}
}

// openSession is startSession for the kiosk k (the zero kioskIDs for a
// personal device).
func (s *Server) openSession(ctx context.Context, st store.Store, a *store.Account, d api.Device, k kioskIDs) (api.Session, error) {
	now := s.now()
	dev := &store.Device{
		MiID:     a.MiID,
		ID:       d.ID,
		Name:     d.Name,
		Model:    d.Model,
		OS:       d.OS,
		LastSeen: &now,
	}
	if err := st.UpsertDevice(ctx, dev); err != nil {
		return api.Session{}, fmt.Errorf("link device: %w", err)
	}
	stored, err := st.Device(ctx, a.MiID, d.ID)
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
	if k.kiosk != "" {
		sess.Kiosk, sess.StoreID = k.kiosk, k.storeID
		sess.IdleTimeout = s.cfg.KioskIdle
		sess.ExpiresAt = now.Add(s.cfg.KioskSessionTTL)
	}
	if err := st.CreateSession(ctx, sess); err != nil {
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
