package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"misetup/assets"
)

// TestTextKeysExist finds every text key the wizard's code names literally
// (sh.T("..."), flows.T("..."), bind(..., "...")) and checks each catalog
// has it, so a typo shows up here and not as a raw key on screen.
func TestTextKeysExist(t *testing.T) {
	files := []string{
		"accessible.go", "account.go", "app.go", "code.go", "create.go", "device.go", "errors.go",
		"finddevice.go", "keys.go", "password.go", "requirements.go", "reset.go", "signin.go",
		"summary.go", "sync.go", "welcome.go", "widgets.go", "diagnose.go", "diagnose_code.go",
		"diagnose_lost.go", "diagnose_signin.go", "diagnose_sync.go",
		"../flows/requirements.go", "../flows/errors.go",
	}
	keyRE := regexp.MustCompile(`(?:\bT|TOr|bind)\((?:"[^"]*", )?"([a-z][a-z0-9_.]*[a-z0-9_])"`)
	seen := 0
	var cats []*assets.Catalog
	for _, lang := range assets.Languages() {
		cats = append(cats, assets.MustLoad(lang))
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			k := m[1]
			if !strings.Contains(k, ".") {
				continue // not a catalog key (e.g. a key name like "enter")
			}
			if strings.HasSuffix(k, "_") {
				continue // the start of a key made at run time ("ts.code.channel_" + channel)
			}
			seen++
			for _, c := range cats {
				if !c.Has(k) {
					t.Errorf("%s: %s lacks %q", f, c.Lang(), k)
				}
			}
		}
	}
	if seen < 150 {
		t.Fatalf("found only %d keys: the pattern is broken", seen)
	}
}
