package server

import (
	"crypto/hmac"
	"crypto/sha256"
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
// learns there is no account). When there is no real address to write to (a
// Mi ID, or a recovery contact that does not exist) the destination is a
// decoy derived from the identifier with the code hash key, the same on
// every request, and nothing is sent.
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
	switch req.Via {
	case "":
		switch {
		case kind == policy.KindEmail:
			in.channel, in.destination = api.ChannelEmail, identifier
		case kind == policy.KindPhone:
			in.channel, in.destination = api.ChannelSMS, identifier
		case a != nil && a.Email != "":
			in.channel, in.destination = api.ChannelEmail, a.Email
		case a != nil && a.Phone != "":
			in.channel, in.destination = api.ChannelSMS, a.Phone
		default:
			in.channel = api.ChannelEmail
		}
	case viaRecoveryEmail:
		in.channel = api.ChannelEmail
		if a != nil {
			in.destination = a.RecoveryEmail
		}
	case viaRecoveryPhone:
		in.channel = api.ChannelSMS
		if a != nil {
			in.destination = a.RecoveryPhone
		}
	}
	if a == nil || in.destination == "" {
		in.payload.Phantom = true
		if in.destination == "" {
			in.payload.Decoy = true
			in.destination = s.decoy(in.channel, identifier)
		}
	} else {
		in.miID = a.MiID
	}
	if err := s.checkSendQuota(ctx, in.destination, s.now()); err != nil {
		return 0, nil, err
	}
	c, err := s.issueChallenge(ctx, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.challengeView(c), nil
}

// completePasswordReset sets the new password of a reset whose code is
// right, signs out every session and lifts the sign-in lock.
func (s *Server) completePasswordReset(r *http.Request, c *store.Challenge, p payload, req api.VerifyRequest) (int, any, error) {
	ctx := r.Context()
	if req.NewPassword == "" {
		return 0, nil, errInput("new_password", "Choose a new password.")
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
	if err := s.useCode(ctx, c, req.Code); err != nil {
		return 0, nil, err
	}
	if a == nil {
		// Unreachable: a phantom's code hash matches no code.
		return 0, nil, fmt.Errorf("phantom challenge %s verified", c.ID)
	}
	n, err := s.setPassword(ctx, a, req.NewPassword, "")
	if err != nil {
		return 0, nil, err
	}
	if err := s.unlock(ctx, a); err != nil {
		return 0, nil, err
	}
	s.audit(r, a.MiID, "", "password_reset", fmt.Sprintf("via %s; %d sessions revoked", c.Channel, n))
	return http.StatusOK, api.VerifyResponse{Account: s.accountView(a)}, nil
}

// decoyDomains are the domains of decoy email destinations.
var decoyDomains = []string{"gmail.com", "outlook.com", "qq.com", "163.com", "yahoo.com", "icloud.com"}

// decoy makes up a destination for a reset that has none, the same for the
// same identifier while CodeHashKey stays: an email address on a common
// domain, or a Chinese mobile number.
func (s *Server) decoy(channel, identifier string) string {
	m := hmac.New(sha256.New, s.cfg.CodeHashKey)
	fmt.Fprintf(m, "decoy\x00%s\x00%s", channel, identifier)
	h := m.Sum(nil)
	if channel == api.ChannelSMS {
		num := []byte("+861")
		num = append(num, "3456789"[int(h[0])%7])
		for _, b := range h[1:10] {
			num = append(num, '0'+b%10)
		}
		return string(num)
	}
	local := make([]byte, 8)
	for i := range local {
		local[i] = 'a' + h[i]%26
	}
	return string(local) + "@" + decoyDomains[int(h[8])%len(decoyDomains)]
}
