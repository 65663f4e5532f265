package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOpeningAnswersAtOnce: a service still opening answers GET
// /v1/status at once, holds other requests until its Server is there and
// then serves them; when opening fails they are answered 503.
func TestOpeningAnswersAtOnce(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name  string
		open  func(o *Opening)
		want  int
		wants string
	}{
		{"opens", func(o *Opening) { o.Open(e.srv, nil) }, http.StatusUnauthorized, `"unauthorized"`},
		{"fails", func(o *Opening) { o.Open(nil, errors.New("disk on fire")) }, http.StatusServiceUnavailable, `"unavailable"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOpening(e.srv.cfg)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- o.Serve(ctx, ln) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			base := "http://" + ln.Addr().String()

			resp, err := http.Get(base + "/v1/status")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("status while opening: %v %v", resp, err)
			}
			opening, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			answered := make(chan *http.Response, 1)
			go func() {
				resp, err := http.Get(base + "/v1/account")
				if err != nil {
					t.Error(err)
				}
				answered <- resp
			}()
			select {
			case <-answered:
				t.Fatal("a request that needs the store was answered before the store opened")
			case <-time.After(100 * time.Millisecond):
			}
			tt.open(o)
			resp = <-answered
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wants) {
				t.Errorf("after opening: %d %s, want %d %s", resp.StatusCode, body, tt.want, tt.wants)
			}
			if tt.want == http.StatusUnauthorized { // opened: the Server answers the status the same
				resp, err := http.Get(base + "/v1/status")
				if err != nil {
					t.Fatal(err)
				}
				opened, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(opened) != string(opening) {
					t.Errorf("status opened:\n%s\nwhile opening:\n%s", opened, opening)
				}
			}
		})
	}
}
