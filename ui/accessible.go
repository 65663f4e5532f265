package ui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"charm.land/huh/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"misetup/api"
	"misetup/assets"
	"misetup/flows"
)

// RunAccessible runs the wizard as plain prompts, one after another, for
// screen readers and dumb terminals (ACCESSIBLE=1, --accessible, TERM=dumb):
// huh forms in accessible mode, no full-screen UI, no alternate screen. The
// steps, checks and calls are the same flows the full-screen wizard uses.
func RunAccessible(ctx context.Context, deps Deps, opts Options, in io.Reader, out io.Writer, environ []string) error {
	tr := assets.MustLoad(language(opts, ""))
	p := &plain{
		sh: &shared{ctx: ctx, deps: deps, opts: opts, tr: tr, st: NewStyles(true), width: plainWidth(out), height: 200},
		// The styling huh writes is stripped (or downsampled) for what out supports.
		out: colorprofile.NewWriter(out, environ),
	}
	p.sh.wiz.Region = p.sh.defaultRegion()
	p.sh.wiz.Method = api.MethodPhone
	p.in = newLineReader(in, deps.Interrupt)
	if f, ok := in.(*os.File); ok && term.IsTerminal(f.Fd()) {
		p.tty = f
	}
	err := p.run()
	for errors.Is(err, errKioskReset) {
		p.kioskReset()
		err = p.run()
	}
	switch {
	case errors.Is(err, errQuit), errors.Is(err, huh.ErrUserAborted), errors.Is(err, io.EOF):
		p.saveProgress()
		if p.step.InFlow() {
			p.say("")
			p.say(p.sh.T("exit.saved"))
		}
		return nil
	case err != nil:
		return err
	}
	return nil
}

// errQuit ends the plain wizard early (the person chose to stop).
var errQuit = errors.New("quit")

// plain is the wizard as plain prompts.
type plain struct {
	sh   *shared
	in   *lineReader
	tty  *os.File // the terminal, for password prompts without echo; nil when not one
	out  io.Writer
	step flows.Step

	pinWrong    int       // kiosk mode: wrong staff PINs in a row
	pinLockedTo time.Time // kiosk mode: no PIN is taken until then
}

func (p *plain) T(key string, args ...any) string { return p.sh.T(key, args...) }

// say prints text, wrapped at the width of the lines (plainWidth).
func (p *plain) say(text string) {
	fmt.Fprintln(p.out, strings.Join(wrapText(text, p.sh.width), "\n"))
}

// plainWidth is the width plain text is wrapped at: 80 columns, or the
// terminal's when out is a narrower one (at 60 columns the terminal wrapped
// the wizard's 80-column lines again, a word or two a line).
func plainWidth(out io.Writer) int {
	if f, ok := out.(*os.File); ok && term.IsTerminal(f.Fd()) {
		if w, _, err := term.GetSize(f.Fd()); err == nil && w >= 20 {
			return min(w, designWidth)
		}
	}
	return designWidth
}

