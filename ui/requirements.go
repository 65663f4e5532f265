package ui

import (
	"context"
	"strings"

	"misetup/flows"
)

// requirementsStep is step 2 (GUIDE section 2): the checks run at once,
// each row with its own spinner and then a mark, a finding and a fix;
// enter goes on once they passed (warnings do not stop it), r runs them
// again. One description, drawn full screen by stepView and as plain
// prompts by plain.runStep ("Check again?" when one failed).
func (sh *shared) requirementsStep() *step {
	st := &step{
		busy:     sh.T("req.running"),
		again:    sh.T("acc.check_again"),
		footKeys: true,
		instant:  true,
		ready:    func() bool { return sh.checksDone() && sh.checkReport().OK() },
		ran:      func() bool { return sh.wiz.Checks != nil },
		run: func(context.Context, values) (outcome, error) {
			return outcome{to: flows.StepDevice}, nil
		},
	}
	checker := sh.deps.Checker
	st.tasks = func() []func(context.Context) func(*shared) {
		sh.wiz.Checks = map[string]flows.Finding{}
		var fns []func(context.Context) func(*shared)
		for _, name := range flows.Checks() {
			fns = append(fns, func(ctx context.Context) func(*shared) { return recordFinding(checker.Run(ctx, name)) })
		}
		return fns
	}
	st.keys = []stepKey{{key: "r", help: "key.rerun", rerun: true, when: sh.checksDone}}
	// The findings matter most; in a short window the introduction goes,
	// then the closing line (the footer still names the keys).
	layout := func() (intro, rows, status string, room int) {
		rows = sh.checkRows(st.frame)
		return sh.paragraph(sh.st.Text, sh.T("req.intro"), 0), rows, sh.checkStatus(), sh.bodyHeight() - lipglossHeight(rows)
	}
	st.body = func(int) string {
		intro, rows, status, room := layout()
		if lipglossHeight(intro)+1+1+lipglossHeight(status) <= room {
			return intro + "\n\n" + rows
		}
		return rows
	}
	st.foot = func() string {
		_, _, status, room := layout()
		if 1+lipglossHeight(status) <= room {
			return status
		}
		return ""
	}
	return st
}

// recordFinding records a check's finding in the answers (the network's
// kind too, for Mi Cloud's Wi-Fi advice).
func recordFinding(f flows.Finding) func(*shared) {
	return func(sh *shared) {
		if sh.wiz.Checks == nil {
			sh.wiz.Checks = map[string]flows.Finding{}
		}
		sh.wiz.Checks[f.Check] = f
		if f.Check == flows.CheckNetwork {
			sh.wiz.Network, sh.wiz.Iface = f.Network, f.Interface
		}
	}
}

func (sh *shared) checksDone() bool { return len(sh.wiz.Checks) == len(flows.Checks()) }

func (sh *shared) checkReport() flows.Report {
	var r flows.Report
	for _, name := range flows.Checks() {
		if f, ok := sh.wiz.Checks[name]; ok {
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

// checkStatus is the line under the checks: running, blocked, warnings or
// all set.
func (sh *shared) checkStatus() string {
	switch r := sh.checkReport(); {
	case !sh.checksDone():
		return sh.st.Muted.Render(sh.T("req.running"))
	case !r.OK():
		return sh.paragraph(sh.st.Fail, sh.T("req.blocked"), 0)
	case r.Worst() == flows.LevelWarn:
		return sh.paragraph(sh.st.Warn, sh.T("req.warnings"), 0)
	default:
		return sh.paragraph(sh.st.OK, sh.T("req.all_ok"), 0)
	}
}

// checkRows is one row per check: mark, name, finding and fix; a check
// still at work shows frame (the spinner; nil: none).
func (sh *shared) checkRows(frame func() string) string {
	var rows strings.Builder
	labels := make([]string, 0, 4)
	for _, name := range flows.Checks() {
		labels = append(labels, sh.T("req."+name))
	}
	lw := labelWidth(labels...)
	indent := 2 + lw
	for i, name := range flows.Checks() {
		f, ok := sh.wiz.Checks[name]
		var mark, finding string
		switch {
		case !ok:
			mark, finding = " ", sh.st.Muted.Render(sh.T("req.checking"))
			if frame != nil {
				mark = frame()
			}
		default:
			mark = sh.levelMark(f.Level)
			finding = sh.paragraph(sh.levelStyle(f.Level), sh.Text(f.Msg), indent)
		}
		rows.WriteString(mark + " " + sh.st.Label.Render(padRight(labels[i], lw)) + finding + "\n")
		if ok && !f.Fix.IsZero() {
			rows.WriteString(strings.Repeat(" ", indent) + sh.paragraph(sh.st.Muted, sh.Text(f.Fix), indent) + "\n")
		}
	}
	return strings.TrimRight(rows.String(), "\n")
}
