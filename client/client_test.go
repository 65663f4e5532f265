package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"misetup/api"
	"misetup/client"
)

// watchdog bounds a call that must return on its own (a timeout under
// test); it is a guard against a hang, far above any expected duration, not
// a measurement.
const watchdog = 10 * time.Second

// serve starts a loopback HTTP server for h and returns a client of it.
func serve(t *testing.T, h http.Handler, opts ...client.Option) (*client.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return client.New(srv.URL, opts...), srv
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers status with the API's error envelope.
func writeError(w http.ResponseWriter, status int, e api.Error) {
	writeJSON(w, status, api.ErrorBody{Error: &e})
}

// asAPIError fails the test unless err is an *api.Error.
func asAPIError(t *testing.T, err error) *api.Error {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *api.Error", err, err)
	}
	return e
}

// within runs f and fails the test if it has not returned after watchdog.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(watchdog):
		t.Fatalf("call still running after %v", watchdog)
		return nil
	}
}

func TestTokenFollowsSignInAndSignOut(t *testing.T) {
	var signOuts []string // Authorization of each DELETE /v1/sessions/current
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, api.Session{Token: "tok-1", Account: api.Account{MiID: "123456789"}})
	})
	mux.HandleFunc("POST /v1/challenges/{id}/verify", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.VerifyResponse{Account: api.Account{MiID: "123456789"}, Session: &api.Session{Token: "tok-2"}})
	})
	mux.HandleFunc("POST /v1/password-resets", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, api.Challenge{ID: "ch-1"})
	})
	mux.HandleFunc("GET /v1/account", func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer tok-1", "Bearer tok-2":
			writeJSON(w, http.StatusOK, api.Account{MiID: "123456789"})
		default:
			writeError(w, http.StatusUnauthorized, api.Error{Code: api.CodeUnauthorized, Message: "sign in first"})
		}
	})
	mux.HandleFunc("DELETE /v1/sessions/current", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		signOuts = append(signOuts, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	c, _ := serve(t, mux)
	ctx := context.Background()

	if _, err := c.Account(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("Account before sign-in: %v, want unauthorized", err)
	}
	s, err := c.SignIn(ctx, api.SessionRequest{Identifier: "ana@example.com", Password: "pw"})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if s.Token != "tok-1" || c.Token() != "tok-1" {
		t.Fatalf("after sign-in: session token %q, client token %q, want tok-1", s.Token, c.Token())
	}
	if a, err := c.Account(ctx); err != nil || a.MiID != "123456789" {
		t.Fatalf("Account after sign-in: %+v, %v", a, err)
	}

	if err := c.SignOut(ctx); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if c.Token() != "" {
		t.Fatalf("token after sign-out: %q, want none", c.Token())
	}
	if len(signOuts) != 1 || signOuts[0] != "Bearer tok-1" {
		t.Fatalf("sign-out requests carried %q, want one with Bearer tok-1", signOuts)
	}
	if _, err := c.Account(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("Account after sign-out: %v, want unauthorized", err)
	}
	if err := c.SignOut(ctx); err != nil || len(signOuts) != 1 {
		t.Fatalf("second SignOut: %v after %d requests, want nil without a request", err, len(signOuts))
	}

	// A verify that signs in keeps the session's token; one that does not
	// leaves the token alone.
	if _, err := c.Verify(ctx, "ch-1", api.VerifyRequest{Code: "123456"}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Token() != "tok-2" {
		t.Fatalf("token after a signing-in verify: %q, want tok-2", c.Token())
	}
	if _, err := c.RequestPasswordReset(ctx, api.PasswordResetRequest{Identifier: "ana@example.com"}); err != nil {
		t.Fatalf("RequestPasswordReset: %v", err)
	}
	if c.Token() != "tok-2" {
		t.Fatalf("token after an unrelated call: %q, want tok-2", c.Token())
	}
}

func TestSignOutForgetsTokenWhenServiceFails(t *testing.T) {
	c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusUnauthorized, api.Error{Code: api.CodeUnauthorized, Message: "session expired"})
	}), client.WithToken("stale"))
	err := c.SignOut(context.Background())
	if !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("SignOut: %v, want unauthorized", err)
	}
	if c.Token() != "" {
		t.Fatalf("token after failed sign-out: %q, want none", c.Token())
	}
}

