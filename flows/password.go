package flows

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Password length limits, in characters.
const (
	PasswordMinLen = 8
	PasswordMaxLen = 128
)

// Rule is one line of the password checklist.
type Rule string

// The checklist, in the order it is shown. RuleCommon is decided by the
// service (its list is not shipped to the client): it is RuleUnknown until
// the service refuses a password with the reason "common".
const (
	RuleLength  Rule = "length"
	RuleLetters Rule = "letters"
	RuleDigits  Rule = "digits"
	RuleSymbols Rule = "symbols"
	RuleCommon  Rule = "common"
)

// Rules lists the checklist in order.
func Rules() []Rule { return []Rule{RuleLength, RuleLetters, RuleDigits, RuleSymbols, RuleCommon} }

// RuleState is how one rule stands.
type RuleState int

// Rule states.
const (
	RuleUnknown RuleState = iota // not decided yet (RuleCommon before the service answers)
	RuleMet
	RuleUnmet
)

// PasswordCheck is the live checklist of a password.
type PasswordCheck struct {
	State map[Rule]RuleState
}

// CheckPassword checks the four structural rules the way the service does
// (a letter is any Unicode letter, a digit any decimal digit, a symbol any
// punctuation, symbol or space). commonRefused is the password the service
// last refused as common ("" for none): while pw equals it, RuleCommon is
// unmet.
func CheckPassword(pw, commonRefused string) PasswordCheck {
	n := utf8.RuneCountInString(pw)
	var letter, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.Is(unicode.Zs, r):
			symbol = true
		}
	}
	c := PasswordCheck{State: map[Rule]RuleState{
		RuleLength:  met(n >= PasswordMinLen && n <= PasswordMaxLen),
		RuleLetters: met(letter),
		RuleDigits:  met(digit),
		RuleSymbols: met(symbol),
		RuleCommon:  RuleUnknown,
	}}
	if commonRefused != "" && pw == commonRefused {
		c.State[RuleCommon] = RuleUnmet
	}
	return c
}

func met(ok bool) RuleState {
	if ok {
		return RuleMet
	}
	return RuleUnmet
}

// OK reports whether no rule is unmet (RuleCommon may still be unknown).
func (c PasswordCheck) OK() bool {
	for _, s := range c.State {
		if s == RuleUnmet {
			return false
		}
	}
	return true
}

// ValidateNewPassword checks a new password and its confirmation.
func ValidateNewPassword(pw, confirm, commonRefused string) error {
	if pw == "" {
		return userErr(ErrKeyPasswordEmpty, nil)
	}
	if !CheckPassword(pw, commonRefused).OK() {
		return userErr(ErrKeyPasswordRules, nil)
	}
	if pw != confirm {
		return userErr(ErrKeyPasswordMismatch, nil)
	}
	return nil
}

// IsCommonRefusal reports whether err is the service refusing a password as
// a common one.
func IsCommonRefusal(err error) bool {
	ue := Explain(err)
	return ue != nil && ue.Key == ErrKeyWeakPassword && slices.Contains(ue.Reasons, "common")
}
