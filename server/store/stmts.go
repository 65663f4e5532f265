package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCacheSize bounds the statements a cache keeps: the store's queries
// are constants, and a few are built from a handful of parts, so this is
// never reached but by a query built from a number (a LIMIT), which then
// runs unprepared.
const stmtCacheSize = 256

// stmtCache keeps the prepared statement of each query text of one pool.
// database/sql prepares a statement on each connection that runs it, once,
// and keeps it there.
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool // missed inside a transaction: prepared after it
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// stmt returns the prepared statement of query, preparing it on a miss;
// nil (run it unprepared) when the cache is full or it cannot be prepared:
// running it then reports the error. Inside a transaction (inTx) a miss is
// not prepared there and then: preparing takes a connection of the pool,
// and SQLite's writer pool has one, which the transaction holds. The query
// is noted instead, and prepareWanted prepares it once the transaction has
// ended.
func (c *stmtCache) stmt(ctx context.Context, query string, inTx bool) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts)+len(c.wanted) >= stmtCacheSize
	if !ok && !full && inTx {
		c.wanted[query] = true
	}
	c.mu.Unlock()
	if ok || full || inTx {
		return st
	}
	// Not under the lock: preparing waits for a connection, which a
	// transaction may hold while it asks the cache for its next statement.
	return c.prepare(ctx, query)
}

// prepare prepares query on the pool and keeps it (or the one another
// goroutine kept first); nil when it cannot be prepared.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.stmts[query]; ok {
		st.Close()
		return kept
	}
	c.stmts[query] = st
	return st
}

// prepareWanted prepares the queries missed inside transactions; a nil
// cache does nothing.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	var queries []string
	for q := range c.wanted {
		queries = append(queries, q)
		delete(c.wanted, q)
	}
	c.mu.Unlock()
	for _, q := range queries {
		c.prepare(ctx, q)
	}
}

// close closes the kept statements; a nil cache does nothing.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// prepared is a querier that runs each query as its kept statement: on
// the pool of c, or in the transaction tx (which uses the statement already
// prepared on its connection).
type prepared struct {
	c  *stmtCache
	tx *sql.Tx // nil: on the pool
	// wal, on SQLite's writer, syncs the log after a statement run on its
	// own (its own commit), before it returns.
	wal *walSync
}

// target returns what runs query: its kept statement (bound to the
// transaction when there is one), or, when it has none, the transaction or
// the pool to run the query text on.
func (p prepared) target(ctx context.Context, query string) (*sql.Stmt, querier) {
	st := p.c.stmt(ctx, query, p.tx != nil)
	switch {
	case st == nil && p.tx != nil:
		return nil, p.tx
	case st == nil:
		return nil, p.c.db
	case p.tx != nil:
		return p.tx.StmtContext(ctx, st), nil
	}
	return st, nil
}

// ExecContext implements querier.
func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, q := p.target(ctx, query)
	var res sql.Result
	var err error
	if st == nil {
		res, err = q.ExecContext(ctx, query, args...)
	} else {
		res, err = st.ExecContext(ctx, args...)
	}
	if err == nil && p.tx == nil && p.wal != nil {
		err = p.wal.sync(p.wal.committed())
	}
	return res, err
}

// QueryContext implements querier. A write on its own (UPDATE ...
// RETURNING) is synced by its caller once its rows are read (db.syncLog).
func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, q := p.target(ctx, query)
	if st == nil {
		return q.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext implements querier.
func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, q := p.target(ctx, query)
	if st == nil {
		return q.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