func TestErrorDataRoundTrips(t *testing.T) {
	two := 2
	tests := []struct {
		name     string
		status   int
		header   http.Header
		sent     api.Error
		want     api.Error // Status and the data fields
		sentinel error
	}{
		{
			name:     "wrong code with attempts left",
			status:   http.StatusBadRequest,
			sent:     api.Error{Code: api.CodeInvalidCode, Message: "wrong code", AttemptsLeft: &two},
			want:     api.Error{Status: 400, Code: api.CodeInvalidCode, Message: "wrong code", AttemptsLeft: &two},
			sentinel: api.ErrInvalidCode,
		},
		{
			name:     "resend too soon",
			status:   http.StatusTooManyRequests,
			sent:     api.Error{Code: api.CodeRateLimited, Message: "wait", RetryAfterS: 42},
			want:     api.Error{Status: 429, Code: api.CodeRateLimited, Message: "wait", RetryAfterS: 42},
			sentinel: api.ErrRateLimited,
		},
		{
			name:     "retry after from the header when the body has none",
			status:   http.StatusTooManyRequests,
			header:   http.Header{"Retry-After": {"7"}},
			sent:     api.Error{Code: api.CodeRateLimited, Message: "wait"},
			want:     api.Error{Status: 429, Code: api.CodeRateLimited, Message: "wait", RetryAfterS: 7},
			sentinel: api.ErrRateLimited,
		},
		{
			name:     "locked account",
			status:   http.StatusLocked,
			sent:     api.Error{Code: api.CodeAccountLocked, Message: "locked", RetryAfterS: 900},
			want:     api.Error{Status: 423, Code: api.CodeAccountLocked, Message: "locked", RetryAfterS: 900},
			sentinel: api.ErrAccountLocked,
		},
		{
			name:     "weak password names the field and the rules",
			status:   http.StatusBadRequest,
			sent:     api.Error{Code: api.CodeWeakPassword, Message: "too weak", Field: "password", Reasons: []string{"too_short", "no_digit"}},
			want:     api.Error{Status: 400, Code: api.CodeWeakPassword, Message: "too weak", Field: "password", Reasons: []string{"too_short", "no_digit"}},
			sentinel: api.ErrWeakPassword,
		},
		{
			name:     "second factor",
			status:   http.StatusUnauthorized,
			sent:     api.Error{Code: api.CodeSecondFactorRequired, Message: "send the code"},
			want:     api.Error{Status: 401, Code: api.CodeSecondFactorRequired, Message: "send the code"},
			sentinel: api.ErrSecondFactorRequired,
		},
		{
			name:     "a code this client does not know yet",
			status:   http.StatusBadRequest,
			sent:     api.Error{Code: "newer_rule", Message: "something new"},
			want:     api.Error{Status: 400, Code: "newer_rule", Message: "something new"},
			sentinel: &api.Error{Code: "newer_rule"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				writeError(w, tt.status, tt.sent)
			}))
			_, err := c.Verify(context.Background(), "ch-1", api.VerifyRequest{Code: "000000"})
			got := asAPIError(t, err)
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("error = %+v\nwant    %+v", *got, tt.want)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			if errors.Is(err, api.ErrCodeExpired) || client.IsUnavailable(err) {
				t.Errorf("%v matches a sentinel of another code", err)
			}
		})
	}
}

func TestAnswersWithoutErrorBody(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantMsg  string
	}{
		{"proxy page", http.StatusBadGateway, "<html><body>Bad Gateway</body></html>", api.CodeUnavailable, "Bad Gateway"},
		{"empty 500", http.StatusInternalServerError, "", api.CodeUnavailable, "Internal Server Error"},
		{"mux not found", http.StatusNotFound, "404 page not found\n", api.CodeNotFound, "Not Found"},
		{"plain 400", http.StatusBadRequest, "bad request", api.CodeInvalidInput, "Bad Request"},
		{"unknown 4xx", http.StatusTeapot, "", api.CodeInvalidInput, "I'm a teapot"},
		{"plain 401", http.StatusUnauthorized, "", api.CodeUnauthorized, "Unauthorized"},
		{"json without the envelope", http.StatusBadRequest, `{"message":"nope"}`, api.CodeInvalidInput, "Bad Request"},
		{"envelope without a code", http.StatusServiceUnavailable, `{"error":{"message":"later"}}`, api.CodeUnavailable, "Service Unavailable"},
		{"unknown status", 599, "", api.CodeUnavailable, "HTTP 599"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			// A POST, so 5xx answers are not retried.
			_, err := c.Register(context.Background(), api.RegistrationRequest{Method: api.MethodEmail})
			got := asAPIError(t, err)
			if got.Status != tt.status || got.Code != tt.wantCode || got.Message != tt.wantMsg {
				t.Errorf("error = status %d, code %q, message %q; want %d, %q, %q",
					got.Status, got.Code, got.Message, tt.status, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestGarbledAnswersAreErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"captive portal html", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html>Sign in to the Wi-Fi</html>")
		}},
		{"empty 200", func(w http.ResponseWriter, r *http.Request) {}},
		{"wrong types", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"server_time": 5, "version": ["1"]}`)
		}},
		{"truncated json", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"version": "1.0`)
		}},
		{"answer over 1 MiB", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"version":"`+strings.Repeat("x", 1<<20)+`"}`)
		}},
	}
	for _, tt := range tests {
		for _, inProcess := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/in-process=%v", tt.name, inProcess), func(t *testing.T) {
				var c *client.Client
				if inProcess {
					c = client.New("", client.WithHandler(tt.handler))
				} else {
					c, _ = serve(t, tt.handler)
				}
				s, err := c.Status(context.Background())
				if err == nil {
					t.Fatalf("Status = %+v, nil; want an error", s)
				}
				if got := asAPIError(t, err); got.Status != http.StatusOK || !client.IsUnavailable(err) {
					t.Errorf("error = %+v, want status 200 and unavailable", got)
				}
			})
		}
	}
}

func TestNewerAnswerFieldsAreIgnored(t *testing.T) {
	c := client.New("", client.WithHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"version":"2.0.0","min_client_version":"1.0.0","shiny_new_field":{"a":1}}`)
	})))
	s, err := c.Status(context.Background())
	if err != nil || s.Version != "2.0.0" || s.MinClientVersion != "1.0.0" {
		t.Fatalf("Status = %+v, %v; want version 2.0.0", s, err)
	}
}

func TestUnavailableOnClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	c := client.New("http://" + addr)
	_, err = c.Status(context.Background())
	if !errors.Is(err, api.ErrUnavailable) || !client.IsUnavailable(err) {
		t.Fatalf("Status on a closed port: %v, want unavailable", err)
	}
	got := asAPIError(t, err)
	var opErr *net.OpError
	if got.Status != 0 || got.Cause == nil || !errors.As(err, &opErr) {
		t.Errorf("error = %+v (cause %v), want no status and the network error as cause", got, got.Cause)
	}
	if msg := err.Error(); !strings.Contains(msg, "cannot reach the account service") || !strings.Contains(msg, "refused") {
		t.Errorf("message %q does not say the service could not be reached and why", msg)
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	var attempts atomic.Int32
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		// Ignores the request's context, like a stuck handler would; the
		// test releases it at the end.
		<-release
	})
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	short := 50 * time.Millisecond
	tests := []struct {
		name    string
		c       *client.Client
		timeout time.Duration // of the caller's context; 0 for none
	}{
		{"client timeout over loopback", client.New(srv.URL, client.WithTimeout(short)), 0},
		{"caller deadline shorter than the client's", client.New(srv.URL, client.WithTimeout(time.Hour)), short},
		{"client timeout in-process", client.New("", client.WithHandler(slow), client.WithTimeout(short)), 0},
		{"caller deadline in-process", client.New("", client.WithHandler(slow), client.WithTimeout(time.Hour)), short},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attempts.Store(0)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			err := within(t, func() error { _, err := tt.c.Devices(ctx); return err })
			if !errors.Is(err, context.DeadlineExceeded) || !client.IsUnavailable(err) {
				t.Fatalf("Devices against a stuck service: %v, want unavailable and deadline exceeded", err)
			}
			if !strings.Contains(err.Error(), "did not answer in time") {
				t.Errorf("message %q does not say the service was too slow", err)
			}
			// The timeout covers the whole call: a GET is not retried once it
			// has run out.
			if n := attempts.Load(); n != 1 {
				t.Errorf("service saw %d attempts, want 1", n)
			}
		})
	}
}

// sequence answers the i-th request with statuses[i] (the last one
// repeating) and counts the requests.
type sequence struct {
	statuses []int
	plain    bool // answer errors without the JSON envelope
	n        atomic.Int32
}

