package servertest

import (
	"context"
	"testing"

	"misetup/server/store"
)

// CountEvents counts the events of an account in st's audit log.
func CountEvents(t testing.TB, st store.Store, miID, event string) int {
	t.Helper()
	events, err := st.AuditEvents(context.Background(), miID, 0)
	if err != nil {
		t.Fatalf("audit events: %v", err)
	}
	n := 0
	for _, e := range events {
		if e.Event == event {
			n++
		}
	}
	return n
}
