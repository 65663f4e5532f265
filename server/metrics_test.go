package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// scrape answers GET path through h and returns the status and body.
func scrape(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// TestMetricsCount: requests by route and status, sign-ins by outcome and
// codes by channel and state show in GET /metrics after the requests.
func TestMetricsCount(t *testing.T) {
	e := newEnv(t)
	o := NewOpening(e.srv.cfg) // the same Metrics as the Server
	o.Open(e.srv, nil)

	e.signUp("ana@example.com", "phone")
	e.settle()
	if r := e.signIn("ana@example.com", "wrong password 1!", "laptop"); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.status)
	}
	if r := e.signIn("ana@example.com", testPassword, "laptop"); r.status != http.StatusCreated {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	e.do("GET", "/v1/no-such-thing", nil)

	code, text := scrape(t, o, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`misetup_http_requests_total{code="202",route="POST /v1/registrations"} 1`,
		`misetup_http_requests_total{code="201",route="POST /v1/sessions"} 1`,
		`misetup_http_requests_total{code="401",route="POST /v1/sessions"} 1`,
		`misetup_http_requests_total{code="404",route="unmatched"} 1`,
		`misetup_sign_ins_total{outcome="success"} 1`,
		`misetup_sign_ins_total{outcome="invalid_credentials"} 1`,
		`misetup_codes_sent_total{channel="email",state="queued"} 1`,
		`misetup_codes_sent_total{channel="email",state="sent"} 1`,
		`misetup_codes_sent_total{channel="email",state="failed"} 0`,
		`misetup_kiosk_resets_total{cause="idle"} 0`,
		`misetup_ssh_sessions 0`,
		`misetup_http_request_duration_seconds_count{route="POST /v1/sessions"} 2`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(text, want+"\n") && !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}

// TestHealthAndReadiness: /healthz answers while the store opens; /readyz
// answers 503 until it is open, 200 then, and 503 again once the store
// stops answering or the server drains.
func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	o := NewOpening(e.srv.cfg)
	if code, body := scrape(t, o, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz while opening: %d %q", code, body)
	}
	if code, body := scrape(t, o, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "opening") {
		t.Errorf("readyz while opening: %d %q", code, body)
	}
	o.Open(e.srv, nil)
	if code, body := scrape(t, o, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("readyz open: %d %q", code, body)
	}
	draining := NewOpening(e.srv.cfg)
	draining.Open(e.srv, nil)
	draining.Drain()
	if code, body := scrape(t, draining, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "stopping") {
		t.Errorf("readyz while draining: %d %q", code, body)
	}
	if code, _ := scrape(t, draining, "/healthz"); code != http.StatusOK {
		t.Errorf("healthz while draining: %d", code)
	}
	w := httptest.NewRecorder()
	o.ServeHTTP(w, httptest.NewRequest("POST", "/healthz", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d", w.Code)
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	if code, body := scrape(t, o, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "does not answer") {
		t.Errorf("readyz with the store closed: %d %q", code, body)
	}
	if err := e.srv.Ready(context.Background()); err == nil {
		t.Error("Ready with the store closed: nil")
	}

	failed := NewOpening(e.srv.cfg)
	failed.Open(nil, io.ErrUnexpectedEOF)
	if code, _ := scrape(t, failed, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz after a failed open: %d", code)
	}
}

// BenchmarkMetricsObserve is what the metrics add to one request: the
// status recorder, the route's counter and histogram (and, on sign-in,
// its outcome).
func BenchmarkMetricsObserve(b *testing.B) {
	m := NewMetrics()
	r := httptest.NewRequest("POST", "/v1/sessions", nil)
	r.Pattern = signInPattern
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		rec, observe := m.begin(w)
		rec.WriteHeader(http.StatusCreated)
		observe(r)
	}
}

// TestMetricsLint: the service's metrics pass client_golang's linter
// (names, units, help), as a Prometheus server's operator expects.
func TestMetricsLint(t *testing.T) {
	m := NewMetrics()
	var buf strings.Builder
	if err := m.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.New(strings.NewReader(buf.String())).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
