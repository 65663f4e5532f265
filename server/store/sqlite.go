package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite is the Store kept in one SQLite file (the default; no cgo).
//
// The file is in WAL mode: a write has been synced to the disk when it
// returns, so it survives the process being killed and a power cut (its
// commit does not wait for the disk while it holds the database: the log
// is synced after it, once for the commits made meanwhile, see walSync;
// synchronous=NORMAL, which syncs checkpoints); every
// connection waits up to 5 s for a lock (busy_timeout) and enforces foreign
// keys; write transactions begin IMMEDIATE. Writes go through one
// connection, reads through a small pool of read-only ones, so writers of
// this process queue in Go instead of polling the file lock.
//
// Times are stored as microseconds since the Unix epoch and read back in
// UTC, rounded to the microsecond. Zero CreatedAt (and similar) fields are
// set by the store on insert, as each method says.
type SQLite struct {
	*db
	path string
}

var _ Store = (*SQLite)(nil)

// sqliteReaders is the most read connections a SQLite store keeps open.
const sqliteReaders = 4

// OpenSQLite opens the SQLite store at path, creating the file (mode 0600)
// and its folder (0700) if they are missing, and brings its schema up to
// date.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("open sqlite: no path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// SQLite would create the file with the umask's mode (often 0644). The
	// file holds password and token hashes, so create it first, private; the
	// -wal and -shm files take their mode from it.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}

	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)

	s := &SQLite{db: newDB(r, w, sqliteDialect), path: path}
	s.wal = newWALSync(path)
	s.w = prepared{c: s.wstmts, wal: s.wal} // a statement on its own syncs after it
	// The writer connects first: it is the one that may switch the file to WAL.
	if err := w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return s, nil
}

// Path returns the file the store is kept in.
func (s *SQLite) Path() string { return s.path }

// sqliteDSN is the data source name of path for modernc.org/sqlite. The
// pragmas are DSN parameters, so each connection of the pool runs them when
// it opens. Readers are query_only, set last so that the journal mode can
// still be set.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)") // commits sync after (walSync)
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	// The file: URI form lets a path hold '?', '#' or '%'; SQLite decodes it.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// sqliteDialect is how SQLite differs.
var sqliteDialect = dialect{
	name:       "sqlite",
	timeArg:    func(t time.Time) any { return t.Round(time.Microsecond).UnixMicro() },
	mapErr:     sqliteErr,
	migrations: "sqlite",
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`,
	// BEGIN IMMEDIATE already keeps a second process out until commit,
	// so neither locks nor row locks are needed.
	retryable: func(error) bool { return false }, // busy_timeout waits instead
	prepare:   true,
}

// sqliteErr maps SQLite's constraint errors onto ErrConflict and ErrNotFound.
func sqliteErr(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w (%s)", ErrConflict, constraintMessage(e.Error()))
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w (the account or device it refers to)", ErrNotFound)
	}
	return err
}

// constraintMessage keeps what SQLite says after its generic prefix, e.g.
// "UNIQUE constraint failed: accounts.email".
func constraintMessage(msg string) string {
	if _, after, ok := strings.Cut(msg, ": "); ok {
		return after
	}
	return msg
}
