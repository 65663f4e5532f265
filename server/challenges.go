package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"misetup/api"
	"misetup/server/courier"
	"misetup/server/policy"
	"misetup/server/store"
)

// payload is what a challenge carries until it is verified, stored as JSON
// in store.Challenge.Payload. Never a plain password or code.
type payload struct {
	Method       string `json:"method,omitempty"`        // registration: email or phone
	PasswordHash string `json:"password_hash,omitempty"` // registration: argon2id of the chosen password
	Region       string `json:"region,omitempty"`
	Language     string `json:"language,omitempty"` // of the messages
	// Phantom marks a password reset for no account: its code hash is
	// random, so no code verifies it, yet it answers like any other.
	Phantom bool `json:"phantom,omitempty"`
	// Decoy marks a phantom with no destination at all (a Mi ID or a
	// recovery contact that does not exist): nothing is sent.
	Decoy bool `json:"decoy,omitempty"`
	// Hidden marks a destination the requester did not type (a reset by
	// Mi ID, or to a recovery contact): the answer shows only its channel,
	// so that it tells nothing of which address an account has, or whether
	// it has one.
	Hidden bool `json:"hidden,omitempty"`
	// QuotaKey is what the sends of the challenge count against when it is
	// not the destination: the identifier typed for a hidden destination,
	// so that the rate of an address never shows whether a Mi ID uses it.
	QuotaKey string `json:"quota_key,omitempty"`
}

// quotaKey is what the sends of a challenge to destination count against.
func (p payload) quotaKey(destination string) string {
	if p.QuotaKey != "" {
		return p.QuotaKey
	}
	return destination
}

// issue describes a challenge to create and send.
type issue struct {
	purpose     string
	channel     string
	destination string // normalised email or E.164
	miID        string // "" for registrations and phantoms
	payload     payload
}

// newID returns a random 128-bit id, hex.
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// sendLimit is the rate of codes to one destination (or quota key).
func (s *Server) sendLimit(key string) store.Limit {
	return store.Limit{Key: key, Max: s.cfg.SendsPerWindow, Window: s.cfg.SendWindow}
}

// reserveSend takes a place in the send rate of key before the work that
// leads to a send, and returns its reference for issueChallenge (or
// releaseSend when no code goes out after all). Over the rate it answers
// 429 rate_limited with when the next send is allowed. The store decides in
// the transaction that records the place, so requests arriving together
// never send more than the rate.
func (s *Server) reserveSend(ctx context.Context, st store.Store, key string) (string, error) {
	ref, err := newID()
	if err != nil {
		return "", err
	}
	now := s.now()
	err = st.ReserveSend(ctx, ref, now, s.sendLimit(key))
	var refused *store.Refusal
	if errors.As(err, &refused) {
		return "", errRateLimited(
			fmt.Sprintf("Too many codes were sent to this address in the last %s; wait before asking for another.", s.cfg.SendWindow),
			refused.Until.Sub(now))
	}
	if err != nil {
		return "", fmt.Errorf("reserve send: %w", err)
	}
	return ref, nil
}

// releaseSend gives back a send place no code used.
func (s *Server) releaseSend(key, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.st.ReleaseSend(ctx, key, ref); err != nil {
		s.log.Warn("release send", "err", err)
	}
}

