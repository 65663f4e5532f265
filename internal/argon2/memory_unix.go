//go:build unix

package argon2

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// newMemory maps n blocks outside the Go heap, unmapped when the collector
// takes the memory; on the heap when mapping fails.
func newMemory(n uint32) *memory {
	raw, err := unix.Mmap(-1, 0, int(n)*blockLength*8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return &memory{blocks: make([]block, n)}
	}
	m := &memory{blocks: unsafe.Slice((*block)(unsafe.Pointer(unsafe.SliceData(raw))), n)}
	runtime.AddCleanup(m, func(raw []byte) { _ = unix.Munmap(raw) }, raw)
	return m
}
