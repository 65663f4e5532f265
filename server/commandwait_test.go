package server

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"misetup/api"
	"misetup/server/store"
)

// ringable signs up ann on her phone, signs her laptop in and turns Find
// Device on for the phone.
func ringable(e *env) (phone, laptop api.Session) {
	phone = e.signUp("ann@example.com", "phone")
	laptop = e.session("ann@example.com", testPassword, "laptop")
	e.do("PUT", "/v1/devices/phone/find-device", api.FindDevice{Enabled: true}, auth(phone.Token)...).into(e.t, http.StatusOK, nil)
	return phone, laptop
}

// poll is a long poll's answer and how long it took.
type poll struct {
	r    resp
	took time.Duration
}

// startPoll long-polls the phone's commands on another goroutine.
func (e *env) startPoll(token string, wait string) <-chan poll {
	out := make(chan poll, 1)
	start := time.Now()
	go func() {
		r := e.do("GET", "/v1/devices/phone/commands?state=pending&wait="+wait, nil, auth(token)...)
		out <- poll{r, time.Since(start)}
	}()
	return out
}

func (e *env) awaitPoll(ch <-chan poll) poll {
	e.t.Helper()
	select {
	case p := <-ch:
		return p
	case <-time.After(40 * time.Second):
		e.t.Fatal("the long poll never answered")
		return poll{}
	}
}

func TestLongPollAnswersWhenACommandIsQueued(t *testing.T) {
	e := newEnv(t)
	phone, laptop := ringable(e)
	ch := e.startPoll(phone.Token, "25")
	time.Sleep(200 * time.Millisecond)
	var ring api.Command
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "ring", Message: "here"}, auth(laptop.Token)...).into(t, http.StatusAccepted, &ring)

	p := e.awaitPoll(ch)
	var l api.CommandList
	p.r.into(t, http.StatusOK, &l)
	if len(l.Commands) != 1 || l.Commands[0].ID != ring.ID || l.Commands[0].State != api.CommandDelivered {
		t.Fatalf("long poll answered %+v, want the ring, delivered", l.Commands)
	}
	if p.took > 3*time.Second {
		t.Errorf("the ring arrived after %v of a 25 s wait; want at once", p.took)
	}
}

func TestLongPollAnswersAtOnceWhenOneIsPending(t *testing.T) {
	e := newEnv(t)
	phone, laptop := ringable(e)
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "locate"}, auth(laptop.Token)...).into(t, http.StatusAccepted, nil)
	p := e.awaitPoll(e.startPoll(phone.Token, "25"))
	var l api.CommandList
	p.r.into(t, http.StatusOK, &l)
	if len(l.Commands) != 1 || p.took > 2*time.Second {
		t.Fatalf("answered %+v after %v; want the pending locate at once", l.Commands, p.took)
	}
}

func TestLongPollTimesOutEmpty(t *testing.T) {
	e := newEnv(t)
	phone, _ := ringable(e)
	p := e.awaitPoll(e.startPoll(phone.Token, "1"))
	var l api.CommandList
	p.r.into(t, http.StatusOK, &l)
	if l.Commands == nil || len(l.Commands) != 0 {
		t.Errorf("answered %s; want an empty list", p.r.body)
	}
	if p.took < 900*time.Millisecond || p.took > 5*time.Second {
		t.Errorf("a 1 s wait answered after %v", p.took)
	}
}

// A command queued by another process on the same store (here written to
// the store directly, so this process's bell does not ring) is found by
// looking again.
func TestLongPollSeesACommandOfAnotherProcess(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CommandPollEvery = 100 * time.Millisecond })
	phone, _ := ringable(e)
	ch := e.startPoll(phone.Token, "25")
	time.Sleep(300 * time.Millisecond)
	err := e.st.CreateCommand(context.Background(), &store.Command{
		ID: "from-elsewhere", MiID: phone.Account.MiID, DeviceID: "phone", Type: "ring", State: api.CommandPending,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := e.awaitPoll(ch)
	var l api.CommandList
	p.r.into(t, http.StatusOK, &l)
	if len(l.Commands) != 1 || l.Commands[0].ID != "from-elsewhere" || p.took > 3*time.Second {
		t.Fatalf("answered %+v after %v; want the other process's ring within a look or two", l.Commands, p.took)
	}
}

func TestLongPollBadWait(t *testing.T) {
	e := newEnv(t)
	phone, _ := ringable(e)
	for _, w := range []string{"-1", "31", "abc", "1.5", "99999999999999999999"} {
		r := e.do("GET", "/v1/devices/phone/commands?state=pending&wait="+w, nil, auth(phone.Token)...)
		if ae := r.apiErr(t, http.StatusBadRequest, api.CodeInvalidInput); ae.Field != "wait" {
			t.Errorf("wait=%s: field %q, want wait", w, ae.Field)
		}
	}
}

// Another device of the account only looks, at once, even with a wait.
func TestLongPollOfAnotherDeviceOnlyLooks(t *testing.T) {
	e := newEnv(t)
	_, laptop := ringable(e)
	start := time.Now()
	var l api.CommandList
	e.do("GET", "/v1/devices/phone/commands?state=pending&wait=20", nil, auth(laptop.Token)...).into(t, http.StatusOK, &l)
	if time.Since(start) > 2*time.Second {
		t.Errorf("another device's look waited %v", time.Since(start))
	}
}

// A shutting-down server ends its long polls at once (answering them
// empty) instead of waiting out ShutdownTimeout for them.
func TestLongPollEndsAtShutdown(t *testing.T) {
	e := newEnv(t)
	phone, _ := ringable(e)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()

	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", url+"/v1/devices/phone/commands?state=pending&wait=30", nil)
		req.Header.Set("Authorization", "Bearer "+phone.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- 0
			return
		}
		res.Body.Close()
		got <- res.StatusCode
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the server did not stop while a long poll waited")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("shutdown took %v with a long poll waiting", took)
	}
	if st := <-got; st != http.StatusOK {
		t.Errorf("the long poll got %d at shutdown; want 200 (nothing yet)", st)
	}
}

