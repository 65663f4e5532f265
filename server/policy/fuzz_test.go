package policy_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"misetup/server/policy"
)

// fuzzRegions are the default countries FuzzParseIdentifier picks from.
var fuzzRegions = []string{"", "CN", "US", "GB", "IN", "DE", "XX"}

// FuzzParseIdentifier checks that no input makes ParseIdentifier panic, that
// an error is always an *InputError with a message, and that a normalised
// identifier parses again to the same kind and value.
func FuzzParseIdentifier(f *testing.F) {
	for _, s := range []string{"ann@example.com", "Ann <a@b.c>", "+86 138 0013 8000", "13800138000",
		"123456789", "2015550123", "1-800-FLOWERS", "ann@[1.2.3.4]", "é@bücher.de", "+８６ １３８"} {
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, s string, r uint8) {
		region := fuzzRegions[int(r)%len(fuzzRegions)]
		kind, id, err := policy.ParseIdentifier(s, region)
		if err != nil {
			if reason(err) == "?" || reason(err) == "no message" || reason(err) == "" {
				t.Fatalf("ParseIdentifier(%q, %q): error %v is not an InputError with a message", s, region, err)
			}
			return
		}
		if id == "" || !utf8.ValidString(id) {
			t.Fatalf("ParseIdentifier(%q, %q) = %q", s, region, id)
		}
		kind2, id2, err := policy.ParseIdentifier(id, region)
		if err != nil || kind2 != kind || id2 != id {
			t.Fatalf("%q (%q) -> %s %q, which re-parses to %s %q %v", s, region, kind, id, kind2, id2, err)
		}
		if kind == policy.KindEmail && policy.Sanitize(id) != id {
			t.Fatalf("email %q keeps characters Sanitize drops", id)
		}
	})
}

// FuzzPasswordCheck checks that Check never panics and that a password it
// accepts has at least 8 runes, a letter, a digit and a symbol.
func FuzzPasswordCheck(f *testing.F) {
	for _, s := range []string{"Tr0ub4dor&3x", "password", "p@ssw0rd", "", "aB3$efg", "密码很长很安全١٢!", "\xff\xfe1a!aaaaa"} {
		f.Add(s, "ann@example.com")
	}
	f.Add("13800138000", "+8613800138000")
	rules := policy.DefaultPasswordRules()
	f.Fuzz(func(t *testing.T, password, identifier string) {
		reasons := rules.Check(password, identifier)
		if reasons != nil {
			return
		}
		if utf8.RuneCountInString(password) < 8 {
			t.Fatalf("accepted %q with fewer than 8 runes", password)
		}
		if !strings.ContainsFunc(password, unicode.IsLetter) || !strings.ContainsFunc(password, unicode.IsDigit) ||
			!strings.ContainsFunc(password, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) }) {
			t.Fatalf("accepted %q without a letter, a digit and a symbol", password)
		}
		if strings.EqualFold(password, identifier) && strings.TrimSpace(identifier) == identifier {
			t.Fatalf("accepted the identifier %q as its password", identifier)
		}
	})
}

// FuzzSanitize checks that sanitized text is valid UTF-8 with no control,
// escape or bidi characters, and that sanitizing twice changes nothing.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[31mred", "\x1b]8;;x\x1b\\y", "\u202eabc", "a\xffb", "\u009b1m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := policy.Sanitize(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c {
				t.Fatalf("Sanitize(%q) = %q keeps %U", s, out, r)
			}
		}
		if again := policy.Sanitize(out); again != out {
			t.Fatalf("Sanitize is not idempotent: %q -> %q -> %q", s, out, again)
		}
	})
}
