package courier_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"misetup/server/courier"
)

// received is one message a test SMTP server took.
type received struct {
	from, to string
	data     []byte
	tls      bool   // the session was TLS when DATA came
	user     string // who authenticated, "" for nobody
}

// mailServer is a real SMTP server on 127.0.0.1 (emersion/go-smtp) that
// records what it receives.
type mailServer struct {
	addr string
	mu   sync.Mutex
	msgs []received
	// rejectRcpt makes RCPT fail like an unknown mailbox.
	rejectRcpt bool
	// users are the accepted AUTH PLAIN credentials; nil offers no AUTH.
	users map[string]string
}

type serverOpts struct {
	tls          *tls.Config // offer STARTTLS (or speak TLS at once with implicit)
	implicit     bool
	insecureAuth bool
	users        map[string]string
	rejectRcpt   bool
}

func startMailServer(t *testing.T, o serverOpts) *mailServer {
	t.Helper()
	ms := &mailServer{users: o.users, rejectRcpt: o.rejectRcpt}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ms: ms, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = o.insecureAuth
	s.ErrorLog = log.New(io.Discard, "", 0) // clients hanging up mid-test are expected
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	var l net.Listener
	var err error
	if o.implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", o.tls)
	} else {
		s.TLSConfig = o.tls
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = l.Addr().String()
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return ms
}

func (ms *mailServer) received() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.msgs...)
}

type session struct {
	ms       *mailServer
	conn     *smtp.Conn
	from, to string
	user     string
}

func (s *session) AuthMechanisms() []string {
	if s.ms.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if want, ok := s.ms.users[user]; ok && want == pass {
			s.user = user
			return nil
		}
		return smtp.ErrAuthFailed
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.ms.users != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ms.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ms.mu.Lock()
	s.ms.msgs = append(s.ms.msgs, received{from: s.from, to: s.to, data: b, tls: isTLS, user: s.user})
	s.ms.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a client config that
// trusts only it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "misetup test smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}

func codeMessage() courier.Message {
	return courier.Message{
		Time:    time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Channel: "email",
		To:      "ann@example.com",
		Subject: "Mi Account 验证码",
		Body:    "Your code is 123456.\n.\nIt expires in 10 minutes. Ünïcødé = fine.",
	}
}

func TestSMTPPlain(t *testing.T) {
	ms := startMailServer(t, serverOpts{})
	c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "Mi Account <no-reply@misetup.example>", Timeout: 10 * time.Second})
	if err := c.Send(context.Background(), codeMessage()); err != nil {
		t.Fatal(err)
	}
	got := ms.received()
	if len(got) != 1 {
		t.Fatalf("server got %d messages, want 1", len(got))
	}
	r := got[0]
	if r.from != "no-reply@misetup.example" || r.to != "ann@example.com" || r.tls {
		t.Errorf("envelope from=%q to=%q tls=%v", r.from, r.to, r.tls)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(r.data)))
	if err != nil {
		t.Fatalf("server got an unparsable message: %v\n%s", err, r.data)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != "Mi Account 验证码" {
		t.Errorf("Subject = %q (%v), raw %q", subject, err, m.Header.Get("Subject"))
	}
	if raw := m.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?") {
		t.Errorf("non-ASCII subject %q is not RFC 2047 encoded", raw)
	}
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "no-reply@misetup.example" || from[0].Name != "Mi Account" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "ann@example.com") {
		t.Errorf("To = %q", to)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(codeMessage().Time) {
		t.Errorf("Date = %v (%v)", d, err)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@misetup.example>") {
		t.Errorf("Message-ID = %q", id)
	}
	for k, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); strings.TrimRight(got, "\n") != codeMessage().Body {
		t.Errorf("body = %q, want %q", got, codeMessage().Body)
	}
}

func TestSMTPStartTLS(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	ms := startMailServer(t, serverOpts{tls: serverTLS})
	c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", TLSConfig: clientTLS, RequireTLS: true})
	if err := c.Send(context.Background(), codeMessage()); err != nil {
		t.Fatal(err)
	}
	if got := ms.received(); len(got) != 1 || !got[0].tls {
		t.Fatalf("received %+v, want one message over TLS", got)
	}
}

func TestSMTPStartTLSUntrustedCert(t *testing.T) {
	serverTLS, _ := selfSigned(t)
	ms := startMailServer(t, serverOpts{tls: serverTLS})
	_, otherClient := selfSigned(t) // trusts a different certificate
	c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", TLSConfig: otherClient})
	err := c.Send(context.Background(), codeMessage())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Send to an untrusted server = %v, want a STARTTLS certificate error", err)
	}
	if len(ms.received()) != 0 {
		t.Error("the message was delivered over an untrusted connection")
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	ms := startMailServer(t, serverOpts{tls: serverTLS, implicit: true})
	c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", TLSConfig: clientTLS, ImplicitTLS: true})
	if err := c.Send(context.Background(), codeMessage()); err != nil {
		t.Fatal(err)
	}
	if got := ms.received(); len(got) != 1 || !got[0].tls {
		t.Fatalf("received %+v, want one message over TLS", got)
	}
}

