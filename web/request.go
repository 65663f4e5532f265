package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"misetup/api"
	"misetup/assets"
	"misetup/client"
	"misetup/flows"
)

// Cookies. The session cookie holds the API session's token: HttpOnly (no
// script reads it), SameSite=Strict (no other site's link or form sends
// it), Secure and __Host- when served over TLS, and kept only while the
// browser is open. The browser id names this browser's device on the
// account, so signing in again reuses it.
const (
	cookieSession = "mi_session"
	cookieBrowser = "mi_browser"
	cookieLang    = "mi_lang"
	cookiePending = "mi_pending"
)

// callTimeout bounds one page's calls to the service.
const callTimeout = 15 * time.Second

// req is one request to the portal: the person's language, their session
// and a client of the service that carries both.
type req struct {
	p      *Portal
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	cat    *assets.Catalog
	token  string
	c      *client.Client
	status int
	cancel context.CancelFunc
}

// handler is a page: it answers through rq.
type handler func(rq *req)

// page serves a page open to anyone.
func (p *Portal) page(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := p.request(w, r)
		defer rq.done()
		h(rq)
	}
}

// authed serves a page for the signed-in: without a session the person is
// sent to sign in first, and back here after it.
func (p *Portal) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := p.request(w, r)
		defer rq.done()
		if rq.token == "" {
			next := ""
			if r.Method == http.MethodGet {
				next = r.URL.Path
			}
			rq.redirect("/signin" + query("next", next))
			return
		}
		h(rq)
	}
}

// request reads what every page needs from r.
func (p *Portal) request(w http.ResponseWriter, r *http.Request) *req {
	ctx, cancel := context.WithTimeout(withAddr(r.Context(), r.RemoteAddr), callTimeout)
	rq := &req{p: p, w: w, r: r, ctx: ctx, cancel: cancel, status: http.StatusOK}
	rq.cat = assets.MustLoad(p.language(w, r))
	if ck, err := r.Cookie(p.cookieName(r, cookieSession)); err == nil {
		rq.token = ck.Value
	}
	rq.c = p.api.With(client.WithToken(rq.token))
	return rq
}

// done releases the request's calls.
func (rq *req) done() { rq.cancel() }

// language is the page's language: ?lang= (kept in a cookie), the cookie,
// then the browser's Accept-Language, then English.
func (p *Portal) language(w http.ResponseWriter, r *http.Request) string {
	if l := assets.MatchLanguage(r.URL.Query().Get("lang")); l != "" {
		p.setCookie(w, r, cookieLang, l, 365*24*time.Hour, false)
		return l
	}
	if ck, err := r.Cookie(cookieLang); err == nil {
		if l := assets.MatchLanguage(ck.Value); l != "" {
			return l
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(part, ";")
		if l := assets.MatchLanguage(tag); l != "" {
			return l
		}
	}
	return assets.DefaultLanguage
}

// cookieName is name, with the __Host- prefix over TLS (the browser then
// refuses it from anything but this exact origin over https).
func (p *Portal) cookieName(r *http.Request, name string) string {
	if name == cookieSession && p.secure(r) {
		return "__Host-" + name
	}
	return name
}

// setCookie sets an HttpOnly, SameSite=Strict cookie for the whole site;
// maxAge 0 keeps it while the browser is open, < 0 removes it.
func (p *Portal) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration, sessionOnly bool) {
	ck := &http.Cookie{
		Name:     p.cookieName(r, name),
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   p.secure(r),
		SameSite: http.SameSiteStrictMode,
	}
	switch {
	case maxAge < 0:
		ck.MaxAge = -1
	case !sessionOnly:
		ck.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, ck)
}

// T is the catalog's text of key.
func (rq *req) T(key string, args ...any) string { return rq.cat.T(key, args...) }

// form is the value of a form field, trimmed unless it is a password.
func (rq *req) form(name string) string {
	v := rq.r.PostFormValue(name)
	if strings.Contains(name, "password") {
		return v
	}
	return strings.TrimSpace(v)
}

