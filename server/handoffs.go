package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// A hand-off keeps a customer's password off a shared kiosk. The kiosk asks
// for one (POST /v1/handoffs) and shows its link as a QR code; the customer
// opens the link on their own phone, where the web portal draws a form
// (GET /v1/handoffs/link/{token}) and submits what they type
// (POST /v1/handoffs/link/{token}); the kiosk, polling with the hand-off's
// id (GET /v1/handoffs/{id}), goes on: a registration to the code step of
// the challenge it started, a sign-in signed in, its session opened on the
// kiosk's device when the kiosk collects it.
//
// The id (the kiosk's) and the link's token (the phone's) are two separate
// 256-bit secrets, stored only as keyed hashes. The link is used once: a
// submission claims it in the store, in the one conditional UPDATE that
// records the claim, before its slow work (an argon2 hash); a mistake the
// customer can correct gives it back, success makes it done. A claim holds
// for HandoffClaim only, so a process that dies mid-submission does not
// hold the link until it expires. A sign-in's session is opened by the
// first GET that finds it done, in the transaction that marks it
// collected: of two GETs at once, one gets the session.

// handoffWaitMax is the longest wait (wait=N) a kiosk may ask for when it
// long-polls its hand-off: under the 30 s after which proxies commonly give
// up on an answer.
const handoffWaitMax = 25 * time.Second

// maxHandoffSecret bounds an id or a link token in a path before it is
// hashed; ours have 43 (an id) and 22 (a link) characters.
const maxHandoffSecret = 64

// createHandoff answers POST /v1/handoffs: a new hand-off and its link, for
// a kiosk that is not signed in. Without a public URL there is no address a
// phone could open: 404 handoff_unavailable.
func (s *Server) createHandoff(r *http.Request) (int, any, error) {
	ctx := r.Context()
	if s.cfg.PublicURL == "" {
		return 0, nil, &api.Error{
			Code:    api.CodeHandoffUnavailable,
			Message: "This service has no public address, so a phone cannot reach it; set public_url.",
		}
	}
	var req api.HandoffRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := checkHandoffRequest(&req); err != nil {
		return 0, nil, err
	}
	id, err := policy.NewSecret()
	if err != nil {
		return 0, nil, err
	}
	token, err := policy.NewLinkToken()
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	k := kioskOf(r)
	h := &store.Handoff{
		IDHash:      s.handoffHash("id", id),
		LinkHash:    s.handoffHash("link", token),
		Purpose:     req.Purpose,
		State:       api.HandoffOpen,
		Region:      req.Region,
		Language:    req.Language,
		DeviceID:    req.Device.ID,
		DeviceName:  req.Device.Name,
		DeviceModel: req.Device.Model,
		DeviceOS:    req.Device.OS,
		Kiosk:       k.kiosk,
		StoreID:     k.storeID,
		CreatedAt:   now,
		ExpiresAt:   now.Add(s.cfg.HandoffTTL),
	}
	// A ceiling per client address against floods, decided in the store
	// as the send rates are; a place a failed creation took is given back.
	limit := store.Limit{Key: "handoff:" + clientAddr(r), Max: s.cfg.HandoffsPerAddress, Window: time.Hour}
	ref, err := policy.NewSecret()
	if err != nil {
		return 0, nil, err
	}
	err = s.st.ReserveSend(ctx, ref, now, limit)
	var refused *store.Refusal
	if errors.As(err, &refused) {
		return 0, nil, errRateLimited("Too many hand-offs were made from this address in the last hour; type the details on the kiosk.", refused.Until.Sub(now))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reserve handoff: %w", err)
	}
	err = s.st.InTx(ctx, func(tx store.Store) error {
		if err := tx.CreateHandoff(ctx, h); err != nil {
			return fmt.Errorf("create handoff: %w", err)
		}
		// Hand-offs an hour past their end are of no use to anyone.
		if _, err := tx.PurgeHandoffs(ctx, now.Add(-time.Hour)); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEvent(r, "", h.DeviceID, "handoff_created", h.Purpose))
	})
	if err != nil {
		s.releaseSend(limit.Key, ref)
		return 0, nil, err
	}
	v := s.handoffView(h, id)
	v.URL = s.cfg.PublicURL + "/h/" + token
	return http.StatusCreated, v, nil
}

