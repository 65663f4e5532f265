package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"
	gossh "golang.org/x/crypto/ssh"

	"misetup/server"
	"misetup/ui"
)

// The lines a refused SSH session gets, on its stderr, before it closes
// with exit status 1. One line each, saying what to do instead. The one a
// customer meets, all terminals busy, is a small screen (ui.Busy).
const (
	lineNoPTY    = "misetup: the setup wizard needs a terminal: connect with ssh -t (plain prompts: ssh -t HOST accessible)."
	lineAgent    = "misetup: agent forwarding is not allowed here: connect without -A (ForwardAgent no)."
	lineStopping = "misetup: this server is restarting, please try again in a moment."
	lineDrain    = "This terminal's server is restarting: finish this step; the session ends in %s."
)

// lineCommand is the line of a session that asked to run a command.
func lineCommand(cmd string) string {
	return fmt.Sprintf("misetup: this server runs the setup wizard only, no commands (asked for %q): connect with ssh -t HOST, or ssh -t HOST accessible.", cmd)
}

// kioskIDKey is where the public key handler leaves the terminal's kiosk
// id in the connection's context.
type kioskIDKey struct{}

// sshWizard serves the setup wizard over SSH: one wizard per session, on
// the service of this process (in-process, no HTTP hop), nothing of a
// customer on disk. See sshsession.go for a session.
type sshWizard struct {
	set     sshSettings
	handler http.Handler // the account service
	metrics *server.Metrics
	log     *slog.Logger

	srv         *ssh.Server
	fingerprint string // SHA256:... of the host key
	slots       chan struct{}

	keysMu sync.Mutex
	keys   []authorizedKey // nil: any client; reloaded at each connection

	draining atomic.Bool
	mu       sync.Mutex
	sessions map[*wizardSession]struct{}
	running  sync.WaitGroup
}

// newSSHWizard makes the SSH server of the wizard: its host key (made on
// first start), its authentication, and the refusals of what it does not
// offer (commands, forwarding, sessions without a terminal).
func newSSHWizard(set sshSettings, h http.Handler, m *server.Metrics, log *slog.Logger) (*sshWizard, error) {
	signer, made, err := hostKey(set.HostKey)
	if err != nil {
		return nil, err
	}
	if made {
		log.Info("ssh host key made", "path", set.HostKey)
	}
	w := &sshWizard{
		set: set, handler: h, metrics: m, log: log,
		fingerprint: gossh.FingerprintSHA256(signer.PublicKey()),
		slots:       make(chan struct{}, set.MaxSessions),
		sessions:    map[*wizardSession]struct{}{},
	}
	if set.AuthorizedKeys != "" {
		if w.keys, err = loadAuthorizedKeys(set.AuthorizedKeys); err != nil {
			return nil, err
		}
	}
	w.srv = &ssh.Server{
		Handler:          w.handle,
		HandshakeTimeout: 30 * time.Second,
		Version:          "misetup",
		PublicKeyHandler: w.publicKey,
		ChannelHandlers: map[string]ssh.ChannelHandler{
			"session":      ssh.DefaultSessionHandler,
			"direct-tcpip": refuseChannel("misetup: port forwarding is not allowed here"),
		},
		// No request handlers: tcpip-forward (ssh -R) is refused. No
		// subsystems: sftp and the like are refused. x11-req is refused by
		// the session (an unknown request); the client says so in a line.
		RequestHandlers:   map[string]ssh.RequestHandler{},
		SubsystemHandlers: map[string]ssh.SubsystemHandler{},
	}
	if w.keys == nil {
		// Without a list of keys any terminal may connect, also one
		// without a key of its own (keyboard-interactive, no questions).
		w.srv.KeyboardInteractiveHandler = func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }
	}
	w.srv.AddHostKey(signer)
	return w, nil
}

// refuseChannel rejects a channel type with msg.
func refuseChannel(msg string) ssh.ChannelHandler {
	return func(_ *ssh.Server, _ *gossh.ServerConn, nc gossh.NewChannel, _ ssh.Context) {
		_ = nc.Reject(gossh.Prohibited, msg)
	}
}

