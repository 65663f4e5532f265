package flows_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
)

func TestSecurityCheckup(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	const day = 24 * time.Hour
	this := api.Device{ID: "this", Name: "laptop", LastSeen: ago(200 * day), FindDevice: true, Current: true}
	tests := []struct {
		name       string
		acc        api.Account
		devices    []api.Device
		thisDevice string
		wantOK     []bool   // per item, in CheckupItems order
		wantStale  []string // names of the stale devices, in order
	}{
		{"nothing set up", api.Account{}, []api.Device{{ID: "this", LastSeen: ago(0)}}, "this",
			[]bool{false, false, true, false}, nil},
		{"all set", api.Account{TOTPEnabled: true, RecoveryEmail: "a***@example.org"},
			[]api.Device{this, {ID: "p", Name: "phone", LastSeen: ago(89 * day)}}, "this",
			[]bool{true, true, true, true}, nil},
		{"a recovery phone is enough", api.Account{TOTPEnabled: true, RecoveryPhone: "+86 ••• •••• 1234"},
			[]api.Device{this}, "this", []bool{true, true, true, true}, nil},
		{"devices unseen for 90 days, longest first; never-seen is not stale", api.Account{TOTPEnabled: true, RecoveryEmail: "x"},
			[]api.Device{
				{ID: "a", Name: "old tablet", LastSeen: ago(90 * day)},
				this,
				{ID: "b", Name: "older phone", LastSeen: ago(400 * day)},
				{ID: "c", Name: "recent", LastSeen: ago(10 * day)},
				{ID: "d", Name: "never seen"},
			}, "this",
			[]bool{true, true, false, true}, []string{"older phone", "old tablet"}},
		{"this device not linked", api.Account{}, []api.Device{{ID: "other", LastSeen: ago(day), FindDevice: true}}, "this",
			[]bool{false, false, true, false}, nil},
		{"Find Device off here, on elsewhere", api.Account{},
			[]api.Device{{ID: "this", LastSeen: ago(0)}, {ID: "other", LastSeen: ago(day), FindDevice: true}}, "this",
			[]bool{false, false, true, false}, nil},
		{"no id takes the current device", api.Account{}, []api.Device{{ID: "x", LastSeen: ago(day)}, this}, "",
			[]bool{false, false, true, true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := flows.SecurityCheckup(tt.acc, tt.devices, tt.thisDevice, now)
			var ids []string
			var ok []bool
			wantPassed := 0
			for i, it := range c.Items {
				ids = append(ids, it.ID)
				ok = append(ok, it.OK)
				if tt.wantOK[i] {
					wantPassed++
				}
			}
			if !slices.Equal(ids, flows.CheckupItems()) || !slices.Equal(ok, tt.wantOK) {
				t.Fatalf("items %v %v, want %v %v", ids, ok, flows.CheckupItems(), tt.wantOK)
			}
			if p, n := c.Score(); p != wantPassed || n != 4 {
				t.Errorf("score %d/%d, want %d/4", p, n, wantPassed)
			}
			devices, _ := c.Item(flows.CheckupDevices)
			var stale []string
			for _, d := range devices.Stale {
				stale = append(stale, d.Name)
			}
			if !slices.Equal(stale, tt.wantStale) {
				t.Errorf("stale %v, want %v", stale, tt.wantStale)
			}
			recovery, _ := c.Item(flows.CheckupRecovery)
			if recovery.RecoveryEmail != tt.acc.RecoveryEmail || recovery.RecoveryPhone != tt.acc.RecoveryPhone {
				t.Errorf("recovery facts %+v, want the account's masked contacts", recovery)
			}
			fd, _ := c.Item(flows.CheckupFindDevice)
			if linked := fd.Device != nil; linked != (tt.thisDevice == "" || slices.ContainsFunc(tt.devices, func(d api.Device) bool { return d.ID == tt.thisDevice })) {
				t.Errorf("this device %+v", fd.Device)
			}
		})
	}
}

// TestSecurityCheckupAgainstTheService scores a real account before and
// after each fix: the service's last_seen, masked contacts and Find Device
// flags are what the checkup reads.
func TestSecurityCheckupAgainstTheService(t *testing.T) {
	ctx := context.Background()
	srv, st, out, clk := startService(t, nil)
	e := &env{
		c: client.New("", client.WithHandler(srv)), st: st, out: out, clock: clk,
		files: flows.Files{Dir: t.TempDir()},
		dev:   api.Device{ID: "dev-1", Name: "ann-laptop"},
	}
	e.createAccount(t, email)
	checkup := func() flows.Checkup {
		t.Helper()
		acc, err := e.c.Account(ctx)
		if err != nil {
			t.Fatal(err)
		}
		list, err := e.c.Devices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return flows.SecurityCheckup(acc, list, e.dev.ID, e.clock.Now())
	}
	if p, _ := checkup().Score(); p != 1 {
		t.Fatalf("new account scores %d, want 1 (no stale devices)", p)
	}

	// An old phone signs in once, then nobody sees it for 91 days; the
	// laptop signs in again.
	phone := client.New("", client.WithHandler(srv))
	in := flows.SignInInput{Identifier: email, Password: password, Device: api.Device{ID: "dev-2", Name: "old phone"}}
	if _, err := flows.SignIn(ctx, phone, nil, in); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(91 * 24 * time.Hour)
	in.Device = e.dev
	if _, err := flows.SignIn(ctx, e.c, e.files, in); err != nil {
		t.Fatal(err)
	}
	devices, _ := checkup().Item(flows.CheckupDevices)
	if devices.OK || len(devices.Stale) != 1 || devices.Stale[0].Name != "old phone" {
		t.Fatalf("devices item %+v, want the old phone stale", devices)
	}
	if err := e.c.RemoveDevice(ctx, "dev-2"); err != nil {
		t.Fatal(err)
	}

	if _, err := flows.SaveFindDevice(ctx, e.c, e.dev.ID, true); err != nil {
		t.Fatal(err)
	}
	n := e.out.count()
	ch, err := e.c.SetRecovery(ctx, api.RecoveryRequest{Email: "ann.backup@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := checkup().Score(); p != 2 {
		t.Fatalf("score %d with the recovery email unverified, want 2", p)
	}
	if _, err := flows.Verify(ctx, e.c, nil, ch.ID, e.out.code(t, n+1), nil); err != nil {
		t.Fatal(err)
	}
	setup, err := flows.StartTwoStep(ctx, e.c)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(setup.Secret, e.clock.Now())
	if _, err := flows.ConfirmTwoStep(ctx, e.c, code); err != nil {
		t.Fatal(err)
	}
	c := checkup()
	if p, n := c.Score(); p != n {
		t.Fatalf("after every fix: %+v", c.Items)
	}
	if r, _ := c.Item(flows.CheckupRecovery); r.RecoveryEmail != "a***@example.org" {
		t.Errorf("recovery email %q, want it masked", r.RecoveryEmail)
	}
}
