package main

// The web portal in a real browser: Debian's chromium, driven through the
// DevTools protocol (chromedp), against a real `misetup serve` and a real
// `misetup agent`. It signs in with two-step verification, rings a device
// the agent answers for, changes the password; checks every page with
// axe-core; refuses a cross-site form and a frame; and keeps screenshots at
// a phone's and a desktop's width in $MISETUP_ARTIFACTS (a temporary
// folder when unset).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"misetup/server/servertest"
)

// tab is one browser tab on the portal at base.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // folder of the screenshots
	axe   string // axe-core's source
	width string // "phone" or "desktop", in screenshot names
}

// newBrowser starts a headless chromium for t.
func newBrowser(t *testing.T, base string) *tab {
	t.Helper()
	needTools(t, "chromium")
	axePath := os.Getenv("MISETUP_AXE_JS")
	if axePath == "" {
		if os.Getenv("MISETUP_TEST_REQUIRE") == "1" {
			t.Fatal("MISETUP_AXE_JS (axe-core's axe.min.js) is required (MISETUP_TEST_REQUIRE=1)")
		}
		t.Skip("MISETUP_AXE_JS is not set: no accessibility check, skipping")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("MISETUP_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shots = filepath.Join(shots, "portal")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	chromium, _ := exec.LookPath("chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "en-US"),
		// This machine's network is closed: no calls home.
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	// The first action starts the browser, bound to the context it runs
	// with: this one, not a shorter one of a single step.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx, base: base, shots: shots, axe: string(axe), width: "desktop"}
}

// do runs steps within 30 s, failing t on an error.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\non the page:\n%s", err, b.text())
	}
}

// value runs a query and returns its value.
func value[T any](b *tab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// open loads path of the portal.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
}

// text is the page's visible text.
func (b *tab) text() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// typeInto types s into the field with the id, as a person does.
func (b *tab) typeInto(id, s string) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.ID(id), s))
}

// press clicks the button sel and waits for the page it loads.
func (b *tab) press(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("press %s: %v\n%s", sel, err, b.text())
	}
}

// wait waits until the page shows want.
func (b *tab) wait(want string) string {
	b.t.Helper()
	var s string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if s = b.text(); strings.Contains(s, want) {
			return s
		}
	}
	b.t.Fatalf("the page never showed %q:\n%s", want, s)
	return ""
}

