package ui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"misetup/api"
	"misetup/flows"
)

// navigateMsg asks App to show another step. from is the step that asked: a
// request from a screen that is no longer shown is ignored. reset starts the
// history over at to (after signing in there is no way back into the
// sign-in screens).
type navigateMsg struct {
	from, to flows.Step
	reset    bool
}

// backMsg asks App to go back one step.
type backMsg struct{}

// quitMsg asks App to end the wizard (after the summary).
type quitMsg struct{}

// languageChangedMsg tells App the person picked another language.
type languageChangedMsg struct{ lang string }

// resumeMsg asks App to jump to the step saved in the progress file.
type resumeMsg struct{ to flows.Step }

// startOverMsg asks App to forget the saved progress and session.
type startOverMsg struct{}

// firstFrameShownMsg says the first frame is out: the service may open.
type firstFrameShownMsg struct{}

// serviceStartedMsg reports that the account service is open (or not).
type serviceStartedMsg struct{ err error }

// progressLoadedMsg carries the saved progress read at start.
type progressLoadedMsg struct {
	p   flows.Progress
	ok  bool
	err error
}

// sessionRestoredMsg carries the result of signing back in with the saved
// token.
type sessionRestoredMsg struct {
	account api.Account
	ok      bool
	err     error
}

// deviceReadMsg carries this device's facts and id.
type deviceReadMsg struct {
	info    flows.DeviceInfo
	id      string
	network flows.NetworkKind // "" when not read
	iface   string
	err     error
}

// progressSavedMsg reports a failed save (successes are silent).
type progressSavedMsg struct{ err error }

// registeredMsg carries the challenge of a new registration.
type registeredMsg struct {
	challenge api.Challenge
	err       error
}

// registerAgainMsg asks App to go back to the create-account form and send
// it again (the code screen's "Send a new code" when the old code cannot
// be resent). from is the step that asked.
type registerAgainMsg struct{ from flows.Step }

// resetRequestedMsg carries the challenge of a password reset.
type resetRequestedMsg struct {
	challenge api.Challenge
	err       error
}

func navigateCmd(from, to flows.Step) tea.Cmd {
	return func() tea.Msg { return navigateMsg{from: from, to: to} }
}

func resetToCmd(from, to flows.Step) tea.Cmd {
	return func() tea.Msg { return navigateMsg{from: from, to: to, reset: true} }
}

func backCmd() tea.Msg { return backMsg{} }

func startServiceCmd(ctx context.Context, start func(context.Context) error) tea.Cmd {
	if start == nil {
		return nil
	}
	return func() tea.Msg { return serviceStartedMsg{err: start(ctx)} }
}

// lockReadMsg carries the lock of this device, if a lock command reached
// it.
type lockReadMsg struct{ info *flows.LockInfo }

// readLockCmd reads whether this device was locked by its owner.
func readLockCmd(sessions flows.SessionStore) tea.Cmd {
	return func() tea.Msg { return lockReadMsg{info: lockOf(sessions)} }
}

// lockOf is the owner's lock of this device, as the session store keeps
// it; nil when not locked (or the store keeps none).
func lockOf(sessions flows.SessionStore) *flows.LockInfo {
	l, ok := sessions.(interface {
		Locked() (flows.LockInfo, bool, error)
	})
	if !ok {
		return nil
	}
	if info, locked, _ := l.Locked(); locked {
		return &info
	}
	return nil
}

func loadProgressCmd(ps flows.ProgressStore) tea.Cmd {
	if ps == nil {
		return nil
	}
	return func() tea.Msg {
		p, ok, err := ps.LoadProgress()
		return progressLoadedMsg{p: p, ok: ok, err: err}
	}
}

func saveProgressCmd(ps flows.ProgressStore, p flows.Progress) tea.Cmd {
	if ps == nil {
		return nil
	}
	return func() tea.Msg {
		if err := ps.SaveProgress(p); err != nil {
			return progressSavedMsg{err: err}
		}
		return nil
	}
}

func restoreSessionCmd(sh *shared) tea.Cmd {
	acc, sess, cloud, dir := sh.deps.Accounts, sh.deps.Sessions, sh.deps.Cloud, sh.deps.StateDir
	if acc == nil || sess == nil {
		return nil
	}
	ctx, cancel := sh.callCtx()
	return func() tea.Msg {
		defer cancel()
		a, ok, err := flows.Restore(ctx, acc, sess)
		if ok && cloud != nil && dir != "" {
			// Choices queued while the service was unreachable are saved
			// now, once (misetup agent does the same).
			_, _ = flows.ApplyQueued(ctx, cloud, flows.QueueIn(dir))
		}
		return sessionRestoredMsg{account: a, ok: ok, err: err}
	}
}

func readDeviceCmd(sys flows.System, deviceID func() (string, error)) tea.Cmd {
	return func() tea.Msg {
		m := deviceReadMsg{info: sys.Device()}
		m.network, m.iface = sys.Network() // a resumed run skips the requirements check that reads it
		if deviceID != nil {
			m.id, m.err = deviceID()
		}
		return m
	}
}
