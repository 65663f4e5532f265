package web

import (
	"os"
	"strings"
	"testing"
)

// TestEveryPageParses: the templates parse (the portal parses them at its
// first page, not at start), one page for each file.
func TestEveryPageParses(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir("templates")
	for _, f := range files {
		if name := strings.TrimSuffix(f.Name(), ".html"); name != "layout" && pages[name] == nil {
			t.Errorf("no page %s", name)
		}
	}
}
