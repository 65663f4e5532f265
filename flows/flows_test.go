package flows_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"misetup/api"
	"misetup/flows"
)

// writeFiles creates files under root (a fake filesystem root).
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if body == "<dir>" {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const routeHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

func route(iface, dest, flags, metric, mask string) string {
	return iface + "\t" + dest + "\t0101A8C0\t" + flags + "\t0\t0\t" + metric + "\t" + mask + "\t0\t0\t0\n"
}

func TestNetworkKind(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		wantKind  flows.NetworkKind
		wantIface string
	}{
		{"wireless dir is Wi-Fi", map[string]string{
			"proc/net/route":                routeHeader + route("wlp2s0", "00000000", "0003", "600", "00000000"),
			"sys/class/net/wlp2s0/wireless": "<dir>",
			"sys/class/net/wlp2s0/uevent":   "INTERFACE=wlp2s0\n",
			"sys/class/net/eth0/uevent":     "INTERFACE=eth0\n",
		}, flows.NetworkWiFi, "wlp2s0"},
		{"DEVTYPE=wlan is Wi-Fi", map[string]string{
			"proc/net/route":             routeHeader + route("wlan0", "00000000", "0003", "0", "00000000"),
			"sys/class/net/wlan0/uevent": "DEVTYPE=wlan\nINTERFACE=wlan0\n",
		}, flows.NetworkWiFi, "wlan0"},
		{"wwan name is mobile", map[string]string{
			"proc/net/route": routeHeader + route("wwan0", "00000000", "0003", "0", "00000000"),
		}, flows.NetworkMobile, "wwan0"},
		{"DEVTYPE=wwan is mobile", map[string]string{
			"proc/net/route":            routeHeader + route("usb0", "00000000", "0003", "0", "00000000"),
			"sys/class/net/usb0/uevent": "DEVTYPE=wwan\n",
		}, flows.NetworkMobile, "usb0"},
		{"rmnet is mobile", map[string]string{
			"proc/net/route": routeHeader + route("rmnet_data0", "00000000", "0003", "0", "00000000"),
		}, flows.NetworkMobile, "rmnet_data0"},
		{"the lowest metric wins", map[string]string{
			"proc/net/route": routeHeader +
				route("wlan0", "00000000", "0003", "600", "00000000") +
				route("eth0", "00000000", "0003", "100", "00000000"),
			"sys/class/net/wlan0/wireless": "<dir>",
		}, flows.NetworkWired, "eth0"},
		{"a route that is down does not count", map[string]string{
			"proc/net/route": routeHeader + route("eth0", "00000000", "0000", "0", "00000000"),
		}, flows.NetworkUnknown, ""},
		{"no default route is unknown", map[string]string{
			"proc/net/route": routeHeader + route("eth0", "0000A8C0", "0001", "0", "00FFFFFF"),
		}, flows.NetworkUnknown, ""},
		{"no /proc is unknown", map[string]string{}, flows.NetworkUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			kind, iface := flows.System{Root: root}.Network()
			if kind != tt.wantKind || iface != tt.wantIface {
				t.Fatalf("Network() = %s %q, want %s %q", kind, iface, tt.wantKind, tt.wantIface)
			}
		})
	}
}

func TestDeviceFacts(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"sys/devices/virtual/dmi/id/product_name": "ThinkPad X1 Carbon Gen 11\n",
		"etc/os-release": "NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\n",
	})
	sys := flows.System{Root: root, Hostname: func() (string, error) { return "ann\x1b[31m-laptop\n", nil }}
	got := sys.Device()
	want := flows.DeviceInfo{Name: "ann[31m-laptop", Model: "ThinkPad X1 Carbon Gen 11", OS: "Ubuntu 24.04.1 LTS"}
	if got != want {
		t.Fatalf("Device() = %+v, want %+v (escape characters dropped)", got, want)
	}
	empty := flows.System{Root: t.TempDir(), Hostname: func() (string, error) { return "", errors.New("no host name") }}
	if d := empty.Device(); d != (flows.DeviceInfo{}) {
		t.Fatalf("nothing to read gave %+v", d)
	}
	if _, err := flows.ValidateDevice(flows.DeviceInfo{Name: "  \t"}); keyOf(err) != flows.ErrKeyDeviceNameEmpty {
		t.Fatalf("blank name: %v", err)
	}
}

func TestFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	f := flows.Files{Dir: dir}
	if _, ok, err := f.LoadProgress(); ok || err != nil {
		t.Fatalf("fresh dir: ok=%v err=%v", ok, err)
	}
	p := flows.Progress{Step: "code", Method: "email", Identifier: "ann@example.com", ChallengeID: "ch-1",
		Device: flows.DeviceInfo{Name: "box"}, SavedAt: time.Unix(0, 0).UTC()}
	if err := f.SaveProgress(p); err != nil {
		t.Fatal(err)
	}
	got, ok, err := f.LoadProgress()
	if err != nil || !ok || got != p {
		t.Fatalf("round trip: %+v %v %v", got, ok, err)
	}
	if err := f.SaveToken("tok"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "session"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file mode %v (%v), want 0600", fi.Mode(), err)
	}
	if tok, _ := f.LoadToken(); tok != "tok" {
		t.Fatalf("token %q", tok)
	}
	id1, err1 := f.DeviceID()
	id2, err2 := f.DeviceID()
	if err1 != nil || err2 != nil || id1 == "" || id1 != id2 || len(id1) != 32 {
		t.Fatalf("device id %q %q (%v %v): want one stable random id", id1, id2, err1, err2)
	}
	if err := os.WriteFile(filepath.Join(dir, "progress.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.LoadProgress(); ok || err != nil {
		t.Fatalf("damaged progress: ok=%v err=%v, want start over quietly", ok, err)
	}
	for _, clear := range []func() error{f.ClearProgress, f.ClearToken, f.ClearProgress} {
		if err := clear(); err != nil {
			t.Fatal(err)
		}
	}
	if tok, _ := f.LoadToken(); tok != "" {
		t.Fatalf("token after clear: %q", tok)
	}
}

func TestResumeStep(t *testing.T) {
	tests := []struct {
		saved    flows.Progress
		signedIn bool
		want     flows.Step
	}{
		{flows.Progress{Step: "welcome"}, false, flows.StepRequirements},
		{flows.Progress{Step: "device"}, false, flows.StepDevice},
		{flows.Progress{Step: "create"}, false, flows.StepCreate},
		{flows.Progress{Step: "code", ChallengeID: "ch"}, false, flows.StepCode},
		{flows.Progress{Step: "code"}, false, flows.StepCreate},
		{flows.Progress{Step: "reset_code"}, false, flows.StepReset},
		{flows.Progress{Step: "find_device"}, false, flows.StepSignIn},
		{flows.Progress{Step: "find_device"}, true, flows.StepFindDevice},
		{flows.Progress{Step: "sign_in"}, true, flows.StepSync},
		{flows.Progress{Step: "nonsense"}, false, flows.StepRequirements},
		{flows.Progress{Step: "summary", Finished: true}, true, flows.StepSummary},
		{flows.Progress{Step: "summary", Finished: true}, false, flows.StepRequirements},
	}
	for _, tt := range tests {
		if got := flows.ResumeStep(tt.saved, tt.signedIn); got != tt.want {
			t.Errorf("ResumeStep(%q, signed in %v) = %v, want %v", tt.saved.Step, tt.signedIn, got, tt.want)
		}
	}
	for s := flows.StepWelcome; s <= flows.StepSummary; s++ {
		path := flows.PathTo(s)
		if path[len(path)-1] != s || path[0] != flows.StepWelcome {
			t.Errorf("PathTo(%v) = %v", s, path)
		}
		if got, ok := flows.ParseStep(s.String()); !ok || got != s {
			t.Errorf("ParseStep(%q) = %v %v", s.String(), got, ok)
		}
	}
}

