package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"misetup/server/courier"
	"misetup/server/promtext"
)

// Metrics are the service's counters for operators, in Prometheus text at
// GET /metrics (see Opening): requests by route and status, sign-ins by
// outcome, codes handed to the courier by channel and delivery state, the
// SSH wizard's sessions and the kiosks' resets, and the Go runtime's and
// the process's figures (package promtext writes them). Each Metrics has its
// own registry, so several servers in one process (tests) do not collide.
//
// The hot path pays for a few map lookups of label values and atomic
// adds: no allocation per request beyond the status recorder.
type Metrics struct {
	reg promtext.Registry

	requests *promtext.CounterVec   // route, code
	duration *promtext.HistogramVec // route
	signIns  *promtext.CounterVec   // outcome
	codes    *promtext.CounterVec   // channel, state

	// SSHSessions is the number of SSH wizard sessions open now (misetup
	// serve --ssh sets it).
	SSHSessions *promtext.Gauge
	// SSHRefused counts SSH sessions refused, by reason (busy, no_pty,
	// exec, agent, key, draining).
	SSHRefused *promtext.CounterVec
	// KioskResets counts kiosk resets by cause (idle, done, staff). Kiosk
	// mode increments it; registered here so that a scrape shows it at 0
	// before the first reset.
	KioskResets *promtext.CounterVec
}

// NewMetrics returns a fresh set of metrics on a registry of their own,
// with the Go runtime's and the process's.
func NewMetrics() *Metrics {
	m := &Metrics{}
	r := &m.reg
	m.requests = r.CounterVec("misetup_http_requests_total",
		"Requests of the account API answered, by route pattern and HTTP status.", "route", "code")
	m.duration = r.HistogramVec("misetup_http_request_duration_seconds",
		"Time to answer a request of the account API, by route pattern.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "route")
	m.signIns = r.CounterVec("misetup_sign_ins_total",
		"Sign-ins (POST /v1/sessions) by outcome: success, or the error code answered.", "outcome")
	m.codes = r.CounterVec("misetup_codes_sent_total",
		"Verification codes handed to the courier (state queued), and their deliveries by outcome (sent, failed), by channel.", "channel", "state")
	m.SSHSessions = r.Gauge("misetup_ssh_sessions", "SSH wizard sessions open now.")
	m.SSHRefused = r.CounterVec("misetup_ssh_sessions_refused_total", "SSH sessions refused, by reason.", "reason")
	m.KioskResets = r.CounterVec("misetup_kiosk_resets_total", "Kiosk resets by cause: idle, done, staff.", "cause")
	r.AddRuntime()
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

// WriteText writes the metrics in Prometheus text format.
func (m *Metrics) WriteText(w io.Writer) error { return m.reg.WriteText(w) }

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if r.Method == http.MethodHead {
			return
		}
		_ = m.WriteText(w)
	})
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
