package assets

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

func placeholders(s string) string {
	p := placeholderRE.FindAllString(s, -1)
	slices.Sort(p)
	return strings.Join(slices.Compact(p), " ")
}

// TestCatalogsComplete checks every language has every key of English,
// with the same placeholders, and no other keys.
func TestCatalogsComplete(t *testing.T) {
	en, err := readCatalog(DefaultLanguage)
	if err != nil {
		t.Fatal(err)
	}
	if len(en) < 300 {
		t.Fatalf("English catalog has only %d keys", len(en))
	}
	for _, lang := range Languages()[1:] {
		other, err := readCatalog(lang)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range en {
			o, ok := other[k]
			switch {
			case !ok:
				t.Errorf("%s lacks %q", lang, k)
			case strings.TrimSpace(o) == "" && strings.TrimSpace(v) != "":
				t.Errorf("%s %q is empty", lang, k)
			case placeholders(o) != placeholders(v):
				t.Errorf("%s %q has placeholders %q, English %q", lang, k, placeholders(o), placeholders(v))
			}
		}
		for k := range other {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, k)
			}
		}
	}
}

func TestLanguages(t *testing.T) {
	if got := Languages(); !slices.Equal(got, []string{"en", "zh-CN"}) {
		t.Fatalf("Languages() = %v", got)
	}
	for in, want := range map[string]string{
		"zh_CN.UTF-8": "zh-CN", "zh-Hans": "zh-CN", "zh": "zh-CN", "en_GB.UTF-8": "en",
		"C": "", "POSIX": "", "": "", "fr_FR.UTF-8": "", "ZH-cn": "zh-CN",
	} {
		if got := MatchLanguage(in); got != want {
			t.Errorf("MatchLanguage(%q) = %q, want %q", in, got, want)
		}
	}
	c := MustLoad("fr")
	if c.Lang() != "en" || c.T("step.welcome.title") != "Welcome" {
		t.Fatalf("unknown language fell back to %s: %q", c.Lang(), c.T("step.welcome.title"))
	}
	zh := MustLoad("zh_CN.UTF-8")
	if zh.T("app.step", "n", 2, "m", 8) != "第 2 步，共 8 步" {
		t.Fatalf("zh app.step = %q", zh.T("app.step", "n", 2, "m", 8))
	}
	if got := zh.T("no.such.key"); got != "no.such.key" {
		t.Fatalf("missing key shows %q, want the key", got)
	}
}

func TestPalettes(t *testing.T) {
	light, dark, err := Palettes()
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Palette{"light": light, "dark": dark} {
		for _, c := range []string{p.Accent, p.Text, p.Muted, p.Subtle, p.OK, p.Warn, p.Fail, p.Cursor, p.Inverse} {
			if !regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`).MatchString(c) {
				t.Errorf("%s palette has colour %q", name, c)
			}
		}
	}
	if light.Text == dark.Text {
		t.Error("light and dark palettes share their text colour")
	}
}