// redirect sends the browser to path with 303 See Other (a POST is never
// repeated by reloading its answer).
func (rq *req) redirect(path string) {
	http.Redirect(rq.w, rq.r, path, http.StatusSeeOther)
}

// signedIn keeps the session's token in the cookie.
func (rq *req) signedIn(token string) {
	rq.token = token
	rq.c.SetToken(token)
	rq.p.setCookie(rq.w, rq.r, cookieSession, token, 0, true)
}

// signedOut forgets the session.
func (rq *req) signedOut() {
	rq.token = ""
	rq.c.SetToken("")
	rq.p.setCookie(rq.w, rq.r, cookieSession, "", -1, false)
}

// browserID is this browser's lasting id (a cookie), made on first use.
func (rq *req) browserID() string {
	if ck, err := rq.r.Cookie(cookieBrowser); err == nil && len(ck.Value) == 32 {
		if _, err := hex.DecodeString(ck.Value); err == nil {
			return ck.Value
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	rq.p.setCookie(rq.w, rq.r, cookieBrowser, id, 2*365*24*time.Hour, false)
	return id
}

// errView is an error as a page shows it: what happened, what to do, and
// the form field at fault.
type errView struct {
	Text, Hint, Field string
}

// explain turns err into words in the page's language, and the page's
// status into err's; a session that ended sends the person to sign in
// again (reported by the bool).
func (rq *req) explain(err error) (*errView, bool) {
	ue := flows.Explain(err)
	if ue == nil {
		return nil, false
	}
	if ue.Key == flows.ErrKeyUnauthorized {
		rq.signedOut()
		rq.redirect("/signin" + query("ended", "1"))
		return nil, true
	}
	args := append(append([]any{}, ue.Args...), "server", rq.T("web.service"))
	ev := &errView{Text: rq.T(ue.Key, args...), Hint: rq.cat.TOr(ue.Hint(), "", args...), Field: ue.Field}
	rq.status = statusOf(err)
	if ev.Field == "" {
		ev.Field = fieldOfKey(ue.Key)
	}
	if ue.Key == flows.ErrKeyUnknown || ue.Key == flows.ErrKeyInternal {
		rq.p.log.Warn("portal: call failed", "path", rq.r.URL.Path, "err", err)
	}
	return ev, false
}

// fieldOfKey is the form field an error about one field names.
func fieldOfKey(key string) string {
	switch key {
	case flows.ErrKeyPasswordEmpty, flows.ErrKeyInvalidCreds:
		return "password"
	case flows.ErrKeyTOTPFormat, flows.ErrKeyTOTPInvalid, flows.ErrKeySecondFactor:
		return "totp"
	case flows.ErrKeyInvalidCode, flows.ErrKeyCodeFormat:
		return "code"
	case flows.ErrKeyIdentifierEmpty, flows.ErrKeyEmailInvalid, flows.ErrKeyEmailSpace, flows.ErrKeyPhoneInvalid:
		return "identifier"
	}
	return ""
}

// render draws page name with v and answers it.
func (rq *req) render(name string, v view) {
	pages, err := rq.p.pages()
	if err != nil {
		panic(err) // the embedded templates: a test draws every page
	}
	t, ok := pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	v.rq = rq
	v.Lang = rq.cat.Lang()
	v.Signed = rq.token != ""
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		rq.p.log.Error("portal: draw page", "page", name, "err", err)
		http.Error(rq.w, "This page could not be drawn.", http.StatusInternalServerError)
		return
	}
	h := rq.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", v.Lang)
	rq.w.WriteHeader(rq.status)
	_, _ = rq.w.Write(buf.Bytes())
}

// query is "?name=value", or "" when value is empty.
func query(name, value string) string {
	if value == "" {
		return ""
	}
	return "?" + url.Values{name: {value}}.Encode()
}

// statusOf is the HTTP status a page answers for err: the service's, or
// 400 for what the page itself refused.
func statusOf(err error) int {
	var ae *api.Error
	if errors.As(err, &ae) && ae.Status >= 400 {
		return ae.Status
	}
	return http.StatusBadRequest
}
