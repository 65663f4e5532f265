package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"misetup/api"
)

// Level is how a check came out.
type Level int

// Levels, worst last.
const (
	LevelOK Level = iota
	LevelWarn
	LevelFail
)

// String is "ok", "warn" or "fail".
func (l Level) String() string {
	switch l {
	case LevelWarn:
		return "warn"
	case LevelFail:
		return "fail"
	}
	return "ok"
}

// Check names, in the order the requirements screen shows them.
const (
	CheckConnection = "connection"
	CheckVersion    = "version"
	CheckClock      = "clock"
	CheckNetwork    = "network"
)

// Checks lists the requirement checks in order.
func Checks() []string {
	return []string{CheckConnection, CheckVersion, CheckClock, CheckNetwork}
}

// Finding is the result of one check: a mark, a one-line finding and, when
// something is wrong, how to fix it.
type Finding struct {
	Check string
	Level Level
	Msg   Text
	Fix   Text // zero when there is nothing to fix

	// Facts the rest of the wizard uses.
	Network   NetworkKind   // CheckNetwork
	Latency   time.Duration // CheckConnection: median of the answered probes
	Lost      int           // CheckConnection: probes without an answer
	Offset    time.Duration // CheckClock: local clock minus the service's
	Err       error         // the cause of a failure, never shown
	Interface string        // CheckNetwork: the default route's interface
}

// Report is the result of all checks.
type Report struct {
	Findings []Finding
}

// OK reports whether nothing failed (warnings do not block).
func (r Report) OK() bool {
	for _, f := range r.Findings {
		if f.Level == LevelFail {
			return false
		}
	}
	return true
}

// Worst is the worst level found.
func (r Report) Worst() Level {
	w := LevelOK
	for _, f := range r.Findings {
		w = max(w, f.Level)
	}
	return w
}

// Find returns the finding of a check.
func (r Report) Find(check string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == check {
			return f, true
		}
	}
	return Finding{}, false
}

// StatusSource answers GET /v1/status.
type StatusSource interface {
	Status(ctx context.Context) (api.Status, error)
}

// Checker runs the requirements check of the guide's section 2.
type Checker struct {
	// Status is asked for the service's status. Give it a client without
	// retries so a lost probe counts as lost.
	Status        StatusSource
	System        System           // where the network kind is read
	ClientVersion string           // this build's version (api.Version)
	Now           func() time.Time // the local clock; time.Now when nil
	Probes        int              // probes of /v1/status for the connection check; 5 when 0
	Budget        time.Duration    // the most each check may take; 4.5 s when 0
	Server        string           // where the service is ("" for the built-in one), for the fix text
}

// Thresholds of the checks.
const (
	ClockWarn   = 2 * time.Minute
	ClockFail   = 5 * time.Minute
	SlowLatency = time.Second
)

func (c Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Checker) budget() time.Duration {
	if c.Budget > 0 {
		return c.Budget
	}
	return 4500 * time.Millisecond
}

// Run runs one check by name.
func (c Checker) Run(ctx context.Context, check string) Finding {
	switch check {
	case CheckConnection:
		return c.Connection(ctx)
	case CheckVersion:
		return c.Version(ctx)
	case CheckClock:
		return c.Clock(ctx)
	case CheckNetwork:
		return c.Network()
	}
	return Finding{Check: check, Level: LevelFail, Msg: T("check.unknown")}
}

// All runs every check at once and waits for them (for `misetup check`).
func (c Checker) All(ctx context.Context) Report {
	checks := Checks()
	out := make([]Finding, len(checks))
	var wg sync.WaitGroup
	for i, name := range checks {
		wg.Go(func() { out[i] = c.Run(ctx, name) })
	}
	wg.Wait()
	return Report{Findings: out}
}

// unreachable is the finding of a check that could not ask the service. Only
// the connection check says why and how to fix it; the others say they need
// the service, so one cause is not repeated three times.
func (c Checker) unreachable(check string, err error) Finding {
	f := Finding{Check: check, Level: LevelFail, Err: err}
	if check != CheckConnection {
		f.Msg = T("check.needs_service")
		return f
	}
	switch Explain(err).Key {
	case ErrKeyServiceNotStarted:
		f.Msg, f.Fix = T("check.service_not_started"), T("check.service_not_started.fix")
	case ErrKeyTimeout:
		f.Msg, f.Fix = T("check.connection.timeout"), c.reachFix()
	default:
		f.Msg, f.Fix = T("check.connection.down"), c.reachFix()
	}
	return f
}

func (c Checker) reachFix() Text {
	if c.Server == "" {
		return T("check.connection.fix_builtin")
	}
	return T("check.connection.fix", "server", c.Server)
}

