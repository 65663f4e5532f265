package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"misetup/ui"
)

// configFor loads the config file the way the wizard does, without
// running it.
func configFor(t *testing.T) (*config, error) {
	t.Helper()
	cmd := newRootCmd()
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	return loadConfig(cmd)
}

func writeAnswers(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "answers.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStoreDefaults reads [defaults] and answers files: every key reaches
// the wizard as it means, an answers file beats the config key by key, and
// a wrong value is refused naming its key and its file.
func TestStoreDefaults(t *testing.T) {
	t.Run("every key", func(t *testing.T) {
		root := isolateXDG(t)
		writeConfig(t, root, `[defaults]
lang = "zh"
region = "cn"
sync_categories = ["contacts", "gallery"]
wifi_only = true
find_device = false
device_name = "Store 7 {kiosk}"
`)
		cfg, err := configFor(t)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfg.Defaults.ui("kiosk-2")
		if err != nil {
			t.Fatal(err)
		}
		on, off := true, false
		want := &ui.Defaults{Lang: "zh-CN", Region: "CN", Categories: []string{"contacts", "gallery"}, WifiOnly: &on, FindDevice: &off, DeviceName: "Store 7 kiosk-2"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("defaults %+v, want %+v", got, want)
		}
	})
	t.Run("none: nil, the wizard as without a store", func(t *testing.T) {
		isolateXDG(t)
		cfg, err := configFor(t)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := cfg.Defaults.ui(""); d != nil || err != nil {
			t.Fatalf("defaults %+v, %v, want nil", d, err)
		}
	})
	t.Run("no categories: sync off", func(t *testing.T) {
		d, err := loadAnswers(writeAnswers(t, "sync_categories = []\n"))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := d.ui("")
		if u.Categories == nil || len(u.Categories) != 0 || u.WifiOnly != nil {
			t.Fatalf("defaults %+v, want an empty, non-nil category list", u)
		}
	})
	t.Run("hostname", func(t *testing.T) {
		host, _ := os.Hostname()
		d, err := loadAnswers(writeAnswers(t, "[defaults]\ndevice_name = \"{hostname} (demo)\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := d.ui(""); u.DeviceName != host+" (demo)" {
			t.Fatalf("device name %q", u.DeviceName)
		}
	})
	t.Run("answers over the config, key by key", func(t *testing.T) {
		root := isolateXDG(t)
		writeConfig(t, root, "[defaults]\nregion = \"DE\"\nfind_device = false\n")
		cfg, err := configFor(t)
		if err != nil {
			t.Fatal(err)
		}
		a, err := loadAnswers(writeAnswers(t, "find_device = true\nlang = \"en\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := cfg.Defaults.over(a).ui("")
		if u.Region != "DE" || u.FindDevice == nil || !*u.FindDevice || u.Lang != "en" {
			t.Fatalf("defaults %+v", u)
		}
	})

	bad := []struct{ name, text, want string }{
		{"language", `lang = "fr"`, `lang "fr": want en or zh-CN`},
		{"country", `region = "XX"`, `region "XX": want a country's ISO 3166 code`},
		{"category", `sync_categories = ["contacts", "photos"]`, `sync_categories: unknown category "photos"`},
		{"category twice", `sync_categories = ["notes", "notes"]`, `sync_categories: "notes" twice`},
		{"wifi not a bool", `wifi_only = "yes"`, `wifi_only`},
		{"placeholder", `device_name = "Store {n}"`, `device_name "Store {n}": unknown {n}`},
		{"name too long", `device_name = "` + strings.Repeat("x", 65) + `"`, `device_name "xxx`},
		{"unknown key", `password = "hunter2"`, `unknown setting "defaults.password"`},
	}
	for _, tt := range bad {
		t.Run("config: "+tt.name, func(t *testing.T) {
			root := isolateXDG(t)
			writeConfig(t, root, "[defaults]\n"+tt.text+"\n")
			_, err := configFor(t)
			path := filepath.Join(root, "xdg_config_home", "misetup", "config.toml")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want it to name %q and %s", err, tt.want, path)
			}
		})
		t.Run("answers: "+tt.name, func(t *testing.T) {
			path := writeAnswers(t, tt.text+"\n")
			_, err := loadAnswers(path)
			want := strings.Replace(tt.want, "defaults.", "", 1) // at the top level
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want it to name %q and %s", err, want, path)
			}
		})
	}
	t.Run("answers: both at the top and under [defaults]", func(t *testing.T) {
		if _, err := loadAnswers(writeAnswers(t, "region = \"CN\"\n[defaults]\nlang = \"en\"\n")); err == nil || !strings.Contains(err.Error(), "not both") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("misetup --answers with a wrong file says so and stops", func(t *testing.T) {
		isolateXDG(t)
		path := writeAnswers(t, "find_device = \"maybe\"\n")
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"--answers", path, "--accessible"}, strings.NewReader(""), &out, &errOut)
		if code == 0 || !strings.Contains(errOut.String(), "find_device") || !strings.Contains(errOut.String(), path) {
			t.Fatalf("exit %d, stderr %q, stdout %q", code, errOut.String(), out.String())
		}
	})
}
