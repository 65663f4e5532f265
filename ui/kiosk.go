package ui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"misetup/assets"
	"misetup/flows"
)

// Kiosk is kiosk mode (misetup --kiosk, the wizard served over SSH): a
// store terminal where strangers take turns. Nothing of a customer
// outlives them: the wizard never offers to resume, keeps the session in
// memory only (main gives it no files), and resets to the welcome screen
// after the summary, after a customer walks away, or when staff ask.
type Kiosk struct {
	// IdleAfter is how long without a key before "Still there?" (120 s
	// when 0); Countdown how long that asks before the reset (20 s).
	IdleAfter, Countdown time.Duration
	// HandBack is how long the "please hand the device back" screen stays
	// after the summary before the reset (30 s); enter resets at once.
	HandBack time.Duration
	// CheckPIN checks the staff PIN that leaves kiosk mode (ctrl+c).
	CheckPIN func(pin string) bool
	// SignOut ends the customer's session (token) at the service on a
	// reset, while the next customer already starts; nil when there is
	// none to end.
	SignOut func(ctx context.Context, token string) error
	// Reset is told each reset and its cause ("idle", "done", "staff"),
	// for the metrics; nil when nobody listens.
	Reset func(cause string)
}

// Kiosk defaults.
const (
	kioskIdleAfter = 120 * time.Second
	kioskCountdown = 20 * time.Second
	kioskHandBack  = 30 * time.Second
	// kioskPINTries wrong PINs lock the way out for kioskPINLock.
	kioskPINTries = 5
	kioskPINLock  = 5 * time.Minute
)

// kioskState is kiosk mode's part of App.
type kioskState struct {
	lastKey    time.Time
	idleUntil  time.Time // "Still there?" is shown until then; zero when not
	handBackAt time.Time // the hand-back screen resets then; zero when not shown

	pin         bool // the staff PIN is being asked
	pinInput    textinput.Model
	pinWrong    int
	pinLockedTo time.Time
	pinErr      string
}

// kioskTickMsg drives kiosk mode's clocks, once a second.
type kioskTickMsg struct{}

func kioskTick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return kioskTickMsg{} })
}

func (k *Kiosk) idleAfter() time.Duration { return durOr(k.IdleAfter, kioskIdleAfter) }
func (k *Kiosk) countdown() time.Duration { return durOr(k.Countdown, kioskCountdown) }
func (k *Kiosk) handBack() time.Duration  { return durOr(k.HandBack, kioskHandBack) }

func durOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// kioskUpdate handles what kiosk mode decides before the screens: its
// clocks, the keys it takes (any key while "Still there?", ctrl+c for the
// PIN), and the end of the summary. handled false hands msg on.
func (a *App) kioskUpdate(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	k, ks := a.sh.opts.Kiosk, &a.kiosk
	now := a.sh.now()
	switch msg := msg.(type) {
	case kioskTickMsg:
		switch {
		case !ks.handBackAt.IsZero() && !now.Before(ks.handBackAt):
			return a.kioskReset("done"), true
		case !ks.idleUntil.IsZero() && !now.Before(ks.idleUntil):
			return a.kioskReset("idle"), true
		case ks.idleUntil.IsZero() && ks.handBackAt.IsZero() && !ks.pin && a.customerStarted() &&
			now.Sub(ks.lastKey) >= k.idleAfter():
			ks.idleUntil = now.Add(k.countdown())
		}
		return kioskTick(), true
	case quitMsg:
		// The summary's enter: the customer is done.
		ks.handBackAt = now.Add(k.handBack())
		return nil, true
	case tea.KeyPressMsg:
		ks.lastKey = now
		switch {
		case ks.pin:
			return a.pinKey(msg), true
		case !ks.idleUntil.IsZero():
			ks.idleUntil = time.Time{} // any key: back where they were
			return nil, true
		case !ks.handBackAt.IsZero():
			if isKey(msg, kEnter) {
				return a.kioskReset("done"), true
			}
			return nil, true
		case isKey(msg, kCtrlC):
			ks.pin, ks.pinErr = true, ""
			ks.pinInput = newInput(a.sh, "", 32, true)
			return ks.pinInput.Focus(), true
		case isKey(msg, "ctrl+z", "ctrl+\\"):
			return nil, true // no way out but the PIN
		}
	case tea.PasteMsg:
		ks.lastKey = now
		if ks.pin || !ks.idleUntil.IsZero() || !ks.handBackAt.IsZero() {
			return nil, true
		}
	}
	return nil, false
}

