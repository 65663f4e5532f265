package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"misetup/api"
	"misetup/server/store"
)

func TestStatus(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MinClientVersion = "1.2.0"; c.LatestClientVersion = "1.4.1" })
	e.clock.Advance(1500 * time.Millisecond)
	r := e.do("GET", "/v1/status", nil, api.HeaderClientVersion, "0.1.0") // even a client too old may ask
	var raw map[string]string
	r.into(t, http.StatusOK, &raw)
	if raw["server_time"] != "2030-03-01T09:00:01Z" {
		t.Errorf("server_time %q, want RFC 3339 of the clock", raw["server_time"])
	}
	if raw["version"] != api.Version || raw["min_client_version"] != "1.2.0" || raw["latest_client_version"] != "1.4.1" {
		t.Errorf("status %v", raw)
	}
}

func TestClientTooOld(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MinClientVersion = "1.2.0" })
	body := api.RegistrationRequest{Method: "email", Identifier: "ann@example.com", Password: testPassword}
	for _, v := range []string{"1.1.9", "misetup/0.9.0", "v1.1"} {
		e.do("POST", "/v1/registrations", body, api.HeaderClientVersion, v).apiErr(t, http.StatusUpgradeRequired, api.CodeClientTooOld)
		e.do("GET", "/v1/nope", nil, api.HeaderClientVersion, v).apiErr(t, http.StatusUpgradeRequired, api.CodeClientTooOld)
	}
	if n := len(e.courier.messages()); n != 0 {
		t.Errorf("%d messages sent for refused clients", n)
	}
	r := e.do("POST", "/v1/registrations", body, api.HeaderClientVersion, "banana")
	if ae := r.apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != api.HeaderClientVersion {
		t.Errorf("field %q", ae.Field)
	}
	e.do("POST", "/v1/registrations", body, api.HeaderClientVersion, "1.2.0-dev").into(t, http.StatusAccepted, nil)
	e.do("GET", "/v1/status", nil, api.HeaderClientVersion, "1.10.0").into(t, http.StatusOK, nil)
}

func TestUnknownPathAndWrongMethod(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/v1/nope", "/", "/v1/devices/", "/v1//status", "/v1/status/../account"} {
		r := e.do("GET", p, nil)
		r.apiErr(t, http.StatusNotFound, api.CodeNotFound)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content type %q", p, ct)
		}
	}
	r := e.do("DELETE", "/v1/status", nil)
	r.apiErr(t, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow %q", allow)
	}
	e.do("PUT", "/v1/sessions", `{}`).apiErr(t, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed)
}

func TestNewRefusesBadConfig(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, mod := range map[string]func(*Config){
		"code digits":   func(c *Config) { c.CodeDigits = 0 },
		"code ttl":      func(c *Config) { c.CodeTTL = -time.Second },
		"body size":     func(c *Config) { c.MaxBodyBytes = 0 },
		"min version":   func(c *Config) { c.MinClientVersion = "one" },
		"password len":  func(c *Config) { c.Password.MaxLen = 4 },
		"argon2 memory": func(c *Config) { c.Argon2.Memory = 0 },
	} {
		cfg := DefaultConfig()
		mod(&cfg)
		if _, err := New(st, &memCourier{}, cfg); err == nil {
			t.Errorf("%s: New accepted a bad config", name)
		}
	}
	if _, err := New(st, nil, DefaultConfig()); err == nil {
		t.Error("New accepted no courier")
	}
}

// serveOnPort starts ListenAndServe's Serve on a free port.
func serveOnPort(t *testing.T, e *env) (addr string, cancel context.CancelFunc, done chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	return ln.Addr().String(), cancel, done
}

func TestSlowClientTimesOut(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ReadHeaderTimeout = 100 * time.Millisecond; c.ReadTimeout = 100 * time.Millisecond })
	addr, cancel, done := serveOnPort(t, e)
	defer func() { cancel(); <-done }()

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /v1/status HTTP/1.1\r\nHost: x\r\n"); err != nil { // never ends the headers
		t.Fatal(err)
	}
	// The server gives up on us: the read ends (EOF or a 408) long before
	// this safety deadline.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a slow client's connection open (read %q)", b)
	}
}

func TestGracefulShutdownWaitsForDeliveries(t *testing.T) {
	e := newEnv(t)
	e.courier.gate = make(chan struct{})
	addr, cancel, done := serveOnPort(t, e)

	body := `{"method":"email","identifier":"ann@example.com","password":"` + testPassword + `"}`
	res, err := http.Post("http://"+addr+"/v1/registrations", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var c api.Challenge
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("register: %d %v", res.StatusCode, err)
	}
	res.Body.Close()

	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while a delivery was pending", err)
	case <-time.After(50 * time.Millisecond):
		// Still waiting for the courier, as it must.
	}
	close(e.courier.gate)
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	stored, err := e.st.Challenge(context.Background(), c.ID)
	if err != nil || stored.DeliveryState != api.DeliverySent {
		t.Fatalf("after shutdown: %+v, %v; want the delivery recorded as sent", stored, err)
	}
	if len(e.courier.messages()) != 1 {
		t.Errorf("%d messages, want 1", len(e.courier.messages()))
	}
}

func TestPanicsBecome500(t *testing.T) {
	e := newEnv(t)
	e.srv.mux.HandleFunc("GET /v1/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	r := e.do("GET", "/v1/boom", nil)
	ae := r.apiErr(t, http.StatusInternalServerError, api.CodeInternal)
	if strings.Contains(ae.Message, "boom") {
		t.Errorf("message %q leaks the panic", ae.Message)
	}
}
