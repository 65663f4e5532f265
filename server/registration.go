package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// register answers POST /v1/registrations: it checks the method, identifier
// and password and sends a code. It never tells whether the identifier is
// taken: a taken one gets the same 202 after the same work (the password is
// hashed either way); only its message says so, and verify answers 409
// account_exists once the code proves the address is the caller's.
func (s *Server) register(r *http.Request) (int, any, error) {
	var req api.RegistrationRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	c, err := s.startRegistration(r, req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, s.challengeView(c), nil
}

// startRegistration is the work of POST /v1/registrations on a decoded
// request, shared with a registration hand-off: it returns the challenge
// whose code was sent, or an *api.Error for the client.
func (s *Server) startRegistration(r *http.Request, req api.RegistrationRequest) (*store.Challenge, error) {
	ctx := r.Context()
	region, err := s.region("region", req.Region)
	if err != nil {
		return nil, err
	}
	lang, err := checkLanguage("language", req.Language)
	if err != nil {
		return nil, err
	}
	if lang == "" {
		lang = requestLanguage(r)
	}
	var channel, identifier string
	switch req.Method {
	case api.MethodEmail:
		channel = api.ChannelEmail
		identifier, err = policy.ParseEmail(req.Identifier)
	case api.MethodPhone:
		channel = api.ChannelSMS
		identifier, err = policy.ParsePhone(req.Identifier, region)
	case "":
		return nil, errInput("method", "Choose a method: email or phone.")
	default:
		return nil, errInput("method", "The method must be email or phone.")
	}
	if err != nil {
		return nil, identifierError("identifier", err)
	}
	if err := s.checkNewPassword("password", req.Password, identifier); err != nil {
		return nil, err
	}
	// The send is counted before the slow hash, so a flood to one address
	// costs neither a message nor an argon2 hash past the rate.
	sendRef, err := s.reserveSend(ctx, s.st, identifier)
	if err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, req.Password)
	if err != nil {
		s.releaseSend(identifier, sendRef)
		return nil, err
	}
	return s.issueChallenge(ctx, issue{
		purpose:     api.PurposeRegistration,
		channel:     channel,
		destination: identifier,
		payload:     payload{Method: req.Method, PasswordHash: hash, Region: region, Language: lang},
	}, sendRef)
}

// completeRegistration creates the account of a registration whose code is
// right, and signs the person in on req.Device when it is set: the code,
// the account, the device, the session and the audit event are one
// transaction.
func (s *Server) completeRegistration(r *http.Request, c *store.Challenge, p payload, req api.VerifyRequest) (int, any, error) {
	ctx := r.Context()
	if req.Device != nil {
		if err := checkDevice(req.Device, "device"); err != nil {
			return 0, nil, err
		}
	}
	var out api.VerifyResponse
	err := s.inTx(ctx, func(tx store.Store) error {
		out = api.VerifyResponse{}
		if _, err := s.useCode(ctx, tx, c.ID, req.Code); err != nil {
			return err
		}
		a := &store.Account{
			PasswordHash: p.PasswordHash,
			Region:       p.Region,
			Language:     p.Language,
			QuotaBytes:   s.cfg.DefaultQuotaBytes,
			CreatedAt:    s.now(),
		}
		if c.Channel == api.ChannelSMS {
			a.Phone = c.Destination
		} else {
			a.Email = c.Destination
		}
		if err := s.createAccount(ctx, tx, a, c.Channel, c.Destination); err != nil {
			return err
		}
		if err := tx.Audit(ctx, s.auditEvent(r, a.MiID, "", "account_created", c.Channel)); err != nil {
			return err
		}
		out.Account = s.accountView(a)
		if req.Device != nil {
			sess, err := s.startSession(tx, r, a, *req.Device)
			if err != nil {
				return err
			}
			out.Session = &sess
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// createAccount inserts a with a new Mi ID in st, drawing another when the
// Mi ID collides, and answers 409 account_exists when the identifier is
// taken (the code is still spent: it proved the address is the caller's).
func (s *Server) createAccount(ctx context.Context, st store.Store, a *store.Account, channel, identifier string) error {
	exists := &api.Error{
		Code:  api.CodeAccountExists,
		Field: "identifier",
		Message: "A Mi Account already uses this " + map[string]string{api.ChannelEmail: "email address", api.ChannelSMS: "phone number"}[channel] +
			". Sign in with it, or choose Forgot password to reset its password.",
	}
	const tries = 8
	for range tries {
		var err error
		if a.MiID, err = policy.NewMiID(); err != nil {
			return fmt.Errorf("new Mi ID: %w", err)
		}
		err = st.CreateAccount(ctx, a)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("create account: %w", err)
		}
		// Either the identifier is taken or the Mi ID collided: look.
		taken, err := identifierTaken(ctx, st, channel, identifier)
		if err != nil {
			return err
		}
		if taken {
			return exists
		}
	}
	return fmt.Errorf("create account: no free Mi ID after %d tries", tries)
}

// identifierError turns a policy.InputError into a 400 naming field.
func identifierError(field string, err error) error {
	var ie *policy.InputError
	if errors.As(err, &ie) {
		return &api.Error{Code: api.CodeInvalidInput, Field: field, Message: ie.Message, Reasons: []string{ie.Reason}}
	}
	return fmt.Errorf("parse %s: %w", field, err)
}

// regionRe is an ISO 3166 alpha-2 code.
var regionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z]{2}$`) })

// region checks a region field: "" is the configured default.
func (s *Server) region(field, v string) (string, error) {
	if v == "" {
		return s.cfg.DefaultRegion, nil
	}
	return checkRegion(field, v)
}

// checkRegion checks a region field and upper-cases it ("" stays "").
func checkRegion(field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if !regionRe().MatchString(v) {
		return "", errInput(field, "The region must be a two-letter country code like CN or US.")
	}
	return strings.ToUpper(v), nil
}

// languageRe is a BCP 47 language tag, loosely: en, zh-CN, zh-Hans-CN.
var languageRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`) })

// checkLanguage checks a language field ("" stays "").
func checkLanguage(field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if !languageRe().MatchString(v) {
		return "", errInput(field, "The language must be a tag like en or zh-CN.")
	}
	return v, nil
}

// requestLanguage is the first language of Accept-Language, or "".
func requestLanguage(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first, _, _ = strings.Cut(first, ";")
	first = strings.TrimSpace(first)
	if languageRe().MatchString(first) {
		return first
	}
	return ""
}
