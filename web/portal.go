// Package web is the web portal of misetup serve: the guide's sections 6
// and 7 in a browser ("track your phone from any browser", "manage your
// account online"). Its pages are drawn on the server with html/template
// and work without JavaScript; a little script only shows a Find Device
// command's state as it changes.
//
// The portal is a client of the account API like the wizard: every action
// goes through *client.Client to the service's own handler, in-process, so
// the API's rules (lockout, no enumeration, sessions, re-authentication,
// the audit log) hold for the browser exactly as they do for the terminal.
// What a page says comes from flows (the checks, the checkup, errors as
// catalog keys) and the catalogs in assets.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"misetup/client"
)

//go:embed templates static
var files embed.FS

// Options configure a Portal.
type Options struct {
	// API is the account service (the /v1 handler); the portal calls it
	// in-process with each browser's address.
	API http.Handler
	// PublicURL is the address people reach the portal at, such as
	// https://store.example.com ("" when not configured); it only decides
	// whether cookies are Secure when TLS is not seen by this process
	// (a proxy in front ends it).
	PublicURL string
	// Key seals the sign-in kept between the password and the two-step
	// code (32 bytes). Every process behind one address must use the same;
	// a random one is drawn when nil.
	Key []byte
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives what a page cannot tell a person.
	Logger *slog.Logger
}

// Portal is the web portal: an http.Handler for every path outside /v1.
type Portal struct {
	api  *client.Client
	opts Options
	// pages are parsed at the first page drawn, not when serve starts
	// (1.4 ms of a start that answers in about 30).
	pages  func() (map[string]*template.Template, error)
	static http.Handler
	// h, the routes behind the cross-origin check, is built at the first
	// request too: registering some thirty patterns was a sixth of what
	// serve did before its first answer (bench/README.md).
	h   func() http.Handler
	log *slog.Logger
}

// New returns the portal in front of opts.API.
func New(opts Options) (*Portal, error) {
	if opts.API == nil {
		return nil, errors.New("web: the account API is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Key == nil {
		opts.Key = make([]byte, 32)
		if _, err := rand.Read(opts.Key); err != nil {
			return nil, fmt.Errorf("web: key: %w", err)
		}
	}
	if len(opts.Key) < 32 {
		return nil, errors.New("web: the key has fewer than 32 bytes")
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	p := &Portal{
		// The browser's address reaches the service through the request's
		// context (withAddr), so its audit log and its per-address ceiling
		// see the person, not this process.
		api:    client.New("", client.WithHandler(addrHandler(opts.API)), client.WithUserAgent("misetup-portal")),
		opts:   opts,
		pages:  sync.OnceValues(parsePages),
		static: http.StripPrefix("/static/", http.FileServerFS(static)),
		log:    opts.Logger,
	}
	p.h = sync.OnceValue(func() http.Handler {
		cop := http.NewCrossOriginProtection()
		cop.SetDenyHandler(http.HandlerFunc(p.crossOrigin))
		return cop.Handler(p.routes())
	})
	return p, nil
}

// routes registers every page. A GET never changes anything; every change
// is a POST, refused when it comes from another site.
func (p *Portal) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /static/", http.HandlerFunc(p.serveStatic))
	m.HandleFunc("GET /{$}", p.page(p.home))
	m.HandleFunc("GET /signin", p.page(p.signInPage))
	m.HandleFunc("POST /signin", p.page(p.signIn))
	m.HandleFunc("POST /signout", p.page(p.signOut))
	m.HandleFunc("GET /forgot", p.page(p.forgotPage))
	m.HandleFunc("POST /forgot", p.page(p.forgot))
	m.HandleFunc("POST /forgot/reset", p.page(p.forgotReset))
	m.HandleFunc("POST /forgot/resend", p.page(p.forgotResend))

	m.HandleFunc("GET /account", p.authed(p.overview))
	m.HandleFunc("GET /devices/{id}", p.authed(p.devicePage))
	m.HandleFunc("POST /devices/{id}/find-device", p.authed(p.setFindDevice))
	m.HandleFunc("POST /devices/{id}/commands", p.authed(p.sendCommand))
	m.HandleFunc("GET /devices/{id}/commands/{cid}", p.authed(p.commandPage))
	m.HandleFunc("GET /devices/{id}/commands/{cid}/state", p.authed(p.commandState))
	m.HandleFunc("POST /devices/{id}/remove", p.authed(p.removeDevice))
	m.HandleFunc("GET /profile", p.authed(p.profilePage))
	m.HandleFunc("POST /profile", p.authed(p.saveProfile))
	m.HandleFunc("GET /password", p.authed(p.passwordPage))
	m.HandleFunc("POST /password", p.authed(p.changePassword))
	m.HandleFunc("GET /two-step", p.authed(p.twoStepPage))
	m.HandleFunc("POST /two-step/start", p.authed(p.twoStepStart))
	m.HandleFunc("POST /two-step/confirm", p.authed(p.twoStepConfirm))
	m.HandleFunc("POST /two-step/off", p.authed(p.twoStepOff))
	m.HandleFunc("GET /recovery", p.authed(p.recoveryPage))
	m.HandleFunc("POST /recovery", p.authed(p.addRecovery))
	m.HandleFunc("POST /recovery/verify", p.authed(p.verifyRecovery))

	m.HandleFunc("GET /h/{token}", p.page(p.handoffPage))
	m.HandleFunc("POST /h/{token}", p.page(p.completeHandoff))
	m.HandleFunc("/", p.notFound)
	return m
}

// securityHeaders are sent with every answer: no framing, no sniffing, no
// referrer, and a policy that allows only this origin's own script and
// style (no inline script at all).
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Frame-Options":              "DENY",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=()",
}

// ServeHTTP implements http.Handler.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
	if p.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	p.h().ServeHTTP(w, r)
}

// serveStatic answers the style sheet and the script; they change only
// with the binary, so a browser may keep them an hour.
func (p *Portal) serveStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	p.static.ServeHTTP(w, r)
}

// secure reports whether the browser reached r over TLS: this process
// ended it, or the configured public address is https.
func (p *Portal) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(p.opts.PublicURL, "https://")
}

// crossOrigin refuses a change sent from another site.
func (p *Portal) crossOrigin(w http.ResponseWriter, r *http.Request) {
	rq := p.request(w, r)
	rq.status = http.StatusForbidden
	rq.render("message", view{Title: rq.T("web.refused.title"), Message: rq.T("web.refused.cross_site")})
}

// notFound answers a path the portal does not have.
func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	rq := p.request(w, r)
	rq.status = http.StatusNotFound
	rq.render("message", view{Title: rq.T("web.not_found.title"), Message: rq.T("web.not_found.body"), Back: "/"})
}

// addrKey carries the browser's address to the in-process API call.
type addrKey struct{}

// withAddr returns ctx carrying the browser's address.
func withAddr(ctx context.Context, remoteAddr string) context.Context {
	return context.WithValue(ctx, addrKey{}, remoteAddr)
}

// addrHandler serves the API with the browser's address as the request's
// RemoteAddr, when the call carries one.
func addrHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := r.Context().Value(addrKey{}).(string); ok && a != "" {
			r.RemoteAddr = a
		}
		h.ServeHTTP(w, r)
	})
}