// Connection probes /v1/status Probes times, one after another, and reports
// the median latency and how many probes were lost.
func (c Checker) Connection(ctx context.Context) Finding {
	probes := c.Probes
	if probes <= 0 {
		probes = 5
	}
	ctx, cancel := context.WithTimeout(ctx, c.budget())
	defer cancel()
	deadline, _ := ctx.Deadline()
	var lat []time.Duration
	var lastErr error
	foreign := 0 // answers that did not come from an account service
	for i := range probes {
		if ctx.Err() != nil {
			lastErr = ctx.Err()
			break
		}
		// Share what is left of the budget among the probes still to go.
		per := time.Until(deadline) / time.Duration(probes-i)
		pctx, pcancel := context.WithTimeout(ctx, per)
		start := c.now()
		_, err := c.Status.Status(pctx)
		elapsed := c.now().Sub(start)
		pcancel()
		var ae *api.Error
		switch {
		case err == nil, errors.Is(err, api.ErrClientTooOld):
			// The service answered (too old a client is the version check's
			// business).
			lat = append(lat, elapsed)
		case errors.As(err, &ae) && ae.Code != api.CodeUnavailable:
			// Something answered, but not with a status: not a misetup
			// service (a proxy, another server at that address).
			foreign++
			lastErr = err
		default:
			lastErr = err
		}
	}
	if len(lat) == 0 && foreign > 0 {
		return Finding{Check: CheckConnection, Level: LevelFail, Lost: probes, Err: lastErr,
			Msg: T("check.connection.not_service"), Fix: c.reachFix()}
	}
	lost := probes - len(lat)
	if len(lat) == 0 {
		f := c.unreachable(CheckConnection, lastErr)
		f.Lost = lost
		return f
	}
	slices.Sort(lat)
	med := lat[len(lat)/2]
	if len(lat)%2 == 0 {
		med = (lat[len(lat)/2-1] + lat[len(lat)/2]) / 2
	}
	f := Finding{Check: CheckConnection, Latency: med, Lost: lost}
	ms := fmt.Sprint(med.Milliseconds())
	if med < time.Millisecond {
		ms = "<1"
	}
	switch {
	case lost > 0:
		f.Level = LevelWarn
		f.Msg = T("check.connection.lossy", "ms", ms, "lost", lost, "n", probes)
		f.Fix = T("check.connection.lossy.fix")
	case med > SlowLatency:
		f.Level = LevelWarn
		f.Msg = T("check.connection.slow", "ms", ms, "n", probes)
		f.Fix = T("check.connection.slow.fix")
	default:
		f.Msg = T("check.connection.ok", "ms", ms, "n", probes)
	}
	return f
}

// Version compares this client's version with the range the service
// supports: below the minimum fails (the guide's "updated version"), below
// the latest warns.
func (c Checker) Version(ctx context.Context) Finding {
	ctx, cancel := context.WithTimeout(ctx, c.budget())
	defer cancel()
	st, err := c.Status.Status(ctx)
	if err != nil {
		if errors.Is(err, api.ErrClientTooOld) {
			return Finding{Check: CheckVersion, Level: LevelFail, Err: err,
				Msg: T("check.version.too_old_unknown", "version", c.ClientVersion),
				Fix: T("check.version.too_old.fix")}
		}
		return c.unreachable(CheckVersion, err)
	}
	v := c.ClientVersion
	switch {
	case st.MinClientVersion != "" && CompareVersions(v, st.MinClientVersion) < 0:
		return Finding{Check: CheckVersion, Level: LevelFail,
			Msg: T("check.version.too_old", "version", v, "min", st.MinClientVersion),
			Fix: T("check.version.too_old.fix")}
	case st.LatestClientVersion != "" && CompareVersions(v, st.LatestClientVersion) < 0:
		return Finding{Check: CheckVersion, Level: LevelWarn,
			Msg: T("check.version.update", "version", v, "latest", st.LatestClientVersion),
			Fix: T("check.version.update.fix")}
	}
	return Finding{Check: CheckVersion, Level: LevelOK, Msg: T("check.version.ok", "version", v)}
}

// CompareVersions compares dotted numeric versions ("1.2.10" > "1.2.9"); a
// leading "v" and a "-suffix" are ignored, missing parts count as 0.
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			n = 0
		}
		out = append(out, n)
	}
	return out
}

// Clock compares the device's clock with the service's time, allowing for
// the time the request took: more than ClockWarn off warns, more than
// ClockFail fails.
func (c Checker) Clock(ctx context.Context) Finding {
	ctx, cancel := context.WithTimeout(ctx, c.budget())
	defer cancel()
	t0 := c.now()
	st, err := c.Status.Status(ctx)
	t1 := c.now()
	if err != nil {
		return c.unreachable(CheckClock, err)
	}
	if st.ServerTime.IsZero() {
		return Finding{Check: CheckClock, Level: LevelWarn, Msg: T("check.clock.unknown")}
	}
	local := t0.Add(t1.Sub(t0) / 2)
	off := local.Sub(st.ServerTime)
	abs := off
	if abs < 0 {
		abs = -abs
	}
	f := Finding{Check: CheckClock, Offset: off}
	dir := "ahead"
	if off < 0 {
		dir = "behind"
	}
	mins := int(abs.Round(time.Minute) / time.Minute)
	switch {
	case abs > ClockFail:
		f.Level = LevelFail
		f.Msg = T("check.clock."+dir, "min", mins)
		f.Fix = T("check.clock.fix")
	case abs > ClockWarn:
		f.Level = LevelWarn
		f.Msg = T("check.clock."+dir, "min", mins)
		f.Fix = T("check.clock.fix")
	default:
		f.Msg = T("check.clock.ok", "s", int(abs.Round(time.Second)/time.Second))
	}
	return f
}

// Network reports the kind of network (Wi-Fi, wired, mobile data, unknown).
func (c Checker) Network() Finding {
	kind, iface := c.System.Network()
	f := Finding{Check: CheckNetwork, Network: kind, Interface: iface}
	switch kind {
	case NetworkUnknown:
		f.Level = LevelWarn
		f.Msg = T("check.network.unknown")
		f.Fix = T("check.network.unknown.fix")
	case NetworkMobile:
		f.Msg = T("check.network.mobile", "iface", iface)
		f.Fix = T("check.network.mobile.fix")
	default:
		f.Msg = T("check.network."+string(kind), "iface", iface)
	}
	return f
}
