package flows_test

// The troubleshooting diagnoses against the real account service
// (server.New on a temporary SQLite store) through the real client,
// in-process: every finding comes from a real condition (a courier that
// fails, a moved clock, five wrong passwords, a full quota, a Wi-Fi-only
// device on a wired network), and every offered action is carried out.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/assets"
	"misetup/client"
	"misetup/flows"
	"misetup/internal/testutil"
	"misetup/server"
	"misetup/server/courier"
	"misetup/server/store"
)

// lastCodeTo waits for a message to `to` and returns the code of the
// newest one.
func (o *outbox) lastCodeTo(t testing.TB, to string, n int) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		o.mu.Lock()
		var got []courier.Message
		for _, m := range o.msgs {
			if m.To == to {
				got = append(got, m)
			}
		}
		o.mu.Unlock()
		if len(got) >= n {
			c := codeRE.FindStringSubmatch(got[len(got)-1].Body)
			if c == nil {
				t.Fatalf("no code in %q", got[len(got)-1].Body)
			}
			return c[1]
		}
	}
	t.Fatalf("no message %d to %s", n, to)
	return ""
}

func (o *outbox) countTo(to string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, m := range o.msgs {
		if m.To == to {
			n++
		}
	}
	return n
}

// failingGateway is an SMS gateway that answers 500 to everything.
func failingGateway(t testing.TB) courier.Courier {
	t.Helper()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "gateway overloaded", http.StatusInternalServerError)
	}))
	t.Cleanup(gw.Close)
	return courier.NewWebhook(courier.WebhookConfig{URL: gw.URL, Timeout: 5 * time.Second})
}

// tsEnv is a running service, its store, a client and this device's files.
type tsEnv struct {
	srv   *server.Server
	st    store.Store
	c     *client.Client
	box   *outbox
	clock *testutil.Clock
	files flows.Files
	dev   api.Device
}

const (
	tsPassword = "Tr1cky#Pass"
	tsNewPass  = "Gr33n-Teapot!"
)

// newTSEnv starts the service. sms, when set, delivers text messages
// (email always goes to the recording outbox).
func newTSEnv(t testing.TB, sms courier.Courier) *tsEnv {
	t.Helper()
	srv, st, box, clk := startService(t, sms)
	return &tsEnv{
		srv: srv, st: st, c: client.New("", client.WithHandler(srv)), box: box, clock: clk,
		files: flows.Files{Dir: t.TempDir()},
		dev:   api.Device{ID: "dev-ts-1", Name: "ann-laptop", Model: "ThinkPad X1", OS: "Debian 12"},
	}
}

// newClient is another client of the same service (another device, or
// one without a session).
func (e *tsEnv) newClient(opts ...client.Option) *client.Client {
	return client.New("", append([]client.Option{client.WithHandler(e.srv)}, opts...)...)
}

// register starts a registration of id and returns its challenge.
func (e *tsEnv) register(t testing.TB, id string) api.Challenge {
	t.Helper()
	ch, err := flows.Register(context.Background(), e.c, flows.Registration{
		Method: flows.MethodOf(id), Identifier: id, Region: "CN", Language: "en",
		Password: tsPassword, Confirm: tsPassword,
	})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	return ch
}

// signUp creates an account for an email address (its code read from the
// outbox) and leaves e.c signed in on e.dev, the token saved in e.files.
func (e *tsEnv) signUp(t testing.TB, addr string) api.Account {
	t.Helper()
	ch := e.register(t, addr)
	res, err := flows.Verify(context.Background(), e.c, e.files, ch.ID, e.box.lastCodeTo(t, addr, 1), &e.dev)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.Session == nil {
		t.Fatal("registration did not sign in")
	}
	return res.Account
}

// delivered waits until the service has tried to deliver the challenge's
// code and returns the challenge.
func (e *tsEnv) delivered(t testing.TB, id string) api.Challenge {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ch, err := e.c.Challenge(context.Background(), id)
		if err != nil {
			t.Fatalf("read challenge: %v", err)
		}
		if ch.Delivery.State != api.DeliveryQueued {
			return ch
		}
	}
	t.Fatalf("challenge %s was never delivered", id)
	return api.Challenge{}
}