// show prints preformatted text (already wrapped), without styling and
// without the bars of a meter, which a screen reader would read out
// block by block: the words beside say the same.
func (p *plain) show(text string) {
	lines := strings.Split(meterBars.Replace(ansi.Strip(text)), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	fmt.Fprintln(p.out, strings.Join(lines, "\n"))
}

var meterBars = strings.NewReplacer("█", "", "░", "")

// sayErr prints an error as its sentences.
func (p *plain) sayErr(err error) {
	p.show(errorView(p.sh, err))
}

// heading prints the step header.
func (p *plain) heading(s flows.Step) {
	p.step = s
	p.saveProgress()
	title := p.T("step." + s.String() + ".title")
	if n := s.Number(); n > 0 {
		title = p.T("app.step", "n", n, "m", flows.StepsTotal) + " · " + title
	}
	p.say("")
	p.say(title)
	p.say(strings.Repeat("-", min(ansi.StringWidth(title), p.sh.width)))
}

// form runs one field as an accessible huh form. ctrl+c, at the prompt or
// before it, asks first, as the full-screen wizard does: quitting returns
// errQuit (the progress is saved on the way out); staying asks the field
// again.
func (p *plain) form(f huh.Field, secret bool) error {
	for {
		if p.in.takeInterrupt() {
			if err := p.askQuit(); err != nil {
				return err
			}
			continue
		}
		var r io.Reader = p.in
		if secret && p.tty != nil {
			r = p.tty // huh reads passwords without echo from the terminal itself
		}
		err := p.runForm(f, r)
		if p.in.takeIdle() {
			if err := p.stillThere(); err != nil {
				return err
			}
			continue // back where they were: the same question
		}
		if p.in.takeInterrupt() {
			if err := p.askQuit(); err != nil {
				return err
			}
			continue
		}
		if err == nil && p.in.eof() {
			return io.EOF
		}
		return err
	}
}

// runForm runs one field as an accessible huh form reading r. huh's
// accessible select indexes its options with the last line typed when the
// input ends right after a wrong answer (huh v2.0.3: "abc" then EOF is
// option -1, a panic); the input having ended, that is the end of the
// input here.
func (p *plain) runForm(f huh.Field, r io.Reader) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if !p.in.eof() {
				panic(v)
			}
			err = io.EOF
		}
	}()
	return huh.NewForm(huh.NewGroup(f)).WithAccessible(true).WithInput(r).WithOutput(huhWords{w: p.out, sh: p.sh}).
		WithShowHelp(false).RunWithContext(p.sh.ctx)
}

// askQuit is ctrl+c in plain mode: the full-screen wizard's question, in
// its words. Yes (or a second ctrl+c, or the end of the input) returns
// errQuit; no returns nil, to ask the interrupted question again. Before the
// first step nothing is lost: it quits at once.
func (p *plain) askQuit() error {
	if p.sh.opts.Kiosk != nil {
		return p.askPIN()
	}
	if !p.step.InFlow() {
		return errQuit
	}
	p.say("")
	p.say(p.T("quit.title"))
	p.say(p.T("quit.body"))
	quit := true // enter quits, as y does on the full screen
	err := huh.NewForm(huh.NewGroup(huh.NewConfirm().Title(p.T("quit.title")).
		Affirmative(p.T("key.quit_yes")).Negative(p.T("key.quit_no")).Value(&quit))).
		WithAccessible(true).WithInput(p.in).WithOutput(p.out).WithShowHelp(false).RunWithContext(p.sh.ctx)
	if err != nil || quit || p.in.takeInterrupt() || p.in.eof() {
		return errQuit
	}
	return nil
}

func (p *plain) ask(title, value string, secret bool) (string, error) {
	if value != "" && !secret {
		title += " [" + value + "]" // enter keeps it; a password is never shown back
	}
	in := huh.NewInput().Title(title).Value(&value)
	if secret && p.tty != nil {
		in.EchoMode(huh.EchoModePassword)
	}
	err := p.form(in, secret)
	return strings.TrimSpace(value), err
}

func (p *plain) choose(title string, options []string, chosen int) (int, error) {
	opts := make([]huh.Option[int], len(options))
	for i, o := range options {
		opts[i] = huh.NewOption(o, i)
	}
	err := p.form(huh.NewSelect[int]().Title(title).Options(opts...).Value(&chosen), false)
	return chosen, err
}

func (p *plain) confirm(title string, value bool) (bool, error) {
	err := p.form(huh.NewConfirm().Title(title).Affirmative(p.T("common.yes")).Negative(p.T("common.no")).Value(&value), false)
	return value, err
}

func (p *plain) saveProgress() {
	if p.sh.deps.Progress == nil || p.step == flows.StepWelcome {
		return
	}
	w := p.sh.wiz
	pr := flows.Progress{Step: p.step.String(), Lang: p.sh.tr.Lang(), Method: w.Method, Identifier: w.Identifier,
		Region: w.Region, Device: w.Device, SavedAt: p.sh.now(), Finished: w.Finished}
	if w.Challenge != nil && w.Challenge.State != api.ChallengeVerified {
		pr.ChallengeID = w.Challenge.ID
	}
	_ = p.sh.deps.Progress.SaveProgress(pr)
}

