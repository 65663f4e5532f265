package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the test's own admin connection

	"misetup/server/store"
	"misetup/server/store/storetest"
)

// postgresDSN returns the DSN of the test database from
// MISETUP_TEST_POSTGRES; without it the test is skipped, or fails when
// MISETUP_TEST_REQUIRE=1.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("MISETUP_TEST_POSTGRES")
	if dsn == "" {
		const why = "MISETUP_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:55432/misetup_test?sslmode=disable)"
		if os.Getenv("MISETUP_TEST_REQUIRE") == "1" {
			t.Fatal(why + " and MISETUP_TEST_REQUIRE=1")
		}
		t.Skip(why)
	}
	return dsn
}

// freshSchema creates a schema of its own for t (dropped when t ends) and
// returns dsn with its search_path set to it, so that tests can run again
// and at the same time against one database.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "storetest_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, dsn, schema)
}

// withSearchPath sets search_path in a URL or key=value DSN.
func withSearchPath(t *testing.T, dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("MISETUP_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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
