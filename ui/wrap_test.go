package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
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
		{"CJK breaks anywhere", "设置您的小米账号", 6, []string{"设置您", "的小米", "账号"}},
		{"closing punctuation never starts a line", "检查网络连接、创建账号", 8, []string{"检查网络", "连接、创", "建账号"}},
		{"opening punctuation never ends a line", "选择“忘记密码”", 6, []string{"选择", "“忘记", "密码”"}},
		{"mixed keeps latin words whole", "请按 enter 继续", 8, []string{"请按", "enter 继", "续"}},
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
