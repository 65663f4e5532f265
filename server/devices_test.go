package server

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"misetup/api"
)

func TestDeviceList(t *testing.T) {
	e := newEnv(t)
	phone := e.signUp("ann@example.com", "phone")
	laptop := e.session("ann@example.com", testPassword, "laptop")
	var ds api.DeviceList
	e.do("GET", "/v1/devices", nil, auth(laptop.Token)...).into(t, http.StatusOK, &ds)
	if len(ds.Devices) != 2 {
		t.Fatalf("%d devices, want 2", len(ds.Devices))
	}
	for _, d := range ds.Devices {
		if d.Current != (d.ID == "laptop") || d.LastSeen == nil {
			t.Errorf("device %+v: current must mark the caller's device", d)
		}
	}

	var d api.Device
	e.do("PATCH", "/v1/devices/phone", `{"name":"  Ann\u0000's \u001b[2Jphone  "}`, auth(laptop.Token)...).into(t, http.StatusOK, &d)
	if d.Name != "Ann's phone" || d.Current {
		t.Errorf("renamed device %+v", d)
	}

	// Removing the phone signs it out, and only it.
	r := e.do("DELETE", "/v1/devices/phone", nil, auth(laptop.Token)...)
	if r.status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	e.do("GET", "/v1/account", nil, auth(phone.Token)...).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
	e.do("GET", "/v1/devices", nil, auth(laptop.Token)...).into(t, http.StatusOK, &ds)
	if len(ds.Devices) != 1 || ds.Devices[0].ID != "laptop" {
		t.Errorf("devices after removal %+v", ds.Devices)
	}
	if !e.hasAudit(laptop.Account.MiID, "device_removed") {
		t.Error("no device_removed audit event")
	}
}

