// Package agent is the device side of Find Device, as plain Go: it waits
// for this device's commands (the service's long poll), carries each out
// through a Device, and acknowledges it with its result; it reconnects
// with backoff when the service cannot be reached, and saves the settings
// queued while it could not (flows.ApplyQueued). `misetup agent` runs it
// with the real device; the wizard's "Test it now" runs it for a moment
// (Drill); tests run it with a fake one.
//
// Like flows, it has no terminal and no HTTP: it declares the small
// interfaces it needs, and *client.Client satisfies them.
package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"misetup/api"
	"misetup/flows"
)

// Service is what the agent needs from the account service; *client.Client
// satisfies it.
type Service interface {
	// WaitCommands returns the device's pending commands (they become
	// delivered), waiting up to wait for one.
	WaitCommands(ctx context.Context, deviceID string, wait time.Duration) ([]api.Command, error)
	// Commands lists the device's commands in a state, without taking them.
	Commands(ctx context.Context, deviceID, state string) ([]api.Command, error)
	// AckCommand reports what became of a command.
	AckCommand(ctx context.Context, deviceID, commandID string, ack api.CommandAck) (api.Command, error)
}

// Device carries out commands on this device. The real one rings the
// terminal and the desktop, writes the lock marker, reads the configured
// location and erases misetup's data; tests use a fake.
type Device interface {
	// Ring makes the device noticeable, showing the owner's message; the
	// result says how it rang.
	Ring(ctx context.Context, message string) (result string, err error)
	// Lock locks misetup on this device with the owner's message, until
	// the password is given again.
	Lock(ctx context.Context, message string) (result string, err error)
	// Locate reports where the device is, as far as it knows: a nil
	// location when it does not (never a made-up one).
	Locate(ctx context.Context) (result string, loc *api.Location, err error)
	// Erase signs out and deletes misetup's own data for the account. The
	// agent calls it after acknowledging the erase (the owner sees it
	// done), and stops.
	Erase(ctx context.Context) error
}

// Backoff is the wait between reconnection attempts: Min doubled at each
// failure up to Max, of which the upper half is random, so devices that
// lost the service together do not come back together.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff is half a second, doubling up to 30 seconds.
var DefaultBackoff = Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}

// Delay is the wait before retry n (from 0).
func (b Backoff) Delay(n int) time.Duration {
	if b.Min <= 0 {
		b = DefaultBackoff
	}
	d := b.Min << min(n, 20)
	if d > b.Max || d <= 0 {
		d = b.Max
	}
	return d/2 + rand.N(d/2+1)
}

// DefaultWait is how long one long poll waits for a command (the service
// allows up to 30 s).
const DefaultWait = 25 * time.Second

// Config is what Run needs.
type Config struct {
	Service  Service
	Device   Device
	DeviceID string
	// Wait is how long one long poll waits (DefaultWait when 0).
	Wait time.Duration
	// Backoff paces reconnections (DefaultBackoff when zero).
	Backoff Backoff
	// Redeliver carries out, at the start, the commands delivered to this
	// device earlier but never acknowledged (an agent that died between):
	// for `misetup agent`, not for a drill running beside it.
	Redeliver bool
	// Queue and Saver, when set, save the settings queued while the
	// service could not be reached: at the start, after each reconnection,
	// and whenever the queue holds some.
	Queue *flows.SettingsQueue
	Saver flows.SettingsSaver
	// Logf receives one line per event (nil: silent).
	Logf func(format string, args ...any)
	// Acked, when set, is told each command acknowledged, with its state
	// as the service stored it.
	Acked func(api.Command)
}

// ErrSignedOut means the service no longer knows this device's session
// (signed out, the device removed, the password changed): the agent cannot
// go on until someone signs in again.
var ErrSignedOut = errors.New("the session of this device ended: sign in again (run misetup)")

// ErrErased means an erase command was carried out: the account's session
// and misetup's data on this device are gone, and the agent stopped.
var ErrErased = errors.New("this device was erased: misetup's data for the account is gone and it is signed out")

// Run carries out the device's commands until ctx ends (it then returns
// nil), the session ends (ErrSignedOut) or an erase was carried out
// (ErrErased). It never gives up on an unreachable service: it waits, with
// backoff, and tries again.
func Run(ctx context.Context, cfg Config) error {
	a := &runner{cfg: cfg}
	if a.cfg.Wait <= 0 {
		a.cfg.Wait = DefaultWait
	}
	if a.cfg.Backoff.Min <= 0 {
		a.cfg.Backoff = DefaultBackoff
	}
	return a.run(ctx)
}

type runner struct {
	cfg      Config
	failures int // consecutive failures to reach the service
}

func (a *runner) logf(format string, args ...any) {
	if a.cfg.Logf != nil {
		a.cfg.Logf(format, args...)
	}
}

func (a *runner) run(ctx context.Context) error {
	a.logf("agent for device %s started", a.cfg.DeviceID)
	a.applyQueue(ctx)
	if a.cfg.Redeliver {
		cs, err := a.cfg.Service.Commands(ctx, a.cfg.DeviceID, api.CommandDelivered)
		switch {
		case signedOut(err):
			return a.signedOut(err)
		case err == nil && len(cs) > 0:
			a.logf("%d command(s) received earlier were never acknowledged: carrying them out now", len(cs))
			if err := a.carryOut(ctx, cs); err != nil {
				return a.stopped(ctx, err)
			}
		}
	}
	for {
		if ctx.Err() != nil {
			return a.stopped(ctx, nil)
		}
		cs, err := a.cfg.Service.WaitCommands(ctx, a.cfg.DeviceID, a.cfg.Wait)
		if err != nil {
			if ctx.Err() != nil {
				return a.stopped(ctx, nil)
			}
			if signedOut(err) {
				return a.signedOut(err)
			}
			d := a.cfg.Backoff.Delay(a.failures)
			a.failures++
			a.logf("cannot reach the account service (%v); trying again in %s", err, d.Round(100*time.Millisecond))
			if !sleep(ctx, d) {
				return a.stopped(ctx, nil)
			}
			continue
		}
		if a.failures > 0 {
			a.logf("reconnected to the account service after %d failed attempt(s)", a.failures)
			a.failures = 0
			a.applyQueue(ctx)
		}
		if err := a.carryOut(ctx, cs); err != nil {
			return a.stopped(ctx, err)
		}
		if a.cfg.Queue != nil {
			if q, err := a.cfg.Queue.All(); err == nil && len(q) > 0 {
				a.applyQueue(ctx)
			}
		}
	}
}

