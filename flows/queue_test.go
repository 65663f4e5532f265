package flows_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
)

// queueEnv is ann signed in on dev-1 of a real service, and an empty queue.
func queueEnv(t *testing.T) (*env, flows.SettingsQueue) {
	t.Helper()
	e := newEnv(t)
	e.createAccount(t, email)
	return e, flows.QueueIn(t.TempDir())
}

func TestQueuedSettingsAppliedOnce(t *testing.T) {
	e, q := queueEnv(t)
	ctx := context.Background()
	if err := q.QueueSync(e.dev.ID, api.SyncSettings{AutoSync: true, Categories: []string{"notes", "contacts"}}); err != nil {
		t.Fatal(err)
	}
	if err := q.QueueFindDevice(e.dev.ID, true); err != nil {
		t.Fatal(err)
	}
	// A later choice of the same setting wins.
	if err := q.QueueSync(e.dev.ID, api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: []string{"gallery"}}); err != nil {
		t.Fatal(err)
	}
	p, ok, err := q.Pending(e.dev.ID)
	if err != nil || !ok || p.Sync == nil || !slices.Equal(p.Sync.Categories, []string{"gallery"}) || p.FindDevice == nil || !*p.FindDevice {
		t.Fatalf("waiting to be saved: %+v %v %v", p, ok, err)
	}

	res, err := flows.ApplyQueued(ctx, e.c, q)
	if err != nil || len(res) != 1 || res[0].Saved.Sync == nil || res[0].Saved.FindDevice == nil || res[0].Kept != nil || res[0].Dropped != nil {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	s, _ := e.c.Sync(ctx, e.dev.ID)
	f, _ := e.c.FindDevice(ctx, e.dev.ID)
	if !s.WifiOnly || !slices.Equal(s.Categories, []string{"gallery"}) || !f.Enabled {
		t.Errorf("the service holds sync %+v, find device %+v", s, f)
	}
	if _, ok, _ := q.Pending(e.dev.ID); ok {
		t.Error("applied settings still wait")
	}
	// Once: the owner changes them elsewhere, a second apply does nothing.
	if _, err := e.c.SetFindDevice(ctx, e.dev.ID, false); err != nil {
		t.Fatal(err)
	}
	if res, err := flows.ApplyQueued(ctx, e.c, q); err != nil || len(res) != 0 {
		t.Errorf("second apply = %+v, %v", res, err)
	}
	if f, _ := e.c.FindDevice(ctx, e.dev.ID); f.Enabled {
		t.Error("a second apply saved the queued choice again")
	}
}

func TestQueuedSettingsKeptWhenUnreachable(t *testing.T) {
	e, q := queueEnv(t)
	ctx := context.Background()
	if err := q.QueueFindDevice(e.dev.ID, true); err != nil {
		t.Fatal(err)
	}
	gone := client.New("http://127.0.0.1:1", client.WithToken(e.c.Token()), client.WithRetries(0), client.WithTimeout(time.Second))
	res, err := flows.ApplyQueued(ctx, gone, q)
	if err != nil || len(res) != 1 || res[0].Kept == nil || !flows.Queueable(res[0].Kept) {
		t.Fatalf("apply with no service = %+v, %v", res, err)
	}
	if _, ok, _ := q.Pending(e.dev.ID); !ok {
		t.Fatal("the choice was lost when the service could not be reached")
	}
	if _, err := flows.ApplyQueued(ctx, e.c, q); err != nil {
		t.Fatal(err)
	}
	if f, _ := e.c.FindDevice(ctx, e.dev.ID); !f.Enabled {
		t.Error("the kept choice was not saved once the service was back")
	}
	if _, ok, _ := q.Pending(e.dev.ID); ok {
		t.Error("saved, yet still waiting")
	}
}

func TestQueuedSettingsRefusedAreDropped(t *testing.T) {
	e, q := queueEnv(t)
	if err := q.QueueFindDevice("no-such-device", true); err != nil {
		t.Fatal(err)
	}
	res, err := flows.ApplyQueued(context.Background(), e.c, q)
	if err != nil || len(res) != 1 || !errors.Is(res[0].Dropped, api.ErrNotFound) {
		t.Fatalf("apply for a device that is gone = %+v, %v", res, err)
	}
	if all, _ := q.All(); len(all) != 0 {
		t.Errorf("a setting that can never be saved still waits: %+v", all)
	}
}

// saverQueuingMeanwhile queues a new choice while the queue is applied.
type saverQueuingMeanwhile struct {
	flows.SettingsSaver
	q    flows.SettingsQueue
	id   string
	once bool
}

func (s *saverQueuingMeanwhile) SetFindDevice(ctx context.Context, id string, on bool) (api.FindDevice, error) {
	if !s.once {
		s.once = true
		if err := s.q.QueueFindDevice(s.id, false); err != nil {
			return api.FindDevice{}, err
		}
	}
	return s.SettingsSaver.SetFindDevice(ctx, id, on)
}

