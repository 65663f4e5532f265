// Package assetstest checks laid-out text against the catalogs' rules, for
// the tests of the packages that lay text out (ui, the doctor's table).
package assetstest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"misetup/assets"
)

// closing is the punctuation that must never start a line of Chinese text.
const closing = "，。、；：？！）」』”’…》〉】"

// ChineseLineBreaks reads laid-out text (a screen, a table) as a Chinese
// reader would and returns what is wrong with its line breaks: a line that
// starts with closing punctuation (，。、）…), or a break that splits a word
// of assets.Words across two lines (日|历). Box borders, bullets and marks
// at either end of a line are looked through; a line of only "…" (a cut
// body) is not punctuation.
func ChineseLineBreaks(text string) []string {
	var problems []string
	lines := strings.Split(text, "\n")
	trimmed := make([]string, len(lines))
	for i, l := range lines {
		trimmed[i] = strings.Trim(l, " │╭╮╰╯─•›·✓✗!→")
	}
	dict := assets.Words()
	for i, l := range trimmed {
		if r, _ := utf8.DecodeRuneInString(l); l != "…" && strings.ContainsRune(closing, r) {
			problems = append(problems, fmt.Sprintf("line %d starts with %q: %q", i+1, string(r), lines[i]))
		}
		if i == 0 {
			continue
		}
		before, after := hanTail(trimmed[i-1]), hanHead(l)
		if before == "" || after == "" {
			continue
		}
		for _, w := range dict {
			rs := []rune(w)
			for off := 1; off < len(rs); off++ { // w straddles the break, off runes before it
				if strings.HasSuffix(before, string(rs[:off])) && strings.HasPrefix(after, string(rs[off:])) {
					problems = append(problems, fmt.Sprintf("lines %d-%d split the word %q: %q | %q", i, i+1, w, lines[i-1], lines[i]))
				}
			}
		}
	}
	return problems
}

// hanTail is the Chinese characters that end s; hanHead, those that start it.
func hanTail(s string) string {
	rs := []rune(s)
	i := len(rs)
	for i > 0 && unicode.Is(unicode.Han, rs[i-1]) {
		i--
	}
	return string(rs[i:])
}

func hanHead(s string) string {
	rs := []rune(s)
	i := 0
	for i < len(rs) && unicode.Is(unicode.Han, rs[i]) {
		i++
	}
	return string(rs[:i])
}
