package promtext

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// testMetrics are a registry with one family of each kind, and the
// runtime's.
type testMetrics struct {
	reg      Registry
	requests *CounterVec
	duration *HistogramVec
	refused  *CounterVec
	sessions *Gauge
}

func newTestMetrics() *testMetrics {
	m := &testMetrics{}
	r := &m.reg
	m.requests = r.CounterVec("test_requests_total", "Requests answered, by route and status.", "route", "code")
	m.duration = r.HistogramVec("test_request_duration_seconds", "Time to answer a request, by route.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "route")
	m.refused = r.CounterVec("test_refused_total", "Sessions refused, by reason.", "reason")
	m.sessions = r.Gauge("test_sessions", "Sessions open now.")
	r.AddRuntime()
	return m
}

func (m *testMetrics) WriteText(w *strings.Builder) error { return m.reg.WriteText(w) }

// TestTextIsPrometheus: what a Registry writes is read back by
// Prometheus's own text parser, as the samples counted, and passes
// client_golang's linter (names, units, help); label values are escaped
// and histogram buckets are cumulative up to +Inf.
func TestTextIsPrometheus(t *testing.T) {
	m := newTestMetrics()
	m.requests.WithLabelValues("GET /v1/x", "200").Inc()
	m.requests.WithLabelValues("GET /v1/x", "200").Inc()
	m.refused.WithLabelValues("a \"quoted\"\\back\nslash").Inc()
	m.sessions.Inc()
	m.sessions.Inc()
	m.sessions.Dec()
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
	if got := one("test_requests_total").GetCounter().GetValue(); got != 2 {
		t.Errorf("requests: %v, want 2", got)
	}
	if got := one("test_sessions").GetGauge().GetValue(); got != 1 {
		t.Errorf("ssh sessions: %v, want 1", got)
	}
	var refused string
	for _, mt := range mfs["test_refused_total"].GetMetric() {
		refused = mt.GetLabel()[0].GetValue()
	}
	if refused != "a \"quoted\"\\back\nslash" {
		t.Errorf("label value read back as %q", refused)
	}
	h := one("test_request_duration_seconds").GetHistogram()
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

// TestConcurrent: counters and histograms counted from many
// goroutines at once lose nothing.
func TestConcurrent(t *testing.T) {
	m := newTestMetrics()
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
		`test_requests_total{code="200",route="GET /v1/x"} 4000`,
		`test_requests_total{code="201",route="GET /v1/x"} 4000`,
		`test_request_duration_seconds_sum{route="GET /v1/x"} 4000`,
		`test_request_duration_seconds_count{route="GET /v1/x"} 8000`,
	} {
		if !strings.Contains(buf.String(), want+"\n") {
			t.Errorf("lacks %q", want)
		}
	}
}
