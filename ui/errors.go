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
	args := sh.errArgs(ue)
	msg := sh.st.Fail.Render(markFail+" ") + sh.paragraph(sh.st.Fail, sh.T(ue.Key, args...), 2)
	hint := sh.tr.TOr(ue.Hint(), "", args...)
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
	return markFail + " " + sh.T(ue.Key, sh.errArgs(ue)...)
}

// errArgs are an error's text arguments and the service's name ("server"),
// so "cannot be reached" says which service it tried.
func (sh *shared) errArgs(ue *flows.UserError) []any {
	return append(append([]any{}, ue.Args...), "server", sh.serviceName())
}

// serviceName is the account service as the person knows it: its address,
// or the built-in one.
func (sh *shared) serviceName() string {
	if sh.opts.Server == "" {
		return sh.T("common.builtin_service")
	}
	return sh.opts.Server
}
