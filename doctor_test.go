package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"
	"github.com/spf13/cobra"

	"misetup/api"
	"misetup/assets/assetstest"
	"misetup/client"
	"misetup/flows"
	"misetup/server/courier"
)

// doctorXDG points the XDG dirs into a temporary folder and writes a
// config with cheap password hashing (the tests hash a few passwords).
func doctorXDG(t *testing.T) *config {
	t.Helper()
	t.Cleanup(xdg.Reload) // first: runs after the Setenv restores
	root := t.TempDir()
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"} {
		t.Setenv(v, filepath.Join(root, strings.ToLower(v)))
	}
	for _, v := range []string{"MISETUP_SERVER", "MISETUP_LANG", "MISETUP_DB", "MISETUP_COURIER"} {
		t.Setenv(v, "")
	}
	t.Setenv("LANG", "en_US.UTF-8")
	xdg.Reload()
	dir := filepath.Join(root, "xdg_config_home", "misetup")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rules := "[rules]\nargon2_memory_kib = 64\nargon2_time = 1\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(&cobra.Command{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// wiredSystem is a filesystem root whose default route is a cable (eth0).
func wiredSystem(t *testing.T) flows.System {
	t.Helper()
	root := t.TempDir()
	route := "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	for path, data := range map[string]string{"proc/net/route": route, "sys/class/net/eth0/uevent": "INTERFACE=eth0\n"} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return flows.System{Root: root, Hostname: func() (string, error) { return "ann-desktop", nil }}
}

// seeded is an account made through the embedded service the way the
// wizard makes it: the token and the device id in the state dir.
type seeded struct {
	email, miID, token, deviceID string
	codes                        []string
	challengeID                  string
}

