package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestKeysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "misetup.db.keys")

	// Processes starting at once on one database agree on one set.
	const n = 8
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := keysFile(path)
			got[i], errs[i] = k.HMAC, err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("keysFile: %v", errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Fatal("two processes starting at once made different keys")
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file mode %v, %v; want 0600", fi.Mode(), err)
	}
	// A restart reads the same keys.
	again, err := keysFile(path)
	if err != nil || !bytes.Equal(again.HMAC, got[0]) || len(again.TOTP) != 1 {
		t.Fatalf("after a restart: %v, %v", again, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".keys-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// A file others can read is refused, naming the fix.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keysFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("keys file readable by others: err = %v", err)
	}
}

func TestServerKeys(t *testing.T) {
	good := keysConfig{
		HMAC:    strings.Repeat("ab", 32),
		TOTP:    "k2:" + strings.Repeat("cd", 32),
		TOTPOld: []string{"k1:" + strings.Repeat("ef", 32)},
	}
	k, err := good.parse("test")
	if err != nil || len(k.TOTP) != 2 || k.TOTP[0].ID != "k2" || k.TOTP[1].ID != "k1" {
		t.Fatalf("parse = %+v, %v", k, err)
	}
	bad := []struct {
		name  string
		mod   func(*keysConfig)
		field string
	}{
		{"short hmac", func(k *keysConfig) { k.HMAC = "abcd" }, "keys.hmac"},
		{"hmac not hex", func(k *keysConfig) { k.HMAC = strings.Repeat("zz", 32) }, "keys.hmac"},
		{"no totp", func(k *keysConfig) { k.TOTP = "" }, "keys.totp"},
		{"totp without id", func(k *keysConfig) { k.TOTP = strings.Repeat("cd", 32) }, "keys.totp"},
		{"old totp too short", func(k *keysConfig) { k.TOTPOld = []string{"k1:abcd"} }, "keys.totp_old[0]"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			k := good
			tt.mod(&k)
			if _, err := k.parse("test"); err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("err = %v, want it to name %s", err, tt.field)
			}
		})
	}

	// PostgreSQL with no keys refuses, saying how to set them.
	c := &config{Serve: serveConfig{DB: "postgres://misetup@localhost/misetup"}}
	if _, err := c.serverKeys(); err == nil || !strings.Contains(err.Error(), "misetup serve keygen") || !strings.Contains(err.Error(), envKeyHMAC) {
		t.Errorf("postgres without keys: err = %v", err)
	}
	// The environment sets them.
	t.Setenv(envKeyHMAC, good.HMAC)
	t.Setenv(envKeyTOTP, good.TOTP)
	c.Keys.fromEnv()
	if k, err := c.serverKeys(); err != nil || !bytes.Equal(k.HMAC, bytes.Repeat([]byte{0xab}, 32)) {
		t.Errorf("keys from the environment: %v, %v", k, err)
	}
}

func TestNoKeyOnCommandLine(t *testing.T) {
	if _, ok := ruleSettings["code_hash_key"]; ok {
		t.Error("code_hash_key is settable with --rule: keys must never be on a command line")
	}
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"serve", "--rule", "code_hash_key=00ff", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "x.db")})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "code_hash_key") {
		t.Errorf("serve --rule code_hash_key=...: err = %v, want it refused by name", err)
	}
}
