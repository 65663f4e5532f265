package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// db is the implementation of Store shared by SQLite and PostgreSQL. Both
// speak the same SQL here: $N placeholders (modernc.org/sqlite reads them as
// positional), ON CONFLICT upserts and RETURNING (SQLite 3.35 and later).
// What differs (how a time is written, which errors mean a conflict, the
// schema files) lives in the dialect.
type db struct {
	rdb *sql.DB // reads
	wdb *sql.DB // writes; for SQLite a single connection, for PostgreSQL the same pool as rdb
	d   dialect

	// r and w are what queries run on: rdb and wdb, or, inside InTx, the
	// transaction for both (so that the transaction reads its own writes).
	r, w querier
	// tx is the transaction of a store handed to an InTx function; nil
	// outside one.
	tx *sql.Tx
	// rstmts and wstmts are the prepared statements of rdb and wdb; nil
	// when the dialect does not prepare.
	rstmts, wstmts *stmtCache
	// wal, for SQLite, syncs the log after transactions commit (see
	// walSync); nil for PostgreSQL, whose commits sync themselves.
	wal *walSync
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// newDB returns the db of the pools r and w (the same for PostgreSQL).
// With d.prepare, queries run as statements prepared once per connection.
func newDB(r, w *sql.DB, d dialect) *db {
	s := &db{rdb: r, wdb: w, d: d, r: r, w: w}
	if d.prepare {
		s.rstmts, s.wstmts = newStmtCache(r), newStmtCache(w)
		s.r, s.w = prepared{c: s.rstmts}, prepared{c: s.wstmts}
	}
	return s
}

// dialect is what SQLite and PostgreSQL do differently.
type dialect struct {
	// name is "sqlite" or "postgres", used in error messages.
	name string
	// timeArg turns a time into the value stored for it. Both round to the
	// microsecond, so what is read back is the time written rounded to the
	// microsecond, in UTC.
	timeArg func(time.Time) any
	// mapErr maps a driver's constraint errors onto ErrConflict (unique) and
	// ErrNotFound (foreign key: the account or device referred to is
	// missing); other errors are returned as they are.
	mapErr func(error) error
	// migrations names the folder of migrations in the embedded files.
	migrations string
	// migrationsTable creates the table of applied migrations if it is missing.
	migrationsTable string
	// migrationLock, when not empty, runs first in the migration transaction
	// so that two processes opening the same database migrate one at a time.
	migrationLock string
	// lockKey, when not empty, takes a lock on the text $1 until the end of
	// the transaction it runs in, so that transactions counting events of
	// one key (a sign-in's failures, a destination's sends) run one after
	// the other. SQLite needs none: a write transaction begun IMMEDIATE
	// holds the whole database.
	lockKey string
	// forUpdate ends a SELECT that locks the rows it reads until the end of
	// the transaction (" FOR UPDATE"); "" where the transaction holds the
	// database already (SQLite).
	forUpdate string
	// retryable reports whether a transaction failed only because it ran
	// beside another (a serialization failure or a deadlock) and may be
	// run again.
	retryable func(error) bool
	// prepare runs queries as statements prepared once per connection and
	// kept: modernc's SQLite compiles a query anew each time otherwise, which
	// costs more than running it. (pgx keeps its own statement cache.)
	prepare bool
	// relaxTx, when not empty, makes the commit of the transaction it runs
	// in not wait for the disk (PostgreSQL's SET LOCAL). See inPrepTx.
	relaxTx string
}

// Ping checks the connection.
func (s *db) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.name, err)
	}
	if s.wdb != s.rdb {
		if err := s.wdb.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s: %w", s.d.name, err)
		}
	}
	return nil
}

