package server

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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

// TestMetricsTextIsPrometheus: what GET /metrics writes is read back by
// Prometheus's own text parser, as the samples counted, and passes
// client_golang's linter (names, units, help); label values are escaped
// and histogram buckets are cumulative up to +Inf.
func TestMetricsTextIsPrometheus(t *testing.T) {
	m := NewMetrics()
	m.requests.WithLabelValues("GET /v1/x", "200").Inc()
	m.requests.WithLabelValues("GET /v1/x", "200").Inc()
	m.SSHRefused.WithLabelValues("a \"quoted\"\\back\nslash").Inc()
	m.SSHSessions.Inc()
	m.SSHSessions.Inc()
	m.SSHSessions.Dec()
	for _, v := range []float64{0.001, 0.02, 0.02, 7, 100} {
		m.duration.WithLabelValues("GET /v1/x").Observe(v)
	}
	var buf strings.Builder
	if err := m.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()

	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus's parser: %v\n%s", err, text)
	}
	one := func(name string) *dto.Metric {
		t.Helper()
		mf := mfs[name]
		if mf == nil || len(mf.GetMetric()) == 0 {
			t.Fatalf("no family %s", name)
		}
		return mf.GetMetric()[0]
	}
	if got := one("misetup_http_requests_total").GetCounter().GetValue(); got != 2 {
		t.Errorf("requests: %v, want 2", got)
	}
	if got := one("misetup_ssh_sessions").GetGauge().GetValue(); got != 1 {
		t.Errorf("ssh sessions: %v, want 1", got)
	}
	var refused string
	for _, mt := range mfs["misetup_ssh_sessions_refused_total"].GetMetric() {
		refused = mt.GetLabel()[0].GetValue()
	}
	if refused != "a \"quoted\"\\back\nslash" {
		t.Errorf("label value read back as %q", refused)
	}
	h := one("misetup_http_request_duration_seconds").GetHistogram()
	if h.GetSampleCount() != 5 || math.Abs(h.GetSampleSum()-107.041) > 1e-9 {
		t.Errorf("histogram count %d sum %v, want 5 and 107.041", h.GetSampleCount(), h.GetSampleSum())
	}
	cum := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		cum[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	for le, want := range map[float64]uint64{0.005: 1, 0.025: 3, 5: 3, 10: 4, 30: 4} {
		if cum[le] != want {
			t.Errorf("bucket le=%v: %d, want %d", le, cum[le], want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_info", "process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total"} {
		if mfs[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	if v := one("process_resident_memory_bytes").GetGauge().GetValue(); v < 1<<20 {
		t.Errorf("resident memory %v bytes", v)
	}

	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// TestMetricsConcurrent: counters and histograms counted from many
// goroutines at once lose nothing.
func TestMetricsConcurrent(t *testing.T) {
	m := NewMetrics()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 1000 {
				m.requests.WithLabelValues("GET /v1/x", strconv.Itoa(200+i%2)).Inc()
				m.duration.WithLabelValues("GET /v1/x").Observe(0.5)
			}
		})
	}
	wg.Wait()
	var buf strings.Builder
	_ = m.WriteText(&buf)
	for _, want := range []string{
		`misetup_http_requests_total{code="200",route="GET /v1/x"} 4000`,
		`misetup_http_requests_total{code="201",route="GET /v1/x"} 4000`,
		`misetup_http_request_duration_seconds_sum{route="GET /v1/x"} 4000`,
		`misetup_http_request_duration_seconds_count{route="GET /v1/x"} 8000`,
	} {
		if !strings.Contains(buf.String(), want+"\n") {
			t.Errorf("lacks %q", want)
		}
	}
}
