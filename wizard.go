package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"misetup/api"
	"misetup/assets"
	"misetup/client"
	"misetup/flows"
	"misetup/flows/agent"
	"misetup/flows/micloud"
	"misetup/internal/argon2"
	"misetup/ui"
)

// wizardEnv is what main hands the wizard.
type wizardEnv struct {
	ServerURL                   string // "" → the embedded in-process service
	Lang                        string // --lang value, or "" (then LANG/LC_ALL from Environ decide; default en)
	DataDir, StateDir, CacheDir string // misetup's XDG dirs, already created (0700)
	// Folders are Mi Cloud's folders on this device ("Restore from Mi
	// Cloud" brings backups there); nil: no restore.
	Folders    []micloud.Folder
	Accessible bool         // ACCESSIBLE=1 or --accessible
	Kiosk      *kioskEnv    // misetup --kiosk; nil for a personal device
	Hub        bool         // misetup account: the account hub, not the wizard
	Defaults   *ui.Defaults // the store's answers ([defaults], --answers); nil when none
	In         io.Reader
	Out        io.Writer
	Environ    []string
	// Embedded opens the in-process service (SQLite under DataDir, codes to the outbox under StateDir):
	// it returns the handler and a close func. Slow (opens the DB, runs migrations): call it AFTER the first frame.
	Embedded func(ctx context.Context) (http.Handler, func() error, error)
}

