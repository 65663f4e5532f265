package micloud

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"misetup/api"
	"misetup/flows"
)

// Plan is what a sync covers now, from the device's settings and network.
type Plan struct {
	// Folders are the categories to sync, in the settings' order.
	Folders []Folder
	// Missing are chosen categories this computer has no folder for
	// (messages, call history; a category turned off in the config).
	Missing []string
	// Wait says why nothing syncs now ("" when it does): sync is off, or
	// Wi-Fi only is on and this computer is not on Wi-Fi.
	Wait flows.Text
	// Assumed says what was assumed about the network ("" when it was
	// known to be Wi-Fi or Wi-Fi only is off): a wired or unknown network
	// under Wi-Fi only.
	Assumed flows.Text
}

// PlanSync decides what a sync covers. force (misetup cloud sync, asked
// by the person) syncs even with auto-sync off; Wi-Fi only still holds on
// mobile data, and a wired or unknown network is taken as not metered (the
// plan says so).
func PlanSync(s api.SyncSettings, folders []Folder, network flows.NetworkKind, force bool) Plan {
	var p Plan
	for _, c := range s.Categories {
		if f, ok := FolderOf(folders, c); ok {
			p.Folders = append(p.Folders, f)
		} else {
			p.Missing = append(p.Missing, c)
		}
	}
	switch {
	case !s.AutoSync && !force:
		p.Wait = flows.T("cloud.wait.off")
	case s.WifiOnly && network == flows.NetworkMobile:
		p.Wait = flows.T("cloud.wait.mobile")
	case s.WifiOnly && network == flows.NetworkWired:
		p.Assumed = flows.T("cloud.assumed.wired")
	case s.WifiOnly && network == flows.NetworkUnknown:
		p.Assumed = flows.T("cloud.assumed.unknown")
	}
	if !p.Wait.IsZero() {
		p.Folders = nil
	}
	return p
}

// CategoryStatus is one category of misetup cloud status.
type CategoryStatus struct {
	Category  string
	Root      string    // its folder; "" when this computer has none
	LastSync  time.Time // zero: never synced here
	LastError string
	Items     int   // items synced here
	Pending   int   // changes here not sent yet (new, changed, deleted)
	Conflicts int   // conflict copies in the folder
	Used      int64 // bytes the account uses for it on the service
}

// Status reads the state of each category: what was synced and when,
// what waits to go up, and the conflict copies. used is the service's use
// by category (GET /v1/storage; nil when it could not be read).
func Status(stateDir string, folders []Folder, used map[string]int64) ([]CategoryStatus, error) {
	var out []CategoryStatus
	for _, c := range append(categories(folders), Unsupported...) {
		cs := CategoryStatus{Category: c, Used: used[c]}
		f, ok := FolderOf(folders, c)
		if !ok {
			out = append(out, cs)
			continue
		}
		cs.Root = f.Root
		if f.Only != "" {
			cs.Root = filepath.Join(f.Root, f.Only)
		}
		st, err := loadState(stateDir, c)
		if err != nil {
			return nil, err
		}
		cs.LastSync, cs.LastError, cs.Items = st.LastSync, st.LastError, len(st.Items)
		local, err := scan(f, st, false) // a status reads no file: what changed is pending
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			cs.LastError = err.Error()
		}
		for id, lf := range local {
			if base, ok := st.Items[id]; !ok || base.SHA256 != lf.SHA256 {
				cs.Pending++
			}
			if strings.Contains(filepath.Base(id), "(conflict from ") {
				cs.Conflicts++
			}
		}
		for id := range st.Items {
			if _, ok := local[id]; !ok {
				cs.Pending++ // deleted here
			}
		}
		out = append(out, cs)
	}
	return out, nil
}

// categories are the folders' categories, in order, once each.
func categories(fs []Folder) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.Category) {
			out = append(out, f.Category)
		}
	}
	return out
}

// Backup is what the service keeps of one category, for the restore step:
// how many items and how many bytes.
type Backup struct {
	Category string
	Items    int
	Bytes    int64
}

// Backups reads what the account has in Mi Cloud for each category of fs
// (all its changes from the start, without their data: the items not
// deleted that the folder can hold).
func Backups(ctx context.Context, r Remote, fs []Folder) ([]Backup, error) {
	var out []Backup
	for _, f := range fs {
		b := Backup{Category: f.Category}
		live := map[string]int64{}
		var cursor int64
		for {
			ch, err := r.ChangesWithoutData(ctx, f.Category, cursor, changesPage)
			if err != nil {
				return nil, err
			}
			for _, it := range ch.Items {
				if it.Deleted || !f.Has(it.ID) {
					delete(live, it.ID)
				} else {
					live[it.ID] = it.Size
				}
			}
			cursor = ch.Cursor
			if !ch.More || len(ch.Items) == 0 {
				break
			}
		}
		for _, n := range live {
			b.Items++
			b.Bytes += n
		}
		if b.Items > 0 {
			out = append(out, b)
		}
	}
	return out, nil
}
