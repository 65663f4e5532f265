package flows_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
	"misetup/server/store"
)

func (e *tsEnv) doctor(t testing.TB, sys flows.System) flows.Doctor {
	t.Helper()
	c := e.newClient() // a fresh process: the token comes from the files
	return flows.Doctor{
		Checker: flows.Checker{
			Status: e.newClient(client.WithRetries(0)), System: sys,
			ClientVersion: api.Version, Probes: 2, Now: e.clock.Now,
		},
		Service:  c,
		Sessions: e.files,
		DeviceID: func() (string, error) { return e.dev.ID, nil },
		StateDir: e.files.Dir,
		Progress: e.files,
		Now:      e.clock.Now,
	}
}

func levels(r flows.Report) map[string]flows.Level {
	m := map[string]flows.Level{}
	for _, f := range r.Findings {
		m[f.Check] = f.Level
	}
	return m
}

func checkNames(r flows.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Check)
	}
	return out
}

func TestDoctorHealthy(t *testing.T) {
	e := newTSEnv(t, nil)
	ctx := context.Background()
	e.signUp(t, "ann@example.com")
	setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: true, Categories: guideCats})
	if _, err := e.c.SetFindDevice(ctx, e.dev.ID, true); err != nil {
		t.Fatal(err)
	}
	ch := e.register(t, "bob@example.com")
	e.delivered(t, ch.ID)
	if err := flows.RememberChallenge(e.files.Dir, ch, e.clock.Now()); err != nil {
		t.Fatal(err)
	}

	res := e.doctor(t, fakeRoot(t, "eth0", false)).Run(ctx)
	if got, want := strings.Join(checkNames(res.Report), ","), strings.Join(flows.DoctorChecks(), ","); got != want {
		t.Errorf("checks %s, want %s", got, want)
	}
	if res.Worst() != flows.LevelOK {
		for _, f := range res.Findings {
			t.Logf("%s %s: %s / %s", f.Level, f.Check, render(f.Msg), render(f.Fix))
		}
		t.Fatalf("healthy setup: worst %v", res.Worst())
	}
	if !strings.HasPrefix(res.Account, "a***@example.com (Mi ID •") {
		t.Errorf("account %q", res.Account)
	}
	f, _ := res.Find(flows.CheckLastCode)
	if w := render(f.Msg); !strings.Contains(w, "b***@example.com") {
		t.Errorf("last code: %q", w)
	}
}

func TestDoctorFindsProblems(t *testing.T) {
	e := newTSEnv(t, failingGateway(t))
	ctx := context.Background()
	acc := e.signUp(t, "ann@example.com")
	setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: guideCats})
	quota := int64(1 << 20)
	if err := e.st.PatchAccount(ctx, acc.MiID, store.AccountPatch{QuotaBytes: &quota}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUsage(ctx, acc.MiID, "gallery", 2<<20); err != nil {
		t.Fatal(err)
	}
	ch := e.register(t, "+86 138 0013 8000") // through the failing SMS gateway
	e.delivered(t, ch.ID)
	if err := flows.RememberChallenge(e.files.Dir, ch, e.clock.Now()); err != nil {
		t.Fatal(err)
	}

	res := e.doctor(t, fakeRoot(t, "eth0", false)).Run(ctx)
	want := map[string]flows.Level{
		flows.CheckConnection: flows.LevelOK, flows.CheckSession: flows.LevelOK,
		flows.CheckSync: flows.LevelWarn, flows.CheckFindDevice: flows.LevelWarn,
		flows.CheckStorage: flows.LevelFail, flows.CheckLastCode: flows.LevelFail,
	}
	got := levels(res.Report)
	for check, l := range want {
		if got[check] != l {
			f, _ := res.Find(check)
			t.Errorf("%s: %v (%s), want %v", check, got[check], render(f.Msg), l)
		}
	}
	if res.Worst() != flows.LevelFail {
		t.Errorf("worst %v", res.Worst())
	}
	f, _ := res.Find(flows.CheckLastCode)
	if w := render(f.Msg); !strings.Contains(w, "500") || !strings.Contains(w, "+86 ••• •••• 8000") {
		t.Errorf("last code: %q", w)
	}

	// The report: everything a person can email to support, nothing that
	// gives the account away.
	var buf bytes.Buffer
	info := flows.ReportInfo{
		Created: e.clock.Now(), Version: api.Version, Platform: "linux/amd64",
		Server: "https://admin:hunter2@accounts.example.net/", Account: res.Account,
		Device: e.dev.Name + " · " + e.dev.Model,
	}
	if err := flows.WriteReport(&buf, res.Report, info, render); err != nil {
		t.Fatal(err)
	}
	report := buf.String()
	secrets := []string{
		"ann@example.com", "+8613800138000", "13800138000", "138 0013 8000", acc.MiID,
		tokenOf(t, e), tsPassword, ch.ID, "hunter2", "admin",
	}
	secrets = append(secrets, e.box.allCodes()...)
	for _, s := range secrets {
		if strings.Contains(report, s) {
			t.Errorf("the report holds %q:\n%s", s, report)
		}
	}
	// No run of 6+ digits (a code, a Mi ID, a phone) and no long token.
	if m := regexp.MustCompile(`\d{6,}|[A-Za-z0-9_-]{32,}`).FindString(report); m != "" {
		t.Errorf("the report holds %q", m)
	}
	for _, want := range []string{"a***@example.com", "Mi ID •", "[fail] storage", "[fail] last_code", "500", "accounts.example.net", "no password, code or session token"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
}

func tokenOf(t *testing.T, e *tsEnv) string {
	t.Helper()
	tok, err := e.files.LoadToken()
	if err != nil || tok == "" {
		t.Fatalf("no saved token: %v", err)
	}
	return tok
}

func (o *outbox) allCodes() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, m := range o.msgs {
		if c := codeRE.FindStringSubmatch(m.Body); c != nil {
			out = append(out, c[1])
		}
	}
	return out
}