// runWizard runs the setup wizard: the full-screen UI, or plain prompts when
// accessible mode is asked for (ACCESSIBLE=1, --accessible, TERM=dumb) or
// there is no terminal to draw on (stdin or stdout a pipe, a file, nothing):
// the full-screen program never starts on a pipe.
func runWizard(ctx context.Context, env wizardEnv) error {
	if u, ok := env.Out.(interface{ Unwrap() io.Writer }); ok {
		env.Out = u.Unwrap() // the wizard draws itself: no line filter in between
	}
	plain := env.Accessible || envValue(env.Environ, "TERM") == "dumb"
	if !plain && (!isTerminal(env.In) || !isTerminal(env.Out)) {
		plain = true
		fmt.Fprintln(env.Out, "misetup: no terminal here, so plain prompts (as with --accessible); run misetup in a terminal for the full-screen wizard.")
	}

	if !plain {
		// The renderer measures text with go-runewidth, whose table of wide
		// and zero-width characters (2 MB) is built at its first character
		// past ASCII: in the first frame. Built now, on another core, it is
		// ready by then.
		go ansi.WcWidth.StringWidth("─")
	}

	svc := newService(env)
	defer svc.close()

	deps, opts := wizardDeps(env, svc)
	if env.Kiosk != nil {
		if err := env.Kiosk.terminal.needPIN(); err != nil {
			return err
		}
		k, err := env.Kiosk.terminal.uiKiosk(svc.signOut, nil)
		if err != nil {
			return err
		}
		// Nothing of a customer is kept: the session in memory, no
		// progress, no files of misetup's own (the service's store and
		// outbox are the service's).
		opts.Kiosk = k
		deps.Sessions, deps.Progress, deps.StateDir, deps.CacheDir, deps.Drill, deps.Restore = &memSessions{}, nil, "", "", nil, nil
		// "Type it on your phone" needs the store server's public address,
		// which its status says (the built-in service has none). It is
		// asked beside the first screens, not before them: a store server
		// that does not answer must not keep the kiosk blank.
		if env.ServerURL != "" {
			var public atomic.Value
			go func() {
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if st, err := svc.client.Status(sctx); err == nil {
					public.Store(st.PublicURL)
				}
			}()
			opts.PublicURL = func() string { s, _ := public.Load().(string); return s }
			deps.Handoffs = svc.client
		}
	}
	if plain {
		// The terminal is not raw here: ctrl+c is SIGINT. The wizard asks
		// before quitting, as the full-screen one does.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		defer signal.Stop(sig)
		intr := make(chan struct{}, 1)
		go func() {
			for {
				select {
				case <-sig:
					select {
					case intr <- struct{}{}:
					default:
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		deps.Interrupt = intr
		return ui.RunAccessible(ctx, deps, opts, env.In, env.Out, env.Environ)
	}
	app := ui.New(ctx, deps, opts)
	p := tea.NewProgram(app,
		tea.WithContext(ctx),
		tea.WithInput(env.In),
		tea.WithOutput(env.Out),
		tea.WithEnvironment(env.Environ),
	)
	_, err := p.Run()
	switch {
	case errors.Is(err, tea.ErrInterrupted):
		return nil // ctrl+c is not an error
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil // SIGTERM or the caller's cancel
	case err != nil:
		return fmt.Errorf("wizard: %w", err)
	}
	if msg := app.ExitMessage(); msg != "" {
		fmt.Fprintln(env.Out, msg)
	}
	return nil
}

// isTerminal reports whether f is a terminal (an *os.File on one).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(file.Fd())
}

// wizardDeps wires the client into the flows interfaces the ui takes.
func wizardDeps(env wizardEnv, svc *service) (ui.Deps, ui.Options) {
	files := flows.Files{Dir: env.StateDir, Service: env.ServerURL}
	sys := flows.System{Root: "/", Hostname: os.Hostname}
	deps := ui.Deps{
		Accounts: svc.client,
		Manager:  svc.client,
		Cloud:    svc.client,
		Checker: flows.Checker{
			Status:        svc.statusSource(),
			System:        sys,
			ClientVersion: api.Version,
			Server:        env.ServerURL,
		},
		Progress: files,
		Sessions: files,
		System:   sys,
		DeviceID: files.DeviceID,
		Start:    svc.start,
		Drill: func(ctx context.Context) (time.Duration, error) {
			id, err := files.DeviceID()
			if err != nil {
				return 0, err
			}
			// This device carries the ring out for the moment: a desktop
			// notification where there is one (the screen shows the rest;
			// a bell would land in the middle of the full-screen UI).
			r, err := agent.Drill(ctx, svc.client, id, agent.Local{StateDir: env.StateDir, CacheDir: env.CacheDir, Notify: desktopNotifier()})
			return r.RoundTrip, err
		},
		CacheDir: env.CacheDir,
		StateDir: env.StateDir,
	}
	if env.Folders != nil {
		deps.Restore = cloudRestorer{remote: svc.client, stateDir: env.StateDir, folders: env.Folders}
	}
	opts := ui.Options{
		Lang:    assets.MatchLanguage(env.Lang), // asked for: beats a saved choice and the locale
		Locale:  localeOf(env.Environ),
		Server:  env.ServerURL,
		Version: api.Version,
		Hub:     env.Hub,
		// The store's answers, pre-filled and marked as the store's.
		Defaults: env.Defaults,
	}
	return deps, opts
}

// checkLanguage refuses a language misetup does not speak, asked for by
// source (a flag, or where the setting came from), naming the ones it does.
// "" is no choice: the locale decides.
func checkLanguage(value, source string) error {
	if value == "" || assets.MatchLanguage(value) != "" {
		return nil
	}
	var have []string
	for _, l := range assets.Languages() {
		have = append(have, l+" ("+assets.Name(l)+")")
	}
	return fmt.Errorf("unknown language %q for %s: misetup speaks %s", value, source, strings.Join(have, " and "))
}

// localeOf is the locale the environment asks for: LC_ALL, then
// LC_MESSAGES, then LANG.
func localeOf(environ []string) string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := envValue(environ, k); v != "" {
			return v
		}
	}
	return ""
}

func envValue(environ []string, key string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// service is the account service the wizard talks to: a remote URL, or the
// embedded one, which opens after the first frame. Until it is open, its
// requests wait (each within its own deadline).
type service struct {
	client *client.Client
	probe  *client.Client // no retries: a lost probe of the connection check counts as lost
	lazy   *lazyHandler   // nil for a remote service
	open   func(ctx context.Context) (http.Handler, func() error, error)
}

func newService(env wizardEnv) *service {
	opts := []client.Option{client.WithUserAgent("misetup/" + api.Version)}
	if k := env.Kiosk; k != nil {
		// Every request says which kiosk and store it comes from.
		opts = append(opts, client.WithKiosk(k.id, k.store))
	}
	with := func(more ...client.Option) []client.Option { return append(slices.Clone(opts), more...) }
	if env.ServerURL != "" {
		return &service{
			client: client.New(env.ServerURL, with()...),
			probe:  client.New(env.ServerURL, with(client.WithRetries(0), client.WithTimeout(2*time.Second))...),
		}
	}
	lazy := &lazyHandler{ready: make(chan struct{})}
	return &service{
		client: client.New("", with(client.WithHandler(lazy))...),
		probe:  client.New("", with(client.WithHandler(lazy), client.WithRetries(0))...),
		lazy:   lazy,
		open:   env.Embedded,
	}
}

// signOut ends the session of token at the service (a kiosk's reset: the
// client already holds the next customer's token, or none).
func (s *service) signOut(ctx context.Context, token string) error {
	return s.client.With(client.WithToken(token)).SignOut(ctx)
}

// start opens the embedded service (ui calls it after the first frame).
func (s *service) start(ctx context.Context) error {
	if s.lazy == nil {
		return nil
	}
	if s.open == nil {
		err := fmt.Errorf("%w: no embedded service", flows.ErrServiceNotStarted)
		s.lazy.set(nil, nil, err)
		return err
	}
	h, closeFn, err := s.open(ctx)
	if err != nil {
		err = fmt.Errorf("%w: %w", flows.ErrServiceNotStarted, err)
	}
	s.lazy.set(h, closeFn, err)
	return err
}

func (s *service) close() {
	if s.lazy != nil {
		s.lazy.close()
	}
}

// statusSource is the connection check's view of the service: an embedded
// service that failed to open says so instead of "unreachable".
func (s *service) statusSource() flows.StatusSource {
	if s.lazy == nil {
		return s.probe
	}
	return embeddedStatus{s}
}

type embeddedStatus struct{ s *service }

func (e embeddedStatus) Status(ctx context.Context) (api.Status, error) {
	st, err := e.s.probe.Status(ctx)
	if err != nil {
		if oerr := e.s.lazy.err(); oerr != nil {
			return st, oerr
		}
	}
	return st, err
}

// lazyHandler serves requests with the embedded service once it is open;
// until then a request waits for it or for its own context.
type lazyHandler struct {
	ready chan struct{}
	once  sync.Once

	mu      sync.Mutex
	h       http.Handler
	closeFn func() error
	openErr error
	closed  bool

	releasing atomic.Bool // a release (of memory to the system) is running
}

func (l *lazyHandler) set(h http.Handler, closeFn func() error, err error) {
	l.mu.Lock()
	l.h, l.closeFn, l.openErr = h, closeFn, err
	if l.closed && closeFn != nil {
		_ = closeFn() // the wizard ended while the service was opening
		l.closeFn = nil
	}
	l.mu.Unlock()
	l.once.Do(func() { close(l.ready) })
}

func (l *lazyHandler) err() error {
	select {
	case <-l.ready:
	default:
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.openErr
}

func (l *lazyHandler) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.closeFn != nil {
		_ = l.closeFn()
		l.closeFn = nil
	}
}

// ServeHTTP implements http.Handler.
func (l *lazyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-l.ready:
	case <-r.Context().Done():
		unavailable(w, "the built-in account service is still starting")
		return
	}
	l.mu.Lock()
	h := l.h
	l.mu.Unlock()
	if h == nil {
		unavailable(w, "the built-in account service could not start")
		return
	}
	h.ServeHTTP(w, r)
	if r.Method != http.MethodGet {
		l.release()
	}
}

// release gives the memory a request freed back to the system, off the
// request's path. The built-in service hashes passwords with argon2id (19
// MiB a hash, in creating an account, signing in, changing a password):
// argon2 keeps it for the next hash and the Go runtime would keep the pages
// for minutes, and the wizard then sits at a screen holding three times
// the memory it uses. One release runs at a time; requests finished
// meanwhile share it.
func (l *lazyHandler) release() {
	if l.releasing.CompareAndSwap(false, true) {
		go func() {
			defer l.releasing.Store(false)
			argon2.Release() // the memory it keeps for the next hash
			debug.FreeOSMemory()
		}()
	}
}

func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: &api.Error{Code: api.CodeUnavailable, Message: msg}})
}
