package web

import (
	"net/http"
	"strings"

	"misetup/api"
	"misetup/flows"
)

// home sends the person to their account, or to sign in.
func (p *Portal) home(rq *req) {
	if rq.token != "" {
		rq.redirect("/account")
		return
	}
	rq.redirect("/signin")
}

// signInPage is the sign-in form; ?ended=1 says the session ended, ?out=1
// that the person signed out.
func (p *Portal) signInPage(rq *req) {
	if rq.token != "" {
		rq.redirect("/account")
		return
	}
	v := view{Title: rq.T("web.signin.title"), Next: safeNext(rq.r.URL.Query().Get("next"))}
	switch {
	case rq.r.URL.Query().Get("ended") != "":
		v.Notice = rq.T("err.unauthorized.hint")
	case rq.r.URL.Query().Get("out") != "":
		v.Notice = rq.T("web.signed_out")
	case rq.r.URL.Query().Get("reset") != "":
		v.Notice = rq.T("web.reset.done")
	}
	rq.render("signin", v)
}

// signIn checks the identifier and the password (and the two-step code when
// the account asks for it) through the service's sign-in, which counts
// failures and locks the identifier exactly as for the wizard.
//
// Between the password and the code the sign-in is kept sealed in a
// five-minute cookie, so the password is never written into a page.
func (p *Portal) signIn(rq *req) {
	v := view{Title: rq.T("web.signin.title"), Next: safeNext(rq.form("next"))}
	in := flows.SignInInput{
		Identifier: rq.form("identifier"),
		Password:   rq.form("password"),
		Region:     flows.DefaultRegion(rq.cat.Lang()),
		Device:     rq.browserDevice(),
	}
	second, ok := p.secondStep(rq, &in.Identifier, &in.Password, &in.TOTP)
	if !ok {
		v.Notice = rq.T("web.signin.start_again")
		rq.render("signin", v)
		return
	}
	if second && in.TOTP == "" {
		in.TOTP = " " // asked and left empty: flows says which field
	}
	v.Form = map[string]string{"identifier": in.Identifier}
	s, err := flows.SignIn(rq.ctx, rq.c, nil, in)
	if err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		v.Err = ev
		ue := flows.Explain(err)
		switch {
		case ue.Key == flows.ErrKeySecondFactor && !second:
			p.sealPending(rq, pending{Identifier: in.Identifier, Password: in.Password})
			v.Err, rq.status = nil, http.StatusOK // asked for the code: not a refusal
			v.Title = rq.T("hub.two_step.title")
			rq.render("signin_totp", v)
			return
		case second && (ue.Key == flows.ErrKeyTOTPInvalid || ue.Key == flows.ErrKeyTOTPFormat):
			v.Title = rq.T("hub.two_step.title")
			rq.render("signin_totp", v)
			return
		}
		p.dropPending(rq)
		rq.render("signin", v)
		return
	}
	p.dropPending(rq)
	rq.signedIn(s.Token)
	rq.redirect(orDefault(v.Next, "/account"))
}

// secondStep reports whether the form is the two-step code's, the second
// step of a sign-in; it then fills in the identifier and the password kept
// since the first, and the code typed. ok is false when the kept sign-in
// is gone (five minutes passed): the person starts again.
func (p *Portal) secondStep(rq *req, identifier, password, code *string) (second, ok bool) {
	if rq.r.PostFormValue("step") != "totp" {
		return false, true
	}
	pend, ok := p.openPending(rq)
	if !ok {
		return true, false
	}
	*identifier, *password, *code = pend.Identifier, pend.Password, rq.form("totp")
	return true, true
}

// signOut ends the session on the service and forgets it here.
func (p *Portal) signOut(rq *req) {
	if rq.token != "" {
		_ = rq.c.SignOut(rq.ctx) // an ended session is signed out already
	}
	rq.signedOut()
	rq.redirect("/signin?out=1")
}

// forgotPage asks for the identifier of the account to reset.
func (p *Portal) forgotPage(rq *req) {
	rq.render("forgot", view{Title: rq.T("reset.heading")})
}

// forgot asks the service for a reset code. It answers the same whether or
// not the account exists, and so does this page.
func (p *Portal) forgot(rq *req) {
	id := rq.form("identifier")
	ch, err := flows.RequestReset(rq.ctx, rq.c, id, flows.DefaultRegion(rq.cat.Lang()))
	if err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		rq.render("forgot", view{Title: rq.T("reset.heading"), Err: ev, Form: map[string]string{"identifier": id}})
		return
	}
	rq.render("reset", view{Title: rq.T("reset.heading"), Challenge: &ch})
}

// forgotReset sets the new password with the code, which also unlocks the
// account; the person then signs in with it.
func (p *Portal) forgotReset(rq *req) {
	in := flows.ResetInput{
		ChallengeID: rq.form("challenge"),
		Code:        strings.ReplaceAll(rq.form("code"), " ", ""),
		Password:    rq.form("new_password"),
		Confirm:     rq.form("confirm_password"),
	}
	if _, err := flows.FinishReset(rq.ctx, rq.c, nil, in); err != nil {
		p.resetAgain(rq, in.ChallengeID, err, "")
		return
	}
	rq.redirect("/signin?reset=1")
}

// forgotResend sends the reset code again.
func (p *Portal) forgotResend(rq *req) {
	id := rq.form("challenge")
	if _, err := flows.Resend(rq.ctx, rq.c, id); err != nil {
		p.resetAgain(rq, id, err, "")
		return
	}
	p.resetAgain(rq, id, nil, rq.T("web.code_sent_again"))
}

// resetAgain draws the reset form of challenge id again, with what went
// wrong or a notice.
func (p *Portal) resetAgain(rq *req, id string, err error, notice string) {
	v := view{Title: rq.T("reset.heading"), Notice: notice}
	if err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		v.Err = ev
	}
	ch, cerr := rq.c.Challenge(rq.ctx, id)
	if cerr != nil {
		// The challenge is gone (unknown or expired long ago): start over.
		v.Err, _ = rq.explain(cerr)
		rq.render("forgot", v)
		return
	}
	v.Challenge = &ch
	rq.render("reset", v)
}

// browserDevice is this browser as a device of the account: "Firefox on
// Linux", kept across sign-ins by the browser's cookie.
func (rq *req) browserDevice() api.Device {
	browser, os := describeAgent(rq.r.UserAgent())
	name := rq.T("web.device.browser", "browser", browser)
	if os != "" {
		name = rq.T("web.device.browser_on", "browser", browser, "os", os)
	}
	return api.Device{ID: "web-" + rq.browserID(), Name: name, Model: rq.T("web.device.model"), OS: os}
}

// safeNext is a path on this site to go to after signing in, or "".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
