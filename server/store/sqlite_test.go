package store_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"misetup/server/store"
	"misetup/server/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "misetup.db"))
	})
}

// openSQLite opens the store at path and closes it when t ends.
func openSQLite(t testing.TB, path string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestSQLiteSettings checks that every connection, writer and readers, has
// the pragmas durability and concurrency rest on.
func TestSQLiteSettings(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "misetup.db"))
	readers, writer := store.SQLitePools(s)
	want := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "1", // NORMAL: commits sync the log after them (walSync)
		"foreign_keys": "1",
		"busy_timeout": "5000",
	}
	ctx := t.Context()
	// A reservation commits without syncing the log after it (inPrepTx);
	// the writer's setting stays as it was after one that succeeded and
	// after one a limit refused.
	lim := store.Limit{Key: "k", Max: 1, Window: time.Minute}
	if _, err := s.ReserveAttempt(ctx, "r1", time.Now(), lim); err != nil {
		t.Fatal(err)
	}
	var refused *store.Refusal
	if _, err := s.ReserveAttempt(ctx, "r2", time.Now(), lim); !errors.As(err, &refused) {
		t.Fatalf("second attempt over a limit of 1: %v, want a refusal", err)
	}
	// Hold several reader connections at once, so that the pool opens more
	// than one and each is checked.
	var conns []*sql.Conn
	for range 3 {
		c, err := readers.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	w, err := writer.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conns = append(conns, w)
	for i, c := range conns {
		for pragma, value := range want {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, pragma, err)
			}
			if got != value {
				t.Errorf("conn %d: %s = %s, want %s", i, pragma, got, value)
			}
		}
	}
	// Readers cannot write, by mistake or otherwise.
	if _, err := conns[0].ExecContext(ctx, `DELETE FROM accounts`); err == nil {
		t.Error("a reader connection wrote")
	}
}

// TestSQLiteFileMode: the file holds password and token hashes; only its
// owner may read it.
func TestSQLiteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "misetup.db")
	s := openSQLite(t, path)
	a := &store.Account{MiID: "100000001", PasswordHash: "h"}
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o700 {
		t.Errorf("the created folder has mode %o, want 700", mode)
	}
}

// TestSQLiteReopen: data survives closing and opening again, and the
// migrations already applied are not applied again.
func TestSQLiteReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "misetup.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, &store.Account{MiID: "100000001", Email: "ana@example.com", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	first := appliedMigrations(t, path)
	if len(first) == 0 {
		t.Fatal("no migration recorded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		s = openSQLite(t, path)
		a, err := s.AccountByEmail(ctx, "ana@example.com")
		if err != nil {
			t.Fatalf("after reopening: %v", err)
		}
		if a.MiID != "100000001" {
			t.Errorf("after reopening: mi id %s", a.MiID)
		}
		if again := appliedMigrations(t, path); again != first {
			t.Errorf("migrations after reopening:\n%s\nwant as before:\n%s", again, first)
		}
	}
}

// appliedMigrations lists the rows of schema_migrations, read with a
// connection of its own.
func appliedMigrations(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			version, appliedAt int64
			name               string
		)
		if err := rows.Scan(&version, &name, &appliedAt); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %s %d\n", version, name, appliedAt)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSQLiteNewerSchema: a file migrated by a newer build is refused, not
// used with a schema this build does not know.
func TestSQLiteNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "misetup.db")
	s := openSQLite(t, path)
	_, writer := store.SQLitePools(s)
	if _, err := writer.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := store.OpenSQLite(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening a newer schema: err = %v, want it refused as newer", err)
	}
}

// TestSQLiteNotADatabase: a file that is not SQLite's is refused with an
// error, and left as it was.
func TestSQLiteNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte(strings.Repeat("not a database\n", 100))
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := store.OpenSQLite(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("opened a text file as a store")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(content) {
		t.Error("the text file was changed")
	}
}

// crashChildEnv, when set, makes TestSQLiteSurvivesKill the child that
// writes into the file it names.
const crashChildEnv = "MISETUP_STORE_CRASH_CHILD"

// TestSQLiteSurvivesKill: a write that returned survives kill -9. A child
// process (this test binary again) writes accounts and reports each one
// when CreateAccount returns; the parent kills it with SIGKILL in the middle
// of its writes, then opens the file and finds every reported account.
func TestSQLiteSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "misetup.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSQLiteSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 25
	var written []string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "written "); ok {
			written = append(written, id)
			if len(written) == killAfter {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred code, no Close
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed"
	if len(written) < killAfter {
		t.Fatalf("the child reported %d writes before it stopped, want %d", len(written), killAfter)
	}

	s := openSQLite(t, path)
	for _, id := range written {
		if _, err := s.AccountByMiID(t.Context(), id); err != nil {
			t.Errorf("account %s, written before the kill: %v", id, err)
		}
	}
}

// crashChild writes accounts into path until it is killed, reporting each
// on stdout after CreateAccount returned. It stops by itself after a
// minute, should the parent fail to kill it.
func crashChild(path string) {
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Minute)
	for i := 100000000; time.Now().Before(deadline); i++ {
		id := fmt.Sprint(i)
		if err := s.CreateAccount(ctx, &store.Account{MiID: id, PasswordHash: "h"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("written %s\n", id)
	}
	os.Exit(3)
}

func BenchmarkSQLiteChallenge(b *testing.B) {
	s := openSQLite(b, filepath.Join(b.TempDir(), "misetup.db"))
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := &store.Challenge{ID: fmt.Sprint("ch-", i), Purpose: "registration", Channel: "email",
			Destination: "ana@example.com", CodeHash: make([]byte, 32), Payload: `{"method":"email"}`,
			AttemptsLeft: 5, ExpiresAt: now.Add(10 * time.Minute), ResendAfter: now.Add(time.Minute)}
		if err := s.CreateChallenge(ctx, c); err != nil {
			b.Fatal(err)
		}
		ok, err := s.ConsumeChallenge(ctx, c.ID, now)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkSQLiteSession(b *testing.B) {
	s := openSQLite(b, filepath.Join(b.TempDir(), "misetup.db"))
	ctx := context.Background()
	if err := s.CreateAccount(ctx, &store.Account{MiID: "100000001", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	const sessions = 100
	for i := range sessions {
		se := &store.Session{TokenHash: fmt.Sprintf("%064x", i), MiID: "100000001", DeviceID: "dev-1",
			ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateSession(ctx, se); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Session(ctx, fmt.Sprintf("%064x", i%sessions)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
