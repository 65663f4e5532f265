package ui

import (
	"strings"

	"misetup/flows"
)

// passwordChecklist renders the live rules of a new password in two
// columns (one at narrow widths): the four structural rules from flows,
// "not a common password" from the service's answer, and whether the
// confirmation matches.
func (sh *shared) passwordChecklist(pw, confirm, commonRefused string) string {
	// Every frame of the create form draws it, whichever field a key went
	// to: drawn again only when what it shows may change.
	memo := checklistMemo{pw, confirm, commonRefused, sh.tr.Lang(), sh.bodyWidth(), sh.stGen}
	if memo == sh.checklist.in && sh.checklist.view != "" {
		return sh.checklist.view
	}
	view := sh.drawChecklist(pw, confirm, commonRefused)
	sh.checklist.in, sh.checklist.view = memo, view
	return view
}

// checklistMemo is what the password checklist is drawn from.
type checklistMemo struct {
	pw, confirm, commonRefused, lang string
	width, stGen                     int
}

func (sh *shared) drawChecklist(pw, confirm, commonRefused string) string {
	c := flows.CheckPassword(pw, commonRefused)
	type line struct {
		state flows.RuleState
		text  string
	}
	var lines []line
	for _, r := range flows.Rules() {
		st := c.State[r]
		if pw == "" && r != flows.RuleCommon {
			st = flows.RuleUnknown
		}
		lines = append(lines, line{st, sh.T("pw.rule."+string(r), "min", flows.PasswordMinLen)})
	}
	match := flows.RuleUnknown
	if confirm != "" {
		match = flows.RuleUnmet
		if confirm == pw {
			match = flows.RuleMet
		}
	}
	lines = append(lines, line{match, sh.T("pw.rule.match")})

	cells := make([]string, len(lines))
	for i, l := range lines {
		var m string
		switch l.state {
		case flows.RuleMet:
			m = sh.st.OK.Render(markOK)
		case flows.RuleUnmet:
			m = sh.st.Fail.Render(markFail)
		default:
			m = sh.st.Muted.Render(markPending)
		}
		st := sh.st.Muted
		if l.state == flows.RuleUnmet {
			st = sh.st.Fail
		}
		cells[i] = m + " " + st.Render(l.text)
	}
	colW := 0
	for _, l := range lines[:3] {
		colW = max(colW, len([]rune(l.text)))
	}
	colW = labelWidth(lines[0].text, lines[1].text, lines[2].text) + 2
	var b strings.Builder
	if 4+colW+labelWidth(lines[3].text, lines[4].text, lines[5].text) > sh.bodyWidth() {
		for _, c := range cells {
			b.WriteString("  " + c + "\n")
		}
		return strings.TrimRight(b.String(), "\n")
	}
	for i := range 3 {
		b.WriteString("  " + padRight(cells[i], colW+2) + cells[i+3] + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// newPasswordFields are a new password (its label a catalog key) and its
// confirmation, with the live checklist right under them: the create
// form's and the reset's. A password the service refused as a common one
// (noteCommonRefusal) is marked on the checklist.
func (sh *shared) newPasswordFields(label string) []field {
	return []field{
		{key: "password", kind: fieldSecret, label: sh.T(label), limit: flows.PasswordMaxLen,
			placeholder: sh.T("create.password_placeholder", "min", flows.PasswordMinLen), rule: true,
			on: []string{flows.ErrKeyPasswordEmpty, flows.ErrKeyPasswordRules, flows.ErrKeyWeakPassword}},
		{key: "confirm", kind: fieldSecret, label: sh.T("create.confirm"), limit: flows.PasswordMaxLen,
			placeholder: sh.T("create.confirm_placeholder"), on: []string{flows.ErrKeyPasswordMismatch},
			hint: func(v values) string {
				return sh.passwordChecklist(v.text("password"), v.text("confirm"), sh.wiz.CommonRefused)
			}, hintLead: sh.T("pw.rules"), tight: true},
	}
}

// checkNewPassword is what is wrong with the new password of newPasswordFields
// as typed in v; nil when nothing.
func (sh *shared) checkNewPassword(v values) error {
	return flows.ValidateNewPassword(v.text("password"), v.text("confirm"), sh.wiz.CommonRefused)
}

// noteCommonRefusal keeps the password the service refused as a common
// one (err), so the checklist marks it.
func noteCommonRefusal(sh *shared, v values, err error) {
	if flows.IsCommonRefusal(err) {
		sh.wiz.CommonRefused = v.text("password")
	}
}
