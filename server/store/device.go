package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// deviceCols are the columns scanDevice reads. Sync categories are a JSON
// array (TEXT in SQLite, jsonb in PostgreSQL).
const deviceCols = `mi_id, id, name, model, os, last_seen, find_device, ` + locationCols + `,
	auto_sync, wifi_only, sync_categories, sync_updated_at, created_at`

func scanDevice(row scanner) (*Device, error) {
	var (
		d    Device
		loc  locationCol
		cats string
	)
	dest := []any{&d.MiID, &d.ID, &d.Name, &d.Model, &d.OS, optTime(&d.LastSeen), &d.FindDevice}
	dest = append(dest, loc.dest()...)
	dest = append(dest, &d.Sync.AutoSync, &d.Sync.WifiOnly, &cats, optTime(&d.Sync.UpdatedAt), reqTime(&d.CreatedAt))
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.LastLocation = loc.location()
	if err := json.Unmarshal([]byte(cats), &d.Sync.Categories); err != nil {
		return nil, fmt.Errorf("sync categories of device %s: %w", d.ID, err)
	}
	return &d, nil
}

// categoriesArg is the stored JSON of sync categories; nil is [].
func categoriesArg(cats []string) (string, error) {
	if cats == nil {
		cats = []string{}
	}
	b, err := json.Marshal(cats)
	if err != nil {
		return "", fmt.Errorf("encode sync categories: %w", err)
	}
	return string(b), nil
}

// UpsertDevice inserts a device (every field of d; a zero CreatedAt becomes
// now) or, if (MiID, ID) exists, updates its name, model, OS and LastSeen,
// leaving its settings and location alone. A device of no account is
// ErrNotFound.
func (s *db) UpsertDevice(ctx context.Context, d *Device) error {
	cats, err := categoriesArg(d.Sync.Categories)
	if err != nil {
		return fmt.Errorf("upsert device: %w", err)
	}
	d.CreatedAt = orNow(d.CreatedAt)
	lat, lon, acc, at := s.locationArgs(d.LastLocation)
	_, err = s.w.ExecContext(ctx, `INSERT INTO devices (mi_id, id, name, model, os, last_seen, find_device,
		`+locationCols+`, auto_sync, wifi_only, sync_categories, sync_updated_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (mi_id, id) DO UPDATE SET
		name = excluded.name, model = excluded.model, os = excluded.os, last_seen = excluded.last_seen`,
		d.MiID, d.ID, d.Name, d.Model, d.OS, s.tp(d.LastSeen), d.FindDevice,
		lat, lon, acc, at,
		d.Sync.AutoSync, d.Sync.WifiOnly, cats, s.tp(d.Sync.UpdatedAt), s.t(d.CreatedAt))
	if err != nil {
		return s.fail("upsert device", err)
	}
	return nil
}

// Device reads one device of an account.
func (s *db) Device(ctx context.Context, miID, id string) (*Device, error) {
	d, err := scanDevice(s.r.QueryRowContext(ctx,
		`SELECT `+deviceCols+` FROM devices WHERE mi_id = $1 AND id = $2`, miID, id))
	if err != nil {
		return nil, s.fail("device", err)
	}
	return d, nil
}

// Devices lists an account's devices, oldest first.
func (s *db) Devices(ctx context.Context, miID string) ([]Device, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+deviceCols+` FROM devices WHERE mi_id = $1 ORDER BY created_at, id`, miID)
	if err != nil {
		return nil, s.fail("devices", err)
	}
	defer rows.Close()
	var devices []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, s.fail("devices", err)
		}
		devices = append(devices, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("devices", err)
	}
	return devices, nil
}

// DevicePatch names the columns PatchDevice changes: each field that is
// not nil. Writing only those, a patch never undoes what another request
// changed meanwhile (a sync setting beside Find Device, a rename beside a
// location report).
type DevicePatch struct {
	Name       *string
	LastSeen   *time.Time
	FindDevice *bool
	// Location sets the last location; ClearLocation removes it.
	Location      *Location
	ClearLocation bool
	Sync          *Sync
}

// PatchDevice sets the columns of p that are not nil in one UPDATE;
// ErrNotFound when the device is missing.
func (s *db) PatchDevice(ctx context.Context, miID, id string, p DevicePatch) error {
	var sets []string
	args := []any{miID, id}
	set := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if p.Name != nil {
		set("name", *p.Name)
	}
	if p.LastSeen != nil {
		set("last_seen", s.t(*p.LastSeen))
	}
	if p.FindDevice != nil {
		set("find_device", *p.FindDevice)
	}
	if p.Location != nil || p.ClearLocation {
		lat, lon, acc, at := s.locationArgs(p.Location)
		set("location_lat", lat)
		set("location_lon", lon)
		set("location_accuracy_m", acc)
		set("location_at", at)
	}
	if p.Sync != nil {
		cats, err := categoriesArg(p.Sync.Categories)
		if err != nil {
			return fmt.Errorf("patch device: %w", err)
		}
		set("auto_sync", p.Sync.AutoSync)
		set("wifi_only", p.Sync.WifiOnly)
		set("sync_categories", cats)
		set("sync_updated_at", s.tp(p.Sync.UpdatedAt))
	}
	if len(sets) == 0 {
		sets = append(sets, "id = id")
	}
	return s.execOne(ctx, "patch device", `UPDATE devices SET `+strings.Join(sets, ", ")+` WHERE mi_id = $1 AND id = $2`, args...)
}