func seedAccount(t *testing.T, cfg *config) seeded {
	t.Helper()
	ctx := context.Background()
	srv, closeFn, err := cfg.openService(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	c := client.New("", client.WithHandler(srv))
	files := flows.Files{Dir: cfg.stateDir}
	devID, err := files.DeviceID()
	if err != nil {
		t.Fatal(err)
	}
	s := seeded{email: "ann.lee@example.com", deviceID: devID}
	const pw = "Tr1cky#Pass"
	ch, err := flows.Register(ctx, c, flows.Registration{Method: "email", Identifier: s.email, Password: pw, Confirm: pw, Region: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	s.challengeID = ch.ID
	if err := flows.RememberChallenge(cfg.stateDir, ch, time.Now()); err != nil {
		t.Fatal(err)
	}
	var code string
	for deadline := time.Now().Add(5 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		msgs, _ := courier.ReadOutbox(cfg.outboxPath())
		for _, m := range msgs {
			if c := regexp.MustCompile(`\b\d{6}\b`).FindString(m.Body); c != "" {
				code = c
			}
		}
	}
	if code == "" {
		t.Fatal("no code in the outbox")
	}
	s.codes = append(s.codes, code)
	res, err := flows.Verify(ctx, c, files, ch.ID, code, &api.Device{ID: devID, Name: "ann-desktop"})
	if err != nil || res.Session == nil {
		t.Fatalf("verify: %v", err)
	}
	s.miID, s.token = res.Account.MiID, res.Session.Token
	if _, err := c.SetSync(ctx, devID, api.SyncSettings{AutoSync: true, Categories: []string{"contacts", "notes"}}); err != nil {
		t.Fatal(err)
	}
	return s
}

func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

func exitStatus(err error) int {
	var ec exitCode
	if errors.As(err, &ec) {
		return int(ec)
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestDoctorJSONAndReport(t *testing.T) {
	cfg := doctorXDG(t)
	s := seedAccount(t, cfg)
	report := filepath.Join(t.TempDir(), "report.txt")
	var out, errOut bytes.Buffer
	err := runDoctor(context.Background(), doctorEnv{
		cfg: cfg, flags: doctorFlags{asJSON: true, report: report}, system: wiredSystem(t),
		out: &out, errOut: &errOut,
	})
	var got []doctorFinding
	if jerr := json.Unmarshal(out.Bytes(), &got); jerr != nil {
		t.Fatalf("--json printed %q: %v", out.String(), jerr)
	}
	want := map[string]string{
		"connection": "ok", "version": "ok", "clock": "ok", "network": "ok", "session": "ok",
		"sync": "ok", "find_device": "warn", "storage": "ok", "last_code": "ok",
	}
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d: %s", len(got), len(want), out.String())
	}
	for i, f := range got {
		if f.ID != flows.DoctorChecks()[i] || want[f.ID] != f.Status || f.Finding == "" {
			t.Errorf("finding %d: %+v, want id %s status %s", i, f, flows.DoctorChecks()[i], want[f.ID])
		}
		if f.Status != "ok" && f.Fix == "" {
			t.Errorf("%s: %s without a fix", f.ID, f.Status)
		}
	}
	if exitStatus(err) != 1 {
		t.Errorf("exit status %d (%v), want 1 for a warning", exitStatus(err), err)
	}

	b, rerr := os.ReadFile(report)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if fi, _ := os.Stat(report); fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v", fi.Mode().Perm())
	}
	text := string(b)
	for _, secret := range append([]string{s.email, s.miID, s.token, s.deviceID, s.challengeID, "Tr1cky#Pass"}, s.codes...) {
		if strings.Contains(text, secret) {
			t.Errorf("the report holds %q:\n%s", secret, text)
		}
	}
	for _, wantText := range []string{"a***@example.com", "[warn] find_device", "built-in", "ann-desktop"} {
		if !strings.Contains(text, wantText) {
			t.Errorf("the report lacks %q:\n%s", wantText, text)
		}
	}
	if !strings.Contains(errOut.String(), report) {
		t.Errorf("stderr %q does not say where the report went", errOut.String())
	}
}

func TestDoctorTable(t *testing.T) {
	cfg := doctorXDG(t)
	seedAccount(t, cfg)
	var out bytes.Buffer
	err := runDoctor(context.Background(), doctorEnv{cfg: cfg, system: wiredSystem(t), out: &out, errOut: &out, width: 80})
	table := out.String()
	for _, want := range []string{
		"  ✓ Service      Reachable and stable",
		"  ! Find Device  Find Device is off for this device.",
		"→ Turn it on (misetup, step 7)",
		"  ✓ Session      Signed in as a***@example.com",
		"0 failed, 1 to look at, 8 ok.",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	for _, l := range strings.Split(table, "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Errorf("line of %d columns: %q", w, l)
		}
	}
	if exitStatus(err) != 1 {
		t.Errorf("exit status %d", exitStatus(err))
	}
}

func TestDoctorServiceDown(t *testing.T) {
	doctorXDG(t)
	var out bytes.Buffer
	cmd := newDoctorCmd()
	cmd.PersistentFlags().String("config", "", "")
	cmd.SetArgs([]string{"--json", "--server", closedURL(t)})
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.ExecuteContext(context.Background())
	if exitStatus(err) != 2 {
		t.Fatalf("exit status %d (%v), want 2", exitStatus(err), err)
	}
	var got []doctorFinding
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got[0].ID != "connection" || got[0].Status != "fail" || !strings.Contains(got[0].Fix, "run this check again") {
		t.Errorf("connection: %+v", got[0])
	}
}

func TestDoctorEmbeddedServiceCannotOpen(t *testing.T) {
	cfg := doctorXDG(t)
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Serve.DB = filepath.Join(notADir, "misetup.db")
	var out bytes.Buffer
	err := runDoctor(context.Background(), doctorEnv{cfg: cfg, flags: doctorFlags{asJSON: true}, system: wiredSystem(t), out: &out, errOut: &out})
	if exitStatus(err) != 2 {
		t.Fatalf("exit status %d", exitStatus(err))
	}
	var got []doctorFinding
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got[0].Finding, "could not start") {
		t.Errorf("connection: %+v", got[0])
	}
}

func TestCheckCommand(t *testing.T) {
	cfg := doctorXDG(t)
	var out bytes.Buffer
	err := runCheck(context.Background(), doctorEnv{cfg: cfg, flags: doctorFlags{asJSON: true}, system: wiredSystem(t), out: &out, errOut: &out})
	if exitStatus(err) != 0 {
		t.Errorf("exit status %d (%v)", exitStatus(err), err)
	}
	var got []doctorFinding
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range got {
		ids = append(ids, f.ID+"="+f.Status)
	}
	if strings.Join(ids, ",") != "connection=ok,version=ok,clock=ok,network=ok" {
		t.Errorf("check: %v", ids)
	}
	// Through cobra, in Chinese, against a service that is down.
	cmd := newCheckCmd()
	cmd.PersistentFlags().String("config", "", "")
	out.Reset()
	cmd.SetArgs([]string{"--server", closedURL(t), "--lang", "zh-CN"})
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	if exitStatus(cmd.ExecuteContext(context.Background())) != 2 {
		t.Errorf("down: not exit status 2:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "✗ 服务") {
		t.Errorf("zh-CN table:\n%s", out.String())
	}
}

// TestDoctorChineseLineBreaks prints the doctor's table in Chinese at 60
// and 80 columns: no line starts with punctuation (a lone "。"), and no
// word is split across two lines.
func TestDoctorChineseLineBreaks(t *testing.T) {
	cfg := doctorXDG(t)
	seedAccount(t, cfg)
	for _, w := range []int{60, 80} {
		var out bytes.Buffer
		_ = runDoctor(context.Background(), doctorEnv{cfg: cfg, flags: doctorFlags{lang: "zh-CN"}, system: wiredSystem(t), out: &out, errOut: &out, width: w})
		if !strings.Contains(out.String(), "服务") {
			t.Fatalf("not in Chinese:\n%s", out.String())
		}
		for _, p := range assetstest.ChineseLineBreaks(out.String()) {
			t.Errorf("%d columns: %s\n%s", w, p, out.String())
		}
	}
}
