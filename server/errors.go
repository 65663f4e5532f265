package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"misetup/api"
)

// statusOf maps each error code to the one HTTP status that goes with it.
// NOTE: api/errors.go mentions a StatusOf there; it does not exist, so the
// mapping lives here, on the side that chooses statuses.
var statusOf = map[string]int{
	api.CodeInvalidInput:         http.StatusBadRequest,
	api.CodeWeakPassword:         http.StatusBadRequest,
	api.CodeInvalidCode:          http.StatusBadRequest,
	api.CodeCodeExpired:          http.StatusGone,
	api.CodeTooManyAttempts:      http.StatusTooManyRequests,
	api.CodeRateLimited:          http.StatusTooManyRequests,
	api.CodeInvalidCredentials:   http.StatusUnauthorized,
	api.CodeAccountLocked:        http.StatusLocked,
	api.CodeSecondFactorRequired: http.StatusUnauthorized,
	api.CodeReauthRequired:       http.StatusForbidden,
	api.CodeUnauthorized:         http.StatusUnauthorized,
	api.CodeNotFound:             http.StatusNotFound,
	api.CodeClientTooOld:         http.StatusUpgradeRequired,
	api.CodeAccountExists:        http.StatusConflict,
	api.CodeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	api.CodeConflict:             http.StatusConflict,
	api.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	api.CodeUnavailable:          http.StatusServiceUnavailable,
	api.CodeInternal:             http.StatusInternalServerError,
	api.CodeHandoffUnavailable:   http.StatusNotFound,
	api.CodeHandoffUsed:          http.StatusGone,
	api.CodeHandoffBusy:          http.StatusConflict,
	api.CodeLinkExpired:          http.StatusGone,
	api.CodeQuotaExceeded:        http.StatusInsufficientStorage,
	api.CodeRangeNotSatisfiable:  http.StatusRequestedRangeNotSatisfiable,
}

// httpStatus is the status an *api.Error is answered with.
func httpStatus(e *api.Error) int {
	if st, ok := statusOf[e.Code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// errInput is a 400 invalid_input naming the field at fault.
func errInput(field, format string, args ...any) *api.Error {
	return &api.Error{Code: api.CodeInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// errNotFound is a 404 for a resource of the caller's account (or none).
func errNotFound(what string) *api.Error {
	return &api.Error{Code: api.CodeNotFound, Message: what + " not found"}
}

// errConflict is a 409 for a request the resource's state does not allow.
func errConflict(field, msg string) *api.Error {
	return &api.Error{Code: api.CodeConflict, Field: field, Message: msg}
}

// errRateLimited is a 429 rate_limited asking the client to wait d.
func errRateLimited(msg string, d time.Duration) *api.Error {
	return &api.Error{Code: api.CodeRateLimited, Message: msg, RetryAfterS: seconds(d)}
}

// errLocked is a 423 account_locked until the lock ends in d.
func errLocked(d time.Duration) *api.Error {
	return &api.Error{
		Code:        api.CodeAccountLocked,
		Message:     "Too many failed attempts: sign-in is locked for a while. Try again later, or reset the password.",
		RetryAfterS: seconds(d),
	}
}

// errInvalidCredentials is the one generic sign-in failure.
func errInvalidCredentials() *api.Error {
	return &api.Error{Code: api.CodeInvalidCredentials, Message: "The account or the password is wrong."}
}

// errReauth is a 403 reauth_required: the action needs the right password.
func errReauth(field string) *api.Error {
	return &api.Error{Code: api.CodeReauthRequired, Field: field, Message: "This action needs your current password; the one given is missing or wrong."}
}

// errUnauthorized is a 401 for a missing, unknown or ended session.
func errUnauthorized() *api.Error {
	return &api.Error{Code: api.CodeUnauthorized, Message: "Sign in first: the session is missing, ended or unknown."}
}

// seconds rounds d up to whole seconds, at least 1.
func seconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		return 1
	}
	return s
}

// intp returns a pointer to n (for api.Error.AttemptsLeft).
func intp(n int) *int { return &n }

// writeError answers err: an *api.Error as itself, anything else as a 500
// whose details go to the log, never to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *api.Error
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			// The client went away; nobody reads the answer.
			ae = &api.Error{Code: api.CodeUnavailable, Message: "the request was cancelled"}
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			ae = &api.Error{Code: api.CodeInternal, Message: "Something went wrong on the server. Try again later."}
		}
	}
	if ae.RetryAfterS > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(ae.RetryAfterS))
	}
	noteErrorCode(w, ae.Code) // for the metrics of sign-in outcomes
	writeJSON(w, httpStatus(ae), api.ErrorBody{Error: ae})
}