func (s *sequence) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	status := s.statuses[min(i, len(s.statuses)-1)]
	switch {
	case status < 300:
		writeJSON(w, status, map[string]any{})
	case s.plain:
		http.Error(w, "upstream down", status)
	default:
		writeError(w, status, api.Error{Code: api.CodeUnavailable, Message: "maintenance"})
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	get := func(c *client.Client) error { _, err := c.Storage(ctx); return err }
	post := func(c *client.Client) error {
		_, err := c.SendCommand(ctx, "d1", api.CommandRequest{Type: api.CommandRing})
		return err
	}
	patch := func(c *client.Client) error { _, err := c.RenameDevice(ctx, "d1", "Phone"); return err }
	put := func(c *client.Client) error { _, err := c.SetFindDevice(ctx, "d1", true); return err }
	del := func(c *client.Client) error { return c.RemoveDevice(ctx, "d1") }

	tests := []struct {
		name      string
		call      func(*client.Client) error
		statuses  []int
		plain     bool
		retries   int // -1: the default
		wantTries int32
		wantErr   error // nil: success
	}{
		{"GET retried on 503 until it succeeds", get, []int{503, 503, 200}, false, -1, 3, nil},
		{"GET retried on a proxy's 502", get, []int{502, 200}, true, -1, 2, nil},
		{"GET gives up after the retries", get, []int{504}, true, 2, 3, api.ErrUnavailable},
		{"GET with retries off", get, []int{503, 200}, false, 0, 1, api.ErrUnavailable},
		{"PUT retried", put, []int{503, 200}, false, -1, 2, nil},
		{"DELETE retried", del, []int{503, 204}, false, -1, 2, nil},
		{"POST never retried", post, []int{503, 200}, false, 5, 1, api.ErrUnavailable},
		{"PATCH never retried", patch, []int{502, 200}, true, 5, 1, api.ErrUnavailable},
		{"500 is an answer, not retried", get, []int{500, 200}, true, -1, 1, api.ErrUnavailable},
		{"429 is an answer, not retried", get, []int{429, 200}, true, -1, 1, api.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := &sequence{statuses: tt.statuses, plain: tt.plain}
			var opts []client.Option
			if tt.retries >= 0 {
				opts = append(opts, client.WithRetries(tt.retries))
			}
			c, _ := serve(t, seq, opts...)
			err := tt.call(c)
			if !errors.Is(err, tt.wantErr) { // errors.Is(nil, nil) holds
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := seq.n.Load(); got != tt.wantTries {
				t.Errorf("service saw %d attempts, want %d", got, tt.wantTries)
			}
		})
	}
}

// flaky fails its first failures round trips with a network error, then
// passes requests on.
type flaky struct {
	failures int32
	calls    atomic.Int32
	next     http.RoundTripper
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.calls.Add(1) <= f.failures {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	}
	return f.next.RoundTrip(r)
}

func TestNetworkErrorsRetriedOnlyForIdempotentRequests(t *testing.T) {
	srv := httptest.NewServer(&sequence{statuses: []int{200}})
	t.Cleanup(srv.Close)
	ctx := context.Background()

	getRT := &flaky{failures: 2, next: http.DefaultTransport}
	c := client.New(srv.URL, client.WithHTTPClient(&http.Client{Transport: getRT}))
	if _, err := c.Devices(ctx); err != nil {
		t.Errorf("GET after two network errors: %v, want success", err)
	}
	if n := getRT.calls.Load(); n != 3 {
		t.Errorf("GET sent %d times, want 3", n)
	}

	postRT := &flaky{failures: 1, next: http.DefaultTransport}
	c = client.New(srv.URL, client.WithHTTPClient(&http.Client{Transport: postRT}))
	_, err := c.SendCommand(ctx, "d1", api.CommandRequest{Type: api.CommandErase, Password: "pw"})
	var opErr *net.OpError
	if !client.IsUnavailable(err) || !errors.As(err, &opErr) {
		t.Errorf("POST after a network error: %v, want unavailable wrapping the network error", err)
	}
	if n := postRT.calls.Load(); n != 1 {
		t.Errorf("POST sent %d times, want 1 (it may have been acted on)", n)
	}
}

func TestRetriesStopWhenContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			cancel()
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}), client.WithRetries(10))

	err := within(t, func() error { _, err := c.Account(ctx); return err })
	if !errors.Is(err, context.Canceled) || !client.IsUnavailable(err) {
		t.Fatalf("Account: %v, want unavailable and cancelled", err)
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("service saw %d attempts, want 2 (none after the cancel)", got)
	}
}

