package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Postgres is the Store kept in a PostgreSQL database (through pgx), for a
// service that several servers share.
//
// Its tables go in the first schema of the connection's search_path (set
// search_path in the DSN to use another schema than public). Times are
// timestamptz, read back in UTC, rounded to the microsecond. Zero CreatedAt
// (and similar) fields are set by the store on insert, as each method says.
type Postgres struct {
	*db
}

var _ Store = (*Postgres)(nil)

// postgresConns is the most connections a Postgres store keeps open.
const postgresConns = 10

// OpenPostgres connects to the PostgreSQL database at dsn (a postgres:// URL
// or a key=value string, as libpq takes) and brings its schema up to date.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(postgresConns)
	pool.SetMaxIdleConns(postgresConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)

	s := &Postgres{db: newDB(pool, pool, postgresDialect)}
	if err := pool.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open postgres %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open postgres %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return s, nil
}

// postgresDialect is how PostgreSQL differs.
var postgresDialect = dialect{
	name:       "postgres",
	timeArg:    func(t time.Time) any { return t.UTC().Round(time.Microsecond) },
	mapErr:     postgresErr,
	migrations: "postgres",
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL
	)`,
	// Two servers starting at once migrate one after the other: the lock
	// is held until the migration transaction ends. The key is "misetup" in
	// ASCII (0x6d697365747570), a constant of this program.
	migrationLock: `SELECT pg_advisory_xact_lock(30796716805748080)`,
	// Keys hash to 64 bits: two keys sharing a hash only wait for each
	// other, never decide together.
	lockKey:   `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`,
	forUpdate: " FOR UPDATE",
	retryable: postgresRetryable,
	relaxTx:   "SET LOCAL synchronous_commit = off",
}

// postgresRetryable reports a serialization failure or a deadlock: the
// transaction lost to another and may run again.
func postgresRetryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// PostgreSQL error codes the store maps.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// postgresErr maps PostgreSQL's constraint errors onto ErrConflict and ErrNotFound.
func postgresErr(err error) error {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case pgUniqueViolation:
		return fmt.Errorf("%w (%s)", ErrConflict, e.ConstraintName)
	case pgForeignKeyViolation:
		return fmt.Errorf("%w (the account or device it refers to)", ErrNotFound)
	}
	return err
}
