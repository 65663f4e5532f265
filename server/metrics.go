package server

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"misetup/server/courier"
)

// Metrics are the service's counters for operators, in Prometheus text at
// GET /metrics (see Opening): requests by route and status, sign-ins by
// outcome, codes handed to the courier by channel and delivery state, the
// SSH wizard's sessions and the kiosks' resets. Each Metrics has its own
// registry, so several servers in one process (tests) do not collide.
//
// The hot path pays for a few map lookups of label values and atomic
// adds: no allocation per request beyond the status recorder.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec   // route, code
	duration *prometheus.HistogramVec // route
	signIns  *prometheus.CounterVec   // outcome
	codes    *prometheus.CounterVec   // channel, state

	// SSHSessions is the number of SSH wizard sessions open now (misetup
	// serve --ssh sets it).
	SSHSessions prometheus.Gauge
	// SSHRefused counts SSH sessions refused, by reason (busy, no_pty,
	// exec, agent, key, draining).
	SSHRefused *prometheus.CounterVec
	// KioskResets counts kiosk resets by cause (idle, done, staff). Kiosk
	// mode increments it; registered here so that a scrape shows it at 0
	// before the first reset.
	KioskResets *prometheus.CounterVec
}

// NewMetrics returns a fresh set of metrics on a registry of their own,
// with the Go runtime's and the process's collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "misetup_http_requests_total",
			Help: "Requests of the account API answered, by route pattern and HTTP status.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "misetup_http_request_duration_seconds",
			Help:    "Time to answer a request of the account API, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "misetup_sign_ins_total",
			Help: "Sign-ins (POST /v1/sessions) by outcome: success, or the error code answered.",
		}, []string{"outcome"}),
		codes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "misetup_codes_sent_total",
			Help: "Verification codes handed to the courier (state queued), and their deliveries by outcome (sent, failed), by channel.",
		}, []string{"channel", "state"}),
		SSHSessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "misetup_ssh_sessions",
			Help: "SSH wizard sessions open now.",
		}),
		SSHRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "misetup_ssh_sessions_refused_total",
			Help: "SSH sessions refused, by reason.",
		}, []string{"reason"}),
		KioskResets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "misetup_kiosk_resets_total",
			Help: "Kiosk resets by cause: idle, done, staff.",
		}, []string{"cause"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.signIns, m.codes, m.SSHSessions, m.SSHRefused, m.KioskResets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range []string{"idle", "done", "staff"} {
		m.KioskResets.WithLabelValues(c)
	}
	for _, ch := range []string{courier.ChannelEmail, courier.ChannelSMS} {
		for _, st := range []string{"queued", "sent", "failed"} {
			m.codes.WithLabelValues(ch, st)
		}
	}
	m.signIns.WithLabelValues("success")
	return m
}

// Registry is where the metrics are registered; add a collector of your
// own to it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// signInPattern is the route of sign-ins, whose outcomes are counted.
const signInPattern = "POST /v1/sessions"

// begin starts observing one request: it returns the writer the request is
// to be answered through, and the func that records the answer once the
// handler returned (r.Pattern, set by the mux on r itself, then names the
// route).
func (m *Metrics) begin(w http.ResponseWriter) (*statusRecorder, func(r *http.Request)) {
	rec := &statusRecorder{ResponseWriter: w}
	start := time.Now()
	return rec, func(r *http.Request) {
		route := r.Pattern
		if route == "" {
			route = "unmatched" // 404, 405, a refused client version: no label per path
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		if route == signInPattern {
			outcome := rec.errCode
			switch {
			case status == http.StatusCreated:
				outcome = "success"
			case outcome == "":
				outcome = strconv.Itoa(status)
			}
			m.signIns.WithLabelValues(outcome).Inc()
		}
	}
}

// countingCourier counts the codes handed to c and their outcomes.
type countingCourier struct {
	c courier.Courier
	m *Metrics
}

// Send implements courier.Courier.
func (cc countingCourier) Send(ctx context.Context, msg courier.Message) error {
	cc.m.codes.WithLabelValues(msg.Channel, "queued").Inc()
	err := cc.c.Send(ctx, msg)
	state := "sent"
	if err != nil {
		state = "failed"
	}
	cc.m.codes.WithLabelValues(msg.Channel, state).Inc()
	return err
}

// statusRecorder remembers the status a handler answered and the error code
// writeError wrote (noteErrorCode).
type statusRecorder struct {
	http.ResponseWriter
	status  int
	errCode string
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the long poll
// moves its deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush implements http.Flusher when the writer underneath does.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker when the writer underneath does.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// noteErrorCode tells the request's recorder which error code it answers.
func noteErrorCode(w http.ResponseWriter, code string) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.errCode = code
	}
}