func TestInProcessHandler(t *testing.T) {
	type seen struct{ id, auth, remote, host, uri, client, body string }
	var got seen
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/devices/{id}/sync", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.PathValue("id"), r.Header.Get("Authorization"), r.RemoteAddr, r.Host, r.RequestURI,
			r.Header.Get(api.HeaderClientVersion), string(b)}
		var s api.SyncSettings
		if err := json.Unmarshal(b, &s); err != nil {
			writeError(w, http.StatusBadRequest, api.Error{Code: api.CodeInvalidInput, Message: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	mux.HandleFunc("POST /v1/challenges/{id}/verify", func(w http.ResponseWriter, r *http.Request) {
		left := 4
		writeError(w, http.StatusBadRequest, api.Error{Code: api.CodeInvalidCode, Message: "wrong code", AttemptsLeft: &left})
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		panic("broken handler")
	})

	// No base URL: nothing could be dialled, so an answer proves the
	// request never left the process.
	c := client.New("", client.WithHandler(mux), client.WithToken("tok"))
	ctx := context.Background()

	want := api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: []string{"contacts", "gallery"}}
	s, err := c.SetSync(ctx, "dev/1", want)
	if err != nil || !reflect.DeepEqual(s, want) {
		t.Fatalf("SetSync = %+v, %v; want %+v", s, err, want)
	}
	if got.id != "dev/1" || got.auth != "Bearer tok" || got.uri != "/v1/devices/dev%2F1/sync" ||
		got.client != api.Version || got.host == "" || got.remote == "" || !strings.Contains(got.body, `"wifi_only":true`) {
		t.Errorf("handler saw %+v", got)
	}

	_, err = c.Verify(ctx, "ch-1", api.VerifyRequest{Code: "111111"})
	if e := asAPIError(t, err); e.Status != 400 || e.Attempts() != 4 || !errors.Is(err, api.ErrInvalidCode) {
		t.Errorf("Verify in-process: %+v, want invalid_code with 4 attempts left", e)
	}

	if _, err := c.Status(ctx); !client.IsUnavailable(err) || !strings.Contains(err.Error(), "broken handler") {
		t.Errorf("Status from a panicking handler: %v, want unavailable naming the failure", err)
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name       string
		opts       []client.Option
		wantKiosk  string
		wantStore  string
		wantAgent  string
		wantBearer string
	}{
		{"personal device", nil, "", "", "misetup/" + api.Version, ""},
		{"kiosk with a saved token", []client.Option{client.WithKiosk("kiosk-7", "store-42"), client.WithUserAgent("kiosk/2"), client.WithToken("tok\n")},
			"kiosk-7", "store-42", "kiosk/2", "Bearer tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []http.Header
			c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Header.Clone())
				mu.Unlock()
				writeJSON(w, http.StatusOK, map[string]any{})
			}), tt.opts...)
			ctx := context.Background()
			if _, err := c.Status(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Register(ctx, api.RegistrationRequest{Method: api.MethodEmail}); err != nil {
				t.Fatal(err)
			}
			for i, h := range seen {
				if h.Get(api.HeaderKiosk) != tt.wantKiosk || h.Get(api.HeaderStore) != tt.wantStore ||
					h.Get("User-Agent") != tt.wantAgent || h.Get("Authorization") != tt.wantBearer ||
					h.Get(api.HeaderClientVersion) != api.Version || h.Get("Accept") != "application/json" {
					t.Errorf("request %d headers: %v", i, h)
				}
			}
			if got := seen[1].Get("Content-Type"); got != "application/json" {
				t.Errorf("POST Content-Type = %q, want application/json", got)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		call     func(*client.Client) (any, error)
		method   string
		uri      string // as sent, escaped
		body     string // JSON sent, "" for none
		answer   string // JSON answered, "{}" when empty
		want     any    // decoded answer; nil: not checked
		tokenSet string // the client's token after the call; "" not checked
	}{
		{"Status", func(c *client.Client) (any, error) { return c.Status(ctx) },
			"GET", "/v1/status", "", `{"server_time":"2025-03-01T12:00:00Z","version":"1.0.0"}`,
			api.Status{ServerTime: now, Version: "1.0.0"}, ""},
		{"Register", func(c *client.Client) (any, error) {
			return c.Register(ctx, api.RegistrationRequest{Method: "email", Identifier: "ana@example.com", Password: "pw", Region: "CN", Language: "en"})
		}, "POST", "/v1/registrations", `{"method":"email","identifier":"ana@example.com","password":"pw","region":"CN","language":"en"}`,
			`{"id":"ch1","purpose":"registration","channel":"email","destination":"a***@example.com","state":"pending","delivery":{"state":"sent"},"attempts_left":5}`,
			api.Challenge{ID: "ch1", Purpose: "registration", Channel: "email", Destination: "a***@example.com", State: "pending", Delivery: api.Delivery{State: "sent"}, AttemptsLeft: 5}, ""},
		{"Challenge escapes the id", func(c *client.Client) (any, error) { return c.Challenge(ctx, "ch/1?x") },
			"GET", "/v1/challenges/ch%2F1%3Fx", "", "{}", nil, ""},
		{"Resend", func(c *client.Client) (any, error) { return c.Resend(ctx, "ch1") },
			"POST", "/v1/challenges/ch1/resend", "", "{}", nil, ""},
		{"Verify", func(c *client.Client) (any, error) {
			return c.Verify(ctx, "ch1", api.VerifyRequest{Code: "123456", NewPassword: "n3w-Password"})
		}, "POST", "/v1/challenges/ch1/verify", `{"code":"123456","new_password":"n3w-Password"}`,
			`{"account":{"mi_id":"123456789"},"session":{"token":"tok-v"}}`,
			api.VerifyResponse{Account: api.Account{MiID: "123456789"}, Session: &api.Session{Token: "tok-v"}}, "tok-v"},
		{"SignIn", func(c *client.Client) (any, error) {
			return c.SignIn(ctx, api.SessionRequest{Identifier: "123456789", Password: "pw", Device: api.Device{ID: "d1", Name: "Phone"}, TOTP: "654321"})
		}, "POST", "/v1/sessions", `{"identifier":"123456789","password":"pw","device":{"id":"d1","name":"Phone","find_device":false,"current":false},"totp":"654321"}`,
			`{"token":"tok-s","account":{"mi_id":"123456789"},"device":{"id":"d1","current":true}}`,
			api.Session{Token: "tok-s", Account: api.Account{MiID: "123456789"}, Device: api.Device{ID: "d1", Current: true}}, "tok-s"},
		{"SignOut", func(c *client.Client) (any, error) { return nil, c.SignOut(ctx) },
			"DELETE", "/v1/sessions/current", "", "", nil, ""},
		{"RequestPasswordReset", func(c *client.Client) (any, error) {
			return c.RequestPasswordReset(ctx, api.PasswordResetRequest{Identifier: "ana@example.com", Via: "recovery_phone"})
		}, "POST", "/v1/password-resets", `{"identifier":"ana@example.com","via":"recovery_phone"}`, "{}", nil, ""},
		{"Account", func(c *client.Client) (any, error) { return c.Account(ctx) },
			"GET", "/v1/account", "", `{"mi_id":"123456789","recovery_email":"a***@example.com","totp_enabled":true}`,
			api.Account{MiID: "123456789", RecoveryEmail: "a***@example.com", TOTPEnabled: true}, ""},
		{"UpdateAccount", func(c *client.Client) (any, error) {
			name := "Ana"
			return c.UpdateAccount(ctx, api.AccountPatch{DisplayName: &name})
		}, "PATCH", "/v1/account", `{"display_name":"Ana"}`, "{}", nil, ""},
		{"ChangePassword", func(c *client.Client) (any, error) {
			return c.ChangePassword(ctx, api.PasswordChange{CurrentPassword: "old", NewPassword: "new"})
		}, "POST", "/v1/account/password", `{"current_password":"old","new_password":"new"}`, `{"other_sessions_signed_out":2}`,
			api.PasswordChanged{OtherSessionsSignedOut: 2}, ""},
		{"SetRecovery", func(c *client.Client) (any, error) {
			return c.SetRecovery(ctx, api.RecoveryRequest{Phone: "+8613800138000"})
		}, "PUT", "/v1/account/recovery", `{"phone":"+8613800138000"}`, "{}", nil, ""},
		{"StartTOTP", func(c *client.Client) (any, error) { return c.StartTOTP(ctx) },
			"POST", "/v1/account/totp", "", `{"secret":"ABC","otpauth_uri":"otpauth://totp/x"}`,
			api.TOTPSetup{Secret: "ABC", OTPAuthURI: "otpauth://totp/x"}, ""},
		{"ConfirmTOTP", func(c *client.Client) (any, error) { return c.ConfirmTOTP(ctx, "123456") },
			"POST", "/v1/account/totp/confirm", `{"code":"123456"}`, `{"recovery_codes":["a","b"]}`,
			api.RecoveryCodes{RecoveryCodes: []string{"a", "b"}}, ""},
		{"DisableTOTP", func(c *client.Client) (any, error) { return nil, c.DisableTOTP(ctx, "pw") },
			"DELETE", "/v1/account/totp", `{"password":"pw"}`, "", nil, ""},
		{"Devices", func(c *client.Client) (any, error) { return c.Devices(ctx) },
			"GET", "/v1/devices", "", `{"devices":[{"id":"d1","name":"Phone","find_device":true,"current":true}]}`,
			[]api.Device{{ID: "d1", Name: "Phone", FindDevice: true, Current: true}}, ""},
		{"RenameDevice", func(c *client.Client) (any, error) { return c.RenameDevice(ctx, "d1", "Tablet") },
			"PATCH", "/v1/devices/d1", `{"name":"Tablet"}`, `{"id":"d1","name":"Tablet"}`,
			api.Device{ID: "d1", Name: "Tablet"}, ""},
		{"RemoveDevice", func(c *client.Client) (any, error) { return nil, c.RemoveDevice(ctx, "../account") },
			"DELETE", "/v1/devices/..%2Faccount", "", "", nil, ""},
		{"Sync", func(c *client.Client) (any, error) { return c.Sync(ctx, "d 1") },
			"GET", "/v1/devices/d%201/sync", "", `{"auto_sync":true,"wifi_only":false,"categories":["notes"]}`,
			api.SyncSettings{AutoSync: true, Categories: []string{"notes"}}, ""},
		{"SetSync", func(c *client.Client) (any, error) {
			return c.SetSync(ctx, "d1", api.SyncSettings{AutoSync: true, WifiOnly: true, Categories: []string{"contacts"}})
		}, "PUT", "/v1/devices/d1/sync", `{"auto_sync":true,"wifi_only":true,"categories":["contacts"]}`, "{}", nil, ""},
		{"FindDevice", func(c *client.Client) (any, error) { return c.FindDevice(ctx, "d1") },
			"GET", "/v1/devices/d1/find-device", "", `{"enabled":true,"last_location":{"lat":1.5,"lon":2.5,"reported_at":"2025-03-01T12:00:00Z"}}`,
			api.FindDevice{Enabled: true, LastLocation: &api.Location{Lat: 1.5, Lon: 2.5, ReportedAt: now}}, ""},
		{"SetFindDevice", func(c *client.Client) (any, error) { return c.SetFindDevice(ctx, "d1", false) },
			"PUT", "/v1/devices/d1/find-device", `{"enabled":false}`, "{}", nil, ""},
		{"SendCommand", func(c *client.Client) (any, error) {
			return c.SendCommand(ctx, "d1", api.CommandRequest{Type: "lock", Message: "found? call me", Password: "pw"})
		}, "POST", "/v1/devices/d1/commands", `{"type":"lock","message":"found? call me","password":"pw"}`,
			`{"id":"c1","device_id":"d1","type":"lock","state":"pending"}`,
			api.Command{ID: "c1", DeviceID: "d1", Type: "lock", State: "pending"}, ""},
		{"PendingCommands", func(c *client.Client) (any, error) { return c.PendingCommands(ctx, "d1") },
			"GET", "/v1/devices/d1/commands?state=pending", "", `{"commands":[{"id":"c1","type":"ring","state":"delivered"}]}`,
			[]api.Command{{ID: "c1", Type: "ring", State: "delivered"}}, ""},
		{"WaitCommands", func(c *client.Client) (any, error) { return c.WaitCommands(ctx, "d1", 25*time.Second) },
			"GET", "/v1/devices/d1/commands?state=pending&wait=25", "", `{"commands":[{"id":"c1","type":"ring","state":"delivered"}]}`,
			[]api.Command{{ID: "c1", Type: "ring", State: "delivered"}}, ""},
		{"Commands", func(c *client.Client) (any, error) { return c.Commands(ctx, "d1", "delivered") },
			"GET", "/v1/devices/d1/commands?state=delivered", "", `{"commands":[]}`, []api.Command{}, ""},
		{"Command", func(c *client.Client) (any, error) { return c.Command(ctx, "d1", "c/1") },
			"GET", "/v1/devices/d1/commands/c%2F1", "", `{"id":"c/1","type":"ring","state":"done","result":"rang"}`,
			api.Command{ID: "c/1", Type: "ring", State: "done", Result: "rang"}, ""},
		{"AckCommand", func(c *client.Client) (any, error) {
			return c.AckCommand(ctx, "d1", "c/1", api.CommandAck{State: "done", Result: "rang"})
		}, "POST", "/v1/devices/d1/commands/c%2F1/ack", `{"state":"done","result":"rang"}`, "{}", nil, ""},
		{"Storage", func(c *client.Client) (any, error) { return c.Storage(ctx) },
			"GET", "/v1/storage", "", `{"quota_bytes":5368709120,"used_bytes":1024,"by_category":{"gallery":1024}}`,
			api.Storage{QuotaBytes: 5 << 30, UsedBytes: 1024, ByCategory: map[string]int64{"gallery": 1024}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var method, uri, body, contentType string
			c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				method, uri, body, contentType = r.Method, r.RequestURI, string(b), r.Header.Get("Content-Type")
				if tt.answer == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				_, _ = io.WriteString(w, tt.answer)
			}), client.WithToken("tok-0"))

			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if method != tt.method || uri != tt.uri {
				t.Errorf("sent %s %s, want %s %s", method, uri, tt.method, tt.uri)
			}
			if !sameJSON(t, body, tt.body) {
				t.Errorf("sent body %s, want %s", body, tt.body)
			}
			if (tt.body != "") != (contentType == "application/json") {
				t.Errorf("Content-Type %q with body %q", contentType, body)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("answer = %+v\nwant     %+v", got, tt.want)
			}
			if tt.tokenSet != "" && c.Token() != tt.tokenSet {
				t.Errorf("token after the call = %q, want %q", c.Token(), tt.tokenSet)
			}
		})
	}
}

