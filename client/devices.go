package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"misetup/api"
)

// devicePath is the path of a device, or of something below it.
func devicePath(id string, below ...string) string {
	p := "/v1/devices/" + url.PathEscape(id)
	for _, b := range below {
		p += "/" + b
	}
	return p
}

// Devices lists the devices linked to the account (GET /v1/devices); the one
// this session runs on has Current set.
func (c *Client) Devices(ctx context.Context) ([]api.Device, error) {
	var l api.DeviceList
	err := c.call(ctx, http.MethodGet, "/v1/devices", nil, &l)
	return l.Devices, err
}

// RenameDevice changes a device's name (PATCH /v1/devices/{id}).
func (c *Client) RenameDevice(ctx context.Context, id, name string) (api.Device, error) {
	var d api.Device
	err := c.call(ctx, http.MethodPatch, devicePath(id), api.DevicePatch{Name: name}, &d)
	return d, err
}

// RemoveDevice unlinks a device (DELETE /v1/devices/{id}); the service
// revokes its session.
func (c *Client) RemoveDevice(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, devicePath(id), nil, nil)
}

// Sync returns a device's Mi Cloud sync settings (GET /v1/devices/{id}/sync).
func (c *Client) Sync(ctx context.Context, deviceID string) (api.SyncSettings, error) {
	var s api.SyncSettings
	err := c.call(ctx, http.MethodGet, devicePath(deviceID, "sync"), nil, &s)
	return s, err
}

// SetSync saves a device's Mi Cloud sync settings
// (PUT /v1/devices/{id}/sync) and returns them as stored.
func (c *Client) SetSync(ctx context.Context, deviceID string, s api.SyncSettings) (api.SyncSettings, error) {
	var got api.SyncSettings
	err := c.call(ctx, http.MethodPut, devicePath(deviceID, "sync"), s, &got)
	return got, err
}

// FindDevice returns whether Find Device is on for a device, and where it
// was last seen (GET /v1/devices/{id}/find-device).
func (c *Client) FindDevice(ctx context.Context, deviceID string) (api.FindDevice, error) {
	var f api.FindDevice
	err := c.call(ctx, http.MethodGet, devicePath(deviceID, "find-device"), nil, &f)
	return f, err
}

// SetFindDevice turns Find Device on or off for a device
// (PUT /v1/devices/{id}/find-device).
func (c *Client) SetFindDevice(ctx context.Context, deviceID string, enabled bool) (api.FindDevice, error) {
	var f api.FindDevice
	err := c.call(ctx, http.MethodPut, devicePath(deviceID, "find-device"), api.FindDevice{Enabled: enabled}, &f)
	return f, err
}

// SendCommand queues a remote command for a device
// (POST /v1/devices/{id}/commands); lock and erase need the password.
func (c *Client) SendCommand(ctx context.Context, deviceID string, req api.CommandRequest) (api.Command, error) {
	var cmd api.Command
	err := c.call(ctx, http.MethodPost, devicePath(deviceID, "commands"), req, &cmd)
	return cmd, err
}

// PendingCommands fetches the commands waiting for this device
// (GET /v1/devices/{id}/commands?state=pending), from the device's own
// session; the service marks them delivered.
func (c *Client) PendingCommands(ctx context.Context, deviceID string) ([]api.Command, error) {
	var l api.CommandList
	err := c.call(ctx, http.MethodGet, devicePath(deviceID, "commands")+"?state="+api.CommandPending, nil, &l)
	return l.Commands, err
}

// WaitCommands is the long poll of the device side
// (GET /v1/devices/{id}/commands?state=pending&wait=N): it returns this
// device's pending commands (they become delivered) as soon as there are
// any, or none after wait (whole seconds, at most 30: the service's cap).
// The call's own timeout is wait plus the client's timeout, so the wait
// never counts as a failure; it is not retried (the agent that calls it in
// a loop has its own backoff).
func (c *Client) WaitCommands(ctx context.Context, deviceID string, wait time.Duration) ([]api.Command, error) {
	secs := max(int64(wait/time.Second), 0)
	timeout := time.Duration(secs)*time.Second + max(c.timeout, DefaultTimeout)
	var l api.CommandList
	path := devicePath(deviceID, "commands") + "?state=" + api.CommandPending + "&wait=" + strconv.FormatInt(secs, 10)
	err := c.callWith(ctx, http.MethodGet, path, nil, &l, timeout, 0)
	return l.Commands, err
}

// Commands lists a device's commands in state ("" for all), oldest first,
// (GET /v1/devices/{id}/commands?state=...). The device's own session
// asking for pending ones receives them (they become delivered), as
// PendingCommands does; any other state, or another device's session,
// only looks.
func (c *Client) Commands(ctx context.Context, deviceID, state string) ([]api.Command, error) {
	var l api.CommandList
	path := devicePath(deviceID, "commands")
	if state != "" {
		path += "?state=" + url.QueryEscape(state)
	}
	err := c.call(ctx, http.MethodGet, path, nil, &l)
	return l.Commands, err
}

// Command returns one command of a device and what became of it
// (GET /v1/devices/{id}/commands/{cid}), for any session of the account.
func (c *Client) Command(ctx context.Context, deviceID, commandID string) (api.Command, error) {
	var cmd api.Command
	err := c.call(ctx, http.MethodGet, devicePath(deviceID, "commands", url.PathEscape(commandID)), nil, &cmd)
	return cmd, err
}

// AckCommand reports what became of a command
// (POST /v1/devices/{id}/commands/{cid}/ack).
func (c *Client) AckCommand(ctx context.Context, deviceID, commandID string, ack api.CommandAck) (api.Command, error) {
	var cmd api.Command
	err := c.call(ctx, http.MethodPost, devicePath(deviceID, "commands", url.PathEscape(commandID), "ack"), ack, &cmd)
	return cmd, err
}

// Storage returns the account's Mi Cloud quota and use (GET /v1/storage).
func (c *Client) Storage(ctx context.Context) (api.Storage, error) {
	var s api.Storage
	err := c.call(ctx, http.MethodGet, "/v1/storage", nil, &s)
	return s, err
}
