package ui

import (
	"errors"
	"time"
)

// Kiosk mode in plain prompts: the same clocks and the same staff PIN as
// full screen, on a line reader that gives up waiting (lineReader's
// idleAfter).

// errKioskReset starts the plain wizard over for the next customer.
var errKioskReset = errors.New("kiosk reset")

// stillThere is "Still there?" in plain mode: a line within the countdown
// returns to the question; none starts over.
func (p *plain) stillThere() error {
	k := p.sh.opts.Kiosk
	if k == nil {
		return nil
	}
	left := int(k.countdown().Round(time.Second).Seconds())
	p.say("")
	p.say(p.T("kiosk.idle_title"))
	p.say(p.T("kiosk.idle_body", "s", left))
	if p.in.waitLine(k.countdown()) {
		return nil
	}
	if k.Reset != nil {
		k.Reset("idle")
	}
	return errKioskReset
}

// handBack is the end of a customer's set-up in plain mode: the hand-back
// words, then the next customer, after the hand-back time or a line.
func (p *plain) handBack() error {
	k := p.sh.opts.Kiosk
	p.say("")
	p.say(p.T("kiosk.done_title"))
	p.say(p.T("kiosk.done_body"))
	p.in.waitLine(k.handBack())
	if k.Reset != nil {
		k.Reset("done")
	}
	return errKioskReset
}

// askPIN is ctrl+c in plain kiosk mode: the staff PIN leaves; anything
// else goes back to the question.
func (p *plain) askPIN() error {
	k := p.sh.opts.Kiosk
	now := p.sh.now()
	if now.Before(p.pinLockedTo) {
		p.say(p.T("kiosk.pin_locked", "min", int((p.pinLockedTo.Sub(now)+time.Minute-1)/time.Minute)))
		return nil
	}
	p.say("")
	p.say(p.T("kiosk.pin_title"))
	saved := p.in.idleAfter
	p.in.idleAfter = 0
	pin, err := p.ask(p.T("kiosk.pin"), "", true)
	p.in.idleAfter = saved
	if err != nil {
		return err
	}
	if k.CheckPIN != nil && pin != "" && k.CheckPIN(pin) {
		if k.Reset != nil {
			k.Reset("staff")
		}
		p.signOutCustomer()
		return errQuit
	}
	p.say(p.T("kiosk.pin_wrong"))
	if p.pinWrong++; p.pinWrong >= kioskPINTries {
		p.pinWrong, p.pinLockedTo = 0, now.Add(kioskPINLock)
	}
	return nil
}

// kioskReset drops the last customer in plain mode: signed out, every
// answer gone, and, on a terminal, the screen and its scrollback cleared.
func (p *plain) kioskReset() {
	p.signOutCustomer()
	sh := p.sh
	w := sh.wiz
	sh.wiz = wizardState{Device: w.Device, DeviceID: w.DeviceID, Network: w.Network, Iface: w.Iface, Method: "phone"}
	sh.wiz.Region = sh.defaultRegion()
	p.step = 0
	p.in.idleAfter = 0 // until the next customer starts
	if p.tty != nil {
		p.out.Write([]byte("\x1b[3J\x1b[H\x1b[2J"))
	} else {
		p.say("")
		p.say("----------------------------------------")
	}
}

// signOutCustomer ends the customer's session at the service.
func (p *plain) signOutCustomer() {
	k, acc := p.sh.opts.Kiosk, p.sh.deps.Accounts
	if acc == nil || acc.Token() == "" {
		return
	}
	if k.SignOut != nil {
		ctx, cancel := p.sh.callCtx()
		_ = k.SignOut(ctx, acc.Token())
		cancel()
	}
	acc.SetToken("")
	if p.sh.deps.Sessions != nil {
		_ = p.sh.deps.Sessions.ClearToken()
	}
}
