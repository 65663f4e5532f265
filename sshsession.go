package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
	"misetup/ui"
)

// signOutTimeout bounds the sign-out of a session's service session when
// the session ends.
const signOutTimeout = 5 * time.Second

// wizardSession is one SSH session's wizard. Everything of the customer
// lives in it, in memory: the client (and its token), the session store,
// the wizard. When the session ends, however it ends (the customer is
// done, the terminal is unplugged, the server drains), its service session
// is signed out and its goroutines end.
type wizardSession struct {
	w      *sshWizard
	s      ssh.Session
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	notifyFn func(string) // tells the customer something in one line; nil until the wizard runs
	pending  string       // a notice sent before the wizard ran
}

func newWizardSession(w *sshWizard, s ssh.Session) *wizardSession {
	ctx, cancel := context.WithCancel(s.Context())
	return &wizardSession{w: w, s: s, ctx: ctx, cancel: cancel}
}

// notify shows text to the customer, in one line (Drain's notice).
func (ws *wizardSession) notify(text string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.notifyFn == nil {
		ws.pending = text
		return
	}
	ws.notifyFn(text)
}

// setNotify sets how notices reach the customer, and shows one sent before.
func (ws *wizardSession) setNotify(fn func(string)) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.notifyFn = fn
	if ws.pending != "" {
		fn(ws.pending)
		ws.pending = ""
	}
}

// end stops the wizard (Drain, after its grace).
func (ws *wizardSession) end() { ws.cancel() }

// run runs the wizard, full screen or as plain prompts, and releases the
// session's service session afterwards.
func (ws *wizardSession) run(plain bool) {
	defer ws.cancel()
	start := time.Now()
	kiosk := kioskID(ws.s)
	log := ws.w.log.With("kiosk", kiosk, "remote", ws.s.RemoteAddr().String())
	log.Info("ssh session", "plain", plain)

	c, deps, opts := ws.deps(kiosk)
	var err error
	if plain {
		err = ws.runPlain(deps, opts)
	} else {
		err = ws.runTUI(deps, opts)
	}

	// The customer's service session ends with the SSH session: nothing of
	// it outlives the terminal, whoever sits down next.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ws.ctx), signOutTimeout)
	signedIn := c.Token() != ""
	serr := c.SignOut(sctx)
	cancel()
	if serr != nil {
		log.Warn("ssh session: sign-out failed; the service session expires on its own", "err", serr)
	}
	how := "done"
	switch {
	case ws.s.Context().Err() != nil:
		how = "disconnected"
	case ws.ctx.Err() != nil:
		how = "drained"
	}
	log.Info("ssh session ended", "how", how, "signed_out", signedIn && serr == nil,
		"duration", time.Since(start).Round(time.Millisecond).String(), "err", err)
}

// deps wires one session's wizard: a client of this process's service
// (in-process, with the kiosk and store ids on every request), an
// in-memory session store, no progress and no state dir (nothing is
// written under the XDG dirs), and a device id of its own.
func (ws *wizardSession) deps(kiosk string) (*client.Client, ui.Deps, ui.Options) {
	ua := client.WithUserAgent("misetup/" + api.Version + " (ssh)")
	k := client.WithKiosk(kiosk, ws.w.set.Store)
	c := client.New("", client.WithHandler(ws.w.handler), ua, k)
	probe := client.New("", client.WithHandler(ws.w.handler), ua, k, client.WithRetries(0), client.WithTimeout(2*time.Second))
	device := newSessionDeviceID()
	sys := flows.System{Root: "/", Hostname: func() (string, error) { return kiosk, nil }}
	deps := ui.Deps{
		Accounts: c,
		Manager:  c,
		Cloud:    c,
		Checker:  flows.Checker{Status: probe, System: sys, ClientVersion: api.Version},
		Progress: nil, // a customer's progress is never kept
		Sessions: &memSessions{},
		System:   sys,
		DeviceID: func() (string, error) { return device, nil },
	}
	env := ws.s.Environ()
	opts := ui.Options{Locale: localeOf(env), Version: api.Version, PublicURL: func() string { return ws.w.set.PublicURL }}
	deps.Handoffs = c
	// The store's answers, the device name made for this terminal; a name
	// this terminal's id makes too long is left to the customer.
	defaults, err := ws.w.set.Defaults.ui(kiosk)
	if err != nil {
		d := ws.w.set.Defaults
		d.DeviceName = ""
		defaults, _ = d.ui(kiosk)
	}
	opts.Defaults = defaults
	// Kiosk mode: a terminal where strangers take turns starts over for
	// the next customer (after the summary, an idle customer, the staff).
	signOut := func(ctx context.Context, token string) error { return c.With(client.WithToken(token)).SignOut(ctx) }
	opts.Kiosk, _ = ws.w.set.Kiosk.uiKiosk(signOut, func(cause string) {
		ws.w.metrics.KioskResets.WithLabelValues(cause).Inc()
	})
	return c, deps, opts
}

