package flows

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"misetup/api"
)

// SettingsQueue keeps the Mi Cloud and Find Device choices made while the
// account service could not be reached, so that nothing chosen is lost:
// the wizard shows them as waiting to be saved, and the agent or the next
// run saves them (ApplyQueued), once.
//
// Each choice is its own JSON file in Dir, written atomically (a temporary
// file renamed into place), so a choice queued while another process
// applies the queue is never lost with the ones it applied; a later choice
// of the same setting for the same device wins.
type SettingsQueue struct {
	Dir string
}

// QueueIn is the queue kept in misetup's state dir.
func QueueIn(stateDir string) SettingsQueue {
	return SettingsQueue{Dir: filepath.Join(stateDir, "queue")}
}

// QueuedSettings are the settings of one device waiting to be saved; a nil
// field was not chosen.
type QueuedSettings struct {
	DeviceID   string            `json:"device_id"`
	Sync       *api.SyncSettings `json:"sync,omitempty"`
	FindDevice *bool             `json:"find_device,omitempty"`
	QueuedAt   time.Time         `json:"queued_at"` // of the latest choice
}

// IsZero reports whether nothing is waiting.
func (q QueuedSettings) IsZero() bool { return q.Sync == nil && q.FindDevice == nil }

// Queueable reports whether err means the service could not be reached (a
// network failure, a timeout, the service unavailable), so the choice
// should be queued rather than refused.
func Queueable(err error) bool {
	if err == nil {
		return false
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code == api.CodeUnavailable
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// QueueSync queues a device's Mi Cloud sync settings, checked as SaveSync
// checks them (sync on with no category is refused, ErrKeyNoCategories).
func (q SettingsQueue) QueueSync(deviceID string, s api.SyncSettings) error {
	s.Categories = orderCategories(s.Categories)
	if s.AutoSync && len(s.Categories) == 0 {
		return userErr(ErrKeyNoCategories, nil)
	}
	s.UpdatedAt = nil
	return q.put(QueuedSettings{DeviceID: deviceID, Sync: &s})
}

// QueueFindDevice queues turning Find Device on or off for a device.
func (q SettingsQueue) QueueFindDevice(deviceID string, enabled bool) error {
	return q.put(QueuedSettings{DeviceID: deviceID, FindDevice: &enabled})
}

// queued is one file of the queue.
type queued struct {
	name string
	QueuedSettings
}

func (q SettingsQueue) put(s QueuedSettings) error {
	if q.Dir == "" {
		return errors.New("queue settings: no queue dir")
	}
	if strings.TrimSpace(s.DeviceID) == "" {
		return errors.New("queue settings: no device id")
	}
	if s.QueuedAt.IsZero() {
		s.QueuedAt = time.Now().UTC()
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("queue settings: %w", err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("queue settings: %w", err)
	}
	name := fmt.Sprintf("%020d-%s.json", s.QueuedAt.UnixNano(), hex.EncodeToString(rnd[:]))
	if err := writeFileAtomic(filepath.Join(q.Dir, name), append(b, '\n')); err != nil {
		return fmt.Errorf("queue settings: %w", err)
	}
	return nil
}

// files reads the queue, oldest choice first. Damaged files are skipped
// (and left alone).
func (q SettingsQueue) files() ([]queued, error) {
	entries, err := os.ReadDir(q.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	var out []queued
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(q.Dir, e.Name()))
		if err != nil {
			continue // applied and removed meanwhile
		}
		var s QueuedSettings
		if json.Unmarshal(b, &s) != nil || s.DeviceID == "" {
			continue
		}
		out = append(out, queued{name: e.Name(), QueuedSettings: s})
	}
	slices.SortFunc(out, func(a, b queued) int {
		return cmp.Or(a.QueuedAt.Compare(b.QueuedAt), cmp.Compare(a.name, b.name))
	})
	return out, nil
}

// merge folds choices, oldest first, into one per device: the latest
// choice of each setting wins.
func merge(fs []queued) ([]QueuedSettings, map[string][]string) {
	byDevice := map[string]*QueuedSettings{}
	names := map[string][]string{}
	var order []string
	for _, f := range fs {
		m, ok := byDevice[f.DeviceID]
		if !ok {
			m = &QueuedSettings{DeviceID: f.DeviceID}
			byDevice[f.DeviceID] = m
			order = append(order, f.DeviceID)
		}
		if f.Sync != nil {
			m.Sync = f.Sync
		}
		if f.FindDevice != nil {
			m.FindDevice = f.FindDevice
		}
		if f.QueuedAt.After(m.QueuedAt) {
			m.QueuedAt = f.QueuedAt
		}
		names[f.DeviceID] = append(names[f.DeviceID], f.name)
	}
	out := make([]QueuedSettings, 0, len(order))
	for _, id := range order {
		out = append(out, *byDevice[id])
	}
	return out, names
}

// Pending returns what waits to be saved for a device ("waiting to be
// saved" in the wizard); ok is false when nothing does.
func (q SettingsQueue) Pending(deviceID string) (QueuedSettings, bool, error) {
	all, err := q.All()
	if err != nil {
		return QueuedSettings{}, false, err
	}
	for _, s := range all {
		if s.DeviceID == deviceID {
			return s, true, nil
		}
	}
	return QueuedSettings{}, false, nil
}

// All returns what waits to be saved, one entry per device.
func (q SettingsQueue) All() ([]QueuedSettings, error) {
	fs, err := q.files()
	if err != nil {
		return nil, err
	}
	out, _ := merge(fs)
	return out, nil
}

// SettingsSaver is what ApplyQueued needs from the service; *client.Client
// satisfies it.
type SettingsSaver interface {
	SetSync(ctx context.Context, deviceID string, s api.SyncSettings) (api.SyncSettings, error)
	SetFindDevice(ctx context.Context, deviceID string, enabled bool) (api.FindDevice, error)
}

// Applied is what became of one device's queued settings.
type Applied struct {
	Settings QueuedSettings
	// Saved are the settings the service stored (a nil field: not saved).
	Saved QueuedSettings
	// Dropped is the service's refusal of a setting that can never be
	// saved (invalid, the device gone): it was reported and removed.
	Dropped error
	// Kept is why a setting could not be saved yet (the service
	// unreachable, the session ended): it stays queued for the next try.
	Kept error
}

// ErrQueueBusy means another process is applying the queue right now.
var ErrQueueBusy = errors.New("the settings queue is being applied by another process")

// staleLock is how old an apply lock must be to be taken over (its process
// died while applying).
const staleLock = 2 * time.Minute

// ApplyQueued saves every queued setting through c, once: a saved one
// leaves the queue; one the service refuses for good (a 4xx other than an
// unreachable service or an ended session) is reported in Dropped and
// leaves the queue; one that could not reach the service stays (Kept).
// One process applies the queue at a time (ErrQueueBusy for the others),
// so two never save an older choice over a newer one.
func ApplyQueued(ctx context.Context, c SettingsSaver, q SettingsQueue) ([]Applied, error) {
	fs, err := q.files()
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	unlock, err := q.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Read again under the lock: another process may have applied some.
	if fs, err = q.files(); err != nil {
		return nil, err
	}
	merged, names := merge(fs)
	var out []Applied
	for _, s := range merged {
		a := Applied{Settings: s}
		rest := QueuedSettings{DeviceID: s.DeviceID, QueuedAt: s.QueuedAt}
		if s.Sync != nil {
			got, err := c.SetSync(ctx, s.DeviceID, *s.Sync)
			switch {
			case err == nil:
				a.Saved.Sync = &got
			case permanent(err):
				a.Dropped = errors.Join(a.Dropped, wrap("save queued sync settings", err))
			default:
				a.Kept = errors.Join(a.Kept, wrap("save queued sync settings", err))
				rest.Sync = s.Sync
			}
		}
		if s.FindDevice != nil {
			_, err := c.SetFindDevice(ctx, s.DeviceID, *s.FindDevice)
			switch {
			case err == nil:
				a.Saved.FindDevice = s.FindDevice
			case permanent(err):
				a.Dropped = errors.Join(a.Dropped, wrap("save queued find device", err))
			default:
				a.Kept = errors.Join(a.Kept, wrap("save queued find device", err))
				rest.FindDevice = s.FindDevice
			}
		}
		a.Saved.DeviceID = s.DeviceID
		out = append(out, a)
		switch {
		case !rest.IsZero() && a.Saved.IsZero() && a.Dropped == nil:
			continue // nothing saved, nothing dropped: the files stay as they are
		case !rest.IsZero():
			// What is left is written back before the files it came from
			// go: a crash between leaves it twice, never lost. It keeps its
			// time, so a choice queued meanwhile (a newer file) still wins.
			if err := q.put(rest); err != nil {
				return out, err
			}
		}
		for _, n := range names[s.DeviceID] {
			if err := removeIfExists(filepath.Join(q.Dir, n)); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// permanent reports whether the service refused a setting for good: bad
// input, the device gone, a conflict. An unreachable service, an ended
// session (signing in again fixes it), a rate limit or the service's own
// failure are worth another try.
func permanent(err error) bool {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case api.CodeInvalidInput, api.CodeNotFound, api.CodeConflict, api.CodeBodyTooLarge, api.CodeMethodNotAllowed:
		return true
	}
	return false
}

// lock takes the queue's apply lock (a file made exclusively), taking
// over one older than staleLock.
func (q SettingsQueue) lock() (unlock func(), err error) {
	if err := os.MkdirAll(q.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock queue: %w", err)
	}
	path := filepath.Join(q.Dir, ".apply.lock")
	for try := 0; ; try++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { _ = os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock queue: %w", err)
		}
		fi, serr := os.Stat(path)
		if try > 0 || serr != nil || time.Since(fi.ModTime()) < staleLock {
			return nil, ErrQueueBusy
		}
		_ = os.Remove(path) // its process died while applying
	}
}

// Clear removes every queued setting (an erase).
func (q SettingsQueue) Clear() error {
	if err := os.RemoveAll(q.Dir); err != nil {
		return fmt.Errorf("clear queue: %w", err)
	}
	return nil
}
