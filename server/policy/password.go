package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"misetup/internal/phone"
)

// Reasons a password is refused, in the order Check reports them.
const (
	ReasonTooShort         = "too_short"
	ReasonTooLong          = "too_long"
	ReasonNoLetter         = "no_letter"
	ReasonNoDigit          = "no_digit"
	ReasonNoSymbol         = "no_symbol"
	ReasonCommon           = "common"
	ReasonSameAsIdentifier = "same_as_identifier"
)

// PasswordRules is the password policy of DESIGN "Rules": a length in
// characters (runes, not bytes), at least one letter, one digit and one
// symbol, not a common password, not the identifier.
type PasswordRules struct {
	MinLen, MaxLen int
}

// DefaultPasswordRules is 8 to 128 characters.
func DefaultPasswordRules() PasswordRules { return PasswordRules{MinLen: 8, MaxLen: 128} }

// Check returns nil when password satisfies the rules, or else every reason
// it breaks, in this order: "too_short", "too_long", "no_letter", "no_digit",
// "no_symbol", "common", "same_as_identifier". identifier is the account's
// email, phone or Mi ID as typed or normalised; "" skips that clause.
//
// A letter is a Unicode letter, a digit a decimal digit of any script, and a
// symbol any punctuation, symbol or space character (OWASP counts the space
// as a special character; it lets passphrases qualify).
func (r PasswordRules) Check(password, identifier string) []string {
	var reasons []string
	n := utf8.RuneCountInString(password)
	if n < r.MinLen {
		reasons = append(reasons, ReasonTooShort)
	}
	if r.MaxLen > 0 && n > r.MaxLen {
		reasons = append(reasons, ReasonTooLong)
	}
	var letter, digit, symbol bool
	for _, c := range password {
		switch {
		case unicode.IsLetter(c):
			letter = true
		case unicode.IsDigit(c):
			digit = true
		case isSymbol(c):
			symbol = true
		}
	}
	if !letter {
		reasons = append(reasons, ReasonNoLetter)
	}
	if !digit {
		reasons = append(reasons, ReasonNoDigit)
	}
	if !symbol {
		reasons = append(reasons, ReasonNoSymbol)
	}
	if IsCommon(password) {
		reasons = append(reasons, ReasonCommon)
	}
	if sameAsIdentifier(password, identifier) {
		reasons = append(reasons, ReasonSameAsIdentifier)
	}
	return reasons
}

func isSymbol(c rune) bool {
	return unicode.IsPunct(c) || unicode.IsSymbol(c) || unicode.Is(unicode.Zs, c)
}

// sameAsIdentifier compares, ignoring case, the password with the identifier,
// the local part of an email identifier, and the national digits (with and
// without the trunk prefix, and all the digits without "+") of a phone
// identifier.
func sameAsIdentifier(password, identifier string) bool {
	id := strings.TrimSpace(identifier)
	if id == "" || password == "" {
		return false
	}
	forms := []string{id}
	if at := strings.LastIndexByte(id, '@'); at > 0 {
		forms = append(forms, id[:at])
	}
	if strings.HasPrefix(id, "+") {
		if num, err := phone.Parse(id, ""); err == nil {
			forms = append(forms, num.NSN, digitsOnly(num.National())) // with the trunk prefix, e.g. 07911…
		}
		forms = append(forms, digitsOnly(id))
	}
	for _, f := range forms {
		if f != "" && strings.EqualFold(password, f) {
			return true
		}
	}
	return false
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
