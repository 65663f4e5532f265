package flows

import (
	"context"
	"errors"
	"time"

	"misetup/api"
)

// Doctor check names, after the requirement checks (Checks), in the order
// `misetup doctor` prints them.
const (
	CheckSession    = "session"
	CheckSync       = "sync"
	CheckFindDevice = "find_device"
	CheckStorage    = "storage"
	CheckLastCode   = "last_code"
)

// DoctorChecks lists every check of `misetup doctor`, in order. The ones
// that need a session (sync, find_device, storage) are left out of a
// report when there is none.
func DoctorChecks() []string {
	return append(Checks(), CheckSession, CheckSync, CheckFindDevice, CheckStorage, CheckLastCode)
}

// doctorFixes replaces the fixes of the requirement checks that name the
// wizard's keys ("then press r") with the doctor's own.
var doctorFixes = map[string]string{
	"check.clock.fix":              "doctor.fix.clock",
	"check.connection.fix":         "doctor.fix.connection",
	"check.connection.fix_builtin": "doctor.fix.connection_builtin",
}

// CommandLineFixes returns r with the fixes that name the wizard's keys
// replaced by ones for the command line (`misetup check`, `misetup
// doctor`).
func CommandLineFixes(r Report) Report {
	out := Report{Findings: make([]Finding, len(r.Findings))}
	for i, f := range r.Findings {
		if k, ok := doctorFixes[f.Fix.Key]; ok {
			f.Fix.Key = k
		}
		out.Findings[i] = f
	}
	return out
}

// StorageAlmostFull is the share of the quota above which storage warns.
const StorageAlmostFull = 0.9

// DoctorService is what `misetup doctor` reads from the service;
// *client.Client satisfies it.
type DoctorService interface {
	SessionKeeper
	ChallengeReader
	Sync(ctx context.Context, deviceID string) (api.SyncSettings, error)
	FindDevice(ctx context.Context, deviceID string) (api.FindDevice, error)
	Storage(ctx context.Context) (api.Storage, error)
}

// Doctor runs every check that needs no input: the requirement checks
// (service reachable, versions, clock, network kind), the saved session,
// this device's sync and Find Device settings, the storage, and the
// delivery of the last code this device asked for.
type Doctor struct {
	Checker  Checker                // the requirement checks
	Service  DoctorService          // the client; the saved token is set on it
	Sessions SessionStore           // where the wizard keeps the token
	DeviceID func() (string, error) // this device's id (read only when signed in)
	StateDir string                 // where last-challenge.json is
	Progress ProgressStore          // the saved progress (a pending registration's challenge)
	Now      func() time.Time       // time.Now when nil
}

// DoctorResult is what the doctor found.
type DoctorResult struct {
	Report
	// Account is the signed-in account, masked; "" when not signed in.
	Account string
}

// Run runs the checks and returns their findings in DoctorChecks order.
// It never changes anything: a refused session stays on disk.
func (d Doctor) Run(ctx context.Context) DoctorResult {
	res := DoctorResult{Report: CommandLineFixes(d.Checker.All(ctx))}
	add := func(f Finding) { res.Findings = append(res.Findings, f) }

	acc, f := d.session(ctx)
	add(f)
	if acc != nil {
		res.Account = MaskAccount(*acc)
		devID := ""
		var derr error
		if d.DeviceID != nil {
			devID, derr = d.DeviceID()
		}
		if derr != nil || devID == "" {
			fail := Finding{Level: LevelWarn, Msg: T("doctor.device_id.none"), Fix: T("doctor.device_id.none.fix"), Err: derr}
			fail.Check = CheckSync
			add(fail)
			fail.Check = CheckFindDevice
			add(fail)
		} else {
			add(d.sync(ctx, devID))
			add(d.findDevice(ctx, devID))
		}
		add(d.storage(ctx))
	}
	add(d.lastCode(ctx))
	return res
}

func (d Doctor) unreachable(check string, err error) Finding {
	ue := Explain(err)
	return Finding{Check: check, Level: LevelFail, Msg: T("doctor.unreachable"), Fix: T(ue.Key, ue.Args...), Err: err}
}

// session checks the saved token against the service.
func (d Doctor) session(ctx context.Context) (*api.Account, Finding) {
	f := Finding{Check: CheckSession}
	token := ""
	if d.Sessions != nil {
		var err error
		if token, err = d.Sessions.LoadToken(); err != nil {
			f.Level, f.Msg, f.Fix, f.Err = LevelFail, T("doctor.session.unreadable"), T("doctor.session.unreadable.fix"), err
			return nil, f
		}
	}
	if token == "" {
		f.Level, f.Msg, f.Fix = LevelWarn, T("doctor.session.none"), T("doctor.session.none.fix")
		return nil, f
	}
	d.Service.SetToken(token)
	acc, err := d.Service.Account(ctx)
	switch {
	case errors.Is(err, api.ErrUnauthorized), errors.Is(err, api.ErrNotFound):
		d.Service.SetToken("")
		f.Level, f.Msg, f.Fix = LevelFail, T("doctor.session.expired"), T("doctor.session.expired.fix")
		return nil, f
	case err != nil:
		return nil, d.unreachable(CheckSession, err)
	}
	f.Level, f.Msg = LevelOK, T("doctor.session.ok", "who", MaskAccount(acc))
	return &acc, f
}

