package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"misetup/api"
	"misetup/server/policy"
	"misetup/server/store"
)

// Limits of device texts, in characters.
const (
	maxDeviceName    = 64
	maxDeviceModel   = 64
	maxDeviceOS      = 64
	maxCommandText   = 200
	maxCommandResult = 500
)

// deviceIDRe is a device id as clients choose it: letters, digits and . _ : -
var deviceIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`) })

// checkDevice checks and cleans the device of a sign-in: the id is required,
// name, model and OS are sanitized and capped. An empty name becomes the
// model, or "Unnamed device".
func checkDevice(d *api.Device, field string) error {
	d.ID = strings.TrimSpace(d.ID)
	if d.ID == "" {
		return errInput(field+".id", "The device id is required.")
	}
	if !deviceIDRe().MatchString(d.ID) {
		return errInput(field+".id", "The device id must be 1 to 128 letters, digits, dots, dashes, underscores or colons.")
	}
	var err error
	if d.Name, err = cleanText(field+".name", d.Name, maxDeviceName); err != nil {
		return err
	}
	if d.Model, err = cleanText(field+".model", d.Model, maxDeviceModel); err != nil {
		return err
	}
	if d.OS, err = cleanText(field+".os", d.OS, maxDeviceOS); err != nil {
		return err
	}
	if d.Name == "" {
		d.Name = d.Model
	}
	if d.Name == "" {
		d.Name = "Unnamed device"
	}
	return nil
}

// deviceView is a device as the API shows it; current marks the device of
// the calling session.
func deviceView(d *store.Device, currentID string) api.Device {
	v := api.Device{
		ID:         d.ID,
		Name:       policy.Sanitize(d.Name),
		Model:      policy.Sanitize(d.Model),
		OS:         policy.Sanitize(d.OS),
		FindDevice: d.FindDevice,
		Current:    d.ID == currentID,
	}
	if d.LastSeen != nil {
		t := d.LastSeen.UTC()
		v.LastSeen = &t
	}
	return v
}

// device loads the device of the request's {id} of the caller's account;
// any other device (of another account, or none) is 404.
func (s *Server) device(r *http.Request, who *caller) (*store.Device, error) {
	id := r.PathValue("id")
	if !deviceIDRe().MatchString(id) {
		return nil, errNotFound("device")
	}
	d, err := s.st.Device(r.Context(), who.account.MiID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("device")
	}
	if err != nil {
		return nil, fmt.Errorf("load device: %w", err)
	}
	return d, nil
}

// listDevices answers GET /v1/devices.
func (s *Server) listDevices(r *http.Request, who *caller) (int, any, error) {
	ds, err := s.st.Devices(r.Context(), who.account.MiID)
	if err != nil {
		return 0, nil, fmt.Errorf("list devices: %w", err)
	}
	out := api.DeviceList{Devices: make([]api.Device, 0, len(ds))}
	for i := range ds {
		out.Devices = append(out.Devices, deviceView(&ds[i], who.session.DeviceID))
	}
	return http.StatusOK, out, nil
}

// renameDevice answers PATCH /v1/devices/{id}.
func (s *Server) renameDevice(r *http.Request, who *caller) (int, any, error) {
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	var req api.DevicePatch
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	name, err := cleanText("name", req.Name, maxDeviceName)
	if err != nil {
		return 0, nil, err
	}
	if name == "" {
		return 0, nil, errInput("name", "The name cannot be empty.")
	}
	d.Name = name
	if err := s.st.PatchDevice(r.Context(), d.MiID, d.ID, store.DevicePatch{Name: &name}); err != nil {
		return 0, nil, fmt.Errorf("rename device: %w", err)
	}
	return http.StatusOK, deviceView(d, who.session.DeviceID), nil
}

// removeDevice answers DELETE /v1/devices/{id}: the device goes with its
// sessions (so it is signed out) and commands.
func (s *Server) removeDevice(r *http.Request, who *caller) (int, any, error) {
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := s.st.DeleteDevice(r.Context(), who.account.MiID, d.ID); err != nil {
		return 0, nil, fmt.Errorf("remove device: %w", err)
	}
	s.audit(r, who.account.MiID, d.ID, "device_removed", policy.Sanitize(d.Name))
	return http.StatusNoContent, nil, nil
}

// syncView is a device's sync settings on the wire.
func syncView(d *store.Device) api.SyncSettings {
	v := api.SyncSettings{AutoSync: d.Sync.AutoSync, WifiOnly: d.Sync.WifiOnly, Categories: d.Sync.Categories}
	if v.Categories == nil {
		v.Categories = []string{}
	}
	if d.Sync.UpdatedAt != nil {
		t := d.Sync.UpdatedAt.UTC()
		v.UpdatedAt = &t
	}
	return v
}

// getSync answers GET /v1/devices/{id}/sync.
func (s *Server) getSync(r *http.Request, who *caller) (int, any, error) {
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, syncView(d), nil
}

// putSync answers PUT /v1/devices/{id}/sync: categories must be known ones;
// duplicates go, and they are kept in the guide's order.
func (s *Server) putSync(r *http.Request, who *caller) (int, any, error) {
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	var req api.SyncSettings
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	cats, err := checkCategories(req.Categories)
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	d.Sync = store.Sync{AutoSync: req.AutoSync, WifiOnly: req.WifiOnly, Categories: cats, UpdatedAt: &now}
	if err := s.st.PatchDevice(r.Context(), d.MiID, d.ID, store.DevicePatch{Sync: &d.Sync}); err != nil {
		return 0, nil, fmt.Errorf("store sync settings: %w", err)
	}
	return http.StatusOK, syncView(d), nil
}

// checkCategories refuses unknown sync categories and returns the known
// ones once each, in the order of api.Categories.
func checkCategories(in []string) ([]string, error) {
	for _, c := range in {
		if !slices.Contains(api.Categories, c) {
			return nil, errInput("categories", "Unknown sync category %q; known: %s.", policy.Sanitize(c), strings.Join(api.Categories, ", "))
		}
	}
	out := []string{}
	for _, c := range api.Categories {
		if slices.Contains(in, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// locationView is a stored location on the wire.
func locationView(l *store.Location) *api.Location {
	if l == nil {
		return nil
	}
	return &api.Location{Lat: l.Lat, Lon: l.Lon, AccuracyM: l.AccuracyM, ReportedAt: l.ReportedAt.UTC()}
}

// getFindDevice answers GET /v1/devices/{id}/find-device.
func (s *Server) getFindDevice(r *http.Request, who *caller) (int, any, error) {
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.FindDevice{Enabled: d.FindDevice, LastLocation: locationView(d.LastLocation)}, nil
}

// putFindDevice answers PUT /v1/devices/{id}/find-device.
func (s *Server) putFindDevice(r *http.Request, who *caller) (int, any, error) {
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	var req api.FindDevice
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.LastLocation != nil {
		return 0, nil, errInput("last_location", "last_location is reported by the device when it acknowledges a command, not set here.")
	}
	d.FindDevice = req.Enabled
	if err := s.st.PatchDevice(r.Context(), d.MiID, d.ID, store.DevicePatch{FindDevice: &d.FindDevice}); err != nil {
		return 0, nil, fmt.Errorf("store find device: %w", err)
	}
	event := "find_device_off"
	if d.FindDevice {
		event = "find_device_on"
	}
	s.audit(r, who.account.MiID, d.ID, event, "")
	return http.StatusOK, api.FindDevice{Enabled: d.FindDevice, LastLocation: locationView(d.LastLocation)}, nil
}

// commandView is a command on the wire.
func commandView(c *store.Command) api.Command {
	v := api.Command{
		ID:        c.ID,
		DeviceID:  c.DeviceID,
		Type:      c.Type,
		Message:   policy.Sanitize(c.Message),
		State:     c.State,
		Result:    policy.Sanitize(c.Result),
		Location:  locationView(c.Location),
		CreatedAt: c.CreatedAt.UTC(),
	}
	if c.UpdatedAt != nil {
		t := c.UpdatedAt.UTC()
		v.UpdatedAt = &t
	}
	return v
}

// sendCommand answers POST /v1/devices/{id}/commands. Find Device must be
// on for the device; lock and erase need the password again.
func (s *Server) sendCommand(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	var req api.CommandRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	switch req.Type {
	case api.CommandLocate, api.CommandRing:
		if req.Password != "" {
			return 0, nil, errInput("password", "Only lock and erase take a password.")
		}
	case api.CommandLock, api.CommandErase:
	case "":
		return 0, nil, errInput("type", "Choose a command: locate, ring, lock or erase.")
	default:
		return 0, nil, errInput("type", "The command must be locate, ring, lock or erase.")
	}
	msg, err := cleanText("message", req.Message, maxCommandText)
	if err != nil {
		return 0, nil, err
	}
	if !d.FindDevice {
		return 0, nil, errConflict("find_device", "Find Device is off on this device: turn it on from the device first.")
	}
	if req.Type == api.CommandLock || req.Type == api.CommandErase {
		if err := s.reauth(r, who, "password", req.Password); err != nil {
			return 0, nil, err
		}
	}
	id, err := newID()
	if err != nil {
		return 0, nil, err
	}
	c := &store.Command{
		ID:        id,
		MiID:      who.account.MiID,
		DeviceID:  d.ID,
		Type:      req.Type,
		Message:   msg,
		State:     api.CommandPending,
		CreatedAt: s.now(),
	}
	if err := s.st.CreateCommand(ctx, c); err != nil {
		return 0, nil, fmt.Errorf("create command: %w", err)
	}
	s.commandBells.ring(deviceKey(c.MiID, c.DeviceID)) // a device waiting in this process gets it now
	if req.Type == api.CommandLock || req.Type == api.CommandErase {
		s.audit(r, who.account.MiID, d.ID, "device_"+req.Type, "")
	}
	return http.StatusAccepted, commandView(c), nil
}

// listCommands answers GET /v1/devices/{id}/commands[?state=][&wait=]. The
// device itself (a session on it) asking for pending ones receives them:
// they become delivered; with wait=N it waits up to N seconds for one when
// none is pending (the long poll of `misetup agent`). Other sessions of the
// account only look.
func (s *Server) listCommands(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	state := r.URL.Query().Get("state")
	switch state {
	case "", api.CommandPending, api.CommandDelivered, api.CommandDone, api.CommandFailed:
	default:
		return 0, nil, errInput("state", "state must be pending, delivered, done or failed.")
	}
	wait, err := waitParam(r, s.cfg.CommandWaitMax)
	if err != nil {
		return 0, nil, err
	}
	var cs []store.Command
	switch {
	case state == api.CommandPending && who.session.DeviceID == d.ID && wait > 0:
		cs, err = s.waitCommands(r, d, wait)
	case state == api.CommandPending && who.session.DeviceID == d.ID:
		cs, err = s.deliverCommands(ctx, d)
	default:
		if cs, err = s.st.Commands(ctx, who.account.MiID, d.ID, state); err != nil {
			err = fmt.Errorf("list commands: %w", err)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	out := api.CommandList{Commands: make([]api.Command, 0, len(cs))}
	for i := range cs {
		out.Commands = append(out.Commands, commandView(&cs[i]))
	}
	return http.StatusOK, out, nil
}

// command loads the command of the request's {cid} of device d; any other
// is 404.
func (s *Server) command(r *http.Request, who *caller, d *store.Device) (*store.Command, error) {
	cid := r.PathValue("cid")
	if len(cid) > 64 {
		return nil, errNotFound("command")
	}
	c, err := s.st.Command(r.Context(), who.account.MiID, d.ID, cid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("command")
	}
	if err != nil {
		return nil, fmt.Errorf("load command: %w", err)
	}
	return c, nil
}

// ackCommand answers POST /v1/devices/{id}/commands/{cid}/ack: the device
// reports a command done or failed, with a result and, for locate, where it
// is (which becomes the device's last location).
func (s *Server) ackCommand(r *http.Request, who *caller) (int, any, error) {
	ctx := r.Context()
	d, err := s.device(r, who)
	if err != nil {
		return 0, nil, err
	}
	var req api.CommandAck
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.State != api.CommandDone && req.State != api.CommandFailed {
		return 0, nil, errInput("state", "state must be done or failed.")
	}
	result, err := cleanText("result", req.Result, maxCommandResult)
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	var loc *store.Location
	if req.Location != nil {
		if loc, err = checkLocation(req.Location, now); err != nil {
			return 0, nil, err
		}
	}
	c, err := s.command(r, who, d)
	if err != nil {
		return 0, nil, err
	}
	if c.State == api.CommandDone || c.State == api.CommandFailed {
		return 0, nil, errConflict("state", "This command was already acknowledged ("+c.State+").")
	}
	c.State, c.Result, c.Location, c.UpdatedAt = req.State, result, loc, &now
	err = s.inTx(ctx, func(tx store.Store) error {
		err := tx.UpdateCommand(ctx, c)
		if errors.Is(err, store.ErrStale) {
			return errConflict("state", "This command was already acknowledged.")
		}
		if err != nil {
			return fmt.Errorf("update command: %w", err)
		}
		if err := tx.PatchDevice(ctx, d.MiID, d.ID, store.DevicePatch{LastSeen: &now, Location: loc}); err != nil {
			return fmt.Errorf("update device: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, commandView(c), nil
}

// checkLocation refuses coordinates off the globe; a missing report time is
// now.
func checkLocation(l *api.Location, now time.Time) (*store.Location, error) {
	switch {
	case math.IsNaN(l.Lat) || l.Lat < -90 || l.Lat > 90:
		return nil, errInput("location.lat", "lat must be between -90 and 90.")
	case math.IsNaN(l.Lon) || l.Lon < -180 || l.Lon > 180:
		return nil, errInput("location.lon", "lon must be between -180 and 180.")
	case math.IsNaN(l.AccuracyM) || l.AccuracyM < 0 || l.AccuracyM > 1e7:
		return nil, errInput("location.accuracy_m", "accuracy_m must be between 0 and 10,000,000 metres.")
	}
	at := l.ReportedAt.UTC()
	if at.IsZero() || at.After(now) {
		at = now
	}
	return &store.Location{Lat: l.Lat, Lon: l.Lon, AccuracyM: l.AccuracyM, ReportedAt: at}, nil
}

// storage answers GET /v1/storage: the quota, the bytes Mi Cloud items
// use and their split by sync category (every category, 0 when unused),
// and the bytes pending (uploads in progress, blobs no item names).
func (s *Server) storage(r *http.Request, who *caller) (int, any, error) {
	usage, err := s.st.Usage(r.Context(), who.account.MiID)
	if err != nil {
		return 0, nil, fmt.Errorf("read usage: %w", err)
	}
	out := api.Storage{QuotaBytes: who.account.QuotaBytes, ByCategory: map[string]int64{}}
	if out.QuotaBytes == 0 {
		out.QuotaBytes = s.cfg.DefaultQuotaBytes
	}
	for _, c := range api.Categories {
		out.ByCategory[c] = 0
	}
	for c, n := range usage {
		out.ByCategory[c] = n
		out.UsedBytes += n
	}
	if out.PendingBytes, err = s.st.CloudPending(r.Context(), who.account.MiID, s.now()); err != nil {
		return 0, nil, fmt.Errorf("read pending bytes: %w", err)
	}
	return http.StatusOK, out, nil
}
