package ui

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/flows"
)

const byStoreEN = "(set by the store)"

// flat is s with its runs of spaces and line breaks made one space.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestStoreDefaults shows the store's answers pre-filled, each said to be
// the store's, and the person changing them: the note goes with the
// store's value, and what is saved is the person's.
func TestStoreDefaults(t *testing.T) {
	t.Run("sync pre-filled, then changed", func(t *testing.T) {
		h := newHarness(t, 80, 24, "en")
		h.app.sh.opts.Defaults = storeDefaults()
		syncSetup(h, flows.NetworkWiFi)
		if got := h.syncChosen(); !got.AutoSync || !got.WifiOnly || !slices.Equal(got.Categories, []string{"contacts", "gallery"}) {
			t.Fatalf("pre-filled %+v, want the store's", got)
		}
		s := flat(h.screen())
		if !strings.Contains(s, "What to sync "+byStoreEN) || !strings.Contains(s, "Sync over Wi-Fi only on "+byStoreEN) {
			t.Fatalf("the store's answers are not said to be the store's:\n%s", h.screen())
		}
		for range 1 + len(api.Categories) {
			h.keys("down")
		}
		h.keys("space") // Wi-Fi only off: the person's answer now
		s = flat(h.screen())
		if h.syncChosen().WifiOnly || strings.Contains(s, "Sync over Wi-Fi only off "+byStoreEN) || !strings.Contains(s, "What to sync "+byStoreEN) {
			t.Fatalf("after turning Wi-Fi only off: settings %+v\n%s", h.syncChosen(), h.screen())
		}
		h.keys("up", "up", "up", "up", "up", "space") // Notes
		if strings.Contains(flat(h.screen()), byStoreEN) || !slices.Contains(h.syncChosen().Categories, "notes") {
			t.Fatalf("after adding notes: settings %+v\n%s", h.syncChosen(), h.screen())
		}
	})
	t.Run("settings saved on the device beat the store's", func(t *testing.T) {
		h := newHarness(t, 80, 24, "en")
		h.app.sh.opts.Defaults = storeDefaults()
		signedIn(h)
		h.send(navigateMsg{from: h.app.Current(), to: flows.StepSync, reset: true})
		at := t0.Add(-time.Hour)
		h.syncLoaded(flows.SyncChoice{Saved: true,
			Settings: api.SyncSettings{AutoSync: true, Categories: []string{"notes"}, UpdatedAt: &at}})
		if got := h.syncChosen(); got.WifiOnly || !slices.Equal(got.Categories, []string{"notes"}) || strings.Contains(h.screen(), byStoreEN) {
			t.Fatalf("saved settings overridden: %+v\n%s", got, h.screen())
		}
	})
	t.Run("find device off by the store, turned on", func(t *testing.T) {
		h := newHarness(t, 80, 24, "en")
		h.app.sh.opts.Defaults = storeDefaults()
		signedIn(h)
		h.goTo(flows.StepFindDevice)
		if s := flat(h.screen()); !strings.Contains(s, "[ ] Find Device off "+byStoreEN) {
			t.Fatalf("Find Device not off with the note:\n%s", h.screen())
		}
		h.keys("space")
		if s := flat(h.screen()); !strings.Contains(s, "[x] Find Device on") || strings.Contains(s, byStoreEN) {
			t.Fatalf("Find Device not turned on by the person:\n%s", h.screen())
		}
	})
	t.Run("device name, country and language", func(t *testing.T) {
		d := storeDefaults()
		d.Lang = "zh-CN"
		h := newHarnessWith(t, 80, 24, Options{Locale: "en_US.UTF-8", Defaults: d})
		h.send(progressLoadedMsg{}, sessionRestoredMsg{})
		if h.app.Lang() != "zh-CN" || !strings.Contains(h.screen(), "（由门店设置）") {
			t.Fatalf("language %s, want the store's, said so:\n%s", h.app.Lang(), h.screen())
		}
		h.send(languageChangedMsg{lang: "en"}) // the person's choice
		if h.app.sh.wiz.Device.Name != "Store 7 kiosk 2" || h.app.sh.wiz.Region != "CN" {
			t.Fatalf("device %+v, region %s", h.app.sh.wiz.Device, h.app.sh.wiz.Region)
		}
		h.goTo(flows.StepDevice)
		if s := flat(h.screen()); !strings.Contains(s, "Store 7 kiosk 2") || !strings.Contains(s, byStoreEN) {
			t.Fatalf("device name not the store's, said so:\n%s", h.screen())
		}
		h.keys("backspace")
		if strings.Contains(h.screen(), byStoreEN) {
			t.Fatalf("a name the person changed is still said to be the store's:\n%s", h.screen())
		}
		h.goTo(flows.StepCreate)
		if s := flat(h.screen()); !strings.Contains(s, "(+86) › "+byStoreEN) {
			t.Fatalf("country not the store's, said so:\n%s", h.screen())
		}
	})
	t.Run("no defaults, no note", func(t *testing.T) {
		h := newHarness(t, 80, 24, "en")
		syncSetup(h, flows.NetworkWiFi)
		if strings.Contains(h.screen(), byStoreEN) {
			t.Fatalf("a note without defaults:\n%s", h.screen())
		}
	})
}

// TestAccessibleStoreDefaults answers the plain prompts with the store's
// defaults set: each pre-filled question says it is the store's, enter
// keeps it, and the person changes Find Device.
func TestAccessibleStoreDefaults(t *testing.T) {
	deps, svc, _ := journeyDeps(t)
	d := storeDefaults()
	d.Lang, d.WifiOnly = "en", new(bool)
	answers := []string{
		"1",        // language: English (the store's)
		"", "", "", // device name (the store's), model, OS
		"2", "2", "ann@example.com", "Tr1cky#Pass", "Tr1cky#Pass", "123456",
		"y", "0", "n", // sync on, the store's categories, not Wi-Fi only
		"y", // Find Device on, though the store said off
	}
	var out bytes.Buffer
	err := RunAccessible(context.Background(), deps, Options{Defaults: d}, strings.NewReader(strings.Join(answers, "\n")+"\n"), &out, nil)
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out.String())
	}
	got := flat(out.String())
	for _, want := range []string{
		"Language " + byStoreEN, "Name " + byStoreEN + " [Store 7 kiosk 2]", "What to sync " + byStoreEN,
		"Sync over Wi-Fi only? " + byStoreEN, "Find Device? " + byStoreEN, "Store 7 kiosk 2",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if s := svc.sync["dev-1"]; !s.AutoSync || s.WifiOnly || !slices.Equal(s.Categories, []string{"contacts", "gallery"}) {
		t.Errorf("saved sync %+v, want the store's", s)
	}
	if !svc.findDevice["dev-1"] {
		t.Errorf("Find Device %v, want on (the person's answer)", svc.findDevice)
	}
}