// sameJSON reports whether two JSON texts hold the same value ("" is none).
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	if a == "" || b == "" {
		return a == b
	}
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatalf("sent body %q is not JSON: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("want %q is not JSON: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestConcurrentUse(t *testing.T) {
	var issued atomic.Int32
	var bad atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusCreated, api.Session{Token: fmt.Sprintf("tok-%d", issued.Add(1))})
	})
	mux.HandleFunc("GET /v1/account", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" && !strings.HasPrefix(a, "Bearer tok-") {
			bad.Add(1)
		}
		writeJSON(w, http.StatusOK, api.Account{MiID: "1"})
	})
	c, _ := serve(t, mux)
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			for j := range 4 {
				switch (i + j) % 3 {
				case 0:
					if _, err := c.SignIn(ctx, api.SessionRequest{Identifier: "x", Password: "y"}); err != nil {
						errs <- err
					}
				case 1:
					c.SetToken(fmt.Sprintf("tok-set-%d", i))
				default:
					if _, err := c.Account(ctx); err != nil {
						errs <- err
					}
				}
				_ = c.Token()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("%d requests carried a malformed Authorization header", n)
	}
	if !strings.HasPrefix(c.Token(), "tok-") {
		t.Errorf("final token %q is none of those set", c.Token())
	}
}

