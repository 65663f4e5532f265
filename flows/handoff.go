package flows

import (
	"context"
	"time"

	"misetup/api"
)

// Handoffs are the calls of a kiosk's private hand-off (DESIGN's kiosk
// mode): the customer types the identifier and password on their own phone,
// from a one-time link the kiosk shows as a QR code, and the kiosk goes on
// without ever seeing the password. *client.Client satisfies it.
type Handoffs interface {
	CreateHandoff(ctx context.Context, req api.HandoffRequest) (api.Handoff, error)
	WaitHandoff(ctx context.Context, id string, wait time.Duration) (api.Handoff, error)
}

// HandoffWait is how long one poll of a hand-off waits for the phone.
const HandoffWait = 5 * time.Second

// StartHandoff asks the service for a hand-off of purpose
// (api.PurposeRegistration or api.PurposeSignIn) and its link. A sign-in's
// session will be opened on device.
func StartHandoff(ctx context.Context, h Handoffs, purpose string, device api.Device, region, language string) (api.Handoff, error) {
	req := api.HandoffRequest{Purpose: purpose, Region: region, Language: language}
	if purpose == api.PurposeSignIn {
		req.Device = device
	}
	ho, err := h.CreateHandoff(ctx, req)
	if err != nil {
		return api.Handoff{}, Explain(wrap("start hand-off", err))
	}
	return ho, nil
}

// FollowHandoff reads the hand-off again, waiting up to HandoffWait for the
// phone. A sign-in's session, in the one answer that carries it, becomes
// the session of k (and of sessions, when given).
func FollowHandoff(ctx context.Context, h Handoffs, k SessionKeeper, sessions SessionStore, id string) (api.Handoff, error) {
	ho, err := h.WaitHandoff(ctx, id, HandoffWait)
	if err != nil {
		return api.Handoff{}, Explain(wrap("follow hand-off", err))
	}
	if ho.Session != nil && ho.Session.Token != "" {
		k.SetToken(ho.Session.Token)
		if err := saveSession(sessions, ho.Session); err != nil {
			return api.Handoff{}, err
		}
	}
	return ho, nil
}

// HandoffEnded reports whether the phone is done with the hand-off, or its
// link expired: polling it further changes nothing.
func HandoffEnded(h api.Handoff) bool {
	switch h.State {
	case api.HandoffDone, api.HandoffCollected, api.HandoffExpired:
		return true
	}
	return false
}

// HandoffLeft is how long the hand-off's link still works (0 once expired).
func HandoffLeft(h api.Handoff, now time.Time) time.Duration {
	return max(h.ExpiresAt.Sub(now), 0)
}