// sync checks this device's sync settings against the network.
func (d Doctor) sync(ctx context.Context, devID string) Finding {
	f := Finding{Check: CheckSync}
	st, err := d.Service.Sync(ctx, devID)
	switch {
	case errors.Is(err, api.ErrNotFound):
		f.Level, f.Msg, f.Fix = LevelWarn, T("ts.sync.not_linked"), T("ts.sync.not_linked.fix")
		return f
	case err != nil:
		return d.unreachable(CheckSync, err)
	}
	kind, iface := d.Checker.System.Network()
	f.Network, f.Interface = kind, iface
	f.Level = LevelWarn
	switch {
	case st.UpdatedAt == nil && !st.AutoSync:
		f.Msg, f.Fix = T("ts.sync.not_set_up"), T("ts.sync.not_set_up.fix")
	case !st.AutoSync:
		f.Msg, f.Fix = T("ts.sync.auto_off"), T("ts.sync.auto_off.fix")
	case len(st.Categories) == 0:
		f.Msg, f.Fix = T("ts.sync.no_categories"), T("ts.sync.no_categories.fix", "list", categoryList(defaultCategories))
	case !WifiOnlyWarning(st, kind, iface).IsZero():
		f.Msg, f.Fix = WifiOnlyWarning(st, kind, iface), T("ts.sync.wifi_only.fix")
	case st.WifiOnly && kind != NetworkWiFi:
		f.Msg, f.Fix = T("ts.sync.wifi_only."+string(kind), "iface", iface), T("ts.sync.wifi_only.fix")
	case st.WifiOnly:
		f.Level, f.Msg = LevelOK, T("doctor.sync.ok_wifi", "list", categoryList(orderCategories(st.Categories)))
	default:
		f.Level, f.Msg = LevelOK, T("doctor.sync.ok", "list", categoryList(orderCategories(st.Categories)))
	}
	return f
}

// findDevice checks that Find Device is on for this device.
func (d Doctor) findDevice(ctx context.Context, devID string) Finding {
	f := Finding{Check: CheckFindDevice}
	fd, err := d.Service.FindDevice(ctx, devID)
	switch {
	case errors.Is(err, api.ErrNotFound):
		f.Level, f.Msg, f.Fix = LevelWarn, T("ts.sync.not_linked"), T("ts.sync.not_linked.fix")
	case err != nil:
		return d.unreachable(CheckFindDevice, err)
	case fd.Enabled:
		f.Level, f.Msg = LevelOK, T("doctor.find.on")
	default:
		f.Level, f.Msg, f.Fix = LevelWarn, T("doctor.find.off"), T("doctor.find.off.fix")
	}
	return f
}

// storage checks how full Mi Cloud is.
func (d Doctor) storage(ctx context.Context) Finding {
	f := Finding{Check: CheckStorage}
	st, err := d.Service.Storage(ctx)
	if err != nil {
		return d.unreachable(CheckStorage, err)
	}
	used, quota := FormatBytes(st.UsedBytes), FormatBytes(st.QuotaBytes)
	switch {
	case st.QuotaBytes > 0 && st.UsedBytes >= st.QuotaBytes:
		f.Level, f.Msg = LevelFail, T("ts.sync.storage_full", "used", used, "quota", quota)
		f.Fix = T("ts.sync.storage_full.fix_none")
		if c, n := biggestCategory(st); c != "" {
			f.Fix = T("ts.sync.storage_full.fix", "category", T("sync.cat."+c), "size", FormatBytes(n))
		}
	case st.QuotaBytes > 0 && float64(st.UsedBytes) >= StorageAlmostFull*float64(st.QuotaBytes):
		f.Level, f.Msg, f.Fix = LevelWarn, T("doctor.storage.almost", "used", used, "quota", quota), T("doctor.storage.almost.fix")
	default:
		f.Level, f.Msg = LevelOK, T("doctor.storage.ok", "used", used, "quota", quota)
	}
	return f
}

// lastCode reads the last challenge this device asked for and reports its
// delivery: failed (with the courier's reason), stuck, or fine.
func (d Doctor) lastCode(ctx context.Context) Finding {
	f := Finding{Check: CheckLastCode}
	rec, ok, err := LastChallenge(d.StateDir, d.Progress)
	switch {
	case err != nil:
		f.Level, f.Msg, f.Err = LevelWarn, T("doctor.last_code.unreadable"), err
		return f
	case !ok:
		f.Level, f.Msg = LevelOK, T("doctor.last_code.none")
		return f
	}
	cd, err := DiagnoseCode(ctx, d.Service, CodeInput{ChallengeID: rec.ID, Now: clockNow(d.Now)})
	if err != nil {
		return d.unreachable(CheckLastCode, err)
	}
	f.Msg, f.Fix = cd.Finding, cd.Fix
	switch cd.Cause {
	case CodeDeliveryFailed:
		f.Level = LevelFail
	case CodeAddressTypo, CodeDead:
		f.Level = LevelWarn
	case CodeQueued:
		f.Level = cd.Level
	case CodeUnknown:
		f.Level, f.Msg, f.Fix = LevelOK, T("doctor.last_code.gone"), Text{}
	default: // sent, verified, expired: nothing is broken
		f.Level, f.Fix = LevelOK, Text{}
	}
	return f
}
