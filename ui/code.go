package ui

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"misetup/api"
	"misetup/flows"
)

// codeInput is a six-digit code entry: digits only, one box per digit.
type codeInput struct {
	digits string
	stale  bool // a refused code, still shown: the next digit starts over
}

// key handles a key; it reports whether the key was used.
func (c *codeInput) key(msg tea.KeyPressMsg) bool {
	switch {
	case isKey(msg, "backspace"):
		c.stale = false
		if c.digits != "" {
			c.digits = c.digits[:len(c.digits)-1]
		}
		return true
	case isKey(msg, "ctrl+u"):
		c.digits = ""
		return true
	case len(msg.Text) == 1 && msg.Text[0] >= '0' && msg.Text[0] <= '9':
		if c.stale {
			c.digits, c.stale = "", false
		}
		if len(c.digits) < flows.CodeLength {
			c.digits += msg.Text
		}
		return true
	}
	return false
}

// paste takes the digits of pasted text (a code copied with spaces).
func (c *codeInput) paste(s string) {
	if c.stale {
		c.digits, c.stale = "", false
	}
	for _, r := range s {
		if r >= '0' && r <= '9' && len(c.digits) < flows.CodeLength {
			c.digits += string(r)
		}
	}
}

func (c *codeInput) full() bool { return len(c.digits) == flows.CodeLength }

func (c *codeInput) view(sh *shared, focused bool) string {
	var b strings.Builder
	for i := range flows.CodeLength {
		ch := "_"
		if i < len(c.digits) {
			ch = c.digits[i : i+1]
		}
		switch {
		case focused && i == len(c.digits):
			b.WriteString(sh.st.ButtonOn.Render(ch))
		case i < len(c.digits):
			b.WriteString(sh.st.Value.Render(ch))
		default:
			b.WriteString(sh.st.Muted.Render(ch))
		}
		if i < flows.CodeLength-1 {
			b.WriteString(" ")
		}
	}
	return "[ " + b.String() + " ]"
}

// resender is the "Resend code" countdown shared by the code screens: the
// challenge says when a resend is allowed; a rate-limited answer pushes it
// later.
type resender struct {
	until time.Time // a resend is allowed from then on
	tag   int       // the running tick loop
	on    bool      // a resend is in flight
	sent  bool      // a new code was just sent
}

func (r *resender) left(now time.Time) time.Duration {
	return max(r.until.Sub(now).Round(time.Second), 0)
}

// set updates the countdown from a challenge and starts the ticks.
func (r *resender) set(ch api.Challenge) tea.Cmd {
	r.until = ch.ResendAfter
	r.tag++
	return tickCmd(r.tag)
}

// wait pushes the countdown to now+d (a rate-limited resend).
func (r *resender) wait(now time.Time, d time.Duration) tea.Cmd {
	r.until = now.Add(d)
	r.tag++
	return tickCmd(r.tag)
}

// tick handles a tick: it returns the next one while counting down.
func (r *resender) tick(msg tickMsg, now time.Time) tea.Cmd {
	if msg.tag != r.tag || r.left(now) <= 0 {
		return nil
	}
	return tickCmd(r.tag)
}

// resent takes the answer to a resend: the new challenge (nil when the
// resend failed), and the countdown's next tick; a rate-limited answer
// pushes the countdown later.
func (r *resender) resent(msg resentMsg, now time.Time) (*api.Challenge, tea.Cmd) {
	r.on = false
	if msg.err != nil {
		if ue := flows.Explain(msg.err); ue.Wait > 0 {
			return nil, r.wait(now, ue.Wait)
		}
		return nil, nil
	}
	ch := msg.challenge
	r.sent = true
	return &ch, r.set(ch)
}

// resendCmd asks the service for a new code for challenge id; the answer
// is a resentMsg for step.
func resendCmd(sh *shared, id string, step flows.Step) tea.Cmd {
	ctx, cancel := sh.callCtx()
	acc := sh.deps.Accounts
	return func() tea.Msg {
		defer cancel()
		c, err := flows.Resend(ctx, acc, id)
		return resentMsg{step: step, challenge: c, err: err}
	}
}

// ready reports whether "Resend code" can be pressed now.
func (r *resender) ready(now time.Time) bool { return r.left(now) == 0 && !r.on }

// buttons are "Resend code" with its countdown and "Didn't get the
// code?", each on its line.
func (r *resender) buttons(sh *shared, resendFocused, helpFocused bool) string {
	now := sh.now()
	return sh.buttonView(r.label(sh, now), resendFocused, r.ready(now)) + "\n" +
		sh.buttonView(sh.T("code.no_code"), helpFocused, true) + "\n"
}

