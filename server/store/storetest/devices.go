package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"misetup/server/store"
)

func testDevices(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "800000001", "ana@example.com", "")
	newAccount(t, s, "800000002", "bo@example.com", "")

	want := &store.Device{
		MiID:       "800000001",
		ID:         "dev-1",
		Name:       "Ana's phone",
		Model:      "Xiaomi 14",
		OS:         "HyperOS 2",
		LastSeen:   ptr(at(time.Second)),
		FindDevice: true,
		LastLocation: &store.Location{
			Lat: 31.2304, Lon: 121.4737, AccuracyM: 12.5, ReportedAt: at(2 * time.Second),
		},
		Sync: store.Sync{
			AutoSync:   true,
			WifiOnly:   true,
			Categories: []string{"contacts", "gallery", "notes"},
			UpdatedAt:  ptr(at(3 * time.Second)),
		},
		CreatedAt: t0,
	}
	check(t, "insert", s.UpsertDevice(ctx, want))
	got, err := s.Device(ctx, want.MiID, want.ID)
	check(t, "read", err)
	wantEqual(t, "inserted device", got, want)

	// Signing in again on the device updates what it says about itself and
	// leaves its settings alone.
	again := &store.Device{MiID: want.MiID, ID: want.ID, Name: "Ana's new name", Model: "Xiaomi 14 Pro",
		OS: "HyperOS 3", LastSeen: ptr(at(time.Hour)), CreatedAt: at(time.Hour)}
	check(t, "upsert existing", s.UpsertDevice(ctx, again))
	got, err = s.Device(ctx, want.MiID, want.ID)
	check(t, "read after upsert", err)
	updated := *want
	updated.Name, updated.Model, updated.OS, updated.LastSeen = again.Name, again.Model, again.OS, again.LastSeen
	wantEqual(t, "upserted device", got, &updated)

	// A bare device: no location, no sync settings yet.
	bare := newDevice(t, s, "800000001", "dev-2", at(time.Minute))
	got, err = s.Device(ctx, bare.MiID, bare.ID)
	check(t, "read bare", err)
	wantEqual(t, "bare device", got, bare)
	if got.LastLocation != nil || got.Sync.UpdatedAt != nil {
		t.Errorf("bare device read with location %v, sync updated %v; want nil", got.LastLocation, got.Sync.UpdatedAt)
	}
	newDevice(t, s, "800000001", "dev-0", at(-time.Minute))
	newDevice(t, s, "800000002", "dev-1", t0) // the same id in another account

	list, err := s.Devices(ctx, "800000001")
	check(t, "list", err)
	var ids []string
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"dev-0", "dev-1", "dev-2"}) {
		t.Errorf("devices %v, want oldest first [dev-0 dev-1 dev-2]", ids)
	}
	list, err = s.Devices(ctx, "800000003")
	check(t, "list of none", err)
	if len(list) != 0 {
		t.Errorf("devices of an account without any: %d", len(list))
	}

	other, err := s.Device(ctx, "800000002", "dev-1")
	check(t, "other account's device", err)
	if other.Name != "Phone dev-1" {
		t.Errorf("the other account's dev-1 is %q: the two accounts' devices mixed", other.Name)
	}
	_, err = s.Device(ctx, "800000002", "dev-2")
	wantErr(t, "a device of another account", err, store.ErrNotFound)
	_, err = s.Device(ctx, "800000001", "dev-9")
	wantErr(t, "unknown device", err, store.ErrNotFound)
	wantErr(t, "device of an unknown account",
		s.UpsertDevice(ctx, &store.Device{MiID: "899999999", ID: "dev-1", CreatedAt: t0}), store.ErrNotFound)
}

