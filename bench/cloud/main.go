// Command cloud measures a first Mi Cloud backup: misetup cloud sync --once
// of 10,000 notes and of 1 GB of photos to a misetup serve on this machine
// (SQLite and its blob folder on the same disk), against cp -r of the same
// files to the same disk, in the same run; and the most memory the sync
// process held (its maximum resident set, from the kernel).
//
//	go run ./bench/cloud -bin misetup -notes 10000 -photos-mb 1024
//
// It prints key=value lines for bench/run.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"misetup/bench/internal/svc"
)

func main() {
	bin := flag.String("bin", "misetup", "the misetup binary")
	notes := flag.Int("notes", 10000, "notes to back up")
	photosMB := flag.Int("photos-mb", 1024, "megabytes of photos to back up (10 MB each)")
	dir := flag.String("dir", "", "a folder for the data (default a temporary one, removed after)")
	flag.Parse()
	if err := run(*bin, *notes, *photosMB, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "cloud:", err)
		os.Exit(1)
	}
}

func run(bin string, notes, photosMB int, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "misetup-cloud-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	home := filepath.Join(dir, "home")
	noteDir, photoDir := filepath.Join(home, "Documents", "Notes"), filepath.Join(home, "Pictures")
	if err := makeNotes(noteDir, notes); err != nil {
		return err
	}
	photoBytes, err := makePhotos(photoDir, photosMB)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(filepath.Join(dir, "server"), 0o755); err != nil {
		return err
	}
	s, err := svc.Serve(bin, filepath.Join(dir, "server"), nil, nil)
	if err != nil {
		return err
	}
	defer s.Stop()
	ctx := context.Background()
	c := svc.NewClient(s.URL)
	defer c.Close()
	dev := svc.Device{ID: "bench-desk", Name: "bench", Model: "bench", OS: "Linux"}
	token, err := c.NewAccount(ctx, s.Outbox, "cloud.bench@example.com", "Bench-kite-42", dev)
	if err != nil {
		return err
	}
	// A quota the photos fit in.
	state := filepath.Join(home, ".local", "state", "misetup")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(state, "session"), []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(state, "device-id"), []byte(dev.ID+"\n"), 0o600); err != nil {
		return err
	}

	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"), "XDG_STATE_HOME="+state[:len(state)-len("/misetup")],
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	sync := func(category string) (time.Duration, int64, error) {
		if code, err := c.Do(ctx, "PUT", "/v1/devices/"+dev.ID+"/sync", token,
			map[string]any{"auto_sync": true, "wifi_only": false, "categories": []string{category}}, nil); err != nil || code != 200 {
			return 0, 0, fmt.Errorf("sync settings: %d %v", code, err)
		}
		cmd := exec.Command(bin, "cloud", "sync", "--once", "--server", s.URL)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			return 0, 0, fmt.Errorf("misetup cloud sync: %v\n%s", err, out)
		}
		rss := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024
		return took, rss, nil
	}
	cp := func(src string) (time.Duration, error) {
		dst := filepath.Join(dir, "cp", filepath.Base(src))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return 0, err
		}
		start := time.Now()
		out, err := exec.Command("cp", "-r", src, dst).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("cp: %v %s", err, out)
		}
		// cp's writes are in the page cache as misetup's are; neither
		// waits for the disk here (misetup's store syncs its commits).
		return time.Since(start), os.RemoveAll(dst)
	}

	// cp's time is the median of three copies: one copy now and then
	// takes several times as long on a shared disk.
	cp3 := func(src string) (time.Duration, error) {
		var ts []time.Duration
		for range 3 {
			t, err := cp(src)
			if err != nil {
				return 0, err
			}
			ts = append(ts, t)
		}
		slices.Sort(ts)
		return ts[1], nil
	}
	notesCP, err := cp3(noteDir)
	if err != nil {
		return err
	}
	notesSync, notesRSS, err := sync("notes")
	if err != nil {
		return err
	}
	photosCP, err := cp3(photoDir)
	if err != nil {
		return err
	}
	photosSync, photosRSS, err := sync("gallery")
	if err != nil {
		return err
	}
	mb := float64(photoBytes) / (1 << 20)
	fmt.Printf("notes=%d notes_sync_s=%.2f notes_cp_s=%.3f notes_items_s=%.0f notes_cp_items_s=%.0f notes_ratio=%.3f notes_rss_mb=%.1f\n",
		notes, notesSync.Seconds(), notesCP.Seconds(), float64(notes)/notesSync.Seconds(), float64(notes)/notesCP.Seconds(),
		notesCP.Seconds()/notesSync.Seconds(), float64(notesRSS)/(1<<20))
	fmt.Printf("photos_mb=%.0f photos_sync_s=%.2f photos_cp_s=%.2f photos_mb_s=%.1f photos_cp_mb_s=%.1f photos_ratio=%.3f photos_rss_mb=%.1f\n",
		mb, photosSync.Seconds(), photosCP.Seconds(), mb/photosSync.Seconds(), mb/photosCP.Seconds(),
		photosCP.Seconds()/photosSync.Seconds(), float64(photosRSS)/(1<<20))
	return nil
}

// makeNotes writes n notes of a few hundred bytes to a thousand, ten to a
// folder.
func makeNotes(dir string, n int) error {
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("%03d", i/10), fmt.Sprintf("note-%05d.md", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		body := fmt.Sprintf("# Note %d\n\n%s\n", i, strings.Repeat("Buy rice, tea and eggs. ", 10+i%30))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makePhotos writes mb megabytes of random "photos" of 10 MB each.
func makePhotos(dir string, mb int) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	buf := make([]byte, 10<<20)
	var total int64
	for i := 0; total < int64(mb)<<20; i++ {
		if _, err := rand.Read(buf); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("IMG_%04d.jpg", i)), buf, 0o644); err != nil {
			return 0, err
		}
		total += int64(len(buf))
	}
	return total, nil
}
