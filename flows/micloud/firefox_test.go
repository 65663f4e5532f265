package micloud_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"misetup/flows/micloud"
)

// TestFirefoxBookmarks: a Firefox profile's places.sqlite (a real SQLite
// file with Firefox's two tables, left in WAL mode as a running Firefox
// leaves it) becomes the browser category's bookmarks file, once.
func TestFirefoxBookmarks(t *testing.T) {
	home := t.TempDir()
	dst := filepath.Join(home, "bookmarks.html")
	if wrote, err := micloud.ExportFirefoxBookmarks(home, dst); wrote || err != nil {
		t.Fatalf("no Firefox: %v %v", wrote, err)
	}
	profile := filepath.Join(home, ".mozilla", "firefox", "abcd1234.default-release")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(profile, "places.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`PRAGMA journal_mode=WAL`,
		`CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)`,
		`CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, type INTEGER, fk INTEGER, title TEXT, dateAdded INTEGER)`,
		`INSERT INTO moz_places VALUES (1, 'https://www.mi.com/'), (2, 'place:sort=8'), (3, 'https://example.com/?a=1&b=<2>')`,
		`INSERT INTO moz_bookmarks VALUES (1, 1, 1, 'Xiaomi', 1700000000000000), (2, 1, 2, 'Recent', 1), (3, 2, NULL, 'Folder', 2), (4, 1, 3, 'Tricky & <odd>', 1700000001000000)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	wrote, err := micloud.ExportFirefoxBookmarks(home, dst)
	if err != nil || !wrote {
		t.Fatalf("export: %v %v", wrote, err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"<!DOCTYPE NETSCAPE-Bookmark-file-1>", `<A HREF="https://www.mi.com/" ADD_DATE="1700000000">Xiaomi</A>`,
		`HREF="https://example.com/?a=1&amp;b=&lt;2&gt;"`, `>Tricky &amp; &lt;odd&gt;</A>`} {
		if !strings.Contains(got, want) {
			t.Errorf("the bookmarks file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "place:") || strings.Contains(got, "Folder") {
		t.Errorf("a query or a folder was taken as a bookmark:\n%s", got)
	}
	// Once there, it is the person's file: never written over.
	if wrote, _ := micloud.ExportFirefoxBookmarks(home, dst); wrote {
		t.Error("an existing bookmarks file was written over")
	}
}
