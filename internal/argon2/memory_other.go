//go:build !unix

package argon2

// newMemory allocates n blocks on the Go heap.
func newMemory(n uint32) *memory { return &memory{blocks: make([]block, n)} }
