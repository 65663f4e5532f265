package policy

import (
	"strings"
	"unicode/utf8"
)

// Sanitize makes text from a user or a server safe to store and to draw in a
// terminal, on one line. It removes:
//   - invalid UTF-8;
//   - terminal escape sequences whole (CSI such as ESC [ 31 m, OSC such as the
//     ESC ] 8 hyperlink or ESC ] 0 title, DCS/SOS/PM/APC strings, and short
//     ESC sequences), also when introduced by the 8-bit C1 forms;
//   - the remaining C0 and C1 control characters and DEL, tab and newlines
//     included, and the line and paragraph separators U+2028 and U+2029;
//   - bidirectional formatting characters that can make text read differently
//     from what it is: U+202A-U+202E (embeddings and overrides), U+2066-U+2069
//     (isolates), U+200E, U+200F and U+061C (marks).
//
// Everything else, including non-Latin scripts and emoji, is kept.
func Sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			i += max(size, 1) // invalid byte
			continue
		}
		switch {
		case r == 0x1b:
			i = skipEscape(s, i+size)
			continue
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i+size)
			continue
		case dropRune(r):
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// ValidUTF8 reports whether s is valid UTF-8.
func ValidUTF8(s string) bool { return utf8.ValidString(s) }

func dropRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// skipEscape returns the index after the escape sequence whose ESC ended just
// before i (ECMA-48: ESC [ is CSI; ESC ] P X ^ _ open a string; ESC followed by
// intermediates 0x20-0x2F ends at a final 0x30-0x7E; ESC and one 0x30-0x7E
// byte is a whole sequence).
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f:
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e:
		return i + 1
	}
	return i // a lone ESC: drop it, keep what follows
}

// skipCSI skips parameter bytes 0x30-0x3F, intermediates 0x20-0x2F and the
// final byte 0x40-0x7E. A sequence cut short by anything else ends there.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString skips a control string up to and including its terminator: BEL,
// ESC \ or the C1 ST (U+009C). An unterminated string runs to the end of s,
// which drops the rest: safer than drawing half an escape.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i // a new escape ends the string; the caller reads it
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}
