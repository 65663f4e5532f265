package qr

// Two-step verification proven against implementations that share no code
// with misetup: zbar reads the QR codes (the PNG, and the PNG of what the
// terminal shows), OATH Toolkit computes the codes from the secret the QR
// code carries. The account service runs in-process on a temporary SQLite
// store, as in the flows tests.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
	"misetup/internal/testutil"
	"misetup/server"
	"misetup/server/courier"
	"misetup/server/policy"
	"misetup/server/store"
)

// tool returns the path of an outside program the test needs. Missing, it
// fails the test when CI or MISETUP_TEST_REQUIRE=1 says the machine must
// have it (.ci/run installs it), and skips otherwise.
func tool(t *testing.T, name, debianPkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (Debian: apt-get install -y %s)", name, debianPkg)
	if os.Getenv("CI") != "" || os.Getenv("MISETUP_TEST_REQUIRE") == "1" {
		t.Fatal(msg + "; CI needs it")
	}
	t.Skip(msg)
	return ""
}

// zbarDecode reads the QR code of a PNG with zbarimg.
func zbarDecode(t *testing.T, zbarimg string, png []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "code.png")
	if err := os.WriteFile(f, png, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(zbarimg, "--raw", "-q", f)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg: %v %s", err, stderr.Bytes())
	}
	return strings.TrimSuffix(string(out), "\n")
}

// oathCode is the TOTP code of a base32 secret at a time, by oathtool.
func oathCode(t *testing.T, oathtool, secret string, at time.Time) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(oathtool, "--totp", "-b", "--now=@"+strconv.FormatInt(at.Unix(), 10), secret)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oathtool: %v %s", err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// mailbox hands the test each message the service sends.
type mailbox chan courier.Message

// Send implements courier.Courier.
func (m mailbox) Send(_ context.Context, msg courier.Message) error {
	m <- msg
	return nil
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// code waits for the next message and returns its code.
func (m mailbox) code(t *testing.T) string {
	t.Helper()
	select {
	case msg := <-m:
		c := codeRE.FindStringSubmatch(msg.Body)
		if c == nil {
			t.Fatalf("no code in %q", msg.Body)
		}
		return c[1]
	case <-time.After(5 * time.Second):
		t.Fatal("no message sent")
		return ""
	}
}

// startService runs the account service with a settable clock and returns
// its handler.
func startService(t *testing.T) (*server.Server, mailbox, *testutil.Clock) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "misetup.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	clk := testutil.New(time.Now().UTC().Truncate(time.Second))
	box := make(mailbox, 10)
	cfg := server.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Argon2 = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	cfg.Now = clk.Now
	if cfg.Keys, err = server.RandomKeys(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(st, box, cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Close(ctx)
		_ = st.Close()
	})
	return srv, box, clk
}

// keyOf is the catalog key of err, "" for nil.
func keyOf(err error) string {
	if ue := flows.Explain(err); ue != nil {
		return ue.Key
	}
	return ""
}

// TestTwoStepWithZbarAndOathtool enrols two-step verification the way a
// person does: the QR code the screen shows is scanned (zbarimg), the app
// computes the code from the scanned secret (oathtool), the code confirms
// enrolment and then signs in, once.
func TestTwoStepWithZbarAndOathtool(t *testing.T) {
	zbarimg := tool(t, "zbarimg", "zbar-tools")
	oathtool := tool(t, "oathtool", "oathtool")
	ctx := context.Background()
	srv, box, clk := startService(t)
	const (
		email    = "ann@example.com"
		password = "Tr1cky#Pass"
	)
	dev := api.Device{ID: "dev-1", Name: "ann-laptop"}

	c := client.New("", client.WithHandler(srv))
	ch, err := flows.Register(ctx, c, flows.Registration{
		Method: api.MethodEmail, Identifier: email, Password: password, Confirm: password, Language: "en",
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if _, err := flows.Verify(ctx, c, nil, ch.ID, box.code(t), &dev); err != nil {
		t.Fatalf("verify: %v", err)
	}
	setup, err := flows.StartTwoStep(ctx, c)
	if err != nil {
		t.Fatalf("start two-step verification: %v", err)
	}
	uri := setup.OTPAuthURI

	// What zbar reads is the otpauth URI, byte for byte: from the image, and
	// from the terminal's half blocks read back and drawn again, at the
	// smallest code (level L, quiet zone 2) and the roomiest.
	for _, tc := range []struct {
		level Level
		quiet int
	}{{L, QuietMin}, {M, QuietIdeal}} {
		t.Run(fmt.Sprintf("level %v quiet %d", tc.level, tc.quiet), func(t *testing.T) {
			m, err := Encode(uri, tc.level, tc.quiet)
			if err != nil {
				t.Fatal(err)
			}
			png, err := PNG(m, 4)
			if err != nil {
				t.Fatal(err)
			}
			if got := zbarDecode(t, zbarimg, png); got != uri {
				t.Fatalf("zbarimg read %q from the PNG, want %q", got, uri)
			}
			screen, err := parseHalfBlocks(HalfBlocks(m))
			if err != nil {
				t.Fatalf("read the half blocks back: %v", err)
			}
			if !equal(screen, m) {
				t.Fatalf("the half blocks read back as another matrix:\n%s", HalfBlocks(m))
			}
			png, err = PNG(screen, 4)
			if err != nil {
				t.Fatal(err)
			}
			if got := zbarDecode(t, zbarimg, png); got != uri {
				t.Fatalf("zbarimg read %q from the half blocks, want %q", got, uri)
			}
		})
	}

	// The app's side: the secret as the scanned URI carries it.
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("otpauth URI %q: %v", uri, err)
	}
	q := u.Query()
	secret := q.Get("secret")
	// No digits, period or algorithm: an app takes the defaults, 6 digits,
	// 30 s, SHA1, which oathtool uses below.
	if secret != setup.Secret || len(q) != 1 {
		t.Fatalf("URI %q, want the secret %q and nothing else", uri, setup.Secret)
	}

	code := oathCode(t, oathtool, secret, clk.Now())
	recovery, err := flows.ConfirmTwoStep(ctx, c, code)
	if err != nil {
		t.Fatalf("confirm with oathtool's code %s: %v", code, err)
	}
	if len(recovery) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(recovery))
	}

	other := client.New("", client.WithHandler(srv))
	in := flows.SignInInput{Identifier: email, Password: password, Device: dev}
	if _, err := flows.SignIn(ctx, other, nil, in); keyOf(err) != flows.ErrKeySecondFactor {
		t.Fatalf("sign in without a code: %v, want %s", err, flows.ErrKeySecondFactor)
	}
	in.TOTP = code
	if _, err := flows.SignIn(ctx, other, nil, in); keyOf(err) != flows.ErrKeyTOTPInvalid {
		t.Fatalf("sign in with the code that confirmed enrolment: %v, want %s (its step is used)", err, flows.ErrKeyTOTPInvalid)
	}
	clk.Advance(30 * time.Second)
	in.TOTP = oathCode(t, oathtool, secret, clk.Now())
	s, err := flows.SignIn(ctx, other, nil, in)
	if err != nil {
		t.Fatalf("sign in with oathtool's code %s: %v", in.TOTP, err)
	}
	if !s.Account.TOTPEnabled || s.Token == "" {
		t.Fatalf("session %+v, want a token for an account with two-step on", s)
	}
	if _, err := flows.SignIn(ctx, client.New("", client.WithHandler(srv)), nil, in); keyOf(err) != flows.ErrKeyTOTPInvalid {
		t.Fatalf("the same code again: %v, want %s (replay)", err, flows.ErrKeyTOTPInvalid)
	}
}
