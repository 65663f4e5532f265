package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"sync"
)

// migrationFiles holds the schema of each dialect as numbered files,
// migrations/<dialect>/NNNN_name.sql, applied in order and never edited
// once released: a change to the schema is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

// migration is one schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationName is the form of a migration's file name.
var migrationName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`) })

// loadMigrations reads the migrations in dir of fsys, checking that they are
// numbered 1, 2, 3... with no gap.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries { // ReadDir sorts by name
		m := migrationName().FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", e.Name())
		}
		version, _ := strconv.Atoi(m[1]) // four digits: always a number
		if version != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want version %d", e.Name(), len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		ms = append(ms, migration{version: version, name: m[2], sql: string(b)})
	}
	return ms, nil
}

// migrate applies the migrations the database has not seen, all in one
// transaction, and records each in schema_migrations. Run again, it applies
// nothing. A database migrated by a newer build (a version this build does
// not know) is refused rather than used.
func (s *db) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles, path.Join("migrations", s.d.migrations))
	if err != nil {
		return err
	}
	// A schema already current (every start but the first after an
	// upgrade) is read, not locked and written: no write transaction, no
	// wait for the disk, none for another process holding the database.
	var current int
	if s.rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current) == nil && current == len(ms) {
		return nil
	}
	err = s.inRawTx(ctx, func(tx *sql.Tx) error {
		if s.d.migrationLock != "" {
			if _, err := tx.ExecContext(ctx, s.d.migrationLock); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.migrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("the database has schema version %d, newer than this build knows (%d): use a newer misetup", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, s.t(now())); err != nil {
				return fmt.Errorf("record %04d_%s: %w", m.version, m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.d.name, err)
	}
	return nil
}