func TestDoctorSession(t *testing.T) {
	ctx := context.Background()
	t.Run("not signed in", func(t *testing.T) {
		e := newTSEnv(t, nil)
		res := e.doctor(t, fakeRoot(t, "eth0", false)).Run(ctx)
		got := levels(res.Report)
		if got[flows.CheckSession] != flows.LevelWarn || res.Account != "" {
			t.Errorf("session %v account %q", got[flows.CheckSession], res.Account)
		}
		for _, c := range []string{flows.CheckSync, flows.CheckFindDevice, flows.CheckStorage} {
			if _, ok := got[c]; ok {
				t.Errorf("%s checked without a session", c)
			}
		}
		if got[flows.CheckLastCode] != flows.LevelOK {
			t.Errorf("no code asked for: %v", got[flows.CheckLastCode])
		}
	})
	t.Run("session revoked", func(t *testing.T) {
		e := newTSEnv(t, nil)
		e.signUp(t, "ann@example.com")
		tok := tokenOf(t, e)
		if err := e.c.SignOut(ctx); err != nil {
			t.Fatal(err)
		}
		res := e.doctor(t, fakeRoot(t, "eth0", false)).Run(ctx)
		f, _ := res.Find(flows.CheckSession)
		if f.Level != flows.LevelFail || f.Msg.Key != "doctor.session.expired" {
			t.Errorf("session: %v %s", f.Level, f.Msg.Key)
		}
		// The doctor only looks: the token file is left alone.
		if got, _ := e.files.LoadToken(); got != tok {
			t.Error("the doctor removed the saved session")
		}
	})
	t.Run("service down", func(t *testing.T) {
		e := newTSEnv(t, nil)
		e.signUp(t, "ann@example.com")
		down := newDownClient(t)
		d := e.doctor(t, fakeRoot(t, "eth0", false))
		d.Checker.Status, d.Service = down, down
		d.Checker.Budget = time.Second
		res := d.Run(ctx)
		for _, c := range []string{flows.CheckConnection, flows.CheckSession} {
			if f, _ := res.Find(c); f.Level != flows.LevelFail {
				t.Errorf("%s: %v", c, f.Level)
			}
		}
	})
}

func TestRedact(t *testing.T) {
	in := "ann.lee@example.com signed in with token 3q2+7w_Zk9xYqL0mPvR4tNs8uB1cD5eF, " +
		"code 483920, Mi ID 1234567890, phone +86 138 0013 8000 or 13800138000; " +
		"at 2025-06-01T10:02:03Z, 12 ms, version 1.0.0, 5.0 GB"
	out := flows.Redact(in)
	for _, secret := range []string{"ann.lee@", "7w_Zk9xYqL0mPvR4tNs8uB1cD5eF", "483920", "1234567890", "138 0013 8000", "13800138000"} {
		if strings.Contains(out, secret) {
			t.Errorf("Redact kept %q: %s", secret, out)
		}
	}
	for _, keep := range []string{"a***@example.com", "••••••", "2025-06-01T10:02:03Z", "12 ms", "1.0.0", "5.0 GB", "••••••7890"} {
		if !strings.Contains(out, keep) {
			t.Errorf("Redact lost %q: %s", keep, out)
		}
	}
}

func TestMasks(t *testing.T) {
	tests := []struct{ got, want string }{
		{flows.MaskEmail("ann@example.com"), "a***@example.com"},
		{flows.MaskEmail("nope"), "***"},
		{flows.MaskPhone("+8613800138000"), "+86 ••• •••• 8000"},
		{flows.MaskPhone("+442079460123"), "+44 •• •••• 0123"},
		{flows.MaskDigits("483920"), "••••••"},
		{flows.MaskDigits("1234567890"), "••••••7890"},
		{flows.MaskIdentifier("+86 138 0013 8000"), "+86 ••• •••• 8000"},
		{flows.MaskIdentifier("ann@example.com"), "a***@example.com"},
		{flows.MaskAccount(api.Account{MiID: "1234567890", Phone: "+8613800138000"}), "+86 ••• •••• 8000 (Mi ID ••••••7890)"},
		{flows.RedactURL("https://u:p@host.example/x?token=abc"), "https://host.example/x"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: %q, want %q", i, tt.got, tt.want)
		}
	}
}

// BenchmarkDoctorRun is one `misetup doctor` against the in-process
// service: nine checks, five status probes among them.
func BenchmarkDoctorRun(b *testing.B) {
	e := newTSEnv(b, nil)
	e.signUp(b, "ann@example.com")
	d := e.doctor(b, fakeRoot(b, "eth0", false))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := d.Run(ctx); len(r.Findings) != len(flows.DoctorChecks()) {
			b.Fatalf("%d findings", len(r.Findings))
		}
	}
}

// BenchmarkRedact is the defensive pass over one report line.
func BenchmarkRedact(b *testing.B) {
	line := "[fail] last_code  The service could not send the code to +86 ••• •••• 8000: webhook https://sms.example.net/send: gateway answered 500"
	b.ReportAllocs()
	for b.Loop() {
		_ = flows.Redact(line)
	}
}

// BenchmarkSuggestEmail is the typo check of one address.
func BenchmarkSuggestEmail(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = flows.SuggestEmail("ann.lee@hotmial.com")
	}
}
