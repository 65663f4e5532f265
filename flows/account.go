package flows

import (
	"context"
	"errors"
	"strings"
	"time"

	"misetup/api"
)

// Challenges are the calls around a verification code.
type Challenges interface {
	Challenge(ctx context.Context, id string) (api.Challenge, error)
	Resend(ctx context.Context, id string) (api.Challenge, error)
	Verify(ctx context.Context, id string, req api.VerifyRequest) (api.VerifyResponse, error)
}

// Registrar creates accounts (GUIDE section 3).
type Registrar interface {
	Challenges
	Register(ctx context.Context, req api.RegistrationRequest) (api.Challenge, error)
}

// Authenticator signs in and resets passwords (GUIDE section 4).
type Authenticator interface {
	Challenges
	SignIn(ctx context.Context, req api.SessionRequest) (api.Session, error)
	RequestPasswordReset(ctx context.Context, req api.PasswordResetRequest) (api.Challenge, error)
}

// SessionKeeper holds the session token of the running client.
type SessionKeeper interface {
	Token() string
	SetToken(token string)
	Account(ctx context.Context) (api.Account, error)
}

// Accounts is everything the account steps need; *client.Client satisfies it.
type Accounts interface {
	Registrar
	Authenticator
	SessionKeeper
}

// Registration is what the create-account step collects.
type Registration struct {
	Method     string // api.MethodEmail or api.MethodPhone
	Identifier string // as typed
	Region     string // the phone picker's country
	Language   string
	Password   string
	Confirm    string
	// CommonRefused is the password the service last refused as common, so
	// the same one is not sent again.
	CommonRefused string
}

// Register checks a registration and sends it; the service answers with the
// challenge whose code it sent.
func Register(ctx context.Context, r Registrar, reg Registration) (api.Challenge, error) {
	id, err := ValidateIdentifier(reg.Method, reg.Identifier, reg.Region)
	if err != nil {
		return api.Challenge{}, err
	}
	if err := ValidateNewPassword(reg.Password, reg.Confirm, reg.CommonRefused); err != nil {
		return api.Challenge{}, err
	}
	ch, err := r.Register(ctx, api.RegistrationRequest{
		Method: reg.Method, Identifier: id, Password: reg.Password,
		Region: reg.Region, Language: reg.Language,
	})
	if err != nil {
		return api.Challenge{}, Explain(wrap("register", err))
	}
	return ch, nil
}

// CodeLength is the number of digits of a verification code.
const CodeLength = 6

// ValidateCode checks that code is six digits.
func ValidateCode(code string) error {
	if len(code) != CodeLength || strings.IndexFunc(code, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return userErr(ErrKeyCodeFormat, nil)
	}
	return nil
}

// Verify sends a verification code. When the answer signs in (a
// registration with a device, a reset that signs in) the token is saved.
// A wrong code returns a UserError with AttemptsLeft; an expired or dead
// challenge, ErrKeyCodeExpired or ErrKeyTooManyAttempts.
func Verify(ctx context.Context, c Challenges, sessions SessionStore, challengeID, code string, device *api.Device) (api.VerifyResponse, error) {
	if err := ValidateCode(code); err != nil {
		return api.VerifyResponse{}, err
	}
	res, err := c.Verify(ctx, challengeID, api.VerifyRequest{Code: code, Device: device})
	if err != nil {
		return api.VerifyResponse{}, Explain(wrap("verify code", err))
	}
	return res, saveSession(sessions, res.Session)
}

func saveSession(sessions SessionStore, s *api.Session) error {
	if s == nil || s.Token == "" || sessions == nil {
		return nil
	}
	if err := sessions.SaveToken(s.Token); err != nil {
		return wrap("keep session", err)
	}
	if l, ok := sessions.(interface{ ClearLock() error }); ok {
		// The password was given again: a lock command's marker goes.
		if err := l.ClearLock(); err != nil {
			return wrap("clear the lock", err)
		}
	}
	return nil
}

// Resend asks for a new code. Too early returns ErrKeyRateLimited with Wait.
func Resend(ctx context.Context, c Challenges, challengeID string) (api.Challenge, error) {
	ch, err := c.Resend(ctx, challengeID)
	if err != nil {
		return api.Challenge{}, Explain(wrap("resend code", err))
	}
	return ch, nil
}

