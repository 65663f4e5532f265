// Package flows is the wizard's logic without a terminal: the guide's steps
// as plain Go (validation, what comes next, the calls to the account
// service) through small interfaces that *client.Client satisfies. It never
// imports ui, client, server or charm.land; the ui package presents it, and
// tests drive it directly.
//
// Texts for the user are never built here: flows returns catalog keys with
// their arguments (Text, UserError), and ui looks them up in the language the
// person chose.
package flows

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"misetup/api"
)

// Text is a message for the user: a key of the locale catalogs
// (assets/locales) and its arguments as name, value pairs.
type Text struct {
	Key  string
	Args []any
}

// T builds a Text.
func T(key string, args ...any) Text { return Text{Key: key, Args: args} }

// IsZero reports whether t is empty.
func (t Text) IsZero() bool { return t.Key == "" }

// UserError is an error the ui may show: Key names its sentence in the
// catalogs and Key+".hint" what the person can do next.
type UserError struct {
	Key  string // catalog key, "err.<kind>"
	Args []any  // name, value pairs for the catalog text

	AttemptsLeft int           // tries left on a code; -1 when the service did not say
	Wait         time.Duration // how long to wait (rate limited, locked); 0 when not asked
	Field        string        // the request field at fault, "" when none
	Reasons      []string      // password rules broken, e.g. "common"

	Err error // the cause, for errors.Is and logs; never shown
}

// Error implements error. It names the key, not a sentence: only ui turns
// keys into words.
func (e *UserError) Error() string {
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}

// Unwrap returns the cause.
func (e *UserError) Unwrap() error { return e.Err }

// Hint is the catalog key of what to do next.
func (e *UserError) Hint() string { return e.Key + ".hint" }

func userErr(key string, err error, args ...any) *UserError {
	return &UserError{Key: key, Args: args, AttemptsLeft: -1, Err: err}
}

// Error keys. Every key has a sentence and a ".hint" in each catalog (a test
// in ui checks it).
const (
	ErrKeyUnavailable       = "err.unavailable"
	ErrKeyTimeout           = "err.timeout"
	ErrKeyCanceled          = "err.canceled"
	ErrKeyUnknown           = "err.unknown"
	ErrKeyInternal          = "err.internal"
	ErrKeyInvalidInput      = "err.invalid_input"
	ErrKeyWeakPassword      = "err.weak_password"
	ErrKeyInvalidCode       = "err.invalid_code"
	ErrKeyCodeExpired       = "err.code_expired"
	ErrKeyTooManyAttempts   = "err.too_many_attempts"
	ErrKeyRateLimited       = "err.rate_limited"
	ErrKeyInvalidCreds      = "err.invalid_credentials"
	ErrKeyAccountLocked     = "err.account_locked"
	ErrKeySecondFactor      = "err.second_factor_required"
	ErrKeyTOTPInvalid       = "err.totp_invalid"
	ErrKeyReauth            = "err.reauth_required"
	ErrKeyUnauthorized      = "err.unauthorized"
	ErrKeyNotFound          = "err.not_found"
	ErrKeyClientTooOld      = "err.client_too_old"
	ErrKeyAccountExists     = "err.account_exists"
	ErrKeyBodyTooLarge      = "err.body_too_large"
	ErrKeyConflict          = "err.conflict"
	ErrKeyEmailInvalid      = "err.email_invalid"
	ErrKeyEmailSpace        = "err.email_space"
	ErrKeyPhoneInvalid      = "err.phone_invalid"
	ErrKeyIdentifierEmpty   = "err.identifier_empty"
	ErrKeyPasswordEmpty     = "err.password_empty"
	ErrKeyPasswordRules     = "err.password_rules"
	ErrKeyPasswordMismatch  = "err.password_mismatch"
	ErrKeyCodeFormat        = "err.code_format"
	ErrKeyTOTPFormat        = "err.totp_format"
	ErrKeyDeviceNameEmpty   = "err.device_name_empty"
	ErrKeyCodeNotDelivered  = "err.code_not_delivered"
	ErrKeyNoCategories      = "err.no_categories"
	ErrKeyServiceNotStarted = "err.service_not_started"
	ErrKeyEraseName         = "err.erase_name"
	ErrKeyFindDeviceOff     = "err.find_device_off"
	ErrKeyQuotaExceeded     = "err.quota_exceeded"
)

// ErrorKeys lists every key Explain and the validators can return.
func ErrorKeys() []string {
	return []string{
		ErrKeyUnavailable, ErrKeyTimeout, ErrKeyCanceled, ErrKeyUnknown, ErrKeyInternal,
		ErrKeyInvalidInput, ErrKeyWeakPassword, ErrKeyInvalidCode, ErrKeyCodeExpired,
		ErrKeyTooManyAttempts, ErrKeyRateLimited, ErrKeyInvalidCreds, ErrKeyAccountLocked,
		ErrKeySecondFactor, ErrKeyTOTPInvalid, ErrKeyReauth, ErrKeyUnauthorized, ErrKeyNotFound,
		ErrKeyClientTooOld, ErrKeyAccountExists, ErrKeyBodyTooLarge, ErrKeyConflict,
		ErrKeyEmailInvalid, ErrKeyEmailSpace, ErrKeyPhoneInvalid, ErrKeyIdentifierEmpty, ErrKeyPasswordEmpty,
		ErrKeyPasswordRules, ErrKeyPasswordMismatch, ErrKeyCodeFormat, ErrKeyTOTPFormat,
		ErrKeyDeviceNameEmpty, ErrKeyCodeNotDelivered, ErrKeyNoCategories, ErrKeyServiceNotStarted,
		ErrKeyEraseName, ErrKeyFindDeviceOff, ErrKeyQuotaExceeded,
	}
}

