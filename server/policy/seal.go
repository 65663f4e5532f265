package policy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Key is a secret key with the id it is known by. The id is stored beside
// what the key sealed, so that a key can be replaced (rotated) while older
// data still opens with the key that sealed it.
type Key struct {
	ID     string // letters, digits, '-' and '_', 1 to 32 of them
	Secret []byte // 32 bytes: AES-256
}

// keyIDRe is the form of a key id.
var keyIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`) })

// CheckKey says what is wrong with k, or nil.
func CheckKey(k Key) error {
	if !keyIDRe().MatchString(k.ID) {
		return fmt.Errorf("key id %q: want 1 to 32 letters, digits, '-' or '_'", k.ID)
	}
	if len(k.Secret) != 32 {
		return fmt.Errorf("key %s: want 32 bytes (64 hex digits), have %d", k.ID, len(k.Secret))
	}
	return nil
}

// sealPrefix starts every sealed text; a stored text without it is from
// before secrets were sealed (plain).
const sealPrefix = "enc:v1:"

// ErrNoKey is returned by Open when no key has the id a text was sealed with.
var ErrNoKey = errors.New("policy: no key with the id the secret was sealed with")

// Seal encrypts plaintext with k (AES-256-GCM, a random 96-bit nonce),
// binding it to aad (e.g. the account it belongs to, so that it cannot be
// moved to another). The result is text: enc:v1:<key id>:<base64url of nonce
// and ciphertext>.
func Seal(k Key, plaintext, aad string) (string, error) {
	if err := CheckKey(k); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	gcm, err := newGCM(k.Secret)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := gcm.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return sealPrefix + k.ID + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// IsSealed reports whether stored is a sealed text (else it is plain, from
// before secrets were sealed).
func IsSealed(stored string) bool { return strings.HasPrefix(stored, sealPrefix) }

// Open decrypts a text Seal made with one of keys (found by its id) for aad,
// and returns the id of the key that opened it. A text that is not sealed
// is returned as it is, with id "": the caller seals it again.
func Open(keys []Key, stored, aad string) (plaintext, keyID string, err error) {
	rest, ok := strings.CutPrefix(stored, sealPrefix)
	if !ok {
		return stored, "", nil
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return "", "", errors.New("open: not a sealed text")
	}
	var key *Key
	for i := range keys {
		if keys[i].ID == id {
			key = &keys[i]
			break
		}
	}
	if key == nil {
		return "", id, fmt.Errorf("open %s: %w", id, ErrNoKey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return "", id, fmt.Errorf("open: %w", err)
	}
	gcm, err := newGCM(key.Secret)
	if err != nil {
		return "", id, err
	}
	if len(raw) < gcm.NonceSize() {
		return "", id, errors.New("open: sealed text too short")
	}
	pt, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(aad))
	if err != nil {
		return "", id, fmt.Errorf("open with key %s: %w", id, err)
	}
	return string(pt), id, nil
}

// newGCM is AES-GCM with secret.
func newGCM(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return gcm, nil
}
