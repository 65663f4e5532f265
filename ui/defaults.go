package ui

import (
	"slices"

	"misetup/assets"
	"misetup/flows"
)

// Defaults are the answers a store or an administrator decided beforehand
// ([defaults] in the config file, or misetup --answers FILE). Each one
// pre-fills its question, which the person can still change, and the
// wizard says, beside it, that the store set it. The zero value of a
// field leaves its question as it is without defaults. What only the
// person can answer (identifier, password, code) is never among them.
type Defaults struct {
	// Lang is the language the welcome starts in: below a language asked
	// for (--lang) and the one chosen in a saved run, above the locale.
	Lang string
	// Region is the phone number's country, an ISO 3166 code ("CN").
	Region string
	// Categories are what Mi Cloud syncs (api.Categories names); nil
	// leaves the wizard's own choice. Pre-filled, with WifiOnly, only on a
	// device with no sync settings saved.
	Categories []string
	// WifiOnly is "Sync over Wi-Fi only"; nil leaves the wizard's choice.
	WifiOnly *bool
	// FindDevice is Find Device's starting value; nil leaves it on.
	FindDevice *bool
	// DeviceName is this device's name, already expanded; "" leaves the
	// system's host name.
	DeviceName string
}

// defaults are the store's defaults, or the zero value when none.
func (sh *shared) defaults() Defaults {
	if d := sh.opts.Defaults; d != nil {
		return *d
	}
	return Defaults{}
}

// byStore is the short note beside an answer the store set ("(set by the
// store)"), unstyled: the full screen draws it muted.
func (sh *shared) byStore() string { return sh.T("defaults.by_store") }

// defaultRegion is the phone picker's country before the person picks
// one: the store's, else the locale's or the language's.
func (sh *shared) defaultRegion() string {
	if r := sh.defaults().Region; r != "" {
		return r
	}
	return flows.DefaultRegion(firstNonEmpty(sh.opts.Locale, sh.tr.Lang()))
}

// applySyncDefaults pre-fills c with the store's sync defaults when the
// device has no settings saved (a device's own choice beats the store's).
func (sh *shared) applySyncDefaults(c *flows.SyncChoice) {
	d := sh.defaults()
	if c.Saved {
		return
	}
	if d.Categories != nil {
		c.Settings.Categories = slices.Clone(d.Categories)
		c.Settings.AutoSync = len(d.Categories) > 0 // none to sync: sync off
	}
	if d.WifiOnly != nil {
		c.Settings.WifiOnly = *d.WifiOnly
	}
}

// regionByStore is the note beside the phone's country while it is the
// store's; "" when not.
func (sh *shared) regionByStore(code string) string {
	if r := sh.defaults().Region; r != "" && r == code {
		return sh.byStore()
	}
	return ""
}

// langByStore is the note beside the language while it is the store's and
// nobody asked for another one; "" when not.
func (sh *shared) langByStore(lang string) string {
	d := sh.defaults()
	if d.Lang != "" && assets.MatchLanguage(sh.opts.Lang) == "" && assets.MatchLanguage(d.Lang) == lang {
		return sh.byStore()
	}
	return ""
}

// withNote is text and, when note is not "", note beside it, muted.
func (sh *shared) withNote(text, note string) string {
	if note == "" {
		return text
	}
	return text + "  " + sh.st.Muted.Render(note)
}

// joinNote is plain mode's text with a note after it ("" when none): the
// question and where its answer came from, read together.
func joinNote(text, note string) string {
	if note == "" {
		return text
	}
	return text + " " + note
}