// stopped is what Run returns: err, or nil for a stop asked by ctx.
func (a *runner) stopped(ctx context.Context, err error) error {
	if err == nil && ctx.Err() != nil {
		a.logf("agent stopped")
	}
	return err
}

func (a *runner) signedOut(err error) error {
	a.logf("the account service refused this device's session (%v): stopping", err)
	return ErrSignedOut
}

func signedOut(err error) bool { return errors.Is(err, api.ErrUnauthorized) }

// carryOut carries out commands in order; it returns ErrSignedOut,
// ErrErased, or nil.
func (a *runner) carryOut(ctx context.Context, cs []api.Command) error {
	for _, c := range cs {
		if err := a.one(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// one carries out a command and acknowledges it.
func (a *runner) one(ctx context.Context, c api.Command) error {
	a.logf("received %s (command %s)", c.Type, c.ID)
	ack := api.CommandAck{State: api.CommandDone}
	var err error
	switch c.Type {
	case api.CommandRing:
		ack.Result, err = a.cfg.Device.Ring(ctx, c.Message)
	case api.CommandLock:
		ack.Result, err = a.cfg.Device.Lock(ctx, c.Message)
	case api.CommandLocate:
		ack.Result, ack.Location, err = a.cfg.Device.Locate(ctx)
	case api.CommandErase:
		// Acknowledged first, so that the owner sees it done: after it the
		// session is gone and no acknowledgement could be sent.
		ack.Result = "erasing misetup's data for this account and signing out"
		if err := a.ack(ctx, c, ack); err != nil {
			return err
		}
		if err := a.cfg.Device.Erase(ctx); err != nil {
			a.logf("erase: %v", err)
			return fmt.Errorf("erase: %w", err)
		}
		a.logf("erased: signed out, misetup's data for the account deleted")
		return ErrErased
	default:
		err = fmt.Errorf("this agent does not know the command %q", c.Type)
	}
	if err != nil {
		ack = api.CommandAck{State: api.CommandFailed, Result: err.Error()}
	}
	return a.ack(ctx, c, ack)
}

// ack acknowledges a command carried out, trying again (with backoff)
// while the service cannot be reached: what was done must be reported.
// An acknowledgement the service refuses (already acknowledged, the
// command gone) is logged and let go.
func (a *runner) ack(ctx context.Context, c api.Command, ack api.CommandAck) error {
	for try := 0; ; try++ {
		got, err := a.cfg.Service.AckCommand(ctx, a.cfg.DeviceID, c.ID, ack)
		switch {
		case err == nil:
			a.logf("%s %s: %s", c.Type, got.State, ack.Result)
			if a.cfg.Acked != nil {
				a.cfg.Acked(got)
			}
			return nil
		case signedOut(err):
			return a.signedOut(err)
		case errors.Is(err, &api.Error{Code: api.CodeConflict}):
			a.logf("%s (command %s) was already acknowledged", c.Type, c.ID)
			return nil
		case refused(err):
			a.logf("the service refused the acknowledgement of %s (command %s): %v", c.Type, c.ID, err)
			return nil
		}
		if ctx.Err() != nil {
			return nil // stopping: the command stays delivered, for the next start
		}
		d := a.cfg.Backoff.Delay(try)
		a.logf("cannot acknowledge %s (%v); trying again in %s", c.Type, err, d.Round(100*time.Millisecond))
		if !sleep(ctx, d) {
			return nil
		}
	}
}

// refused reports whether the service answered with a decision (4xx) that
// another try will not change.
func refused(err error) bool {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case api.CodeUnavailable, api.CodeInternal, api.CodeRateLimited:
		return false
	}
	return true
}

// applyQueue saves the settings queued while the service could not be
// reached.
func (a *runner) applyQueue(ctx context.Context) {
	if a.cfg.Queue == nil || a.cfg.Saver == nil {
		return
	}
	res, err := flows.ApplyQueued(ctx, a.cfg.Saver, *a.cfg.Queue)
	if errors.Is(err, flows.ErrQueueBusy) {
		return // the wizard is saving them
	}
	if err != nil {
		a.logf("queued settings: %v", err)
	}
	for _, r := range res {
		if !r.Saved.IsZero() {
			a.logf("saved the settings queued for device %s (%s)", r.Settings.DeviceID, describe(r.Saved))
		}
		if r.Dropped != nil {
			a.logf("the service refused settings queued for device %s, dropped: %v", r.Settings.DeviceID, r.Dropped)
		}
		if r.Kept != nil {
			a.logf("settings queued for device %s wait for the service: %v", r.Settings.DeviceID, r.Kept)
		}
	}
}

func describe(s flows.QueuedSettings) string {
	var parts []string
	if s.Sync != nil {
		parts = append(parts, fmt.Sprintf("Mi Cloud sync %s", onOff(s.Sync.AutoSync)))
	}
	if s.FindDevice != nil {
		parts = append(parts, "Find Device "+onOff(*s.FindDevice))
	}
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
