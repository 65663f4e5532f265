package policy

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// commonPasswordsText is the bundled list, one lower-case password a line.
// Where it came from and its licence: common-passwords.SOURCE.txt.
//
//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords builds the lookup set on first use. NOTE: a package-level
// value, but immutable once built: it caches embedded data, it holds no state.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 10000)
	for line := range strings.Lines(commonPasswordsText) {
		if w := strings.TrimSpace(line); w != "" {
			set[w] = struct{}{}
		}
	}
	return set
})

// CommonPasswordsSource says where the bundled common-password list came from
// and under which licence, in one line.
func CommonPasswordsSource() string {
	return "top 10,000 of the 30,000 passwords in zxcvbn 4.4.2 (npm, lib/frequency_lists.js, " +
		"from Mark Burnett's 10M password corpus); MIT licence, Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc."
}

// CommonPasswordsCount is the number of entries in the bundled list.
func CommonPasswordsCount() int { return len(commonPasswords()) }

// IsCommon reports whether password is in the bundled list of common
// passwords, ignoring case. A listed password with symbols sprinkled in is
// still common: the password is also looked up with every character that is
// neither a letter nor a digit removed, so "Password1!" and "i.love.you" count
// as common ("password1" and "iloveyou" are listed).
func IsCommon(password string) bool {
	set := commonPasswords()
	lower := strings.ToLower(password)
	if _, ok := set[lower]; ok {
		return true
	}
	stripped := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, lower)
	if stripped == "" || stripped == lower {
		return false
	}
	_, ok := set[stripped]
	return ok
}
