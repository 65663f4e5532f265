package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveOn runs the env's server behind Serve on a loopback listener, as
// `misetup serve` does, and returns its address.
func serveOn(t *testing.T, e *env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// keepAlive opens a connection, asks GET /v1/status on it and leaves it
// open and idle.
func keepAlive(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if status := ask(t, c); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	return c
}

// ask sends GET /v1/status on c and returns the answer's status.
func ask(t *testing.T, c net.Conn) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// closed reports whether the server has closed c.
func closed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF || err != nil && !strings.Contains(err.Error(), "timeout")
}

// TestIdleConnectionsMakeRoom: at the bound of one address, the connection
// idle the longest is closed for a new one; the new one is served.
func TestIdleConnectionsMakeRoom(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxConns, c.MaxConnsPerAddr = 100, 4 })
	addr := serveOn(t, e)
	var conns []net.Conn
	for range 4 {
		conns = append(conns, keepAlive(t, addr))
		// The server records a connection idle just after it answered
		// (its ConnState hook), which a loaded machine may run after the
		// next connection's: a moment between them keeps their order.
		time.Sleep(50 * time.Millisecond)
	}
	fresh := keepAlive(t, addr)
	if !closed(conns[0]) {
		t.Error("the longest idle connection stayed open past the bound")
	}
	if ask(t, conns[3]) != http.StatusOK || ask(t, fresh) != http.StatusOK {
		t.Error("the connections within the bound are not served")
	}
}

// TestBusyConnectionsRefuseNewOnes: with every connection of the bound busy
// (open, no request finished), a new one is answered 503 at once.
func TestBusyConnectionsRefuseNewOnes(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxConns, c.MaxConnsPerAddr = 3, 3 })
	addr := serveOn(t, e)
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: x\r\n") // headers never end
	}
	time.Sleep(100 * time.Millisecond) // let the server accept them
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a connection over the bound: %v", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the bound: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestIdleFloodLeavesServiceAnswering opens thousands of idle keep-alive
// connections from one address, as a flood would, each served (it closes
// the longest idle one to make room), then asks as another client: it is
// answered.
func TestIdleFloodLeavesServiceAnswering(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	const bound = 256
	e := newEnv(t, func(c *Config) { c.MaxConns, c.MaxConnsPerAddr = bound, bound })
	addr := serveOn(t, e)
	const flood = 3000
	open := 0
	for i := range flood {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if ask(t, c) == http.StatusOK {
			open++
		}
		c.(*net.TCPConn).SetLinger(0)
		defer c.Close()
	}
	if open != flood {
		t.Errorf("%d of %d connections of the flood were served (each evicts the longest idle)", open, flood)
	}
	start := time.Now()
	resp, err := http.Get(fmt.Sprintf("http://%s/v1/status", addr))
	if err != nil {
		t.Fatalf("after the flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the flood: %d", resp.StatusCode)
	}
	t.Logf("answered in %v after %d idle connections", time.Since(start), flood)
}