// ResendIn is how long until the challenge allows a resend (0: now).
func ResendIn(ch api.Challenge, now time.Time) time.Duration {
	if ch.ResendAfter.IsZero() {
		return 0
	}
	return max(ch.ResendAfter.Sub(now), 0)
}

// SignInInput is what the sign-in step collects.
type SignInInput struct {
	Identifier string // email, phone or numeric Mi ID
	Password   string
	TOTP       string // "" until the service asks for it
	Region     string // the default country of a phone number
	Device     api.Device
}

// SignIn signs in and saves the session token. The service asking for the
// second factor returns ErrKeySecondFactor (show the TOTP field); a wrong
// TOTP returns ErrKeyTOTPInvalid; a locked account, ErrKeyAccountLocked with
// Wait.
func SignIn(ctx context.Context, a Authenticator, sessions SessionStore, in SignInInput) (api.Session, error) {
	id, err := ValidateSignInID(in.Identifier)
	if err != nil {
		return api.Session{}, err
	}
	if in.Password == "" {
		return api.Session{}, userErr(ErrKeyPasswordEmpty, nil)
	}
	totp := strings.ReplaceAll(strings.TrimSpace(in.TOTP), " ", "")
	if in.TOTP != "" && totp == "" {
		return api.Session{}, userErr(ErrKeyTOTPFormat, nil)
	}
	s, err := a.SignIn(ctx, api.SessionRequest{
		Identifier: id, Password: in.Password, TOTP: totp, Region: in.Region, Device: in.Device,
	})
	if err != nil {
		ue := Explain(wrap("sign in", err))
		if totp != "" && (ue.Key == ErrKeySecondFactor || ue.Key == ErrKeyInvalidCode) {
			ue.Key = ErrKeyTOTPInvalid
		}
		return api.Session{}, ue
	}
	return s, saveSession(sessions, &s)
}

// RequestReset starts a password reset: the service sends a code to the
// identifier (or says the same thing when there is no such account).
func RequestReset(ctx context.Context, a Authenticator, identifier, region string) (api.Challenge, error) {
	id, err := ValidateSignInID(identifier)
	if err != nil {
		return api.Challenge{}, err
	}
	ch, err := a.RequestPasswordReset(ctx, api.PasswordResetRequest{Identifier: id, Region: region})
	if err != nil {
		return api.Challenge{}, Explain(wrap("reset password", err))
	}
	return ch, nil
}

// ResetInput is what the second reset screen collects.
type ResetInput struct {
	ChallengeID   string
	Code          string
	Password      string
	Confirm       string
	CommonRefused string
	Device        *api.Device
}

// FinishReset sets the new password with the code. When the answer signs in,
// the token is saved.
func FinishReset(ctx context.Context, c Challenges, sessions SessionStore, in ResetInput) (api.VerifyResponse, error) {
	if err := ValidateCode(in.Code); err != nil {
		return api.VerifyResponse{}, err
	}
	if err := ValidateNewPassword(in.Password, in.Confirm, in.CommonRefused); err != nil {
		return api.VerifyResponse{}, err
	}
	res, err := c.Verify(ctx, in.ChallengeID, api.VerifyRequest{Code: in.Code, NewPassword: in.Password, Device: in.Device})
	if err != nil {
		return api.VerifyResponse{}, Explain(wrap("reset password", err))
	}
	return res, saveSession(sessions, res.Session)
}

// Restore signs the client back in with the saved token: ok is true when the
// service still accepts it. A token the service refuses is forgotten; an
// unreachable service keeps it and returns the error.
func Restore(ctx context.Context, k SessionKeeper, sessions SessionStore) (api.Account, bool, error) {
	token, err := sessions.LoadToken()
	if err != nil || token == "" {
		return api.Account{}, false, err
	}
	k.SetToken(token)
	acc, err := k.Account(ctx)
	switch {
	case errors.Is(err, api.ErrUnauthorized), errors.Is(err, api.ErrNotFound):
		k.SetToken("")
		return api.Account{}, false, sessions.ClearToken()
	case err != nil:
		k.SetToken("")
		return api.Account{}, false, Explain(wrap("restore session", err))
	}
	return acc, true, nil
}
