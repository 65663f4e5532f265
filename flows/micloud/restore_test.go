package micloud_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"testing"

	"misetup/flows/micloud"
)

// countingRemote counts the bytes of blobs it downloads and, past cutAt
// (when not 0), ends the restore's context, as a person quitting or a
// connection dropping would.
type countingRemote struct {
	micloud.Remote
	got    atomic.Int64
	cutAt  int64
	cancel context.CancelFunc
}

func (r *countingRemote) DownloadBlob(ctx context.Context, sum string, w io.Writer, from int64) (int64, error) {
	return r.Remote.DownloadBlob(ctx, sum, writerFunc(func(p []byte) (int, error) {
		if r.cutAt > 0 && r.got.Add(int64(len(p))) >= r.cutAt {
			r.cancel()
		} else if r.cutAt == 0 {
			r.got.Add(int64(len(p)))
		}
		return w.Write(p)
	}), from)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRestoreGoesOnWhereItStopped: a restore of 12 MB of photos cut off
// after 5 MB goes on, when started again, from where it stopped: the
// second run downloads what the first did not (not all of it again), and
// the photos are byte for byte the other computer's.
func TestRestoreGoesOnWhereItStopped(t *testing.T) {
	s := startService(t, 0)
	a := s.newComputer(t, "laptop", true)
	photos := map[string][]byte{}
	for _, name := range []string{"a.jpg", "b.jpg", "c.jpg"} {
		photos[name] = random(t, 4<<20)
		a.write(t, "gallery", name, photos[name])
	}
	a.sync(t, "gallery")

	b := s.newComputer(t, "new-laptop", false)
	f, _ := micloud.FolderOf(b.folders, "gallery")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := &countingRemote{Remote: b.syncer.Remote, cutAt: 5 << 20, cancel: cancel}
	first := *b.syncer
	first.Remote = cut
	if _, err := first.Restore(ctx, f); !errors.Is(err, context.Canceled) {
		t.Fatalf("a restore cut off: %v, want context.Canceled", err)
	}
	gotFirst := cut.got.Load()

	again := &countingRemote{Remote: b.syncer.Remote}
	second := *b.syncer
	second.Remote = again
	if _, err := second.Restore(context.Background(), f); err != nil {
		t.Fatalf("the restore started again: %v", err)
	}
	if total := int64(12 << 20); again.got.Load() > total-gotFirst+(64<<10) {
		t.Errorf("the second run downloaded %d bytes after the first got %d of %d: it started over", again.got.Load(), gotFirst, total)
	}
	for name, want := range photos {
		got, err := os.ReadFile(b.path("gallery", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after the restore went on: %v", name, err)
		}
	}
}