// status is the line under a code screen's buttons, after a blank one:
// the screen's own call in flight (busy, saying busyText), a resend in
// flight, err, or that a new code went out; "" when there is none.
func (r *resender) status(sh *shared, sp spinner.Model, busy bool, busyText string, err error) string {
	switch {
	case busy:
		return "\n" + sh.busyLine(sp, busyText)
	case r.on:
		return "\n" + sh.busyLine(sp, sh.T("code.resending"))
	case err != nil:
		return "\n" + errorView(sh, err)
	case r.sent:
		return "\n" + sh.st.OK.Render(markOK+" "+sh.T("code.resent"))
	}
	return ""
}

// label is the resend button's text with its countdown.
func (r *resender) label(sh *shared, now time.Time) string {
	if d := r.left(now); d > 0 {
		return sh.T("code.resend_in", "time", fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60))
	}
	return sh.T("code.resend")
}

// Focusable parts of the code screen.
const (
	ccCode = iota
	ccResend
	ccHelp
)

// codeScreen is the registration's code (GUIDE section 3, step 7): where
// the code went and until when it works, six digits, "Resend code" with
// its countdown, attempts left after a wrong code, and "Didn't get the
// code?". A code that no longer works says so, stops taking digits and
// offers the way to a new one. Success shows the new Mi ID.
type codeScreen struct {
	sh    *shared
	step  flows.Step
	code  codeInput
	focus focusRing
	rs    resender
	cs    codeState
	retry retrier // reading a resumed challenge while the service does not answer

	loaded bool // the challenge was read (a resumed screen reads it again)
	busy   bool
	done   *api.VerifyResponse
	spin   spinner.Model
}

func newCodeScreen(sh *shared, step flows.Step) *codeScreen {
	return &codeScreen{sh: sh, step: step, focus: focusRing{n: 3}, cs: newCodeState(), spin: newSpinner(sh)}
}

func (s *codeScreen) challenge() *api.Challenge { return s.sh.wiz.Challenge }

// Init implements Screen.
func (s *codeScreen) Init() tea.Cmd {
	ch := s.challenge()
	if ch == nil || s.done != nil {
		return nil
	}
	if ch.ExpiresAt.IsZero() && !s.loaded {
		// Resumed: only the id was saved; read the challenge again, to say
		// whether the code sent then still works.
		s.busy, s.cs.resumed = true, true
		ctx, cancel := s.sh.callCtx()
		acc, id, step := s.sh.deps.Accounts, ch.ID, s.step
		return tea.Batch(s.spin.Tick, func() tea.Msg {
			defer cancel()
			c, err := acc.Challenge(ctx, id)
			if err != nil {
				err = flows.Explain(err)
			}
			return challengeLoadedMsg{step: step, challenge: c, err: err}
		})
	}
	s.loaded = true
	s.cs.ch = ch
	return s.watch(*ch)
}

// watch starts the resend countdown of ch, and wakes the screen when the
// code expires, so it says so without a key being pressed.
func (s *codeScreen) watch(ch api.Challenge) tea.Cmd {
	cmds := []tea.Cmd{s.rs.set(ch)}
	if d := ch.ExpiresAt.Sub(s.sh.now()); !ch.ExpiresAt.IsZero() && d > 0 {
		step, id := s.step, ch.ID
		cmds = append(cmds, tea.Tick(d+time.Second, func(time.Time) tea.Msg { return codeExpiredMsg{step: step, id: id} }))
	}
	s.settle()
	return tea.Batch(cmds...)
}

// settle moves the focus to what can be done: a code that no longer works
// takes no digits, so the focus goes to the way to a new one.
func (s *codeScreen) settle() {
	if s.focus.i == ccCode && !s.cs.canType(s.sh.now()) {
		s.focus.i = ccResend
	}
}

