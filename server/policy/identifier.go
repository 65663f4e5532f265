package policy

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"misetup/internal/phone"
)

// IdentifierKind says what an identifier is.
type IdentifierKind string

// The kinds of identifier an account is known by.
const (
	KindEmail IdentifierKind = "email"
	KindPhone IdentifierKind = "phone"
	KindMiID  IdentifierKind = "mi_id"
)

// Length limits of identifiers.
const (
	maxEmailLen      = 254 // RFC 5321 path limit less the angle brackets
	maxEmailLocalLen = 64
	maxPhoneInput    = 64 // runes of input, generous for spaces and punctuation
)

// ParseEmail checks a bare email address (like ann@example.com) and returns
// it with the domain lower-cased; the local part keeps its case, as RFC 5321
// lets servers treat it case-sensitively. Refused: control and invisible
// format characters (bidi overrides, zero-width spaces), display names
// ("Ann <ann@example.com>"), spaces, quoted local parts or comments, a domain
// without a dot, and more than 254 bytes. Leading and trailing white space is
// ignored.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", inputErr("empty", "Enter an email address, like ann@example.com.")
	case !utf8.ValidString(s):
		return "", inputErr("invalid", "The email address contains bytes that are not text.")
	case len(s) > maxEmailLen:
		return "", inputErr("too_long", fmt.Sprintf("An email address has at most %d characters.", maxEmailLen))
	case strings.IndexFunc(s, invisible) >= 0:
		return "", inputErr("invisible", "The email address contains invisible or control characters; type it again.")
	case strings.ContainsAny(s, "<>"):
		return "", inputErr("display_name", "Enter only the address, like ann@example.com, without a name or <>.")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "", inputErr("spaces", "An email address has no spaces.")
	case !strings.Contains(s, "@"):
		return "", inputErr("no_at", "An email address has an @, like ann@example.com.")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return "", inputErr("no_local_part", "Put your name before the @, like ann@example.com.")
	case len(local) > maxEmailLocalLen:
		return "", inputErr("too_long", fmt.Sprintf("The part before the @ has at most %d characters.", maxEmailLocalLen))
	case domain == "":
		return "", inputErr("no_domain", "Put the domain after the @, like ann@example.com.")
	case !strings.Contains(domain, "."):
		return "", inputErr("no_domain", "The domain after the @ needs a dot, like example.com.")
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", inputErr("invalid_domain", fmt.Sprintf("%q is not a domain name.", domain))
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		// net/mail accepts forms we do not store (quoted local parts,
		// comments, domain literals): only a plain address is kept.
		return "", inputErr("invalid", "This is not an email address like ann@example.com.")
	}
	for _, label := range strings.Split(domain, ".") {
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.IndexFunc(label, func(r rune) bool {
				return !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) || r >= utf8.RuneSelf && unicode.IsMark(r))
			}) >= 0 {
			return "", inputErr("invalid_domain", fmt.Sprintf("%q is not a domain name.", domain))
		}
	}
	out := local + "@" + strings.ToLower(domain)
	if len(out) > maxEmailLen { // lower-casing can lengthen a few letters (İ)
		return "", inputErr("too_long", fmt.Sprintf("An email address has at most %d characters.", maxEmailLen))
	}
	return out, nil
}

