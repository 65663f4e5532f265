package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the test's own admin connection
)

// PostgresDSN returns the DSN of the test database from
// MISETUP_TEST_POSTGRES; without it the test is skipped, or fails when
// MISETUP_TEST_REQUIRE=1.
func PostgresDSN(t testing.TB) string {
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

// FreshSchema creates a schema of its own for t (dropped when t ends) and
// returns dsn with its search_path set to it, so that tests can run again
// and at the same time against one database.
func FreshSchema(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "storetest_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(t, dsn, schema)
}

// WithSearchPath sets search_path in a URL or key=value DSN.
func WithSearchPath(t testing.TB, dsn, schema string) string {
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
