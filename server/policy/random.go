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
	m := hmac.New(sha256.New, key)
	var n [4]byte
	for _, f := range []string{"misetup-code-v1", challengeID, purpose, destination, code} {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// NewToken returns a fresh 256-bit session token (unpadded base64url, 43
// characters) and the hash to store in its place (HashToken).
func NewToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("new token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token: hex SHA-256 of its text. Tokens
// are random and long, so a fast unkeyed hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
