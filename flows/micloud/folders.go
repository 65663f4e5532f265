// Package micloud is Mi Cloud on a computer: each sync category is a folder
// of real files (contacts as .vcf, calendar as .ics, notes as .md and .txt,
// the gallery's pictures, the recorder's recordings, bookmarks exported as
// HTML), synced both ways with the account's items on the service. A change
// made on both sides keeps both: the local one as a copy named after this
// device. Nothing is lost, and a stale write is never made (every change is
// sent with the version it was based on).
//
// It is plain Go over a Remote (*client.Client satisfies it) and the files:
// no terminal, no HTTP. misetup cloud, misetup agent and the wizard's
// restore step drive it.
package micloud

import (
	"path/filepath"
	"slices"
	"strings"

	"misetup/api"
	"misetup/flows"
)

// Folder is where a category's items live on this computer.
type Folder struct {
	Category string
	// Root is the folder (or, for the browser, the exported bookmarks file's
	// folder); "" when the category is not synced on this computer.
	Root string
	// Exts are the file name extensions of its items, lower case with the
	// dot; a file with another one is not an item.
	Exts []string
	// Only, when set, is the one file of the category (the browser's
	// exported bookmarks.html): its name within Root.
	Only string
}

// Files reports whether the category's items are files sent as blobs
// (gallery, recorder), not small items carried inline.
func (f Folder) Files() bool { return slices.Contains(api.FileCategories, f.Category) }

// Has reports whether name is one of the folder's items by its name.
func (f Folder) Has(name string) bool {
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") || strings.HasSuffix(base, partialSuffix) {
		return false // hidden files, and downloads in progress
	}
	if f.Only != "" {
		return name == f.Only
	}
	return slices.Contains(f.Exts, strings.ToLower(filepath.Ext(name)))
}

// Dirs are the computer's folders the default folders are made from: the
// home and the XDG user dirs (main reads them; "" when unknown).
type Dirs struct {
	Home, Documents, Pictures, Music string
}

// DefaultFolders are the categories' folders on a computer, from dirs;
// overrides (category → path) replace a root ("" turns a category off).
// Messages and call history have no folder: a computer has neither.
func DefaultFolders(dirs Dirs, overrides map[string]string) []Folder {
	or := func(dir, sub string) string {
		if dir == "" {
			if dirs.Home == "" {
				return ""
			}
			return filepath.Join(dirs.Home, sub)
		}
		return dir
	}
	home := func(sub string) string {
		if dirs.Home == "" {
			return ""
		}
		return filepath.Join(dirs.Home, sub)
	}
	notes := or(dirs.Documents, "Documents")
	if notes != "" {
		notes = filepath.Join(notes, "Notes")
	}
	recordings := or(dirs.Music, "Music")
	if recordings != "" {
		recordings = filepath.Join(recordings, "Recordings")
	}
	fs := []Folder{
		{Category: "contacts", Root: home("Contacts"), Exts: []string{".vcf"}},
		{Category: "calendar", Root: home("Calendar"), Exts: []string{".ics"}},
		{Category: "notes", Root: notes, Exts: []string{".md", ".txt"}},
		{Category: "gallery", Root: or(dirs.Pictures, "Pictures"), Exts: []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".mp4", ".mov"}},
		{Category: "recorder", Root: recordings, Exts: []string{".m4a", ".mp3", ".wav", ".ogg", ".opus", ".flac", ".aac"}},
		{Category: "browser", Root: home(""), Only: "bookmarks.html"},
	}
	for i, f := range fs {
		if p, ok := overrides[f.Category]; ok {
			if f.Only != "" && p != "" {
				fs[i].Root, fs[i].Only = filepath.Dir(p), filepath.Base(p)
			} else {
				fs[i].Root = p
			}
		}
	}
	return fs
}

// Unsupported are the categories a computer does not have: the Mi Cloud
// screen says so instead of pretending to sync them.
var Unsupported = flows.PhoneOnly

// FolderOf returns the folder of category among fs.
func FolderOf(fs []Folder, category string) (Folder, bool) {
	for _, f := range fs {
		if f.Category == category && f.Root != "" {
			return f, true
		}
	}
	return Folder{}, false
}
