package api

import (
	"errors"
	"fmt"
	"time"
)

// Error codes of the account API. server/API.md lists the HTTP status that
// goes with each.
const (
	CodeInvalidInput         = "invalid_input"
	CodeWeakPassword         = "weak_password"
	CodeInvalidCode          = "invalid_code"
	CodeCodeExpired          = "code_expired"
	CodeTooManyAttempts      = "too_many_attempts"
	CodeRateLimited          = "rate_limited"
	CodeInvalidCredentials   = "invalid_credentials"
	CodeAccountLocked        = "account_locked"
	CodeSecondFactorRequired = "second_factor_required"
	CodeReauthRequired       = "reauth_required"
	CodeUnauthorized         = "unauthorized"
	CodeNotFound             = "not_found"
	CodeClientTooOld         = "client_too_old"
	CodeAccountExists        = "account_exists"
	CodeBodyTooLarge         = "body_too_large"
	CodeConflict             = "conflict"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeUnavailable          = "unavailable"
	CodeInternal             = "internal"
	CodeHandoffUnavailable   = "handoff_unavailable"
	CodeHandoffUsed          = "handoff_used"
	CodeHandoffBusy          = "handoff_busy"
	CodeLinkExpired          = "link_expired"
	CodeQuotaExceeded        = "quota_exceeded"
	CodeRangeNotSatisfiable  = "range_not_satisfiable"
)

// Error is the error object of every failed request:
// {"error":{"code":"...","message":"...", ...data}}. Client calls return it
// (use errors.As), and its Is method matches the sentinels below by code.
type Error struct {
	Status       int    `json:"-"` // the HTTP status; filled in by the client
	Code         string `json:"code"`
	Message      string `json:"message"`
	Field        string `json:"field,omitempty"`         // the request field at fault
	AttemptsLeft *int   `json:"attempts_left,omitempty"` // invalid_code
	RetryAfterS  int    `json:"retry_after_s,omitempty"` // rate_limited, account_locked
	// Reasons says more about the field at fault, e.g. the password rule
	// broken ("too_short", "no_letter", "no_digit", "no_symbol", "common",
	// "same_as_identifier").
	Reasons []string `json:"reasons,omitempty"`
	// Current is the item as it is now, when a write of it was refused
	// for a stale version (conflict).
	Current *Item `json:"current,omitempty"`
	// UploadOffset is the bytes an upload has received, when a chunk was
	// sent at another offset (conflict).
	UploadOffset *int64 `json:"upload_offset,omitempty"`
	// UsedBytes, QuotaBytes and ByCategory are the account's Mi Cloud use
	// and quota when a write would go over it (quota_exceeded); PendingBytes
	// the uploads in progress and blobs no item refers to, when an upload
	// would not fit beside them.
	UsedBytes    *int64           `json:"used_bytes,omitempty"`
	QuotaBytes   *int64           `json:"quota_bytes,omitempty"`
	PendingBytes *int64           `json:"pending_bytes,omitempty"`
	ByCategory   map[string]int64 `json:"by_category,omitempty"`
	// Cause is the underlying error of an unavailable service (a refused
	// connection, a deadline); never sent on the wire.
	Cause error `json:"-"`
}

// ErrorBody is the envelope of Error on the wire.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is reports whether target is a sentinel (or an *Error) with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Cause }

// RetryAfter is how long the server asked the client to wait.
func (e *Error) RetryAfter() time.Duration { return time.Duration(e.RetryAfterS) * time.Second }

// Attempts is the number of tries left, or -1 when the server did not say.
func (e *Error) Attempts() int {
	if e.AttemptsLeft == nil {
		return -1
	}
	return *e.AttemptsLeft
}

// Sentinels for errors.Is; they match any *Error with the same code.
var (
	// ErrInvalidInput: a field is missing, malformed or out of range.
	ErrInvalidInput = &Error{Code: CodeInvalidInput}
	// ErrWeakPassword: the password breaks a rule of the password policy.
	ErrWeakPassword = &Error{Code: CodeWeakPassword}
	// ErrInvalidCode: the verification code is wrong; attempts_left says how many tries remain.
	ErrInvalidCode = &Error{Code: CodeInvalidCode}
	// ErrCodeExpired: the challenge's code is past its lifetime.
	ErrCodeExpired = &Error{Code: CodeCodeExpired}
	// ErrTooManyAttempts: the challenge is dead after too many wrong codes.
	ErrTooManyAttempts = &Error{Code: CodeTooManyAttempts}
	// ErrRateLimited: too many sends or requests; retry_after_s says when to try again.
	ErrRateLimited = &Error{Code: CodeRateLimited}
	// ErrInvalidCredentials: the identifier or the password is wrong (never says which).
	ErrInvalidCredentials = &Error{Code: CodeInvalidCredentials}
	// ErrAccountLocked: sign-in is locked for this identifier; retry_after_s says how long.
	ErrAccountLocked = &Error{Code: CodeAccountLocked}
	// ErrSecondFactorRequired: the account has 2FA; send the TOTP code.
	ErrSecondFactorRequired = &Error{Code: CodeSecondFactorRequired}
	// ErrReauthRequired: the action needs the password again.
	ErrReauthRequired = &Error{Code: CodeReauthRequired}
	// ErrUnauthorized: no valid session.
	ErrUnauthorized = &Error{Code: CodeUnauthorized}
	// ErrNotFound: no such resource for this account.
	ErrNotFound = &Error{Code: CodeNotFound}
	// ErrClientTooOld: the client's version is below the service's minimum.
	ErrClientTooOld = &Error{Code: CodeClientTooOld}
	// ErrAccountExists: a verified registration found the identifier taken.
	ErrAccountExists = &Error{Code: CodeAccountExists}
	// ErrBodyTooLarge: the request body is over the limit.
	ErrBodyTooLarge = &Error{Code: CodeBodyTooLarge}
	// ErrUnavailable: the service could not be reached or answered 5xx.
	ErrUnavailable = &Error{Code: CodeUnavailable}
	// ErrHandoffUnavailable: the service has no public address, so it offers no hand-offs.
	ErrHandoffUnavailable = &Error{Code: CodeHandoffUnavailable}
	// ErrHandoffUsed: the hand-off's link was already used.
	ErrHandoffUsed = &Error{Code: CodeHandoffUsed}
	// ErrHandoffBusy: another submission of the link is running; try again in a moment.
	ErrHandoffBusy = &Error{Code: CodeHandoffBusy}
	// ErrLinkExpired: the hand-off's link is past its lifetime.
	ErrLinkExpired = &Error{Code: CodeLinkExpired}
	// ErrConflict: the resource changed (a stale item version, an upload at another offset) or its state does not allow the request.
	ErrConflict = &Error{Code: CodeConflict}
	// ErrQuotaExceeded: the write would take the account over its Mi Cloud quota; used_bytes, quota_bytes and by_category say where it stands.
	ErrQuotaExceeded = &Error{Code: CodeQuotaExceeded}
	// ErrRangeNotSatisfiable: a download's Range starts at or after the blob's end.
	ErrRangeNotSatisfiable = &Error{Code: CodeRangeNotSatisfiable}
)
