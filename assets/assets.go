// Package assets holds what the wizard embeds: the text catalogs of every
// language (assets/locales) and the colour palette, with typed accessors. It
// has no terminal dependency: the ui package turns the palette into styles.
package assets

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

//go:embed locales palette.json words
var files embed.FS

// Catalog is the texts of one language, by key. A Catalog is read-only after
// Load and safe for concurrent use.
type Catalog struct {
	lang  string
	texts map[string]string
}

// DefaultLanguage is the language used when nothing else matches.
const DefaultLanguage = "en"

// Languages returns the tags of the embedded catalogs, the default first.
func Languages() []string {
	entries, err := fs.ReadDir(files, "locales")
	if err != nil {
		return []string{DefaultLanguage}
	}
	langs := []string{DefaultLanguage}
	for _, e := range entries {
		if e.IsDir() {
			continue // a part's own texts, merged by readCatalog
		}
		tag := strings.TrimSuffix(e.Name(), ".json")
		if tag != DefaultLanguage {
			langs = append(langs, tag)
		}
	}
	return langs
}

// MatchLanguage maps a language tag or a POSIX locale ("zh_CN.UTF-8",
// "zh-Hans", "en_GB") onto an embedded catalog, or "" when none fits.
func MatchLanguage(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, ".@"); i >= 0 {
		tag = tag[:i]
	}
	tag = strings.ReplaceAll(tag, "_", "-")
	if tag == "" || tag == "C" || tag == "POSIX" {
		return ""
	}
	langs := Languages()
	for _, l := range langs {
		if strings.EqualFold(l, tag) {
			return l
		}
	}
	base, _, _ := strings.Cut(tag, "-")
	for _, l := range langs {
		lb, _, _ := strings.Cut(l, "-")
		if strings.EqualFold(lb, base) {
			return l
		}
	}
	return ""
}

// Load returns the catalog of lang (matched with MatchLanguage), falling back
// to the default language. Keys missing from lang fall back to the default
// catalog, so a partial translation still shows every text.
//
// A language's files are parsed once, at its first Load, and the catalog is
// shared by every later Load of it: a program that speaks one language
// never parses the others.
func Load(lang string) (*Catalog, error) {
	m := MatchLanguage(lang)
	if m == "" {
		m = DefaultLanguage
	}
	once, _ := loaded.LoadOrStore(m, sync.OnceValues(func() (*Catalog, error) { return load(m) }))
	return once.(func() (*Catalog, error))()
}

// loaded holds, by language, the func that parses its catalog once.
var loaded sync.Map

// load parses the catalog of an embedded language, m.
func load(m string) (*Catalog, error) {
	def, err := readCatalog(DefaultLanguage)
	if err != nil {
		return nil, err
	}
	if m == DefaultLanguage {
		return &Catalog{lang: DefaultLanguage, texts: def}, nil
	}
	texts, err := readCatalog(m)
	if err != nil {
		return nil, err
	}
	for k, v := range def {
		if strings.HasSuffix(k, PluralOne) {
			continue // English's singular forms are not the other language's
		}
		if _, ok := texts[k]; !ok {
			texts[k] = v
		}
	}
	return &Catalog{lang: m, texts: texts}, nil
}

// MustLoad is Load for the embedded catalogs, which are checked by tests; it
// falls back to an empty catalog (keys shown as-is) rather than panicking.
func MustLoad(lang string) *Catalog {
	c, err := Load(lang)
	if err != nil {
		return &Catalog{lang: DefaultLanguage, texts: map[string]string{}}
	}
	return c
}

// Name is a language's name in its own words ("English", "简体中文"): its
// catalog's "lang.name". It reads that one text, not the whole catalog, so
// that a list of the languages parses none of them.
func Name(lang string) string {
	m := MatchLanguage(lang)
	if m == "" {
		m = DefaultLanguage
	}
	if n, ok := names.Load(m); ok {
		return n.(string)
	}
	n := readName(m)
	names.Store(m, n)
	return n
}

// names are the languages' names read so far, by tag.
var names sync.Map

// readName reads the name of the language m (a catalog's tag).
func readName(m string) string {
	if once, ok := loaded.Load(m); ok {
		if c, err := once.(func() (*Catalog, error))(); err == nil {
			return c.T(nameKey)
		}
	}
	b, err := files.ReadFile(path.Join("locales", m+".json"))
	if err != nil {
		return m
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return m
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return m
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return m
		}
		if k == nameKey {
			return v
		}
	}
	return m
}

const nameKey = "lang.name"

// readCatalog reads locales/<lang>.json and merges locales/*/<lang>.json over
// it, so a part of the product (troubleshooting, say) can keep its texts in a
// folder of its own.
func readCatalog(lang string) (map[string]string, error) {
	names := []string{path.Join("locales", lang+".json")}
	if extra, err := fs.Glob(files, path.Join("locales", "*", lang+".json")); err == nil {
		names = append(names, extra...)
	}
	texts := map[string]string{}
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("locale %s: %w", lang, err)
		}
		if err := json.Unmarshal(b, &texts); err != nil {
			return nil, fmt.Errorf("locale %s (%s): %w", lang, name, err)
		}
	}
	return texts, nil
}

