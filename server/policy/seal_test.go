package policy

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k1 := Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}
	k2 := Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, 32)}
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

	sealed, err := Seal(k1, secret, "300000001")
	if err != nil {
		t.Fatal(err)
	}
	if !IsSealed(sealed) || strings.Contains(sealed, secret) || !strings.HasPrefix(sealed, "enc:v1:k1:") {
		t.Fatalf("sealed = %q", sealed)
	}
	again, _ := Seal(k1, secret, "300000001")
	if again == sealed {
		t.Error("two seals of one secret are the same text: the nonce is not fresh")
	}

	// Rotation: k2 is the new key, k1 still opens what it sealed.
	pt, id, err := Open([]Key{k2, k1}, sealed, "300000001")
	if err != nil || pt != secret || id != "k1" {
		t.Errorf("Open = %q, %q, %v; want the secret opened with k1", pt, id, err)
	}
	if _, _, err := Open([]Key{k2}, sealed, "300000001"); !errors.Is(err, ErrNoKey) {
		t.Errorf("Open without k1: err = %v, want ErrNoKey", err)
	}
	if _, _, err := Open([]Key{k1}, sealed, "300000002"); err == nil {
		t.Error("a secret sealed for one account opened for another")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, _, err := Open([]Key{k1}, tampered, "300000001"); err == nil {
		t.Error("a tampered sealed text opened")
	}
	// A plain (legacy) secret comes back as it is, with no key id.
	if pt, id, err := Open([]Key{k1}, secret, "300000001"); err != nil || pt != secret || id != "" {
		t.Errorf("Open(plain) = %q, %q, %v", pt, id, err)
	}
	for _, bad := range []Key{{ID: "", Secret: k1.Secret}, {ID: "bad id", Secret: k1.Secret}, {ID: "k", Secret: []byte("short")}} {
		if _, err := Seal(bad, secret, ""); err == nil {
			t.Errorf("Seal with key %q of %d bytes: no error", bad.ID, len(bad.Secret))
		}
	}
}

func TestRecoveryCodeHash(t *testing.T) {
	a := RecoveryCodeHash([]byte("key one"), "300000001", "ABCDE23456")
	if a != RecoveryCodeHash([]byte("key one"), "300000001", "ABCDE23456") {
		t.Error("not stable")
	}
	for _, other := range []string{
		RecoveryCodeHash([]byte("key two"), "300000001", "ABCDE23456"),
		RecoveryCodeHash([]byte("key one"), "300000002", "ABCDE23456"),
		RecoveryCodeHash([]byte("key one"), "300000001", "ABCDE23457"),
		HashToken("ABCDE23456"),
	} {
		if other == a {
			t.Error("a different key, account or code hashed the same")
		}
	}
}