// fakeRoot is a filesystem root whose default route goes through iface;
// wireless makes it a Wi-Fi interface.
func fakeRoot(t testing.TB, iface string, wireless bool) flows.System {
	t.Helper()
	root := t.TempDir()
	route := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		iface + "\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	mustWrite(t, filepath.Join(root, "proc/net/route"), route)
	dir := filepath.Join(root, "sys/class/net", iface)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if wireless {
		if err := os.MkdirAll(filepath.Join(dir, "wireless"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(dir, "uevent"), "INTERFACE="+iface+"\n")
	return flows.System{Root: root}
}

func mustWrite(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// render turns a Text into English words, as the ui would.
func render(t flows.Text) string {
	return t.Render(assets.MustLoad("en").T)
}

// renderAll renders a diagnosis: finding, fix and notes.
func renderAll(d flows.Diagnosis) string {
	parts := []string{render(d.Finding), render(d.Fix)}
	for _, n := range d.Notes {
		parts = append(parts, render(n))
	}
	return strings.Join(parts, "\n")
}

func TestProblemFor(t *testing.T) {
	tests := []struct {
		from flows.Step
		want flows.Problem
		ok   bool
	}{
		{flows.StepCode, flows.ProblemCode, true},
		{flows.StepResetCode, flows.ProblemCode, true},
		{flows.StepSignIn, flows.ProblemSignIn, true},
		{flows.StepReset, flows.ProblemSignIn, true},
		{flows.StepSync, flows.ProblemSync, true},
		{flows.StepWelcome, 0, false},
		{flows.StepFindDevice, 0, false},
	}
	for _, tt := range tests {
		got, ok := flows.ProblemFor(tt.from)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ProblemFor(%v) = %v, %v; want %v, %v", tt.from, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRememberChallenge(t *testing.T) {
	dir := t.TempDir()
	files := flows.Files{Dir: dir}
	if _, ok, err := flows.LastChallenge(dir, files); ok || err != nil {
		t.Fatalf("empty dir: ok=%v err=%v", ok, err)
	}
	// The pending registration saved in the progress counts...
	if err := files.SaveProgress(flows.Progress{Step: "code", ChallengeID: "from-progress"}); err != nil {
		t.Fatal(err)
	}
	if r, ok, _ := flows.LastChallenge(dir, files); !ok || r.ID != "from-progress" {
		t.Fatalf("from progress: %+v ok=%v", r, ok)
	}
	// ...until the wizard remembers a challenge itself.
	ch := api.Challenge{ID: "c-42", Purpose: api.PurposePasswordReset, Channel: api.ChannelSMS, Destination: "+86 ••• •••• 8000"}
	if err := flows.RememberChallenge(dir, ch, time.Now()); err != nil {
		t.Fatal(err)
	}
	r, ok, err := flows.LastChallenge(dir, files)
	if err != nil || !ok || r.ID != "c-42" || r.Purpose != api.PurposePasswordReset || r.Channel != api.ChannelSMS {
		t.Fatalf("remembered: %+v ok=%v err=%v", r, ok, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "last-challenge.json"))
	if strings.Contains(string(b), "8000") {
		t.Errorf("the file keeps the destination: %s", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "last-challenge.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// keyRE finds catalog keys of troubleshooting in source.
var keyRE = regexp.MustCompile(`"((?:ts|doctor)\.[a-z0-9_.]+)"`)

// dynamicKeys are keys built by concatenation in the source.
var dynamicKeys = []string{
	"ts.sync.wifi_only.wired", "ts.sync.wifi_only.mobile", "ts.sync.wifi_only.unknown",
	"ts.lost.sent.email", "ts.lost.sent.sms", "ts.case.lost.email", "ts.case.lost.phone",
	"ts.problem.code", "ts.problem.sign_in", "ts.problem.sync", "ts.problem.lost_access",
	"ts.problem.code.desc", "ts.problem.sign_in.desc", "ts.problem.sync.desc", "ts.problem.lost_access.desc",
	"ts.code.channel_email", "ts.code.channel_sms",
	"ts.sync.detail.network.wifi", "ts.sync.detail.network.wired", "ts.sync.detail.network.mobile", "ts.sync.detail.network.unknown",
	"doctor.check.connection", "doctor.check.version", "doctor.check.clock", "doctor.check.network", "doctor.check.session",
	"doctor.check.sync", "doctor.check.find_device", "doctor.check.storage", "doctor.check.last_code",
}

func init() {
	for _, s := range []string{"session", "clock", "settings", "network", "storage", "cache"} {
		dynamicKeys = append(dynamicKeys, "ts.sync.step."+s)
	}
	for _, a := range []flows.Action{
		flows.ActionResend, flows.ActionChangeAddress, flows.ActionCheckAgain, flows.ActionUseSuggestion,
		flows.ActionForgotPassword, flows.ActionSignIn, flows.ActionTurnOnSync, flows.ActionChooseCategories,
		flows.ActionAllowAnyNetwork, flows.ActionClearCache, flows.ActionResetViaEmail, flows.ActionResetViaPhone,
		flows.ActionSupportCase, flows.ActionEnterCode,
	} {
		dynamicKeys = append(dynamicKeys, "ts.action."+string(a))
	}
}

// readCatalogFile reads one catalog file as it is (no fallback).
func readCatalogFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

func placeholders(s string) string {
	p := placeholderRE.FindAllString(s, -1)
	sort.Strings(p)
	seen := []string{}
	for _, x := range p {
		if len(seen) == 0 || seen[len(seen)-1] != x {
			seen = append(seen, x)
		}
	}
	return strings.Join(seen, ",")
}

// TestCatalogsComplete: every troubleshooting key the code uses is in both
// languages, both have the same keys with the same placeholders, and
// none collides with the main catalogs.
func TestCatalogsComplete(t *testing.T) {
	en := readCatalogFile(t, "../assets/locales/troubleshoot/en.json")
	zh := readCatalogFile(t, "../assets/locales/troubleshoot/zh-CN.json")
	main := readCatalogFile(t, "../assets/locales/en.json")
	for k := range en {
		if !strings.HasPrefix(k, "ts.") && !strings.HasPrefix(k, "doctor.") {
			t.Errorf("key %q lacks the ts. or doctor. prefix", k)
		}
		if _, ok := main[k]; ok {
			t.Errorf("key %q collides with the main catalog", k)
		}
		z, ok := zh[k]
		switch {
		case !ok && strings.HasSuffix(k, ".one"):
			// A singular form is optional: Chinese has none.
		case !ok:
			t.Errorf("zh-CN lacks %q", k)
		case strings.TrimSpace(z) == "":
			t.Errorf("zh-CN %q is empty", k)
		case placeholders(z) != placeholders(en[k]):
			t.Errorf("%q: zh-CN placeholders %s, en %s", k, placeholders(z), placeholders(en[k]))
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q (only in zh-CN)", k)
		}
	}
	var sources []string
	for _, glob := range []string{"*.go", "../ui/diagnose*.go", "../doctor*.go"} {
		m, _ := filepath.Glob(glob)
		sources = append(sources, m...)
	}
	used := map[string]bool{}
	for _, k := range dynamicKeys {
		used[k] = true
	}
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") && !strings.HasSuffix(m[1], "_") { // a prefix
				used[m[1]] = true
			}
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in %v: the scan is broken", len(used), sources)
	}
	for k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is used but not in the troubleshooting catalogs", k)
		}
	}
	// Both languages load merged into the main catalogs.
	for _, lang := range []string{"en", "zh-CN"} {
		c := assets.MustLoad(lang)
		if c.Lang() != lang || !c.Has("ts.code.failed") || !c.Has("doctor.session.ok") {
			t.Errorf("%s: troubleshooting texts not merged", lang)
		}
	}
}

func TestTextRenderNested(t *testing.T) {
	tr := func(key string, args ...any) string {
		texts := map[string]string{"a": "[{x}|{y}]", "b": "B{n}", "c": "C", "common.list_sep": "+"}
		s := texts[key]
		for i := 0; i+1 < len(args); i += 2 {
			s = strings.ReplaceAll(s, "{"+args[i].(string)+"}", args[i+1].(string))
		}
		return s
	}
	got := flows.T("a", "x", flows.T("b", "n", "1"), "y", flows.TextList{flows.T("c"), flows.T("b", "n", "2")}).Render(func(k string, a ...any) string {
		s := make([]any, len(a))
		for i, v := range a {
			s[i] = toString(v)
		}
		return tr(k, s...)
	})
	if got != "[B1|C+B2]" {
		t.Errorf("Render = %q", got)
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