// checkHandoffRequest checks the body of POST /v1/handoffs and cleans it:
// a sign-in's device as a sign-in's, a registration's device dropped (it
// names its device when its code is verified), the region upper-cased.
func checkHandoffRequest(req *api.HandoffRequest) error {
	switch req.Purpose {
	case api.PurposeRegistration:
		req.Device = api.Device{}
	case api.PurposeSignIn:
		if err := checkDevice(&req.Device, "device"); err != nil {
			return err
		}
	case "":
		return errInput("purpose", "Choose a purpose: registration or sign_in.")
	default:
		return errInput("purpose", "The purpose must be registration or sign_in.")
	}
	var err error
	if req.Region, err = checkRegion("region", req.Region); err != nil {
		return err
	}
	req.Language, err = checkLanguage("language", req.Language)
	return err
}

// getHandoff answers GET /v1/handoffs/{id}[?wait=N], the kiosk's poll. A
// done registration shows its challenge; a done sign-in is collected: this
// answer carries its session, on the kiosk's device, and every later one
// shows it collected. With wait=N an open or claimed hand-off is answered
// when its state changes, or after N seconds as it is.
func (s *Server) getHandoff(r *http.Request) (int, any, error) {
	ctx := r.Context()
	id := r.PathValue("id")
	if len(id) > maxHandoffSecret {
		return 0, nil, errNotFound("hand-off")
	}
	h, err := s.handoff(ctx, s.handoffHash("id", id))
	if err != nil {
		return 0, nil, err
	}
	wait, err := waitParam(r, handoffWaitMax)
	if err != nil {
		return 0, nil, err
	}
	if st := s.handoffState(h); wait > 0 && (st == api.HandoffOpen || st == api.HandoffClaimed) {
		if h, err = s.waitHandoff(r, h, wait); err != nil {
			return 0, nil, err
		}
	}
	v := s.handoffView(h, id)
	if v.State != api.HandoffDone {
		return http.StatusOK, v, nil
	}
	if h.Purpose == api.PurposeSignIn {
		return s.collectHandoff(r, h, id)
	}
	c, err := s.st.Challenge(ctx, h.ChallengeID)
	if err != nil {
		return 0, nil, fmt.Errorf("load handoff challenge: %w", err)
	}
	cv := s.challengeView(c)
	v.Challenge = &cv
	return http.StatusOK, v, nil
}

// collectHandoff opens the session of a done sign-in hand-off on the
// kiosk's device, in the transaction that moves it to collected: of
// several GETs at once exactly one opens it, the others find it collected.
// The session follows the kiosk's rules when the hand-off was asked for by
// a kiosk or this request comes from one.
func (s *Server) collectHandoff(r *http.Request, h *store.Handoff, id string) (int, any, error) {
	ctx := r.Context()
	k := kioskOf(r)
	if k.kiosk == "" && h.Kiosk != "" {
		k = kioskIDs{kiosk: h.Kiosk, storeID: h.StoreID}
	}
	var sess *api.Session
	now := s.now()
	err := s.st.InTx(ctx, func(tx store.Store) error {
		sess = nil
		ok, err := tx.CollectHandoff(ctx, h.IDHash, now)
		if err != nil {
			return fmt.Errorf("collect handoff: %w", err)
		}
		if !ok {
			return nil
		}
		a, err := tx.AccountByMiID(ctx, h.MiID)
		if err != nil {
			return fmt.Errorf("handoff account: %w", err)
		}
		d := api.Device{ID: h.DeviceID, Name: h.DeviceName, Model: h.DeviceModel, OS: h.DeviceOS}
		opened, err := s.openSession(ctx, tx, a, d, k)
		if err != nil {
			return err
		}
		sess = &opened
		e := s.handoffAudit(r, h, a.MiID, "handoff_collected", h.Purpose+" "+h.Method)
		return tx.Audit(ctx, e)
	})
	if err != nil {
		return 0, nil, err
	}
	if sess == nil {
		// Another request collected it (or its time ran out) meanwhile.
		cur, err := s.handoff(ctx, h.IDHash)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.handoffView(cur, id), nil
	}
	h.State, h.CollectedAt = api.HandoffCollected, &now
	v := s.handoffView(h, id)
	v.Session = sess
	return http.StatusOK, v, nil
}

