package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"charm.land/lipgloss/v2"

	"misetup/api"
	"misetup/flows"
	"misetup/internal/qr"
)

// portalURL is where the service's web portal is, for finding this device
// from any browser: its public address, or the address this wizard reaches
// it at; "" for the built-in service, which has none.
func (sh *shared) portalURL() string {
	u := strings.TrimRight(firstNonEmpty(sh.publicURL(), sh.opts.Server), "/")
	if u == "" {
		return ""
	}
	return u + "/"
}

// canHandOff reports whether the create and sign-in steps offer "Type it
// on your phone": on a kiosk whose service has a public address a phone
// can reach.
func (sh *shared) canHandOff() bool {
	return sh.opts.Kiosk != nil && sh.publicURL() != "" && sh.deps.Handoffs != nil
}

// publicURL is the service's public address, "" when it has none (or has
// not said yet).
func (sh *shared) publicURL() string {
	if sh.opts.PublicURL == nil {
		return ""
	}
	return sh.opts.PublicURL()
}

// handOffAction is the create and sign-in steps' "Type it on your phone"
// for purpose; none off a kiosk.
func (sh *shared) handOffAction(purpose string) []action {
	if !sh.canHandOff() {
		return nil
	}
	return []action{{label: sh.T("handoff.offer"), instant: true, first: true, run: func(context.Context, values) (outcome, error) {
		return outcome{to: flows.StepHandoff, apply: func(sh *shared) { sh.wiz.HandoffPurpose = purpose }}, nil
	}}}
}

// handoffState is the hand-off a step shows: made and followed by its
// watch (off the event loop), drawn by its body (on it).
type handoffState struct {
	mu     sync.Mutex
	h      api.Handoff
	url    string // the link, which only the answer that made it carries
	failed bool   // the service cannot make one (no public address): type it here
}

func (s *handoffState) get() (api.Handoff, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h, s.url
}

// fail records that the service cannot make a hand-off.
func (s *handoffState) fail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = true
}

// ended reports whether the step may go on: the phone is done, or no
// hand-off can be made.
func (s *handoffState) ended() (failed, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed, s.h.Challenge != nil || s.h.Session != nil
}

func (s *handoffState) set(h api.Handoff) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.URL != "" {
		s.url = h.URL
	}
	s.h = h
}