// Close releases the store; queries that have started finish first.
func (s *db) Close() error {
	if s.tx != nil {
		return errors.New("close: the store of a transaction is closed with the store it came from")
	}
	s.rstmts.close()
	s.wstmts.close()
	err := s.rdb.Close()
	if s.wdb != s.rdb {
		err = errors.Join(err, s.wdb.Close())
	}
	if s.wal != nil {
		err = errors.Join(err, s.wal.close())
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", s.d.name, err)
	}
	return nil
}

// fail wraps err with op, mapping a missing row onto ErrNotFound and
// constraint errors onto ErrConflict or ErrNotFound.
func (s *db) fail(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, s.d.mapErr(err))
}

// t is the stored value of a time.
func (s *db) t(t time.Time) any { return s.d.timeArg(t) }

// tp is the stored value of an optional time: NULL when nil.
func (s *db) tp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.d.timeArg(*t)
}

// execOne runs a write that must change exactly one row; none is ErrNotFound.
func (s *db) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return s.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// exists reports whether query (a SELECT 1 ... of at most one row) finds a row.
func (s *db) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// inTx runs fn in a write transaction and commits it when fn returns nil;
// fn queries through q (which prepares each query once, as the store's
// other queries do). On SQLite the transaction begins IMMEDIATE (the
// _txlock DSN parameter). Inside a transaction already (a store given to an
// InTx function), fn runs in that one.
func (s *db) inTx(ctx context.Context, fn func(q querier) error) error {
	return s.inRawTx(ctx, func(tx *sql.Tx) error { return fn(s.txQuerier(tx)) })
}

// inRawTx is inTx with the transaction itself (for migrations, whose
// files hold many statements, which a prepared statement cannot).
func (s *db) inRawTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	defer s.wstmts.prepareWanted(context.WithoutCancel(ctx))
	if err := runTx(ctx, s.wdb.BeginTx, "", fn); err != nil {
		return err
	}
	return s.syncLog()
}

// syncLog returns once SQLite's commits so far are on the disk (see
// walSync); at once for PostgreSQL, whose commits sync themselves, and
// inside a transaction, whose commit syncs.
func (s *db) syncLog() error {
	if s.tx != nil || s.wal == nil {
		return nil
	}
	return s.wal.sync(s.wal.committed())
}

// inPrepTx is inTx for a place reserved before slow work (an attempt or a
// send counted before a password is checked or a code mailed): its commit
// does not wait for the disk. The record survives the process being
// killed all the same (it is in the write-ahead log, which the kernel
// keeps), and the request's next commit, which every outcome has (the
// session opened, the place given back, the failure audited, the
// challenge stored), syncs it with its own before anything is answered:
// both databases write their log in order and sync it up to the commit
// that asks. What a power cut can lose is the place of a request that was
// never answered. A sign-in so costs one wait for the disk instead of two.
// Inside a transaction already, fn runs in that one.
func (s *db) inPrepTx(ctx context.Context, fn func(q querier) error) error {
	if s.tx != nil {
		return fn(s.w)
	}
	defer s.wstmts.prepareWanted(context.WithoutCancel(ctx))
	// SQLite's commits never wait for the disk (the log is synced after
	// them, see walSync): this one is simply not synced after.
	return runTx(ctx, s.wdb.BeginTx, s.d.relaxTx, func(tx *sql.Tx) error { return fn(s.txQuerier(tx)) })
}

// runTx begins a transaction with begin, runs first (when not empty) and
// fn in it, and commits when both succeed.
func runTx(ctx context.Context, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error), first string, fn func(tx *sql.Tx) error) error {
	tx, err := begin(ctx, nil)
	if err != nil {
		return err
	}
	if first != "" {
		if _, err := tx.ExecContext(ctx, first); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error of fn is the one worth reporting
		return err
	}
	return tx.Commit()
}

// txTries is how many times InTx runs a transaction that PostgreSQL
// refused for running beside another.
const txTries = 4