// Update implements Screen.
func (s *codeScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	sh := s.sh
	switch msg := msg.(type) {
	case stylesChangedMsg:
		s.spin.Style = sh.st.Spinner
	case registeredMsg:
		// A new registration (esc, then sent again): start fresh.
		if msg.err == nil {
			s.code, s.cs, s.done, s.loaded = codeInput{}, newCodeState(), nil, false
			s.focus.i = ccCode
		}
		return s, nil
	case challengeLoadedMsg:
		if msg.step != s.step {
			return s, nil
		}
		s.busy, s.loaded = false, true
		if msg.err != nil {
			if flows.Explain(msg.err).Key == flows.ErrKeyNotFound {
				s.cs.gone = true
				s.settle()
			}
			s.cs.err = msg.err
			return s, s.retry.failed(msg.err, sh.now(), func() tea.Cmd { s.loaded = false; return s.Init() })
		}
		s.retry.stop()
		ch := msg.challenge
		sh.wiz.Challenge = &ch
		s.cs.ch = &ch
		return s, s.watch(ch)
	case retryTickMsg:
		return s, s.retry.tick(msg, sh.now())
	case codeExpiredMsg:
		if ch := s.challenge(); msg.step == s.step && ch != nil && ch.ID == msg.id {
			s.settle()
		}
		return s, nil
	case tickMsg:
		return s, s.rs.tick(msg, sh.now())
	case verifiedMsg:
		if msg.step != s.step {
			return s, nil
		}
		s.busy = false
		s.cs.verified(msg.err)
		if msg.err != nil {
			// A refused code stays on screen beside the error; the next
			// digit typed starts a new one.
			s.code.stale = true
			s.settle()
			return s, nil
		}
		res := msg.res
		s.done = &res
		sh.wiz.NewAccount = true
		sh.wiz.Identifier = accountLabel(res.Account)
		if res.Session != nil {
			acc := res.Session.Account
			if acc.MiID == "" {
				acc = res.Account
			}
			sh.wiz.Account, sh.wiz.LastSignIn = &acc, nil
		}
		return s, nil
	case resentMsg:
		if msg.step != s.step {
			return s, nil
		}
		ch, cmd := s.rs.resent(msg, sh.now())
		if ch == nil {
			s.cs.err = msg.err
			return s, cmd
		}
		sh.wiz.Challenge = ch
		s.cs.sent(*ch)
		s.code = codeInput{}
		s.focus.i = ccCode
		return s, tea.Batch(cmd, s.watch(*ch))
	case tea.PasteMsg:
		if s.focus.i == ccCode && !s.busy && s.done == nil && s.cs.canType(sh.now()) {
			s.code.paste(msg.Content)
			if s.code.full() {
				return s, s.verify()
			}
		}
		return s, nil
	case tea.KeyPressMsg:
		return s, s.key(msg)
	}
	return s, spin(&s.spin, s.busy || s.rs.on, msg)
}

// HandlesBack implements backBlocker: after success esc does not go back
// into a used code.
func (s *codeScreen) HandlesBack() bool { return s.done != nil }

// newCode is what the second button does now: resend the code, or, when a
// resend cannot help (too many wrong codes, a code the service forgot),
// send the registration again for a new one.
func (s *codeScreen) newCode() (label string, ready bool, run func() tea.Cmd) {
	sh := s.sh
	now := sh.now()
	switch s.cs.condition(now) {
	case codeDead, codeGone:
		return sh.T("code.new_code"), !s.rs.on, s.registerAgain
	case codeUsed:
		return sh.T("code.sign_in"), true, func() tea.Cmd { return navigateCmd(s.step, flows.StepSignIn) }
	}
	return s.rs.label(sh, now), s.rs.ready(now), s.resend
}

func (s *codeScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	sh := s.sh
	if s.done != nil {
		if isKey(msg, kEnter) {
			return s.next()
		}
		return nil
	}
	if s.busy {
		return nil
	}
	switch {
	case isKey(msg, "r", "R") && s.retry.pending():
		return s.retry.now()
	case isKey(msg, kTab, kDown):
		s.focus.next()
		s.settle()
		return nil
	case isKey(msg, kShiftTab, kUp):
		s.focus.prev()
		if s.focus.i == ccCode && !s.cs.canType(sh.now()) {
			s.focus.prev()
		}
		return nil
	}
	switch s.focus.i {
	case ccCode:
		if isKey(msg, kEnter) && !s.code.stale {
			return s.verify()
		}
		if s.code.key(msg) {
			s.rs.sent = false
			if s.code.full() {
				return s.verify()
			}
		}
	case ccResend:
		if _, ready, run := s.newCode(); isKey(msg, kEnter, kSpace) && ready {
			return run()
		}
	case ccHelp:
		if isKey(msg, kEnter, kSpace) {
			return navigateCmd(s.step, flows.StepTroubleshoot)
		}
	}
	return nil
}

func (s *codeScreen) verify() tea.Cmd {
	ch := s.challenge()
	if ch == nil || !s.cs.canType(s.sh.now()) {
		return nil
	}
	if err := flows.ValidateCode(s.code.digits); err != nil {
		s.cs.err = err
		return nil
	}
	s.busy, s.cs.err = true, nil
	ctx, cancel := s.sh.callCtx()
	acc, sess, id, code, step := s.sh.deps.Accounts, s.sh.deps.Sessions, ch.ID, s.code.digits, s.step
	dev := s.sh.wiz.Device.APIDevice(s.sh.wiz.DeviceID)
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		defer cancel()
		res, err := flows.Verify(ctx, acc, sess, id, code, &dev)
		return verifiedMsg{step: step, res: res, err: err}
	})
}

func (s *codeScreen) resend() tea.Cmd {
	ch := s.challenge()
	if ch == nil {
		return nil
	}
	s.rs.on = true
	return tea.Batch(s.spin.Tick, resendCmd(s.sh, ch.ID, s.step))
}