// Definite reports whether err is an input error that typing more cannot
// fix (a space in an email address), so a form may say it while the person
// is still typing rather than only when they leave the field.
func Definite(err error) bool {
	ue := Explain(err)
	return ue != nil && ue.Key == ErrKeyEmailSpace
}

// ErrServiceNotStarted is returned by a service that could not be opened (the
// embedded store failed to open).
var ErrServiceNotStarted = errors.New("account service not started")

// Explain turns any error into a UserError: service answers by their code,
// an unreachable service, a timeout, a cancel; anything else becomes
// ErrKeyUnknown. It returns nil for nil.
func Explain(err error) *UserError {
	if err == nil {
		return nil
	}
	var ue *UserError
	if errors.As(err, &ue) {
		return ue
	}
	if errors.Is(err, ErrServiceNotStarted) {
		return userErr(ErrKeyServiceNotStarted, err)
	}
	var ae *api.Error
	if !errors.As(err, &ae) {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return userErr(ErrKeyTimeout, err)
		case errors.Is(err, context.Canceled):
			return userErr(ErrKeyCanceled, err)
		}
		return userErr(ErrKeyUnknown, err)
	}
	e := userErr(ErrKeyUnknown, err)
	e.Field, e.Reasons, e.AttemptsLeft = ae.Field, ae.Reasons, ae.Attempts()
	if ae.RetryAfterS > 0 {
		e.Wait = ae.RetryAfter()
		e.Args = []any{"min", minutesUp(e.Wait), "s", int(e.Wait.Seconds())}
	}
	switch ae.Code {
	case api.CodeUnavailable:
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			e.Key = ErrKeyTimeout
		case errors.Is(err, context.Canceled):
			e.Key = ErrKeyCanceled
		default:
			e.Key = ErrKeyUnavailable
		}
	case api.CodeInvalidCode:
		e.Key = ErrKeyInvalidCode
		e.Args = []any{"n", max(e.AttemptsLeft, 0)}
	case api.CodeInvalidInput:
		e.Key = ErrKeyInvalidInput
		if k := ErrKeyInvalidInput + "." + ae.Field; knownFields[ae.Field] {
			e.Key = k
		}
	case api.CodeWeakPassword:
		e.Key = ErrKeyWeakPassword
	case api.CodeCodeExpired:
		e.Key = ErrKeyCodeExpired
	case api.CodeTooManyAttempts:
		e.Key = ErrKeyTooManyAttempts
	case api.CodeRateLimited:
		e.Key = ErrKeyRateLimited
		if e.Wait == 0 {
			e.Args = []any{"min", 1, "s", 60}
		}
	case api.CodeInvalidCredentials:
		e.Key = ErrKeyInvalidCreds
	case api.CodeAccountLocked:
		e.Key = ErrKeyAccountLocked
		if e.Wait == 0 {
			e.Args = []any{"min", 15, "s", 900}
		}
	case api.CodeSecondFactorRequired:
		e.Key = ErrKeySecondFactor
	case api.CodeReauthRequired:
		e.Key = ErrKeyReauth
	case api.CodeUnauthorized:
		e.Key = ErrKeyUnauthorized
	case api.CodeNotFound:
		e.Key = ErrKeyNotFound
	case api.CodeClientTooOld:
		e.Key = ErrKeyClientTooOld
	case api.CodeAccountExists:
		e.Key = ErrKeyAccountExists
	case api.CodeBodyTooLarge:
		e.Key = ErrKeyBodyTooLarge
	case api.CodeConflict:
		e.Key = ErrKeyConflict
	case api.CodeQuotaExceeded:
		e.Key = ErrKeyQuotaExceeded
		var used, quota int64
		if ae.UsedBytes != nil {
			used = *ae.UsedBytes
		}
		if ae.QuotaBytes != nil {
			quota = *ae.QuotaBytes
		}
		e.Args = []any{"used", FormatBytes(used), "quota", FormatBytes(quota)}
	case api.CodeInternal:
		e.Key = ErrKeyInternal
	}
	if e.Args == nil {
		e.Args = []any{"n", max(e.AttemptsLeft, 0)}
	}
	return e
}

// knownFields are the request fields with their own invalid_input sentence.
var knownFields = map[string]bool{"identifier": true, "password": true, "code": true, "name": true, "new_password": true, "totp": true}

// InvalidInputKeys lists the field-specific invalid_input keys.
func InvalidInputKeys() []string {
	keys := make([]string, 0, len(knownFields))
	for f := range knownFields {
		keys = append(keys, ErrKeyInvalidInput+"."+f)
	}
	return keys
}

func minutesUp(d time.Duration) int {
	return int(math.Ceil(d.Minutes()))
}

// wrap adds context to an error that Explain will still see through.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
