package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"misetup/server"
)

// startSSH starts the wizard over SSH when set.Addr is set. It returns the
// context the HTTP service is to serve under: done once ctx is done AND
// the SSH sessions have drained (their sign-outs go to this service, so it
// must outlive them), and a func that waits for the SSH side to end.
func startSSH(ctx context.Context, set sshSettings, h http.Handler, m *server.Metrics, log *slog.Logger) (context.Context, func() error, error) {
	if set.Addr == "" {
		return ctx, func() error { return nil }, nil
	}
	w, err := newSSHWizard(set, h, m, log)
	if err != nil {
		return nil, nil, err
	}
	// Keep-alives find a terminal unplugged (no FIN ever comes) within
	// about 30 s: its session then ends and is signed out.
	lc := net.ListenConfig{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}}
	ln, err := lc.Listen(ctx, "tcp", set.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("ssh: listen on %s: %w", set.Addr, err)
	}
	auth := "any key"
	if set.AuthorizedKeys != "" {
		auth = "keys of " + set.AuthorizedKeys
	}
	log.Info("misetup wizard over SSH on "+ln.Addr().String(),
		"host_key", w.fingerprint, "host_key_path", set.HostKey, "auth", auth,
		"max_sessions", set.MaxSessions, "store_id", set.Store)

	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- w.Serve(ln) }()
	drained := make(chan struct{})
	var sshErr error
	go func() {
		defer close(drained)
		defer stopHTTP()
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), set.Drain+2*signOutTimeout)
			defer cancel()
			w.Drain(dctx, set.Drain)
			<-served
			log.Info("ssh stopped")
		case err := <-served:
			// The SSH side failed: the process stops, as it does when
			// the HTTP side fails.
			sshErr = fmt.Errorf("ssh: serve: %w", err)
		}
	}()
	wait := func() error {
		<-drained
		return sshErr
	}
	return httpCtx, wait, nil
}
