package flows_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
	"misetup/server/store"
)

// syncEnv is a signed-in device on a wired network with sync set up the
// way the wizard sets it up.
func syncEnv(t *testing.T) (*tsEnv, flows.SyncDiagnoser, api.Account) {
	t.Helper()
	e := newTSEnv(t, nil)
	acc := e.signUp(t, "ann@example.com")
	dg := flows.SyncDiagnoser{
		Session: e.c, Cloud: e.c, Status: e.c,
		System:   fakeRoot(t, "eth0", false),
		DeviceID: e.dev.ID,
		CacheDir: filepath.Join(t.TempDir(), "misetup"),
		Now:      e.clock.Now,
	}
	return e, dg, acc
}

func setSync(t *testing.T, c *client.Client, id string, s api.SyncSettings) {
	t.Helper()
	if _, err := c.SetSync(context.Background(), id, s); err != nil {
		t.Fatalf("set sync: %v", err)
	}
}

func serviceSync(t *testing.T, c *client.Client, id string) api.SyncSettings {
	t.Helper()
	s, err := c.Sync(context.Background(), id)
	if err != nil {
		t.Fatalf("read sync: %v", err)
	}
	return s
}

var guideCats = []string{"contacts", "messages", "gallery", "notes", "calendar"}

func TestDiagnoseSyncSession(t *testing.T) {
	e, dg, _ := syncEnv(t)
	ctx := context.Background()

	dg.Session = e.newClient() // no token
	if d := dg.Diagnose(ctx); d.Cause != flows.SyncNotSignedIn || !d.Offers(flows.ActionSignIn) {
		t.Errorf("no session: cause %q actions %v", d.Cause, d.Actions)
	}

	// A token the service revoked (signed out).
	stale := e.newClient(client.WithToken(e.c.Token()))
	if err := e.c.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	dg.Session = stale
	if d := dg.Diagnose(ctx); d.Cause != flows.SyncSessionExpired {
		t.Errorf("revoked session: cause %q", d.Cause)
	}

	down := newDownClient(t)
	down.SetToken("x")
	dg.Session, dg.Status = down, down
	if d := dg.Diagnose(ctx); d.Cause != flows.SyncUnavailable || d.Level != flows.LevelFail {
		t.Errorf("service down: cause %q", d.Cause)
	}
}

func TestDiagnoseSyncChain(t *testing.T) {
	e, dg, _ := syncEnv(t)
	ctx := context.Background()
	setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: true, Categories: guideCats})

	t.Run("clock off", func(t *testing.T) {
		skewed := dg
		skewed.Now = func() time.Time { return e.clock.Now().Add(10 * time.Minute) }
		d := skewed.Diagnose(ctx)
		if d.Cause != flows.SyncClockSkew || d.ClockOffset < 9*time.Minute {
			t.Fatalf("cause %q offset %v", d.Cause, d.ClockOffset)
		}
		if w := render(d.Finding); !strings.Contains(w, "10 minutes ahead") {
			t.Errorf("finding %q", w)
		}
		// Fixed clock: the check passes and the chain goes on.
		if d := dg.Diagnose(ctx); d.Cause == flows.SyncClockSkew {
			t.Errorf("right clock: still %q", d.Cause)
		}
	})

	t.Run("device not linked", func(t *testing.T) {
		other := dg
		other.DeviceID = "never-signed-in-here"
		if d := other.Diagnose(ctx); d.Cause != flows.SyncDeviceNotLinked || !d.Offers(flows.ActionSignIn) {
			t.Errorf("cause %q actions %v", d.Cause, d.Actions)
		}
	})

	tests := []struct {
		name     string
		settings api.SyncSettings
		system   flows.System
		cause    string
		action   flows.Action
		want     api.SyncSettings // after the action
	}{
		{"auto-sync off", api.SyncSettings{AutoSync: false, Categories: []string{"notes"}}, dg.System,
			flows.SyncAutoSyncOff, flows.ActionTurnOnSync, api.SyncSettings{AutoSync: true, Categories: []string{"notes"}}},
		{"no category", api.SyncSettings{AutoSync: true, Categories: []string{}}, dg.System,
			flows.SyncNoCategories, flows.ActionChooseCategories, api.SyncSettings{AutoSync: true, Categories: guideCats}},
		{"Wi-Fi only on a wired network", api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: guideCats}, dg.System,
			flows.SyncWifiOnly, flows.ActionAllowAnyNetwork, api.SyncSettings{AutoSync: true, Categories: guideCats}},
		{"Wi-Fi only on mobile data", api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: guideCats}, fakeRoot(t, "wwan0", false),
			flows.SyncWifiOnly, flows.ActionAllowAnyNetwork, api.SyncSettings{AutoSync: true, Categories: guideCats}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setSync(t, e.c, e.dev.ID, tt.settings)
			dgt := dg
			dgt.System = tt.system
			d := dgt.Diagnose(ctx)
			if d.Cause != tt.cause || !d.Offers(tt.action) {
				t.Fatalf("cause %q actions %v, want %q offering %q", d.Cause, d.Actions, tt.cause, tt.action)
			}
			after, err := dgt.Apply(ctx, tt.action, d)
			if err != nil {
				t.Fatalf("apply %s: %v", tt.action, err)
			}
			got := serviceSync(t, e.c, e.dev.ID)
			if got.AutoSync != tt.want.AutoSync || got.WifiOnly != tt.want.WifiOnly || !slices.Equal(got.Categories, tt.want.Categories) {
				t.Errorf("service has %+v, want %+v", got, tt.want)
			}
			if after.Cause != flows.SyncNoCause {
				t.Errorf("after the fix: cause %q (%s)", after.Cause, render(after.Finding))
			}
		})
	}

	t.Run("Wi-Fi only on Wi-Fi is fine", func(t *testing.T) {
		setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: guideCats})
		wifi := dg
		wifi.System = fakeRoot(t, "wlan0", true)
		if d := wifi.Diagnose(ctx); d.Cause != flows.SyncNoCause || d.Network != flows.NetworkWiFi {
			t.Errorf("cause %q network %q", d.Cause, d.Network)
		}
	})
	t.Run("wired finding names the network", func(t *testing.T) {
		setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: guideCats})
		d := dg.Diagnose(ctx)
		if w := render(d.Finding); !strings.Contains(w, "wired") || !strings.Contains(w, "eth0") {
			t.Errorf("finding %q", w)
		}
	})
}