// ParsePhone parses a phone number as typed and returns it in E.164
// (+8613800138000). region is the default country as an ISO 3166 alpha-2 code
// ("CN", "GB") used when the number has no +country prefix; with region ""
// such a number is refused with reason "no_country_code". Letters (vanity
// numbers, "ext.") are refused, and the number must be a valid number for its
// country.
func ParsePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	region = strings.ToUpper(strings.TrimSpace(region))
	if s == "" {
		return "", inputErr("empty", "Enter a phone number, like +86 138 0013 8000.")
	}
	if !utf8.ValidString(s) {
		return "", inputErr("invalid_number", "The phone number contains bytes that are not text.")
	}
	if utf8.RuneCountInString(s) > maxPhoneInput {
		return "", inputErr("too_long", "This is too long for a phone number.")
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r):
			return "", inputErr("letters", "A phone number has only digits, not letters.")
		case unicode.IsDigit(r), r == ' ', r == '-', r == '.', r == '(', r == ')', r == '/':
		case r == '+' && i == 0:
		default:
			return "", inputErr("invalid_number", fmt.Sprintf("A phone number has digits, spaces and + - ( ) only, not %q.", r))
		}
	}
	plus := strings.HasPrefix(s, "+")
	if !plus {
		if region == "" {
			return "", inputErr("no_country_code", "Start the number with + and the country code, like +86 138 0013 8000.")
		}
		if phone.CountryCodeForRegion(region) == 0 {
			return "", inputErr("invalid_region", fmt.Sprintf("%q is not a country code like CN or GB; start the number with + and the country code instead.", region))
		}
	}
	num, err := phone.Parse(s, region)
	switch {
	case err == phone.ErrInvalidCountryCode:
		return "", inputErr("invalid_country_code", "The country code after + is not one in use.")
	case err == phone.ErrTooShortNSN || err == phone.ErrTooShortAfterIDD:
		return "", inputErr("too_short", "This is too short for a phone number.")
	case err == phone.ErrTooLong:
		return "", inputErr("too_long", "This is too long for a phone number.")
	case err != nil:
		return "", inputErr("invalid_number", "This is not a phone number.")
	}
	if !num.Valid() {
		where := num.Region()
		if where == "" || where == "ZZ" {
			where = fmt.Sprintf("+%d", num.CountryCode)
		}
		return "", inputErr("invalid_number", fmt.Sprintf("This is not a valid phone number for %s: check the digits and the country.", where))
	}
	return num.E164(), nil
}

// ParseMiID checks a numeric Mi ID: 9 or 10 ASCII digits, the first not 0.
func ParseMiID(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", inputErr("empty", "Enter your Mi ID, a number of 9 or 10 digits.")
	case strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0:
		return "", inputErr("not_digits", "A Mi ID has only digits.")
	case len(s) < 9 || len(s) > 10:
		return "", inputErr("length", "A Mi ID has 9 or 10 digits.")
	case s[0] == '0':
		return "", inputErr("leading_zero", "A Mi ID does not start with 0.")
	}
	return s, nil
}

// ParseIdentifier tells what kind of identifier s is and normalises it:
//   - with an '@' it is an email (ParseEmail);
//   - with a leading '+', or when it is a valid phone number for region, it
//     is a phone (ParsePhone, E.164);
//   - otherwise 9 or 10 plain digits are a Mi ID (ParseMiID);
//   - anything else is parsed as a phone, whose error says what is wrong.
//
// NOTE: the phone reading wins over the Mi ID when both fit, because a person
// types their own number far more often than their Mi ID. A 9-10 digit Mi ID
// that is also a valid number of the region is therefore read as a phone; a
// sign-in that finds no account for it may retry it as a Mi ID.
// The output parses again to the same kind and value.
func ParseIdentifier(s, region string) (IdentifierKind, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", inputErr("empty", "Enter an email address, a phone number or a Mi ID.")
	}
	if strings.Contains(s, "@") {
		e, err := ParseEmail(s)
		return KindEmail, e, err
	}
	if strings.HasPrefix(s, "+") {
		p, err := ParsePhone(s, region)
		return KindPhone, p, err
	}
	if isPlainDigits(s) && (len(s) == 9 || len(s) == 10) {
		if region != "" {
			if p, err := ParsePhone(s, region); err == nil {
				return KindPhone, p, nil
			}
		}
		id, err := ParseMiID(s)
		return KindMiID, id, err
	}
	p, err := ParsePhone(s, region)
	return KindPhone, p, err
}

// invisible reports control and format characters (bidi marks, zero-width
// spaces) that have no place in an identifier and would let two addresses
// look alike.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
}

func isPlainDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}
