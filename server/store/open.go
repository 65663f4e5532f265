package store

import (
	"context"
	"strings"
)

// Open opens the store named by dsnOrPath: a PostgreSQL database for a
// "postgres://" or "postgresql://" URL, otherwise the SQLite file at that
// path.
func Open(ctx context.Context, dsnOrPath string) (Store, error) {
	// Each branch checks err itself: a nil *SQLite in a Store is not nil.
	if IsPostgresDSN(dsnOrPath) {
		s, err := OpenPostgres(ctx, dsnOrPath)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := OpenSQLite(ctx, dsnOrPath)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// IsPostgresDSN reports whether Open takes s for a PostgreSQL URL rather
// than a SQLite path.
func IsPostgresDSN(s string) bool {
	lower := strings.ToLower(s)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}
