package ui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// recheckQueued is how often a code still waiting to be sent is looked at
// again, and how many times.
const (
	recheckQueued = 2 * time.Second
	recheckTimes  = 5
)

// codeDiagnosis is "Verification code not received": the challenge's
// channel, address, delivery state and when; the courier's reason when it
// failed; "Resend code" with its countdown and "Change address".
type codeDiagnosis struct {
	sh    *shared
	entry diagnoseEntry

	diagRun
	d        *flows.CodeDiagnosis // nil while reading
	action   flows.Action         // the action in flight
	tick     int                  // the running countdown loop
	rechecks int
	acts     actionList
	spin     spinner.Model
}

func newCodeDiagnosis(sh *shared, entry diagnoseEntry) *codeDiagnosis {
	return &codeDiagnosis{sh: sh, entry: entry, spin: newSpinner(sh)}
}

// challenge is the challenge to diagnose: the reset's when opened from the
// reset's code screen, else the registration's, else the reset's; nil when
// the wizard has none (then the last one this device asked for).
func (c *codeDiagnosis) challenge() *api.Challenge {
	w := &c.sh.wiz
	if c.entry.From == flows.StepResetCode && w.ResetChallenge != nil {
		return w.ResetChallenge
	}
	if w.Challenge != nil {
		return w.Challenge
	}
	return w.ResetChallenge
}

func (c *codeDiagnosis) input() flows.CodeInput {
	in := flows.CodeInput{Typed: c.sh.wiz.Identifier, Now: c.sh.now()}
	if ch := c.challenge(); ch != nil {
		in.ChallengeID = ch.ID
	}
	return in
}

func (c *codeDiagnosis) init() tea.Cmd {
	c.rechecks = 0
	return c.diagnose()
}

// diagnose reads the challenge (or the last one remembered on disk).
func (c *codeDiagnosis) diagnose() tea.Cmd {
	c.run++
	c.busy, c.err, c.action = true, nil, flows.ActionCheckAgain
	sh := c.sh
	ctx, cancel := sh.callCtx()
	in, svc, run := c.input(), sh.deps.Accounts, c.run
	stateDir, progress := c.entry.StateDir, sh.deps.Progress
	return tea.Batch(c.spin.Tick, func() tea.Msg {
		defer cancel()
		if in.ChallengeID == "" && stateDir != "" {
			if r, ok, _ := flows.LastChallenge(stateDir, progress); ok {
				in.ChallengeID = r.ID
			}
		}
		d, err := flows.DiagnoseCode(ctx, svc, in)
		return codeDiagnosedMsg{run: run, d: d, err: err}
	})
}

func (c *codeDiagnosis) resend() tea.Cmd {
	c.run++
	c.busy, c.err, c.action = true, nil, flows.ActionResend
	sh := c.sh
	ctx, cancel := sh.callCtx()
	in, svc, run, dir := c.input(), sh.deps.Accounts, c.run, c.entry.StateDir
	if c.d != nil {
		in.ChallengeID = c.d.Challenge.ID
	}
	return tea.Batch(c.spin.Tick, func() tea.Msg {
		defer cancel()
		d, err := flows.ResendCode(ctx, svc, in)
		if err == nil && dir != "" && d.Challenge.ID != "" {
			_ = flows.RememberChallenge(dir, d.Challenge, in.Now) // only for the doctor: not worth failing for
		}
		return codeDiagnosedMsg{run: run, d: d, err: err}
	})
}

func (c *codeDiagnosis) update(msg tea.Msg) tea.Cmd {
	sh := c.sh
	switch msg := msg.(type) {
	case stylesChangedMsg:
		c.spin.Style = sh.st.Spinner
	case codeDiagnosedMsg:
		if !c.settle(msg.run, msg.err) {
			return nil
		}
		d := msg.d
		c.d = &d
		c.acts.set(d.Actions, c.enabled)
		c.keepChallenge(d.Challenge)
		c.tick++
		cmds := []tea.Cmd{diagTickCmd(c.tick)}
		if d.Cause == flows.CodeQueued && c.rechecks < recheckTimes {
			// Delivery happens in the background: look again shortly.
			c.rechecks++
			run := c.run
			cmds = append(cmds, tea.Tick(recheckQueued, func(time.Time) tea.Msg { return recheckMsg{run: run} }))
		}
		return tea.Batch(cmds...)
	case recheckMsg:
		if msg.run == c.run && !c.busy {
			return c.diagnose()
		}
	case diagTickMsg:
		if msg.tag == c.tick && c.d != nil && c.d.ResendAt.After(sh.now()) {
			return diagTickCmd(c.tick)
		}
	case tea.KeyPressMsg:
		return c.key(msg)
	}
	return spin(&c.spin, c.busy, msg)
}

// recheckMsg asks the code diagnosis to look again at a code not sent yet.
type recheckMsg struct{ run int }