// inTx runs fn in one transaction of the store. An *api.Error from fn is
// an answer, not a failure: what fn wrote before it is committed (a wrong
// code spends its attempt) and the error is returned after the commit. Any
// other error rolls everything back.
func (s *Server) inTx(ctx context.Context, fn func(tx store.Store) error) error {
	var answer error
	err := s.st.InTx(ctx, func(tx store.Store) error {
		answer = nil
		err := fn(tx)
		var ae *api.Error
		if errors.As(err, &ae) {
			answer = err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return answer
}

// newCode returns a fresh code and its keyed hash, bound to the challenge's
// id, purpose and destination. A phantom gets a random hash no code matches
// (the code is still drawn, so both cost the same).
func (s *Server) newCode(id, purpose, destination string, phantom bool) (code string, hash []byte, err error) {
	code, err = policy.NewCode(s.cfg.CodeDigits)
	if err != nil {
		return "", nil, fmt.Errorf("new code: %w", err)
	}
	hash = policy.CodeHash(s.cfg.Keys.HMAC, id, purpose, destination, code)
	if phantom {
		if _, err := rand.Read(hash); err != nil {
			return "", nil, fmt.Errorf("phantom hash: %w", err)
		}
	}
	return code, hash, nil
}

// issueChallenge creates a challenge and hands its code to the courier.
// The caller has reserved the send under sendRef (reserveSend); when no
// challenge comes of it the place is given back.
func (s *Server) issueChallenge(ctx context.Context, in issue, sendRef string) (c *store.Challenge, err error) {
	defer func() {
		if err != nil {
			s.releaseSend(in.payload.quotaKey(in.destination), sendRef)
		}
	}()
	now := s.now()
	id, err := newID()
	if err != nil {
		return nil, err
	}
	code, hash, err := s.newCode(id, in.purpose, in.destination, in.payload.Phantom)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(in.payload)
	if err != nil {
		return nil, fmt.Errorf("challenge payload: %w", err)
	}
	c = &store.Challenge{
		ID:            id,
		Purpose:       in.purpose,
		Channel:       in.channel,
		Destination:   in.destination,
		MiID:          in.miID,
		CodeHash:      hash,
		Payload:       string(raw),
		State:         api.ChallengePending,
		AttemptsLeft:  s.cfg.CodeAttempts,
		Sends:         1,
		ExpiresAt:     now.Add(s.cfg.CodeTTL),
		ResendAfter:   now.Add(s.cfg.ResendCooldown),
		CreatedAt:     now,
		DeliveryState: api.DeliveryQueued,
	}
	if err := s.st.CreateChallenge(ctx, c); err != nil {
		return nil, fmt.Errorf("create challenge: %w", err)
	}
	if err := s.send(ctx, c, in.payload, code); err != nil {
		return nil, err
	}
	return c, nil
}

// send composes the message of c's code and delivers it in the background.
func (s *Server) send(ctx context.Context, c *store.Challenge, p payload, code string) error {
	if p.Decoy {
		s.deliver(c.ID, nil)
		return nil
	}
	var kind messageKind
	switch c.Purpose {
	case api.PurposeRegistration:
		// The same lookup for a free and a taken identifier: only the text
		// differs, and only the owner of the address reads it.
		taken, err := identifierTaken(ctx, s.st, c.Channel, c.Destination)
		if err != nil {
			return err
		}
		kind = msgRegistration
		if taken {
			kind = msgRegistrationTaken
		}
	case api.PurposePasswordReset:
		kind = msgReset
		if p.Phantom {
			kind = msgResetNoAccount
		}
	case api.PurposeRecovery:
		kind = msgRecovery
	default:
		return fmt.Errorf("send: no message for purpose %q", c.Purpose)
	}
	m := s.composeMessage(kind, p.Language, c.Channel, c.Destination, code, c.MiID)
	s.deliver(c.ID, &m)
	return nil
}

// deliver sends m (nil: a decoy, nothing to send) in the background and
// stores the outcome on the challenge: sent and when, or failed with the
// courier's error. Close waits for deliveries in flight.
func (s *Server) deliver(challengeID string, m *courier.Message) {
	run := func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DeliveryTimeout)
		var err error
		if m != nil {
			err = s.courier.Send(ctx, *m)
		}
		cancel()
		state, text := api.DeliverySent, ""
		if err != nil {
			state, text = api.DeliveryFailed, deliveryError(err)
			s.log.Warn("delivery failed", "challenge", challengeID, "channel", m.Channel, "err", err)
		}
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := s.st.SetDelivery(sctx, challengeID, state, s.now(), text); err != nil {
			s.log.Error("store delivery state", "challenge", challengeID, "state", state, "err", err)
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		run() // after Close nobody waits for the background: finish before answering
		return
	}
	s.deliveries.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.deliveries.Done()
		run()
	}()
}

// deliveryError is the courier's error as stored and shown: sanitized and
// at most 300 bytes.
func deliveryError(err error) string {
	text := policy.Sanitize(err.Error())
	if len(text) > 300 {
		text = strings.ToValidUTF8(text[:300], "") + "…"
	}
	return text
}

// identifierTaken reports whether an account in st uses the email or phone.
func identifierTaken(ctx context.Context, st store.Store, channel, destination string) (bool, error) {
	var err error
	if channel == api.ChannelSMS {
		_, err = st.AccountByPhone(ctx, destination)
	} else {
		_, err = st.AccountByEmail(ctx, destination)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("look up %s: %w", channel, err)
}

// challengeView is a challenge as the API shows it: the destination masked,
// a pending challenge past its expiry shown as expired.
func (s *Server) challengeView(c *store.Challenge) api.Challenge {
	state := c.State
	if state == api.ChallengePending && !s.now().Before(c.ExpiresAt) {
		state = api.ChallengeExpired
	}
	dest := policy.MaskEmail(c.Destination)
	if c.Channel == api.ChannelSMS {
		dest = policy.MaskPhone(c.Destination)
	}
	var p payload
	if json.Unmarshal([]byte(c.Payload), &p) != nil || p.Hidden {
		dest = policy.MaskHidden(c.Channel)
	}
	v := api.Challenge{
		ID:           c.ID,
		Purpose:      c.Purpose,
		Channel:      c.Channel,
		Destination:  dest,
		State:        state,
		Delivery:     api.Delivery{State: c.DeliveryState, Error: policy.Sanitize(c.DeliveryError)},
		AttemptsLeft: c.AttemptsLeft,
		ExpiresAt:    c.ExpiresAt.UTC(),
		ResendAfter:  c.ResendAfter.UTC(),
		CreatedAt:    c.CreatedAt.UTC(),
	}
	if c.DeliveryAt != nil {
		at := c.DeliveryAt.UTC()
		v.Delivery.At = &at
	}
	return v
}

// challenge loads the challenge of the request's {id}. A recovery challenge
// belongs to an account: only a session of that account sees it, everyone
// else gets 404 as if it did not exist.
func (s *Server) challenge(r *http.Request) (*store.Challenge, *caller, error) {
	id := r.PathValue("id")
	if len(id) > 64 {
		return nil, nil, errNotFound("challenge")
	}
	c, err := s.st.Challenge(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errNotFound("challenge")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load challenge: %w", err)
	}
	var who *caller
	if c.Purpose == api.PurposeRecovery {
		who, err = s.optionalCaller(r)
		if err != nil {
			return nil, nil, err
		}
		if who == nil || who.account.MiID != c.MiID {
			return nil, nil, errNotFound("challenge")
		}
	}
	return c, who, nil
}

// getChallenge answers GET /v1/challenges/{id}.
func (s *Server) getChallenge(r *http.Request) (int, any, error) {
	c, _, err := s.challenge(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.challengeView(c), nil
}

// resendChallenge answers POST /v1/challenges/{id}/resend: a new code, no
// sooner than ResendCooldown after the last and within the hourly rate of
// its destination. Both rules are decided in one transaction with the
// challenge locked, so of resends arriving together one sends.
func (s *Server) resendChallenge(r *http.Request) (int, any, error) {
	ctx := r.Context()
	c, _, err := s.challenge(r)
	if err != nil {
		return 0, nil, err
	}
	var (
		p    payload
		code string
	)
	err = s.inTx(ctx, func(tx store.Store) error {
		now := s.now()
		cur, err := tx.LockChallenge(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("lock challenge: %w", err)
		}
		switch cur.State {
		case api.ChallengeVerified:
			return &api.Error{Code: api.CodeCodeExpired, Message: "This code was already used; nothing to resend."}
		case api.ChallengeDead:
			return &api.Error{Code: api.CodeTooManyAttempts, AttemptsLeft: intp(0), Message: "Too many wrong codes: start again."}
		case api.ChallengeExpired, api.ChallengePending:
			// An expired code may be replaced by a new one.
		default:
			return fmt.Errorf("challenge %s in unknown state %q", cur.ID, cur.State)
		}
		if now.Before(cur.ResendAfter) {
			return errRateLimited("A code was sent a moment ago; wait before asking for another.", cur.ResendAfter.Sub(now))
		}
		if err := json.Unmarshal([]byte(cur.Payload), &p); err != nil {
			return fmt.Errorf("challenge %s payload: %w", cur.ID, err)
		}
		if _, err := s.reserveSend(ctx, tx, p.quotaKey(cur.Destination)); err != nil {
			return err
		}
		var hash []byte
		if code, hash, err = s.newCode(cur.ID, cur.Purpose, cur.Destination, p.Phantom); err != nil {
			return err
		}
		err = tx.RenewChallengeCode(ctx, cur.ID, hash, s.cfg.CodeAttempts, now.Add(s.cfg.CodeTTL), now.Add(s.cfg.ResendCooldown))
		if err != nil {
			return fmt.Errorf("renew code: %w", err)
		}
		c, err = tx.Challenge(ctx, cur.ID)
		if err != nil {
			return fmt.Errorf("reload challenge: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if p.Language == "" {
		p.Language = requestLanguage(r)
	}
	if err := s.send(ctx, c, p, code); err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.challengeView(c), nil
}

// verifyChallenge answers POST /v1/challenges/{id}/verify. It checks the
// request for the challenge's purpose first (so bad input never spends the
// code), then the code, then completes the purpose.
func (s *Server) verifyChallenge(r *http.Request) (int, any, error) {
	c, who, err := s.challenge(r)
	if err != nil {
		return 0, nil, err
	}
	var req api.VerifyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := s.checkCodeFormat(req.Code); err != nil {
		return 0, nil, err
	}
	if c.Purpose != api.PurposePasswordReset && req.NewPassword != "" {
		return 0, nil, errInput("new_password", "new_password only goes with a password reset; this challenge is a %s.", c.Purpose)
	}
	if c.Purpose != api.PurposeRegistration && req.Device != nil {
		return 0, nil, errInput("device", "device only goes with a registration; this challenge is a %s.", c.Purpose)
	}
	var p payload
	if err := json.Unmarshal([]byte(c.Payload), &p); err != nil {
		return 0, nil, fmt.Errorf("challenge %s payload: %w", c.ID, err)
	}
	switch c.Purpose {
	case api.PurposeRegistration:
		return s.completeRegistration(r, c, p, req)
	case api.PurposePasswordReset:
		return s.completePasswordReset(r, c, p, req)
	case api.PurposeRecovery:
		return s.completeRecovery(r, c, who, req)
	}
	return 0, nil, errInput("", "A %s challenge cannot be verified here.", c.Purpose)
}

// checkCodeFormat refuses a code that cannot be one (no attempt is spent).
func (s *Server) checkCodeFormat(code string) error {
	if code == "" {
		return errInput("code", "Enter the code that was sent to you.")
	}
	if len(code) != s.cfg.CodeDigits || strings.Trim(code, "0123456789") != "" {
		return errInput("code", "The code is %d digits.", s.cfg.CodeDigits)
	}
	return nil
}

// useCode checks code against the challenge id and, when right, consumes
// it, in the transaction tx: the challenge is locked from the read to the
// write, so of verifies arriving together each sees the attempts the others
// left, and one consumes. A wrong code spends an attempt (committed with
// the answer); the last one kills the challenge.
func (s *Server) useCode(ctx context.Context, tx store.Store, id, code string) (*store.Challenge, error) {
	now := s.now()
	c, err := tx.LockChallenge(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("challenge")
	}
	if err != nil {
		return nil, fmt.Errorf("lock challenge: %w", err)
	}
	if err := challengeStateError(c.State); err != nil {
		return nil, err
	}
	if !now.Before(c.ExpiresAt) {
		if err := tx.SetChallengeState(ctx, c.ID, api.ChallengeExpired); err != nil {
			return nil, fmt.Errorf("expire challenge: %w", err)
		}
		return nil, challengeStateError(api.ChallengeExpired)
	}
	want := policy.CodeHash(s.cfg.Keys.HMAC, c.ID, c.Purpose, c.Destination, code)
	if !hmac.Equal(want, c.CodeHash) {
		left, state, err := tx.SpendAttempt(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("spend attempt: %w", err)
		}
		if state != api.ChallengePending || left <= 0 {
			if err := challengeStateError(state); err != nil {
				return nil, err
			}
			return nil, challengeStateError(api.ChallengeDead)
		}
		return nil, &api.Error{Code: api.CodeInvalidCode, Field: "code", AttemptsLeft: intp(left), Message: "The code is wrong."}
	}
	ok, err := tx.ConsumeChallenge(ctx, c.ID, now)
	if err != nil {
		return nil, fmt.Errorf("consume challenge: %w", err)
	}
	if !ok { // the lock makes this unreachable: the state was just read
		return nil, fmt.Errorf("challenge %s changed while locked", c.ID)
	}
	return c, nil
}

// challengeStateError is the answer to a code for a challenge in state
// (nil for pending).
func challengeStateError(state string) error {
	switch state {
	case api.ChallengePending:
		return nil
	case api.ChallengeVerified:
		return &api.Error{Code: api.CodeCodeExpired, Message: "This code was already used. Ask for a new one if you need it."}
	case api.ChallengeDead:
		return &api.Error{Code: api.CodeTooManyAttempts, AttemptsLeft: intp(0), Message: "Too many wrong codes: this code no longer works. Start again."}
	}
	return &api.Error{Code: api.CodeCodeExpired, Message: "The code has expired. Ask for a new one."}
}
