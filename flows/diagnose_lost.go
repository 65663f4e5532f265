package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"misetup/api"
)

// Values of api.PasswordResetRequest.Via: send the reset code to the
// account's recovery contact instead of its email or phone.
const (
	ViaRecoveryEmail = "recovery_email"
	ViaRecoveryPhone = "recovery_phone"
)

// Causes of the lost-access diagnosis (Diagnosis.Cause).
const (
	LostRecoveryAvailable = "recovery_available" // signed in, with a verified recovery contact
	LostNoRecovery        = "no_recovery"        // signed in, no recovery contact: support
	LostRecoveryUnknown   = "recovery_unknown"   // not signed in: the service never says
	LostResetSent         = "reset_sent"         // a reset code went to the recovery contact
	LostCaseWritten       = "case_written"       // a support case file was written
)

// DeviceLister lists the account's devices; a SessionKeeper that also has
// it (the client does) names them in a support case.
type DeviceLister interface {
	Devices(ctx context.Context) ([]api.Device, error)
}

// LostAccessDiagnosis is the finding of "Lost access to linked phone or
// email".
type LostAccessDiagnosis struct {
	Diagnosis
	// Account is the signed-in account; nil when not signed in.
	Account *api.Account
	// RecoveryEmail and RecoveryPhone are the verified recovery contacts,
	// masked as the service shows them; "" when none or unknown.
	RecoveryEmail, RecoveryPhone string
	// Challenge is the reset sent through the recovery contact.
	Challenge *api.Challenge
	// CasePath is where the support case file went.
	CasePath string
	// Case is the support case as written.
	Case *SupportCase
}

// DiagnoseLostAccess reads, when signed in, whether the account has a
// verified recovery email or phone: with one, it offers the reset through
// it; without, a support case. Not signed in, the service never says (it
// does not tell who has an account), so both are offered.
func DiagnoseLostAccess(ctx context.Context, k SessionKeeper) (LostAccessDiagnosis, error) {
	d := LostAccessDiagnosis{}
	d.Problem = ProblemLostAccess
	if k == nil || k.Token() == "" {
		return unknownRecovery(d), nil
	}
	acc, err := k.Account(ctx)
	switch {
	case errors.Is(err, api.ErrUnauthorized), errors.Is(err, api.ErrNotFound):
		return unknownRecovery(d), nil
	case err != nil:
		return d, Explain(wrap("read account", err))
	}
	d.Account = &acc
	d.RecoveryEmail, d.RecoveryPhone = cleanText(acc.RecoveryEmail, 254), cleanText(acc.RecoveryPhone, 64)
	var where []Text
	if d.RecoveryEmail != "" {
		d.Actions = append(d.Actions, ActionResetViaEmail)
		where = append(where, T("ts.lost.where_email", "to", d.RecoveryEmail))
	}
	if d.RecoveryPhone != "" {
		d.Actions = append(d.Actions, ActionResetViaPhone)
		where = append(where, T("ts.lost.where_phone", "to", d.RecoveryPhone))
	}
	if len(where) == 0 {
		d.Cause, d.Level = LostNoRecovery, LevelFail
		d.Finding, d.Fix = T("ts.lost.none"), T("ts.lost.none.fix")
		d.Actions = []Action{ActionSupportCase}
		return d, nil
	}
	d.Cause, d.Level = LostRecoveryAvailable, LevelOK
	d.Finding, d.Fix = T("ts.lost.available", "where", TextList(where)), T("ts.lost.available.fix")
	d.Actions = append(d.Actions, ActionSupportCase)
	return d, nil
}

func unknownRecovery(d LostAccessDiagnosis) LostAccessDiagnosis {
	d.Cause, d.Level = LostRecoveryUnknown, LevelWarn
	d.Finding, d.Fix = T("ts.lost.unknown"), T("ts.lost.unknown.fix")
	d.Actions = []Action{ActionResetViaEmail, ActionResetViaPhone, ActionSupportCase}
	return d
}

// RecoveryIdentifier is what a reset through the recovery contact names
// the account by: the account's email, else its phone, else its Mi ID.
func RecoveryIdentifier(a api.Account) string {
	switch {
	case a.Email != "":
		return a.Email
	case a.Phone != "":
		return a.Phone
	}
	return a.MiID
}

// ResetViaRecovery asks the service to send a password reset code to the
// account's recovery email (ActionResetViaEmail) or phone
// (ActionResetViaPhone): POST /v1/password-resets with "via". The answer is
// the same whether or not the account has that contact; the masked
// destination tells the person whether it is theirs. The code and the new
// password then go through FinishReset, which also unlocks sign-in.
func ResetViaRecovery(ctx context.Context, a Authenticator, identifier, region string, via Action) (LostAccessDiagnosis, error) {
	id, err := ValidateSignInID(identifier)
	if err != nil {
		return LostAccessDiagnosis{}, err
	}
	req := api.PasswordResetRequest{Identifier: id, Region: region}
	switch via {
	case ActionResetViaEmail:
		req.Via = ViaRecoveryEmail
	case ActionResetViaPhone:
		req.Via = ViaRecoveryPhone
	default:
		return LostAccessDiagnosis{}, fmt.Errorf("reset via recovery: %q is not a recovery contact", via)
	}
	ch, err := a.RequestPasswordReset(ctx, req)
	if err != nil {
		return LostAccessDiagnosis{}, Explain(wrap("reset via recovery contact", err))
	}
	d := LostAccessDiagnosis{Challenge: &ch}
	d.Problem, d.Cause, d.Level = ProblemLostAccess, LostResetSent, LevelOK
	d.Finding = T("ts.lost.sent."+ch.Channel, "to", cleanText(ch.Destination, 300))
	d.Fix = T("ts.lost.sent.fix")
	d.Notes = []Text{T("ts.lost.sent.not_yours")}
	d.Actions = []Action{ActionEnterCode, ActionSupportCase}
	return d, nil
}

// LostAccessCase builds the support case of a lost-access diagnosis:
// the account masked (the signed-in one, else the identifier typed), what
// was lost, what was tried, and the linked devices when the session can
// list them.
func LostAccessCase(ctx context.Context, k SessionKeeper, d LostAccessDiagnosis, identifier, lost string, now time.Time) SupportCase {
	c := SupportCase{Created: now, Lost: lost, Version: api.Version}
	switch {
	case d.Account != nil:
		c.Account = MaskAccount(*d.Account)
	case strings.TrimSpace(identifier) != "":
		c.Account = MaskIdentifier(identifier)
	}
	switch d.Cause {
	case LostNoRecovery:
		c.Tried = append(c.Tried, T("ts.case.tried.no_recovery"))
	case LostResetSent:
		c.Tried = append(c.Tried, T("ts.case.tried.reset_sent"))
	case LostRecoveryUnknown:
		c.Tried = append(c.Tried, T("ts.case.tried.not_signed_in"))
	}
	if dl, ok := k.(DeviceLister); ok && d.Account != nil {
		if ds, err := dl.Devices(ctx); err == nil {
			for _, dev := range ds {
				c.Devices = append(c.Devices, cleanText(dev.Name, 64))
			}
		}
	}
	return c
}
