package server

import (
	"context"
	"net/http"
	"time"

	"misetup/server/policy"
	"misetup/server/store"
)

// audit appends a security event with the request's kiosk, store and client
// address. detail must never hold a secret (no password, code or token). A
// store failure is logged: the action it records already happened.
func (s *Server) audit(r *http.Request, miID, deviceID, event, detail string) {
	e := s.auditEvent(r, miID, deviceID, event, detail)
	// The event is written even when the client has gone away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := s.st.Audit(ctx, e); err != nil {
		s.log.Error("audit", "event", event, "mi_id", miID, "err", err)
	}
}

// auditEvent is the event audit writes, for a request that writes it in
// its own transaction (so that the event and what it tells of are one).
func (s *Server) auditEvent(r *http.Request, miID, deviceID, event, detail string) *store.AuditEvent {
	kiosk, storeID := kioskHeaders(r)
	return &store.AuditEvent{
		At:       s.now(),
		MiID:     miID,
		DeviceID: deviceID,
		Kiosk:    kiosk,
		StoreID:  storeID,
		Address:  clientAddr(r),
		Event:    event,
		Detail:   policy.Sanitize(detail),
	}
}
