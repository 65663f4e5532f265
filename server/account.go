package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// maxDisplayName is the longest display name, in characters.
const maxDisplayName = 64

// accountView is an account as its owner sees it: recovery contacts masked,
// texts sanitized.
func (s *Server) accountView(a *store.Account) api.Account {
	v := api.Account{
		MiID:        a.MiID,
		Email:       a.Email,
		Phone:       a.Phone,
		DisplayName: policy.Sanitize(a.DisplayName),
		Region:      a.Region,
		Language:    a.Language,
		TOTPEnabled: a.TOTPEnabled,
		CreatedAt:   a.CreatedAt.UTC(),
	}
	if a.RecoveryEmail != "" {
		v.RecoveryEmail = policy.MaskEmail(a.RecoveryEmail)
	}
	if a.RecoveryPhone != "" {
		v.RecoveryPhone = policy.MaskPhone(a.RecoveryPhone)
	}
	return v
}

// getAccount answers GET /v1/account.
func (s *Server) getAccount(r *http.Request, who *caller) (int, any, error) {
	return http.StatusOK, s.accountView(who.account), nil
}

// patchAccount answers PATCH /v1/account: the fields given change.
func (s *Server) patchAccount(r *http.Request, who *caller) (int, any, error) {
	var req api.AccountPatch
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	a := who.account
	var p store.AccountPatch
	if req.DisplayName != nil {
		name, err := cleanText("display_name", *req.DisplayName, maxDisplayName)
		if err != nil {
			return 0, nil, err
		}
		a.DisplayName, p.DisplayName = name, &name
	}
	if req.Region != nil {
		if *req.Region == "" {
			return 0, nil, errInput("region", "The region must be a two-letter country code like CN or US.")
		}
		region, err := s.region("region", *req.Region)
		if err != nil {
			return 0, nil, err
		}
		a.Region, p.Region = region, &region
	}
	if req.Language != nil {
		lang, err := checkLanguage("language", *req.Language)
		if err != nil {
			return 0, nil, err
		}
		a.Language, p.Language = lang, &lang
	}
	// Only the columns asked for: a password or 2FA changed meanwhile stays.
	if err := s.st.PatchAccount(r.Context(), a.MiID, p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, errUnauthorized()
		}
		return 0, nil, fmt.Errorf("update account: %w", err)
	}
	return http.StatusOK, s.accountView(a), nil
}