// InTx runs fn in one write transaction: every call fn makes on the Store
// it is given is part of it, reads included. It commits when fn returns nil
// and rolls back otherwise, returning fn's error as it is. A transaction
// the database refused for running beside another (PostgreSQL's
// serialization failures and deadlocks) runs again, a few times, so fn must
// be safe to run more than once. Inside a transaction already, fn runs in
// it.
func (s *db) InTx(ctx context.Context, fn func(Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	var err error
	for range txTries {
		err = s.inRawTx(ctx, func(tx *sql.Tx) error { return fn(s.within(tx)) })
		if err == nil || !s.d.retryable(err) {
			break
		}
	}
	return err
}

// within is the store of the transaction tx.
func (s *db) within(tx *sql.Tx) *db {
	q := s.txQuerier(tx)
	return &db{rdb: s.rdb, wdb: s.wdb, d: s.d, r: q, w: q, tx: tx, rstmts: s.rstmts, wstmts: s.wstmts, wal: s.wal}
}

// txQuerier is what the queries of the transaction tx run on.
func (s *db) txQuerier(tx *sql.Tx) querier {
	if s.wstmts == nil {
		return tx
	}
	return prepared{c: s.wstmts, tx: tx}
}

// lockKeys takes the dialect's transaction-long lock on each key, in
// sorted order so that two transactions never wait for each other. It must
// run inside a transaction.
func (s *db) lockKeys(ctx context.Context, tx querier, keys ...string) error {
	if s.d.lockKey == "" {
		return nil
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	for _, k := range slices.Compact(sorted) {
		if _, err := tx.ExecContext(ctx, s.d.lockKey, k); err != nil {
			return err
		}
	}
	return nil
}

// now is the current time as the store records it when a caller left a
// time zero.
func now() time.Time { return time.Now().UTC().Round(time.Microsecond) }

// orNow returns t, or now when t is zero.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// timeCol reads a time column of either dialect: SQLite stores INTEGER
// microseconds since the Unix epoch, PostgreSQL a timestamptz. A NULL reads
// as the zero time, or as a nil pointer through optTime.
type timeCol struct {
	t   *time.Time
	opt **time.Time
}

// reqTime reads a NOT NULL time column into t.
func reqTime(t *time.Time) timeCol { return timeCol{t: t} }

// optTime reads a nullable time column into p (nil for NULL).
func optTime(p **time.Time) timeCol { return timeCol{opt: p} }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	var t time.Time
	switch v := v.(type) {
	case nil:
		if c.opt != nil {
			*c.opt = nil
		} else {
			*c.t = time.Time{}
		}
		return nil
	case int64:
		t = time.UnixMicro(v).UTC()
	case time.Time:
		t = v.UTC()
	default:
		return fmt.Errorf("store: cannot read %T as a time", v)
	}
	if c.opt != nil {
		*c.opt = &t
	} else {
		*c.t = t
	}
	return nil
}

// locationCols are the four columns of an optional Location, in the order
// locationArgs and locationCol use.
const locationCols = "location_lat, location_lon, location_accuracy_m, location_at"

// locationArgs are the stored values of an optional location.
func (s *db) locationArgs(l *Location) (lat, lon, acc, at any) {
	if l == nil {
		return nil, nil, nil, nil
	}
	return l.Lat, l.Lon, l.AccuracyM, s.t(l.ReportedAt)
}

// locationCol reads the four location columns; dst is set to nil when the
// latitude is NULL.
type locationCol struct {
	lat, lon, acc sql.NullFloat64
	at            *time.Time
}

// dest returns the scan destinations of the four columns.
func (l *locationCol) dest() []any {
	return []any{&l.lat, &l.lon, &l.acc, optTime(&l.at)}
}

// location returns what was read: nil when no location is stored.
func (l *locationCol) location() *Location {
	if !l.lat.Valid {
		return nil
	}
	loc := &Location{Lat: l.lat.Float64, Lon: l.lon.Float64, AccuracyM: l.acc.Float64}
	if l.at != nil {
		loc.ReportedAt = *l.at
	}
	return loc
}
