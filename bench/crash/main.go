// Command crash is the crash harness: it kills misetup serve with SIGKILL
// in the middle of a burst of concurrent registrations (and sign-ins),
// restarts it on the same store, and checks that every request that was
// answered (202 for a registration, 201 for a sign-in) is there: the
// challenge reads back, the session works. On SQLite it also runs PRAGMA
// integrity_check on the file while the server is down.
//
//	crash -bin misetup -db sqlite -rounds 20 -n 50
//	crash -bin misetup -db postgres -pg postgres://… -rounds 20 -n 50
//
// It prints one line per round and a summary line: crash db=… rounds=…
// answered=… lost=… integrity=ok|FAILED.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the schema of the PostgreSQL rounds
	_ "modernc.org/sqlite"             // integrity_check of the SQLite file

	"misetup/bench/internal/svc"
)

func main() {
	bin := flag.String("bin", "misetup", "the misetup binary")
	db := flag.String("db", "sqlite", "sqlite or postgres")
	pg := flag.String("pg", os.Getenv("MISETUP_TEST_POSTGRES"), "PostgreSQL URL (postgres rounds; a schema of its own is made and dropped)")
	rounds := flag.Int("rounds", 20, "rounds")
	n := flag.Int("n", 50, "concurrent registrations a round")
	flag.Parse()
	if err := run(*bin, *db, *pg, *rounds, *n); err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
}

func run(bin, db, pg string, rounds, n int) error {
	root, err := svc.TempRoot("crash")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	var args, env []string
	dbFile := filepath.Join(root, "misetup.db")
	switch db {
	case "sqlite":
		args = []string{"--db", dbFile}
	case "postgres":
		if pg == "" {
			fmt.Println("crash db=postgres skipped: no PostgreSQL (set MISETUP_TEST_POSTGRES or -pg)")
			return nil
		}
		dsn, drop, err := freshSchema(pg)
		if err != nil {
			return err
		}
		defer drop()
		args = []string{"--db", dsn}
		env = []string{"MISETUP_KEY_HMAC=" + randHex(32), "MISETUP_KEY_TOTP=k1:" + randHex(32)}
	default:
		return fmt.Errorf("-db %q: sqlite or postgres", db)
	}

	// An account whose sign-ins race with the registrations.
	s, err := svc.Serve(bin, root, args, env)
	if err != nil {
		return err
	}
	c := svc.NewClient(s.URL)
	ctx := context.Background()
	const password = "Crash-kite-42"
	if _, err := c.NewAccount(ctx, s.Outbox, "crash-owner@example.com", password, svc.Device{ID: "owner"}); err != nil {
		s.Kill()
		return err
	}
	s.Kill()

	total, lost, integrityOK := 0, 0, true
	for r := range rounds {
		s, err := svc.Serve(bin, root, args, env)
		if err != nil {
			return fmt.Errorf("round %d: start: %w", r, err)
		}
		c := svc.NewClient(s.URL)
		type answered struct{ challenge, token string }
		var mu sync.Mutex
		var got []answered
		killAt := 1 + randInt(n-1) // answers before the kill
		killed := make(chan struct{})
		var once sync.Once
		kill := func() { once.Do(func() { s.Kill(); close(killed) }) }
		var wg sync.WaitGroup
		for i := range n + n/5 {
			wg.Go(func() {
				var a answered
				if i < n {
					id, st, err := c.Register(ctx, fmt.Sprintf("crash-%d-%d@example.com", r, i), password)
					if err != nil || st != 202 {
						return
					}
					a.challenge = id
				} else {
					tok, st, err := c.SignIn(ctx, "crash-owner@example.com", password, svc.Device{ID: fmt.Sprintf("d-%d-%d", r, i)})
					if err != nil || st != 201 {
						return
					}
					a.token = tok
				}
				mu.Lock()
				got = append(got, a)
				if len(got) == killAt {
					kill()
				}
				mu.Unlock()
			})
		}
		select {
		case <-killed:
		case <-time.After(60 * time.Second):
		}
		kill() // when fewer answers came than killAt
		wg.Wait()
		mu.Lock()
		answers := append([]answered(nil), got...)
		mu.Unlock()

		integrity := "n/a"
		if db == "sqlite" {
			integrity, err = integrityCheck(dbFile)
			if err != nil {
				return fmt.Errorf("round %d: integrity_check: %w", r, err)
			}
			integrityOK = integrityOK && integrity == "ok"
		}
		s, err = svc.Serve(bin, root, args, env)
		if err != nil {
			return fmt.Errorf("round %d: restart after the kill: %w", r, err)
		}
		c = svc.NewClient(s.URL)
		missing := 0
		for _, a := range answers {
			var err error
			if a.challenge != "" {
				_, err = c.Do(ctx, "GET", "/v1/challenges/"+a.challenge, "", nil, nil)
			} else {
				_, err = c.Do(ctx, "GET", "/v1/account", a.token, nil, nil)
			}
			if err != nil {
				missing++
				fmt.Fprintf(os.Stderr, "round %d: answered, then lost: %v\n", r, err)
			}
		}
		s.Kill()
		total += len(answers)
		lost += missing
		fmt.Printf("round %d: killed after %d answers (%d answered in all), %d lost, integrity_check %s\n", r, killAt, len(answers), missing, integrity)
	}
	verdict := "ok"
	if !integrityOK {
		verdict = "FAILED"
	}
	if db != "sqlite" {
		verdict = "n/a"
	}
	fmt.Printf("crash db=%s rounds=%d answered=%d lost=%d integrity=%s\n", db, rounds, total, lost, verdict)
	if lost > 0 || !integrityOK {
		return fmt.Errorf("%d answered requests lost, integrity %s", lost, verdict)
	}
	return nil
}

// integrityCheck runs PRAGMA integrity_check on the SQLite file (the server
// is down; its WAL is replayed first).
func integrityCheck(path string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		out = append(out, s)
	}
	return strings.Join(out, "; "), rows.Err()
}

// freshSchema makes a schema of its own on pg and returns a URL that uses
// it, and the func that drops it.
func freshSchema(pg string) (string, func(), error) {
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		return "", nil, err
	}
	schema := "bench_crash_" + randHex(6)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}
	u, err := url.Parse(pg)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}