func TestChoiceQueuedWhileApplyingIsKept(t *testing.T) {
	e, q := queueEnv(t)
	ctx := context.Background()
	if err := q.QueueFindDevice(e.dev.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := flows.ApplyQueued(ctx, &saverQueuingMeanwhile{SettingsSaver: e.c, q: q, id: e.dev.ID}, q); err != nil {
		t.Fatal(err)
	}
	p, ok, _ := q.Pending(e.dev.ID)
	if !ok || p.FindDevice == nil || *p.FindDevice {
		t.Fatalf("the choice made while applying: %+v, %v; want it waiting", p, ok)
	}
	if _, err := flows.ApplyQueued(ctx, e.c, q); err != nil {
		t.Fatal(err)
	}
	if f, _ := e.c.FindDevice(ctx, e.dev.ID); f.Enabled {
		t.Error("the newer choice (off) lost to the older one")
	}
}

func TestQueueRefusesSyncWithoutCategories(t *testing.T) {
	q := flows.QueueIn(t.TempDir())
	err := q.QueueSync("dev-1", api.SyncSettings{AutoSync: true})
	if ue := flows.Explain(err); ue == nil || ue.Key != flows.ErrKeyNoCategories {
		t.Errorf("queue sync on with no category: %v", err)
	}
}

func TestQueueApplyIsOneAtATime(t *testing.T) {
	e, q := queueEnv(t)
	if err := q.QueueFindDevice(e.dev.ID, true); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(q.Dir, ".apply.lock")
	if err := os.WriteFile(lock, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := flows.ApplyQueued(context.Background(), e.c, q); !errors.Is(err, flows.ErrQueueBusy) {
		t.Fatalf("apply beside another: %v; want ErrQueueBusy", err)
	}
	// A lock left by a process that died long ago is taken over.
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	if res, err := flows.ApplyQueued(context.Background(), e.c, q); err != nil || len(res) != 1 {
		t.Fatalf("apply after a stale lock = %+v, %v", res, err)
	}
}

func TestLockMarker(t *testing.T) {
	dir := t.TempDir()
	files := flows.Files{Dir: dir}
	if err := files.SaveToken("tok"); err != nil {
		t.Fatal(err)
	}
	if _, locked, err := flows.LockedMessage(dir); locked || err != nil {
		t.Fatalf("locked before any lock: %v %v", locked, err)
	}
	if err := flows.LockDevice(dir, "Call 555\u001b[2J 0100", time.Now()); err != nil {
		t.Fatal(err)
	}
	info, locked, err := flows.LockedMessage(dir)
	if !locked || err != nil || info.Message != "Call 555[2J 0100" {
		t.Errorf("lock = %+v %v %v", info, locked, err)
	}
	if tok, _ := files.LoadToken(); tok != "" {
		t.Error("the session survived the lock")
	}
	if err := flows.ClearLock(dir); err != nil {
		t.Fatal(err)
	}
	if _, locked, _ := flows.LockedMessage(dir); locked {
		t.Error("still locked after ClearLock")
	}
}

func TestEraseLocalDataTouchesOnlyMisetupsOwn(t *testing.T) {
	root := t.TempDir()
	state, cache := filepath.Join(root, "state", "misetup"), filepath.Join(root, "cache", "misetup")
	files := flows.Files{Dir: state}
	_ = files.SaveToken("tok")
	_ = files.SaveProgress(flows.Progress{Step: "sync"})
	id, _ := files.DeviceID()
	_ = flows.LockDevice(state, "x", time.Now())
	_ = flows.QueueIn(state).QueueFindDevice(id, true)
	neighbour := filepath.Join(root, "cache", "other-app.txt")
	for _, p := range []string{filepath.Join(cache, "sync-x.json"), neighbour, filepath.Join(state, "outbox.jsonl")} {
		_ = os.MkdirAll(filepath.Dir(p), 0o700)
		_ = os.WriteFile(p, []byte("x"), 0o600)
	}
	if _, err := flows.EraseLocalData(state, cache); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"session", "progress.json", "locked.json", "queue"} {
		if _, err := os.Stat(filepath.Join(state, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the erase", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "sync-x.json")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the cache survived the erase")
	}
	for _, kept := range []string{neighbour, filepath.Join(state, "device-id"), filepath.Join(state, "outbox.jsonl"), cache} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s went with the erase: %v", kept, err)
		}
	}
	// A cache dir that is not misetup's own is refused, not emptied.
	if _, err := flows.EraseLocalData(state, filepath.Join(root, "cache")); err == nil {
		t.Error("erase emptied a cache dir not named misetup")
	}
	if _, err := os.Stat(neighbour); err != nil {
		t.Errorf("a neighbour went: %v", err)
	}
}
