package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"misetup/api"
)

// handoffPath is the path of a hand-off the kiosk polls.
func handoffPath(id string) string { return "/v1/handoffs/" + url.PathEscape(id) }

// linkPath is the path of a hand-off's link, by the token of its URL.
func linkPath(token string) string { return "/v1/handoffs/link/" + url.PathEscape(token) }

// CreateHandoff asks for a hand-off (POST /v1/handoffs): a one-time link
// (Handoff.URL, shown as a QR code) on which the customer types the
// identifier and password on their own phone instead of on this kiosk.
// Send it from a kiosk client (WithKiosk), signed out. A service with no
// public address fails with api.ErrHandoffUnavailable.
func (c *Client) CreateHandoff(ctx context.Context, req api.HandoffRequest) (api.Handoff, error) {
	var h api.Handoff
	err := c.call(ctx, http.MethodPost, "/v1/handoffs", req, &h)
	return h, err
}

// Handoff polls a hand-off by its id (GET /v1/handoffs/{id}). Once the
// phone is done, a registration's answer carries its Challenge (go on to
// the code step), and the first answer of a sign-in carries its Session
// (state collected), never again: the caller keeps its token with SetToken.
func (c *Client) Handoff(ctx context.Context, id string) (api.Handoff, error) {
	var h api.Handoff
	err := c.call(ctx, http.MethodGet, handoffPath(id), nil, &h)
	return h, err
}

// WaitHandoff is Handoff as a long poll (GET /v1/handoffs/{id}?wait=N):
// while the hand-off is open or claimed the service answers when its state
// changes, or as it is after wait (whole seconds, at most 25: the service's
// cap). The call's own timeout is wait plus the client's timeout, so the
// wait never counts as a failure.
func (c *Client) WaitHandoff(ctx context.Context, id string, wait time.Duration) (api.Handoff, error) {
	secs := max(int64(wait/time.Second), 0)
	timeout := time.Duration(secs)*time.Second + max(c.timeout, DefaultTimeout)
	var h api.Handoff
	err := c.callWith(ctx, http.MethodGet, handoffPath(id)+"?wait="+strconv.FormatInt(secs, 10), nil, &h, timeout, 0)
	return h, err
}

// HandoffLink reads a hand-off's link by its token, the last segment of
// Handoff.URL (GET /v1/handoffs/link/{token}): what the phone's form needs.
// A used link fails with api.ErrHandoffUsed, an expired one with
// api.ErrLinkExpired.
func (c *Client) HandoffLink(ctx context.Context, token string) (api.HandoffLink, error) {
	var l api.HandoffLink
	err := c.call(ctx, http.MethodGet, linkPath(token), nil, &l)
	return l, err
}

// CompleteHandoff submits what the customer typed on the phone
// (POST /v1/handoffs/link/{token}): the service registers or signs in as
// POST /v1/registrations or POST /v1/sessions would, failing with the same
// errors (then the link may be used again), and answers the link done. A
// sign-in opens no session here: the kiosk's poll collects it. While
// another submission of the link runs it fails with api.ErrHandoffBusy.
func (c *Client) CompleteHandoff(ctx context.Context, token string, req api.HandoffCompletion) (api.HandoffLink, error) {
	var l api.HandoffLink
	err := c.call(ctx, http.MethodPost, linkPath(token), req, &l)
	return l, err
}
