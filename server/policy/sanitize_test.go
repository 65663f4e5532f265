package policy_test

import (
	"testing"

	"misetup/server/policy"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Ann's phone", "Ann's phone"},
		{"other scripts and emoji", "小米 Ünïcødé 📱", "小米 Ünïcødé 📱"},
		{"SGR colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"clear screen and cursor", "\x1b[2J\x1b[H\x1b[?25lhi", "hi"},
		{"OSC title with BEL", "\x1b]0;pwned\x07name", "name"},
		{"OSC 8 hyperlink with ST", "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"OSC 52 clipboard write", "a\x1b]52;c;ZWNobyBoaQ==\x07b", "ab"},
		{"DCS string", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"charset designation", "a\x1b(Bb", "ab"},
		{"short escape", "a\x1bcb", "ab"},
		{"lone ESC at end", "ab\x1b", "ab"},
		{"unterminated CSI at end", "ab\x1b[31", "ab"},
		{"unterminated OSC drops the rest", "ab\x1b]0;title", "ab"},
		{"OSC ended by a new escape", "a\x1b]0;t\x1b[1mb", "ab"},
		{"C1 CSI", "a\u009b31mb", "ab"},
		{"C1 OSC with C1 ST", "a\u009d0;t\u009cb", "ab"},
		{"C0 controls and DEL", "a\x00b\x07c\x08d\x7fe", "abcde"},
		{"newlines and tabs", "line1\r\nline2\tend", "line1line2end"},
		{"line separators", "a\u2028b\u2029c", "abc"},
		{"C1 controls", "a\u0085b\u0080c", "abc"},
		{"RTL override", "invoice\u202egpj.exe", "invoicegpj.exe"},
		{"embeddings", "\u202a\u202b\u202c\u202dx", "x"},
		{"isolates", "\u2066\u2067\u2068x\u2069", "x"},
		{"marks", "\u200ea\u200fb\u061cc", "abc"},
		{"invalid UTF-8", "a\xffb\xc3(c", "ab(c"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy.Sanitize(tt.in); got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidUTF8(t *testing.T) {
	if !policy.ValidUTF8("小米") || policy.ValidUTF8("a\xffb") {
		t.Error("ValidUTF8 is wrong")
	}
}