// publicKey accepts a client's key: any key without an authorized-keys
// file, else one of the file's (re-read at each connection, so a terminal
// added there connects without a restart; a file broken meanwhile keeps
// the last good list). The kiosk id is the key's comment, else the SSH
// user.
func (w *sshWizard) publicKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if w.keys == nil && w.set.AuthorizedKeys == "" {
		ctx.SetValue(kioskIDKey{}, ctx.User())
		return true
	}
	w.keysMu.Lock()
	if keys, err := loadAuthorizedKeys(w.set.AuthorizedKeys); err == nil {
		w.keys = keys
	} else {
		w.log.Warn("ssh authorized keys: keeping the last good list", "err", err)
	}
	keys := w.keys
	w.keysMu.Unlock()
	for _, k := range keys {
		if ssh.KeysEqual(key, k.key) {
			id := k.comment
			if id == "" {
				id = ctx.User()
			}
			ctx.SetValue(kioskIDKey{}, id)
			return true
		}
	}
	w.metrics.SSHRefused.WithLabelValues("key").Inc()
	w.log.Info("ssh key refused", "remote", ctx.RemoteAddr().String(), "user", ctx.User(), "key", gossh.FingerprintSHA256(key))
	return false
}

// Serve serves SSH on ln until Drain (or ln fails).
func (w *sshWizard) Serve(ln net.Listener) error {
	err := w.srv.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// handle is one SSH session: refused with one line, or a wizard.
func (w *sshWizard) handle(s ssh.Session) {
	refuseOn := func(out io.Writer, reason, text string) {
		w.metrics.SSHRefused.WithLabelValues(reason).Inc()
		w.log.Info("ssh session refused", "reason", reason, "remote", s.RemoteAddr().String(), "kiosk", kioskID(s))
		_, _ = fmt.Fprint(out, strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\r\n")+"\r\n")
		_ = s.Exit(1)
	}
	refuse := func(reason, text string) { refuseOn(s.Stderr(), reason, text) }
	if w.draining.Load() {
		refuse("draining", lineStopping)
		return
	}
	plain := false
	switch cmd := s.Command(); {
	case len(cmd) == 0:
	case len(cmd) == 1 && cmd[0] == "accessible":
		plain = true
	default:
		refuse("exec", lineCommand(strings.Join(cmd, " ")))
		return
	}
	pty, _, ok := s.Pty()
	if !ok {
		// NOTE: plain prompts need a terminal too: without one the client's
		// own terminal would echo the password as it is typed.
		refuse("no_pty", lineNoPTY)
		return
	}
	if ssh.AgentRequested(s) {
		refuse("agent", lineAgent)
		return
	}
	select {
	case w.slots <- struct{}{}:
		defer func() { <-w.slots }()
	default:
		// In the colours the customer's terminal has.
		env := append(s.Environ(), "TERM="+pty.Term)
		refuseOn(colorprofile.NewWriter(s.Stderr(), env), "busy", ui.Busy(localeOf(env), pty.Window.Width))
		return
	}
	if pty.Term == "dumb" {
		plain = true
	}
	ws := w.track(s)
	if ws == nil {
		refuse("draining", lineStopping)
		return
	}
	defer w.untrack(ws)
	w.metrics.SSHSessions.Inc()
	defer w.metrics.SSHSessions.Dec()
	ws.run(plain)
}

// kioskID is the terminal's kiosk id: the key's comment or the SSH user.
func kioskID(s ssh.Session) string {
	if id, ok := s.Context().Value(kioskIDKey{}).(string); ok && id != "" {
		return id
	}
	return s.User()
}

// track registers a session for Drain; nil once draining.
func (w *sshWizard) track(s ssh.Session) *wizardSession {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.draining.Load() {
		return nil
	}
	ws := newWizardSession(w, s)
	w.sessions[ws] = struct{}{}
	w.running.Add(1)
	return ws
}

func (w *sshWizard) untrack(ws *wizardSession) {
	w.mu.Lock()
	delete(w.sessions, ws)
	w.mu.Unlock()
	w.running.Done()
}

// Drain stops the SSH service gracefully: no new connections or sessions;
// each session is told in one line that it has grace to finish; those
// still open then are ended (their wizard stops, their service session is
// signed out) and the connections closed. It returns when all sessions
// have ended, or ctx is done.
func (w *sshWizard) Drain(ctx context.Context, grace time.Duration) {
	w.mu.Lock()
	w.draining.Store(true)
	open := make([]*wizardSession, 0, len(w.sessions))
	for ws := range w.sessions {
		open = append(open, ws)
	}
	w.mu.Unlock()

	// No new connections; the open ones stay until their sessions end.
	shutCtx, cancelShut := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelShut()
	go func() { _ = w.srv.Shutdown(shutCtx) }()

	if len(open) > 0 {
		w.log.Info("ssh draining", "sessions", len(open), "grace", grace.String())
	}
	notice := fmt.Sprintf(lineDrain, grace.Round(time.Second))
	for _, ws := range open {
		ws.notify(notice)
	}
	done := make(chan struct{})
	go func() {
		w.running.Wait()
		close(done)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		w.mu.Lock()
		for ws := range w.sessions {
			ws.end()
		}
		w.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	_ = w.srv.Close()
}