// The client going away ends its long poll: the handler does not wait out
// the wait (the request's context ends it).
func TestLongPollEndsWhenTheClientGoes(t *testing.T) {
	e := newEnv(t)
	phone, _ := ringable(e)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.hs.URL+"/v1/devices/phone/commands?state=pending&wait=30", nil)
	req.Header.Set("Authorization", "Bearer "+phone.Token)
	if _, err := e.hs.Client().Do(req); err == nil {
		t.Fatal("the request outlived its context")
	}
	// httptest.Server.Close (at cleanup) waits for handlers; a handler
	// still waiting would hold it for 30 s. Close it now and time it.
	start := time.Now()
	e.hs.Close()
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the long poll's handler ran on %v after its client left", took)
	}
}

func TestGetCommand(t *testing.T) {
	e := newEnv(t)
	phone, laptop := ringable(e)
	L := auth(laptop.Token)
	var ring, got api.Command
	e.do("POST", "/v1/devices/phone/commands", api.CommandRequest{Type: "ring"}, L...).into(t, http.StatusAccepted, &ring)
	e.do("GET", "/v1/devices/phone/commands/"+ring.ID, nil, L...).into(t, http.StatusOK, &got)
	if got.ID != ring.ID || got.State != api.CommandPending || got.Type != "ring" {
		t.Errorf("pending command %+v", got)
	}
	e.do("GET", "/v1/devices/phone/commands?state=pending", nil, auth(phone.Token)...).into(t, http.StatusOK, nil)
	e.do("GET", "/v1/devices/phone/commands/"+ring.ID, nil, L...).into(t, http.StatusOK, &got)
	if got.State != api.CommandDelivered {
		t.Errorf("after delivery %+v", got)
	}
	e.do("POST", "/v1/devices/phone/commands/"+ring.ID+"/ack", api.CommandAck{State: "done", Result: "rang"}, auth(phone.Token)...).into(t, http.StatusOK, nil)
	e.do("GET", "/v1/devices/phone/commands/"+ring.ID, nil, L...).into(t, http.StatusOK, &got)
	if got.State != api.CommandDone || got.Result != "rang" || got.UpdatedAt == nil {
		t.Errorf("after the ack %+v", got)
	}
	// The ack is written once.
	e.do("POST", "/v1/devices/phone/commands/"+ring.ID+"/ack", api.CommandAck{State: "failed"}, auth(phone.Token)...).apiErr(t, http.StatusConflict, api.CodeConflict)

	e.do("GET", "/v1/devices/phone/commands/nope", nil, L...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.do("GET", "/v1/devices/laptop/commands/"+ring.ID, nil, L...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	bob := e.signUp("bob@example.com", "bobs-phone")
	e.do("GET", "/v1/devices/phone/commands/"+ring.ID, nil, auth(bob.Token)...).apiErr(t, http.StatusNotFound, api.CodeNotFound)
	e.do("GET", "/v1/devices/phone/commands/"+ring.ID, nil).apiErr(t, http.StatusUnauthorized, api.CodeUnauthorized)
}

// A wait longer than the server's read and write timeouts is still
// answered (the long poll moves its connection's deadlines).
func TestLongPollOutlastsTheServerTimeouts(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ReadTimeout, c.WriteTimeout = time.Second, time.Second })
	phone, _ := ringable(e)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/devices/phone/commands?state=pending&wait=3", nil)
	req.Header.Set("Authorization", "Bearer "+phone.Token)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a 3 s long poll on a server with 1 s timeouts: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || time.Since(start) < 2900*time.Millisecond {
		t.Errorf("answered %d after %v; want 200 after the 3 s wait", res.StatusCode, time.Since(start))
	}
}
