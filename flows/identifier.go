package flows

import (
	"net/mail"
	"strings"
	"unicode"

	"misetup/internal/phone"
)

// Region is a country the phone picker offers.
type Region struct {
	Code        string // ISO 3166 alpha-2, e.g. "CN"
	CallingCode int    // e.g. 86
}

// pickerRegions are the countries the picker offers, in a stable order; the
// names live in the catalogs ("country.CN"). A number from elsewhere can
// still be typed with its +country code.
var pickerRegions = []string{
	"CN", "HK", "MO", "TW", "SG", "MY", "ID", "TH", "VN", "PH", "IN", "JP", "KR",
	"AU", "NZ", "US", "CA", "MX", "BR", "GB", "IE", "DE", "FR", "ES", "IT", "NL",
	"PL", "RU", "UA", "TR", "AE", "SA", "EG", "NG", "ZA",
}

// Regions returns the countries of the phone picker.
func Regions() []Region {
	out := make([]Region, 0, len(pickerRegions))
	for _, c := range pickerRegions {
		out = append(out, Region{Code: c, CallingCode: phone.CountryCodeForRegion(c)})
	}
	return out
}

// RegionIndex returns the index of code in Regions(), or 0.
func RegionIndex(code string) int {
	for i, c := range pickerRegions {
		if strings.EqualFold(c, code) {
			return i
		}
	}
	return 0
}

// DefaultRegion picks the phone picker's default country from a POSIX
// locale or language tag ("zh_CN.UTF-8", "en-GB", "zh"): its region when it
// names one the picker has, else by language (zh → CN, others → US).
func DefaultRegion(locale string) string {
	locale = strings.ReplaceAll(strings.TrimSpace(locale), "_", "-")
	if i := strings.IndexAny(locale, ".@"); i >= 0 {
		locale = locale[:i]
	}
	parts := strings.Split(locale, "-")
	for _, p := range parts[1:] {
		if len(p) == 2 {
			code := strings.ToUpper(p)
			for _, c := range pickerRegions {
				if c == code {
					return c
				}
			}
		}
	}
	if strings.EqualFold(parts[0], "zh") {
		return "CN"
	}
	return "US"
}

// ValidateEmail checks an email address the way the service does (a plain
// address with a dotted domain) and returns it trimmed.
func ValidateEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", userErr(ErrKeyIdentifierEmpty, nil)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", userErr(ErrKeyEmailSpace, nil)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 254 || strings.IndexFunc(s, unicode.IsSpace) >= 0 ||
		strings.ContainsAny(s, "<>") {
		return "", userErr(ErrKeyEmailInvalid, nil)
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") {
		return "", userErr(ErrKeyEmailInvalid, nil)
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		return "", userErr(ErrKeyEmailInvalid, nil)
	}
	return s, nil
}

// ParsePhone checks a phone number typed for region (or with its own
// +country code) and returns it in E.164.
func ParsePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", userErr(ErrKeyIdentifierEmpty, nil)
	}
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r == ' ', r == '-', r == '(', r == ')', r == '.':
		case r == '+' && i == 0:
		default:
			return "", userErr(ErrKeyPhoneInvalid, nil)
		}
	}
	num, err := phone.Parse(s, strings.ToUpper(region))
	if err != nil || !num.Valid() {
		return "", userErr(ErrKeyPhoneInvalid, err)
	}
	return num.E164(), nil
}

// FormatPhone shows a phone number as it is being typed: grouped the way
// the region writes it once it is a possible number, else the digits as
// typed. It never fails; it is only for display.
func FormatPhone(s, region string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	num, err := phone.Parse(s, strings.ToUpper(region))
	if err != nil || !num.Possible() {
		return s
	}
	if strings.HasPrefix(s, "+") {
		return num.International()
	}
	return num.National()
}

// ValidateIdentifier checks the identifier of a registration for method
// (api.MethodEmail or api.MethodPhone) and returns it normalised.
func ValidateIdentifier(method, s, region string) (string, error) {
	if method == "phone" {
		return ParsePhone(s, region)
	}
	return ValidateEmail(s)
}

// ValidateSignInID checks what was typed as a Mi ID at sign-in: an email, a
// phone number or a numeric Mi ID. Only emptiness and an obviously broken
// email are refused here (Field "identifier"); the service decides the rest.
func ValidateSignInID(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		e := userErr(ErrKeyIdentifierEmpty, nil)
		e.Field = "identifier"
		return "", e
	}
	if strings.Contains(s, "@") {
		id, err := ValidateEmail(s)
		if ue, ok := err.(*UserError); ok {
			ue.Field = "identifier"
		}
		return id, err
	}
	return s, nil
}

// MethodOf guesses how an identifier reaches its owner: "email" with an @,
// else "phone".
func MethodOf(identifier string) string {
	if strings.Contains(identifier, "@") {
		return "email"
	}
	return "phone"
}
