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
	"image"
	"image/draw"
	"image/png"
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
		t.Logf("the framer's frames: %v", frames)
		if len(frames) != 1 {
			t.Fatalf("want the one frame, refused: %v", frames)
		}
		for _, u := range frames {
			if strings.HasPrefix(u, srv.url) {
				t.Errorf("the portal was drawn in a frame: %v", frames)
			}
		}
		b.shot("framed-refused")
	})
}

// qrOnScreen reads the QR code a kiosk draws in half blocks on its screen
// the way a phone's camera does: the ink of the screen as an image, given
// to zbarimg.
func qrOnScreen(t *testing.T, screen string) string {
	t.Helper()
	var rows [][]rune
	left, right := 1<<30, -1
	for _, line := range strings.Split(screen, "\n") {
		r := []rune(line)
		first, last := -1, -1
		for i, c := range r {
			if c == '█' || c == '▀' || c == '▄' {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 || first > 20 { // the code is on the left; text beside it has no blocks
			if len(rows) > 0 {
				break
			}
			continue
		}
		left, right = min(left, first), max(right, last)
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatalf("no QR code on the screen:\n%s", screen)
	}
	const quiet, scale = 4, 4
	cols := right - left + 1
	img := image.NewGray(image.Rect(0, 0, (cols+2*quiet)*scale, (2*len(rows)+2*quiet)*scale))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for y, r := range rows {
		for x := range cols {
			c := ' '
			if left+x < len(r) {
				c = r[left+x]
			}
			top, bottom := c == '█' || c == '▀', c == '█' || c == '▄'
			for half, dark := range []bool{top, bottom} {
				if dark {
					px, py := (x+quiet)*scale, (2*y+half+quiet)*scale
					draw.Draw(img, image.Rect(px, py, px+scale, py+scale), image.Black, image.Point{}, draw.Src)
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "kiosk-qr.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("zbarimg", "-q", "--raw", path).Output()
	if err != nil {
		t.Fatalf("zbarimg read no code from the kiosk's screen: %v\n%s", err, screen)
	}
	return strings.TrimSpace(string(out))
}

// TestKioskHandoffToAPhone: a kiosk (misetup --kiosk in tmux, against a
// store's misetup serve) shows "Type it on your phone"; the customer's
// phone (chromium at a phone's width) reads its QR code, creates the
// account there, and the kiosk goes on to the code step without ever
// having the password; the link, used, is refused. A second customer signs
// in the same way, with two-step verification on.
func TestKioskHandoffToAPhone(t *testing.T) {
	endToEnd(t, "tmux", "chromium", "zbarimg", "oathtool")
	bin := buildMisetup(t)
	tm, xdg := e2eMachine(t)
	addr := freeAddr(t)
	srv := startServeAt(t, bin, addr, tm.env, "--public-url", "http://"+addr,
		"--rule", "argon2_memory_kib=64", "--rule", "argon2_time=1")
	config := filepath.Join(xdg("config"), "misetup", "config.toml")
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte("[kiosk]\nstore = \"store-7\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pin := exec.Command(bin, "kiosk", "pin")
	pin.Env, pin.Stdin = tm.env, strings.NewReader("2468\n2468\n")
	if out, err := pin.CombinedOutput(); err != nil {
		t.Fatalf("misetup kiosk pin: %v\n%s", err, out)
	}
	phone := newBrowser(t, srv.url)
	phone.phone(true)
	outbox := filepath.Join(xdg("state"), "misetup", "outbox.jsonl")
	const email, password = "own.phone@example.com", "Blue-kite-42!"

	// The kiosk: Create account, then "Type it on your phone".
	kiosk := bin + " --kiosk --lang en --server " + srv.url
	tm.toCreateAccount(kiosk)
	tm.wait("Type it on your phone")
	for range 4 { // phone, password, confirm, Create account
		tm.keys("Tab")
	}
	tm.keys("Enter")
	tm.wait("Waiting for your phone")
	link := qrOnScreen(t, tm.screen())
	if !strings.HasPrefix(link, srv.url+"/h/") {
		t.Fatalf("the kiosk's QR code says %q", link)
	}

	// The phone.
	phone.do(chromedp.Navigate(link))
	phone.wait("The kiosk never sees your password")
	phone.look("handoff-create")
	phone.do(chromedp.Click(chromedp.CSS(`input[name="method"][value="email"]`)))
	phone.typeInto("identifier", email)
	phone.typeInto("password", password)
	phone.typeInto("confirm_password", password)
	phone.press("main form button")
	phone.wait("type it on the kiosk to finish")
	phone.look("handoff-done")

	// The kiosk goes on by itself, to the code, and never had the password.
	tm.waitFlat("We sent a 6-digit code by email to o***@example.com")
	if strings.Contains(tm.tmux("capture-pane", "-p", "-S", "-", "-t", "e2e"), password) {
		t.Error("the password is on the kiosk's screen")
	}
	tm.typeText(lastCode(t, outbox, email))
	tm.waitFlat("Your Mi Account is ready")

	// The link works once.
	phone.do(chromedp.Navigate(link))
	phone.wait("This link was already used")
	phone.look("handoff-used")

	// The owner turns two-step verification on (from the API, as any
	// device could), and signs in at the next customer's turn.
	owner := &servertest.Target{URLs: []string{srv.url}}
	var sess struct{ Token string }
	owner.Do(t, 0, "POST", "/v1/sessions", map[string]any{"identifier": email, "password": password,
		"device": map[string]string{"id": "own-phone", "name": "phone"}}, "").Into(t, http.StatusCreated, &sess)
	var setup struct{ Secret string }
	owner.Do(t, 0, "POST", "/v1/account/totp", nil, sess.Token).Into(t, http.StatusOK, &setup)
	owner.Do(t, 0, "POST", "/v1/account/totp/confirm", map[string]string{"code": oathtool(t, setup.Secret, time.Now())}, sess.Token).Into(t, http.StatusOK, nil)

	tm.toSignIn(kiosk)
	for range 4 { // Mi ID, password, Sign in, Forgot password?
		tm.keys("Tab")
	}
	tm.keys("Enter")
	tm.wait("Waiting for your phone")
	link = qrOnScreen(t, tm.screen())
	phone.do(chromedp.Navigate(link))
	phone.wait("The kiosk never sees your password")
	phone.typeInto("identifier", email)
	phone.typeInto("password", password)
	phone.press("main form button")
	phone.wait("Enter the code from your authenticator app")
	phone.look("handoff-totp")
	next := time.Now().Truncate(30 * time.Second).Add(30 * time.Second) // the confirming code's step is spent
	time.Sleep(time.Until(next) + time.Second)
	phone.typeInto("totp", oathtool(t, setup.Secret, time.Now()))
	phone.press("main form button")
	phone.wait("The kiosk is signing you in now")
	tm.waitFlat("Mi Cloud")
	if strings.Contains(tm.tmux("capture-pane", "-p", "-S", "-", "-t", "e2e"), password) {
		t.Error("the password is on the kiosk's screen")
	}
}
