package ui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"misetup/flows"
)

// retryTickMsg drives a retry countdown; tag tells loops apart, so only
// the latest runs.
type retryTickMsg struct{ tag int }

// retrier tries a call again by itself when it failed because the account
// service could not be reached (it stopped, the network dropped): after a
// countdown shown on screen, 5 s and then longer (10, 20, at most 30), or
// at once on r. When the call works, the screen's own success clears the
// error: nothing chosen is lost, the answers stay in the screen.
type retrier struct {
	again func() tea.Cmd // the call to try again; nil when none is due
	at    time.Time      // when it runs by itself
	n     int            // failures in a row
	tag   int
}

// offline reports whether err says the service could not be reached.
func offline(err error) bool {
	switch ue := flows.Explain(err); {
	case ue == nil:
		return false
	case ue.Key == flows.ErrKeyUnavailable, ue.Key == flows.ErrKeyTimeout, ue.Key == flows.ErrKeyServiceNotStarted:
		return true
	}
	return false
}

// failed takes the answer of a call that again would repeat: an offline
// one starts the countdown; any other ends the retrying.
func (r *retrier) failed(err error, now time.Time, again func() tea.Cmd) tea.Cmd {
	if !offline(err) {
		r.stop()
		return nil
	}
	r.n++
	r.at = now.Add(min(5*time.Second<<(r.n-1), 30*time.Second))
	r.again = again
	r.tag++
	return retryTickCmd(r.tag)
}

// stop ends the retrying (the call worked, or failed for another reason).
func (r *retrier) stop() {
	r.again, r.n = nil, 0
	r.tag++
}

// pending reports whether a retry is counting down.
func (r *retrier) pending() bool { return r.again != nil }

// tick counts down, and runs the call when the time comes.
func (r *retrier) tick(msg retryTickMsg, now time.Time) tea.Cmd {
	if msg.tag != r.tag || r.again == nil {
		return nil
	}
	if now.Before(r.at) {
		return retryTickCmd(r.tag)
	}
	return r.now()
}

// now runs the call at once (r).
func (r *retrier) now() tea.Cmd {
	again := r.again
	if again == nil {
		return nil
	}
	r.again = nil
	r.tag++
	return again()
}

// line is what the screen shows under the error while counting down.
func (r *retrier) line(sh *shared) string {
	if r.again == nil {
		return ""
	}
	d := max(r.at.Sub(sh.now()).Round(time.Second), 0)
	return sh.st.Muted.Render(sh.T("retry.in", "time", fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)) +
		" " + sh.T("retry.press_r"))
}

// key is the footer's r while a retry counts down.
func (sh *shared) keyRetryNow() key.Binding { return sh.bind("r", "key.retry_now", "r") }

func retryTickCmd(tag int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return retryTickMsg{tag: tag} })
}
