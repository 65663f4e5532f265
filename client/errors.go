package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"misetup/api"
)

// IsUnavailable reports whether err means the service could not be reached,
// did not answer in time, or answered 5xx without saying why: worth a retry
// later, not a mistake of the user.
func IsUnavailable(err error) bool {
	return errors.Is(err, api.ErrUnavailable)
}

// decodeError turns an answer with a status outside 2xx into an *api.Error.
// The service's error body is used as it is; anything else (a proxy's HTML
// page, an empty body) gets a code chosen from the status.
func decodeError(resp *http.Response, data []byte) *api.Error {
	var body api.ErrorBody
	if err := json.Unmarshal(data, &body); err == nil && body.Error != nil && body.Error.Code != "" {
		e := body.Error
		e.Status = resp.StatusCode
		e.Cause = nil
		if e.RetryAfterS == 0 {
			e.RetryAfterS = retryAfter(resp.Header)
		}
		return e
	}
	msg := http.StatusText(resp.StatusCode)
	if msg == "" {
		msg = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return &api.Error{
		Status:      resp.StatusCode,
		Code:        codeOfStatus(resp.StatusCode),
		Message:     msg,
		RetryAfterS: retryAfter(resp.Header),
	}
}

// codeOfStatus is the error code of an answer that carried no error body.
func codeOfStatus(status int) string {
	switch {
	case status >= 500:
		return api.CodeUnavailable
	case status == http.StatusNotFound:
		return api.CodeNotFound
	case status == http.StatusUnauthorized:
		return api.CodeUnauthorized
	case status == http.StatusMethodNotAllowed:
		return api.CodeMethodNotAllowed
	case status == http.StatusConflict:
		return api.CodeConflict
	case status == http.StatusRequestEntityTooLarge:
		return api.CodeBodyTooLarge
	case status == http.StatusTooManyRequests:
		return api.CodeRateLimited
	case status >= 400:
		return api.CodeInvalidInput
	}
	// 1xx and 3xx left over after redirects: not an answer of the API.
	return api.CodeUnavailable
}

// retryAfter reads a Retry-After header given in seconds; 0 when absent or
// given as a date.
func retryAfter(h http.Header) int {
	s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || s < 0 {
		return 0
	}
	return s
}

// unavailable is the error of a request that got no usable answer: the
// service could not be reached, the context ended, or the transport failed.
func unavailable(method, path string, err error) *api.Error {
	what := "cannot reach the account service"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		what = "the account service did not answer in time"
	case errors.Is(err, context.Canceled):
		what = "the request was cancelled"
	}
	detail := err
	var ue *url.Error
	if errors.As(err, &ue) {
		detail = ue.Err // the URL is in the message already
	}
	return &api.Error{
		Code:    api.CodeUnavailable,
		Message: fmt.Sprintf("%s (%s %s: %v)", what, method, path, detail),
		Cause:   err,
	}
}

// garbled is the error of a 2xx answer that could not be read: not the
// account service speaking (a captive portal, a proxy, a different program on
// the port), so the service counts as unavailable.
func garbled(status int, method, path string, err error) *api.Error {
	return &api.Error{
		Status:  status,
		Code:    api.CodeUnavailable,
		Message: fmt.Sprintf("the answer of the account service could not be read (%s %s: %v)", method, path, err),
		Cause:   err,
	}
}
