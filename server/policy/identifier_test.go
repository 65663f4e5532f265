package policy_test

import (
	"errors"
	"strings"
	"testing"

	"misetup/server/policy"
)

// reason returns the InputError reason of err, "" for nil and "?" for an
// error of another type.
func reason(err error) string {
	if err == nil {
		return ""
	}
	var ie *policy.InputError
	if errors.As(err, &ie) {
		if ie.Message == "" {
			return "no message"
		}
		return ie.Reason
	}
	return "?"
}

func TestParseEmail(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"ann@example.com", "ann@example.com", ""},
		{"  Ann.Lee+tag@Example.COM ", "Ann.Lee+tag@example.com", ""},
		{"é@bücher.de", "é@bücher.de", ""},
		{"", "", "empty"},
		{"Ann <ann@example.com>", "", "display_name"},
		{"<ann@example.com>", "", "display_name"},
		{"ann lee@example.com", "", "spaces"},
		{"ann@exa mple.com", "", "spaces"},
		{"ann.example.com", "", "no_at"},
		{"@example.com", "", "no_local_part"},
		{"ann@", "", "no_domain"},
		{"ann@localhost", "", "no_domain"},
		{"ann@example.com.", "", "invalid_domain"},
		{"ann@example..com", "", "invalid_domain"},
		{"ann@[10.0.0.1]", "", "invalid_domain"},
		{"ann@-example.com", "", "invalid_domain"},
		{`"ann lee"@example.com`, "", "spaces"},
		{`"ann"@example.com`, "", "invalid"},
		{"(comment)ann@example.com", "", "invalid"},
		{"ann..lee@example.com", "", "invalid"},
		{"ann@example.com\x00", "", "invisible"},
		{"ann\u202e@example.com", "", "invisible"},
		{"ann\u200b@example.com", "", "invisible"},
		{"a\xffb@example.com", "", "invalid"},
		{strings.Repeat("a", 65) + "@example.com", "", "too_long"},
		{strings.Repeat("a", 60) + "@" + strings.Repeat("b.", 97) + "com", "", "too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := policy.ParseEmail(tt.in)
			if got != tt.want || reason(err) != tt.reason {
				t.Errorf("ParseEmail(%q) = %q, %v (reason %q); want %q, reason %q", tt.in, got, err, reason(err), tt.want, tt.reason)
			}
		})
	}
}

func TestParsePhone(t *testing.T) {
	tests := []struct{ in, region, want, reason string }{
		{"+86 138 0013 8000", "", "+8613800138000", ""},
		{"138 0013 8000", "CN", "+8613800138000", ""},
		{"138-0013-8000", "cn", "+8613800138000", ""},
		{"0086 138 0013 8000", "CN", "+8613800138000", ""},
		{"07911 123456", "GB", "+447911123456", ""},
		{"(201) 555-0123", "US", "+12015550123", ""},
		{"+1 201 555 0123", "GB", "+12015550123", ""},
		{"+８６ １３８ ００１３ ８０００", "", "+8613800138000", ""},
		{"", "CN", "", "empty"},
		{"138 0013 8000", "", "", "no_country_code"},
		{"138 0013 8000", "XX", "", "invalid_region"},
		{"1-800-FLOWERS", "US", "", "letters"},
		{"+1 201 555 0123 ext. 4", "", "", "letters"},
		{"+86 138#0013", "", "", "invalid_number"},
		{"138+0013", "CN", "", "invalid_number"},
		{"+999 1234 5678", "", "", "invalid_country_code"},
		{"+86 123", "", "", "invalid_number"},
		{"+86 1", "", "", "too_short"},
		{"+86 " + strings.Repeat("1", 70), "", "", "too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/"+tt.region, func(t *testing.T) {
			got, err := policy.ParsePhone(tt.in, tt.region)
			if got != tt.want || reason(err) != tt.reason {
				t.Errorf("ParsePhone(%q, %q) = %q, %v (reason %q); want %q, reason %q", tt.in, tt.region, got, err, reason(err), tt.want, tt.reason)
			}
		})
	}
}

func TestParseMiID(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"123456789", "123456789", ""},
		{"9999999999", "9999999999", ""},
		{" 123456789 ", "123456789", ""},
		{"", "", "empty"},
		{"12345678", "", "length"},
		{"12345678901", "", "length"},
		{"012345678", "", "leading_zero"},
		{"12345678a", "", "not_digits"},
		{"１２３４５６７８９", "", "not_digits"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := policy.ParseMiID(tt.in)
			if got != tt.want || reason(err) != tt.reason {
				t.Errorf("ParseMiID(%q) = %q, %v; want %q, reason %q", tt.in, got, err, tt.want, tt.reason)
			}
		})
	}
}

func TestParseIdentifier(t *testing.T) {
	tests := []struct {
		name, in, region string
		kind             policy.IdentifierKind
		want, reason     string
	}{
		{"email", "Ann@Example.com", "CN", policy.KindEmail, "Ann@example.com", ""},
		{"bad email stays an email", "ann@example", "CN", policy.KindEmail, "", "no_domain"},
		{"phone with plus", "+86 138 0013 8000", "", policy.KindPhone, "+8613800138000", ""},
		{"national phone with region", "13800138000", "CN", policy.KindPhone, "+8613800138000", ""},
		{"10 digits valid in region is a phone", "2015550123", "US", policy.KindPhone, "+12015550123", ""},
		{"9 digits not a phone in region is a Mi ID", "123456789", "CN", policy.KindMiID, "123456789", ""},
		{"10 digits without region is a Mi ID", "2015550123", "", policy.KindMiID, "2015550123", ""},
		{"Mi ID with leading zero", "012345678", "", policy.KindMiID, "", "leading_zero"},
		{"11 digits without region", "13800138000", "", policy.KindPhone, "", "no_country_code"},
		{"letters", "ann", "CN", policy.KindPhone, "", "letters"},
		{"empty", "   ", "CN", "", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, got, err := policy.ParseIdentifier(tt.in, tt.region)
			if kind != tt.kind || got != tt.want || reason(err) != tt.reason {
				t.Errorf("ParseIdentifier(%q, %q) = %s %q %v; want %s %q reason %q", tt.in, tt.region, kind, got, err, tt.kind, tt.want, tt.reason)
			}
		})
	}
}
