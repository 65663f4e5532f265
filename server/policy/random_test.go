package policy_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"

	"misetup/server/policy"
)

func TestNewMiID(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id, err := policy.NewMiID()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := policy.ParseMiID(id); err != nil {
			t.Fatalf("NewMiID gave %q, which ParseMiID refuses: %v", id, err)
		}
		seen[id] = true
	}
	if len(seen) < 195 {
		t.Errorf("200 Mi IDs had only %d distinct values", len(seen))
	}
}

func TestNewCode(t *testing.T) {
	six := regexp.MustCompile(`^[0-9]{6}$`)
	firstDigit := map[byte]int{}
	for range 2000 {
		c, err := policy.NewCode(6)
		if err != nil {
			t.Fatal(err)
		}
		if !six.MatchString(c) {
			t.Fatalf("NewCode(6) = %q, want 6 digits", c)
		}
		firstDigit[c[0]]++
	}
	// Zero-padding keeps leading zeros: about 200 of 2000 codes start with 0.
	// The bound is loose (p < 1e-9 of failing by chance).
	if n := firstDigit['0']; n < 100 || n > 320 {
		t.Errorf("%d of 2000 codes start with 0, want about 200", n)
	}
	for _, d := range []int{0, -1, 19} {
		if _, err := policy.NewCode(d); err == nil {
			t.Errorf("NewCode(%d) did not fail", d)
		}
	}
}

func TestCodeHash(t *testing.T) {
	key := []byte("server key")
	base := policy.CodeHash(key, "ch1", "registration", "ann@example.com", "123456")
	if !bytes.Equal(base, policy.CodeHash(key, "ch1", "registration", "ann@example.com", "123456")) {
		t.Fatal("CodeHash is not deterministic")
	}
	if len(base) != sha256.Size {
		t.Errorf("len = %d, want %d", len(base), sha256.Size)
	}
	differs := map[string][]byte{
		"other key":         policy.CodeHash([]byte("other key"), "ch1", "registration", "ann@example.com", "123456"),
		"other challenge":   policy.CodeHash(key, "ch2", "registration", "ann@example.com", "123456"),
		"other purpose":     policy.CodeHash(key, "ch1", "password_reset", "ann@example.com", "123456"),
		"other destination": policy.CodeHash(key, "ch1", "registration", "bob@example.com", "123456"),
		"other code":        policy.CodeHash(key, "ch1", "registration", "ann@example.com", "123457"),
		// Shifting bytes between fields must not collide.
		"shifted boundary": policy.CodeHash(key, "ch1r", "egistration", "ann@example.com", "123456"),
	}
	for name, h := range differs {
		if bytes.Equal(h, base) {
			t.Errorf("%s gives the same hash", name)
		}
	}
}

func TestNewToken(t *testing.T) {
	tok, hash, err := policy.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Errorf("token %q is not 43 base64url characters (256 bits)", tok)
	}
	sum := sha256.Sum256([]byte(tok))
	if hash != hex.EncodeToString(sum[:]) || policy.HashToken(tok) != hash {
		t.Errorf("hash %q is not hex SHA-256 of the token", hash)
	}
	tok2, _, _ := policy.NewToken()
	if tok2 == tok {
		t.Error("two tokens are equal")
	}
}
