package web_test

// The portal against the real account service (server.New on a temporary
// SQLite file) over real HTTP, as a browser without script sees it: forms
// posted, redirects followed, cookies kept. Only tests cross the import
// lines this way. The browser itself (chromium) drives the portal in the
// main package's e2e_portal_test.go.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"misetup/api"
	"misetup/client"
	"misetup/internal/testutil"
	"misetup/server"
	"misetup/server/policy"
	"misetup/server/store"
	"misetup/web"
)

const password = "Sunrise-42-lake"

// site is the service and its portal on one loopback address.
type site struct {
	t     testing.TB
	url   string
	cour  *testutil.Courier
	clock *testutil.Clock
	tls   http.RoundTripper // the transport that trusts the test certificate; nil over HTTP

	handler http.Handler // the service with its portal, as the listener serves it
}

func newSite(t *testing.T) *site { t.Helper(); return startSite(t, false) }

// startSite starts the service and its portal, over TLS when tls is set.
func startSite(t testing.TB, tls bool) *site {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "misetup.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := httptest.NewUnstartedServer(nil)
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	s := &site{t: t, url: scheme + ts.Listener.Addr().String(), cour: &testutil.Courier{}, clock: testutil.New(time.Now())}
	cfg := server.DefaultConfig()
	cfg.Argon2 = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Now = s.clock.Now
	cfg.PublicURL = s.url
	if cfg.Keys, err = server.RandomKeys(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(st, s.cour, cfg)
	if err != nil {
		t.Fatal(err)
	}
	op := server.NewOpening(cfg)
	op.Open(srv, nil)
	portal, err := web.New(web.Options{API: op, Now: s.clock.Now, Logger: cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	op.SetPortal(portal)
	ts.Config.Handler, s.handler = op, op
	if tls {
		ts.StartTLS()
		s.tls = ts.Client().Transport
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return s
}

// account makes an account for email through the API, signed in on the
// device deviceID; it returns that device's client.
func (s *site) account(email, deviceID string) *client.Client {
	s.t.Helper()
	ctx := context.Background()
	c := client.New(s.url, client.WithHTTPClient(&http.Client{Transport: s.tls}))
	ch, err := c.Register(ctx, api.RegistrationRequest{Method: api.MethodEmail, Identifier: email, Password: password, Region: "CN", Language: "en"})
	if err != nil {
		s.t.Fatal(err)
	}
	res, err := c.Verify(ctx, ch.ID, api.VerifyRequest{Code: s.cour.Code(s.t, email), Device: &api.Device{ID: deviceID, Name: "Ann's phone", Model: "Redmi Note"}})
	if err != nil || res.Session == nil {
		s.t.Fatalf("verify: %v", err)
	}
	c.SetToken(res.Session.Token)
	return c
}

// browser is a person's browser without script: it keeps cookies and
// follows redirects.
type browser struct {
	s  *site
	hc *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, hc: &http.Client{Jar: jar, Transport: s.tls}}
}

// page is an answer: its status, final path and text.
type page struct {
	status int
	path   string
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.s.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, path: resp.Request.URL.Path, body: string(body), header: resp.Header}
}

func (b *browser) get(path string, header ...string) page {
	b.s.t.Helper()
	req, _ := http.NewRequest("GET", b.s.url+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// post sends a form as the browser does from a page of this site.
func (b *browser) post(path string, form url.Values, header ...string) page {
	b.s.t.Helper()
	req, _ := http.NewRequest("POST", b.s.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (p page) has(t *testing.T, parts ...string) {
	t.Helper()
	text := visible(p.body)
	for _, part := range parts {
		if !strings.Contains(text, part) {
			t.Fatalf("%s (%d) lacks %q:\n%s", p.path, p.status, part, text)
		}
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

// visible is the page's text without its tags, spaces collapsed.
func visible(body string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("&#39;", "'", "&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(tags.ReplaceAllString(body, " "))), " ")
}

func (b *browser) signIn(identifier, pw string) page {
	return b.post("/signin", url.Values{"identifier": {identifier}, "password": {pw}})
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	for _, path := range []string{"/signin", "/no-such-page", "/static/portal.css", "/account"} {
		p := b.get(path)
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "default-src 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, p.header)
		}
	}
	if p := b.get("/no-such-page"); p.status != http.StatusNotFound {
		t.Errorf("unknown page: %d", p.status)
	}
	if p := b.get("/account"); p.path != "/signin" {
		t.Errorf("signed out, /account went to %s", p.path)
	}
	// The API beside it answers JSON as before.
	if p := b.get("/v1/status"); !strings.Contains(p.body, `"public_url"`) || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
		t.Errorf("/v1/status: %s %v", p.body, p.header)
	}
}

func TestSignInWithTwoStepThenSignOut(t *testing.T) {
	s := newSite(t)
	phone := s.account("ann@example.com", "phone-1")
	ctx := context.Background()
	setup, err := phone.StartTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(setup.Secret, s.clock.Now())
	if _, err := phone.ConfirmTOTP(ctx, code); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(30 * time.Second) // the confirming code's step is spent

	b := s.browser()
	p := b.signIn("ann@example.com", password)
	p.has(t, "Enter the code from your authenticator app, or a recovery code.", "Code from the app")
	if strings.Contains(p.body, password) {
		t.Fatal("the password was written into the page")
	}
	p = b.post("/signin", url.Values{"step": {"totp"}, "totp": {"000000"}})
	if p.status != http.StatusUnauthorized {
		t.Errorf("wrong code: status %d", p.status)
	}
	p.has(t, "That two-step verification code is wrong")
	code, _ = totp.GenerateCode(setup.Secret, s.clock.Now())
	p = b.post("/signin", url.Values{"step": {"totp"}, "totp": {code}})
	if p.path != "/account" {
		t.Fatalf("after the code: %s\n%s", p.path, visible(p.body))
	}
	p.has(t, "Security checkup", "Two-step verification is on.", "Ann's phone", "this browser")

	// The session cookie: HttpOnly, SameSite=Strict, kept only while the
	// browser is open.
	req, _ := http.NewRequest("POST", s.url+"/signin", strings.NewReader(url.Values{"identifier": {"ann@example.com"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.clock.Advance(30 * time.Second)
	code, _ = totp.GenerateCode(setup.Secret, s.clock.Now())
	nb := s.browser()
	nb.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	nb.signIn("ann@example.com", password)
	resp := nb.post("/signin", url.Values{"step": {"totp"}, "totp": {code}})
	var session string
	for _, c := range resp.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "mi_session=") {
			session = c
		}
	}
	if !strings.Contains(session, "HttpOnly") || !strings.Contains(session, "SameSite=Strict") || strings.Contains(session, "Max-Age") {
		t.Errorf("session cookie %q", session)
	}

	p = b.post("/signout", nil)
	if p.path != "/signin" {
		t.Fatalf("signed out to %s", p.path)
	}
	p.has(t, "You signed out.")
	if p = b.get("/account"); p.path != "/signin" {
		t.Errorf("after sign-out /account is %s", p.path)
	}
}

func TestLockoutIsTheServices(t *testing.T) {
	s := newSite(t)
	s.account("bob@example.com", "phone-1")
	b := s.browser()
	for i := range 4 {
		p := b.signIn("bob@example.com", "wrong-password-1")
		if p.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, p.status)
		}
		p.has(t, "The Mi ID or the password is wrong.")
	}
	b.signIn("bob@example.com", "wrong-password-1") // the fifth locks
	p := b.signIn("bob@example.com", password)
	if p.status != http.StatusLocked {
		t.Fatalf("the right password after 5 wrong ones: %d", p.status)
	}
	p.has(t, "This account is locked after too many wrong passwords")
	// An unknown address answers the same as a wrong password.
	p = b.signIn("nobody@example.com", "wrong-password-1")
	if p.status != http.StatusUnauthorized {
		t.Errorf("unknown account: %d", p.status)
	}
	p.has(t, "The Mi ID or the password is wrong.")
}

func TestCrossSiteChangesAreRefused(t *testing.T) {
	s := newSite(t)
	s.account("cat@example.com", "phone-1")
	b := s.browser()
	if p := b.signIn("cat@example.com", password); p.path != "/account" {
		t.Fatalf("sign-in: %s", p.path)
	}
	form := url.Values{"current_password": {password}, "new_password": {"Another-77-river"}, "confirm_password": {"Another-77-river"}}
	p := b.post("/password", form, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", p.status)
	}
	p.has(t, "This request came from another site")
	p = b.post("/signin", url.Values{"identifier": {"cat@example.com"}, "password": {password}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "")
	if p.status != http.StatusForbidden {
		t.Fatalf("cross-origin post without Sec-Fetch-Site: %d", p.status)
	}
	// The password did not change.
	if _, err := client.New(s.url).SignIn(context.Background(), api.SessionRequest{Identifier: "cat@example.com", Password: password, Device: api.Device{ID: "x"}}); err != nil {
		t.Fatalf("the old password no longer works: %v", err)
	}
}

func TestPasswordChangeSignsOthersOut(t *testing.T) {
	s := newSite(t)
	phone := s.account("dan@example.com", "phone-1")
	b := s.browser()
	b.signIn("dan@example.com", password)
	p := b.post("/password", url.Values{"current_password": {password}, "new_password": {"short"}, "confirm_password": {"short"}})
	p.has(t, "The password does not meet every rule yet.")
	p = b.post("/password", url.Values{"current_password": {"Not-the-one-1"}, "new_password": {"Another-77-river"}, "confirm_password": {"Another-77-river"}})
	if p.status < 400 {
		t.Fatalf("a wrong current password was taken: %d", p.status)
	}
	p = b.post("/password", url.Values{"current_password": {password}, "new_password": {"Another-77-river"}, "confirm_password": {"Another-77-river"}})
	p.has(t, "Password changed. Other sessions signed out: 1.")
	if _, err := phone.Account(context.Background()); err == nil {
		t.Error("the phone's session outlived the password change")
	}
	if p = b.get("/account"); p.path != "/account" {
		t.Errorf("this browser was signed out: %s", p.path)
	}
}

func TestFindDeviceRingAndLock(t *testing.T) {
	s := newSite(t)
	phone := s.account("eve@example.com", "phone-1")
	ctx := context.Background()
	if _, err := phone.SetFindDevice(ctx, "phone-1", true); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	b.signIn("eve@example.com", password)
	p := b.get("/devices/phone-1")
	p.has(t, "Ann's phone", "Locate", "Ring", "Lock Ann's phone", "Erase Ann's phone")

	p = b.post("/devices/phone-1/commands", url.Values{"type": {"ring"}})
	p.has(t, "Waiting for Ann's phone to come online")
	cmds, err := phone.PendingCommands(ctx, "phone-1")
	if err != nil || len(cmds) != 1 {
		t.Fatalf("pending: %v %v", cmds, err)
	}
	if _, err := phone.AckCommand(ctx, "phone-1", cmds[0].ID, api.CommandAck{State: "done"}); err != nil {
		t.Fatal(err)
	}
	st := b.get(p.path + "/state")
	if !strings.Contains(st.body, `"Ended":true`) || !strings.Contains(st.body, "Ann's phone rang.") {
		t.Fatalf("state: %s", st.body)
	}
	b.get(p.path).has(t, "Ann's phone rang.")

	// Lock needs the password again, named by the form.
	p = b.post("/devices/phone-1/commands", url.Values{"type": {"lock"}, "message": {"Call 138 0000 0000"}})
	p.has(t, "Enter your password.")
	if !strings.Contains(p.body, `id="lock-password" name="password" type="password" autocomplete="current-password" required aria-invalid="true"`) {
		t.Error("the lock's password field is not marked")
	}
	p = b.post("/devices/phone-1/commands", url.Values{"type": {"erase"}, "name": {"Someone else"}, "password": {password}})
	p.has(t, "Type the device's name, Ann's phone, exactly as shown.")

	// Locate: the answer's place, with a link to a map.
	p = b.post("/devices/phone-1/commands", url.Values{"type": {"locate"}})
	cmds, _ = phone.PendingCommands(ctx, "phone-1")
	loc := &api.Location{Lat: 39.9042, Lon: 116.4074, AccuracyM: 20, ReportedAt: s.clock.Now()}
	if _, err := phone.AckCommand(ctx, "phone-1", cmds[0].ID, api.CommandAck{State: "done", Location: loc}); err != nil {
		t.Fatal(err)
	}
	p = b.get(p.path)
	p.has(t, "Located: 39.90420, 116.40740", "Open on a map")
	if !strings.Contains(p.body, "https://www.openstreetmap.org/?mlat=39.904200&amp;mlon=116.407400") {
		t.Error("no map link")
	}
	// Another account's device is not found.
	other := s.browser()
	s.account("fay@example.com", "phone-2")
	other.signIn("fay@example.com", password)
	if p := other.get("/devices/phone-1"); p.status != http.StatusNotFound {
		t.Errorf("another's device: %d", p.status)
	}
}

func TestForgotPasswordSignsIn(t *testing.T) {
	s := newSite(t)
	s.account("gil@example.com", "phone-1")
	b := s.browser()
	p := b.post("/forgot", url.Values{"identifier": {"gil@example.com"}})
	p.has(t, "We sent a 6-digit code to")
	// An unknown address is told the same.
	b.s.browser().post("/forgot", url.Values{"identifier": {"nobody@example.com"}}).has(t, "We sent a 6-digit code to")
	id := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatal("no challenge on the page")
	}
	p = b.post("/forgot/reset", url.Values{"challenge": {id[1]}, "code": {"000000"}, "new_password": {"Another-77-river"}, "confirm_password": {"Another-77-river"}})
	p.has(t, "That code is wrong.")
	code := s.cour.Code(t, "gil@example.com")
	p = b.post("/forgot/reset", url.Values{"challenge": {id[1]}, "code": {code}, "new_password": {"Another-77-river"}, "confirm_password": {"Another-77-river"}})
	p.has(t, "Your password was changed. Sign in with the new one.")
	if p = b.signIn("gil@example.com", "Another-77-river"); p.path != "/account" {
		t.Fatalf("signing in with the new password: %s %s", p.path, visible(p.body))
	}
}

func TestLanguageFollowsTheBrowserAndTheChoice(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	p := b.get("/signin", "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	p.has(t, "登录", "忘记密码？")
	if !strings.Contains(p.body, `<html lang="zh-CN">`) {
		t.Error("lang attribute")
	}
	p = b.get("/signin?lang=en", "Accept-Language", "zh-CN")
	p.has(t, "Forgot password?")
	b.get("/signin", "Accept-Language", "zh-CN").has(t, "Forgot password?") // the choice is kept
}

func TestTwoStepSetUpInThePortal(t *testing.T) {
	s := newSite(t)
	s.account("hal@example.com", "phone-1")
	b := s.browser()
	b.signIn("hal@example.com", password)
	p := b.post("/two-step/start", nil)
	if !strings.Contains(p.body, `<svg xmlns="http://www.w3.org/2000/svg"`) {
		t.Fatal("no QR code")
	}
	key := regexp.MustCompile(`<code id="totp-key">([A-Z2-7 ]+)</code>`).FindStringSubmatch(p.body)
	if key == nil {
		t.Fatal("no key")
	}
	uri := regexp.MustCompile(`name="uri" value="([^"]+)"`).FindStringSubmatch(p.body)
	p = b.post("/two-step/confirm", url.Values{"uri": {strings.ReplaceAll(uri[1], "&amp;", "&")}, "code": {"123456"}})
	p.has(t, "That two-step verification code is wrong")
	code, _ := totp.GenerateCode(strings.ReplaceAll(key[1], " ", ""), s.clock.Now())
	p = b.post("/two-step/confirm", url.Values{"uri": {uri[1]}, "code": {code}})
	p.has(t, "Your recovery codes", "I have saved them")
	b.get("/account").has(t, "Two-step verification is on.")
}

func TestCookiesOverTLSAreSecure(t *testing.T) {
	s := startSite(t, true)
	s.account("ivy@example.com", "phone-1")
	b := s.browser()
	b.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := b.signIn("ivy@example.com", password)
	var session string
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "__Host-mi_session=") {
			session = c
		}
	}
	for _, want := range []string{"Secure", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(session, want) {
			t.Errorf("session cookie over TLS %q lacks %s (all: %v)", session, want, p.header.Values("Set-Cookie"))
		}
	}
	if p.header.Get("Strict-Transport-Security") == "" {
		t.Error("no Strict-Transport-Security over TLS")
	}
	b.hc.CheckRedirect = nil
	b.get("/account").has(t, "Security checkup")
}

func TestProfileAndRecoveryContact(t *testing.T) {
	s := newSite(t)
	s.account("jon@example.com", "phone-1")
	b := s.browser()
	b.signIn("jon@example.com", password)

	p := b.post("/profile", url.Values{"display_name": {"Jon\u202eevil"}, "region": {"SG"}, "language": {"zh-CN"}})
	if p.path != "/account" {
		t.Fatalf("profile saved to %s: %s", p.path, visible(p.body))
	}
	p.has(t, "Profile saved.", "Jonevil")
	b.get("/profile").has(t, "Singapore")

	p = b.post("/recovery", url.Values{"method": {"email"}, "identifier": {"not-an-address"}})
	p.has(t, "This is not an email address like ann@example.com.")
	p = b.post("/recovery", url.Values{"method": {"email"}, "identifier": {"jon.backup@example.com"}})
	p.has(t, "We sent a 6-digit code to j***@example.com.")
	id := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(p.body)
	p = b.post("/recovery/verify", url.Values{"challenge": {id[1]}, "code": {"000000"}})
	p.has(t, "That code is wrong.")
	p = b.post("/recovery/verify", url.Values{"challenge": {id[1]}, "code": {s.cour.Code(t, "jon.backup@example.com")}})
	p.has(t, "Recovery contact verified.", "j***@example.com")
	b.get("/account").has(t, "Recovery contact verified: j***@example.com.")
}

func TestPendingSignInCannotBeForged(t *testing.T) {
	s := newSite(t)
	s.account("kim@example.com", "phone-1")
	b := s.browser()
	u, _ := url.Parse(s.url)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "mi_pending", Value: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Path: "/"}})
	p := b.post("/signin", url.Values{"step": {"totp"}, "totp": {"123456"}})
	p.has(t, "That took too long: type your email and password again.")
	if p.path != "/signin" || strings.Contains(p.body, "Security checkup") {
		t.Fatalf("a forged pending sign-in got in: %s", p.path)
	}
}