// waitHandoff is the kiosk's long poll: it returns the hand-off once its
// state differs from h's, or as it is after wait. It wakes at once for a
// change made in this process, and looks at the store every
// CommandPollEvery for one made by another process on it (or for the
// expiry); between looks it holds no store connection.
func (s *Server) waitHandoff(r *http.Request, h *store.Handoff, wait time.Duration) (*store.Handoff, error) {
	ctx := r.Context()
	s.extendDeadlines(ctx, wait)
	from := s.handoffState(h)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(s.cfg.CommandPollEvery)
	defer tick.Stop()
	for {
		// Listen before looking, so a change between the look and the wait
		// is not missed.
		bell, done := s.handoffBells.wait(h.IDHash)
		cur, again, err := s.handoffRound(ctx, h.IDHash, from, bell, tick.C, deadline.C)
		done()
		if cur != nil {
			h = cur
		}
		if !again {
			return h, err
		}
	}
}

// handoffRound is one round of waitHandoff: it reads the hand-off and,
// while its state is still from, waits for the bell or the next tick
// (again) or the end of the wait.
func (s *Server) handoffRound(ctx context.Context, idHash, from string, bell <-chan struct{}, tick, deadline <-chan time.Time) (h *store.Handoff, again bool, err error) {
	if h, err = s.handoff(ctx, idHash); err != nil || s.handoffState(h) != from {
		return h, false, err
	}
	select {
	case <-bell:
		return h, true, nil
	case <-tick:
		return h, true, nil
	case <-deadline:
		return h, false, nil
	case <-s.quit:
		return h, false, nil
	case <-ctx.Done():
		return h, false, ctx.Err()
	}
}

// getHandoffLink answers GET /v1/handoffs/link/{token}: what the phone page
// needs to draw its form. A link used or expired is 410.
func (s *Server) getHandoffLink(r *http.Request) (int, any, error) {
	h, err := s.handoffOfLink(r)
	if err != nil {
		return 0, nil, err
	}
	state := s.handoffState(h)
	if err := linkStateError(state); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, linkView(h, state), nil
}

// completeHandoff answers POST /v1/handoffs/link/{token}: the customer's
// submission from their phone. It does what POST /v1/registrations or POST
// /v1/sessions does, with their code, but a sign-in opens no session here:
// the hand-off records the account, and the kiosk's poll opens it. The
// link is claimed before the work, in the store; an error gives it back so
// that the customer can correct what they typed, success makes it done.
func (s *Server) completeHandoff(r *http.Request) (int, any, error) {
	ctx := r.Context()
	h, err := s.handoffOfLink(r)
	if err != nil {
		return 0, nil, err
	}
	if err := submitStateError(s.handoffState(h)); err != nil {
		return 0, nil, err
	}
	var req api.HandoffCompletion
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := checkCompletion(h.Purpose, &req); err != nil {
		return 0, nil, err
	}
	ref, err := newID()
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	ok, err := s.st.ClaimHandoff(ctx, h.LinkHash, ref, now, now.Add(s.cfg.HandoffClaim))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errNotFound("link")
	}
	if err != nil {
		return 0, nil, fmt.Errorf("claim handoff: %w", err)
	}
	if !ok {
		// Another submission came first, or the link expired meanwhile.
		cur, err := s.handoffOfLink(r)
		if err != nil {
			return 0, nil, err
		}
		if err := submitStateError(s.handoffState(cur)); err != nil {
			return 0, nil, err
		}
		return 0, nil, errHandoffBusy()
	}
	s.handoffBells.ring(h.IDHash) // the kiosk shows that the phone is submitting

	expires, err := s.submitHandoff(r, h, ref, req)
	if err != nil {
		s.releaseHandoff(h, ref)
		return 0, nil, err
	}
	s.handoffBells.ring(h.IDHash)
	h.ExpiresAt = expires
	return http.StatusOK, linkView(h, api.HandoffDone), nil
}

