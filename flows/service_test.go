package flows_test

// Each route through the wizard and each error a person can meet, against
// the real account service (server.New on a temporary SQLite store) through
// the real client, in-process. Only tests may import server and client.

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
	"misetup/internal/testutil"
	"misetup/server"
	"misetup/server/courier"
	"misetup/server/policy"
	"misetup/server/store"
)

// outbox captures what the service sends.
type outbox struct {
	mu   sync.Mutex
	msgs []courier.Message
}

// Send implements courier.Courier.
func (o *outbox) Send(_ context.Context, m courier.Message) error {
	o.mu.Lock()
	o.msgs = append(o.msgs, m)
	o.mu.Unlock()
	return nil
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// count is how many messages were sent.
func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

// message waits for the n-th message (1-based).
func (o *outbox) message(t *testing.T, n int) courier.Message {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		o.mu.Lock()
		if len(o.msgs) >= n {
			m := o.msgs[n-1]
			o.mu.Unlock()
			return m
		}
		o.mu.Unlock()
	}
	t.Fatalf("message %d was not sent", n)
	return courier.Message{}
}

// code waits for the n-th message and returns its code.
func (o *outbox) code(t *testing.T, n int) string {
	t.Helper()
	m := o.message(t, n)
	c := codeRE.FindStringSubmatch(m.Body)
	if c == nil {
		t.Fatalf("no code in message %q", m.Body)
	}
	return c[1]
}

// env is a running service with a client and the wizard's state dir.
type env struct {
	c     *client.Client
	st    store.Store
	out   *outbox
	clock *testutil.Clock
	files flows.Files
	dev   api.Device
}

// startService runs the account service on a temporary SQLite store, its
// clock settable and its email recorded in an outbox. sms, when set,
// delivers text messages (else they go to the outbox too).
func startService(t testing.TB, sms courier.Courier, tweak ...func(*server.Config)) (*server.Server, store.Store, *outbox, *testutil.Clock) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "misetup.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	clk := testutil.New(time.Now().UTC().Truncate(time.Second))
	out := &outbox{}
	cfg := server.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Argon2 = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	cfg.Now = clk.Now
	keys, err := server.RandomKeys()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = keys
	for _, f := range tweak {
		f(&cfg)
	}
	var cour courier.Courier = out
	if sms != nil {
		cour = courier.Router{Email: out, SMS: sms}
	}
	srv, err := server.New(st, cour, cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Close(ctx)
		_ = st.Close()
	})
	return srv, st, out, clk
}

func newEnv(t *testing.T, tweak ...func(*server.Config)) *env {
	t.Helper()
	srv, st, out, clk := startService(t, nil, tweak...)
	return &env{
		c: client.New("", client.WithHandler(srv)), st: st, out: out, clock: clk,
		files: flows.Files{Dir: t.TempDir()},
		dev:   api.Device{ID: "dev-1", Name: "ann-laptop", Model: "ThinkPad X1", OS: "Debian 12"},
	}
}

const (
	email    = "ann@example.com"
	password = "Tr1cky#Pass"
)