// Lang is the catalog's language tag, e.g. "en" or "zh-CN".
func (c *Catalog) Lang() string { return c.lang }

// Has reports whether the catalog has key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.texts[key]
	return ok
}

// Keys returns every key, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.texts))
	for k := range c.texts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// T returns the text of key with its placeholders filled: args are name,
// value pairs, and "{name}" in the text becomes fmt.Sprint(value). A missing
// key returns the key itself, so it is visible rather than blank.
//
// Plurals: when the argument n is 1 and the catalog has key+".one", that
// text is used ("1 attempt left", not "1 attempts left"); languages without
// a singular form (Chinese) simply have no ".one" keys.
func (c *Catalog) T(key string, args ...any) string {
	s, ok := c.lookup(key, args)
	if !ok {
		return key
	}
	return fill(s, args)
}

// TOr is T, or fallback (filled the same way) when key is missing.
func (c *Catalog) TOr(key, fallback string, args ...any) string {
	if s, ok := c.lookup(key, args); ok {
		return fill(s, args)
	}
	return fill(fallback, args)
}

// lookup finds the text of key, its singular form when args say n is 1.
func (c *Catalog) lookup(key string, args []any) (string, bool) {
	if isOne(args) {
		if s, ok := c.texts[key+PluralOne]; ok {
			return s, true
		}
	}
	s, ok := c.texts[key]
	return s, ok
}

// PluralOne is the suffix of a key's singular form.
const PluralOne = ".one"

// isOne reports whether the argument named n is the number 1.
func isOne(args []any) bool {
	for i := 0; i+1 < len(args); i += 2 {
		if fmt.Sprint(args[i]) == "n" {
			return fmt.Sprint(args[i+1]) == "1"
		}
	}
	return false
}

func fill(s string, args []any) string {
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Words returns the words of the languages written without spaces
// (Chinese), from words/*.txt: one word a line, "#" starts a comment. Text
// is wrapped between these words and never inside one, so 日历 is never
// split across two lines. A test checks that every Chinese text of the
// catalogs is made of these words, so a new text cannot bring in an unknown
// word unnoticed.
func Words() []string {
	names, _ := fs.Glob(files, "words/*.txt")
	var out []string
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l, _, _ = strings.Cut(l, "#"); strings.TrimSpace(l) != "" {
				out = append(out, strings.TrimSpace(l))
			}
		}
	}
	return out
}

// Palette is the wizard's colours as hex strings ("#RRGGBB"), one variant for
// light and one for dark terminal backgrounds. ui builds its styles from it.
type Palette struct {
	Accent  string `json:"accent"`  // titles, the focused field, the selected option
	Text    string `json:"text"`    // body text
	Muted   string `json:"muted"`   // hints, help, secondary text
	Subtle  string `json:"subtle"`  // rules and borders
	OK      string `json:"ok"`      // a passed check
	Warn    string `json:"warn"`    // a warning
	Fail    string `json:"fail"`    // a failure, an error
	Cursor  string `json:"cursor"`  // the text cursor
	Inverse string `json:"inverse"` // text on an Accent background (buttons)
}

// Palettes returns the light and the dark palette.
func Palettes() (light, dark Palette, err error) {
	p, err := palettes()
	return p[0], p[1], err
}

// palettes parses palette.json once: the light palette, then the dark.
var palettes = sync.OnceValues(func() ([2]Palette, error) {
	b, err := files.ReadFile("palette.json")
	if err != nil {
		return [2]Palette{}, fmt.Errorf("palette: %w", err)
	}
	var p struct {
		Light Palette `json:"light"`
		Dark  Palette `json:"dark"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return [2]Palette{}, fmt.Errorf("palette: %w", err)
	}
	return [2]Palette{p.Light, p.Dark}, nil
})

// PaletteFor returns the palette for a dark (true) or light background,
// falling back to a built-in one if the embedded file cannot be read.
func PaletteFor(dark bool) Palette {
	l, d, err := Palettes()
	if err != nil {
		l = Palette{Accent: "#D9480F", Text: "#1F1F1F", Muted: "#6B6B6B", Subtle: "#C8C8C8", OK: "#2B8A3E", Warn: "#B35C00", Fail: "#C92A2A", Cursor: "#D9480F", Inverse: "#FFFFFF"}
		d = Palette{Accent: "#FF8A3D", Text: "#E8E8E8", Muted: "#9A9A9A", Subtle: "#4A4A4A", OK: "#69DB7C", Warn: "#FFC078", Fail: "#FF6B6B", Cursor: "#FF8A3D", Inverse: "#1A1A1A"}
	}
	if dark {
		return d
	}
	return l
}
