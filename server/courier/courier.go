// Package courier delivers verification codes: to a local outbox file (the
// default, read by `misetup outbox`), by SMTP for email, or by an HTTP
// webhook for an SMS gateway. Delivery errors describe what went wrong in
// words a person can act on (the troubleshooting screen shows them as the
// courier's reason) and never contain a password or a token.
package courier

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"misetup/server/policy"
)

// Channels a message goes out on.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message is one delivery: a code to an email address or a phone number.
type Message struct {
	Time    time.Time `json:"time"`
	Channel string    `json:"channel"` // "email" or "sms"
	To      string    `json:"to"`
	Subject string    `json:"subject,omitempty"`
	Body    string    `json:"body"`
}

// Courier delivers a message, or says why it could not.
type Courier interface {
	Send(ctx context.Context, m Message) error
}

// Router sends each message with the courier of its channel.
type Router struct {
	Email, SMS Courier
}

// Send implements Courier. A channel without a courier is an error ("no
// courier for sms").
func (r Router) Send(ctx context.Context, m Message) error {
	var c Courier
	switch m.Channel {
	case ChannelEmail:
		c = r.Email
	case ChannelSMS:
		c = r.SMS
	default:
		return fmt.Errorf("unknown channel %q: want %q or %q", m.Channel, ChannelEmail, ChannelSMS)
	}
	if c == nil {
		return fmt.Errorf("no courier for %s", m.Channel)
	}
	return c.Send(ctx, m)
}

// excerpt makes untrusted text (a server's answer) safe and short enough to
// put in an error: escape sequences and control characters go (line breaks
// become spaces first), runs of space become one, and it is cut after n runes.
func excerpt(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.FieldsFunc(policy.Sanitize(s), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar
	}), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