func TestPasswordChecklist(t *testing.T) {
	tests := []struct {
		pw                               string
		length, letters, digits, symbols bool
	}{
		{"", false, false, false, false},
		{"abcdefgh", true, true, false, false},
		{"abc123!", false, true, true, true},
		{"пароль12 ", true, true, true, true}, // Cyrillic letters, a space counts as a symbol
		{"密码密码密码12#", true, true, true, true},
	}
	st := func(ok bool) flows.RuleState {
		if ok {
			return flows.RuleMet
		}
		return flows.RuleUnmet
	}
	for _, tt := range tests {
		c := flows.CheckPassword(tt.pw, "")
		if c.State[flows.RuleLength] != st(tt.length) || c.State[flows.RuleLetters] != st(tt.letters) ||
			c.State[flows.RuleDigits] != st(tt.digits) || c.State[flows.RuleSymbols] != st(tt.symbols) ||
			c.State[flows.RuleCommon] != flows.RuleUnknown {
			t.Errorf("CheckPassword(%q) = %v", tt.pw, c.State)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	if got, err := flows.ParsePhone("138 0013 8000", "CN"); err != nil || got != "+8613800138000" {
		t.Errorf("CN mobile: %q %v", got, err)
	}
	if got, err := flows.ParsePhone("+44 7911 123456", "CN"); err != nil || got != "+447911123456" {
		t.Errorf("own country code wins: %q %v", got, err)
	}
	for _, bad := range []string{"12345", "138-abc", "+999 123"} {
		if _, err := flows.ParsePhone(bad, "CN"); keyOf(err) != flows.ErrKeyPhoneInvalid {
			t.Errorf("ParsePhone(%q) = %v", bad, err)
		}
	}
	if got := flows.FormatPhone("13800138000", "CN"); got != "138 0013 8000" {
		t.Errorf("FormatPhone = %q", got)
	}
	if got := flows.FormatPhone("1380", "CN"); got != "1380" {
		t.Errorf("FormatPhone of a partial number = %q, want it as typed", got)
	}
	for _, bad := range []string{"ann", "ann@", "@example.com", "ann@example"} {
		if _, err := flows.ValidateEmail(bad); keyOf(err) != flows.ErrKeyEmailInvalid {
			t.Errorf("ValidateEmail(%q) = %v", bad, err)
		}
	}
	// A space says so (the form says it while typing: more typing cannot fix it).
	for _, bad := range []string{"ann @example.com", "Ann <ann@example.com>"} {
		if _, err := flows.ValidateEmail(bad); keyOf(err) != flows.ErrKeyEmailSpace || !flows.Definite(err) {
			t.Errorf("ValidateEmail(%q) = %v, want %s", bad, err, flows.ErrKeyEmailSpace)
		}
	}
	for locale, want := range map[string]string{"zh_CN.UTF-8": "CN", "en_GB.UTF-8": "GB", "zh": "CN", "en": "US", "": "US", "fr_XX": "US"} {
		if got := flows.DefaultRegion(locale); got != want {
			t.Errorf("DefaultRegion(%q) = %s, want %s", locale, got, want)
		}
	}
}

func TestExplain(t *testing.T) {
	left := 3
	tests := []struct {
		err  error
		want string
	}{
		{&api.Error{Code: api.CodeUnavailable, Cause: context.DeadlineExceeded}, flows.ErrKeyTimeout},
		{&api.Error{Code: api.CodeUnavailable}, flows.ErrKeyUnavailable},
		{context.DeadlineExceeded, flows.ErrKeyTimeout},
		{errors.New("EOF"), flows.ErrKeyUnknown},
		{&api.Error{Code: "something_new"}, flows.ErrKeyUnknown},
		{&api.Error{Code: api.CodeInvalidInput, Field: "identifier"}, "err.invalid_input.identifier"},
		{&api.Error{Code: api.CodeInvalidInput, Field: "device.name"}, flows.ErrKeyInvalidInput},
		{&api.Error{Code: api.CodeInvalidCode, AttemptsLeft: &left}, flows.ErrKeyInvalidCode},
		{flows.ErrServiceNotStarted, flows.ErrKeyServiceNotStarted},
	}
	for _, tt := range tests {
		if got := keyOf(tt.err); got != tt.want {
			t.Errorf("Explain(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
	ue := flows.Explain(&api.Error{Code: api.CodeAccountLocked, RetryAfterS: 61})
	if ue.Wait != 61*time.Second || ue.Args[1] != 2 {
		t.Errorf("locked: wait %v args %v, want 61 s, 2 minutes", ue.Wait, ue.Args)
	}
	if flows.Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0}, {"1.2.10", "1.2.9", 1}, {"v1.0", "1.0.1", -1}, {"2.0.0-rc1", "1.9", 1}, {"1", "1.0.0", 0},
	}
	for _, tt := range tests {
		if got := flows.CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// hangingStatus never answers until its context ends, like a service behind
// a dropped connection.
type hangingStatus struct{}

func (hangingStatus) Status(ctx context.Context) (api.Status, error) {
	<-ctx.Done()
	return api.Status{}, &api.Error{Code: api.CodeUnavailable, Cause: ctx.Err()}
}

func TestChecksEndWhenTheServiceHangs(t *testing.T) {
	c := flows.Checker{Status: hangingStatus{}, Budget: 200 * time.Millisecond, ClientVersion: api.Version}
	r := c.All(context.Background())
	if r.OK() {
		t.Fatalf("a hanging service passed: %+v", r)
	}
	f, _ := r.Find(flows.CheckConnection)
	if f.Lost != 5 || f.Msg.Key != "check.connection.timeout" || f.Fix.Key != "check.connection.fix_builtin" {
		t.Fatalf("connection finding %+v", f)
	}
	for _, name := range []string{flows.CheckVersion, flows.CheckClock} {
		if f, _ := r.Find(name); f.Level != flows.LevelFail || f.Msg.Key != "check.needs_service" {
			t.Errorf("%s: %+v", name, f)
		}
	}
}

// foreignStatus is another server at the service's address: it answers
// every request with 404.
type foreignStatus struct{}

func (foreignStatus) Status(ctx context.Context) (api.Status, error) {
	return api.Status{}, &api.Error{Status: 404, Code: api.CodeNotFound}
}

func TestConnectionToSomethingElse(t *testing.T) {
	c := flows.Checker{Status: foreignStatus{}, Server: "http://example.com", ClientVersion: api.Version}
	f := c.Connection(context.Background())
	if f.Level != flows.LevelFail || f.Msg.Key != "check.connection.not_service" || f.Fix.Key != "check.connection.fix" {
		t.Fatalf("a 404 server passed for the service: %+v", f)
	}
}

// TestSessionKeepsItsService: the session file keeps the address of the
// service that gave it; one written before it did reads as the built-in
// service's.
func TestSessionKeepsItsService(t *testing.T) {
	dir := t.TempDir()
	f := flows.Files{Dir: dir, Service: "https://store.example.com"}
	if err := f.SaveToken("tok"); err != nil {
		t.Fatal(err)
	}
	reader := flows.Files{Dir: dir} // another command, not knowing the service
	if tok, err := reader.LoadToken(); tok != "tok" || err != nil {
		t.Errorf("token %q, %v", tok, err)
	}
	if svc, err := reader.SessionService(); svc != "https://store.example.com" || err != nil {
		t.Errorf("service %q, %v; want https://store.example.com", svc, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "session"), []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, _ := reader.LoadToken(); tok != "old" {
		t.Errorf("an older file's token %q, want old", tok)
	}
	if svc, _ := reader.SessionService(); svc != "" {
		t.Errorf("an older file's service %q, want the built-in one", svc)
	}
	if err := reader.ClearToken(); err != nil {
		t.Fatal(err)
	}
	if svc, _ := reader.SessionService(); svc != "" {
		t.Errorf("service after sign-out %q", svc)
	}
}
