package agent_test

// The agent against the real account service (server.New on a temporary
// SQLite store) through the real client, over a real socket, with the
// real Local device on temporary dirs: only the bell and the desktop
// notification are recorded instead of made.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
	"misetup/flows"
	"misetup/flows/agent"
	"misetup/internal/testutil"
	"misetup/server"
	"misetup/server/policy"
	"misetup/server/store"
)

// service is the account service listening on a real address, which can
// be stopped and started again on the same address and store.
type service struct {
	t    *testing.T
	srv  *server.Server
	st   store.Store
	addr string
	hs   *http.Server
	mail *testutil.Courier
}

func startService(t *testing.T) *service {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "misetup.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Argon2 = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	if cfg.Keys, err = server.RandomKeys(); err != nil {
		t.Fatal(err)
	}
	mail := &testutil.Courier{}
	srv, err := server.New(st, mail, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &service{t: t, srv: srv, st: st, mail: mail}
	s.listen("127.0.0.1:0")
	t.Cleanup(func() {
		s.stop()
		_ = srv.Close(ctx)
		_ = st.Close()
	})
	return s
}

func (s *service) listen(addr string) {
	s.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatalf("listen on %s: %v", addr, err)
	}
	s.addr = ln.Addr().String()
	s.hs = &http.Server{Handler: s.srv}
	go func() { _ = s.hs.Serve(ln) }()
}

// stop closes the listener and every connection, as a dead service would.
func (s *service) stop() {
	if s.hs != nil {
		_ = s.hs.Close()
		s.hs = nil
	}
}

func (s *service) url() string { return "http://" + s.addr }

// owner is ann's account: her laptop's client (it sends the commands) and
// her phone's (the device the agent runs for), Find Device on for it.
type owner struct {
	laptop, phone *client.Client
	miID          string
}

const (
	password = "Blue-Kettle-42"
	phoneID  = "phone-1"
)

func newOwner(t *testing.T, s *service) owner {
	t.Helper()
	ctx := context.Background()
	phone := client.New(s.url())
	ch, err := phone.Register(ctx, api.RegistrationRequest{Method: "email", Identifier: "ann@example.com", Password: password, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := phone.Verify(ctx, ch.ID, api.VerifyRequest{Code: s.mail.Code(t, ""), Device: &api.Device{ID: phoneID, Name: "Ann's phone"}})
	if err != nil || res.Session == nil {
		t.Fatalf("verify: %v %+v", err, res)
	}
	if _, err := phone.SetFindDevice(ctx, phoneID, true); err != nil {
		t.Fatal(err)
	}
	laptop := client.New(s.url())
	if _, err := laptop.SignIn(ctx, api.SessionRequest{Identifier: "ann@example.com", Password: password, Device: api.Device{ID: "laptop", Name: "laptop"}}); err != nil {
		t.Fatal(err)
	}
	return owner{laptop: laptop, phone: phone, miID: res.Account.MiID}
}

// rings records the bells and notifications of the Local device.
type rings struct {
	mu      sync.Mutex
	bells   int
	notices []string
}

func (r *rings) bell() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bells++
	return nil
}

func (r *rings) notify(title, body string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, title+": "+body)
	return nil
}

// logs collects the agent's lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// agentRun is an agent running for ann's phone.
type agentRun struct {
	state, cache string
	rings        *rings
	log          *logs
	done         chan error
	cancel       context.CancelFunc
}

func startAgent(t *testing.T, o owner, cfg agent.Config) *agentRun {
	t.Helper()
	a := &agentRun{state: t.TempDir(), cache: filepath.Join(t.TempDir(), "misetup"), rings: &rings{}, log: &logs{}, done: make(chan error, 1)}
	if err := (flows.Files{Dir: a.state}).SaveToken(o.phone.Token()); err != nil {
		t.Fatal(err)
	}
	if cfg.Device == nil {
		cfg.Device = agent.Local{
			StateDir: a.state, CacheDir: a.cache, Location: "39.9042, 116.4074, 50",
			Bell: a.rings.bell, Notify: a.rings.notify, SignOut: o.phone.SignOut, Logf: a.log.logf,
		}
	}
	cfg.Service, cfg.DeviceID, cfg.Logf = o.phone, phoneID, a.log.logf
	if cfg.Wait == 0 {
		cfg.Wait = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() { a.done <- agent.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			t.Error("the agent did not stop when asked")
		}
	})
	return a
}

// awaitState waits until the command reaches a final state, as the owner
// sees it from the laptop.
func awaitState(t *testing.T, o owner, id string) api.Command {
	t.Helper()
	var c api.Command
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c, err = o.laptop.Command(context.Background(), phoneID, id)
		if err == nil && (c.State == api.CommandDone || c.State == api.CommandFailed) {
			return c
		}
	}
	t.Fatalf("command %s never finished: %+v, %v", id, c, err)
	return c
}