// DeleteDevice removes a device with its sessions and commands, in one
// transaction.
func (s *db) DeleteDevice(ctx context.Context, miID, id string) error {
	err := s.inTx(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE mi_id = $1 AND device_id = $2`, miID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM commands WHERE mi_id = $1 AND device_id = $2`, miID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE mi_id = $1 AND id = $2`, miID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return s.fail("delete device", err)
	}
	return nil
}

// commandCols are the columns scanCommand reads.
const commandCols = `id, mi_id, device_id, type, message, state, result, ` + locationCols + `,
	created_at, updated_at`

func scanCommand(row scanner) (*Command, error) {
	var (
		c   Command
		loc locationCol
	)
	dest := []any{&c.ID, &c.MiID, &c.DeviceID, &c.Type, &c.Message, &c.State, &c.Result}
	dest = append(dest, loc.dest()...)
	dest = append(dest, reqTime(&c.CreatedAt), optTime(&c.UpdatedAt))
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	c.Location = loc.location()
	return &c, nil
}

// CreateCommand inserts a command. A zero State becomes pending and a zero
// CreatedAt now, in c as well. A command for a device that does not exist is
// ErrNotFound, a duplicate ID ErrConflict.
func (s *db) CreateCommand(ctx context.Context, c *Command) error {
	if c.State == "" {
		c.State = "pending"
	}
	c.CreatedAt = orNow(c.CreatedAt)
	lat, lon, acc, at := s.locationArgs(c.Location)
	_, err := s.w.ExecContext(ctx, `INSERT INTO commands (id, mi_id, device_id, type, message, state, result,
		`+locationCols+`, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		c.ID, c.MiID, c.DeviceID, c.Type, c.Message, c.State, c.Result,
		lat, lon, acc, at, s.t(c.CreatedAt), s.tp(c.UpdatedAt))
	if err != nil {
		return s.fail("create command", err)
	}
	return nil
}

// Command reads one command of a device.
func (s *db) Command(ctx context.Context, miID, deviceID, id string) (*Command, error) {
	c, err := scanCommand(s.r.QueryRowContext(ctx, `SELECT `+commandCols+` FROM commands
		WHERE mi_id = $1 AND device_id = $2 AND id = $3`, miID, deviceID, id))
	if err != nil {
		return nil, s.fail("command", err)
	}
	return c, nil
}

// Commands lists a device's commands in state ("" for all), oldest first.
func (s *db) Commands(ctx context.Context, miID, deviceID, state string) ([]Command, error) {
	query := `SELECT ` + commandCols + ` FROM commands WHERE mi_id = $1 AND device_id = $2`
	args := []any{miID, deviceID}
	if state != "" {
		query += ` AND state = $3`
		args = append(args, state)
	}
	rows, err := s.r.QueryContext(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, s.fail("commands", err)
	}
	cmds, err := scanCommands(rows)
	if err != nil {
		return nil, s.fail("commands", err)
	}
	return cmds, nil
}

// DeliverCommands atomically marks the device's pending commands delivered
// and returns them, oldest first. It is one UPDATE ... RETURNING, so of
// racing calls each command is returned by exactly one.
func (s *db) DeliverCommands(ctx context.Context, miID, deviceID string, at time.Time) ([]Command, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE commands SET state = 'delivered', updated_at = $3
		WHERE mi_id = $1 AND device_id = $2 AND state = 'pending'
		RETURNING `+commandCols, miID, deviceID, s.t(at))
	if err != nil {
		return nil, s.fail("deliver commands", err)
	}
	cmds, err := scanCommands(rows)
	if err == nil {
		err = s.syncLog()
	}
	if err != nil {
		return nil, s.fail("deliver commands", err)
	}
	// RETURNING gives rows in no promised order.
	slices.SortFunc(cmds, func(a, b Command) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return cmds, nil
}

// scanCommands reads and closes rows.
func scanCommands(rows *sql.Rows) ([]Command, error) {
	defer rows.Close()
	var cmds []Command
	for rows.Next() {
		c, err := scanCommand(rows)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Close now, not in the defer: for an UPDATE ... RETURNING on SQLite the
	// statement commits when it is reset, and its error must be seen.
	return cmds, rows.Close()
}

// UpdateCommand writes State, Result, Location and UpdatedAt.
func (s *db) UpdateCommand(ctx context.Context, c *Command) error {
	lat, lon, acc, at := s.locationArgs(c.Location)
	err := s.execOne(ctx, "update command", `UPDATE commands SET
		state = $4, result = $5, location_lat = $6, location_lon = $7, location_accuracy_m = $8,
		location_at = $9, updated_at = $10
		WHERE mi_id = $1 AND device_id = $2 AND id = $3 AND state IN ('pending', 'delivered')`,
		c.MiID, c.DeviceID, c.ID, c.State, c.Result, lat, lon, acc, at, s.tp(c.UpdatedAt))
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, err := s.Command(ctx, c.MiID, c.DeviceID, c.ID); err != nil {
		return err
	}
	return fmt.Errorf("update command: %w (already done or failed)", ErrStale)
}
