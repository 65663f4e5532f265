package client

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// inProcessRemoteAddr is the client address the handler sees for an
// in-process request: the same machine.
const inProcessRemoteAddr = "127.0.0.1:0"

// handlerTransport is an http.RoundTripper that serves requests by calling
// an http.Handler in-process, with no socket, so the embedded service goes
// through the same client code (headers, errors, timeouts) as a remote one.
type handlerTransport struct {
	h http.Handler
}

// RoundTrip implements http.RoundTripper. The handler runs on its own
// goroutine so that the request's context bounds the wait even when the
// handler does not watch it; a handler left running after that finishes on
// its own, writing into a recorder nobody reads.
func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeBody(req)
		return nil, err
	}

	sreq := serverRequest(req)
	rec := newRecorder()
	done := make(chan error, 1)
	go func() {
		done <- serve(t.h, rec, sreq)
		closeBody(req)
	}()

	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
		return rec.response(req), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// serve calls the handler and turns a panic into an error, as net/http's
// server does by closing the connection, instead of crashing the program.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("in-process handler failed: %v", p)
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// serverRequest makes the request a handler expects from net/http's server
// out of a client request: a relative URL, RequestURI, Host and RemoteAddr.
func serverRequest(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	r.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	r.RequestURI = req.URL.RequestURI()
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	r.RemoteAddr = inProcessRemoteAddr
	if r.Body == nil {
		r.Body = http.NoBody
	}
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// recorder is the http.ResponseWriter of an in-process request. Like a real
// connection it sends the headers as they were at WriteHeader, and it keeps
// at most one byte more than the client will read.
type recorder struct {
	header http.Header
	sent   http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder {
	return &recorder{header: make(http.Header)}
}

// Header implements http.ResponseWriter.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader implements http.ResponseWriter. Informational (1xx) statuses
// are not the answer and are skipped; later calls are ignored.
func (r *recorder) WriteHeader(status int) {
	if r.status != 0 || (status >= 100 && status < 200) {
		return
	}
	r.status = status
	r.sent = r.header.Clone()
}

// Write implements http.ResponseWriter.
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if room := maxAnswerBytes + 1 - r.body.Len(); room > 0 {
		r.body.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Flush implements http.Flusher; everything is delivered at the end anyway.
func (r *recorder) Flush() {}

// response is what the client receives once the handler has returned.
func (r *recorder) response(req *http.Request) *http.Response {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return &http.Response{
		Status:        strconv.Itoa(r.status) + " " + http.StatusText(r.status),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.sent,
		Body:          io.NopCloser(bytes.NewReader(r.body.Bytes())),
		ContentLength: int64(r.body.Len()),
		Request:       req,
	}
}