// customerStarted reports whether someone is in the middle of the wizard:
// a fresh welcome screen has nothing to reset.
func (a *App) customerStarted() bool {
	return a.Current() != flows.StepWelcome || len(a.history) > 1 || a.sh.wiz.Account != nil
}

// pinKey is a key while the staff PIN is asked: enter checks it, esc goes
// back to the wizard.
func (a *App) pinKey(msg tea.KeyPressMsg) tea.Cmd {
	k, ks := a.sh.opts.Kiosk, &a.kiosk
	now := a.sh.now()
	switch {
	case isKey(msg, kEsc, kCtrlC):
		ks.pin = false
		return nil
	case now.Before(ks.pinLockedTo):
		return nil // locked: nothing is typed or checked
	case isKey(msg, kEnter):
		pin := ks.pinInput.Value()
		ks.pinInput.SetValue("")
		if k.CheckPIN != nil && pin != "" && k.CheckPIN(pin) {
			a.quitting = true
			if k.Reset != nil {
				k.Reset("staff")
			}
			return tea.Sequence(a.signOutCmd(), tea.Quit)
		}
		ks.pinWrong++
		ks.pinErr = a.sh.T("kiosk.pin_wrong")
		if ks.pinWrong >= kioskPINTries {
			ks.pinWrong, ks.pinLockedTo = 0, now.Add(kioskPINLock)
		}
		return nil
	}
	var cmd tea.Cmd
	ks.pinInput, cmd = ks.pinInput.Update(msg)
	return cmd
}

// signOutCmd ends the customer's session at the service.
func (a *App) signOutCmd() tea.Cmd {
	k := a.sh.opts.Kiosk
	if k.SignOut == nil || a.sh.deps.Accounts == nil || a.sh.deps.Accounts.Token() == "" {
		return nil
	}
	token := a.sh.deps.Accounts.Token()
	ctx, cancel := a.sh.callCtx()
	return func() tea.Msg {
		defer cancel()
		_ = k.SignOut(ctx, token) // a session that cannot be ended now idles out (15 min on a kiosk)
		return nil
	}
}

// kioskReset makes the terminal new for the next customer: the session
// signed out, every answer dropped, the screen and the terminal's
// scrollback cleared, the welcome screen in the kiosk's language.
func (a *App) kioskReset(cause string) tea.Cmd {
	sh := a.sh
	k := sh.opts.Kiosk
	if k.Reset != nil {
		k.Reset(cause)
	}
	signOut := a.signOutCmd()
	if sh.deps.Accounts != nil {
		sh.deps.Accounts.SetToken("")
	}
	if sh.deps.Sessions != nil {
		_ = sh.deps.Sessions.ClearToken()
	}
	// What the machine is stays; what the customer said goes.
	w := sh.wiz
	sh.tr = assets.MustLoad(language(sh.opts, ""))
	sh.wiz = wizardState{Device: w.Device, DeviceID: w.DeviceID, Network: w.Network, Iface: w.Iface,
		Method: "phone", Region: sh.defaultRegion()}
	if n := sh.defaults().DeviceName; n != "" {
		sh.wiz.Device.Name = n // the store's name again, whatever the last customer typed
	}
	sh.checklist.in, sh.checklist.view = checklistMemo{}, ""
	a.kiosk = kioskState{lastKey: sh.now()}
	a.showHelp, a.confirmQuit, a.finished = false, false, false
	a.screens = map[flows.Step]Screen{flows.StepWelcome: a.newScreen(flows.StepWelcome)}
	a.history = []flows.Step{flows.StepWelcome}
	welcome := a.screens[flows.StepWelcome]
	if sh.width > 0 {
		welcome, _ = welcome.Update(tea.WindowSizeMsg{Width: sh.width, Height: sh.height})
	}
	welcome, _ = welcome.Update(stylesChangedMsg{})
	a.screens[flows.StepWelcome] = welcome
	return tea.Batch(signOut, tea.Sequence(tea.Raw("\x1b[3J"), tea.ClearScreen), welcome.Init(), kioskTick())
}

