package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"misetup/api"
	"misetup/flows"
)

// DrillService is what Drill needs: the agent's Service, and sending and
// following a command; *client.Client satisfies it.
type DrillService interface {
	Service
	SendCommand(ctx context.Context, deviceID string, req api.CommandRequest) (api.Command, error)
	Command(ctx context.Context, deviceID, commandID string) (api.Command, error)
}

// DrillResult is what "Test it now" shows: the command as the service
// stored it (done, with the device's result) and how long the round trip
// took, from sending the ring to seeing it done.
type DrillResult struct {
	Command   api.Command
	RoundTrip time.Duration
}

// DrillTimeout bounds a drill when ctx has no deadline.
const DrillTimeout = 20 * time.Second

// drillFollowEvery is how often a drill asks the service about its ring,
// when another agent (a `misetup agent` beside the wizard) took it.
const drillFollowEvery = 150 * time.Millisecond

// Drill is the wizard's "Test it now" of Find Device: it runs the agent on
// this device for the moment (dev carries the ring out), sends this device
// a ring through the service, and waits until the service has it done
// ("Rang this device in 0.4 s"). Find Device must be on for the device
// (else a *flows.UserError with the service's conflict). A `misetup agent`
// already running for this device may take the ring instead; the drill
// counts that too.
func Drill(ctx context.Context, svc DrillService, deviceID string, dev Device) (DrillResult, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DrillTimeout)
		defer cancel()
	}
	actx, stop := context.WithCancel(ctx)
	acked := make(chan api.Command, 4)
	done := make(chan error, 1)
	go func() {
		done <- Run(actx, Config{
			Service: svc, Device: dev, DeviceID: deviceID,
			Backoff: Backoff{Min: 100 * time.Millisecond, Max: time.Second},
			Acked: func(c api.Command) {
				select {
				case acked <- c:
				default:
				}
			},
		})
	}()
	running := done // nil once the agent has stopped
	defer func() {
		stop()
		if running != nil {
			<-running
		}
	}()

	start := time.Now()
	sent, err := svc.SendCommand(ctx, deviceID, api.CommandRequest{Type: api.CommandRing, Message: "misetup: testing Find Device"})
	if err != nil {
		return DrillResult{}, flows.Explain(fmt.Errorf("test ring: %w", err))
	}
	tick := time.NewTicker(drillFollowEvery)
	defer tick.Stop()
	for {
		select {
		case c := <-acked:
			if c.ID == sent.ID {
				return finished(c, time.Since(start))
			}
		case <-tick.C:
			c, err := svc.Command(ctx, deviceID, sent.ID)
			if err != nil {
				if ctx.Err() == nil {
					continue // a lost look; the next one may work
				}
				break
			}
			if c.State == api.CommandDone || c.State == api.CommandFailed {
				return finished(c, time.Since(start))
			}
		case err := <-running:
			running = nil
			if errors.Is(err, ErrSignedOut) {
				return DrillResult{}, flows.Explain(fmt.Errorf("test ring: %w", api.ErrUnauthorized))
			}
			// Stopped otherwise (an erase?): another agent may still
			// carry the ring out; keep following it.
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			return DrillResult{}, flows.Explain(fmt.Errorf("test ring: %w", ctx.Err()))
		}
	}
}

// finished is the drill's answer for its ring c, done or failed.
func finished(c api.Command, took time.Duration) (DrillResult, error) {
	if c.State == api.CommandFailed {
		return DrillResult{Command: c, RoundTrip: took}, fmt.Errorf("test ring failed on this device: %s", c.Result)
	}
	return DrillResult{Command: c, RoundTrip: took}, nil
}
