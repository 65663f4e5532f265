package policy_test

import (
	"slices"
	"strings"
	"testing"

	"misetup/server/policy"
)

func TestPasswordRulesCheck(t *testing.T) {
	rules := policy.DefaultPasswordRules()
	tests := []struct {
		name, password, identifier string
		want                       []string
	}{
		{"good", "Tr0ub4dor&3x", "ann@example.com", nil},
		{"space counts as symbol", "blue horse 42", "", nil},
		{"other scripts count as letters and digits", "密码很长很安全١٢!", "", nil},
		{"exactly 8 runes", "aB3$efgh", "", nil},
		{"7 runes", "aB3$efg", "", []string{"too_short"}},
		{"8 runes but more bytes is fine", "ää3$ääää", "", nil},
		{"7 runes of many bytes is short", "ää3$äää", "", []string{"too_short"}},
		{"129 runes", strings.Repeat("a1!", 43), "", []string{"too_long"}},
		{"128 runes", strings.Repeat("a1!", 42) + "ab", "", nil},
		{"no letter", "9357-2468", "", []string{"no_letter"}},
		{"common digits with a dash", "1234-5678", "", []string{"no_letter", "common"}},
		{"no digit", "abcd-efgh", "", []string{"no_digit"}},
		{"no symbol", "abcd5678x", "", []string{"no_symbol"}},
		{"common with symbols", "p@ssw0rd", "", []string{"common"}},
		{"common ignoring case and sprinkled symbols", "Password1!", "", []string{"common"}},
		{"common and composition", "password", "", []string{"no_digit", "no_symbol", "common"}},
		{"empty breaks everything in order", "", "", []string{"too_short", "no_letter", "no_digit", "no_symbol"}},
		{"equal to email", "Ann.Lee1@mail.com", "ann.lee1@mail.com", []string{"same_as_identifier"}},
		{"equal to email local part", "ann.lee-1", "ann.lee-1@mail.com", []string{"same_as_identifier"}},
		{"equal to phone national digits", "13800138000", "+8613800138000", []string{"no_letter", "no_symbol", "same_as_identifier"}},
		{"equal to phone with trunk prefix", "07911123456", "+447911123456", []string{"no_letter", "no_symbol", "same_as_identifier"}},
		{"equal to phone as typed", "+8613800138000", "+8613800138000", []string{"no_letter", "same_as_identifier"}},
		{"contains identifier is allowed", "ann.lee-1 is me", "ann.lee-1@mail.com", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rules.Check(tt.password, tt.identifier)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check(%q, %q) = %q, want %q", tt.password, tt.identifier, got, tt.want)
			}
		})
	}
}

func TestPasswordRulesConfigurable(t *testing.T) {
	rules := policy.PasswordRules{MinLen: 12, MaxLen: 16}
	if got := rules.Check("aB3$efgh", ""); !slices.Equal(got, []string{"too_short"}) {
		t.Errorf("min 12: %q", got)
	}
	if got := rules.Check("aB3$efghijklmnopq", ""); !slices.Equal(got, []string{"too_long"}) {
		t.Errorf("max 16: %q", got)
	}
}

func TestCommonPasswords(t *testing.T) {
	if n := policy.CommonPasswordsCount(); n < 5000 || n > 10000 {
		t.Errorf("bundled list has %d entries, want 5,000..10,000", n)
	}
	for _, p := range []string{"123456", "PASSWORD", "iloveyou", "qwerty", "i.love.you!", "p@ssw0rd", "trustno1"} {
		if !policy.IsCommon(p) {
			t.Errorf("IsCommon(%q) = false, want true", p)
		}
	}
	for _, p := range []string{"Tr0ub4dor&3x", "correct horse battery staple", "", "!!!"} {
		if policy.IsCommon(p) {
			t.Errorf("IsCommon(%q) = true, want false", p)
		}
	}
	if src := policy.CommonPasswordsSource(); !strings.Contains(src, "zxcvbn") || !strings.Contains(src, "MIT") {
		t.Errorf("source %q should name zxcvbn and its MIT licence", src)
	}
}

func BenchmarkCheck(b *testing.B) {
	rules := policy.DefaultPasswordRules()
	policy.IsCommon("warm up the list")
	for b.Loop() {
		rules.Check("Tr0ub4dor&3x-long-enough", "+8613800138000")
	}
}
