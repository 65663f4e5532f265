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
			case !ok && strings.HasSuffix(k, PluralOne):
				// A singular form is optional: a language without one uses the key itself.
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

// TestPlurals checks that "n" = 1 picks a key's singular form where the
// language has one, and that every singular form has its plural beside it.
func TestPlurals(t *testing.T) {
	en, zh := MustLoad("en"), MustLoad("zh-CN")
	for _, tc := range []struct {
		c    *Catalog
		n    int
		want string
	}{
		{en, 1, "1 attempt left"}, {en, 2, "2 attempts left"}, {en, 0, "0 attempts left"},
		{zh, 1, "还可尝试 1 次"}, {zh, 4, "还可尝试 4 次"},
	} {
		if got := tc.c.T("code.attempts_left", "n", tc.n); got != tc.want {
			t.Errorf("%s code.attempts_left n=%d: %q, want %q", tc.c.Lang(), tc.n, got, tc.want)
		}
	}
	for _, c := range []*Catalog{en, zh} {
		for _, k := range c.Keys() {
			if base, ok := strings.CutSuffix(k, PluralOne); ok && !c.Has(base) {
				t.Errorf("%s has %q but not %q", c.Lang(), k, base)
			}
		}
	}
}

// TestChineseAccountWord checks the Chinese texts write 账号 (the word the
// service's messages use), never the variant 帐号.
func TestChineseAccountWord(t *testing.T) {
	zh := MustLoad("zh-CN")
	for _, k := range zh.Keys() {
		if strings.Contains(zh.T(k), "帐") {
			t.Errorf("zh-CN %q: %q writes 帐号; write 账号", k, zh.T(k))
		}
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

func TestNameIsTheCatalogsName(t *testing.T) {
	for _, l := range Languages() {
		if got, want := Name(l), MustLoad(l).T("lang.name"); got != want || got == "lang.name" {
			t.Errorf("Name(%q) = %q, catalog says %q", l, got, want)
		}
	}
	if got := Name("xx"); got != Name(DefaultLanguage) {
		t.Errorf("Name(xx) = %q, want the default language's", got)
	}
}

func TestLoadParsesOnce(t *testing.T) {
	a, b := MustLoad("zh_CN.UTF-8"), MustLoad("zh-CN")
	if a != b {
		t.Error("two loads of one language parsed it twice")
	}
	if MustLoad("en") == a {
		t.Error("en and zh-CN share a catalog")
	}
}
