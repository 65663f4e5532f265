package client

import (
	"context"
	"net/http"
	"net/url"

	"misetup/api"
)

// Status asks the service for its time and versions (GET /v1/status); the
// cheapest way to learn whether it is reachable.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var s api.Status
	err := c.call(ctx, http.MethodGet, "/v1/status", nil, &s)
	return s, err
}

// Register starts a registration (POST /v1/registrations). The answer is the
// challenge whose code was sent to the identifier; it is the same whether or
// not the identifier already has an account.
func (c *Client) Register(ctx context.Context, req api.RegistrationRequest) (api.Challenge, error) {
	var ch api.Challenge
	err := c.call(ctx, http.MethodPost, "/v1/registrations", req, &ch)
	return ch, err
}

// Challenge returns a challenge's state and delivery (GET /v1/challenges/{id}).
func (c *Client) Challenge(ctx context.Context, id string) (api.Challenge, error) {
	var ch api.Challenge
	err := c.call(ctx, http.MethodGet, "/v1/challenges/"+url.PathEscape(id), nil, &ch)
	return ch, err
}

// Resend sends a challenge's code again (POST /v1/challenges/{id}/resend).
// Too soon, it fails with api.ErrRateLimited and RetryAfterS.
func (c *Client) Resend(ctx context.Context, id string) (api.Challenge, error) {
	var ch api.Challenge
	err := c.call(ctx, http.MethodPost, "/v1/challenges/"+url.PathEscape(id)+"/resend", nil, &ch)
	return ch, err
}

// Verify checks a challenge's code (POST /v1/challenges/{id}/verify). When
// the answer signs in (it carries a session), the client keeps its token. A
// wrong code fails with api.ErrInvalidCode and AttemptsLeft.
func (c *Client) Verify(ctx context.Context, id string, req api.VerifyRequest) (api.VerifyResponse, error) {
	var v api.VerifyResponse
	if err := c.call(ctx, http.MethodPost, "/v1/challenges/"+url.PathEscape(id)+"/verify", req, &v); err != nil {
		return api.VerifyResponse{}, err
	}
	if v.Session != nil && v.Session.Token != "" {
		c.SetToken(v.Session.Token)
	}
	return v, nil
}

// SignIn opens a session (POST /v1/sessions) and keeps its token for the
// calls that follow.
func (c *Client) SignIn(ctx context.Context, req api.SessionRequest) (api.Session, error) {
	var s api.Session
	if err := c.call(ctx, http.MethodPost, "/v1/sessions", req, &s); err != nil {
		return api.Session{}, err
	}
	c.SetToken(s.Token)
	return s, nil
}

// SignOut ends the session (DELETE /v1/sessions/current) and forgets the
// token, whatever the answer: a kiosk must not keep it. An error means the
// service may still hold the session until it expires. Without a token there
// is nothing to end and SignOut returns nil.
func (c *Client) SignOut(ctx context.Context) error {
	if c.Token() == "" {
		return nil
	}
	err := c.call(ctx, http.MethodDelete, "/v1/sessions/current", nil, nil)
	c.SetToken("")
	return err
}

// RequestPasswordReset sends a reset code (POST /v1/password-resets). The
// answer is the same whether or not the account exists.
func (c *Client) RequestPasswordReset(ctx context.Context, req api.PasswordResetRequest) (api.Challenge, error) {
	var ch api.Challenge
	err := c.call(ctx, http.MethodPost, "/v1/password-resets", req, &ch)
	return ch, err
}

// Account returns the signed-in account (GET /v1/account).
func (c *Client) Account(ctx context.Context) (api.Account, error) {
	var a api.Account
	err := c.call(ctx, http.MethodGet, "/v1/account", nil, &a)
	return a, err
}

// UpdateAccount changes the fields of p that are not nil (PATCH /v1/account).
func (c *Client) UpdateAccount(ctx context.Context, p api.AccountPatch) (api.Account, error) {
	var a api.Account
	err := c.call(ctx, http.MethodPatch, "/v1/account", p, &a)
	return a, err
}

// ChangePassword sets a new password (POST /v1/account/password); the
// service signs out the account's other sessions and says how many.
func (c *Client) ChangePassword(ctx context.Context, req api.PasswordChange) (api.PasswordChanged, error) {
	var out api.PasswordChanged
	err := c.call(ctx, http.MethodPost, "/v1/account/password", req, &out)
	return out, err
}

// SetRecovery asks for a recovery email or phone (PUT /v1/account/recovery);
// it counts once the returned challenge is verified.
func (c *Client) SetRecovery(ctx context.Context, req api.RecoveryRequest) (api.Challenge, error) {
	var ch api.Challenge
	err := c.call(ctx, http.MethodPut, "/v1/account/recovery", req, &ch)
	return ch, err
}

// StartTOTP begins turning two-factor authentication on
// (POST /v1/account/totp): the secret to put in an authenticator app.
func (c *Client) StartTOTP(ctx context.Context) (api.TOTPSetup, error) {
	var s api.TOTPSetup
	err := c.call(ctx, http.MethodPost, "/v1/account/totp", nil, &s)
	return s, err
}

// ConfirmTOTP turns two-factor authentication on with a first code from the
// app (POST /v1/account/totp/confirm) and returns the one-time recovery
// codes, shown once.
func (c *Client) ConfirmTOTP(ctx context.Context, code string) (api.RecoveryCodes, error) {
	var rc api.RecoveryCodes
	err := c.call(ctx, http.MethodPost, "/v1/account/totp/confirm", api.TOTPConfirm{Code: code}, &rc)
	return rc, err
}

// DisableTOTP turns two-factor authentication off (DELETE /v1/account/totp);
// it needs the password again.
func (c *Client) DisableTOTP(ctx context.Context, password string) error {
	return c.call(ctx, http.MethodDelete, "/v1/account/totp", api.PasswordConfirm{Password: password}, nil)
}
