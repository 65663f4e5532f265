package argon2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// TestSameAsTheLibrary: IDKey gives golang.org/x/crypto/argon2's key for
// random passwords, salts and costs, several hashes at once and one after
// another, so that memory comes back from the pool holding another hash's
// blocks, of the same size and of another.
func TestSameAsTheLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type input struct {
		password, salt []byte
		time, memory   uint32
		threads        uint8
		keyLen         uint32
	}
	var inputs []input
	for range 60 {
		in := input{
			password: make([]byte, rng.IntN(40)),
			salt:     make([]byte, 8+rng.IntN(24)),
			time:     1 + rng.Uint32N(3),
			memory:   []uint32{8, 64, 256, 1024}[rng.IntN(4)],
			threads:  uint8(1 + rng.IntN(4)),
			keyLen:   []uint32{16, 32, 64, 100}[rng.IntN(4)],
		}
		for i := range in.password {
			in.password[i] = byte(rng.Uint32())
		}
		for i := range in.salt {
			in.salt[i] = byte(rng.Uint32())
		}
		in.memory = max(in.memory, 8*uint32(in.threads))
		inputs = append(inputs, in)
	}
	check := func(in input) error {
		got := IDKey(in.password, in.salt, in.time, in.memory, in.threads, in.keyLen)
		want := xargon2.IDKey(in.password, in.salt, in.time, in.memory, in.threads, in.keyLen)
		if !bytes.Equal(got, want) {
			return fmt.Errorf("IDKey(t=%d, m=%d, p=%d, len %d) = %x, the library's %x", in.time, in.memory, in.threads, in.keyLen, got, want)
		}
		return nil
	}
	for _, in := range inputs {
		if err := check(in); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(inputs))
	for _, in := range inputs {
		wg.Go(func() {
			if err := check(in); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkIDKey: hashes of misetup's sign-ins (19 MiB, 2 passes, one
// lane) here and in the library, as many at once as the service's hash
// slots run (one a core).
func BenchmarkIDKey(b *testing.B) {
	password, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	for _, impl := range []struct {
		name  string
		idKey func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	}{{"pooled", IDKey}, {"x-crypto", xargon2.IDKey}} {
		b.Run(impl.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					impl.idKey(password, salt, 2, 19*1024, 1, 32)
				}
			})
		})
	}
}

// TestRelease: after Release the pool holds nothing, and the next hash is
// still right.
func TestRelease(t *testing.T) {
	password, salt := []byte("password"), []byte("somesalt")
	want := xargon2.IDKey(password, salt, 1, 64, 1, 32)
	IDKey(password, salt, 1, 64, 1, 32)
	Release()
	if kept := memories.Get(); kept != nil {
		t.Errorf("after Release the pool still holds %T", kept)
	}
	if got := IDKey(password, salt, 1, 64, 1, 32); !bytes.Equal(got, want) {
		t.Errorf("IDKey after Release = %x, want %x", got, want)
	}
}
