package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"misetup/api"
)

// SyncService is what the sync diagnosis asks of the service for this
// device; *client.Client (and every Cloud) satisfies it.
type SyncService interface {
	Sync(ctx context.Context, deviceID string) (api.SyncSettings, error)
	SetSync(ctx context.Context, deviceID string, s api.SyncSettings) (api.SyncSettings, error)
	Storage(ctx context.Context) (api.Storage, error)
}

// Causes of the sync diagnosis (Diagnosis.Cause), in the order they are
// checked: the first one found stops the checks.
const (
	SyncNotSignedIn     = "not_signed_in"     // no session on this device
	SyncSessionExpired  = "session_expired"   // the saved session is refused
	SyncUnavailable     = "unavailable"       // the service did not answer
	SyncClockSkew       = "clock_skew"        // the device's date and time are off
	SyncDeviceNotLinked = "device_not_linked" // the account does not know this device
	SyncNotSetUp        = "not_set_up"        // sync was never saved for this device
	SyncAutoSyncOff     = "auto_sync_off"     // "Sync automatically" is off
	SyncNoCategories    = "no_categories"     // nothing chosen to sync
	SyncWifiOnly        = "wifi_only"         // Wi-Fi only, on another network
	SyncStorageFull     = "storage_full"      // Mi Cloud is full
	SyncNoCause         = "no_cause"          // every check passed: clear the cache and retry
)

// SyncDiagnoser runs the sync diagnosis for this device.
type SyncDiagnoser struct {
	Session  SessionKeeper    // the client, holding the session token
	Cloud    SyncService      // this device's sync settings and the storage
	Status   StatusSource     // the service's clock
	System   System           // where the network kind is read
	DeviceID string           // this device
	CacheDir string           // misetup's cache dir (its base name must be "misetup")
	Now      func() time.Time // the device's clock; time.Now when nil
}

// SyncDiagnosis is the finding of "Sync not working" with the facts read
// on the way.
type SyncDiagnosis struct {
	Diagnosis
	Account     *api.Account      // nil until the session is known good
	Settings    *api.SyncSettings // this device's settings, once read
	Storage     *api.Storage      // once read
	Network     NetworkKind       // once read
	Interface   string            // the default route's interface
	ClockOffset time.Duration     // device minus service, once read
	Cleared     *CacheCleared     // after ActionClearCache
}

// CacheCleared is what "clear cache and retry" did.
type CacheCleared struct {
	Files int   // files removed
	Bytes int64 // their size
	// Stale is true when the cached sync settings differed from the
	// service's: the cache was the cause.
	Stale bool
	// Fixed is true when every check passes after the retry.
	Fixed bool
}

