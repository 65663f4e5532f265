package policy_test

import (
	"errors"
	"strings"
	"testing"

	"misetup/server/policy"
)

// cheap keeps the tests fast; the defaults are exercised once and in the
// benchmark.
var cheap = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPasswordDefaults(t *testing.T) {
	enc, err := policy.HashPassword("Tr0ub4dor&3x", policy.DefaultArgon2())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("encoded = %q, want the PHC prefix with m=19456,t=2,p=1", enc)
	}
	p, err := policy.ParseArgon2(enc)
	if err != nil {
		t.Fatal(err)
	}
	if p != policy.DefaultArgon2() {
		t.Errorf("stored params %+v, want %+v", p, policy.DefaultArgon2())
	}
	ok, err := policy.VerifyPassword("Tr0ub4dor&3x", enc)
	if err != nil || !ok {
		t.Errorf("verify right password = %v, %v; want true", ok, err)
	}
}

func TestVerifyPassword(t *testing.T) {
	enc, err := policy.HashPassword("Tr0ub4dor&3x", cheap)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := policy.HashPassword("Tr0ub4dor&3x", cheap)
	if other == enc {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name, password string
		want           bool
	}{
		{"right", "Tr0ub4dor&3x", true},
		{"wrong", "Tr0ub4dor&3y", false},
		{"case matters", "tr0ub4dor&3x", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := policy.VerifyPassword(tt.password, enc)
			if err != nil || ok != tt.want {
				t.Errorf("VerifyPassword(%q) = %v, %v; want %v, nil", tt.password, ok, err, tt.want)
			}
		})
	}
}

func TestVerifyPasswordNormalisesUnicode(t *testing.T) {
	composed, decomposed := "Caf\u00e9-2024!", "Cafe\u0301-2024!"
	enc, err := policy.HashPassword(composed, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := policy.VerifyPassword(decomposed, enc); err != nil || !ok {
		t.Errorf("decomposed é did not verify against composed é: %v, %v", ok, err)
	}
}

func TestVerifyPasswordTampered(t *testing.T) {
	enc, err := policy.HashPassword("Tr0ub4dor&3x", cheap)
	if err != nil {
		t.Fatal(err)
	}
	// Flipping a character of the stored hash keeps it readable but wrong.
	i := strings.LastIndexByte(enc, '$') + 1
	flipped := enc[:i] + string("AB"[boolIndex(enc[i] == 'A')]) + enc[i+1:]
	if ok, err := policy.VerifyPassword("Tr0ub4dor&3x", flipped); ok || err != nil {
		t.Errorf("flipped hash: %v, %v; want false, nil", ok, err)
	}
	bad := []struct{ name, enc string }{
		{"empty", ""},
		{"argon2i", strings.Replace(enc, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(enc, "v=19", "v=16", 1)},
		{"missing field", enc[:strings.LastIndexByte(enc, '$')]},
		{"params garbled", strings.Replace(enc, "m=64,t=1,p=1", "m=64;t=1;p=1", 1)},
		{"params padded", strings.Replace(enc, "m=64", "m=064", 1)},
		{"zero time", strings.Replace(enc, "t=1", "t=0", 1)},
		{"zero threads", strings.Replace(enc, "p=1", "p=0", 1)},
		{"huge memory", strings.Replace(enc, "m=64", "m=4000000000", 1)},
		{"salt not base64", withField(enc, 4, "!!!!")},
		{"hash not base64", enc + "*"},
		{"short key", withField(enc, 5, "AAAA")},
		{"short salt", withField(enc, 4, "AAAA")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := policy.VerifyPassword("Tr0ub4dor&3x", tt.enc)
			if ok || !errors.Is(err, policy.ErrBadHash) {
				t.Errorf("VerifyPassword on %q = %v, %v; want false, ErrBadHash", tt.enc, ok, err)
			}
		})
	}
}

func TestHashPasswordRefusesWeakParams(t *testing.T) {
	for _, p := range []policy.Argon2Params{
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := policy.HashPassword("x", p); err == nil {
			t.Errorf("HashPassword accepted %+v", p)
		}
	}
}

// withField replaces the i-th $-separated field of a PHC string.
func withField(enc string, i int, v string) string {
	f := strings.Split(enc, "$")
	f[i] = v
	return strings.Join(f, "$")
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.HashPassword("Tr0ub4dor&3x", policy.DefaultArgon2()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := policy.HashPassword("Tr0ub4dor&3x", policy.DefaultArgon2())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.VerifyPassword("Tr0ub4dor&3y", enc); err != nil {
			b.Fatal(err)
		}
	}
}