func TestDiagnoseSyncNeverSetUp(t *testing.T) {
	e, dg, _ := syncEnv(t)
	ctx := context.Background()
	d := dg.Diagnose(ctx)
	if d.Cause != flows.SyncNotSetUp || !d.Offers(flows.ActionTurnOnSync) {
		t.Fatalf("cause %q actions %v", d.Cause, d.Actions)
	}
	after, err := dg.Apply(ctx, flows.ActionTurnOnSync, d)
	if err != nil {
		t.Fatal(err)
	}
	got := serviceSync(t, e.c, e.dev.ID)
	if !got.AutoSync || got.WifiOnly || !slices.Equal(got.Categories, guideCats) || got.UpdatedAt == nil {
		t.Errorf("service has %+v, want the guide's defaults", got)
	}
	if after.Cause != flows.SyncNoCause {
		t.Errorf("after: %q", after.Cause)
	}
}

func TestDiagnoseSyncStorageFull(t *testing.T) {
	e, dg, acc := syncEnv(t)
	ctx := context.Background()
	setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: true, Categories: guideCats})
	quota := int64(100 << 20)
	if err := e.st.PatchAccount(ctx, acc.MiID, store.AccountPatch{QuotaBytes: &quota}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUsage(ctx, acc.MiID, "gallery", 90<<20); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUsage(ctx, acc.MiID, "notes", 10<<20); err != nil {
		t.Fatal(err)
	}
	d := dg.Diagnose(ctx)
	if d.Cause != flows.SyncStorageFull || d.Level != flows.LevelFail {
		t.Fatalf("cause %q", d.Cause)
	}
	words := renderAll(d.Diagnosis)
	for _, want := range []string{"100.0 MB of 100.0 MB", "Gallery", "90.0 MB"} {
		if !strings.Contains(words, want) {
			t.Errorf("%q missing:\n%s", want, words)
		}
	}
	// Freeing space (here: the store) clears the finding.
	if err := e.st.SetUsage(ctx, acc.MiID, "gallery", 10<<20); err != nil {
		t.Fatal(err)
	}
	if d := dg.Diagnose(ctx); d.Cause != flows.SyncNoCause {
		t.Errorf("after freeing space: %q", d.Cause)
	}
}

func TestDiagnoseSyncClearCache(t *testing.T) {
	e, dg, _ := syncEnv(t)
	ctx := context.Background()
	setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: true, Categories: guideCats})
	d := dg.Diagnose(ctx)
	if d.Cause != flows.SyncNoCause || !d.Offers(flows.ActionClearCache) {
		t.Fatalf("healthy: cause %q actions %v", d.Cause, d.Actions)
	}

	// A stale copy of the settings (sync off) and other cached files.
	if err := flows.SaveSyncCache(dg.CacheDir, e.dev.ID, api.SyncSettings{Categories: []string{"notes"}}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dg.CacheDir, "thumbs", "a.bin"), strings.Repeat("x", 1000))
	mustWrite(t, filepath.Join(dg.CacheDir, "index.json"), "{}")

	after, err := dg.Apply(ctx, flows.ActionClearCache, d)
	if err != nil {
		t.Fatal(err)
	}
	c := after.Cleared
	if c == nil || c.Files != 3 || c.Bytes < 1002 || !c.Stale || !c.Fixed {
		t.Fatalf("cleared %+v", c)
	}
	entries, _ := os.ReadDir(dg.CacheDir)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "sync-") {
		t.Errorf("cache dir after: %v, want only the fresh settings", entries)
	}
	if !strings.Contains(render(after.Finding), "out of date") {
		t.Errorf("finding %q", render(after.Finding))
	}
	// Again: the cache now matches the service, so it was not the cause.
	again, err := dg.Apply(ctx, flows.ActionClearCache, after)
	if err != nil {
		t.Fatal(err)
	}
	if again.Cleared.Stale || !again.Cleared.Fixed || again.Cleared.Files != 1 {
		t.Errorf("second clear: %+v", again.Cleared)
	}

	// A cause that clearing cannot fix is reported as not fixed.
	setSync(t, e.c, e.dev.ID, api.SyncSettings{AutoSync: false, Categories: guideCats})
	notFixed, err := dg.Apply(ctx, flows.ActionClearCache, again)
	if err != nil {
		t.Fatal(err)
	}
	if notFixed.Cleared.Fixed || notFixed.Cause != flows.SyncAutoSyncOff {
		t.Errorf("not fixed: %+v cause %q", notFixed.Cleared, notFixed.Cause)
	}

	// Only misetup's own cache dir is ever emptied.
	home := t.TempDir()
	mustWrite(t, filepath.Join(home, "keep.txt"), "precious")
	wrong := dg
	wrong.CacheDir = home
	if _, err := wrong.Apply(ctx, flows.ActionClearCache, d); err == nil {
		t.Error("cleared a directory that is not misetup's")
	}
	if _, err := os.Stat(filepath.Join(home, "keep.txt")); err != nil {
		t.Errorf("a file outside misetup's cache went: %v", err)
	}
}
