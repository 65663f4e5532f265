package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"misetup/api"
	"misetup/server/store"
)

// bells wakes the requests waiting on a key when something they wait for
// happens in this process: a device's commands (the long poll of GET
// /v1/devices/{id}/commands?state=pending&wait=N, keyed by deviceKey), a
// hand-off's state (GET /v1/handoffs/{id}?wait=N, keyed by its id hash).
// Other processes on the same store are seen by looking again every
// CommandPollEvery.
type bells struct {
	mu    sync.Mutex
	rings map[string]*ringer // by key; closed and dropped on ring
}

// ringer is the channel of a key's next ring and how many wait for it:
// the last to stop waiting drops it, so a key nobody rings (a hand-off that
// expired) leaves nothing behind.
type ringer struct {
	ch      chan struct{}
	waiters int
}

func deviceKey(miID, deviceID string) string { return miID + "\x00" + deviceID }

// wait returns a channel closed at the next ring for key, and done, which
// the caller calls once when it no longer waits.
func (b *bells) wait(key string) (ring <-chan struct{}, done func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rings == nil {
		b.rings = map[string]*ringer{}
	}
	r, ok := b.rings[key]
	if !ok {
		r = &ringer{ch: make(chan struct{})}
		b.rings[key] = r
	}
	r.waiters++
	return r.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if r.waiters--; r.waiters == 0 && b.rings[key] == r {
			delete(b.rings, key)
		}
	}
}

// ring wakes every request waiting on key.
func (b *bells) ring(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.rings[key]; ok {
		close(r.ch)
		delete(b.rings, key)
	}
}

// waitParam reads the wait query parameter: whole seconds from 0 to
// most; "" is 0 (answer at once).
func waitParam(r *http.Request, most time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	maxS := int(most / time.Second)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxS {
		return 0, errInput("wait", "wait must be a whole number of seconds from 0 to %d.", maxS)
	}
	return time.Duration(n) * time.Second, nil
}

// extendDeadlines gives a request that may wait (a long poll, registered
// with handleLong) the time it asked for: its answer may come later than
// the server's timeouts allow a request, and it is idle meanwhile.
// (In-process, there is no connection: ErrNotSupported, nothing to do.)
func (s *Server) extendDeadlines(ctx context.Context, wait time.Duration) {
	w, ok := ctx.Value(responseWriterKey{}).(http.ResponseWriter)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	if s.cfg.ReadTimeout > 0 {
		_ = rc.SetReadDeadline(time.Now().Add(wait + s.cfg.ReadTimeout))
	}
	if s.cfg.WriteTimeout > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(wait + s.cfg.WriteTimeout))
	}
}

// deliverCommands hands the device its pending commands (they become delivered)
// and marks it seen, in one transaction.
func (s *Server) deliverCommands(ctx context.Context, d *store.Device) ([]store.Command, error) {
	now := s.now()
	var cs []store.Command
	err := s.st.InTx(ctx, func(tx store.Store) error {
		var err error
		if cs, err = tx.DeliverCommands(ctx, d.MiID, d.ID, now); err != nil {
			return fmt.Errorf("deliver commands: %w", err)
		}
		err = tx.PatchDevice(ctx, d.MiID, d.ID, store.DevicePatch{LastSeen: &now})
		if errors.Is(err, store.ErrNotFound) {
			// Removed while its request waited: its sessions went with it.
			return errUnauthorized()
		}
		if err != nil {
			return fmt.Errorf("mark device seen: %w", err)
		}
		return nil
	})
	return cs, err
}

// waitCommands is the long poll: it delivers the device's pending commands,
// waiting up to wait for one to be queued. It wakes at once for a command
// queued in this process, and looks at the store every CommandPollEvery
// for one queued by another process on it (a second serve on PostgreSQL,
// the wizard beside the agent on one SQLite file); between looks it holds
// no store connection. It ends early, answering what it has (nothing), when
// the client goes away or the server shuts down.
func (s *Server) waitCommands(r *http.Request, d *store.Device, wait time.Duration) ([]store.Command, error) {
	ctx := r.Context()
	s.extendDeadlines(ctx, wait)

	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(s.cfg.CommandPollEvery)
	defer tick.Stop()
	for {
		// Listen before looking, so a command queued between the look and
		// the wait is not missed.
		bell, done := s.commandBells.wait(deviceKey(d.MiID, d.ID))
		cs, again, err := s.commandRound(ctx, d, bell, tick.C, deadline.C)
		done()
		if !again {
			return cs, err
		}
	}
}

// commandRound is one round of waitCommands: it delivers the device's
// pending commands, or, with none, waits until there may be some (again:
// the bell rang, or another process queued one) or the wait ends.
func (s *Server) commandRound(ctx context.Context, d *store.Device, bell <-chan struct{}, tick, deadline <-chan time.Time) (cs []store.Command, again bool, err error) {
	cs, err = s.deliverCommands(ctx, d)
	if err != nil || len(cs) > 0 {
		return cs, false, err
	}
	for {
		select {
		case <-bell:
			return nil, true, nil
		case <-tick:
			// Another process may have queued one: a read first, so an
			// idle device costs no write.
			pending, err := s.st.Commands(ctx, d.MiID, d.ID, api.CommandPending)
			if err != nil {
				return nil, false, fmt.Errorf("look for commands: %w", err)
			}
			if len(pending) > 0 {
				return nil, true, nil
			}
		case <-deadline:
			return nil, false, nil
		case <-s.quit:
			return nil, false, nil
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// responseWriterKey carries the ResponseWriter of a request in its context,
// for handlers that adjust their connection's deadlines.
type responseWriterKey struct{}

// getCommand answers GET /v1/devices/{id}/commands/{cid}: one command and
// what became of it, for any session of the account (the owner following a
// ring or a locate from another device).
func (s *Server) getCommand(r *http.Request, who *caller) (int, any, error) {
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.command(r, who, d)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, commandView(c), nil
}
