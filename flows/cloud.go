package flows

import (
	"context"
	"slices"

	"misetup/api"
)

// Cloud is what the Mi Cloud and Find Device steps need from the service;
// *client.Client satisfies it.
type Cloud interface {
	Sync(ctx context.Context, deviceID string) (api.SyncSettings, error)
	SetSync(ctx context.Context, deviceID string, s api.SyncSettings) (api.SyncSettings, error)
	Storage(ctx context.Context) (api.Storage, error)
	FindDevices
	RenameDevice(ctx context.Context, id, name string) (api.Device, error)
}

// FindDevices reads and sets Find Device for a device.
type FindDevices interface {
	FindDevice(ctx context.Context, deviceID string) (api.FindDevice, error)
	SetFindDevice(ctx context.Context, deviceID string, enabled bool) (api.FindDevice, error)
}

// PhoneOnly are the sync categories a computer has no data of: a phone's
// messages and call history. A computer's Mi Cloud screen says so, and
// misetup cloud syncs nothing for them.
var PhoneOnly = []string{"messages", "call_history"}

// DefaultCategories are preselected for a device that never saved its sync
// settings: the ones the guide names.
var defaultCategories = []string{"contacts", "messages", "gallery", "notes", "calendar"}

// SyncChoice is what the Mi Cloud step shows and saves.
type SyncChoice struct {
	Settings api.SyncSettings
	Storage  api.Storage
	// WifiOnlyRecommended is true when the network check saw mobile data.
	WifiOnlyRecommended bool
	// Saved is true when the device had saved settings before.
	Saved bool
}

// LoadSync reads the device's sync settings and the account's storage. A
// device that never saved settings gets the wizard's defaults: sync on, the
// guide's categories, and Wi-Fi only when on mobile data.
func LoadSync(ctx context.Context, c Cloud, deviceID string, network NetworkKind) (SyncChoice, error) {
	s, err := c.Sync(ctx, deviceID)
	if err != nil {
		return SyncChoice{}, Explain(wrap("read sync settings", err))
	}
	st, err := c.Storage(ctx)
	if err != nil {
		return SyncChoice{}, Explain(wrap("read storage", err))
	}
	ch := SyncChoice{Settings: s, Storage: st, WifiOnlyRecommended: network == NetworkMobile, Saved: s.UpdatedAt != nil}
	if !ch.Saved {
		ch.Settings = api.SyncSettings{AutoSync: true, Categories: slices.Clone(defaultCategories), WifiOnly: network == NetworkMobile}
	}
	ch.Settings.Categories = orderCategories(ch.Settings.Categories)
	return ch, nil
}

// SaveSync saves the sync settings for this device. Sync on with no category
// is refused (ErrKeyNoCategories): turn sync off instead.
func SaveSync(ctx context.Context, c Cloud, deviceID string, s api.SyncSettings) (api.SyncSettings, error) {
	s.Categories = orderCategories(s.Categories)
	if s.AutoSync && len(s.Categories) == 0 {
		return api.SyncSettings{}, userErr(ErrKeyNoCategories, nil)
	}
	s.UpdatedAt = nil
	out, err := c.SetSync(ctx, deviceID, s)
	if err != nil {
		return api.SyncSettings{}, Explain(wrap("save sync settings", err))
	}
	return out, nil
}

// WifiOnlyWarning is what "Sync over Wi-Fi only" means for settings s on
// a device whose network is kind (through iface): nothing syncs over a
// cable, and maybe nothing on a network that could not be told to be
// Wi-Fi. Zero when there is nothing to say: Wi-Fi only is off, sync is
// off, the device is on Wi-Fi, or on mobile data, where Wi-Fi only is what
// the guide recommends (sync waits for Wi-Fi). The wizard says it when the
// setting is chosen and on the summary; the doctor says the same.
func WifiOnlyWarning(s api.SyncSettings, kind NetworkKind, iface string) Text {
	if !s.AutoSync || !s.WifiOnly {
		return Text{}
	}
	switch kind {
	case NetworkWired, NetworkUnknown:
		return T("ts.sync.wifi_only."+string(kind), "iface", iface)
	}
	return Text{}
}

// orderCategories keeps the known categories, once each, in the guide's order.
func orderCategories(in []string) []string {
	out := []string{}
	for _, c := range api.Categories {
		if slices.Contains(in, c) {
			out = append(out, c)
		}
	}
	return out
}

// LoadFindDevice reads whether Find Device is on for this device.
func LoadFindDevice(ctx context.Context, c FindDevices, deviceID string) (api.FindDevice, error) {
	f, err := c.FindDevice(ctx, deviceID)
	if err != nil {
		return api.FindDevice{}, Explain(wrap("read find device", err))
	}
	return f, nil
}

// SaveFindDevice turns Find Device on or off for a device.
func SaveFindDevice(ctx context.Context, c FindDevices, deviceID string, enabled bool) (api.FindDevice, error) {
	f, err := c.SetFindDevice(ctx, deviceID, enabled)
	if err != nil {
		return api.FindDevice{}, Explain(wrap("save find device", err))
	}
	return f, nil
}

// RenameDevice renames a linked device (this one when its name changed
// after it was linked, or any from the hub), the name cleaned as the device
// step cleans it.
func RenameDevice(ctx context.Context, c interface {
	RenameDevice(ctx context.Context, id, name string) (api.Device, error)
}, deviceID, name string) (api.Device, error) {
	clean, err := ValidateDevice(DeviceInfo{Name: name})
	if err != nil {
		return api.Device{}, err
	}
	d, err := c.RenameDevice(ctx, deviceID, clean.Name)
	if err != nil {
		return api.Device{}, Explain(wrap("rename device", err))
	}
	return d, nil
}