func TestSMTPRequireTLSWithoutStartTLS(t *testing.T) {
	ms := startMailServer(t, serverOpts{})
	c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", RequireTLS: true})
	err := c.Send(context.Background(), codeMessage())
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("Send = %v, want an error saying the server offers no STARTTLS", err)
	}
	if len(ms.received()) != 0 {
		t.Error("the message went out without TLS")
	}
}

func TestSMTPAuth(t *testing.T) {
	const secret = "s3cret-pa55"
	t.Run("over STARTTLS", func(t *testing.T) {
		serverTLS, clientTLS := selfSigned(t)
		ms := startMailServer(t, serverOpts{tls: serverTLS, users: map[string]string{"kiosk": secret}})
		c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", Username: "kiosk", Password: secret, TLSConfig: clientTLS})
		if err := c.Send(context.Background(), codeMessage()); err != nil {
			t.Fatal(err)
		}
		if got := ms.received(); len(got) != 1 || got[0].user != "kiosk" || !got[0].tls {
			t.Fatalf("received %+v, want one message from kiosk over TLS", got)
		}
	})
	t.Run("to loopback without TLS", func(t *testing.T) {
		ms := startMailServer(t, serverOpts{insecureAuth: true, users: map[string]string{"kiosk": secret}})
		c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", Username: "kiosk", Password: secret})
		if err := c.Send(context.Background(), codeMessage()); err != nil {
			t.Fatal(err)
		}
		if got := ms.received(); len(got) != 1 || got[0].user != "kiosk" {
			t.Fatalf("received %+v, want one message from kiosk", got)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		ms := startMailServer(t, serverOpts{insecureAuth: true, users: map[string]string{"kiosk": secret}})
		c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", Username: "kiosk", Password: "wrong-" + secret})
		err := c.Send(context.Background(), codeMessage())
		if err == nil || !strings.Contains(err.Error(), "535") || !strings.Contains(err.Error(), "AUTH") {
			t.Fatalf("Send = %v, want an AUTH error with the server's 535", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows the password: %v", err)
		}
	})
	t.Run("server offers no AUTH", func(t *testing.T) {
		ms := startMailServer(t, serverOpts{})
		c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example", Username: "kiosk", Password: secret})
		err := c.Send(context.Background(), codeMessage())
		if err == nil || !strings.Contains(err.Error(), "does not offer AUTH") {
			t.Fatalf("Send = %v, want an error saying AUTH is not offered", err)
		}
	})
}

func TestSMTPRejectedRecipient(t *testing.T) {
	ms := startMailServer(t, serverOpts{rejectRcpt: true})
	c := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example"})
	err := c.Send(context.Background(), codeMessage())
	if err == nil {
		t.Fatal("Send succeeded though the server refused the recipient")
	}
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 550 {
		t.Errorf("error %v does not wrap the server's 550 reply", err)
	}
	for _, want := range []string{ms.addr, "RCPT TO ann@example.com", "server answered 550 5.1.1 No such user here"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestSMTPTimeout(t *testing.T) {
	// A server that accepts the connection and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c := courier.NewSMTP(courier.SMTPConfig{Addr: l.Addr().String(), From: "no-reply@misetup.example", Timeout: 200 * time.Millisecond})
	err = c.Send(context.Background(), codeMessage())
	// The time said is what was left of the 200 ms at the greeting: a
	// loaded machine may have spent a little of it connecting.
	if err == nil || !regexp.MustCompile(`greeting: no answer within 1?\d{2,3}ms`).MatchString(err.Error()) {
		t.Errorf("Send to a silent server = %v, want a timeout at the greeting", err)
	}
}

func TestSMTPCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err = courier.NewSMTP(courier.SMTPConfig{Addr: l.Addr().String(), From: "no-reply@misetup.example"}).Send(ctx, codeMessage())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
}

func TestSMTPBadInput(t *testing.T) {
	tests := []struct {
		name string
		cfg  courier.SMTPConfig
		to   string
		want string
	}{
		{"no port", courier.SMTPConfig{Addr: "mail.example.com", From: "a@example.com"}, "b@example.com", "needs a host and a port"},
		{"bad sender", courier.SMTPConfig{Addr: "127.0.0.1:1", From: "nobody"}, "b@example.com", "sender"},
		{"header injection in recipient", courier.SMTPConfig{Addr: "127.0.0.1:1", From: "a@example.com"}, "b@example.com\r\nBcc: x@example.com", "recipient"},
		{"recipient with a name", courier.SMTPConfig{Addr: "127.0.0.1:1", From: "a@example.com"}, "Bob <b@example.com>", "recipient"},
		{"connection refused", courier.SMTPConfig{Addr: "127.0.0.1:1", From: "a@example.com"}, "b@example.com", "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := codeMessage()
			m.To = tt.to
			err := courier.NewSMTP(tt.cfg).Send(context.Background(), m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Send = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSMTPSubjectInjection(t *testing.T) {
	ms := startMailServer(t, serverOpts{})
	m := codeMessage()
	m.Subject = "Code\r\nBcc: victim@example.com"
	if err := courier.NewSMTP(courier.SMTPConfig{Addr: ms.addr, From: "no-reply@misetup.example"}).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(ms.received()[0].data)))
	if err != nil {
		t.Fatal(err)
	}
	if bcc := msg.Header.Get("Bcc"); bcc != "" {
		t.Errorf("a newline in the subject added a header: Bcc: %s", bcc)
	}
}