// Diagnose checks, in order, and stops at the first cause: a valid
// session; the device clock against the service's; auto-sync on and at
// least one category for this device; Wi-Fi only while the network is not
// Wi-Fi; storage full. When nothing is found it offers "clear cache and
// retry".
func (s SyncDiagnoser) Diagnose(ctx context.Context) SyncDiagnosis {
	d := SyncDiagnosis{}
	d.Problem = ProblemSync
	set := func(cause string, level Level, finding, fix Text, actions ...Action) SyncDiagnosis {
		d.Cause, d.Level, d.Finding, d.Fix, d.Actions = cause, level, finding, fix, actions
		return d
	}
	unavailable := func(err error) SyncDiagnosis {
		ue := Explain(err)
		return set(SyncUnavailable, LevelFail, T("ts.sync.unavailable"), T(ue.Key, ue.Args...), ActionCheckAgain)
	}

	// 1. Signed in with a valid session.
	if s.Session == nil || s.Session.Token() == "" {
		return set(SyncNotSignedIn, LevelFail, T("ts.sync.not_signed_in"), T("ts.sync.not_signed_in.fix"), ActionSignIn)
	}
	acc, err := s.Session.Account(ctx)
	switch {
	case errors.Is(err, api.ErrUnauthorized), errors.Is(err, api.ErrNotFound):
		return set(SyncSessionExpired, LevelFail, T("ts.sync.session_expired"), T("ts.sync.session_expired.fix"), ActionSignIn)
	case err != nil:
		return unavailable(err)
	}
	d.Account = &acc

	// 2. The device's date and time (the guide's "date and time").
	if s.Status != nil {
		f := Checker{Status: s.Status, Now: s.Now}.Clock(ctx)
		d.ClockOffset = f.Offset
		switch {
		case f.Err != nil:
			return unavailable(f.Err)
		case f.Level != LevelOK:
			return set(SyncClockSkew, LevelFail, T("ts.sync.clock", "clock", f.Msg), T("ts.sync.clock.fix"), ActionCheckAgain)
		}
	}

	// 3. This device's settings: linked, saved, on, something to sync.
	st, err := s.Cloud.Sync(ctx, s.DeviceID)
	switch {
	case errors.Is(err, api.ErrNotFound):
		return set(SyncDeviceNotLinked, LevelFail, T("ts.sync.not_linked"), T("ts.sync.not_linked.fix"), ActionSignIn)
	case err != nil:
		return unavailable(err)
	}
	d.Settings = &st
	switch {
	case st.UpdatedAt == nil && !st.AutoSync:
		return set(SyncNotSetUp, LevelFail, T("ts.sync.not_set_up"), T("ts.sync.not_set_up.fix"), ActionTurnOnSync)
	case !st.AutoSync:
		return set(SyncAutoSyncOff, LevelFail, T("ts.sync.auto_off"), T("ts.sync.auto_off.fix"), ActionTurnOnSync)
	case len(st.Categories) == 0:
		return set(SyncNoCategories, LevelFail, T("ts.sync.no_categories"), T("ts.sync.no_categories.fix", "list", categoryList(defaultCategories)), ActionChooseCategories)
	}

	// 4. Wi-Fi only on another network.
	d.Network, d.Interface = s.System.Network()
	if st.WifiOnly && d.Network != NetworkWiFi {
		return set(SyncWifiOnly, LevelWarn, T("ts.sync.wifi_only."+string(d.Network), "iface", d.Interface),
			T("ts.sync.wifi_only.fix"), ActionAllowAnyNetwork)
	}

	// 5. Storage full.
	sto, err := s.Cloud.Storage(ctx)
	if err != nil {
		return unavailable(err)
	}
	d.Storage = &sto
	if sto.QuotaBytes > 0 && sto.UsedBytes >= sto.QuotaBytes {
		fix := T("ts.sync.storage_full.fix_none")
		if c, n := biggestCategory(sto); c != "" {
			fix = T("ts.sync.storage_full.fix", "category", T("sync.cat."+c), "size", FormatBytes(n))
		}
		return set(SyncStorageFull, LevelFail, T("ts.sync.storage_full", "used", FormatBytes(sto.UsedBytes), "quota", FormatBytes(sto.QuotaBytes)), fix)
	}

	// 6. Nothing found: clearing the cache is what is left to try.
	return set(SyncNoCause, LevelOK, T("ts.sync.no_cause", "n", len(st.Categories)), T("ts.sync.no_cause.fix"), ActionClearCache)
}

// Apply does a fix the diagnosis offered and diagnoses again: auto-sync on
// (with the guide's categories when none were chosen), the guide's
// categories, Wi-Fi only off, or clearing the cache and fetching the
// settings again. ActionCheckAgain only diagnoses again.
func (s SyncDiagnoser) Apply(ctx context.Context, a Action, d SyncDiagnosis) (SyncDiagnosis, error) {
	cur := api.SyncSettings{}
	if d.Settings != nil {
		cur = *d.Settings
	}
	save := func(st api.SyncSettings) (SyncDiagnosis, error) {
		st.Categories, st.UpdatedAt = orderCategories(st.Categories), nil
		if _, err := s.Cloud.SetSync(ctx, s.DeviceID, st); err != nil {
			return d, Explain(wrap("save sync settings", err))
		}
		return s.Diagnose(ctx), nil
	}
	switch a {
	case ActionCheckAgain:
		return s.Diagnose(ctx), nil
	case ActionTurnOnSync:
		cur.AutoSync = true
		if len(cur.Categories) == 0 {
			cur.Categories = slices.Clone(defaultCategories)
		}
		if d.Cause == SyncNotSetUp {
			kind, _ := s.System.Network()
			cur.WifiOnly = kind == NetworkMobile
		}
		return save(cur)
	case ActionChooseCategories:
		cur.AutoSync = true
		cur.Categories = slices.Clone(defaultCategories)
		return save(cur)
	case ActionAllowAnyNetwork:
		cur.WifiOnly = false
		return save(cur)
	case ActionClearCache:
		return s.clearCacheAndRetry(ctx)
	}
	return d, fmt.Errorf("sync diagnosis: %q is not a sync fix", a)
}

// syncCacheName is the cached copy of this device's sync settings.
func syncCacheName(deviceID string) string {
	return "sync-" + cleanFileName(deviceID) + ".json"
}

func cleanFileName(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "device"
	}
	return string(out)
}

