package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
	"misetup/ui"
)

// defaultsConfig is the [defaults] table, and the answers file of
// misetup --answers FILE: the answers a store or an administrator decides
// beforehand. Each pre-fills its question; the person can still change it,
// and the wizard says it came from the store. What only the person can
// answer (identifier, password, code) has no key. A key left out leaves
// its question as it is.
type defaultsConfig struct {
	// Lang is the language the welcome starts in (en, zh-CN): it beats the
	// locale, not --lang or the language chosen in a saved run.
	Lang string `toml:"lang"`
	// Region is the phone number's country, an ISO 3166 code ("CN", "DE").
	Region string `toml:"region"`
	// SyncCategories are what Mi Cloud syncs: names of api.Categories
	// (contacts, messages, gallery, notes, calendar, call_history,
	// recorder, browser); [] turns sync off. With WifiOnly, pre-filled
	// only on a device with no sync settings saved.
	SyncCategories *[]string `toml:"sync_categories"`
	// WifiOnly is "Sync over Wi-Fi only".
	WifiOnly *bool `toml:"wifi_only"`
	// FindDevice is Find Device's starting value (on without it).
	FindDevice *bool `toml:"find_device"`
	// DeviceName is this device's name, a pattern: {hostname} is the
	// machine's host name, {kiosk} the kiosk id (the [kiosk] id, an SSH
	// terminal's name; the host name outside kiosk mode), as in
	// "Store 7 {kiosk}".
	DeviceName string `toml:"device_name"`
}

// answersFile is what --answers FILE holds: the [defaults] keys at the top
// level, or under [defaults] (a store config's table copied as it is), not
// both.
type answersFile struct {
	defaultsConfig
	Defaults *defaultsConfig `toml:"defaults"`
}

// loadAnswers reads an answers file; its keys are checked as the config's
// are.
func loadAnswers(path string) (defaultsConfig, error) {
	var f answersFile
	md, err := toml.DecodeFile(path, &f)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return defaultsConfig{}, fmt.Errorf("answers file %s: no such file", path)
	case err != nil:
		return defaultsConfig{}, fmt.Errorf("answers file %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return defaultsConfig{}, fmt.Errorf("answers file %s: unknown setting %q", path, undecoded[0].String())
	}
	d := f.defaultsConfig
	if f.Defaults != nil {
		if d != (defaultsConfig{}) {
			return defaultsConfig{}, fmt.Errorf("answers file %s: the keys either at the top or under [defaults], not both", path)
		}
		d = *f.Defaults
	}
	if err := d.check(); err != nil {
		return defaultsConfig{}, fmt.Errorf("answers file %s: %w", path, err)
	}
	return d, nil
}

// over is d with the keys o sets replacing its own (an answers file over
// the config's [defaults]).
func (d defaultsConfig) over(o defaultsConfig) defaultsConfig {
	if o.Lang != "" {
		d.Lang = o.Lang
	}
	if o.Region != "" {
		d.Region = o.Region
	}
	if o.SyncCategories != nil {
		d.SyncCategories = o.SyncCategories
	}
	if o.WifiOnly != nil {
		d.WifiOnly = o.WifiOnly
	}
	if o.FindDevice != nil {
		d.FindDevice = o.FindDevice
	}
	if o.DeviceName != "" {
		d.DeviceName = o.DeviceName
	}
	return d
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// check refuses a value the wizard could not pre-fill, naming its key.
func (d defaultsConfig) check() error {
	if d.Lang != "" && assets.MatchLanguage(d.Lang) == "" {
		return fmt.Errorf("lang %q: want %s", d.Lang, strings.Join(assets.Languages(), " or "))
	}
	if d.Region != "" && !slices.ContainsFunc(flows.Regions(), func(r flows.Region) bool { return strings.EqualFold(r.Code, d.Region) }) {
		return fmt.Errorf("region %q: want a country's ISO 3166 code the phone picker has, such as CN, DE or US", d.Region)
	}
	if d.SyncCategories != nil {
		seen := map[string]bool{}
		for _, c := range *d.SyncCategories {
			switch {
			case !slices.Contains(api.Categories, c):
				return fmt.Errorf("sync_categories: unknown category %q: want some of %s", c, strings.Join(api.Categories, ", "))
			case seen[c]:
				return fmt.Errorf("sync_categories: %q twice", c)
			}
			seen[c] = true
		}
	}
	if d.DeviceName != "" {
		for _, p := range placeholder.FindAllString(d.DeviceName, -1) {
			if p != "{hostname}" && p != "{kiosk}" {
				return fmt.Errorf("device_name %q: unknown %s: want {hostname} or {kiosk}", d.DeviceName, p)
			}
		}
		if _, err := d.deviceName("host", "kiosk"); err != nil {
			return err
		}
	}
	return nil
}

// deviceName is the device_name pattern with hostname and kiosk put in,
// as the device step takes it; "" when no pattern is set.
func (d defaultsConfig) deviceName(hostname, kiosk string) (string, error) {
	if d.DeviceName == "" {
		return "", nil
	}
	name := strings.NewReplacer("{hostname}", hostname, "{kiosk}", kiosk).Replace(d.DeviceName)
	if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) || len([]rune(name)) > 64 {
		return "", fmt.Errorf("device_name %q: one line of at most 64 characters", d.DeviceName)
	}
	if v, err := flows.ValidateDevice(flows.DeviceInfo{Name: name}); err != nil || v.Name != name {
		return "", fmt.Errorf("device_name %q: not a device name (empty, or characters a terminal cannot show)", d.DeviceName)
	}
	return name, nil
}

// ui is the defaults as the wizard takes them, for the terminal named
// kiosk; nil when no key is set.
func (d defaultsConfig) ui(kiosk string) (*ui.Defaults, error) {
	if d == (defaultsConfig{}) {
		return nil, nil
	}
	host, err := os.Hostname()
	if err != nil {
		host = "device"
	}
	if kiosk == "" {
		kiosk = host
	}
	name, err := d.deviceName(host, kiosk)
	if err != nil {
		return nil, err
	}
	out := &ui.Defaults{Lang: assets.MatchLanguage(d.Lang), Region: strings.ToUpper(d.Region), WifiOnly: d.WifiOnly, FindDevice: d.FindDevice, DeviceName: name}
	if d.SyncCategories != nil {
		out.Categories = append([]string{}, *d.SyncCategories...)
	}
	return out, nil
}
