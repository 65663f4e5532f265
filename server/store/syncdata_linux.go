package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncData syncs a file's data and what reading it back needs (its size
// when it grew), not its times: fdatasync, as SQLite itself syncs on Linux.
func syncData(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