// shot keeps a screenshot of the whole page as name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	png := value(b, chromedp.FullScreenshot(100))
	path := filepath.Join(b.shots, b.width+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// axeViolation is one finding of axe-core.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkA11y runs axe-core on the page and fails on a serious or critical
// finding.
func (b *tab) checkA11y(name string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](b.axe))
	raw := value(b, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.map(v => ({ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("axe: %v: %s", err, raw)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe on %s (%s): %s %s: %s at %v", name, b.width, v.Impact, v.ID, v.Help, v.Nodes)
		} else {
			b.t.Logf("axe on %s (%s), %s: %s %s", name, b.width, v.Impact, v.ID, v.Help)
		}
	}
}

// look checks a page for accessibility and keeps its screenshot.
func (b *tab) look(name string) {
	b.t.Helper()
	b.checkA11y(name)
	b.shot(name)
}

// phone makes the tab a phone's screen (390 x 844, touch), or a desktop's.
func (b *tab) phone(on bool) {
	b.t.Helper()
	if on {
		b.width = "phone"
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
		return
	}
	b.width = "desktop"
	b.do(chromedp.ResetViewport())
}

// oathtool is the current TOTP code of secret, from an independent
// implementation.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp", "-b", "--now", at.UTC().Format("2006-01-02 15:04:05 UTC"), secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestPortalInChromium(t *testing.T) {
	endToEnd(t, "chromium", "oathtool", "zbarimg")
	bin := buildMisetup(t)
	root := t.TempDir()
	addr := freeAddr(t)
	srv := startServeAt(t, bin, addr, xdgEnv(root), "--public-url", "http://"+addr,
		"--rule", "argon2_memory_kib=64", "--rule", "argon2_time=1")
	b := newBrowser(t, srv.url)

	// Ann's desktop runs the agent; she manages it from the browser.
	linkDevice(t, srv.url, root, "desk-1")
	agent := startAgentProc(t, bin, append(xdgEnv(root), "MISETUP_LOCATION=39.9042,116.4074"), "--server", srv.url)
	const email = "ann@example.com"

	b.open("/")
	b.wait("Forgot password?")
	b.look("signin")
	b.typeInto("identifier", email)
	b.typeInto("password", servertest.Password)
	b.press("main form button")
	b.wait("Security checkup")
	b.look("overview")

	// Ring: the agent carries it out, and the page follows it live.
	b.open("/devices/desk-1")
	b.wait("Lock Ann's desktop")
	b.look("device")
	b.press(`form[action="/devices/desk-1/commands"] input[value="ring"] ~ button`)
	b.wait("Ann's desktop rang.")
	b.look("command-ring")
	if !strings.Contains(agent.logs.String(), "ring done") {
		t.Errorf("the agent's log has no ring:\n%s", agent.logs)
	}
	b.open("/devices/desk-1")
	b.press(`form[action="/devices/desk-1/commands"] input[value="locate"] ~ button`)
	b.wait("Located: 39.90420, 116.40740")
	b.wait("Open on a map")

	// Two-step verification on, from the QR page's key and oathtool.
	b.open("/two-step")
	b.press(`form[action="/two-step/start"] button`)
	b.wait("Scan this code")
	b.look("two-step-qr")
	// What the page draws is what an independent decoder reads.
	qrText, err := exec.Command("zbarimg", "-q", "--raw", filepath.Join(b.shots, "desktop-two-step-qr.png")).Output()
	if err != nil || !strings.HasPrefix(string(qrText), "otpauth://totp/") {
		t.Fatalf("zbarimg on the page: %v %q", err, qrText)
	}
	key := strings.ReplaceAll(value(b, chromedp.Text(chromedp.ID("totp-key"))), " ", "")
	if !strings.Contains(string(qrText), "secret="+key) {
		t.Fatalf("the QR code %q is not of the key shown, %s", qrText, key)
	}
	b.typeInto("code", oathtool(t, key, time.Now()))
	b.press(`form[action="/two-step/confirm"] button`)
	b.wait("Your recovery codes")
	b.look("two-step-codes")

	// Sign out, and in again with the second factor.
	b.press(`form[action="/signout"] button`)
	b.wait("You signed out.")
	b.typeInto("identifier", email)
	b.typeInto("password", servertest.Password)
	b.press("main form button")
	b.wait("Enter the code from your authenticator app")
	b.look("signin-totp")
	// A code's 30-second step is used once: wait for the next one.
	next := time.Now().Truncate(30 * time.Second).Add(30 * time.Second)
	time.Sleep(time.Until(next) + time.Second)
	b.typeInto("totp", oathtool(t, key, time.Now()))
	b.press("main form button")
	b.wait("Two-step verification is on.")

	// The password, changed.
	b.open("/password")
	change := func(next string) {
		b.typeInto("current_password", servertest.Password)
		b.typeInto("new_password", next)
		b.typeInto("confirm_password", next)
		b.press("main form button")
	}
	change("short")
	b.wait("The password does not meet every rule yet.")
	b.look("password-refused")
	change("Another-77-river")
	b.wait("Password changed.")

	// The same pages at a phone's width, and in Chinese.
	b.phone(true)
	for _, p := range []struct{ path, want, name string }{
		{"/account", "Security checkup", "overview"},
		{"/devices/desk-1", "Erase Ann's desktop", "device"},
		{"/password", "Change password", "password"},
		{"/account?lang=zh-CN", "安全检查", "overview-zh"},
	} {
		b.open(p.path)
		b.wait(p.want)
		b.look(p.name)
	}
	b.open("/account?lang=en")
	b.phone(false)

	t.Run("a cross-site form is refused", func(t *testing.T) {
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/password">
<input name="current_password" value="Another-77-river"><input name="new_password" value="Stolen-88-key!">
<input name="confirm_password" value="Stolen-88-key!"></form><script>document.forms[0].submit()</script>`, srv.url)
		}))
		defer evil.Close()
		b.do(chromedp.Navigate(evil.URL))
		b.wait("This request came from another site")
		b.shot("cross-site-refused")
	})

	t.Run("a framed page is refused", func(t *testing.T) {
		framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<!doctype html><title>framer</title><iframe id="f" src="%s/account"></iframe>`, srv.url)
		}))
		defer framer.Close()
		b.do(chromedp.Navigate(framer.URL))
		time.Sleep(time.Second)
		tree := value(b, chromedp.Evaluate[int](`window.frames.length`))
		if tree != 1 {
			t.Fatalf("frames: %d", tree)
		}
		// A frame the portal refused stays on chromium's error page, which
		// the framer cannot tell from another origin's; the portal's own
		// page would have reached the service. The frame tree says which.
		res, err := chromedp.Call(b.ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		var frames []string
		for _, c := range res.FrameTree.ChildFrames {
			frames = append(frames, c.Frame.URL)
		}
		for _, u := range frames {
			if strings.HasPrefix(u, srv.url) {
				t.Errorf("the portal was drawn in a frame: %v", frames)
			}
		}
		b.shot("framed-refused")
	})
}