// changePassword answers POST /v1/account/password. It needs the current
// password (403 reauth_required without the right one) and signs out every
// other session.
func (s *Server) changePassword(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	var req api.PasswordChange
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	a := who.account
	if err := s.checkNewPassword("new_password", req.NewPassword, accountIdentifiers(a)...); err != nil {
		return 0, nil, err
	}
	if err := s.reauth(r, who, "current_password", req.CurrentPassword); err != nil {
		return 0, nil, err
	}
	hash, err := s.hashPassword(ctx, req.NewPassword)
	if err != nil {
		return 0, nil, err
	}
	var n int
	err = s.st.InTx(ctx, func(tx store.Store) error {
		var err error
		n, err = setPassword(ctx, tx, a.MiID, hash, who.tokenHash)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEvent(r, a.MiID, who.session.DeviceID, "password_changed", fmt.Sprintf("%d other sessions revoked", n)))
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errUnauthorized()
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.PasswordChanged{OtherSessionsSignedOut: n}, nil
}

// setRecovery answers PUT /v1/account/recovery: a code goes to the new
// contact, which counts only once verified.
func (s *Server) setRecovery(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	var req api.RecoveryRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	a := who.account
	var in issue
	var err error
	switch {
	case req.Email != "" && req.Phone != "":
		return 0, nil, errInput("phone", "Give either email or phone, not both.")
	case req.Email != "":
		in.channel, in.payload.Method = api.ChannelEmail, api.MethodEmail
		if in.destination, err = policy.ParseEmail(req.Email); err != nil {
			return 0, nil, identifierError("email", err)
		}
		if in.destination == a.Email {
			return 0, nil, errInput("email", "The recovery email must differ from the account's own email.")
		}
	case req.Phone != "":
		region, err := s.region("region", req.Region)
		if err != nil {
			return 0, nil, err
		}
		in.channel, in.payload.Method = api.ChannelSMS, api.MethodPhone
		if in.destination, err = policy.ParsePhone(req.Phone, region); err != nil {
			return 0, nil, identifierError("phone", err)
		}
		if in.destination == a.Phone {
			return 0, nil, errInput("phone", "The recovery phone must differ from the account's own phone.")
		}
	default:
		return 0, nil, errInput("email", "Give a recovery email or phone.")
	}
	sendRef, err := s.reserveSend(ctx, s.st, in.destination)
	if err != nil {
		return 0, nil, err
	}
	in.purpose = api.PurposeRecovery
	in.miID = a.MiID
	in.payload.Language = a.Language
	if lang := requestLanguage(r); lang != "" {
		in.payload.Language = lang
	}
	c, err := s.issueChallenge(ctx, in, sendRef)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.challengeView(c), nil
}

// completeRecovery stores a verified recovery contact on the account of
// the caller (challenge has already checked the caller owns it); the code,
// the contact and the audit event are one transaction.
func (s *Server) completeRecovery(r *http.Request, c *store.Challenge, who *caller, req api.VerifyRequest) (int, any, error) {
	ctx := r.Context()
	a := who.account
	err := s.inTx(ctx, func(tx store.Store) error {
		if _, err := s.useCode(ctx, tx, c.ID, req.Code); err != nil {
			return err
		}
		var p store.AccountPatch
		if c.Channel == api.ChannelSMS {
			p.RecoveryPhone = &c.Destination
		} else {
			p.RecoveryEmail = &c.Destination
		}
		if err := tx.PatchAccount(ctx, a.MiID, p); err != nil {
			return fmt.Errorf("store recovery contact: %w", err)
		}
		return tx.Audit(ctx, s.auditEvent(r, a.MiID, who.session.DeviceID, "recovery_contact_set", c.Channel))
	})
	if err != nil {
		return 0, nil, err
	}
	if c.Channel == api.ChannelSMS {
		a.RecoveryPhone = c.Destination
	} else {
		a.RecoveryEmail = c.Destination
	}
	return http.StatusOK, api.VerifyResponse{Account: s.accountView(a)}, nil
}

// cleanText sanitizes a user text for storage: control, escape and bidi
// characters go, spaces are trimmed, and it must be at most max characters.
func cleanText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(policy.Sanitize(v))
	if utf8.RuneCountInString(v) > max {
		return "", errInput(field, "%s is too long (at most %d characters).", field, max)
	}
	return v, nil
}

// deleteAccount answers DELETE /v1/account: with the password again, the
// account goes with everything of it (sessions, devices, Mi Cloud items,
// uploads) in one transaction with its audit event, then its blobs'
// objects. The audit log keeps its events.
func (s *Server) deleteAccount(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	if err := s.passwordAgain(r, who); err != nil {
		return 0, nil, err
	}
	miID := who.account.MiID
	err := s.st.InTx(ctx, func(tx store.Store) error {
		if err := tx.DeleteAccount(ctx, miID); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEvent(r, miID, who.session.DeviceID, "account_deleted", ""))
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errUnauthorized()
	}
	if err != nil {
		return 0, nil, fmt.Errorf("delete account: %w", err)
	}
	// Its sessions are gone: no request of it can start an upload now.
	if !s.deletePrefix(context.WithoutCancel(ctx), accountPrefix(miID)) {
		s.log.Error("delete account: some blob objects are left", "mi_id", miID, "prefix", accountPrefix(miID))
	}
	return http.StatusNoContent, nil, nil
}
