package ui

import (
	"time"

	"misetup/api"
	"misetup/flows"
)

// codeCondition is whether the code sent last can still be used.
type codeCondition int

const (
	codeWorks   codeCondition = iota // pending, not expired, attempts left
	codeExpired                      // its time ran out: ask for a new one (Resend code)
	codeDead                         // too many wrong codes: a new one needs a new request
	codeUsed                         // verified already (the account exists)
	codeGone                         // the service no longer knows it
)

// codeState is what the wizard knows of a verification code: the challenge
// as the service answered last, the answer to the last code typed, and
// whether it was read again after a restart. It is the one state of a code
// both renderings draw (the code screens and plain mode): condition says
// whether the code works, lines and problem say so in words, so the field,
// the message and the actions never disagree.
type codeState struct {
	ch       *api.Challenge // nil until sent or read
	attempts int            // attempts left after a wrong code; -1 when unknown
	err      error          // the last answer's error (verify or resend); nil when none
	resumed  bool           // read again after a restart: say whether the code sent then still works
	gone     bool           // the service answered that it does not know the challenge
	// resendAt is when "Resend code" may be pressed: the challenge's
	// ResendAfter, or later after a send the service refused for its rate.
	resendAt time.Time
	// read: a resumed challenge was read again (or could not be).
	read bool
	// done is the answer to the right code (the account created); nil
	// until then.
	done *api.VerifyResponse
}

func newCodeState() codeState { return codeState{attempts: -1} }

// condition is whether the code can still be used at now.
func (c codeState) condition(now time.Time) codeCondition {
	key := ""
	if ue := flows.Explain(c.err); ue != nil {
		key = ue.Key
	}
	switch {
	case c.gone || key == flows.ErrKeyNotFound:
		return codeGone
	case key == flows.ErrKeyTooManyAttempts, c.ch != nil && c.ch.State == api.ChallengeDead:
		return codeDead
	case c.ch != nil && c.ch.State == api.ChallengeVerified:
		return codeUsed
	case key == flows.ErrKeyCodeExpired, c.ch != nil && c.ch.State == api.ChallengeExpired,
		c.ch != nil && !c.ch.ExpiresAt.IsZero() && !now.Before(c.ch.ExpiresAt):
		return codeExpired
	}
	return codeWorks
}

// canType reports whether a typed code can still be checked.
func (c codeState) canType(now time.Time) bool { return c.condition(now) == codeWorks }

// verified takes the answer to a code: a wrong one counts down; a dead or
// expired one changes the condition.
func (c *codeState) verified(err error) {
	c.err = err
	ue := flows.Explain(err)
	switch {
	case ue == nil:
		if c.ch != nil {
			c.ch.State = api.ChallengeVerified
		}
	case ue.Key == flows.ErrKeyInvalidCode:
		c.attempts = ue.AttemptsLeft
		if c.ch != nil {
			c.ch.AttemptsLeft = ue.AttemptsLeft
		}
	case ue.Key == flows.ErrKeyTooManyAttempts:
		c.attempts = 0
		if c.ch != nil {
			c.ch.State = api.ChallengeDead
		}
	case ue.Key == flows.ErrKeyCodeExpired && c.ch != nil && c.ch.State == api.ChallengePending:
		c.ch.State = api.ChallengeExpired
	}
}

// sent takes a challenge the service just sent or read: a new code, or
// the state of the old one.
func (c *codeState) sent(ch api.Challenge) {
	c.ch, c.err, c.gone = &ch, nil, false
	c.attempts = -1
	c.resendAt = ch.ResendAfter
}

// id is the challenge's id; "" before there is one.
func (c codeState) id() string {
	if c.ch == nil {
		return ""
	}
	return c.ch.ID
}

// resendIn is how long until "Resend code" may be pressed; 0 when it may.
func (c codeState) resendIn(now time.Time) time.Duration {
	return max(c.resendAt.Sub(now).Round(time.Second), 0)
}

// localTime is t as the person's clock shows it.
func (sh *shared) localTime(t time.Time) string {
	return t.In(sh.now().Location()).Format("15:04")
}

// lines are what the code screens say above the field, in order: where
// the code went; whether it works, and until when (or why it does not);
// and, with the built-in service, where to read it. style tells how each
// is drawn (a warning or a failure stands out).
func (c codeState) lines(sh *shared) []styledLine {
	if c.ch == nil || c.ch.Destination == "" {
		if c.gone {
			return []styledLine{{lineFail, sh.T("code.gone")}}
		}
		return nil
	}
	ch := *c.ch
	now := sh.now()
	out := []styledLine{{lineText, sentTo(sh, ch)}}
	switch c.condition(now) {
	case codeWorks:
		left := int(ch.ExpiresAt.Sub(now).Round(time.Minute) / time.Minute)
		switch {
		case ch.ExpiresAt.IsZero():
		case c.resumed:
			out = append(out, styledLine{lineOK, sh.T("code.still_works", "at", sh.localTime(ch.CreatedAt), "until", sh.localTime(ch.ExpiresAt), "min", max(left, 1))})
		default:
			out = append(out, styledLine{lineMuted, sh.T("code.works_until", "until", sh.localTime(ch.ExpiresAt), "min", max(left, 1))})
		}
		if ch.Delivery.State == api.DeliveryFailed {
			out = append(out, styledLine{lineFail, sh.T("code.delivery_failed")})
		} else if sh.opts.Server == "" {
			out = append(out, styledLine{lineMuted, sh.T("code.outbox")})
		}
	case codeExpired:
		out = append(out, styledLine{lineWarn, sh.T("code.expired", "until", sh.localTime(ch.ExpiresAt))})
	case codeDead:
		out = append(out, styledLine{lineFail, sh.T("code.dead")})
	case codeUsed:
		out = append(out, styledLine{lineWarn, sh.T("code.used")})
	case codeGone:
		out = append(out, styledLine{lineFail, sh.T("code.gone")})
	}
	return out
}

// attemptsText is the note under the field after a wrong code: how many
// tries are left, while the code still works; "" otherwise.
func (c codeState) attemptsText(sh *shared) string {
	if c.attempts < 0 || c.err == nil || c.condition(sh.now()) != codeWorks {
		return ""
	}
	return sh.T("code.attempts_left", "n", c.attempts)
}

// styledLine is a line of text and how it is drawn; plain mode prints the
// text alone.
type styledLine struct {
	style lineStyle
	text  string
}

type lineStyle int

const (
	lineText lineStyle = iota
	lineMuted
	lineOK
	lineWarn
	lineFail
)

// render draws a styled line as a paragraph of the body.
func (sh *shared) renderLine(l styledLine) string {
	st := sh.st.Text
	switch l.style {
	case lineMuted:
		st = sh.st.Muted
	case lineOK:
		st = sh.st.OK
	case lineWarn:
		st = sh.st.Warn
	case lineFail:
		st = sh.st.Fail
	}
	return sh.paragraph(st, l.text, 0)
}