// registerAgain goes back to the create-account form and sends it again:
// a dead challenge cannot be resent, a new registration brings a new code.
func (s *codeScreen) registerAgain() tea.Cmd {
	step := s.step
	return func() tea.Msg { return registerAgainMsg{from: step} }
}

// next leaves after success: on to Mi Cloud when signed in, else to sign-in.
func (s *codeScreen) next() tea.Cmd {
	if s.sh.wiz.Account != nil {
		return resetToCmd(s.step, flows.StepSync)
	}
	return navigateCmd(s.step, flows.StepSignIn)
}

// Keys implements Screen.
func (s *codeScreen) Keys() []key.Binding {
	sh := s.sh
	if s.done != nil {
		return []key.Binding{sh.keyContinue()}
	}
	if s.retry.pending() {
		return []key.Binding{sh.keyRetryNow()}
	}
	switch s.focus.i {
	case ccResend:
		label, ready, _ := s.newCode()
		if !ready {
			return []key.Binding{sh.keyNextField()}
		}
		return []key.Binding{key.NewBinding(key.WithKeys(kEnter), key.WithHelp("enter", lowerFirst(label))), sh.keyNextField()}
	case ccHelp:
		return []key.Binding{sh.keyActivate(), sh.keyNextField()}
	}
	return []key.Binding{sh.bind("0-9", "key.type_code", "0"), sh.keyNextField()}
}

// View implements Screen.
func (s *codeScreen) View() string {
	sh := s.sh
	if s.done != nil {
		return s.successView()
	}
	var b strings.Builder
	for _, l := range s.cs.lines(sh) {
		b.WriteString(sh.renderLine(l) + "\n")
	}
	b.WriteString("\n")
	lw := labelWidth(sh.T("code.label"))
	typing := s.cs.canType(sh.now())
	field := s.code.view(sh, s.focus.i == ccCode && typing)
	if !typing {
		field = sh.st.ButtonOff.Render(ansi.Strip(field))
	}
	b.WriteString(sh.fieldLine(sh.T("code.label"), lw, s.focus.i == ccCode, field) + "\n")
	if t := s.cs.attemptsText(sh); t != "" {
		b.WriteString(sh.noteLine(lw, sh.st.Warn, t) + "\n")
	} else {
		b.WriteString("\n")
	}
	b.WriteString("\n")
	label, ready, _ := s.newCode()
	b.WriteString(sh.buttonView(label, s.focus.i == ccResend, ready) + "\n")
	b.WriteString(sh.buttonView(sh.T("code.no_code"), s.focus.i == ccHelp, true) + "\n")
	b.WriteString(s.rs.status(sh, s.spin, s.busy, sh.T("code.checking"), s.cs.problem(sh.now())))
	if s.retry.pending() {
		b.WriteString("\n  " + s.retry.line(sh))
	}
	return b.String()
}

func (s *codeScreen) successView() string {
	sh := s.sh
	acc := s.done.Account
	var b strings.Builder
	b.WriteString(sh.st.OK.Render(markOK+" ") + sh.st.Title.Render(sh.T("code.success")) + "\n\n")
	lw := labelWidth(sh.T("code.mi_id"), sh.T("code.signed_in_as"))
	b.WriteString("  " + sh.st.Label.Render(padRight(sh.T("code.mi_id"), lw)) + sh.st.Value.Render(flows.CleanText(acc.MiID)) + "\n")
	b.WriteString("  " + sh.st.Label.Render(padRight(sh.T("code.signed_in_as"), lw)) + sh.st.Text.Render(flows.CleanText(accountLabel(acc))) + "\n\n")
	b.WriteString(sh.paragraph(sh.st.Muted, sh.T("code.mi_id_note"), 0) + "\n\n")
	if s.sh.wiz.Account != nil {
		b.WriteString(sh.paragraph(sh.st.Text, sh.T("code.next_sync"), 0))
	} else {
		b.WriteString(sh.paragraph(sh.st.Text, sh.T("code.next_sign_in"), 0))
	}
	return b.String()
}

// Title implements titler: once the account exists, the screen is no
// longer the code step's.
func (s *codeScreen) Title() string {
	if s.done != nil {
		return s.sh.T("code.success_title")
	}
	return ""
}

// lowerFirst lowers the first letter of a button's label for the footer
// ("Resend code" → "resend code"), as the other keys' words are.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// sentTo says where a code went, masked as the service gave it.
func sentTo(sh *shared, ch api.Challenge) string {
	dest := flows.CleanText(ch.Destination)
	if ch.Channel == api.ChannelSMS {
		return sh.T("code.sent_sms", "to", dest)
	}
	return sh.T("code.sent_email", "to", dest)
}