func send(t *testing.T, o owner, req api.CommandRequest) api.Command {
	t.Helper()
	c, err := o.laptop.SendCommand(context.Background(), phoneID, req)
	if err != nil {
		t.Fatalf("send %s: %v", req.Type, err)
	}
	return c
}

func TestAgentCarriesOutEachCommand(t *testing.T) {
	s := startService(t)
	o := newOwner(t, s)
	a := startAgent(t, o, agent.Config{})

	start := time.Now()
	ring := awaitState(t, o, send(t, o, api.CommandRequest{Type: api.CommandRing, Message: "It's in the sofa?"}).ID)
	if ring.State != api.CommandDone || ring.Result != "rang (terminal bell, desktop notification)" {
		t.Errorf("ring = %+v", ring)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the ring took %v to reach a waiting agent", took)
	}
	a.rings.mu.Lock()
	if a.rings.bells != 1 || len(a.rings.notices) != 1 || a.rings.notices[0] != "Find Device: It's in the sofa?" {
		t.Errorf("bells %d, notifications %q", a.rings.bells, a.rings.notices)
	}
	a.rings.mu.Unlock()

	loc := awaitState(t, o, send(t, o, api.CommandRequest{Type: api.CommandLocate}).ID)
	if loc.State != api.CommandDone || loc.Location == nil || loc.Location.Lat != 39.9042 || loc.Location.Lon != 116.4074 || loc.Location.AccuracyM != 50 {
		t.Errorf("locate = %+v (location %+v)", loc, loc.Location)
	}
	fd, err := o.laptop.FindDevice(context.Background(), phoneID)
	if err != nil || fd.LastLocation == nil || fd.LastLocation.Lat != 39.9042 {
		t.Errorf("the phone's last location %+v, %v", fd.LastLocation, err)
	}

	lock := awaitState(t, o, send(t, o, api.CommandRequest{Type: api.CommandLock, Message: "Call 555 0100", Password: password}).ID)
	if lock.State != api.CommandDone || !strings.HasPrefix(lock.Result, "locked") {
		t.Errorf("lock = %+v", lock)
	}
	info, locked, err := flows.LockedMessage(a.state)
	if err != nil || !locked || info.Message != "Call 555 0100" {
		t.Errorf("lock marker %+v %v %v", info, locked, err)
	}
	if tok, _ := (flows.Files{Dir: a.state}).LoadToken(); tok != "" {
		t.Error("the saved session outlived the lock")
	}

	// Locked, the device still answers Find Device: a locate after a lock.
	if c := awaitState(t, o, send(t, o, api.CommandRequest{Type: api.CommandLocate}).ID); c.State != api.CommandDone {
		t.Errorf("locate after the lock = %+v", c)
	}

	// Erase: misetup's data goes, nothing else does.
	keep := filepath.Join(a.state, "device-id")
	if err := os.WriteFile(keep, []byte("phone-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := flows.QueueIn(a.state).QueueFindDevice(phoneID, true); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(a.cache, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.cache, "sync-phone-1.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	erase := awaitState(t, o, send(t, o, api.CommandRequest{Type: api.CommandErase, Password: password}).ID)
	if erase.State != api.CommandDone {
		t.Errorf("erase = %+v", erase)
	}
	select {
	case err := <-a.done:
		if !errors.Is(err, agent.ErrErased) {
			t.Errorf("the agent ended with %v after the erase; want ErrErased", err)
		}
		a.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop after the erase")
	}
	for _, p := range []string{filepath.Join(a.state, "locked.json"), flows.QueueIn(a.state).Dir, filepath.Join(a.cache, "sync-phone-1.json")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the erase (%v)", p, err)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the device id went with the erase: %v", err)
	}
	if _, err := o.phone.Devices(context.Background()); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("the phone's session after the erase: %v; want it signed out", err)
	}
}

// A device whose Local has no location says so: unknown, no coordinates.
func TestAgentLocateUnknown(t *testing.T) {
	s := startService(t)
	o := newOwner(t, s)
	state := t.TempDir()
	startAgent(t, o, agent.Config{Device: agent.Local{StateDir: state}})
	c := awaitState(t, o, send(t, o, api.CommandRequest{Type: api.CommandLocate}).ID)
	if c.State != api.CommandDone || c.Location != nil || !strings.Contains(c.Result, "unknown") {
		t.Errorf("locate with no location = %+v", c)
	}
}