func TestDeviceOfAnotherAccountIsNotFound(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com", "anns-phone")
	bob := e.signUp("bob@example.com", "bobs-phone")
	for _, tc := range []struct{ method, path, body string }{
		{"PATCH", "/v1/devices/anns-phone", `{"name":"mine"}`},
		{"DELETE", "/v1/devices/anns-phone", ""},
		{"GET", "/v1/devices/anns-phone/sync", ""},
		{"PUT", "/v1/devices/anns-phone/sync", `{"auto_sync":true,"categories":[]}`},
		{"GET", "/v1/devices/anns-phone/find-device", ""},
		{"PUT", "/v1/devices/anns-phone/find-device", `{"enabled":false}`},
		{"POST", "/v1/devices/anns-phone/commands", `{"type":"ring"}`},
		{"GET", "/v1/devices/anns-phone/commands", ""},
		{"POST", "/v1/devices/anns-phone/commands/x/ack", `{"state":"done"}`},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		e.do(tc.method, tc.path, body, auth(bob.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	}
	// Ann's phone is untouched.
	d, err := e.st.Device(context.Background(), e.session("ann@example.com", testPassword, "anns-phone").Account.MiID, "anns-phone")
	if err != nil || d.Name == "mine" {
		t.Errorf("ann's phone %+v, %v", d, err)
	}
}

func TestSyncSettings(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	var got api.SyncSettings
	e.do("GET", "/v1/devices/phone/sync", nil, auth(s.Token)...).into(t, http.StatusOK, &got)
	if got.AutoSync || len(got.Categories) != 0 || got.UpdatedAt != nil {
		t.Errorf("initial sync %+v", got)
	}
	e.do("PUT", "/v1/devices/phone/sync", api.SyncSettings{
		AutoSync: true, WifiOnly: true, Categories: []string{"notes", "contacts", "notes", "gallery"},
	}, auth(s.Token)...).into(t, http.StatusOK, &got)
	want := []string{"contacts", "gallery", "notes"}
	if !got.AutoSync || !got.WifiOnly || !slices.Equal(got.Categories, want) || got.UpdatedAt == nil {
		t.Errorf("saved sync %+v, want categories %v", got, want)
	}
	e.do("GET", "/v1/devices/phone/sync", nil, auth(s.Token)...).into(t, http.StatusOK, &got)
	if !slices.Equal(got.Categories, want) || !got.WifiOnly {
		t.Errorf("read back %+v", got)
	}
	r := e.do("PUT", "/v1/devices/phone/sync", `{"auto_sync":true,"categories":["contacts","bitcoin"]}`, auth(s.Token)...)
	if ae := r.apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != "categories" {
		t.Errorf("field %q", ae.Field)
	}
	e.do("GET", "/v1/devices/phone/sync", nil, auth(s.Token)...).into(t, http.StatusOK, &got)
	if !slices.Equal(got.Categories, want) {
		t.Errorf("a refused PUT changed the settings: %+v", got)
	}
}

func TestFindDeviceAndCommands(t *testing.T) {
	e := newEnv(t)
	phone := e.signUp("ann@example.com", "phone")
	laptop := e.session("ann@example.com", testPassword, "laptop")
	L := auth(laptop.Token)

	// Commands need Find Device on.
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "ring"}, L...).apiErr(t, http.StatusConflict, api.CodeConflict)
	var fd api.FindDevice
	e.do("PUT", "/v1/devices/phone/find-device", api.FindDevice{Enabled: true}, auth(phone.Token)...).into(t, http.StatusOK, &fd)
	if !fd.Enabled || fd.LastLocation != nil {
		t.Errorf("find device %+v", fd)
	}

	var locate, lock api.Command
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "locate"}, L...).into(t, http.StatusAccepted, &locate)
	if locate.State != api.CommandPending || locate.DeviceID != "phone" || locate.ID == "" {
		t.Errorf("command %+v", locate)
	}
	// Lock and erase need the password.
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "lock"}, L...).apiErr(t, http.StatusForbidden, api.CodeReauthRequired)
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "erase", Password: "Wrong-Pass-11"}, L...).apiErr(t, http.StatusForbidden, api.CodeReauthRequired)
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "lock", Message: "Call 555\u202e", Password: testPassword}, L...).
		into(t, http.StatusAccepted, &lock)
	if lock.Message != "Call 555" {
		t.Errorf("message %q, want it sanitized", lock.Message)
	}
	if !e.hasAudit(laptop.Account.MiID, "device_lock") {
		t.Error("no device_lock audit event")
	}

	// Another device looking does not deliver them.
	var cl api.CommandList
	e.do("GET", "/v1/devices/phone/commands?state=pending", nil, L...).into(t, http.StatusOK, &cl)
	if len(cl.Commands) != 2 {
		t.Fatalf("%d pending, want 2", len(cl.Commands))
	}
	// The device itself fetching them does.
	e.do("GET", "/v1/devices/phone/commands?state=pending", nil, auth(phone.Token)...).into(t, http.StatusOK, &cl)
	if len(cl.Commands) != 2 || cl.Commands[0].State != api.CommandDelivered {
		t.Fatalf("fetched %+v, want 2 delivered", cl.Commands)
	}
	e.do("GET", "/v1/devices/phone/commands?state=pending", nil, auth(phone.Token)...).into(t, http.StatusOK, &cl)
	if len(cl.Commands) != 0 {
		t.Errorf("fetched again: %+v, want none", cl.Commands)
	}

	var acked api.Command
	e.do("POST", "/v1/devices/phone/commands/"+locate.ID+"/ack", api.CommandAck{
		State: "done", Result: "located", Location: &api.Location{Lat: 39.9, Lon: 116.4, AccuracyM: 12},
	}, auth(phone.Token)...).into(t, http.StatusOK, &acked)
	if acked.State != api.CommandDone || acked.Location == nil || acked.Location.Lat != 39.9 {
		t.Errorf("acked %+v", acked)
	}
	e.do("GET", "/v1/devices/phone/find-device", nil, L...).into(t, http.StatusOK, &fd)
	if fd.LastLocation == nil || fd.LastLocation.Lon != 116.4 || !fd.LastLocation.ReportedAt.Equal(e.clock.Now()) {
		t.Errorf("last location %+v", fd.LastLocation)
	}
	e.do("POST", "/v1/devices/phone/commands/"+locate.ID+"/ack", api.CommandAck{State: "failed"}, auth(phone.Token)...).
		apiErr(t, http.StatusConflict, api.CodeConflict)
	e.do("POST", "/v1/devices/phone/commands/nope/ack", api.CommandAck{State: "done"}, auth(phone.Token)...).
		apiErr(t, http.StatusNotFound, api.CodeNotFound)

	e.do("GET", "/v1/devices/phone/commands?state=done", nil, L...).into(t, http.StatusOK, &cl)
	if len(cl.Commands) != 1 || cl.Commands[0].ID != locate.ID || cl.Commands[0].Result != "located" {
		t.Errorf("done commands %+v", cl.Commands)
	}
}

func TestStorage(t *testing.T) {
	e := newEnv(t)
	s := e.signUp("ann@example.com", "phone")
	ctx := context.Background()
	if err := e.st.SetUsage(ctx, s.Account.MiID, "gallery", 3000); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUsage(ctx, s.Account.MiID, "notes", 500); err != nil {
		t.Fatal(err)
	}
	var st api.Storage
	e.do("GET", "/v1/storage", nil, auth(s.Token)...).into(t, http.StatusOK, &st)
	if st.QuotaBytes != 5<<30 || st.UsedBytes != 3500 || st.ByCategory["gallery"] != 3000 || st.ByCategory["notes"] != 500 {
		t.Errorf("storage %+v", st)
	}
	if _, ok := st.ByCategory["contacts"]; !ok || len(st.ByCategory) != len(api.Categories) {
		t.Errorf("by_category %v: want every category", st.ByCategory)
	}
}
