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

// commandBell wakes the requests waiting for a device's commands (the long
// poll of GET /v1/devices/{id}/commands?state=pending&wait=N) when one is
// queued in this process. Other processes on the same store are seen by
// looking again every CommandPollEvery.
type commandBell struct {
	mu    sync.Mutex
	rings map[string]chan struct{} // by device key; closed and dropped on ring
}

func deviceKey(miID, deviceID string) string { return miID + "\x00" + deviceID }

// wait returns a channel closed at the next ring for the device.
func (b *commandBell) wait(miID, deviceID string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rings == nil {
		b.rings = map[string]chan struct{}{}
	}
	k := deviceKey(miID, deviceID)
	ch, ok := b.rings[k]
	if !ok {
		ch = make(chan struct{})
		b.rings[k] = ch
	}
	return ch
}

// ring wakes every request waiting for the device.
func (b *commandBell) ring(miID, deviceID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := deviceKey(miID, deviceID)
	if ch, ok := b.rings[k]; ok {
		close(ch)
		delete(b.rings, k)
	}
}

// waitParam reads the wait query parameter: whole seconds from 0 to
// CommandWaitMax; "" is 0 (answer at once).
func (s *Server) waitParam(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	maxS := int(s.cfg.CommandWaitMax / time.Second)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxS {
		return 0, errInput("wait", "wait must be a whole number of seconds from 0 to %d.", maxS)
	}
	return time.Duration(n) * time.Second, nil
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
	// The answer may come later than the server's timeouts allow a
	// request; this one is idle meanwhile, so give it the time it asked for.
	// (In-process, there is no connection: ErrNotSupported, nothing to do.)
	if w, ok := ctx.Value(responseWriterKey{}).(http.ResponseWriter); ok {
		rc := http.NewResponseController(w)
		if s.cfg.ReadTimeout > 0 {
			_ = rc.SetReadDeadline(time.Now().Add(wait + s.cfg.ReadTimeout))
		}
		if s.cfg.WriteTimeout > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(wait + s.cfg.WriteTimeout))
		}
	}

	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(s.cfg.CommandPollEvery)
	defer tick.Stop()
	for {
		// Listen before looking, so a command queued between the look and
		// the wait is not missed.
		bell := s.bell.wait(d.MiID, d.ID)
		cs, err := s.deliverCommands(ctx, d)
		if err != nil || len(cs) > 0 {
			return cs, err
		}
		for again := false; !again; {
			select {
			case <-bell:
				again = true
			case <-tick.C:
				// Another process may have queued one: a read first, so an
				// idle device costs no write.
				pending, err := s.st.Commands(ctx, d.MiID, d.ID, api.CommandPending)
				if err != nil {
					return nil, fmt.Errorf("look for commands: %w", err)
				}
				again = len(pending) > 0
			case <-deadline.C:
				return nil, nil
			case <-s.quit:
				return nil, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
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