// register creates a registration and returns its challenge.
func (e *env) register(t *testing.T, id string) api.Challenge {
	t.Helper()
	ch, err := flows.Register(context.Background(), e.c, flows.Registration{
		Method: flows.MethodOf(id), Identifier: id, Region: "CN", Language: "en",
		Password: password, Confirm: password,
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return ch
}

// createAccount goes through registration with the code and signs in.
func (e *env) createAccount(t *testing.T, id string) api.VerifyResponse {
	t.Helper()
	n := e.out.count()
	ch := e.register(t, id)
	res, err := flows.Verify(context.Background(), e.c, e.files, ch.ID, e.out.code(t, n+1), &e.dev)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

// wrongCode is a six-digit code other than right.
func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

func keyOf(err error) string {
	if ue := flows.Explain(err); ue != nil {
		return ue.Key
	}
	return ""
}

func TestCreateAccountThenSyncAndFindDevice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ch := e.register(t, email)
	if ch.Channel != api.ChannelEmail || ch.Destination == email || ch.Destination == "" {
		t.Fatalf("challenge = %+v, want a masked email destination", ch)
	}
	res, err := flows.Verify(ctx, e.c, e.files, ch.ID, e.out.code(t, 1), &e.dev)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.Account.MiID == "" || res.Account.Email != email || res.Session == nil {
		t.Fatalf("verify answer = %+v, want the new account and a session", res)
	}
	if tok, _ := e.files.LoadToken(); tok == "" || tok != e.c.Token() {
		t.Fatalf("saved token %q, client token %q: want the session kept", tok, e.c.Token())
	}

	choice, err := flows.LoadSync(ctx, e.c, e.dev.ID, flows.NetworkMobile)
	if err != nil {
		t.Fatalf("load sync: %v", err)
	}
	if choice.Saved || !choice.Settings.AutoSync || !choice.Settings.WifiOnly || !choice.WifiOnlyRecommended {
		t.Fatalf("defaults on mobile data = %+v, want sync on, Wi-Fi only recommended and set", choice)
	}
	want := api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: []string{"gallery", "contacts", "call_history"}}
	saved, err := flows.SaveSync(ctx, e.c, e.dev.ID, want)
	if err != nil {
		t.Fatalf("save sync: %v", err)
	}
	if !slices.Equal(saved.Categories, []string{"contacts", "gallery", "call_history"}) {
		t.Fatalf("saved categories %v, want the guide's order", saved.Categories)
	}
	if _, err := flows.SaveFindDevice(ctx, e.c, e.dev.ID, true); err != nil {
		t.Fatalf("find device: %v", err)
	}

	// What the service holds for this device.
	d, err := e.st.Device(ctx, res.Account.MiID, e.dev.ID)
	if err != nil {
		t.Fatalf("stored device: %v", err)
	}
	if d.Name != e.dev.Name || d.Model != e.dev.Model || d.OS != e.dev.OS || !d.FindDevice ||
		!d.Sync.AutoSync || !d.Sync.WifiOnly || !slices.Equal(d.Sync.Categories, saved.Categories) {
		t.Fatalf("stored device = %+v", d)
	}
	again, err := flows.LoadSync(ctx, e.c, e.dev.ID, flows.NetworkWired)
	if err != nil || !again.Saved || !slices.Equal(again.Settings.Categories, saved.Categories) {
		t.Fatalf("reload = %+v, %v: want the saved settings", again, err)
	}
}

func TestCodeErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("wrong code says how many tries are left", func(t *testing.T) {
		e := newEnv(t)
		ch := e.register(t, email)
		right := e.out.code(t, 1)
		wrong := wrongCode(right)
		_, err := flows.Verify(ctx, e.c, e.files, ch.ID, wrong, &e.dev)
		ue := flows.Explain(err)
		if ue == nil || ue.Key != flows.ErrKeyInvalidCode || ue.AttemptsLeft != 4 {
			t.Fatalf("wrong code: %+v, want invalid_code with 4 attempts left", ue)
		}
		if _, err := flows.Verify(ctx, e.c, e.files, ch.ID, right, &e.dev); err != nil {
			t.Fatalf("right code after a wrong one: %v", err)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		e := newEnv(t)
		ch := e.register(t, email)
		code := e.out.code(t, 1)
		e.clock.Advance(11 * time.Minute)
		_, err := flows.Verify(ctx, e.c, e.files, ch.ID, code, &e.dev)
		if keyOf(err) != flows.ErrKeyCodeExpired {
			t.Fatalf("expired code: %v, want %s", err, flows.ErrKeyCodeExpired)
		}
	})
	t.Run("too many wrong codes kill the challenge", func(t *testing.T) {
		e := newEnv(t)
		ch := e.register(t, email)
		right := e.out.code(t, 1)
		wrong := wrongCode(right)
		var err error
		for range 5 {
			_, err = flows.Verify(ctx, e.c, e.files, ch.ID, wrong, &e.dev)
		}
		_, err = flows.Verify(ctx, e.c, e.files, ch.ID, right, &e.dev)
		if keyOf(err) != flows.ErrKeyTooManyAttempts {
			t.Fatalf("after 5 wrong codes the right one gives %v, want %s", err, flows.ErrKeyTooManyAttempts)
		}
	})
	t.Run("not six digits never reaches the service", func(t *testing.T) {
		e := newEnv(t)
		ch := e.register(t, email)
		_, err := flows.Verify(ctx, e.c, e.files, ch.ID, "12a45", &e.dev)
		if keyOf(err) != flows.ErrKeyCodeFormat {
			t.Fatalf("got %v, want %s", err, flows.ErrKeyCodeFormat)
		}
		got, err := e.c.Challenge(ctx, ch.ID)
		if err != nil || got.AttemptsLeft != ch.AttemptsLeft {
			t.Fatalf("attempts %d (err %v), want %d untouched", got.AttemptsLeft, err, ch.AttemptsLeft)
		}
	})
	t.Run("resend too early is rate limited, later it works", func(t *testing.T) {
		e := newEnv(t)
		ch := e.register(t, email)
		if d := flows.ResendIn(ch, e.clock.Now()); d < 59*time.Second || d > 60*time.Second {
			t.Fatalf("resend countdown %v, want 60 s", d)
		}
		_, err := flows.Resend(ctx, e.c, ch.ID)
		ue := flows.Explain(err)
		if ue == nil || ue.Key != flows.ErrKeyRateLimited || ue.Wait <= 0 {
			t.Fatalf("early resend: %+v, want rate_limited with a wait", ue)
		}
		e.clock.Advance(61 * time.Second)
		ch2, err := flows.Resend(ctx, e.c, ch.ID)
		if err != nil {
			t.Fatalf("resend after the cooldown: %v", err)
		}
		newCode := e.out.code(t, 2)
		if _, err := flows.Verify(ctx, e.c, e.files, ch2.ID, newCode, &e.dev); err != nil {
			t.Fatalf("verify the resent code: %v", err)
		}
	})
	t.Run("taken identifier is told after the code", func(t *testing.T) {
		e := newEnv(t)
		e.createAccount(t, email)
		ch := e.register(t, email)
		_, err := flows.Verify(ctx, e.c, e.files, ch.ID, e.out.code(t, 2), &e.dev)
		if keyOf(err) != flows.ErrKeyAccountExists {
			t.Fatalf("got %v, want %s", err, flows.ErrKeyAccountExists)
		}
	})
}

func TestRegistrationChecks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name string
		reg  flows.Registration
		want string
	}{
		{"bad email", flows.Registration{Method: "email", Identifier: "ann@", Password: password, Confirm: password}, flows.ErrKeyEmailInvalid},
		{"bad phone", flows.Registration{Method: "phone", Identifier: "12", Region: "CN", Password: password, Confirm: password}, flows.ErrKeyPhoneInvalid},
		{"rules unmet", flows.Registration{Method: "email", Identifier: email, Password: "password", Confirm: "password"}, flows.ErrKeyPasswordRules},
		{"confirmation differs", flows.Registration{Method: "email", Identifier: email, Password: password, Confirm: password + "x"}, flows.ErrKeyPasswordMismatch},
		{"common password refused by the service", flows.Registration{Method: "email", Identifier: email, Password: "p@ssw0rd", Confirm: "p@ssw0rd"}, flows.ErrKeyWeakPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := flows.Register(ctx, e.c, tt.reg)
			if keyOf(err) != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
	_, err := flows.Register(ctx, e.c, tests[4].reg)
	if !flows.IsCommonRefusal(err) {
		t.Fatalf("common password: %v, want the reason \"common\"", err)
	}
	if c := flows.CheckPassword("p@ssw0rd", "p@ssw0rd"); c.State[flows.RuleCommon] != flows.RuleUnmet {
		t.Fatalf("checklist after the refusal: %v, want common unmet", c.State)
	}
	if n := e.out.count(); n != 0 {
		t.Fatalf("%d codes sent for refused registrations", n)
	}
}

func TestPhoneRegistration(t *testing.T) {
	e := newEnv(t)
	ch := e.register(t, "138 0013 8000")
	if ch.Channel != api.ChannelSMS {
		t.Fatalf("channel %q, want sms", ch.Channel)
	}
	if to := e.out.message(t, 1).To; to != "+8613800138000" {
		t.Fatalf("code sent to %q, want +8613800138000", to)
	}
}

func TestSignInRoutes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	created := e.createAccount(t, email)
	e.c.SetToken("")
	other := flows.Files{Dir: t.TempDir()}
	in := flows.SignInInput{Identifier: email, Password: password, Device: e.dev}

	t.Run("email and Mi ID sign-ins link the device", func(t *testing.T) {
		for _, id := range []string{email, created.Account.MiID} {
			in := in
			in.Identifier = id
			s, err := flows.SignIn(ctx, e.c, other, in)
			if err != nil {
				t.Fatalf("sign in with %s: %v", id, err)
			}
			if s.Account.MiID != created.Account.MiID || s.Device.ID != e.dev.ID {
				t.Fatalf("session = %+v", s)
			}
			if tok, _ := other.LoadToken(); tok != s.Token {
				t.Fatalf("token not saved")
			}
		}
	})
	t.Run("session restores, a revoked one is forgotten", func(t *testing.T) {
		acc, ok, err := flows.Restore(ctx, e.c, other)
		if err != nil || !ok || acc.MiID != created.Account.MiID {
			t.Fatalf("restore = %+v %v %v", acc, ok, err)
		}
		if err := other.SaveToken("not-a-token"); err != nil {
			t.Fatal(err)
		}
		_, ok, err = flows.Restore(ctx, e.c, other)
		if err != nil || ok {
			t.Fatalf("restore with a bad token = %v %v, want not signed in", ok, err)
		}
		if tok, _ := other.LoadToken(); tok != "" {
			t.Fatalf("bad token kept: %q", tok)
		}
	})
	t.Run("wrong password, then locked, then reset unlocks", func(t *testing.T) {
		bad := in
		bad.Password = "Wr0ng#Pass"
		var err error
		for i := range 5 {
			_, err = flows.SignIn(ctx, e.c, other, bad)
			if i < 4 && keyOf(err) != flows.ErrKeyInvalidCreds {
				t.Fatalf("try %d: %v, want %s", i+1, err, flows.ErrKeyInvalidCreds)
			}
		}
		_, err = flows.SignIn(ctx, e.c, other, in) // even the right password
		ue := flows.Explain(err)
		if ue == nil || ue.Key != flows.ErrKeyAccountLocked || ue.Wait < 14*time.Minute || ue.Wait > 15*time.Minute {
			t.Fatalf("locked: %+v, want account_locked for about 15 minutes", ue)
		}

		n := e.out.count()
		ch, err := flows.RequestReset(ctx, e.c, email, "")
		if err != nil {
			t.Fatalf("request reset: %v", err)
		}
		const newPw = "N3w#Secret"
		_, err = flows.FinishReset(ctx, e.c, other, flows.ResetInput{ChallengeID: ch.ID, Code: "000000", Password: newPw, Confirm: newPw})
		if keyOf(err) != flows.ErrKeyInvalidCode && e.out.code(t, n+1) != "000000" {
			t.Fatalf("wrong reset code: %v", err)
		}
		if _, err := flows.FinishReset(ctx, e.c, other, flows.ResetInput{ChallengeID: ch.ID, Code: e.out.code(t, n+1), Password: newPw, Confirm: newPw + "!"}); keyOf(err) != flows.ErrKeyPasswordMismatch {
			t.Fatalf("mismatch: %v", err)
		}
		if _, err := flows.FinishReset(ctx, e.c, other, flows.ResetInput{ChallengeID: ch.ID, Code: e.out.code(t, n+1), Password: newPw, Confirm: newPw}); err != nil {
			t.Fatalf("finish reset: %v", err)
		}
		in := in
		in.Password = newPw
		if _, err := flows.SignIn(ctx, e.c, other, in); err != nil {
			t.Fatalf("sign in after the reset: %v", err)
		}
		in.Password = password
		if _, err := flows.SignIn(ctx, e.c, other, in); keyOf(err) != flows.ErrKeyInvalidCreds {
			t.Fatalf("old password after the reset: %v", err)
		}
	})
	t.Run("empty fields never reach the service", func(t *testing.T) {
		for _, in := range []flows.SignInInput{{Password: password}, {Identifier: email}} {
			if _, err := flows.SignIn(ctx, e.c, other, in); keyOf(err) == "" || errors.As(err, new(*api.Error)) {
				t.Fatalf("sign in %+v: %v, want a local error", in, err)
			}
		}
	})
}

