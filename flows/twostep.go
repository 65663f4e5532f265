package flows

import (
	"context"
	"strings"

	"misetup/api"
)

// TwoStep is what two-step verification (GUIDE section 10) needs from the
// service; *client.Client satisfies it.
type TwoStep interface {
	StartTOTP(ctx context.Context) (api.TOTPSetup, error)
	ConfirmTOTP(ctx context.Context, code string) (api.RecoveryCodes, error)
	DisableTOTP(ctx context.Context, password string) error
}

// TOTPCodeLength is the number of digits of an authenticator app's code.
const TOTPCodeLength = 6

// StartTwoStep asks the service for a new secret: the answer's Secret is
// typed into an authenticator app, its OTPAuthURI is shown as a QR code.
// Two-step verification stays off until ConfirmTwoStep. When it is already
// on, the error's key is ErrKeyConflict.
func StartTwoStep(ctx context.Context, s TwoStep) (api.TOTPSetup, error) {
	setup, err := s.StartTOTP(ctx)
	if err != nil {
		return api.TOTPSetup{}, Explain(wrap("start two-step verification", err))
	}
	return setup, nil
}

// ValidateTOTPCode checks a code typed from an authenticator app and
// returns it without spaces (apps show "123 456"). Anything but six digits
// is ErrKeyTOTPFormat with Field "code".
func ValidateTOTPCode(code string) (string, error) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != TOTPCodeLength || strings.Trim(code, "0123456789") != "" {
		e := userErr(ErrKeyTOTPFormat, nil)
		e.Field = "code"
		return "", e
	}
	return code, nil
}

// ConfirmTwoStep turns two-step verification on with the first code of the
// app and returns the one-time recovery codes, to be shown once. A wrong
// code, or one whose 30-second step was already used, is ErrKeyTOTPInvalid:
// the person waits for the next code (there is no count of tries).
func ConfirmTwoStep(ctx context.Context, s TwoStep, code string) ([]string, error) {
	code, err := ValidateTOTPCode(code)
	if err != nil {
		return nil, err
	}
	rc, err := s.ConfirmTOTP(ctx, code)
	if err != nil {
		ue := Explain(wrap("confirm two-step verification", err))
		if ue.Key == ErrKeyInvalidCode {
			ue.Key = ErrKeyTOTPInvalid
		}
		return nil, ue
	}
	return rc.RecoveryCodes, nil
}

// CheckPasswordGiven refuses an empty password (Field "password") before
// anything is sent.
func CheckPasswordGiven(password string) error {
	if password == "" {
		e := userErr(ErrKeyPasswordEmpty, nil)
		e.Field = "password"
		return e
	}
	return nil
}

// DisableTwoStep turns two-step verification off; it needs the password
// again. An empty password never reaches the service (ErrKeyPasswordEmpty,
// Field "password"); a wrong one is ErrKeyReauth, and too many wrong ones
// ErrKeyAccountLocked with Wait.
func DisableTwoStep(ctx context.Context, s TwoStep, password string) error {
	if err := CheckPasswordGiven(password); err != nil {
		return err
	}
	if err := s.DisableTOTP(ctx, password); err != nil {
		return Explain(wrap("turn two-step verification off", err))
	}
	return nil
}