// kioskView is what kiosk mode draws over the screen: the staff PIN,
// "Still there?" and its countdown, the hand-back screen; "" when none.
func (a *App) kioskView() string {
	sh, ks := a.sh, &a.kiosk
	now := sh.now()
	box := func(title, body string) string {
		return sh.st.Box.Width(sh.bodyWidth()).Render(sh.st.Title.Render(title) + "\n" + sh.wrapBox(body))
	}
	switch {
	case ks.pin:
		var b strings.Builder
		b.WriteString(sh.st.Title.Render(sh.T("kiosk.pin_title")) + "\n\n")
		if now.Before(ks.pinLockedTo) {
			mins := int((ks.pinLockedTo.Sub(now) + time.Minute - 1) / time.Minute) // rounded up
			b.WriteString(sh.paragraph(sh.st.Fail, sh.T("kiosk.pin_locked", "min", mins), 0))
			return b.String()
		}
		lw := labelWidth(sh.T("kiosk.pin"))
		b.WriteString(sh.fieldLine(sh.T("kiosk.pin"), lw, true, ks.pinInput.View()) + "\n")
		if ks.pinErr != "" {
			b.WriteString("\n" + sh.st.Fail.Render(markFail+" "+ks.pinErr))
		}
		return b.String()
	case !ks.idleUntil.IsZero():
		left := max(int(ks.idleUntil.Sub(now).Round(time.Second).Seconds()), 0)
		return box(sh.T("kiosk.idle_title"), sh.T("kiosk.idle_body", "s", left))
	case !ks.handBackAt.IsZero():
		return box(sh.T("kiosk.done_title"), sh.T("kiosk.done_body"))
	}
	return ""
}

// kioskKeys are the footer's keys while kiosk mode draws over the screen;
// nil when it does not.
func (a *App) kioskKeys() []key.Binding {
	sh, ks := a.sh, &a.kiosk
	switch {
	case ks.pin:
		return []key.Binding{sh.bind("enter", "key.continue", kEnter), sh.keyBack()}
	case !ks.idleUntil.IsZero():
		return []key.Binding{sh.bind("any key", "key.still_here", kEnter)}
	case !ks.handBackAt.IsZero():
		return []key.Binding{sh.bind("enter", "key.next_customer", kEnter)}
	}
	return nil
}

// Busy is what a store terminal shows when every terminal of its server
// is taken: the SSH session is refused with it before any wizard starts.
// Nobody has chosen a language yet, so it is said in the terminal's
// locale, and below in one line in the wizard's other language.
func Busy(locale string, width int) string {
	lang := firstNonEmpty(assets.MatchLanguage(locale), assets.DefaultLanguage)
	sh := &shared{tr: assets.MustLoad(lang), st: NewStyles(true), width: width}
	pad := strings.Repeat(" ", marginX)
	box := sh.st.Box.Width(sh.bodyWidth()).Render(sh.st.Title.Render(sh.T("kiosk.busy_title")) + "\n" + sh.wrapBox(sh.T("kiosk.busy_body")))
	var b strings.Builder
	for _, line := range strings.Split(box, "\n") {
		b.WriteString(pad + line + "\n")
	}
	for _, other := range assets.Languages() {
		if other != lang {
			line := assets.MustLoad(other).T("kiosk.busy_line")
			b.WriteString(pad + sh.st.Muted.Render(truncate(line, sh.bodyWidth())) + "\n")
		}
	}
	return b.String()
}