// FuzzAnswer feeds arbitrary answers to the client: it must return an
// *api.Error or a decoded value, never panic.
func FuzzAnswer(f *testing.F) {
	f.Add(200, []byte(`{"devices":[{"id":"d1"}]}`))
	f.Add(400, []byte(`{"error":{"code":"invalid_code","attempts_left":-3}}`))
	f.Add(429, []byte(`{"error":{"code":"rate_limited","retry_after_s":1e99}}`))
	f.Add(200, []byte(`{"devices":null}`))
	f.Add(503, []byte("\xff\xfe"))
	f.Add(204, []byte(nil))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 200 + (max(status, -status)%400+400)%400 // 200..599
		c := client.New("", client.WithRetries(0), client.WithHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write(body)
		})))
		_, err := c.Devices(context.Background())
		if status >= 300 && err == nil {
			t.Fatalf("status %d answered nil error", status)
		}
		if err != nil {
			var e *api.Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("status %d: error %v (%T) is not an *api.Error with a code", status, err, err)
			}
		}
	})
}

func BenchmarkStatus(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Status{Version: api.Version})
	})
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	for _, bc := range []struct {
		name string
		c    *client.Client
	}{
		{"in-process", client.New("", client.WithHandler(h))},
		{"loopback", client.New(srv.URL)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, err := bc.c.Status(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A long poll's wait is not a timeout: WaitCommands allows the wait plus
// the client's timeout, even when that timeout is shorter than the wait.
func TestWaitCommandsOutlastsTheTimeout(t *testing.T) {
	c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1500 * time.Millisecond) // the service waits for a command
		_, _ = io.WriteString(w, `{"commands":[]}`)
	}), client.WithToken("tok"), client.WithTimeout(500*time.Millisecond))
	if _, err := c.WaitCommands(context.Background(), "d1", 2*time.Second); err != nil {
		t.Fatalf("a 2 s long poll answered after 1.5 s failed: %v", err)
	}
	if _, err := c.PendingCommands(context.Background(), "d1"); err == nil {
		t.Fatal("an ordinary call outlived the 500 ms timeout")
	}
}

// TestWithAnotherToken: a copy with another token calls with it, and the
// original keeps its own.
func TestWithAnotherToken(t *testing.T) {
	var got []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization")+" "+r.Header.Get(api.HeaderKiosk))
		w.WriteHeader(http.StatusNoContent)
	})
	c := client.New("", client.WithHandler(h), client.WithToken("next"), client.WithKiosk("k-1", "s-1"))
	if err := c.With(client.WithToken("last")).SignOut(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.SignOut(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "Bearer last k-1" || got[1] != "Bearer next k-1" {
		t.Errorf("requests %q", got)
	}
}