// newSessionDeviceID is a random device id for one session (the terminal
// is a device of the customer's account only while they sit there).
func newSessionDeviceID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "kiosk-" + hex.EncodeToString(b)
}

// runTUI runs the full-screen wizard on the session's terminal, at its
// size, following its resizes.
func (ws *wizardSession) runTUI(deps ui.Deps, opts ui.Options) error {
	_, winch, _ := ws.s.Pty()
	m := &sshModel{app: ui.New(ws.ctx, deps, opts)}
	popts := append([]tea.ProgramOption{
		tea.WithContext(ws.ctx),
		tea.WithFPS(30),
		// SIGINT and SIGTERM are the server's, not this session's: the
		// server drains its sessions itself.
		tea.WithoutSignalHandler(),
	}, bubbletea.MakeOptions(ws.s)...)
	p := tea.NewProgram(m, popts...)
	ws.setNotify(func(text string) { go p.Send(noticeMsg(text)) })

	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case win, ok := <-winch:
				if !ok {
					return
				}
				p.Send(tea.WindowSizeMsg{Width: win.Width, Height: win.Height})
			}
		}
	}()
	_, err := p.Run()
	p.Kill()
	switch {
	case errors.Is(err, tea.ErrInterrupted), errors.Is(err, tea.ErrProgramKilled) && ws.ctx.Err() != nil:
		err = nil
	case err != nil:
		return fmt.Errorf("wizard: %w", err)
	}
	if m.app.Finished() && ws.ctx.Err() == nil {
		_, _ = fmt.Fprintln(ws.s, m.app.ExitMessage())
	}
	return err
}

// noticeMsg is a line for the customer from the server (Drain's notice).
type noticeMsg string

// sshModel is the wizard with a line of the server's over its last line
// when there is one to show (the drain's notice), so the customer reads
// it where the keys are.
type sshModel struct {
	app    *ui.App
	width  int
	notice string
}

// Init implements tea.Model.
func (m *sshModel) Init() tea.Cmd { return m.app.Init() }

// Update implements tea.Model.
func (m *sshModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case noticeMsg:
		m.notice = string(msg)
		return m, nil
	case tea.WindowSizeMsg:
		m.width = msg.Width
	}
	_, cmd := m.app.Update(msg)
	return m, cmd
}

// View implements tea.Model.
func (m *sshModel) View() tea.View {
	v := m.app.View()
	if m.notice != "" {
		v.Content = withNotice(v.Content, m.notice, m.width)
	}
	return v
}

// withNotice puts notice, in reverse video, in place of the last line of
// content, cut to width.
func withNotice(content, notice string, width int) string {
	line := notice
	if width > 0 {
		line = ansi.Truncate(line, width, "…")
	}
	line = "\x1b[7m" + line + "\x1b[m"
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	lines[len(lines)-1] = line
	return strings.Join(lines, "\n")
}