func TestSignInWithTwoFactor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createAccount(t, email)
	setup, err := e.c.StartTOTP(ctx)
	if err != nil {
		t.Fatalf("start totp: %v", err)
	}
	code, err := totp.GenerateCode(setup.Secret, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.ConfirmTOTP(ctx, code); err != nil {
		t.Fatalf("confirm totp: %v", err)
	}
	e.clock.Advance(30 * time.Second) // a new step: the confirm's code is used
	in := flows.SignInInput{Identifier: email, Password: password, Device: e.dev}
	if _, err := flows.SignIn(ctx, e.c, e.files, in); keyOf(err) != flows.ErrKeySecondFactor {
		t.Fatalf("without the code: %v, want %s", err, flows.ErrKeySecondFactor)
	}
	in.TOTP = "000000"
	if good, _ := totp.GenerateCode(setup.Secret, e.clock.Now()); good == in.TOTP {
		in.TOTP = "111111"
	}
	if _, err := flows.SignIn(ctx, e.c, e.files, in); keyOf(err) != flows.ErrKeyTOTPInvalid {
		t.Fatalf("wrong code: %v, want %s", err, flows.ErrKeyTOTPInvalid)
	}
	in.TOTP, _ = totp.GenerateCode(setup.Secret, e.clock.Now())
	if _, err := flows.SignIn(ctx, e.c, e.files, in); err != nil {
		t.Fatalf("with the code: %v", err)
	}
}