// keepChallenge puts a challenge read or resent back into the wizard's
// state, so the code screen shows the same countdown.
func (c *codeDiagnosis) keepChallenge(ch api.Challenge) {
	if ch.ID == "" {
		return
	}
	w := &c.sh.wiz
	switch {
	case w.Challenge != nil && w.Challenge.ID == ch.ID:
		*w.Challenge = ch
	case w.ResetChallenge != nil && w.ResetChallenge.ID == ch.ID:
		*w.ResetChallenge = ch
	}
}

func (c *codeDiagnosis) key(k tea.KeyPressMsg) tea.Cmd {
	if c.busy {
		return nil
	}
	if isKey(k, "r") {
		return c.diagnose()
	}
	if c.acts.key(k) {
		return nil
	}
	if !isKey(k, kEnter, kSpace) {
		return nil
	}
	act, ok := c.acts.current()
	if !ok || !c.enabled(act) {
		return nil
	}
	switch act {
	case flows.ActionResend:
		return c.resend()
	case flows.ActionCheckAgain:
		c.rechecks = 0
		return c.diagnose()
	case flows.ActionChangeAddress:
		// A new challenge: the form that made this one, with its answers.
		to := flows.StepCreate
		if c.d != nil && c.d.Challenge.Purpose == api.PurposePasswordReset {
			to = flows.StepReset
		}
		return navigateCmd(flows.StepTroubleshoot, to)
	}
	return nil
}

func (c *codeDiagnosis) enabled(a flows.Action) bool {
	if c.busy {
		return false
	}
	if a == flows.ActionResend && c.d != nil {
		return !c.d.ResendAt.After(c.sh.now())
	}
	return true
}

func (c *codeDiagnosis) label(a flows.Action) string {
	sh := c.sh
	if a == flows.ActionResend && c.d != nil {
		if left := c.d.ResendAt.Sub(sh.now()); left > 0 {
			return sh.T("ts.action.resend_in", "time", countdown(left))
		}
	}
	return sh.T("ts.action." + string(a))
}

func (c *codeDiagnosis) keys() []key.Binding {
	sh := c.sh
	if c.busy {
		return nil
	}
	keys := []key.Binding{}
	if len(c.acts.actions) > 0 {
		keys = append(keys, sh.keyActivate(), sh.keyMove())
	}
	return append(keys, sh.bind("r", "ts.key.check_again", "r"))
}

func (c *codeDiagnosis) capturesText() bool { return false }

func (c *codeDiagnosis) view() string {
	sh := c.sh
	var b strings.Builder
	b.WriteString(sh.st.Title.Render(sh.T("ts.problem.code")) + "\n\n")
	if c.d == nil {
		switch {
		case c.err != nil:
			b.WriteString(errorView(sh, c.err) + "\n\n" + sh.st.Muted.Render(sh.T("ts.retry_hint")))
		default:
			b.WriteString(sh.busyLine(c.spin, sh.T("ts.code.reading")))
		}
		return b.String()
	}
	d := c.d
	if ch := d.Challenge; ch.ID != "" {
		b.WriteString(c.facts(*d) + "\n\n")
	}
	b.WriteString(sh.findingView(d.Diagnosis) + "\n")
	if sh.opts.Server == "" && d.Challenge.Delivery.State == api.DeliverySent && d.Cause != flows.CodeVerified {
		b.WriteString("  " + sh.paragraph(sh.st.Muted, sh.T("ts.code.outbox"), 2) + "\n")
	}
	if len(c.acts.actions) > 0 {
		b.WriteString("\n" + c.acts.view(sh, true, c.label, c.enabled) + "\n")
	}
	switch {
	case c.busy && c.action == flows.ActionResend:
		b.WriteString("\n" + sh.busyLine(c.spin, sh.T("code.resending")))
	case c.busy:
		b.WriteString("\n" + sh.busyLine(c.spin, sh.T("ts.checking")))
	case c.err != nil:
		b.WriteString("\n" + errorView(sh, c.err))
	}
	return b.String()
}

// facts are what the service says of the code: channel, address,
// delivery.
func (c *codeDiagnosis) facts(d flows.CodeDiagnosis) string {
	sh := c.sh
	ch := d.Challenge
	labels := []string{sh.T("ts.code.channel"), sh.T("ts.code.address"), sh.T("ts.code.delivery")}
	lw := labelWidth(labels...)
	row := func(label, value string) string {
		return "  " + sh.st.Label.Render(padRight(label, lw)) + value
	}
	channel := sh.T("ts.code.channel_" + ch.Channel)
	var delivery string
	at := ""
	if ch.Delivery.At != nil {
		at = ch.Delivery.At.Local().Format("15:04")
	}
	switch ch.Delivery.State {
	case api.DeliverySent:
		delivery = sh.st.OK.Render(sh.T("ts.code.delivery_sent", "time", at))
	case api.DeliveryFailed:
		delivery = sh.st.Fail.Render(sh.T("ts.code.delivery_failed", "time", at))
	default:
		delivery = sh.st.Warn.Render(sh.T("ts.code.delivery_queued"))
	}
	return strings.Join([]string{
		row(labels[0], sh.st.Text.Render(channel)),
		row(labels[1], sh.st.Value.Render(flows.CleanText(d.Address))),
		row(labels[2], delivery),
	}, "\n")
}
