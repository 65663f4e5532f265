package flows

import (
	"context"
	"errors"
	"strings"
	"time"

	"misetup/api"
)

// ChallengeReader reads a challenge (GET /v1/challenges/{id}).
type ChallengeReader interface {
	Challenge(ctx context.Context, id string) (api.Challenge, error)
}

// CodeService is what the code diagnosis needs from the service: the
// challenge and a resend. *client.Client satisfies it.
type CodeService interface {
	ChallengeReader
	Resend(ctx context.Context, id string) (api.Challenge, error)
}

// Causes of the code diagnosis (Diagnosis.Cause).
const (
	CodeNoChallenge    = "no_challenge"    // nothing was asked for yet
	CodeUnknown        = "unknown"         // the service no longer knows the challenge
	CodeVerified       = "verified"        // the code was used: nothing is wrong
	CodeDead           = "dead"            // too many wrong codes
	CodeDeliveryFailed = "delivery_failed" // the courier could not send it
	CodeQueued         = "queued"          // not sent yet
	CodeExpired        = "expired"         // sent, never used, too late now
	CodeRateLimited    = "rate_limited"    // no new code until ResendAt
	CodeAddressTypo    = "address_typo"    // sent to an address with a mistyped domain
	CodeSent           = "sent"            // sent: spam folder, signal, the address
)

// QueuedTooLong is how long a code may wait to be sent before the
// diagnosis calls it stuck.
const QueuedTooLong = 2 * time.Minute

// CodeInput is what the code diagnosis starts from.
type CodeInput struct {
	ChallengeID string    // the current or last challenge; "" when none
	Typed       string    // the email or phone as typed in the wizard, "" when unknown
	Now         time.Time // the local clock
}

// CodeDiagnosis is the finding of "Verification code not received" with
// the facts the screen shows.
type CodeDiagnosis struct {
	Diagnosis
	// Challenge is the service's answer; zero when there is none.
	Challenge api.Challenge
	// Address is where the code went: the address as typed when it is the
	// one the service masked, else the masked destination, so a typo shows.
	Address string
	// Reason is the courier's reason of a failed delivery, cleaned.
	Reason string
	// ResendAt is when a resend is allowed (resend_after, or later when the
	// service refused one as rate limited).
	ResendAt time.Time
	// Suggestion is the address with its mistyped domain corrected, "" when
	// the domain looks right.
	Suggestion string
}

// DiagnoseCode reads the challenge and says why its code may not have
// arrived: a failed delivery (with the courier's reason: resending will not
// help), not sent yet, expired, dead, an address whose domain looks
// mistyped, or sent (then the spam folder, the signal, the address). An
// unreachable service returns the error, explained.
func DiagnoseCode(ctx context.Context, s ChallengeReader, in CodeInput) (CodeDiagnosis, error) {
	if strings.TrimSpace(in.ChallengeID) == "" {
		return CodeDiagnosis{Diagnosis: Diagnosis{
			Problem: ProblemCode, Cause: CodeNoChallenge, Level: LevelWarn,
			Finding: T("ts.code.none"), Fix: T("ts.code.none.fix"),
		}}, nil
	}
	ch, err := s.Challenge(ctx, in.ChallengeID)
	switch {
	case errors.Is(err, api.ErrNotFound):
		return CodeDiagnosis{Diagnosis: Diagnosis{
			Problem: ProblemCode, Cause: CodeUnknown, Level: LevelFail,
			Finding: T("ts.code.unknown"), Fix: T("ts.code.unknown.fix"),
			Actions: []Action{ActionChangeAddress},
		}}, nil
	case err != nil:
		return CodeDiagnosis{}, Explain(wrap("read challenge", err))
	}
	return diagnoseChallenge(ch, in.Typed, clockOr(in.Now)), nil
}

// ResendCode asks for a new code and diagnoses the answer. A refusal
// because it is too soon or too many codes went to the address is not an
// error: it is the diagnosis CodeRateLimited, with ResendAt.
func ResendCode(ctx context.Context, s CodeService, in CodeInput) (CodeDiagnosis, error) {
	now := clockOr(in.Now)
	ch, err := s.Resend(ctx, in.ChallengeID)
	if err == nil {
		return diagnoseChallenge(ch, in.Typed, now), nil
	}
	ue := Explain(wrap("resend code", err))
	if ue.Key != ErrKeyRateLimited {
		return CodeDiagnosis{}, ue
	}
	// Read the challenge again: the refusal says nothing of its delivery.
	d, derr := DiagnoseCode(ctx, s, in)
	if derr != nil {
		return CodeDiagnosis{}, derr
	}
	wait := ue.Wait
	if wait <= 0 {
		wait = time.Minute
	}
	d.ResendAt = now.Add(wait)
	d.Cause, d.Level = CodeRateLimited, LevelWarn
	d.Finding = T("ts.code.rate_limited", "to", d.Address, "time", hhmm(d.ResendAt), "min", minutesLeft(wait))
	d.Fix = T("ts.code.rate_limited.fix")
	d.Actions = []Action{ActionResend, ActionChangeAddress}
	return d, nil
}

func clockOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// diagnoseChallenge decides the cause from a challenge as the service
// showed it.
func diagnoseChallenge(ch api.Challenge, typed string, now time.Time) CodeDiagnosis {
	d := CodeDiagnosis{Challenge: ch, ResendAt: ch.ResendAfter}
	d.Problem = ProblemCode
	d.Address = codeAddress(ch, typed)
	if ch.Channel == api.ChannelEmail {
		d.Suggestion = SuggestEmail(d.Address)
	}
	to := d.Address
	sentAt := ch.CreatedAt
	if ch.Delivery.At != nil {
		sentAt = *ch.Delivery.At
	}
	set := func(cause string, level Level, finding, fix Text, actions ...Action) {
		d.Cause, d.Level, d.Finding, d.Fix, d.Actions = cause, level, finding, fix, actions
	}
	switch {
	case ch.State == api.ChallengeVerified:
		set(CodeVerified, LevelOK, T("ts.code.verified"), Text{})
	case ch.State == api.ChallengeDead:
		set(CodeDead, LevelFail, T("ts.code.dead"), T("ts.code.dead.fix"), ActionChangeAddress)
	case ch.Delivery.State == api.DeliveryFailed:
		d.Reason = cleanText(ch.Delivery.Error, 300)
		if d.Reason == "" {
			d.Reason = "?"
		}
		set(CodeDeliveryFailed, LevelFail,
			T("ts.code.failed", "to", to, "reason", d.Reason),
			T("ts.code.failed.fix"), ActionChangeAddress, ActionCheckAgain)
	case ch.State == api.ChallengeExpired || (!ch.ExpiresAt.IsZero() && !now.Before(ch.ExpiresAt)):
		set(CodeExpired, LevelWarn, T("ts.code.expired", "to", to, "time", hhmm(sentAt)),
			T("ts.code.expired.fix"), ActionResend, ActionChangeAddress)
	case d.Suggestion != "":
		set(CodeAddressTypo, LevelWarn, T("ts.code.typo", "to", to, "suggestion", d.Suggestion),
			T("ts.code.typo.fix"), ActionChangeAddress, ActionResend)
	case ch.Delivery.State == api.DeliveryQueued || ch.Delivery.State == "":
		level, finding := LevelOK, T("ts.code.queued", "to", to)
		if !ch.CreatedAt.IsZero() && now.Sub(ch.CreatedAt) > QueuedTooLong {
			level, finding = LevelWarn, T("ts.code.stuck", "to", to, "time", hhmm(ch.CreatedAt))
		}
		set(CodeQueued, level, finding, T("ts.code.queued.fix"), ActionCheckAgain, ActionChangeAddress)
	default:
		fix := T("ts.code.sent.fix_sms")
		if ch.Channel == api.ChannelEmail {
			fix = T("ts.code.sent.fix_email")
		}
		set(CodeSent, LevelOK, T("ts.code.sent", "to", to, "time", hhmm(sentAt)), fix,
			ActionResend, ActionChangeAddress)
		d.Notes = append(d.Notes, T("ts.code.sent.address"))
	}
	if ch.Channel == api.ChannelEmail && (d.Cause == CodeExpired || d.Cause == CodeQueued) {
		d.Notes = append(d.Notes, T("ts.code.spam"))
	}
	return d
}

// codeAddress is where a code went, as the person can check it: the
// address typed in the wizard when it is the one the service masked (so a
// typo in it shows), else the masked destination.
func codeAddress(ch api.Challenge, typed string) string {
	masked := cleanText(ch.Destination, 300)
	typed = cleanText(typed, 254)
	if typed == "" {
		return masked
	}
	switch ch.Channel {
	case api.ChannelEmail:
		if strings.Contains(typed, "@") && strings.EqualFold(MaskEmail(typed), masked) {
			return typed
		}
	case api.ChannelSMS:
		td, md := digitsOf(typed), digitsOf(masked)
		if len(md) >= 4 && len(td) >= 7 && strings.HasSuffix(td, md[len(md)-min(4, len(md)):]) &&
			!strings.Contains(typed, "@") {
			return typed
		}
	}
	return masked
}
