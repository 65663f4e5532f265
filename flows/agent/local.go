package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"misetup/api"
	"misetup/flows"
)

// Local is this machine as a Device: what `misetup agent` carries commands
// out with. The parts that touch the terminal or the desktop are funcs the
// caller gives (main), so Local itself stays plain Go.
type Local struct {
	// StateDir and CacheDir are misetup's own dirs: the session, the lock
	// marker, progress and queue in the first, caches in the second.
	StateDir, CacheDir string
	// Location is where this device is, as configured ("lat,lon" or
	// "lat,lon,accuracy_m"); "" when unknown. See ParseLocation.
	Location string
	// Bell rings the terminal (nil: none here).
	Bell func() error
	// Notify shows a desktop notification (nil: none here).
	Notify func(title, body string) error
	// SignOut ends the session at the service (an erase).
	SignOut func(ctx context.Context) error
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logf receives what went wrong on the way (nil: silent).
	Logf func(format string, args ...any)
}

func (l Local) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l Local) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

// Ring implements Device: the terminal bell and a desktop notification,
// where there are; a device with neither still logs the ring, and the
// result says how it rang. It never fails.
func (l Local) Ring(_ context.Context, message string) (string, error) {
	var how []string
	if l.Bell != nil {
		if err := l.Bell(); err != nil {
			l.logf("ring: terminal bell: %v", err)
		} else {
			how = append(how, "terminal bell")
		}
	}
	if l.Notify != nil {
		body := flows.CleanText(message)
		if body == "" {
			body = "Your Mi Account asked this device to ring."
		}
		if err := l.Notify("Find Device", body); err != nil {
			l.logf("ring: desktop notification: %v", err)
		} else {
			how = append(how, "desktop notification")
		}
	}
	if len(how) == 0 {
		return "rang (logged only: no terminal or desktop notification here)", nil
	}
	return "rang (" + strings.Join(how, ", ") + ")", nil
}

// Lock implements Device: the lock marker with the owner's message, and
// the saved session ended (flows.LockDevice). The agent itself stays, so
// the owner can still locate or erase the device.
func (l Local) Lock(_ context.Context, message string) (string, error) {
	if err := flows.LockDevice(l.StateDir, message, l.now()); err != nil {
		return "", err
	}
	return "locked: misetup on this device asks for the password again", nil
}

// Locate implements Device: the configured location, or none ("location
// unknown"); never a made-up one.
func (l Local) Locate(context.Context) (string, *api.Location, error) {
	if strings.TrimSpace(l.Location) == "" {
		return "location unknown: none is configured on this device", nil, nil
	}
	loc, err := ParseLocation(l.Location)
	if err != nil {
		return "", nil, err
	}
	loc.ReportedAt = l.now().UTC()
	return "location from this device's configuration", loc, nil
}

// Erase implements Device: it signs out at the service, then deletes
// misetup's own data for the account (flows.EraseLocalData), even when
// the sign-out could not be sent (the token is gone from disk either way).
func (l Local) Erase(ctx context.Context) error {
	var errs []error
	if l.SignOut != nil {
		if err := l.SignOut(ctx); err != nil && !errors.Is(err, api.ErrUnauthorized) {
			errs = append(errs, fmt.Errorf("sign out: %w", err))
		}
	}
	removed, err := flows.EraseLocalData(l.StateDir, l.CacheDir)
	for _, p := range removed {
		l.logf("erase: removed %s", p)
	}
	return errors.Join(append(errs, err)...)
}

// ParseLocation reads a location as configured: "lat,lon" or
// "lat,lon,accuracy_m" (degrees, metres), e.g. "39.9042, 116.4074, 50".
func ParseLocation(s string) (*api.Location, error) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("location %q: want \"lat,lon\" or \"lat,lon,accuracy_m\"", s)
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("location %q: %q is not a number", s, strings.TrimSpace(p))
		}
		v[i] = f
	}
	switch {
	case v[0] < -90 || v[0] > 90:
		return nil, fmt.Errorf("location %q: latitude must be between -90 and 90", s)
	case v[1] < -180 || v[1] > 180:
		return nil, fmt.Errorf("location %q: longitude must be between -180 and 180", s)
	case v[2] < 0 || v[2] > 1e7:
		return nil, fmt.Errorf("location %q: accuracy must be between 0 and 10,000,000 metres", s)
	}
	return &api.Location{Lat: v[0], Lon: v[1], AccuracyM: v[2]}, nil
}
