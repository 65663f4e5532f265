package web

import (
	"html/template"
	"strings"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
	"misetup/internal/qr"
)

// twoStepView is the two-step page's state: off, being set up, just
// turned on (its recovery codes), or on.
type twoStepView struct {
	On    bool
	URI   string        // set-up: the otpauth URI (kept for the page drawn again)
	QR    template.HTML // set-up: the URI as an SVG QR code
	Key   string        // set-up: the key for typing by hand, in groups of 4
	Codes []string      // just turned on: the recovery codes
}

// handoffView is a kiosk hand-off as the phone shows it.
type handoffView struct {
	Token, Purpose string
	Register       bool
	Done           bool
}

// profilePage shows the name, the region and the language.
func (p *Portal) profilePage(rq *req) {
	acc, err := rq.c.Account(rq.ctx)
	if err != nil {
		p.failed(rq, err)
		return
	}
	rq.render("profile", view{Title: rq.T("hub.profile.title"), Account: &acc, Form: map[string]string{
		"display_name": acc.DisplayName, "region": acc.Region, "language": acc.Language,
	}})
}

// saveProfile saves the profile's fields.
func (p *Portal) saveProfile(rq *req) {
	form := map[string]string{"display_name": rq.form("display_name"), "region": rq.form("region"), "language": rq.form("language")}
	if _, err := flows.SaveProfile(rq.ctx, rq.c, form["display_name"], form["region"], form["language"]); err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		acc, _ := rq.c.Account(rq.ctx)
		rq.render("profile", view{Title: rq.T("hub.profile.title"), Account: &acc, Err: ev, Form: form})
		return
	}
	rq.redirect("/account?done=profile")
}

// Regions are the profile's region choices.
func (v view) Regions() []option {
	var out []option
	for _, r := range flows.Regions() {
		out = append(out, option{Value: r.Code, Label: v.T("country." + r.Code), Selected: r.Code == v.Val("region")})
	}
	return out
}

// LanguageChoices are the profile's language choices.
func (v view) LanguageChoices() []option {
	var out []option
	for _, l := range assets.Languages() {
		out = append(out, option{Value: l, Label: assets.Name(l), Selected: l == v.Val("language")})
	}
	return out
}

// option is a choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// passwordPage asks for the current password and the new one twice.
func (p *Portal) passwordPage(rq *req) {
	rq.render("password", view{Title: rq.T("hub.password.title")})
}

// changePassword changes the password; the service signs the account's
// other sessions out and keeps this one.
func (p *Portal) changePassword(rq *req) {
	n, err := flows.ChangePassword(rq.ctx, rq.c, rq.form("current_password"), rq.form("new_password"), rq.form("confirm_password"))
	v := view{Title: rq.T("hub.password.title")}
	if err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		if ev.Field == "password" {
			ev.Field = "current_password"
		}
		v.Err = ev
		rq.render("password", v)
		return
	}
	v.Notice = rq.T("hub.password.changed", "n", n)
	rq.render("password", v)
}

// twoStepPage shows whether two-step verification is on.
func (p *Portal) twoStepPage(rq *req) {
	acc, err := rq.c.Account(rq.ctx)
	if err != nil {
		p.failed(rq, err)
		return
	}
	rq.render("twostep", view{Title: rq.T("hub.two_step.title"), Account: &acc, TwoStep: &twoStepView{On: acc.TOTPEnabled}, Notice: p.noticeOf(rq)})
}

// twoStepStart makes a new key and shows it as a QR code.
func (p *Portal) twoStepStart(rq *req) {
	setup, err := flows.StartTwoStep(rq.ctx, rq.c)
	if err != nil {
		p.failed(rq, err)
		return
	}
	rq.render("twostep", view{Title: rq.T("hub.two_step.scan_title"), TwoStep: p.setupView(rq, setup.OTPAuthURI, setup.Secret)})
}

