package server

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// readyTimeout bounds the store's ping of GET /readyz.
const readyTimeout = 2 * time.Second

// Ready reports whether the service can serve: its store answers a ping.
func (s *Server) Ready(ctx context.Context) error {
	return s.st.Ping(ctx)
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.cfg.Metrics }

// serveOps answers the operators' endpoints, and reports whether r was
// one of them:
//
//   - GET /healthz: 200 "ok" while the process runs (even while the store
//     opens);
//   - GET /readyz: 200 "ready" when the store is open and answers a ping
//     within 2 s, 503 with the reason otherwise (a load balancer sends
//     customers elsewhere), also once the server drains (Drain);
//   - GET /metrics: the metrics in Prometheus text format.
//
// They are plain text, not the API's JSON, as the tools that read them
// expect.
func (o *Opening) serveOps(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
	default:
		return false
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	switch r.URL.Path {
	case "/healthz":
		h.Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	case "/readyz":
		if err := o.readiness(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return true
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ready\n"))
	case "/metrics":
		o.cfg.Metrics.Handler().ServeHTTP(w, r)
	}
	return true
}

// readiness is nil when the service is open and its store answers.
func (o *Opening) readiness(ctx context.Context) error {
	if o.draining.Load() {
		return errors.New("this server is stopping")
	}
	select {
	case <-o.ready:
	default:
		return errors.New("the store is still opening")
	}
	if o.err != nil {
		return errors.New("the store could not be opened")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := o.srv.Ready(ctx); err != nil {
		o.log.Warn("readyz: store unreachable", "err", err)
		return errors.New("the store does not answer")
	}
	return nil
}
