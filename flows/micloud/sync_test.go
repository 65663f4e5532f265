package micloud_test

// Two computers of one account, each with its own folders and state, sync
// through the real account service (server.New on a SQLite file and a
// blob folder) over real HTTP: what one backs up the other gets byte for
// byte, a change on both sides keeps both, a deletion travels, and a write
// past the quota is refused and said.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"misetup/api"
	"misetup/client"
	"misetup/flows/micloud"
	"misetup/internal/testutil"
	"misetup/server"
	"misetup/server/bucket"
	"misetup/server/policy"
	"misetup/server/store"
)

const password = "Sunrise-42-lake"

// service is the account service on a loopback address.
type service struct {
	url  string
	cour *testutil.Courier
}

func startService(t *testing.T, quota int64) *service {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "misetup.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := server.DefaultConfig()
	cfg.Argon2 = policy.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.BlobURL = bucket.FolderURL(filepath.Join(dir, "blobs"))
	if quota > 0 {
		cfg.DefaultQuotaBytes = quota
	}
	if cfg.Keys, err = server.RandomKeys(); err != nil {
		t.Fatal(err)
	}
	s := &service{cour: &testutil.Courier{}}
	srv, err := server.New(st, s.cour, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

// computer is one device of the account: its folders, its state dir and
// its signed-in client.
type computer struct {
	name    string
	folders []micloud.Folder
	syncer  *micloud.Syncer
	home    string
}

// newComputer makes the account (the first computer) or signs in to it.
func (s *service) newComputer(t *testing.T, name string, first bool) *computer {
	t.Helper()
	ctx := context.Background()
	c := client.New(s.url)
	dev := api.Device{ID: name, Name: name}
	if first {
		ch, err := c.Register(ctx, api.RegistrationRequest{Method: api.MethodEmail, Identifier: "ann@example.com", Password: password, Region: "CN"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Verify(ctx, ch.ID, api.VerifyRequest{Code: s.cour.Code(t, "ann@example.com"), Device: &dev})
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(res.Session.Token)
	} else if _, err := c.SignIn(ctx, api.SessionRequest{Identifier: "ann@example.com", Password: password, Device: dev}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	return &computer{
		name:    name,
		home:    home,
		folders: micloud.DefaultFolders(micloud.Dirs{Home: home}, nil),
		syncer:  &micloud.Syncer{Remote: c, StateDir: filepath.Join(home, ".state"), Device: name},
	}
}

func (c *computer) path(category, name string) string {
	f, _ := micloud.FolderOf(c.folders, category)
	return filepath.Join(f.Root, filepath.FromSlash(name))
}

func (c *computer) write(t *testing.T, category, name string, data []byte) {
	t.Helper()
	p := c.path(category, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (c *computer) read(t *testing.T, category, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(c.path(category, name))
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return b
}

func (c *computer) sync(t *testing.T, categories ...string) []micloud.Report {
	t.Helper()
	var out []micloud.Report
	for _, cat := range categories {
		f, _ := micloud.FolderOf(c.folders, cat)
		rep, err := c.syncer.Sync(context.Background(), f)
		if err != nil {
			t.Fatalf("%s: sync %s: %v", c.name, cat, err)
		}
		out = append(out, rep)
	}
	return out
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTwoComputersKeepOneAnother(t *testing.T) {
	s := startService(t, 0)
	a := s.newComputer(t, "laptop", true)
	photo := random(t, 3<<20+17) // more than one upload chunk is not needed; a few MiB
	a.write(t, "contacts", "ann.vcf", []byte("BEGIN:VCARD\nFN:Ann Lee\nEND:VCARD\n"))
	a.write(t, "notes", "shopping.md", []byte("- milk\n- rice\n"))
	a.write(t, "notes", "trips/beijing.txt", []byte("Forbidden City at 9"))
	a.write(t, "gallery", "2026/beach.jpg", photo)
	a.write(t, "gallery", "not-a-photo.exe", []byte("ignored"))
	reps := a.sync(t, "contacts", "notes", "gallery")
	if reps[1].Uploaded != 2 || reps[2].Uploaded != 1 {
		t.Fatalf("uploads: %+v", reps)
	}

	b := s.newComputer(t, "desktop", false)
	b.sync(t, "contacts", "notes", "gallery")
	for _, f := range []struct{ cat, name string }{{"contacts", "ann.vcf"}, {"notes", "shopping.md"}, {"notes", "trips/beijing.txt"}, {"gallery", "2026/beach.jpg"}} {
		if !bytes.Equal(a.read(t, f.cat, f.name), b.read(t, f.cat, f.name)) {
			t.Errorf("%s/%s differs on the second computer", f.cat, f.name)
		}
	}
	if _, err := os.Stat(b.path("gallery", "not-a-photo.exe")); err == nil {
		t.Error("a file that is no photo was synced")
	}

	// Edited on both sides before either synced: both versions stay, on
	// both computers.
	a.write(t, "notes", "shopping.md", []byte("- milk\n- rice\n- eggs\n"))
	b.write(t, "notes", "shopping.md", []byte("- milk\n- tea\n"))
	a.sync(t, "notes")
	rep := b.sync(t, "notes")[0]
	if len(rep.Conflicts) != 1 || !strings.Contains(rep.Conflicts[0], "(conflict from desktop ") {
		t.Fatalf("conflicts: %+v", rep)
	}
	a.sync(t, "notes")
	for _, c := range []*computer{a, b} {
		if got := string(c.read(t, "notes", "shopping.md")); got != "- milk\n- rice\n- eggs\n" {
			t.Errorf("%s: shopping.md = %q", c.name, got)
		}
		if got := string(c.read(t, "notes", rep.Conflicts[0])); got != "- milk\n- tea\n" {
			t.Errorf("%s: the conflict copy = %q", c.name, got)
		}
	}

	// A deletion travels; a file deleted here but changed there comes back.
	if err := os.Remove(b.path("notes", "trips/beijing.txt")); err != nil {
		t.Fatal(err)
	}
	b.sync(t, "notes")
	a.sync(t, "notes")
	if _, err := os.Stat(a.path("notes", "trips/beijing.txt")); err == nil {
		t.Error("a note deleted on the desktop is still on the laptop")
	}

	// Nothing to do: nothing moves, and a second pass reads no file again.
	reps = a.sync(t, "contacts", "notes", "gallery")
	for _, r := range reps {
		if r.Uploaded+r.Downloaded+r.DeletedHere+r.DeletedThere != 0 {
			t.Errorf("an idle sync moved something: %+v", r)
		}
	}
}

func TestQuotaRefusalIsSaid(t *testing.T) {
	s := startService(t, 1<<20)
	a := s.newComputer(t, "laptop", true)
	a.write(t, "gallery", "small.png", random(t, 100<<10))
	a.write(t, "gallery", "big.jpg", random(t, 2<<20))
	f, _ := micloud.FolderOf(a.folders, "gallery")
	_, err := a.syncer.Sync(context.Background(), f)
	if !errors.Is(err, api.ErrQuotaExceeded) {
		t.Fatalf("sync past the quota: %v", err)
	}
	st, err := micloud.Status(a.syncer.StateDir, a.folders, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range st {
		if cs.Category == "gallery" && (cs.LastError == "" || cs.Pending == 0) {
			t.Errorf("status after a refusal: %+v", cs)
		}
	}
}

// TestNotesInBatches: 250 notes (three batches) go up with a quota that
// holds 200 of them: the sync says Mi Cloud is full, the 200 are synced
// (a second sync sends none of them again), and another computer gets
// them byte for byte.
func TestNotesInBatches(t *testing.T) {
	s := startService(t, 200*4<<10)
	a := s.newComputer(t, "laptop", true)
	notes := map[string][]byte{}
	for i := range 250 {
		name := fmt.Sprintf("n%03d.md", i)
		notes[name] = random(t, 4<<10)
		a.write(t, "notes", name, notes[name])
	}
	f, _ := micloud.FolderOf(a.folders, "notes")
	rep, err := a.syncer.Sync(context.Background(), f)
	if !errors.Is(err, api.ErrQuotaExceeded) || rep.Uploaded != 200 {
		t.Fatalf("250 notes of 4 KiB with room for 200: uploaded %d, %v", rep.Uploaded, err)
	}
	rep, err = a.syncer.Sync(context.Background(), f)
	if !errors.Is(err, api.ErrQuotaExceeded) || rep.Uploaded != 0 {
		t.Errorf("the second sync: uploaded %d again, %v", rep.Uploaded, err)
	}
	b := s.newComputer(t, "desktop", false)
	b.sync(t, "notes")
	got := 0
	for name, want := range notes {
		if data, err := os.ReadFile(b.path("notes", name)); err == nil {
			if !bytes.Equal(data, want) {
				t.Errorf("%s differs on the other computer", name)
			}
			got++
		}
	}
	if got != 200 {
		t.Errorf("the other computer has %d notes, want 200", got)
	}
}

func TestBackupsCountWhatARestoreBrings(t *testing.T) {
	s := startService(t, 0)
	a := s.newComputer(t, "laptop", true)
	for i := range 12 {
		a.write(t, "notes", "n"+string(rune('a'+i))+".md", []byte(strings.Repeat("x", i+1)))
	}
	a.sync(t, "notes")
	if err := os.Remove(a.path("notes", "na.md")); err != nil {
		t.Fatal(err)
	}
	a.sync(t, "notes")
	b := s.newComputer(t, "new-phone", false)
	bs, err := micloud.Backups(context.Background(), b.syncer.Remote, b.folders)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Category != "notes" || bs[0].Items != 11 || bs[0].Bytes != 2+3+4+5+6+7+8+9+10+11+12 {
		t.Fatalf("backups: %+v", bs)
	}
}
