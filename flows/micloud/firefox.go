package micloud

import (
	"database/sql"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // Firefox keeps its bookmarks in SQLite
)

// ExportFirefoxBookmarks writes the bookmarks of this computer's Firefox
// (the places.sqlite of its most recently used profile under home) to dst
// as a bookmarks file in the format browsers export and import, when dst
// does not exist yet: the browser category's item on a computer where no
// bookmarks were exported by hand. It reports whether it wrote one; no
// Firefox is not an error.
//
// Firefox holds its database open, so a copy of it is read, never the
// file itself: misetup never writes to Firefox's data.
func ExportFirefoxBookmarks(home, dst string) (bool, error) {
	if _, err := os.Stat(dst); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	places := newestPlaces(filepath.Join(home, ".mozilla", "firefox"))
	if places == "" {
		return false, nil
	}
	tmp, err := os.MkdirTemp("", "misetup-places")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	// The copy takes the write-ahead log with it: what Firefox wrote
	// lately is there, not yet in the file.
	cp := filepath.Join(tmp, "places.sqlite")
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(places+suffix, cp+suffix); err != nil && (suffix == "" || !errors.Is(err, fs.ErrNotExist)) {
			return false, fmt.Errorf("read Firefox's bookmarks: %w", err)
		}
	}
	db, err := sql.Open("sqlite", cp)
	if err != nil {
		return false, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT COALESCE(b.title, ''), p.url, COALESCE(b.dateAdded, 0)
		FROM moz_bookmarks b JOIN moz_places p ON p.id = b.fk
		WHERE b.type = 1 AND p.url NOT LIKE 'place:%' ORDER BY b.dateAdded, b.id`)
	if err != nil {
		return false, fmt.Errorf("read Firefox's bookmarks: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	b.WriteString("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=UTF-8\">\n" +
		"<TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n<DL><p>\n")
	n := 0
	for rows.Next() {
		var title, url string
		var added int64
		if err := rows.Scan(&title, &url, &added); err != nil {
			return false, err
		}
		fmt.Fprintf(&b, "    <DT><A HREF=\"%s\" ADD_DATE=\"%d\">%s</A>\n", html.EscapeString(url), added/1e6, html.EscapeString(title))
		n++
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	b.WriteString("</DL><p>\n")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, err
	}
	if err := os.WriteFile(dst+partialSuffix, []byte(b.String()), 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(dst+partialSuffix, dst)
}

// newestPlaces is the places.sqlite of the profile used last under dir
// ("" when none).
func newestPlaces(dir string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "places.sqlite"))
	best, bestTime := "", int64(0)
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.ModTime().UnixNano() > bestTime {
			best, bestTime = m, fi.ModTime().UnixNano()
		}
	}
	return best
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
