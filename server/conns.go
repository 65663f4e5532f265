package server

import (
	"container/list"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter bounds the connections a listener keeps open, in all and per
// client address, so that a flood of idle keep-alive connections cannot
// use up the process's file descriptors and stop it answering anyone.
//
// At a bound, the connection that has been idle the longest (between
// requests, as http.Server reports through ConnState) is closed to make
// room: an idle keep-alive connection costs its client only a reconnect.
// With none idle, the new connection is answered 503 with Retry-After and
// closed. Idle connections also end by themselves after IdleTimeout.
type connLimiter struct {
	maxTotal, maxPerAddr int

	mu      sync.Mutex
	total   int
	perAddr map[string]int
	idle    *list.List // of *limitedConn, longest idle first
}

// newConnLimiter returns a limiter of maxTotal connections, maxPerAddr of
// one address.
func newConnLimiter(maxTotal, maxPerAddr int) *connLimiter {
	return &connLimiter{maxTotal: maxTotal, maxPerAddr: maxPerAddr, perAddr: map[string]int{}, idle: list.New()}
}

// limitedConn is a connection the limiter counts.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	addr string
	elem *list.Element // in l.idle while idle; guarded by l.mu

	release sync.Once
}

// Close implements net.Conn: the connection stops counting.
func (c *limitedConn) Close() error {
	c.release.Do(func() {
		c.l.mu.Lock()
		defer c.l.mu.Unlock()
		if c.elem != nil {
			c.l.idle.Remove(c.elem)
			c.elem = nil
		}
		c.l.total--
		if c.l.perAddr[c.addr]--; c.l.perAddr[c.addr] <= 0 {
			delete(c.l.perAddr, c.addr)
		}
	})
	return c.Conn.Close()
}

// admit counts c in, closing idle connections to make room; false when
// there is no room.
func (l *connLimiter) admit(c net.Conn) (*limitedConn, bool) {
	addr := connAddr(c)
	var evict []*limitedConn
	l.mu.Lock()
	perAddr, total := l.perAddr[addr], l.total
	// Close the longest idle of the address, then the longest idle of all,
	// until both bounds have room.
	for e := l.idle.Front(); e != nil && perAddr >= l.maxPerAddr; {
		next := e.Next()
		if ic := e.Value.(*limitedConn); ic.addr == addr {
			l.idle.Remove(e)
			ic.elem = nil
			evict = append(evict, ic)
			perAddr--
			total--
		}
		e = next
	}
	for total >= l.maxTotal && l.idle.Len() > 0 {
		ic := l.idle.Remove(l.idle.Front()).(*limitedConn)
		ic.elem = nil
		evict = append(evict, ic)
		total--
		if ic.addr == addr {
			perAddr--
		}
	}
	ok := perAddr < l.maxPerAddr && total < l.maxTotal
	var lc *limitedConn
	if ok {
		lc = &limitedConn{Conn: c, l: l, addr: addr}
		l.total++
		l.perAddr[addr]++
	}
	l.mu.Unlock()
	for _, ic := range evict {
		ic.Close() // outside the lock: Close takes it
	}
	return lc, ok
}

// connState is the http.Server's ConnState hook: idle connections are the
// ones the limiter may close.
func (l *connLimiter) connState(c net.Conn, state http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch state {
	case http.StateIdle:
		if lc.elem == nil {
			lc.elem = l.idle.PushBack(lc)
		}
	case http.StateActive, http.StateHijacked, http.StateClosed:
		if lc.elem != nil {
			l.idle.Remove(lc.elem)
			lc.elem = nil
		}
	}
}

// connAddr is the IP address of a connection's peer.
func connAddr(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// limitListener admits the connections of a listener through a limiter.
type limitListener struct {
	net.Listener
	l *connLimiter
}

// busyAnswer is what a connection there is no room for reads.
var busyAnswer = func() []byte {
	body := `{"error":{"code":"unavailable","message":"The service has too many connections open; try again in a moment."}}`
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"+
		"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

// Accept implements net.Listener: it returns the next connection there is
// room for, and answers the others 503.
func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc, ok := ln.l.admit(c); ok {
			return lc, nil
		}
		go func() {
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.Write(busyAnswer)
			_ = c.Close()
		}()
	}
}
