package store

import "database/sql"

// SQLitePools gives tests the connection pools of a SQLite store, to check
// the settings every connection has.
func SQLitePools(s *SQLite) (readers, writer *sql.DB) { return s.rdb, s.wdb }