// SaveSyncCache keeps a copy of this device's sync settings in the cache
// dir, as last fetched; "clear cache and retry" compares it with the
// service's to tell a stale cache.
func SaveSyncCache(cacheDir, deviceID string, st api.SyncSettings) error {
	if err := checkCacheDir(cacheDir); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("cache sync settings: %w", err)
	}
	return writeFileAtomic(filepath.Join(cacheDir, syncCacheName(deviceID)), append(b, '\n'))
}

// checkCacheDir refuses to clear anything but misetup's own cache dir: an
// empty path, or a directory not named "misetup" (a misconfigured path
// would otherwise empty someone's whole ~/.cache).
func checkCacheDir(dir string) error {
	if dir == "" || filepath.Base(filepath.Clean(dir)) != "misetup" {
		return fmt.Errorf("cache dir %q is not misetup's own", dir)
	}
	return nil
}

// clearCacheAndRetry empties the cache dir, fetches the settings again,
// keeps the fresh copy, and diagnoses again.
func (s SyncDiagnoser) clearCacheAndRetry(ctx context.Context) (SyncDiagnosis, error) {
	if err := checkCacheDir(s.CacheDir); err != nil {
		return SyncDiagnosis{}, fmt.Errorf("clear cache: %w", err)
	}
	var cached *api.SyncSettings
	if b, err := os.ReadFile(filepath.Join(s.CacheDir, syncCacheName(s.DeviceID))); err == nil {
		var c api.SyncSettings
		if json.Unmarshal(b, &c) == nil {
			cached = &c
		}
	}
	files, bytes, err := emptyDir(s.CacheDir)
	if err != nil {
		return SyncDiagnosis{}, fmt.Errorf("clear cache: %w", err)
	}
	d := s.Diagnose(ctx)
	c := &CacheCleared{Files: files, Bytes: bytes, Fixed: d.Cause == SyncNoCause}
	if d.Settings != nil {
		c.Stale = cached != nil && !sameSync(*cached, *d.Settings)
		if err := SaveSyncCache(s.CacheDir, s.DeviceID, *d.Settings); err != nil {
			return d, err
		}
	}
	d.Cleared = c
	switch {
	case c.Fixed && c.Stale:
		d.Finding, d.Fix, d.Actions = T("ts.sync.cleared.stale", "n", files, "size", FormatBytes(bytes)), T("ts.sync.cleared.stale.fix"), nil
	case c.Fixed:
		d.Finding, d.Fix, d.Actions = T("ts.sync.cleared.same", "n", files, "size", FormatBytes(bytes)), T("ts.sync.cleared.same.fix"), []Action{ActionCheckAgain}
	default:
		d.Notes = append(d.Notes, T("ts.sync.cleared.not_fixed", "n", files, "size", FormatBytes(bytes)))
	}
	return d, nil
}

// emptyDir removes everything inside dir (not dir itself) and returns how
// many files went and their size. A missing dir is empty.
func emptyDir(dir string) (files int, bytes int64, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		werr := filepath.WalkDir(p, func(_ string, de fs.DirEntry, err error) error {
			if err != nil {
				return nil // counted as far as readable; RemoveAll decides
			}
			if de.Type().IsRegular() {
				files++
				if fi, err := de.Info(); err == nil {
					bytes += fi.Size()
				}
			}
			return nil
		})
		if werr != nil {
			return files, bytes, werr
		}
		if err := os.RemoveAll(p); err != nil {
			return files, bytes, err
		}
	}
	return files, bytes, nil
}

func sameSync(a, b api.SyncSettings) bool {
	return a.AutoSync == b.AutoSync && a.WifiOnly == b.WifiOnly &&
		slices.Equal(orderCategories(a.Categories), orderCategories(b.Categories))
}

// biggestCategory is the category using the most storage.
func biggestCategory(st api.Storage) (string, int64) {
	cats := make([]string, 0, len(st.ByCategory))
	for c := range st.ByCategory {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	best, n := "", int64(0)
	for _, c := range cats {
		if st.ByCategory[c] > n {
			best, n = c, st.ByCategory[c]
		}
	}
	return best, n
}

// categoryList is a list of categories as Texts joined by the ui.
func categoryList(cats []string) TextList {
	out := make(TextList, len(cats))
	for i, c := range cats {
		out[i] = T("sync.cat." + c)
	}
	return out
}

// TextList is a Text argument that is a list of texts: the ui translates
// each and joins them with the catalog's "common.list_sep".
type TextList []Text

// FormatBytes writes a size in B, KB, MB, GB (powers of 1024, as phones do).
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTP"[exp])
}