// checkCompletion refuses fields that do not go with the hand-off's
// purpose, and a sign-in without its identifier or password (a
// registration's fields are checked as POST /v1/registrations checks
// them).
func checkCompletion(purpose string, req *api.HandoffCompletion) error {
	switch purpose {
	case api.PurposeRegistration:
		if req.TOTP != "" {
			return errInput("totp", "totp only goes with a sign-in; this link is for creating an account.")
		}
	case api.PurposeSignIn:
		if req.Method != "" {
			return errInput("method", "method only goes with creating an account; this link is for signing in.")
		}
		return checkSignInFields(req.Identifier, req.Password)
	}
	return nil
}

// submitHandoff does the work of a submission whose claim (under ref) is
// held and records its result, making the hand-off done; it returns the
// end of the kiosk's time to collect it. A registration starts as POST
// /v1/registrations does, with the hand-off's region and language; a
// sign-in checks the password (and the second factor) as POST
// /v1/sessions does, the same lock counting its failures.
func (s *Server) submitHandoff(r *http.Request, h *store.Handoff, ref string, req api.HandoffCompletion) (time.Time, error) {
	ctx := r.Context()
	var expires time.Time
	finish := func(tx store.Store, res store.HandoffResult) error {
		now := s.now()
		expires = now.Add(s.cfg.HandoffTTL)
		err := tx.FinishHandoff(ctx, h.LinkHash, ref, res, now, expires)
		if errors.Is(err, store.ErrStale) {
			// The claim ran out and another submission took the link over.
			return errHandoffBusy()
		}
		if err != nil {
			return fmt.Errorf("finish handoff: %w", err)
		}
		return tx.Audit(ctx, s.handoffAudit(r, h, res.MiID, "handoff_completed", h.Purpose+" "+res.Method))
	}
	switch h.Purpose {
	case api.PurposeRegistration:
		c, err := s.startRegistration(r, api.RegistrationRequest{
			Method: req.Method, Identifier: req.Identifier, Password: req.Password,
			Region: h.Region, Language: h.Language,
		})
		if err != nil {
			return time.Time{}, err
		}
		err = s.st.InTx(ctx, func(tx store.Store) error {
			return finish(tx, store.HandoffResult{ChallengeID: c.ID, Method: req.Method})
		})
		return expires, err
	case api.PurposeSignIn:
		sr := api.SessionRequest{Identifier: req.Identifier, Password: req.Password, TOTP: req.TOTP, Region: h.Region}
		err := s.passwordSignIn(r, sr, func(_ context.Context, tx store.Store, in signedIn) error {
			return finish(tx, store.HandoffResult{MiID: in.account.MiID, Method: string(in.kind)})
		})
		return expires, err
	}
	return time.Time{}, fmt.Errorf("handoff of unknown purpose %q", h.Purpose)
}

// releaseHandoff gives the link of h, claimed under ref, back: the
// submission failed and the customer may try again. It runs even when the
// request's context is done, and only logs a failure: the claim then
// holds until its deadline.
func (s *Server) releaseHandoff(h *store.Handoff, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.st.ReleaseHandoff(ctx, h.LinkHash, ref)
	switch {
	case err == nil:
		s.handoffBells.ring(h.IDHash)
	case !errors.Is(err, store.ErrStale): // stale: taken over already
		s.log.Warn("release handoff", "err", err)
	}
}

