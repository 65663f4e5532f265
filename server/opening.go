package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"misetup/api"
)

// Opening is the account service while it opens (its store, its courier):
// it listens and answers from the first instant. GET /v1/status is
// answered at once, as it needs no store; every other request waits until
// Open hands over the Server, then is served by it, or is answered 503
// unavailable when opening failed. A starting process thus answers as soon
// as it listens, and the first opening of a store (SQLite's first open
// costs tens of milliseconds; a PostgreSQL connection more) does not delay
// it.
type Opening struct {
	cfg   Config
	log   *slog.Logger
	ready chan struct{}

	once     sync.Once
	srv      *Server
	err      error
	draining atomic.Bool

	// portal serves every path outside /v1 and the operators' endpoints
	// (the web portal); nil answers them as the API's 404.
	portal http.Handler
}

// NewOpening returns an opening service that answers with cfg's versions
// until Open is called.
func NewOpening(cfg Config) *Opening {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics() // give the Server opened the same (Config.Metrics)
	}
	return &Opening{cfg: cfg, log: cfg.Logger, ready: make(chan struct{})}
}

// Open hands over the opened Server, or the error that kept it from
// opening; the requests waiting go on. Only the first call counts.
func (o *Opening) Open(srv *Server, err error) {
	o.once.Do(func() {
		if srv == nil && err == nil {
			err = errors.New("no server")
		}
		o.srv, o.err = srv, err
		close(o.ready)
	})
}

// SetPortal serves h at every path outside /v1/ and the operators'
// endpoints: the web portal, which calls the API through the Opening
// itself. Call it before serving.
func (o *Opening) SetPortal(h http.Handler) { o.portal = h }

// Drain marks the service as stopping: from now on GET /readyz answers
// 503, so a load balancer sends new customers to another server while the
// requests of those here (an SSH drain's sign-outs) are still served.
func (o *Opening) Drain() { o.draining.Store(true) }

// ServeHTTP implements http.Handler.
func (o *Opening) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o.serveOps(w, r) { // /healthz, /readyz, /metrics: health.go
		return
	}
	if o.portal != nil && r.URL.Path != "/v1" && !strings.HasPrefix(r.URL.Path, "/v1/") {
		o.portal.ServeHTTP(w, r)
		return
	}
	select {
	case <-o.ready:
	default:
		if r.Method == http.MethodGet && r.URL.Path == "/v1/status" {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			body := append(statusJSON(statusAt(o.cfg, o.cfg.Now())), '\n') // as writeJSON ends it
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
			return
		}
		select {
		case <-o.ready:
		case <-r.Context().Done():
			return
		}
	}
	if o.err != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, api.ErrorBody{Error: &api.Error{
			Code: api.CodeUnavailable, Message: "The account service could not open its store; its operator has been told.",
		}})
		return
	}
	o.srv.ServeHTTP(w, r)
}

// Serve serves on ln from now on, as Server.Serve does, until ctx is done;
// then it shuts down gracefully, waiting for the Server's deliveries when
// it had opened.
func (o *Opening) Serve(ctx context.Context, ln net.Listener) error {
	stopWaiting := func() {
		select {
		case <-o.ready:
			if o.srv != nil {
				o.srv.stopWaiting()
			}
		default:
		}
	}
	return serve(ctx, ln, o, o.cfg, o.log, stopWaiting, func(ctx context.Context) error {
		select {
		case <-o.ready:
		default:
			return nil // never opened: nothing in flight
		}
		if o.srv == nil {
			return nil
		}
		return o.srv.Close(ctx)
	})
}