func TestRequirementsAgainstTheService(t *testing.T) {
	ctx := context.Background()
	t.Run("all fine", func(t *testing.T) {
		e := newEnv(t)
		c := flows.Checker{Status: e.c, ClientVersion: api.Version, System: flows.System{Root: t.TempDir()}}
		r := c.All(ctx)
		for _, name := range []string{flows.CheckConnection, flows.CheckVersion, flows.CheckClock} {
			if f, _ := r.Find(name); f.Level != flows.LevelOK {
				t.Errorf("%s: %v %s", name, f.Level, f.Msg.Key)
			}
		}
		if f, _ := r.Find(flows.CheckNetwork); f.Network != flows.NetworkUnknown || f.Level != flows.LevelWarn {
			t.Errorf("network with no /proc: %+v", f)
		}
		if !r.OK() {
			t.Errorf("report not OK: %+v", r)
		}
	})
	t.Run("clock off and version old", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.LatestClientVersion = "1.4.0" })
		now := e.clock.Now()
		c := flows.Checker{Status: e.c, ClientVersion: api.Version, Now: func() time.Time { return now.Add(3 * time.Minute) }}
		if f := c.Clock(ctx); f.Level != flows.LevelWarn || f.Msg.Key != "check.clock.ahead" {
			t.Errorf("3 min ahead: %v %s", f.Level, f.Msg.Key)
		}
		c.Now = func() time.Time { return now.Add(-6 * time.Minute) }
		if f := c.Clock(ctx); f.Level != flows.LevelFail || f.Msg.Key != "check.clock.behind" || f.Fix.IsZero() {
			t.Errorf("6 min behind: %+v", f)
		}
		if f := c.Version(ctx); f.Level != flows.LevelWarn || f.Msg.Key != "check.version.update" {
			t.Errorf("update available: %v %s", f.Level, f.Msg.Key)
		}
		c.ClientVersion = "0.9.0"
		if f := c.Version(ctx); f.Level != flows.LevelFail {
			t.Errorf("too old: %v %s", f.Level, f.Msg.Key)
		}
	})
}

func TestServiceDown(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	ctx := context.Background()
	c := client.New(url, client.WithRetries(0))

	_, err = flows.Register(ctx, c, flows.Registration{Method: "email", Identifier: email, Password: password, Confirm: password})
	if keyOf(err) != flows.ErrKeyUnavailable {
		t.Fatalf("register with the service down: %v, want %s", err, flows.ErrKeyUnavailable)
	}
	_, err = flows.SignIn(ctx, c, flows.Files{Dir: t.TempDir()}, flows.SignInInput{Identifier: email, Password: password})
	if keyOf(err) != flows.ErrKeyUnavailable {
		t.Fatalf("sign in with the service down: %v", err)
	}
	chk := flows.Checker{Status: c, ClientVersion: api.Version, Server: url}
	r := chk.All(ctx)
	if r.OK() {
		t.Fatalf("checks passed with the service down: %+v", r)
	}
	f, _ := r.Find(flows.CheckConnection)
	if f.Level != flows.LevelFail || f.Lost != 5 || f.Msg.Key != "check.connection.down" || f.Fix.Key != "check.connection.fix" {
		t.Fatalf("connection finding = %+v", f)
	}
}
