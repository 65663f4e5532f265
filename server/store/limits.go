package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Limit is a rule that counts the events of one key (an identifier's
// failed sign-ins, a client address's, the codes sent to a destination)
// within a sliding window.
type Limit struct {
	// Key is what is counted: a normalised identifier, "addr:" plus a
	// client address, a destination...
	Key string
	// Max events are allowed within Window.
	Max int
	// Window is how far back events count. An event exactly Window old has
	// left it.
	Window time.Duration
	// Lock, when not zero, makes the limit a lock: the event that is the
	// Max-th within the window locks Key for Lock, and while Key is locked
	// no event of it is allowed. When zero the limit is a rate: with Max
	// events in the window the next waits until the oldest has left it.
	Lock time.Duration
}

// Refusal is the error of a reservation a limit refused. Nothing was
// recorded.
type Refusal struct {
	Key    string
	Locked bool      // Key is locked (else its rate is used up)
	Until  time.Time // when an event of Key is allowed again
}

// Error implements error.
func (r *Refusal) Error() string {
	what := "rate limited"
	if r.Locked {
		what = "locked"
	}
	return fmt.Sprintf("store: %s %s until %s", r.Key, what, r.Until.Format(time.RFC3339))
}

// ReserveAttempt atomically checks limits at the time at and, when none
// refuses, records one failure under ref against the key of each, locking
// the keys whose limit this one reaches; it returns those keys. It runs
// before the work it allows (checking a password), so that requests
// arriving together can never pass a limit: each holds its own place in the
// count. A request whose attempt turns out good gives its place back with
// ReleaseAttempt. When a limit refuses, nothing is recorded and the error
// is a *Refusal.
func (s *db) ReserveAttempt(ctx context.Context, ref string, at time.Time, limits ...Limit) ([]string, error) {
	return s.reserve(ctx, "reserve attempt", "failures", "key", ref, at, limits)
}

// ReleaseAttempt removes the failure recorded under ref for key, and the
// lock of key if that reservation set it.
func (s *db) ReleaseAttempt(ctx context.Context, key, ref string) error {
	err := s.inTx(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM failures WHERE key = $1 AND ref = $2`, key, ref); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM locks WHERE key = $1 AND ref = $2`, key, ref)
		return err
	})
	if err != nil {
		return s.fail("release attempt", err)
	}
	return nil
}

// ReserveSend atomically checks the rate of codes sent to lim.Key (a
// destination) and, under it, records one send under ref. Over it nothing
// is recorded and the error is a *Refusal saying when the next send is
// allowed. lim.Lock is ignored.
func (s *db) ReserveSend(ctx context.Context, ref string, at time.Time, lim Limit) error {
	lim.Lock = 0
	_, err := s.reserve(ctx, "reserve send", "sends", "destination", ref, at, []Limit{lim})
	return err
}

// ReleaseSend removes the send recorded under ref for key (a code that was
// not sent after all).
func (s *db) ReleaseSend(ctx context.Context, key, ref string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sends WHERE destination = $1 AND ref = $2`, key, ref); err != nil {
		return s.fail("release send", err)
	}
	return nil
}

// reserve is ReserveAttempt and ReserveSend: events are rows of table, with
// their key in keyCol. One transaction holds the keys' locks (PostgreSQL)
// or the database (SQLite) from the first count to the last insert.
func (s *db) reserve(ctx context.Context, op, table, keyCol, ref string, at time.Time, limits []Limit) ([]string, error) {
	var locked []string
	var refused *Refusal
	err := s.inPrepTx(ctx, func(tx querier) error {
		locked, refused = nil, nil
		keys := make([]string, len(limits))
		for i, l := range limits {
			keys[i] = table + ":" + l.Key
		}
		if err := s.lockKeys(ctx, tx, keys...); err != nil {
			return err
		}
		counts := make([]int, len(limits))
		for i, l := range limits {
			if l.Lock > 0 {
				var until time.Time
				err := tx.QueryRowContext(ctx, `SELECT until FROM locks WHERE key = $1`, l.Key).Scan(reqTime(&until))
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				if at.Before(until) {
					refused = &Refusal{Key: l.Key, Locked: true, Until: until}
					return nil
				}
			}
			since := s.t(at.Add(-l.Window + time.Microsecond))
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+keyCol+` = $1 AND at >= $2`,
				l.Key, since).Scan(&counts[i])
			if err != nil {
				return err
			}
			if l.Lock == 0 && counts[i] >= l.Max {
				// The next is allowed once the event at index count-Max,
				// oldest first, has left the window: fewer than Max remain.
				var oldest time.Time
				err := tx.QueryRowContext(ctx, `SELECT at FROM `+table+` WHERE `+keyCol+` = $1 AND at >= $2
					ORDER BY at LIMIT 1 OFFSET $3`, l.Key, since, counts[i]-l.Max).Scan(reqTime(&oldest))
				if err != nil {
					return err
				}
				refused = &Refusal{Key: l.Key, Until: oldest.Add(l.Window)}
				return nil
			}
		}
		for i, l := range limits {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+keyCol+`, at, ref) VALUES ($1, $2, $3)`,
				l.Key, s.t(at), ref); err != nil {
				return err
			}
			if l.Lock > 0 && counts[i]+1 >= l.Max {
				if _, err := tx.ExecContext(ctx, `INSERT INTO locks (key, until, ref) VALUES ($1, $2, $3)
					ON CONFLICT (key) DO UPDATE SET until = excluded.until, ref = excluded.ref`,
					l.Key, s.t(at.Add(l.Lock)), ref); err != nil {
					return err
				}
				locked = append(locked, l.Key)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(op, err)
	}
	if refused != nil {
		return nil, refused
	}
	return locked, nil
}

// LockedUntil returns the end of key's lock as set, whether or not it has
// passed; the zero time when key has no lock.
func (s *db) LockedUntil(ctx context.Context, key string) (time.Time, error) {
	var until time.Time
	err := s.r.QueryRowContext(ctx, `SELECT until FROM locks WHERE key = $1`, key).Scan(reqTime(&until))
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, s.fail("locked until", err)
	}
	return until, nil
}

// ClearFailures removes key's failures and lock in one transaction.
func (s *db) ClearFailures(ctx context.Context, key string) error {
	err := s.inTx(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM failures WHERE key = $1`, key); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM locks WHERE key = $1`, key)
		return err
	})
	if err != nil {
		return s.fail("clear failures", err)
	}
	return nil
}
