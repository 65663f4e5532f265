package server

import (
	"errors"
	"fmt"
	"net/http"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// Values of PasswordResetRequest.Via.
const (
	viaRecoveryEmail = "recovery_email"
	viaRecoveryPhone = "recovery_phone"
)

// startPasswordReset answers POST /v1/password-resets with the same 202
// whether or not the identifier has an account.
//
// For no account it creates a phantom challenge: it answers, resends,
// counts attempts and expires like any other, but its code hash is random,
// so no code ever verifies it. When the identifier is an email or a phone,
// that address gets a message saying someone asked for a reset but no
// account uses it (DESIGN: the same answer; only the owner of the address
// learns there is no account).
//
// When the requester did not type the destination (a reset by Mi ID, or to
// a recovery contact) the answer names only the channel, never the
// address: for no account there is no address to name, and a made-up one
// could be told from a real one. The channel of a Mi ID with no account is
// drawn from the identifier with the server's key, the same on every
// request and every server. Such sends count against the identifier typed,
// not the address, so the rate of an address shows nothing either.
func (s *Server) startPasswordReset(r *http.Request) (int, any, error) {
	ctx := r.Context()
	var req api.PasswordResetRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	region, err := s.region("region", req.Region)
	if err != nil {
		return 0, nil, err
	}
	if req.Via != "" && req.Via != viaRecoveryEmail && req.Via != viaRecoveryPhone {
		return 0, nil, errInput("via", "via must be recovery_email or recovery_phone.")
	}
	kind, identifier, a, err := s.resolveIdentifier(ctx, req.Identifier, region)
	if err != nil {
		return 0, nil, err
	}
	in := issue{purpose: api.PurposePasswordReset, payload: payload{Language: requestLanguage(r)}}
	if a != nil && in.payload.Language == "" {
		in.payload.Language = a.Language
	}
	switch {
	case req.Via == viaRecoveryEmail:
		in.channel = api.ChannelEmail
		if a != nil {
			in.destination = a.RecoveryEmail
		}
	case req.Via == viaRecoveryPhone:
		in.channel = api.ChannelSMS
		if a != nil {
			in.destination = a.RecoveryPhone
		}
	case kind == policy.KindEmail:
		in.channel, in.destination = api.ChannelEmail, identifier
	case kind == policy.KindPhone:
		in.channel, in.destination = api.ChannelSMS, identifier
	case a != nil && a.Email != "":
		in.channel, in.destination = api.ChannelEmail, a.Email
	case a != nil && a.Phone != "":
		in.channel, in.destination = api.ChannelSMS, a.Phone
	default:
		in.channel = []string{api.ChannelEmail, api.ChannelSMS}[policy.KeyedChoice(s.cfg.Keys.HMAC, 2, "reset-channel", identifier)]
	}
	typed := req.Via == "" && (kind == policy.KindEmail || kind == policy.KindPhone)
	if !typed {
		in.payload.Hidden = true
		in.payload.QuotaKey = fmt.Sprintf("reset:%s:%s", req.Via, identifier)
	}
	if a == nil || in.destination == "" {
		in.payload.Phantom = true
		in.payload.Decoy = in.destination == ""
	} else {
		in.miID = a.MiID
	}
	quotaKey := in.payload.quotaKey(in.destination)
	sendRef, err := s.reserveSend(ctx, s.st, quotaKey)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.issueChallenge(ctx, in, sendRef)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.challengeView(c), nil
}

// completePasswordReset sets the new password of a reset whose code is
// right, signs out every session and lifts the sign-in lock: the code, the
// password, the sessions, the locks and the audit event are one
// transaction. The new password is hashed before it (argon2 is slow).
func (s *Server) completePasswordReset(r *http.Request, c *store.Challenge, p payload, req api.VerifyRequest) (int, any, error) {
	ctx := r.Context()
	if req.NewPassword == "" {
		return 0, nil, errInput("new_password", "Choose a new password.")
	}
	if err := challengeStateError(c.State); err != nil {
		return 0, nil, err // no hash for a code that cannot work
	}
	var a *store.Account
	identifiers := []string{c.Destination}
	if !p.Phantom {
		var err error
		a, err = s.st.AccountByMiID(ctx, c.MiID)
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, errNotFound("challenge")
		}
		if err != nil {
			return 0, nil, fmt.Errorf("load account: %w", err)
		}
		identifiers = accountIdentifiers(a)
	}
	if err := s.checkNewPassword("new_password", req.NewPassword, identifiers...); err != nil {
		return 0, nil, err
	}
	hash, err := s.hashPassword(ctx, req.NewPassword)
	if err != nil {
		return 0, nil, err
	}
	err = s.inTx(ctx, func(tx store.Store) error {
		if _, err := s.useCode(ctx, tx, c.ID, req.Code); err != nil {
			return err
		}
		if a == nil {
			// Unreachable: a phantom's code hash matches no code.
			return fmt.Errorf("phantom challenge %s verified", c.ID)
		}
		n, err := setPassword(ctx, tx, a.MiID, hash, "")
		if err != nil {
			return err
		}
		if err := s.unlock(ctx, tx, a); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEvent(r, a.MiID, "", "password_reset", fmt.Sprintf("via %s; %d sessions revoked", c.Channel, n)))
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.VerifyResponse{Account: s.accountView(a)}, nil
}
