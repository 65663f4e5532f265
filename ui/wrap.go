package ui

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// wrapText wraps plain text to width w. Latin words break at spaces; CJK
// text breaks between any two characters, except that closing punctuation
// (，。）…) never starts a line and opening punctuation (（“…) never ends
// one. A word longer than the line is cut.
func wrapText(s string, w int) []string {
	if w < 2 {
		return strings.Split(s, "\n")
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, wrapLine(para, w)...)
	}
	return out
}

type token struct {
	text  string
	space bool // a space separates it from the previous token
}

const (
	noBreakBefore = "，。、；：？！）」』”’…》〉】%,.;:!?)]}"
	noBreakAfter  = "（「『“‘《〈【([{"
)

func isWide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}

func tokenize(s string) []token {
	var toks []token
	var word strings.Builder
	space := false // a space came before the word being built
	glue := false  // the word ends in opening punctuation: keep the next rune
	flush := func() {
		if word.Len() > 0 {
			toks = append(toks, token{text: word.String(), space: space})
			word.Reset()
			space = false
		}
	}
	for _, r := range s {
		if r == ' ' {
			flush()
			space, glue = len(toks) > 0, false
			continue
		}
		if strings.ContainsRune(noBreakBefore, r) && !space {
			if word.Len() > 0 {
				word.WriteRune(r)
				continue
			}
			if len(toks) > 0 {
				toks[len(toks)-1].text += string(r)
				continue
			}
		}
		if isWide(r) {
			if word.Len() > 0 && !glue {
				flush()
			}
			word.WriteRune(r)
			glue = strings.ContainsRune(noBreakAfter, r)
			if !glue {
				flush()
			}
			continue
		}
		word.WriteRune(r)
		glue = strings.ContainsRune(noBreakAfter, r)
	}
	flush()
	return toks
}

func wrapLine(s string, w int) []string {
	toks := tokenize(s)
	if len(toks) == 0 {
		return []string{""} // empty or only spaces: an empty line, never wider than w
	}
	var lines []string
	var cur strings.Builder
	curW := 0
	for _, t := range toks {
		tw := ansi.StringWidth(t.text)
		sep := 0
		if t.space && curW > 0 {
			sep = 1
		}
		if curW > 0 && curW+sep+tw > w {
			lines = append(lines, cur.String())
			cur.Reset()
			curW, sep = 0, 0
		}
		for tw > w { // a word longer than the line: cut it
			head := ansi.Truncate(t.text, w-curW-sep, "")
			if sep == 1 {
				cur.WriteByte(' ')
			}
			cur.WriteString(head)
			lines = append(lines, cur.String())
			cur.Reset()
			curW, sep = 0, 0
			t.text = strings.TrimPrefix(t.text, head)
			tw = ansi.StringWidth(t.text)
		}
		if sep == 1 {
			cur.WriteByte(' ')
		}
		cur.WriteString(t.text)
		curW += sep + tw
	}
	return append(lines, cur.String())
}