// setupView is the set-up state of the two-step page for uri.
func (p *Portal) setupView(rq *req, uri, secret string) *twoStepView {
	tv := &twoStepView{URI: uri, Key: groups(secret, 4)}
	if m, err := qr.Encode(uri, qr.M, 4); err == nil {
		tv.QR = template.HTML(qr.SVG(m, rq.T("web.two_step.qr_label"))) // #nosec: built from numbers only, label escaped
	}
	return tv
}

// twoStepConfirm turns two-step verification on with the app's first code
// and shows the recovery codes, once.
func (p *Portal) twoStepConfirm(rq *req) {
	codes, err := flows.ConfirmTwoStep(rq.ctx, rq.c, rq.form("code"))
	if err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		ev.Field = "code"
		uri := rq.form("uri")
		rq.render("twostep", view{Title: rq.T("hub.two_step.code_title"), Err: ev, TwoStep: p.setupView(rq, uri, secretOf(uri))})
		return
	}
	rq.render("twostep", view{Title: rq.T("hub.two_step.codes_title"), TwoStep: &twoStepView{On: true, Codes: codes}})
}

// twoStepOff turns two-step verification off with the password.
func (p *Portal) twoStepOff(rq *req) {
	if err := flows.DisableTwoStep(rq.ctx, rq.c, rq.form("password")); err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		ev.Field = "password"
		rq.render("twostep", view{Title: rq.T("hub.two_step.title"), Err: ev, TwoStep: &twoStepView{On: true}})
		return
	}
	rq.redirect("/two-step?done=two_step_off")
}

// secretOf is the secret of an otpauth URI, "" when it has none.
func secretOf(uri string) string {
	_, q, _ := strings.Cut(uri, "secret=")
	s, _, _ := strings.Cut(q, "&")
	return s
}

// groups is s in groups of n characters, for reading aloud or typing.
func groups(s string, n int) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%n == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// recoveryPage shows the recovery contacts and a form to add one.
func (p *Portal) recoveryPage(rq *req) {
	p.drawRecovery(rq, nil, "", nil)
}

func (p *Portal) drawRecovery(rq *req, ev *errView, notice string, form map[string]string) {
	acc, err := rq.c.Account(rq.ctx)
	if err != nil {
		p.failed(rq, err)
		return
	}
	if form == nil {
		form = map[string]string{"method": api.MethodEmail}
	}
	rq.render("recovery", view{Title: rq.T("hub.recovery.title"), Account: &acc, Err: ev, Notice: notice, Form: form})
}

// addRecovery sends a code to a new recovery email or phone.
func (p *Portal) addRecovery(rq *req) {
	method := rq.form("method")
	if method != api.MethodPhone {
		method = api.MethodEmail
	}
	form := map[string]string{"method": method, "identifier": rq.form("identifier")}
	ch, err := flows.AddRecovery(rq.ctx, rq.c, method, form["identifier"], flows.DefaultRegion(rq.cat.Lang()))
	if err != nil {
		ev, gone := rq.explain(err)
		if gone {
			return
		}
		p.drawRecovery(rq, ev, "", form)
		return
	}
	rq.render("recovery_code", view{Title: rq.T("hub.recovery.code_title"), Challenge: &ch})
}

// verifyRecovery checks the code the new contact received.
func (p *Portal) verifyRecovery(rq *req) {
	id := rq.form("challenge")
	err := flows.VerifyRecovery(rq.ctx, rq.c, id, strings.ReplaceAll(rq.form("code"), " ", ""))
	if err == nil {
		p.drawRecovery(rq, nil, rq.T("web.recovery.verified"), nil)
		return
	}
	ev, gone := rq.explain(err)
	if gone {
		return
	}
	ch, cerr := rq.c.Challenge(rq.ctx, id)
	if cerr != nil {
		p.drawRecovery(rq, ev, "", nil)
		return
	}
	rq.render("recovery_code", view{Title: rq.T("hub.recovery.code_title"), Challenge: &ch, Err: ev})
}
