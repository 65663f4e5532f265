package ui

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"misetup/assets"
)

// WrapText wraps plain text to width w, for every text misetup lays out
// (the wizard's screens and plain mode, and the doctor's table). Latin words
// break at spaces; Chinese breaks between words, never inside one (日历
// stays whole: see assets.Words), closing punctuation (，。）…) never
// starts a line and opening punctuation (（“…) never ends one. A word
// longer than the line is cut.
func WrapText(s string, w int) []string { return wrapText(s, w) }

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

// words is the dictionary Chinese runs are split into words with.
var words = sync.OnceValue(func() wordSet {
	ws := wordSet{words: map[string]bool{}}
	for _, w := range assets.Words() {
		ws.words[w] = true
		ws.max = max(ws.max, utf8.RuneCountInString(w))
	}
	return ws
})

type wordSet struct {
	words map[string]bool
	max   int // the longest word, in runes
}

// segment splits a run of Han characters into words, longest first from
// the left; a character in no word stands alone.
func (ws wordSet) segment(run []rune) []string {
	var out []string
	for i := 0; i < len(run); {
		n := 1
		for l := min(ws.max, len(run)-i); l > 1; l-- {
			if ws.words[string(run[i:i+l])] {
				n = l
				break
			}
		}
		out = append(out, string(run[i:i+n]))
		i += n
	}
	return out
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
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == ' ' {
			flush()
			space, glue = len(toks) > 0, false
			continue
		}
		if strings.ContainsRune(noBreakBefore, r) {
			// Closing punctuation stays with what it closes: the word being
			// built, else the last word when no space came between.
			if word.Len() > 0 {
				word.WriteRune(r)
				continue
			}
			if len(toks) > 0 && !space {
				toks[len(toks)-1].text += string(r)
				continue
			}
		}
		if unicode.Is(unicode.Han, r) {
			// A run of Chinese: one token a word.
			j := i
			for j < len(rs) && unicode.Is(unicode.Han, rs[j]) {
				j++
			}
			for _, w := range words().segment(rs[i:j]) {
				if word.Len() > 0 && !glue {
					flush()
				}
				word.WriteString(w)
				glue = false
				flush()
			}
			i = j - 1
			continue
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
			if rest := []rune(strings.TrimPrefix(t.text, head)); len(rest) > 0 && strings.ContainsRune(noBreakBefore, rest[0]) {
				// Closing punctuation goes with the character before it.
				if hr := []rune(head); len(hr) > 1 {
					head = string(hr[:len(hr)-1])
				}
			}
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
