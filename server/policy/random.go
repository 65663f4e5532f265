package policy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
)

// NewMiID returns a random Mi ID: a number from 100000000 to 9999999999 (9 or
// 10 digits, no leading zero), drawn uniformly with crypto/rand. The caller
// retries when the store says it is taken.
func NewMiID() (string, error) {
	const lo, hi = 100_000_000, 9_999_999_999
	n, err := rand.Int(rand.Reader, big.NewInt(hi-lo+1))
	if err != nil {
		return "", fmt.Errorf("new mi id: %w", err)
	}
	return fmt.Sprint(n.Int64() + lo), nil
}

// NewCode returns a verification code of digits decimal digits (1 to 18),
// zero-padded, every value equally likely (rand.Int rejects samples instead of
// taking a remainder, so there is no modulo bias).
func NewCode(digits int) (string, error) {
	if digits < 1 || digits > 18 {
		return "", fmt.Errorf("new code: %d digits, want 1..18", digits)
	}
	limit := int64(1)
	for range digits {
		limit *= 10
	}
	n, err := rand.Int(rand.Reader, big.NewInt(limit))
	if err != nil {
		return "", fmt.Errorf("new code: %w", err)
	}
	return fmt.Sprintf("%0*d", digits, n.Int64()), nil
}

// CodeHash is the keyed hash a verification code is stored as: HMAC-SHA256
// with the server's key over the challenge id, purpose, destination and code,
// each prefixed by its length, so a code is bound to its challenge and no two
// different tuples encode the same bytes.
func CodeHash(key []byte, challengeID, purpose, destination, code string) []byte {
	return keyedHash(key, "misetup-code-v1", challengeID, purpose, destination, code)
}

// RecoveryCodeHash is the stored form of a two-step recovery code: hex
// HMAC-SHA256 with the server's key, bound to the account. Recovery codes
// are short enough (50 bits) that an unkeyed hash of a stolen database
// could be searched; a keyed one cannot without the key.
func RecoveryCodeHash(key []byte, miID, code string) string {
	return hex.EncodeToString(keyedHash(key, "misetup-recovery-v1", miID, code))
}

// keyedHash is HMAC-SHA256 with key over fields, each prefixed by its
// length, so that no two different lists encode the same bytes.
func keyedHash(key []byte, fields ...string) []byte {
	m := hmac.New(sha256.New, key)
	var n [4]byte
	for _, f := range fields {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// KeyedChoice is a number in [0, n) drawn from key and fields: the same for
// the same inputs while the key stays, unpredictable without it.
func KeyedChoice(key []byte, n int, fields ...string) int {
	h := keyedHash(key, append([]string{"misetup-choice-v1"}, fields...)...)
	return int(binary.BigEndian.Uint64(h) % uint64(n))
}

// NewToken returns a fresh 256-bit session token (unpadded base64url, 43
// characters) and the hash to store in its place (HashToken).
func NewToken() (token, hash string, err error) {
	if token, err = NewSecret(); err != nil {
		return "", "", fmt.Errorf("new token: %w", err)
	}
	return token, HashToken(token), nil
}

// NewSecret returns 256 random bits as unpadded base64url (43 characters):
// a token, or the id and link of a hand-off.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// NewLinkToken returns 128 random bits as unpadded base64url (22
// characters): the token of a hand-off's link. It is shown as a QR code on
// a kiosk's screen, where every character costs room, and it works once
// and for minutes only, so 128 bits are plenty.
func NewLinkToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new link token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HandoffHash is the stored form of a hand-off's secret: hex HMAC-SHA256
// with the server's key over kind ("id" or "link") and the secret, so that
// a copy of the database yields neither the kiosk's id nor the phone's
// link, and the two never hash alike.
func HandoffHash(key []byte, kind, secret string) string {
	return hex.EncodeToString(keyedHash(key, "misetup-handoff-v1", kind, secret))
}

// HashToken is the stored form of a token: hex SHA-256 of its text. Tokens
// are random and long, so a fast unkeyed hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
