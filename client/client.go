// Package client is the typed Go client of the misetup account API (v1).
//
// It talks to the service over HTTP, or to an in-process http.Handler (the
// embedded default, see WithHandler), through the same code path. Every call
// has a timeout; idempotent calls (GET, PUT, DELETE) are retried with
// backoff when the service could not be reached or answered 502, 503 or 504.
//
// Every failure is an *api.Error: the service's own error with its data
// (attempts_left, retry_after_s, field, reasons), or one with Code
// api.CodeUnavailable wrapping the cause when the service could not be
// reached, so errors.Is(err, api.ErrUnavailable) and
// errors.Is(err, context.DeadlineExceeded) both work.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"misetup/api"
)

const (
	// DefaultTimeout bounds each call, retries included, unless WithTimeout
	// says otherwise.
	DefaultTimeout = 10 * time.Second
	// DefaultRetries is how many times an idempotent request is retried.
	DefaultRetries = 2

	baseBackoff    = 100 * time.Millisecond
	maxAnswerBytes = 1 << 20 // answers larger than this are refused

	// inProcessBase is the base URL of requests served by WithHandler when no
	// base URL was given. The .invalid name never resolves, so such a request
	// can never leave the process by mistake.
	inProcessBase = "http://misetup.invalid"
)

// Client is a client of the account API. It is safe for concurrent use; the
// session token it holds is shared by all calls.
type Client struct {
	base      string
	hc        *http.Client
	handler   http.Handler
	timeout   time.Duration
	retries   int
	userAgent string
	kioskID   string
	storeID   string

	mu    sync.Mutex
	token string
}

// Option configures a Client in New.
type Option func(*Client)

// New returns a client of the service at baseURL, such as
// "http://127.0.0.1:8417" (without /v1).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{
		base:      strings.TrimRight(baseURL, "/"),
		timeout:   DefaultTimeout,
		retries:   DefaultRetries,
		userAgent: "misetup/" + api.Version,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	switch {
	case c.handler != nil:
		c.hc = &http.Client{Transport: handlerTransport{h: c.handler}}
		if c.base == "" {
			c.base = inProcessBase
		}
	case c.hc == nil:
		c.hc = &http.Client{}
	}
	return c
}

// WithHandler serves requests in-process from h, without a socket: the
// embedded service. baseURL may then be "". It takes precedence over
// WithHTTPClient.
func WithHandler(h http.Handler) Option {
	return func(c *Client) { c.handler = h }
}

// WithHTTPClient sends requests through hc instead of a client of its own.
// Its Timeout, if any, applies on top of WithTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithTimeout bounds each call, retries included (default 10 s). A shorter
// deadline of the caller's context still wins; d <= 0 leaves only the
// caller's.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithRetries sets how many times an idempotent request (GET, PUT, DELETE)
// is retried after a network error or a 502, 503 or 504 answer (default 2).
// The waits grow as 100ms*2^i, with jitter. POST and PATCH are never
// retried: the service may have acted on them.
func WithRetries(n int) Option {
	return func(c *Client) { c.retries = max(n, 0) }
}

// WithToken starts the client signed in with a saved session token.
func WithToken(token string) Option {
	return func(c *Client) { c.token = strings.TrimSpace(token) }
}

// WithKiosk attaches the kiosk and store ids to every request
// (X-Misetup-Kiosk and X-Misetup-Store), for the service's audit log and its
// kiosk session rules.
func WithKiosk(kioskID, storeID string) Option {
	return func(c *Client) { c.kioskID, c.storeID = kioskID, storeID }
}

// WithUserAgent replaces the User-Agent header (default "misetup/VERSION").
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// With returns a client like c, on the same connection or handler, with
// opts applied on top: a call with another session's token (a kiosk signs
// the last customer out while the next one starts), or another timeout.
func (c *Client) With(opts ...Option) *Client {
	d := &Client{base: c.base, hc: c.hc, timeout: c.timeout, retries: c.retries,
		userAgent: c.userAgent, kioskID: c.kioskID, storeID: c.storeID, token: c.Token()}
	for _, opt := range opts {
		if opt != nil {
			opt(d)
		}
	}
	switch {
	case d.handler != nil: // a handler of its own
		d.hc = &http.Client{Transport: handlerTransport{h: d.handler}}
	default:
		d.handler = c.handler
	}
	return d
}

// Token returns the session token the client holds, "" when signed out.
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// SetToken replaces the session token ("" signs the client out locally).
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = strings.TrimSpace(token)
}

// call sends one API request and decodes a 2xx answer into out when out is
// non-nil; in, when non-nil, is sent as the JSON body. path is below the base
// URL, starting with /v1/, with its parameters already escaped.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	return c.callWith(ctx, method, path, in, out, c.timeout, c.retries)
}

// callWith is call with its own timeout (<= 0: the caller's context only)
// and retries.
func (c *Client) callWith(ctx context.Context, method, path string, in, out any, timeout time.Duration, retries int) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = b
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	tries := 1
	if idempotent(method) {
		tries += retries
	}
	var err error
	for i := range tries {
		if i > 0 {
			if werr := wait(ctx, backoff(i-1)); werr != nil {
				// The last failure says why we were retrying; the context's
				// error is what the caller asked for.
				return unavailable(method, path, fmt.Errorf("%w (while retrying after: %v)", werr, err))
			}
		}
		var retry bool
		retry, err = c.attempt(ctx, method, path, body, out)
		if err == nil || !retry {
			return err
		}
	}
	return err
}

// attempt sends the request once. retry reports whether a failure is worth
// another try (for an idempotent request).
func (c *Client) attempt(ctx context.Context, method, path string, body []byte, out any) (retry bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return false, fmt.Errorf("%s %s: build request: %w", method, path, err)
	}
	c.setHeaders(req.Header, body != nil)

	resp, err := c.hc.Do(req)
	if err != nil {
		return ctx.Err() == nil, unavailable(method, path, withContext(ctx, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return ctx.Err() == nil, unavailable(method, path, withContext(ctx, err))
	}
	if len(data) > maxAnswerBytes {
		return false, garbled(resp.StatusCode, method, path, fmt.Errorf("answer over %d bytes", maxAnswerBytes))
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return retryableStatus(resp.StatusCode), decodeError(resp, data)
	}
	if out == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return false, garbled(resp.StatusCode, method, path, err)
	}
	return false, nil
}

func (c *Client) setHeaders(h http.Header, hasBody bool) {
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.userAgent)
	h.Set(api.HeaderClientVersion, api.Version)
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
	if c.kioskID != "" {
		h.Set(api.HeaderKiosk, c.kioskID)
	}
	if c.storeID != "" {
		h.Set(api.HeaderStore, c.storeID)
	}
	if t := c.Token(); t != "" {
		h.Set("Authorization", "Bearer "+t)
	}
}

// idempotent reports whether a request may be sent again without changing
// its effect.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// retryableStatus reports whether an answer comes from a proxy or a service
// that is briefly unable to serve, rather than from a decision.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is the wait before retry i (from 0): 100ms*2^i, of which the upper
// half is random so that clients that failed together do not return together.
func backoff(i int) time.Duration {
	d := baseBackoff << min(i, 10)
	return d/2 + rand.N(d/2)
}

// wait sleeps for d, or returns the context's error when it ends first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// withContext makes sure err says that the context ended, when it did, so
// errors.Is(err, context.DeadlineExceeded) holds however the transport
// reported it.
func withContext(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}