func testPatchDevice(t *testing.T, s store.Store) {
	ctx := t.Context()
	newAccount(t, s, "810000001", "ana@example.com", "")
	d := newDevice(t, s, "810000001", "dev-1", t0)

	want := *d
	want.Name = "Renamed"
	want.Model, want.OS = "Redmi Note 13", "MIUI 14"
	want.LastSeen = ptr(at(time.Hour))
	want.FindDevice = true
	want.LastLocation = &store.Location{Lat: -33.8688, Lon: 151.2093, AccuracyM: 5, ReportedAt: at(59 * time.Minute)}
	want.Sync = store.Sync{AutoSync: true, WifiOnly: false, Categories: []string{"messages", "call_history"}, UpdatedAt: ptr(at(time.Hour))}
	want.Model, want.OS = d.Model, d.OS // set by UpsertDevice only
	check(t, "patch", s.PatchDevice(ctx, d.MiID, d.ID, store.DevicePatch{
		Name: &want.Name, LastSeen: want.LastSeen, FindDevice: &want.FindDevice,
		Location: want.LastLocation, Sync: &want.Sync,
	}))
	got, err := s.Device(ctx, d.MiID, d.ID)
	check(t, "read", err)
	want.CreatedAt = d.CreatedAt
	wantEqual(t, "updated device", got, &want)

	// Settings can be turned off again, and the location removed.
	want.FindDevice = false
	want.LastLocation = nil
	want.Sync = store.Sync{UpdatedAt: ptr(at(2 * time.Hour))}
	check(t, "patch off", s.PatchDevice(ctx, d.MiID, d.ID, store.DevicePatch{FindDevice: &want.FindDevice, ClearLocation: true, Sync: &want.Sync}))
	got, err = s.Device(ctx, d.MiID, d.ID)
	check(t, "read", err)
	wantEqual(t, "device turned off", got, &want)

	wantErr(t, "patch unknown", s.PatchDevice(ctx, "810000001", "dev-9", store.DevicePatch{Name: ptr("x")}), store.ErrNotFound)

	// A patch writes only its columns: a rename beside a sync change and a
	// Find Device change, round after round, undoes neither.
	for r := range 8 {
		name, on := fmt.Sprint("Phone ", r), r%2 == 0
		sync := store.Sync{AutoSync: on, Categories: []string{"notes"}, UpdatedAt: ptr(at(time.Duration(r) * time.Minute))}
		patches := []store.DevicePatch{{Name: &name}, {FindDevice: &on}, {Sync: &sync}}
		errs := make([]error, len(patches))
		race(len(patches), func(i int) { errs[i] = s.PatchDevice(ctx, d.MiID, d.ID, patches[i]) })
		for _, err := range errs {
			check(t, "patch", err)
		}
		got, err := s.Device(ctx, d.MiID, d.ID)
		check(t, "read", err)
		if got.Name != name || got.FindDevice != on || got.Sync.AutoSync != on {
			t.Fatalf("round %d: one patch undid another: %+v", r, got)
		}
	}
}

func testDeleteDevice(t *testing.T, s store.Store) {
	ctx := t.Context()
	const ana = "820000001"
	newAccount(t, s, ana, "ana@example.com", "")
	newDevice(t, s, ana, "dev-1", t0)
	newDevice(t, s, ana, "dev-2", t0)
	newSession(t, s, "s1", ana, "dev-1")
	newSession(t, s, "s2", ana, "dev-2")
	newCommand(t, s, ana, "dev-1", "c1", t0)
	newCommand(t, s, ana, "dev-1", "c2", t0)
	newCommand(t, s, ana, "dev-2", "c3", t0)

	check(t, "delete", s.DeleteDevice(ctx, ana, "dev-1"))
	_, err := s.Device(ctx, ana, "dev-1")
	wantErr(t, "deleted device", err, store.ErrNotFound)
	_, err = s.Session(ctx, "s1")
	wantErr(t, "the deleted device's session", err, store.ErrNotFound)
	cmds, err := s.Commands(ctx, ana, "dev-1", "")
	check(t, "the deleted device's commands", err)
	if len(cmds) != 0 {
		t.Errorf("the deleted device still has %d commands", len(cmds))
	}
	_, err = s.Command(ctx, ana, "dev-1", "c1")
	wantErr(t, "a command of the deleted device", err, store.ErrNotFound)

	_, err = s.Device(ctx, ana, "dev-2")
	check(t, "the other device", err)
	_, err = s.Session(ctx, "s2")
	check(t, "the other device's session", err)
	_, err = s.Command(ctx, ana, "dev-2", "c3")
	check(t, "the other device's command", err)

	wantErr(t, "delete again", s.DeleteDevice(ctx, ana, "dev-1"), store.ErrNotFound)
	// The id can be used again, with nothing of the old device left.
	newDevice(t, s, ana, "dev-1", at(time.Hour))
	cmds, err = s.Commands(ctx, ana, "dev-1", "")
	check(t, "commands of the new dev-1", err)
	if len(cmds) != 0 {
		t.Errorf("a device added again inherited %d commands", len(cmds))
	}
}