// call runs one call to the service with its timeout.
func call[T any](p *plain, f func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := p.sh.callCtx()
	defer cancel()
	return f(ctx)
}

// run walks the steps.
func (p *plain) run() error {
	sh := p.sh
	// The saved run first: its language is the person's choice, which beats
	// the locale's.
	var saved *flows.Progress
	if sh.deps.Progress != nil {
		if pr, ok, _ := sh.deps.Progress.LoadProgress(); ok {
			saved = &pr
			sh.tr = assets.MustLoad(language(sh.opts, pr.Lang))
		}
	}
	if sh.opts.Hub {
		p.start()
		return p.runPages(sh.hubHome())
	}
	// The welcome: what the wizard does, and the language.
	if _, err := p.runStep(sh.welcomeStep(), flows.Text{}, false); err != nil {
		return err
	}
	if k := sh.opts.Kiosk; k != nil {
		// A customer has started: from now on, one who walks away is asked.
		p.in.idleAfter = k.idleAfter()
	}
	if l := lockOf(sh.deps.Sessions); l != nil {
		p.say("")
		p.show(sh.lockedText(*l))
	}
	p.start()
	step, err := p.resume(saved)
	if err != nil {
		return err
	}
	for {
		var next flows.Step
		switch step {
		case flows.StepRequirements:
			next, err = p.wizardStep(flows.StepRequirements, sh.requirementsStep)
		case flows.StepDevice:
			next, err = p.wizardStep(flows.StepDevice, sh.deviceStep)
		case flows.StepAccount:
			next, err = p.wizardStep(flows.StepAccount, sh.accountStep)
		case flows.StepCreate:
			next, err = p.wizardStep(flows.StepCreate, sh.createStep)
		case flows.StepCode:
			next, err = p.wizardStep(flows.StepCode, sh.codeStep)
		case flows.StepSignIn:
			next, err = p.wizardStep(flows.StepSignIn, sh.signInStep)
		case flows.StepReset:
			next, err = p.wizardStep(flows.StepReset, sh.resetStep)
		case flows.StepResetCode:
			next = flows.StepReset // resumed without its code: ask for a new one
			if sh.wiz.ResetChallenge != nil {
				next, err = p.wizardStep(flows.StepResetCode, sh.resetCodeStep)
			}
		case flows.StepHandoff:
			next, err = p.wizardStep(flows.StepHandoff, sh.handoffStep)
		case flows.StepRestore:
			next, err = p.wizardPage(flows.StepRestore, sh.restorePage())
		case flows.StepSync:
			next, err = p.wizardPage(flows.StepSync, p.sh.syncPage())
		case flows.StepFindDevice:
			next, err = p.wizardStep(flows.StepFindDevice, sh.findDeviceStep)
		case flows.StepHub:
			return p.runPages(sh.hubHome())
		default:
			if err := p.summary(); err != nil {
				return err
			}
			if sh.opts.Kiosk != nil {
				return p.handBack()
			}
			return nil
		}
		if err != nil {
			return err
		}
		step = next
	}
}

// start opens the account service and reads this device.
func (p *plain) start() {
	sh := p.sh
	if sh.deps.Start != nil {
		if sh.opts.Server == "" { // the built-in service: opening it takes a moment
			p.say(p.T("acc.starting"))
		}
		if err := sh.deps.Start(sh.ctx); err != nil {
			p.sayErr(err)
		}
	}
	sh.wiz.Device = sh.deps.System.Device()
	if n := sh.defaults().DeviceName; n != "" {
		sh.wiz.Device.Name = n
	}
	if sh.deps.DeviceID != nil {
		if id, err := sh.deps.DeviceID(); err == nil {
			sh.wiz.DeviceID = id
		}
	}
}

