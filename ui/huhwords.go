package ui

import (
	"io"
	"regexp"
	"sync"
)

// huhWords is plain mode's output with the words huh's accessible prompts
// have built in (huh v2.0.3 writes "Enter a number between 1 and 2: " in
// English whatever the language) said in the wizard's language instead. A
// prompt is one write, so each is put into words as it passes, never held
// back: the prompt shows before its answer is read.
type huhWords struct {
	w  io.Writer
	sh *shared
}

// huhPhrase is a text huh writes, the catalog key of its words and the
// names of its numbers, in order.
type huhPhrase struct {
	re   *regexp.Regexp
	key  string
	args []string
}

// huhPhrases are compiled when plain mode first asks something, not when
// the program starts.
var huhPhrases = sync.OnceValue(func() []huhPhrase {
	return []huhPhrase{
		{regexp.MustCompile(`Enter a number between (\d+) and (\d+): `), "plain.huh.number_between", []string{"lo", "hi"}},
		{regexp.MustCompile(`Select up to (\d+) options\.`), "plain.huh.select_up_to", []string{"n"}},
		{regexp.MustCompile(`Confirm selection`), "plain.huh.confirm_selection", nil},
		{regexp.MustCompile(`You can't select more than (\d+) options\.`), "plain.huh.too_many", []string{"n"}},
		{regexp.MustCompile(`Invalid: must be a number between (\d+) and (\d+)`), "plain.huh.must_be_between", []string{"lo", "hi"}},
		{regexp.MustCompile(`Invalid: must be (\d+)`), "plain.huh.must_be", []string{"n"}},
		{regexp.MustCompile(`invalid input\. please try again`), "plain.huh.yes_or_no", nil},
	}
})

func (h huhWords) Write(b []byte) (int, error) {
	s := string(b)
	for _, p := range huhPhrases() {
		s = p.re.ReplaceAllStringFunc(s, func(m string) string {
			sub := p.re.FindStringSubmatch(m)
			args := make([]any, 0, 2*len(p.args))
			for i, name := range p.args {
				args = append(args, name, sub[i+1])
			}
			return h.sh.T(p.key, args...)
		})
	}
	if _, err := io.WriteString(h.w, s); err != nil {
		return 0, err
	}
	return len(b), nil
}
