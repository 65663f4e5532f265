package policy_test

import (
	"testing"

	"misetup/server/policy"
)

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"john@example.com", "j***@example.com"},
		{"J@example.com", "J***@example.com"},
		{"émile@exemple.fr", "é***@exemple.fr"},
		{"a@b@example.com", "a***@example.com"},
		{"@example.com", "***@example.com"},
		{"not-an-address", "***"},
		{"j\x1b[31m@example.com\u202e", "j***@example.com"},
	}
	for _, tt := range tests {
		if got := policy.MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+8613800001234", "+86 ••• •••• 1234"},
		{"+12015550123", "+1 ••• ••• 0123"},
		{"+447911123456", "+44 •••• ••3456"},
		{"+4930123456", "+49 •• ••3456"},
		{"13800001234", "•••••••1234"}, // not E.164: only the last digits
		{"12345", "•••45"},             // short: three digits stay hidden
		{"", ""},
	}
	for _, tt := range tests {
		if got := policy.MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