// resume offers to continue a saved run (saved, nil when none), as the
// welcome screen does (resumeOffer); it returns the first step.
func (p *plain) resume(saved *flows.Progress) (flows.Step, error) {
	sh := p.sh
	var acc api.Account
	signedIn := false
	if sh.deps.Sessions != nil && sh.deps.Accounts != nil {
		ctx, cancel := sh.callCtx()
		acc, signedIn, _ = flows.Restore(ctx, sh.deps.Accounts, sh.deps.Sessions)
		cancel()
	}
	if saved == nil && !signedIn {
		return flows.StepRequirements, nil
	}
	var pr flows.Progress
	if saved != nil {
		pr = *saved
	}
	to := flows.ResumeStep(pr, signedIn)
	if to == flows.StepRequirements {
		return to, nil
	}
	w := &sh.wiz
	if signedIn {
		w.Account = &acc
	}
	w.Resume, w.ResumeStep = &pr, to
	o := resumeOffer(sh)
	w.Resume = nil
	p.say("")
	p.say(o.title)
	for _, l := range o.lines {
		p.say(l)
	}
	yes, err := p.confirm(o.question, true)
	if err != nil {
		return 0, err
	}
	if !yes {
		_ = sh.deps.Progress.ClearProgress()
		if sh.deps.Sessions != nil {
			_ = sh.deps.Sessions.ClearToken()
		}
		sh.deps.Accounts.SetToken("")
		w.Account = nil
		return flows.StepRequirements, nil
	}
	w.Finished = pr.Finished
	if to == flows.StepSummary && w.Finished && sh.hubReady() {
		return flows.StepHub, nil
	}
	if pr.Method != "" {
		w.Method = pr.Method
	}
	if pr.Region != "" {
		w.Region = pr.Region
	}
	w.Identifier = pr.Identifier
	if pr.Device.Name != "" {
		w.Device = pr.Device
	}
	if to == flows.StepCode {
		w.Challenge = &api.Challenge{ID: pr.ChallengeID, State: api.ChallengePending}
	}
	return to, nil
}

// diagnoseCode is "Didn't get the code?" in plain text: the code
// diagnosis of the challenge, its finding, fix and notes.
func (p *plain) diagnoseCode(c api.Challenge) {
	sh := p.sh
	in := flows.CodeInput{ChallengeID: c.ID, Typed: sh.wiz.Identifier, Now: sh.now()}
	d, err := call(p, func(ctx context.Context) (flows.CodeDiagnosis, error) {
		return flows.DiagnoseCode(ctx, sh.deps.Accounts, in)
	})
	if err != nil {
		p.sayErr(err)
		return
	}
	p.say(sh.renderText(d.Finding))
	if !d.Fix.IsZero() {
		p.say(sh.renderText(d.Fix))
	}
	for _, n := range d.Notes {
		p.say(sh.renderText(n))
	}
	if sh.opts.Server == "" && d.Challenge.Delivery.State == api.DeliverySent && d.Cause != flows.CodeVerified {
		p.say(p.T("ts.code.outbox"))
	}
}

// helpHere is troubleshooting asked for from the step p is on: plain
// mode says the diagnosis of that step's code right here.
func (p *plain) helpHere() {
	if c := p.sh.code(p.step); c.ch != nil {
		p.diagnoseCode(*c.ch)
	}
}

// registerAgain sends the registration again for a new code (a code that
// no longer works cannot be resent), or, when the password is not known
// (a resumed run keeps none), goes back to the form to type it again.
func (p *plain) registerAgain() (flows.Step, error) {
	sh := p.sh
	reg := sh.wiz.Registration
	if reg == nil || reg.Password == "" {
		p.say(p.T("create.again"))
		return flows.StepCreate, nil
	}
	p.say(p.T("create.sending"))
	ch, err := call(p, func(ctx context.Context) (api.Challenge, error) { return flows.Register(ctx, sh.deps.Accounts, *reg) })
	if err != nil {
		p.sayErr(err)
		return flows.StepCreate, nil
	}
	sh.wiz.Challenge, sh.wiz.Code = &ch, newCodeState()
	p.remember(ch)
	return flows.StepCode, nil
}

