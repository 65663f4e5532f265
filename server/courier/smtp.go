package courier

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// SMTPConfig says how to reach a mail server.
type SMTPConfig struct {
	Addr     string // host:port, e.g. mail.example.com:587
	From     string // the sender, "misetup <no-reply@example.com>" or a bare address
	Username string // AUTH PLAIN when set
	Password string
	// HelloName is the name sent with EHLO; the host name when empty.
	HelloName string
	// Timeout bounds the whole delivery, from dialling to QUIT; 30 s when 0.
	Timeout time.Duration
	// TLSConfig is used for STARTTLS (and ImplicitTLS). nil means the
	// system roots, with ServerName taken from Addr.
	TLSConfig *tls.Config
	// RequireTLS refuses to deliver when the server does not offer STARTTLS.
	RequireTLS bool
	// ImplicitTLS speaks TLS from the first byte ("SMTPS", port 465) instead
	// of upgrading with STARTTLS.
	ImplicitTLS bool
}

// SMTP delivers email through a mail server.
type SMTP struct {
	cfg SMTPConfig
}

// NewSMTP returns a courier that delivers email as cfg says.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &SMTP{cfg: cfg}
}

// fail describes a failed step of a delivery to addr, for example
// "smtp mail.example.com:587: RCPT TO ann@example.com: server answered 550
// 5.1.1 No such user".
// budget is the time the delivery had, named when the step timed out.
func fail(addr string, budget time.Duration, step string, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("smtp %s: %s: no answer within %s: %w", addr, step, budget.Round(time.Millisecond), err)
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		err = &replyError{te}
	}
	return fmt.Errorf("smtp %s: %s: %w", addr, step, err)
}

// replyError shows a server's refusal as "server answered 550 5.1.1 No such
// user", its text made safe to display.
type replyError struct{ reply *textproto.Error }

// Error implements error.
func (e *replyError) Error() string {
	return fmt.Sprintf("server answered %03d %s", e.reply.Code, excerpt(e.reply.Msg, 200))
}

// Unwrap gives the server's reply for errors.As.
func (e *replyError) Unwrap() error { return e.reply }

// Send implements Courier: it dials the server, says EHLO, upgrades with
// STARTTLS when the server offers it (and fails when it does not and
// RequireTLS is set), authenticates with AUTH PLAIN only over TLS or to a
// loopback server, and sends the message as text/plain UTF-8,
// quoted-printable.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil {
		return fmt.Errorf("smtp: sender %q is not an email address: %w", s.cfg.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "" {
		return fmt.Errorf("smtp: recipient %q is not a bare email address", excerpt(m.To, 100))
	}
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("smtp: server address %q needs a host and a port, like mail.example.com:587", s.cfg.Addr)
	}
	msg, err := s.compose(from, to, m)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	budget := time.Until(deadline) // the timeout, or less when ctx ends sooner
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("smtp %s: delivery cancelled: %w", s.cfg.Addr, ctx.Err())
	case err != nil && ctx.Err() != nil:
		return fail(s.cfg.Addr, budget, "connect", &timeoutError{err})
	case err != nil:
		return fail(s.cfg.Addr, budget, "connect", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return fail(s.cfg.Addr, budget, "connect", err)
	}
	// Cancelling ctx interrupts whatever read or write is in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	err = s.deliver(conn, host, from.Address, to.Address, msg, func(step string, err error) error {
		return fail(s.cfg.Addr, budget, step, err)
	})
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("smtp %s: delivery cancelled: %w", s.cfg.Addr, ctx.Err())
	}
	return err
}

// timeoutError marks a dial that ctx's deadline cut short as a timeout.
type timeoutError struct{ err error }

// Error implements error.
func (e *timeoutError) Error() string { return e.err.Error() }

// Unwrap gives the dial error.
func (e *timeoutError) Unwrap() error { return e.err }

// Timeout implements net.Error.
func (e *timeoutError) Timeout() bool { return true }

// Temporary implements net.Error.
func (e *timeoutError) Temporary() bool { return true }

func (s *SMTP) tlsConfig(host string) *tls.Config {
	cfg := s.cfg.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	return cfg
}

func (s *SMTP) deliver(conn net.Conn, host, from, to string, msg []byte, fail func(step string, err error) error) error {
	if s.cfg.ImplicitTLS {
		tc := tls.Client(conn, s.tlsConfig(host))
		if err := tc.Handshake(); err != nil {
			return fail("TLS handshake", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.helloName()); err != nil {
		return fail("EHLO", err)
	}
	_, isTLS := c.TLSConnectionState()
	if !isTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig(host)); err != nil {
				return fail("STARTTLS", err)
			}
			isTLS = true
		} else if s.cfg.RequireTLS {
			return fail("STARTTLS", errors.New("the server does not offer STARTTLS and TLS is required"))
		}
	}
	if s.cfg.Username != "" {
		if !isTLS && !isLoopback(host) {
			return fail("AUTH", errors.New("refusing to send the password without TLS: the server did not offer STARTTLS"))
		}
		ok, mechs := c.Extension("AUTH")
		switch {
		case !ok:
			return fail("AUTH", errors.New("a username is configured but the server does not offer AUTH"))
		case !hasWord(mechs, "PLAIN"):
			return fail("AUTH", fmt.Errorf("the server offers AUTH %s, not PLAIN", mechs))
		}
		if err := c.Auth(plainAuth{username: s.cfg.Username, password: s.cfg.Password}); err != nil {
			return fail("AUTH as "+s.cfg.Username, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fail("RCPT TO "+to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail("DATA", err)
	}
	// The server accepted the message at the end of DATA: a failed QUIT
	// does not undo that.
	_ = c.Quit()
	return nil
}

func (s *SMTP) helloName() string {
	if s.cfg.HelloName != "" {
		return s.cfg.HelloName
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// compose writes the message: headers, then the body quoted-printable.
func (s *SMTP) compose(from, to *mail.Address, m Message) ([]byte, error) {
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	var id [16]byte
	_, _ = rand.Read(id[:])
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	if subject := oneLine(m.Subject); subject != "" {
		header("Subject", mime.QEncoding.Encode("utf-8", subject))
	}
	date := m.Time
	if date.IsZero() {
		date = time.Now()
	}
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Body)); err != nil {
		return nil, fmt.Errorf("smtp: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("smtp: encode body: %w", err)
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// oneLine keeps a header value on one line: control characters become spaces.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s))
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plainAuth is SASL PLAIN (RFC 4616). net/smtp's PlainAuth allows clear text
// only to the names "localhost", "127.0.0.1" and "::1"; Send has already
// decided (TLS, or any loopback address), so this one does not check again.
type plainAuth struct{ username, password string }

// Start implements smtp.Auth.
func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

// Next implements smtp.Auth.
func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge after AUTH PLAIN")
	}
	return nil, nil
}
