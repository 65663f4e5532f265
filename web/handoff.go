package web

import (
	"errors"

	"misetup/api"
	"misetup/flows"
)

// handoffPage is the page a customer opens on their own phone from the
// kiosk's QR code: the form the kiosk would have shown, so that the
// password is typed here and never on the shared kiosk.
func (p *Portal) handoffPage(rq *req) {
	token := rq.r.PathValue("token")
	l, err := rq.c.HandoffLink(rq.ctx, token)
	if err != nil {
		p.handoffGone(rq, err)
		return
	}
	rq.render("handoff", p.handoffView(rq, token, l))
}

// handoffView is the phone page's view of link l.
func (p *Portal) handoffView(rq *req, token string, l api.HandoffLink) view {
	hv := &handoffView{Token: token, Purpose: l.Purpose, Register: l.Purpose == api.PurposeRegistration}
	title := rq.T("web.handoff.signin_title")
	if hv.Register {
		title = rq.T("web.handoff.create_title")
	}
	return view{Title: title, Handoff: hv, Form: map[string]string{"method": api.MethodEmail}}
}

// completeHandoff sends what the customer typed to the service, which does
// the registration or the sign-in for the kiosk. The link works once: the
// service decides that in the statement that records it.
func (p *Portal) completeHandoff(rq *req) {
	token := rq.r.PathValue("token")
	l, err := rq.c.HandoffLink(rq.ctx, token)
	if err != nil {
		p.handoffGone(rq, err)
		return
	}
	v := p.handoffView(rq, token, l)
	in := api.HandoffCompletion{Identifier: rq.form("identifier"), Password: rq.form("password")}
	second, ok := p.secondStep(rq, &in.Identifier, &in.Password, &in.TOTP)
	if !ok {
		v.Notice = rq.T("web.signin.start_again")
		rq.render("handoff", v)
		return
	}
	v.Form = map[string]string{"identifier": in.Identifier, "method": rq.form("method")}
	err = p.checkHandoff(rq, l, &in)
	if err == nil {
		_, err = rq.c.CompleteHandoff(rq.ctx, token, in)
	}
	var ae *api.Error
	switch {
	case err == nil:
		p.dropPending(rq)
		v.Handoff.Done = true
		v.Title = rq.T("web.handoff.done_title")
		rq.render("handoff", v)
	case !second && flows.Explain(err).Key == flows.ErrKeySecondFactor:
		p.sealPending(rq, pending{Identifier: in.Identifier, Password: in.Password})
		v.Title = rq.T("hub.two_step.title")
		rq.render("handoff_totp", v)
	case errors.As(err, &ae) && (ae.Code == api.CodeHandoffUsed || ae.Code == api.CodeLinkExpired):
		p.dropPending(rq)
		p.handoffGone(rq, err)
	default:
		p.handoffRefused(rq, v, err, second)
	}
}

// checkHandoff checks the form as the kiosk's own step would, before the
// service is asked.
func (p *Portal) checkHandoff(rq *req, l api.HandoffLink, in *api.HandoffCompletion) error {
	if l.Purpose != api.PurposeRegistration {
		id, err := flows.ValidateSignInID(in.Identifier)
		in.Identifier = id
		if err == nil && in.Password == "" {
			err = &flows.UserError{Key: flows.ErrKeyPasswordEmpty, AttemptsLeft: -1, Field: "password"}
		}
		return err
	}
	in.Method = rq.form("method")
	if in.Method != api.MethodPhone {
		in.Method = api.MethodEmail
	}
	region := l.Region
	if region == "" {
		region = flows.DefaultRegion(rq.cat.Lang())
	}
	id, err := flows.ValidateIdentifier(in.Method, in.Identifier, region)
	if err != nil {
		return err
	}
	in.Identifier = id
	return flows.ValidateNewPassword(in.Password, rq.form("confirm_password"), "")
}

// handoffRefused draws the phone's form again with what went wrong.
func (p *Portal) handoffRefused(rq *req, v view, err error, second bool) {
	ev, _ := rq.explain(err)
	v.Err = ev
	if second {
		if ue := flows.Explain(err); ue.Key == flows.ErrKeyTOTPInvalid || ue.Key == flows.ErrKeySecondFactor || ue.Key == flows.ErrKeyInvalidCode {
			v.Title = rq.T("hub.two_step.title")
			rq.render("handoff_totp", v)
			return
		}
		p.dropPending(rq)
	}
	rq.render("handoff", v)
}

// handoffGone says a link cannot be used: used already, expired, or never
// made.
func (p *Portal) handoffGone(rq *req, err error) {
	var ae *api.Error
	msg := rq.T("web.handoff.unknown")
	rq.status = statusOf(err)
	if errors.As(err, &ae) {
		switch ae.Code {
		case api.CodeHandoffUsed:
			msg = rq.T("web.handoff.used")
		case api.CodeLinkExpired:
			msg = rq.T("web.handoff.expired")
		}
	}
	rq.render("message", view{Title: rq.T("web.handoff.gone_title"), Message: msg})
}