func (p *plain) summary() error {
	p.sh.wiz.Finished = true
	if _, err := p.wizardStep(flows.StepSummary, p.sh.summaryStep); err != nil {
		return err
	}
	p.say(p.T("exit.done"))
	return nil
}

// lineReader hands out its input one line per Read, so each accessible
// prompt (huh builds a new bufio.Scanner per prompt) gets exactly its line,
// and remembers when the input ended. With an interrupt channel (ctrl+c
// in a terminal), a Read waiting for a line ends at an interrupt: the
// prompt gives up, and the plain wizard asks whether to quit; the line
// being read is kept for the next Read.
type lineReader struct {
	br   *bufio.Reader
	intr <-chan struct{} // nil: no interrupts
	// idleAfter ends a Read that waited this long for a line (kiosk
	// mode's "Still there?"); 0 waits for ever.
	idleAfter time.Duration
	idled     bool

	mu          sync.Mutex
	rest        []byte // what a short Read left of a line
	end         bool
	interrupted bool
	pending     chan lineRead // a line being read; nil when none
}

type lineRead struct {
	line []byte
	err  error
}

func newLineReader(r io.Reader, intr <-chan struct{}) *lineReader {
	return &lineReader{br: bufio.NewReader(r), intr: intr}
}

// Read implements io.Reader.
func (l *lineReader) Read(b []byte) (int, error) {
	l.mu.Lock()
	if len(l.rest) > 0 {
		n := copy(b, l.rest)
		l.rest = l.rest[n:]
		l.mu.Unlock()
		return n, nil
	}
	if l.end {
		l.mu.Unlock()
		return 0, io.EOF
	}
	if l.pending == nil {
		ch := make(chan lineRead, 1)
		l.pending = ch
		go func() {
			line, err := l.br.ReadBytes('\n')
			ch <- lineRead{line, err}
		}()
	}
	pending := l.pending
	l.mu.Unlock()

	var idle <-chan time.Time // nil: never
	if l.idleAfter > 0 {
		t := time.NewTimer(l.idleAfter)
		defer t.Stop()
		idle = t.C
	}
	var r lineRead
	select {
	case r = <-pending:
	case <-l.intr: // nil when there are none: never ready
		l.mu.Lock()
		l.interrupted = true
		l.mu.Unlock()
		return 0, errInterrupted
	case <-idle:
		l.mu.Lock()
		l.idled = true
		l.mu.Unlock()
		return 0, errIdle
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = nil
	if r.err != nil {
		l.end = true
		if len(r.line) == 0 {
			return 0, r.err
		}
	}
	n := copy(b, r.line)
	l.rest = r.line[n:]
	return n, nil
}

func (l *lineReader) eof() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end && len(l.rest) == 0
}

// takeInterrupt reports whether an interrupt came since the last call,
// during a Read or between two.
func (l *lineReader) takeInterrupt() bool {
	l.mu.Lock()
	was := l.interrupted
	l.interrupted = false
	l.mu.Unlock()
	if was {
		return true
	}
	select {
	case <-l.intr:
		return true
	default:
		return false
	}
}

// errInterrupted ends a Read cut short by ctrl+c.
var errInterrupted = errors.New("interrupted")

// errIdle ends a Read that waited idleAfter for a line.
var errIdle = errors.New("idle")

// takeIdle reports whether a Read gave up waiting since the last call.
func (l *lineReader) takeIdle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.idled
	l.idled = false
	return was
}

// waitLine waits up to d for a line and drops it; ok is false when none
// came (or the input ended).
func (l *lineReader) waitLine(d time.Duration) bool {
	saved := l.idleAfter
	l.idleAfter = d
	defer func() { l.idleAfter = saved }()
	var b [256]byte
	for {
		n, err := l.Read(b[:])
		if err != nil {
			l.takeIdle()
			return false
		}
		if n > 0 && b[n-1] == '\n' {
			return true
		}
	}
}
