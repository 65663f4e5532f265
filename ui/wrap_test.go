package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"misetup/assets"
	"misetup/assets/assetstest"
)

func TestWrapText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		w    int
		want []string
	}{
		{"latin breaks at spaces", "the quick brown fox", 10, []string{"the quick", "brown fox"}},
		{"long word is cut", "abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		{"Chinese breaks between words", "设置您的小米账号", 10, []string{"设置您的", "小米账号"}},
		{"a Chinese word stays whole", "笔记、日历", 8, []string{"笔记、", "日历"}},
		{"closing punctuation never starts a line", "检查网络连接、创建账号", 14, []string{"检查网络连接、", "创建账号"}},
		{"nor when a word is cut", "网络连接、创建", 8, []string{"网络连", "接、创建"}},
		{"opening punctuation never ends a line", "选择“忘记密码”", 6, []string{"选择", "“忘记", "密码”"}},
		{"mixed keeps latin words whole", "请按 enter 继续", 8, []string{"请按", "enter", "继续"}},
		{"a word longer than the line is cut", "小米云服务", 6, []string{"小米云", "服务"}},
		{"latin punctuation stays with its word", "automatically in your system settings, then", 37, []string{"automatically in your system", "settings, then"}},
		{"URLs stay whole", "that the service at http://10.0.0.5:8417 is up", 30, []string{"that the service at", "http://10.0.0.5:8417 is up"}},
		{"blank line kept", "a\n\nb", 10, []string{"a", "", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrapText(tt.in, tt.w)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("wrapText(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
			}
			for _, l := range got {
				if ansi.StringWidth(l) > tt.w {
					t.Errorf("line %q wider than %d", l, tt.w)
				}
			}
			if strings.ReplaceAll(strings.Join(got, ""), " ", "") != strings.ReplaceAll(strings.ReplaceAll(tt.in, "\n", ""), " ", "") {
				t.Errorf("text lost or changed: %q", got)
			}
		})
	}
}

// TestChineseTextIsMadeOfWords checks that every Chinese text of the
// catalogs splits into entries of the word list (assets/words), so no text
// holds a word the wrapping does not know and could split: a character that
// belongs to no listed word fails here, naming the text.
func TestChineseTextIsMadeOfWords(t *testing.T) {
	zh := assets.MustLoad("zh-CN")
	ws := words()
	for _, k := range zh.Keys() {
		rs := []rune(zh.T(k))
		for i := 0; i < len(rs); i++ {
			if !unicode.Is(unicode.Han, rs[i]) {
				continue
			}
			j := i
			for j < len(rs) && unicode.Is(unicode.Han, rs[j]) {
				j++
			}
			for _, w := range ws.segment(rs[i:j]) {
				if !ws.words[w] {
					t.Errorf("%s: %q is in no word of assets/words/zh-CN.txt (in %q)", k, w, string(rs[i:j]))
				}
			}
			i = j
		}
	}
}

// checkChineseLines fails t for every bad line break of a rendered frame
// (assetstest.ChineseLineBreaks).
func checkChineseLines(t *testing.T, frame string) {
	t.Helper()
	for _, p := range assetstest.ChineseLineBreaks(frame) {
		t.Errorf("%s\n%s", p, frame)
	}
}

// TestChineseScreensBreakBetweenWords renders every screen of the wizard
// and of troubleshooting in Chinese, at 80 and at 60 columns, and reads
// each as a Chinese reader would (checkChineseLines).
func TestChineseScreensBreakBetweenWords(t *testing.T) {
	for _, w := range []int{80, 60} {
		for _, tc := range screenCases {
			t.Run(fmt.Sprintf("%s/%d", tc.name, w), func(t *testing.T) {
				h := newHarness(t, w, 24, "zh-CN")
				tc.setup(h)
				checkChineseLines(t, h.screen())
			})
		}
		for _, tc := range diagCases {
			t.Run(fmt.Sprintf("troubleshoot_%s/%d", tc.name, w), func(t *testing.T) {
				dh := newDiagHarness(t, w, 24, "zh-CN", signedInFake(), netRoot(t, "eth0", false))
				tc.setup(t, dh)
				checkChineseLines(t, dh.frame())
			})
		}
	}
}

func FuzzWrapText(f *testing.F) {
	for _, s := range []string{"hello world", "设置您的小米账号，请按 enter 继续。", "（a）", "……"} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		if w < 2 || w > 200 || strings.ContainsAny(s, "\x1b\t\r") {
			return
		}
		for _, l := range wrapText(s, w) {
			if ansi.StringWidth(l) > w && ansi.StringWidth(l) > 2 {
				// A single wide rune in a width-2 line is the only overflow allowed.
				t.Fatalf("line %q is wider than %d", l, w)
			}
		}
	})
}

// TestClosingPunctuationAfterASpacedWord: "。" after a word that followed a
// space (a masked Mi ID in parentheses) stays with it at every width.
func TestClosingPunctuationAfterASpacedWord(t *testing.T) {
	s := "已登录：a***@example.com (Mi ID •••••1221)。"
	for w := 10; w <= 60; w++ {
		for _, l := range WrapText(s, w) {
			if strings.HasPrefix(l, "。") {
				t.Fatalf("width %d: a line starts with 。: %q", w, WrapText(s, w))
			}
		}
	}
}
