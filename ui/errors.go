package ui

import (
	"misetup/flows"
)

// errorView is the only place in ui where errors become text. Every error is
// explained by flows into a catalog key, so a raw Go error string ("EOF",
// "context deadline exceeded") never reaches the screen.
func errorView(sh *shared, err error) string {
	ue := flows.Explain(err)
	if ue == nil {
		return ""
	}
	msg := sh.st.Fail.Render(markFail+" ") + sh.paragraph(sh.st.Fail, sh.T(ue.Key, ue.Args...), 2)
	hint := sh.tr.TOr(ue.Hint(), "", ue.Args...)
	if hint == "" {
		return msg
	}
	return msg + "\n  " + sh.paragraph(sh.st.Muted, hint, 2)
}

// errorText is errorView's sentence alone with its mark, unstyled, for a
// field's status line.
func errorText(sh *shared, err error) string {
	ue := flows.Explain(err)
	if ue == nil {
		return ""
	}
	return markFail + " " + sh.T(ue.Key, ue.Args...)
}
