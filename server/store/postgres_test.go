package store_test

import (
	"database/sql"
	"fmt"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the test's own admin connection

	"misetup/server/store"
	"misetup/server/store/storetest"
)

// postgresDSN and freshSchema are storetest's, for the tests of this
// package.
func postgresDSN(t *testing.T) string { return storetest.PostgresDSN(t) }

func freshSchema(t *testing.T, dsn string) string { return storetest.FreshSchema(t, dsn) }

// openPostgres opens the store at dsn and closes it when t ends.
func openPostgres(t *testing.T, dsn string) *store.Postgres {
	t.Helper()
	s, err := store.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openPostgres(t, freshSchema(t, dsn))
	})
}

// TestPostgresReopen: data survives reconnecting, and migrations are
// applied once.
func TestPostgresReopen(t *testing.T) {
	dsn := freshSchema(t, postgresDSN(t))
	ctx := t.Context()
	s, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, &store.Account{MiID: "100000001", Email: "ana@example.com", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openPostgres(t, dsn)
	if _, err := s.AccountByEmail(ctx, "ana@example.com"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, versions int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != versions {
		t.Errorf("schema_migrations has %d rows for %d versions, want one row per version", rows, versions)
	}
}

// TestPostgresConcurrentOpen: servers starting together migrate one at a
// time; none fails.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := freshSchema(t, postgresDSN(t))
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			s, err := store.OpenPostgres(t.Context(), dsn)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(fmt.Errorf("concurrent open: %w", err))
		}
	}
}
