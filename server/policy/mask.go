package policy

import (
	"strings"
	"unicode/utf8"

	"misetup/internal/phone"
)

// MaskEmail shows where a code went without giving the address away: the
// first character of the local part, "***", and the domain
// ("j***@example.com"). Something that is not an address becomes "***".
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "***"
	}
	local, domain := email[:at], email[at+1:]
	first, _ := utf8.DecodeRuneInString(local)
	if local == "" || first == utf8.RuneError {
		return "***@" + Sanitize(domain)
	}
	return Sanitize(string(first)) + "***@" + Sanitize(domain)
}

// MaskPhone shows a phone number in E.164 as its country code, bullets for the
// hidden digits grouped the way the country writes them, and the last four
// digits: "+86 ••• •••• 1234". Short numbers keep at least three digits
// hidden. Input that is not E.164 keeps only its last digits.
func MaskPhone(e164 string) string {
	const bullet = "•"
	num, err := phone.Parse(e164, "")
	if err != nil || !strings.HasPrefix(e164, "+") {
		d := digitsOnly(e164)
		show := visibleDigits(len(d))
		return strings.Repeat(bullet, len(d)-show) + d[len(d)-show:]
	}
	// "+86 138 0013 8000": keep the "+86 " prefix, then hide digits of the
	// national part from the left.
	intl := num.International()
	cc, rest, ok := strings.Cut(intl, " ")
	if !ok {
		return intl
	}
	total := len(digitsOnly(rest))
	hide := total - visibleDigits(total)
	var b strings.Builder
	b.WriteString(cc)
	b.WriteByte(' ')
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9' && hide > 0:
			b.WriteString(bullet)
			hide--
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default: // group separators: "-", " ", "(", ")" all become one space
			if s := b.String(); !strings.HasSuffix(s, " ") {
				b.WriteByte(' ')
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// visibleDigits is how many trailing digits of an n-digit number a mask shows:
// four, but never so many that fewer than three stay hidden.
func visibleDigits(n int) int {
	return max(0, min(4, n-3))
}

// MaskHidden is how a destination the requester did not type is shown: only
// its channel ("email" or "sms"), nothing of the address, so that the answer
// is the same whether or not an account, or which address, is behind it.
func MaskHidden(channel string) string {
	if channel == "sms" {
		return "+•• ••• •••• ••••"
	}
	return "•••@•••"
}