func testCommands(t *testing.T, s store.Store) {
	ctx := t.Context()
	const ana = "830000001"
	newAccount(t, s, ana, "ana@example.com", "")
	newDevice(t, s, ana, "dev-1", t0)
	newDevice(t, s, ana, "dev-2", t0)

	c1 := newCommand(t, s, ana, "dev-1", "c1", at(time.Second))
	c2 := &store.Command{ID: "c2", MiID: ana, DeviceID: "dev-1", Type: "lock", Message: "Found? Call +86 138 1234 5678",
		State: "pending", CreatedAt: at(2 * time.Second)}
	check(t, "create c2", s.CreateCommand(ctx, c2))
	c0 := newCommand(t, s, ana, "dev-1", "c0", t0)
	newCommand(t, s, ana, "dev-2", "c9", t0)

	got, err := s.Command(ctx, ana, "dev-1", "c2")
	check(t, "read", err)
	wantEqual(t, "command", got, c2)
	_, err = s.Command(ctx, ana, "dev-2", "c2")
	wantErr(t, "a command of another device", err, store.ErrNotFound)
	_, err = s.Command(ctx, ana, "dev-1", "c-missing")
	wantErr(t, "unknown command", err, store.ErrNotFound)
	wantErr(t, "duplicate id", s.CreateCommand(ctx, &store.Command{ID: "c1", MiID: ana, DeviceID: "dev-2", Type: "ring", State: "pending", CreatedAt: t0}), store.ErrConflict)
	wantErr(t, "command for an unknown device", s.CreateCommand(ctx, &store.Command{ID: "c5", MiID: ana, DeviceID: "dev-9", Type: "ring", State: "pending", CreatedAt: t0}), store.ErrNotFound)

	list, err := s.Commands(ctx, ana, "dev-1", "")
	check(t, "list", err)
	wantEqual(t, "all commands, oldest first", list, []store.Command{*c0, *c1, *c2})

	delivered, err := s.DeliverCommands(ctx, ana, "dev-1", at(time.Minute))
	check(t, "deliver", err)
	for _, c := range []*store.Command{c0, c1, c2} {
		c.State, c.UpdatedAt = "delivered", ptr(at(time.Minute))
	}
	wantEqual(t, "delivered, oldest first", delivered, []store.Command{*c0, *c1, *c2})
	delivered, err = s.DeliverCommands(ctx, ana, "dev-1", at(2*time.Minute))
	check(t, "deliver again", err)
	if len(delivered) != 0 {
		t.Errorf("delivering again returned %d commands, want none", len(delivered))
	}
	pending, err := s.Commands(ctx, ana, "dev-2", "pending")
	check(t, "the other device's pending", err)
	if len(pending) != 1 {
		t.Errorf("the other device has %d pending commands, want 1 (untouched)", len(pending))
	}

	c1.State, c1.Result = "done", "rang for 30 s"
	c1.Location = &store.Location{Lat: 39.9042, Lon: 116.4074, AccuracyM: 30, ReportedAt: at(90 * time.Second)}
	c1.UpdatedAt = ptr(at(90 * time.Second))
	check(t, "update", s.UpdateCommand(ctx, c1))
	got, err = s.Command(ctx, ana, "dev-1", "c1")
	check(t, "read updated", err)
	wantEqual(t, "updated command", got, c1)

	list, err = s.Commands(ctx, ana, "dev-1", "delivered")
	check(t, "list delivered", err)
	wantEqual(t, "delivered commands", list, []store.Command{*c0, *c2})

	missing := *c1
	missing.ID = "c-missing"
	wantErr(t, "update unknown", s.UpdateCommand(ctx, &missing), store.ErrNotFound)
}

// testDeliverCommandsRace: a device polling from two connections at once
// gets each command once.
func testDeliverCommandsRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	const ana = "840000001"
	newAccount(t, s, ana, "ana@example.com", "")
	newDevice(t, s, ana, "dev-1", t0)
	const commands, pollers = 10, 4
	for i := range commands {
		newCommand(t, s, ana, "dev-1", "c"+string(rune('a'+i)), at(time.Duration(i)*time.Second))
	}
	got := make([][]store.Command, pollers)
	errs := make([]error, pollers)
	race(pollers, func(i int) {
		got[i], errs[i] = s.DeliverCommands(ctx, ana, "dev-1", at(time.Minute))
	})
	seen := map[string]int{}
	for i := range pollers {
		check(t, "deliver", errs[i])
		for _, c := range got[i] {
			seen[c.ID]++
		}
	}
	if len(seen) != commands {
		t.Errorf("%d of %d commands delivered", len(seen), commands)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("command %s delivered %d times", id, n)
		}
	}
}