// handoffStep is a kiosk's private hand-off (step 5): a QR code of a
// one-time link on the store server, where the customer types the
// identifier and password on their own phone. The kiosk never sees the
// password: it goes on when the phone is done, to the code step of the
// registration, or signed in. A link that expires is replaced by a new
// one. One description, drawn full screen by stepView and as plain
// prompts by plain.runStep (which prints the link instead of the code).
func (sh *shared) handoffStep() *step {
	purpose, back := api.PurposeSignIn, flows.StepSignIn
	if sh.wiz.HandoffPurpose == api.PurposeRegistration {
		purpose, back = api.PurposeRegistration, flows.StepCreate
	}
	hs := &handoffState{}
	hand, acc, sess := sh.deps.Handoffs, sh.deps.Accounts, sh.deps.Sessions
	device, region, lang := sh.wiz.Device.APIDevice(sh.wiz.DeviceID), sh.wiz.Region, sh.tr.Lang()
	st := &step{}
	*st = step{
		body: func(width int) string {
			h, link := hs.get()
			intro := sh.T("handoff.intro")
			if link == "" || st.frame == nil { // plain mode: the watch says the link
				return sh.paragraph(sh.st.Text, intro, 0)
			}
			left := flows.HandoffLeft(h, sh.now())
			lines := []string{intro, "", sh.T("handoff.or_open", "url", link), "",
				sh.T("handoff.expires", "time", fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)),
				sh.T("handoff.private")}
			return sh.beside(sh.handoffQR(link, width), lines, width)
		},
		watch: func(ctx context.Context) (func() string, bool, error) {
			h, _ := hs.get()
			if h.ID == "" || (h.State == api.HandoffExpired) || (h.State == api.HandoffOpen && flows.HandoffLeft(h, sh.now()) == 0) {
				nh, err := flows.StartHandoff(ctx, hand, purpose, device, region, lang)
				if flows.Definite(err) {
					hs.fail()
					return func() string { return sh.T("handoff.unavailable") }, true, nil
				}
				if err != nil {
					return nil, false, err // tried again in a second
				}
				hs.set(nh)
				if st.frame == nil { // plain mode: no QR code, the link said
					return func() string { return sh.T("handoff.or_open", "url", nh.URL) }, false, nil
				}
				return func() string { return sh.T("handoff.waiting") }, false, nil
			}
			nh, err := flows.FollowHandoff(ctx, hand, acc, sess, h.ID)
			if err != nil {
				return nil, false, err
			}
			hs.set(nh)
			switch nh.State {
			case api.HandoffDone, api.HandoffCollected:
				return func() string { return sh.T("handoff.done") }, true, nil
			case api.HandoffClaimed:
				return func() string { return sh.T("handoff.sending") }, false, nil
			}
			return func() string { return sh.T("handoff.waiting") }, false, nil
		},
		watchRuns: true,
		// Enter waits for the phone: the step goes on by itself.
		ready: func() bool {
			failed, done := hs.ended()
			return failed || done
		},
		tick: func() bool { h, _ := hs.get(); return h.ID != "" && !flows.HandoffEnded(h) },
		busy: sh.T("handoff.continuing"),
		run: func(ctx context.Context, v values) (outcome, error) {
			h, _ := hs.get()
			failed, _ := hs.ended()
			switch {
			case failed: // typed on the kiosk after all
				return outcome{to: back}, nil
			case h.Challenge != nil:
				// The code step of the registration the phone sent; the
				// kiosk knows its masked destination only.
				ch := *h.Challenge
				method := api.MethodEmail
				if ch.Channel == api.ChannelSMS {
					method = api.MethodPhone
				}
				return outcome{to: flows.StepCode, sent: &ch, apply: func(sh *shared) {
					sh.wiz.Method, sh.wiz.Identifier = method, ""
					sh.wiz.Challenge, sh.wiz.Registration = &ch, nil
				}}, nil
			case h.Session != nil:
				a := h.Session.Account
				return signedInOutcome(firstNonEmpty(a.Email, a.Phone, a.MiID), *h.Session), nil
			}
			return outcome{}, &flows.UserError{Key: flows.ErrKeyUnknown, AttemptsLeft: -1}
		},
	}
	return st
}

// handoffQR draws the link as a QR code for the phone's camera, in the
// room beside the text; "" when the window has none (the link is written
// out anyway).
func (sh *shared) handoffQR(link string, width int) string {
	// Half the width, or more in a narrow window: a phone's camera needs
	// the code more than the text beside it needs room (it wraps).
	m, err := qr.Fit(link, min(max(width/2, width-22), 40), qrRows)
	if err != nil {
		return ""
	}
	ink := lipgloss.NewStyle().Foreground(lipgloss.Color("#000000")).Background(lipgloss.Color("#FFFFFF"))
	lines := strings.Split(qr.HalfBlocks(m), "\n")
	for i, l := range lines {
		lines[i] = ink.Render(l)
	}
	return strings.Join(lines, "\n")
}

// beside puts block on the left and the lines, wrapped, on its right; with
// no block, the lines alone.
func (sh *shared) beside(block string, lines []string, width int) string {
	if block == "" {
		return sh.paragraph(sh.st.Text, strings.Join(lines, "\n"), 0)
	}
	room := max(width-lipgloss.Width(block)-2, 12)
	var text []string
	for _, l := range lines {
		text = append(text, wrapText(l, room)...)
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, block, "  ", sh.st.Text.Render(strings.Join(text, "\n")))
}