// handoffHash is the stored form of a hand-off's id (kind "id") or link
// token (kind "link").
func (s *Server) handoffHash(kind, secret string) string {
	return policy.HandoffHash(s.cfg.Keys.HMAC, kind, secret)
}

// handoff loads the hand-off of an id hash; a missing one is 404.
func (s *Server) handoff(ctx context.Context, idHash string) (*store.Handoff, error) {
	h, err := s.st.Handoff(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("hand-off")
	}
	if err != nil {
		return nil, fmt.Errorf("load handoff: %w", err)
	}
	return h, nil
}

// handoffOfLink loads the hand-off of the request's {token}; a missing one
// is 404.
func (s *Server) handoffOfLink(r *http.Request) (*store.Handoff, error) {
	token := r.PathValue("token")
	if len(token) > maxHandoffSecret {
		return nil, errNotFound("link")
	}
	h, err := s.st.HandoffByLink(r.Context(), s.handoffHash("link", token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("link")
	}
	if err != nil {
		return nil, fmt.Errorf("load handoff link: %w", err)
	}
	return h, nil
}

// handoffState is the state h shows now: an open or done hand-off past its
// expiry is expired; a claim past its deadline (its process died) is open
// again, or expired. A claim that holds shows claimed even past the
// expiry: its submission finishes.
func (s *Server) handoffState(h *store.Handoff) string {
	now := s.now()
	switch h.State {
	case api.HandoffClaimed:
		if h.ClaimedUntil != nil && now.Before(*h.ClaimedUntil) {
			return api.HandoffClaimed
		}
		if now.Before(h.ExpiresAt) {
			return api.HandoffOpen
		}
		return api.HandoffExpired
	case api.HandoffOpen, api.HandoffDone:
		if !now.Before(h.ExpiresAt) {
			return api.HandoffExpired
		}
	}
	return h.State
}

// handoffView is h as the kiosk sees it; id is the id it asked with.
func (s *Server) handoffView(h *store.Handoff, id string) api.Handoff {
	return api.Handoff{ID: id, Purpose: h.Purpose, State: s.handoffState(h), ExpiresAt: h.ExpiresAt.UTC()}
}

// linkView is h as the phone sees it, in state.
func linkView(h *store.Handoff, state string) api.HandoffLink {
	return api.HandoffLink{Purpose: h.Purpose, State: state, ExpiresAt: h.ExpiresAt.UTC(), Region: h.Region, Language: h.Language}
}

// linkStateError is the answer to a link in state that no longer takes a
// submission (nil for open and claimed).
func linkStateError(state string) error {
	switch state {
	case api.HandoffExpired:
		return &api.Error{Code: api.CodeLinkExpired, Message: "This link has expired. Ask the kiosk for a new one."}
	case api.HandoffDone, api.HandoffCollected:
		return &api.Error{Code: api.CodeHandoffUsed, Message: "This link was already used. Ask the kiosk for a new one if you need it."}
	}
	return nil
}

// submitStateError is the answer to a submission of a link in state (nil
// for open): linkStateError, or 409 while another submission holds it.
func submitStateError(state string) error {
	if state == api.HandoffClaimed {
		return errHandoffBusy()
	}
	return linkStateError(state)
}

// errHandoffBusy is a 409 handoff_busy: another submission of the link is
// running; it may yet fail and give the link back.
func errHandoffBusy() *api.Error {
	return &api.Error{Code: api.CodeHandoffBusy, Message: "This link is being submitted right now. Wait a moment, then try again if it did not go through."}
}

// handoffAudit is the audit event of a step of h: the kiosk and store are
// the hand-off's when the request (the phone's) names none.
func (s *Server) handoffAudit(r *http.Request, h *store.Handoff, miID, event, detail string) *store.AuditEvent {
	e := s.auditEvent(r, miID, h.DeviceID, event, detail)
	if e.Kiosk == "" && e.StoreID == "" {
		e.Kiosk, e.StoreID = h.Kiosk, h.StoreID
	}
	return e
}