// The service goes away and comes back on the same address: the agent
// backs off, reconnects, and carries out what was queued meanwhile.
func TestAgentReconnectsWithBackoff(t *testing.T) {
	s := startService(t)
	o := newOwner(t, s)
	a := startAgent(t, o, agent.Config{Wait: time.Second, Backoff: agent.Backoff{Min: 50 * time.Millisecond, Max: 400 * time.Millisecond}})
	time.Sleep(200 * time.Millisecond)
	addr := s.addr
	s.stop()
	for deadline := time.Now().Add(10 * time.Second); !a.log.has("cannot reach the account service"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent never noticed the service gone:\n%s", a.log)
		}
	}
	time.Sleep(time.Second) // a few attempts, backing off
	// A ring queued while the agent cannot reach the service (the store
	// is the service's, so it is written there).
	ring := &store.Command{ID: "while-away", MiID: o.miID, DeviceID: phoneID, Type: api.CommandRing, State: api.CommandPending}
	if err := s.st.CreateCommand(context.Background(), ring); err != nil {
		t.Fatal(err)
	}
	s.listen(addr)
	c := awaitState(t, o, ring.ID)
	if c.State != api.CommandDone {
		t.Errorf("ring queued while away = %+v", c)
	}
	if !a.log.has("reconnected to the account service after") {
		t.Errorf("no reconnection logged:\n%s", a.log)
	}
}

// The session ends (the owner removes the device): the agent stops with
// ErrSignedOut instead of polling forever.
func TestAgentStopsWhenTheSessionEnds(t *testing.T) {
	s := startService(t)
	o := newOwner(t, s)
	a := startAgent(t, o, agent.Config{Wait: time.Second})
	time.Sleep(200 * time.Millisecond)
	if err := o.laptop.RemoveDevice(context.Background(), phoneID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		if !errors.Is(err, agent.ErrSignedOut) {
			t.Errorf("the agent ended with %v; want ErrSignedOut", err)
		}
		a.done <- err
	case <-time.After(10 * time.Second):
		t.Fatalf("the agent went on without a session:\n%s", a.log)
	}
}

// A command delivered to an agent that died before acknowledging it is
// carried out by the next one (Redeliver).
func TestAgentRedeliversUnacknowledged(t *testing.T) {
	s := startService(t)
	o := newOwner(t, s)
	c := send(t, o, api.CommandRequest{Type: api.CommandRing})
	if got, err := o.phone.PendingCommands(context.Background(), phoneID); err != nil || len(got) != 1 {
		t.Fatalf("taking the ring: %v %v", got, err)
	}
	startAgent(t, o, agent.Config{Redeliver: true})
	if got := awaitState(t, o, c.ID); got.State != api.CommandDone {
		t.Errorf("redelivered ring = %+v", got)
	}
}

func TestAgentAppliesQueuedSettings(t *testing.T) {
	s := startService(t)
	o := newOwner(t, s)
	q := flows.QueueIn(t.TempDir())
	if err := q.QueueFindDevice(phoneID, false); err != nil {
		t.Fatal(err)
	}
	if err := q.QueueSync(phoneID, api.SyncSettings{AutoSync: true, Categories: []string{"notes"}}); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, o, agent.Config{Queue: &q, Saver: o.phone})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if all, _ := q.All(); len(all) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue was never applied:\n%s", a.log)
		}
	}
	fd, err := o.laptop.FindDevice(context.Background(), phoneID)
	if err != nil || fd.Enabled {
		t.Errorf("find device after the queue %+v, %v; want off", fd, err)
	}
	sy, err := o.laptop.Sync(context.Background(), phoneID)
	if err != nil || !sy.AutoSync || len(sy.Categories) != 1 {
		t.Errorf("sync after the queue %+v, %v", sy, err)
	}
}

func TestDrill(t *testing.T) {
	s := startService(t)
	o := newOwner(t, s)
	r := &rings{}
	res, err := agent.Drill(context.Background(), o.phone, phoneID, agent.Local{Bell: r.bell})
	if err != nil {
		t.Fatalf("drill: %v", err)
	}
	if res.Command.State != api.CommandDone || res.RoundTrip <= 0 || res.RoundTrip > 5*time.Second {
		t.Errorf("drill = %+v", res)
	}
	if r.bells != 1 {
		t.Errorf("%d bells; want the drill's one", r.bells)
	}
	// Find Device off: the service refuses, and the drill says why.
	if _, err := o.phone.SetFindDevice(context.Background(), phoneID, false); err != nil {
		t.Fatal(err)
	}
	_, err = agent.Drill(context.Background(), o.phone, phoneID, agent.Local{Bell: r.bell})
	if ue := flows.Explain(err); ue == nil || ue.Key != flows.ErrKeyConflict {
		t.Errorf("drill with Find Device off: %v; want the conflict explained", err)
	}
}

func TestBackoffGrowsWithJitterUpToItsCap(t *testing.T) {
	b := agent.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	for n, want := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000} {
		want *= time.Millisecond
		for range 50 {
			if d := b.Delay(n); d < want/2 || d > want {
				t.Fatalf("Delay(%d) = %v; want between %v and %v", n, d, want/2, want)
			}
		}
	}
	if d := b.Delay(1000); d > b.Max {
		t.Errorf("Delay(1000) = %v, past the cap", d)
	}
}
