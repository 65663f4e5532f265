package policy

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
	"misetup/internal/argon2"
)

// Argon2Params are the argon2id cost parameters stored with each hash.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2 is the OWASP minimum for argon2id the design asks for:
// 19 MiB, 2 passes, 1 thread, a 16-byte salt and a 32-byte key.
func DefaultArgon2() Argon2Params {
	return Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters, both when hashing and when reading a stored hash, so a
// corrupted or tampered row cannot make the server allocate gigabytes or spin.
const (
	maxArgon2Memory = 1 << 20 // KiB, 1 GiB
	maxArgon2Time   = 64
	minSaltLen      = 8
	maxSaltLen      = 64
	minKeyLen       = 16
	maxKeyLen       = 64
)

// ErrBadHash is wrapped by errors about a stored hash that cannot be read.
var ErrBadHash = errors.New("malformed argon2id hash")

func (p Argon2Params) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("argon2id threads %d: want at least 1", p.Threads)
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("argon2id time %d: want 1..%d", p.Time, maxArgon2Time)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory:
		return fmt.Errorf("argon2id memory %d KiB: want %d..%d", p.Memory, 8*uint32(p.Threads), maxArgon2Memory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id salt length %d: want %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d: want %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// HashPassword hashes password with argon2id and a fresh random salt, and
// returns the PHC string that carries the parameters with the hash:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
// The password is NFKC-normalised first (NIST SP 800-63B), so the same
// password typed on keyboards that compose accents differently verifies.
func HashPassword(password string, p Argon2Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a string made by
// HashPassword, using the parameters stored in it. A wrong password is
// (false, nil); an unreadable hash is an error wrapping ErrBadHash. The final
// comparison takes constant time.
func VerifyPassword(password, encoded string) (bool, error) {
	p, salt, key, err := decodeArgon2(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// ParseArgon2 returns the parameters stored in encoded (SaltLen and KeyLen are
// the lengths found), so the server can tell a hash made with weaker
// parameters than today's and rehash it at the next sign-in.
func ParseArgon2(encoded string) (Argon2Params, error) {
	p, _, _, err := decodeArgon2(encoded)
	return p, err
}

func decodeArgon2(encoded string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	bad := func(what string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, fmt.Errorf("%w: %s", ErrBadHash, what)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want $argon2id$v=..$m=..,t=..,p=..$salt$hash")
	}
	if parts[1] != "argon2id" {
		return bad(fmt.Sprintf("algorithm %.20q, want argon2id", parts[1]))
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || parts[2] != fmt.Sprintf("v=%d", version) {
		return bad("version field")
	}
	if version != argon2.Version {
		return bad(fmt.Sprintf("version %d, want %d", version, argon2.Version))
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) || threads > 255 {
		return bad("parameter field")
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return bad("salt is not base64")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return bad("hash is not base64")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return Argon2Params{}, nil, nil, fmt.Errorf("%w: %w", ErrBadHash, err)
	}
	return p, salt, key, nil
}
